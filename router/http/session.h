/* Console sessions and operator accounts' API tokens, as the request path sees them: the
 * session cookie read from the Cookie header, the one Redis lookup (ess_auth_resolve) that says
 * who holds a cookie or an account token before the call is dispatched, the CSRF check of
 * cookie-authenticated changes and the Set-Cookie header. A configured bearer token never comes
 * here: it is known without Redis (auth.h). */
#ifndef ESS_ROUTER_SESSION_H
#define ESS_ROUTER_SESSION_H

#include <stddef.h>

#include "session_cookie.h" /* the cookie and the CSRF header read (pure) */

struct auth;
struct http_call;

/* DESIGN: a session ends after 12 hours in any case, however busy. */
#define SESSION_MAX_AGE_MS (12LL * 3600 * 1000)

/* How many more milliseconds a session created at created_ms may live at now_ms (both ms since
 * the epoch on Redis' clock) with idle_s of idle expiry: the smaller of idle_s and what is left
 * of SESSION_MAX_AGE_MS; 0 or less when it has ended. */
long long session_ttl_ms(long long created_ms, long long now_ms, int idle_s);

/* For a caller without an Authorization header (auth->role AUTH_NONE): when cookie_header holds
 * a session cookie, auth becomes AUTH_PENDING by_cookie with the hash of its value. */
void session_from_cookie(const char *cookie_header, struct auth *auth);

/* Looks up an AUTH_PENDING caller in Redis, then runs cont(call) with call->auth resolved
 * (AUTH_OPERATOR or AUTH_SUPERVISOR, with the operator's id, and for a session its CSRF token;
 * AUTH_AGENCY with the agency's id for an agency's token;
 * the session's idle expiry starts again). An unknown or ended session or token, or a disabled
 * account, is answered 401 here (an ended session's record is removed); Redis unavailable: 503;
 * cont is then not called. */
void session_resolve(struct http_call *call, void (*cont)(struct http_call *call));

/* 1 when the call may go on as far as CSRF goes: not authenticated by the session cookie, a
 * GET or HEAD, or an X-CSRF-Token header equal (constant time) to the session's token
 * (session_cookie_csrf_match). */
int session_csrf_ok(const struct http_call *call);

/* Writes the Set-Cookie value for the session cookie holding value (NULL: one that removes it)
 * to out: HttpOnly, SameSite=Strict, Path=/, and Secure when secure. 0, or -1 when out is too
 * small. */
int session_set_cookie(char *out, size_t outlen, const char *value, int secure);

/* 1 when ESS_PUBLIC_URL is https://, so that the cookie is sent only over TLS. */
int session_cookie_secure(const struct http_call *call);

#endif
