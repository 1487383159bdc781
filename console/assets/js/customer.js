// Customer: profile, stage with its reason, loyalty, open complaints,
// follow-ups, a timeline that pages, and the account manager's actions.
// A date field shows the customer as of any past day (customer(asOf:)).

import { gql } from './api.js';
import { t, when, day, money, num, toMinor } from './i18n.js';
import { h, field, input, select, table, badge, link, toast, alertBox, busy, today } from './ui.js';

const CHANNELS = ['PHONE', 'VISIT', 'LETTER', 'EMAIL', 'CHAT', 'WECHAT', 'SMS'];
const PAGE = 10;

const TIMELINE = `timeline(first: $first, after: $after) {
  totalCount pageInfo { endCursor hasNextPage }
  edges { node { eventId type occurredAt summary revision } }
}`;

const QUERY = `query Customer($id: ID!, $asOf: DateTime, $first: Int!, $after: String) {
  customer(id: $id, asOf: $asOf) {
    id name phone email birthday segment tier locale timezone accountManager marketingConsent conductFlagged erased
    registeredAt stage stageSince version purchaseCount lastPurchaseAt lastInboundAt
    stageHistory { from to at reason }
    lifetimeValue { amountMinor currency }
    loyalty { score level pAlive expectedPurchases(horizonDays: 90) csatAverage recoveredComplaints referrals }
    openComplaints { id status severity category filedAt replyDueAt overdue owner }
    followUps { id dueAt reason status outcome owner complaint { id } }
    ${TIMELINE}
  }
}`;

const MORE = `query Timeline($id: ID!, $asOf: DateTime, $first: Int!, $after: String) {
  customer(id: $id, asOf: $asOf) { ${TIMELINE} }
}`;

const LOG_CONTACT = `mutation LogContact($input: LogContactInput!) { logContact(input: $input) { version } }`;
const PURCHASE = `mutation Purchase($input: RecordPurchaseInput!) { recordPurchase(input: $input) { version } }`;
const FILE = `mutation File($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { id } } }`;

/** asOfInstant: the end of the chosen day in the user's timezone, never later than now. */
function asOfInstant(date) {
  if (!date) return null;
  const [y, m, d] = date.split('-').map(Number);
  const end = new Date(y, m - 1, d, 23, 59, 59, 999);
  if (isNaN(end) || end.getTime() >= Date.now()) return null;
  return end.toISOString();
}

