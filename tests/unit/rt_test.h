/* rt_test.h - a tiny unit test harness for realtime's plain C code.
 *
 *   #include "rt_test.h"
 *
 *   RT_TEST(adds) {
 *       RT_ASSERT_EQ_INT(1 + 1, 2);
 *   }
 *
 *   int main(void) {
 *       RT_RUN(adds);
 *       return rt_test_summary();
 *   }
 *
 * Output, one line per test, then a summary:
 *   ok - adds
 *   not ok - name
 *   # N passed, N failed
 *
 * A failed RT_ASSERT* prints file:line and the values, marks the current
 * test failed and returns from the enclosing function, so use them only in
 * the RT_TEST body or in void helpers (a helper's failure still marks the
 * test failed; the test body goes on after the helper returns).
 */
#ifndef RT_TEST_H
#define RT_TEST_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RT_TEST_UNUSED_ __attribute__((unused))

static int rt_test_cur_failed_ RT_TEST_UNUSED_;
static int rt_test_passed_ RT_TEST_UNUSED_;
static int rt_test_failed_ RT_TEST_UNUSED_;

#define RT_TEST(name) static void rt_test_fn_##name(void)

#define RT_RUN(name) rt_test_run_(#name, rt_test_fn_##name)

/* Print a diagnostic line for the current test and mark it failed. */
#define RT_FAIL_(...)                                                      \
    do {                                                                   \
        printf("#   %s:%d: ", __FILE__, __LINE__);                         \
        printf(__VA_ARGS__);                                               \
        printf("\n");                                                      \
        fflush(stdout);                                                    \
        rt_test_cur_failed_ = 1;                                           \
    } while (0)

#define RT_ASSERT(cond)                                                    \
    do {                                                                   \
        if (!(cond)) {                                                     \
            RT_FAIL_("assertion failed: %s", #cond);                       \
            return;                                                        \
        }                                                                  \
    } while (0)

#define RT_ASSERT_EQ_INT(a, b)                                             \
    do {                                                                   \
        intmax_t rt_a_ = (intmax_t)(a), rt_b_ = (intmax_t)(b);             \
        if (rt_a_ != rt_b_) {                                              \
            RT_FAIL_("%s == %s: %" PRIdMAX " != %" PRIdMAX,                \
                     #a, #b, rt_a_, rt_b_);                                \
            return;                                                        \
        }                                                                  \
    } while (0)

#define RT_ASSERT_EQ_STR(a, b)                                             \
    do {                                                                   \
        const char *rt_a_ = (a), *rt_b_ = (b);                             \
        if (!(rt_a_ == rt_b_ ||                                            \
              (rt_a_ && rt_b_ && strcmp(rt_a_, rt_b_) == 0))) {            \
            RT_FAIL_("%s == %s: %s%s%s != %s%s%s", #a, #b,                 \
                     rt_a_ ? "\"" : "", rt_a_ ? rt_a_ : "NULL",            \
                     rt_a_ ? "\"" : "", rt_b_ ? "\"" : "",                 \
                     rt_b_ ? rt_b_ : "NULL", rt_b_ ? "\"" : "");           \
            return;                                                        \
        }                                                                  \
    } while (0)

#define RT_ASSERT_MEM(a, b, len)                                           \
    do {                                                                   \
        const void *rt_a_ = (a), *rt_b_ = (b);                             \
        size_t rt_len_ = (size_t)(len);                                    \
        if (rt_len_ && (!rt_a_ || !rt_b_ ||                                \
                        memcmp(rt_a_, rt_b_, rt_len_) != 0)) {             \
            RT_FAIL_("%s == %s (%zu bytes): differ", #a, #b, rt_len_);     \
            rt_test_memdiff_(rt_a_, rt_b_, rt_len_);                       \
            return;                                                        \
        }                                                                  \
    } while (0)

/* Hex dump of up to 16 bytes of a and b from the first difference. */
static inline void rt_test_memdiff_(const void *a, const void *b, size_t len)
{
    const unsigned char *pa = a, *pb = b;
    size_t i = 0, end;
    int k;

    if (!pa || !pb) {
        printf("#     %s is NULL\n", pa ? "second" : "first");
        return;
    }
    while (i < len && pa[i] == pb[i])
        i++;
    end = len - i > 16 ? i + 16 : len;
    for (k = 0; k < 2; k++) {
        const unsigned char *p = k ? pb : pa;
        size_t j;
        printf("#     %s @%zu:", k ? "second" : "first ", i);
        for (j = i; j < end; j++)
            printf(" %02x", p[j]);
        printf("\n");
    }
    fflush(stdout);
}

static inline void rt_test_run_(const char *name, void (*fn)(void))
{
    rt_test_cur_failed_ = 0;
    fn();
    if (rt_test_cur_failed_) {
        rt_test_failed_++;
        printf("not ok - %s\n", name);
    } else {
        rt_test_passed_++;
        printf("ok - %s\n", name);
    }
    fflush(stdout);
}

/* Print "# N passed, N failed"; return the process exit status. */
static inline int rt_test_summary(void)
{
    printf("# %d passed, %d failed\n", rt_test_passed_, rt_test_failed_);
    fflush(stdout);
    return rt_test_failed_ ? 1 : 0;
}

#endif /* RT_TEST_H */
