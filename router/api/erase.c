/* DELETE /v1/cases/{id}/personal-data: checks the reason and calls ess_case_erase, which does the
 * erasure and its audit entry in one step. */
#include "erase.h"

#include "cases.h"
#include "http.h"
#include "log.h"
#include "views.h"
#include <cjson/cJSON.h>

#define ERASE_REASON_MAX_BYTES (ERASE_REASON_MAX_CHARS * 4) /* UTF-8: at most 4 bytes each */

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
    cases_call_with_text(call, "reason", ERASE_REASON_MAX_BYTES, ERASE_REASON_MAX_CHARS,
                         "reason is required: why the personal data is erased, 1 to 500 "
                         "characters of text.",
                         "ess_case_erase", on_erased);
}
