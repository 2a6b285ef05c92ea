/* HTTP calls: lifetime (client gone detection), JSON replies, error bodies and metrics. */
#include "http.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "netaddr.h"
#include "router.h"
#include "text.h"

#define MAX_JSON_DEPTH 8
#define XFF_MAX 4096         /* an X-Forwarded-For longer than this is not read */
#define STREAM_READ_MAX 4096 /* what a stream's client may send before it is no longer read */

uint64_t http_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void http_call_gone(struct http_call *call)
{
    struct evhttp_request *req = call->req;
    call->req = NULL;
    call->conn = NULL;
    call->conn_ended = NULL;
    /* A request its connection let go of (the client left while the answer was being sent, as
     * a stream's is) is no longer freed by evhttp: it is ours. */
    if (req && evhttp_request_get_connection(req) == NULL) evhttp_request_free(req);
    if (call->on_gone) call->on_gone(call);
}

static void on_client_gone(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    http_call_gone(arg);
}

struct http_call *http_call_new(struct evhttp_request *req, struct router *router,
                                enum metrics_route route)
{
    struct http_call *call = calloc(1, sizeof *call);
    struct evhttp_connection *evcon;
    if (call == NULL) return NULL;
    call->req = req;
    call->router = router;
    call->route = route;
    call->started_us = http_now_us();
    call->store_link = router->store ? store_link_number(router->store) : 0;
    router->inflight++;
    evcon = evhttp_request_get_connection(req);
    if (evcon) evhttp_connection_set_closecb(evcon, on_client_gone, call);
    return call;
}

int http_call_watch(struct http_call *call)
{
    struct evhttp_connection *evcon = call->req ? evhttp_request_get_connection(call->req) : NULL;
    bufferevent_data_cb readcb, writecb;
    bufferevent_event_cb eventcb;
    struct bufferevent *bev;
    void *arg;

    if (evcon == NULL) return -1;
    if (call->watched) return 0;
    bev = evhttp_connection_get_bufferevent(evcon);
    bufferevent_getcb(bev, &readcb, &writecb, &eventcb, &arg);
    call->watch_readcb = readcb;
    call->watched = 1;
    /* evhttp's read callback must not run: it refuses bytes while a request is being answered
     * (it stops the process). Its event callback sees the end of file and frees the connection,
     * whose close callback ends call->req. */
    bufferevent_setcb(bev, NULL, writecb, eventcb, arg);
    bufferevent_setwatermark(bev, EV_READ, 0, HTTP_WATCH_READ_MAX);
    bufferevent_set_timeouts(bev, NULL, NULL);
    bufferevent_enable(bev, EV_READ);
    return 0;
}

/* Gives a watched call's connection back to evhttp as it had it while the request is answered:
 * its read callback, reading off, no read limit, the request timeout (ESS_REQUEST_TIMEOUT_S,
 * which the server sets on every connection). */
static void call_unwatch(struct http_call *call)
{
    struct evhttp_connection *evcon = call->req ? evhttp_request_get_connection(call->req) : NULL;
    struct timeval timeout = {call->router->cfg->request_timeout_s, 0};
    bufferevent_data_cb writecb;
    bufferevent_event_cb eventcb;
    struct bufferevent *bev;
    void *arg;

    call->watched = 0;
    if (evcon == NULL) return;
    bev = evhttp_connection_get_bufferevent(evcon);
    bufferevent_getcb(bev, NULL, &writecb, &eventcb, &arg);
    bufferevent_setcb(bev, call->watch_readcb, writecb, eventcb, arg);
    bufferevent_disable(bev, EV_READ);
    bufferevent_setwatermark(bev, EV_READ, 0, 0);
    evhttp_connection_set_timeout_tv(evcon, &timeout);
}

void http_call_free(struct http_call *call)
{
    if (call == NULL) return;
    if (call->watched) call_unwatch(call);
    if (call->req && call->conn == NULL) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(call->req);
        if (evcon) evhttp_connection_set_closecb(evcon, NULL, NULL);
    }
    if (call->conn_ended) call->conn_ended(call->conn);
    if (call->data_free) call->data_free(call->data);
    if (call->router && call->router->inflight > 0) call->router->inflight--;
    free(call);
}

/* The headers every answer of a kind carries (http.h, enum http_kind): the one place they are
 * set. */
