// Complaint: the state machine as buttons, the SLA clock, recovery steps,
// options and acceptance, the incident report, and the follow-ups that
// the resolution schedules.

import { gql } from './api.js';
import { t, label, when, span, money, toMinor } from './i18n.js';
import { h, field, input, select, badge, customerLink, toast, alertBox, busy, table, link, localToISO, isoToLocal } from './ui.js';

const QUERY = `query Complaint($id: ID!) {
  complaint(id: $id) {
    id status severity category channel description owner filedAt replyDueAt replyDueProvisional overdue
    acknowledgedAt promisedReplyBy escalatedTo declineReason resolutionOptions acceptedOption outcome resolvedAt
    incidentReportFiled repeatContacts version
    recoverySteps { at by step note }
    compensation { amountMinor currency }
    customer { id name followUps { id dueAt reason status outcome owner complaint { id } } }
  }
}`;

const PAYLOAD = '{ version complaint { id status } }';

// The order the buttons are shown in.
const STEPS = ['acknowledgeComplaint', 'takeRecoveryStep', 'escalateComplaint', 'proposeResolution', 'acceptResolution',
  'fileIncidentReport', 'resolveComplaint', 'declineComplaint', 'transferComplaint', 'reopenComplaint'];

const OPEN = ['OPEN', 'ACKNOWLEDGED', 'ESCALATED', 'RESOLUTION_PROPOSED'];

/**
 * allowedNow reads the complaint's allowed steps off its state: the same
 * rules as the domain's state machine (domain/customer/complaint.go, can).
 * The server stays the judge: a refusal (FAILED_PRECONDITION) carries
 * extensions.allowed, the mutation names it accepts instead, and those
 * replace this guess on screen.
 */
export function allowedNow(c) {
  const s = c.status;
  const open = OPEN.includes(s);
  const major = c.severity === 'MAJOR';
  const escalated = !!c.escalatedTo;
  const out = [];
  if (s === 'OPEN') out.push('acknowledgeComplaint');
  if (s === 'ACKNOWLEDGED' || s === 'ESCALATED') out.push('escalateComplaint');
  if (s === 'OPEN' || s === 'ACKNOWLEDGED' || s === 'ESCALATED') out.push('declineComplaint');
  if (open && s !== 'OPEN' && (!major || escalated)) out.push('proposeResolution');
  if (s === 'RESOLUTION_PROPOSED' && !c.acceptedOption) out.push('acceptResolution');
  if (open && s !== 'OPEN' && (!major || (escalated && c.incidentReportFiled))) out.push('resolveComplaint');
  if (open) out.push('takeRecoveryStep', 'transferComplaint');
  if (open && escalated) out.push('fileIncidentReport');
  if (!open) out.push('reopenComplaint');
  return out;
}

