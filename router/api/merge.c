/* POST /v1/cases/{id}/merge (merge.h): the body checked here, the merge and its audit entry done
 * in one store step (ess_case_merge), its refusals answered with their own codes. */
#include "merge.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "cases.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "outbox.h"
#include "router.h"
#include "views.h"

/* A refusal of ess_case_merge: its status and message, or 0 when it is not one of merge's own. */
static int merge_refusal(const char *code, const char **message)
{
    static const struct {
        const char *code;
        int status;
        const char *message;
    } refusals[] = {
        {"merge_into_itself", 400, "A case cannot be merged into itself."},
        {"target_not_found", 404, "No case has the id given in into."},
        {"already_merged", 409, "This case was already merged into another case."},
        {"case_closed", 409, "This case is closed: a closed case is not merged."},
        {"target_merged", 409,
         "The case given in into was itself merged into another case: merge into that one."},
        {"target_closed", 409, "The case given in into is closed: merge into an open case."},
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        if (strcmp(code, refusals[i].code) == 0) {
            *message = refusals[i].message;
            return refusals[i].status;
        }
    }
    return 0;
}

static void on_merged(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply), *message = NULL;
    int status;

    if (refusal && (status = merge_refusal(refusal, &message)) != 0) {
        cJSON *extra = NULL;
        const char *other = json_string(reply, "merged_into", "");
        if (other[0] != '\0' && (extra = cJSON_CreateObject()) != NULL &&
            cJSON_AddStringToObject(extra, "merged_into", other) == NULL) {
            cJSON_Delete(extra);
            extra = NULL; /* the code and message still say it */
        }
        http_reply_error_with(call, status, refusal, message, extra);
    } else if (refusal) {
        http_reply_refusal(call, refusal);
    } else {
        outbox_kick(call->router->outbox); /* a freed team may have taken a queued case */
        log_info("case %s: merged into %s", call->params[0],
                 json_string(reply, "merged_into", "?"));
        http_reply_json(call, 200, views_case(reply));
    }
    cJSON_Delete(reply);
}

void merge_post(struct http_call *call)
{
    cJSON *body;
    const char *into;
    const char *argv[2];

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    into = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "into"));
    if (into == NULL) {
        http_reply_error(call, 400,
                         cJSON_HasObjectItem(body, "into") ? "invalid_field" : "missing_field",
                         "into is required: the id of the case this one is merged into.");
    } else if (!cases_id_valid(into)) {
        http_reply_error(call, 404, "target_not_found", "No case has the id given in into.");
    } else {
        argv[0] = call->params[0];
        argv[1] = into;
        http_fcall_audited(call, "ess_case_merge", 2, argv, on_merged);
    }
    cJSON_Delete(body);
}
