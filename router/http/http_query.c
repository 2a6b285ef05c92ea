/* Query strings (http_query.h): splitting and whole numbers. */
#include "http_query.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

int http_query_split(const char *query, struct evkeyvalq *params)
{
    TAILQ_INIT(params);
    return query && evhttp_parse_query_str(query, params) != 0 ? -1 : 0;
}

int http_query_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    long v;
    if (s[0] < '0' || s[0] > '9' || strlen(s) > 12) return -1;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}
