/* The session cookie and the CSRF header as a request carries them, the pure half of session.h:
 * the cookie's value found in a Cookie header, and the X-CSRF-Token header compared with the
 * session's token. No I/O; the fuzz target tests/fuzz/fuzz_session.c runs the same code on any
 * header. */
#ifndef ESS_ROUTER_SESSION_COOKIE_H
#define ESS_ROUTER_SESSION_COOKIE_H

#define SESSION_COOKIE_NAME "ess_session"
#define SESSION_TOKEN_LEN 43           /* 256 random bits as unpadded base64url */
#define SESSION_COOKIE_HEADER_MAX 8192 /* a longer Cookie header is not read */

/* Finds the session cookie in a Cookie header value (NULL: none) and copies its value, which
 * must be SESSION_TOKEN_LEN characters of base64url, to out. 0, or -1 when there is none (or
 * only malformed ones, or the header is longer than SESSION_COOKIE_HEADER_MAX). */
int session_cookie_value(const char *cookie_header, char out[SESSION_TOKEN_LEN + 1]);

/* 1 when sent (an X-CSRF-Token header value, NULL: none) equals the session's CSRF token want,
 * compared in constant time; 0 otherwise, also when want is NULL or "". */
int session_cookie_csrf_match(const char *sent, const char *want);

#endif
