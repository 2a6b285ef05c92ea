/* The Redis store: hiredis' async API on the router's libevent loop, reconnection with backoff,
 * the function library loaded at each connect, and a watchdog for stalled connections. */
#include "store.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "replicas.h"
#include "sentinel.h"
#include "text.h"

extern const char store_lua_source[];
extern const unsigned long store_lua_source_len;

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define WATCHDOG_MS 1000
#define STALL_MS 5000
#define STACK_ARGS 64 /* arguments a call builds on the stack; more are allocated */

/* DOWN (a reconnect is scheduled) -> LOCATING (asking the Sentinels; with them only) ->
 * CONNECTING -> LOADING (set-up commands: AUTH, SELECT, ROLE, FUNCTION LOAD...) -> UP. */
enum link_state { LINK_DOWN = 0, LINK_LOCATING, LINK_CONNECTING, LINK_LOADING, LINK_UP };

/* A store_wait_replicated caller. */
struct waiter {
    store_cb cb;
    void *arg;
    struct waiter *next;
};

struct store {
    struct event_base *base;
    char *host; /* the server connected to: the target's, or the primary the Sentinels named */
    int port;
    struct sentinel *sentinel;
    char *password;
    int db;
    char *prefix;
    int functions;            /* loads the function library at each connect (store_new) */
    const char *name;         /* in log lines: "store", or "case-log reader" */
    void (*on_up)(void *arg); /* store_set_on_up */
    void *on_up_arg;
    redisAsyncContext *ac; /* NULL while down */
    enum link_state state;
    int ever_up;
    int stopped; /* store_stop ran: no reconnecting, pending callbacks told CANCELLED */
    int backoff_ms;
    struct event *retry_timer;
    struct event *watchdog;
    uint64_t state_since_ms; /* when the link entered its state */
    unsigned outstanding;    /* commands sent, reply not yet seen */
    uint64_t progress_ms;    /* last reply, or when outstanding went from 0 to 1 */
    unsigned link_number;    /* store_link_number */
    int wait_replicas;       /* store_wait_replicated: the fewest replicas a WAIT waits for */
    int wait_timeout_ms;     /* WAIT timeout */
    struct waiter *waiting;  /* callers not yet covered by a WAIT sent, oldest first */
    struct waiter **waiting_tail;
    int wait_in_flight; /* a WAIT (or the INFO before it) was sent and its reply not yet seen */
    int wait_asked;     /* the numreplicas of the WAIT in flight */
};

/* Where a stream command's reply holds its entries: XRANGE's and XREVRANGE's are the reply,
 * XREAD's and XREADGROUP's the first stream's [key, entries], XAUTOCLAIM's the second of
 * [next, entries, deleted]. */
enum stream_shape { STREAM_RANGE = 0, STREAM_READ, STREAM_AUTOCLAIM };

static enum stream_shape stream_shape_of(const char *command)
{
    return strncasecmp(command, "XREAD", 5) == 0 ? STREAM_READ : STREAM_RANGE;
}

/* One command in flight; freed by its reply callback. Exactly one of cb, array_cb, stream_cb,
 * claim_cb is set. */
struct pending {
    struct store *store;
    store_cb cb;
    store_array_cb array_cb;
    store_stream_cb stream_cb;
    store_claim_cb claim_cb;
    enum stream_shape shape; /* stream_cb, claim_cb: where the reply holds its entries */
    void *arg;
};

