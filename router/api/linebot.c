/* The LINE webhook: signature check, event loop over one request (each event: load state,
 * converse, act, commit), and the answer to LINE. */
#include "linebot.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "cases.h"
#include "chat.h"
#include "citizen_messages.h"
#include "config.h"
#include "http.h"
#include "incident.h"
#include "line.h"
#include "log.h"
#include "outbox.h"
#include "random.h"
#include "router.h"
#include "rules.h"
#include "team_messages.h"
#include "text.h"
#include "track.h"

/* How long a webhookEventId is remembered (dedupe); an event older than this by its timestamp
 * could be a replay no longer recognised, so it is ignored. */
#define DEDUPE_WINDOW_S 86400
/* Times one event is handled again because another event of the same user was committed first
 * (compare-and-set on the state); then the request is answered 503 and LINE redelivers. */
#define MAX_CONFLICTS 8

/* The request's progress through its events. */
struct linebot_state {
    struct line_webhook webhook;
    size_t next;    /* the event being handled */
    size_t handled; /* events that got an answer queued */
    struct chat_state chat;
    struct chat_outcome outcome;
    char user_key[AUTH_HASH_HEX + 1];
    char version[24]; /* the state's version as read by ess_line_begin */
    int conflicts;    /* compare-and-set failures of the current event */
    size_t no_id;     /* events skipped: no webhookEventId */
    size_t too_old;   /* events skipped: older than the dedupe window */
    cJSON *messages;  /* what to reply to the current event */
    int group_event;  /* the current event is a team's accept button: no chat state */
    /* The report's case was made already without the location this event brought (the abandon
     * timer filed it first): the commit moves it there. */
    int locate_created;
    /* The case whose chat the user was in when the event was read (ess_line_begin's talk), ""
     * for none: the commit checks it is still so. */
    char talk_case[27];
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

/* Forgets what the current event produced; advance: go on to the next event, else handle the
 * same one again. */
static void finish_event(struct http_call *call, int advance)
{
    struct linebot_state *st = call->data;
    chat_outcome_clear(&st->outcome);
    cJSON_Delete(st->messages);
    st->messages = NULL;
    st->group_event = 0;
    st->locate_created = 0;
    st->talk_case[0] = '\0';
    if (advance) {
        st->next++;
        st->conflicts = 0;
    }
    next_event(call);
}

static void on_committed(struct http_call *call, cJSON *reply)
{
    struct linebot_state *st = call->data;
    int conflict = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "conflict"));
    const cJSON *located = cJSON_GetObjectItemCaseSensitive(reply, "located");
    if (!conflict && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "dup"))) st->handled++;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "talk_refused")))
        log_warn("line: a reporter asked to talk about a case that is not theirs; no chat opened");
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(reply, "refused")))
        log_warn("line: a reporter's choice (%s) named a case that is not theirs; not recorded",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "refused")));
    if (cJSON_IsObject(located)) {
        const char *team =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(located, "team_id"));
        log_info("case %s: moved to the location its reporter sent; %s%s%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(located, "case_id")),
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(located, "status")),
                 team && team[0] ? " with team " : "", team ? team : "");
    }
    cJSON_Delete(reply);
    if (conflict) { /* another event of this user was stored first: read its state, again */
        if (++st->conflicts >= MAX_CONFLICTS) {
            log_warn("line: one user's state kept changing under an event; LINE will redeliver");
            http_reply_error(call, 503, "busy", "Try again shortly.");
            return;
        }
        log_debug("line: state changed meanwhile, event handled again");
        finish_event(call, 0);
        return;
    }
    finish_event(call, 1);
}

/* ess_line_commit's talk argument: the chat the event was handled against, and what to do with
 * it (a message for it, or one to open on code), or with the reporter's case of code (their
 * consent answer, quiet updates, the consent question asked); a new string, NULL when out of
 * memory. */
