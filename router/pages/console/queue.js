// The queue (home): cases that need a human first (queued for any reason, `other`, escalated, a
// reporter waiting to chat), then the active ones, each part by priority then age; a case the
// classifier was not sure of (needs_triage) comes before all, flagged, with its suggested category
// and a one-click confirm. Filters by category and status; live from /v1/events, a case newly
// needing a human beeps and is announced. With ?q= it shows what GET /v1/cases?q= finds instead.

import { get, post, seg } from './api.js';
import { announce, clear, h, options } from './dom.js';
import { CATEGORIES, STATUSES, errorText, formatAge, formatKm, isoTime, label, t } from './i18n.js';
import { beep, onCase } from './live.js';

const FILTER_KEY = 'ess.console.filters';
const PRIORITY_RANK = { P1: 1, P2: 2, P3: 3, P4: 4 };

export function needsHuman(c) {
  return c.status === 'queued' || (c.category === 'other' && c.status !== 'resolved') ||
    c.queue_reason === 'escalated' || c.chat === 'waiting';
}

// Waits for an operator to confirm or correct the classifier's unsure guess.
export function needsTriage(c) {
  return c.status === 'queued' && c.queue_reason === 'needs_triage';
}

function byUrgency(a, b) {
  const ta = needsTriage(a) ? 0 : 1, tb = needsTriage(b) ? 0 : 1;
  if (ta !== tb) return ta - tb;
  const pa = PRIORITY_RANK[a.priority] || 9, pb = PRIORITY_RANK[b.priority] || 9;
  if (pa !== pb) return pa - pb;
  return new Date(a.created_at).getTime() - new Date(b.created_at).getTime();
}

function loadFilters() {
  try { return JSON.parse(sessionStorage.getItem(FILTER_KEY) || '{}') || {}; } catch (e) { return {}; }
}

function saveFilters(f) {
  try { sessionStorage.setItem(FILTER_KEY, JSON.stringify(f)); } catch (e) { /* not kept */ }
}

async function loadAll() {
  const [queued, open] = await Promise.all([
    get('/v1/cases?status=queued&limit=200'),
    get('/v1/cases?limit=200'),
  ]);
  const cases = new Map();
  for (const c of open.body.cases || []) cases.set(c.case_id, c);
  for (const c of queued.body.cases || []) cases.set(c.case_id, c);
  return cases;
}

// The category cell: the category, or, for a case waiting for triage, the flag, the suggestion
// and the button that confirms it (onConfirm(c, button)).
function categoryCell(c, onConfirm) {
  if (!needsTriage(c) || !c.category_suggested || !onConfirm) return h('td', null, label('category', c.category));
  const code = c.tracking_code || c.case_id;
  const suggested = label('category', c.category_suggested);
  const button = h('button.confirm-triage', { type: 'button', dataset: { caseId: c.case_id },
    'aria-label': t('triage_confirm_label', { category: suggested, code }) }, t('triage_confirm'));
  button.addEventListener('click', () => onConfirm(c, button));
  return h('td.triage', null,
    h('span.flag', null, t('triage_flag')), ' ',
    h('span.suggested', null, t('triage_suggested', { category: suggested })), ' ', button);
}

function caseRow(c, fresh, onConfirm) {
  const href = '/console/cases/' + encodeURIComponent(c.case_id);
  const tr = h('tr', { dataset: { caseId: c.case_id }, class: [fresh ? 'fresh' : '', needsTriage(c) ? 'needs-triage' : '', 'prio-' + (c.priority || 'none')].join(' ') },
    h('td.code', null, h('a', { href, 'aria-label': t('open_case', { code: c.tracking_code || c.case_id }) },
      c.tracking_code || c.case_id)),
    h('td', null, h('span.prio', { class: 'p-' + (c.priority || 'none') }, label('priority', c.priority))),
    categoryCell(c, onConfirm),
    h('td', null, h('span.status', { class: 's-' + c.status }, label('status', c.status))),
    h('td', null, c.queue_reason ? label('reason', c.queue_reason) : t('none')),
    h('td', null, c.team ? [c.team.name, c.team.distance_km != null ? h('span.sub', null, ' · ' + formatKm(c.team.distance_km)) : null] : t('none')),
    h('td.age', null, h('time.age', { datetime: isoTime(c.created_at), dataset: { at: c.created_at } }, formatAge(c.created_at))),
    h('td', null, label('channel', c.channel)));
  tr.addEventListener('click', (ev) => {
    if (ev.target.closest('a, button')) return;
    tr.querySelector('a').click();
  });
  return tr;
}

