// Statistics (/console/stats, supervisors): GET /v1/stats for a range of Thai-time days, drawn as
// SVG bar charts made here (no library): cases per day, by category, by channel, and the median
// and 90th-percentile times from received to assigned, acknowledged and on scene. Each chart has
// its numbers as a table (the text alternative, under "the numbers"); the range is two date
// inputs, kept in the address (?from=&to=).

import { get, getSession } from './api.js';
import { clear, fill, h, newId } from './dom.js';
import { CATEGORIES, STATUSES, errorText, getLang, label, t } from './i18n.js';

// The SVG namespace as the HTML parser gives an <svg> (no address in the console's files, whose
// test refuses any that looks like another host).
const SVG = (() => {
  const tpl = document.createElement('template');
  tpl.innerHTML = '<svg></svg>';
  return tpl.content.firstChild.namespaceURI;
})();
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const KINDS = ['to_assigned', 'to_acknowledged', 'to_on_scene'];
const KIND_STATUS = { to_assigned: 'assigned', to_acknowledged: 'acknowledged', to_on_scene: 'on_scene' };

// An SVG element: s('rect', {x: 1}, child...).
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const num = (n) => Number(n).toLocaleString(getLang() === 'th' ? 'th-TH' : 'en-GB');

// A duration in seconds as words: "45 วินาที", "12 นาที 5 วินาที", "3 ชม. 20 นาที" / "45 s", ...
export function formatDuration(sec) {
  if (sec === null || sec === undefined) return t('none');
  const v = Math.round(Number(sec));
  const hh = Math.floor(v / 3600), mm = Math.floor((v % 3600) / 60), ss = v % 60;
  if (hh > 0) return t('dur_hm', { h: hh, m: mm });
  if (mm > 0) return t('dur_ms', { m: mm, s: ss });
  return t('dur_s', { s: Number(sec) < 10 ? Number(sec).toLocaleString('en-GB', { maximumFractionDigits: 1 }) : v });
}

// The chart's frame: an <svg role="img"> named by the section's heading and described by a
// sentence, scaled to its box (viewBox width x height).
function frame(width, height, titleId, desc) {
  const descId = newId('d');
  return s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId,
    'aria-describedby': descId, class: 'chart', preserveAspectRatio: 'xMinYMin meet' },
  s('desc', { id: descId }, desc));
}

// Horizontal bars: rows [{key, label, value, text}], one bar each, its value written after it.
function hbars(rows, titleId, desc, labelW = 170) {
  const rowH = 26, barW = 330, width = labelW + barW + 90;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const svg = frame(width, Math.max(rowH, rows.length * rowH) + 4, titleId, desc);
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    const w = Math.max(r.value > 0 ? 2 : 0, (r.value / max) * barW);
    svg.append(
      s('text', { x: labelW - 8, y: y + rowH / 2 + 4, 'text-anchor': 'end', class: 'axis' }, r.label),
      s('rect', { x: labelW, y: y + 4, width: w.toFixed(1), height: rowH - 8, class: 'bar ' + (r.cls || ''),
        'data-key': r.key, 'data-value': r.value }),
      s('text', { x: labelW + w + 6, y: y + rowH / 2 + 4, class: 'val' }, r.text !== undefined ? r.text : num(r.value)));
  });
  return svg;
}