static char *talk_json(struct http_call *call, const char *op, const char *code)
{
    struct linebot_state *st = call->data;
    struct line_event *ev = current(call);
    cJSON *t = cJSON_CreateObject();
    char *json = NULL;
    int ok = t && cJSON_AddStringToObject(t, "expect", st->talk_case) &&
             cJSON_AddStringToObject(t, "op", op) &&
             cJSON_AddStringToObject(t, "ttl_s", LINEBOT_IDLE_STATE_TTL_S);

    if (ok && strcmp(op, "say") == 0)
        ok = cJSON_AddStringToObject(t, "text", st->outcome.note) &&
             cJSON_AddNumberToObject(t, "sent_at", (double)ev->timestamp);
    if (ok && code[0] != '\0')
        ok = cJSON_AddStringToObject(t, "code", code) &&
             cJSON_AddStringToObject(t, "line_user", ev->user_id);
    if (ok && strcmp(op, "request") == 0)
        ok = cJSON_AddStringToObject(t, "lang", st->outcome.lang == CHAT_LANG_EN ? "en" : "th") &&
             cJSON_AddNumberToObject(t, "wait_ms", call->router->cfg->chat_wait_s * 1000.0);
    if (ok && strcmp(op, "consent") == 0)
        ok = cJSON_AddBoolToObject(t, "share", st->outcome.consent) != NULL;
    if (ok && strcmp(op, "quiet") == 0)
        ok = cJSON_AddBoolToObject(t, "quiet", st->outcome.quiet) != NULL;
    if (ok && st->outcome.ask_consent) ok = cJSON_AddTrueToObject(t, "ask_consent") != NULL;
    if (ok) json = cJSON_PrintUnformatted(t);
    cJSON_Delete(t);
    return json;
}