/* Gives a stream reply's outcome to p's stream or claim callback (next: XAUTOCLAIM's cursor). */
static void stream_answer(struct pending *p, enum store_status status, const char *next,
                          const struct store_stream_entry *entries, size_t n)
{
    if (p->claim_cb)
        p->claim_cb(status, next, entries, n, p->arg);
    else
        p->stream_cb(status, entries, n, p->arg);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_state(struct store *s, enum link_state state)
{
    s->state = state;
    s->state_since_ms = mono_ms();
}

static void waiters_fail(struct store *s, enum store_status status);

/* Connects again after backoff_ms (0: at the loop's next turn), which then doubles, from
 * BACKOFF_MIN_MS up to BACKOFF_MAX_MS. */
static void schedule_reconnect(struct store *s)
{
    struct timeval tv;
    int next = s->backoff_ms * 2;
    if (s->stopped) return;
    set_state(s, LINK_DOWN);
    waiters_fail(s, STORE_UNAVAILABLE);
    tv.tv_sec = s->backoff_ms / 1000;
    tv.tv_usec = (s->backoff_ms % 1000) * 1000;
    evtimer_add(s->retry_timer, &tv);
    s->backoff_ms = next < BACKOFF_MIN_MS   ? BACKOFF_MIN_MS
                    : next > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                            : next;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct store *s = ac->data;
    if (s == NULL || s->ac != ac) return;
    s->ac = NULL;
    s->outstanding = 0;
    if (s->state == LINK_UP)
        log_warn("redis: %s connection lost (%s)", s->name,
                 status == REDIS_OK ? "closed" : ac->errstr);
    metrics_count_redis_error();
    schedule_reconnect(s);
}

static void track_sent(struct store *s)
{
    if (s->outstanding++ == 0) s->progress_ms = mono_ms();
}

static void track_reply(struct store *s)
{
    if (s->outstanding > 0) s->outstanding--;
    s->progress_ms = mono_ms();
}

static void link_up(struct store *s)
{
    set_state(s, LINK_UP);
    s->link_number++;
    s->backoff_ms = BACKOFF_MIN_MS;
    if (s->ever_up) metrics_count_redis_reconnect();
    log_info("redis: %s %s %s:%d/%d%s", s->name, s->ever_up ? "reconnected to" : "connected to",
             s->host, s->port, s->db, s->functions ? ", functions loaded" : "");
    s->ever_up = 1;
    if (s->on_up) s->on_up(s->on_up_arg);
}

/* 1 when a ROLE reply says the server is a primary ("master"). */
static int role_is_primary(const redisReply *reply)
{
    return reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
           reply->element[0]->type == REDIS_REPLY_STRING &&
           strcmp(reply->element[0]->str, "master") == 0;
}

/* Replies to the set-up commands sent at connect (AUTH, SELECT, ROLE, FUNCTION LOAD, UPGRADE,
 * LEGACY SECRET). privdata is the step's name; the last step brings the link up. */
static void on_setup_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *s = ac->data;
    redisReply *reply = r;
    const char *step = privdata;
    if (s == NULL || s->ac != ac) return;
    track_reply(s);
    if (reply == NULL) return; /* the disconnect callback takes it from here */
    if (reply->type == REDIS_REPLY_ERROR) {
        log_error("redis: %s failed: %.*s", step, (int)reply->len, reply->str);
        metrics_count_redis_error();
        redisAsyncDisconnect(ac);
        return;
    }
    if (strcmp(step, "ROLE") == 0) {
        /* A replica (one the Sentinels have not yet promoted, or a demoted primary) is left:
         * asked again, they name the primary. */
        if (!role_is_primary(reply)) {
            log_warn("redis: %s: %s:%d is not the primary; %s", s->name, s->host, s->port,
                     s->sentinel ? "asking the Sentinels again" : "trying again");
            redisAsyncDisconnect(ac);
            return;
        }
        if (!s->functions) {
            link_up(s);
            return;
        }
        {
            const char *argv[] = {"FUNCTION", "LOAD", "REPLACE", store_lua_source};
            size_t lens[] = {8, 4, 7, store_lua_source_len};
            redisAsyncCommandArgv(ac, on_setup_reply, (void *)"FUNCTION LOAD", 4, argv, lens);
            track_sent(s);
        }
        return;
    }
    if (strcmp(step, "FUNCTION LOAD") == 0) {
        /* Indexes an older version did not keep are built once (ess_upgrade: a no-op after). */
        const char *argv[] = {"FCALL", "ess_upgrade", "0", s->prefix};
        redisAsyncCommandArgv(ac, on_setup_reply, (void *)"UPGRADE", 4, argv, NULL);
        track_sent(s);
        return;
    }
    if (strcmp(step, "UPGRADE") == 0) {
        /* Older versions kept the key team tokens are derived from in Redis: it must move out
         * (whoever reads Redis or a backup could mint every team's token). Its value is never
         * read here, only whether it is still there. */
        char key[96]; /* ESS_KEY_PREFIX is at most 64 characters */
        const char *argv[] = {"EXISTS", key};
        snprintf(key, sizeof key, "%ssecret", s->prefix);
        redisAsyncCommandArgv(ac, on_setup_reply, (void *)"LEGACY SECRET", 2, argv, NULL);
        track_sent(s);
        return;
    }
    if (strcmp(step, "LEGACY SECRET") == 0) {
        if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
            log_error("redis: %ssecret still holds the team-token key of an older version, which "
                      "this router no longer reads. Move it out of Redis: put its value in a file "
                      "(redis-cli GET %ssecret > token-secret; chmod 600 token-secret), start the "
                      "routers with ESS_TOKEN_SECRET_FILE=<that file> so issued team tokens keep "
                      "working, then delete it (redis-cli DEL %ssecret) and purge old backups",
                      s->prefix, s->prefix, s->prefix);
        link_up(s);
    }
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    struct store *s = ac->data;
    char db[16];
    if (s == NULL || s->ac != ac) return;
    if (status != REDIS_OK) {
        /* hiredis frees the context when this callback returns */
        log_debug("redis: %s connect to %s:%d failed: %s", s->name, s->host, s->port, ac->errstr);
        s->ac = NULL;
        metrics_count_redis_error();
        schedule_reconnect(s);
        return;
    }
    set_state(s, LINK_LOADING);
    if (s->password[0] != '\0') {
        const char *argv[] = {"AUTH", s->password};
        redisAsyncCommandArgv(ac, on_setup_reply, (void *)"AUTH", 2, argv, NULL);
        track_sent(s);
    }
    snprintf(db, sizeof db, "%d", s->db);
    {
        const char *argv[] = {"SELECT", db};
        redisAsyncCommandArgv(ac, on_setup_reply, (void *)"SELECT", 2, argv, NULL);
        track_sent(s);
    }
    {
        const char *argv[] = {"ROLE"};
        redisAsyncCommandArgv(ac, on_setup_reply, (void *)"ROLE", 1, argv, NULL);
        track_sent(s);
    }
}

