// One claim: what it is, where it stands, what the viewer may do next
// (the claim's availableActions), its proof of execution, history and
// comment thread. It follows the claim live: a status change or a comment
// from anyone else reads the claim again.
import { h, mount, badge, banner, bytes, day, label, ruleErrors, when } from '../dom.js';
import { fieldKey } from '../api.js';
import * as ops from '../operations.js';
import { fieldLabel } from './form.js';

// What each action sends, and what it asks of the viewer first.
const actions = {
  SUBMIT: { text: 'Submit', op: ops.SubmitClaim, primary: true },
  START_REVIEW: { text: 'Start review', op: ops.StartReview, primary: true },
  APPROVE: { text: 'Approve', op: ops.ApproveClaim, primary: true, ask: { field: 'note', text: 'Note for the partner (optional)' } },
  REQUEST_INFORMATION: { text: 'Request information', op: ops.RequestInformation, ask: { field: 'message', text: 'What the partner should send', required: true } },
  RESPOND: { text: 'Respond', op: ops.RespondToInformationRequest, primary: true, ask: { field: 'message', text: 'Your answer', required: true }, file: true },
  ESCALATE: { text: 'Escalate to arbitration', op: ops.EscalateClaim, ask: { field: 'reason', text: 'Why (optional)' } },
  REJECT: { text: 'Reject', op: ops.RejectClaim, danger: true, ask: { field: 'reason', text: 'Reason the partner will see', required: true } },
  WITHDRAW: { text: 'Withdraw', op: ops.WithdrawClaim, danger: true, ask: { field: 'reason', text: 'Why (optional)' } },
  CUSTOMER_DECLINE: { text: 'Decline', op: ops.CustomerDecline, danger: true, ask: { field: 'reason', text: 'Why (optional)' } },
};
// Actions whose input has no expectedVersion.
const versionless = new Set(['CUSTOMER_DECLINE']);
const ended = new Set(['REJECTED', 'WITHDRAWN', 'EXPIRED']);

