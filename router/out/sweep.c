/* Periodic upkeep: timers, each calling one store function when Redis is up and its previous
 * call has answered, and logging what changed; LINE reports left before their location become
 * cases here, LINE chats nobody took in time are escalated, and closed cases past their
 * retention lose their personal data and then their public view. */
#include "sweep.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "chat.h"
#include "citizen_messages.h"
#include "config.h"
#include "incident.h"
#include "line_messages.h"
#include "linebot.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "router.h"
#include "store.h"

#define DEADLINE_INTERVAL_MS 500
#define QUEUE_INTERVAL_MS 5000
#define ABANDON_INTERVAL_MS 1000
#define CHAT_WAIT_INTERVAL_MS 1000
#define AUDIT_TRIM_INTERVAL_MS 2000   /* audit entries past their retention leave this often */
#define RETENTION_INTERVAL_MS 2000    /* closed cases past ESS_(TRACK_)RETENTION_DAYS, this often */
#define RETENTION_BATCH "50"          /* erasures (and public views) one call makes at most */
#define FEED_GAUGES_INTERVAL_MS 15000 /* ess_feed_lag / ess_feed_pending, read this often */
#define FEED_GAUGES_MAX 1000          /* agencies shown in /metrics at most */
#define JOB_MAX_ARGS 3
#define DEADLINE_BATCH "100"
#define ABANDON_BATCH "20"
#define CHAT_WAIT_BATCH "50"
#define LINE_USER_MAX 64 /* LINE user ids are "U" and 32 hex digits */

/* One periodic store call. */
struct job {
    struct sweep *sweep;
    struct event *timer;
    const char *function;
    int argc;
    const char *argv[JOB_MAX_ARGS]; /* strings that live as long as the sweep */
    void (*on_result)(struct sweep *sweep, const cJSON *reply);
    int busy;     /* waiting for the store's answer */
    int stopping; /* sweep_stop ran while busy: the answer frees the job */
};

struct sweep {
    struct router *router;
    struct job *deadlines;
    struct job *queue;
    struct job *abandoned;
    struct job *chat_waits;
    struct job *audit_trim;
    char audit_keep_ms[24]; /* ESS_AUDIT_RETENTION_DAYS in ms, ess_audit_trim's argument */
    struct job *retention;
    struct job *feed_gauges;
    char erase_ms[24], track_ms[24]; /* ESS_RETENTION_DAYS, ESS_TRACK_RETENTION_DAYS in ms */
};

/* One LINE report being filed after it was left before its location; owned by the calls it
 * goes through, freed by the last. Holds the router only (the sweep may stop meanwhile). */
