/* The outbox sender: claims due messages from Redis, renders and POSTs them to the LINE
 * Messaging API, and reports each outcome back (done, retry later, or give up). */
#include "outbox.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citizen_messages.h"
#include "client.h"
#include "config.h"
#include "dispatch.h"
#include "line.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "store.h"

#define CLAIM_LIMIT 32
#define LEASE_MS 15000 /* longer than a send (10 s): a message is never sent twice at once */
#define MAX_IN_FLIGHT 64
#define SEND_TIMEOUT_MS 10000
#define REPLY_ATTEMPTS 2 /* then the reply becomes a push */
#define PUSH_ATTEMPTS 20 /* then the message is given up on */
#define BACKOFF_MAX_MS 60000
#define NO_TOKEN_DELAY_MS 60000

struct outbox {
    struct router *router;
    struct event *timer;
    struct event *kick;
    int claiming; /* a claim is waiting for Redis */
    int again;    /* a kick came while claiming */
    unsigned in_flight;
    int warned_no_token;
};

/* One message being sent. */
struct sending {
    struct outbox *outbox;
    char id[32];
    char kind[16];
    int attempts;
    char retry_key[40];
    int unsure; /* an earlier try's outcome is unknown: it may have reached its receiver */
    cJSON *payload;
};

static void sending_free(struct sending *s)
{
    if (s == NULL) return;
    cJSON_Delete(s->payload);
    free(s);
}

static void on_report(enum store_status status, const char *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    (void)arg;
    if (status != STORE_OK) log_warn("outbox: could not record a delivery outcome (retried later)");
}

static void report_done(struct sending *s, const char *dead_reason)
{
    const char *argv[2] = {s->id, dead_reason ? dead_reason : ""};
    if (dead_reason)
        log_warn("outbox: gave up on message %s (%s): %s", s->id, s->kind, dead_reason);
    store_fcall(s->outbox->router->store, "ess_outbox_done", 0, 2, argv, NULL, on_report, NULL);
}

/* Schedules another attempt; kind/payload replace the message's when kind is not NULL (when
 * memory runs out printing payload, the message is kept as it was and tried again). The message
 * stays marked unsure from then on when s->unsure is set (a new kind starts sure again). */
static void report_retry(struct sending *s, long delay_ms, const char *kind, const cJSON *payload)
{
    char delay[24];
    char *text = payload ? cJSON_PrintUnformatted(payload) : NULL;
    const char *argv[5] = {s->id, delay, "", "", s->unsure ? "1" : "0"};
    if (kind && payload && text == NULL) {
        log_warn("outbox: message %s kept as it was: out of memory", s->id);
        kind = NULL;
    }
    if (kind) {
        argv[2] = kind;
        argv[3] = text ? text : "";
    }
    snprintf(delay, sizeof delay, "%ld", delay_ms);
    store_fcall(s->outbox->router->store, "ess_outbox_retry", 0, 5, argv, NULL, on_report, NULL);
    free(text);
}

static long backoff_ms(int attempts)
{
    long d = 1000;
    int i;
    for (i = 0; i < attempts && d < BACKOFF_MAX_MS; i++) d *= 2;
    d = d > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d;
    return d - d / 4 + (long)(rand() % (int)(d / 2 + 1)); /* ±25 % jitter */
}

/* LINE asks for retries after a 5xx or a timeout only; a 4xx (429 included: it also means the
 * monthly quota is spent) will not succeed by being sent again. */
static int retryable(const struct client_response *res)
{
    return res->status == 0 || res->status >= 500;
}

/* After a 5xx, or no answer to a request that went out, LINE may have delivered the message
 * all the same (LINE's "Retry failed API requests"). */
static int may_have_arrived(const struct client_response *res)
{
    return res->status >= 500 || (res->status == 0 && res->sent);
}

/* {"to": to, "messages": messages (taken, also when this fails)} in *out. */
static enum outbox_build push_of(const char *to, cJSON *messages, cJSON **out)
{
    cJSON *push = cJSON_CreateObject();
    if (push == NULL || !cJSON_AddStringToObject(push, "to", to) ||
        !cJSON_AddItemToObject(push, "messages", messages)) {
        cJSON_Delete(push);
        cJSON_Delete(messages);
        return OUTBOX_BUILD_NO_MEMORY;
    }
    *out = push;
    return OUTBOX_BUILD_OK;
}

