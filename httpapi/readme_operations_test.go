package httpapi_test

import (
	"os"
	"regexp"
	"testing"

	"cpor/graph"
	"cpor/testkit/gqldoc"
)

// TestREADMEOperationsAreNamedAndValid: every GraphQL example in the
// README is a named operation that the schema validates and that uses no
// deprecated field, so code generators (graphql-codegen refuses anonymous
// operations) and readers can use them as they are.
func TestREADMEOperationsAreNamedAndValid(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	blocks := regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("no GraphQL examples in the README")
	}
	for _, b := range blocks {
		for _, p := range gqldoc.Problems(schema, b[1]) {
			t.Errorf("README example: %s\n%s", p, b[1])
		}
	}
}