// Vertical bars, one per day; every nth date under the axis so that the labels never overlap.
function dayBars(days, titleId, desc) {
  const width = 640, height = 220, left = 36, bottom = 36, top = 14;
  const plotW = width - left - 8, plotH = height - bottom - top;
  const max = Math.max(1, ...days.map((d) => d.cases));
  const step = plotW / Math.max(1, days.length);
  const every = Math.max(1, Math.ceil(days.length / 8));
  const svg = frame(width, height, titleId, desc);
  svg.append(s('line', { x1: left, y1: top + plotH, x2: width - 8, y2: top + plotH, class: 'axis-line' }),
    s('text', { x: left - 6, y: top + 4, 'text-anchor': 'end', class: 'axis' }, num(max)),
    s('text', { x: left - 6, y: top + plotH, 'text-anchor': 'end', class: 'axis' }, '0'));
  days.forEach((d, i) => {
    const bh = (d.cases / max) * plotH;
    const bw = Math.min(step * 0.7, 40);
    const x = left + i * step + (step - bw) / 2;
    svg.append(s('rect', { x: x.toFixed(1), y: (top + plotH - bh).toFixed(1), width: bw.toFixed(1),
      height: bh.toFixed(1), class: 'bar', 'data-key': d.date, 'data-value': d.cases },
    s('title', null, `${d.date}: ${num(d.cases)}`)));
    if (days.length <= 31 && d.cases > 0) {
      svg.append(s('text', { x: (x + bw / 2).toFixed(1), y: (top + plotH - bh - 3).toFixed(1),
        'text-anchor': 'middle', class: 'val small' }, num(d.cases)));
    }
    if (i % every === 0) {
      svg.append(s('text', { x: (x + bw / 2).toFixed(1), y: top + plotH + 16, 'text-anchor': 'middle',
        class: 'axis' }, d.date.slice(5)));
    }
  });
  return svg;
}

// The times: per kind a median bar and a p90 bar, on one scale.
function timeBars(times, titleId, desc) {
  const rows = [];
  for (const k of KINDS) {
    const tm = times[k] || {};
    rows.push({ key: k + ':median', label: `${label('status', KIND_STATUS[k])} · ${t('stats_median')}`,
      value: tm.median_s || 0, text: formatDuration(tm.median_s), cls: 'median' });
    rows.push({ key: k + ':p90', label: `${label('status', KIND_STATUS[k])} · ${t('stats_p90_short')}`,
      value: tm.p90_s || 0, text: formatDuration(tm.p90_s), cls: 'p90' });
  }
  return hbars(rows, titleId, desc, 230);
}

// A table of name/value rows; rows [{key, label, value}] (the text alternative of a chart).
function table(id, caption, head, rows) {
  return h('table.stats-table', { id },
    h('caption', null, caption),
    h('thead', null, h('tr', null, head.map((x, i) => h('th', { scope: 'col', class: i ? 'num' : null }, x)))),
    h('tbody', null, rows.map((r) => h('tr', { dataset: Object.assign({ key: r.key }, r.data || {}) },
      h('th', { scope: 'row' }, r.label), r.cells.map((c) => h('td.num', null, c))))));
}

// A chart with its heading, and its table under a disclosure.
function panel(id, title, chart, tbl) {
  const titleId = 'stats-h-' + id;
  return h('section.stats-panel', { id: 'stats-chart-' + id, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title),
    chart(titleId),
    h('details.stats-numbers', null, h('summary', null, t('stats_numbers')), tbl));
}

// Names in the order the console knows them first, then any other the answer has.
function ordered(known, obj) {
  return known.filter((k) => k in obj).concat(Object.keys(obj).filter((k) => !known.includes(k)).sort());
}

