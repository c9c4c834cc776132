/* testing.h - the C unit tests' harness: a few CHECK macros and a runner.
 *
 * Each tests/c/test_<unit>.c is its own executable. Its main() runs its test_<unit>__<case>
 * functions with RUN_TEST() and returns testing_done(), which is nonzero when any check failed.
 * A failed check prints file:line and what was compared, counts the failure and lets the test go
 * on (it does not return), so one run reports every broken check. There are no fixtures, no
 * test discovery and no forking: a crash is a failure of the whole executable, and the tests are
 * meant to be run under AddressSanitizer and UndefinedBehaviorSanitizer as well.
 */
#ifndef LS_TESTING_H
#define LS_TESTING_H

#include <stdio.h>
#include <string.h>

static int testing_checks, testing_failures, testing_tests, testing_failed_tests;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		testing_checks++;                                                          \
		if (!(cond)) {                                                             \
			testing_failures++;                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                          \
	} while (0)

/* Compares as long long, so it takes any integer type without sign surprises for values that
 * fit (uint32_t, int32_t, int, size_t below 2^63). */
#define CHECK_EQ_INT(a, b)                                                                  \
	do {                                                                                \
		long long testing_a_ = (long long)(a), testing_b_ = (long long)(b);         \
		testing_checks++;                                                           \
		if (testing_a_ != testing_b_) {                                             \
			testing_failures++;                                                 \
			fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", __FILE__, \
				__LINE__, #a, #b, testing_a_, testing_b_);                  \
		}                                                                           \
	} while (0)

/* Run one test function and print "ok" or "FAIL" with its name. */
#define RUN_TEST(fn)                                                      \
	do {                                                              \
		int testing_before_ = testing_failures;                   \
		fn();                                                     \
		testing_tests++;                                          \
		if (testing_failures != testing_before_)                  \
			testing_failed_tests++;                           \
		printf("%s %s\n", testing_failures == testing_before_ ? "ok  " : "FAIL", #fn); \
	} while (0)

/* Print the summary; the exit status for main(). */
static inline int testing_done(void)
{
	printf("%d tests, %d checks, %d failed checks in %d tests\n", testing_tests, testing_checks,
	       testing_failures, testing_failed_tests);
	return testing_failures ? 1 : 0;
}

#endif
