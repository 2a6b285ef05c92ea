/* Tests of router/out/client.c against a small evhttp server on 127.0.0.1 running in the same event
 * loop: status and body, headers sent, errors (500, timeout, refused), body cap, connection
 * reuse, 50 concurrent posts, cancel, re-entrant callbacks, client_free with transfers in flight
 * and that failure logs carry no path, query or token. */
#include "client.h"
#include "log.h"
#include "tap.h"

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOW_DELAY_MS 1500
#define BIG_BODY (100 * 1024)
#define NCONCURRENT 50

static struct event_base *base;
static int completions; /* callbacks recorded so far, all tests together */

/* What the server saw. */
static struct {
    struct evhttp *http;
    int port;
    int requests;
    int posts;
    char retry_key[64];
    char auth[64];
    char content_type[64];
    ev_uint16_t peer_ports[8];
    int npeer;
    int slow_pending; /* slow replies waiting on their timer */
} srv;

/* What a callback saw. */
struct result {
    int calls;
    int status;
    char error[64];
    int has_error;
    int timed_out;
    int sent;
    char body[128];
    size_t body_len;
    int body_all_x; /* every byte of the body is 'x' and body[body_len] is NUL */
    double seconds;
};

static void record(struct result *out, const struct client_response *res)
{
    out->calls++;
    completions++;
    out->status = res->status;
    out->has_error = res->error != NULL;
    snprintf(out->error, sizeof out->error, "%s", res->error ? res->error : "");
    out->timed_out = res->timed_out;
    out->sent = res->sent;
    out->body_len = res->body_len;
    snprintf(out->body, sizeof out->body, "%s", res->body ? res->body : "(null)");
    out->body_all_x = res->body != NULL && res->body[res->body_len] == '\0';
    for (size_t i = 0; out->body_all_x && i < res->body_len; i++) {
        if (res->body[i] != 'x') out->body_all_x = 0;
    }
    out->seconds = res->seconds;
}

static void record_cb(const struct client_response *res, void *arg)
{
    record(arg, res);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(int *)arg = 1;
}

/* Runs the loop until *count reaches target (count may be NULL: run for max_ms). Returns 1 when
 * the target was reached. */
static int run_until(const int *count, int target, int max_ms)
{
    int expired = 0;
    struct event *t = evtimer_new(base, deadline_cb, &expired);
    struct timeval tv = {max_ms / 1000, (max_ms % 1000) * 1000};

    evtimer_add(t, &tv);
    while ((count == NULL || *count < target) && !expired) event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    return count == NULL || *count >= target;
}

/* ---- the server ---- */

static void copy_header(struct evhttp_request *req, const char *name, char *out, size_t cap)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);

    snprintf(out, cap, "%s", v ? v : "");
}

static void note_request(struct evhttp_request *req)
{
    char *addr = NULL;
    ev_uint16_t port = 0;

    srv.requests++;
    if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) srv.posts++;
    evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
    if (srv.npeer < (int)(sizeof srv.peer_ports / sizeof srv.peer_ports[0])) {
        srv.peer_ports[srv.npeer++] = port;
    }
}

/* /echo: 200 with the request body; remembers a few request headers. */
static void echo_handler(struct evhttp_request *req, void *arg)
{
    struct evbuffer *out = evbuffer_new();

    (void)arg;
    note_request(req);
    copy_header(req, "X-Line-Retry-Key", srv.retry_key, sizeof srv.retry_key);
    copy_header(req, "Authorization", srv.auth, sizeof srv.auth);
    copy_header(req, "Content-Type", srv.content_type, sizeof srv.content_type);
    evbuffer_add_buffer(out, evhttp_request_get_input_buffer(req));
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static void fail_handler(struct evhttp_request *req, void *arg)
{
    struct evbuffer *out = evbuffer_new();

    (void)arg;
    note_request(req);
    evbuffer_add_printf(out, "{\"error\":\"boom\"}");
    evhttp_send_reply(req, 500, "Internal Server Error", out);
    evbuffer_free(out);
}

static void conflict_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    note_request(req);
    evhttp_send_reply(req, 409, "Conflict", NULL);
}

