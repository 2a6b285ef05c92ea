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
#include "feed_entries.h"
#include "feed_query.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "text.h"

#define ACK_MAX 1000
#define STREAM_ID_MAX FEED_STREAM_ID_MAX

#define FEED_CONSUMER "feed"  /* the one consumer of each agency's group (ess.lua) */
#define FEED_SCAN 1000        /* log entries one read may look at, answered or skipped */
#define FEED_CLAIM_CALLS 16   /* XAUTOCLAIM calls of one read (each looks at <= 10 x COUNT) */
#define FEED_KEY_MAX (64 + 4) /* ESS_KEY_PREFIX (at most 64) "log" */
#define FEED_GROUP_MAX (AUTH_TEAM_ID_MAX + 6) /* "feed:<agency id>" */

struct feed {
    struct router *router;
    struct waiter *parked; /* reads waiting for new entries */
    unsigned nparked;
};

/* One GET /v1/feed, owned by its call (call->data). A read (feed_read) is ess_feed_begin (the
 * agency may read; audited), then XAUTOCLAIM (through the pending list, FEED_CLAIM_CALLS calls at
 * most) and XREADGROUP on the agency's group until it has
 * count entries for the agency, looked at FEED_SCAN or reached the log's end (the others are
 * acknowledged at once), then each of their cases once (HMGET; with format=eido ess_feed_cases)
 * and the audit of the identifying data going out (ess_feed_export), then the answer, or with
 * none kept a wait for new entries. Redis does no per-entry work in Lua. */
struct waiter {
    struct feed *f;
    struct http_call *call;
    long count;
    long block_ms;
    int eido;            /* ?format=eido: each entry carries its case's EIDO */
    struct event *timer; /* once parked: answers empty at block_ms */
    int parked, reading, again, expired;
    struct waiter *prev, *next;
    char log_key[FEED_KEY_MAX], group[FEED_GROUP_MAX]; /* feed_keys' */
    /* the read in progress */
    cJSON *agency;             /* ess_feed_begin's answer: categories, identifying */
    struct feed_entries *kept; /* the entries for the agency, at most count */
    size_t scanned;
    /* the cases of the entries kept (read_case_fields) */
    const char **case_ids; /* feed_entries_case_ids' */
    size_t case_next, cases_waiting;
    const char **shared;  /* those that may be shared (ess_feed_export decides) */
    size_t *shared_index; /* their places among the case ids */
    size_t nshared;
    int answered; /* the entries kept went out (else they are released at the end) */
    enum store_status case_failure;
    int case_oom;
    int more; /* the read stopped at FEED_SCAN before the log's end */
    /* where XAUTOCLAIM's look at the pending entries goes on, its calls so far; claim_cut: it
     * stopped at FEED_CLAIM_CALLS short of the list's end */
    char claim_from[STREAM_ID_MAX + 1];
    int claim_calls, claim_cut;
    int ensured; /* the group was made again in this read (once) */
};

/* ------------------------------------------------------------------------------------------ */
/* GET /v1/feed */

/* The case log's key and the calling agency's consumer group on it. */
static void feed_keys(const struct http_call *call, char log_key[FEED_KEY_MAX],
                      char group[FEED_GROUP_MAX])
{
    snprintf(log_key, FEED_KEY_MAX, "%slog", store_prefix(call->router->store));
    snprintf(group, FEED_GROUP_MAX, "feed:%s", call->auth.agency_id);
}

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
    w->agency = NULL;
    if (w->kept) feed_entries_clear(w->kept);
    w->scanned = 0;
    free(w->shared);
    free(w->shared_index);
    w->shared = NULL;
    w->shared_index = NULL;
    w->nshared = 0;
    w->more = w->ensured = 0;
    strcpy(w->claim_from, "0-0");
    w->claim_calls = w->claim_cut = 0;
}

