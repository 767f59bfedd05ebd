// Package hostile writes the documents an attacker sends to make a GraphQL
// server work hard before it refuses them. The guard's tests, the HTTP
// suite and the benchmark that reports each class's cost share them.
package hostile

import (
	"fmt"
	"strings"
)

// Class is one kind of hostile document.
type Class struct {
	Name string
	// Code is the extensions.code the service refuses it with: the
	// document pricing's, or validation's for a document whose shape is
	// within every limit.
	Code string
	// Doc writes the class's document; seed makes each one distinct, so
	// that no cache can answer it.
	Doc func(seed int) string
}

// Classes are every hostile document class, each sized to fit under the
// service's document limit (64 KiB) except the last, so that each reaches
// the limit it tests; at these sizes each took a naive server from a
// second to minutes of CPU, or hundreds of megabytes.
var Classes = []Class{
	{"fragment bomb (each fragment spreads the previous twice, depth 25)", "COMPLEXITY_LIMIT_EXCEEDED", func(seed int) string { return FragmentBomb(25, seed) }},
	{"alias flood (400 aliases of a list field, different arguments)", "COMPLEXITY_LIMIT_EXCEEDED", func(seed int) string { return AliasFlood(400, seed) }},
	{"node aliases (800 aliases of node)", "COMPLEXITY_LIMIT_EXCEEDED", func(seed int) string { return NodeAliases(800, seed) }},
	{"distinct fragments (1,000)", "COMPLEXITY_LIMIT_EXCEEDED", func(seed int) string { return DistinctFragments(1000, seed) }},
	{"deep nesting (900 levels)", "COMPLEXITY_LIMIT_EXCEEDED", func(seed int) string { return DeepNesting(900, seed) }},
	{"same-name flood (1,500 repeats of one field)", "COMPLEXITY_LIMIT_EXCEEDED", func(seed int) string { return SameNameFlood(1500, seed) }},
	{"overlapping fragments (50 fragments of the same 10 fields)", "COMPLEXITY_LIMIT_EXCEEDED", func(seed int) string { return OverlappingFragments(50, 10, seed) }},
	{"token flood (30,000 tokens in 60 KiB)", "COMPLEXITY_LIMIT_EXCEEDED", func(seed int) string { return TokenFlood(30000, seed) }},
	{"unknown fields (1,900 misspelt fields of 28 letters, each one a suggestion search)", "GRAPHQL_VALIDATION_FAILED", func(seed int) string { return UnknownFields(1900, 28, seed) }},
	{"huge document (900 KiB)", "COMPLEXITY_LIMIT_EXCEEDED", func(seed int) string { return Huge(900<<10, seed) }},
}

// FragmentBomb spreads each fragment's predecessor twice: 2^depth fields
// once expanded, in about 40 bytes a level.
func FragmentBomb(depth, seed int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query Q%d { ...F%d }\n", seed, depth)
	fmt.Fprintf(&b, "fragment F0 on Query { __typename }\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return b.String()
}

// AliasFlood asks one list field n times under different aliases and
// arguments, so no two can be merged.
func AliasFlood(n, seed int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query Q%d {", seed)
	for i := range n {
		area := "BUSINESS_APPLICATIONS"
		if i%2 == 1 {
			area = "MICROSOFT_365"
		}
		fmt.Fprintf(&b, " a%d: products(solutionArea: %s) { id name code }", i, area)
	}
	b.WriteString(" }")
	return b.String()
}

// NodeAliases asks node n times.
func NodeAliases(n, seed int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query Q%d {", seed)
	for i := range n {
		fmt.Fprintf(&b, ` n%d: node(id: "x%d") { id }`, i, i)
	}
	b.WriteString(" }")
	return b.String()
}

// DistinctFragments defines n fragments and spreads them all.
func DistinctFragments(n, seed int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query Q%d {", seed)
	for i := range n {
		fmt.Fprintf(&b, " ...F%d", i)
	}
	b.WriteString(" }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", i)
	}
	return b.String()
}

// DeepNesting nests one field n levels deep.
func DeepNesting(n, seed int) string {
	return fmt.Sprintf("query Q%d ", seed) + strings.Repeat("{ viewer ", n) + "{ name" + strings.Repeat(" }", n+1)
}

// SameNameFlood repeats one field n times in one selection set: the merge
// check compares every pair.
func SameNameFlood(n, seed int) string {
	return fmt.Sprintf("query Q%d { viewer {", seed) + strings.Repeat(" name", n) + " } }"
}

// OverlappingFragments defines n fragments that select the same fields and
// spreads them all in one set: the merge check compares them pairwise.
func OverlappingFragments(n, fields, seed int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query Q%d { viewer {", seed)
	for i := range n {
		fmt.Fprintf(&b, " ...V%d", i)
	}
	b.WriteString(" } }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment V%d on Viewer {", i)
		for range fields {
			b.WriteString(" name")
		}
		b.WriteString(" }\n")
	}
	return b.String()
}

// UnknownFields selects n fields that do not exist, each named with
// letters letters: validation looks for a similar name for every one.
func UnknownFields(n, letters, seed int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query Q%d { claims { nodes {", seed)
	for i := range n {
		name := []byte(fmt.Sprintf("f%0*d", letters-1, i*7919+seed))
		for j := range name[1:] {
			name[j+1] = 'a' + (name[j+1]-'0'+byte(j))%26
		}
		fmt.Fprintf(&b, " %s", name)
	}
	b.WriteString(" } } }")
	return b.String()
}

// Huge is a valid query padded with a comment to size bytes.
func Huge(size, seed int) string {
	head := fmt.Sprintf("query Q%d { __typename }\n#", seed)
	return head + strings.Repeat("x", max(size-len(head), 0))
}

// TokenFlood is a selection of n short tokens.
func TokenFlood(n, seed int) string {
	return fmt.Sprintf("query Q%d { viewer {", seed) + strings.Repeat(" a", n) + " } }"
}
