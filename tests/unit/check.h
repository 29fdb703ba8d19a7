/*
 * A tiny test harness: no framework.  Each test file defines test functions, runs them
 * with RUN(), and ends with check_summary().  Output is one line per test, "ok - name" or
 * "not ok - name", with failed checks printed as file:line above it; tests/run.sh counts
 * the lines.
 */
#ifndef PB_TEST_CHECK_H
#define PB_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_now;
static int check_passed, check_failed;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stdout, "#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            check_failed_now = 1;                                                        \
        }                                                                                \
    } while (0)

#define CHECK_STR(a, b)                                                                  \
    do {                                                                                 \
        const char *a_ = (a), *b_ = (b);                                                 \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                         \
            fprintf(stdout, "#   %s:%d: '%s' != '%s'\n", __FILE__, __LINE__,              \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                             \
            check_failed_now = 1;                                                        \
        }                                                                                \
    } while (0)

#define RUN(fn)                                                                          \
    do {                                                                                 \
        check_failed_now = 0;                                                            \
        fn();                                                                            \
        if (check_failed_now) {                                                          \
            check_failed++;                                                              \
            fprintf(stdout, "not ok - %s\n", #fn);                                       \
        } else {                                                                         \
            check_passed++;                                                              \
            fprintf(stdout, "ok - %s\n", #fn);                                           \
        }                                                                                \
        fflush(stdout);                                                                  \
    } while (0)

static inline int
check_summary(void)
{
    return check_failed ? 1 : 0;
}

#endif