static void connect_to_host(struct store *s)
{
    redisAsyncContext *ac = redisAsyncConnect(s->host, s->port);
    if (ac == NULL) {
        schedule_reconnect(s);
        return;
    }
    if (ac->err) {
        log_debug("redis: %s connect to %s:%d failed: %s", s->name, s->host, s->port, ac->errstr);
        redisAsyncFree(ac);
        metrics_count_redis_error();
        schedule_reconnect(s);
        return;
    }
    ac->data = s;
    s->ac = ac;
    s->outstanding = 0;
    set_state(s, LINK_CONNECTING);
    if (redisLibeventAttach(ac, s->base) != REDIS_OK) {
        s->ac = NULL;
        redisAsyncFree(ac);
        schedule_reconnect(s);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

/* The Sentinels' answer to connect_now's question. */
static void on_located(int found, const char *host, int port, void *arg)
{
    struct store *s = arg;
    char *copy;
    if (s->stopped || s->state != LINK_LOCATING) return;
    if (!found || (copy = text_dup(host)) == NULL) {
        metrics_count_redis_error();
        schedule_reconnect(s);
        return;
    }
    if (s->ever_up && (strcmp(copy, s->host) != 0 || port != s->port))
        log_info("redis: %s: the Sentinels name %s:%d as the primary", s->name, copy, port);
    free(s->host);
    s->host = copy;
    s->port = port;
    connect_to_host(s);
}

/* Connects: to the target, or to the primary the Sentinels name once they answer. */
static void connect_now(struct store *s)
{
    if (s->sentinel == NULL) {
        connect_to_host(s);
        return;
    }
    set_state(s, LINK_LOCATING);
    sentinel_locate(s->sentinel, on_located, s);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    connect_now(arg);
}

/* Drops the current connection: pending callbacks see STORE_UNAVAILABLE, and a reconnect is
 * scheduled (by on_disconnect, or here when the link never got connected). */
static void drop_link(struct store *s, const char *why)
{
    redisAsyncContext *ac = s->ac;
    log_warn("redis: dropping the %s connection: %s", s->name, why);
    metrics_count_redis_error();
    if (s->state == LINK_CONNECTING) {
        s->ac = NULL;
        redisAsyncFree(ac);
        schedule_reconnect(s);
        return;
    }
    redisAsyncFree(ac); /* runs on_disconnect, which schedules the reconnect */
    if (s->ac == ac) {  /* on_disconnect did not run (never fully connected) */
        s->ac = NULL;
        schedule_reconnect(s);
    }
}

static void on_ping_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *s = ac->data;
    (void)r;
    (void)privdata;
    if (s != NULL && s->ac == ac) track_reply(s);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    struct store *s = arg;
    uint64_t now = mono_ms();
    (void)fd;
    (void)what;
    if (s->ac == NULL) return;
    if (s->state == LINK_CONNECTING && now - s->state_since_ms > STALL_MS) {
        drop_link(s, "connect timed out");
        return;
    }
    /* A WAIT may hold the replies back for its timeout. */
    if (s->outstanding > 0 && now - s->progress_ms > STALL_MS + (uint64_t)s->wait_timeout_ms) {
        drop_link(s, "replies stalled");
        return;
    }
    if (s->state == LINK_UP && s->outstanding == 0) {
        const char *argv[] = {"PING"};
        if (redisAsyncCommandArgv(s->ac, on_ping_reply, NULL, 1, argv, NULL) == REDIS_OK)
            track_sent(s);
    }
}

/* A Sentinel announced a fail-over: a link to another server than the new primary is dropped,
 * and one waiting to reconnect reconnects now. Commands in flight are answered
 * STORE_UNAVAILABLE. */
static void on_switch(const char *host, int port, void *arg)
{
    struct store *s = arg;
    if (s->stopped || s->state == LINK_LOCATING) return; /* its answer is on its way */
    if (s->state != LINK_DOWN && strcmp(host, s->host) == 0 && port == s->port) return;
    s->backoff_ms = 0;
    if (s->state == LINK_DOWN) {
        evtimer_del(s->retry_timer);
        connect_now(s);
        return;
    }
    drop_link(s, "the primary moved");
}

static struct store *store_create(struct event_base *base, const struct store_target *t,
                                  int functions)
{
    struct timeval tick = {WATCHDOG_MS / 1000, (WATCHDOG_MS % 1000) * 1000};
    struct store *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->base = base;
    s->functions = functions;
    s->name = functions ? "store" : "case-log reader";
    s->port = t->port;
    s->db = t->db;
    s->sentinel = t->sentinel;
    s->wait_replicas = t->wait_replicas;
    s->wait_timeout_ms = t->wait_timeout_ms;
    s->backoff_ms = BACKOFF_MIN_MS;
    s->waiting_tail = &s->waiting;
    s->host = text_dup(t->host ? t->host : "");
    s->password = text_dup(t->password);
    s->prefix = text_dup(t->key_prefix);
    s->retry_timer = evtimer_new(base, on_retry, s);
    s->watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, s);
    if (!s->host || !s->password || !s->prefix || !s->retry_timer || !s->watchdog ||
        (s->sentinel && sentinel_watch(s->sentinel, on_switch, s) != 0)) {
        store_free(s);
        return NULL;
    }
    evtimer_add(s->watchdog, &tick);
    connect_now(s);
    return s;
}