static void on_released(enum store_status status, const struct store_item *items, size_t n,
                        void *arg)
{
    (void)items;
    (void)n;
    (void)arg;
    if (status != STORE_OK && status != STORE_CANCELLED)
        log_warn("feed: entries of a read that failed could not be released; they come again "
                 "after the visibility timeout");
}

/* The read kept entries and they did not go out (Redis failed, a refusal, the client left): they
 * are made claimable at once (XCLAIM ... IDLE <visibility> JUSTID), so that the agency's next
 * read takes them before newer ones rather than after the visibility timeout. */
static void read_release(struct waiter *w)
{
    char idle_ms[24];
    const char **ids, **argv;
    size_t n;

    if (w->kept == NULL || w->answered || feed_entries_count(w->kept) == 0 ||
        feed_entries_ids(w->kept, &ids, &n) != 0 || (argv = calloc(n + 8, sizeof *argv)) == NULL)
        return;
    snprintf(idle_ms, sizeof idle_ms, "%lld",
             (long long)w->f->router->cfg->feed_visibility_s * 1000);
    argv[0] = "XCLAIM";
    argv[1] = w->log_key;
    argv[2] = w->group;
    argv[3] = FEED_CONSUMER;
    argv[4] = "0";
    memcpy(argv + 5, ids, n * sizeof *ids);
    argv[n + 5] = "IDLE";
    argv[n + 6] = idle_ms;
    argv[n + 7] = "JUSTID";
    if (store_command(w->f->router->store, (int)n + 8, argv, NULL, on_released, NULL) != 0)
        log_warn("feed: entries of a read that failed could not be released; they come again "
                 "after the visibility timeout");
    free(argv);
}

static void waiter_free(void *p)
{
    struct waiter *w = p;
    if (w == NULL) return;
    read_release(w);
    waiter_unpark(w);
    if (w->timer) event_free(w->timer);
    read_reset(w);
    feed_entries_free(w->kept);
    free(w);
}

static void feed_read(struct waiter *w, int audit_read);