/* Stores the state, marks the event handled and queues the reply, in one step. */
static void commit(struct http_call *call)
{
    struct linebot_state *st = call->data;
    struct line_event *ev = current(call);
    char *state = st->group_event ? text_dup("") : chat_state_to_json(&st->chat);
    char *payload = NULL;
    char dedupe[16], abandon[16] = "", lat[32] = "", lon[32] = "";
    const struct incident *place = &st->outcome.incident;
    int note = st->outcome.action == CHAT_ACTION_NOTE;
    int locate = st->outcome.action == CHAT_ACTION_LOCATE || st->locate_created;
    const char *argv[16];
    int argc = 14;
    char *talk = NULL;

    if (!st->group_event) {
        const char *op = "";
        const char *code = "";

        if (st->outcome.action == CHAT_ACTION_TALK && st->outcome.note && st->talk_case[0]) {
            op = "say";
        } else if (st->outcome.action == CHAT_ACTION_TALK_REQUEST ||
                   (st->outcome.action == CHAT_ACTION_CREATE_CASE && st->outcome.talk)) {
            op = "request";
            code = st->outcome.action == CHAT_ACTION_TALK_REQUEST ? st->outcome.tracking_code
                                                                  : st->chat.last_tracking_code;
        } else if (st->outcome.action == CHAT_ACTION_CONSENT) {
            op = "consent";
        } else if (st->outcome.action == CHAT_ACTION_QUIET) {
            op = "quiet";
        }
        if (st->outcome.action == CHAT_ACTION_CONSENT || st->outcome.action == CHAT_ACTION_QUIET ||
            st->outcome.ask_consent)
            code = st->outcome.tracking_code;
        if ((talk = talk_json(call, op, code)) == NULL) {
            free(state);
            http_reply_error(call, 500, "internal", "The server ran out of memory.");
            return;
        }
    }
    if (state == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    if (st->messages && cJSON_GetArraySize(st->messages) > 0 && ev->reply_token[0]) {
        cJSON *p = cJSON_CreateObject();
        if (p && cJSON_AddStringToObject(p, "reply_token", ev->reply_token) &&
            cJSON_AddStringToObject(p, "to", st->group_event ? ev->group_id : ev->user_id) &&
            cJSON_AddItemReferenceToObject(p, "messages", st->messages))
            payload = cJSON_PrintUnformatted(p);
        cJSON_Delete(p);
        if (payload == NULL) { /* nothing stored: LINE sends the event again */
            free(state);
            free(talk);
            http_reply_error(call, 500, "internal", "The server ran out of memory.");
            return;
        }
    }
    snprintf(dedupe, sizeof dedupe, "%d", DEDUPE_WINDOW_S);
    argv[0] = ev->webhook_event_id;
    argv[1] = st->user_key;
    argv[2] = st->version;
    argv[3] = state;
    /* The consent question waits on a filed case: kept as long as an idle state. */
    argv[4] = st->chat.step == CHAT_STEP_IDLE || st->chat.step == CHAT_STEP_CONSENT
                  ? LINEBOT_IDLE_STATE_TTL_S
                  : LINEBOT_REPORT_STATE_TTL_S;
    argv[5] = dedupe;
    /* A report with a category and no location yet becomes a case if left there (sweep.c). */
    if (!st->group_event &&
        (st->chat.step == CHAT_STEP_CONFIRM_CATEGORY || st->chat.step == CHAT_STEP_LOCATION ||
         st->chat.step == CHAT_STEP_ADDRESS))
        snprintf(abandon, sizeof abandon, "%d", call->router->cfg->line_abandon_s);
    argv[6] = abandon;
    argv[7] = abandon[0] ? ev->user_id : "";
    /* The answer to "anything else?", or what is sent while the case is open (text, "[image] id
     * …"): a note on the case; a location: the case's new place. In the same step as the state. */
    if (locate && place->has_location) {
        snprintf(lat, sizeof lat, "%.7f", place->lat);
        snprintf(lon, sizeof lon, "%.7f", place->lon);
    }
    argv[8] = (note || lat[0]) && st->outcome.note ? st->chat.last_tracking_code : "";
    argv[9] = (note || lat[0]) && st->outcome.note ? st->outcome.note : "";
    argv[10] = lat;
    argv[11] = lon;
    argv[12] = lat[0] && place->address ? place->address : "";
    argv[13] = talk ? talk : "";
    if (payload) {
        argv[argc++] = "line_reply";
        argv[argc++] = payload;
    }
    http_fcall(call, "ess_line_commit", 0, argc, argv, NULL, on_committed);
    free(state);
    free(payload);
    free(talk);
}

static void on_status(struct http_call *call, const struct track_view *v)
{
    struct linebot_state *st = call->data;
    st->messages = citizen_messages_status(
        st->outcome.lang, v->found, st->outcome.tracking_code,
        v->found ? incident_category_parse(v->category, strlen(v->category)) : INCIDENT_OTHER,
        v->status, v->found ? v->updated_at_ms : 0,
        st->outcome.lang == CHAT_LANG_EN && v->team_name_en[0] ? v->team_name_en : v->team_name);
    commit(call);
}

/* "Cancel" with no report in progress: the last case stays as it is; the words say so. */
static void on_cancel_status(struct http_call *call, const struct track_view *v)
{
    struct linebot_state *st = call->data;
    st->messages =
        citizen_messages_cancel(st->outcome.lang, v->found, st->outcome.tracking_code, v->status);
    commit(call);
}

/* The report's case: new (CREATED), or already created under the report's id by another event
 * of the same report (EXISTS: a redelivery or a second tap; CALL_ID_CONFLICT: another message at
 * the last step got there first). Either way the report is filed and this is its code. */
static void on_case_created(void *arg, enum cases_result result, cJSON *summary)
{
    struct http_call *call = arg;
    struct linebot_state *st = call->data;
    const char *code =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(summary, "tracking_code"));
    const char *team = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(summary, "team_name"));
    const char *team_en =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(summary, "team_name_en"));

    if (call->req == NULL) { /* LINE went away; the case, if stored, stays stored */
        cJSON_Delete(summary);
        http_call_free(call);
        return;
    }
    if (result == CASES_UNAVAILABLE || code == NULL) {
        cJSON_Delete(summary);
        if (result == CASES_UNAVAILABLE)
            http_reply_store_failure(call, STORE_UNAVAILABLE);
        else
            http_reply_error(call, 500, "internal", "The case could not be created.");
        return;
    }
    snprintf(st->chat.last_tracking_code, sizeof st->chat.last_tracking_code, "%s", code);
    /* Made by another event of the report with other content: the abandon timer, before the
     * location came. The location this event brought is not lost. */
    if (result == CASES_CALL_ID_CONFLICT && st->outcome.incident.has_location)
        st->locate_created = 1;
    if (st->outcome.lang == CHAT_LANG_EN && team_en && team_en[0]) team = team_en;
    /* the code, the team, the safety lines, then "anything else?", which adds to the case (or,
     * asked to talk to a person, that one will answer here) */
    if (st->outcome.talk)
        st->messages = citizen_messages_talk_created(st->outcome.lang, code, team ? team : "",
                                                     call->router->cfg->public_url);
    else
        st->messages =
            citizen_messages_created_ask(call->router->rules, st->outcome.lang, code,
                                         team ? team : "", call->router->cfg->public_url);
    cJSON_Delete(summary);
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

    if (refusal && strcmp(refusal, "audit_unavailable") == 0) { /* LINE delivers it again */
        http_reply_refusal(call, refusal);
        cJSON_Delete(reply);
        return;
    }
    if (refusal == NULL) {
        outbox_kick(call->router->outbox); /* the reporter's notice goes out now */
        log_info("case %s: acknowledged by team %s in its LINE group", case_id, team ? team : "?");
        st->messages = team_messages_ack(1, code ? code : "");
    } else if (strcmp(refusal, "unauthorized") == 0) {
        log_warn("line: an accept button pressed in a group no team is linked to");
        st->messages = team_messages_ack(-1, "");
    } else {
        st->messages = team_messages_ack(0, "");
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
        finish_event(call, 1);
        return;
    }
    argv[0] = ev->postback_data + 4;
    argv[1] = ev->group_id;
    http_fcall_audited(call, "ess_case_ack_group", 2, argv, on_group_ack);
}

