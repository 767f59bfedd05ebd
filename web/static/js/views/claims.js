// The claims list: search, filters and sort live in the address, so a
// reload or a shared link shows the same list; statuses update live.
import { h, mount, badge, banner, label, when } from '../dom.js';
import * as ops from '../operations.js';

const statuses = ['DRAFT', 'SUBMITTED', 'UNDER_REVIEW', 'ACTION_REQUIRED', 'ARBITRATION', 'APPROVED', 'REJECTED', 'WITHDRAWN', 'EXPIRED'];
const sorts = {
  'CREATED_AT:DESC': 'Newest first',
  'UPDATED_AT:DESC': 'Recently changed',
  'SUBMITTED_AT:DESC': 'Recently submitted',
  'DECIDED_AT:DESC': 'Recently decided',
  'CREATED_AT:ASC': 'Oldest first',
};

export function claimsPage(app, view, _params, query) {
  const state = {
    search: query.get('q') || '',
    status: query.getAll('status').filter((s) => statuses.includes(s)),
    area: query.get('area') || '',
    overdue: query.get('overdue') === '1',
    sort: sorts[query.get('sort')] ? query.get('sort') : 'CREATED_AT:DESC',
  };
  const rows = new Map();
  const table = h('tbody', { id: 'claim-rows' });
  const summary = h('p', { class: 'muted', id: 'claim-count' });
  const more = h('p', {});
  const problem = h('div', {});
  const fresh = h('p', { class: 'fresh' });
  let generation = 0;
  let unseen = 0; // changes to claims the list does not show

  function filter() {
    const f = {};
    if (state.search.trim()) f.search = state.search.trim();
    if (state.status.length) f.status = state.status;
    if (state.area) f.solutionArea = state.area;
    if (state.overdue) f.overdue = true;
    return f;
  }

  function remember() {
    const q = new URLSearchParams();
    if (state.search) q.set('q', state.search);
    state.status.forEach((s) => q.append('status', s));
    if (state.area) q.set('area', state.area);
    if (state.overdue) q.set('overdue', '1');
    if (state.sort !== 'CREATED_AT:DESC') q.set('sort', state.sort);
    history.replaceState(null, '', location.pathname + (q.toString() ? `?${q}` : ''));
  }

  async function load(after) {
    const mine = after ? generation : ++generation;
    const [field, direction] = state.sort.split(':');
    try {
      const data = await app.api.query(ops.Claims, { filter: filter(), orderBy: { field, direction }, after: after || null });
      if (mine !== generation) return; // a newer search has started
      if (!after) {
        table.replaceChildren();
        rows.clear();
        unseen = 0;
        mount(fresh);
      }
      mount(problem);
      const page = data.claims;
      page.nodes.forEach((c) => table.append(row(c)));
      mount(summary, page.totalCount === 1 ? '1 claim' : `${page.totalCount} claims`);
      mount(more, page.pageInfo.hasNextPage
        ? h('button', { type: 'button', class: 'secondary', id: 'load-more', onclick: () => load(page.pageInfo.endCursor) }, 'Load more')
        : null);
    } catch (err) {
      mount(problem, banner(err));
    }
  }

  function row(c) {
    const status = h('td', {}, badge(c.status));
    const tr = h('tr', { 'data-claim': c.id },
      h('td', {}, h('a', { href: `/app/claims/${encodeURIComponent(c.id)}`, 'data-link': '' }, c.name || c.customerDomain),
        h('div', { class: 'muted small' }, c.customerTenant ? c.customerTenant.displayName : c.customerDomain)),
      h('td', {}, c.product ? c.product.name : '—', h('div', { class: 'muted small' }, `${label(c.solutionArea)} · ${label(c.activity)}`)),
      app.viewer.partner ? null : h('td', {}, c.organization.name),
      status,
      h('td', {}, when(c.submittedAt)),
      h('td', { class: c.overdue ? 'overdue' : '' }, when(c.reviewDueAt), c.overdue ? h('div', { class: 'small' }, 'Overdue') : null));
    rows.set(c.id, { status, version: c.version });
    return tr;
  }

  // Debounced so that typing a search sends one request, not one a key.
  let timer;
  function changed() {
    clearTimeout(timer);
    timer = setTimeout(() => { remember(); load(); }, 250);
  }

  const controls = h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); changed(); } },
    h('input', {
      type: 'search', id: 'search', placeholder: 'Search name, domain, customer or partner', value: state.search,
      'aria-label': 'Search', oninput: (e) => { state.search = e.target.value; changed(); },
    }),
    h('select', { id: 'area', 'aria-label': 'Solution area', onchange: (e) => { state.area = e.target.value; changed(); } },
      h('option', { value: '' }, 'Every solution area'),
      ['BUSINESS_APPLICATIONS', 'MICROSOFT_365'].map((a) => h('option', { value: a, selected: state.area === a }, label(a)))),
    h('select', { id: 'sort', 'aria-label': 'Sort', onchange: (e) => { state.sort = e.target.value; changed(); } },
      Object.entries(sorts).map(([value, text]) => h('option', { value, selected: state.sort === value }, text))),
    h('label', { class: 'check' }, h('input', {
      type: 'checkbox', id: 'overdue', checked: state.overdue, onchange: (e) => { state.overdue = e.target.checked; changed(); },
    }), 'Overdue only'),
    h('fieldset', { class: 'statuses' }, h('legend', {}, 'Status'),
      statuses.map((s) => h('label', { class: 'chip' }, h('input', {
        type: 'checkbox', name: 'status', value: s, checked: state.status.includes(s),
        onchange: (e) => {
          state.status = e.target.checked ? [...state.status, s] : state.status.filter((x) => x !== s);
          changed();
        },
      }), label(s)))));

  mount(view,
    h('div', { class: 'heading' }, h('h1', {}, 'Claims'),
      app.viewer.partner ? h('a', { href: '/app/claims/new', 'data-link': '', class: 'button', id: 'new-claim' }, 'New claim') : null),
    controls,
    problem,
    summary,
    fresh,
    h('table', { class: 'claims' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'Claim'), h('th', {}, 'Product'), app.viewer.partner ? null : h('th', {}, 'Partner'),
        h('th', {}, 'Status'), h('th', {}, 'Submitted'), h('th', {}, 'Review due'))),
      table),
    more);
  load();

  // A status change of a claim on screen shows at once. The list is not
  // re-sorted or re-filtered under the reader's eyes: a change to a claim
  // it does not show is offered as a refresh.
  const stop = app.api.subscribe(ops.ListStatusChanged, {}, (data) => {
    const change = data.claimStatusChanged;
    const shown = rows.get(change.claim.id);
    if (shown && change.claim.version > shown.version) {
      shown.version = change.claim.version;
      mount(shown.status, badge(change.status));
    } else if (!shown) {
      unseen += 1;
      mount(fresh, h('button', { type: 'button', class: 'link', id: 'show-changes', onclick: () => load() },
        unseen === 1 ? 'Another claim has changed: refresh the list' : `${unseen} other claims have changed: refresh the list`));
    }
  });
  return () => { clearTimeout(timer); stop(); };
}
