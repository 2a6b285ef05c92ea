/* The live-update fan-out benchmark of scripts/bench (issue 9): STREAMS clients hold
 * GET /v1/events open on 127.0.0.1:PORT; then BURSTS bursts of CHANGES case changes each, a second
 * apart, every change of a burst sent at once on a connection of its own (POST
 * /v1/cases/{id}/status {"status": "closed"}, for the case ids of CASES, one a line, taken in
 * order); each event's arrival on each stream is timed with CLOCK_MONOTONIC.
 *
 * OUT gets one JSON object: per burst, the time from its first send until the last stream had
 * the burst's last event ("burst_ms") and until its last change was answered ("answers_ms");
 * over every (stream, burst), the time until that stream had
 * the burst's last event ("stream_*_ms": p50, p99, max); over every (stream, event), the time
 * from its change's send to its arrival ("delivery_*_ms"); and what went wrong (streams refused
 * or closed, changes not answered 200, events missing).
 * The operator token comes from ESS_OPERATOR_TOKEN. Waits at most 60 s in all.
 * Usage: events_fanout PORT STREAMS CASES CHANGES BURSTS OUT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "bench_util.h"

#define TIME_LIMIT_S 60
#define SETTLE_MS 500 /* after the last stream is open, before the first burst */
#define BURST_GAP_MS 1000
#define CASE_ID_MAX 64

struct stream {
    struct bufferevent *bev;
    char *line; /* the partial line carried to the next read */
    size_t len, cap;
    int status;               /* of the answer, once its first line came */
    int closed;               /* the connection ended or failed */
    size_t events;            /* events of the bench's changes received */
    long long *last_of_burst; /* per burst: arrival of its latest event here, 0 until one came */
    size_t *count_of_burst;
};

struct change {
    char id[CASE_ID_MAX + 1];
    size_t index; /* in send order: burst = index / changes */
    long long sent, done;
    int status;
};

static struct event_base *base;
static struct stream *streams;
static size_t nstreams, ready, failed_streams;
static struct change *changes;     /* sorted by id for lookups */
static struct change **send_order; /* the same, in send order */
static size_t per_burst, nbursts, total_changes, answered, bad_answers;
static long long *burst_start;
static double *delivery; /* ms, one per (stream, event) received */
static size_t ndelivery;
static size_t events_expected, events_received, unknown_events;
static int port;
static char host_header[64];
static const char *token;
static struct event *burst_timer, *limit_timer;
static size_t next_burst;

/* The first occurrence of needle in hay[0..len), or NULL. */
static const char *find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(hay + i, needle, n) == 0) return hay + i;
    return NULL;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct change *)a)->id, ((const struct change *)b)->id);
}

static void maybe_done(void)
{
    if (events_received >= events_expected && answered >= total_changes) event_base_loopbreak(base);
}

/* One line of a stream's body: a `data:` line names its case; other lines (event, id, comments,
 * chunk sizes) are skipped. */
static void on_line(struct stream *s, const char *line, size_t len, long long at)
{
    static const char key[] = "\"case_id\":\"";
    struct change probe, *c;
    const char *p, *end;

    if (s->status == 0) {
        if (len >= 12 && memcmp(line, "HTTP/1.", 7) == 0)
            s->status = (int)strtol(line + 9, NULL, 10);
        if (s->status == 200 && ++ready == nstreams) {
            struct timeval tv = {0, SETTLE_MS * 1000};
            evtimer_add(burst_timer, &tv);
        } else if (s->status != 200) {
            failed_streams++;
        }
        return;
    }
    if (len < 6 || memcmp(line, "data: ", 6) != 0) return;
    p = find(line, len, key);
    if (p == NULL) return;
    p += sizeof key - 1;
    end = memchr(p, '"', len - (size_t)(p - line));
    if (end == NULL || end - p > CASE_ID_MAX) return;
    memcpy(probe.id, p, (size_t)(end - p));
    probe.id[end - p] = '\0';
    c = bsearch(&probe, changes, total_changes, sizeof *changes, by_id);
    if (c == NULL || c->sent == 0) {
        unknown_events++;
        return;
    }
    {
        size_t b = c->index / per_burst;
        if (at > s->last_of_burst[b]) s->last_of_burst[b] = at;
        s->count_of_burst[b]++;
    }
    if (ndelivery < events_expected) delivery[ndelivery++] = (double)(at - c->sent) / 1e6;
    s->events++;
    events_received++;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct stream *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    long long at = now_ns();
    size_t n = evbuffer_get_length(in), start = 0;

    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1) cap *= 2;
        char *grown = realloc(s->line, cap);
        if (grown == NULL) {
            fprintf(stderr, "events_fanout: out of memory\n");
            exit(1);
        }
        s->line = grown;
        s->cap = cap;
    }
    evbuffer_remove(in, s->line + s->len, n);
    s->len += n;
    for (size_t i = 0; i < s->len; i++) {
        if (s->line[i] != '\n') continue;
        on_line(s, s->line + start, i - start, at);
        start = i + 1;
    }
    memmove(s->line, s->line + start, s->len - start);
    s->len -= start;
    maybe_done();
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct stream *s = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) return;
    if (!s->closed) {
        s->closed = 1;
        failed_streams++;
    }
}

