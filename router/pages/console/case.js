// A case (/console/cases/{id}): every fact, the timeline with authors and Thai times, a map with
// the incident and the team, and the actions: status, note, triage (with a one-click confirm of
// the classifier's suggestion while the case waits for triage), placing a case that has no
// coordinates, assigning by hand from the candidates (a far team asks to confirm), recording
// consent to share with the agencies (consent.js); a possible duplicate beside the case it may
// repeat, merged into it in one click (duplicate.js). A LINE case
// whose reporter asked to talk to a person has its chat on top (chatPanel); supervisors also see
// who has read or changed the case (the access log) and may erase its personal data once it is
// closed (erase.js). It follows the case's changes live.

import { accessLogSection } from './accesslog.js';
import { duplicateSection } from './duplicate.js';
import { eraseSection } from './erase.js';
import { get, getSession, post, seg } from './api.js';
import { consentForm, consentText } from './consent.js';
import { announce, buttonAction, clear, confirmDialog, field, fill, focusOn, h, options, setFieldError } from './dom.js';
import { CATEGORIES, PRIORITIES, errorText, formatAge, formatClock, formatKm, formatTime, isoTime, label, t } from './i18n.js';
import { onCase, onChat, onReconnect } from './live.js';
import { fit, makeMap, marker, refresh } from './map.js';
import { coord, fieldOfError } from './newcall.js';

const OPERATOR_STATUSES = ['en_route', 'on_scene', 'resolved', 'closed'];