enum outbox_build outbox_as_push(const cJSON *payload, cJSON **out)
{
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(payload, "to");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(payload, "messages");
    cJSON *copy;
    *out = NULL;
    if (!cJSON_IsString(to) || to->valuestring[0] == '\0' || !cJSON_IsArray(messages))
        return OUTBOX_BUILD_NOTHING;
    if ((copy = cJSON_Duplicate(messages, 1)) == NULL) return OUTBOX_BUILD_NO_MEMORY;
    return push_of(to->valuestring, copy, out);
}

static void on_sent(const struct client_response *res, void *arg)
{
    struct sending *s = arg;
    struct outbox *ob = s->outbox;
    char reason[64];
    int ok = res->status >= 200 && res->status < 300;
    int reply = strcmp(s->kind, "line_reply") == 0;
    /* LINE refuses a used reply token and an expired one alike (400). When an earlier try of
     * this reply may have used it (its sender died before recording the outcome, or LINE
     * answered it 5xx or not at all), a push now would say it all twice: the reply counts as
     * delivered. */
    int used_up = reply && res->status == 400 && s->unsure;

    if (ob->in_flight-- == MAX_IN_FLIGHT) outbox_kick(ob);    /* room again: claim more now */
    if (res->error && strcmp(res->error, "cancelled") == 0) { /* shutting down: lease expires */
        sending_free(s);
        return;
    }
    snprintf(reason, sizeof reason, "%s %d", res->error ? res->error : "http", res->status);
    if (!ok && !(res->status == 409 && !reply) && !used_up) metrics_count_line_delivery_failure();
    if (reply) {
        if (ok) {
            report_done(s, NULL);
        } else if (used_up) {
            log_info("outbox: reply %s refused (%s) after a try whose outcome is unknown; taken "
                     "as delivered",
                     s->id, reason);
            report_done(s, NULL);
        } else if (res->status == 400 || (retryable(res) && s->attempts + 1 >= REPLY_ATTEMPTS)) {
            cJSON *push = NULL; /* the reply token expired: push instead */
            enum outbox_build built = outbox_as_push(s->payload, &push);
            if (built == OUTBOX_BUILD_OK) {
                log_info("outbox: reply %s failed (%s), falling back to a push", s->id, reason);
                report_retry(s, 0, "line_push", push);
                cJSON_Delete(push);
            } else if (built == OUTBOX_BUILD_NO_MEMORY) {
                log_warn("outbox: reply %s failed (%s); out of memory for its push, retried later",
                         s->id, reason);
                report_retry(s, backoff_ms(s->attempts), NULL, NULL);
            } else {
                report_done(s, reason);
            }
        } else if (retryable(res)) {
            if (may_have_arrived(res)) s->unsure = 1;
            report_retry(s, 1000, NULL, NULL);
        } else {
            report_done(s, reason);
        }
    } else { /* a push: 409 to a retry means LINE already accepted this retry key */
        if (ok || res->status == 409) {
            report_done(s, NULL);
        } else if (retryable(res) && s->attempts + 1 < PUSH_ATTEMPTS) {
            report_retry(s, backoff_ms(s->attempts), NULL, NULL);
        } else {
            report_done(s, reason);
        }
    }
    sending_free(s);
}

enum outbox_build outbox_progress_push(const cJSON *payload, cJSON **out)
{
    const char *lang = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "lang"));
    const char *code =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "tracking_code"));
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "status"));
    const char *team = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "team_name"));
    const char *team_en =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "team_name_en"));
    const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "to"));
    int en = lang && strcmp(lang, "en") == 0;
    cJSON *messages;
    *out = NULL;
    if (!code || !status || !to) return OUTBOX_BUILD_NOTHING;
    if (en && team_en && team_en[0]) team = team_en;
    /* ess.lua queues only the statuses citizen_messages_progress has words for (PROGRESS), so
     * NULL here is memory running out. */
    messages =
        citizen_messages_progress(en ? CHAT_LANG_EN : CHAT_LANG_TH, code, status, team ? team : "");
    if (messages == NULL) return OUTBOX_BUILD_NO_MEMORY;
    return push_of(to, messages, out);
}

enum outbox_build outbox_chat_closed_push(const cJSON *payload, cJSON **out)
{
    const char *lang = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "lang"));
    const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "to"));
    cJSON *messages;
    *out = NULL;
    if (!to || to[0] == '\0') return OUTBOX_BUILD_NOTHING;
    messages =
        citizen_messages_chat_closed(lang && strcmp(lang, "en") == 0 ? CHAT_LANG_EN : CHAT_LANG_TH);
    if (messages == NULL) return OUTBOX_BUILD_NO_MEMORY;
    return push_of(to, messages, out);
}

