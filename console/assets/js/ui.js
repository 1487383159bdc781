// Small DOM helpers: elements, labelled fields, tables, messages.

import { t, label } from './i18n.js';

/** h builds an element: h('a', {href: '#/'}, 'text', child …). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let seq = 0;
/** uid gives ids that tie labels to inputs. */
export function uid(prefix = 'f') {
  seq += 1;
  return prefix + '-' + seq;
}

/** field is a labelled control: input, select or textarea. */
export function field(text, control, hint) {
  if (!control.id) control.id = uid();
  return h('div', { class: 'field' }, h('label', { for: control.id }, text), control, hint ? h('small', { class: 'muted' }, hint) : null);
}

export function input(name, attrs = {}) {
  return h('input', { name, type: 'text', ...attrs });
}

/** select of enum values, shown with their labels. */
export function select(name, values, { value, blank, attrs = {} } = {}) {
  const s = h('select', { name, ...attrs });
  if (blank != null) s.append(h('option', { value: '' }, blank));
  for (const v of values) s.append(h('option', { value: v, selected: v === value }, label(v)));
  return s;
}

/** checks is a group of labelled checkboxes in a fieldset. */
export function checks(legend, name, values, checked = []) {
  return h('fieldset', { class: 'checks' }, h('legend', {}, legend),
    values.map((v) => {
      const id = uid(name);
      return h('span', { class: 'check' }, h('input', { type: 'checkbox', id, name, value: v, checked: checked.includes(v) }), h('label', { for: id }, label(v)));
    }));
}

/** checked lists the values ticked in a group. */
export function checkedIn(root, name) {
  return [...root.querySelectorAll(`input[type=checkbox][name="${name}"]`)].filter((c) => c.checked).map((c) => c.value);
}

/** table with a caption, column heads and rows of cells. */
export function table(caption, heads, rows, attrs = {}) {
  return h('table', attrs,
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, heads.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', r.attrs || {}, (r.cells || r).map((c) => h('td', {}, c))))));
}

export function badge(v, kind) {
  return h('span', { class: 'badge ' + (kind || 'b-' + String(v).toLowerCase()) }, label(v));
}

export function link(href, text) {
  return h('a', { href }, text);
}

/** customerLink shows a customer by name (or ID when the name is hidden). */
export function customerLink(c) {
  if (!c) return '';
  return h('a', { href: '#/customer/' + encodeURIComponent(c.id), class: 'customer-link' }, c.name || c.id, c.name ? h('span', { class: 'muted id' }, ' ' + c.id) : null);
}

let toastTimer;
/** toast says something briefly (read out by screen readers). */
export function toast(text, bad = false) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.className = bad ? 'show bad' : 'show';
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = ''; }, 5000);
}

/** errorText says what went wrong in the user's language where we know it. */
export function errorText(e) {
  if (e && (e.code === 'FORBIDDEN' || e.code === 'CONFLICT')) return t('err.' + e.code) + ' (' + e.message + ')';
  return t('err.prefix') + ': ' + (e && e.message || String(e)) + (e && e.code ? ' [' + e.code + ']' : '');
}

/** alert is an inline error block. */
export function alertBox(e) {
  return h('p', { class: 'alert', role: 'alert' }, errorText(e));
}

/** busy disables a form's controls while fn runs. */
export async function busy(form, fn) {
  const ctl = [...form.querySelectorAll('button, input, select, textarea')];
  const was = ctl.map((c) => c.disabled);
  ctl.forEach((c) => { c.disabled = true; });
  try {
    return await fn();
  } finally {
    ctl.forEach((c, i) => { c.disabled = was[i]; });
  }
}

/** localInput turns a datetime-local value into an RFC 3339 instant. */
export function localToISO(v) {
  if (!v) return null;
  const d = new Date(v);
  return isNaN(d) ? null : d.toISOString();
}

/** isoToLocal turns an instant into a datetime-local value in the user's zone. */
export function isoToLocal(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** today is the user's calendar date, YYYY-MM-DD. */
export function today(offsetDays = 0) {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
