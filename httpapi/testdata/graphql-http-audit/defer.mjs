// Sends QUERY to URL accepting multipart/mixed and reads the incremental
// response with meros (the multipart reader Relay and urql use); prints
// each part's JSON on its own line.
import http from 'node:http';
import { meros } from 'meros';

const body = JSON.stringify({ query: process.env.QUERY });
const res = await new Promise((resolve, reject) => {
  const req = http.request(process.env.URL, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'multipart/mixed;deferSpec=20220824, application/json',
      authorization: `Bearer ${process.env.TOKEN}`,
    },
  }, resolve);
  req.on('error', reject);
  req.end(body);
});
const parts = await meros(res);
if (!(Symbol.asyncIterator in Object(parts))) {
  throw new Error(`not a multipart response: ${res.headers['content-type']}`);
}
for await (const part of parts) {
  if (!part.json) throw new Error(`part is not JSON: ${part.body}`);
  console.log(JSON.stringify(part.body));
}
