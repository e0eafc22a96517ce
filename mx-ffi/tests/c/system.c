/*
 * The calls the whole C surface added, from C: clocks, ticks, CPUs, the
 * version, random numbers, get_info topics of other kinds, properties
 * (rights first), cookies and get_child. Each error code these calls can
 * return on the kinds here is provoked at least once.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <magenta/processargs.h>

#include <time.h>

static const mx_handle_t BOGUS = 0x7ffffff0;

static uint64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

TEST(time_get_utc_and_thread_clocks) {
    uint64_t before = clock_ns(CLOCK_REALTIME);
    mx_time_t utc = mx_time_get(MX_CLOCK_UTC);
    uint64_t after = clock_ns(CLOCK_REALTIME);
    EXPECT(before <= utc && utc <= after);
    mx_time_t cpu0 = mx_time_get(MX_CLOCK_THREAD);
    mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
    volatile unsigned spin = 0;
    while (mx_time_get(MX_CLOCK_MONOTONIC) - start < MX_MSEC(10)) spin++;
    EXPECT(mx_time_get(MX_CLOCK_THREAD) > cpu0);
    EXPECT(mx_time_get(MX_CLOCK_THREAD) < mx_time_get(MX_CLOCK_MONOTONIC));
    EXPECT_EQ(mx_time_get(3), 0);
}

TEST(ticks_count_nanoseconds) {
    EXPECT_EQ(mx_ticks_per_second(), 1000000000ull);
    uint64_t a = mx_ticks_get();
    mx_nanosleep(mx_deadline_after(MX_MSEC(5)));
    EXPECT(mx_ticks_get() - a >= 5000000ull);
}

TEST(system_information) {
    uint32_t cpus = mx_system_get_num_cpus();
    EXPECT(cpus >= 1);
    EXPECT_EQ(mx_system_get_num_cpus(), cpus);
    EXPECT(mx_system_get_physmem() > (64ull << 20));
    char version[64];
    memset(version, 'x', sizeof version);
    EXPECT_OK(mx_system_get_version(version, sizeof version));
    EXPECT(strncmp(version, "libmagenta ", 11) == 0);
    EXPECT(memchr(version, 0, sizeof version) != NULL);
    char tiny[4] = {'x', 'x', 'x', 'x'};
    EXPECT_STATUS(MX_ERR_BUFFER_TOO_SMALL, mx_system_get_version(tiny, sizeof tiny));
    EXPECT(tiny[0] == 'x');
}

TEST(cprng_limits) {
    unsigned char a[MX_CPRNG_DRAW_MAX_LEN], b[MX_CPRNG_DRAW_MAX_LEN + 1];
    size_t actual = 99;
    EXPECT_OK(mx_cprng_draw(a, sizeof a, &actual));
    EXPECT_EQ(actual, sizeof a);
    EXPECT_OK(mx_cprng_draw(b, sizeof a, &actual));
    EXPECT(memcmp(a, b, sizeof a) != 0);
    actual = 99;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_cprng_draw(b, sizeof b, &actual));
    EXPECT_EQ(actual, 99);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_cprng_draw(a, 4, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_cprng_draw(NULL, 4, &actual));
    EXPECT_OK(mx_cprng_add_entropy(a, MX_CPRNG_ADD_ENTROPY_MAX_LEN));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_cprng_add_entropy(b, sizeof b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_cprng_add_entropy(NULL, 1));
}

TEST(get_info_topics_of_other_kinds) {
    mx_handle_t e, weak;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_OK(mx_handle_duplicate(e, MX_RIGHT_DUPLICATE, &weak));
    unsigned char buf[256];
    size_t actual = 77, avail = 77;
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_object_get_info(e, MX_INFO_PROCESS, buf, sizeof buf, &actual, &avail));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_object_get_info(e, MX_INFO_VMAR, buf, sizeof buf, &actual, &avail));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_object_get_info(e, MX_INFO_KMEM_STATS, buf, sizeof buf, &actual, &avail));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_get_info(e, MX_INFO_JOB_CHILDREN, buf, sizeof buf, &actual, &avail));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_get_info(weak, MX_INFO_THREAD, buf, sizeof buf, &actual, &avail));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_get_info(BOGUS, MX_INFO_THREAD_STATS, buf, sizeof buf, &actual, &avail));
    EXPECT_EQ(actual, 77);
    EXPECT_EQ(avail, 77);
    EXPECT_OK(mx_handle_close(weak));
    EXPECT_OK(mx_handle_close(e));
}

TEST(properties_check_rights_first) {
    mx_handle_t e, a, b;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_OK(mx_socket_create(0, &a, &b));
    char name[MX_MAX_NAME_LEN];
    memset(name, 'x', sizeof name);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_get_property(e, MX_PROP_NAME, NULL, sizeof name));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_get_property(BOGUS, MX_PROP_NAME, name, sizeof name));
    /* Rights first: the size and the property are not looked at. */
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_get_property(e, MX_PROP_NAME, name, sizeof name));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_get_property(a, 12345, name, 1));
    EXPECT(name[0] == 'x');
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_set_property(e, MX_PROP_NAME, NULL, 4));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_set_property(BOGUS, MX_PROP_NAME, "name", 4));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_set_property(e, MX_PROP_NAME, "name", 4));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_set_property(b, MX_PROP_PROCESS_DEBUG_ADDR, "x", 1));
    EXPECT_OK(mx_handle_close(e));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(cookies) {
    mx_handle_t e, scope, p, q, a, b, port;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_OK(mx_event_create(0, &scope));
    EXPECT_OK(mx_eventpair_create(0, &p, &q));
    EXPECT_OK(mx_socket_create(0, &a, &b));
    EXPECT_OK(mx_port_create(0, &port));
    uint64_t cookie = 5;
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_get_cookie(e, scope, &cookie));
    EXPECT_OK(mx_object_set_cookie(e, scope, 0x1234));
    EXPECT_OK(mx_object_get_cookie(e, scope, &cookie));
    EXPECT_EQ(cookie, 0x1234);
    cookie = 5;
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_get_cookie(e, a, &cookie));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_set_cookie(e, a, 1));
    EXPECT_EQ(cookie, 5);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_get_cookie(e, scope, NULL));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_set_cookie(e, BOGUS, 1));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_get_cookie(BOGUS, scope, &cookie));
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED, mx_object_set_cookie(a, scope, 1));
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED, mx_object_get_cookie(port, scope, &cookie));
    EXPECT_OK(mx_object_set_cookie(p, scope, 1));
    EXPECT_OK(mx_object_set_cookie(q, scope, 2));
    EXPECT_OK(mx_object_get_cookie(q, scope, &cookie));
    EXPECT_EQ(cookie, 2);
    mx_handle_t handles[] = {e, scope, p, q, a, b, port};
    for (size_t i = 0; i < COUNT(handles); i++) EXPECT_OK(mx_handle_close(handles[i]));
}

