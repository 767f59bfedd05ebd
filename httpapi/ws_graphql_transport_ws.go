package httpapi

import (
	"encoding/json"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// graphqlTransportWS is the graphql-transport-ws protocol, which the
// graphql-ws npm package speaks.
type graphqlTransportWS struct{}

var graphqlTransportWSRequests = map[string]wsRequest{
	"connection_init": requestInit,
	"subscribe":       requestStart,
	"complete":        requestStop,
	"ping":            requestPing,
	"pong":            requestPong,
}

func (graphqlTransportWS) name() string { return "graphql-transport-ws" }

func (graphqlTransportWS) request(typ string) (wsRequest, bool) {
	r, ok := graphqlTransportWSRequests[typ]
	return r, ok
}

func (graphqlTransportWS) resultType() string { return "next" }

// errorPayload is the list of errors.
func (graphqlTransportWS) errorPayload(errs gqlerror.List) json.RawMessage { return mustJSON(errs) }

func (graphqlTransportWS) initAccepted() []wsMessage {
	return []wsMessage{{Type: "connection_ack"}}
}

// initRefused is nothing: the close code and reason say it.
func (graphqlTransportWS) initRefused(string) []wsMessage { return nil }

// confirmsStop is false: the client's complete ends the operation and
// nothing more is sent for it.
func (graphqlTransportWS) confirmsStop() bool { return false }

// keepAlive pings; a peer that answered nothing, not even a pong, for two
// intervals is gone.
func (graphqlTransportWS) keepAlive(silent bool) (wsMessage, bool) {
	return wsMessage{Type: "ping"}, !silent
}