struct store *store_new(struct event_base *base, const struct store_target *target)
{
    return store_create(base, target, 1);
}

struct store *store_new_reader(struct event_base *base, const struct store_target *target)
{
    return store_create(base, target, 0);
}

void store_set_on_up(struct store *s, void (*on_up)(void *arg), void *arg)
{
    s->on_up = on_up;
    s->on_up_arg = arg;
}

void store_stop(struct store *s)
{
    if (s == NULL) return;
    s->stopped = 1;
    if (s->sentinel) {
        sentinel_cancel(s->sentinel, s);
        sentinel_unwatch(s->sentinel, s);
    }
    waiters_fail(s, STORE_CANCELLED);
    if (s->retry_timer) evtimer_del(s->retry_timer);
    if (s->watchdog) evtimer_del(s->watchdog);
    if (s->ac) {
        redisAsyncContext *ac = s->ac;
        s->ac = NULL;
        redisAsyncFree(ac); /* pending callbacks run now, told STORE_CANCELLED */
    }
    set_state(s, LINK_DOWN);
}

void store_free(struct store *s)
{
    if (s == NULL) return;
    store_stop(s);
    if (s->retry_timer) event_free(s->retry_timer);
    if (s->watchdog) event_free(s->watchdog);
    free(s->host);
    free(s->password);
    free(s->prefix);
    free(s);
}

int store_is_up(const struct store *s)
{
    return s != NULL && s->ac != NULL && s->state == LINK_UP;
}

unsigned store_link_number(const struct store *s)
{
    return s->link_number;
}

