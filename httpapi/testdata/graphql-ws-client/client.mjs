// Subscribes with the reference graphql-ws client, prints "ready" once the
// subscription is set up, prints the first event as JSON, then completes
// the subscription and disposes the client cleanly. Exit code 0 on success.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { CPOR_WS_URL: url, CPOR_TOKEN: token, CPOR_CLAIM_ID: claimId } = process.env;

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  on: { connected: () => console.log('connected') },
});

const query = `subscription ($id: ID) {
  claimStatusChanged(claimId: $id) { cursor status previousStatus event claim { id status } }
}`;

const timeout = setTimeout(() => { console.error('timed out'); process.exit(2); }, 20000);
const subscription = client.iterate({ query, variables: { id: claimId } });
console.log('ready');
try {
  for await (const result of subscription) {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    console.log(JSON.stringify(result.data));
    break; // completes the subscription
  }
  await client.dispose();
  clearTimeout(timeout);
  console.log('done');
} catch (err) {
  console.error('failed', err?.message ?? err);
  process.exit(1);
}
