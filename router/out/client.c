/* Outbound HTTP POSTs through libcurl's multi "socket" interface on the router's libevent loop:
 * curl tells us which sockets to watch (one event each) and when to wake it (one timer); we
 * tell curl what happened and complete finished transfers after curl_multi_info_read. */
#include "client.h"
#include "log.h"
#include "netaddr.h"
#include "text.h"

#include <curl/curl.h>
#include <event2/event.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Idle connections kept for reuse across all hosts (LINE's API and the teams' webhooks). */
#define CLIENT_MAX_CONNECTS 64L
#define CLIENT_CONNECT_TIMEOUT_MS 5000
/* "scheme://host:port" as written in log lines; longer origins are cut. */
#define CLIENT_ORIGIN_MAX 160
#define CLIENT_BODY_INITIAL 4096

/* One socket curl asked us to watch; registered with curl_multi_assign. */
struct client_socket {
    struct client *c;
    struct event *ev;
    struct client_socket *prev, *next;
};

/* Easy handles kept for reuse: a new one allocates curl's transfer buffers (tens of KB) that a
 * reset one keeps, and the allocator then had to consolidate its heap for every message sent. */
#define CLIENT_SPARE_EASY 64

struct client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;             /* curl's single timeout */
    struct client_request *requests; /* in flight, doubly linked */
    struct client_socket *sockets;   /* watched, doubly linked; freed at the latest by release */
    size_t in_flight;
    int dispatching;       /* > 0 while client_check_done runs callbacks */
    int closing;           /* client_free has started: no new transfers */
    int free_pending;      /* client_free ran inside a callback: release once dispatching ends */
    struct net_list allow; /* private networks transfers may reach besides public addresses */
    CURL *spare[CLIENT_SPARE_EASY]; /* finished transfers' easy handles, reset, for the next ones */
    size_t nspare;
};

struct client_request {
    struct client *c;
    CURL *easy;
    struct curl_slist *headers;
    char *body; /* our copy of the request body; curl reads it in place */
    char *resp; /* response body, NUL-terminated, at most CLIENT_BODY_MAX bytes */
    size_t resp_len;
    size_t resp_cap;
    client_cb cb;
    void *arg;
    int in_callback;    /* its callback is running: client_cancel must not free it */
    int names_loopback; /* the URL's host is a loopback one: loopback addresses may be reached */
    int refused;        /* a resolved address was refused by the address policy */
    char origin[CLIENT_ORIGIN_MAX];
    struct client_request *prev, *next;
};

/* A short description of a failed transfer; static text that never contains the URL. */
static const char *client_error_text(CURLcode code)
{
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_CONNECT:
        return "connect failed";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "resolve failed";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return "tls failed";
    case CURLE_SEND_ERROR:
        return "send failed";
    case CURLE_RECV_ERROR:
        return "receive failed";
    case CURLE_GOT_NOTHING:
        return "empty reply";
    case CURLE_WRITE_ERROR:
    case CURLE_OUT_OF_MEMORY:
        return "out of memory";
    default:
        return curl_easy_strerror(code);
    }
}

/* Writes "scheme://host[:port]" of url to out[0..cap) (the only part of a URL ever logged: no
 * user, password, path or query). Returns 0, or -1 when url is not an absolute http or https
 * URL. */
static int client_origin(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;

    if (u == NULL) goto done;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) goto done;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) goto done;
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) goto done;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) goto done;
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT) != CURLUE_OK) port = NULL;
    if (snprintf(out, cap, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "") < 0) {
        goto done;
    }
    rc = 0;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* An easy handle for a new transfer: a spare one, or a new one. NULL when memory runs out. */
static CURL *client_easy_take(struct client *c)
{
    return c->nspare > 0 ? c->spare[--c->nspare] : curl_easy_init();
}

/* Keeps e (no longer attached to the multi handle; NULL: none) for a later transfer, its options
 * reset to curl's defaults (client_setup sets every one a transfer uses), or cleans it up. */
