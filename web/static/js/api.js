// The app's one door to the service: GraphQL over HTTP for queries and
// mutations, GraphQL multipart requests for uploads, and graphql-ws
// (vendored, window.graphqlWs) for live subscriptions. Every call carries
// the signed-in user's bearer token; an UNAUTHENTICATED answer from any of
// them ends the session.

// ApiError is a refusal or failure the user should see: its code is the
// service's extensions.code (or HTTP, NETWORK).
export class ApiError extends Error {
  constructor(code, message, requestId) {
    super(message);
    this.code = code;
    this.requestId = requestId;
  }
}

export class Api {
  constructor({ endpoint, token, onSessionEnd }) {
    this.endpoint = endpoint;
    this.token = token;
    this.onSessionEnd = onSessionEnd;
    this.live = null;
    this.liveListeners = new Set();
  }

  // query runs a query or mutation and returns its data; any GraphQL error
  // is thrown as an ApiError (partial data is not shown half-done).
  async query(document, variables = {}) {
    return this.send(JSON.stringify({ query: document, variables }), { 'Content-Type': 'application/json' });
  }

  // upload runs a mutation whose variables hold files, as a GraphQL
  // multipart request: files maps a variable path ("file", "input.file")
  // to a File.
  async upload(document, variables, files) {
    const form = new FormData();
    const map = {};
    Object.keys(files).forEach((path, i) => { map[i] = [`variables.${path}`]; });
    form.append('operations', JSON.stringify({ query: document, variables }));
    form.append('map', JSON.stringify(map));
    Object.values(files).forEach((file, i) => form.append(String(i), file, file.name));
    return this.send(form, {});
  }

  async send(body, headers) {
    let response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        body,
        headers: { ...headers, Accept: 'application/graphql-response+json', Authorization: `Bearer ${this.token}` },
      });
    } catch (err) {
      throw new ApiError('NETWORK', 'The service cannot be reached. Check your connection and try again.');
    }
    const requestId = response.headers.get('X-Request-ID') || undefined;
    let result;
    try {
      result = await response.json();
    } catch {
      throw new ApiError('HTTP', `The service answered HTTP ${response.status}.`, requestId);
    }
    const error = result.errors && result.errors[0];
    if (error) {
      const code = (error.extensions && error.extensions.code) || 'ERROR';
      if (code === 'UNAUTHENTICATED') this.onSessionEnd('Your session has ended. Sign in again.');
      throw new ApiError(code, error.message, requestId);
    }
    return result.data;
  }

  // subscribe starts a live subscription; onNext gets each event's data.
  // It returns the function that stops it.
  subscribe(document, variables, onNext) {
    return this.socket().subscribe({ query: document, variables }, {
      next: (result) => {
        if (result.errors) this.endIfUnauthenticated(result.errors);
        else onNext(result.data);
      },
      // The service ends every subscription with UNAUTHENTICATED when the
      // token expires.
      error: (errors) => this.endIfUnauthenticated(errors),
      complete: () => {},
    });
  }

  endIfUnauthenticated(errors) {
    const list = Array.isArray(errors) ? errors : [];
    if (list.some((e) => e.extensions && e.extensions.code === 'UNAUTHENTICATED')) {
      this.onSessionEnd('Your session has ended. Sign in again.');
    }
  }

  // onLive tells listener whether the websocket is up ('live') or not
  // ('connecting', 'offline'); it returns the function that stops telling.
  onLive(listener) {
    this.liveListeners.add(listener);
    listener(this.liveState || 'connecting');
    return () => this.liveListeners.delete(listener);
  }

  setLive(state) {
    this.liveState = state;
    for (const listener of this.liveListeners) listener(state);
  }

  socket() {
    if (this.live) return this.live;
    const url = new URL(this.endpoint, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.live = window.graphqlWs.createClient({
      url: url.href,
      connectionParams: { Authorization: `Bearer ${this.token}` },
      // Stay connected across pages, and come back after a deploy or a
      // dropped network; the pages refetch what they show when it does.
      lazy: true,
      lazyCloseTimeout: 30000,
      retryAttempts: Infinity,
      shouldRetry: (event) => !(event && event.code === 4403),
      on: {
        connecting: () => this.setLive('connecting'),
        connected: () => this.setLive('live'),
        closed: (event) => {
          this.setLive('offline');
          // 4403: the token was refused or has expired.
          if (event && event.code === 4403) this.onSessionEnd('Your session has ended. Sign in again.');
        },
      },
    });
    return this.live;
  }

  close() {
    if (this.live) this.live.dispose();
    this.live = null;
    this.liveListeners.clear();
  }
}

// fieldKey names the input field a userError is about as the form's
// field names spell it: ["input", "customerContact", "email"] is
// "customerContact.email"; '' when it is about no single field.
export function fieldKey(userError) {
  return userError.field ? userError.field.filter((p) => p !== 'input').join('.') : '';
}

// fieldErrors groups a payload's userErrors by fieldKey.
export function fieldErrors(userErrors) {
  const out = {};
  for (const e of userErrors || []) {
    (out[fieldKey(e)] = out[fieldKey(e)] || []).push(e);
  }
  return out;
}
