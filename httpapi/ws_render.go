package httpapi

import (
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
)

// encodeResponse is json.Marshal of an event's response without its cost
// in the common case (data only): gqlgen's data is already compact JSON,
// which json.Marshal would scan and copy again for every subscriber.
func encodeResponse(resp *graphql.Response) ([]byte, error) {
	if len(resp.Errors) > 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil || len(resp.Extensions) > 0 || resp.Data == nil {
		return json.Marshal(resp)
	}
	b := make([]byte, 0, len(resp.Data)+len(`{"data":}`))
	b = append(b, `{"data":`...)
	b = append(b, resp.Data...)
	return append(b, '}'), nil
}