struct abandoned {
    struct router *router;
    char user_key[80];
    char report_id[CHAT_REPORT_ID_MAX + 1];
    char line_user[LINE_USER_MAX + 1];
    struct chat_state chat; /* the report as it was taken */
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

static void on_chat_waited(struct sweep *sw, const cJSON *reply)
{
    const cJSON *id;
    int n = 0;
    cJSON_ArrayForEach (id, cJSON_GetObjectItemCaseSensitive(reply, "escalated")) {
        if (!cJSON_IsString(id)) continue;
        log_warn("case %s: nobody took the reporter's chat within ESS_CHAT_WAIT_S; escalated to "
                 "supervisors",
                 id->valuestring);
        metrics_count_escalation();
        n++;
    }
    if (n > 0) outbox_kick(sw->router->outbox);
}

static void on_abandon_done(enum store_status status, const char *data, size_t len, void *arg)
{
    struct router *router = arg;
    (void)data;
    (void)len;
    if (status == STORE_OK) outbox_kick(router->outbox);
}

/* Tells the store that the report is dealt with: filed as the case of code (not ""), which the
 * conversation then follows, and the reporter told of it when the case is new (created); or no
 * longer waiting (code ""; also when another event of the report made its case, with content of
 * its own: that event's conversation goes on). Frees ab. */
static void abandoned_finish(struct abandoned *ab, const char *code, int created)
{
    char *push = NULL, *filed = NULL;
    const char *argv[6];

    if (code[0] != '\0') {
        chat_report_filed(&ab->chat, code);
        if ((filed = chat_state_to_json(&ab->chat)) == NULL)
            log_warn("line: no memory to point a conversation at its filed case");
    }
    if (created) {
        cJSON *p = cJSON_CreateObject();
        cJSON *messages =
            citizen_messages_abandoned(ab->chat.lang, code, ab->router->cfg->public_url);

        if (p && messages && cJSON_AddStringToObject(p, "to", ab->line_user) &&
            cJSON_AddItemToObject(p, "messages", messages)) {
            messages = NULL;
            push = cJSON_PrintUnformatted(p);
        }
        cJSON_Delete(messages);
        cJSON_Delete(p);
        if (push == NULL) log_warn("line: no memory for a reporter's push; the case stands");
    }
    argv[0] = ab->user_key;
    argv[1] = ab->report_id;
    argv[2] = filed ? filed : "";
    argv[3] = LINEBOT_IDLE_STATE_TTL_S;
    argv[4] = push ? push : "";
    store_fcall(ab->router->store, "ess_line_abandon_done", 0, 5, argv, NULL, on_abandon_done,
                ab->router);
    free(filed);
    free(push);
    free(ab);
}

static void on_abandoned_case(void *arg, enum cases_result result, cJSON *summary)
{
    struct abandoned *ab = arg;
    const char *code =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(summary, "tracking_code"));
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(summary, "case_id"));

    if (code == NULL ||
        (result != CASES_CREATED && result != CASES_EXISTS && result != CASES_CALL_ID_CONFLICT)) {
        /* Taken again when its lease ends. */
        log_warn("line: a report left before its location could not be filed yet; retried");
        free(ab);
    } else {
        if (result == CASES_CREATED)
            log_info("case %s: a LINE report left before its location, filed", id ? id : "?");
        /* EXISTS: filed by an earlier try of this timer (same content), whose finish was lost. */
        abandoned_finish(ab, result == CASES_CALL_ID_CONFLICT ? "" : code, result == CASES_CREATED);
    }
    cJSON_Delete(summary);
}

/* One report whose wait is over: its case (queued, no_location), created under the report's id
 * so that a location arriving at the same moment gives the same case. */
static void abandoned_file(struct router *router, const cJSON *e)
{
    const char *user_key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "user_key"));
    const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "state"));
    const char *who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "line_user"));
    struct abandoned *ab;
    struct chat_state *chat;
    struct incident inc = {.category = INCIDENT_CATEGORY_NONE};
    char call_id[CHAT_REPORT_ID_MAX + 8];

    if (user_key == NULL || state == NULL || who == NULL || strlen(user_key) >= 80 ||
        strlen(who) > LINE_USER_MAX)
        return;
    ab = calloc(1, sizeof *ab);
    if (ab == NULL) return; /* taken again when its lease ends */
    ab->router = router;
    memcpy(ab->user_key, user_key, strlen(user_key) + 1);
    memcpy(ab->line_user, who, strlen(who) + 1);
    chat = &ab->chat;
    if (chat_state_from_json(state, strlen(state), chat) == 0)
        memcpy(ab->report_id, chat->report_id, sizeof ab->report_id);
    if (chat->report_id[0] == '\0' || chat->category == INCIDENT_CATEGORY_NONE ||
        (chat->step != CHAT_STEP_CONFIRM_CATEGORY && chat->step != CHAT_STEP_LOCATION &&
         chat->step != CHAT_STEP_ADDRESS)) {
        abandoned_finish(ab, "", 0); /* no longer waiting */
        return;
    }
    inc.channel = INCIDENT_CHANNEL_LINE;
    inc.category = chat->category;
    inc.description = chat->description[0] ? chat->description : NULL;
    inc.reporter_line_user = ab->line_user;
    snprintf(call_id, sizeof call_id, "line:%s", chat->report_id);
    /* inc's strings are only read during the call; done frees ab. */
    cases_create(router, &inc, call_id, chat->lang == CHAT_LANG_EN ? "en" : "th", NULL,
                 on_abandoned_case, ab);
}

static void on_audit_trimmed(struct sweep *sw, const cJSON *reply)
{
    double n = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(reply, "trimmed"));
    (void)sw;
    if (n > 0) log_debug("audit: %.0f entries past their retention removed", n);
}

static void on_retention(struct sweep *sw, const cJSON *reply)
{
    const cJSON *id;
    double views = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(reply, "views"));
    (void)sw;
    cJSON_ArrayForEach (id, cJSON_GetObjectItemCaseSensitive(reply, "erased"))
        if (cJSON_IsString(id))
            log_info("case %s: personal data erased, ESS_RETENTION_DAYS after it was closed",
                     id->valuestring);
    if (views > 0)
        log_info("retention: %.0f closed case(s) past ESS_TRACK_RETENTION_DAYS left e-Tracking",
                 views);
}

