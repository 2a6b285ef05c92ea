/* A partner agency reading its feed for `scripts/bench feed` (issue 13). In C because the reader
 * shares the bench's two cores with wrk, the router and Redis: the Python one it replaces cost
 * about 9 µs of CPU an entry, which a real agency spends on its own machine, and so lowered the
 * very throughput the bench measures.
 *
 * It does what the README's loop does: GET /v1/feed?count=1000&block_ms=1000 in a loop on one
 * keep-alive HTTP/1.1 connection (evhttp's client), each batch acknowledged (POST /v1/feed/ack
 * {"ids": [...]}, every id of the batch) before the next read. After a connection error (evhttp
 * reconnects by itself) or an answer other than 200 it pauses 0.1 s. It runs until END_FILE exists
 * (the incidents run is over), then until the agency has caught up (an empty read, then its
 * consumer group's lag and pending both 0) or DRAIN_S seconds passed, then writes its figures as
 * one JSON object to OUT and exits.
 *
 * Figures (null when not known): entries read, reads, acknowledged (the answers' "acknowledged"),
 * errors and first_error; each entry's age when it reached the agency (the wall-clock ms of its
 * arrival minus the ms of its stream id "<ms>-<seq>"): age_p50_ms, age_p99_ms, age_max_ms; the
 * group's lag (log entries not yet delivered) and pending (delivered, not acknowledged), sampled
 * every 0.25 s with XINFO GROUPS <prefix>log (group feed:<agency>) on an asynchronous hiredis
 * connection of the same event loop: lag_max, pending_max and samples up to the end of the
 * incidents run, lag_at_end and pending_at_end (the sample nearest to it); seconds (the whole
 * run), cpu_s (its own user + system CPU), caught_up and catch_up_s (after the run ended).
 * The agency's token comes from ESS_AGENCY_TOKEN. Loopback only. Stops at a 30 min limit of its
 * own. Usage: feed_reader --base URL --agency ID --redis-port PORT [--key-prefix ess:] --end-file
 * FILE
 *                    --out FILE [--drain-s 60] */
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "bench_util.h"

#define TIME_LIMIT_S 1800
#define REQUEST_TIMEOUT_S 40
#define PAUSE_MS 100        /* after a failed request */
#define SAMPLE_EVERY_MS 250 /* the group's lag and pending */
#define MAX_BODY (64 * 1024 * 1024)
#define ERROR_SHOWN 200 /* bytes of an error answer kept in first_error */
#define FEED_PATH "/v1/feed?count=1000&block_ms=1000"
#define ACK_PATH "/v1/feed/ack"

struct sample {
    long long at;           /* CLOCK_MONOTONIC ns, when the answer came */
    long long lag, pending; /* -1: not known */
};

/* The command line. */
static const char *agency, *key_prefix = "ess:", *end_file, *out_path;
static double drain_s = 60;
static int redis_port;
static char host[256], host_header[300], auth[512], log_key[256], group[256];
static unsigned short http_port;

static struct event_base *base;
static struct evhttp_connection *evcon;
static redisAsyncContext *redis; /* NULL while not connected */
static struct event *pause_timer, *sample_timer, *limit_timer;

static long long started, ended_at, caught_up_at; /* ns; 0 until it happened */
static int finished, over_limit;
static long long entries, reads, acknowledged, errors;
static char first_error[512];
static const char *request_error; /* what evhttp said of the failed request, or NULL */
static double *ages_ms;
static size_t nages, ages_cap;
static struct sample *samples;
static size_t nsamples, samples_cap;

static void next_step(void);

