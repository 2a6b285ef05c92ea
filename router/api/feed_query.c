/* What a partner agency's feed requests ask (feed_query.h). */
#include "feed_query.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>

#include "http_query.h"

const char *feed_query_read(struct evkeyvalq *params, struct feed_query *q)
{
    const char *count = evhttp_find_header(params, "count");
    const char *block = evhttp_find_header(params, "block_ms");
    const char *format = evhttp_find_header(params, "format");

    q->count = FEED_COUNT_DEFAULT;
    q->block_ms = 0;
    q->eido = 0;
    if (count && http_query_long(count, 1, FEED_COUNT_MAX, &q->count) != 0)
        return "count must be a whole number 1 to 1000.";
    if (block && http_query_long(block, 0, FEED_BLOCK_MAX_MS, &q->block_ms) != 0)
        return "block_ms must be a whole number 0 to 30000.";
    if (format && strcmp(format, "eido") != 0)
        return "format must be eido (each entry then carries its case's EIDO), or absent.";
    q->eido = format != NULL;
    return NULL;
}

int feed_query_ack_id_valid(const char *s)
{
    const char *dash = strchr(s, '-');
    size_t a, b;
    if (dash == NULL || strlen(s) > FEED_STREAM_ID_MAX) return 0;
    a = (size_t)(dash - s);
    b = strlen(dash + 1);
    return a >= 1 && a <= 20 && b >= 1 && b <= 20 && strspn(s, "0123456789") == a &&
           strspn(dash + 1, "0123456789") == b;
}
