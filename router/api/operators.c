/* Operator accounts (stored by ess.lua's ess_operator_* functions) and console log-in: password
 * hashing on the worker threads, the lockout after failed logins, the session cookie. */
#include "operators.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "password.h"
#include "random.h"
#include "ratelimit.h"
#include "router.h"
#include "session.h"
#include "text.h"
#include "worker.h"

#define WRONG_LOGIN "The operator id or the password is wrong."

/* A password on its way through a worker thread: copied from the body (cleansed when done),
 * then its hash or the verdict. The call owns it (call->data) until the call ends. */
struct pw_job {
    char *password;
    size_t len;
    char hash[PASSWORD_HASH_SIZE]; /* operators_put: the new hash; login: the stored one */
    int result;                    /* password_hash's or password_verify's answer */
    struct http_call *call;
    void (*then)(struct http_call *call, struct pw_job *job);

    /* operators_put */
    struct account_put put;
    char *name; /* a copy of put.name (the body is gone when the hash is done); NULL: unchanged */
    char role[16]; /* "": unchanged */

    /* operators_login */
    char id[AUTH_TEAM_ID_MAX + 1];
    int id_known; /* id is well formed (else it is not counted against an id) */
    int found;    /* the account exists and is not disabled */
    char addr[AUTH_HASH_HEX + 1];
    char cookie[SESSION_TOKEN_LEN + 1];
    char csrf[SESSION_TOKEN_LEN + 1];
};

static void pw_job_free(void *p)
{
    struct pw_job *j = p;
    if (j == NULL) return;
    if (j->password) {
        OPENSSL_cleanse(j->password, j->len);
        free(j->password);
    }
    free(j->name);
    OPENSSL_cleanse(j, sizeof *j);
    free(j);
}

/* A new job owned by the call, or NULL (then the call was answered 500). */
static struct pw_job *pw_job_new(struct http_call *call)
{
    struct pw_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return NULL;
    }
    j->call = call;
    call->data = j;
    call->data_free = pw_job_free;
    return j;
}

static void pw_hash_work(void *arg)
{
    struct pw_job *j = arg;
    j->result = password_hash(j->password, j->len, j->hash);
}

static void pw_verify_work(void *arg)
{
    struct pw_job *j = arg;
    j->result = password_verify(j->password, j->len, j->hash);
}

/* Back on the loop: the password is no longer needed; the call goes on unless its client left
 * or the pool stopped first. */
static void pw_done(void *arg, int ran)
{
    struct pw_job *j = arg;
    struct http_call *call = j->call;

    OPENSSL_cleanse(j->password, j->len);
    if (call->req == NULL) {
        http_call_free(call);
        return;
    }
    if (!ran) {
        http_reply_error(call, 503, "unavailable", "The server is stopping; try again shortly.");
        return;
    }
    j->then(call, j);
}

/* Runs work on a worker thread, then then(call, job) on the loop. On a full queue answers 503. */
static void pw_submit(struct pw_job *j, void (*work)(void *),
                      void (*then)(struct http_call *call, struct pw_job *job))
{
    j->then = then;
    if (worker_submit(j->call->router->worker, work, pw_done, j) != 0) {
        log_warn("password work refused: the worker queue is full");
        http_reply_error(j->call, 503, "busy", "Too many log-ins at once; try again shortly.");
    }
}

