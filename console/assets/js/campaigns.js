// Campaigns (marketing): upcoming CN holidays, a form that builds a
// greeting campaign with a live preview of who would be greeted or
// skipped and why, scheduling, progress (polled while it runs), cancel.

import { gql } from './api.js';
import { t, label, when, day, num } from './i18n.js';
import { h, field, input, select, checks, checkedIn, table, badge, link, toast, alertBox, busy, today, uid } from './ui.js';
import { STAGES, TIERS } from './book.js';

const CHANNELS = ['SMS', 'WECHAT', 'EMAIL', 'PHONE', 'LETTER', 'CHAT', 'VISIT'];
const CARE = ['GRUMBLING', 'COMPLAINING', 'SILENT'];

const LIST = `query Campaigns($from: Date!, $to: Date!) {
  holidays(calendar: "CN", from: $from, to: $to) { key name localName date }
  campaigns(first: 20) { totalCount edges { node { id name occasion date status audienceSize sent failed skipped } } }
}`;

const PREVIEW = `query Preview($input: ScheduleGreetingCampaignInput!) {
  previewGreetingCampaign(input: $input) {
    evaluated audienceSize greeted skipped excluded
    skippedByReason { reason count } excludedByReason { reason count } byChannel { reason count }
  }
}`;

const SCHEDULE = `mutation Schedule($input: ScheduleGreetingCampaignInput!) {
  scheduleGreetingCampaign(input: $input) { campaign { id } }
}`;

const ONE = `query Campaign($id: ID!) {
  campaign(id: $id) {
    id name occasion date sendAtLocal status createdBy audienceSize sent failed skipped excluded
    skippedByReason { reason count } excludedByReason { reason count }
    audience { stages tiers accountManager excludeConductFlagged }
  }
}`;

const CANCEL = `mutation Cancel($input: CancelCampaignInput!) { cancelGreetingCampaign(input: $input) { campaign { id status } } }`;

const holidayName = (hd) => (document.documentElement.lang === 'zh-CN' ? hd.localName || hd.name : hd.name + (hd.localName ? ' ' + hd.localName : ''));

export async function campaignsScreen(ctx) {
  const d = await gql(LIST, { from: today(), to: today(365) });
  const holidays = d.holidays;
  const builder = ctx.can.campaigns ? builderCard(ctx, holidays) : null;

  const cal = h('section', { class: 'card', 'aria-labelledby': 'h-hol', id: 'holidays' },
    h('h2', { id: 'h-hol' }, t('camp.holidays')),
    table(null, [t('col.date'), t('col.occasion'), ''], holidays.map((hd) => ({
      attrs: { dataset: { key: hd.key } },
      cells: [day(hd.date), holidayName(hd), builder ? h('button', { type: 'button', class: 'small', onclick: () => builder.use(hd) }, t('camp.use')) : ''],
    }))));

  const rows = d.campaigns.edges.map(({ node: c }) => ({
    attrs: { dataset: { campaign: c.id } },
    cells: [link('#/campaign/' + encodeURIComponent(c.id), c.name), c.occasion, c.date ? day(c.date) : '', badge(c.status), progressBar(c)],
  }));
  const list = h('section', { class: 'card wide', 'aria-labelledby': 'h-cl' },
    h('h2', { id: 'h-cl' }, t('camp.list'), h('span', { class: 'count' }, d.campaigns.totalCount)),
    rows.length ? table(null, [t('camp.name'), t('col.occasion'), t('col.date'), t('col.status'), t('col.progress')], rows, { id: 'campaign-list' }) : h('p', { class: 'muted' }, t('camp.none')));

  return h('section', { class: 'screen', id: 'campaigns' },
    h('h1', {}, t('camp.title')),
    h('div', { class: 'grid' }, cal, builder ? builder.node : null, list));
}

function progressBar(c) {
  const done = c.sent + c.failed + c.skipped;
  const of = Math.max(c.audienceSize, done);
  return h('span', { class: 'progress' }, h('progress', { max: of || 1, value: done, 'aria-label': t('col.progress') }), ' ', num(done) + ' / ' + num(of));
}

function counts(list, none = '—') {
  if (!list.length) return none;
  return h('ul', { class: 'reasons' }, list.map((r) => h('li', { dataset: { reason: r.reason } }, label(r.reason), ': ', h('strong', {}, num(r.count)))));
}

