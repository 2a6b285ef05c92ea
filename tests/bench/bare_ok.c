/* Benchmark ceiling for scripts/bench: the barest libevent evhttp server, answering "ok" to every
 * request on 127.0.0.1:PORT. The router's throughput and latency are reported relative to it.
 * Usage: bare_ok PORT; stops on SIGTERM or SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

/* The TCP port in s (1..65535), or -1. */
static int parse_port(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535) return -1;
    return (int)v;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    evbuffer_add(evhttp_request_get_output_buffer(req), "ok", 2);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
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

    int port = argc == 2 ? parse_port(argv[1]) : -1;
    if (port < 0) {
        fprintf(stderr, "usage: bare_ok PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    if (base == NULL) goto done;
    http = evhttp_new(base);
    if (http == NULL) goto done;
    evhttp_set_gencb(http, on_request, NULL);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
        fprintf(stderr, "bare_ok: cannot listen on 127.0.0.1:%d\n", port);
        goto done;
    }
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    sigint = evsignal_new(base, SIGINT, on_signal, base);
    if (sigterm == NULL || sigint == NULL || event_add(sigterm, NULL) != 0 ||
        event_add(sigint, NULL) != 0)
        goto done;
    fprintf(stderr, "bare_ok: listening on 127.0.0.1:%d\n", port);
    rc = event_base_dispatch(base) == -1 ? 1 : 0;
done:
    if (sigterm != NULL) event_free(sigterm);
    if (sigint != NULL) event_free(sigint);
    if (http != NULL) evhttp_free(http);
    if (base != NULL) event_base_free(base);
    return rc;
}
