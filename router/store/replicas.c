/* Counting the replicas in sync from a primary's INFO replication (replicas.h). */
#include "replicas.h"

#include <string.h>

/* The value of field name ("state", "lag") in the comma-separated fields of a replica's line
 * [p, end): its start and length, or NULL. */
static const char *field(const char *p, const char *end, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if ((size_t)(stop - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            *vlen = (size_t)(stop - p - (ptrdiff_t)nlen - 1);
            return p + nlen + 1;
        }
        if (comma == NULL) break;
        p = comma + 1;
    }
    return NULL;
}

/* 1 when the replica's fields [p, end) say online with a lag of at most max_lag_s. */
static int line_in_sync(const char *p, const char *end, int max_lag_s)
{
    size_t n;
    const char *state = field(p, end, "state", &n);
    const char *lag;
    long seconds = 0;
    if (state == NULL || n != 6 || memcmp(state, "online", 6) != 0) return 0;
    lag = field(p, end, "lag", &n);
    if (lag == NULL || n == 0 || n > 9) return 0;
    for (size_t i = 0; i < n; i++) {
        if (lag[i] < '0' || lag[i] > '9') return 0;
        seconds = seconds * 10 + (lag[i] - '0');
    }
    return seconds <= max_lag_s;
}

int replicas_in_sync(const char *info, size_t len, int max_lag_s)
{
    const char *p = info, *end = info + len;
    int count = 0;
    if (info == NULL) return 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        const char *q = p + 5;
        if (stop > p && stop[-1] == '\r') stop--;
        /* "slave" digits ":" fields */
        if (stop - p > 6 && memcmp(p, "slave", 5) == 0 && *q >= '0' && *q <= '9') {
            while (q < stop && *q >= '0' && *q <= '9') q++;
            if (q < stop && *q == ':' && line_in_sync(q + 1, stop, max_lag_s)) count++;
        }
        p = nl ? nl + 1 : end;
    }
    return count;
}
