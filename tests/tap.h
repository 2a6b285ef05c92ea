/* A minimal TAP producer for the unit tests: each CHECK prints "ok N - what" or "not ok N - what"
 * and tap_done() prints the plan and returns the exit status (meson runs the tests with
 * protocol 'tap'). */
#ifndef ESS_TESTS_TAP_H
#define ESS_TESTS_TAP_H

#include <stdio.h>

static int tap_count;
static int tap_failed;

static inline int tap_check(int ok, const char *file, int line, const char *what)
{
    tap_count++;
    if (!ok) {
        tap_failed++;
        printf("not ok %d - %s (%s:%d)\n", tap_count, what, file, line);
    } else {
        printf("ok %d - %s\n", tap_count, what);
    }
    return ok;
}

/* CHECK(cond, "what is checked") */
#define CHECK(cond, what) tap_check((cond) ? 1 : 0, __FILE__, __LINE__, (what))

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