static void client_easy_give(struct client *c, CURL *e)
{
    if (e == NULL) return;
    if (c->nspare < CLIENT_SPARE_EASY) {
        curl_easy_reset(e);
        c->spare[c->nspare++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

/* Frees a request that is no longer attached to the multi handle. Accepts NULL. */
static void client_request_free(struct client_request *r)
{
    if (r == NULL) return;
    client_easy_give(r->c, r->easy);
    curl_slist_free_all(r->headers);
    free(r->body);
    free(r->resp);
    free(r);
}

/* Takes r out of its client's list and off the multi handle; r itself stays allocated. */
static void client_detach(struct client_request *r)
{
    struct client *c = r->c;

    if (r->prev)
        r->prev->next = r->next;
    else
        c->requests = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
    curl_multi_remove_handle(c->multi, r->easy);
    c->in_flight--;
}

/* Runs r's callback with res, then frees r. r must be detached. */
static void client_deliver(struct client_request *r, const struct client_response *res)
{
    r->in_callback = 1;
    r->cb(res, r->arg);
    client_request_free(r);
}

static void client_socket_free(struct client *c, struct client_socket *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        c->sockets = s->next;
    if (s->next) s->next->prev = s->prev;
    if (s->ev) event_free(s->ev);
    free(s);
}

/* Frees everything the client still owns. No transfer may be attached any more. */
static void client_release(struct client *c)
{
    /* Closing cached connections may still call the socket and timer callbacks. */
    curl_multi_cleanup(c->multi);
    while (c->nspare > 0) curl_easy_cleanup(c->spare[--c->nspare]);
    while (c->sockets) client_socket_free(c, c->sockets);
    if (c->timer) event_free(c->timer);
    free(c);
}

/* Completes every finished transfer curl reports: detaches it, then runs its callback. Callbacks
 * may post, cancel or free the client, so nothing is used after a callback but the client,
 * which a nested client_free leaves alive until the outermost call here returns. The caller
 * must not touch c afterwards. */
static void client_check_done(struct client *c)
{
    CURLMsg *msg;
    int left;

    c->dispatching++;
    while (!c->free_pending && (msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        struct client_request *r = NULL;
        struct client_response res = {0};
        CURLcode code = msg->data.result;
        CURL *easy = msg->easy_handle;
        void *priv = NULL;
        long status = 0;
        long request_size = 0;
        double seconds = 0;

        if (msg->msg != CURLMSG_DONE) continue;
        /* msg is invalid once the handle is removed: copy first. */
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        r = priv;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &seconds);
        curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
        res.seconds = seconds;
        res.sent = request_size > 0;
        res.body = "";
        if (code == CURLE_OK) {
            res.status = (int)status;
            if (r->resp) res.body = r->resp;
            res.body_len = r->resp_len;
        } else {
            res.error = r->refused ? "address refused" : client_error_text(code);
            res.timed_out = code == CURLE_OPERATION_TIMEDOUT;
            log_warn("POST to %s failed: %s", r->origin, res.error);
        }
        client_detach(r);
        client_deliver(r, &res);
    }
    c->dispatching--;
    if (c->dispatching == 0 && c->free_pending) client_release(c);
}

static void client_socket_event_cb(evutil_socket_t fd, short what, void *arg)
{
    struct client_socket *s = arg;
    struct client *c = s->c; /* s may be freed by curl_multi_socket_action */
    int action =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(c->multi, fd, action, &running);

    if (mc != CURLM_OK) log_warn("curl_multi_socket_action: %s", curl_multi_strerror(mc));
    client_check_done(c);
}

static void client_timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);

    (void)fd;
    (void)what;
    if (mc != CURLM_OK) log_warn("curl_multi_socket_action: %s", curl_multi_strerror(mc));
    client_check_done(c);
}

/* CURLMOPT_SOCKETFUNCTION: keeps one persistent event per socket in step with what curl wants
 * to wait for. Runs inside curl: it must not complete transfers or call back into the multi
 * handle beyond curl_multi_assign. Returns -1 (curl then fails the transfers) when out of
 * memory. */
static int client_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct client *c = userp;
    struct client_socket *s = socketp;
    short kind = EV_PERSIST;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) client_socket_free(c, s);
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL) return -1;
        s->c = c;
        s->next = c->sockets;
        if (c->sockets) c->sockets->prev = s;
        c->sockets = s;
        if (curl_multi_assign(c->multi, fd, s) != CURLM_OK) {
            client_socket_free(c, s);
            return -1;
        }
    }
    if (what & CURL_POLL_IN) kind |= EV_READ;
    if (what & CURL_POLL_OUT) kind |= EV_WRITE;
    if (s->ev == NULL) {
        s->ev = event_new(c->base, fd, kind, client_socket_event_cb, s);
        if (s->ev == NULL) return -1;
    } else {
        event_del(s->ev);
        event_assign(s->ev, c->base, fd, kind, client_socket_event_cb, s);
    }
    if (!(what & (CURL_POLL_IN | CURL_POLL_OUT))) return 0; /* CURL_POLL_NONE: watch nothing */
    return event_add(s->ev, NULL) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: (re)arms the one timer, or stops it when timeout_ms is -1. */
static int client_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct client *c = userp;
    struct timeval tv;

    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(c->timer);
        return 0;
    }
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    return evtimer_add(c->timer, &tv) == 0 ? 0 : -1;
}

/* CURLOPT_WRITEFUNCTION: keeps the first CLIENT_BODY_MAX bytes of the body and discards the rest
 * (not an error). Returns 0, which fails the transfer, only when out of memory. */
static size_t client_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct client_request *r = userp;
    size_t n = size * nmemb;
    size_t take = CLIENT_BODY_MAX - r->resp_len;

    if (n < take) take = n;
    if (take == 0) return n;
    if (r->resp_len + take + 1 > r->resp_cap) {
        size_t cap = r->resp_cap ? r->resp_cap : CLIENT_BODY_INITIAL;
        char *p;

        while (cap < r->resp_len + take + 1) cap *= 2;
        if (cap > CLIENT_BODY_MAX + 1) cap = CLIENT_BODY_MAX + 1;
        p = realloc(r->resp, cap);
        if (p == NULL) return 0;
        r->resp = p;
        r->resp_cap = cap;
    }
    memcpy(r->resp + r->resp_len, data, take);
    r->resp_len += take;
    r->resp[r->resp_len] = '\0';
    return n;
}