/* Answers the entries kept (none, or each completed by its case's part) and ends the call. */
static void feed_answer(struct waiter *w)
{
    size_t len = 0;
    char *text = feed_entries_answer(w->kept, &len);
    if (text == NULL) {
        http_reply_error(w->call, 500, "internal", "The feed's entries could not be made.");
        return;
    }
    w->answered = w->call->req != NULL; /* a client gone: released when the call ends */
    http_reply_owned(w->call, 200, "application/json; charset=utf-8", text, len);
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
    if (feed_entries_count(w->kept) > 0 || w->expired || w->block_ms == 0 || w->claim_cut ||
        w->f->router->events == NULL) {
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

/* Completes the parts of the cases from the records of reply's "cases" (record j is for case
 * places[j], or with places NULL for case j), then answers. Takes reply; ends the call. */
static void answer_with_records(struct http_call *call, cJSON *reply, const size_t *places,
                                size_t nplaces, int eido)
{
    struct waiter *w = call->data;
    const cJSON *info;
    size_t j = 0;

    w->reading = 0;
    if (http_reply_refused(call, reply)) return;
    cJSON_ArrayForEach (info, cJSON_GetObjectItemCaseSensitive(reply, "cases")) {
        if ((places && j >= nplaces) ||
            feed_entries_case_record(w->kept, places ? places[j] : j, info, eido) != 0) {
            cJSON_Delete(reply);
            http_reply_error(call, 500, "internal", "The feed's entries could not be made.");
            return;
        }
        j++;
    }
    cJSON_Delete(reply);
    feed_answer(w);
}

static void on_exported(struct http_call *call, cJSON *reply)
{
    struct waiter *w = call->data;
    answer_with_records(call, reply, w->shared_index, w->nshared, 0);
}

static void on_cases(struct http_call *call, cJSON *reply)
{
    struct waiter *w = call->data;
    answer_with_records(call, reply, NULL, 0, w->eido);
}

/* Calls the store function name with the call's audit context, then extra (unless NULL), then
 * the case ids[0..n); on_reply gets its answer. */
static void fcall_cases(struct waiter *w, const char *name, const char *extra, const char **ids,
                        size_t n, void (*on_reply)(struct http_call *call, cJSON *reply))
{
    char ctx[HTTP_AUDIT_CTX_MAX];
    const char **argv;
    int argc = 0;

    if ((argv = calloc(n + 2, sizeof *argv)) == NULL || http_audit_ctx(w->call, ctx) != 0) {
        free(argv);
        w->reading = 0;
        http_reply_error(w->call, 500, "internal", "The request could not be prepared.");
        return;
    }
    argv[argc++] = ctx;
    if (extra) argv[argc++] = extra;
    memcpy(argv + argc, ids, n * sizeof *ids);
    http_fcall(w->call, name, 0, argc + (int)n, argv, NULL, on_reply);
    free(argv);
}

/* Every case's part is made without identifying data: the cases that may be shared go to
 * ess_feed_export, which decides again from the case as it is now, audits each export and gives
 * their shared parts in the same step (on_exported); then the answer. */
static void cases_made(struct waiter *w)
{
    if (w->nshared == 0) {
        w->reading = 0;
        feed_answer(w);
        return;
    }
    fcall_cases(w, "ess_feed_export", NULL, w->shared, w->nshared, on_exported);
}

/* One case's fields (HMGET, in the order they were asked: one connection keeps it). */
static void on_case_fields(enum store_status status, const struct store_item *items, size_t n,
                           void *arg)
{
    struct http_call *call = arg;
    struct waiter *w = call->data;
    size_t i = w->case_next++;

    if (status != STORE_OK || n != FEED_CASE_FIELDS) {
        if (w->case_failure == STORE_OK)
            w->case_failure = status == STORE_OK ? STORE_ERROR : status;
    } else if (w->case_failure == STORE_OK && !w->case_oom) {
        int identifying = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w->agency, "identifying"));
        int share = feed_entries_case_fields(w->kept, i, items, identifying);
        if (share < 0) w->case_oom = 1;
        if (share > 0) {
            w->shared_index[w->nshared] = i;
            w->shared[w->nshared++] = w->case_ids[i];
        }
    }
    if (--w->cases_waiting > 0) return;
    if (call->req == NULL) { /* the client left: what was read comes again after the visibility */
        http_call_free(call);
    } else if (w->case_failure != STORE_OK) {
        read_failed(w, w->case_failure);
    } else if (w->case_oom) {
        w->reading = 0;
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
    } else {
        cases_made(w);
    }
}

/* Reads the fields of the n cases of the entries kept (HMGET each, sent at once), then
 * cases_made. */
static void read_case_fields(struct waiter *w, const char **ids, size_t n)
{
    const char *argv[2 + FEED_CASE_FIELDS] = {"HMGET"};
    char key[512];

    w->case_ids = ids;
    w->case_next = w->cases_waiting = w->nshared = 0;
    w->case_failure = STORE_OK;
    w->case_oom = 0;
    w->shared = calloc(n, sizeof *w->shared);
    w->shared_index = calloc(n, sizeof *w->shared_index);
    if (w->shared == NULL || w->shared_index == NULL) {
        w->reading = 0;
        http_reply_error(w->call, 500, "internal", "The server ran out of memory.");
        return;
    }
    memcpy(argv + 2, feed_case_fields, sizeof feed_case_fields);
    argv[1] = key;
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, "%scase:%s", store_prefix(w->f->router->store), ids[i]);
        if (len < 0 || (size_t)len >= sizeof key ||
            store_command(w->f->router->store, 2 + FEED_CASE_FIELDS, argv, NULL, on_case_fields,
                          w->call) != 0) {
            w->case_failure = STORE_UNAVAILABLE; /* those sent still answer */
            break;
        }
        w->cases_waiting++;
    }
    if (w->cases_waiting == 0) read_failed(w, STORE_UNAVAILABLE);
}

