// A new call (/console/new): one form while the caller is on the line. The suggested category
// comes from POST /v1/classify as the description is typed (saying when the classifier is unsure:
// such a call waits for triage unless a category is chosen); the point from a click on the map or
// typed coordinates; the answer (tracking code in large type, team and distance, or queued with
// its reason, or waiting for triage with the suggestion) replaces the form. Errors sit next to
// their fields.

import { post } from './api.js';
import { announce, clear, field, fill, focusOn, h, options, setFieldError } from './dom.js';
import { CATEGORIES, errorText, formatKm, label, t } from './i18n.js';
import { makeMap, marker, refresh } from './map.js';

// A fresh call id: 1300-YYYYMMDD-HHMMSS-xxxx (Thai date and time, four random hex digits).
export function freshCallId() {
  const d = new Date(Date.now() + 7 * 3600 * 1000);
  const p = (n, w) => String(n).padStart(w || 2, '0');
  const rnd = new Uint16Array(1);
  crypto.getRandomValues(rnd);
  return `1300-${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${p(rnd[0].toString(16), 4)}`;
}

// The API's field path ("location.lat") as the form's input name.
const FIELD_OF = {
  description: 'description', category: 'category', 'location.lat': 'lat', 'location.lon': 'lon',
  location: 'lat', 'location.address': 'address', 'reporter.name': 'reporter_name',
  'reporter.phone': 'reporter_phone', reporter: 'reporter_name', call_id: 'call_id',
};

export function fieldOfError(e) {
  const m = /Field: ([\w.]+)/.exec(e.message || '');
  const path = (e.detail && e.detail.field) || (m && m[1]);
  return path ? FIELD_OF[path] || null : null;
}

// Reads a coordinate input: null when empty, NaN when not a number.
export function coord(input) {
  const v = input.value.trim().replace(',', '.');
  if (v === '') return null;
  return /^[-+]?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
}

