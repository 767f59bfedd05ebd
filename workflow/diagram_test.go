package workflow_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"cpor/sla"
	"cpor/workflow"
)

var update = flag.Bool("update", false, "rewrite docs/state-machines.md from the declarations")

// TestStateMachineDocMatchesTheDeclarations: the diagrams in
// docs/state-machines.md are what looplab/fsm draws from the declarations
// the service runs; a changed declaration fails here until the picture is
// regenerated with go test ./workflow -run TestStateMachineDoc -update.
// The README shows the same pictures and is checked the same way.
func TestStateMachineDocMatchesTheDeclarations(t *testing.T) {
	for _, path := range []string{"../docs/state-machines.md", "../README.md"} {
		checkDiagrams(t, path)
	}
}

func checkDiagrams(t *testing.T, path string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	svc := workflow.NewService(nil, nil, nil, sla.NewCalendar(), workflow.Config{})
	got := string(doc)
	for _, d := range svc.Diagrams() {
		begin, end := "<!-- "+d.Anchor+" diagram: generated -->\n", "<!-- end of "+d.Anchor+" diagram -->"
		i, j := strings.Index(got, begin), strings.Index(got, end)
		if i < 0 || j < i {
			t.Fatalf("%s: no %q … %q section", path, begin, end)
		}
		want := "```mermaid\n" + d.Mermaid + "```\n"
		if got[i+len(begin):j] != want {
			if !*update {
				t.Errorf("the %s diagram in %s differs from the declaration; run go test ./workflow -run TestStateMachineDoc -update", d.Title, path)
				continue
			}
			got = got[:i+len(begin)] + want + got[j:]
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
