/* Partner agencies' feed (feed.h): GET /v1/feed, POST /v1/feed/ack, the parked reads. */
#include "feed.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "eido.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "text.h"

#define FEED_COUNT_DEFAULT 100
#define FEED_COUNT_MAX 1000
#define FEED_BLOCK_MAX_MS 30000
#define ACK_MAX 1000
#define STREAM_ID_MAX 41 /* "<ms>-<seq>": two 64-bit numbers */

struct feed {
    struct router *router;
    struct waiter *parked; /* reads waiting for new entries */
    unsigned nparked;
};

/* One GET /v1/feed, owned by its call (call->data). */
struct waiter {
    struct feed *f;
    struct http_call *call;
    char count[8];
    long block_ms;
    int eido;            /* ?format=eido: each entry carries its case's EIDO */
    struct event *timer; /* once parked: answers empty at block_ms */
    int parked, reading, again, expired;
    struct waiter *prev, *next;
};

/* ------------------------------------------------------------------------------------------ */
/* GET /v1/feed */

static void waiter_unpark(struct waiter *w)
{
    if (!w->parked) return;
    if (w->prev)
        w->prev->next = w->next;
    else
        w->f->parked = w->next;
    if (w->next) w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->parked = 0;
    w->f->nparked--;
    metrics_set_feed_reads_waiting(w->f->nparked);
}

static void waiter_free(void *p)
{
    struct waiter *w = p;
    if (w == NULL) return;
    waiter_unpark(w);
    if (w->timer) event_free(w->timer);
    free(w);
}

static void feed_read(struct waiter *w, int audit_read);

/* The case summary's fields, as the case log holds them (ess.lua log_event); the times are
 * milliseconds there and RFC 3339 in the feed, distance_km a number. */
static const char *const summary_fields[] = {
    "tracking_code", "category",    "priority",   "status",     "team_id", "team_name",
    "team_name_en",  "distance_km", "created_at", "updated_at", "channel", "possible_duplicate_of",
    "merged_into"};

/* The value of name in a log entry's flat [name, value, ...] array, or NULL. */
static const char *field(const cJSON *flat, const char *name)
{
    const cJSON *k;
    for (k = flat ? flat->child : NULL; k && k->next; k = k->next->next)
        if (cJSON_IsString(k) && strcmp(k->valuestring, name) == 0)
            return cJSON_IsString(k->next) ? k->next->valuestring : NULL;
    return NULL;
}

/* Adds name: the RFC 3339 time of ms (digits), or null when ms is not a time. */
static cJSON *add_time(cJSON *obj, const char *name, const char *ms)
{
    char text[TEXT_TIME_SIZE], *end = NULL;
    long long v = ms && *ms ? strtoll(ms, &end, 10) : -1;
    if (v < 0 || (end && *end != '\0' && *end != '-')) return cJSON_AddNullToObject(obj, name);
    text_time_rfc3339((int64_t)v, text);
    return cJSON_AddStringToObject(obj, name, text);
}

/* Adds name: the number v, or null when v is not one. */
static cJSON *add_number(cJSON *obj, const char *name, const char *v)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || *end != '\0') return cJSON_AddNullToObject(obj, name);
    return cJSON_AddNumberToObject(obj, name, d);
}

/* A copy of src's item name (null when absent) added to obj. 0, or -1 out of memory. */
static int add_copy(cJSON *obj, const cJSON *src, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, name);
    cJSON *copy = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
    if (copy == NULL || !cJSON_AddItemToObject(obj, name, copy)) {
        cJSON_Delete(copy);
        return -1;
    }
    return 0;
}

/* One feed entry (README "For partner agencies") of a log entry [id, [name, value, ...]] and its
 * case's record (ess_feed_read's "cases": location, and what the agency may identify), or NULL
 * out of memory. With eido, the entry carries its case's EIDO. */