function draw(slot, d) {
  const cats = ordered(CATEGORIES, d.by_category).map((k) => ({ key: k, label: label('category', k), value: d.by_category[k] }));
  const chans = ordered(['hotline', 'line'], d.by_channel).map((k) => ({ key: k, label: label('channel', k), value: d.by_channel[k] }));
  const stats = ordered(STATUSES, d.by_status).map((k) => ({ key: k, label: label('status', k), cells: [num(d.by_status[k])] }));
  const total = d.by_status.received || 0;
  const times = d.times || {};
  fill(slot,
    h('p.stats-total', { id: 'stats-total', role: 'status' },
      t('stats_total', { n: num(total), from: d.from, to: d.to })),
    h('div.stats-grid', null,
      panel('days', t('stats_by_day'),
        (id) => dayBars(d.by_day, id, t('stats_by_day_desc', { n: num(total), days: d.by_day.length })),
        table('stats-table-days', t('stats_by_day'), [t('stats_date'), t('stats_cases')],
          d.by_day.map((x) => ({ key: x.date, label: x.date, cells: [num(x.cases)] })))),
      panel('category', t('stats_by_category'),
        (id) => hbars(cats, id, cats.map((r) => `${r.label} ${r.value}`).join(', ') || t('stats_none')),
        table('stats-table-category', t('stats_by_category'), [t('stats_category'), t('stats_cases')],
          cats.map((r) => ({ key: r.key, label: r.label, cells: [String(r.value)] })))),
      panel('channel', t('stats_by_channel'),
        (id) => hbars(chans, id, chans.map((r) => `${r.label} ${r.value}`).join(', ') || t('stats_none')),
        table('stats-table-channel', t('stats_by_channel'), [t('stats_channel'), t('stats_cases')],
          chans.map((r) => ({ key: r.key, label: r.label, cells: [String(r.value)] })))),
      panel('times', t('stats_times'),
        (id) => timeBars(times, id, KINDS.map((k) => `${t('stats_' + k)}: ${t('stats_median')} ${formatDuration((times[k] || {}).median_s)}, ${t('stats_p90')} ${formatDuration((times[k] || {}).p90_s)}`).join('; ')),
        table('stats-table-times', t('stats_times'), [t('stats_time'), t('stats_median'), t('stats_p90'), t('stats_n')],
          KINDS.map((k) => {
            const tm = times[k] || {};
            return { key: k, label: t('stats_' + k), data: { median: tm.median_s ?? '', p90: tm.p90_s ?? '', n: tm.n || 0 },
              cells: [formatDuration(tm.median_s), formatDuration(tm.p90_s), num(tm.n || 0)] };
          })))),
    h('p.hint', null, t('stats_times_hint')),
    table('stats-table-status', t('stats_by_status'), [t('stats_status'), t('stats_entries')], stats));
}

export function render(main, params) {
  const session = getSession();
  main.classList.add('wide');
  main.append(h('div.page-head', null, h('h1', null, t('stats_title'))));
  if (!session || session.role !== 'supervisor') {
    main.append(h('p.notice', { id: 'stats-denied', role: 'alert' }, t('stats_supervisors')));
    return null;
  }
  const query = params.query;
  const from = h('input', { type: 'date', id: 'stats-from', name: 'from', value: DATE.test(query.get('from') || '') ? query.get('from') : '' });
  const to = h('input', { type: 'date', id: 'stats-to', name: 'to', value: DATE.test(query.get('to') || '') ? query.get('to') : '' });
  const msg = h('p.form-error', { id: 'stats-msg', role: 'alert', hidden: true });
  const slot = h('div', { id: 'stats-body', 'aria-busy': 'true' }, h('p.loading', null, t('loading')));
  const form = h('form.stats-range', { id: 'stats-range', 'aria-label': t('stats_range') },
    h('label', { for: 'stats-from' }, t('stats_from')), from,
    h('label', { for: 'stats-to' }, t('stats_to')), to,
    h('button.primary', { type: 'submit' }, t('stats_show')),
    h('span.hint', null, t('stats_range_hint')));
  main.append(form, msg, slot);
  let alive = true;
  let seq = 0;

  const load = async () => {
    const mine = ++seq;
    const q = new URLSearchParams();
    if (from.value) q.set('from', from.value);
    if (to.value) q.set('to', to.value);
    const qs = q.toString();
    history.replaceState(history.state, '', '/console/stats' + (qs ? '?' + qs : ''));
    msg.hidden = true;
    slot.setAttribute('aria-busy', 'true');
    try {
      const r = await get('/v1/stats' + (qs ? '?' + qs : ''));
      if (!alive || mine !== seq) return;
      from.value = r.body.from;
      to.value = r.body.to;
      draw(slot, r.body);
    } catch (e) {
      if (!alive || mine !== seq || e.status === 401) return;
      msg.textContent = e.status === 400 ? e.message : errorText(e);
      msg.hidden = false;
      clear(slot);
    } finally {
      slot.setAttribute('aria-busy', 'false');
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  load();
  return () => { alive = false; };
}