function table(caption, rows, id) {
  return h('table.cases', { id },
    h('caption', null, caption),
    h('thead', null, h('tr', null,
      [t('col_code'), t('col_priority'), t('col_category'), t('col_status'), t('col_reason'), t('col_team'), t('col_age'), t('col_channel')]
        .map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, rows));
}

export function render(main, params) {
  const q = params.query.get('q');
  if (q) return renderSearch(main, q);
  const filters = loadFilters();
  const cases = new Map();
  const fresh = new Set();
  let loaded = false;
  let refocus = null; // the case whose row takes the focus at the next draw (its button is gone)

  const catSel = options(h('select', { id: 'filter-category', name: 'filter_category' }),
    [['', t('queue_filter_all')]].concat(CATEGORIES.map((c) => [c, label('category', c)])), filters.category || '');
  const stSel = options(h('select', { id: 'filter-status', name: 'filter_status' }),
    [['', t('queue_filter_all')]].concat(STATUSES.filter((s) => s !== 'closed').map((s) => [s, label('status', s)])), filters.status || '');
  const body = h('div', { id: 'queue-body', 'aria-live': 'off' }, h('p.loading', null, t('loading')));
  const heading = h('h1', null, t('queue_title'));
  main.append(
    h('div.page-head', null, heading,
      h('div.filters', { role: 'group', 'aria-label': t('queue_filter_category') + ' / ' + t('queue_filter_status') },
        h('label', { for: 'filter-category' }, t('queue_filter_category')), catSel,
        h('label', { for: 'filter-status' }, t('queue_filter_status')), stSel)),
    body);

  // redraws at most once a frame, however many events come together
  let frame = 0;
  const draw = () => {
    if (!frame) frame = window.requestAnimationFrame(() => { frame = 0; drawNow(); });
  };
  const drawNow = () => {
    if (!loaded) return;
    const f = { category: catSel.value, status: stSel.value };
    const shown = [...cases.values()].filter((c) => c.status !== 'closed' &&
      (!f.category || c.category === f.category) && (!f.status || c.status === f.status));
    const human = shown.filter(needsHuman).sort(byUrgency);
    const active = shown.filter((c) => !needsHuman(c)).sort(byUrgency);
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('tr[data-case-id]');
    const focusedId = refocus || (focused && focused.dataset.caseId);
    refocus = null;
    clear(body).append(
      table(`${t('queue_needs_human')} (${human.length})`, human.length ? human.map((c) => caseRow(c, fresh.has(c.case_id), confirmTriage))
        : h('tr', null, h('td.empty', { colspan: 8 }, t('queue_empty'))), 'queue-human'),
      table(`${t('queue_active')} (${active.length})`, active.length ? active.map((c) => caseRow(c, false))
        : h('tr', null, h('td.empty', { colspan: 8 }, t('queue_empty'))), 'queue-active'));
    if (focusedId) {
      const again = body.querySelector(`tr[data-case-id="${CSS.escape(focusedId)}"] a`);
      if (again) again.focus();
    }
  };

  // One click: the suggested category confirmed (POST triage); the case then routes as any case
  // of its category and the row moves with the answer.
  const confirmTriage = async (c, button) => {
    button.disabled = true;
    try {
      const r = await post('/v1/cases/' + seg(c.case_id) + '/triage', { category: c.category_suggested });
      const v = r.body || {};
      const old = cases.get(c.case_id) || c;
      const merged = Object.assign({}, old, {
        category: v.category, category_suggested: v.category_suggested, priority: v.priority,
        status: v.status, team: v.team, queue_reason: v.queue_reason, updated_at: v.updated_at,
      });
      if (merged.status === 'closed') cases.delete(c.case_id); else cases.set(c.case_id, merged);
      refocus = c.case_id;
      announce(t('triage_confirmed', { category: label('category', v.category), code: c.tracking_code || c.case_id }));
      draw();
    } catch (e) {
      button.disabled = false;
      if (e.status === 401) return;
      announce(errorText(e), 'alert');
    }
  };

  const onFilter = () => {
    saveFilters({ category: catSel.value, status: stSel.value });
    draw();
  };
  catSel.addEventListener('change', onFilter);
  stSel.addEventListener('change', onFilter);

  const stopEvents = onCase((summary) => {
    const old = cases.get(summary.case_id);
    if (old && old.updated_at && summary.updated_at && new Date(old.updated_at) > new Date(summary.updated_at)) return;
    const merged = Object.assign({}, old || {}, summary);
    if (merged.status === 'closed') cases.delete(summary.case_id);
    else cases.set(summary.case_id, merged);
    if (loaded && needsHuman(merged) && (!old || !needsHuman(old)) && merged.status !== 'closed') {
      fresh.add(summary.case_id);
      window.setTimeout(() => { fresh.delete(summary.case_id); draw(); }, 15000);
      beep();
      announce(t('queue_new_case', { code: merged.tracking_code || merged.case_id }), 'alert');
    }
    draw();
  });

  const load = () => loadAll().then((got) => {
    for (const [id, c] of got) {
      const old = cases.get(id);
      if (!old || !old.updated_at || new Date(c.updated_at) >= new Date(old.updated_at)) cases.set(id, c);
    }
    loaded = true;
    draw();
  }).catch((e) => {
    if (e.status === 401) return;
    clear(body).append(h('p.form-error', { role: 'alert' }, errorText(e)),
      h('button', { type: 'button', onclick: load }, t('retry')));
  });
  load();

  const tick = window.setInterval(() => {
    const now = Date.now();
    body.querySelectorAll('time.age').forEach((el) => { el.textContent = formatAge(el.dataset.at, now); });
  }, 1000);

  return () => {
    stopEvents();
    window.clearInterval(tick);
    if (frame) window.cancelAnimationFrame(frame);
  };
}

function renderSearch(main, q) {
  const body = h('div', { id: 'search-body' }, h('p.loading', null, t('loading')));
  main.append(h('div.page-head', null, h('h1', null, t('queue_search_results', { q })),
    h('a.button', { href: '/console/' }, t('queue_search_clear'))), body);
  get('/v1/cases?q=' + encodeURIComponent(q) + '&limit=50').then((r) => {
    const found = (r.body && r.body.cases) || [];
    clear(body).append(found.length ? table(t('queue_search_results', { q }), found.map((c) => caseRow(c, false)), 'search-results')
      : h('p.empty', { role: 'status' }, t('queue_search_none')));
  }).catch((e) => {
    if (e.status === 401) return;
    clear(body).append(h('p.form-error', { role: 'alert' },
      e.status === 400 ? t('queue_search_none') : errorText(e)));
  });
  return null;
}