/* The kinds whose payload says what to tell a LINE user, rendered into a push only when sent
 * (in the user's language, with the words of this version of the router). */
static const struct rendered {
    const char *kind;
    const char *what; /* for the log */
    enum outbox_build (*render)(const cJSON *payload, cJSON **out);
} rendered_kinds[] = {
    {"progress", "progress notice", outbox_progress_push},
    {"chat_closed", "closing line", outbox_chat_closed_push},
};

static const struct rendered *rendered_kind(const char *kind)
{
    for (size_t i = 0; i < sizeof rendered_kinds / sizeof rendered_kinds[0]; i++)
        if (strcmp(kind, rendered_kinds[i].kind) == 0) return &rendered_kinds[i];
    return NULL;
}

/* The outcome of a dispatch or an escalation notice (dispatch.c decides; the outbox records). */
static void on_delivered(enum delivery_outcome outcome, long delay_ms, const char *reason,
                         void *arg)
{
    struct sending *s = arg;
    if (s->outbox->in_flight-- == MAX_IN_FLIGHT) outbox_kick(s->outbox);
    if (reason && strcmp(reason, "cancelled") == 0) { /* stopping: the lease runs out */
        sending_free(s);
        return;
    }
    if (outcome == DELIVERY_DONE)
        report_done(s, NULL);
    else if (outcome == DELIVERY_RETRY)
        report_retry(s, delay_ms, NULL, NULL);
    else
        report_done(s, reason ? reason : "given up");
    sending_free(s);
}

static void send_one(struct outbox *ob, struct sending *s)
{
    const struct config *cfg = ob->router->cfg;
    char url[600], auth[600], key[80];
    const char *headers[4];
    size_t nheaders = 0;
    char *body = NULL;
    const char *target; /* the reply token or the user, in s->payload */
    int is_reply = strcmp(s->kind, "line_reply") == 0;
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(s->payload, "messages");
    const struct rendered *render;

    if (strcmp(s->kind, "dispatch") == 0 || strcmp(s->kind, "escalation") == 0) {
        ob->in_flight++;
        if (s->kind[0] == 'd')
            dispatch_deliver(ob->router, s->payload, s->attempts, s->retry_key, on_delivered, s);
        else
            dispatch_escalation(ob->router, s->payload, s->attempts, s->retry_key, on_delivered, s);
        return;
    }
    if (cfg->line_channel_access_token[0] == '\0') {
        if (!ob->warned_no_token)
            log_warn("outbox: LINE_CHANNEL_ACCESS_TOKEN is not set: LINE messages wait");
        ob->warned_no_token = 1;
        report_retry(s, NO_TOKEN_DELAY_MS, NULL, NULL);
        sending_free(s);
        return;
    }
    if ((render = rendered_kind(s->kind)) != NULL) {
        cJSON *push = NULL;
        enum outbox_build built = render->render(s->payload, &push);
        if (built != OUTBOX_BUILD_OK) {
            if (built == OUTBOX_BUILD_NOTHING) {
                report_done(s, "malformed message");
            } else if (s->attempts + 1 < PUSH_ATTEMPTS) {
                log_warn("outbox: %s %s not rendered: out of memory, retried later", render->what,
                         s->id);
                report_retry(s, backoff_ms(s->attempts), NULL, NULL);
            } else {
                report_done(s, "out of memory rendering it");
            }
            sending_free(s);
            return;
        }
        cJSON_Delete(s->payload);
        s->payload = push;
        snprintf(s->kind, sizeof s->kind, "line_push");
        messages = cJSON_GetObjectItemCaseSensitive(push, "messages");
    }
    if (is_reply) {
        target = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->payload, "reply_token"));
        body = target ? line_reply_body(target, messages) : NULL;
        snprintf(url, sizeof url, "%s/v2/bot/message/reply", cfg->line_api_base);
    } else {
        target = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->payload, "to"));
        body = target ? line_push_body(target, messages) : NULL;
        snprintf(url, sizeof url, "%s/v2/bot/message/push", cfg->line_api_base);
        snprintf(key, sizeof key, "X-Line-Retry-Key: %s", s->retry_key);
        headers[nheaders++] = key;
    }
    if (target == NULL || !cJSON_IsArray(messages) || cJSON_GetArraySize(messages) < 1 ||
        cJSON_GetArraySize(messages) > 5) {
        free(body);
        report_done(s, "malformed message");
        sending_free(s);
        return;
    }
    if (body == NULL) { /* a whole message, but memory ran out printing it */
        log_warn("outbox: message %s not printed: out of memory, retried later", s->id);
        report_retry(s, backoff_ms(s->attempts), NULL, NULL);
        sending_free(s);
        return;
    }
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", cfg->line_channel_access_token);
    headers[nheaders++] = auth;
    headers[nheaders++] = "Content-Type: application/json; charset=utf-8";
    if (client_post(ob->router->client, url, headers, nheaders, body, strlen(body), SEND_TIMEOUT_MS,
                    on_sent, s) == NULL) {
        report_retry(s, backoff_ms(s->attempts), NULL, NULL);
        sending_free(s);
    } else {
        ob->in_flight++;
    }
    free(body);
}

