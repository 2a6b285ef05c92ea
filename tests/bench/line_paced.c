/* Paced (open-loop) load for scripts/bench, where wrk only saturates: POSTs the signed LINE
 * webhooks of BODIES to 127.0.0.1:PORT at RATE per second for SECONDS, over at most CONNECTIONS
 * keep-alive connections (libevent's evhttp client). Request i is due at start + i / RATE
 * whatever happened to the ones before; it waits for a free connection when all are busy (and is
 * then marked QUEUED: its latency counts from when it was due, as wrk2 does, so that a slow server
 * cannot slow the load down and hide its own slowness).
 *
 * BODIES: lines "REPLY_TOKEN<TAB>SIGNATURE<TAB>BODY" (tests/bench/line_bench.py bodies); the
 * first RATE * SECONDS are sent, each once. OUT: one line per request,
 * "REPLY_TOKEN DUE_NS SENT_NS DONE_NS STATUS QUEUED" (CLOCK_MONOTONIC nanoseconds, the clock
 * fake_line logs with; DONE_NS 0 and STATUS 0 when no answer came; QUEUED 1 when it waited for a
 * connection). Waits at most 10 s for the last answers after the schedule ends.
 * Usage: line_paced PORT BODIES RATE SECONDS CONNECTIONS OUT [PATH] (PATH: /webhooks/line). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "bench_util.h"

#define GRACE_S 10
#define REQUEST_TIMEOUT_S 10

struct item {
    char *token, *sig, *body;
    size_t body_len;
    long long due, sent, done;
    int status;
    int queued; /* waited for a free connection */
};

struct conn {
    struct evhttp_connection *evcon;
    size_t current; /* the item in flight */
};

static struct event_base *base;
static struct item *items;
static size_t total, next_due, next_send, completed;
static struct conn *conns;
static struct conn **idle;
static size_t nidle;
static long long start_ns;
static double period_ns;
static int port;
static const char *path = "/webhooks/line";
static char host[32];
static struct event *timer;

static void send_item(struct conn *c, size_t i);

static void on_done(struct evhttp_request *req, void *arg)
{
    struct conn *c = arg;
    struct item *it = &items[c->current];

    it->done = now_ns();
    it->status = req ? evhttp_request_get_response_code(req) : 0;
    if (it->status == 0) it->done = 0;
    completed++;
    if (next_send < next_due) {
        items[next_send].queued = 1; /* the oldest overdue request takes the free connection */
        send_item(c, next_send++);
    } else {
        idle[nidle++] = c;
    }
    if (completed == total) event_base_loopexit(base, NULL);
}

static void send_item(struct conn *c, size_t i)
{
    struct item *it = &items[i];
    struct evhttp_request *req = evhttp_request_new(on_done, c);
    struct evkeyvalq *h;

    c->current = i;
    it->sent = now_ns();
    if (req == NULL) goto failed;
    h = evhttp_request_get_output_headers(req);
    if (evhttp_add_header(h, "Host", host) != 0 ||
        evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8") != 0 ||
        evhttp_add_header(h, "X-Line-Signature", it->sig) != 0 ||
        evbuffer_add_reference(evhttp_request_get_output_buffer(req), it->body, it->body_len, NULL,
                               NULL) != 0)
        goto failed;
    if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_POST, path) != 0) {
        req = NULL; /* freed by evhttp_make_request */
        goto failed;
    }
    return;
failed:
    if (req != NULL) evhttp_request_free(req);
    fprintf(stderr, "line_paced: could not send request %zu\n", i);
    it->status = 0;
    completed++;
    idle[nidle++] = c;
    if (completed == total) event_base_loopexit(base, NULL);
}

