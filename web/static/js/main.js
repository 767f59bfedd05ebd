// The app's shell: who is signed in, the bar at the top, and which page
// the address shows. Pages are modules under views/, each a function
// (ctx, params) that fills the view and returns a function that stops it
// (its live subscriptions) when the reader leaves.
import { Api } from './api.js';
import { h, mount } from './dom.js';
import * as ops from './operations.js';
import { signInPage } from './views/signin.js';
import { claimsPage } from './views/claims.js';
import { claimPage } from './views/claim.js';
import { claimFormPage } from './views/form.js';

const config = JSON.parse(document.getElementById('app-config').textContent);
const base = '/app/';
const tokenKey = 'cpor.token';
const bar = document.getElementById('bar');
const view = document.getElementById('view');

const app = {
  config,
  api: null,
  viewer: null,
  leave: null,
  notice: null,
  go(path) {
    history.pushState(null, '', base + path.replace(/^\//, ''));
    route();
  },
  async signIn(token) {
    // Only the session in use can end it: a token refused at sign-in is
    // an error of the sign-in form, not an ended session.
    const api = new Api({ endpoint: config.endpoint, token, onSessionEnd: (why) => { if (app.api === api) app.signOut(why); } });
    const data = await api.query(ops.Viewer);
    sessionStorage.setItem(tokenKey, token);
    app.api = api;
    app.viewer = describe(data.viewer);
    app.notice = null;
  },
  signOut(why) {
    sessionStorage.removeItem(tokenKey);
    if (app.api) app.api.close();
    app.api = null;
    app.viewer = null;
    app.notice = why || null;
    app.go('');
  },
};

// describe adds what the pages ask of the viewer: which kind of user.
function describe(viewer) {
  const roles = new Set(viewer.assignedRoles);
  const partner = Boolean(viewer.organization) &&
    ['GLOBAL_ADMIN', 'BILLING_ADMIN', 'INCENTIVES_ADMIN'].some((r) => roles.has(r));
  return {
    ...viewer,
    partner,
    reviewer: roles.has('REVIEWER'),
    customer: roles.has('CUSTOMER_ADMIN') && Boolean(viewer.customerTenant),
    where: viewer.organization ? viewer.organization.name : viewer.customerTenant ? viewer.customerTenant.displayName : 'Microsoft',
  };
}

function renderBar() {
  const v = app.viewer;
  const link = (path, text) => h('a', { href: base + path, 'data-link': '' }, text);
  mount(bar,
    h('nav', { class: 'bar' },
      h('a', { href: base, 'data-link': '', class: 'brand' }, 'CPOR claims'),
      v ? link('', 'Claims') : null,
      v && v.partner ? link('claims/new', 'New claim') : null,
      config.playground ? h('a', { href: config.playground }, 'API playground') : null,
      h('span', { class: 'spacer' }),
      v ? h('span', { class: 'who', id: 'who' }, h('strong', {}, v.name || v.userId), ` · ${v.where} · ${v.assignedRoles.join(', ') || 'no role'}`) : null,
      v ? h('button', { type: 'button', class: 'link', id: 'sign-out', onclick: () => app.signOut() }, 'Sign out') : null));
}

function parse(path) {
  const rest = path.startsWith(base) ? path.slice(base.length) : '';
  const parts = rest.split('/').filter(Boolean);
  if (parts.length === 0) return { page: claimsPage };
  if (parts[0] === 'claims' && parts[1] === 'new' && parts.length === 2) return { page: claimFormPage, params: {} };
  if (parts[0] === 'claims' && parts.length === 2) return { page: claimPage, params: { id: decodeURIComponent(parts[1]) } };
  if (parts[0] === 'claims' && parts[2] === 'edit' && parts.length === 3) {
    return { page: claimFormPage, params: { id: decodeURIComponent(parts[1]) } };
  }
  return { page: null };
}

async function route() {
  if (app.leave) app.leave();
  app.leave = null;
  if (!app.viewer) {
    const saved = sessionStorage.getItem(tokenKey);
    if (saved) {
      try {
        await app.signIn(saved);
      } catch (err) {
        sessionStorage.removeItem(tokenKey);
        app.notice = err.message;
      }
    }
  }
  renderBar();
  if (!app.viewer) {
    signInPage(app, view, route);
    return;
  }
  const { page, params } = parse(location.pathname);
  if (!page) {
    mount(view, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: base, 'data-link': '' }, 'Back to the claims')));
    return;
  }
  app.leave = page(app, view, params || {}, new URLSearchParams(location.search)) || null;
}

// Links inside the app change the page without reloading it.
document.addEventListener('click', (event) => {
  const a = event.target.closest('a[data-link]');
  if (!a || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  route();
});
window.addEventListener('popstate', route);
route();
