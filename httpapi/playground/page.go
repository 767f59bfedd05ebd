package playground

// pageHTML is the playground page. The script is inline (allowed by the
// response's nonce); everything it loads is served by the binary.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="stylesheet" href="{{.Assets}}graphiql.min.css" integrity="{{index .Integrity "graphiql.min.css"}}">
<link rel="stylesheet" href="{{.Assets}}plugin-explorer.css" integrity="{{index .Integrity "plugin-explorer.css"}}">
<style>
  body { margin: 0; height: 100vh; display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
  #bar { display: flex; gap: .75rem; align-items: center; padding: .4rem .75rem; border-bottom: 1px solid #ddd; font-size: .9rem; }
  #graphiql { flex: 1; min-height: 0; }
</style>
</head>
<body>
{{- if .Users}}
<div id="bar">
  <label for="signin">Signed in as</label>
  <select id="signin">
    <option value="">nobody (anonymous)</option>
    {{- range .Users}}
    <option value="{{.Handle}}">{{.Handle}}: {{.About}}</option>
    {{- end}}
  </select>
  <span>The choice fills the Authorization header of queries and of the websocket for subscriptions.</span>
</div>
{{- end}}
<div id="graphiql">Loading…</div>
<script src="{{.Assets}}react.production.min.js" integrity="{{index .Integrity "react.production.min.js"}}"></script>
<script src="{{.Assets}}react-dom.production.min.js" integrity="{{index .Integrity "react-dom.production.min.js"}}"></script>
<script src="{{.Assets}}graphiql.min.js" integrity="{{index .Integrity "graphiql.min.js"}}"></script>
<script src="{{.Assets}}plugin-explorer.umd.js" integrity="{{index .Integrity "plugin-explorer.umd.js"}}"></script>
<script nonce="{{.Nonce}}">
(function () {
  const endpoint = {{.Endpoint}};
  const users = {
    {{- range .Users}}
    {{.Handle}}: {{.Token}},
    {{- end}}
  };
  const url = location.protocol + '//' + location.host + endpoint;
  const subscriptionUrl = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + endpoint;
  const explorer = GraphiQLPluginExplorer.explorerPlugin();
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  const picker = document.getElementById('signin');

  function render(handle) {
    const token = users[handle];
    const headers = token ? { Authorization: 'Bearer ' + token } : {};
    const fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: subscriptionUrl, wsConnectionParams: headers });
    root.render(React.createElement(GraphiQL, {
      key: handle || 'anonymous',
      fetcher: fetcher,
      headers: JSON.stringify(headers, null, 2),
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      plugins: [explorer],
      defaultQuery: 'query Me {\n  viewer { userId name assignedRoles }\n}\n',
    }));
  }

  const chosen = localStorage.getItem('cpor-playground-user') || '';
  if (picker) {
    picker.value = users[chosen] ? chosen : '';
    picker.addEventListener('change', function () {
      localStorage.setItem('cpor-playground-user', picker.value);
      render(picker.value);
    });
  }
  render(picker ? picker.value : '');
})();
</script>
</body>
</html>
`
