// Runs graphql-http's GraphQL-over-HTTP server audit against URL and
// prints one JSON line per audit: {id, name, status, reason}. With TOKEN
// set, every request carries it as a bearer token.
import { serverAudits } from 'graphql-http';

const url = process.env.URL;
const token = process.env.TOKEN;
const fetchFn = token
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    }
  : fetch;

for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  console.log(JSON.stringify({ id: audit.id, name: audit.name, status: result.status, reason: result.reason }));
}