int store_wait_replicas(const struct store *s)
{
    return s->wait_replicas;
}

/* Hands an array (or scalar) reply to an array callback. */
static void deliver_array(struct pending *p, redisReply *reply)
{
    struct store_item one, *items = &one;
    char *numbers = NULL;
    size_t n = 1, i;

    if (reply->type == REDIS_REPLY_ARRAY) {
        n = reply->elements;
        items = calloc(n ? n : 1, sizeof *items);
        numbers = calloc(n ? n : 1, 24);
        if (items == NULL || numbers == NULL) {
            free(items);
            free(numbers);
            p->array_cb(STORE_UNAVAILABLE, NULL, 0, p->arg);
            return;
        }
        for (i = 0; i < n; i++) {
            redisReply *e = reply->element[i];
            if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) {
                items[i].data = e->str;
                items[i].len = e->len;
            } else if (e->type == REDIS_REPLY_INTEGER) {
                int w = snprintf(numbers + 24 * i, 24, "%lld", e->integer);
                items[i].data = numbers + 24 * i;
                items[i].len = (size_t)w;
            }
        }
    } else if (reply->type == REDIS_REPLY_INTEGER) {
        char num[24];
        int w = snprintf(num, sizeof num, "%lld", reply->integer);
        one.data = num;
        one.len = (size_t)w;
        p->array_cb(STORE_OK, items, 1, p->arg);
        return;
    } else if (reply->type == REDIS_REPLY_NIL) {
        one.data = NULL;
        one.len = 0;
    } else {
        one.data = reply->str;
        one.len = reply->len;
    }
    p->array_cb(STORE_OK, items, n, p->arg);
    if (items != &one) free(items);
    free(numbers);
}

/* The entries of a stream reply: XRANGE's [[id, [field, value, ...]], ...], XREAD's
 * [[key, entries]] (its first stream), XAUTOCLAIM's [next, entries, deleted], or nil (XREAD BLOCK
 * timed out). Elements of another shape are skipped. */
static void deliver_stream(struct pending *p, redisReply *reply)
{
    struct store_stream_entry *entries = NULL;
    struct store_item *fields = NULL;
    redisReply *list = reply;
    size_t n = 0, nfields = 0, i, j, used = 0;
    char next[64] = "0-0"; /* XAUTOCLAIM's cursor; a reply without one ends the scan */

    if (p->shape == STREAM_AUTOCLAIM && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
        reply->element[0]->type == REDIS_REPLY_STRING && reply->element[0]->len < sizeof next) {
        memcpy(next, reply->element[0]->str, reply->element[0]->len);
        next[reply->element[0]->len] = '\0';
    }
    if (p->shape == STREAM_READ) {
        list = NULL;
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
            reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
            list = reply->element[0]->element[1];
    } else if (p->shape == STREAM_AUTOCLAIM) {
        list = reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 ? reply->element[1] : NULL;
    }
    if (list == NULL || list->type != REDIS_REPLY_ARRAY || list->elements == 0) {
        stream_answer(p, STORE_OK, next, NULL, 0);
        return;
    }
    for (i = 0; i < list->elements; i++) {
        redisReply *e = list->element[i];
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
            e->element[1]->type == REDIS_REPLY_ARRAY)
            nfields += e->element[1]->elements;
    }
    entries = calloc(list->elements, sizeof *entries);
    fields = calloc(nfields ? nfields : 1, sizeof *fields);
    if (entries == NULL || fields == NULL) {
        free(entries);
        free(fields);
        stream_answer(p, STORE_UNAVAILABLE, NULL, NULL, 0);
        return;
    }
    for (i = 0; i < list->elements; i++) {
        redisReply *e = list->element[i], *f;
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        f = e->element[1];
        entries[n].id = e->element[0]->str;
        entries[n].id_len = e->element[0]->len;
        entries[n].fields = fields + used;
        for (j = 0; j < f->elements; j++) {
            if (f->element[j]->type == REDIS_REPLY_STRING) {
                fields[used + j].data = f->element[j]->str;
                fields[used + j].len = f->element[j]->len;
            }
        }
        entries[n].nfields = f->elements;
        used += f->elements;
        n++;
    }
    stream_answer(p, STORE_OK, next, entries, n);
    free(entries);
    free(fields);
}

