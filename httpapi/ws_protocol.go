package httpapi

import (
	"encoding/json"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// wsProtocol is what differs between the subprotocols the transport
// speaks; everything else about a connection is shared.
type wsProtocol interface {
	// name is the subprotocol as negotiated in the upgrade.
	name() string
	// request tells what a client message asks for; false for a type the
	// protocol does not let a client send.
	request(typ string) (wsRequest, bool)
	// resultType names the message that carries an execution result.
	resultType() string
	// errorPayload encodes the errors that end an operation.
	errorPayload(errs gqlerror.List) json.RawMessage
	// initAccepted are the messages that acknowledge a connection_init.
	initAccepted() []wsMessage
	// initRefused are the messages sent before a refused connection_init
	// closes the connection.
	initRefused(reason string) []wsMessage
	// confirmsStop reports whether a client's stop is answered with
	// complete.
	confirmsStop() bool
	// keepAlive is the message the pinger sends each interval; false asks
	// it to drop the peer instead, which has sent nothing for two
	// intervals (silent).
	keepAlive(silent bool) (wsMessage, bool)
}

// wsRequest is what a client message asks for, whichever protocol
// spelled it.
type wsRequest int

const (
	requestInit wsRequest = iota
	requestStart
	requestStop
	requestPing
	requestPong
	requestTerminate
)

// wsProtocols are the subprotocols offered, preferred first; a client that
// names none gets the last, the legacy graphql-ws, as Apollo's old client
// expects.
var wsProtocols = []wsProtocol{graphqlTransportWS{}, graphqlWS{}}

func protocolNamed(name string) wsProtocol {
	for _, p := range wsProtocols {
		if p.name() == name {
			return p
		}
	}
	return wsProtocols[len(wsProtocols)-1]
}

func protocolNames() []string {
	names := make([]string, len(wsProtocols))
	for i, p := range wsProtocols {
		names[i] = p.name()
	}
	return names
}

// wsMessage is a message of either protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// encodeMessage writes a protocol message around an already encoded
// payload, which json.Marshal would copy and re-validate.
func encodeMessage(id, typ string, payload json.RawMessage) []byte {
	b := make([]byte, 0, len(payload)+len(id)+40)
	b = append(b, '{')
	if id != "" {
		b = append(b, `"id":`...)
		b = append(b, mustJSON(id)...)
		b = append(b, ',')
	}
	b = append(b, `"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if len(payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
