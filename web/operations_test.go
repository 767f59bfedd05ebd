package web_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"cpor/graph"
	"cpor/testkit/gqldoc"
)

// TestAppOperationsAreValid: every operation the web app sends
// (static/js/operations.js) is named, validates against the schema with
// the fragments it spreads, and uses no deprecated field, so a schema
// change that would break the app fails here rather than in a browser.
func TestAppOperationsAreValid(t *testing.T) {
	src, err := os.ReadFile("static/js/operations.js")
	if err != nil {
		t.Fatal(err)
	}
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	fragments := map[string]string{}
	var operations []string
	for _, m := range regexp.MustCompile("(?s)`([^`]*)`").FindAllStringSubmatch(string(src), -1) {
		text := strings.TrimSpace(m[1])
		if strings.Contains(text, "${") {
			t.Fatalf("operations are plain text, without interpolation: %s", text)
		}
		switch first := strings.Fields(text)[0]; first {
		case "fragment":
			fragments[strings.Fields(text)[1]] = text
		case "query", "mutation", "subscription":
			operations = append(operations, text)
		default:
			t.Fatalf("a template string that is no GraphQL document: %q", first)
		}
	}
	if len(operations) < 15 {
		t.Fatalf("found %d operations in operations.js; the parser here is out of step with it", len(operations))
	}
	for _, op := range operations {
		for _, p := range gqldoc.Problems(schema, withFragments(op, fragments)) {
			t.Errorf("%s\n%s", p, op)
		}
	}
}

// withFragments appends the fragments the document spreads, and theirs.
func withFragments(doc string, fragments map[string]string) string {
	spread := regexp.MustCompile(`\.\.\.([A-Za-z_][A-Za-z0-9_]*)`)
	added := map[string]bool{}
	out := doc
	for pending := []string{doc}; len(pending) > 0; {
		text := pending[0]
		pending = pending[1:]
		for _, m := range spread.FindAllStringSubmatch(text, -1) {
			if f, ok := fragments[m[1]]; ok && !added[m[1]] {
				added[m[1]] = true
				out += "\n" + f
				pending = append(pending, f)
			}
		}
	}
	return out
}
