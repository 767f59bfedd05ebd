// Building the page from values, never from HTML strings: text goes in as
// text nodes, so nothing a user typed can become markup.

// h makes an element: h('a', {href, class: 'x', onclick}, 'text', child, [more]).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value') {
      el.value = value;
    } else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'required') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// mount replaces what el shows.
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

// when shows an RFC 3339 time in the reader's own zone; '—' for none.
export function when(iso) {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

// day shows a Date scalar (YYYY-MM-DD), which has no zone.
export function day(date) {
  return date ? dateOnly.format(new Date(date + 'T00:00:00Z')) : '—';
}

// label turns an enum value into words: UNDER_REVIEW → Under review.
export function label(value) {
  if (!value) return '—';
  const words = value.toLowerCase().replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// badge shows a claim status in its colour.
export function badge(status) {
  return h('span', { class: `badge status-${status.toLowerCase()}`, 'data-status': status }, label(status));
}

// banner shows a problem, or nothing when there is none.
export function banner(error) {
  if (!error) return null;
  const code = error.code ? h('code', {}, error.code) : null;
  const id = error.requestId ? h('span', { class: 'muted' }, ` (request ${error.requestId})`) : null;
  return h('div', { class: 'banner error', role: 'alert' }, code, code ? ' ' : null, error.message, id);
}

// ruleErrors shows a payload's userErrors, each message with its code;
// named(error) may put the field's name before a message about one.
export function ruleErrors(userErrors, named = () => null) {
  if (!userErrors || userErrors.length === 0) return null;
  return h('div', { class: 'banner error', role: 'alert' },
    h('ul', {}, userErrors.map((e) => h('li', { 'data-code': e.code },
      e.field ? named(e) : null, e.message, ' ', h('code', {}, e.code)))));
}