export async function complaintScreen(ctx, id) {
  const d = await gql(QUERY, { id });
  const c = d.complaint;
  if (!c) return h('p', { class: 'alert', role: 'alert' }, t('err.notFound') + ' ' + id);
  const open = OPEN.includes(c.status);

  // The SLA clock: reply due (or the promised time), overdue, provisional.
  const due = c.promisedReplyBy || c.replyDueAt;
  const left = Date.parse(due) - Date.now();
  let clock;
  if (c.acknowledgedAt && !c.promisedReplyBy) {
    const onTime = Date.parse(c.acknowledgedAt) <= Date.parse(c.replyDueAt);
    clock = h('p', { class: onTime ? 'ok' : 'late' }, t('cmp.acked', { d: when(c.acknowledgedAt) }), ' · ', onTime ? t('cmp.onTime') : t('cmp.late'));
  } else if (!open) {
    clock = h('p', {}, t('cmp.resolvedAt') + ': ' + when(c.resolvedAt));
  } else if (c.overdue || left < 0) {
    clock = h('p', { class: 'late', id: 'overdue' }, t('cmp.overdueBy', { d: span(left) }));
  } else {
    clock = h('p', { class: 'ok' }, t('cmp.dueIn', { d: span(left) }));
  }
  const sla = h('section', { class: 'card', 'aria-labelledby': 'h-sla', id: 'sla' },
    h('h2', { id: 'h-sla' }, t('cmp.sla')),
    h('p', {}, t('col.replyDue') + ': ', h('strong', {}, when(c.replyDueAt))),
    c.promisedReplyBy ? h('p', {}, t('cmp.promised', { d: when(c.promisedReplyBy) })) : null,
    clock,
    c.replyDueProvisional ? h('p', { class: 'warn', id: 'provisional' }, '⚠ ' + t('cmp.provisional')) : null);

  const facts = h('section', { class: 'card', 'aria-labelledby': 'h-facts' },
    h('h2', { id: 'h-facts' }, c.category),
    h('p', {}, badge(c.status), ' ', badge(c.severity), ' ', label(c.channel)),
    h('p', { class: 'quote' }, c.description ?? h('span', { class: 'muted' }, t('cust.hidden'))),
    h('dl', { class: 'facts' },
      h('dt', {}, t('col.customer')), h('dd', {}, customerLink(c.customer)),
      h('dt', {}, t('col.owner')), h('dd', {}, c.owner),
      h('dt', {}, t('col.filed')), h('dd', {}, when(c.filedAt)),
      h('dt', {}, t('cmp.repeat')), h('dd', {}, c.repeatContacts),
      c.escalatedTo ? [h('dt', {}, t('cmp.escalatedTo')), h('dd', {}, c.escalatedTo)] : null,
      c.declineReason ? [h('dt', {}, t('cmp.declined')), h('dd', {}, c.declineReason)] : null,
      c.outcome ? [h('dt', {}, t('cmp.outcome')), h('dd', { id: 'outcome' }, badge(c.outcome))] : null,
      c.compensation.length ? [h('dt', {}, t('cmp.compensation')), h('dd', {}, c.compensation.map(money).join(' + '))] : null,
      c.severity === 'MAJOR' ? [h('dt', {}, t('cmp.incident')), h('dd', {}, c.incidentReportFiled ? t('cmp.filed') : t('cmp.missing'))] : null));

  const steps = h('section', { class: 'card', 'aria-labelledby': 'h-steps' },
    h('h2', { id: 'h-steps' }, t('cmp.steps')),
    c.recoverySteps.length ? h('ol', { id: 'recovery-steps' }, c.recoverySteps.map((s) => h('li', {}, badge(s.step), ' ', when(s.at), ' · ', s.by, s.note ? ' — ' + s.note : ''))) : h('p', { class: 'muted' }, t('cmp.noSteps')),
    c.resolutionOptions.length ? [h('h3', {}, t('cmp.options')), h('ol', { id: 'options' }, c.resolutionOptions.map((o) => h('li', {}, o, o === c.acceptedOption ? h('strong', {}, ' ✓ ' + t('cmp.accepted')) : '')))] : null);

  const workflow = ctx.can.work ? workflowCard(ctx, c) : null;

  // Once resolved, the follow-up scheduler books the follow-ups (回访):
  // wait for them a little while, so the user sees them appear.
  const mine = c.customer.followUps.filter((f) => f.complaint && f.complaint.id === c.id);
  const fuBox = h('section', { class: 'card wide', 'aria-labelledby': 'h-cfu', id: 'complaint-followups' },
    h('h2', { id: 'h-cfu' }, t('cmp.followups'), h('span', { class: 'count' }, mine.length)),
    fuTable(mine));
  if (c.status === 'RESOLVED' && mine.length === 0) {
    fuBox.append(h('p', { class: 'muted', id: 'fu-waiting' }, t('cmp.waiting')));
    watchFollowUps(ctx, c, fuBox);
  }

  return h('section', { class: 'screen', id: 'complaint', dataset: { id: c.id, status: c.status } },
    h('h1', {}, t('cmp.title'), ' ', c.id),
    h('div', { class: 'grid' }, facts, sla, workflow, steps, fuBox));
}

