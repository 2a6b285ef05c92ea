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

#define FEED_CONSUMER "feed" /* the one consumer of each agency's group (ess.lua) */
#define FEED_SCAN 1000       /* log entries one read may look at, answered or skipped */
#define VALUE_INLINE 256     /* a log value this long or longer is copied to the heap */

struct feed {
    struct router *router;
    struct waiter *parked; /* reads waiting for new entries */
    unsigned nparked;
};

/* An entry a read answers: its feed entry (in the read's entries), its case (the entry's own
 * "case_id" string) and that case's place in the read's ess_feed_cases call. */
struct kept {
    cJSON *entry;
    const char *case_id;
    size_t case_index;
};

/* One GET /v1/feed, owned by its call (call->data). A read (feed_read) is ess_feed_begin, then
 * XAUTOCLAIM and XREADGROUP on the agency's group until it has count entries for the agency,
 * looked at FEED_SCAN or reached the log's end (the others are acknowledged at once), then
 * ess_feed_cases for the cases of those it keeps, then the answer, or a wait for new entries. */
struct waiter {
    struct feed *f;
    struct http_call *call;
    long count;
    long block_ms;
    int eido;            /* ?format=eido: each entry carries its case's EIDO */
    struct event *timer; /* once parked: answers empty at block_ms */
    int parked, reading, again, expired;
    struct waiter *prev, *next;
    char log_key[64 + 4], group[AUTH_TEAM_ID_MAX + 8]; /* the case log, feed:<agency> */
    /* the read in progress */
    cJSON *agency;     /* ess_feed_begin's answer: categories, identifying */
    cJSON *entries;    /* the feed entries kept, without their case's parts yet */
    struct kept *kept; /* count of them */
    size_t nkept, scanned;
    int more;    /* the read stopped at FEED_SCAN before the log's end */
    int ensured; /* the group was made again in this read (once) */
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

/* Forgets what the read in progress gathered. */
static void read_reset(struct waiter *w)
{
    cJSON_Delete(w->agency);
    cJSON_Delete(w->entries);
    w->agency = w->entries = NULL;
    w->nkept = w->scanned = 0;
    w->more = w->ensured = 0;
}

static void waiter_free(void *p)
{
    struct waiter *w = p;
    if (w == NULL) return;
    waiter_unpark(w);
    if (w->timer) event_free(w->timer);
    read_reset(w);
    free(w->kept);
    free(w);
}

static void feed_read(struct waiter *w, int audit_read);

/* The fields of a log entry (ess.lua log_event) a feed entry is made of: the case summary's,
 * whose times are milliseconds in the log and RFC 3339 in the feed and distance_km a number,
 * then those of the entry itself. */
static const char *const log_fields[] = {
    "tracking_code", "category",    "priority",   "status",     "team_id", "team_name",
    "team_name_en",  "distance_km", "created_at", "updated_at", "channel", "possible_duplicate_of",
    "merged_into",   "case_id",     "event",      "at"};
#define SUMMARY_FIELDS 13 /* the first ones of log_fields */
#define NLOG_FIELDS (sizeof log_fields / sizeof *log_fields)
enum {
    F_CATEGORY = 1,
    F_STATUS = 3,
    F_CREATED = 8,
    F_UPDATED = 9,
    F_DISTANCE = 7,
    F_CASE_ID = 13,
    F_EVENT = 14,
    F_AT = 15
};

/* A log entry's values of log_fields (data NULL: absent). */
struct log_values {
    struct store_item v[NLOG_FIELDS];
};

static void log_values_of(const struct store_stream_entry *e, struct log_values *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i + 1 < e->nfields; i += 2) {
        const struct store_item *k = &e->fields[i];
        if (k->data == NULL) continue;
        for (size_t j = 0; j < NLOG_FIELDS; j++) {
            if (strlen(log_fields[j]) == k->len && memcmp(log_fields[j], k->data, k->len) == 0) {
                out->v[j] = e->fields[i + 1];
                break;
            }
        }
    }
}

static int value_is(const struct store_item *v, const char *s)
{
    return v->data && v->len == strlen(s) && memcmp(v->data, s, v->len) == 0;
}

