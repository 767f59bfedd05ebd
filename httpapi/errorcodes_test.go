package httpapi_test

import (
	"testing"

	"cpor/apperr"
	"cpor/graph"
)

// TestErrorCodeEnumIsComplete: every code the service can give, whether a
// rule's (apperr.Codes), a request's or a transport's, is a value of the
// schema's ErrorCode enum, with a description.
func TestErrorCodeEnumIsComplete(t *testing.T) {
	enum := graph.NewExecutableSchema(graph.Config{}).Schema().Types["ErrorCode"]
	if enum == nil {
		t.Fatal("the schema has no ErrorCode enum")
	}
	described := map[string]bool{}
	for _, v := range enum.EnumValues {
		described[v.Name] = v.Description != ""
	}
	codes := append([]apperr.Code{}, apperr.Codes...)
	codes = append(codes, apperr.Internal, apperr.RateLimited, apperr.Timeout, apperr.ResponseTooLarge, apperr.ShuttingDown,
		"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "COMPLEXITY_LIMIT_EXCEEDED", "PERSISTED_QUERY_NOT_FOUND",
		"TOO_MANY_SUBSCRIPTIONS", "SLOW_CONSUMER")
	for _, c := range codes {
		has, ok := described[string(c)]
		switch {
		case !ok:
			t.Errorf("ErrorCode lacks %s", c)
		case !has:
			t.Errorf("ErrorCode %s has no description", c)
		}
	}
	if len(enum.EnumValues) != len(codes) {
		t.Errorf("ErrorCode has %d values, the service gives %d codes", len(enum.EnumValues), len(codes))
	}
}
