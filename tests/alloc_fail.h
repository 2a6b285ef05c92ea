/* An allocator for out-of-memory sweeps (cJSON_InitHooks with {failing_malloc, free}): with
 * allocations_left = n, the n-th allocation from now fails; with fail_once, memory then comes back,
 * else every allocation from it on fails. -1: never fail. A test that reads allocations_left > 0
 * after a run knows the run ended with allocations to spare, so no failure was hit. */
#ifndef ESS_TESTS_ALLOC_FAIL_H
#define ESS_TESTS_ALLOC_FAIL_H

#include <stdio.h>
#include <stdlib.h>

static long allocations_left = -1;
static int fail_once;

static void *failing_malloc(size_t n)
{
    if (allocations_left == 0) {
        if (fail_once) allocations_left = -1;
        return NULL;
    }
    if (allocations_left > 0) allocations_left--;
    return malloc(n);
}

/* text, saying which way the allocator fails; valid until the next call. */
static inline const char *how(int once, const char *text)
{
    static char what[160];
    snprintf(what, sizeof what, "%s (%s)", text,
             once ? "one allocation fails" : "all fail from one on");
    return what;
}

#endif
