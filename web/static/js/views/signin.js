// Signing in: with one of the development server's demo users, or by
// pasting a bearer token from the identity provider.
import { h, mount, banner } from '../dom.js';

export function signInPage(app, view, route) {
  let problem = app.notice ? { message: app.notice } : null;

  async function signIn(token) {
    try {
      await app.signIn(token.trim());
      route();
    } catch (err) {
      problem = err;
      render();
    }
  }

  const tokenBox = h('textarea', { id: 'token', rows: 4, placeholder: 'eyJhbGciOi…', spellcheck: 'false', autocomplete: 'off' });

  function render() {
    mount(view,
      h('h1', {}, 'Sign in'),
      banner(problem),
      app.config.users.length > 0 ? h('section', { class: 'card' },
        h('h2', {}, 'As a demo user'),
        h('p', { class: 'muted' }, 'The development server signs a token for each of these people.'),
        h('ul', { class: 'people' }, app.config.users.map((u) => h('li', {},
          h('button', { type: 'button', class: 'person', 'data-user': u.handle, onclick: () => signIn(u.token) },
            h('strong', {}, u.handle), h('span', { class: 'muted' }, u.about)))))) : null,
      h('section', { class: 'card' },
        h('h2', {}, 'With a token'),
        h('label', { for: 'token' }, 'Bearer token (a JWT your identity provider issued for this service)'),
        tokenBox,
        h('p', {}, h('button', { type: 'button', id: 'token-sign-in', onclick: () => signIn(tokenBox.value) }, 'Sign in'))));
  }
  render();
}