static void *grow(void *p, size_t *cap, size_t size)
{
    size_t n = *cap ? *cap * 2 : 1024;
    void *grown = realloc(p, n * size);
    if (grown == NULL) {
        fprintf(stderr, "feed_reader: out of memory\n");
        exit(1);
    }
    *cap = n;
    return grown;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Whether the incidents run is over (END_FILE exists); notes when it was first seen. */
static int run_ended(void)
{
    struct stat st;
    if (ended_at == 0 && stat(end_file, &st) == 0) ended_at = now_ns();
    return ended_at != 0;
}

static void finish(void)
{
    finished = 1;
    event_base_loopbreak(base);
}

/* Counts an error; the first one's text is kept, bytes outside printable ASCII shown as '?'. */
static void note_error(const char *what, const char *detail, size_t detail_len)
{
    errors++;
    if (first_error[0] != '\0') return;
    if (detail_len > ERROR_SHOWN) detail_len = ERROR_SHOWN;
    snprintf(first_error, sizeof first_error, "%s: %.*s", what, (int)detail_len, detail);
    for (char *p = first_error; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) *p = '?';
}

/* A request that got no answer (connection refused or lost, timeout). */
static void note_failed(const char *what)
{
    const char *why = request_error ? request_error : "connection failed";
    note_error(what, why, strlen(why));
}

/* An answer other than 200: its status and the start of its body. */
static void note_status(const char *what, struct evhttp_request *req)
{
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    char detail[ERROR_SHOWN + 16];
    int n = snprintf(detail, sizeof detail, "%d ", evhttp_request_get_response_code(req));
    ev_ssize_t got = evbuffer_copyout(body, detail + n, sizeof detail - (size_t)n - 1);
    note_error(what, detail, (size_t)n + (got > 0 ? (size_t)got : 0));
}

static void on_request_error(enum evhttp_request_error error, void *arg)
{
    (void)arg;
    switch (error) {
    case EVREQ_HTTP_TIMEOUT:
        request_error = "timed out";
        break;
    case EVREQ_HTTP_EOF:
        request_error = "connection closed";
        break;
    case EVREQ_HTTP_INVALID_HEADER:
        request_error = "invalid header";
        break;
    case EVREQ_HTTP_DATA_TOO_LONG:
        request_error = "answer too long";
        break;
    default:
        request_error = "connection error";
        break;
    }
}

static void pause_then_next(void)
{
    struct timeval tv = {0, PAUSE_MS * 1000};
    evtimer_add(pause_timer, &tv);
}

/* Sends a request on the keep-alive connection; on_done(req, NULL) gets its answer (req NULL or
 * status 0: none came). The body, if any, is copied. -1 when it could not be sent. */
/* Turns Nagle's algorithm off on the connection's socket, as curl and most HTTP clients do (made
 * or made again by the request just sent, before its bytes go out): an acknowledgment of 1,000
 * ids leaves in two writes, and the second would otherwise wait for the router's delayed ACK,
 * 40 ms a batch. */
static void no_delay(void)
{
    int one = 1;
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int send_request(enum evhttp_cmd_type type, const char *path, const char *body,
                        void (*on_done)(struct evhttp_request *, void *))
{
    struct evhttp_request *req = evhttp_request_new(on_done, NULL);
    struct evkeyvalq *h;
    if (req == NULL) return -1;
    evhttp_request_set_error_cb(req, on_request_error);
    h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", host_header);
    evhttp_add_header(h, "Authorization", auth);
    if (body != NULL) {
        evhttp_add_header(h, "Content-Type", "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    }
    request_error = NULL;
    if (evhttp_make_request(evcon, req, type, path) != 0) return -1; /* it freed req */
    no_delay();
    return 0;
}

/* The lag and pending count of our group in an XINFO GROUPS reply (each group a flat array of
 * field, value); -1 for each one not known. */
static void group_figures(const redisReply *r, long long *lag, long long *pending)
{
    *lag = *pending = -1;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) return;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *g = r->element[i];
        long long l = -1, p = -1;
        int ours = 0;
        if (g->type != REDIS_REPLY_ARRAY) continue;
        for (size_t j = 0; j + 1 < g->elements; j += 2) {
            const redisReply *k = g->element[j], *v = g->element[j + 1];
            if (k->type != REDIS_REPLY_STRING) continue;
            if (strcmp(k->str, "name") == 0)
                ours = v->type == REDIS_REPLY_STRING && strcmp(v->str, group) == 0;
            else if (strcmp(k->str, "lag") == 0 && v->type == REDIS_REPLY_INTEGER)
                l = v->integer;
            else if (strcmp(k->str, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
                p = v->integer;
        }
        if (ours) {
            *lag = l;
            *pending = p;
            return;
        }
    }
}

static void on_redis_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK && ac == redis) redis = NULL; /* hiredis frees it on return */
}

static void on_redis_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    if (ac == redis) redis = NULL;
}

/* Connects (asynchronously) when not connected; commands sent meanwhile wait for it. */
static void redis_connect(void)
{
    if (redis != NULL) return;
    redis = redisAsyncConnect("127.0.0.1", redis_port);
    if (redis == NULL) return;
    if (redis->err || redisLibeventAttach(redis, base) != REDIS_OK) {
        redisAsyncFree(redis);
        redis = NULL;
        return;
    }
    redisAsyncSetConnectCallback(redis, on_redis_connect);
    redisAsyncSetDisconnectCallback(redis, on_redis_disconnect);
}

/* XINFO GROUPS on the log; cb gets the reply (NULL when the connection failed). -1 when it
 * could not be sent. */
static int ask_group(redisCallbackFn *cb)
{
    redis_connect();
    if (redis == NULL) return -1;
    return redisAsyncCommand(redis, cb, NULL, "XINFO GROUPS %s", log_key) == REDIS_OK ? 0 : -1;
}

static void add_sample(long long lag, long long pending)
{
    if (nsamples == samples_cap) samples = grow(samples, &samples_cap, sizeof *samples);
    samples[nsamples++] = (struct sample){now_ns(), lag, pending};
    {
        struct timeval tv = {0, SAMPLE_EVERY_MS * 1000};
        evtimer_add(sample_timer, &tv);
    }
}

static void on_sample_reply(redisAsyncContext *ac, void *reply, void *arg)
{
    long long lag, pending;
    (void)ac;
    (void)arg;
    if (finished) return;
    group_figures(reply, &lag, &pending);
    add_sample(lag, pending);
}

static void on_sample_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    run_ended();
    if (ask_group(on_sample_reply) != 0) add_sample(-1, -1);
}