int http_console_csp(const char *tiles, char *out, size_t outsize)
{
    size_t skip = 0, n;
    int len;

    if (tiles && strncasecmp(tiles, "https://", 8) == 0)
        skip = 8;
    else if (tiles && strncasecmp(tiles, "http://", 7) == 0)
        skip = 7;
    n = skip ? skip + strcspn(tiles + skip, "/?#") : 0; /* the origin: up to the path */
    len = snprintf(out, outsize,
                   "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'%s%.*s; "
                   "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                   "base-uri 'none'",
                   n ? " " : "", (int)n, n ? tiles : "");
    if (len < 0 || (size_t)len >= outsize) {
        snprintf(out, outsize, "%s", HTTP_PAGE_CSP);
        return -1;
    }
    return 0;
}

static void add_kind_headers(struct evkeyvalq *h, const struct http_call *call, int status)
{
    enum http_kind kind = call->kind;
    int kept =
        (kind == HTTP_KIND_FILE || kind == HTTP_KIND_CONSOLE) && (status == 200 || status == 304);
    evhttp_add_header(h, "Cache-Control", kept ? "no-cache" : "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (kind == HTTP_KIND_OPEN311) evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    if (kind == HTTP_KIND_API || kind == HTTP_KIND_OPEN311) return;
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "X-Robots-Tag", "noindex");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    if (kind == HTTP_KIND_CONSOLE) {
        char csp[2048]; /* a template longer than this gets no tile host: no base map */
        http_console_csp(call->router && call->router->cfg ? call->router->cfg->map_tiles : NULL,
                         csp, sizeof csp);
        evhttp_add_header(h, "Content-Security-Policy", csp);
        return;
    }
    evhttp_add_header(h, "Content-Security-Policy", HTTP_PAGE_CSP);
}

static void free_owned(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

enum { TEXT_COPY, TEXT_OWNED, TEXT_STATIC };

/* Answers with text[0..len): copied (TEXT_COPY); the caller's heap string, handed to the reply
 * without a copy and freed with it, or here when it cannot be sent (TEXT_OWNED); or static bytes
 * sent as they are (TEXT_STATIC). */
static void send_and_free_text(struct http_call *call, int status, const char *content_type,
                               const char *text, size_t len, int owned)
{
    metrics_count_request(call->route, status);
    if (call->req) {
        struct evhttp_request *req = call->req;
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        struct evbuffer *out = evbuffer_new();
        if (content_type) evhttp_add_header(h, "Content-Type", content_type);
        add_kind_headers(h, call, status);
        if (out && owned != TEXT_COPY &&
            evbuffer_add_reference(out, text, len, owned == TEXT_OWNED ? free_owned : NULL, NULL) ==
                0)
            owned = TEXT_COPY; /* the buffer holds it now (and frees what it owns) */
        else if (out)
            evbuffer_add(out, text, len);
        if (owned == TEXT_OWNED) free((void *)text);
        http_call_free(call); /* detaches the close callback before the reply may free req */
        evhttp_send_reply(req, status, NULL, out);
        if (out) evbuffer_free(out);
        return;
    }
    if (owned == TEXT_OWNED) free((void *)text);
    http_call_free(call);
}

void http_reply_owned(struct http_call *call, int status, const char *content_type, char *text,
                      size_t len)
{
    send_and_free_text(call, status, content_type, text, len, TEXT_OWNED);
}

void http_reply_static(struct http_call *call, int status, const char *content_type,
                       const void *data, size_t len)
{
    send_and_free_text(call, status, content_type, data, len, TEXT_STATIC);
}

static void send_and_free(struct http_call *call, int status, const char *content_type,
                          const char *text, size_t len)
{
    send_and_free_text(call, status, content_type, text, len, TEXT_COPY);
}

void http_reply_text(struct http_call *call, int status, const char *content_type, const char *text,
                     size_t len)
{
    send_and_free(call, status, content_type, text, len);
}

void http_reply_json(struct http_call *call, int status, cJSON *doc)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (text == NULL) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"The server ran out of memory.\"}}";
        send_and_free(call, 500, "application/json; charset=utf-8", oom, sizeof oom - 1);
        return;
    }
    send_and_free(call, status, "application/json; charset=utf-8", text, strlen(text));
    free(text);
}

/* Open311's error: [{"code": status, "description": message}] (GeoReport v2). */
static void reply_open311_error(struct http_call *call, int status, const char *message)
{
    cJSON *doc = cJSON_CreateArray();
    cJSON *err = cJSON_CreateObject();
    int ok = doc != NULL && err != NULL && cJSON_AddItemToArray(doc, err);

    if (!ok) cJSON_Delete(err); /* not in doc */
    ok = ok && cJSON_AddNumberToObject(err, "code", status) &&
         cJSON_AddStringToObject(err, "description", message);
    if (!ok) {
        cJSON_Delete(doc);
        doc = NULL; /* http_reply_json(NULL): the fixed 500 */
    }
    http_reply_json(call, status, doc);
}

