// The one door to the router's API: same-origin fetch with the session cookie, the CSRF token on
// every change, JSON in and out, and errors turned into ApiError (status, code, message, the
// answer's extra members and Retry-After). A 401 tells the app the session is gone.

const SESSION_KEY = 'ess.console.session';

let session = null; // {operator_id, name, role, csrf_token}
let onUnauthorized = () => {};

try {
  const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  if (saved && saved.operator_id && saved.csrf_token) session = saved;
} catch (e) { session = null; }

export class ApiError extends Error {
  constructor(status, code, message, detail, retryAfter) {
    super(message || code || String(status));
    this.status = status;       // HTTP status; 0 when the router could not be reached
    this.code = code || '';     // the error's snake_case code
    this.detail = detail || {}; // the whole error object (far_team's distance_km, case_id...)
    this.retryAfter = retryAfter; // seconds, from Retry-After, or null
  }
}

export function getSession() { return session; }

export function setSession(s) {
  session = s;
  try {
    if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch (e) { /* kept in memory only */ }
}

// fn runs when the router answers 401 to anything but the log-in itself.
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// Calls method path with body (an object, sent as JSON; undefined: none). Resolves to
// {status, body}; rejects with ApiError for a 4xx/5xx or a network failure.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json; charset=utf-8';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && session) headers['X-CSRF-Token'] = session.csrf_token;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', '');
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (res.ok) return { status: res.status, body: data };
  const err = (data && data.error) || {};
  const ra = res.headers.get('Retry-After');
  const error = new ApiError(res.status, err.code, err.message, err, ra !== null && /^\d+$/.test(ra) ? Number(ra) : null);
  if (res.status === 401 && path !== '/v1/session') onUnauthorized(error);
  throw error;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);

export async function login(operatorId, password) {
  const r = await api('POST', '/v1/session', { operator_id: operatorId, password });
  setSession(r.body);
  return r.body;
}

export async function logout() {
  try {
    await api('DELETE', '/v1/session');
  } finally {
    setSession(null);
  }
}

// Path segment escaping for ids that come from the API.
export const seg = (s) => encodeURIComponent(String(s));
