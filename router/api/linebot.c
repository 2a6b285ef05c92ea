/* The LINE webhook: signature check, event loop over one request (each event: load state,
 * converse, act, commit), and the answer to LINE. */
#include "linebot.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cases.h"
#include "chat.h"
#include "config.h"
#include "http.h"
#include "incident.h"
#include "line.h"
#include "log.h"
#include "outbox.h"
#include "router.h"
#include "rules.h"
#include "track.h"

/* An idle state holds only the user's last tracking code: kept a week, so "status" finds it. A
 * report in progress holds its description and location: kept an hour, then dropped. */
#define IDLE_STATE_TTL_S "604800"
#define REPORT_STATE_TTL_S "3600"

/* The request's progress through its events. */
struct linebot_state {
    struct line_webhook webhook;
    size_t next;    /* the event being handled */
    size_t handled; /* events that got an answer queued */
    struct chat_state chat;
    struct chat_outcome outcome;
    char user_key[AUTH_HASH_HEX + 1];
    cJSON *messages; /* what to reply to the current event */
    int group_event; /* the current event is a team's accept button: no chat state */
};

static void linebot_state_free(void *p)
{
    struct linebot_state *st = p;
    if (st == NULL) return;
    line_webhook_free(&st->webhook);
    chat_outcome_clear(&st->outcome);
    cJSON_Delete(st->messages);
    free(st);
}

static void next_event(struct http_call *call);

static struct line_event *current(struct http_call *call)
{
    struct linebot_state *st = call->data;
    return &st->webhook.events[st->next];
}

static void finish_event(struct http_call *call)
{
    struct linebot_state *st = call->data;
    chat_outcome_clear(&st->outcome);
    cJSON_Delete(st->messages);
    st->messages = NULL;
    st->group_event = 0;
    st->next++;
    next_event(call);
}

static void on_committed(struct http_call *call, cJSON *reply)
{
    struct linebot_state *st = call->data;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "dup"))) st->handled++;
    cJSON_Delete(reply);
    finish_event(call);
}

/* Stores the state, marks the event handled and queues the reply, in one step. */
static void commit(struct http_call *call)
{
    struct linebot_state *st = call->data;
    struct line_event *ev = current(call);
    char *state = st->group_event ? strdup("") : chat_state_to_json(&st->chat);
    char *payload = NULL;
    const char *argv[6];
    int argc = 4;

    if (state == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    if (st->messages && cJSON_GetArraySize(st->messages) > 0 && ev->reply_token[0]) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "reply_token", ev->reply_token);
        cJSON_AddStringToObject(p, "to", st->group_event ? ev->group_id : ev->user_id);
        cJSON_AddItemReferenceToObject(p, "messages", st->messages);
        payload = cJSON_PrintUnformatted(p);
        cJSON_Delete(p);
    }
    argv[0] = ev->webhook_event_id;
    argv[1] = st->user_key;
    argv[2] = state;
    argv[3] = st->chat.step == CHAT_STEP_IDLE ? IDLE_STATE_TTL_S : REPORT_STATE_TTL_S;
    if (payload) {
        argv[argc++] = "line_reply";
        argv[argc++] = payload;
    }
    http_fcall(call, "ess_line_commit", 0, argc, argv, NULL, on_committed);
    free(state);
    free(payload);
}

static void on_status(struct http_call *call, const struct track_view *v)
{
    struct linebot_state *st = call->data;
    char when[32] = "";
    if (v->found) http_format_time(v->updated_at_ms, when);
    st->messages = chat_messages_status(
        call->router->rules, st->outcome.lang, v->found, st->outcome.tracking_code,
        v->found ? incident_category_parse(v->category, strlen(v->category)) : INCIDENT_OTHER,
        v->status, when, v->team_name);
    commit(call);
}

static void on_case_created(struct http_call *call, cJSON *reply)
{
    struct linebot_state *st = call->data;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(reply, "case");
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "tracking_code"));
    const char *team = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "team_name"));
    const char *refusal = http_refusal(reply);

    if (refusal || code == NULL) {
        cJSON_Delete(reply);
        http_reply_refusal(call, refusal ? refusal : "unexpected");
        return;
    }
    snprintf(st->chat.last_tracking_code, sizeof st->chat.last_tracking_code, "%s", code);
    st->messages = chat_messages_created(st->outcome.lang, code, team ? team : "");
    cJSON_Delete(reply);
    commit(call);
}

static void on_group_ack(struct http_call *call, cJSON *reply)
{
    struct linebot_state *st = call->data;
    const char *refusal = http_refusal(reply);
    const char *team = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "team_id"));
    const char *code =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "tracking_code"));
    const char *case_id = current(call)->postback_data + 4;

    if (refusal == NULL) {
        log_info("case %s: acknowledged by team %s in its LINE group", case_id, team ? team : "?");
        st->messages = chat_messages_team_ack(1, code ? code : "");
    } else if (strcmp(refusal, "unauthorized") == 0) {
        log_warn("line: an accept button pressed in a group no team is linked to");
        st->messages = chat_messages_team_ack(-1, "");
    } else {
        st->messages = chat_messages_team_ack(0, "");
    }
    cJSON_Delete(reply);
    commit(call);
}