/* 1 for Redis' refusal to write on a replica ("READONLY You can't write against a read only
 * replica."). */
static int is_readonly(const redisReply *reply)
{
    return reply->len >= 9 && memcmp(reply->str, "READONLY ", 9) == 0;
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct pending *p = privdata;
    struct store *s = p->store;
    redisReply *reply = r;
    char num[32];
    if (s->ac == ac) track_reply(s);
    if (reply == NULL) {
        enum store_status lost = s->stopped ? STORE_CANCELLED : STORE_UNAVAILABLE;
        if (p->cb)
            p->cb(lost, NULL, 0, p->arg);
        else if (p->array_cb)
            p->array_cb(lost, NULL, 0, p->arg);
        else
            stream_answer(p, lost, NULL, NULL, 0);
    } else if (reply->type == REDIS_REPLY_ERROR && is_readonly(reply)) {
        /* The server became a replica (a fail-over): nothing was written. The link goes once
         * the replies already on their way are in; the caller may try again. */
        if (s->ac == ac && s->state == LINK_UP) {
            log_warn("redis: %s: %s:%d answers as a replica; %s", s->name, s->host, s->port,
                     s->sentinel ? "asking the Sentinels for the primary" : "reconnecting");
            set_state(s, LINK_LOADING);
            redisAsyncDisconnect(ac);
        }
        if (p->cb)
            p->cb(STORE_UNAVAILABLE, NULL, 0, p->arg);
        else if (p->array_cb)
            p->array_cb(STORE_UNAVAILABLE, NULL, 0, p->arg);
        else
            stream_answer(p, STORE_UNAVAILABLE, NULL, NULL, 0);
    } else if (reply->type == REDIS_REPLY_ERROR) {
        struct store_item err = {reply->str, reply->len};
        log_error("redis: command failed: %.*s", (int)reply->len, reply->str);
        metrics_count_redis_error();
        if (p->cb)
            p->cb(STORE_ERROR, reply->str, reply->len, p->arg);
        else if (p->array_cb)
            p->array_cb(STORE_ERROR, &err, 1, p->arg);
        else
            stream_answer(p, STORE_ERROR, NULL,
                          &(struct store_stream_entry){reply->str, reply->len, NULL, 0}, 1);
    } else if (p->stream_cb || p->claim_cb) {
        deliver_stream(p, reply);
    } else if (p->array_cb) {
        deliver_array(p, reply);
    } else if (reply->type == REDIS_REPLY_INTEGER) {
        int n = snprintf(num, sizeof num, "%lld", reply->integer);
        p->cb(STORE_OK, num, (size_t)n, p->arg);
    } else if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) {
        p->cb(STORE_OK, reply->str, reply->len, p->arg);
    } else {
        p->cb(STORE_OK, NULL, 0, p->arg);
    }
    free(p);
}

/* Sends argv (with its lengths) for p. 0, or -1 (p freed). */
static int send_pending(struct store *s, struct pending *p, int argc, const char **argv,
                        const size_t *lens)
{
    if (redisAsyncCommandArgv(s->ac, on_reply, p, argc, argv, lens) != REDIS_OK) {
        free(p);
        return -1;
    }
    track_sent(s);
    return 0;
}

