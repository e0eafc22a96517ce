/*
 * A small test harness for the C tests of libmagenta.
 *
 *   TEST(name) { EXPECT_OK(call); EXPECT_STATUS(MX_ERR_X, call); ... }
 *   static const struct test tests[] = { T(name), ... };
 *   int main(int argc, char** argv) { return run_tests(tests, COUNT(tests), argc, argv); }
 *
 * A failed expectation prints where and why, and ends the test. Every status
 * an EXPECT_STATUS sees is recorded, so a suite can check which error codes
 * it reached. The last line is "N passed, M failed" (tests/common reads it);
 * an optional argument runs only the tests whose name contains it.
 */
#ifndef MX_TEST_CHECK_H_
#define MX_TEST_CHECK_H_

#include <magenta/syscalls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test {
    const char* name;
    void (*fn)(void);
};

#define TEST(name) static void name(void)
#define T(name) { #name, name }
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Whether the running test failed. */
static int test_failed;
/* Whether only some tests run (a filter was given). */
static int tests_filtered;
/* Bit -s is set once status s was returned to an EXPECT_STATUS. */
static unsigned long long statuses_seen;

static inline const char* status_name(mx_status_t status) {
    switch (status) {
    case MX_OK: return "MX_OK";
    case MX_ERR_INTERNAL: return "MX_ERR_INTERNAL";
    case MX_ERR_NOT_SUPPORTED: return "MX_ERR_NOT_SUPPORTED";
    case MX_ERR_NO_RESOURCES: return "MX_ERR_NO_RESOURCES";
    case MX_ERR_NO_MEMORY: return "MX_ERR_NO_MEMORY";
    case MX_ERR_CALL_FAILED: return "MX_ERR_CALL_FAILED";
    case MX_ERR_INVALID_ARGS: return "MX_ERR_INVALID_ARGS";
    case MX_ERR_BAD_HANDLE: return "MX_ERR_BAD_HANDLE";
    case MX_ERR_WRONG_TYPE: return "MX_ERR_WRONG_TYPE";
    case MX_ERR_OUT_OF_RANGE: return "MX_ERR_OUT_OF_RANGE";
    case MX_ERR_BUFFER_TOO_SMALL: return "MX_ERR_BUFFER_TOO_SMALL";
    case MX_ERR_BAD_STATE: return "MX_ERR_BAD_STATE";
    case MX_ERR_TIMED_OUT: return "MX_ERR_TIMED_OUT";
    case MX_ERR_SHOULD_WAIT: return "MX_ERR_SHOULD_WAIT";
    case MX_ERR_CANCELED: return "MX_ERR_CANCELED";
    case MX_ERR_PEER_CLOSED: return "MX_ERR_PEER_CLOSED";
    case MX_ERR_NOT_FOUND: return "MX_ERR_NOT_FOUND";
    case MX_ERR_ALREADY_EXISTS: return "MX_ERR_ALREADY_EXISTS";
    case MX_ERR_ALREADY_BOUND: return "MX_ERR_ALREADY_BOUND";
    case MX_ERR_UNAVAILABLE: return "MX_ERR_UNAVAILABLE";
    case MX_ERR_ACCESS_DENIED: return "MX_ERR_ACCESS_DENIED";
    default: return "unknown status";
    }
}

static inline void note_status(mx_status_t status) {
    if (status <= 0 && status > -64) {
        statuses_seen |= 1ull << -status;
    }
}

#define FAIL_AT(...)                                       \
    do {                                                   \
        printf("    %s:%d: ", __FILE__, __LINE__);         \
        printf(__VA_ARGS__);                               \
        printf("\n");                                      \
        test_failed = 1;                                   \
    } while (0)

#define EXPECT_STATUS(expected, call)                                        \
    do {                                                                     \
        mx_status_t status_ = (call);                                        \
        note_status(status_);                                                \
        if (status_ != (expected)) {                                         \
            FAIL_AT("%s returned %s (%d), expected %s", #call,               \
                    status_name(status_), (int)status_,                      \
                    status_name(expected));                                  \
            return;                                                          \
        }                                                                    \
    } while (0)

#define EXPECT_OK(call) EXPECT_STATUS(MX_OK, call)

#define EXPECT(cond)                      \
    do {                                  \
        if (!(cond)) {                    \
            FAIL_AT("expected %s", #cond); \
            return;                       \
        }                                 \
    } while (0)

#define EXPECT_EQ(a, b)                                                       \
    do {                                                                      \
        unsigned long long a_ = (unsigned long long)(a);                      \
        unsigned long long b_ = (unsigned long long)(b);                      \
        if (a_ != b_) {                                                       \
            FAIL_AT("%s == %s: %llu (0x%llx) != %llu (0x%llx)", #a, #b, a_,   \
                    a_, b_, b_);                                              \
            return;                                                           \
        }                                                                     \
    } while (0)

/* The signals asserted on h now (h needs MX_RIGHT_READ): a wait for
   nothing, with a deadline that has passed, reports them. */
static inline mx_signals_t signals_of(mx_handle_t h) {
    mx_signals_t observed = 0xdeadbeefu;
    mx_status_t status = mx_object_wait_one(h, 0, 0, &observed);
    if (status != MX_ERR_TIMED_OUT) {
        printf("    signals_of(%d): %s\n", (int)h, status_name(status));
        test_failed = 1;
    }
    return observed;
}

#define EXPECT_SIGNALS(h, expected)                                          \
    do {                                                                     \
        mx_signals_t got_ = signals_of(h);                                   \
        if (got_ != (mx_signals_t)(expected)) {                              \
            FAIL_AT("signals of %s: 0x%x, expected %s (0x%x)", #h,           \
                    (unsigned)got_, #expected,                               \
                    (unsigned)(mx_signals_t)(expected));                     \
            return;                                                          \
        }                                                                    \
    } while (0)

static inline void sleep_ms(unsigned ms) {
    mx_nanosleep(mx_deadline_after(MX_MSEC(ms)));
}

static int run_tests(const struct test* tests, size_t count, int argc, char** argv) {
    const char* filter = argc > 1 ? argv[1] : NULL;
    tests_filtered = filter != NULL;
    unsigned passed = 0, failed = 0;
    for (size_t i = 0; i < count; i++) {
        if (filter != NULL && strstr(tests[i].name, filter) == NULL) {
            continue;
        }
        test_failed = 0;
        tests[i].fn();
        printf("%s ... %s\n", tests[i].name, test_failed ? "FAILED" : "ok");
        fflush(stdout);
        if (test_failed) {
            failed++;
        } else {
            passed++;
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif /* MX_TEST_CHECK_H_ */