static cJSON *feed_entry(const cJSON *raw, const cJSON *cases, int eido)
{
    const cJSON *id = cJSON_GetArrayItem(raw, 0), *flat = cJSON_GetArrayItem(raw, 1);
    const char *case_id = field(flat, "case_id"), *event = field(flat, "event");
    const cJSON *info = case_id ? cJSON_GetObjectItemCaseSensitive(cases, case_id) : NULL;
    cJSON *e = cJSON_CreateObject(), *summary = cJSON_CreateObject();
    const char *at = field(flat, "at");
    size_t i;
    int ok = e && summary && cJSON_IsString(id) && case_id;

    if (ok) {
        if (at == NULL || *at == '\0') at = id->valuestring; /* the id's ms: "<ms>-<seq>" */
        if (event == NULL || *event == '\0') event = field(flat, "status");
        ok = cJSON_AddStringToObject(e, "id", id->valuestring) &&
             cJSON_AddStringToObject(e, "case_id", case_id) &&
             (event ? cJSON_AddStringToObject(e, "event", event)
                    : cJSON_AddNullToObject(e, "event")) &&
             add_time(e, "at", at) && cJSON_AddStringToObject(summary, "case_id", case_id);
    }
    for (i = 0; ok && i < sizeof summary_fields / sizeof *summary_fields; i++) {
        const char *name = summary_fields[i], *v = field(flat, name);
        if (v == NULL || *v == '\0')
            ok = cJSON_AddNullToObject(summary, name) != NULL;
        else if (strcmp(name, "created_at") == 0 || strcmp(name, "updated_at") == 0)
            ok = add_time(summary, name, v) != NULL;
        else if (strcmp(name, "distance_km") == 0)
            ok = add_number(summary, name, v) != NULL;
        else
            ok = cJSON_AddStringToObject(summary, name, v) != NULL;
    }
    if (ok) {
        ok = cJSON_AddItemToObject(e, "case", summary);
        if (ok) summary = NULL;
    }
    if (ok) ok = add_copy(e, info, "location") == 0;
    if (ok && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "share")))
        ok = add_copy(e, info, "reporter") == 0 && add_copy(e, info, "description") == 0 &&
             add_copy(e, info, "address") == 0;
    if (ok && eido) {
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(info, "eido_case");
        if (src != NULL) { /* none: the case is gone, no EIDO to make */
            cJSON *doc = eido_document(src);
            ok = doc && cJSON_AddItemToObject(e, "eido", doc);
            if (!ok) {
                cJSON_Delete(doc);
                log_error("feed: the EIDO of case %s could not be made", case_id);
            }
        }
    }
    cJSON_Delete(summary);
    if (!ok) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

/* Answers the entries of reply (ess_feed_read's; taken) and ends the call. */
static void feed_answer(struct waiter *w, cJSON *reply)
{
    cJSON *doc = cJSON_CreateObject(), *entries = cJSON_CreateArray();
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(reply, "entries");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(reply, "cases"), *r;
    int ok = doc && entries;

    cJSON_ArrayForEach (r, raw) {
        cJSON *e = ok ? feed_entry(r, cases, w->eido) : NULL;
        if (e == NULL || !cJSON_AddItemToArray(entries, e)) {
            cJSON_Delete(e);
            ok = 0;
            break;
        }
    }
    cJSON_Delete(reply);
    if (!ok || !cJSON_AddItemToObject(doc, "entries", entries)) {
        cJSON_Delete(entries);
        cJSON_Delete(doc);
        http_reply_json(w->call, 200, NULL); /* out of memory: 500 */
        return;
    }
    http_reply_json(w->call, 200, doc);
}

/* The client of a waiting read left (http_call_watch): its place among the waiting reads is
 * given back now rather than at block_ms (waiter_free, from the call's end, unparks it and stops
 * its timer). */
static void on_parked_gone(struct http_call *call)
{
    struct waiter *w = call->data;
    if (!w->reading) http_call_free(call); /* else the read's answer frees it (http_fcall) */
}

static void on_wait_over(evutil_socket_t fd, short what, void *arg)
{
    struct waiter *w = arg;
    (void)fd;
    (void)what;
    w->expired = 1;
    if (!w->reading) feed_answer(w, NULL);
}

/* Joins the reads that new entries wake (from the start, so that an entry appended while its
 * first read is in flight is not missed). 0, or -1 (answered). */
static int waiter_join(struct waiter *w)
{
    struct feed *f = w->f;
    if (f->nparked >= FEED_MAX_WAITS) {
        log_warn("feed: %u reads waiting: one more refused", f->nparked);
        http_reply_error(w->call, 503, "too_many_waits",
                         "Too many feed reads are waiting; read again shortly.");
        return -1;
    }
    w->parked = 1;
    w->next = f->parked;
    if (f->parked) f->parked->prev = w;
    f->parked = w;
    f->nparked++;
    metrics_set_feed_reads_waiting(f->nparked);
    w->call->on_gone = on_parked_gone;
    http_call_watch(w->call); /* -1: the client is gone already; its read's answer frees it */
    return 0;
}

/* Waits for new entries until block_ms has passed (once). */
static void waiter_park(struct waiter *w)
{
    struct timeval tv = {w->block_ms / 1000, (w->block_ms % 1000) * 1000};
    if (w->timer) return;
    if ((w->timer = evtimer_new(w->f->router->base, on_wait_over, w)) == NULL ||
        evtimer_add(w->timer, &tv) != 0)
        http_reply_error(w->call, 500, "internal", "The server ran out of memory.");
}

static void on_feed_read(struct http_call *call, cJSON *reply)
{
    struct waiter *w = call->data;
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(reply, "entries");

    w->reading = 0;
    if (http_refusal(reply)) {
        http_reply_refusal(call, http_refusal(reply));
        cJSON_Delete(reply);
        return;
    }
    if (cJSON_GetArraySize(entries) > 0 || w->expired || w->block_ms == 0 ||
        w->f->router->events == NULL) {
        feed_answer(w, reply);
        return;
    }
    /* Nothing for this agency yet: look further at once when the read stopped short of the
     * log's end or new entries came meanwhile, else wait for them. */
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "more")) || w->again) {
        cJSON_Delete(reply);
        w->again = 0;
        feed_read(w, 0);
        return;
    }
    cJSON_Delete(reply);
    waiter_park(w);
}

