// Live case updates: one EventSource on /v1/events shared by the screens (the browser reconnects
// it by itself and sends Last-Event-ID): `event: case` (a case's summary) and `event: chat` (a
// chat message was stored: its case, seq, author and time, never its text; the screen fetches the
// text). A stream that was lost and comes back tells the screens to fetch again (onReconnect):
// a new stream after a refusal starts from now. Also the alert beep (Web Audio, no file) the
// operator may turn off, remembered in localStorage.

const SOUND_KEY = 'ess.console.sound';

let source = null;
const caseListeners = new Set();
const chatListeners = new Set();
const stateListeners = new Set();
const reconnectListeners = new Set();
let state = 'closed'; // 'open' | 'connecting' | 'closed'
let retryTimer = null;
let lost = false; // the stream was open, then lost: its return is a reconnect

function setState(next) {
  if (next === state) return;
  const was = state;
  state = next;
  for (const fn of stateListeners) fn(state);
  if (was === 'open') lost = true;
  if (state === 'open' && lost) {
    lost = false;
    for (const fn of reconnectListeners) fn();
  }
}

export function liveState() { return state; }

// fn(summary) for every `event: case`; returns the function that stops it.
export function onCase(fn) {
  caseListeners.add(fn);
  return () => caseListeners.delete(fn);
}

// fn({case_id, tracking_code, seq, author, by, at}) for every `event: chat`; returns the stop
// function.
export function onChat(fn) {
  chatListeners.add(fn);
  return () => chatListeners.delete(fn);
}

// fn() when the stream comes back after being lost (events may have been missed: fetch again);
// returns the stop function.
export function onReconnect(fn) {
  reconnectListeners.add(fn);
  return () => reconnectListeners.delete(fn);
}

// fn('open' | 'connecting' | 'closed') on every change of the stream; returns the stop function.
export function onLiveState(fn) {
  stateListeners.add(fn);
  return () => stateListeners.delete(fn);
}

export function startLive() {
  if (source || typeof EventSource === 'undefined') return;
  window.clearTimeout(retryTimer);
  setState('connecting');
  source = new EventSource('/v1/events', { withCredentials: true });
  source.addEventListener('open', () => setState('open'));
  source.addEventListener('case', (ev) => {
    let summary;
    try { summary = JSON.parse(ev.data); } catch (e) { return; }
    if (!summary || !summary.case_id) return;
    for (const fn of caseListeners) fn(summary);
  });
  source.addEventListener('chat', (ev) => {
    let ping;
    try { ping = JSON.parse(ev.data); } catch (e) { return; }
    if (!ping || !ping.case_id) return;
    for (const fn of chatListeners) fn(ping);
  });
  source.addEventListener('error', () => {
    if (!source) return;
    if (source.readyState === EventSource.CLOSED) {
      // refused (401, 503...): the browser gives up; start a new stream a little later
      source = null;
      setState('closed');
      retryTimer = window.setTimeout(startLive, 5000);
    } else {
      setState('connecting');
    }
  });
}

export function stopLive() {
  window.clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  setState('closed');
  lost = false; // a log-out, not a loss
}

// --- sound

let soundOn = true;
try { soundOn = localStorage.getItem(SOUND_KEY) !== 'off'; } catch (e) { /* default on */ }
let audio = null;

export function soundEnabled() { return soundOn; }

export function setSound(on) {
  soundOn = !!on;
  try { localStorage.setItem(SOUND_KEY, soundOn ? 'on' : 'off'); } catch (e) { /* not kept */ }
}

// Browsers let audio start only after a gesture: the app calls this on the first key or click.
export function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  if (!audio) {
    try { audio = new Ctx(); } catch (e) { audio = null; return; }
  }
  if (audio.state === 'suspended') audio.resume().catch(() => {});
}

// Two short tones, when the sound is on.
export function beep() {
  if (!soundOn) return;
  unlockAudio();
  if (!audio) return;
  const now = audio.currentTime;
  [[880, 0], [1175, 0.18]].forEach(([freq, at]) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + at);
    gain.gain.exponentialRampToValueAtTime(0.25, now + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.15);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + at);
    osc.stop(now + at + 0.16);
  });
}