export async function customerScreen(ctx, id) {
  const asOfDate = ctx.params.get('asOf') || '';
  const asOf = asOfInstant(asOfDate);
  const d = await gql(QUERY, { id, asOf, first: PAGE, after: null });
  const c = d.customer;
  if (!c) return h('p', { class: 'alert', role: 'alert' }, t('err.notFound') + ' ' + id);
  const past = !!asOf;
  const hidden = h('span', { class: 'muted' }, t('cust.hidden'));
  const pii = (v) => (v == null ? (ctx.viewer.canSeePII ? '' : hidden.cloneNode(true)) : v);

  // As of: a date field; today (or empty) means now.
  const dateIn = h('input', { type: 'date', name: 'asOf', value: asOfDate, max: today(), min: c.registeredAt.slice(0, 10) });
  // …and a slider over the days since registration (arrows step a day).
  const DAY = 86400000;
  const utc = (iso) => { const [y, m, dd] = iso.split('-').map(Number); return Date.UTC(y, m - 1, dd); };
  const first = c.registeredAt.slice(0, 10);
  const span = Math.max(0, Math.round((utc(today()) - utc(first)) / DAY));
  const slider = h('input', { type: 'range', name: 'asOfSlider', id: 'asof-slider', min: 0, max: span, step: 1,
    value: String(asOfDate ? Math.min(span, Math.max(0, Math.round((utc(asOfDate) - utc(first)) / DAY))) : span) });
  const dateAt = (n) => new Date(utc(first) + n * DAY).toISOString().slice(0, 10);
  let slide;
  slider.addEventListener('input', () => {
    dateIn.value = Number(slider.value) >= span ? '' : dateAt(Number(slider.value));
    slider.setAttribute('aria-valuetext', dateIn.value || t('cust.now'));
    clearTimeout(slide);
    slide = setTimeout(() => ctx.go('#/customer/' + encodeURIComponent(id) + (dateIn.value ? '?asOf=' + dateIn.value + '&slide=1' : '?slide=1')), 400);
  });
  slider.setAttribute('aria-valuetext', asOfDate || t('cust.now'));
  const asOfForm = h('form', { class: 'inline', id: 'asof' }, field(t('cust.asOf'), dateIn), field(t('cust.slider'), slider),
    h('button', { type: 'submit' }, t('day.show')),
    past ? h('button', { type: 'button', onclick: () => ctx.go('#/customer/' + encodeURIComponent(id)) }, t('cust.now')) : null);
  asOfForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go('#/customer/' + encodeURIComponent(id) + (dateIn.value ? '?asOf=' + dateIn.value : ''));
  });

  const last = c.stageHistory[c.stageHistory.length - 1];
  const dl = (pairs) => h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === '' || v == null ? '—' : v)]));

  const profile = h('section', { class: 'card', 'aria-labelledby': 'h-profile' },
    h('h2', { id: 'h-profile' }, t('cust.profile')),
    dl([
      [t('cust.phone'), pii(c.phone)],
      [t('cust.email'), pii(c.email)],
      [t('cust.birthday'), c.birthday ? day(c.birthday) : pii(null)],
      [t('col.tier'), badge(c.tier)],
      [t('cust.segment'), c.segment],
      [t('col.am'), c.accountManager],
      [t('cust.timezone'), c.timezone],
      [t('cust.consent'), c.marketingConsent ? '✓' : '✗'],
      [t('cust.registered'), when(c.registeredAt)],
      c.conductFlagged ? [t('cust.flagged'), '⚠'] : null,
      c.erased ? [t('cust.erased'), '✓'] : null,
    ]));

  const stage = h('section', { class: 'card', 'aria-labelledby': 'h-stage' },
    h('h2', { id: 'h-stage' }, t('cust.stage')),
    h('p', { class: 'stage-line' }, badge(c.stage), ' ', h('span', {}, t('cust.since', { d: when(c.stageSince) }))),
    last ? h('p', { id: 'stage-reason' }, t('cust.because', { r: last.reason })) : null,
    h('details', {}, h('summary', {}, t('cust.history')),
      table(null, [t('col.date'), t('col.stage'), t('col.reason')],
        c.stageHistory.slice().reverse().map((s) => [when(s.at), h('span', {}, s.from ? badge(s.from) : '', ' → ', badge(s.to)), s.reason]))));

  const l = c.loyalty;
  const loyalty = h('section', { class: 'card', 'aria-labelledby': 'h-loyalty' },
    h('h2', { id: 'h-loyalty' }, t('cust.loyalty')),
    h('p', {}, h('meter', { min: 0, max: 100, value: l.score, 'aria-label': t('cust.score') }), ' ', h('strong', { id: 'loyalty-score' }, l.score), ' / 100 ', badge(l.level)),
    dl([
      [t('cust.pAlive'), l.pAlive == null ? '' : num(l.pAlive * 100, 0) + ' %'],
      [t('cust.expected'), l.expectedPurchases == null ? '' : num(l.expectedPurchases, 2)],
      [t('cust.purchases'), c.purchaseCount],
      [t('cust.ltv'), c.lifetimeValue.map(money).join(' + ')],
      [t('cust.lastPurchase'), when(c.lastPurchaseAt)],
      [t('col.lastInbound'), when(c.lastInboundAt)],
      [t('cust.csat'), l.csatAverage == null ? '' : num(l.csatAverage, 1) + ' / 5'],
      [t('cust.recovered'), l.recoveredComplaints],
      [t('cust.referrals'), l.referrals],
    ]));

  const open = h('section', { class: 'card wide', 'aria-labelledby': 'h-open' },
    h('h2', { id: 'h-open' }, t('cust.open'), h('span', { class: 'count' }, c.openComplaints.length)),
    c.openComplaints.length ? table(null, [t('col.complaint'), t('col.filed'), t('col.replyDue'), t('col.severity'), t('col.status'), t('col.owner')],
      c.openComplaints.map((k) => [link('#/complaint/' + encodeURIComponent(k.id), k.id), when(k.filedAt),
        h('span', { class: k.overdue ? 'late' : '' }, when(k.replyDueAt)), badge(k.severity), badge(k.status), k.owner]), { id: 'open-complaints' }) : h('p', { class: 'muted' }, '—'));

  // Follow-ups are today's (the API answers them for now, not as of a
  // past day): the past view leaves them out rather than mix times.
  const fus = past ? null : h('section', { class: 'card wide', 'aria-labelledby': 'h-fu' },
    h('h2', { id: 'h-fu' }, t('cust.followups'), h('span', { class: 'count' }, c.followUps.length)),
    c.followUps.length ? table(null, [t('col.due'), t('col.reason'), t('col.status'), t('col.outcome'), t('col.complaint'), t('col.owner')],
      c.followUps.map((f) => ({ attrs: { dataset: { followup: f.id } }, cells: [when(f.dueAt), badge(f.reason), badge(f.status), f.outcome ? badge(f.outcome) : '',
        f.complaint ? link('#/complaint/' + encodeURIComponent(f.complaint.id), f.complaint.id) : '', f.owner] })), { id: 'customer-followups' }) : h('p', { class: 'muted' }, '—'));

  // The timeline pages: "show more" asks for the next page after the cursor.
  const tbody = h('tbody', {});
  const more = h('button', { type: 'button', id: 'timeline-more' }, t('cust.more'));
  const countLine = h('p', { class: 'muted' });
  let page = c.timeline;
  const addPage = (p) => {
    page = p;
    for (const e of p.edges) {
      const n = e.node;
      tbody.append(h('tr', { dataset: { type: n.type } }, h('td', {}, when(n.occurredAt)), h('td', {}, h('code', {}, n.type)), h('td', {}, n.summary)));
    }
    more.hidden = !p.pageInfo.hasNextPage;
    countLine.textContent = tbody.children.length + ' / ' + p.totalCount;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const r = await gql(MORE, { id, asOf, first: PAGE, after: page.pageInfo.endCursor });
      addPage(r.customer.timeline);
    } catch (e) {
      more.after(alertBox(e));
    } finally {
      more.disabled = false;
    }
  });
  addPage(c.timeline);
  const timeline = h('section', { class: 'card wide', 'aria-labelledby': 'h-tl' },
    h('h2', { id: 'h-tl' }, t('cust.timeline')),
    h('table', { id: 'timeline' }, h('thead', {}, h('tr', {}, [t('col.date'), 'Event', t('f.summary')].map((x) => h('th', { scope: 'col' }, x)))), tbody),
    countLine, more);

  const actions = !past && ctx.can.work && !c.erased ? actionsCard(ctx, c) : null;

  if (ctx.params.get('slide') === '1') setTimeout(() => slider.focus(), 0);
  return h('section', { class: 'screen', id: 'customer', dataset: { id: c.id } },
    h('h1', {}, c.name || c.id, ' ', h('span', { class: 'muted id' }, c.id)),
    asOfForm,
    past ? h('p', { class: 'banner', id: 'asof-banner' }, t('cust.asOfBanner', { d: day(asOfDate) })) : null,
    h('div', { class: 'grid' }, stage, loyalty, profile, open, fus, actions, timeline));
}

