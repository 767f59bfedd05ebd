// Package gqlguard prices a GraphQL document from its text and shape before
// anything else is done with it. gqlgen's validator and complexity
// calculation expand fragments and compare same-named fields pairwise, so a
// kilobyte of nested fragment spreads or a flood of aliases costs seconds
// of CPU before any limit is looked at; Check refuses such documents with
// work bounded by the document's token limit.
package gqlguard

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Code is the extensions.code of a document refused for its cost, the same
// code gqlgen's complexity limit gives: both mean "ask for less".
const Code = "COMPLEXITY_LIMIT_EXCEEDED"

// Limits bound one document. Every limit is checked on the text as sent,
// before validation; zero disables a limit.
type Limits struct {
	// MaxBytes bounds the document text (not its variables).
	MaxBytes int
	// MaxTokens bounds the lexical tokens; the parser stops at the limit.
	MaxTokens int
	// MaxDepth bounds field nesting, fragments expanded.
	MaxDepth int
	// MaxFields bounds the fields of the document with every fragment
	// spread expanded where it is spread: what validation and execution
	// walk.
	MaxFields int
	// MaxAliases bounds aliased fields, fragments expanded.
	MaxAliases int
	// MaxFragments bounds fragment definitions.
	MaxFragments int
	// MaxMergeCost bounds the field-merging check's comparisons: for every
	// selection set, each pair of fields sharing a response name, weighted
	// by the subtree the check walks for the pair, fragments expanded.
	MaxMergeCost int
}

// DefaultLimits are generous for any page an app shows (the largest
// operations this API's own clients send have under 200 fields, depth 9
// and no aliases) and keep the cost of refusing the worst document of the
// body limit in single milliseconds.
var DefaultLimits = Limits{
	MaxBytes:     64 << 10,
	MaxTokens:    10_000,
	MaxDepth:     15,
	MaxFields:    2_000,
	MaxAliases:   100,
	MaxFragments: 100,
	MaxMergeCost: 20_000,
}

// refusal is the error for a document over one limit; extensions say which
// limit and its value so a client can react without parsing the message.
func refusal(limit string, max, got int, what string) *gqlerror.Error {
	err := gqlerror.Errorf("The document %s (%d); the limit is %d. Ask for less in one operation, or split it.", what, got, max)
	err.Extensions = map[string]any{"code": Code, "limit": limit, "max": max}
	return err
}

func over(max, got int) bool { return max > 0 && got > max }

func (l Limits) String() string {
	return fmt.Sprintf("bytes=%d tokens=%d depth=%d fields=%d aliases=%d fragments=%d merge=%d",
		l.MaxBytes, l.MaxTokens, l.MaxDepth, l.MaxFields, l.MaxAliases, l.MaxFragments, l.MaxMergeCost)
}