static void on_change_done(struct evhttp_request *req, void *arg)
{
    struct change *c = arg;
    c->status = req ? evhttp_request_get_response_code(req) : 0;
    c->done = now_ns();
    if (c->status != 200) bad_answers++;
    answered++;
    maybe_done();
}

static void send_change(struct change *c)
{
    static const char body[] = "{\"status\":\"closed\",\"note\":\"bench\"}";
    char path[128], auth[512];
    struct evhttp_connection *evcon =
        evhttp_connection_base_new(base, NULL, "127.0.0.1", (unsigned short)port);
    struct evhttp_request *req = evcon ? evhttp_request_new(on_change_done, c) : NULL;
    struct evkeyvalq *h;
    if (req == NULL) {
        fprintf(stderr, "events_fanout: cannot make a request\n");
        exit(1);
    }
    evhttp_connection_free_on_completion(evcon);
    snprintf(path, sizeof path, "/v1/cases/%s/status", c->id);
    snprintf(auth, sizeof auth, "Bearer %s", token);
    h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", host_header);
    evhttp_add_header(h, "Authorization", auth);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Connection", "close");
    evbuffer_add(evhttp_request_get_output_buffer(req), body, sizeof body - 1);
    c->sent = now_ns();
    if (evhttp_make_request(evcon, req, EVHTTP_REQ_POST, path) != 0) {
        fprintf(stderr, "events_fanout: cannot send a change\n");
        exit(1);
    }
}

static void on_burst(evutil_socket_t fd, short what, void *arg)
{
    size_t b = next_burst++;
    (void)fd;
    (void)what;
    (void)arg;
    burst_start[b] = now_ns();
    for (size_t i = 0; i < per_burst; i++) send_change(send_order[b * per_burst + i]);
    if (next_burst < nbursts) {
        struct timeval tv = {BURST_GAP_MS / 1000, (BURST_GAP_MS % 1000) * 1000};
        evtimer_add(burst_timer, &tv);
    }
}

static void on_limit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    fprintf(stderr, "events_fanout: stopped at the %d s limit\n", TIME_LIMIT_S);
    event_base_loopbreak(base);
}

/* The q-quantile (nearest rank) of v[0..n), sorted here; -1 when n is 0. */
static double quantile(double *v, size_t n, double q)
{
    size_t rank;
    if (n == 0) return -1;
    qsort(v, n, sizeof *v, cmp_double);
    rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    return v[(rank > n ? n : rank) - 1];
}

static int load_cases(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t n = 0;
    if (f == NULL) return -1;
    while (n < total_changes && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, " \t\r\n");
        if (len == 0 || len > CASE_ID_MAX) continue;
        memcpy(changes[n].id, line, len);
        changes[n].id[len] = '\0';
        changes[n].index = n;
        n++;
    }
    fclose(f);
    if (n < total_changes) return -1;
    qsort(changes, total_changes, sizeof *changes, by_id);
    for (size_t i = 0; i < total_changes; i++) send_order[changes[i].index] = &changes[i];
    return 0;
}

static struct bufferevent *open_stream(struct stream *s)
{
    struct sockaddr_in sin;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) return NULL;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bufferevent_setcb(bev, on_read, NULL, on_event, s);
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof sin) != 0) {
        bufferevent_free(bev);
        return NULL;
    }
    bufferevent_enable(bev, EV_READ);
    evbuffer_add_printf(bufferevent_get_output(bev),
                        "GET /v1/events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n"
                        "Authorization: Bearer %s\r\n\r\n",
                        host_header, token);
    return bev;
}

