/* Finding the Redis primary through Redis Sentinel: a round of SENTINEL get-master-addr-by-name
 * questions, one Sentinel at a time, each on a short-lived hiredis connection with its own
 * timeout; and one long-lived connection subscribed to +switch-master. */
#include "sentinel.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"

#define ASK_TIMEOUT_MS 1000 /* one Sentinel's answer (or refusal) must come within this */
#define LISTEN_BACKOFF_MIN_MS 100
#define LISTEN_BACKOFF_MAX_MS 5000
#define HOST_MAX 255

/* One sentinel_locate waiting for the round's answer. */
struct locate_req {
    sentinel_found_cb cb;
    void *arg;
    struct locate_req *next;
};

struct sentinel_watcher {
    sentinel_switch_cb on_switch;
    void *arg;
};

struct sentinel {
    struct event_base *base;
    char **hosts;
    int *ports;
    size_t n;
    char *master;

    /* The round of questions: asks Sentinels preferred, preferred + 1, ... until one names the
     * primary or all were asked. */
    struct locate_req *waiting; /* answered when the round ends; NULL: no round */
    redisAsyncContext *ask;     /* the connection to the Sentinel being asked, or NULL */
    size_t tried;               /* Sentinels asked in this round */
    size_t preferred;           /* the one that answered last */
    struct event *ask_timer;    /* the asked one's timeout; with 0 s, "ask the next one" */

    /* The announcements: a connection subscribed to +switch-master on Sentinel listening. */
    redisAsyncContext *listen;
    size_t listening;
    int listen_up;
    int listen_backoff_ms;
    struct event *listen_timer;
    struct sentinel_watcher watchers[SENTINEL_MAX_WATCHERS];
    size_t nwatchers;
};

static void ask_next(struct sentinel *s);
static void listen_start(struct sentinel *s);

static void timer_in(struct event *timer, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(timer, &tv);
}

/* Ends the round: every waiting locate is answered (host NULL when found is 0). A callback may
 * start the next round. */
static void end_round(struct sentinel *s, int found, const char *host, int port)
{
    struct locate_req *r = s->waiting;
    s->waiting = NULL;
    evtimer_del(s->ask_timer);
    while (r != NULL) {
        struct locate_req *next = r->next;
        r->cb(found, host, port, r->arg);
        free(r);
        r = next;
    }
}

/* Drops the connection to the Sentinel being asked (its pending reply callback then sees that it
 * is no longer s->ask and ignores it). */
static void ask_drop(struct sentinel *s)
{
    redisAsyncContext *ac = s->ask;
    if (ac == NULL) return;
    s->ask = NULL;
    redisAsyncFree(ac);
}

/* Reads a get-master-addr-by-name answer: [host, port]. 0, or -1 for anything else (nil: this
 * Sentinel does not monitor the name). */
static int parse_address(const redisReply *reply, char *host, int *port)
{
    long p;
    char *end;
    char digits[8];
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return -1;
    if (reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_STRING)
        return -1;
    if (reply->element[0]->len == 0 || reply->element[0]->len > HOST_MAX ||
        reply->element[1]->len == 0 || reply->element[1]->len >= sizeof digits)
        return -1;
    memcpy(digits, reply->element[1]->str, reply->element[1]->len);
    digits[reply->element[1]->len] = '\0';
    p = strtol(digits, &end, 10);
    if (*end != '\0' || p < 1 || p > 65535) return -1;
    memcpy(host, reply->element[0]->str, reply->element[0]->len);
    host[reply->element[0]->len] = '\0';
    if (strlen(host) != reply->element[0]->len) return -1;
    *port = (int)p;
    return 0;
}

static void on_ask_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct sentinel *s = privdata;
    size_t at;
    char host[HOST_MAX + 1];
    int port;
    if (s->ask != ac) return; /* dropped: timed out, or the locator is going */
    at = (s->preferred + s->tried - 1) % s->n;
    if (parse_address(r, host, &port) != 0) {
        if (r != NULL)
            log_warn("redis: Sentinel %s:%d does not name the primary %s", s->hosts[at],
                     s->ports[at], s->master);
        /* The connection failed or the answer was no use: move on, outside hiredis' callback. */
        s->ask = NULL;
        if (r != NULL) redisAsyncDisconnect(ac);
        timer_in(s->ask_timer, 0);
        return;
    }
    s->ask = NULL;
    redisAsyncDisconnect(ac); /* closes once this callback returns */
    s->preferred = at;
    end_round(s, 1, host, port);
}