/* /big: 200 with BIG_BODY bytes of 'x', more than the client keeps. */
static void big_handler(struct evhttp_request *req, void *arg)
{
    struct evbuffer *out = evbuffer_new();
    char *x = malloc(BIG_BODY);

    (void)arg;
    note_request(req);
    memset(x, 'x', BIG_BODY);
    evbuffer_add(out, x, BIG_BODY);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
    free(x);
}

/* /slow: replies 200 after SLOW_DELAY_MS, unless the client went away first. */
struct slow {
    struct evhttp_request *req;
    struct event *timer;
};

static void slow_free(struct slow *s)
{
    evhttp_connection_set_closecb(evhttp_request_get_connection(s->req), NULL, NULL);
    event_free(s->timer);
    free(s);
    srv.slow_pending--;
}

static void slow_close_cb(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    slow_free(arg); /* the request goes with the connection: never reply to it */
}

static void slow_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct slow *s = arg;
    struct evhttp_request *req = s->req;

    (void)fd;
    (void)what;
    slow_free(s);
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void slow_handler(struct evhttp_request *req, void *arg)
{
    struct slow *s = calloc(1, sizeof *s);
    struct timeval tv = {SLOW_DELAY_MS / 1000, (SLOW_DELAY_MS % 1000) * 1000};

    (void)arg;
    note_request(req);
    s->req = req;
    s->timer = evtimer_new(base, slow_timer_cb, s);
    evtimer_add(s->timer, &tv);
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), slow_close_cb, s);
    srv.slow_pending++;
}

static int server_start(void)
{
    struct evhttp_bound_socket *bound;
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;

    srv.http = evhttp_new(base);
    if (srv.http == NULL) return -1;
    evhttp_set_cb(srv.http, "/echo", echo_handler, NULL);
    evhttp_set_cb(srv.http, "/fail", fail_handler, NULL);
    evhttp_set_cb(srv.http, "/conflict", conflict_handler, NULL);
    evhttp_set_cb(srv.http, "/big", big_handler, NULL);
    evhttp_set_cb(srv.http, "/slow", slow_handler, NULL);
    bound = evhttp_bind_socket_with_handle(srv.http, "127.0.0.1", 0);
    if (bound == NULL) return -1;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &len) != 0) {
        return -1;
    }
    srv.port = ntohs(sin.sin_port);
    return 0;
}

/* A loopback port nothing listens on: bound, read, then closed. */
static int closed_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &len) == 0) {
        port = ntohs(sin.sin_port);
    }
    if (fd >= 0) close(fd);
    return port;
}

static void url_for(char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", srv.port, path);
}

static const char *const json_headers[] = {"Content-Type: application/json"};

/* ---- the tests ---- */

static void test_echo_and_headers(struct client *c)
{
    static const char body[] = "{\"replyToken\":\"abc\",\"messages\":[]}";
    const char *const headers[] = {"Content-Type: application/json",
                                   "Authorization: Bearer test-token-1",
                                   "X-Line-Retry-Key: 123e4567-e89b-12d3-a456-426614174000"};
    struct result res = {0};
    char url[128];

    url_for(url, sizeof url, "/echo");
    CHECK(client_post(c, url, headers, 3, body, strlen(body), 2000, record_cb, &res) != NULL,
          "post to /echo starts");
    CHECK(client_in_flight(c) == 1, "one transfer in flight");
    CHECK(res.calls == 0, "the callback does not run inside client_post");
    CHECK(run_until(&res.calls, 1, 3000), "echo completes");
    CHECK(res.calls == 1, "echo callback runs once");
    CHECK(res.status == 200 && !res.has_error, "echo: status 200, no error");
    CHECK(res.body_len == strlen(body) && strcmp(res.body, body) == 0, "echo: body received");
    CHECK(res.seconds > 0 && res.seconds < 2.0, "echo: total time reported");
    CHECK(srv.posts >= 1, "server saw a POST");
    CHECK(strcmp(srv.retry_key, "123e4567-e89b-12d3-a456-426614174000") == 0,
          "server saw X-Line-Retry-Key");
    CHECK(strcmp(srv.auth, "Bearer test-token-1") == 0, "server saw Authorization");
    CHECK(strcmp(srv.content_type, "application/json") == 0, "server saw Content-Type");
    CHECK(client_in_flight(c) == 0, "nothing in flight afterwards");
}

