// The console: a hash router over five screens, each reading and writing
// through the public GraphQL API only (api.js).

import { gql, setToken, token, ApiError } from './api.js';
import { t, label, lang, pickLang } from './i18n.js';
import { h, field, alertBox } from './ui.js';
import { dayScreen } from './day.js';
import { customerScreen } from './customer.js';
import { complaintScreen } from './complaint.js';
import { bookScreen } from './book.js';
import { campaignsScreen, campaignScreen } from './campaigns.js';

// What each role may do: the role matrix of the API's documentation
// (graphql/doc.go). The console hides what a role may not do; the server
// refuses it anyway (FORBIDDEN).
const matrix = {
  ADMIN: { work: true, campaigns: true, search: true },
  ACCOUNT_MANAGER: { work: true, campaigns: false, search: true },
  MARKETING: { work: false, campaigns: true, search: true },
  ANALYST: { work: false, campaigns: false, search: false },
};

const session = { viewer: null, can: matrix.ANALYST };

const main = () => document.getElementById('main');

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(qs) };
}

/** go navigates to a screen. */
export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function defaultScreen() {
  if (session.can.work) return '#/day';
  if (session.can.campaigns) return '#/campaigns';
  return '#/book';
}

function nav() {
  const { parts } = parseHash();
  const here = parts[0] || '';
  const items = [];
  if (session.can.work) items.push(['day', t('nav.day')]);
  items.push(['book', t('nav.book')]);
  items.push(['campaigns', t('nav.campaigns')]);
  const el = document.getElementById('nav');
  el.replaceChildren(...items.map(([k, text]) => h('a', { href: '#/' + k, 'aria-current': here === k || (k === 'campaigns' && here === 'campaign') ? 'page' : null }, text)));
  const who = document.getElementById('who');
  who.textContent = session.viewer ? session.viewer.user + ' · ' + label(session.viewer.role) + (session.can.work || session.can.campaigns ? '' : ' · ' + t('role.readOnly')) : '';
  const out = document.getElementById('signout');
  out.hidden = !token();
  out.textContent = t('signout');
  document.getElementById('skip').textContent = t('skip');
  document.querySelector('label[for=lang]').textContent = t('language');
}

let rendering = 0;
async function render() {
  const mine = ++rendering;
  document.documentElement.lang = lang();
  const root = main();
  if (!session.viewer) {
    if (!(await signIn())) return;
  }
  nav();
  const { parts, params } = parseHash();
  if (parts.length === 0) {
    location.replace(defaultScreen());
    return;
  }
  root.setAttribute('aria-busy', 'true');
  let node;
  try {
    const ctx = { ...session, params, go, alive: () => mine === rendering };
    switch (parts[0]) {
      case 'day': node = await dayScreen(ctx); break;
      case 'customer': node = await customerScreen(ctx, parts[1]); break;
      case 'complaint': node = await complaintScreen(ctx, parts[1]); break;
      case 'book': node = await bookScreen(ctx); break;
      case 'campaigns': node = await campaignsScreen(ctx); break;
      case 'campaign': node = await campaignScreen(ctx, parts[1]); break;
      default: node = h('p', {}, t('err.notFound'));
    }
  } catch (e) {
    if (e instanceof ApiError && e.code === 'UNAUTHENTICATED') {
      session.viewer = null;
      setToken('');
      render();
      return;
    }
    node = alertBox(e);
  }
  if (mine !== rendering) return; // a newer navigation won
  root.replaceChildren(node);
  root.removeAttribute('aria-busy');
  const heading = root.querySelector('h1');
  document.title = (heading ? heading.textContent + ' · ' : '') + 'kefu';
}

/** signIn asks who we are; with authentication on and no token, it asks for one. */
async function signIn() {
  try {
    const d = await gql('query Viewer { viewer { user role canSeePII } }');
    session.viewer = d.viewer;
    session.can = matrix[d.viewer.role] || matrix.ANALYST;
    return true;
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'UNAUTHENTICATED') {
      main().replaceChildren(alertBox(e));
      return false;
    }
    const hadToken = !!token();
    setToken('');
    const tok = h('input', { name: 'token', type: 'password', autocomplete: 'off', required: true });
    const form = h('form', { class: 'card narrow', id: 'login' },
      h('h1', {}, t('login.title')),
      h('p', {}, t('login.help')),
      hadToken ? h('p', { class: 'alert', role: 'alert' }, t('login.bad')) : null,
      field(t('login.token'), tok),
      h('button', { type: 'submit' }, t('login.go')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      setToken(tok.value.trim());
      render();
    });
    document.getElementById('nav').replaceChildren();
    main().replaceChildren(form);
    tok.focus();
    return false;
  }
}

function boot() {
  const sel = document.getElementById('lang');
  sel.value = lang();
  sel.addEventListener('change', () => {
    pickLang(sel.value);
    render();
  });
  document.getElementById('signout').addEventListener('click', () => {
    setToken('');
    session.viewer = null;
    location.hash = '#/';
    render();
  });
  window.addEventListener('hashchange', render);
  render();
}

boot();
