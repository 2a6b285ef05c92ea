/* Periodic upkeep: two timers, each calling one store function when Redis is up and its previous
 * call has answered, and logging what changed. */
#include "sweep.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "router.h"
#include "store.h"

#define DEADLINE_INTERVAL_MS 500
#define QUEUE_INTERVAL_MS 5000
#define DEADLINE_BATCH "100"

/* One periodic store call. */
struct job {
    struct sweep *sweep;
    struct event *timer;
    const char *function;
    int argc;
    const char *argv[1];
    void (*on_result)(struct sweep *sweep, const cJSON *reply);
    int busy;     /* waiting for the store's answer */
    int stopping; /* sweep_stop ran while busy: the answer frees the job */
};

struct sweep {
    struct router *router;
    struct job *deadlines;
    struct job *queue;
};

static void on_expired(struct sweep *sw, const cJSON *reply)
{
    const cJSON *e;
    int n = 0;
    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(reply, "expired")) {
        const char *next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "new_team"));
        const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "status"));
        metrics_count_ack_timeout();
        if (status && strcmp(status, "queued") == 0) metrics_count_escalation();
        log_info("case %s: team %s did not acknowledge in time; now %s%s%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "case_id")),
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "team_id")),
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "status")),
                 next && next[0] ? " with team " : "", next ? next : "");
        n++;
    }
    if (n > 0) outbox_kick(sw->router->outbox);
}

static void on_swept(struct sweep *sw, const cJSON *reply)
{
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(reply, "assigned"));
    if (n > 0) {
        log_info("queue sweep assigned %d queued case(s)", n);
        outbox_kick(sw->router->outbox);
    }
}

static void on_reply(enum store_status status, const char *data, size_t len, void *arg)
{
    struct job *job = arg;
    job->busy = 0;
    if (job->stopping) {
        free(job);
        return;
    }
    if (status == STORE_OK && data) {
        cJSON *reply = cJSON_ParseWithLength(data, len);
        if (reply) job->on_result(job->sweep, reply);
        cJSON_Delete(reply);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct job *job = arg;
    struct store *store = job->sweep->router->store;
    (void)fd;
    (void)what;
    if (job->busy || !store_is_up(store)) return;
    if (store_fcall(store, job->function, 0, job->argc, job->argv, NULL, on_reply, job) == 0)
        job->busy = 1;
}

static struct job *job_start(struct sweep *sw, const char *function, const char *arg,
                             int interval_ms, void (*on_result)(struct sweep *, const cJSON *))
{
    struct timeval tv = {interval_ms / 1000, (interval_ms % 1000) * 1000};
    struct job *job = calloc(1, sizeof *job);
    if (job == NULL) return NULL;
    job->sweep = sw;
    job->function = function;
    job->argc = arg ? 1 : 0;
    job->argv[0] = arg;
    job->on_result = on_result;
    job->timer = event_new(sw->router->base, -1, EV_PERSIST, on_tick, job);
    if (job->timer == NULL) {
        free(job);
        return NULL;
    }
    event_add(job->timer, &tv);
    return job;
}

static void job_stop(struct job *job)
{
    if (job == NULL) return;
    event_free(job->timer);
    job->timer = NULL;
    if (job->busy) {
        job->stopping = 1; /* on_reply frees it when the store answers or is freed */
        return;
    }
    free(job);
}

struct sweep *sweep_start(struct router *router)
{
    struct sweep *sw = calloc(1, sizeof *sw);
    if (sw == NULL) return NULL;
    sw->router = router;
    sw->deadlines =
        job_start(sw, "ess_deadlines_expire", DEADLINE_BATCH, DEADLINE_INTERVAL_MS, on_expired);
    sw->queue = job_start(sw, "ess_queue_sweep", NULL, QUEUE_INTERVAL_MS, on_swept);
    if (sw->deadlines == NULL || sw->queue == NULL) {
        sweep_stop(sw);
        return NULL;
    }
    return sw;
}

void sweep_stop(struct sweep *sw)
{
    if (sw == NULL) return;
    job_stop(sw->deadlines);
    job_stop(sw->queue);
    free(sw);
}
