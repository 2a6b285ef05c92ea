// The console's shell: log-in and log-out, the header, the screens by path (History API: /console/,
// /console/new, /console/cases/{id}, /console/teams), shortcut keys and the help dialog.

import { api, getSession, login, logout, setSession, setUnauthorizedHandler } from './api.js';
import { announce, clear, field, focusOn, h } from './dom.js';
import { getLang, setLang, t, formatWait } from './i18n.js';
import { onLiveState, setSound, soundEnabled, startLive, stopLive, unlockAudio } from './live.js';
import * as queueScreen from './queue.js';
import * as newCallScreen from './newcall.js';
import * as caseScreen from './case.js';
import * as teamsScreen from './teams.js';
import * as statsScreen from './stats.js';

const main = document.getElementById('main');
let cleanup = null; // ends the screen shown (its timers, listeners, maps)
// The search being shown: in memory only, never in the address, where a phone number would stay in
// the browser's history. Its history entry carries {search: true}.
let searchQuery = null;

function route(path) {
  const p = path.replace(/\/+$/, '');
  if (p === '/console' || p === '') return { screen: queueScreen, nav: 'queue', params: {} };
  if (p === '/console/new') return { screen: newCallScreen, nav: 'new', params: {} };
  if (p === '/console/teams') return { screen: teamsScreen, nav: 'teams', params: {} };
  if (p === '/console/stats') return { screen: statsScreen, nav: 'stats', params: {} };
  const m = /^\/console\/cases\/([^/]+)$/.exec(p);
  if (m) return { screen: caseScreen, nav: 'queue', params: { caseId: decodeURIComponent(m[1]) } };
  return { screen: queueScreen, nav: 'queue', params: {} };
}

// Goes to path (under /console/) without a reload; replace keeps the history entry.
function navigate(path, replace) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  show();
}

