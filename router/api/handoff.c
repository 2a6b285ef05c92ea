/* The chat of a LINE reporter with an operator (handoff.h): reading the conversation, taking
 * the chat, writing in it (stored and queued as a push in one store step) and closing it. */
#include "handoff.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "http.h"
#include "json.h"
#include "line_messages.h"
#include "log.h"
#include "outbox.h"
#include "router.h"
#include "text.h"
#include "views.h"

#define MESSAGES_DEFAULT 200
#define MESSAGES_MAX 500
#define AFTER_MAX 1000000000L
#define SAY_MAX_BYTES                                                                              \
    8000 /* a body's text before it is counted: 2,000 units fit in 8,000 bytes                     \
          */

/* 1 when the case id of the path is well-formed; else the call was answered 404. */
static int case_id_ok(struct http_call *call)
{
    if (cases_id_valid(call->params[0])) return 1;
    http_reply_error(call, 404, "not_found", "No such case.");
    return 0;
}

static void on_messages(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);

    if (refusal)
        http_reply_refusal(call, refusal);
    else
        http_reply_json(call, 200, views_chat_messages(reply));
    cJSON_Delete(reply);
}

void handoff_messages_get(struct http_call *call)
{
    struct evkeyvalq params;
    const char *after_s, *limit_s;
    long after = 0, limit = MESSAGES_DEFAULT;
    char after_buf[16], limit_buf[16];
    const char *argv[3];

    if (!case_id_ok(call)) return;
    if (http_query_parse(call, &params) != 0) {
        evhttp_clear_headers(&params);
        return;
    }
    after_s = evhttp_find_header(&params, "after");
    limit_s = evhttp_find_header(&params, "limit");
    if ((after_s && http_query_long(after_s, 0, AFTER_MAX, &after) != 0) ||
        (limit_s && http_query_long(limit_s, 1, MESSAGES_MAX, &limit) != 0)) {
        evhttp_clear_headers(&params);
        http_reply_error(call, 400, "invalid_query",
                         "after must be a whole number from 0, and limit from 1 to 500.");
        return;
    }
    evhttp_clear_headers(&params);
    snprintf(after_buf, sizeof after_buf, "%ld", after);
    snprintf(limit_buf, sizeof limit_buf, "%ld", limit);
    argv[0] = call->params[0];
    argv[1] = after_buf;
    argv[2] = limit_buf;
    http_fcall_audited(call, "ess_chat_messages", 3, argv, on_messages);
}

/* Answers the refusals of ess_chat_take, _say and _close (reply is only read): the chat's own as
 * 409s (chat_taken names the operator who has it), the others as http_reply_refusal does. */
static void reply_chat_refusal(struct http_call *call, const char *code, const cJSON *reply)
{
    if (strcmp(code, "chat_taken") == 0) {
        cJSON *extra = cJSON_CreateObject();
        if (extra &&
            !cJSON_AddStringToObject(extra, "operator_id", json_string(reply, "operator_id", ""))) {
            cJSON_Delete(extra);
            extra = NULL; /* the code still says it; only who is lost */
        }
        http_reply_error_with(call, 409, "chat_taken", "Another operator is answering this chat.",
                              extra);
    } else if (strcmp(code, "no_chat") == 0) {
        http_reply_error(call, 409, "no_chat", "The reporter is not waiting to talk to a person.");
    } else if (strcmp(code, "chat_not_open") == 0) {
        http_reply_error(call, 409, "chat_not_open",
                         "The chat is not open: take it before writing in it.");
    } else if (strcmp(code, "no_line_user") == 0) {
        http_reply_error(call, 409, "no_line_user",
                         "The reporter's LINE account is no longer on the case.");
    } else {
        http_reply_refusal(call, code);
    }
}

/* Answers the reply of ess_chat_take, _say or _close (which this frees): its refusal, or status
 * with view(reply), after logging "case <id>: operator <id> <what>" (never a text) and waking the
 * outbox for the push the step may have queued (a message, the closing line). */
static void answer(struct http_call *call, cJSON *reply, const char *what, int status,
                   cJSON *(*view)(const cJSON *))
{
    const char *refusal = http_refusal(reply);

    if (refusal) {
        reply_chat_refusal(call, refusal, reply);
    } else {
        log_info("case %s: operator %s %s", call->params[0], http_actor(call), what);
        outbox_kick(call->router->outbox);
        http_reply_json(call, status, view(reply));
    }
    cJSON_Delete(reply);
}

static void on_taken(struct http_call *call, cJSON *reply)
{
    answer(call, reply, "took the chat", 200, views_chat);
}

/* Takes or closes the chat (function, ess_chat_take or ess_chat_close), audited: the store knows
 * the caller (and whether a supervisor, who may close another operator's chat) from the audit
 * context. */
static void chat_step(struct http_call *call, const char *function,
                      void (*on_reply)(struct http_call *call, cJSON *reply))
{
    const char *argv[1];

    if (!case_id_ok(call)) return;
    argv[0] = call->params[0];
    http_fcall_audited(call, function, 1, argv, on_reply);
}

void handoff_take(struct http_call *call)
{
    chat_step(call, "ess_chat_take", on_taken);
}

static void on_said(struct http_call *call, cJSON *reply)
{
    answer(call, reply, "wrote in the chat", 201, views_chat_entry);
}

void handoff_say(struct http_call *call)
{
    cJSON *body, *m, *messages = NULL;
    const char *text = NULL;
    size_t len = 0;
    char *copy = NULL, *rendered = NULL;
    const char *argv[3];

    if (!case_id_ok(call)) return;
    if ((body = http_body_object(call)) == NULL) return;
    if (http_body_text(call, body, "text", SAY_MAX_BYTES,
                       "text is required: at most 2000 characters of plain text.", &text,
                       &len) != 0)
        goto done;
    if (text_utf16_units(text, len) > HANDOFF_TEXT_MAX) {
        http_reply_error(call, 400, "invalid_field", "text is at most 2000 characters.");
        goto done;
    }
    if ((copy = text_dup_len(text, len)) != NULL) {
        m = line_messages_text(copy);
        messages = line_messages_array(&m, 1);
    }
    if (messages == NULL || (rendered = cJSON_PrintUnformatted(messages)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
    argv[0] = call->params[0];
    argv[1] = rendered;
    argv[2] = copy;
    http_fcall_audited(call, "ess_chat_say", 3, argv, on_said);
done:
    free(rendered);
    cJSON_Delete(messages);
    free(copy);
    cJSON_Delete(body);
}

static void on_closed(struct http_call *call, cJSON *reply)
{
    answer(call, reply, "closed the chat", 200, views_chat);
}

void handoff_close(struct http_call *call)
{
    chat_step(call, "ess_chat_close", on_closed);
}
