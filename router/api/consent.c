/* POST /v1/cases/{id}/consent (consent.h): the body checked here, the record and its audit entry
 * written in one store step (ess_case_consent). */
#include "consent.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "http.h"
#include "log.h"
#include "text.h"
#include "views.h"

#define CONSENT_NOTE_MAX 1000

static const char *const consent_bases[] = {"consent", "vital_interest", "legal_obligation", NULL};

static void on_consent(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal) {
        http_reply_refusal(call, refusal);
    } else {
        const char *share =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "share_with_agencies"));
        log_info("case %s: consent recorded (%s)", call->params[0],
                 share && strcmp(share, "1") == 0 ? "share" : "no share");
        http_reply_json(call, 200, views_case(reply));
    }
    cJSON_Delete(reply);
}

void consent_post(struct http_call *call)
{
    cJSON *body;
    const cJSON *share, *basis, *note;
    const char *text = NULL;
    size_t len = 0;
    char *copy = NULL;
    const char *argv[4];
    int known = 0;

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    share = cJSON_GetObjectItemCaseSensitive(body, "share_with_agencies");
    basis = cJSON_GetObjectItemCaseSensitive(body, "basis");
    note = cJSON_GetObjectItemCaseSensitive(body, "note");
    for (size_t i = 0; cJSON_IsString(basis) && consent_bases[i]; i++)
        if (strcmp(basis->valuestring, consent_bases[i]) == 0) known = 1;
    if (!cJSON_IsBool(share)) {
        http_reply_error(call, 400, share ? "invalid_field" : "missing_field",
                         "share_with_agencies is required: true or false.");
        goto done;
    }
    if (!known) {
        http_reply_error(call, 400, basis ? "invalid_field" : "missing_field",
                         "basis is required: consent, vital_interest or legal_obligation.");
        goto done;
    }
    if (note && !cJSON_IsNull(note) &&
        http_body_text(call, body, "note", CONSENT_NOTE_MAX,
                       "note, when given, is text of at most 1000 bytes.", &text, &len) != 0)
        goto done;
    if (text && (copy = text_dup_len(text, len)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        goto done;
    }
    argv[0] = call->params[0];
    argv[1] = cJSON_IsTrue(share) ? "1" : "0";
    argv[2] = basis->valuestring;
    argv[3] = copy ? copy : "";
    http_fcall_audited(call, "ess_case_consent", 4, argv, on_consent);
done:
    free(copy);
    cJSON_Delete(body);
}
