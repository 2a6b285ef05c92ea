/* Finding the Redis primary through Redis Sentinel (ESS_REDIS_SENTINELS, ESS_REDIS_MASTER), on
 * the router's libevent loop: asks the Sentinels in turn for the primary's address, and listens
 * on one of them for +switch-master, the announcement of a fail-over. Nothing here blocks; every
 * answer comes through a callback. */
#ifndef ESS_ROUTER_SENTINEL_H
#define ESS_ROUTER_SENTINEL_H

#include <stddef.h>

struct event_base;
struct sentinel;

/* A Sentinel's address. */
struct sentinel_addr {
    const char *host;
    int port;
};

/* Creates the locator for the primary Sentinels monitor as master (addrs[0..n), n >= 1; the
 * strings are copied) and starts listening for fail-overs. NULL on allocation failure. */
struct sentinel *sentinel_new(struct event_base *base, const struct sentinel_addr *addrs, size_t n,
                              const char *master);

/* Stops listening, answers pending locates with found 0 and frees. Accepts NULL. */
void sentinel_free(struct sentinel *sentinel);

/* Called once per sentinel_locate: found 1 with the primary's host (valid only inside the call)
 * and port, or found 0 when no Sentinel named it (none reachable within its timeout, or none
 * monitors master). */
typedef void (*sentinel_found_cb)(int found, const char *host, int port, void *arg);

/* Asks for the primary's address, starting with the Sentinel that answered last. Several
 * locates at once share one round of questions. cb may run before this returns only when
 * memory runs out (found 0). */
void sentinel_locate(struct sentinel *sentinel, sentinel_found_cb cb, void *arg);

/* Withdraws every pending locate of arg: its callback will not run. */
void sentinel_cancel(struct sentinel *sentinel, void *arg);

/* on_switch(host, port, arg) runs each time a Sentinel announces that master moved to host:port
 * (+switch-master; host valid only inside the call). An
 * announcement made while no Sentinel could be heard is missed: the primary's connection then
 * learns of the move from its loss or from a READONLY answer (store.c). At most
 * SENTINEL_MAX_WATCHERS; 0, or -1 when full. */
#define SENTINEL_MAX_WATCHERS 8
typedef void (*sentinel_switch_cb)(const char *host, int port, void *arg);
int sentinel_watch(struct sentinel *sentinel, sentinel_switch_cb on_switch, void *arg);

/* Stops calling on_switch for arg. */
void sentinel_unwatch(struct sentinel *sentinel, void *arg);

#endif