/* After an empty read once the run ended: caught up when nothing is left to read or acknowledge. */
static void on_catch_up_reply(redisAsyncContext *ac, void *reply, void *arg)
{
    long long lag, pending;
    (void)ac;
    (void)arg;
    if (finished) return;
    group_figures(reply, &lag, &pending);
    if (lag == 0 && pending == 0) {
        caught_up_at = now_ns();
        finish();
        return;
    }
    next_step();
}

static void after_batch(size_t batch)
{
    if (ended_at != 0 && batch == 0) {
        if (ask_group(on_catch_up_reply) != 0) next_step();
        return;
    }
    next_step();
}

static size_t last_batch; /* entries of the batch being acknowledged */

static void on_ack_done(struct evhttp_request *req, void *arg)
{
    int status = req ? evhttp_request_get_response_code(req) : 0;
    (void)arg;
    if (status == 0) {
        note_failed("POST " ACK_PATH);
    } else if (status != 200) {
        note_status("POST " ACK_PATH, req);
    } else {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        cJSON *answer = cJSON_ParseWithLength((const char *)evbuffer_pullup(in, -1), len);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(answer, "acknowledged");
        if (cJSON_IsNumber(n))
            acknowledged += (long long)n->valuedouble;
        else
            note_status("POST " ACK_PATH, req);
        cJSON_Delete(answer);
    }
    after_batch(last_batch);
}

/* Records the batch's ages and acknowledges every id of it, or goes on when it is empty.
 * -1 when the answer is not {"entries": [{"id": "<ms>-<seq>", ...}, ...]}. */
static int take_batch(const cJSON *answer, double arrived_ms)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(answer, "entries"), *e;
    cJSON *ack, *ids;
    char *body;
    size_t n = 0;

    if (!cJSON_IsArray(list)) return -1;
    ack = cJSON_CreateObject();
    ids = cJSON_AddArrayToObject(ack, "ids");
    cJSON_ArrayForEach (e, list) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        char *end = NULL;
        long long ms = cJSON_IsString(id) ? strtoll(id->valuestring, &end, 10) : 0;
        if (end == NULL || *end != '-') {
            cJSON_Delete(ack);
            return -1;
        }
        if (nages == ages_cap) ages_ms = grow(ages_ms, &ages_cap, sizeof *ages_ms);
        ages_ms[nages++] = arrived_ms - (double)ms;
        cJSON_AddItemToArray(ids, cJSON_CreateString(id->valuestring));
        n++;
    }
    entries += (long long)n;
    body = n ? cJSON_PrintUnformatted(ack) : NULL;
    cJSON_Delete(ack);
    if (n == 0) {
        after_batch(0);
        return 0;
    }
    last_batch = n;
    if (body == NULL || send_request(EVHTTP_REQ_POST, ACK_PATH, body, on_ack_done) != 0) {
        note_failed("POST " ACK_PATH);
        after_batch(n);
    }
    cJSON_free(body);
    return 0;
}

static void on_read_done(struct evhttp_request *req, void *arg)
{
    int status = req ? evhttp_request_get_response_code(req) : 0;
    double arrived_ms = wall_ms();
    (void)arg;
    if (status == 0) {
        note_failed("GET /v1/feed");
        pause_then_next();
        return;
    }
    reads++;
    if (status != 200) {
        note_status("GET /v1/feed", req);
        pause_then_next();
        return;
    }
    {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        cJSON *answer = cJSON_ParseWithLength((const char *)evbuffer_pullup(in, -1), len);
        int taken = take_batch(answer, arrived_ms);
        cJSON_Delete(answer);
        if (taken != 0) {
            note_status("GET /v1/feed", req);
            pause_then_next();
        }
    }
}