static void test_reuse(struct client *c)
{
    struct result a = {0}, b = {0};
    char url[128];

    url_for(url, sizeof url, "/echo");
    srv.npeer = 0;
    client_post(c, url, json_headers, 1, "1", 1, 2000, record_cb, &a);
    run_until(&a.calls, 1, 3000);
    client_post(c, url, json_headers, 1, "2", 1, 2000, record_cb, &b);
    run_until(&b.calls, 1, 3000);
    CHECK(a.status == 200 && b.status == 200, "two sequential posts succeed");
    CHECK(srv.npeer == 2 && srv.peer_ports[0] == srv.peer_ports[1],
          "the second post reuses the first one's connection");
}

/* A finished transfer's easy handle serves the next one reset: nothing of the last request
 * (its headers, its body) goes with the next. */
static void test_handle_reset(struct client *c)
{
    const char *const secret[] = {"Authorization: Bearer test-token-2",
                                  "X-Line-Retry-Key: 00000000-0000-4000-8000-000000000001"};
    struct result a = {0}, b = {0};
    char url[128];

    url_for(url, sizeof url, "/echo");
    client_post(c, url, secret, 2, "first", 5, 2000, record_cb, &a);
    run_until(&a.calls, 1, 3000);
    CHECK(a.status == 200 && strcmp(srv.auth, "Bearer test-token-2") == 0,
          "the first post carries its headers");
    client_post(c, url, NULL, 0, "2nd", 3, 2000, record_cb, &b);
    run_until(&b.calls, 1, 3000);
    CHECK(b.status == 200 && b.body_len == 3 && strcmp(b.body, "2nd") == 0,
          "the next post on a reused handle: its own body");
    CHECK(srv.auth[0] == '\0' && srv.retry_key[0] == '\0', "and none of the first one's headers");
}

static void test_statuses(struct client *c)
{
    struct result fail = {0}, conflict = {0}, big = {0}, empty = {0};
    int target = completions + 4;
    char url[128];

    url_for(url, sizeof url, "/fail");
    client_post(c, url, json_headers, 1, "{}", 2, 2000, record_cb, &fail);
    url_for(url, sizeof url, "/conflict");
    client_post(c, url, json_headers, 1, "{}", 2, 2000, record_cb, &conflict);
    url_for(url, sizeof url, "/big");
    client_post(c, url, json_headers, 1, "{}", 2, 2000, record_cb, &big);
    url_for(url, sizeof url, "/echo");
    client_post(c, url, NULL, 0, NULL, 0, 2000, record_cb, &empty);
    run_until(&completions, target, 4000);
    CHECK(fail.calls == 1 && fail.status == 500 && !fail.has_error, "500 reported as status 500");
    CHECK(fail.sent == 1 && empty.sent == 1, "an answered request: sent=1");
    CHECK(strcmp(fail.body, "{\"error\":\"boom\"}") == 0, "500: error body delivered");
    CHECK(conflict.calls == 1 && conflict.status == 409 && !conflict.has_error,
          "409 reported as status 409");
    CHECK(conflict.body_len == 0 && conflict.body[0] == '\0', "409: empty body is \"\"");
    CHECK(big.calls == 1 && big.status == 200 && !big.has_error,
          "oversized body: 200, not an error");
    CHECK(big.body_len == CLIENT_BODY_MAX && big.body_all_x,
          "oversized body capped at 64 KiB and NUL-terminated");
    CHECK(empty.calls == 1 && empty.status == 200 && empty.body_len == 0,
          "post without headers or body works");
}