static int fcall(struct store *s, const char *name, int read_only, int argc, const char **argv,
                 const size_t *argvlen, store_cb cb, store_array_cb array_cb, void *arg)
{
    const char *stack_args[STACK_ARGS + 4], **args = stack_args;
    size_t stack_lens[STACK_ARGS + 4], *lens = stack_lens;
    struct pending *p;
    int i, rc = -1;

    if (!store_is_up(s) || argc < 0 || argc > STORE_MAX_ARGS) return -1;
    if (argc > STACK_ARGS) {
        args = malloc(((size_t)argc + 4) * sizeof *args);
        lens = malloc(((size_t)argc + 4) * sizeof *lens);
        if (args == NULL || lens == NULL) goto done;
    }
    args[0] = read_only ? "FCALL_RO" : "FCALL";
    args[1] = name;
    args[2] = "0";
    args[3] = s->prefix;
    for (i = 0; i < 4; i++) lens[i] = strlen(args[i]);
    for (i = 0; i < argc; i++) {
        args[4 + i] = argv[i];
        lens[4 + i] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    if ((p = calloc(1, sizeof *p)) == NULL) goto done;
    p->store = s;
    p->cb = cb;
    p->array_cb = array_cb;
    p->arg = arg;
    rc = send_pending(s, p, argc + 4, args, lens);
done:
    if (args != stack_args) free((void *)args);
    if (lens != stack_lens) free(lens);
    return rc;
}

int store_fcall(struct store *s, const char *name, int read_only, int argc, const char **argv,
                const size_t *argvlen, store_cb cb, void *arg)
{
    return fcall(s, name, read_only, argc, argv, argvlen, cb, NULL, arg);
}

int store_fcall_array(struct store *s, const char *name, int read_only, int argc, const char **argv,
                      const size_t *argvlen, store_array_cb cb, void *arg)
{
    return fcall(s, name, read_only, argc, argv, argvlen, NULL, cb, arg);
}

/* Sends a plain command for one of the callbacks (the others NULL). */
static int command(struct store *s, int argc, const char **argv, const size_t *argvlen,
                   store_array_cb array_cb, store_stream_cb stream_cb, store_claim_cb claim_cb,
                   void *arg)
{
    size_t stack_lens[STACK_ARGS], *lens = stack_lens;
    struct pending *p;
    int i, rc = -1;

    if (!store_is_up(s) || argc < 1 || argc > STORE_MAX_ARGS) return -1;
    if (argc > STACK_ARGS && (lens = malloc((size_t)argc * sizeof *lens)) == NULL) return -1;
    for (i = 0; i < argc; i++) lens[i] = argvlen ? argvlen[i] : strlen(argv[i]);
    if ((p = calloc(1, sizeof *p)) == NULL) goto done;
    p->store = s;
    p->array_cb = array_cb;
    p->stream_cb = stream_cb;
    p->claim_cb = claim_cb;
    if (stream_cb) p->shape = stream_shape_of(argv[0]);
    if (claim_cb) p->shape = STREAM_AUTOCLAIM;
    p->arg = arg;
    rc = send_pending(s, p, argc, argv, lens);
done:
    if (lens != stack_lens) free(lens);
    return rc;
}

int store_command(struct store *s, int argc, const char **argv, const size_t *argvlen,
                  store_array_cb cb, void *arg)
{
    return command(s, argc, argv, argvlen, cb, NULL, NULL, arg);
}

int store_stream_command(struct store *s, int argc, const char **argv, const size_t *argvlen,
                         store_stream_cb cb, void *arg)
{
    return command(s, argc, argv, argvlen, NULL, cb, NULL, arg);
}

int store_claim_command(struct store *s, int argc, const char **argv, const size_t *argvlen,
                        store_claim_cb cb, void *arg)
{
    return command(s, argc, argv, argvlen, NULL, NULL, cb, arg);
}

/* Waiting for replicas (store_wait_replicated). Callers that ask while a WAIT is in flight are
 * covered by the next one, sent when its reply comes: one WAIT at a time on the connection, as a
 * WAIT holds the connection's later replies back until it answers.
 *
 * Each round is PUBLISH, INFO replication, then WAIT k: k is every replica in sync (online, lag
 * at most REPLICAS_MAX_LAG_S), and at least wait_replicas. Sentinel promotes the replica it last
 * saw furthest ahead, from figures up to seconds old, so a write confirmed by some replicas only
 * could be lost with the primary if another one were promoted; confirmed by all of those in
 * sync, it is on whichever replica Sentinel picks. A stalled replica stops counting once its lag
 * shows it, and a missing one lowers k no further than wait_replicas. */

/* Answers every waiter of the list with status. */
static void waiters_answer(struct waiter *w, enum store_status status)
{
    while (w != NULL) {
        struct waiter *next = w->next;
        w->cb(status, NULL, 0, w->arg);
        free(w);
        w = next;
    }
}

/* Answers the callers not yet covered by a WAIT (on a lost link, or when stopping). */
static void waiters_fail(struct store *s, enum store_status status)
{
    struct waiter *w = s->waiting;
    s->waiting = NULL;
    s->waiting_tail = &s->waiting;
    waiters_answer(w, status);
}

static void wait_send(struct store *s);

/* Ends a round: answers its batch and starts the next round for those who asked meanwhile. */
static void wait_round_done(struct store *s, struct waiter *batch, enum store_status status)
{
    s->wait_in_flight = 0;
    waiters_answer(batch, status);
    if (s->waiting != NULL) wait_send(s);
}

static void on_publish_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *s = ac->data;
    (void)r;
    (void)privdata;
    if (s != NULL && s->ac == ac) track_reply(s);
}