/* Sends every request now due (or queues it for the next free connection), then sleeps until the
 * next one is. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    long long now = now_ns();
    (void)fd;
    (void)what;
    (void)arg;
    while (next_due < total && items[next_due].due <= now) {
        next_due++;
        if (nidle > 0 && next_send < next_due) send_item(idle[--nidle], next_send++);
    }
    if (next_due < total) {
        long long wait = items[next_due].due - now_ns();
        struct timeval tv = {0, 0};
        if (wait > 0) {
            tv.tv_sec = (time_t)(wait / 1000000000LL);
            tv.tv_usec = (suseconds_t)((wait % 1000000000LL) / 1000);
        }
        evtimer_add(timer, &tv);
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    fprintf(stderr, "line_paced: %zu of %zu requests unanswered %d s after the schedule\n",
            total - completed, total, GRACE_S);
    event_base_loopexit(base, NULL);
}

/* Reads the first `want` lines of path into items; -1 when there are fewer. */
static int read_bodies(const char *file, size_t want)
{
    FILE *f = fopen(file, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (f == NULL) {
        fprintf(stderr, "line_paced: cannot read %s: %s\n", file, strerror(errno));
        return -1;
    }
    items = calloc(want, sizeof *items);
    if (items == NULL) {
        fclose(f);
        return -1;
    }
    while (total < want && (n = getline(&line, &cap, f)) > 0) {
        char *tab1, *tab2;
        if (line[n - 1] == '\n') line[--n] = '\0';
        tab1 = strchr(line, '\t');
        tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (tab2 == NULL) continue;
        *tab1 = *tab2 = '\0';
        items[total].token = strdup(line);
        items[total].sig = strdup(tab1 + 1);
        items[total].body = strdup(tab2 + 1);
        if (!items[total].token || !items[total].sig || !items[total].body) break;
        items[total].body_len = strlen(items[total].body);
        total++;
    }
    free(line);
    fclose(f);
    if (total < want) {
        fprintf(stderr, "line_paced: %s holds %zu usable bodies, %zu needed\n", file, total, want);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct event_config *cfg = NULL;
    struct event *deadline = NULL;
    struct timeval grace;
    long rate, seconds, nconns;
    FILE *out = NULL;
    int rc = 1;

    if (argc < 7 || argc > 8) goto usage;
    port = (int)parse_long(argv[1], 1, 65535);
    rate = parse_long(argv[3], 1, 1000000);
    seconds = parse_long(argv[4], 1, 3600);
    nconns = parse_long(argv[5], 1, 10000);
    if (port < 0 || rate < 0 || seconds < 0 || nconns < 0) goto usage;
    if (argc == 8) path = argv[7];
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    if (read_bodies(argv[2], (size_t)(rate * seconds)) != 0) return 1;
    out = fopen(argv[6], "w");
    if (out == NULL) {
        fprintf(stderr, "line_paced: cannot write %s: %s\n", argv[6], strerror(errno));
        return 1;
    }

    signal(SIGPIPE, SIG_IGN);
    cfg = event_config_new();
    if (cfg == NULL) goto done;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER); /* sub-millisecond pacing */
    base = event_base_new_with_config(cfg);
    if (base == NULL) goto done;
    conns = calloc((size_t)nconns, sizeof *conns);
    idle = calloc((size_t)nconns, sizeof *idle);
    if (conns == NULL || idle == NULL) goto done;
    for (long i = 0; i < nconns; i++) {
        conns[i].evcon = evhttp_connection_base_new(base, NULL, "127.0.0.1", (ev_uint16_t)port);
        if (conns[i].evcon == NULL) goto done;
        evhttp_connection_set_timeout(conns[i].evcon, REQUEST_TIMEOUT_S);
        evhttp_connection_set_retries(conns[i].evcon, 0);
        idle[nidle++] = &conns[nconns - 1 - i];
    }
    period_ns = 1e9 / (double)rate;
    start_ns = now_ns() + 20000000LL; /* 20 ms from now */
    for (size_t i = 0; i < total; i++)
        items[i].due = start_ns + (long long)((double)i * period_ns + 0.5);
    timer = evtimer_new(base, on_timer, NULL);
    deadline = evtimer_new(base, on_deadline, NULL);
    grace.tv_sec = seconds + GRACE_S;
    grace.tv_usec = 0;
    if (timer == NULL || deadline == NULL || evtimer_add(deadline, &grace) != 0) goto done;
    on_timer(-1, 0, NULL);
    if (event_base_dispatch(base) == -1) goto done;

    for (size_t i = 0; i < total; i++) {
        const struct item *it = &items[i];
        fprintf(out, "%s %lld %lld %lld %d %d\n", it->token, it->due, it->sent, it->done,
                it->status, it->queued);
    }
    fprintf(stderr, "line_paced: %zu requests at %ld/s over %ld connections, %zu answered\n", total,
            rate, nconns, completed);
    rc = 0;
done:
    if (out != NULL && fclose(out) != 0) rc = 1;
    if (timer != NULL) event_free(timer);
    if (deadline != NULL) event_free(deadline);
    if (conns != NULL) {
        for (long i = 0; i < nconns; i++)
            if (conns[i].evcon != NULL) evhttp_connection_free(conns[i].evcon);
    }
    free(conns);
    free(idle);
    if (base != NULL) event_base_free(base);
    if (cfg != NULL) event_config_free(cfg);
    return rc;
usage:
    fprintf(stderr, "usage: line_paced PORT BODIES RATE SECONDS CONNECTIONS OUT [PATH]\n");
    return 2;
}