void http_reply_error(struct http_call *call, int status, const char *code, const char *message)
{
    if (call->reply_error) {
        void (*page)(struct http_call *, int, const char *, const char *) = call->reply_error;
        call->reply_error = NULL;
        page(call, status, code, message);
        return;
    }
    if (call->kind == HTTP_KIND_OPEN311) {
        reply_open311_error(call, status, message);
        return;
    }
    http_reply_error_with(call, status, code, message, NULL);
}

void http_reply_error_with(struct http_call *call, int status, const char *code,
                           const char *message, cJSON *extra)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(doc, "error");
    int ok = err != NULL && cJSON_AddStringToObject(err, "code", code) &&
             cJSON_AddStringToObject(err, "message", message);
    while (ok && extra && extra->child) {
        cJSON *member = cJSON_DetachItemViaPointer(extra, extra->child);
        if (!cJSON_AddItemToObject(err, member->string, member)) { /* copies the name */
            cJSON_Delete(member);
            ok = 0;
        }
    }
    cJSON_Delete(extra);
    if (!ok) {
        /* out of memory: never an error without its code; http_reply_json(NULL) answers the
         * fixed 500 body */
        cJSON_Delete(doc);
        http_reply_json(call, 500, NULL);
        return;
    }
    if (status == 401 && call->req) {
        evhttp_add_header(evhttp_request_get_output_headers(call->req), "WWW-Authenticate",
                          "Bearer realm=\"ess-router\"");
    }
    http_reply_json(call, status, doc);
}

