/* The LINE Messaging API as scripts/bench sees it: a bare libevent evhttp server on 127.0.0.1:PORT
 * that answers 200 "{}" at once to the router's replies (POST /v2/bot/message/reply) and pushes
 * (POST /v2/bot/message/push), counts them, and logs each reply's arrival as "REPLY_TOKEN NS"
 * (NS: CLOCK_MONOTONIC in nanoseconds, the clock line_paced uses) to LOG. GET /count answers
 * {"reply":N,"push":N,"dispatch":N,"other":N,"no_token":N} and flushes LOG. It also stands for
 * the teams' gateway of scripts/soak: a POST to /team/<anything> (a dispatch) is answered 200 at
 * once and counted. Not a test double of LINE's behaviour (tests/integration/fake_line.py is):
 * only fast enough not to be what is measured.
 * Usage: fake_line PORT LOG; stops on SIGTERM or SIGINT (LOG flushed). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static FILE *log_file;
static unsigned long n_reply, n_push, n_dispatch, n_other, n_no_token;

/* The TCP port in s (1..65535), or -1. */
static int parse_port(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535) return -1;
    return (int)v;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void answer(struct evhttp_request *req, int code, const char *reason, const char *body)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    evhttp_send_reply(req, code, reason, NULL);
}

/* Logs the replyToken of a reply's body (the router writes {"replyToken":"…","messages":…}). */
static void log_reply(struct evhttp_request *req, long long t)
{
    static const char key[] = "\"replyToken\":\"";
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    size_t look = len < 512 ? len : 512; /* the token comes first */
    const char *body = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
    const char *start = NULL, *end = NULL;

    for (size_t i = 0; body != NULL && i + sizeof key - 1 <= look; i++) {
        if (memcmp(body + i, key, sizeof key - 1) == 0) {
            start = body + i + sizeof key - 1;
            end = memchr(start, '"', look - (size_t)(start - body));
            break;
        }
    }
    if (start == NULL || end == NULL || end == start) {
        n_no_token++;
        return;
    }
    fprintf(log_file, "%.*s %lld\n", (int)(end - start), start, t);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    long long t = now_ns();
    const char *uri = evhttp_request_get_uri(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    char counts[200];
    (void)arg;

    if (cmd == EVHTTP_REQ_POST && strcmp(uri, "/v2/bot/message/reply") == 0) {
        n_reply++;
        log_reply(req, t);
        answer(req, HTTP_OK, "OK", "{}");
    } else if (cmd == EVHTTP_REQ_POST && strcmp(uri, "/v2/bot/message/push") == 0) {
        n_push++;
        answer(req, HTTP_OK, "OK", "{}");
    } else if (cmd == EVHTTP_REQ_POST && strncmp(uri, "/team/", 6) == 0) {
        n_dispatch++;
        answer(req, HTTP_OK, "OK", "{}");
    } else if (cmd == EVHTTP_REQ_GET && strcmp(uri, "/count") == 0) {
        fflush(log_file);
        snprintf(counts, sizeof counts,
                 "{\"reply\":%lu,\"push\":%lu,\"dispatch\":%lu,\"other\":%lu,\"no_token\":%lu}",
                 n_reply, n_push, n_dispatch, n_other, n_no_token);
        answer(req, HTTP_OK, "OK", counts);
    } else {
        n_other++;
        answer(req, HTTP_NOTFOUND, "Not Found", "{\"message\":\"Not found\"}");
    }
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
    int rc = 1;
    struct event_base *base = NULL;
    struct evhttp *http = NULL;
    struct event *sigterm = NULL, *sigint = NULL;

    int port = argc == 3 ? parse_port(argv[1]) : -1;
    if (port < 0) {
        fprintf(stderr, "usage: fake_line PORT LOG\n");
        return 2;
    }
    log_file = fopen(argv[2], "w");
    if (log_file == NULL) {
        fprintf(stderr, "fake_line: cannot write %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    setvbuf(log_file, NULL, _IOFBF, 1 << 20);
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    if (base == NULL) goto done;
    http = evhttp_new(base);
    if (http == NULL) goto done;
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(http, on_request, NULL);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
        fprintf(stderr, "fake_line: cannot listen on 127.0.0.1:%d\n", port);
        goto done;
    }
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    sigint = evsignal_new(base, SIGINT, on_signal, base);
    if (sigterm == NULL || sigint == NULL || event_add(sigterm, NULL) != 0 ||
        event_add(sigint, NULL) != 0)
        goto done;
    fprintf(stderr, "fake_line: listening on 127.0.0.1:%d\n", port);
    rc = event_base_dispatch(base) == -1 ? 1 : 0;
    fprintf(stderr, "fake_line: %lu replies, %lu pushes, %lu dispatches, %lu other requests\n",
            n_reply, n_push, n_dispatch, n_other);
done:
    if (sigterm != NULL) event_free(sigterm);
    if (sigint != NULL) event_free(sigint);
    if (http != NULL) evhttp_free(http);
    if (base != NULL) event_base_free(base);
    if (fclose(log_file) != 0) rc = 1;
    return rc;
}
