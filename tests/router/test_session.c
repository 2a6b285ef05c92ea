/* Tests of router/http/session.c's pure parts and router/http/session_cookie.c: the session
 * cookie in a Cookie header, the CSRF header's comparison, the idle and absolute expiry of a
 * session, the Set-Cookie value. */
#include <string.h>

#include "session.h"
#include "tap.h"

#define V "abcdefghijABCDEFGHIJ0123456789-_abcdefghijk" /* 43 characters of base64url */

static void test_cookie(void)
{
    char out[SESSION_TOKEN_LEN + 1];

    CHECK(strlen(V) == SESSION_TOKEN_LEN, "the test value has the cookie's length");
    CHECK(session_cookie_value("ess_session=" V, out) == 0 && strcmp(out, V) == 0,
          "the cookie alone");
    CHECK(session_cookie_value("lang=th; ess_session=" V "; theme=dark", out) == 0 &&
              strcmp(out, V) == 0,
          "among other cookies");
    CHECK(session_cookie_value("lang=th;ess_session=" V " ", out) == 0 && strcmp(out, V) == 0,
          "without a blank after ';', a blank after the value");
    CHECK(session_cookie_value("x_ess_session=" V, out) == -1, "another cookie ending the same");
    CHECK(session_cookie_value("ess_session=" V "x", out) == -1, "one character too many");
    CHECK(session_cookie_value("ess_session=abc", out) == -1, "too short");
    CHECK(session_cookie_value("ess_session=" V "; ess_session=bad", out) == 0 &&
              strcmp(out, V) == 0,
          "the first well-formed one of two");
    CHECK(session_cookie_value("ess_session=bad; ess_session=" V, out) == 0 && strcmp(out, V) == 0,
          "a malformed one is skipped");
    CHECK(session_cookie_value("ess_session=abcdefghijABCDEFGHIJ0123456789+/abcdefghijk", out) ==
              -1,
          "standard base64 characters are not ours");
    CHECK(session_cookie_value(NULL, out) == -1 && out[0] == '\0', "no header");
    CHECK(session_cookie_value("", out) == -1, "an empty header");
    CHECK(session_cookie_value("ESS_SESSION=" V, out) == -1, "the name is case-sensitive");
}

static void test_csrf(void)
{
    CHECK(session_cookie_csrf_match(V, V) == 1, "the session's token");
    CHECK(session_cookie_csrf_match(NULL, V) == 0, "no header");
    CHECK(session_cookie_csrf_match("", V) == 0 && session_cookie_csrf_match(V "x", V) == 0 &&
              session_cookie_csrf_match("abc", V) == 0,
          "another length");
    CHECK(session_cookie_csrf_match("Abcdefghij"
                                    "ABCDEFGHIJ0123456789-_abcdefghijk",
                                    V) == 0,
          "one character differs");
    CHECK(session_cookie_csrf_match("", "") == 0 && session_cookie_csrf_match("x", NULL) == 0,
          "a session without a token matches nothing");
}

static void test_ttl(void)
{
    const long long t0 = 1764979200000LL; /* 2025-12-06T00:00:00Z */
    const long long h = 3600LL * 1000;

    CHECK(session_ttl_ms(t0, t0, 1800) == 1800000, "a new session: its idle expiry");
    CHECK(session_ttl_ms(t0, t0 + 11 * h, 1800) == 1800000, "after 11 hours: still idle expiry");
    CHECK(session_ttl_ms(t0, t0 + 12 * h - 60000, 1800) == 60000,
          "a minute before 12 hours: only that minute is left");
    CHECK(session_ttl_ms(t0, t0 + 12 * h, 1800) <= 0, "at 12 hours: ended however busy");
    CHECK(session_ttl_ms(t0, t0 + 13 * h, 43200) <= 0, "after 12 hours: ended");
    CHECK(session_ttl_ms(t0, t0 + 1000, 43200) == 12 * h - 1000,
          "an idle expiry longer than what is left: what is left");
    CHECK(session_ttl_ms(0, t0, 1800) <= 0, "no creation time: ended");
    CHECK(session_ttl_ms(t0 + 1000, t0, 1800) <= 0, "created in the future: ended");
}

static void test_set_cookie(void)
{
    char out[160];
    CHECK(session_set_cookie(out, sizeof out, V, 0) == 0 &&
              strcmp(out, "ess_session=" V "; HttpOnly; SameSite=Strict; Path=/") == 0,
          "Set-Cookie over http");
    CHECK(session_set_cookie(out, sizeof out, V, 1) == 0 &&
              strcmp(out, "ess_session=" V "; HttpOnly; SameSite=Strict; Path=/; Secure") == 0,
          "Set-Cookie with Secure for https");
    CHECK(session_set_cookie(out, sizeof out, NULL, 0) == 0 &&
              strcmp(out, "ess_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0") == 0,
          "the cookie that removes it");
    CHECK(session_set_cookie(out, 20, V, 0) == -1, "too small a buffer: -1");
}

int main(void)
{
    test_cookie();
    test_csrf();
    test_ttl();
    test_set_cookie();
    return tap_done();
}
