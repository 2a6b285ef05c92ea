/* The operator console's page and settings (console.h). */
#include "console.h"

#include <cjson/cJSON.h>

#include "config.h"
#include "http.h"
#include "router.h"
#include "static.h"

void console_page(struct http_call *call)
{
    const struct static_file *index = static_find("console/index.html");
    if (index == NULL) { /* the build always embeds it; never a blank page without a word */
        http_reply_error(call, 404, "not_found", "The console is not part of this build.");
        return;
    }
    static_reply(call, index);
}

void console_config(struct http_call *call)
{
    const char *tiles = call->router->cfg->map_tiles;
    cJSON *doc = cJSON_CreateObject();
    int ok = doc != NULL;

    if (ok && tiles && tiles[0])
        ok = cJSON_AddStringToObject(doc, "map_tiles", tiles) != NULL;
    else if (ok)
        ok = cJSON_AddNullToObject(doc, "map_tiles") != NULL;
    if (!ok) {
        cJSON_Delete(doc);
        doc = NULL; /* http_reply_json(NULL) answers the fixed 500 */
    }
    http_reply_json(call, 200, doc);
}