/** builderCard is the campaign form; use(holiday) fills in an occasion. */
function builderCard(ctx, holidays) {
  const name = input('name', { required: true });
  const occ = h('select', { name: 'occasion' },
    holidays.map((hd) => h('option', { value: hd.key, dataset: { date: hd.date } }, holidayName(hd) + ' · ' + day(hd.date))),
    h('option', { value: 'BIRTHDAY' }, t('camp.birthday')),
    h('option', { value: 'ANNIVERSARY' }, t('camp.anniversary')),
    h('option', { value: '' }, t('camp.custom')));
  const custom = input('custom');
  const date = h('input', { type: 'date', name: 'date', min: today() });
  const sendAt = h('input', { type: 'time', name: 'sendAtLocal', value: '09:00', required: true });
  const stages = checks(t('camp.stages'), 'stages', STAGES, STAGES.filter((s) => s !== 'LOST'));
  const tiers = checks(t('camp.tiers'), 'tiers', TIERS, []);
  const am = input('accountManager');
  const flaggedId = uid('flag');
  const flagged = h('input', { type: 'checkbox', id: flaggedId, name: 'excludeConductFlagged', checked: true });
  const templates = h('div', { class: 'templates' });
  const customField = field(t('camp.custom'), custom);
  const dateField = field(t('camp.date'), date);

  const addTemplate = (body, forStages, channel) => {
    const n = templates.children.length + 1;
    const ch = select('channel', CHANNELS, { value: channel });
    const text = h('textarea', { name: 'body', rows: 2, required: true }, body);
    const row = h('fieldset', { class: 'template' }, h('legend', {}, t('camp.template', { n })),
      field(t('f.channel'), ch), field(t('camp.body'), text), checks(t('camp.forStages'), 'tstages-' + n, STAGES, forStages),
      h('button', { type: 'button', class: 'small', onclick: () => { row.remove(); changed(); } }, t('camp.remove')));
    row.read = () => ({ channel: ch.value, body: text.value, stages: checkedIn(row, 'tstages-' + n) });
    templates.append(row);
  };
  addTemplate(t('camp.careDefault'), CARE, 'SMS');
  addTemplate(t('camp.salesDefault'), [], 'SMS');

  const syncOccasion = () => {
    const o = occ.selectedOptions[0];
    const isCustom = occ.value === '';
    const recurring = occ.value === 'BIRTHDAY' || occ.value === 'ANNIVERSARY';
    customField.hidden = !isCustom;
    dateField.hidden = recurring;
    if (o && o.dataset.date) date.value = o.dataset.date;
    if (!name.value || name.dataset.auto === '1') {
      name.value = (isCustom ? custom.value : o.textContent.split(' · ')[0]) + ' ' + (date.value || today()).slice(0, 4);
      name.dataset.auto = '1';
    }
  };
  name.addEventListener('input', () => { name.dataset.auto = '0'; });
  occ.addEventListener('change', syncOccasion);
  custom.addEventListener('input', syncOccasion);
  date.addEventListener('input', syncOccasion);

  const read = () => {
    const isCustom = occ.value === '';
    const recurring = occ.value === 'BIRTHDAY' || occ.value === 'ANNIVERSARY';
    const audience = { stages: checkedIn(stages, 'stages'), excludeConductFlagged: flagged.checked };
    const ts = checkedIn(tiers, 'tiers');
    if (ts.length) audience.tiers = ts;
    if (am.value.trim()) audience.accountManager = am.value.trim();
    return {
      name: name.value.trim() || 'campaign',
      occasion: isCustom ? custom.value.trim() : occ.value,
      date: recurring ? null : date.value || null,
      sendAtLocal: sendAt.value,
      audience,
      templates: [...templates.children].map((r) => r.read()),
    };
  };

  // The live preview: asked again (debounced) whenever the form changes.
  const preview = h('div', { class: 'preview', id: 'preview', 'aria-live': 'polite' });
  let timer, asked = 0;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++asked;
      try {
        const r = (await gql(PREVIEW, { input: read() })).previewGreetingCampaign;
        if (mine !== asked) return;
        preview.replaceChildren(
          h('h3', {}, t('camp.preview')), h('p', { class: 'muted' }, t('camp.previewHelp')),
          h('dl', { class: 'facts' },
            h('dt', {}, t('camp.evaluated')), h('dd', { id: 'pv-evaluated' }, num(r.evaluated)),
            h('dt', {}, t('camp.audience')), h('dd', { id: 'pv-audience' }, num(r.audienceSize)),
            h('dt', {}, t('camp.greeted')), h('dd', { id: 'pv-greeted' }, h('strong', {}, num(r.greeted))),
            h('dt', {}, t('camp.skipped')), h('dd', { id: 'pv-skipped' }, num(r.skipped), counts(r.skippedByReason, null)),
            h('dt', {}, t('camp.excluded')), h('dd', { id: 'pv-excluded' }, num(r.excluded), counts(r.excludedByReason, null)),
            h('dt', {}, t('camp.byChannel')), h('dd', {}, counts(r.byChannel))));
      } catch (e) {
        if (mine === asked) preview.replaceChildren(alertBox(e));
      }
    }, 300);
  };

  const form = h('form', { id: 'campaign-form' },
    field(t('camp.name'), name),
    field(t('camp.occasion'), occ), customField, dateField,
    field(t('camp.sendAt'), sendAt),
    stages, tiers, field(t('camp.am'), am),
    h('div', { class: 'field check' }, flagged, h('label', { for: flaggedId }, t('camp.excludeFlagged'))),
    h('h3', {}, t('camp.templates')), templates,
    h('button', { type: 'button', class: 'small', onclick: () => { addTemplate('', [], 'SMS'); changed(); } }, t('camp.addTemplate')),
    preview,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'schedule' }, t('camp.schedule'))));
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    form.querySelectorAll(':scope > .alert').forEach((x) => x.remove());
    try {
      const r = await busy(form, () => gql(SCHEDULE, { input: read() }));
      toast(t('saved'));
      ctx.go('#/campaign/' + encodeURIComponent(r.scheduleGreetingCampaign.campaign.id));
    } catch (e) {
      form.append(alertBox(e));
    }
  });
  syncOccasion();
  changed();

  const node = h('section', { class: 'card wide', 'aria-labelledby': 'h-new', id: 'builder' }, h('h2', { id: 'h-new' }, t('camp.new')), form);
  return {
    node,
    use(hd) {
      occ.value = hd.key;
      name.dataset.auto = '1';
      syncOccasion();
      changed();
      name.focus();
    },
  };
}