struct client *client_new(struct event_base *base)
{
    struct client *c = NULL, *out = NULL;

    if (base == NULL) goto done;
    c = calloc(1, sizeof *c);
    if (c == NULL) goto done;
    c->base = base;
    c->multi = curl_multi_init();
    c->timer = evtimer_new(base, client_timer_event_cb, c);
    if (c->multi == NULL || c->timer == NULL) goto done;
    if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, client_socket_cb) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, client_timer_cb) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, CLIENT_MAX_CONNECTS) != CURLM_OK) {
        goto done;
    }
    out = c;
    c = NULL;
done:
    if (c) client_release(c);
    return out;
}

void client_free(struct client *c)
{
    struct client_request *r;

    if (c == NULL || c->closing) return;
    c->closing = 1;
    while ((r = c->requests) != NULL) {
        struct client_response res = {0};

        res.error = "cancelled";
        res.body = "";
        curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &res.seconds);
        client_detach(r);
        client_deliver(r, &res);
    }
    if (c->dispatching > 0) {
        c->free_pending = 1;
        return;
    }
    client_release(c);
}

/* Opens the socket of a new connection when the address curl resolved is one transfers may
 * reach (public; loopback when the URL named a loopback host; or in the allowed networks). This
 * runs after name resolution, so a name that resolves to a private address is refused too. */
static curl_socket_t client_open_socket(void *clientp, curlsocktype purpose,
                                        struct curl_sockaddr *address)
{
    struct client_request *r = clientp;
    struct net_cidr a;

    if (purpose != CURLSOCKTYPE_IPCXN || net_cidr_from_sockaddr(&address->addr, &a) != 0 ||
        !net_webhook_address_allowed(&a, r->names_loopback, &r->c->allow)) {
        r->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

/* Sets every option of one POST on r->easy; url, headers and body are already r's. */
static int client_setup(struct client_request *r, const char *url, size_t body_len, int timeout_ms)
{
    CURL *e = r->easy;
    long connect_ms =
        timeout_ms < CLIENT_CONNECT_TIMEOUT_MS ? timeout_ms : CLIENT_CONNECT_TIMEOUT_MS;

    if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        /* never a proxy, whatever http_proxy/https_proxy/ALL_PROXY say: the address check of
         * client_open_socket must see the target's address, not a proxy's */
        curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, "ess-router") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, client_write_cb) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, client_open_socket) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r) != CURLE_OK) {
        return -1;
    }
    return 0;
}

struct client_request *client_post(struct client *c, const char *url, const char *const *headers,
                                   size_t nheaders, const char *body, size_t body_len,
                                   int timeout_ms, client_cb cb, void *arg)
{
    struct client_request *r = NULL, *out = NULL;
    struct curl_slist *list;

    if (c == NULL || c->closing || url == NULL || cb == NULL || timeout_ms <= 0) goto done;
    if ((headers == NULL && nheaders > 0) || (body == NULL && body_len > 0)) goto done;
    r = calloc(1, sizeof *r);
    if (r == NULL) goto done;
    r->c = c;
    r->cb = cb;
    r->arg = arg;
    if (client_origin(url, r->origin, sizeof r->origin) != 0) goto done;
    (void)net_webhook_url_check(url, &r->names_loopback); /* only the host's kind is wanted */
    for (size_t i = 0; i < nheaders; i++) {
        /* A CR or LF would let a value inject further headers or a second request. */
        if (headers[i] == NULL || strpbrk(headers[i], "\r\n") != NULL) goto done;
        list = curl_slist_append(r->headers, headers[i]);
        if (list == NULL) goto done;
        r->headers = list;
    }
    /* No "Expect: 100-continue" round trip before larger bodies. */
    list = curl_slist_append(r->headers, "Expect:");
    if (list == NULL) goto done;
    r->headers = list;
    r->body = text_dup_len(body, body_len);
    if (r->body == NULL) goto done;
    r->easy = client_easy_take(c);
    if (r->easy == NULL || client_setup(r, url, body_len, timeout_ms) != 0) goto done;
    if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) goto done;
    r->next = c->requests;
    if (c->requests) c->requests->prev = r;
    c->requests = r;
    c->in_flight++;
    out = r;
    r = NULL;
done:
    client_request_free(r);
    return out;
}

void client_cancel(struct client_request *r)
{
    if (r == NULL || r->in_callback) return;
    client_detach(r);
    client_request_free(r);
}

void client_set_allowed_nets(struct client *c, const struct net_list *allow)
{
    if (c && allow) c->allow = *allow;
}

size_t client_in_flight(const struct client *c)
{
    return c ? c->in_flight : 0;
}