static void on_ask_timer(evutil_socket_t fd, short what, void *arg)
{
    struct sentinel *s = arg;
    (void)fd;
    (void)what;
    if (s->ask != NULL) {
        size_t at = (s->preferred + s->tried - 1) % s->n;
        log_warn("redis: Sentinel %s:%d did not answer within %d ms", s->hosts[at], s->ports[at],
                 ASK_TIMEOUT_MS);
        ask_drop(s);
    }
    ask_next(s);
}

/* Asks the next Sentinel of the round, or ends the round unanswered when all were asked. */
static void ask_next(struct sentinel *s)
{
    while (s->waiting != NULL && s->tried < s->n) {
        size_t at = (s->preferred + s->tried) % s->n;
        redisAsyncContext *ac = redisAsyncConnect(s->hosts[at], s->ports[at]);
        s->tried++;
        if (ac == NULL) continue;
        if (ac->err || redisLibeventAttach(ac, s->base) != REDIS_OK) {
            redisAsyncFree(ac);
            continue;
        }
        if (redisAsyncCommand(ac, on_ask_reply, s, "SENTINEL get-master-addr-by-name %s",
                              s->master) != REDIS_OK) {
            redisAsyncFree(ac);
            continue;
        }
        s->ask = ac;
        timer_in(s->ask_timer, ASK_TIMEOUT_MS);
        return;
    }
    if (s->waiting != NULL) {
        log_warn("redis: none of the %zu Sentinels named the primary %s", s->n, s->master);
        end_round(s, 0, NULL, 0);
    }
}

void sentinel_locate(struct sentinel *s, sentinel_found_cb cb, void *arg)
{
    struct locate_req *r = calloc(1, sizeof *r), **tail = &s->waiting;
    int start;
    if (r == NULL) {
        cb(0, NULL, 0, arg);
        return;
    }
    r->cb = cb;
    r->arg = arg;
    start = s->waiting == NULL;
    while (*tail) tail = &(*tail)->next;
    *tail = r;
    if (start) {
        s->tried = 0;
        ask_next(s);
    }
}

void sentinel_cancel(struct sentinel *s, void *arg)
{
    struct locate_req **at = &s->waiting;
    if (s == NULL) return;
    while (*at != NULL) {
        struct locate_req *r = *at;
        if (r->arg == arg) {
            *at = r->next;
            free(r);
        } else {
            at = &r->next;
        }
    }
    if (s->waiting == NULL) { /* nobody waits any more: the round stops */
        ask_drop(s);
        evtimer_del(s->ask_timer);
    }
}

/* The announcements */

static void listen_retry_later(struct sentinel *s)
{
    s->listening = (s->listening + 1) % s->n; /* the next one may be up */
    timer_in(s->listen_timer, s->listen_backoff_ms);
    s->listen_backoff_ms = s->listen_backoff_ms * 2 > LISTEN_BACKOFF_MAX_MS
                               ? LISTEN_BACKOFF_MAX_MS
                               : s->listen_backoff_ms * 2;
}

/* Reads a +switch-master message, "<name> <old ip> <old port> <new ip> <new port>": 0 with the
 * new address when it is about master, else -1. */
static int parse_switch(const char *text, size_t len, const char *master, char *host, int *port)
{
    char name[65], old_host[HOST_MAX + 1], new_host[HOST_MAX + 1], line[600], tail;
    int old_port, new_port;
    if (len >= sizeof line) return -1;
    memcpy(line, text, len);
    line[len] = '\0';
    if (sscanf(line, "%64s %255s %d %255s %d%c", name, old_host, &old_port, new_host, &new_port,
               &tail) != 5)
        return -1;
    if (strcmp(name, master) != 0 || new_port < 1 || new_port > 65535) return -1;
    memcpy(host, new_host, strlen(new_host) + 1);
    *port = new_port;
    return 0;
}

static void on_announce(redisAsyncContext *ac, void *r, void *privdata)
{
    struct sentinel *s = privdata;
    redisReply *reply = r;
    struct sentinel_watcher watchers[SENTINEL_MAX_WATCHERS];
    char host[HOST_MAX + 1];
    int port;
    size_t n, i;
    if (s->listen != ac || reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
        reply->elements != 3 || reply->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(reply->element[0]->str, "message") != 0 ||
        reply->element[2]->type != REDIS_REPLY_STRING)
        return; /* the subscription's confirmation, or the connection's end */
    if (parse_switch(reply->element[2]->str, reply->element[2]->len, s->master, host, &port) != 0)
        return; /* another primary's fail-over */
    log_warn("redis: Sentinel announces that %s moved to %s:%d", s->master, host, port);
    n = s->nwatchers; /* a watcher may unwatch while being told */
    memcpy(watchers, s->watchers, n * sizeof *watchers);
    for (i = 0; i < n; i++) watchers[i].on_switch(host, port, watchers[i].arg);
}

