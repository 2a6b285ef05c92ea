/* GET /openapi.json (openapi.h): the embedded document, answered as a static file. */
#include "openapi.h"

#include "http.h"
#include "static.h"

void openapi_get(struct http_call *call)
{
    const struct static_file *doc = static_find("openapi.json");
    if (doc == NULL) { /* the build always embeds it */
        http_reply_error(call, 404, "not_found", "The OpenAPI document is not part of this build.");
        return;
    }
    static_reply(call, doc);
}