/* Copies a password member into the job. NULL, or the sentence of a 400. */
static const char *pw_take(struct pw_job *j, const cJSON *pw)
{
    size_t len;
    if (!cJSON_IsString(pw)) return "password must be a string.";
    len = strlen(pw->valuestring);
    if (len > PASSWORD_MAX_BYTES) return "password is too long (at most 1024 bytes).";
    if ((j->password = text_dup_len(pw->valuestring, len)) == NULL) return "";
    j->len = len;
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* PUT /v1/operators/{id} and GET /v1/operators */

static const struct account_kind operator_kind = {
    .word = "operator",
    .title = "Operator",
    .needs = "name, role and password",
    .token_prefix = AUTH_ACCOUNT_TOKEN_PREFIX,
    .disabled_note = ", disabled: its sessions ended",
};

static void on_operator_put(struct http_call *call, cJSON *reply)
{
    struct pw_job *j = call->data;
    account_put_answer(call, &j->put, reply);
}

static void operator_put_send(struct http_call *call, struct pw_job *j)
{
    const char *argv[8];
    if (j->password && j->result != 0) {
        log_error("operator %s: the password could not be hashed", j->put.id);
        http_reply_error(call, 500, "internal", "The password could not be hashed.");
        return;
    }
    argv[0] = j->put.id;
    argv[1] = j->name ? j->name : "";
    argv[2] = j->role;
    argv[3] = j->password ? j->hash : "";
    argv[4] = j->put.token_hash;
    argv[5] = j->put.rotate ? "1" : "0";
    argv[6] = j->put.disabled;
    http_fcall(call, "ess_operator_put", 0, 7, argv, NULL, on_operator_put);
}

/* Reads the body's members into j. NULL, or the sentence of a 400 invalid_field ("" when memory
 * ran out). */
static const char *operator_input_read(struct http_call *call, const cJSON *body, struct pw_job *j)
{
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(body, "role");
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(body, "password");
    const char *problem;

    if ((problem = account_put_read(&j->put, &operator_kind, call, body)) != NULL) return problem;
    if (j->put.name && (j->name = text_dup_len(j->put.name, strlen(j->put.name))) == NULL)
        return "";
    j->put.name = NULL; /* the body's: gone before the password's hash is */
    if (role && !cJSON_IsNull(role)) {
        if (!cJSON_IsString(role) || (strcmp(role->valuestring, "operator") != 0 &&
                                      strcmp(role->valuestring, "supervisor") != 0))
            return "role must be \"operator\" or \"supervisor\".";
        snprintf(j->role, sizeof j->role, "%s", role->valuestring);
    }
    if (pw && !cJSON_IsNull(pw)) {
        if ((problem = pw_take(j, pw)) != NULL) return problem;
        if (!password_acceptable(j->password, j->len))
            return "password must be at least 12 characters (UTF-8, no control characters, at "
                   "most 1024 bytes).";
    }
    return NULL;
}

void operators_put(struct http_call *call)
{
    const char *problem;
    struct pw_job *j;
    cJSON *body;

    if (account_id_check(call, &operator_kind) != 0) return;
    if ((body = http_body_object(call)) == NULL) return;
    if ((j = pw_job_new(call)) == NULL) goto done;
    problem = operator_input_read(call, body, j);
    if (problem != NULL) {
        if (problem[0] == '\0')
            http_reply_error(call, 500, "internal", "The server ran out of memory.");
        else
            http_reply_error(call, 400, "invalid_field", problem);
        goto done;
    }
    if (account_token_draw(call, &j->put) != 0) goto done;
    if (j->password)
        pw_submit(j, pw_hash_work, operator_put_send);
    else
        operator_put_send(call, j);
done:
    cJSON_Delete(body);
}

/* ess_operator_list answers only what may be shown */
void operators_list(struct http_call *call)
{
    http_fcall(call, "ess_operator_list", 1, 0, NULL, NULL, http_reply_store_answer);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /v1/session and DELETE /v1/session */

static void on_login_failed(struct http_call *call, cJSON *reply)
{
    if (http_refusal(reply)) { /* audit_unavailable: not even the failure could be recorded */
        http_reply_refusal(call, http_refusal(reply));
        cJSON_Delete(reply);
        return;
    }
    cJSON_Delete(reply);
    log_info("a console login failed (unknown operator id or wrong password)");
    http_reply_error(call, 401, "unauthorized", WRONG_LOGIN);
}

/* Counts a failed login against the id (when well formed) and the address, then answers 401. */
static void login_fail(struct http_call *call, struct pw_job *j)
{
    char window[16], id_max[8], addr_max[8];
    const char *argv[6];
    snprintf(window, sizeof window, "%d", OPERATORS_LOGIN_WINDOW_MS);
    snprintf(id_max, sizeof id_max, "%d", OPERATORS_LOGIN_ID_MAX);
    snprintf(addr_max, sizeof addr_max, "%d", OPERATORS_LOGIN_ADDR_MAX);
    argv[0] = j->id_known ? j->id : "";
    argv[1] = j->addr;
    argv[2] = window;
    argv[3] = id_max;
    argv[4] = addr_max;
    http_fcall_audited(call, "ess_login_fail", 5, argv, on_login_failed);
}

static void on_session_created(struct http_call *call, cJSON *reply)
{
    struct pw_job *j = call->data;
    char set_cookie[160];
    cJSON *doc;

    if (http_refusal(reply) && strcmp(http_refusal(reply), "unauthorized") != 0) {
        http_reply_refusal(call, http_refusal(reply)); /* audit_unavailable: no session */
        cJSON_Delete(reply);
        return;
    }
    if (http_refusal(reply)) { /* disabled, removed or given a new password meanwhile */
        cJSON_Delete(reply);
        login_fail(call, j);
        return;
    }
    doc = cJSON_CreateObject();
    if (doc == NULL || !cJSON_AddStringToObject(doc, "operator_id", j->id) ||
        !cJSON_AddStringToObject(doc, "name", json_string(reply, "name", "")) ||
        !cJSON_AddStringToObject(doc, "role", json_string(reply, "role", "operator")) ||
        !cJSON_AddStringToObject(doc, "csrf_token", j->csrf) ||
        session_set_cookie(set_cookie, sizeof set_cookie, j->cookie, session_cookie_secure(call)) !=
            0) {
        cJSON_Delete(doc);
        doc = NULL; /* answers 500; the session record expires unused */
    } else {
        evhttp_add_header(evhttp_request_get_output_headers(call->req), "Set-Cookie", set_cookie);
        log_info("operator %s logged in to the console", j->id);
    }
    OPENSSL_cleanse(set_cookie, sizeof set_cookie);
    cJSON_Delete(reply);
    http_reply_json(call, 200, doc);
}

static void login_verified(struct http_call *call, struct pw_job *j)
{
    char idle_ms[24], cookie_hash[AUTH_HASH_HEX + 1];
    const char *argv[5];

    if (!(j->found && j->result == 1)) {
        login_fail(call, j);
        return;
    }
    if (random_token(j->cookie, sizeof j->cookie, 32) != 0 ||
        random_token(j->csrf, sizeof j->csrf, 32) != 0) {
        log_error("login: no random bytes for a session");
        http_reply_error(call, 500, "internal", "Could not draw random bytes for a session.");
        return;
    }
    auth_token_hash(j->cookie, strlen(j->cookie), cookie_hash);
    snprintf(idle_ms, sizeof idle_ms, "%lld", (long long)call->router->cfg->session_idle_s * 1000);
    argv[0] = j->id;
    argv[1] = j->hash; /* the password verified must still be the account's */
    argv[2] = cookie_hash;
    argv[3] = j->csrf;
    argv[4] = idle_ms;
    http_fcall_audited(call, "ess_session_create", 5, argv, on_session_created);
}

static void on_login_begin(struct http_call *call, cJSON *reply)
{
    struct pw_job *j = call->data;
    double locked = json_number(reply, "locked_ms", NULL);
    const char *stored = json_string(reply, "password_hash", "");

    if (http_refusal(reply)) {
        http_reply_refusal(call, http_refusal(reply));
        cJSON_Delete(reply);
        return;
    }
    if (locked > 0) {
        char retry[24];
        cJSON_Delete(reply);
        snprintf(retry, sizeof retry, "%lld", ((long long)locked + 999) / 1000);
        evhttp_add_header(evhttp_request_get_output_headers(call->req), "Retry-After", retry);
        http_reply_error(call, 429, "too_many_failures",
                         "Too many failed log-ins; wait before trying again.");
        return;
    }
    /* An unknown or disabled account is verified against the dummy hash: as slow as a known one */
    j->found = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "found")) &&
               !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "disabled")) &&
               strlen(stored) < sizeof j->hash;
    snprintf(j->hash, sizeof j->hash, "%s", j->found ? stored : password_dummy_hash);
    cJSON_Delete(reply);
    pw_submit(j, pw_verify_work, login_verified);
}

