// Book: customers by stage, tier, account manager and search, with counts
// per stage, paged with cursors.

import { gql } from './api.js';
import { t, when, num } from './i18n.js';
import { h, field, input, select, table, badge, customerLink } from './ui.js';
import { lifecycleCharts } from './charts.js';

export const STAGES = ['NEW', 'ACTIVE', 'LOYAL', 'GRUMBLING', 'COMPLAINING', 'SILENT', 'DORMANT', 'LOST'];
export const TIERS = ['VIP', 'GOLD', 'STANDARD'];
const PAGE = 25;

function query() {
  const counts = STAGES.map((s) => `${s}: customers(first: 0, filter: $f${s}) { totalCount }`).join('\n  ');
  const vars = STAGES.map((s) => `$f${s}: CustomerFilter`).join(', ');
  return `query Book($filter: CustomerFilter, $first: Int!, $after: String, ${vars}) {
  customers(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { endCursor hasNextPage }
    edges { node { id name stage tier accountManager lastInboundAt loyalty { score level } } }
  }
  ${counts}
}`;
}

export async function bookScreen(ctx) {
  const p = ctx.params;
  const stage = p.get('stage') || '';
  const tier = p.get('tier') || '';
  const owner = p.get('owner') || '';
  const q = p.get('q') || '';
  const openOnly = p.get('open') === '1';
  const after = p.get('after') || null;
  const pageNo = Number(p.get('page') || '1');
  const trail = (p.get('trail') || '').split(',').filter(Boolean); // cursors of the pages before

  const base = {};
  if (tier) base.tiers = [tier];
  if (owner) base.accountManager = owner;
  if (q && ctx.can.search) base.search = q;
  if (openOnly) base.hasOpenComplaint = true;
  const vars = { filter: { ...base, ...(stage ? { stages: [stage] } : {}) }, first: PAGE, after };
  for (const s of STAGES) vars['f' + s] = { ...base, stages: [s] };
  const d = await gql(query(), vars);

  const href = (over) => {
    const u = new URLSearchParams({ stage, tier, owner, q, open: openOnly ? '1' : '', ...over });
    for (const [k, v] of [...u]) if (!v) u.delete(k);
    return '#/book?' + u.toString();
  };

  // Filters.
  const stageSel = select('stage', STAGES, { value: stage, blank: t('book.any') });
  const tierSel = select('tier', TIERS, { value: tier, blank: t('book.any') });
  const ownerIn = input('owner', { value: owner });
  const searchIn = ctx.can.search ? input('q', { type: 'search', value: q }) : null;
  const openBox = h('input', { type: 'checkbox', name: 'open', id: 'book-open', checked: openOnly });
  const form = h('form', { class: 'filters', role: 'search', id: 'book-filters' },
    searchIn ? field(t('book.search'), searchIn) : null,
    field(t('book.stage'), stageSel), field(t('book.tier'), tierSel), field(t('book.owner'), ownerIn),
    h('div', { class: 'field check' }, openBox, h('label', { for: 'book-open' }, t('book.openOnly'))),
    h('button', { type: 'submit' }, t('book.filter')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go(href({ stage: stageSel.value, tier: tierSel.value, owner: ownerIn.value.trim(), q: searchIn ? searchIn.value.trim() : '', open: openBox.checked ? '1' : '', after: '', page: '', trail: '' }));
  });

  // Stage counts: each a link that filters by the stage.
  const total = STAGES.reduce((n, s) => n + d[s].totalCount, 0);
  const chips = h('ul', { class: 'chips', id: 'stage-counts', 'aria-label': t('book.byStage') }, STAGES.map((s) => {
    const n = d[s].totalCount;
    return h('li', {}, h('a', { href: href({ stage: s === stage ? '' : s }), 'aria-current': s === stage ? 'true' : null, dataset: { stage: s } },
      badge(s), ' ', h('span', { class: 'n' }, num(n)),
      h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { dataset: { w: total ? Math.round((100 * n) / total) : 0 } }))));
  }));
  chips.querySelectorAll('.bar > span').forEach((b) => { b.style.width = b.dataset.w + '%'; });

  const list = d.customers;
  const rows = list.edges.map(({ node: c }) => [customerLink(c), badge(c.stage), badge(c.tier), c.accountManager || '', String(c.loyalty.score), when(c.lastInboundAt)]);
  const pager = h('nav', { class: 'pager', 'aria-label': t('book.page', { n: pageNo }) },
    pageNo > 1 ? h('a', { href: href({ after: trail[trail.length - 1] || '', page: String(pageNo - 1), trail: trail.slice(0, -1).join(',') }), rel: 'prev', id: 'book-prev' }, '← ' + t('book.prev')) : null,
    h('span', {}, t('book.page', { n: pageNo })),
    list.pageInfo.hasNextPage ? h('a', { href: href({ after: list.pageInfo.endCursor, page: String(pageNo + 1), trail: [...trail, after || ''].join(',') }), rel: 'next', id: 'book-next' }, t('book.next') + ' →') : null);

  return h('section', { class: 'screen', id: 'book' },
    h('h1', {}, t('book.title')),
    form,
    chips,
    h('p', { id: 'book-total' }, t('book.total', { n: num(list.totalCount) })),
    table(null, [t('col.customer'), t('col.stage'), t('col.tier'), t('col.am'), t('col.loyalty'), t('col.lastInbound')], rows, { id: 'book-list' }),
    pager,
    lifecycleCharts());
}