/* Whether an entry with these values is for the agency: one of its categories, about a case,
 * and not a chat message (whose text the log never holds, but whose rhythm is the reporter's). */
static int entry_wanted(const struct log_values *lv, const cJSON *categories)
{
    const cJSON *c;
    if (lv->v[F_CASE_ID].data == NULL || lv->v[F_CASE_ID].len == 0 ||
        value_is(&lv->v[F_EVENT], "chat_message"))
        return 0;
    cJSON_ArrayForEach (c, categories)
        if (cJSON_IsString(c) && value_is(&lv->v[F_CATEGORY], c->valuestring)) return 1;
    return 0;
}

/* Adds name: v's text (NULL when v is absent or empty: null). */
static cJSON *add_value(cJSON *obj, const char *name, const struct store_item *v)
{
    char inline_copy[VALUE_INLINE], *text;
    cJSON *added;
    if (v->data == NULL || v->len == 0) return cJSON_AddNullToObject(obj, name);
    if (v->len < sizeof inline_copy) {
        memcpy(inline_copy, v->data, v->len);
        inline_copy[v->len] = '\0';
        return cJSON_AddStringToObject(obj, name, inline_copy);
    }
    if ((text = text_dup_len(v->data, v->len)) == NULL) return NULL;
    added = cJSON_AddStringToObject(obj, name, text);
    free(text);
    return added;
}

/* Adds name: the RFC 3339 time of v's milliseconds ("<ms>" or a stream id "<ms>-<seq>"), or
 * null when v is not one. */
static cJSON *add_time(cJSON *obj, const char *name, const struct store_item *v)
{
    char digits[24], text[TEXT_TIME_SIZE];
    size_t n = v->data ? v->len : 0;
    if (v->data) {
        const char *dash = memchr(v->data, '-', v->len);
        if (dash) n = (size_t)(dash - v->data);
    }
    if (n == 0 || n >= sizeof digits) return cJSON_AddNullToObject(obj, name);
    memcpy(digits, v->data, n);
    digits[n] = '\0';
    if (strspn(digits, "0123456789") != n) return cJSON_AddNullToObject(obj, name);
    text_time_rfc3339((int64_t)strtoll(digits, NULL, 10), text);
    return cJSON_AddStringToObject(obj, name, text);
}

/* Adds name: the number v holds, or null when it holds none. */
static cJSON *add_number(cJSON *obj, const char *name, const struct store_item *v)
{
    char text[64], *end = NULL;
    double d;
    if (v->data == NULL || v->len == 0 || v->len >= sizeof text)
        return cJSON_AddNullToObject(obj, name);
    memcpy(text, v->data, v->len);
    text[v->len] = '\0';
    d = strtod(text, &end);
    if (*end != '\0') return cJSON_AddNullToObject(obj, name);
    return cJSON_AddNumberToObject(obj, name, d);
}

/* The feed entry (README "For partner agencies") of log entry e, without its case's parts
 * (entry_complete adds them): {"id", "case_id", "event" (the status for a status change), "at",
 * "case": summary}. NULL out of memory. */
static cJSON *entry_new(const struct store_stream_entry *e, const struct log_values *lv)
{
    const struct store_item id = {e->id, e->id_len};
    const struct store_item *event = lv->v[F_EVENT].len ? &lv->v[F_EVENT] : &lv->v[F_STATUS];
    const struct store_item *at = lv->v[F_AT].len ? &lv->v[F_AT] : &id;
    cJSON *entry = cJSON_CreateObject(), *summary;
    int ok = entry && add_value(entry, "id", &id) &&
             add_value(entry, "case_id", &lv->v[F_CASE_ID]) && add_value(entry, "event", event) &&
             add_time(entry, "at", at) &&
             (summary = cJSON_AddObjectToObject(entry, "case")) != NULL &&
             add_value(summary, "case_id", &lv->v[F_CASE_ID]);

    for (size_t i = 0; ok && i < SUMMARY_FIELDS; i++) {
        const struct store_item *v = &lv->v[i];
        if (i == F_CREATED || i == F_UPDATED)
            ok = add_time(summary, log_fields[i], v) != NULL;
        else if (i == F_DISTANCE)
            ok = add_number(summary, log_fields[i], v) != NULL;
        else
            ok = add_value(summary, log_fields[i], v) != NULL;
    }
    if (!ok) {
        cJSON_Delete(entry);
        return NULL;
    }
    return entry;
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

/* Adds to a feed entry its case's parts from the case's record (ess_feed_cases'): the place,
 * the identifying data when the agency may have it, and with eido the case's EIDO. 0, or -1 out
 * of memory. */
static int entry_complete(cJSON *entry, const cJSON *info, int eido)
{
    if (add_copy(entry, info, "location") != 0) return -1;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "share")) &&
        (add_copy(entry, info, "reporter") != 0 || add_copy(entry, info, "description") != 0 ||
         add_copy(entry, info, "address") != 0))
        return -1;
    if (eido) {
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(info, "eido_case");
        cJSON *doc;
        if (src == NULL) return 0; /* the case is gone: no EIDO to make */
        if ((doc = eido_document(src)) == NULL || !cJSON_AddItemToObject(entry, "eido", doc)) {
            cJSON_Delete(doc);
            log_error("feed: an entry's EIDO could not be made");
            return -1;
        }
    }
    return 0;
}