TEST(get_child_finds_nothing) {
    mx_handle_t e, out = 55;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_get_child(e, 1, MX_RIGHT_SAME_RIGHTS, NULL));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_get_child(BOGUS, 1, MX_RIGHT_SAME_RIGHTS, &out));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_get_child(e, 1, MX_RIGHT_SAME_RIGHTS, &out));
    EXPECT_STATUS(MX_ERR_NOT_FOUND, mx_object_get_child(MX_HANDLE_INVALID, 1, MX_RIGHT_READ, &out));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_get_child(MX_HANDLE_INVALID, 1, MX_RIGHT_SIGNAL, &out));
    EXPECT_EQ(out, 55);
    EXPECT_OK(mx_handle_close(e));
}

TEST(process_h_handles) {
    EXPECT_EQ(mx_get_startup_handle(PA_HND(PA_USER0, 0)), MX_HANDLE_INVALID);
    EXPECT_EQ(mx_process_self(), MX_HANDLE_INVALID);
    EXPECT_EQ(mx_vmar_root_self(), MX_HANDLE_INVALID);
    EXPECT_EQ(mx_job_default(), MX_HANDLE_INVALID);
}

static const struct test tests[] = {
    T(time_get_utc_and_thread_clocks),
    T(ticks_count_nanoseconds),
    T(system_information),
    T(cprng_limits),
    T(get_info_topics_of_other_kinds),
    T(properties_check_rights_first),
    T(cookies),
    T(get_child_finds_nothing),
    T(process_h_handles),
};

int main(int argc, char** argv) {
    return run_tests(tests, COUNT(tests), argc, argv);
}
