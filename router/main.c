/* ess-router: wires the configuration, the rule table, the Redis store, the HTTP server, the
 * outbound HTTP client, the outbox sender and the queue sweeper onto one libevent loop, and
 * stops cleanly on SIGTERM or SIGINT. */
#include <curl/curl.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "client.h"
#include "config.h"
#include "events.h"
#include "feed.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "ratelimit.h"
#include "router.h"
#include "rules.h"
#include "search.h"
#include "sentinel.h"
#include "server.h"
#include "store.h"
#include "sweep.h"
#include "worker.h"

/* Password hashes (about 90 ms and 32 MiB each) run on this many threads, with at most this many
 * waiting or running: a burst of log-ins beyond it is answered 503 rather than queued. */
#define ROUTER_WORKER_THREADS 2
#define ROUTER_WORKER_QUEUE 64

struct daemon {
    struct router router;
    struct server *server;
    struct event *sigterm;
    struct event *sigint;
};

/* Loads the triage model ESS_TRIAGE_MODEL names into the rule table: "none" leaves the keywords
 * to classify; "auto" (or "") takes triage-model.tsv beside the rule table when there is one (a
 * rule table without a model beside it classifies by its keywords, and says so). 0, or -1 with
 * err set. */
static int load_triage_model(struct rules_table *rules, const struct config *cfg, char *err,
                             size_t errlen)
{
    const char *path = cfg->triage_model_path;
    const char *slash = strrchr(cfg->rules_path, '/');
    char beside[4096];

    if (strcmp(path, "none") == 0) {
        log_info("triage: the rule table's keywords classify (ESS_TRIAGE_MODEL=none)");
        return 0;
    }
    if (path[0] == '\0' || strcmp(path, "auto") == 0) {
        snprintf(beside, sizeof beside, "%.*s%s", slash ? (int)(slash - cfg->rules_path + 1) : 0,
                 cfg->rules_path, "triage-model.tsv");
        if (access(beside, F_OK) != 0) {
            log_warn("triage: no %s beside the rule table: its keywords classify", beside);
            return 0;
        }
        path = beside;
    }
    if (rules_load_model_file(rules, path, err, errlen) != 0) return -1;
    log_info("triage: the model %s classifies", path);
    if (!rules_model_fits_keywords(rules))
        log_warn("triage: %s was trained with other keywords than the rule table's: run "
                 "scripts/train-triage",
                 path);
    return 0;
}

/* Fills router->redis from the configuration and, with ESS_REDIS_SENTINELS, starts the
 * Sentinels' locator the stores share. 0, or -1 (out of memory). */
static int redis_target_init(struct router *router, const struct config *cfg)
{
    struct store_target *t = &router->redis;
    t->host = cfg->redis_host;
    t->port = cfg->redis_port;
    t->password = cfg->redis_password;
    t->db = cfg->redis_db;
    t->key_prefix = cfg->key_prefix;
    t->wait_replicas = cfg->redis_wait_replicas;
    t->wait_timeout_ms = cfg->redis_wait_timeout_ms;
    if (cfg->nsentinels > 0) {
        struct sentinel_addr addrs[CONFIG_MAX_NODES];
        for (size_t i = 0; i < cfg->nsentinels; i++) {
            addrs[i].host = cfg->sentinels[i].host;
            addrs[i].port = cfg->sentinels[i].port;
        }
        router->sentinel = sentinel_new(router->base, addrs, cfg->nsentinels, cfg->redis_master);
        if (router->sentinel == NULL) return -1;
        t->sentinel = router->sentinel;
    }
    return 0;
}

/* What the start-up line says of Redis: "redis host:port/db" or "redis primary <name> of N
 * Sentinels/db". */
static void redis_describe(const struct config *cfg, char *out, size_t outlen)
{
    if (cfg->nsentinels > 0)
        snprintf(out, outlen, "redis primary %s of %zu Sentinels/%d", cfg->redis_master,
                 cfg->nsentinels, cfg->redis_db);
    else
        snprintf(out, outlen, "redis %s:%d/%d", cfg->redis_host, cfg->redis_port, cfg->redis_db);
}

