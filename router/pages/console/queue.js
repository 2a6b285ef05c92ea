// The queue (home): cases that need a human first (queued for any reason, `other`, escalated, a
// reporter waiting to chat), then the active ones, each part by priority then age; a LINE reporter
// waiting to talk to a person comes before all (the longest wait first), with the wait ticking,
// flagged when escalated, and a button that takes the chat and opens the case; then a case the
// classifier was not sure of (needs_triage), flagged, with its suggested category and a one-click
// confirm. An open chat shows who answers it. Filters by category and status; live from
// /v1/events, a case newly needing a human beeps and is announced (fetched again after the stream
// comes back). With ?q= it shows what GET /v1/cases?q= finds instead.

import { get, getSession, post, seg } from './api.js';
import { takeChat } from './case.js';
import { announce, clear, h, options } from './dom.js';
import { CATEGORIES, STATUSES, errorText, formatAge, formatKm, isoTime, label, t } from './i18n.js';
import { beep, onCase, onReconnect } from './live.js';

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

// A LINE reporter waiting for an operator to take their chat.
export function chatWaiting(c) {
  return c.chat === 'waiting' && c.status !== 'closed';
}

const since = (at) => new Date(at).getTime() || 0;

function byUrgency(a, b) {
  const ca = chatWaiting(a) ? 0 : 1, cb = chatWaiting(b) ? 0 : 1;
  if (ca !== cb) return ca - cb;
  if (ca === 0) return since(a.chat_since) - since(b.chat_since); // the longest wait first
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

// The recent cases, the queued ones and those whose reporter waits to chat (an old case would be
// past the recent 200).
async function loadAll() {
  const [queued, open, chats] = await Promise.all([
    get('/v1/cases?status=queued&limit=200'),
    get('/v1/cases?limit=200'),
    get('/v1/cases?chat=waiting&limit=200'),
  ]);
  const cases = new Map();
  for (const list of [open, queued, chats]) {
    for (const c of list.body.cases || []) cases.set(c.case_id, c);
  }
  return cases;
}

// What the reason cell says of a chat: waiting (how long, ticking; flagged when escalated; the
// button that takes it, onTake(c, button)), or who answers it. Nothing without a chat or once
// it is closed.
function chatNote(c, onTake) {
  if (c.chat === 'waiting') {
    const code = c.tracking_code || c.case_id;
    let button = null;
    if (onTake) {
      button = h('button.take-chat', { type: 'button', dataset: { caseId: c.case_id },
        'aria-label': t('chat_take_label', { code }) }, t('chat_take'));
      button.addEventListener('click', () => onTake(c, button));
    }
    return h('div.chat-note.waiting', null,
      h('span.chat-badge', null, t('chat_badge')), ' ',
      h('span.chat-what', null, t('chat_waiting'), ' ',
        h('time.age', { datetime: isoTime(c.chat_since), dataset: { at: c.chat_since } }, formatAge(c.chat_since))),
      c.chat_escalated ? [' ', h('span.flag', null, t('chat_escalated'))] : null,
      button ? [' ', button] : null);
  }
  if (c.chat === 'open') {
    const session = getSession();
    const mine = session && c.chat_operator === session.operator_id;
    return h('div.chat-note.open', { title: t('chat_answered_by', { op: c.chat_operator || t('none') }) },
      h('span.chat-badge', null, t('chat_badge')), ' ', c.chat_operator || t('none'), mine ? ` (${t('chat_you')})` : null);
  }
  return null;
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

function caseRow(c, fresh, onConfirm, onTake) {
  const href = '/console/cases/' + encodeURIComponent(c.case_id);
  const classes = [fresh ? 'fresh' : '', chatWaiting(c) ? 'chat-waiting' : '', needsTriage(c) ? 'needs-triage' : '',
    'prio-' + (c.priority || 'none')];
  const chat = chatNote(c, onTake);
  const tr = h('tr', { dataset: { caseId: c.case_id }, class: classes.join(' ') },
    h('td.code', null, h('a', { href, 'aria-label': t('open_case', { code: c.tracking_code || c.case_id }) },
      c.tracking_code || c.case_id),
      c.possible_duplicate_of ? [' ', h('span.dup-badge', { title: t('dup_badge_label') }, t('dup_badge'))] : null),
    h('td', null, h('span.prio', { class: 'p-' + (c.priority || 'none') }, label('priority', c.priority))),
    categoryCell(c, onConfirm),
    h('td', null, h('span.status', { class: 's-' + c.status }, label('status', c.status))),
    h('td.reason', null, c.queue_reason ? label('reason', c.queue_reason) : (chat ? null : t('none')), chat),
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
      table(`${t('queue_needs_human')} (${human.length})`, human.length ? human.map((c) => caseRow(c, fresh.has(c.case_id), confirmTriage, take))
        : h('tr', null, h('td.empty', { colspan: 8 }, t('queue_empty'))), 'queue-human'),
      table(`${t('queue_active')} (${active.length})`, active.length ? active.map((c) => caseRow(c, false, null, take))
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

  // The chat taken for this operator, and its case opened; refused (another operator was first:
  // takeChat says who), the row is fetched again.
  const take = async (c, button) => {
    button.disabled = true;
    const chat = await takeChat(c.case_id);
    if (chat) {
      params.go('/console/cases/' + encodeURIComponent(c.case_id));
      return;
    }
    button.disabled = false;
    refocus = c.case_id;
    load();
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
    const code = merged.tracking_code || merged.case_id;
    const newChat = chatWaiting(merged) && (!old || !chatWaiting(old));
    if (loaded && merged.status !== 'closed' && (newChat || (needsHuman(merged) && (!old || !needsHuman(old))))) {
      fresh.add(summary.case_id);
      window.setTimeout(() => { fresh.delete(summary.case_id); draw(); }, 15000);
      beep();
      announce(newChat ? t('chat_queue_new', { code }) : t('queue_new_case', { code }), 'alert');
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
  const stopReconnect = onReconnect(load); // events missed while the stream was down

  const tick = window.setInterval(() => {
    const now = Date.now();
    body.querySelectorAll('time.age').forEach((el) => { el.textContent = formatAge(el.dataset.at, now); });
  }, 1000);

  return () => {
    stopEvents();
    stopReconnect();
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
