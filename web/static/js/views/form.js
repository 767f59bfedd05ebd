// The claim form, for a new claim or a draft: each rule the service checks
// that is about one field shows its message at that field, as the
// payload's userErrors name it (["input", "customerContact", "email"]).
import { h, mount, banner, label, ruleErrors } from '../dom.js';
import { fieldErrors } from '../api.js';
import * as ops from '../operations.js';

const labels = {
  name: 'Name',
  solutionArea: 'Solution area',
  activity: 'Activity',
  customerTenantId: 'Customer tenant ID',
  customerDomain: 'Customer domain',
  productId: 'Product',
  subscriptionId: 'Subscription ID',
  mpnId: 'MPN',
  'customerContact.name': 'Customer contact name',
  'customerContact.title': 'Customer contact title',
  'customerContact.email': 'Customer contact e-mail',
  'partnerContact.name': 'Partner contact name',
  'partnerContact.email': 'Partner contact e-mail',
  notes: 'Notes',
  proofOfExecution: 'Proof of execution',
};

// fieldLabel names an input field for people.
export function fieldLabel(field) {
  return labels[field] || label(field.replaceAll('.', ' ').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase());
}

export function claimFormPage(app, view, { id }) {
  if (!app.viewer.partner) {
    mount(view, h('h1', {}, 'Claims are filed by partner admins'), h('p', {}, h('a', { href: '/app/', 'data-link': '' }, 'Back to the claims')));
    return null;
  }
  let draft = null;
  let choices = null;
  const values = {
    name: '', solutionArea: 'BUSINESS_APPLICATIONS', activity: '', customerTenantId: '', customerDomain: '',
    productId: '', subscriptionId: '', mpnId: '', notes: '',
    'customerContact.name': '', 'customerContact.title': '', 'customerContact.email': '',
    'partnerContact.name': app.viewer.name || '', 'partnerContact.email': app.viewer.email || '',
  };
  let errors = {};
  let problem = null;
  let saving = false;
  let left = false; // the reader has gone to another page

  async function start() {
    try {
      if (id) {
        const data = await app.api.query(ops.DraftForEdit, { id });
        draft = data.claim;
        if (left) return;
        if (!draft || draft.status !== 'DRAFT') {
          mount(view, h('h1', {}, 'Only drafts can be edited'), h('p', {}, h('a', { href: `/app/claims/${encodeURIComponent(id)}`, 'data-link': '' }, 'Back to the claim')));
          return;
        }
        Object.assign(values, {
          name: draft.name, solutionArea: draft.solutionArea, activity: draft.activity, customerTenantId: draft.customerTenantId,
          customerDomain: draft.customerDomain, productId: draft.product ? draft.product.id : '', subscriptionId: draft.subscriptionId || '',
          mpnId: draft.mpn ? draft.mpn.id : '', notes: draft.notes,
          'customerContact.name': draft.customerContact.name, 'customerContact.title': draft.customerContact.title,
          'customerContact.email': draft.customerContact.email,
          'partnerContact.name': draft.partnerContact.name, 'partnerContact.email': draft.partnerContact.email,
        });
      }
      await loadChoices();
    } catch (err) {
      problem = err;
      render();
    }
  }

  async function loadChoices() {
    choices = await app.api.query(ops.FormChoices, { solutionArea: values.solutionArea });
    if (!choices.activities.some((a) => a.activity === values.activity)) values.activity = choices.activities[0].activity;
    if (!choices.products.some((p) => p.id === values.productId)) values.productId = '';
    render();
  }

  // field is one labelled input with the errors the service gave for it.
  function field(name, control, hint) {
    const errs = errors[name] || [];
    control.id = `f-${name.replace('.', '-')}`;
    control.name = name;
    if (errs.length) control.setAttribute('aria-invalid', 'true');
    control.addEventListener('input', () => { values[name] = control.value; });
    control.addEventListener('change', () => { values[name] = control.value; });
    return h('div', { class: errs.length ? 'field invalid' : 'field', 'data-field': name },
      h('label', { for: control.id }, fieldLabel(name)),
      control,
      hint ? h('div', { class: 'muted small' }, hint) : null,
      errs.map((e) => h('div', { class: 'field-error', 'data-code': e.code }, e.message, ' ', h('code', {}, e.code))));
  }

  const text = (name, attrs = {}) => h('input', { type: 'text', value: values[name], ...attrs });
  const select = (name, options, empty) => h('select', {},
    empty ? h('option', { value: '' }, empty) : null,
    options.map(([value, text]) => h('option', { value, selected: values[name] === value }, text)));

  function render() {
    if (left) return;
    if (!choices) {
      mount(view, banner(problem), problem ? null : h('p', { class: 'muted' }, 'Loading…'));
      return;
    }
    const ba = values.solutionArea === 'BUSINESS_APPLICATIONS';
    const area = select('solutionArea', [['BUSINESS_APPLICATIONS', 'Business Applications'], ['MICROSOFT_365', 'Microsoft 365']]);
    area.addEventListener('change', () => { values.solutionArea = area.value; loadChoices().catch((err) => { problem = err; render(); }); });
    const activity = choices.activities.find((a) => a.activity === values.activity);
    // A problem about no field the form shows goes above it.
    const shown = new Set(Object.keys(values).filter((n) => ba || n !== 'subscriptionId'));
    const general = Object.entries(errors).filter(([name]) => !shown.has(name)).flatMap(([, errs]) => errs);
    mount(view,
      h('p', { class: 'crumbs' }, h('a', { href: '/app/', 'data-link': '' }, 'Claims'), ' / ', draft ? 'Edit draft' : 'New claim'),
      h('h1', {}, draft ? 'Edit draft' : 'New claim'),
      banner(problem),
      ruleErrors(general),
      Object.keys(errors).length ? h('p', { class: 'error-summary', id: 'error-summary' },
        'The service found problems; each is shown at its field. Nothing was saved.') : null,
      h('form', { class: 'claim-form', id: 'claim-form', novalidate: true, onsubmit: save },
        h('fieldset', {}, h('legend', {}, 'The claim'),
          field('name', text('name', { maxlength: 200 }), 'Your own name for the claim, shown in lists.'),
          field('solutionArea', area),
          field('activity', select('activity', choices.activities.map((a) => [a.activity, label(a.activity)])),
            activity ? `${activity.description}${activity.incentiveEligible ? '' : ' No incentive payment.'}` : null),
          field('productId', select('productId', choices.products.map((p) => [p.id, p.name]), ba ? 'Choose the product' : 'Choose the workload')),
          field('mpnId', select('mpnId', choices.mpns.map((m) => [m.id, `${m.name} (${m.mpnId})${m.enrolled ? '' : ' – not enrolled'}`]), 'Choose the partner location'))),
        h('fieldset', {}, h('legend', {}, 'The customer'),
          field('customerTenantId', text('customerTenantId', { placeholder: '00000000-0000-0000-0000-000000000000', spellcheck: 'false' })),
          field('customerDomain', text('customerDomain', { placeholder: 'contoso.com', spellcheck: 'false' })),
          ba ? field('subscriptionId', text('subscriptionId', { spellcheck: 'false' }), 'The Dynamics 365 subscription ID, not the order ID.') : null,
          field('customerContact.name', text('customerContact.name')),
          field('customerContact.title', text('customerContact.title')),
          field('customerContact.email', text('customerContact.email', { type: 'email' }))),
        h('fieldset', {}, h('legend', {}, 'Your side'),
          field('partnerContact.name', text('partnerContact.name')),
          field('partnerContact.email', text('partnerContact.email', { type: 'email' })),
          field('notes', h('textarea', { rows: 4, maxlength: 4000, value: values.notes }), 'For the reviewer, up to 4,000 characters.')),
        h('div', { class: 'buttons' },
          h('button', { type: 'submit', id: 'save', disabled: saving }, draft ? 'Save draft' : 'Create draft'),
          h('a', { href: draft ? `/app/claims/${encodeURIComponent(draft.id)}` : '/app/', 'data-link': '', class: 'button secondary' }, 'Cancel'))));
    const first = view.querySelector('.field.invalid input, .field.invalid select, .field.invalid textarea');
    if (first) first.focus();
  }

  // input is what the form holds, as the service takes it: empty optional
  // fields are left out on a new claim and cleared on a draft.
  function input() {
    const v = (name) => values[name].trim();
    const contact = (who, withTitle) => {
      const c = { name: v(`${who}.name`), email: v(`${who}.email`) };
      if (withTitle) c.title = v(`${who}.title`);
      return c.name || c.email || c.title ? c : null;
    };
    const out = {
      name: v('name'), solutionArea: values.solutionArea, activity: values.activity,
      customerTenantId: v('customerTenantId'), customerDomain: v('customerDomain'),
      productId: values.productId || null, mpnId: values.mpnId || null,
      subscriptionId: values.solutionArea === 'BUSINESS_APPLICATIONS' ? v('subscriptionId') || null : null,
      customerContact: contact('customerContact', true), partnerContact: contact('partnerContact', false),
      notes: values.notes,
    };
    for (const key of Object.keys(out)) if (out[key] === null) delete out[key];
    return out;
  }

  async function save(e) {
    e.preventDefault();
    saving = true;
    problem = null;
    try {
      const data = draft
        ? await app.api.query(ops.UpdateClaim, { input: { claimId: draft.id, expectedVersion: draft.version, ...input() } })
        : await app.api.query(ops.CreateClaim, { input: input() });
      const payload = draft ? data.updateClaim : data.createClaim;
      saving = false;
      errors = fieldErrors(payload.userErrors);
      if (payload.userErrors.length) {
        render();
        return;
      }
      app.go(`claims/${encodeURIComponent(payload.claim.id)}`);
    } catch (err) {
      saving = false;
      problem = err;
      render();
    }
  }

  mount(view, h('p', { class: 'muted' }, 'Loading…'));
  start();
  return () => { left = true; };
}