static void handle_event(struct http_call *call);
static void on_follow_status(struct http_call *call, const struct track_view *v);

static void on_begun(struct http_call *call, cJSON *reply)
{
    struct linebot_state *st = call->data;
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(reply, "state");
    const char *version = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "version"));
    const char *talk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "talk"));

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "dup"))) {
        log_debug("line: event already handled, dropped");
        cJSON_Delete(reply);
        finish_event(call, 1);
        return;
    }
    snprintf(st->version, sizeof st->version, "%s", version ? version : "0");
    if (cJSON_IsString(state))
        chat_state_from_json(state->valuestring, strlen(state->valuestring), &st->chat);
    else
        chat_state_init(&st->chat);
    snprintf(st->talk_case, sizeof st->talk_case, "%s", talk ? talk : "");
    cJSON_Delete(reply);
    if (st->talk_case[0]) { /* in a chat: what the user sends is for the person, never the bot */
        if (chat_talk(current(call), &st->outcome) != 0) {
            http_reply_error(call, 500, "internal", "The server ran out of memory.");
            return;
        }
        commit(call); /* nothing to say: the message stored, or (NONE) the event marked handled */
        return;
    }
    /* Following the last case: only while it is open (resolved, closed or gone: what comes next
     * starts a new report, and the consent question, if still asked, is dropped). */
    if (st->chat.follow &&
        (st->chat.step == CHAT_STEP_IDLE || st->chat.step == CHAT_STEP_CONSENT) &&
        st->chat.last_tracking_code[0]) {
        track_lookup(call, st->chat.last_tracking_code, on_follow_status);
        return;
    }
    handle_event(call);
}