static void on_wait_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *s = ac->data;
    redisReply *reply = r;
    enum store_status status = STORE_UNAVAILABLE;
    if (s->ac == ac) track_reply(s);
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer >= s->wait_asked) {
        status = STORE_OK;
    } else if (reply != NULL && reply->type == REDIS_REPLY_INTEGER) {
        log_warn("redis: %lld of %d replicas confirmed the writes within %d ms: answering 503",
                 reply->integer, s->wait_asked, s->wait_timeout_ms);
        metrics_count_redis_error();
    } else if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        log_warn("redis: WAIT failed: %.*s", (int)reply->len, reply->str);
        metrics_count_redis_error();
    }
    wait_round_done(s, privdata, reply == NULL && s->stopped ? STORE_CANCELLED : status);
}

/* INFO replication's reply: sends the WAIT for the replicas in sync. */
static void on_replication_info(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *s = ac->data;
    redisReply *reply = r;
    struct waiter *batch = privdata;
    char replicas[16], timeout[16];
    const char *wait[] = {"WAIT", replicas, timeout};
    int in_sync;
    if (s->ac == ac) track_reply(s);
    if (reply == NULL || s->ac != ac || !store_is_up(s)) {
        wait_round_done(s, batch,
                        reply == NULL && s->stopped ? STORE_CANCELLED : STORE_UNAVAILABLE);
        return;
    }
    if (reply->type != REDIS_REPLY_STRING) {
        log_warn("redis: INFO replication failed: %.*s", reply->str ? (int)reply->len : 0,
                 reply->str ? reply->str : "");
        metrics_count_redis_error();
        wait_round_done(s, batch, STORE_UNAVAILABLE);
        return;
    }
    in_sync = replicas_in_sync(reply->str, reply->len, REPLICAS_MAX_LAG_S);
    s->wait_asked = in_sync > s->wait_replicas ? in_sync : s->wait_replicas;
    snprintf(replicas, sizeof replicas, "%d", s->wait_asked);
    snprintf(timeout, sizeof timeout, "%d", s->wait_timeout_ms);
    if (redisAsyncCommandArgv(s->ac, on_wait_reply, batch, 3, wait, NULL) != REDIS_OK) {
        wait_round_done(s, batch, STORE_UNAVAILABLE);
        return;
    }
    track_sent(s);
}

/* Starts a round for every waiting caller. The PUBLISH goes first: it is replicated, so the
 * WAIT after it counts from the primary's latest write, which covers writes this connection did
 * not make (a retried request whose first try another router stored). */
static void wait_send(struct store *s)
{
    struct waiter *batch = s->waiting;
    char channel[96];
    const char *publish[] = {"PUBLISH", channel, ""};
    const char *info[] = {"INFO", "replication"};
    if (!store_is_up(s)) {
        waiters_fail(s, STORE_UNAVAILABLE);
        return;
    }
    snprintf(channel, sizeof channel, "%sreplicated", s->prefix);
    if (redisAsyncCommandArgv(s->ac, on_publish_reply, NULL, 3, publish, NULL) != REDIS_OK) {
        waiters_fail(s, STORE_UNAVAILABLE);
        return;
    }
    track_sent(s);
    s->waiting = NULL;
    s->waiting_tail = &s->waiting;
    if (redisAsyncCommandArgv(s->ac, on_replication_info, batch, 2, info, NULL) != REDIS_OK) {
        waiters_answer(batch, STORE_UNAVAILABLE);
        return;
    }
    track_sent(s);
    s->wait_in_flight = 1;
}

int store_wait_replicated(struct store *s, store_cb cb, void *arg)
{
    struct waiter *w;
    if (!store_is_up(s) || (w = calloc(1, sizeof *w)) == NULL) return -1;
    w->cb = cb;
    w->arg = arg;
    *s->waiting_tail = w;
    s->waiting_tail = &w->next;
    if (!s->wait_in_flight) wait_send(s);
    return 0;
}

int store_error_is_oom(const char *text, size_t len)
{
    return text != NULL && len >= 4 && memcmp(text, "OOM ", 4) == 0;
}

const char *store_prefix(const struct store *s)
{
    return s->prefix;
}