static void claim(struct outbox *ob);

static void on_claimed(enum store_status status, const char *data, size_t len, void *arg)
{
    struct outbox *ob = arg;
    cJSON *reply = NULL;
    const cJSON *item, *next_ms;
    int n = 0;

    ob->claiming = 0;
    if (ob->router == NULL) { /* stopped while claiming */
        free(ob);
        return;
    }
    if (status == STORE_OK && data) reply = cJSON_ParseWithLength(data, len);
    cJSON_ArrayForEach (item, cJSON_GetObjectItemCaseSensitive(reply, "items")) {
        struct sending *s = calloc(1, sizeof *s);
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "id"));
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "kind"));
        const char *payload =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "payload"));
        const char *rkey =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "retry_key"));
        const cJSON *attempts = cJSON_GetObjectItemCaseSensitive(item, "attempts");
        if (s == NULL || !id || !kind || !payload) {
            free(s);
            continue;
        }
        s->outbox = ob;
        snprintf(s->id, sizeof s->id, "%s", id);
        snprintf(s->kind, sizeof s->kind, "%s", kind);
        snprintf(s->retry_key, sizeof s->retry_key, "%s", rkey ? rkey : "");
        s->attempts = cJSON_IsNumber(attempts) ? attempts->valueint : 0;
        s->unsure = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "unsure"));
        s->payload = cJSON_Parse(payload);
        if (s->payload == NULL) {
            report_done(s, "unreadable payload");
            sending_free(s);
            continue;
        }
        send_one(ob, s);
        n++;
    }
    next_ms = cJSON_GetObjectItemCaseSensitive(reply, "next_ms");
    if (cJSON_IsNumber(next_ms) && next_ms->valuedouble >= 0 &&
        next_ms->valuedouble < ob->router->cfg->outbox_tick_ms) {
        /* wake when the next message is due rather than at the next tick */
        long ms = (long)next_ms->valuedouble;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        event_add(ob->kick, &tv);
    }
    cJSON_Delete(reply);
    if (ob->again || n == CLAIM_LIMIT) { /* more may be due */
        ob->again = 0;
        claim(ob);
    }
}

static void claim(struct outbox *ob)
{
    char limit[16], lease[16];
    const char *argv[2] = {limit, lease};
    if (ob->claiming) {
        ob->again = 1;
        return;
    }
    if (!store_is_up(ob->router->store) || ob->in_flight >= MAX_IN_FLIGHT) return;
    snprintf(limit, sizeof limit, "%d", CLAIM_LIMIT);
    snprintf(lease, sizeof lease, "%d", LEASE_MS);
    if (store_fcall(ob->router->store, "ess_outbox_claim", 0, 2, argv, NULL, on_claimed, ob) == 0)
        ob->claiming = 1;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    claim(arg);
}

struct outbox *outbox_start(struct router *router)
{
    int tick_ms = router->cfg->outbox_tick_ms;
    struct timeval tick = {tick_ms / 1000, (tick_ms % 1000) * 1000};
    struct outbox *ob = calloc(1, sizeof *ob);
    if (ob == NULL) return NULL;
    ob->router = router;
    ob->timer = event_new(router->base, -1, EV_PERSIST, on_tick, ob);
    ob->kick = evtimer_new(router->base, on_tick, ob);
    if (ob->timer == NULL || ob->kick == NULL) {
        outbox_stop(ob);
        return NULL;
    }
    event_add(ob->timer, &tick);
    return ob;
}

void outbox_kick(struct outbox *ob)
{
    struct timeval now = {0, 0};
    if (ob == NULL) return;
    event_add(ob->kick, &now);
}

void outbox_stop(struct outbox *ob)
{
    if (ob == NULL) return;
    if (ob->timer) event_free(ob->timer);
    if (ob->kick) event_free(ob->kick);
    ob->timer = ob->kick = NULL;
    if (ob->claiming) {
        ob->router = NULL; /* on_claimed frees it when the store answers or is freed */
        return;
    }
    free(ob);
}