void operators_login(struct http_call *call)
{
    const cJSON *id, *pw;
    const char *problem = NULL, *argv[2];
    struct pw_job *j;
    cJSON *body;

    if ((body = http_body_object(call)) == NULL) return;
    id = cJSON_GetObjectItemCaseSensitive(body, "operator_id");
    pw = cJSON_GetObjectItemCaseSensitive(body, "password");
    if (id == NULL || pw == NULL) {
        http_reply_error(call, 400, "missing_field", "operator_id and password are required.");
        goto done;
    }
    if (!cJSON_IsString(id)) {
        http_reply_error(call, 400, "invalid_field", "operator_id must be a string.");
        goto done;
    }
    if ((j = pw_job_new(call)) == NULL) goto done;
    if ((problem = pw_take(j, pw)) != NULL) {
        if (problem[0] == '\0')
            http_reply_error(call, 500, "internal", "The server ran out of memory.");
        else
            http_reply_error(call, 400, "invalid_field", problem);
        goto done;
    }
    j->id_known = auth_team_id_valid(id->valuestring, strlen(id->valuestring));
    if (j->id_known) snprintf(j->id, sizeof j->id, "%s", id->valuestring);
    if (ratelimit_client_hash(call, j->addr) != 0) {
        http_reply_error(call, 400, "bad_request", "The client address is unknown.");
        goto done;
    }
    argv[0] = j->id; /* "" when malformed: no such account */
    argv[1] = j->addr;
    http_fcall_audited(call, "ess_login_begin", 2, argv, on_login_begin);
done:
    cJSON_Delete(body);
}

static void on_logout(struct http_call *call, cJSON *reply)
{
    char set_cookie[160];
    cJSON_Delete(reply);
    if (session_set_cookie(set_cookie, sizeof set_cookie, NULL, session_cookie_secure(call)) == 0)
        evhttp_add_header(evhttp_request_get_output_headers(call->req), "Set-Cookie", set_cookie);
    log_info("operator %s logged out of the console", call->auth.operator_id);
    http_reply_text(call, 204, "application/json; charset=utf-8", "", 0);
}

void operators_logout(struct http_call *call)
{
    const char *argv[1];
    if (!call->auth.by_cookie) {
        http_reply_error(call, 400, "no_session",
                         "This request carries no console session to end (it used a bearer "
                         "token).");
        return;
    }
    argv[0] = call->auth.token_hash;
    http_fcall(call, "ess_session_end", 0, 1, argv, NULL, on_logout);
}