export function render(main) {
  let map = null;
  let pick = null;
  let suggestTimer = null;
  let suggestSeq = 0;
  let alive = true;

  const el = {
    description: h('textarea', { name: 'description', rows: 3, maxlength: 2000 }),
    category: options(h('select', { name: 'category' }),
      [['', t('f_category_auto')]].concat(CATEGORIES.map((c) => [c, label('category', c)])), ''),
    lat: h('input', { name: 'lat', inputmode: 'decimal', autocomplete: 'off' }),
    lon: h('input', { name: 'lon', inputmode: 'decimal', autocomplete: 'off' }),
    address: h('input', { name: 'address', autocomplete: 'off' }),
    reporter_name: h('input', { name: 'reporter_name', autocomplete: 'off' }),
    reporter_phone: h('input', { name: 'reporter_phone', type: 'tel', autocomplete: 'off' }),
    call_id: h('input', { name: 'call_id', value: freshCallId(), autocomplete: 'off', spellcheck: 'false' }),
  };
  const suggestion = h('div.suggest', { id: 'suggest', role: 'status', 'aria-live': 'polite' });
  const formError = h('p.form-error', { role: 'alert', hidden: true });
  const submit = h('button.primary', { type: 'submit' }, t('f_submit'));
  const clearPoint = h('button', { type: 'button' }, t('f_clear_point'));
  const mapEl = h('div', { id: 'new-map' });
  const answer = h('section.answer', { id: 'answer', hidden: true, 'aria-labelledby': 'answer-title' });

  const form = h('form.newcall', { novalidate: true, id: 'new-call' },
    h('div.cols', null,
      h('div.col', null,
        field(t('f_description'), el.description, t('f_description_hint')),
        suggestion,
        field(t('f_category'), el.category),
        h('div.row2', null, field(t('f_reporter_name'), el.reporter_name), field(t('f_reporter_phone'), el.reporter_phone)),
        field(t('f_call_id'), el.call_id, t('f_call_id_hint'))),
      h('div.col', null,
        h('fieldset', null, h('legend', null, t('f_location')),
          h('p.hint', null, t('f_location_hint')),
          mapEl,
          h('div.row2', null, field(t('f_lat'), el.lat), field(t('f_lon'), el.lon)),
          clearPoint,
          field(t('f_address'), el.address)))),
    formError,
    h('div.buttons', null, submit));

  main.classList.add('wide');
  main.append(h('div.page-head', null, h('h1', null, t('new_title'))), h('p.lead', null, t('new_intro')), answer, form);

  // --- the map and the coordinates

  const setPoint = (lat, lon, fromMap) => {
    if (pick) { pick.remove(); pick = null; }
    if (lat === null || lon === null || isNaN(lat) || isNaN(lon)) return;
    if (fromMap) {
      el.lat.value = lat.toFixed(6);
      el.lon.value = lon.toFixed(6);
      setFieldError(el.lat, null);
      setFieldError(el.lon, null);
    }
    pick = marker(map, lat, lon, 'pick', t('map_incident'));
  };
  makeMap(mapEl, t('f_location')).then((m) => {
    if (!m) return;
    if (!alive) { m.remove(); return; }
    map = m;
    map.on('click', (ev) => setPoint(ev.latlng.lat, ev.latlng.lng, true));
    refresh(map);
  });
  const onCoords = () => {
    const lat = coord(el.lat), lon = coord(el.lon);
    if (lat !== null && lon !== null && !isNaN(lat) && !isNaN(lon)) {
      setPoint(lat, lon, false);
      if (map && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) map.panTo([lat, lon], { animate: false });
    }
  };
  el.lat.addEventListener('change', onCoords);
  el.lon.addEventListener('change', onCoords);
  clearPoint.addEventListener('click', () => {
    el.lat.value = '';
    el.lon.value = '';
    setPoint(null, null);
    el.lat.focus();
  });

  // --- the suggested category

  const showSuggestion = (s) => {
    clear(suggestion);
    if (!s) return;
    const use = h('button.link', { type: 'button' }, t('suggest_use'));
    use.addEventListener('click', () => {
      el.category.value = s.category;
      el.category.focus();
    });
    suggestion.append(h('strong', null, t('suggest_label') + ': '),
      t('suggest_text', { category: label('category', s.category), priority: s.priority,
        confidence: Math.round((s.confidence || 0) * 100) }), ' ', use,
      s.needs_triage ? h('span.unsure', null, ' ' + t('suggest_unsure')) : null);
  };
  el.description.addEventListener('input', () => {
    window.clearTimeout(suggestTimer);
    const text = el.description.value.trim();
    if (text.length < 3) { showSuggestion(null); return; }
    suggestTimer = window.setTimeout(() => {
      const seq = ++suggestSeq;
      post('/v1/classify', { description: text }).then((r) => {
        if (alive && seq === suggestSeq) showSuggestion(r.body);
      }).catch(() => { if (alive && seq === suggestSeq) showSuggestion(null); });
    }, 400);
  });

  // --- submit

  const check = () => {
    let first = null;
    const fail = (input, msg) => { setFieldError(input, msg); if (!first) first = input; };
    Object.values(el).forEach((i) => setFieldError(i, null));
    const lat = coord(el.lat), lon = coord(el.lon);
    if ((lat === null) !== (lon === null)) fail(lat === null ? el.lat : el.lon, t('err_lat_lon_both'));
    if (lat !== null && (isNaN(lat) || lat < -90 || lat > 90)) fail(el.lat, t('err_lat_range'));
    if (lon !== null && (isNaN(lon) || lon < -180 || lon > 180)) fail(el.lon, t('err_lon_range'));
    if (!el.description.value.trim() && !el.category.value) fail(el.description, t('err_required'));
    if (!el.call_id.value.trim()) fail(el.call_id, t('err_required'));
    return first;
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    formError.hidden = true;
    const bad = check();
    if (bad) {
      formError.textContent = t('err_form');
      formError.hidden = false;
      bad.focus();
      return;
    }
    const body = { call_id: el.call_id.value.trim() };
    if (el.description.value.trim()) body.description = el.description.value.trim();
    if (el.category.value) body.category = el.category.value;
    const lat = coord(el.lat), lon = coord(el.lon);
    const location = {};
    if (lat !== null) { location.lat = lat; location.lon = lon; }
    if (el.address.value.trim()) location.address = el.address.value.trim();
    if (Object.keys(location).length) body.location = location;
    const reporter = {};
    if (el.reporter_name.value.trim()) reporter.name = el.reporter_name.value.trim();
    if (el.reporter_phone.value.trim()) reporter.phone = el.reporter_phone.value.trim();
    if (Object.keys(reporter).length) body.reporter = reporter;
    submit.disabled = true;
    submit.textContent = t('f_submitting');
    try {
      const r = await post('/v1/incidents', body);
      showAnswer(r.body, r.status === 200);
    } catch (e) {
      if (e.status === 401) return;
      let target = fieldOfError(e);
      let msg = errorText(e);
      if (e.code === 'call_id_conflict') { target = 'call_id'; msg = t('conflict_call_id'); }
      if (target && el[target]) {
        setFieldError(el[target], msg);
        el[target].focus();
        formError.textContent = t('err_form');
      } else {
        formError.textContent = errorText(e);
      }
      formError.hidden = false;
      if (!target) formError.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = t('f_submit');
    }
  });

  function showAnswer(c, repeated) {
    form.hidden = true;
    const another = h('button.primary', { type: 'button' }, t('answer_another'));
    another.addEventListener('click', () => {
      form.reset();
      el.call_id.value = freshCallId();
      setPoint(null, null);
      showSuggestion(null);
      answer.hidden = true;
      form.hidden = false;
      refresh(map);
      el.description.focus();
    });
    const unsure = c.status === 'queued' && c.queue_reason === 'needs_triage';
    const outcome = c.team
      ? t('answer_assigned', { team: c.team.name, dist: formatKm(c.team.distance_km) })
      : unsure ? t('answer_needs_triage', { category: label('category', c.category_suggested || c.category) })
        : c.status === 'queued' ? t('answer_queued', { reason: label('reason', c.queue_reason || 'queued') })
          : t('answer_status', { status: label('status', c.status) });
    fill(answer,
      h('h2', { id: 'answer-title' }, t('answer_title')),
      repeated ? h('p.notice', null, t('answer_repeat')) : null,
      h('p.code-label', null, t('answer_code_label')),
      h('p.tracking-code', { id: 'tracking-code', lang: 'en' }, c.tracking_code),
      h('p.outcome', { id: 'answer-outcome', class: c.team ? 'ok' : unsure ? 'wait needs-triage' : 'wait' }, outcome),
      h('p', null, label('category', c.category), ' · ', label('priority', c.priority), ' · ', label('status', c.status)),
      c.possible_duplicate_of ? h('p.notice', { id: 'answer-duplicate' }, t('answer_duplicate')) : null,
      h('p', null, t('answer_public'), ' ',
        h('a', { href: '/track/' + encodeURIComponent(c.tracking_code), target: '_blank', rel: 'noopener' },
          location.origin + '/track/' + c.tracking_code)),
      h('div.buttons', null,
        h('a.button', { href: '/console/cases/' + encodeURIComponent(c.case_id), id: 'answer-open' }, t('answer_open')),
        another));
    answer.hidden = false;
    announce(`${t('answer_code_label')}: ${c.tracking_code}. ${outcome}`);
    focusOn(answer.querySelector('h2'));
  }

  return () => {
    alive = false;
    window.clearTimeout(suggestTimer);
    if (map) map.remove();
  };
}