int http_stream_start(struct http_call *call, const char *content_type)
{
    struct evhttp_connection *evcon = call->req ? evhttp_request_get_connection(call->req) : NULL;
    struct evkeyvalq *h;
    struct bufferevent *bev;
    struct timeval stall = {HTTP_STREAM_STALL_S, 0};
    int one = 1;

    if (evcon == NULL) return -1;
    h = evhttp_request_get_output_headers(call->req);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Accel-Buffering", "no"); /* proxies pass each event on at once */
    evhttp_add_header(h, "Connection", "close");
    metrics_count_request(call->route, 200);
    call->streaming = 1;
    evhttp_send_reply_start(call->req, 200, "OK");
    /* evhttp reads on (to see the client leave) with its request timeout: an idle stream must
     * not be cut by it, and bytes the client sends meanwhile must not pile up. */
    bev = evhttp_connection_get_bufferevent(evcon);
    bufferevent_set_timeouts(bev, NULL, &stall);
    bufferevent_setwatermark(bev, EV_READ, 0, STREAM_READ_MAX);
    /* Each piece goes out at once: Nagle's algorithm would hold a piece back until the client
     * acknowledged the one before, which it may delay by 40 ms. */
    setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

static void on_stream_written(struct evhttp_connection *evcon, void *arg)
{
    struct http_call *call = arg;
    void (*written)(struct http_call *) = call->written;
    (void)evcon;
    call->written = NULL;
    if (written) written(call);
}

int http_stream_write(struct http_call *call, const char *data, size_t len,
                      void (*written)(struct http_call *call))
{
    struct evbuffer *buf;
    if (call->req == NULL || !call->streaming || (buf = evbuffer_new()) == NULL) return -1;
    if (evbuffer_add(buf, data, len) != 0) {
        evbuffer_free(buf);
        return -1;
    }
    call->written = written;
    evhttp_send_reply_chunk_with_cb(call->req, buf, written ? on_stream_written : NULL,
                                    written ? call : NULL);
    evbuffer_free(buf);
    return 0;
}

size_t http_stream_pending(const struct http_call *call)
{
    struct evhttp_connection *evcon = call->req ? evhttp_request_get_connection(call->req) : NULL;
    if (evcon == NULL) return 0;
    return evbuffer_get_length(bufferevent_get_output(evhttp_connection_get_bufferevent(evcon)));
}

void http_stream_end(struct http_call *call)
{
    struct evhttp_request *req = call->req;
    call->on_gone = NULL;
    http_call_free(call); /* detaches the close callback first, as send_and_free does */
    if (req) evhttp_send_reply_end(req);
}

void http_stream_abort(struct http_call *call)
{
    struct evhttp_connection *evcon = call->req ? evhttp_request_get_connection(call->req) : NULL;
    call->on_gone = NULL;
    if (evcon) evhttp_connection_free(evcon); /* its close callback ends call->req */
    http_call_free(call);
}

/* An answer waiting for the replicas (http_reply_json_replicated). */
struct replicated_answer {
    struct http_call *call;
    int status;
    cJSON *doc;
};

static void reply_not_replicated(struct http_call *call)
{
    http_reply_error(call, 503, "redis_unavailable",
                     "The report could not be confirmed on a second server. Try again shortly: "
                     "the same request again is safe and is not counted twice.");
}

static void on_replicated(enum store_status result, const char *data, size_t len, void *arg)
{
    struct replicated_answer *a = arg;
    struct http_call *call = a->call;
    (void)data;
    (void)len;
    if (call->req == NULL) { /* the client went away; what was stored stays stored */
        cJSON_Delete(a->doc);
        http_call_free(call);
    } else if (result != STORE_OK) {
        cJSON_Delete(a->doc);
        reply_not_replicated(call);
    } else {
        http_reply_json(call, a->status, a->doc);
    }
    free(a);
}

void http_reply_json_replicated(struct http_call *call, int status, cJSON *doc)
{
    struct store *store = call->router->store;
    struct replicated_answer *a;
    if (store_wait_replicas(store) == 0) {
        http_reply_json(call, status, doc);
        return;
    }
    if (store_link_number(store) != call->store_link) {
        cJSON_Delete(doc);
        reply_not_replicated(call);
        return;
    }
    if ((a = malloc(sizeof *a)) == NULL) {
        cJSON_Delete(doc);
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    a->call = call;
    a->status = status;
    a->doc = doc;
    if (store_wait_replicated(store, on_replicated, a) != 0) {
        free(a);
        cJSON_Delete(doc);
        reply_not_replicated(call);
    }
}

void http_reply_store_failure(struct http_call *call, enum store_status status)
{
    if (status == STORE_ERROR) {
        http_reply_error(call, 500, "internal", "The case store refused the request.");
        return;
    }
    http_reply_error(call, 503, "redis_unavailable",
                     "The case store is unavailable; nothing was stored. Try again shortly.");
}

void http_reply_refusal(struct http_call *call, const char *code)
{
    if (strcmp(code, "audit_unavailable") == 0) {
        http_reply_error(call, 503, "audit_unavailable",
                         "The access could not be recorded in the audit log, so nothing was read "
                         "or changed. Try again shortly.");
    } else if (strcmp(code, "not_found") == 0) {
        http_reply_error(call, 404, "not_found", "No such case.");
    } else if (strcmp(code, "team_not_found") == 0) {
        http_reply_error(call, 404, "not_found", "No such team.");
    } else if (strcmp(code, "unauthorized") == 0) {
        http_reply_error(call, 401, "unauthorized", "The bearer token is not valid.");
    } else if (strcmp(code, "forbidden") == 0) {
        http_reply_error(call, 403, "forbidden", "This token may not act on this resource.");
    } else if (strcmp(code, "invalid_transition") == 0) {
        http_reply_error(call, 409, "invalid_transition",
                         "The case cannot move to that status from its current one.");
    } else if (strcmp(code, "not_assigned") == 0) {
        http_reply_error(call, 409, "not_assigned", "This team does not hold the case.");
    } else if (strcmp(code, "team_full") == 0) {
        http_reply_error(call, 409, "team_full", "The team has no free capacity.");
    } else if (strcmp(code, "case_open") == 0) {
        http_reply_error(call, 409, "case_open",
                         "The case is not closed: its personal data is erased only once it is "
                         "closed. Close it first.");
    } else if (strcmp(code, "case_merged") == 0) {
        http_reply_error(call, 409, "case_merged",
                         "This case was merged into another case: act on that case instead.");
    } else if (strcmp(code, "erased") == 0) {
        http_reply_error(call, 409, "erased",
                         "The case's personal data was erased: it takes no new personal data.");
    } else {
        log_error("store refused with an unexpected code");
        http_reply_error(call, 500, "internal", "Unexpected answer from the case store.");
    }
}

void http_reply_store_answer(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal) {
        http_reply_refusal(call, refusal);
        cJSON_Delete(reply);
        return;
    }
    http_reply_json(call, 200, reply);
}

static void on_fcall_reply(enum store_status status, const char *data, size_t len, void *arg)
{
    struct http_call *call = arg;
    cJSON *reply;
    if (call->req == NULL) {
        http_call_free(call);
        return;
    }
    if (status == STORE_ERROR && store_error_is_oom(data, len)) {
        /* Redis refused the whole call before it ran (maxmemory): nothing was read or written */
        log_error("Redis is out of memory (maxmemory): a request was refused");
        http_reply_error(call, 503, "redis_unavailable",
                         "The case store is out of memory; nothing was read or stored. Try again "
                         "shortly.");
        return;
    }
    if (status != STORE_OK) {
        http_reply_store_failure(call, status);
        return;
    }
    reply = data ? cJSON_ParseWithLength(data, len) : NULL;
    if (reply == NULL) {
        log_error("store function answered something that is not JSON");
        http_reply_error(call, 500, "internal", "Unexpected answer from the case store.");
        return;
    }
    call->on_reply(call, reply);
}

void http_fcall(struct http_call *call, const char *name, int read_only, int argc,
                const char **argv, const size_t *argvlen,
                void (*on_reply)(struct http_call *call, struct cJSON *reply))
{
    call->on_reply = on_reply;
    if (store_fcall(call->router->store, name, read_only, argc, argv, argvlen, on_fcall_reply,
                    call) != 0)
        http_reply_store_failure(call, STORE_UNAVAILABLE);
}

void http_fcall_audited(struct http_call *call, const char *name, int argc, const char **argv,
                        void (*on_reply)(struct http_call *call, struct cJSON *reply))
{
    char ctx[HTTP_AUDIT_CTX_MAX];
    const char *all[HTTP_AUDITED_MAX_ARGS + 1];

    if (argc > HTTP_AUDITED_MAX_ARGS || http_audit_ctx(call, ctx) != 0) {
        log_error("%s: the audit context could not be made", name);
        http_reply_error(call, 500, "internal", "The request could not be prepared.");
        return;
    }
    all[0] = ctx;
    if (argc > 0) memcpy(all + 1, argv, (size_t)argc * sizeof *argv);
    http_fcall(call, name, 0, argc + 1, all, NULL, on_reply);
}

const char *http_refusal(const cJSON *reply)
{
    return json_string(reply, "err", NULL);
}

int http_reply_refused(struct http_call *call, cJSON *reply)
{
    if (http_refusal(reply) == NULL) return 0;
    http_reply_refusal(call, http_refusal(reply));
    cJSON_Delete(reply);
    return 1;
}

cJSON *http_body_object(struct http_call *call)
{
    cJSON *doc = NULL;

    switch (
        json_parse_object(call->body, call->body_len, MAX_JSON_DEPTH, JSON_PARSE_UNIQUE, &doc)) {
    case JSON_PARSE_OK:
        return doc;
    case JSON_PARSE_EMPTY:
        http_reply_error(call, 400, "invalid_json", "The request body is empty.");
        return NULL;
    case JSON_PARSE_NOT_UTF8:
        http_reply_error(call, 400, "invalid_utf8", "The request body is not valid UTF-8.");
        return NULL;
    case JSON_PARSE_TOO_DEEP:
        http_reply_error(call, 400, "too_deep", "The JSON body nests too deeply.");
        return NULL;
    case JSON_PARSE_NUL:
        http_reply_error(call, 400, "invalid_json", "Strings must not contain the NUL character.");
        return NULL;
    case JSON_PARSE_NOT_OBJECT:
        http_reply_error(call, 400, "not_an_object", "The request body must be a JSON object.");
        return NULL;
    case JSON_PARSE_DUPLICATE:
        http_reply_error(call, 400, "duplicate_member",
                         "A member name appears twice in one object of the request body.");
        return NULL;
    case JSON_PARSE_NO_MEMORY:
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return NULL;
    default:
        http_reply_error(call, 400, "invalid_json", "The request body is not valid JSON.");
        return NULL;
    }
}

const char *http_actor(const struct http_call *call)
{
    switch (call->auth.role) {
    case AUTH_TEAM:
        return call->auth.team_id;
    case AUTH_ADMIN:
        return "admin";
    case AUTH_OPERATOR:
    case AUTH_SUPERVISOR:
        return call->auth.operator_id;
    case AUTH_AGENCY:
        return call->auth.agency_id;
    default:
        return "";
    }
}

int http_body_text(struct http_call *call, const cJSON *body, const char *name, size_t max,
                   const char *problem, const char **s, size_t *n)
{
    char blank[96];

    *s = NULL;
    *n = 0;
    if (json_text(body, name, max, s, n) != 0 || *s == NULL || !text_is_plain(*s, *n)) {
        int missing = *s == NULL && !cJSON_HasObjectItem(body, name);
        http_reply_error(call, 400, missing ? "missing_field" : "invalid_field", problem);
        return -1;
    }
    if ((*n = text_trim_space(s, *n)) == 0) {
        snprintf(blank, sizeof blank, "%s must not be blank.", name);
        http_reply_error(call, 400, "invalid_field", blank);
        return -1;
    }
    return 0;
}

/* Parses s[0..n) (blanks around it ignored) as one address, no prefix. */
static int parse_one_address(const char *s, size_t n, struct net_cidr *out)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || memchr(s, '/', n) != NULL) return -1;
    return net_cidr_parse(s, n, out);
}