static void on_follow_status(struct http_call *call, const struct track_view *v)
{
    struct linebot_state *st = call->data;

    if (!v->found || v->status == NULL || strcmp(v->status, "resolved") == 0 ||
        strcmp(v->status, "closed") == 0 || strcmp(v->status, "cancelled") == 0) {
        st->chat.follow = 0;
        if (st->chat.step == CHAT_STEP_CONSENT) st->chat.step = CHAT_STEP_IDLE;
    }
    handle_event(call);
}

/* Runs the conversation on the current event, its state loaded, and carries out the action. */
static void handle_event(struct http_call *call)
{
    struct linebot_state *st = call->data;
    struct line_event *ev = current(call);
    char report_id[CHAT_REPORT_ID_MAX + 1];

    /* The report's id, its call_id: one per report, so that whichever event of it creates the
     * case, a second one gets the same case. */
    if (st->chat.report_id[0] == '\0' &&
        random_token(st->chat.report_id, sizeof st->chat.report_id, 18) != 0) {
        http_reply_error(call, 500, "internal", "No randomness for a report id.");
        return;
    }
    memcpy(report_id, st->chat.report_id, sizeof report_id);
    if (chat_handle(call->router->rules, &st->chat, ev, &st->outcome) != 0) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        return;
    }
    if (st->chat.step == CHAT_STEP_IDLE) st->chat.report_id[0] = '\0'; /* no report open */
    switch (st->outcome.action) {
    case CHAT_ACTION_CREATE_CASE: {
        char call_id[CHAT_REPORT_ID_MAX + 8];
        snprintf(call_id, sizeof call_id, "line:%s", report_id);
        cases_create(call->router, &st->outcome.incident, call_id,
                     st->outcome.lang == CHAT_LANG_EN ? "en" : "th", NULL, on_case_created, call);
        return;
    }
    case CHAT_ACTION_STATUS:
        track_lookup(call, st->outcome.tracking_code, on_status);
        return;
    case CHAT_ACTION_CANCEL_OPEN:
        track_lookup(call, st->outcome.tracking_code, on_cancel_status);
        return;
    case CHAT_ACTION_REPLY:
    case CHAT_ACTION_NOTE:
    case CHAT_ACTION_LOCATE:
    case CHAT_ACTION_CONSENT: /* the commit records the answer, or quiet updates */
    case CHAT_ACTION_QUIET:
        st->messages = citizen_messages(call->router->rules, &st->outcome);
        break;
    case CHAT_ACTION_TALK_REQUEST: /* said once; the commit opens the chat */
        st->messages = citizen_messages_talk_waiting(st->outcome.lang, st->outcome.tracking_code);
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
    struct timespec now;
    int64_t oldest_ms;

    clock_gettime(CLOCK_REALTIME, &now);
    oldest_ms =
        (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - (int64_t)DEDUPE_WINDOW_S * 1000;
    while (st->next < st->webhook.nevents) {
        struct line_event *ev = current(call);
        const char *argv[2];
        /* No id: it could not be deduplicated, so a replay of a signed body would be handled
         * again. Too old: its id may have been forgotten already. Skipped, counted. */
        if (ev->webhook_event_id[0] == '\0' || ev->timestamp < oldest_ms) {
            if (ev->webhook_event_id[0] == '\0')
                st->no_id++;
            else
                st->too_old++;
            st->next++;
            continue;
        }
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
    if (st->no_id > 0 || st->too_old > 0)
        log_warn("line: %zu event(s) without a webhookEventId and %zu older than %d s skipped",
                 st->no_id, st->too_old, DEDUPE_WINDOW_S);
    if (st->handled > 0) {
        log_info("line: %zu event(s) received, %zu answered", st->webhook.nevents, st->handled);
        outbox_kick(call->router->outbox);
    }
    http_reply_json_replicated(call, 200, cJSON_CreateObject());
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