int main(int argc, char **argv)
{
    double *per_stream, *per_burst_ms;
    size_t nper = 0;
    FILE *out;
    long v;

    if (argc != 7) {
        fprintf(stderr, "usage: events_fanout PORT STREAMS CASES CHANGES BURSTS OUT\n");
        return 2;
    }
    token = getenv("ESS_OPERATOR_TOKEN");
    if (token == NULL || token[0] == '\0' || strlen(token) > 400) {
        fprintf(stderr, "events_fanout: set ESS_OPERATOR_TOKEN\n");
        return 2;
    }
    if ((v = parse_long(argv[1], 1, 65535)) < 0) return 2;
    port = (int)v;
    if ((v = parse_long(argv[2], 1, 100000)) < 0) return 2;
    nstreams = (size_t)v;
    if ((v = parse_long(argv[4], 1, 100000)) < 0) return 2;
    per_burst = (size_t)v;
    if ((v = parse_long(argv[5], 1, 1000)) < 0) return 2;
    nbursts = (size_t)v;
    total_changes = per_burst * nbursts;
    events_expected = total_changes * nstreams;
    snprintf(host_header, sizeof host_header, "127.0.0.1:%d", port);

    changes = calloc(total_changes, sizeof *changes);
    send_order = calloc(total_changes, sizeof *send_order);
    burst_start = calloc(nbursts, sizeof *burst_start);
    streams = calloc(nstreams, sizeof *streams);
    delivery = calloc(events_expected, sizeof *delivery);
    per_stream = calloc(nstreams * nbursts, sizeof *per_stream);
    per_burst_ms = calloc(nbursts, sizeof *per_burst_ms);
    base = event_base_new();
    if (!changes || !send_order || !burst_start || !streams || !delivery || !per_stream ||
        !per_burst_ms || !base) {
        fprintf(stderr, "events_fanout: out of memory\n");
        return 1;
    }
    if (load_cases(argv[3]) != 0) {
        fprintf(stderr, "events_fanout: %s must hold %zu case ids\n", argv[3], total_changes);
        return 1;
    }
    burst_timer = evtimer_new(base, on_burst, NULL);
    limit_timer = evtimer_new(base, on_limit, NULL);
    {
        struct timeval limit = {TIME_LIMIT_S, 0};
        evtimer_add(limit_timer, &limit);
    }
    for (size_t i = 0; i < nstreams; i++) {
        streams[i].last_of_burst = calloc(nbursts, sizeof(long long));
        streams[i].count_of_burst = calloc(nbursts, sizeof(size_t));
        if (!streams[i].last_of_burst || !streams[i].count_of_burst ||
            (streams[i].bev = open_stream(&streams[i])) == NULL) {
            fprintf(stderr, "events_fanout: cannot open stream %zu\n", i);
            return 1;
        }
    }
    event_base_dispatch(base);

    for (size_t b = 0; b < nbursts; b++) {
        long long worst = 0;
        int complete = burst_start[b] != 0;
        for (size_t i = 0; i < nstreams && complete; i++) {
            if (streams[i].count_of_burst[b] < per_burst) {
                complete = 0;
                break;
            }
            per_stream[nper++] = (double)(streams[i].last_of_burst[b] - burst_start[b]) / 1e6;
            if (streams[i].last_of_burst[b] > worst) worst = streams[i].last_of_burst[b];
        }
        per_burst_ms[b] = complete ? (double)(worst - burst_start[b]) / 1e6 : -1;
    }
    out = fopen(argv[6], "w");
    if (out == NULL) return 1;
    fprintf(out, "{\"streams\": %zu, \"changes_per_burst\": %zu, \"bursts\": %zu, \"burst_ms\": [",
            nstreams, per_burst, nbursts);
    for (size_t b = 0; b < nbursts; b++) fprintf(out, "%s%.2f", b ? ", " : "", per_burst_ms[b]);
    fprintf(out, "], \"answers_ms\": [");
    for (size_t b = 0; b < nbursts; b++) {
        long long last = 0;
        for (size_t i = 0; i < per_burst; i++)
            if (send_order[b * per_burst + i]->done > last)
                last = send_order[b * per_burst + i]->done;
        fprintf(out, "%s%.2f", b ? ", " : "",
                last && burst_start[b] ? (double)(last - burst_start[b]) / 1e6 : -1.0);
    }
    fprintf(out,
            "], \"stream_p50_ms\": %.2f, \"stream_p99_ms\": %.2f, \"stream_max_ms\": %.2f, "
            "\"delivery_p50_ms\": %.2f, \"delivery_p99_ms\": %.2f, \"delivery_max_ms\": %.2f, "
            "\"streams_failed\": %zu, \"changes_not_200\": %zu, \"changes_unanswered\": %zu, "
            "\"events_expected\": %zu, \"events_received\": %zu, \"events_foreign\": %zu}\n",
            quantile(per_stream, nper, 0.5), quantile(per_stream, nper, 0.99),
            quantile(per_stream, nper, 1.0), quantile(delivery, ndelivery, 0.5),
            quantile(delivery, ndelivery, 0.99), quantile(delivery, ndelivery, 1.0), failed_streams,
            bad_answers, total_changes - answered, events_expected, events_received,
            unknown_events);
    fclose(out);
    for (size_t i = 0; i < nstreams; i++) {
        bufferevent_free(streams[i].bev);
        free(streams[i].line);
        free(streams[i].last_of_burst);
        free(streams[i].count_of_burst);
    }
    event_free(burst_timer);
    event_free(limit_timer);
    event_base_free(base);
    free(changes);
    free(send_order);
    free(burst_start);
    free(streams);
    free(delivery);
    free(per_stream);
    free(per_burst_ms);
    return 0;
}