function actionsCard(ctx, c) {
  const by = ctx.viewer.user;
  const done = (msg) => { toast(msg); ctx.go(location.hash); };

  // Log a contact.
  const ch = select('channel', CHANNELS, { value: 'PHONE' });
  const dir = select('direction', ['INBOUND', 'OUTBOUND'], { value: 'OUTBOUND' });
  const sum = h('textarea', { name: 'summary', rows: 2 });
  const about = h('select', { name: 'complaint' }, h('option', { value: '' }, t('f.none')), c.openComplaints.map((k) => h('option', { value: k.id }, k.id)));
  const contact = form('contact', t('act.contact'), [field(t('f.channel'), ch), field(t('f.direction'), dir), field(t('f.complaint'), about), field(t('f.summary'), sum)],
    () => gql(LOG_CONTACT, { input: { customerId: c.id, agent: by, channel: ch.value, direction: dir.value, summary: sum.value.trim() || null, complaintId: about.value || null, expectedVersion: c.version } }).then(() => done(t('saved'))));

  // Record a purchase (amount typed in major units, sent in minor units).
  const order = input('orderId', { required: true });
  const amount = input('amount', { inputmode: 'decimal', required: true, placeholder: '199.00' });
  const cur = input('currency', { value: 'CNY', size: 4, required: true, pattern: '[A-Z]{3}' });
  const items = input('items');
  const purchase = form('purchase', t('act.purchase'), [field(t('f.order'), order), field(t('f.amount'), amount), field(t('f.currency'), cur), field(t('f.items'), items)],
    () => {
      const minor = toMinor(amount.value, cur.value);
      if (!Number.isFinite(minor)) { amount.setCustomValidity('?'); amount.reportValidity(); amount.setCustomValidity(''); return Promise.resolve(); }
      const list = items.value.split(',').map((s) => s.trim()).filter(Boolean);
      return gql(PURCHASE, { input: { customerId: c.id, orderId: order.value.trim(), amount: { amountMinor: minor, currency: cur.value.trim() }, items: list.length ? list : null, expectedVersion: c.version } }).then(() => done(t('saved')));
    });

  // File a complaint, then open it.
  const kch = select('channel', CHANNELS, { value: 'PHONE' });
  const cat = input('category', { required: true, placeholder: 'delivery' });
  const sev = select('severity', ['GENERAL', 'MAJOR'], { value: 'GENERAL' });
  const desc = h('textarea', { name: 'description', rows: 3, required: true });
  const owner = input('owner', { value: by, required: true });
  const complaint = form('complaint', t('act.complaint'), [field(t('f.channel'), kch), field(t('f.category'), cat), field(t('f.severity'), sev), field(t('f.owner'), owner), field(t('f.description'), desc)],
    () => gql(FILE, { input: { customerId: c.id, channel: kch.value, category: cat.value.trim(), severity: sev.value, description: desc.value.trim(), owner: owner.value.trim(), expectedVersion: c.version } })
      .then((r) => { toast(t('saved')); ctx.go('#/complaint/' + encodeURIComponent(r.fileComplaint.complaint.id)); }));

  return h('section', { class: 'card wide', 'aria-labelledby': 'h-actions', id: 'actions' },
    h('h2', { id: 'h-actions' }, t('cust.actions')), h('div', { class: 'actions' }, contact, purchase, complaint));
}

/** form is one action: a disclosure with its fields and a submit button. */
function form(id, title, fields, submit) {
  const f = h('form', { id: 'form-' + id }, fields, h('button', { type: 'submit' }, t('save')));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    f.querySelectorAll('.alert').forEach((x) => x.remove());
    try {
      await busy(f, submit);
    } catch (e) {
      f.append(alertBox(e));
    }
  });
  return h('details', { class: 'action', id: 'action-' + id }, h('summary', {}, title), f);
}