function fuTable(list) {
  if (!list.length) return h('p', { class: 'muted' }, '—');
  return table(null, [t('col.due'), t('col.reason'), t('col.status'), t('col.outcome'), t('col.owner')],
    list.map((f) => ({ attrs: { dataset: { followup: f.id } }, cells: [when(f.dueAt), badge(f.reason), badge(f.status), f.outcome ? badge(f.outcome) : '', f.owner] })));
}

async function watchFollowUps(ctx, c, box) {
  for (let i = 0; i < 20 && ctx.alive(); i++) {
    await new Promise((r) => setTimeout(r, 500));
    let d;
    try {
      d = await gql(QUERY, { id: c.id });
    } catch {
      continue;
    }
    const mine = d.complaint.customer.followUps.filter((f) => f.complaint && f.complaint.id === c.id);
    if (mine.length) {
      box.replaceChildren(h('h2', { id: 'h-cfu' }, t('cmp.followups'), h('span', { class: 'count' }, mine.length)), fuTable(mine));
      return;
    }
  }
}

const SUGGEST = `query Suggest($id: ID!) { suggestedResolutions(complaintId: $id) { option satisfied unsatisfied } }`;

function workflowCard(ctx, c) {
  const by = ctx.viewer.user;
  const panel = h('div', { class: 'step-form', id: 'step-form' });
  const buttons = new Map();
  const status = h('p', { class: 'muted', id: 'allowed' });

  const setAllowed = (names) => {
    for (const [name, b] of buttons) b.disabled = !names.includes(name);
    status.textContent = names.map((n) => t('do.' + n)).join(' · ');
  };

  const run = async (form, mutation, inputType, values) => {
    const q = `mutation Step($input: ${inputType}!) { ${mutation}(input: $input) ${PAYLOAD} }`;
    form.querySelectorAll('.alert').forEach((x) => x.remove());
    try {
      await busy(form, () => gql(q, { input: { complaintId: c.id, expectedVersion: c.version, ...values } }));
      toast(t('saved'));
      ctx.go(location.hash);
    } catch (e) {
      form.append(alertBox(e));
      if (e.allowed) setAllowed(e.allowed);
      if (e.code === 'CONFLICT') setTimeout(() => ctx.go(location.hash), 1500);
    }
  };

  // Each step: the fields it needs, and how to read them.
  const forms = {
    acknowledgeComplaint: () => { const n = input('note'); return [[field(t('f.note'), n)], 'ComplaintActionInput', () => ({ by, note: n.value.trim() || null })]; },
    reopenComplaint: () => { const n = input('note'); return [[field(t('f.note'), n)], 'ComplaintActionInput', () => ({ by, note: n.value.trim() || null })]; },
    escalateComplaint: () => {
      const to = input('to', { required: true });
      const reason = input('reason', { required: true });
      const when = h('input', { type: 'datetime-local', name: 'promisedReplyBy', required: true, value: isoToLocal(new Date(Date.now() + 24 * 3600e3)) });
      return [[field(t('f.to'), to), field(t('f.reason'), reason), field(t('f.promised'), when)], 'EscalateComplaintInput',
        () => ({ by, to: to.value.trim(), reason: reason.value.trim(), promisedReplyBy: localToISO(when.value) })];
    },
    declineComplaint: () => { const r = input('reason', { required: true }); return [[field(t('f.reason'), r)], 'DeclineComplaintInput', () => ({ by, reason: r.value.trim() })]; },
    transferComplaint: () => {
      const to = input('to', { required: true });
      const r = input('reason', { required: true });
      return [[field(t('f.to'), to), field(t('f.reason'), r)], 'TransferComplaintInput', () => ({ by, to: to.value.trim(), reason: r.value.trim() })];
    },
    proposeResolution: () => {
      const o = h('textarea', { name: 'options', rows: 3, required: true });
      // Pre-filled from what worked before on this category
      // (suggestedResolutions, best first), while the field is untouched.
      const hint = h('p', { class: 'muted', id: 'suggested' });
      gql(SUGGEST, { id: c.id }).then((d) => {
        const s = d.suggestedResolutions;
        if (!s.length) return;
        if (!o.value.trim()) o.value = s.map((x) => x.option).join('\n');
        hint.textContent = t('cmp.suggested') + ' ' + s.map((x) => `${x.option} (${x.satisfied}/${x.satisfied + x.unsatisfied})`).join(' · ');
      }).catch(() => {});
      return [[field(t('f.options'), o), hint], 'ProposeResolutionInput', () => ({ by, options: o.value.split('\n').map((s) => s.trim()).filter(Boolean) })];
    },
    acceptResolution: () => {
      const s = h('select', { name: 'option' }, c.resolutionOptions.map((o, i) => h('option', { value: String(i) }, o)));
      return [[field(t('f.option'), s)], 'AcceptResolutionInput', () => ({ optionIndex: Number(s.value) })];
    },
    takeRecoveryStep: () => {
      const s = select('step', ['APOLOGY', 'URGENT_RESTORATION', 'EMPATHY', 'SYMBOLIC_ATONEMENT', 'FOLLOW_UP'], { value: 'APOLOGY' });
      const n = input('note');
      const amt = input('compensation', { inputmode: 'decimal', placeholder: '50.00' });
      const cur = input('currency', { value: 'CNY', size: 4 });
      return [[field(t('f.step'), s), field(t('f.note'), n), field(t('f.compensation'), amt), field(t('f.currency'), cur)], 'TakeRecoveryStepInput', () => {
        const v = { by, step: s.value, note: n.value.trim() || null };
        if (amt.value.trim()) v.compensation = { amountMinor: toMinor(amt.value, cur.value.trim()), currency: cur.value.trim() };
        return v;
      }];
    },
    fileIncidentReport: () => {
      const f = ['impact', 'handling', 'cause', 'correctiveActions'].map((n) => h('textarea', { name: n, rows: 2, required: true }));
      const names = ['f.impact', 'f.handling', 'f.cause', 'f.corrective'];
      return [f.map((x, i) => field(t(names[i]), x)), 'IncidentReportInput',
        () => ({ by, impact: f[0].value.trim(), handling: f[1].value.trim(), cause: f[2].value.trim(), correctiveActions: f[3].value.trim() })];
    },
    resolveComplaint: () => {
      const o = select('outcome', ['SATISFIED', 'UNSATISFIED'], { value: 'SATISFIED' });
      const n = input('note');
      return [[field(t('f.outcome'), o), field(t('f.note'), n)], 'ResolveComplaintInput', () => ({ by, outcome: o.value, note: n.value.trim() || null })];
    },
  };

  const open = (name) => {
    const [fields, type, read] = forms[name]();
    const f = h('form', { id: 'do-' + name, 'aria-label': t('do.' + name) }, h('h3', {}, t('do.' + name)), fields,
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('confirm')),
        h('button', { type: 'button', onclick: () => { panel.replaceChildren(); buttons.get(name).focus(); } }, t('cancel'))));
    f.addEventListener('submit', (ev) => { ev.preventDefault(); run(f, name, type, read()); });
    panel.replaceChildren(f);
    const first = f.querySelector('input, select, textarea, button[type=submit]');
    if (first) first.focus();
  };

  for (const name of STEPS) {
    const b = h('button', { type: 'button', id: 'btn-' + name, onclick: () => open(name) }, t('do.' + name));
    buttons.set(name, b);
  }
  setAllowed(allowedNow(c));
  return h('section', { class: 'card wide', 'aria-labelledby': 'h-wf', id: 'workflow' },
    h('h2', { id: 'h-wf' }, t('cmp.workflow')),
    h('div', { class: 'buttons', role: 'group', 'aria-label': t('cmp.workflow') }, [...buttons.values()]),
    status, panel, h('p', {}, link('#/customer/' + encodeURIComponent(c.customer.id), '← ' + (c.customer.name || c.customer.id))));
}
