package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"cpor/reqlog"
	"cpor/storage"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// TestLogLinesNameTheUserAndTheOperation: the access-log line of a GraphQL
// request, and every line its operation writes, say who called and which
// operation ran.
func TestLogLinesNameTheUserAndTheOperation(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	var logs syncLog
	srv := apitest.NewServerLogging(t, w, nil, slog.New(reqlog.Handler(slog.NewJSONHandler(&logs, nil))))
	header := bearer(t, "rita")
	header.Set("X-Request-ID", "log-facts")
	rawDo(t, srv.URL, `query WhoAmI { viewer { name } }`, header)
	for _, line := range strings.Split(logs.String(), "\n") {
		var entry struct {
			Msg, RequestID, User, Operation string
		}
		if json.Unmarshal([]byte(line), &entry) != nil || entry.Msg != "request" {
			continue
		}
		if !strings.Contains(line, `"request_id":"log-facts"`) {
			continue
		}
		if entry.User != "rita@microsoft.example" || entry.Operation != "query WhoAmI" {
			t.Errorf("access log line %s: want user rita@microsoft.example and operation \"query WhoAmI\"", line)
		}
		return
	}
	t.Fatalf("no access log line for the request:\n%s", logs.String())
}
