/* libFuzzer target for a partner agency's feed requests (router/api/feed_query.c): GET /v1/feed's
 * query (count, block_ms, format), split by router/http/http_query.c as the router does, and the
 * entry ids POST /v1/feed/ack takes (the input itself and every query value as one). Checks: a
 * good query's numbers are in range and are what the digits say (the defaults when absent), eido
 * only for format=eido; an id taken is "<digits>-<digits>" of 1 to 20 digits each. */
#include "feed_query.h"
#include "fuzz_common.h"
#include "http_query.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

/* The value of a whole number of at most 12 digits, or -1 when s is not one. */
static long digits_value(const char *s)
{
    size_t n = strlen(s);
    long v = 0;

    if (n == 0 || n > 12 || strspn(s, "0123456789") != n) return -1;
    for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

static void check_number(const char *given, long got, long dflt, long min, long max)
{
    if (given == NULL) {
        if (got != dflt) abort();
        return;
    }
    if (got < min || got > max || digits_value(given) != got) abort();
}

static void check_ack_id(const char *s)
{
    const char *dash = strchr(s, '-');
    size_t a = dash ? (size_t)(dash - s) : 0, b = dash ? strlen(dash + 1) : 0;
    int want = dash != NULL && a >= 1 && a <= 20 && b >= 1 && b <= 20 &&
               strspn(s, "0123456789") == a && strspn(dash + 1, "0123456789") == b;

    if (feed_query_ack_id_valid(s) != want) abort();
    if (want && strlen(s) > FEED_STREAM_ID_MAX) abort();
}

static void check_query(const char *query)
{
    struct evkeyvalq params;
    struct evkeyval *kv;
    struct feed_query q;
    const char *problem;

    if (http_query_split(query, &params) != 0) goto done;
    TAILQ_FOREACH (kv, &params, next) check_ack_id(kv->value);
    memset(&q, 0xA5, sizeof q);
    problem = feed_query_read(&params, &q);
    if (problem != NULL) {
        if (problem[0] == '\0') abort();
        goto done;
    }
    check_number(evhttp_find_header(&params, "count"), q.count, FEED_COUNT_DEFAULT, 1,
                 FEED_COUNT_MAX);
    check_number(evhttp_find_header(&params, "block_ms"), q.block_ms, 0, 0, FEED_BLOCK_MAX_MS);
    if (q.eido != (evhttp_find_header(&params, "format") != NULL)) abort();
done:
    evhttp_clear_headers(&params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);

    if (s == NULL) return 0;
    check_ack_id(s);
    check_query(s);
    free(s);
    return 0;
}
