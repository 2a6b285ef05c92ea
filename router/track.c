/* e-Tracking: validates the code (a mistyped one is refused without a lookup) and renders the
 * public view from the store's read-only track function. */
#include "track.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "http.h"
#include "router.h"
#include "track_code.h"
#include "views.h"

static void on_track(struct http_call *call, cJSON *reply)
{
    const char *refusal = http_refusal(reply);
    if (refusal && strcmp(refusal, "not_found") == 0) {
        http_reply_error(call, 404, "not_found", "No case has this tracking code.");
    } else if (refusal) {
        http_reply_refusal(call, refusal);
    } else {
        http_reply_json(call, 200, views_track(reply, call->router->rules));
    }
    cJSON_Delete(reply);
}

void track_get(struct http_call *call)
{
    char code[TRACK_CODE_SIZE];
    const char *argv[1];
    const char *in = call->params[0];
    switch (track_code_parse(in, strlen(in), code)) {
    case TRACK_CODE_OK:
        break;
    case TRACK_CODE_BAD_CHECK:
        http_reply_error(call, 400, "invalid_tracking_code",
                         "This tracking code has a typing mistake: its check character does not "
                         "match. Please check it again.");
        return;
    default:
        http_reply_error(call, 400, "invalid_tracking_code",
                         "A tracking code looks like HM-7K3-Q9X-TD8.");
        return;
    }
    argv[0] = code;
    http_fcall(call, "ess_track", 1, 1, argv, NULL, on_track);
}