/* One turn of the loop: stop once the drain time after the run is over, else read. */
static void next_step(void)
{
    if (run_ended() && now_ns() - ended_at > (long long)(drain_s * 1e9)) {
        finish();
        return;
    }
    if (send_request(EVHTTP_REQ_GET, FEED_PATH, NULL, on_read_done) != 0) {
        note_failed("GET /v1/feed");
        pause_then_next();
    }
}

static void on_pause_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    next_step();
}

static void on_limit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    fprintf(stderr, "feed_reader: stopped at the %d s limit\n", TIME_LIMIT_S);
    over_limit = 1;
    finish();
}

/* v[min(n - 1, q * n)] of the sorted v[0..n), as the Python reader took it. */
static double percentile(const double *v, size_t n, double q)
{
    size_t i = (size_t)(q * (double)n);
    return v[i < n ? i : n - 1];
}

static double round2(double x)
{
    return (double)(long long)(x * 100.0 + (x < 0 ? -0.5 : 0.5)) / 100.0;
}

static void add_known(cJSON *o, const char *key, int known, double value)
{
    if (known)
        cJSON_AddNumberToObject(o, key, value);
    else
        cJSON_AddNullToObject(o, key);
}

/* The figures as one JSON object in out_path; -1 when it could not be written. */
static int write_figures(void)
{
    cJSON *o = cJSON_CreateObject();
    struct rusage ru;
    const struct sample *at_end = NULL;
    long long lag_max = -1, pending_max = -1;
    size_t during = 0;
    double cpu;
    char *text;
    FILE *f;
    int rc = -1;

    getrusage(RUSAGE_SELF, &ru);
    cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
          (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    for (size_t i = 0; i < nsamples; i++) {
        const struct sample *s = &samples[i];
        if (ended_at != 0 &&
            (at_end == NULL || llabs(s->at - ended_at) < llabs(at_end->at - ended_at)))
            at_end = s;
        if (ended_at != 0 && s->at > ended_at) continue;
        during++;
        if (s->lag > lag_max) lag_max = s->lag;
        if (s->pending > pending_max) pending_max = s->pending;
    }
    qsort(ages_ms, nages, sizeof *ages_ms, cmp_double);

    cJSON_AddNumberToObject(o, "entries", (double)entries);
    cJSON_AddNumberToObject(o, "acknowledged", (double)acknowledged);
    cJSON_AddNumberToObject(o, "reads", (double)reads);
    cJSON_AddNumberToObject(o, "errors", (double)errors);
    if (first_error[0] != '\0')
        cJSON_AddStringToObject(o, "first_error", first_error);
    else
        cJSON_AddNullToObject(o, "first_error");
    cJSON_AddNumberToObject(o, "seconds", round2((double)(now_ns() - started) / 1e9));
    cJSON_AddNumberToObject(o, "cpu_s", round2(cpu));
    add_known(o, "age_p50_ms", nages > 0, nages ? round2(percentile(ages_ms, nages, 0.50)) : 0);
    add_known(o, "age_p99_ms", nages > 0, nages ? round2(percentile(ages_ms, nages, 0.99)) : 0);
    add_known(o, "age_max_ms", nages > 0, nages ? round2(ages_ms[nages - 1]) : 0);
    add_known(o, "lag_max", lag_max >= 0, (double)lag_max);
    add_known(o, "pending_max", pending_max >= 0, (double)pending_max);
    add_known(o, "lag_at_end", at_end && at_end->lag >= 0, at_end ? (double)at_end->lag : 0);
    add_known(o, "pending_at_end", at_end && at_end->pending >= 0,
              at_end ? (double)at_end->pending : 0);
    cJSON_AddNumberToObject(o, "samples", (double)during);
    cJSON_AddBoolToObject(o, "caught_up", caught_up_at != 0);
    add_known(o, "catch_up_s", caught_up_at != 0 && ended_at != 0,
              round2((double)(caught_up_at - ended_at) / 1e9));

    text = cJSON_PrintUnformatted(o);
    f = fopen(out_path, "w");
    if (text != NULL && f != NULL && fprintf(f, "%s\n", text) > 0) rc = 0;
    if (f != NULL && fclose(f) != 0) rc = -1;
    cJSON_free(text);
    cJSON_Delete(o);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: feed_reader --base URL --agency ID --redis-port PORT "
                    "[--key-prefix ess:] --end-file FILE --out FILE [--drain-s 60]\n"
                    "(the agency's token in ESS_AGENCY_TOKEN)\n");
    return 2;
}

