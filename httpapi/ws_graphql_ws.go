package httpapi

import (
	"encoding/json"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// graphqlWS is the legacy graphql-ws protocol of Apollo's
// subscriptions-transport-ws.
type graphqlWS struct{}

var graphqlWSRequests = map[string]wsRequest{
	"connection_init":      requestInit,
	"start":                requestStart,
	"stop":                 requestStop,
	"connection_terminate": requestTerminate,
}

func (graphqlWS) name() string { return "graphql-ws" }

func (graphqlWS) request(typ string) (wsRequest, bool) {
	r, ok := graphqlWSRequests[typ]
	return r, ok
}

func (graphqlWS) resultType() string { return "data" }

// errorPayload is the first error's object: the protocol has room for one.
func (graphqlWS) errorPayload(errs gqlerror.List) json.RawMessage {
	if len(errs) == 0 {
		return mustJSON(errs)
	}
	return mustJSON(errs[0])
}

// initAccepted adds a first keep-alive at once: the protocol's clients
// start watching the connection's liveness from the first one.
func (graphqlWS) initAccepted() []wsMessage {
	return []wsMessage{{Type: "connection_ack"}, {Type: "ka"}}
}

func (graphqlWS) initRefused(reason string) []wsMessage {
	return []wsMessage{{Type: "connection_error", Payload: mustJSON(map[string]string{"message": reason})}}
}

func (graphqlWS) confirmsStop() bool { return true }

// keepAlive is "ka" whatever the peer did: clients do not answer it, so
// silence says nothing.
func (graphqlWS) keepAlive(bool) (wsMessage, bool) { return wsMessage{Type: "ka"}, true }
