/* DELETE /v1/cases/{id}/personal-data: checks the reason and calls ess_case_erase, which does the
 * erasure and its audit entry in one step. */
#include "erase.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdlib.h>

#include "cases.h"
#include "http.h"
#include "log.h"
#include "text.h"
#include "views.h"

#define ERASE_REASON_MAX_BYTES (ERASE_REASON_MAX_CHARS * 4) /* UTF-8: at most 4 bytes each */

/* The number of code points of the valid UTF-8 s[0..n). */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) chars++;
    return chars;
}

static void on_erased(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal) {
        http_reply_refusal(call, refusal);
    } else {
        log_info("case %s: personal data erased on a supervisor's request", call->params[0]);
        http_reply_json(call, 200, views_case_supervisor(reply));
    }
    cJSON_Delete(reply);
}

void erase_case_delete(struct http_call *call)
{
    static const char problem[] = "reason is required: why the personal data is erased, 1 to 500 "
                                  "characters of text.";
    cJSON *body;
    const char *reason = NULL;
    size_t len = 0;
    char *copy;
    const char *argv[2];

    if (!cases_id_valid(call->params[0])) {
        http_reply_error(call, 404, "not_found", "No such case.");
        return;
    }
    if ((body = http_body_object(call)) == NULL) return;
    if (http_body_text(call, body, "reason", ERASE_REASON_MAX_BYTES, problem, &reason, &len) != 0) {
        cJSON_Delete(body);
        return;
    }
    if (utf8_chars(reason, len) > ERASE_REASON_MAX_CHARS) {
        http_reply_error(call, 400, "invalid_field", problem);
        cJSON_Delete(body);
        return;
    }
    if ((copy = text_dup_len(reason, len)) == NULL) {
        http_reply_error(call, 500, "internal", "The server ran out of memory.");
        cJSON_Delete(body);
        return;
    }
    argv[0] = call->params[0];
    argv[1] = copy;
    http_fcall_audited(call, "ess_case_erase", 2, argv, on_erased);
    free(copy);
    cJSON_Delete(body);
}
