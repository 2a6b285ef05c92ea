/* Benchmark ceiling for scripts/bench: bare_ok plus one asynchronous Redis round trip (GET of a
 * key, through hiredis' libevent adapter) per request: the best a one-lookup endpoint can do.
 * Usage: bare_redis HTTP_PORT REDIS_PORT [KEY]; Redis on 127.0.0.1; stops on SIGTERM or SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

static redisAsyncContext *redis; /* NULL once disconnected; owned by hiredis */
static const char *key = "bench:ok";

/* The TCP port in s (1..65535), or -1. */
static int parse_port(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535) return -1;
    return (int)v;
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *body,
                       size_t len)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
    evhttp_send_reply(req, code, reason, NULL);
}

/* The GET's answer. req stays valid until it is replied to: libevent detaches, rather than frees,
 * a request whose client left before the reply. The reply is valid only inside this callback. */
static void on_get(redisAsyncContext *ac, void *r, void *privdata)
{
    (void)ac;
    struct evhttp_request *req = privdata;
    const redisReply *reply = r;
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        reply_text(req, 503, "Service Unavailable", "redis", 5);
    } else if (reply->type == REDIS_REPLY_STRING) {
        reply_text(req, HTTP_OK, "OK", reply->str, reply->len);
    } else {
        reply_text(req, HTTP_OK, "OK", "ok", 2);
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    if (redis == NULL || redisAsyncCommand(redis, on_get, req, "GET %s", key) != REDIS_OK)
        reply_text(req, 503, "Service Unavailable", "redis", 5);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        fprintf(stderr, "bare_redis: cannot connect to Redis: %s\n", ac->errstr);
        redis = NULL;
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)ac;
    (void)status;
    redis = NULL;
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

    int port = argc >= 3 && argc <= 4 ? parse_port(argv[1]) : -1;
    int redis_port = argc >= 3 && argc <= 4 ? parse_port(argv[2]) : -1;
    if (port < 0 || redis_port < 0) {
        fprintf(stderr, "usage: bare_redis HTTP_PORT REDIS_PORT [KEY]\n");
        return 2;
    }
    if (argc == 4) key = argv[3];
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    if (base == NULL) goto done;

    redis = redisAsyncConnect("127.0.0.1", redis_port);
    if (redis == NULL || redis->err) {
        fprintf(stderr, "bare_redis: cannot connect to Redis on 127.0.0.1:%d\n", redis_port);
        if (redis != NULL) redisAsyncFree(redis);
        redis = NULL;
        goto done;
    }
    redisLibeventAttach(redis, base);
    redisAsyncSetConnectCallback(redis, on_connect);
    redisAsyncSetDisconnectCallback(redis, on_disconnect);
    redisAsyncCommand(redis, NULL, NULL, "SET %s ok", key);

    http = evhttp_new(base);
    if (http == NULL) goto done;
    evhttp_set_gencb(http, on_request, NULL);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
        fprintf(stderr, "bare_redis: cannot listen on 127.0.0.1:%d\n", port);
        goto done;
    }
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    sigint = evsignal_new(base, SIGINT, on_signal, base);
    if (sigterm == NULL || sigint == NULL || event_add(sigterm, NULL) != 0 ||
        event_add(sigint, NULL) != 0)
        goto done;
    fprintf(stderr, "bare_redis: listening on 127.0.0.1:%d, Redis on 127.0.0.1:%d\n", port,
            redis_port);
    rc = event_base_dispatch(base) == -1 ? 1 : 0;
done:
    /* Pending GETs are answered 503 by on_get (NULL reply) while the context is freed. */
    if (redis != NULL) redisAsyncFree(redis);
    redis = NULL;
    if (sigterm != NULL) event_free(sigterm);
    if (sigint != NULL) event_free(sigint);
    if (http != NULL) evhttp_free(http);
    if (base != NULL) event_base_free(base);
    return rc;
}
