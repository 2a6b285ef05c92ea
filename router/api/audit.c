/* The audit log's two readers: a case's access log and the whole log with filters, each a call
 * of ess_audit_list. Entries as DESIGN gives them: {"id", "at", "actor": {"kind", "id"},
 * "action", "case_id", "ip", "outcome"}. */
#include "audit.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "http.h"
#include "text.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 500
#define AUDIT_ACTOR_MAX (16 + TEXT_ID_MAX) /* "<kind>:<id>" */

static const char *const audit_kinds[] = {"operator", "supervisor", "team",
                                          "agency",   "admin",      NULL};
static const char *const audit_actions[] = {"read",    "list", "update", "export",       "erase",
                                            "consent", "chat", "login",  "login_failed", NULL};

static int one_of(const char *const *list, const char *s, size_t n)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == n && strncmp(list[i], s, n) == 0) return 1;
    return 0;
}

/* 1 when s is an entry id as the audit gives them: "<ms>-<seq>", 1 to 20 digits each. */
static int cursor_valid(const char *s)
{
    size_t ms = strspn(s, "0123456789"), seq;
    if (ms < 1 || ms > 20 || s[ms] != '-') return 0;
    seq = strspn(s + ms + 1, "0123456789");
    return seq >= 1 && seq <= 20 && s[ms + 1 + seq] == '\0';
}

/* The answer of ess_audit_list: its entries and next cursor (with the case's id for an access
 * log, which answers 404 for a case that does not exist). */
static void on_listed(struct http_call *call, cJSON *reply)
{
    int access_log = call->route == METRICS_ROUTE_CASE_ACCESS_LOG;
    cJSON *doc, *entries, *next;

    if (http_refusal(reply)) {
        http_reply_refusal(call, http_refusal(reply));
        cJSON_Delete(reply);
        return;
    }
    if (access_log && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "case_exists"))) {
        cJSON_Delete(reply);
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    entries = cJSON_DetachItemFromObjectCaseSensitive(reply, "entries");
    next = cJSON_DetachItemFromObjectCaseSensitive(reply, "next");
    cJSON_Delete(reply);
    doc = cJSON_CreateObject();
    if (doc == NULL || !cJSON_IsArray(entries) ||
        (access_log && !cJSON_AddStringToObject(doc, "case_id", call->params[0])) ||
        !cJSON_AddItemToObject(doc, "entries", entries)) {
        cJSON_Delete(entries);
        cJSON_Delete(next);
        cJSON_Delete(doc);
        http_reply_json(call, 500, NULL);
        return;
    }
    if (!cJSON_IsString(next)) {
        cJSON_Delete(next);
        next = cJSON_CreateNull();
    }
    if (next == NULL || !cJSON_AddItemToObject(doc, "next_cursor", next)) {
        cJSON_Delete(next);
        cJSON_Delete(doc);
        doc = NULL; /* 500: a page without its cursor would end a reading early */
    }
    http_reply_json(call, 200, doc);
}

/* What the query asks, read and checked. */
struct audit_query {
    char case_id[27];
    char kind[16];
    char actor[TEXT_ID_MAX + 1];
    char action[16];
    char from[24], to[24]; /* ms, or "" */
    char cursor[48];
    char limit[8];
};

/* Reads params into q; the problem, or NULL when the query is good. access_log: only cursor and
 * limit are read (the case is the path's). */
static const char *audit_query_read(struct evkeyvalq *params, int access_log, struct audit_query *q)
{
    const char *v;
    long limit = AUDIT_LIMIT_DEFAULT;

    memset(q, 0, sizeof *q);
    if ((v = evhttp_find_header(params, "limit")) &&
        http_query_long(v, 1, AUDIT_LIMIT_MAX, &limit) != 0)
        return "limit must be a whole number from 1 to 500.";
    snprintf(q->limit, sizeof q->limit, "%ld", limit);
    if ((v = evhttp_find_header(params, "cursor"))) {
        if (!cursor_valid(v)) return "cursor is not one this server gave.";
        snprintf(q->cursor, sizeof q->cursor, "%s", v);
    }
    if (access_log) return NULL;
    if ((v = evhttp_find_header(params, "case_id"))) {
        size_t n = strlen(v);
        for (size_t i = 0; i < n && i < sizeof q->case_id - 1; i++)
            q->case_id[i] = v[i] >= 'a' && v[i] <= 'z' ? (char)(v[i] - 'a' + 'A') : v[i];
        if (n != sizeof q->case_id - 1 || !cases_id_valid(q->case_id)) return "Unknown case_id.";
    }
    if ((v = evhttp_find_header(params, "actor"))) {
        const char *colon = strchr(v, ':');
        const char *id = colon ? colon + 1 : v;
        if (colon && !one_of(audit_kinds, v, (size_t)(colon - v)))
            return "actor is <kind>:<id> or <id>; kind is operator, supervisor, team, agency or "
                   "admin.";
        if (!text_id_valid(id, strlen(id)))
            return "actor's id must match [a-z0-9][a-z0-9_-]{0,63}.";
        if (colon) snprintf(q->kind, sizeof q->kind, "%.*s", (int)(colon - v), v);
        snprintf(q->actor, sizeof q->actor, "%s", id);
    }
    if ((v = evhttp_find_header(params, "action"))) {
        if (!one_of(audit_actions, v, strlen(v)))
            return "action must be read, list, update, export, erase, consent, chat, login or "
                   "login_failed.";
        snprintf(q->action, sizeof q->action, "%s", v);
    }
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "to" : "from";
        int64_t ms;
        if ((v = evhttp_find_header(params, name)) == NULL) continue;
        if ((ms = text_time_parse_rfc3339(v)) < 0)
            return "from and to are RFC 3339 times in UTC, as 2026-11-21T03:04:05Z.";
        snprintf(i ? q->to : q->from, sizeof q->from, "%lld", (long long)ms);
    }
    return NULL;
}

static void audit_query_send(struct http_call *call, int access_log)
{
    struct evkeyvalq params;
    struct audit_query q;
    const char *problem, *argv[8];

    if (http_query_parse(call, &params) != 0) {
        evhttp_clear_headers(&params);
        return;
    }
    problem = audit_query_read(&params, access_log, &q);
    evhttp_clear_headers(&params);
    if (problem) {
        http_reply_error(call, 400, "invalid_query", problem);
        return;
    }
    argv[0] = access_log ? call->params[0] : q.case_id;
    argv[1] = q.kind;
    argv[2] = q.actor;
    argv[3] = q.action;
    argv[4] = q.from;
    argv[5] = q.to;
    argv[6] = q.cursor;
    argv[7] = q.limit;
    http_fcall(call, "ess_audit_list", 0, 8, argv, NULL, on_listed);
}

void audit_case_log(struct http_call *call)
{
    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    audit_query_send(call, 1);
}

void audit_list(struct http_call *call)
{
    audit_query_send(call, 0);
}