static void on_group_begun(struct http_call *call, cJSON *reply)
{
    struct line_event *ev = current(call);
    const char *argv[2];
    int dup = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "dup"));
    cJSON_Delete(reply);
    if (dup || !cases_id_valid(ev->postback_data + 4)) {
        finish_event(call);
        return;
    }
    argv[0] = ev->postback_data + 4;
    argv[1] = ev->group_id;
    http_fcall(call, "ess_case_ack_group", 0, 2, argv, NULL, on_group_ack);
}

static void on_begun(struct http_call *call, cJSON *reply)
{
    struct linebot_state *st = call->data;
    struct line_event *ev = current(call);
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(reply, "state");

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "dup"))) {
        log_debug("line: event already handled, dropped");
        cJSON_Delete(reply);
        finish_event(call);
        return;
    }
    if (cJSON_IsString(state))
        chat_state_from_json(state->valuestring, strlen(state->valuestring), &st->chat);
    else
        chat_state_init(&st->chat);
    cJSON_Delete(reply);

    if (chat_handle(call->router->rules, &st->chat, ev, &st->outcome) != 0) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    switch (st->outcome.action) {
    case CHAT_ACTION_CREATE_CASE: {
        char call_id[LINE_ID_MAX + 8];
        snprintf(call_id, sizeof call_id, "line:%s", ev->webhook_event_id);
        cases_create(call, &st->outcome.incident, ev->webhook_event_id[0] ? call_id : NULL,
                     st->outcome.lang == CHAT_LANG_EN ? "en" : "th", on_case_created);
        return;
    }
    case CHAT_ACTION_STATUS:
        track_lookup(call, st->outcome.tracking_code, on_status);
        return;
    case CHAT_ACTION_REPLY:
        st->messages = chat_messages(call->router->rules, &st->outcome);
        break;
    default:
        break;
    }
    commit(call);
}

/* Handles events one after another (a user's events must be seen in order); answers LINE when
 * all are stored. */
static void next_event(struct http_call *call)
{
    struct linebot_state *st = call->data;
    while (st->next < st->webhook.nevents) {
        struct line_event *ev = current(call);
        const char *argv[2];
        if (!ev->standby && ev->type == LINE_EVENT_POSTBACK && ev->source != LINE_SOURCE_USER &&
            ev->group_id[0] && ev->postback_data && strncmp(ev->postback_data, "ack=", 4) == 0) {
            st->group_event = 1; /* a team's accept button in its LINE group */
            st->user_key[0] = '\0';
            argv[0] = ev->webhook_event_id;
            argv[1] = "-";
            http_fcall(call, "ess_line_begin", 1, 2, argv, NULL, on_group_begun);
            return;
        }
        if (ev->standby || ev->source != LINE_SOURCE_USER || ev->user_id[0] == '\0' ||
            ev->type == LINE_EVENT_OTHER) {
            st->next++; /* nothing to answer: other channels, groups, unknown types */
            continue;
        }
        auth_token_hash(ev->user_id, strlen(ev->user_id), st->user_key);
        argv[0] = ev->webhook_event_id;
        argv[1] = st->user_key;
        http_fcall(call, "ess_line_begin", 1, 2, argv, NULL, on_begun);
        return;
    }
    if (st->handled > 0) {
        log_info("line: %zu event(s) received, %zu answered", st->webhook.nevents, st->handled);
        outbox_kick(call->router->outbox);
    }
    http_reply_json(call, 200, cJSON_CreateObject());
}

void linebot_webhook(struct http_call *call)
{
    const struct config *cfg = call->router->cfg;
    struct evkeyvalq *headers = evhttp_request_get_input_headers(call->req);
    struct linebot_state *st;
    char err[160];

    if (cfg->line_channel_secret[0] == '\0') {
        http_reply_error(call, 404, "not_found", "The LINE channel is not configured.");
        return;
    }
    if (!line_signature_valid(cfg->line_channel_secret, call->body, call->body_len,
                              evhttp_find_header(headers, "X-Line-Signature"))) {
        log_warn("line: webhook with a missing or bad signature refused");
        http_reply_error(call, 401, "invalid_signature",
                         "X-Line-Signature does not match the body.");
        return;
    }
    st = calloc(1, sizeof *st);
    if (st == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    call->data = st;
    call->data_free = linebot_state_free;
    if (line_webhook_parse(call->body, call->body_len, &st->webhook, err, sizeof err) != 0) {
        http_reply_error(call, 400, "invalid_webhook", err);
        return;
    }
    next_event(call);
}