/* Completes the entries kept with their cases' parts (each case once) and answers; with none
 * kept, read_done. With format=eido ess_feed_cases makes the records (and audits); else the
 * router reads the cases' fields itself (read_case_fields) and audits with ess_feed_export. */
static void read_cases(struct waiter *w)
{
    const char **ids;
    size_t n;

    if (feed_entries_count(w->kept) == 0) {
        read_done(w);
        return;
    }
    if (feed_entries_case_ids(w->kept, &ids, &n) != 0) {
        w->reading = 0;
        http_reply_error(w->call, 500, "internal", "The server ran out of memory.");
        return;
    }
    if (w->eido)
        fcall_cases(w, "ess_feed_cases", "eido", ids, n, on_cases);
    else
        read_case_fields(w, ids, n);
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

/* Looks at entries just read: keeps those for the agency, acknowledges the others at once.
 * 0, or -1 out of memory. */
static int read_take(struct waiter *w, const struct store_stream_entry *entries, size_t n)
{
    const cJSON *categories = cJSON_GetObjectItemCaseSensitive(w->agency, "categories");
    const char **ack = calloc(n + 3, sizeof *ack);
    size_t *ack_len = calloc(n + 3, sizeof *ack_len);
    int nack = 3, rc = 0;

    if (ack == NULL || ack_len == NULL) rc = -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int taken = feed_entries_add(w->kept, &entries[i], categories);
        w->scanned++;
        if (taken < 0) rc = -1;
        /* not taken for want of room never happens: each read asks for what is left */
        if (taken == 0 && feed_entries_count(w->kept) < (size_t)w->count) {
            ack[nack] = entries[i].id;
            ack_len[nack++] = entries[i].id_len;
        }
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
        strcpy(w->claim_from, "0-0"); /* the new group's pending list, from its start */
        w->claim_calls = 0;
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
    size_t asked =
        (size_t)w->count - feed_entries_count(w->kept); /* before read_answered keeps some */
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
    size_t left = (size_t)w->count - feed_entries_count(w->kept);
    if (left == 0 || w->scanned >= FEED_SCAN) {
        if (w->scanned >= FEED_SCAN) w->more = 1; /* the log may hold more for it */
        read_cases(w);
        return;
    }
    if (left > FEED_SCAN - w->scanned) left = FEED_SCAN - w->scanned;
    snprintf(want, sizeof want, "%zu", left);
    if (store_stream_command(w->f->router->store, 9, argv, NULL, on_read_new, w->call) != 0)
        read_failed(w, STORE_UNAVAILABLE);
}

static void read_claim(struct waiter *w);

/* Whether a read that looked at FEED_CLAIM_CALLS batches of pending entries may look at more:
 * when it found none due again and its client waits (block_ms, not over yet) anyway. */
static int claim_may_go_on(const struct waiter *w)
{
    return feed_entries_count(w->kept) == 0 && w->block_ms > 0 && !w->expired &&
           http_now_us() - w->call->started_us < (uint64_t)w->block_ms * 1000;
}

static void on_claimed(enum store_status status, const char *next,
                       const struct store_stream_entry *entries, size_t n, void *arg)
{
    struct http_call *call = arg;
    struct waiter *w = call->data;
    if (!read_answered(call, status, entries, n)) return;
    if (strcmp(next, "0-0") == 0 || strlen(next) > STREAM_ID_MAX) {
        read_new(w);
    } else if (w->claim_calls >= FEED_CLAIM_CALLS && !claim_may_go_on(w)) {
        /* Pending entries not looked at may be idle: new entries would overtake them (in order
         * per case), so this read answers what it has; the next one looks again. */
        w->claim_cut = 1;
        read_cases(w);
    } else {
        if (w->claim_calls >= FEED_CLAIM_CALLS) w->claim_calls = 0; /* another round */
        strcpy(w->claim_from, next);
        read_claim(w);
    }
}

/* Takes back the entries the agency read more than the visibility ago and did not acknowledge
 * (XAUTOCLAIM, oldest first, following its cursor through the pending list): they come before
 * new ones. */
static void read_claim(struct waiter *w)
{
    char idle_ms[24], count[24];
    const char *argv[] = {"XAUTOCLAIM", w->log_key,    w->group, FEED_CONSUMER,
                          idle_ms,      w->claim_from, "COUNT",  count};
    if (feed_entries_count(w->kept) >= (size_t)w->count) { /* full, or the group made again */
        read_cases(w);
        return;
    }
    snprintf(idle_ms, sizeof idle_ms, "%lld",
             (long long)w->f->router->cfg->feed_visibility_s * 1000);
    snprintf(count, sizeof count, "%zu", (size_t)w->count - feed_entries_count(w->kept));
    w->claim_calls++;
    if (store_claim_command(w->f->router->store, 8, argv, NULL, on_claimed, w->call) != 0)
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
    w->reading = 1;
    read_begin(w, audit_read);
}

void feed_get(struct http_call *call)
{
    struct evkeyvalq q;
    struct feed_query fq;
    const char *problem;
    struct waiter *w;

    if (http_query_parse(call, &q) != 0) return;
    if ((problem = feed_query_read(&q, &fq)) != NULL) {
        http_reply_error(call, 400, "invalid_query", problem);
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
    w->block_ms = fq.block_ms;
    w->eido = fq.eido;
    w->count = fq.count;
    feed_keys(call, w->log_key, w->group);
    if ((w->kept = feed_entries_new((size_t)fq.count)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
    if (fq.block_ms > 0 && waiter_join(w) != 0) goto done;
    feed_read(w, 1);
done:
    evhttp_clear_headers(&q);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /v1/feed/ack */

static void on_ack(enum store_status status, const struct store_item *items, size_t n, void *arg)
{
    struct http_call *call = arg;
    cJSON *doc;
    long long acked = 0;

    if (call->req == NULL) {
        http_call_free(call);
        return;
    }
    if (status == STORE_OK && n == 1 && items[0].data && items[0].len < 24) {
        char digits[24];
        memcpy(digits, items[0].data, items[0].len);
        digits[items[0].len] = '\0';
        acked = strtoll(digits, NULL, 10);
    } else if (!(status == STORE_ERROR && n == 1 && items[0].len >= 7 &&
                 memcmp(items[0].data, "NOGROUP", 7) == 0)) { /* no group: nothing was read */
        http_reply_store_failure(call, status);
        return;
    }
    doc = cJSON_CreateObject();
    if (doc && !cJSON_AddNumberToObject(doc, "acknowledged", (double)acked)) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    http_reply_json(call, 200, doc); /* NULL: out of memory, 500 */
}

void feed_ack(struct http_call *call)
{
    const cJSON *ids, *id;
    const char **argv = NULL;
    char log_key[FEED_KEY_MAX], group[FEED_GROUP_MAX];
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
    if ((argv = calloc((size_t)n + 3, sizeof *argv)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
    feed_keys(call, log_key, group);
    argv[i++] = "XACK";
    argv[i++] = log_key;
    argv[i++] = group;
    cJSON_ArrayForEach (id, ids) {
        if (!cJSON_IsString(id) || !feed_query_ack_id_valid(id->valuestring)) {
            http_reply_error(call, 400, "invalid_field",
                             "ids must hold entry ids of the feed (\"<ms>-<seq>\").");
            goto done;
        }
        argv[i++] = id->valuestring;
    }
    if (store_command(call->router->store, i, argv, NULL, on_ack, call) != 0)
        http_reply_store_failure(call, STORE_UNAVAILABLE);
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