static void on_drained(void *arg)
{
    struct daemon *d = arg;
    event_base_loopexit(d->router.base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    log_info("received %s: finishing requests in flight, then stopping",
             sig == SIGTERM ? "SIGTERM" : "SIGINT");
    events_drain(d->router.events); /* streams end now: they are not requests to wait for */
    feed_drain(d->router.feed);     /* parked feed reads answer what they have: nothing */
    server_drain(d->server, on_drained, d);
}

/* The event loop. With epoll, a change list: an fd whose events are changed several times in one
 * turn of the loop (a connection read, answered and read again; a Redis write queued and
 * flushed) costs one epoll_ctl at the turn's end instead of one per change. Safe here: no fd
 * given to libevent is a dup() of another. */
static struct event_base *loop_new(void)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base;
    if (cfg == NULL) return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

int main(int argc, char **argv)
{
    struct config cfg = {0};
    struct daemon d = {0};
    struct rules_table *rules = NULL;
    struct sweep *sweep = NULL;
    char err[512];
    int rc = 1;

    switch (config_load(&cfg, argc, argv, err, sizeof err)) {
    case CONFIG_EXIT_OK:
        config_free(&cfg);
        return 0;
    case CONFIG_ERROR:
        fprintf(stderr, "ess-router: %s\n(see ess-router --help)\n", err);
        config_free(&cfg);
        return 2;
    default:
        break;
    }
    if (config_check_required(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "ess-router: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    log_min_level = (enum log_level)cfg.log_level;
    if (cfg.supervisor_webhook[0] && cfg.supervisor_secret[0] == '\0')
        log_warn("ESS_SUPERVISOR_WEBHOOK is set without ESS_SUPERVISOR_SECRET: escalation notices "
                 "go unsigned");
    metrics_init();
    rules = rules_load_file(cfg.rules_path, err, sizeof err);
    if (rules == NULL) {
        fprintf(stderr, "ess-router: broken rule table: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    if (load_triage_model(rules, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "ess-router: broken triage model: %s\n", err);
        rules_free(rules);
        config_free(&cfg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    d.router.cfg = &cfg;
    d.router.rules = rules;
    d.router.base = loop_new();
    if (d.router.base == NULL) goto done;
    if (redis_target_init(&d.router, &cfg) != 0) goto done;
    d.router.store = store_new(d.router.base, &d.router.redis);
    if (d.router.store == NULL) goto done;
    d.router.address_key = auth_keyed_new(cfg.token_secret, RATELIMIT_KEY_LABEL);
    if (d.router.address_key == NULL) {
        log_error("could not make the key for client addresses (out of memory?)");
        goto done;
    }
    d.router.worker = worker_start(d.router.base, ROUTER_WORKER_THREADS, ROUTER_WORKER_QUEUE);
    if (d.router.worker == NULL) {
        log_error("could not start the password worker threads");
        goto done;
    }
    d.router.phone_key = auth_keyed_new(cfg.token_secret, SEARCH_PHONE_KEY_LABEL);
    if (d.router.phone_key == NULL) {
        log_error("could not make the key for the phone index (out of memory?)");
        goto done;
    }
    d.router.client = client_new(d.router.base);
    if (d.router.client == NULL) goto done;
    client_set_allowed_nets(d.router.client, &cfg.webhook_allow_nets);
    d.router.outbox = outbox_start(&d.router);
    if (d.router.outbox == NULL) goto done;
    d.router.feed = feed_new(&d.router);
    if (d.router.feed == NULL) goto done;
    d.router.events = events_start(&d.router);
    if (d.router.events == NULL) goto done;
    d.server = server_new(&d.router, err, sizeof err);
    if (d.server == NULL) {
        log_error("%s", err);
        goto done;
    }
    sweep = sweep_start(&d.router);
    d.sigterm = evsignal_new(d.router.base, SIGTERM, on_signal, &d);
    d.sigint = evsignal_new(d.router.base, SIGINT, on_signal, &d);
    if (sweep == NULL || d.sigterm == NULL || d.sigint == NULL) goto done;
    evsignal_add(d.sigterm, NULL);
    evsignal_add(d.sigint, NULL);
    redis_describe(&cfg, err, sizeof err);
    log_info("ess-router listening on %s:%d, %s, key prefix %s", cfg.listen_host,
             server_port(d.server), err, cfg.key_prefix);

    rc = event_base_dispatch(d.router.base) < 0 ? 1 : 0;
    log_info("ess-router stopped");

done:
    /* The stores stop first, the case-log reader before the main one: pending Redis callbacks run
     * now, told STORE_CANCELLED, while the modules they belong to (outbox, dispatch, sweep,
     * requests, streams) are still alive. */
    events_stop(d.router.events);
    store_stop(d.router.store);
    worker_stop(d.router.worker); /* joins its threads; calls waiting on it are answered 503 */
    sweep_stop(sweep);
    server_free(d.server);
    events_free(d.router.events); /* after the server: its connections, the streams, are closed */
    feed_free(d.router.feed);     /* after the server too: no parked read is left */
    client_free(d.router.client); /* cancels transfers in flight: the outbox resends them */
    outbox_stop(d.router.outbox);
    store_free(d.router.store);
    sentinel_free(d.router.sentinel); /* after the stores, which cancel their questions */
    auth_keyed_free(d.router.address_key);
    auth_keyed_free(d.router.phone_key);
    if (d.sigterm) event_free(d.sigterm);
    if (d.sigint) event_free(d.sigint);
    if (d.router.base) event_base_free(d.router.base);
    libevent_global_shutdown();
    curl_global_cleanup();
    rules_free(rules);
    config_free(&cfg);
    return rc;
}
