// Book charts: the complain → silence → lost funnel and the stage
// populations over the last twelve months, drawn as inline SVG from the
// public lifecycleReport (no library, no inline style: the CSP holds).

import { gql } from './api.js';
import { t, label, num, lang } from './i18n.js';
import { h } from './ui.js';
import { STAGES } from './book.js';

const QUERY = `query Lifecycle($from: DateTime!, $to: DateTime!) {
  lifecycleReport(from: $from, to: $to, bucket: MONTH) {
    buckets { start population { stage count } transitions { from to count } }
  }
}`;

// The funnel's steps: transitions summed over the period.
export const FUNNEL = [
  { key: 'complained', match: (tr) => tr.to === 'COMPLAINING' },
  { key: 'silent', match: (tr) => tr.from === 'COMPLAINING' && tr.to === 'SILENT' },
  { key: 'lost', match: (tr) => tr.from === 'SILENT' && tr.to === 'LOST' },
];

const COLOURS = { NEW: '#0b57a4', ACTIVE: '#1d6b2f', LOYAL: '#5b2a86', GRUMBLING: '#8a5a00', COMPLAINING: '#a3141b', SILENT: '#4a5560', DORMANT: '#8b4a8b', LOST: '#1b1f24' };

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const month = (iso) => new Intl.DateTimeFormat(lang(), { year: '2-digit', month: 'short', timeZone: 'UTC' }).format(new Date(iso));

/** lifecycleCharts is the Book's chart card; it draws itself once the report arrives. */
export function lifecycleCharts() {
  const to = new Date();
  const from = new Date(Date.UTC(to.getUTCFullYear() - 1, to.getUTCMonth() + 1, 1));
  const card = h('section', { class: 'card wide charts', id: 'lifecycle', 'aria-labelledby': 'h-life', dataset: { from: from.toISOString(), to: to.toISOString() } },
    h('h2', { id: 'h-life' }, t('chart.title')), h('p', { class: 'muted' }, t('loading')));
  gql(QUERY, { from: from.toISOString(), to: to.toISOString() }).then((d) => {
    const buckets = d.lifecycleReport.buckets;
    card.replaceChildren(h('h2', { id: 'h-life' }, t('chart.title')), funnel(buckets), populations(buckets));
    card.dataset.ready = '1';
  }, (e) => {
    card.replaceChildren(h('h2', { id: 'h-life' }, t('chart.title')), h('p', { class: 'alert', role: 'alert' }, String(e.message || e)));
  });
  return card;
}

function funnel(buckets) {
  const steps = FUNNEL.map((st) => ({ ...st, n: buckets.reduce((n, b) => n + b.transitions.filter(st.match).reduce((m, tr) => m + tr.count, 0), 0) }));
  const max = Math.max(1, ...steps.map((x) => x.n));
  const W = 520, row = 34, left = 190;
  const svg = s('svg', { viewBox: `0 0 ${W} ${row * steps.length + 4}`, role: 'img', 'aria-labelledby': 'funnel-title', class: 'chart', id: 'funnel' },
    s('title', { id: 'funnel-title' }, t('chart.funnel') + ': ' + steps.map((x) => t('chart.' + x.key) + ' ' + x.n).join(', ')),
    steps.map((x, i) => s('g', { dataset: { step: x.key, count: x.n } },
      s('text', { x: 0, y: i * row + 21, class: 'lbl' }, t('chart.' + x.key)),
      s('rect', { x: left, y: i * row + 6, height: 22, width: Math.max(2, ((W - left - 60) * x.n) / max), fill: '#a3141b' }),
      s('text', { x: left + Math.max(2, ((W - left - 60) * x.n) / max) + 6, y: i * row + 22, class: 'n' }, num(x.n)))));
  return h('figure', {}, h('figcaption', {}, t('chart.funnel')), svg);
}

function populations(buckets) {
  const W = 640, H = 220, pad = { l: 44, r: 28, t: 10, b: 28 };
  const series = STAGES.map((st) => ({ stage: st, pts: buckets.map((b) => (b.population.find((p) => p.stage === st) || { count: 0 }).count) }));
  const max = Math.max(1, ...series.flatMap((x) => x.pts));
  const n = Math.max(1, buckets.length - 1);
  const X = (i) => pad.l + ((W - pad.l - pad.r) * i) / n;
  const Y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'pop-title', class: 'chart', id: 'populations' },
    s('title', { id: 'pop-title' }, t('chart.populations')),
    s('line', { x1: pad.l, y1: Y(0), x2: W - pad.r, y2: Y(0), stroke: '#555d66' }),
    s('text', { x: pad.l - 6, y: Y(max) + 4, class: 'axis', 'text-anchor': 'end' }, num(max)),
    s('text', { x: pad.l - 6, y: Y(0) + 4, class: 'axis', 'text-anchor': 'end' }, '0'),
    buckets.map((b, i) => (i % 2 === 0 || i === buckets.length - 1 ? s('text', { x: X(i), y: H - 8, class: 'axis', 'text-anchor': 'middle' }, month(b.start)) : null)),
    series.map((x) => s('g', { dataset: { stage: x.stage } },
      s('polyline', { points: x.pts.map((v, i) => X(i) + ',' + Y(v)).join(' '), fill: 'none', stroke: COLOURS[x.stage], 'stroke-width': 2 }),
      x.pts.map((v, i) => s('circle', { cx: X(i), cy: Y(v), r: 3, fill: COLOURS[x.stage], dataset: { start: buckets[i].start, count: v } },
        s('title', {}, label(x.stage) + ' · ' + month(buckets[i].start) + ': ' + num(v)))))));
  const legend = h('ul', { class: 'legend' }, series.map((x) => h('li', {},
    s('svg', { viewBox: '0 0 10 10', width: 10, height: 10, 'aria-hidden': 'true' }, s('rect', { width: 10, height: 10, fill: COLOURS[x.stage] })),
    ' ', label(x.stage), ' ', h('strong', { dataset: { stage: x.stage } }, num(x.pts[x.pts.length - 1] || 0)))));
  return h('figure', {}, h('figcaption', {}, t('chart.populations')), svg, legend);
}
