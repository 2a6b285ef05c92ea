/* The session cookie and account tokens on the request path: parsing, the Redis lookup before
 * dispatch, the CSRF check, the Set-Cookie header. */
#include "session.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "router.h"
#include "store.h"

long long session_ttl_ms(long long created_ms, long long now_ms, int idle_s)
{
    long long left = created_ms + SESSION_MAX_AGE_MS - now_ms;
    long long idle = (long long)idle_s * 1000;
    if (created_ms <= 0 || now_ms < created_ms) return 0; /* not a time we wrote: ended */
    return left < idle ? left : idle;
}

void session_from_cookie(const char *cookie_header, struct auth *auth)
{
    char value[SESSION_TOKEN_LEN + 1];
    if (auth->role != AUTH_NONE || session_cookie_value(cookie_header, value) != 0) return;
    auth->role = AUTH_PENDING;
    auth->by_cookie = 1;
    auth_token_hash(value, SESSION_TOKEN_LEN, auth->token_hash);
    OPENSSL_cleanse(value, sizeof value);
}

/* Removes an ended session's record; nothing waits for the answer. */
static void on_session_ended(enum store_status status, const char *data, size_t len, void *arg)
{
    (void)status;
    (void)data;
    (void)len;
    (void)arg;
}

static void session_unauthorized(struct http_call *call)
{
    http_reply_error(call, 401, "unauthorized",
                     call->auth.by_cookie ? "The session has ended; log in again."
                                          : "The bearer token is not valid.");
}

static void on_resolved(struct http_call *call, cJSON *reply)
{
    const char *id = json_string(reply, "operator_id", "");
    const char *role = json_string(reply, "role", "");
    const char *csrf = json_string(reply, "csrf", "");
    struct auth *a = &call->auth;

    if (a->agency_token) {
        const char *agency = json_string(reply, "agency_id", "");
        if (http_refusal(reply) || !auth_team_id_valid(agency, strlen(agency))) {
            cJSON_Delete(reply);
            session_unauthorized(call);
            return;
        }
        a->role = AUTH_AGENCY;
        snprintf(a->agency_id, sizeof a->agency_id, "%s", agency);
        cJSON_Delete(reply);
        call->on_auth(call);
        return;
    }
    if (http_refusal(reply) || !auth_team_id_valid(id, strlen(id)) ||
        strlen(csrf) > AUTH_CSRF_MAX) {
        cJSON_Delete(reply);
        session_unauthorized(call);
        return;
    }
    if (a->by_cookie) {
        const cJSON *created = cJSON_GetObjectItemCaseSensitive(reply, "created_at");
        const cJSON *now = cJSON_GetObjectItemCaseSensitive(reply, "now");
        if (!cJSON_IsNumber(created) || !cJSON_IsNumber(now) ||
            session_ttl_ms((long long)created->valuedouble, (long long)now->valuedouble,
                           call->router->cfg->session_idle_s) <= 0) {
            const char *argv[1] = {a->token_hash};
            cJSON_Delete(reply);
            store_fcall(call->router->store, "ess_session_end", 0, 1, argv, NULL, on_session_ended,
                        NULL);
            session_unauthorized(call);
            return;
        }
        snprintf(a->csrf, sizeof a->csrf, "%s", csrf);
    }
    a->role = strcmp(role, "supervisor") == 0 ? AUTH_SUPERVISOR : AUTH_OPERATOR;
    snprintf(a->operator_id, sizeof a->operator_id, "%s", id);
    cJSON_Delete(reply);
    call->on_auth(call);
}

void session_resolve(struct http_call *call, void (*cont)(struct http_call *call))
{
    char idle_ms[24];
    const char *argv[3];

    snprintf(idle_ms, sizeof idle_ms, "%lld", (long long)call->router->cfg->session_idle_s * 1000);
    argv[0] = call->auth.by_cookie ? "session" : call->auth.agency_token ? "agency" : "token";
    argv[1] = call->auth.token_hash;
    argv[2] = idle_ms;
    call->on_auth = cont;
    http_fcall(call, "ess_auth_resolve", 0, 3, argv, NULL, on_resolved);
}

int session_csrf_ok(const struct http_call *call)
{
    enum evhttp_cmd_type m;

    if (!call->auth.by_cookie || call->req == NULL) return 1;
    m = evhttp_request_get_command(call->req);
    if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD) return 1;
    return session_cookie_csrf_match(
        evhttp_find_header(evhttp_request_get_input_headers(call->req), "X-CSRF-Token"),
        call->auth.csrf);
}

int session_set_cookie(char *out, size_t outlen, const char *value, int secure)
{
    int n =
        snprintf(out, outlen, "%s=%s; HttpOnly; SameSite=Strict; Path=/%s%s", SESSION_COOKIE_NAME,
                 value ? value : "", value ? "" : "; Max-Age=0", secure ? "; Secure" : "");
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int session_cookie_secure(const struct http_call *call)
{
    return strncasecmp(call->router->cfg->public_url, "https://", 8) == 0;
}