export async function campaignScreen(ctx, id) {
  const d = await gql(ONE, { id });
  const c = d.campaign;
  if (!c) return h('p', { class: 'alert', role: 'alert' }, t('err.notFound') + ' ' + id);
  const body = h('div', { class: 'grid' });
  const draw = (c) => {
    const live = c.status === 'SCHEDULED' || c.status === 'RUNNING';
    const cancel = live && ctx.can.campaigns ? cancelForm(ctx, c) : null;
    body.replaceChildren(
      h('section', { class: 'card', 'aria-labelledby': 'h-c1' },
        h('h2', { id: 'h-c1' }, c.occasion),
        h('p', { id: 'campaign-status', dataset: { status: c.status } }, badge(c.status)),
        h('dl', { class: 'facts' },
          h('dt', {}, t('camp.date')), h('dd', {}, c.date ? day(c.date) : '—'),
          h('dt', {}, t('camp.sendAt')), h('dd', {}, c.sendAtLocal),
          h('dt', {}, t('camp.stages')), h('dd', {}, c.audience.stages.map(label).join(', ')),
          h('dt', {}, t('camp.tiers')), h('dd', {}, c.audience.tiers.map(label).join(', ') || t('book.any')),
          c.audience.accountManager ? [h('dt', {}, t('camp.am')), h('dd', {}, c.audience.accountManager)] : null,
          h('dt', {}, t('camp.createdBy')), h('dd', {}, c.createdBy))),
      h('section', { class: 'card', 'aria-labelledby': 'h-c2', 'aria-live': 'polite' },
        h('h2', { id: 'h-c2' }, t('col.progress')),
        progressBar(c),
        h('dl', { class: 'facts' },
          h('dt', {}, t('camp.audience')), h('dd', { id: 'c-audience' }, num(c.audienceSize)),
          h('dt', {}, t('camp.sent')), h('dd', { id: 'c-sent' }, num(c.sent)),
          h('dt', {}, t('camp.failed')), h('dd', {}, num(c.failed)),
          h('dt', {}, t('camp.skipped')), h('dd', {}, num(c.skipped), counts(c.skippedByReason, null)),
          h('dt', {}, t('camp.excluded')), h('dd', {}, num(c.excluded), counts(c.excludedByReason, null)))),
      cancel);
  };
  draw(c);
  // Progress: polled while the campaign waits or sends.
  (async () => {
    let last = c;
    while (ctx.alive() && (last.status === 'SCHEDULED' || last.status === 'RUNNING')) {
      await new Promise((r) => setTimeout(r, 3000));
      if (!ctx.alive()) return;
      try {
        const n = (await gql(ONE, { id })).campaign;
        if (JSON.stringify(n) !== JSON.stringify(last) && !document.activeElement.closest('#cancel-form')) draw(n);
        last = n;
      } catch { /* keep the last picture */ }
    }
  })();
  return h('section', { class: 'screen', id: 'campaign', dataset: { id: c.id } },
    h('h1', {}, c.name), h('p', {}, link('#/campaigns', '← ' + t('camp.title'))), body);
}

function cancelForm(ctx, c) {
  const reason = input('reason', { required: true });
  const f = h('form', { class: 'card', id: 'cancel-form' }, h('h2', {}, t('camp.cancel')), field(t('camp.cancelReason'), reason),
    h('button', { type: 'submit', class: 'danger' }, t('camp.cancel')));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await busy(f, () => gql(CANCEL, { input: { campaignId: c.id, reason: reason.value.trim() } }));
      toast(t('saved'));
      ctx.go(location.hash);
    } catch (e) {
      f.append(alertBox(e));
    }
  });
  return f;
}