static void test_timeout(struct client *c)
{
    struct result res = {0};
    char url[128];
    double t0 = now_s(), took;

    url_for(url, sizeof url, "/slow");
    CHECK(client_post(c, url, json_headers, 1, "{}", 2, 300, record_cb, &res) != NULL,
          "post to /slow starts");
    run_until(&res.calls, 1, 3000);
    took = now_s() - t0;
    CHECK(res.calls == 1, "timeout: callback runs once");
    CHECK(res.status == 0 && res.timed_out == 1, "timeout: status 0 and timed_out=1");
    CHECK(strcmp(res.error, "timeout") == 0, "timeout: error \"timeout\"");
    CHECK(res.sent == 1, "timeout after the request went out: sent=1 (it may have arrived)");
    CHECK(took >= 0.25 && took < 1.0, "timeout: reported within the bound (300 ms)");
    CHECK(res.seconds >= 0.25 && res.seconds < 1.0, "timeout: total time near the bound");
}

/* Failure logs: captured from stderr, they name the origin and never the path, query or headers. */
static void test_refused_and_log(struct client *c)
{
    const char *const headers[] = {"Authorization: Bearer SECRET-TOKEN-42"};
    struct result res = {0};
    char url[160], expect[96], logbuf[4096] = "";
    int port = closed_port();
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/secret-path?token=QUERYSECRET", port);
    snprintf(expect, sizeof expect, "POST to http://127.0.0.1:%d failed: connect failed", port);
    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    CHECK(client_post(c, url, headers, 1, "BODYSECRET", 10, 2000, record_cb, &res) != NULL,
          "post to a closed port starts");
    run_until(&res.calls, 1, 3000);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    n = fread(logbuf, 1, sizeof logbuf - 1, tmp);
    logbuf[n] = '\0';
    fclose(tmp);
    CHECK(res.calls == 1 && res.status == 0 && res.timed_out == 0,
          "refused: status 0, not a timeout");
    CHECK(strcmp(res.error, "connect failed") == 0, "refused: error \"connect failed\"");
    CHECK(res.sent == 0, "refused: sent=0 (it cannot have arrived)");
    CHECK(strstr(logbuf, expect) != NULL, "refused: logged as POST to scheme://host failed");
    CHECK(strstr(logbuf, "secret-path") == NULL && strstr(logbuf, "QUERYSECRET") == NULL &&
              strstr(logbuf, "SECRET-TOKEN") == NULL && strstr(logbuf, "BODYSECRET") == NULL,
          "refused: the log holds no path, query, header or body");
}

static void test_rejected(struct client *c)
{
    const char *const bad_headers[] = {"X-Ok: 1", "X-Bad: a\r\nX-Injected: 1"};
    struct result res = {0};
    char url[128];

    url_for(url, sizeof url, "/echo");
    CHECK(client_post(c, "file:///etc/passwd", NULL, 0, "", 0, 1000, record_cb, &res) == NULL,
          "file:// URL rejected");
    CHECK(client_post(c, "ftp://127.0.0.1/x", NULL, 0, "", 0, 1000, record_cb, &res) == NULL,
          "ftp:// URL rejected");
    CHECK(client_post(c, "127.0.0.1/echo", NULL, 0, "", 0, 1000, record_cb, &res) == NULL,
          "URL without a scheme rejected");
    CHECK(client_post(c, url, bad_headers, 2, "", 0, 1000, record_cb, &res) == NULL,
          "header with CR LF rejected");
    CHECK(client_post(c, url, NULL, 0, "", 0, 0, record_cb, &res) == NULL, "timeout 0 rejected");
    CHECK(client_post(c, url, NULL, 0, NULL, 5, 1000, record_cb, &res) == NULL,
          "NULL body with a length rejected");
    CHECK(client_post(c, url, NULL, 0, "", 0, 1000, NULL, NULL) == NULL, "NULL callback rejected");
    run_until(NULL, 0, 50);
    CHECK(res.calls == 0 && client_in_flight(c) == 0, "rejected posts never call back");
}

