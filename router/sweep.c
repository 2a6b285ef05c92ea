/* The queue sweeper: a timer that calls ess_queue_sweep when Redis is up and the previous sweep
 * has answered. */
#include "sweep.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdlib.h>

#include "log.h"
#include "router.h"
#include "store.h"

struct sweep {
    struct router *router;
    struct event *timer;
    int busy;     /* a sweep is waiting for its answer */
    int stopping; /* sweep_stop ran while busy: the answer frees */
};

static void on_swept(enum store_status status, const char *data, size_t len, void *arg)
{
    struct sweep *sw = arg;
    sw->busy = 0;
    if (sw->stopping) {
        free(sw);
        return;
    }
    if (status == STORE_OK && data) {
        cJSON *reply = cJSON_ParseWithLength(data, len);
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(reply, "assigned"));
        if (n > 0) log_info("queue sweep assigned %d queued case(s)", n);
        cJSON_Delete(reply);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct sweep *sw = arg;
    (void)fd;
    (void)what;
    if (sw->busy || !store_is_up(sw->router->store)) return;
    if (store_fcall(sw->router->store, "ess_queue_sweep", 0, 0, NULL, NULL, on_swept, sw) == 0)
        sw->busy = 1;
}

struct sweep *sweep_start(struct router *router, int interval_ms)
{
    struct timeval tv = {interval_ms / 1000, (interval_ms % 1000) * 1000};
    struct sweep *sw = calloc(1, sizeof *sw);
    if (sw == NULL) return NULL;
    sw->router = router;
    sw->timer = event_new(router->base, -1, EV_PERSIST, on_tick, sw);
    if (sw->timer == NULL) {
        free(sw);
        return NULL;
    }
    event_add(sw->timer, &tv);
    return sw;
}

void sweep_stop(struct sweep *sw)
{
    if (sw == NULL) return;
    event_free(sw->timer);
    sw->timer = NULL;
    if (sw->busy) {
        sw->stopping = 1; /* on_swept frees it when the store answers or is freed */
        return;
    }
    free(sw);
}
