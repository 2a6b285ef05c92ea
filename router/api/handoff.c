/* The chat of a LINE reporter with an operator (handoff.h): reading the conversation. */
#include "handoff.h"

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>

#include "cases.h"
#include "http.h"
#include "views.h"

#define MESSAGES_DEFAULT 200
#define MESSAGES_MAX 500
#define AFTER_MAX 1000000000L

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
    const char *argv[6];

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
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
    argv[1] = "operator"; /* the route is the operators' */
    argv[2] = "";
    argv[3] = "";
    argv[4] = after_buf;
    argv[5] = limit_buf;
    http_fcall(call, "ess_chat_messages", 1, 6, argv, NULL, on_messages);
}