/* Reads the agency's next entries; audit_read: the request's one "read" audit entry. */
static void feed_read(struct waiter *w, int audit_read)
{
    char visibility_ms[24];
    const char *argv[4];
    snprintf(visibility_ms, sizeof visibility_ms, "%lld",
             (long long)w->f->router->cfg->feed_visibility_s * 1000);
    argv[0] = w->count;
    argv[1] = visibility_ms;
    argv[2] = audit_read ? "1" : "0";
    argv[3] = w->eido ? "eido" : "";
    w->reading = 1;
    http_fcall_audited(w->call, "ess_feed_read", 4, argv, on_feed_read);
}

void feed_get(struct http_call *call)
{
    struct evkeyvalq q;
    const char *count, *block, *format;
    long n = FEED_COUNT_DEFAULT, block_ms = 0;
    struct waiter *w;

    if (http_query_parse(call, &q) != 0) return;
    count = evhttp_find_header(&q, "count");
    block = evhttp_find_header(&q, "block_ms");
    format = evhttp_find_header(&q, "format");
    if (count && http_query_long(count, 1, FEED_COUNT_MAX, &n) != 0) {
        http_reply_error(call, 400, "invalid_query", "count must be a whole number 1 to 1000.");
        goto done;
    }
    if (block && http_query_long(block, 0, FEED_BLOCK_MAX_MS, &block_ms) != 0) {
        http_reply_error(call, 400, "invalid_query", "block_ms must be a whole number 0 to 30000.");
        goto done;
    }
    if (format && strcmp(format, "eido") != 0) {
        http_reply_error(
            call, 400, "invalid_query",
            "format must be eido (each entry then carries its case's EIDO), or absent.");
        goto done;
    }
    if (call->router->feed == NULL || (w = calloc(1, sizeof *w)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
    w->f = call->router->feed;
    w->call = call;
    w->block_ms = block_ms;
    w->eido = format != NULL;
    snprintf(w->count, sizeof w->count, "%ld", n);
    call->data = w;
    call->data_free = waiter_free;
    if (block_ms > 0 && waiter_join(w) != 0) goto done;
    feed_read(w, 1);
done:
    evhttp_clear_headers(&q);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /v1/feed/ack */

/* 1 when s is a stream id "<ms>-<seq>" (digits, at most 20 each). */
static int stream_id_valid(const char *s)
{
    const char *dash = strchr(s, '-');
    size_t a, b;
    if (dash == NULL) return 0;
    a = (size_t)(dash - s);
    b = strlen(dash + 1);
    return a >= 1 && a <= 20 && b >= 1 && b <= 20 && strspn(s, "0123456789") == a &&
           strspn(dash + 1, "0123456789") == b;
}

void feed_ack(struct http_call *call)
{
    const cJSON *ids, *id;
    const char **argv = NULL;
    int n, i = 0;
    cJSON *body;

    if ((body = http_body_object(call)) == NULL) return;
    ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
    n = cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : 0;
    if (ids == NULL) {
        http_reply_error(call, 400, "missing_field", "ids is required.");
        goto done;
    }
    if (n < 1 || n > ACK_MAX) {
        http_reply_error(call, 400, "invalid_field",
                         "ids must be an array of 1 to 1000 entry ids.");
        goto done;
    }
    if ((argv = calloc((size_t)n + 1, sizeof *argv)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
    argv[i++] = call->auth.agency_id;
    cJSON_ArrayForEach (id, ids) {
        if (!cJSON_IsString(id) || strlen(id->valuestring) > STREAM_ID_MAX ||
            !stream_id_valid(id->valuestring)) {
            http_reply_error(call, 400, "invalid_field",
                             "ids must hold entry ids of the feed (\"<ms>-<seq>\").");
            goto done;
        }
        argv[i++] = id->valuestring;
    }
    http_fcall(call, "ess_feed_ack", 0, i, argv, NULL, http_reply_store_answer);
done:
    free(argv);
    cJSON_Delete(body);
}

/* ------------------------------------------------------------------------------------------ */
/* Life cycle */

struct feed *feed_new(struct router *router)
{
    struct feed *f = calloc(1, sizeof *f);
    if (f) f->router = router;
    return f;
}

void feed_wake(struct feed *f)
{
    struct waiter *w, *next;
    if (f == NULL) return;
    for (w = f->parked; w; w = next) {
        next = w->next;
        if (w->reading) {
            w->again = 1;
        } else if (w->timer != NULL && w->call->req != NULL) {
            feed_read(w, 0);
        }
    }
}

void feed_drain(struct feed *f)
{
    if (f == NULL) return;
    while (f->parked) {
        struct waiter *w = f->parked;
        waiter_unpark(w);
        w->expired = 1;
        if (!w->reading) feed_answer(w, NULL);
    }
}

void feed_free(struct feed *f)
{
    if (f == NULL) return;
    while (f->parked) waiter_unpark(f->parked);
    free(f);
}
