// Subscribes to every status change with the reference graphql-ws client,
// prints each event as JSON, and when the server ends the subscription with
// an error prints "ended" and the errors as JSON. Exit code 0 when it ended
// with an error; the client's own handling of the error message is what is
// tested.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { CPOR_WS_URL: url, CPOR_TOKEN: token } = process.env;

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
});

const timeout = setTimeout(() => { console.error('timed out'); process.exit(2); }, 30000);
client.subscribe(
  { query: 'subscription { claimStatusChanged { cursor status claim { id } } }' },
  {
    next: (result) => console.log(JSON.stringify(result.data)),
    error: async (errors) => {
      console.log('ended ' + JSON.stringify(errors));
      clearTimeout(timeout);
      await client.dispose();
    },
    complete: () => { console.error('completed without an error'); process.exit(1); },
  },
);
