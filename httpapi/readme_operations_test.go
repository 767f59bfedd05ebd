package httpapi_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/vektah/gqlparser/v2"

	"cpor/graph"
)

// TestREADMEOperationsAreNamedAndValid: every GraphQL example in the
// README is a named operation that the schema validates, so code
// generators (graphql-codegen refuses anonymous operations) and readers can
// use them as they are.
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
		doc, errs := gqlparser.LoadQuery(schema, b[1])
		if len(errs) > 0 {
			t.Errorf("README example does not validate: %v\n%s", errs, b[1])
			continue
		}
		for _, op := range doc.Operations {
			if op.Name == "" {
				t.Errorf("README example has an anonymous %s:\n%s", op.Operation, b[1])
			}
		}
	}
}
