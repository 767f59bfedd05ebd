package gqlguard

import (
	"strings"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Check parses src and refuses it when it goes over a limit. A document
// that does not parse is GRAPHQL_PARSE_FAILED, as gqlgen would say; a
// fragment that spreads itself is GRAPHQL_VALIDATION_FAILED (expanding it
// would never end). Check does not validate against the schema: what it
// passes still goes through gqlgen's validation.
func (l Limits) Check(src string) *gqlerror.Error {
	if over(l.MaxBytes, len(src)) {
		return refusal("bytes", l.MaxBytes, len(src), "is too long in bytes")
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: src}, l.MaxTokens)
	if err != nil {
		gqlErr, ok := err.(*gqlerror.Error)
		if !ok {
			gqlErr = gqlerror.Wrap(err)
		}
		if l.MaxTokens > 0 && strings.HasPrefix(gqlErr.Message, "exceeded token limit") {
			return refusal("tokens", l.MaxTokens, l.MaxTokens+1, "has more tokens than allowed")
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return gqlErr
	}
	if over(l.MaxFragments, len(doc.Fragments)) {
		return refusal("fragments", l.MaxFragments, len(doc.Fragments), "defines too many fragments")
	}
	return l.price(doc)
}

// price walks the document once, each fragment's body once (memoised), and
// adds a fragment's totals wherever it is spread: the expanded totals that
// validation and execution would walk, computed without expanding. It stops
// at the first limit passed.
func (l Limits) price(doc *ast.QueryDocument) *gqlerror.Error {
	w := &walker{limits: l, doc: doc, memo: map[string]*fragmentCost{}}
	for _, op := range doc.Operations {
		w.selectionSet(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		w.fragment(f.Name)
	}
	return w.err
}

// tally is what a walk has counted so far, fragments expanded.
type tally struct {
	fields, aliases, merge int
}

// saturation keeps expanded totals (2^n for n nested double spreads) from
// overflowing; every limit is far below it.
const saturation = 1 << 40

func (t *tally) add(o tally) {
	t.fields = min(t.fields+o.fields, saturation)
	t.aliases = min(t.aliases+o.aliases, saturation)
	t.merge = min(t.merge+o.merge, saturation)
}

func (t tally) minus(o tally) tally {
	return tally{t.fields - o.fields, t.aliases - o.aliases, t.merge - o.merge}
}

// fragmentCost is one fragment's cost where it is spread: its totals, its
// depth, and the response names it contributes to the enclosing selection
// set (which the merge check compares with the set's own fields).
type fragmentCost struct {
	tally
	depth int
	names map[string]group
}

// group is the fields of a selection set that share a response name: how
// many, and the largest subtree among them, which the merge check walks
// for every pair.
type group struct {
	count, subtree int
}

type walker struct {
	limits   Limits
	doc      *ast.QueryDocument
	memo     map[string]*fragmentCost
	visiting map[string]bool
	total    tally
	err      *gqlerror.Error
}

// selectionSet counts a set and returns its depth and the number of fields
// per response name it collects (its own, its inline fragments' and its
// spread fragments'), as the merge check collects them.
func (w *walker) selectionSet(set ast.SelectionSet) (depth int, names map[string]group) {
	names = map[string]group{}
	for _, sel := range set {
		if w.err != nil {
			return depth, names
		}
		switch s := sel.(type) {
		case *ast.Field:
			before := w.total.fields
			d, _ := w.selectionSet(s.SelectionSet)
			depth = max(depth, d+1)
			g := names[s.Alias]
			names[s.Alias] = group{g.count + 1, max(g.subtree, w.total.fields-before)}
			w.count(tally{fields: 1, aliases: boolInt(s.Alias != s.Name)})
		case *ast.InlineFragment:
			d, inner := w.selectionSet(s.SelectionSet)
			depth = max(depth, d)
			mergeNames(names, inner)
		case *ast.FragmentSpread:
			f := w.fragment(s.Name)
			if f == nil {
				continue
			}
			depth = max(depth, f.depth)
			mergeNames(names, f.names)
			w.count(f.tally)
		}
	}
	w.count(tally{merge: pairs(names)})
	w.checkDepth(depth)
	return depth, names
}

// fragment returns the named fragment's cost, walking its body the first
// time; nil for an unknown fragment (validation reports it) or once the
// walk has stopped.
func (w *walker) fragment(name string) *fragmentCost {
	if f, ok := w.memo[name]; ok {
		return f
	}
	def := w.doc.Fragments.ForName(name)
	if def == nil || w.err != nil {
		return nil
	}
	if w.visiting[name] {
		w.err = gqlerror.Errorf("Cannot spread fragment %q within itself.", name)
		errcode.Set(w.err, errcode.ValidationFailed)
		return nil
	}
	if w.visiting == nil {
		w.visiting = map[string]bool{}
	}
	w.visiting[name] = true
	before := w.total
	depth, names := w.selectionSet(def.SelectionSet)
	delete(w.visiting, name)
	f := &fragmentCost{tally: w.total.minus(before), depth: depth, names: names}
	w.memo[name] = f
	return f
}

func (w *walker) count(t tally) {
	w.total.add(t)
	l := w.limits
	switch {
	case w.err != nil:
	case over(l.MaxFields, w.total.fields):
		w.err = refusal("fields", l.MaxFields, w.total.fields, "selects too many fields with its fragments expanded")
	case over(l.MaxAliases, w.total.aliases):
		w.err = refusal("aliases", l.MaxAliases, w.total.aliases, "has too many aliases with its fragments expanded")
	case over(l.MaxMergeCost, w.total.merge):
		w.err = refusal("merge", l.MaxMergeCost, w.total.merge, "repeats too many fields under the same name")
	}
}

func (w *walker) checkDepth(depth int) {
	if w.err == nil && over(w.limits.MaxDepth, depth) {
		w.err = refusal("depth", w.limits.MaxDepth, depth, "nests fields too deeply")
	}
}

// pairs is what the merge check compares within one set: every two fields
// that share a response name, and for each such pair their subtrees, field
// by field (the square: a subtree may repeat names too).
func pairs(names map[string]group) int {
	n := 0
	for _, g := range names {
		k, sub := min(g.count, 1<<20), min(g.subtree, 1<<9)
		n = min(n+k*(k-1)/2*(1+sub)*(1+sub), saturation)
	}
	return n
}

func mergeNames(into, from map[string]group) {
	for name, g := range from {
		have := into[name]
		into[name] = group{min(have.count+g.count, saturation), max(have.subtree, g.subtree)}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