/* The feed's lag and pending per agency, for /metrics (kept until the next answer). */
static void on_feed_gauges(struct sweep *sw, const cJSON *reply)
{
    static struct metrics_feed_gauge g[FEED_GAUGES_MAX];
    const cJSON *a;
    size_t n = 0;
    (void)sw;
    cJSON_ArrayForEach (a, cJSON_GetObjectItemCaseSensitive(reply, "agencies")) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "agency_id"));
        if (n == FEED_GAUGES_MAX) break;
        if (id == NULL || !text_id_valid(id, strlen(id))) continue;
        memcpy(g[n].agency_id, id, strlen(id) + 1);
        g[n].lag = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "lag"));
        g[n].pending =
            (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "pending"));
        n++;
    }
    if (metrics_set_feed_gauges(g, n) != 0) log_warn("feed gauges: out of memory; kept the last");
}

static void on_abandon_due(struct sweep *sw, const cJSON *reply)
{
    const cJSON *e;
    cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(reply, "due"))
        abandoned_file(sw->router, e);
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

/* A job calling function with argv[0..argc) (at most JOB_MAX_ARGS) every interval_ms. */
static struct job *job_start_args(struct sweep *sw, const char *function, int argc,
                                  const char *const *argv, int interval_ms,
                                  void (*on_result)(struct sweep *, const cJSON *))
{
    struct timeval tv = {interval_ms / 1000, (interval_ms % 1000) * 1000};
    struct job *job = calloc(1, sizeof *job);
    if (job == NULL || argc > JOB_MAX_ARGS) {
        free(job);
        return NULL;
    }
    job->sweep = sw;
    job->function = function;
    job->argc = argc;
    for (int i = 0; i < argc; i++) job->argv[i] = argv[i];
    job->on_result = on_result;
    job->timer = event_new(sw->router->base, -1, EV_PERSIST, on_tick, job);
    if (job->timer == NULL) {
        free(job);
        return NULL;
    }
    event_add(job->timer, &tv);
    return job;
}

static struct job *job_start(struct sweep *sw, const char *function, const char *arg,
                             int interval_ms, void (*on_result)(struct sweep *, const cJSON *))
{
    return job_start_args(sw, function, arg ? 1 : 0, &arg, interval_ms, on_result);
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
    sw->abandoned =
        job_start(sw, "ess_line_abandon_take", ABANDON_BATCH, ABANDON_INTERVAL_MS, on_abandon_due);
    sw->chat_waits = job_start(sw, "ess_chat_wait_expire", CHAT_WAIT_BATCH, CHAT_WAIT_INTERVAL_MS,
                               on_chat_waited);
    snprintf(sw->audit_keep_ms, sizeof sw->audit_keep_ms, "%lld", router->cfg->audit_retention_ms);
    sw->audit_trim = job_start(sw, "ess_audit_trim", sw->audit_keep_ms, AUDIT_TRIM_INTERVAL_MS,
                               on_audit_trimmed);
    {
        const char *args[] = {sw->erase_ms, sw->track_ms, RETENTION_BATCH};
        snprintf(sw->erase_ms, sizeof sw->erase_ms, "%lld", router->cfg->retention_ms);
        snprintf(sw->track_ms, sizeof sw->track_ms, "%lld", router->cfg->track_retention_ms);
        sw->retention =
            job_start_args(sw, "ess_retention_sweep", 3, args, RETENTION_INTERVAL_MS, on_retention);
    }
    sw->feed_gauges =
        job_start(sw, "ess_feed_gauges", NULL, FEED_GAUGES_INTERVAL_MS, on_feed_gauges);
    if (sw->deadlines == NULL || sw->queue == NULL || sw->abandoned == NULL ||
        sw->chat_waits == NULL || sw->audit_trim == NULL || sw->retention == NULL ||
        sw->feed_gauges == NULL) {
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
    job_stop(sw->abandoned);
    job_stop(sw->chat_waits);
    job_stop(sw->audit_trim);
    job_stop(sw->retention);
    job_stop(sw->feed_gauges);
    free(sw);
}