/* Answers the entries kept (none when the read kept none) and ends the call. */
static void feed_answer(struct waiter *w)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *entries = w->entries ? w->entries : cJSON_CreateArray();
    w->entries = NULL;
    if (doc == NULL || entries == NULL || !cJSON_AddItemToObject(doc, "entries", entries)) {
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
    if (!w->reading) http_call_free(call); /* else the read's next step frees it */
}

static void on_wait_over(evutil_socket_t fd, short what, void *arg)
{
    struct waiter *w = arg;
    (void)fd;
    (void)what;
    w->expired = 1;
    if (!w->reading) feed_answer(w);
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
    http_call_watch(w->call); /* -1: the client is gone already; its read's next step frees it */
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

/* The read is over: answers what it kept, or with none and block_ms, looks further at once
 * (the read stopped short of the log's end, or new entries came meanwhile) or waits. */
static void read_done(struct waiter *w)
{
    w->reading = 0;
    if (w->nkept > 0 || w->expired || w->block_ms == 0 || w->f->router->events == NULL) {
        feed_answer(w);
    } else if (w->more || w->again) {
        w->again = 0;
        feed_read(w, 0);
    } else {
        waiter_park(w);
    }
}

/* Ends a read that failed in Redis (answers 503 or 500). */
static void read_failed(struct waiter *w, enum store_status status)
{
    w->reading = 0;
    http_reply_store_failure(w->call, status);
}

static void on_cases(struct http_call *call, cJSON *reply)
{
    struct waiter *w = call->data;
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(reply, "cases");

    if (http_refusal(reply)) {
        w->reading = 0;
        http_reply_refused(call, reply);
        return;
    }
    for (size_t i = 0; i < w->nkept; i++) {
        const cJSON *info = cJSON_GetArrayItem(cases, (int)w->kept[i].case_index);
        if (!cJSON_IsObject(info) || entry_complete(w->kept[i].entry, info, w->eido) != 0) {
            cJSON_Delete(reply);
            w->reading = 0;
            http_reply_error(call, 500, "internal", "The feed's entries could not be made.");
            return;
        }
    }
    cJSON_Delete(reply);
    read_done(w);
}

static int kept_by_case(const void *a, const void *b)
{
    return strcmp(((const struct kept *)a)->case_id, ((const struct kept *)b)->case_id);
}

/* Asks ess_feed_cases for the cases of the entries kept (each once; audited: an export entry per
 * case whose identifying data it gives), then completes them (on_cases). */
static void read_cases(struct waiter *w)
{
    char ctx[HTTP_AUDIT_CTX_MAX];
    const char **argv;
    struct kept *sorted;
    int argc = 0;

    if (w->nkept == 0) {
        read_done(w);
        return;
    }
    argv = calloc(w->nkept + 2, sizeof *argv);
    sorted = malloc(w->nkept * sizeof *sorted);
    if (argv == NULL || sorted == NULL || http_audit_ctx(w->call, ctx) != 0) {
        free(argv);
        free(sorted);
        w->reading = 0;
        http_reply_error(w->call, 500, "internal", "The server ran out of memory.");
        return;
    }
    /* the entries keep their order; each learns its case's place among the distinct ids */
    memcpy(sorted, w->kept, w->nkept * sizeof *sorted);
    for (size_t i = 0; i < w->nkept; i++) sorted[i].case_index = i;
    qsort(sorted, w->nkept, sizeof *sorted, kept_by_case);
    argv[argc++] = ctx;
    argv[argc++] = w->eido ? "eido" : "";
    for (size_t i = 0; i < w->nkept; i++) {
        if (i == 0 || strcmp(sorted[i].case_id, sorted[i - 1].case_id) != 0)
            argv[argc++] = sorted[i].case_id;
        w->kept[sorted[i].case_index].case_index = (size_t)(argc - 3);
    }
    http_fcall(w->call, "ess_feed_cases", 0, argc, argv, NULL, on_cases);
    free(argv);
    free(sorted);
}

static void on_acked(enum store_status status, const struct store_item *items, size_t n, void *arg)
{
    (void)items;
    (void)n;
    (void)arg;
    /* not acknowledged: they come again after the visibility timeout and are skipped then */
    if (status != STORE_OK && status != STORE_CANCELLED)
        log_warn("feed: entries not for an agency could not be acknowledged");
}

/* Looks at entries just read: keeps those for the agency as feed entries, acknowledges the
 * others at once. 0, or -1 out of memory. */
static int read_take(struct waiter *w, const struct store_stream_entry *entries, size_t n)
{
    const cJSON *categories = cJSON_GetObjectItemCaseSensitive(w->agency, "categories");
    const char **ack = calloc(n + 3, sizeof *ack);
    size_t *ack_len = calloc(n + 3, sizeof *ack_len);
    int nack = 3, rc = 0;

    if (ack == NULL || ack_len == NULL) {
        free(ack);
        free(ack_len);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct log_values lv;
        cJSON *entry;
        w->scanned++;
        log_values_of(&entries[i], &lv);
        if (!entry_wanted(&lv, categories)) {
            ack[nack] = entries[i].id;
            ack_len[nack++] = entries[i].id_len;
            continue;
        }
        if (w->nkept >= (size_t)w->count) continue; /* never: each read asks for what is left */
        if ((entry = entry_new(&entries[i], &lv)) == NULL ||
            !cJSON_AddItemToArray(w->entries, entry)) {
            cJSON_Delete(entry);
            rc = -1;
            break;
        }
        w->kept[w->nkept].entry = entry;
        w->kept[w->nkept].case_id = cJSON_GetObjectItemCaseSensitive(entry, "case_id")->valuestring;
        w->nkept++;
    }
    if (nack > 3) {
        ack[0] = "XACK";
        ack[1] = w->log_key;
        ack[2] = w->group;
        for (int i = 0; i < 3; i++) ack_len[i] = strlen(ack[i]);
        if (store_command(w->f->router->store, nack, ack, ack_len, on_acked, NULL) != 0)
            log_warn("feed: entries not for an agency could not be acknowledged");
    }
    free(ack);
    free(ack_len);
    return rc;
}

static void read_begin(struct waiter *w, int audit_read);

/* A step of the read was answered (XAUTOCLAIM or XREADGROUP): 1 when the read goes on with its
 * entries, else 0 (the call was ended, or the group is being made again: read_begin). */
static int read_answered(struct http_call *call, enum store_status status,
                         const struct store_stream_entry *entries, size_t n)
{
    struct waiter *w = call->data;
    if (call->req == NULL) { /* the client left: what was read comes again after the visibility */
        http_call_free(call);
        return 0;
    }
    if (status == STORE_ERROR && n == 1 && !w->ensured && entries[0].id_len >= 7 &&
        memcmp(entries[0].id, "NOGROUP", 7) == 0) {
        w->ensured = 1; /* the group is gone (Redis restored from an older file): made again */
        read_begin(w, 0);
        return 0;
    }
    if (status != STORE_OK) {
        read_failed(w, status);
        return 0;
    }
    if (read_take(w, entries, n) != 0) {
        w->reading = 0;
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return 0;
    }
    return 1;
}

static void read_new(struct waiter *w);

static void on_read_new(enum store_status status, const struct store_stream_entry *entries,
                        size_t n, void *arg)
{
    struct http_call *call = arg;
    struct waiter *w = call->data;
    size_t asked = w->count - w->nkept; /* before read_answered keeps some */
    if (asked > FEED_SCAN - w->scanned) asked = FEED_SCAN - w->scanned;
    if (!read_answered(call, status, entries, n)) return;
    if (n < asked) { /* the log's end */
        read_cases(w);
        return;
    }
    w->more = w->scanned >= FEED_SCAN;
    read_new(w);
}

/* Reads new entries (XREADGROUP ... >) while the read wants more and may look further. */
static void read_new(struct waiter *w)
{
    char want[24];
    const char *argv[] = {"XREADGROUP", "GROUP",    w->group, FEED_CONSUMER, "COUNT", want,
                          "STREAMS",    w->log_key, ">"};
    size_t left = (size_t)w->count - w->nkept;
    if (left == 0 || w->scanned >= FEED_SCAN) {
        read_cases(w);
        return;
    }
    if (left > FEED_SCAN - w->scanned) left = FEED_SCAN - w->scanned;
    snprintf(want, sizeof want, "%zu", left);
    if (store_stream_command(w->f->router->store, 9, argv, NULL, on_read_new, w->call) != 0)
        read_failed(w, STORE_UNAVAILABLE);
}

static void on_claimed(enum store_status status, const struct store_stream_entry *entries, size_t n,
                       void *arg)
{
    struct http_call *call = arg;
    if (read_answered(call, status, entries, n)) read_new(call->data);
}

/* Takes back the entries the agency read more than the visibility ago and did not acknowledge
 * (XAUTOCLAIM, oldest first): they come before new ones. */
static void read_claim(struct waiter *w)
{
    char idle_ms[24], count[24];
    const char *argv[] = {"XAUTOCLAIM", w->log_key, w->group, FEED_CONSUMER,
                          idle_ms,      "0-0",      "COUNT",  count};
    if (w->nkept >= (size_t)w->count) { /* after the group was made again mid-read */
        read_cases(w);
        return;
    }
    snprintf(idle_ms, sizeof idle_ms, "%lld",
             (long long)w->f->router->cfg->feed_visibility_s * 1000);
    snprintf(count, sizeof count, "%zu", (size_t)w->count - w->nkept);
    if (store_stream_command(w->f->router->store, 8, argv, NULL, on_claimed, w->call) != 0)
        read_failed(w, STORE_UNAVAILABLE);
}

static void on_begin(struct http_call *call, cJSON *reply)
{
    struct waiter *w = call->data;
    if (http_refusal(reply)) {
        w->reading = 0;
        http_reply_refused(call, reply);
        return;
    }
    cJSON_Delete(w->agency);
    w->agency = reply;
    read_claim(w);
}

/* ess_feed_begin: the agency may read (audit_read: the request's one "read" audit entry; after a
 * NOGROUP, its group is made again), then read_claim. */
static void read_begin(struct waiter *w, int audit_read)
{
    const char *argv[] = {audit_read ? "1" : "0", w->ensured ? "1" : "0"};
    http_fcall_audited(w->call, "ess_feed_begin", 2, argv, on_begin);
}

/* Reads the agency's next entries; audit_read: the request's one "read" audit entry. */
static void feed_read(struct waiter *w, int audit_read)
{
    read_reset(w);
    if ((w->entries = cJSON_CreateArray()) == NULL) {
        http_reply_error(w->call, 500, "internal", "The server ran out of memory.");
        return;
    }
    w->reading = 1;
    read_begin(w, audit_read);
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
    call->data = w;
    call->data_free = waiter_free;
    w->f = call->router->feed;
    w->call = call;
    w->block_ms = block_ms;
    w->eido = format != NULL;
    w->count = n;
    snprintf(w->log_key, sizeof w->log_key, "%slog", store_prefix(call->router->store));
    snprintf(w->group, sizeof w->group, "feed:%s", call->auth.agency_id);
    if ((w->kept = calloc((size_t)n, sizeof *w->kept)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
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
        if (!w->reading) feed_answer(w);
    }
}

void feed_free(struct feed *f)
{
    if (f == NULL) return;
    while (f->parked) waiter_unpark(f->parked);
    free(f);
}