/* --base: http://HOST[:PORT] on loopback, into host, http_port and host_header. */
static int parse_base(const char *url)
{
    struct evhttp_uri *uri = evhttp_uri_parse(url);
    const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
    const char *h = uri ? evhttp_uri_get_host(uri) : NULL;
    int port = uri ? evhttp_uri_get_port(uri) : -1;
    int ok = scheme && strcmp(scheme, "http") == 0 && h &&
             (strncmp(h, "127.", 4) == 0 || strcmp(h, "localhost") == 0) && strlen(h) < sizeof host;
    if (ok) {
        http_port = (unsigned short)(port > 0 ? port : 80);
        snprintf(host, sizeof host, "%s", h);
        snprintf(host_header, sizeof host_header, "%s:%u", host, http_port);
    }
    if (uri) evhttp_uri_free(uri);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {{"base", required_argument, NULL, 'b'},
                                            {"agency", required_argument, NULL, 'a'},
                                            {"redis-port", required_argument, NULL, 'r'},
                                            {"key-prefix", required_argument, NULL, 'k'},
                                            {"end-file", required_argument, NULL, 'e'},
                                            {"out", required_argument, NULL, 'o'},
                                            {"drain-s", required_argument, NULL, 'd'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *base_url = NULL, *token = getenv("ESS_AGENCY_TOKEN");
    char *end;
    long v;
    int c, rc;

    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'b':
            base_url = optarg;
            break;
        case 'a':
            agency = optarg;
            break;
        case 'r':
            if ((v = parse_long(optarg, 1, 65535)) < 0) return usage();
            redis_port = (int)v;
            break;
        case 'k':
            key_prefix = optarg;
            break;
        case 'e':
            end_file = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'd':
            drain_s = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(drain_s >= 0 && drain_s <= 86400))
                return usage();
            break;
        default:
            return usage();
        }
    }
    if (optind != argc || !base_url || !agency || !redis_port || !end_file || !out_path)
        return usage();
    if (parse_base(base_url) != 0) {
        fprintf(stderr, "feed_reader: --base must be http://127.x.x.x[:PORT] or localhost\n");
        return 2;
    }
    if (token == NULL || token[0] == '\0' || strlen(token) > 400) {
        fprintf(stderr, "feed_reader: ESS_AGENCY_TOKEN is not set\n");
        return 2;
    }
    snprintf(auth, sizeof auth, "Bearer %s", token);
    if (snprintf(log_key, sizeof log_key, "%slog", key_prefix) >= (int)sizeof log_key ||
        snprintf(group, sizeof group, "feed:%s", agency) >= (int)sizeof group)
        return usage();

    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    evcon = base ? evhttp_connection_base_new(base, NULL, host, http_port) : NULL;
    pause_timer = base ? evtimer_new(base, on_pause_timer, NULL) : NULL;
    sample_timer = base ? evtimer_new(base, on_sample_timer, NULL) : NULL;
    limit_timer = base ? evtimer_new(base, on_limit, NULL) : NULL;
    if (!evcon || !pause_timer || !sample_timer || !limit_timer) {
        fprintf(stderr, "feed_reader: cannot set up the event loop\n");
        return 1;
    }
    evhttp_connection_set_timeout(evcon, REQUEST_TIMEOUT_S);
    evhttp_connection_set_max_body_size(evcon, MAX_BODY);
    {
        struct timeval limit = {TIME_LIMIT_S, 0};
        evtimer_add(limit_timer, &limit);
    }
    started = now_ns();
    on_sample_timer(-1, 0, NULL);
    next_step();
    event_base_dispatch(base);

    finished = 1; /* the replies hiredis fails on freeing are not samples */
    if (redis != NULL) {
        redisAsyncContext *ac = redis;
        redis = NULL;
        redisAsyncFree(ac);
    }
    rc = write_figures() == 0 ? 0 : 1;
    if (rc != 0) fprintf(stderr, "feed_reader: cannot write %s\n", out_path);
    evhttp_connection_free(evcon);
    event_free(pause_timer);
    event_free(sample_timer);
    event_free(limit_timer);
    event_base_free(base);
    free(ages_ms);
    free(samples);
    return rc != 0 || over_limit;
}