export function claimPage(app, view, { id }) {
  const detail = !app.viewer.customer;
  const parts = {
    problem: h('div', { id: 'problem' }),
    head: h('div', { class: 'heading' }),
    facts: h('dl', { class: 'facts' }),
    actions: h('div', { class: 'actions', id: 'actions' }),
    proof: h('section', { class: 'card', id: 'proof' }),
    history: h('section', { class: 'card', id: 'history' }),
    comments: h('section', { class: 'card', id: 'comments' }),
  };
  const live = h('span', { class: 'live', id: 'live' });
  let claim = null;
  let reading = null;
  let again = false;
  let left = false; // the reader has gone to another page

  // read fetches the claim; a read asked for while one runs is done once
  // after it, so a burst of events costs at most two reads.
  async function read() {
    if (reading) { again = true; return reading; }
    reading = (async () => {
      do {
        again = false;
        try {
          const data = await app.api.query(detail ? ops.Claim : ops.TenantClaim, { id });
          if (left) return;
          if (!data.claim) {
            mount(view, h('h1', {}, 'Claim not found'), h('p', {}, 'It does not exist or is not yours to see. ',
              h('a', { href: '/app/', 'data-link': '' }, 'Back to the claims')));
            return;
          }
          claim = data.claim;
          render();
        } catch (err) {
          mount(parts.problem, banner(err));
        }
      } while (again);
    })();
    try { await reading; } finally { reading = null; }
  }

  function render() {
    const c = claim;
    mount(parts.head,
      h('div', {},
        h('p', { class: 'crumbs' }, h('a', { href: '/app/', 'data-link': '' }, 'Claims'), ' / ', c.customerDomain),
        h('h1', {}, c.name || c.customerDomain, ' ', h('span', { id: 'status' }, badge(c.status))),
        h('p', { class: 'muted' }, `Version ${c.version} · created ${when(c.createdAt)} · updated ${when(c.updatedAt)} `, live)),
      c.status === 'DRAFT' && app.viewer.partner
        ? h('a', { href: `/app/claims/${encodeURIComponent(c.id)}/edit`, 'data-link': '', class: 'button secondary', id: 'edit' }, 'Edit draft')
        : null);
    const fact = (term, ...value) => [h('dt', {}, term), h('dd', {}, ...value)];
    mount(parts.facts,
      fact('Partner', c.organization.name),
      fact('Customer', c.customerTenant ? c.customerTenant.displayName : '—', h('div', { class: 'muted small' }, `${c.customerDomain} · tenant ${c.customerTenantId}`)),
      fact('Solution area', label(c.solutionArea)),
      fact('Activity', label(c.activity)),
      fact('Product', c.product ? c.product.name : '—'),
      c.subscriptionId ? fact('Subscription', h('code', {}, c.subscriptionId)) : null,
      detail ? fact('MPN', c.mpn ? `${c.mpn.name} (${c.mpn.mpnId})` : '—') : null,
      detail ? fact('Customer contact', contact(c.customerContact)) : null,
      detail ? fact('Partner contact', contact(c.partnerContact)) : null,
      fact('Submitted', when(c.submittedAt)),
      fact('Review due', when(c.reviewDueAt), c.overdue ? h('strong', { class: 'overdue' }, ' overdue') : null),
      c.responseDueAt ? fact('Answer due', when(c.responseDueAt)) : null,
      c.customerConsent ? fact('Customer consent', label(c.customerConsent)) : null,
      c.decidedAt ? fact('Decided', when(c.decidedAt), c.decisionCode ? ` (${label(c.decisionCode)})` : null) : null,
      c.decisionReason ? fact('Decision', c.decisionReason) : null,
      detail && c.notes ? fact('Notes', h('span', { class: 'pre' }, c.notes)) : null);
    renderActions();
    if (detail) {
      renderProof();
      renderHistory();
      renderComments();
    }
  }

  // renderActions offers the claim's next steps. The same offer is left
  // as it is, so that a live update never takes away a half-written reason.
  let offeredKey = null;
  function renderActions() {
    const offered = claim.availableActions.filter((a) => actions[a]);
    if (offered.join() === offeredKey) return;
    offeredKey = offered.join();
    mount(parts.actions, offered.length === 0 ? null : [
      h('h2', {}, 'Next steps'),
      h('div', { class: 'buttons' }, offered.map((a) => h('button', {
        type: 'button', 'data-action': a,
        class: actions[a].primary ? '' : actions[a].danger ? 'danger' : 'secondary',
        onclick: () => (actions[a].ask || actions[a].file ? openAction(a) : act(a, {})),
      }, actions[a].text))),
      h('div', { id: 'action-form' }),
    ]);
  }

  // openAction asks for what the action needs before sending it.
  function openAction(name) {
    const spec = actions[name];
    const text = h('textarea', { id: 'action-text', rows: 3, required: spec.ask.required });
    const file = spec.file ? h('input', { type: 'file', id: 'action-file' }) : null;
    const form = h('form', {
      class: 'inline-form',
      onsubmit: (e) => {
        e.preventDefault();
        const input = { [spec.ask.field]: text.value };
        act(name, input, file && file.files[0]);
      },
    },
    h('label', { for: 'action-text' }, spec.ask.text), text,
    file ? [h('label', { for: 'action-file' }, 'New proof of execution (optional)'), file] : null,
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', id: 'action-confirm', class: spec.danger ? 'danger' : '' }, spec.text),
      h('button', { type: 'button', class: 'secondary', onclick: () => mount(document.getElementById('action-form')) }, 'Cancel')));
    mount(document.getElementById('action-form'), form);
    text.focus();
  }

  async function act(name, extra, file) {
    const spec = actions[name];
    const input = { claimId: claim.id, ...extra };
    if (!versionless.has(name)) input.expectedVersion = claim.version;
    await change(parts.problem, file
      ? app.api.upload(spec.op, { input: { ...input, file: null } }, { 'input.file': file })
      : app.api.query(spec.op, { input }), { show: problems });
  }

  // change waits for a mutation and shows how it went in where: the rules
  // it broke (show), or the service's refusal; when it is done, where is
  // cleared, then done runs and the claim is read again.
  async function change(where, request, { show = ruleErrors, done = () => {} } = {}) {
    try {
      const payload = Object.values(await request)[0];
      if (payload.userErrors.length) {
        mount(where, show(payload.userErrors));
        return;
      }
      mount(where);
      done();
      await read();
    } catch (err) {
      mount(where, banner(err));
    }
  }

  // problems lists rule violations, each under the name of the field it
  // is about, with a way to the form when the claim is still a draft.
  function problems(userErrors) {
    const editable = claim.status === 'DRAFT' && app.viewer.partner;
    return h('div', { id: 'rule-errors' },
      ruleErrors(userErrors, (e) => h('strong', {}, `${fieldLabel(fieldKey(e))}: `)),
      editable ? h('p', {}, h('a', { href: `/app/claims/${encodeURIComponent(claim.id)}/edit`, 'data-link': '' }, 'Fix it in the form')) : null);
  }

  const documents = h('ul', { class: 'documents' });
  const upload = app.viewer.partner ? uploadForm() : null;
  if (upload) upload.hidden = true; // until the claim says it may take proof

  function renderProof() {
    const docs = claim.proofOfExecution.nodes;
    mount(documents, docs.length === 0 ? h('li', { class: 'muted' }, 'No document yet. A claim needs one before it can be submitted.') : null,
      docs.map((d) => h('li', {},
        // downloadUrl is signed for this viewer and works as a plain link.
        h('a', { href: d.downloadUrl, download: d.fileName, class: 'document' }, d.fileName),
        h('span', { class: 'muted small' }, ` ${bytes(d.sizeBytes)} · ${d.contentType} · work done ${day(d.executedOn)} · uploaded ${when(d.uploadedAt)}`))));
    if (upload) upload.hidden = ended.has(claim.status);
  }

  function uploadForm() {
    const file = h('input', { type: 'file', id: 'proof-file', required: true, accept: '.pdf,.docx,.xlsx,.pptx,.png,.jpg,.jpeg,.msg,.eml' });
    const executedOn = h('input', { type: 'date', id: 'proof-executed-on' });
    const problem = h('div', {});
    return h('form', {
      class: 'inline-form', id: 'proof-form',
      onsubmit: async (e) => {
        e.preventDefault();
        if (!file.files[0]) return;
        const input = { claimId: claim.id, file: null, executedOn: executedOn.value || null };
        await change(problem, app.api.upload(ops.AttachProof, { input }, { 'input.file': file.files[0] }), {
          done: () => {
            file.value = '';
            mount(parts.problem); // a refusal that wanted proof no longer stands
          },
        });
      },
    },
    problem,
    h('label', { for: 'proof-file' }, 'Attach a document (PDF, Office, image or e-mail)'), file,
    h('label', { for: 'proof-executed-on' }, 'The day the work was done (today when left empty)'), executedOn,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', id: 'proof-upload', class: 'secondary' }, 'Upload')));
  }

  function renderHistory() {
    mount(parts.history,
      h('h2', {}, 'History'),
      h('ol', { class: 'timeline' }, claim.history.nodes.map((e) => h('li', { 'data-event': e.workflowEvent || e.type },
        h('div', {}, h('strong', {}, label(e.workflowEvent || e.type)),
          e.toStatus ? [' → ', badge(e.toStatus)] : null),
        h('div', { class: 'muted small' }, `${e.actor.name} (${label(e.actor.kind)}) · ${when(e.createdAt)}`),
        e.reason ? h('div', { class: 'pre' }, e.reason) : null))));
  }

  const commentBox = h('textarea', { id: 'comment-body', rows: 3, placeholder: 'Write to the partner or the reviewer…' });
  const commentProblem = h('div', {});
  const thread = h('ol', { class: 'thread', id: 'thread' });

  function renderComments() {
    const list = claim.comments.nodes;
    mount(thread, list.length === 0 ? h('li', { class: 'muted' }, 'No comments yet.') : null,
      list.map((m) => h('li', { class: `comment kind-${m.kind.toLowerCase()}` },
        h('div', { class: 'muted small' }, h('strong', {}, m.author.name), ` · ${label(m.kind)} · ${when(m.createdAt)}`),
        h('div', { class: 'pre' }, m.body))));
  }

  async function comment(e) {
    e.preventDefault();
    if (!commentBox.value.trim()) return;
    await change(commentProblem, app.api.query(ops.AddComment, { input: { claimId: claim.id, body: commentBox.value } }), {
      done: () => { commentBox.value = ''; },
    });
  }

  // The parts that hold what the reader is typing or choosing are built
  // once; a live update redraws only what the claim says.
  mount(parts.proof, h('h2', {}, 'Proof of execution'), documents, upload);
  mount(parts.comments, h('h2', {}, 'Comments'), thread,
    h('form', { class: 'inline-form', onsubmit: comment },
      commentProblem,
      h('label', { for: 'comment-body' }, 'Add a comment'), commentBox,
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'secondary', id: 'comment-send' }, 'Send'))));
  mount(view, parts.problem, parts.head, h('div', { class: 'columns' },
    h('div', {}, h('section', { class: 'card' }, parts.facts), parts.actions, detail ? parts.proof : null),
    detail ? h('div', {}, parts.history, parts.comments) : null));
  read();

  const stops = [
    app.api.onLive((state) => {
      mount(live, h('span', { class: `dot ${state}` }), state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline');
      // Coming back after a drop: whatever happened meanwhile is read.
      if (state === 'live' && claim) read();
    }),
    app.api.subscribe(ops.ClaimStatusChanged, { claimId: id }, (data) => {
      if (!claim || data.claimStatusChanged.claim.version > claim.version) read();
    }),
    detail ? app.api.subscribe(ops.CommentAdded, { claimId: id }, () => read()) : () => {},
  ];
  return () => {
    left = true;
    stops.forEach((stop) => stop());
  };
}

function contact(c) {
  if (!c || !c.name) return '—';
  return [c.name, c.title ? `, ${c.title}` : '', h('div', { class: 'muted small' }, c.email)];
}