function show() {
  if (cleanup) {
    try { cleanup(); } catch (e) { /* the old screen is gone anyway */ }
    cleanup = null;
  }
  clear(main);
  main.classList.remove('wide');
  if (!getSession()) {
    renderLogin();
    return;
  }
  renderChrome();
  const r = route(location.pathname);
  document.querySelectorAll('#nav a').forEach((a) => {
    if (a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  document.title = `${t('nav_' + r.nav)} · ${t('app_title')}`;
  const query = new URLSearchParams(location.search);
  query.delete('q');
  if (history.state && history.state.search && searchQuery) query.set('q', searchQuery);
  // go(path): a screen's way to another (as a link would), focus on its heading
  const go = (path) => { navigate(path); focusOn(main.querySelector('h1') || main); };
  const params = Object.assign({}, r.params, { query, go });
  cleanup = r.screen.render(main, params) || null;
}

// --- header

function renderChrome() {
  const s = getSession();
  document.getElementById('top').hidden = false;
  document.getElementById('skip').textContent = t('skip');
  document.getElementById('brand').textContent = t('brand');
  document.getElementById('nav').setAttribute('aria-label', t('nav_label'));
  document.getElementById('nav-queue').textContent = t('nav_queue');
  document.getElementById('nav-new').textContent = t('nav_new');
  document.getElementById('nav-teams').textContent = t('nav_teams');
  const stats = document.getElementById('nav-stats'); // supervisors only (the page says so to others)
  stats.textContent = t('nav_stats');
  stats.hidden = !s || s.role !== 'supervisor';
  document.getElementById('search-label').textContent = t('search_label');
  const q = document.getElementById('search-q');
  q.placeholder = t('search_placeholder');
  q.setAttribute('aria-keyshortcuts', '/');
  document.getElementById('search-go').textContent = t('search_button');
  const lang = document.getElementById('lang');
  lang.textContent = t('lang_toggle');
  lang.setAttribute('lang', getLang() === 'th' ? 'en' : 'th');
  lang.setAttribute('aria-label', t('lang_toggle_label'));
  lang.setAttribute('aria-keyshortcuts', 'L');
  const sound = document.getElementById('sound');
  sound.textContent = soundEnabled() ? t('sound_on') : t('sound_off');
  sound.setAttribute('aria-pressed', soundEnabled() ? 'true' : 'false');
  sound.setAttribute('aria-keyshortcuts', 'M');
  const help = document.getElementById('help-open');
  help.textContent = t('nav_help');
  help.setAttribute('aria-keyshortcuts', '?');
  document.getElementById('logout').textContent = t('logout');
  document.getElementById('who').textContent = s
    ? `${s.name || s.operator_id} (${s.role === 'supervisor' ? t('role_supervisor') : t('role_operator')})` : '';
  renderLiveState();
}

function renderLiveState(state) {
  const el = document.getElementById('live-state');
  const st = state || el.dataset.state || 'connecting';
  el.dataset.state = st;
  el.className = 'live-state ' + st;
  el.textContent = st === 'open' ? t('queue_live') : t('queue_offline');
}

// --- log-in

function renderLogin(message) {
  document.getElementById('top').hidden = true;
  document.title = `${t('login_title')} · ${t('app_title')}`;
  document.getElementById('skip').textContent = t('skip');
  clear(main);
  const id = h('input', { name: 'operator_id', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false' });
  const pw = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p.form-error', { id: 'login-msg', role: 'alert', hidden: !message }, message || '');
  const button = h('button.primary', { type: 'submit' }, t('login_button'));
  const langButton = h('button.link', { type: 'button', lang: getLang() === 'th' ? 'en' : 'th', onclick: () => { setLang(getLang() === 'th' ? 'en' : 'th'); renderLogin(); } }, t('lang_toggle'));
  const form = h('form.login', { novalidate: true, 'aria-describedby': 'login-msg' },
    h('h1', { id: 'login-title' }, t('login_title')),
    h('p.lead', null, t('login_intro')),
    msg,
    field(t('operator_id'), id),
    field(t('password'), pw),
    h('div.buttons', null, button, langButton));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    unlockAudio();
    const showMsg = (text) => { msg.textContent = text; msg.hidden = false; };
    if (!id.value.trim() || !pw.value) {
      showMsg(t('login_missing'));
      focusOn(id.value.trim() ? pw : id);
      return;
    }
    button.disabled = true;
    try {
      await login(id.value.trim(), pw.value);
      pw.value = '';
      startLive();
      show();
      focusOn(main.querySelector('h1'));
    } catch (e) {
      pw.value = '';
      if (e.status === 401) showMsg(t('login_wrong'));
      else if (e.status === 429) showMsg(t('login_locked', { wait: formatWait(e.retryAfter || 900) }));
      else if (e.status === 0) showMsg(t('err_network'));
      else if (e.status === 503) showMsg(t('err_busy'));
      else showMsg(t('err_generic', { message: e.message }));
      focusOn(pw);
    } finally {
      button.disabled = false;
    }
  });
  main.append(form);
  focusOn(id);
}

function sessionGone() {
  if (!getSession()) return;
  setSession(null);
  stopLive();
  if (cleanup) {
    try { cleanup(); } catch (e) { /* ignore */ }
    cleanup = null;
  }
  renderLogin(t('session_ended'));
}

// --- help

const SHORTCUTS = [['Q', 'key_queue'], ['N', 'key_new'], ['T', 'key_teams'], ['/', 'key_search'],
  ['L', 'key_lang'], ['M', 'key_sound'], ['?', 'key_help'], ['Esc', 'key_escape']];

function openHelp() {
  const dlg = document.getElementById('help');
  const s = getSession();
  const keys = s && s.role === 'supervisor' ? SHORTCUTS.concat([['S', 'key_stats']]) : SHORTCUTS;
  const close = h('button', { type: 'button', onclick: () => dlg.close() }, t('close'));
  clear(dlg).append(
    h('h2', { id: 'help-title' }, t('help_title')),
    h('p', null, t('help_intro')),
    h('dl.keys', null, keys.map(([k, key]) => [h('dt', null, h('kbd', null, k)), h('dd', null, t(key))])),
    h('div.buttons', null, close));
  const back = document.activeElement;
  dlg.addEventListener('close', () => { if (back && back.focus) back.focus(); }, { once: true });
  dlg.showModal();
  close.focus();
}

function typing(el) {
  return el && (el.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName));
}

function onKey(ev) {
  unlockAudio();
  if (!getSession() || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (document.querySelector('dialog[open]') || typing(ev.target)) return;
  const k = ev.key;
  let done = true;
  const go = (path) => { navigate(path); focusOn(main.querySelector('h1')); };
  if (k === 'q' || k === 'Q') go('/console/');
  else if (k === 'n' || k === 'N') go('/console/new');
  else if (k === 't' || k === 'T') go('/console/teams');
  else if ((k === 's' || k === 'S') && getSession().role === 'supervisor') go('/console/stats');
  else if (k === '/') focusOn(document.getElementById('search-q'));
  else if (k === 'l' || k === 'L') toggleLang();
  else if (k === 'm' || k === 'M') toggleSound();
  else if (k === '?') openHelp();
  else done = false;
  if (done) ev.preventDefault();
}

function toggleLang() {
  setLang(getLang() === 'th' ? 'en' : 'th');
  const focused = document.activeElement && document.activeElement.id;
  show();
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  announce(getLang() === 'th' ? 'ภาษาไทย' : 'English');
}

function toggleSound() {
  setSound(!soundEnabled());
  renderChrome();
  announce(soundEnabled() ? t('sound_on') : t('sound_off'));
}

// --- wiring

function boot() {
  setLang(getLang());
  setUnauthorizedHandler(sessionGone);
  onLiveState((state) => {
    renderLiveState(state);
    // a refused stream may be an ended session: any API call finds out (401 brings the log-in)
    if (state === 'closed' && getSession()) api('GET', '/v1/teams?limit=1').catch(() => {});
  });
  document.addEventListener('keydown', onKey);
  document.addEventListener('pointerdown', unlockAudio, { once: true });
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a[href]');
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith('/console')) return;
    ev.preventDefault();
    navigate(url.pathname + url.search);
    focusOn(main.querySelector('h1') || main);
  });
  window.addEventListener('popstate', show);
  document.getElementById('lang').addEventListener('click', toggleLang);
  document.getElementById('sound').addEventListener('click', toggleSound);
  document.getElementById('help-open').addEventListener('click', openHelp);
  document.getElementById('logout').addEventListener('click', async () => {
    stopLive();
    try { await logout(); } catch (e) { setSession(null); }
    searchQuery = null;
    history.replaceState(null, '', '/console/');
    renderLogin(t('logged_out'));
  });
  document.getElementById('search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = document.getElementById('search-q').value.trim();
    if (!q) return;
    searchQuery = q;
    history.pushState({ search: true }, '', '/console/');
    show();
    focusOn(main.querySelector('h1'));
  });
  // A page the browser keeps for its back button could show a case after a log-out: the screen is
  // blanked when the page is left, and a page brought back from that cache is loaded afresh (the
  // session is asked again).
  window.addEventListener('pagehide', () => { clear(main); });
  window.addEventListener('pageshow', (ev) => { if (ev.persisted) location.reload(); });
  const stale = new URLSearchParams(location.search);
  if (stale.has('q')) stale.delete('q'); // an old address with a search in it: not kept
  const rest = stale.toString() ? '?' + stale.toString() : '';
  if (location.pathname === '/console' || location.search !== rest) {
    history.replaceState(null, '', (location.pathname === '/console' ? '/console/' : location.pathname) + rest);
  }
  if (getSession()) startLive();
  show();
}

boot();
