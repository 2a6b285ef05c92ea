/* libFuzzer target for the headers that say who calls: the Cookie header's session cookie and
 * the X-CSRF-Token header (router/http/session_cookie.c), and the Authorization header
 * (router/http/auth.c's auth_identify). The input's lines are the three headers in that order (a
 * missing line: the header is absent). Checks: a cookie value found is 43 characters of
 * base64url that the header holds as "ess_session=<value>", and reads back alone; the CSRF
 * comparison is string equality; a caller read from a bearer token has the role its token's
 * shape says, with a valid id and hash. */
#include "auth.h"
#include "config.h"
#include "fuzz_common.h"
#include "session_cookie.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The configured tokens (ESS_ADMIN_TOKEN, ESS_OPERATOR_TOKENS); the dictionary holds them, so
 * that the fuzzer can find them. */
#define ADMIN_TOKEN "admin-token-0123456789abcdef0123456789abcdef"
static char *operator_tokens[] = {"operator-token-0123456789abcdef0123456789ab",
                                  "desk2-token-0123456789abcdef0123456789abcdef"};
static char *operator_ids[] = {"operator-1", "desk-2"};

static int is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int is_hex64(const char *s)
{
    return strlen(s) == AUTH_HASH_HEX && strspn(s, "0123456789abcdef") == AUTH_HASH_HEX;
}

static void check_cookie(const char *header)
{
    char value[SESSION_TOKEN_LEN + 1], again[SESSION_TOKEN_LEN + 1];
    char alone[sizeof SESSION_COOKIE_NAME + SESSION_TOKEN_LEN + 1];
    int rc = session_cookie_value(header, value);

    if (rc != 0 && rc != -1) abort();
    if (rc == -1) {
        if (value[0] != '\0') abort();
        return;
    }
    if (header == NULL || strlen(header) > SESSION_COOKIE_HEADER_MAX) abort();
    if (strlen(value) != SESSION_TOKEN_LEN) abort();
    for (size_t i = 0; i < SESSION_TOKEN_LEN; i++)
        if (!is_b64url(value[i])) abort();
    memcpy(alone, SESSION_COOKIE_NAME "=", sizeof SESSION_COOKIE_NAME);
    memcpy(alone + sizeof SESSION_COOKIE_NAME, value, SESSION_TOKEN_LEN + 1);
    if (strstr(header, alone) == NULL) abort();
    if (session_cookie_value(alone, again) != 0 || strcmp(again, value) != 0) abort();
}

static void check_csrf(const char *sent, const char *want)
{
    int equal = sent != NULL && want != NULL && want[0] != '\0' && strcmp(sent, want) == 0;
    if (session_cookie_csrf_match(sent, want) != equal) abort();
}

static void check_authorization(const struct config *cfg, const char *header)
{
    struct auth a;
    const char *token;
    size_t len;

    auth_identify(cfg, header, &a);
    if (header == NULL) {
        if (a.role != AUTH_NONE) abort();
        return;
    }
    if (a.role == AUTH_NONE) abort();
    if (a.role == AUTH_INVALID) return;
    /* "Bearer", blanks, the token, blanks */
    token = header + 7;
    while (*token == ' ') token++;
    len = strlen(token);
    while (len > 0 && token[len - 1] == ' ') len--;
    switch (a.role) {
    case AUTH_ADMIN:
        if (len != strlen(ADMIN_TOKEN) || memcmp(token, ADMIN_TOKEN, len) != 0) abort();
        break;
    case AUTH_OPERATOR:
        for (size_t i = 0; i < cfg->noperator_tokens; i++)
            if (strcmp(a.operator_id, cfg->operator_ids[i]) == 0 &&
                (len != strlen(cfg->operator_tokens[i]) ||
                 memcmp(token, cfg->operator_tokens[i], len) != 0))
                abort();
        break;
    case AUTH_PENDING:
        if (len != AUTH_ACCOUNT_TOKEN_LEN || !is_hex64(a.token_hash) ||
            a.agency_token != (memcmp(token, AUTH_AGENCY_TOKEN_PREFIX, 3) == 0) ||
            (!a.agency_token && memcmp(token, AUTH_ACCOUNT_TOKEN_PREFIX, 3) != 0))
            abort();
        break;
    case AUTH_TEAM: {
        size_t n = strlen(a.team_id);
        if (!auth_team_id_valid(a.team_id, n) || n >= len || token[n] != '.' ||
            memcmp(token, a.team_id, n) != 0 || len - n - 1 < 16 || !is_hex64(a.token_hash))
            abort();
        break;
    }
    default:
        abort(); /* nothing else comes from a header */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config cfg;
    char *copy = fuzz_string(data, size), *line[3] = {NULL, NULL, NULL}, *p;

    if (copy == NULL) return 0;
    p = copy;
    for (int i = 0; i < 3 && p != NULL; i++) {
        line[i] = p;
        p = strchr(p, '\n');
        if (p != NULL) *p++ = '\0';
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.admin_token = ADMIN_TOKEN;
    cfg.operator_tokens = operator_tokens;
    cfg.operator_ids = operator_ids;
    cfg.noperator_tokens = sizeof operator_tokens / sizeof operator_tokens[0];

    check_cookie(line[0]);
    check_csrf(line[1], line[0]);
    check_csrf(line[1], "k3J9x_Qm2-LpZ8vT4rN6yW1uB5cD7eF0gH3iJ2kL9mA");
    check_authorization(&cfg, line[2]);
    free(copy);
    return 0;
}
