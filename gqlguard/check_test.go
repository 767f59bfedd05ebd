package gqlguard_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"cpor/gqlguard"
	"cpor/gqlguard/hostile"
)

// claimsPage is the largest operation the apps send: a page of claims with
// their nested connections, through fragments that overlap.
const claimsPage = `query ClaimsPage($first: Int, $after: String) {
  viewer { userId name roles organization { id name } }
  claims(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ...ClaimRow ...ClaimDetail } }
  }
}
fragment ClaimRow on Claim { id status version createdAt customerTenant { id name } product { id name } }
fragment ClaimDetail on Claim {
  id status
  comments(first: 5) { nodes { id kind body author { id name kind } createdAt } }
  history(last: 5) { nodes { id event fromStatus toStatus actor { id name kind } createdAt } }
  arbitrationCase { id status claims { nodes { id status organization { name } } } }
}`

func TestCheckPassesWhatAppsSend(t *testing.T) {
	for _, doc := range []string{
		claimsPage,
		`{ viewer { name } }`,
		`mutation Approve($id: ID!) { approveClaim(input: {claimId: $id}) { claim { id status } userErrors { code field message } } }`,
		`subscription { claimStatusChanged { cursor status claim { id } } }`,
		`query A { viewer { name } } query B { viewer { email } }`,
		`{ a: viewer { name } b: viewer { name } }`,
		hostile.DeepNesting(gqlguard.DefaultLimits.MaxDepth-1, 0),
	} {
		if err := gqlguard.DefaultLimits.Check(doc); err != nil {
			t.Errorf("refused %q: %v", firstLine(doc), err)
		}
	}
}

