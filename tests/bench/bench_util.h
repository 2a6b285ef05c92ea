/* What the benchmark's load generators share: a monotonic clock in nanoseconds (the one the
 * fake LINE API logs with), a checked reading of numeric arguments and the order of doubles for
 * qsort (their quantiles). */
#ifndef ESS_BENCH_UTIL_H
#define ESS_BENCH_UTIL_H

#include <errno.h>
#include <stdlib.h>
#include <time.h>

static inline long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* s as a decimal in lo..hi, else -1. */
static inline long parse_long(const char *s, long lo, long hi)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return -1;
    return v;
}

/* qsort's comparison of two doubles, ascending. */
static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