static void on_listen_connect(const redisAsyncContext *ac, int status)
{
    struct sentinel *s = ac->data;
    if (s == NULL || s->listen != ac) return;
    if (status != REDIS_OK) {
        s->listen = NULL; /* hiredis frees it when this returns */
        listen_retry_later(s);
        return;
    }
    s->listen_up = 1;
    s->listen_backoff_ms = LISTEN_BACKOFF_MIN_MS;
    log_info("redis: listening to Sentinel %s:%d for fail-overs of %s", s->hosts[s->listening],
             s->ports[s->listening], s->master);
}

static void on_listen_disconnect(const redisAsyncContext *ac, int status)
{
    struct sentinel *s = ac->data;
    (void)status;
    if (s == NULL || s->listen != ac) return;
    s->listen = NULL;
    if (s->listen_up)
        log_warn("redis: lost Sentinel %s:%d; listening to another", s->hosts[s->listening],
                 s->ports[s->listening]);
    s->listen_up = 0;
    listen_retry_later(s);
}

static void listen_start(struct sentinel *s)
{
    redisAsyncContext *ac = redisAsyncConnect(s->hosts[s->listening], s->ports[s->listening]);
    if (ac == NULL) {
        listen_retry_later(s);
        return;
    }
    if (ac->err || redisLibeventAttach(ac, s->base) != REDIS_OK) {
        redisAsyncFree(ac);
        listen_retry_later(s);
        return;
    }
    ac->data = s;
    redisAsyncSetConnectCallback(ac, on_listen_connect);
    redisAsyncSetDisconnectCallback(ac, on_listen_disconnect);
    s->listen = ac;
    if (redisAsyncCommand(ac, on_announce, s, "SUBSCRIBE +switch-master") != REDIS_OK) {
        s->listen = NULL;
        redisAsyncFree(ac);
        listen_retry_later(s);
    }
}

static void on_listen_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    listen_start(arg);
}

int sentinel_watch(struct sentinel *s, sentinel_switch_cb on_switch, void *arg)
{
    if (s->nwatchers == SENTINEL_MAX_WATCHERS) return -1;
    s->watchers[s->nwatchers].on_switch = on_switch;
    s->watchers[s->nwatchers].arg = arg;
    s->nwatchers++;
    return 0;
}

void sentinel_unwatch(struct sentinel *s, void *arg)
{
    size_t i = 0;
    if (s == NULL) return;
    while (i < s->nwatchers) {
        if (s->watchers[i].arg == arg)
            s->watchers[i] = s->watchers[--s->nwatchers];
        else
            i++;
    }
}

struct sentinel *sentinel_new(struct event_base *base, const struct sentinel_addr *addrs, size_t n,
                              const char *master)
{
    struct sentinel *s = calloc(1, sizeof *s);
    size_t i;
    if (s == NULL || n == 0) goto fail;
    s->base = base;
    s->n = n;
    s->listen_backoff_ms = LISTEN_BACKOFF_MIN_MS;
    s->hosts = calloc(n, sizeof *s->hosts);
    s->ports = calloc(n, sizeof *s->ports);
    s->master = text_dup(master);
    s->ask_timer = evtimer_new(base, on_ask_timer, s);
    s->listen_timer = evtimer_new(base, on_listen_timer, s);
    if (!s->hosts || !s->ports || !s->master || !s->ask_timer || !s->listen_timer) goto fail;
    for (i = 0; i < n; i++) {
        if ((s->hosts[i] = text_dup(addrs[i].host)) == NULL) goto fail;
        s->ports[i] = addrs[i].port;
    }
    listen_start(s);
    return s;
fail:
    sentinel_free(s);
    return NULL;
}

void sentinel_free(struct sentinel *s)
{
    size_t i;
    if (s == NULL) return;
    ask_drop(s);
    if (s->listen) {
        redisAsyncContext *ac = s->listen;
        s->listen = NULL;
        redisAsyncFree(ac);
    }
    if (s->ask_timer) end_round(s, 0, NULL, 0);
    if (s->ask_timer) event_free(s->ask_timer);
    if (s->listen_timer) event_free(s->listen_timer);
    if (s->hosts)
        for (i = 0; i < s->n; i++) free(s->hosts[i]);
    free(s->hosts);
    free(s->ports);
    free(s->master);
    free(s);
}