int http_client_address(const struct http_call *call, struct net_cidr *out)
{
    struct evhttp_connection *evcon;
    char *peer = NULL;
    ev_uint16_t port = 0;
    const char *xff, *last;
    struct net_cidr fwd;

    if (call->req == NULL || (evcon = evhttp_request_get_connection(call->req)) == NULL) return -1;
    evhttp_connection_get_peer(evcon, &peer, &port);
    if (peer == NULL || parse_one_address(peer, strlen(peer), out) != 0) return -1;
    if (call->router == NULL || !net_list_contains(&call->router->cfg->trusted_proxies, out))
        return 0;
    xff = evhttp_find_header(evhttp_request_get_input_headers(call->req), "X-Forwarded-For");
    if (xff == NULL || strlen(xff) > XFF_MAX) return 0;
    last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    if (parse_one_address(last, strlen(last), &fwd) == 0) *out = fwd;
    return 0;
}

/* The audit's name of the caller's kind (ess.lua's AUDIT_ACTORS); "" for no one. */
static const char *audit_kind(enum auth_role role)
{
    switch (role) {
    case AUTH_SUPERVISOR:
        return "supervisor";
    case AUTH_OPERATOR:
        return "operator";
    case AUTH_TEAM:
        return "team";
    case AUTH_ADMIN:
        return "admin";
    case AUTH_AGENCY:
        return "agency";
    default:
        return "";
    }
}

