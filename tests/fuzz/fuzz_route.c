/* libFuzzer target for the request target of every HTTP request: evhttp's URI parse (with the
 * flags evhttp itself uses), router/http/route.c's path splitting and matching against every
 * pattern of the route table (router/http/server.c, generated into fuzz_route_patterns.h), and
 * router/http/http_query.c's query splitting and whole numbers. Checks: segments are bounded and
 * free of control bytes, percent-encoding them again splits back to the same segments, a match
 * agrees with an independent reading of the pattern, numbers read are in range and are what the
 * digits say. */
#include "fuzz_common.h"
#include "http_query.h"
#include "route.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "fuzz_route_patterns.h"

typedef char segments[ROUTE_MAX_SEGMENTS][ROUTE_SEGMENT_MAX + 1];
typedef char parameters[ROUTE_MAX_PARAMS][ROUTE_SEGMENT_MAX + 1];

static void check_segments(segments seg, int nseg)
{
    if (nseg < 0 || nseg > ROUTE_MAX_SEGMENTS) abort();
    for (int i = 0; i < nseg; i++) {
        size_t n = strnlen(seg[i], ROUTE_SEGMENT_MAX + 1);
        if (n == 0 || n > ROUTE_SEGMENT_MAX) abort();
        for (size_t k = 0; k < n; k++)
            if ((unsigned char)seg[i][k] < 0x20 || seg[i][k] == 0x7f) abort();
    }
}

/* The segments percent-encoded again (every byte but the unreserved ones) split back to
 * themselves. */
static void check_round_trip(segments seg, int nseg)
{
    static const char hex[] = "0123456789ABCDEF";
    char path[ROUTE_MAX_SEGMENTS * (3 * ROUTE_SEGMENT_MAX + 1) + 2];
    size_t o = 0;
    segments back;
    int nback = -1;

    path[o++] = '/';
    for (int i = 0; i < nseg; i++) {
        if (i > 0) path[o++] = '/';
        for (const char *c = seg[i]; *c; c++) {
            unsigned char b = (unsigned char)*c;
            if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                b == '-' || b == '.' || b == '_' || b == '~') {
                path[o++] = (char)b;
            } else {
                path[o++] = '%';
                path[o++] = hex[b >> 4];
                path[o++] = hex[b & 15];
            }
        }
    }
    path[o] = '\0';
    if (route_split(path, back, &nback) != 0 || nback != nseg) abort();
    for (int i = 0; i < nseg; i++)
        if (strcmp(seg[i], back[i]) != 0) abort();
}

/* Whether pattern matches, read independently of route_match (the pattern cut into its segments
 * first, then compared with the path's by count and position), and the parameters it takes. */
static int expect_match(const char *pattern, segments seg, int nseg, parameters want, int *nwant)
{
    char pat[8][ROUTE_SEGMENT_MAX + 1];
    int npat = 0, fixed, prefix;
    const char *p = pattern;

    *nwant = 0;
    while (*p) {
        size_t len = strcspn(p, "/");
        if (npat == 8 || len > ROUTE_SEGMENT_MAX) abort(); /* no pattern of the table is */
        memcpy(pat[npat], p, len);
        pat[npat++][len] = '\0';
        p += len + (p[len] == '/');
    }
    prefix = npat > 0 && strcmp(pat[npat - 1], "**") == 0;
    fixed = prefix ? npat - 1 : npat;
    if (prefix ? nseg < fixed : nseg != fixed) return 0;
    for (int i = 0; i < fixed; i++) {
        if (strcmp(pat[i], "*") == 0) {
            if (*nwant < ROUTE_MAX_PARAMS) snprintf(want[(*nwant)++], sizeof want[0], "%s", seg[i]);
        } else if (strcmp(pat[i], seg[i]) != 0) {
            return 0;
        }
    }
    if (prefix) {
        char rest[ROUTE_MAX_SEGMENTS * (ROUTE_SEGMENT_MAX + 1) + 1] = "";
        size_t n = 0;
        for (int k = fixed; k < nseg; k++)
            n += (size_t)snprintf(rest + n, sizeof rest - n, "%s%s", k > fixed ? "/" : "", seg[k]);
        if (n > ROUTE_SEGMENT_MAX) return 0;
        if (*nwant < ROUTE_MAX_PARAMS) memcpy(want[(*nwant)++], rest, n + 1);
    }
    return 1;
}

/* As the router's dispatch: every pattern of the table against the segments. */
static void check_routes(segments seg, int nseg)
{
    parameters params, want;
    int nwant;

    memset(params, 0, sizeof params);
    for (size_t r = 0; r < sizeof fuzz_route_patterns / sizeof fuzz_route_patterns[0]; r++) {
        int m = route_match(fuzz_route_patterns[r], seg, nseg, params);
        if (m != 0 && m != 1) abort();
        if (m != expect_match(fuzz_route_patterns[r], seg, nseg, want, &nwant)) abort();
        for (int k = 0; m && k < nwant; k++)
            if (strcmp(params[k], want[k]) != 0) abort();
        for (int k = 0; k < ROUTE_MAX_PARAMS; k++)
            if (memchr(params[k], '\0', sizeof params[k]) == NULL) abort();
    }
}

/* http_query_long(s, min, max): 0 only for 1 to 12 digits whose value is in [min, max]. */
static void check_long(const char *s, long min, long max)
{
    long v = -1, want = 0;
    size_t n = strlen(s), digits = strspn(s, "0123456789");
    int ok = n >= 1 && n <= 12 && digits == n;

    for (size_t i = 0; ok && i < n; i++) want = want * 10 + (s[i] - '0');
    ok = ok && want >= min && want <= max;
    if ((http_query_long(s, min, max, &v) == 0) != ok) abort();
    if (ok && v != want) abort();
}

static void check_query(const char *query)
{
    struct evkeyvalq params;
    struct evkeyval *kv;

    if (http_query_split(query, &params) == 0) {
        TAILQ_FOREACH (kv, &params, next) {
            if (kv->key == NULL || kv->value == NULL) abort();
            check_long(kv->value, 1, 1000);
            check_long(kv->value, 0, 30000);
        }
    }
    evhttp_clear_headers(&params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The request line's target: evhttp cuts it at a blank, a line end or a NUL. */
    size_t n = 0;
    char *target;
    struct evhttp_uri *uri;

    while (n < size && data[n] != ' ' && data[n] != '\r' && data[n] != '\n' && data[n] != '\0') n++;
    if ((target = fuzz_string(data, n)) == NULL) return 0;
    check_long(target, 0, 999999999999L);
    uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
    if (uri != NULL) {
        const char *path = evhttp_uri_get_path(uri);
        segments seg;
        int nseg = -1;

        if (path && route_split(path, seg, &nseg) == 0) {
            check_segments(seg, nseg);
            check_round_trip(seg, nseg);
            check_routes(seg, nseg);
        }
        check_query(evhttp_uri_get_query(uri));
        evhttp_uri_free(uri);
    }
    free(target);
    return 0;
}