struct concurrent {
    struct result res;
    char sent[32];
    int *done;
};

static void concurrent_cb(const struct client_response *res, void *arg)
{
    struct concurrent *k = arg;

    record(&k->res, res);
    (*k->done)++;
}

static void test_concurrent(struct client *c)
{
    static struct concurrent k[NCONCURRENT];
    int done = 0, started = 0, ok = 0;
    char url[128];

    url_for(url, sizeof url, "/echo");
    for (int i = 0; i < NCONCURRENT; i++) {
        memset(&k[i], 0, sizeof k[i]);
        snprintf(k[i].sent, sizeof k[i].sent, "request-%d", i);
        k[i].done = &done;
        if (client_post(c, url, json_headers, 1, k[i].sent, strlen(k[i].sent), 5000, concurrent_cb,
                        &k[i]) != NULL) {
            started++;
        }
    }
    CHECK(started == NCONCURRENT && client_in_flight(c) == NCONCURRENT, "50 posts in flight");
    run_until(&done, NCONCURRENT, 8000);
    for (int i = 0; i < NCONCURRENT; i++) {
        if (k[i].res.calls == 1 && k[i].res.status == 200 &&
            strcmp(k[i].res.body, k[i].sent) == 0) {
            ok++;
        }
    }
    CHECK(done == NCONCURRENT, "50 concurrent posts all complete");
    CHECK(ok == NCONCURRENT, "each of the 50 got 200 and its own body back");
    CHECK(client_in_flight(c) == 0, "nothing in flight after the 50");
}

static void test_cancel(struct client *c)
{
    struct result cancelled = {0}, other = {0};
    struct client_request *r;
    char url[128];

    url_for(url, sizeof url, "/echo");
    r = client_post(c, url, json_headers, 1, "x", 1, 2000, record_cb, &cancelled);
    client_post(c, url, json_headers, 1, "y", 1, 2000, record_cb, &other);
    CHECK(r != NULL && client_in_flight(c) == 2, "two posts in flight");
    client_cancel(r);
    CHECK(client_in_flight(c) == 1, "client_cancel removes the transfer at once");
    run_until(&other.calls, 1, 3000);
    run_until(NULL, 0, 100);
    CHECK(other.calls == 1 && other.status == 200, "the other post completes");
    CHECK(cancelled.calls == 0, "client_cancel suppresses the callback");
    client_cancel(NULL);
}

/* A callback that cancels a slow transfer, cancels itself (a no-op) and posts a new one. */
struct reentrant {
    struct client *c;
    struct client_request *self;
    struct client_request *victim;
    struct result first, victim_res, follow;
    int follow_started;
};

static void reentrant_cb(const struct client_response *res, void *arg)
{
    struct reentrant *st = arg;
    char url[128];

    record(&st->first, res);
    client_cancel(st->victim);
    client_cancel(st->self);
    url_for(url, sizeof url, "/echo");
    st->follow_started =
        client_post(st->c, url, json_headers, 1, "again", 5, 2000, record_cb, &st->follow) != NULL;
}

static void test_reentrant(struct client *c)
{
    struct reentrant st;
    char url[128];

    memset(&st, 0, sizeof st);
    st.c = c;
    url_for(url, sizeof url, "/slow");
    st.victim = client_post(c, url, json_headers, 1, "v", 1, 5000, record_cb, &st.victim_res);
    url_for(url, sizeof url, "/echo");
    st.self = client_post(c, url, json_headers, 1, "first", 5, 2000, reentrant_cb, &st);
    CHECK(st.victim != NULL && st.self != NULL, "re-entrant: two posts start");
    run_until(&st.follow.calls, 1, 3000);
    run_until(NULL, 0, 100);
    CHECK(st.first.calls == 1 && st.first.status == 200, "re-entrant: first post completes");
    CHECK(st.follow_started && st.follow.calls == 1 && st.follow.status == 200 &&
              strcmp(st.follow.body, "again") == 0,
          "re-entrant: post from inside a callback completes");
    CHECK(st.victim_res.calls == 0,
          "re-entrant: transfer cancelled from a callback never calls back");
    CHECK(client_in_flight(c) == 0, "re-entrant: nothing left in flight");
}