int http_audit_ctx(const struct http_call *call, char out[HTTP_AUDIT_CTX_MAX])
{
    struct net_cidr a;
    char ip[INET6_ADDRSTRLEN] = "", keep[24];
    int team = call->auth.role == AUTH_TEAM, ok;
    cJSON *ctx = cJSON_CreateObject();

    if (http_client_address(call, &a) == 0 &&
        inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.addr, ip, sizeof ip) == NULL)
        ip[0] = '\0';
    snprintf(keep, sizeof keep, "%lld", call->router->cfg->audit_retention_ms);
    ok = ctx != NULL && cJSON_AddStringToObject(ctx, "kind", audit_kind(call->auth.role)) &&
         cJSON_AddStringToObject(ctx, "id", http_actor(call)) &&
         cJSON_AddStringToObject(ctx, "ip", ip) && cJSON_AddRawToObject(ctx, "keep_ms", keep) &&
         (!team || (cJSON_AddStringToObject(ctx, "auth_team", call->auth.team_id) &&
                    cJSON_AddStringToObject(ctx, "auth_hash", call->auth.token_hash))) &&
         cJSON_PrintPreallocated(ctx, out, HTTP_AUDIT_CTX_MAX, 0);
    cJSON_Delete(ctx);
    if (!ok) out[0] = '\0';
    return ok ? 0 : -1;
}

int http_require_role(struct http_call *call, unsigned allowed_roles)
{
    enum auth_role role = call->auth.role;
    if (allowed_roles & (1u << role)) return 0;
    if (role == AUTH_NONE || role == AUTH_INVALID) {
        http_reply_error(call, 401, "unauthorized",
                         role == AUTH_NONE ? "A bearer token is required."
                                           : "The bearer token is not valid.");
    } else {
        http_reply_error(call, 403, "forbidden", "This token may not use this endpoint.");
    }
    return 1;
}

int http_query_parse(struct http_call *call, struct evkeyvalq *params)
{
    const struct evhttp_uri *uri = call->req ? evhttp_request_get_evhttp_uri(call->req) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;

    if (http_query_split(query, params) != 0) {
        http_reply_error(call, 400, "invalid_query", "The query string is malformed.");
        return -1;
    }
    return 0;
}