func TestCheckRefusesEachHostileClass(t *testing.T) {
	want := map[string]string{
		"fragment bomb":         "fields",
		"alias flood":           "aliases",
		"node aliases":          "aliases",
		"distinct fragments":    "fragments",
		"deep nesting":          "depth",
		"same-name flood":       "merge",
		"overlapping fragments": "merge",
		"huge document":         "bytes",
		"token flood":           "tokens",
	}
	for _, c := range hostile.Classes {
		err := gqlguard.DefaultLimits.Check(c.Doc(1))
		if c.Code != gqlguard.Code {
			if err != nil {
				t.Errorf("%s: refused, but its shape is within every limit: %v", c.Name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: passed", c.Name)
			continue
		}
		if err.Extensions["code"] != gqlguard.Code {
			t.Errorf("%s: code %v", c.Name, err.Extensions["code"])
		}
		limit := want[strings.SplitN(c.Name, " (", 2)[0]]
		if err.Extensions["limit"] != limit {
			t.Errorf("%s: refused for %v, want %s (%s)", c.Name, err.Extensions["limit"], limit, err.Message)
		}
	}
}

func TestCheckEachLimit(t *testing.T) {
	tight := gqlguard.Limits{MaxBytes: 400, MaxTokens: 60, MaxDepth: 3, MaxFields: 12, MaxAliases: 2, MaxFragments: 2, MaxMergeCost: 3}
	for _, tc := range []struct {
		doc, limit string
	}{
		{"{ viewer { name } }" + strings.Repeat(" ", 400), "bytes"},
		{"{ viewer {" + strings.Repeat(" a", 60) + " } }", "tokens"},
		{"{ a { b { c { d } } } }", "depth"},
		{"{ a { ...F } } fragment F on T { b { ...G } } fragment G on T { c { d } }", "depth"},
		{"{ a b c d e f g h i j k l m }", "fields"},
		{"{ ...F ...F ...F ...F } fragment F on T { a b c }", "fields"},
		{"{ x: a y: b z: c }", "aliases"},
		{"{ ...F ...F } fragment F on T { x: a y: b }", "aliases"},
		{"{ a } fragment F on T { a } fragment G on T { a } fragment H on T { a }", "fragments"},
		{"{ a a a a }", "merge"},
		{"{ ...F ...G } fragment F on T { a a } fragment G on T { a }", "merge"},
		{"{ ... on T { a a } a }", "merge"},
	} {
		err := tight.Check(tc.doc)
		if err == nil || err.Extensions["limit"] != tc.limit {
			t.Errorf("%q: got %v, want the %s limit", tc.doc, err, tc.limit)
		}
	}
	if err := tight.Check("{ a { b { c } } x: d }"); err != nil {
		t.Errorf("at every limit: %v", err)
	}
}

func TestCheckParseAndCycleErrors(t *testing.T) {
	for doc, code := range map[string]string{
		"{ viewer { ":                       "GRAPHQL_PARSE_FAILED",
		"{ ...F } fragment F on T { ...F }": "GRAPHQL_VALIDATION_FAILED",
		"{ ...F } fragment F on T { ...G } fragment G on T { a ...F }": "GRAPHQL_VALIDATION_FAILED",
	} {
		err := gqlguard.DefaultLimits.Check(doc)
		if err == nil || err.Extensions["code"] != code {
			t.Errorf("%q: got %v, want %s", doc, err, code)
		}
	}
	// Unknown fragments are left to validation.
	if err := gqlguard.DefaultLimits.Check("{ ...Nowhere }"); err != nil {
		t.Errorf("unknown fragment: %v", err)
	}
}

// FuzzCheck: Check never panics, and what it passes parses and is within
// every limit when expanded naively.
func FuzzCheck(f *testing.F) {
	for _, c := range hostile.Classes {
		doc := c.Doc(0)
		if len(doc) < 4096 {
			f.Add(doc)
		}
	}
	f.Add(claimsPage)
	f.Add("{ ...F } fragment F on T { ...F }")
	f.Add("{ a(x: 1) @skip(if: true) { ... on T { b } } }")
	small := gqlguard.Limits{MaxBytes: 2048, MaxTokens: 300, MaxDepth: 6, MaxFields: 40, MaxAliases: 5, MaxFragments: 6, MaxMergeCost: 10}
	f.Fuzz(func(t *testing.T, doc string) {
		if small.Check(doc) != nil {
			return
		}
		parsed, err := parser.ParseQuery(&ast.Source{Input: doc})
		if err != nil {
			t.Fatalf("passed a document that does not parse: %v", err)
		}
		fields, depth := 0, 0
		for _, op := range parsed.Operations {
			n, d := expand(parsed, op.SelectionSet, 0)
			fields += n
			depth = max(depth, d)
		}
		if fields > small.MaxFields || depth > small.MaxDepth {
			t.Fatalf("passed %d fields at depth %d", fields, depth)
		}
	})
}

// expand counts fields and depth by expanding every spread, as the
// validator would; the fuzz target checks Check against it.
func expand(doc *ast.QueryDocument, set ast.SelectionSet, level int) (fields, depth int) {
	if level > 64 {
		return 1 << 20, level
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n, d := expand(doc, s.SelectionSet, level+1)
			fields += 1 + n
			depth = max(depth, d+1)
		case *ast.InlineFragment:
			n, d := expand(doc, s.SelectionSet, level+1)
			fields += n
			depth = max(depth, d)
		case *ast.FragmentSpread:
			if def := doc.Fragments.ForName(s.Name); def != nil {
				n, d := expand(doc, def.SelectionSet, level+1)
				fields += n
				depth = max(depth, d)
			}
		}
	}
	return fields, depth
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

// BenchmarkCheck prices each hostile class (a new document each time).
func BenchmarkCheck(b *testing.B) {
	for _, c := range hostile.Classes {
		b.Run(strings.SplitN(c.Name, " (", 2)[0], func(b *testing.B) {
			b.ReportAllocs()
			docs := make([]string, 64)
			for i := range docs {
				docs[i] = c.Doc(i)
			}
			for i := 0; b.Loop(); i++ {
				_ = gqlguard.DefaultLimits.Check(docs[i%len(docs)])
			}
		})
	}
}