/* client_free with transfers in flight: each callback runs with "cancelled". */
struct freeing {
    struct client *c;
    int calls;
    int all_cancelled;
    int post_refused;
};

static void freeing_cb(const struct client_response *res, void *arg)
{
    struct freeing *st = arg;
    char url[128];

    st->calls++;
    if (res->status != 0 || res->error == NULL || strcmp(res->error, "cancelled") != 0 ||
        res->timed_out) {
        st->all_cancelled = 0;
    }
    url_for(url, sizeof url, "/echo");
    if (client_post(st->c, url, NULL, 0, "", 0, 1000, freeing_cb, st) != NULL) {
        st->post_refused = 0;
    }
}

static void test_free_in_flight(void)
{
    struct freeing st = {NULL, 0, 1, 1};
    struct client *c = client_new(base);
    char url[128];
    int started = 0;

    st.c = c;
    url_for(url, sizeof url, "/slow");
    for (int i = 0; i < 3; i++) {
        started += client_post(c, url, json_headers, 1, "s", 1, 5000, freeing_cb, &st) != NULL;
    }
    run_until(NULL, 0, 200); /* connected, waiting on the server */
    CHECK(srv.slow_pending >= 3, "free: the server holds three slow requests");
    url_for(url, sizeof url, "/echo");
    started += client_post(c, url, json_headers, 1, "e", 1, 5000, freeing_cb, &st) != NULL;
    CHECK(started == 4 && client_in_flight(c) == 4, "free: four transfers in flight");
    client_free(c);
    CHECK(st.calls == 4, "client_free runs every in-flight callback");
    CHECK(st.all_cancelled, "client_free: status 0, error \"cancelled\"");
    CHECK(st.post_refused, "client_post from a cancellation callback returns NULL");
    client_free(NULL);
}

/* client_free called from inside a completion callback. */
struct free_inside {
    struct client *c;
    struct result first, other;
};

static void free_inside_cb(const struct client_response *res, void *arg)
{
    struct free_inside *st = arg;

    record(&st->first, res);
    client_free(st->c);
}

static void test_free_inside_callback(void)
{
    struct free_inside st;
    char url[128];

    memset(&st, 0, sizeof st);
    st.c = client_new(base);
    url_for(url, sizeof url, "/slow");
    client_post(st.c, url, json_headers, 1, "s", 1, 5000, record_cb, &st.other);
    url_for(url, sizeof url, "/echo");
    client_post(st.c, url, json_headers, 1, "e", 1, 5000, free_inside_cb, &st);
    run_until(&st.first.calls, 1, 3000);
    run_until(NULL, 0, 100);
    CHECK(st.first.calls == 1 && st.first.status == 200, "free inside: first callback ran");
    CHECK(st.other.calls == 1 && strcmp(st.other.error, "cancelled") == 0,
          "free inside: the other transfer is cancelled");
}

int main(void)
{
    struct client *c;

    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    base = event_base_new();
    if (base == NULL || server_start() != 0) {
        printf("Bail out! cannot start the test server\n");
        return 1;
    }
    CHECK(client_new(NULL) == NULL, "client_new(NULL) fails");
    c = client_new(base);
    CHECK(c != NULL, "client_new");
    test_echo_and_headers(c);
    test_reuse(c);
    test_handle_reset(c);
    test_statuses(c);
    test_timeout(c);
    test_refused_and_log(c);
    test_rejected(c);
    test_concurrent(c);
    test_cancel(c);
    test_reentrant(c);
    client_free(c);
    test_free_in_flight();
    test_free_inside_callback();

    evhttp_free(srv.http);
    CHECK(srv.slow_pending == 0, "server: every slow request released");
    event_base_free(base);
    curl_global_cleanup();
    return tap_done();
}