// A small form of the actions panel: fields, a submit button and a message line. onSubmit
// resolves when done (the message says so) or throws an ApiError (shown, next to its field when
// the answer names one).
function actionForm(id, title, fields, submitText, onSubmit) {
  const msg = h('p.msg', { role: 'status' });
  const submit = h('button', { type: 'submit' }, submitText);
  const form = h('form.action', { id, novalidate: true, 'aria-labelledby': id + '-h' },
    h('h3', { id: id + '-h' }, title), fields, h('div.buttons', null, submit), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    msg.className = 'msg';
    form.querySelectorAll('input, select, textarea').forEach((i) => setFieldError(i, null));
    submit.disabled = true;
    try {
      const done = await onSubmit();
      if (done !== false) {
        msg.textContent = t('act_done');
        msg.className = 'msg ok';
      }
    } catch (e) {
      if (e.status === 401) return;
      const name = e.validation || fieldOfError(e);
      const input = name && form.querySelector(`[name="${name}"]`);
      if (input) {
        setFieldError(input, e.validation ? e.message : errorText(e));
        input.focus();
      } else {
        msg.textContent = e.validation ? e.message : errorText(e);
        msg.className = 'msg error';
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function invalid(name, message) {
  const e = new Error(message);
  e.validation = name;
  return e;
}

// --- the chat with the LINE reporter

const CHAT_MAX = 2000; // characters (UTF-16 units, as the router and LINE count them)

// What a refused chat call says: who has the chat (409 chat_taken names the operator), else the
// error in the operator's words.
function chatRefusal(e) {
  if (e.code === 'chat_taken' && e.detail && e.detail.operator_id) return t('chat_taken_by', { op: e.detail.operator_id });
  return errorText(e);
}

// Takes the chat of the case for the logged-in operator (POST chat/take): resolves to the chat
// view, or to null when refused, which is announced (who has it, on a 409).
export async function takeChat(caseId) {
  try {
    return (await post('/v1/cases/' + seg(caseId) + '/chat/take')).body || {};
  } catch (e) {
    if (e.status !== 401) announce(chatRefusal(e), 'alert');
    return null;
  }
}

const me = () => (getSession() || {}).operator_id;

// section#chat: the conversation (ol#chat-log, li[data-seq].from-reporter|.from-operator, each
// text a text node) and what this operator may do with it: take a waiting chat; write
// (form#chat-send: Enter sends, Shift+Enter a new line, at most CHAT_MAX characters, counted) and
// close an open chat of theirs (a supervisor may close anyone's); read only the chat someone else
// answers ("answered by") or a closed one. draw(view) follows the case's chat fields; refresh()
// fetches the messages after the last one shown (?after=), one fetch at a time (asked again while
// one runs, it fetches once more after it), each message added once, in seq order. reload() is the
// page's: it fetches the case and calls draw.
function chatPanel(caseId, base, reload) {
  const entries = new Set(); // the seqs shown
  let upTo = 0; // every message up to this seq is shown: the next fetch asks after it
  let view = null;
  let inFlight = false;
  let dirty = false;
  let loadedOnce = false;
  let sending = false;
  let alive = true;

  const state = h('p.chat-state', { id: 'chat-state' });
  const take = h('button.primary', { type: 'button', id: 'chat-take' }, t('chat_take'));
  const close = h('button', { type: 'button', id: 'chat-close' }, t('chat_close'));
  const log = h('ol', { id: 'chat-log', tabindex: 0, 'aria-label': t('chat_log_label') });
  const empty = h('p.chat-empty', null, t('chat_empty'));
  const text = h('textarea', { name: 'text', id: 'chat-text', rows: 3, maxlength: CHAT_MAX,
    placeholder: t('chat_placeholder'), autocomplete: 'off', 'aria-describedby': 'chat-left' });
  const left = h('span.chat-left', { id: 'chat-left', 'aria-live': 'polite' });
  const send = h('button.primary', { type: 'submit' }, t('chat_send'));
  const form = h('form', { id: 'chat-send', novalidate: true },
    h('label.visually-hidden', { for: 'chat-text' }, t('chat_text_label')), text,
    h('div.chat-send-foot', null, left, send));
  const msg = h('p.msg', { role: 'status' });
  const el = h('section#chat.chat.span', { 'aria-labelledby': 'chat-h', hidden: true },
    h('div.chat-head', null, h('h2', { id: 'chat-h' }, t('chat_title')), state,
      h('div.chat-buttons', null, take, close)),
    empty, log, form, msg);

  const say = (text, kind) => {
    msg.textContent = text || '';
    msg.className = 'msg' + (kind ? ' ' + kind : '');
  };
  const atEnd = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const toEnd = () => { log.scrollTop = log.scrollHeight; };
  const countLeft = () => {
    const n = CHAT_MAX - text.value.length;
    left.textContent = t('chat_left', { n });
    left.classList.toggle('low', n < 100);
  };

  // Adds message m ({seq, author, by, text, at}) in seq order, unless shown; true when added.
  function add(m) {
    const seq = Number(m.seq);
    if (!(seq > 0) || entries.has(seq)) return false;
    const fromReporter = m.author === 'reporter';
    const who = fromReporter ? t('chat_reporter') : m.by === me() ? t('chat_you') : m.by;
    const li = h('li', { class: fromReporter ? 'from-reporter' : 'from-operator', dataset: { seq: String(seq) } },
      h('p.bubble', null, m.text),
      h('p.chat-meta', null, h('span.who', null, who), ' · ',
        h('time', { datetime: isoTime(m.at), title: formatTime(m.at) }, formatClock(m.at))));
    let next = null;
    for (let node = log.lastElementChild; node && Number(node.dataset.seq) > seq; node = node.previousElementSibling) next = node;
    log.insertBefore(li, next);
    entries.add(seq);
    while (entries.has(upTo + 1)) upTo++;
    empty.hidden = true;
    return true;
  }

  async function refresh() {
    if (inFlight) { dirty = true; return; }
    inFlight = true;
    try {
      do {
        dirty = false;
        const wasAtEnd = !loadedOnce || atEnd();
        let heard = 0;
        let after = upTo;
        for (let pages = 0; after !== null && after !== undefined && alive && pages < 100; pages++) {
          const r = await get(base + '/chat/messages?after=' + after);
          for (const m of (r.body && r.body.messages) || []) {
            if (add(m) && m.author === 'reporter') heard++;
          }
          after = r.body && r.body.next_after;
        }
        if (!alive) return;
        if (heard && loadedOnce) announce(t('chat_new'));
        loadedOnce = true;
        if (wasAtEnd) toEnd();
      } while (dirty && alive);
    } catch (e) {
      if (e.status !== 401 && alive) say(errorText(e), 'error');
    } finally {
      inFlight = false;
    }
  }

  function draw(v) {
    const was = view;
    view = v;
    const chat = v.chat;
    el.hidden = !chat;
    if (!chat) return;
    const mine = chat === 'open' && v.chat_operator === me();
    const supervisor = (getSession() || {}).role === 'supervisor';
    if (chat === 'waiting') {
      fill(state, t('chat_waited'), ' ',
        h('time.age', { datetime: isoTime(v.chat_since), dataset: { at: v.chat_since } }, formatAge(v.chat_since)),
        v.chat_escalated ? [' ', h('span.flag', null, t('chat_escalated'))] : null);
    } else if (chat === 'open') {
      fill(state, mine ? t('chat_yours') : t('chat_answered_by', { op: v.chat_operator }));
    } else {
      fill(state, t('chat_closed'));
    }
    el.className = 'chat span chat-' + chat + (mine ? ' mine' : '');
    take.hidden = chat !== 'waiting';
    close.hidden = !(mine || (chat === 'open' && supervisor));
    form.hidden = !mine;
    countLeft();
    if (!was || was.chat !== v.chat || was.chat_operator !== v.chat_operator) refresh();
  }

  text.addEventListener('input', countLeft);
  text.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.shiftKey || ev.ctrlKey || ev.altKey || ev.metaKey || ev.isComposing) return;
    ev.preventDefault();
    form.requestSubmit();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (sending) return;
    if (!text.value.trim()) {
      say(t('err_required'), 'error');
      text.focus();
      return;
    }
    sending = true;
    send.disabled = true;
    say('');
    try {
      const r = await post(base + '/chat/messages', { text: text.value });
      text.value = '';
      countLeft();
      if (r.body) add(r.body);
      toEnd();
    } catch (e) {
      if (e.status === 401) return;
      say(chatRefusal(e), 'error');
      if (e.status === 409) reload();
    } finally {
      sending = false;
      send.disabled = false;
    }
  });
  take.addEventListener('click', async () => {
    take.disabled = true;
    say('');
    const taken = await takeChat(caseId);
    take.disabled = false;
    if (taken && view) draw(Object.assign({}, view, taken));
    await reload();
    if (taken && !form.hidden) text.focus();
  });
  close.addEventListener('click', async () => {
    const ok = await confirmDialog(t('chat_close'), t('chat_close_confirm'), t('chat_close'), t('cancel'));
    if (!ok) return;
    close.disabled = true;
    say('');
    try {
      const r = await post(base + '/chat/close');
      if (r.body && view) draw(Object.assign({}, view, r.body));
      announce(t('chat_closed'));
      focusOn(el.querySelector('h2'));
      reload();
    } catch (e) {
      if (e.status === 401) return;
      say(chatRefusal(e), 'error');
      if (e.status === 409) reload();
    } finally {
      close.disabled = false;
    }
  });
  const tick = window.setInterval(() => {
    const now = Date.now();
    state.querySelectorAll('time.age').forEach((a) => { a.textContent = formatAge(a.dataset.at, now); });
  }, 1000);

  return {
    el,
    draw,
    refresh: () => { if (view && view.chat) refresh(); },
    active: () => !!view && (view.chat === 'waiting' || view.chat === 'open'),
    stop: () => { alive = false; window.clearInterval(tick); },
  };
}

export function render(main, params) {
  const caseId = params.caseId;
  const base = '/v1/cases/' + seg(caseId);
  let view = null;
  let map = null;
  let layers = [];
  let pick = null;
  let alive = true;
  let reloadTimer = null;
  let showSuggestion = () => {}; // the triage form's: its confirm button follows the case
  const chat = chatPanel(caseId, base, () => reload());

  const heading = h('h1', null, t('loading'));
  const facts = h('section.facts', { 'aria-labelledby': 'facts-h' });
  const timeline = h('section.timeline', { 'aria-labelledby': 'timeline-h' });
  const mapEl = h('div', { id: 'case-map' });
  const candidates = h('div', { id: 'candidates' });
  const placeSlot = h('div', { id: 'place-slot' });
  const session = getSession();
  const accessLog = session && session.role === 'supervisor' ? accessLogSection(caseId) : null;
  const consent = consentForm(base, actionForm, (c) => update(c), who);
  const statusF = statusForm();
  const noteF = noteForm();
  const triageF = triageForm();
  const candSection = candidatesSection();
  // a closed case is done with: no team, status or triage to change; an erased one takes no
  // note or consent either (the API would refuse them)
  const closedNote = h('p.msg.closed-note', { id: 'case-closed-note', hidden: true });
  const eraseBox = session && session.role === 'supervisor' ? eraseSection(caseId, (c) => update(c)) : null;
  const dup = duplicateSection(caseId, (c) => update(c));

  main.classList.add('wide');
  main.append(h('div.page-head', null, heading));
  // facts beside the map; where it can go beside what to do with it; the whole timeline below
  const body = h('div.case', { hidden: true },
    h('div.span', null, dup.el),
    h('div.col', null, facts),
    h('div.col', null, h('section', { 'aria-labelledby': 'map-h' }, h('h2', { id: 'map-h' }, t('case_map')), mapEl)),
    h('section.col.actions', { 'aria-labelledby': 'actions-h' }, h('h2', { id: 'actions-h' }, t('case_actions')),
      closedNote, placeSlot, candSection),
    h('div.col.actions', null, h('h2.spacer', { 'aria-hidden': 'true' }, '\u00a0'), statusF, noteF, triageF, consent),
    h('div.span', null, timeline),
    eraseBox ? h('div.span', null, eraseBox) : null,
    accessLog ? h('div.span', null, accessLog) : null);
  main.append(body);

  // --- facts, timeline, map

  function drawFacts(c) {
    const loc = c.location || {};
    const rep = c.reporter || {};
    const row = (k, v, cls) => [h('dt', null, k), h('dd', { class: cls || null }, v === null || v === undefined || v === '' ? t('none') : v)];
    // a personal fact of an erased case says so, rather than that it was never given
    const personal = (k, v, cls) => (c.erased_at && (v === null || v === undefined) ? row(k, t('erased_value'), 'erased') : row(k, v, cls));
    clear(facts).append(h('h2', { id: 'facts-h' }, t('case_facts')), h('dl.facts-list', null,
      row(t('fact_status'), h('span.status', { class: 's-' + c.status }, label('status', c.status))),
      row(t('fact_priority'), h('span.prio', { class: 'p-' + c.priority }, label('priority', c.priority))),
      row(t('fact_category'), label('category', c.category)),
      c.category_suggested ? row(t('fact_suggested'), label('category', c.category_suggested)) : null,
      c.queue_reason ? row(t('fact_reason'), label('reason', c.queue_reason)) : null,
      row(t('fact_team'), c.team ? `${c.team.name} (${c.team.id})${c.team.distance_km != null ? ' · ' + formatKm(c.team.distance_km) : ''}` : null),
      c.ack_deadline && c.team ? row(t('fact_ack_deadline'), formatTime(c.ack_deadline)) : null,
      c.attempts ? row(t('fact_attempts'), String(c.attempts)) : null,
      personal(t('fact_description'), c.description, 'pre'),
      personal(t('fact_address'), loc.address),
      row(t('fact_coords'), loc.lat != null ? `${loc.lat}, ${loc.lon}` : t('fact_no_coords')),
      personal(t('fact_reporter'), rep.name),
      personal(t('fact_phone'), rep.phone),
      row(t('fact_consent'), consentText(c.consent, who)),
      c.channel === 'line' ? row(t('fact_updates'), c.quiet_updates ? t('updates_quiet') : t('updates_on')) : null,
      row(t('fact_code'), h('span.code', { lang: 'en' }, c.tracking_code)),
      row(t('fact_channel'), label('channel', c.channel)),
      row(t('fact_call_id'), c.call_id),
      row(t('fact_case_id'), h('span.mono', null, c.case_id)),
      row(t('fact_created'), formatTime(c.created_at)),
      row(t('fact_updated'), formatTime(c.updated_at))));
  }

  function whatHappened(e) {
    if (e.event === 'note') return e.by === 'reporter' ? t('ev_reporter_note') : t('ev_note');
    if (e.event) {
      const k = 'ev_' + e.event;
      const s = t(k);
      return s === k ? e.event : s;
    }
    return label('status', e.status);
  }

  function who(by) {
    if (!by) return t('none');
    if (by === 'router') return t('by_router');
    if (by === 'reporter') return t('by_reporter');
    return by;
  }

  // A timeline entry's note: a chat's step in words, an event's note as written, a status's reason.
  function noteOf(e) {
    if (!e.note) return '';
    if (e.event === 'chat') {
      const k = 'chat_note_' + e.note;
      const s = t(k);
      return s === k ? e.note : s;
    }
    if (e.event === 'consent') return [label('consent_share', e.note), label('consent_basis', e.basis)].join(' · ');
    if (e.event === 'quiet') return e.note === 'on' ? t('updates_quiet') : t('updates_on');
    return e.event ? e.note : label('reason', e.note);
  }

  function drawTimeline(c) {
    const items = (c.timeline || []).slice().reverse();
    clear(timeline).append(h('h2', { id: 'timeline-h' }, t('case_timeline')),
      h('table.timeline-table', null,
        h('caption.visually-hidden', null, t('case_timeline')),
        h('thead', null, h('tr', null, [t('tl_time'), t('tl_what'), t('tl_by'), t('tl_note')].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, items.map((e) => h('tr', { class: e.event ? 'ev ev-' + e.event : 'st' },
          h('td.when', null, h('time', { datetime: isoTime(e.at) }, formatTime(e.at))),
          h('td', null, whatHappened(e), e.event && e.status ? h('span.sub', null, ' · ' + label('status', e.status)) : null),
          h('td.by', null, who(e.by)),
          h('td.pre', null, [e.team || '', noteOf(e)].filter((x) => x).join(' · '),
            e.other_case_id ? h('a', { href: '/console/cases/' + encodeURIComponent(e.other_case_id), class: 'mono' }, e.other_case_id) : null))))));
  }

  function drawMap(c) {
    if (!map) return;
    layers.forEach((l) => l && l.remove());
    layers = [];
    const loc = c.location || {};
    const pts = [];
    if (loc.lat != null) {
      layers.push(marker(map, loc.lat, loc.lon, 'incident', t('map_incident')));
      pts.push([loc.lat, loc.lon]);
    }
    for (const cand of (candidates.data || []).slice(0, 10)) {
      if (cand.lat == null) continue;
      const held = c.team && cand.team_id === c.team.id;
      layers.push(marker(map, cand.lat, cand.lon, held ? 'team-held' : cand.available ? 'team' : 'team-off',
        held ? `${cand.name} (${label('status', c.status)})` : cand.name));
      if (held) pts.push([cand.lat, cand.lon]);
    }
    fit(map, pts);
  }

  // --- actions

  function statusForm() {
    const to = options(h('select', { name: 'status' }), OPERATOR_STATUSES.map((s) => [s, label('status', s)]), 'en_route');
    const note = h('input', { name: 'note', autocomplete: 'off', maxlength: 1000 });
    return actionForm('act-status', t('act_status'),
      [h('div.row2', null, field(t('act_status_to'), to), field(t('act_status_note'), note))], t('act_status_submit'), async () => {
        const body = { status: to.value };
        if (note.value.trim()) body.note = note.value.trim();
        const r = await post(base + '/status', body);
        note.value = '';
        update(r.body);
      });
  }

  function noteForm() {
    const text = h('textarea', { name: 'text', rows: 2, maxlength: 2000 });
    return actionForm('act-note', t('act_note'), [field(t('act_note_text'), text)], t('act_note_submit'), async () => {
      if (!text.value.trim()) throw invalid('text', t('err_required'));
      const r = await post(base + '/notes', { text: text.value.trim() });
      text.value = '';
      if (r.body && r.body.timeline) update(r.body); else await reload();
    });
  }

  function triageForm() {
    const cat = options(h('select', { name: 'category' }),
      [['', t('act_triage_keep')]].concat(CATEGORIES.map((c) => [c, label('category', c)])), '');
    const pri = options(h('select', { name: 'priority' }),
      [['', t('act_triage_keep')]].concat(PRIORITIES.map((p) => [p, label('priority', p)])), '');
    // the classifier's unsure guess, confirmed in one click (the rule engine's priority follows)
    const confirm = h('button.confirm-triage', { type: 'button', id: 'act-triage-confirm', hidden: true });
    const catField = field(t('fact_category'), cat);
    catField.append(confirm);
    showSuggestion = (c) => {
      confirm.hidden = !c.category_suggested;
      confirm.textContent = c.category_suggested ? t('act_triage_confirm', { category: label('category', c.category_suggested) }) : '';
    };
    const form = actionForm('act-triage', t('act_triage'), [h('div.row2', null, catField, field(t('fact_priority'), pri))],
      t('act_triage_submit'), async () => {
        const body = {};
        if (cat.value) body.category = cat.value;
        if (pri.value) body.priority = pri.value;
        if (!body.category && !body.priority) throw invalid('category', t('err_required'));
        const r = await post(base + '/triage', body);
        cat.value = '';
        pri.value = '';
        update(r.body);
      });
    const msg = form.querySelector('.msg');
    confirm.addEventListener('click', () => buttonAction(confirm, msg, async () => {
      if (!view || !view.category_suggested) return null;
      const r = await post(base + '/triage', { category: view.category_suggested });
      update(r.body);
      cat.focus(); // the button is gone: the focus stays in the form
      return t('triage_confirmed', { category: label('category', r.body.category), code: r.body.tracking_code });
    }));
    return form;
  }

  function placeForm() {
    const lat = h('input', { name: 'lat', inputmode: 'decimal', autocomplete: 'off' });
    const lon = h('input', { name: 'lon', inputmode: 'decimal', autocomplete: 'off' });
    const address = h('input', { name: 'address', autocomplete: 'off', value: (view.location && view.location.address) || '' });
    const form = actionForm('act-place', t('act_place'),
      [h('p.hint', null, t('act_place_hint')), h('div.row2', null, field(t('f_lat'), lat), field(t('f_lon'), lon)), field(t('f_address'), address)],
      t('act_place_submit'), async () => {
        const la = coord(lat), lo = coord(lon);
        if (la === null || isNaN(la) || la < -90 || la > 90) throw invalid('lat', t('err_lat_range'));
        if (lo === null || isNaN(lo) || lo < -180 || lo > 180) throw invalid('lon', t('err_lon_range'));
        const body = { lat: la, lon: lo };
        if (address.value.trim()) body.address = address.value.trim();
        const r = await post(base + '/location', body);
        if (pick) { pick.remove(); pick = null; }
        update(r.body);
      });
    form.classList.add('place');
    form.setPoint = (la, lo) => {
      lat.value = la.toFixed(6);
      lon.value = lo.toFixed(6);
      if (pick) pick.remove();
      pick = marker(map, la, lo, 'pick', t('map_incident'));
    };
    const onTyped = () => {
      const la = coord(lat), lo = coord(lon);
      if (la !== null && lo !== null && !isNaN(la) && !isNaN(lo) && map) {
        if (pick) pick.remove();
        pick = marker(map, la, lo, 'pick', t('map_incident'));
      }
    };
    lat.addEventListener('change', onTyped);
    lon.addEventListener('change', onTyped);
    return form;
  }

  function candidatesSection() {
    return h('section.candidates', { 'aria-labelledby': 'cand-h' }, h('h3', { id: 'cand-h' }, t('act_candidates')), candidates);
  }

  function assign(cand, button) {
    return buttonAction(button, document.getElementById('cand-msg'), async () => {
      let r;
      try {
        r = await post(base + '/assign', { team_id: cand.team_id });
      } catch (e) {
        if (e.status !== 409 || e.code !== 'far_team') throw e;
        const km = e.detail.distance_km != null ? e.detail.distance_km : cand.distance_km;
        const ok = await confirmDialog(t('far_title'), t('far_text', { team: cand.name, dist: formatKm(km) }),
          t('far_confirm'), t('cancel'));
        if (!ok) return null;
        r = await post(base + '/assign', { team_id: cand.team_id, confirm_far: true });
      }
      update(r.body);
      announce(t('answer_assigned', { team: cand.name, dist: formatKm(cand.distance_km) }));
      return t('act_done');
    });
  }

  async function loadCandidates() {
    let r;
    try {
      r = await get(base + '/candidates');
    } catch (e) {
      if (e.status === 401) return;
      clear(candidates).append(h('p.msg.error', null, errorText(e)));
      return;
    }
    if (!alive) return;
    const list = (r.body && r.body.candidates) || [];
    const focusedTeam = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.teamId;
    candidates.data = list;
    clear(candidates).append(
      list.length ? h('table.cand', null,
        h('thead', null, h('tr', null, [t('cand_team'), t('cand_distance'), t('cand_load'), t('cand_available'), ''].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, list.map((c) => {
          const flags = [];
          if (c.holds_case) flags.push(t('cand_holds'));
          if (c.beyond_radius) flags.push(t('cand_far'));
          if (c.free_capacity === 0 && !c.holds_case) flags.push(t('cand_full'));
          const button = h('button.assign', { type: 'button', dataset: { teamId: c.team_id }, 'aria-label': t('act_assign', { team: c.name }), disabled: c.holds_case || null }, t('act_assign_short'));
          button.addEventListener('click', () => assign(c, button));
          return h('tr', { class: c.beyond_radius ? 'far' : null },
            h('td', null, c.name, h('span.sub', null, ` (${c.team_id})`), flags.length ? h('span.flags', null, ' · ' + flags.join(', ')) : null),
            h('td.num', null, formatKm(c.distance_km)),
            h('td.num', null, `${c.active_cases}/${c.capacity}`),
            h('td', null, c.available ? t('yes') : t('no')),
            h('td', null, button));
        })))
        : h('p', null, t('act_candidates_none')),
      h('p.msg', { id: 'cand-msg', role: 'status' }));
    if (focusedTeam) {
      const again = candidates.querySelector(`button[data-team-id="${CSS.escape(focusedTeam)}"]`);
      if (again) again.focus();
    }
    if (view) drawMap(view);
  }

  // --- loading and updates

  function update(c) {
    if (!c || !c.case_id) return;
    view = c;
    chat.draw(c);
    // a chat going on is the first thing on the page; an ended one comes after the timeline
    if (chat.active() ? body.firstChild !== chat.el : body.lastChild !== chat.el) {
      if (chat.active()) body.prepend(chat.el); else body.append(chat.el);
    }
    heading.textContent = t('case_title', { code: c.tracking_code || c.case_id });
    document.title = `${heading.textContent} · ${t('app_title')}`;
    drawFacts(c);
    drawTimeline(c);
    dup.draw(c);
    consent.draw(c);
    showSuggestion(c);
    const closed = c.status === 'closed';
    const erased = !!c.erased_at;
    closedNote.hidden = !closed;
    closedNote.textContent = closed ? t(erased ? 'case_erased_actions' : 'case_closed_actions') : '';
    statusF.hidden = closed;
    triageF.hidden = closed;
    candSection.hidden = closed;
    placeSlot.hidden = closed;
    noteF.hidden = erased;
    consent.hidden = erased;
    const unplaced = !c.location || c.location.lat == null;
    if (unplaced && !placeSlot.firstChild) placeSlot.append(placeForm());
    if (!unplaced && placeSlot.firstChild) clear(placeSlot);
    drawMap(c);
    if (!closed) loadCandidates();
    if (eraseBox) eraseBox.draw(c);
    if (accessLog) accessLog.reload(); // the read that brought c is in it
  }

  async function reload() {
    try {
      const r = await get(base);
      if (alive) update(r.body);
      return true;
    } catch (e) {
      if (e.status === 401 || !alive) return false;
      if (!view) {
        heading.textContent = e.status === 404 ? t('case_not_found') : errorText(e);
        body.hidden = true;
      }
      return false;
    }
  }

  reload().then((ok) => {
    if (!ok || !alive) return;
    body.hidden = false;
    makeMap(mapEl, t('case_map')).then((m) => {
      if (!m) return;
    if (!alive) { m.remove(); return; }
      map = m;
      map.on('click', (ev) => {
        const form = placeSlot.firstChild;
        if (form && form.setPoint) form.setPoint(ev.latlng.lat, ev.latlng.lng);
      });
      refresh(map);
      drawMap(view);
    });
  });

  const chatChanged = (s, v) => s.chat !== v.chat || s.chat_operator !== v.chat_operator ||
    s.chat_escalated !== v.chat_escalated;
  const stop = onCase((summary) => {
    if (summary.case_id !== caseId) return;
    window.clearTimeout(reloadTimer);
    reloadTimer = window.setTimeout(() => {
      if (!view || summary.updated_at !== view.updated_at || summary.status !== view.status || chatChanged(summary, view)) {
        reload().then((ok) => { if (ok) announce(t('case_updated')); });
      }
    }, 300);
  });
  const stopChat = onChat((ping) => { if (ping.case_id === caseId) chat.refresh(); });
  // back after the stream was lost: what changed meanwhile
  const stopReconnect = onReconnect(() => { reload().then(() => chat.refresh()); });

  return () => {
    alive = false;
    stop();
    stopChat();
    stopReconnect();
    chat.stop();
    window.clearTimeout(reloadTimer);
    if (map) map.remove();
  };
}

