// My day: the account manager's next best actions (Query.nextBestActions,
// ranked by the server), then the due follow-ups and overdue complaint
// replies, oldest first; one click to the customer, a follow-up completed
// with its outcome in place.

import { gql } from './api.js';
import { t, when, span } from './i18n.js';
import { h, field, input, select, table, badge, customerLink, link, toast, alertBox, busy } from './ui.js';

const QUERY = `query MyDay($owner: String, $dueBefore: DateTime!) {
  followUps(first: 100, filter: { status: DUE, dueBefore: $dueBefore, owner: $owner }) {
    totalCount
    edges { node { id dueAt reason owner note customer { id name } complaint { id } } }
  }
  complaints(first: 100, filter: { overdue: true, owner: $owner }) {
    totalCount
    edges { node { id filedAt replyDueAt promisedReplyBy severity status owner category customer { id name } } }
  }
}`;

const NEXT = `query Next($owner: String!) {
  nextBestActions(owner: $owner, first: 20) { kind reason dueAt ref customer { id name } }
}`;

const COMPLETE = `mutation Complete($input: CompleteFollowUpInput!) {
  completeFollowUp(input: $input) { followUp { id status outcome } }
}`;

export async function dayScreen(ctx) {
  const { viewer, params } = ctx;
  // An account manager sees their own work; an admin everyone's.
  const owner = params.has('owner') ? params.get('owner') : (viewer.role === 'ACCOUNT_MANAGER' ? viewer.user : '');
  const endOfDay = new Date();
  endOfDay.setHours(23, 59, 59, 999);
  const [d, next] = await Promise.all([
    gql(QUERY, { owner: owner || null, dueBefore: endOfDay.toISOString() }),
    // One ranked list per owner: without an owner (an admin's whole book) there is none.
    owner ? gql(NEXT, { owner }).then((r) => r.nextBestActions) : Promise.resolve(null),
  ]);

  const ownerIn = input('owner', { value: owner, autocomplete: 'off' });
  const pick = h('form', { class: 'inline', role: 'search' }, field(t('day.owner'), ownerIn), h('button', { type: 'submit' }, t('day.show')));
  pick.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go('#/day?owner=' + encodeURIComponent(ownerIn.value.trim()));
  });

  const now = Date.now();
  const fus = d.followUps.edges.map((e) => e.node);
  const fuRows = fus.map((f) => {
    const late = now - Date.parse(f.dueAt);
    const outcome = select('outcome', ['SATISFIED', 'UNSATISFIED', 'NO_ANSWER'], { value: 'SATISFIED' });
    const note = input('note', { placeholder: t('f.note') });
    const form = h('form', { class: 'row-form', dataset: { followup: f.id } },
      field(t('f.outcome'), outcome), field(t('f.note'), note),
      h('button', { type: 'submit' }, t('complete')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await busy(form, () => gql(COMPLETE, { input: { followUpId: f.id, by: viewer.user, outcome: outcome.value, note: note.value.trim() || null } }));
        toast(t('completed'));
        ctx.go(location.hash);
      } catch (e) {
        form.append(alertBox(e));
      }
    });
    return {
      attrs: { dataset: { followup: f.id } },
      cells: [
        h('span', {}, when(f.dueAt), late > 0 ? h('span', { class: 'late' }, ' · ' + t('cmp.overdueBy', { d: span(late) })) : null),
        badge(f.reason),
        customerLink(f.customer),
        f.complaint ? link('#/complaint/' + encodeURIComponent(f.complaint.id), f.complaint.id) : '',
        f.owner,
        ctx.can.work ? form : '',
      ],
    };
  });

  const nextRows = (next || []).map((a) => ({
    attrs: { dataset: { kind: a.kind, customer: a.customer.id } },
    cells: [badge(a.kind), customerLink(a.customer), a.reason, a.dueAt ? when(a.dueAt) : '—'],
  }));
  const nextSection = next === null ? [] : [
    h('h2', {}, t('day.next'), h('span', { class: 'count', id: 'next-count' }, next.length)),
    h('p', { class: 'muted' }, t('day.nextHint')),
    next.length ? table(null, [t('col.kind'), t('col.customer'), t('col.why'), t('col.due')], nextRows, { id: 'next' }) : h('p', { class: 'muted' }, t('day.none')),
  ];

  const cps = d.complaints.edges.map((e) => e.node);
  const cpRows = cps.map((c) => {
    const due = c.promisedReplyBy || c.replyDueAt;
    return {
      attrs: { dataset: { complaint: c.id } },
      cells: [
        link('#/complaint/' + encodeURIComponent(c.id), c.id),
        customerLink(c.customer),
        h('span', {}, when(due), h('span', { class: 'late' }, ' · ' + t('cmp.overdueBy', { d: span(now - Date.parse(due)) }))),
        badge(c.severity),
        badge(c.status),
        c.owner,
      ],
    };
  });

  return h('section', { class: 'screen', id: 'day' },
    h('h1', {}, t('day.title')),
    pick,
    ...nextSection,
    h('h2', {}, t('day.followups'), h('span', { class: 'count', id: 'followups-count' }, d.followUps.totalCount)),
    fus.length ? table(null, [t('col.due'), t('col.reason'), t('col.customer'), t('col.complaint'), t('col.owner'), ''], fuRows, { id: 'followups' }) : h('p', { class: 'muted' }, t('day.none')),
    h('h2', {}, t('day.complaints'), h('span', { class: 'count', id: 'overdue-count' }, d.complaints.totalCount)),
    cps.length ? table(null, [t('col.complaint'), t('col.customer'), t('col.replyDue'), t('col.severity'), t('col.status'), t('col.owner')], cpRows, { id: 'overdue' }) : h('p', { class: 'muted' }, t('day.none')),
  );
}

