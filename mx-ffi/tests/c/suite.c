/*
 * libmagenta from C: every call, every error code that a call in this build
 * can return, and the scenarios of SPEC.md (sockets step by step with the
 * signals of both ends, waiting from several threads, cancellation by
 * close). Built and run by tests/c.rs, normally and with
 * MX_STRICT_POINTERS=1 (the results must be the same).
 */
#define _GNU_SOURCE

#include <magenta/syscalls.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* Each direction of a socket holds this many payload bytes (SPEC 4). */
#define CAPACITY 257024u

/* A value that is no handle. */
#define BOGUS ((mx_handle_t)0x7ffffff0)

/* What out-parameters hold before a call that must not write them. */
#define UNTOUCHED_SIZE ((size_t)0x5a5a5a5a)
#define UNTOUCHED_HANDLE ((mx_handle_t)0x5a5a5a5a)

#define SOCKET_NEW (MX_SOCKET_WRITABLE | MX_SIGNAL_LAST_HANDLE)

/* ---- Helpers ------------------------------------------------------------ */

static int info_of(mx_handle_t h, mx_info_handle_basic_t* info) {
    size_t actual = 0, avail = 0;
    memset(info, 0xa5, sizeof *info);
    mx_status_t status =
        mx_object_get_info(h, MX_INFO_HANDLE_BASIC, info, sizeof *info, &actual, &avail);
    return status == MX_OK && actual == 1 && avail == 1;
}

/* Bytes waiting at h (a read of NULL, 0). */
static size_t outstanding(mx_handle_t h) {
    size_t n = UNTOUCHED_SIZE;
    if (mx_socket_read(h, 0, NULL, 0, &n) != MX_OK) {
        return UNTOUCHED_SIZE;
    }
    return n;
}

static mx_handle_t with_rights(mx_handle_t h, mx_rights_t rights) {
    mx_handle_t out = MX_HANDLE_INVALID;
    if (mx_handle_duplicate(h, rights, &out) != MX_OK) {
        return MX_HANDLE_INVALID;
    }
    return out;
}

static double ms_since(mx_time_t start) {
    return (double)(mx_time_get(MX_CLOCK_MONOTONIC) - start) / 1e6;
}

/* A thread in mx_object_wait_one. */
struct waiter {
    pthread_t thread;
    pid_t tid;
    mx_handle_t handle;
    mx_signals_t signals;
    mx_time_t deadline;
    mx_status_t status;
    mx_signals_t observed;
};

static void* waiter_main(void* arg) {
    struct waiter* w = (struct waiter*)arg;
    __atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
    w->status = mx_object_wait_one(w->handle, w->signals, w->deadline, &w->observed);
    return NULL;
}

/* Whether thread tid of this process is asleep (state S in /proc). */
static int asleep(pid_t tid) {
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE* f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = 0;
    const char* end = strrchr(stat, ')');
    return end != NULL && end[1] == ' ' && end[2] == 'S';
}

/* Waits (up to 10 s) until the thread of w sleeps: it is then parked in
   its wait, the only place it can sleep. */
static int wait_until_blocked(struct waiter* w) {
    for (int i = 0; i < 10000; i++) {
        pid_t tid = __atomic_load_n(&w->tid, __ATOMIC_SEQ_CST);
        if (tid != 0 && asleep(tid)) {
            sleep_ms(5);
            return 1;
        }
        sleep_ms(1);
    }
    return 0;
}

static int start_waiter(struct waiter* w, mx_handle_t h, mx_signals_t signals,
                        mx_time_t deadline) {
    memset(w, 0, sizeof *w);
    w->handle = h;
    w->signals = signals;
    w->deadline = deadline;
    w->status = 1;
    w->observed = 0xdeadbeefu;
    return pthread_create(&w->thread, NULL, waiter_main, w) == 0 && wait_until_blocked(w);
}

/* ---- Time --------------------------------------------------------------- */

TEST(time_get_reads_the_monotonic_clock) {
    struct timespec ts;
    mx_time_t before = mx_time_get(MX_CLOCK_MONOTONIC);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    mx_time_t after = mx_time_get(MX_CLOCK_MONOTONIC);
    mx_time_t linux_now = (mx_time_t)ts.tv_sec * 1000000000ull + (mx_time_t)ts.tv_nsec;
    EXPECT(before > 0);
    EXPECT(before <= linux_now && linux_now <= after);
    EXPECT_EQ(mx_time_get(3), 0);
    EXPECT_EQ(mx_time_get(0xffffffffu), 0);
}

TEST(deadline_after_saturates) {
    mx_time_t now = mx_time_get(MX_CLOCK_MONOTONIC);
    mx_time_t soon = mx_deadline_after(MX_SEC(1));
    EXPECT(soon >= now + MX_SEC(1));
    EXPECT(soon < now + MX_SEC(2));
    EXPECT_EQ(mx_deadline_after(MX_TIME_INFINITE), MX_TIME_INFINITE);
    EXPECT_EQ(mx_deadline_after(MX_TIME_INFINITE - 1), MX_TIME_INFINITE);
    EXPECT(mx_deadline_after(0) >= now);
}

TEST(nanosleep_sleeps_until_the_deadline) {
    mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
    mx_time_t deadline = mx_deadline_after(MX_MSEC(20));
    EXPECT_OK(mx_nanosleep(deadline));
    EXPECT(mx_time_get(MX_CLOCK_MONOTONIC) >= deadline);
    EXPECT(ms_since(start) >= 20.0);
    /* A deadline that has passed, or 0, returns at once. */
    start = mx_time_get(MX_CLOCK_MONOTONIC);
    EXPECT_OK(mx_nanosleep(0));
    EXPECT_OK(mx_nanosleep(start));
    EXPECT(ms_since(start) < 1000.0);
}

/* ---- mx_socket_create --------------------------------------------------- */

TEST(socket_create_checks_options_and_outputs) {
    mx_handle_t a = UNTOUCHED_HANDLE, b = UNTOUCHED_HANDLE;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_create(2, &a, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_create(0xffffffffu, &a, &b));
    EXPECT_EQ(a, UNTOUCHED_HANDLE);
    EXPECT_EQ(b, UNTOUCHED_HANDLE);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_create(MX_SOCKET_STREAM, NULL, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_create(MX_SOCKET_STREAM, &a, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_create(MX_SOCKET_DATAGRAM, NULL, NULL));
    EXPECT_EQ(a, UNTOUCHED_HANDLE);
    EXPECT_EQ(b, UNTOUCHED_HANDLE);
}

TEST(socket_create_makes_two_writable_ends) {
    uint32_t modes[2] = {MX_SOCKET_STREAM, MX_SOCKET_DATAGRAM};
    for (int i = 0; i < 2; i++) {
        mx_handle_t a, b;
        mx_info_handle_basic_t ia, ib;
        EXPECT_OK(mx_socket_create(modes[i], &a, &b));
        EXPECT(a > 0 && b > 0 && a != b);
        EXPECT_SIGNALS(a, SOCKET_NEW);
        EXPECT_SIGNALS(b, SOCKET_NEW);
        EXPECT(info_of(a, &ia) && info_of(b, &ib));
        EXPECT_EQ(ia.type, MX_OBJ_TYPE_SOCKET);
        EXPECT_EQ(ia.rights, MX_DEFAULT_SOCKET_RIGHTS);
        EXPECT_EQ(ib.rights, MX_DEFAULT_SOCKET_RIGHTS);
        EXPECT_EQ(ia.props, MX_OBJ_PROP_WAITABLE);
        EXPECT(ia.koid >= 1024);
        EXPECT_EQ(ib.koid, ia.koid + 1);
        EXPECT_EQ(ia.related_koid, ib.koid);
        EXPECT_EQ(ib.related_koid, ia.koid);
        /* The related koid outlives the peer. */
        EXPECT_OK(mx_handle_close(b));
        EXPECT(info_of(a, &ia));
        EXPECT_EQ(ia.related_koid, ib.koid);
        EXPECT_OK(mx_handle_close(a));
    }
}

/* ---- mx_socket_write ---------------------------------------------------- */

TEST(socket_write_null_buffer_is_checked_before_the_handle) {
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(BOGUS, 0, NULL, 1, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(MX_HANDLE_INVALID, 7, NULL, 1, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    /* NULL with size 0 is fine: the handle is looked at next. */
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_socket_write(BOGUS, 0, NULL, 0, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    mx_handle_t a, b;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_socket_write(a, 0, NULL, 0, &actual));
    EXPECT_EQ(actual, 0);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(socket_write_finds_its_handle_in_order) {
    mx_handle_t a, b, event, event_ro, a_ro;
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_event_create(0, &event));
    EXPECT((event_ro = with_rights(event, MX_RIGHT_READ)) != MX_HANDLE_INVALID);
    EXPECT((a_ro = with_rights(a, MX_RIGHT_READ | MX_RIGHT_DUPLICATE)) != MX_HANDLE_INVALID);
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_socket_write(BOGUS, 0, "x", 1, &actual));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_socket_write(MX_HANDLE_INVALID, 0, "x", 1, &actual));
    /* Rights before type: an event without WRITE is ACCESS_DENIED. */
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_socket_write(event, 0, "x", 1, &actual));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_socket_write(event_ro, 0, "x", 1, &actual));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_socket_write(a_ro, 0, "x", 1, &actual));
    /* A closed value is a bad handle. */
    mx_handle_t gone = a_ro;
    EXPECT_OK(mx_handle_close(a_ro));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_socket_write(gone, 0, "x", 1, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_EQ(outstanding(b), 0);
    mx_handle_close(a);
    mx_handle_close(b);
    mx_handle_close(event);
    mx_handle_close(event_ro);
}

TEST(socket_write_checks_options) {
    mx_handle_t a, b;
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, MX_SOCKET_HALF_CLOSE, "x", 1, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 2, "x", 1, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 2, NULL, 0, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 3, NULL, 0, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    /* Nothing happened. */
    EXPECT_SIGNALS(a, SOCKET_NEW);
    EXPECT_SIGNALS(b, SOCKET_NEW);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(socket_write_of_nothing_queues_nothing_even_when_full) {
    static char big[CAPACITY];
    uint32_t modes[2] = {MX_SOCKET_STREAM, MX_SOCKET_DATAGRAM};
    for (int i = 0; i < 2; i++) {
        mx_handle_t a, b;
        size_t actual = UNTOUCHED_SIZE;
        EXPECT_OK(mx_socket_create(modes[i], &a, &b));
        EXPECT_OK(mx_socket_write(a, 0, "x", 0, &actual));
        EXPECT_EQ(actual, 0);
        EXPECT_SIGNALS(b, SOCKET_NEW); /* no READABLE, no empty datagram */
        EXPECT_EQ(outstanding(b), 0);
        EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_socket_read(b, 0, big, 10, &actual));
        EXPECT_OK(mx_socket_write(a, 0, big, CAPACITY, &actual));
        EXPECT_EQ(actual, CAPACITY);
        actual = UNTOUCHED_SIZE;
        EXPECT_OK(mx_socket_write(a, 0, big, 0, &actual));
        EXPECT_EQ(actual, 0);
        EXPECT_SIGNALS(a, MX_SIGNAL_LAST_HANDLE);
        mx_handle_close(a);
        mx_handle_close(b);
    }
}

TEST(socket_sizes_beyond_32_bits_are_invalid) {
    if (SIZE_MAX <= UINT32_MAX) {
        return;
    }
    /* The size is checked before a byte is copied: the buffer is small. */
    char small[16] = "0123456789";
    size_t huge = (size_t)UINT32_MAX + 1;
    mx_handle_t a, b;
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 0, small, huge, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 0, small, SIZE_MAX, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(b, 0, small, huge, &actual));
    EXPECT_OK(mx_socket_write(a, 0, "abc", 3, &actual));
    actual = UNTOUCHED_SIZE;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(b, 0, small, SIZE_MAX, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_EQ(outstanding(b), 3);
    /* Exactly 32 bits is allowed (and short). */
    EXPECT_OK(mx_socket_read(b, 0, small, UINT32_MAX, &actual));
    EXPECT_EQ(actual, 3);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(socket_write_ignores_a_null_actual) {
    mx_handle_t a, b;
    char buf[4];
    EXPECT_OK(mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b));
    EXPECT_OK(mx_socket_write(a, 0, "abc", 3, NULL));
    EXPECT_OK(mx_socket_read(b, 0, buf, sizeof buf, NULL));
    EXPECT(memcmp(buf, "abc", 3) == 0);
    mx_handle_close(a);
    mx_handle_close(b);
}

/* SPEC 4, stream: capacity, short writes, WRITABLE and READABLE. */
TEST(stream_fills_to_capacity_with_short_writes) {
    static unsigned char out[CAPACITY + 5000], in[CAPACITY + 5000];
    for (size_t i = 0; i < sizeof out; i++) {
        out[i] = (unsigned char)(i * 7 + i / 251);
    }
    mx_handle_t a, b;
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));

    /* 1. A write larger than the capacity is short. */
    EXPECT_OK(mx_socket_write(a, 0, out, CAPACITY + 5000, &actual));
    EXPECT_EQ(actual, CAPACITY);
    /* a is now full: it loses WRITABLE; b gained READABLE. */
    EXPECT_SIGNALS(a, MX_SIGNAL_LAST_HANDLE);
    EXPECT_SIGNALS(b, SOCKET_NEW | MX_SOCKET_READABLE);
    EXPECT_EQ(outstanding(b), CAPACITY);

    /* 2. Full: SHOULD_WAIT, *actual untouched. */
    actual = UNTOUCHED_SIZE;
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_socket_write(a, 0, out, 1, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);

    /* 3. Reading from a full buffer gives WRITABLE back to the writer. */
    EXPECT_OK(mx_socket_read(b, 0, in, 1000, &actual));
    EXPECT_EQ(actual, 1000);
    EXPECT_SIGNALS(a, SOCKET_NEW);
    EXPECT_SIGNALS(b, SOCKET_NEW | MX_SOCKET_READABLE);

    /* 4. Only 1000 bytes fit: short again, then full again. */
    EXPECT_OK(mx_socket_write(a, 0, out + CAPACITY, 5000, &actual));
    EXPECT_EQ(actual, 1000);
    EXPECT_SIGNALS(a, MX_SIGNAL_LAST_HANDLE);

    /* 5. Drain: the bytes come out in order, READABLE goes away at the end. */
    size_t got = 1000;
    while (got < CAPACITY + 1000) {
        EXPECT_OK(mx_socket_read(b, 0, in + got, 70000, &actual));
        EXPECT(actual > 0);
        got += actual;
    }
    EXPECT_EQ(got, CAPACITY + 1000);
    EXPECT(memcmp(in, out, CAPACITY + 1000) == 0);
    EXPECT_SIGNALS(b, SOCKET_NEW);
    EXPECT_SIGNALS(a, SOCKET_NEW);
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_socket_read(b, 0, in, 1, &actual));
    mx_handle_close(a);
    mx_handle_close(b);
}

/* SPEC 4, datagram: all or nothing, WRITABLE stays while not full. */
TEST(datagram_writes_are_whole_or_should_wait) {
    static char big[CAPACITY + 1];
    mx_handle_t a, b;
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_OK(mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b));
    /* Larger than the capacity outright: SHOULD_WAIT, even when empty. */
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_socket_write(a, 0, big, CAPACITY + 1, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_SIGNALS(a, SOCKET_NEW);
    EXPECT_OK(mx_socket_write(a, 0, big, 200000, &actual));
    EXPECT_EQ(actual, 200000);
    /* Does not fit: nothing written, WRITABLE stays (the buffer is not full). */
    actual = UNTOUCHED_SIZE;
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_socket_write(a, 0, big, 100000, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_EQ(outstanding(b), 200000);
    EXPECT_SIGNALS(a, SOCKET_NEW);
    /* Exactly what is left fits, and fills it. */
    EXPECT_OK(mx_socket_write(a, 0, big, CAPACITY - 200000, &actual));
    EXPECT_EQ(actual, CAPACITY - 200000);
    EXPECT_SIGNALS(a, MX_SIGNAL_LAST_HANDLE);
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_socket_write(a, 0, big, 1, &actual));
    /* Framing does not count: many one-byte datagrams fill the capacity. */
    mx_handle_close(a);
    mx_handle_close(b);
    EXPECT_OK(mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b));
    for (unsigned i = 0; i < 1000; i++) {
        EXPECT_OK(mx_socket_write(a, 0, "z", 1, &actual));
    }
    EXPECT_OK(mx_socket_write(a, 0, big, CAPACITY - 1000, &actual));
    EXPECT_EQ(outstanding(b), CAPACITY);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(datagram_reads_return_one_datagram_and_truncate) {
    mx_handle_t a, b;
    char buf[16];
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_OK(mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b));
    EXPECT_OK(mx_socket_write(a, 0, "hello", 5, &actual));
    EXPECT_OK(mx_socket_write(a, 0, "world!", 6, &actual));
    EXPECT_OK(mx_socket_write(a, 0, "x", 1, &actual));
    /* The count is the sum of the datagrams' lengths. */
    EXPECT_EQ(outstanding(b), 12);
    /* A non-NULL buffer of size 0 reads nothing and consumes nothing. */
    EXPECT_OK(mx_socket_read(b, 0, buf, 0, &actual));
    EXPECT_EQ(actual, 0);
    EXPECT_EQ(outstanding(b), 12);
    /* Too small: the rest of the datagram is discarded. */
    EXPECT_OK(mx_socket_read(b, 0, buf, 3, &actual));
    EXPECT_EQ(actual, 3);
    EXPECT(memcmp(buf, "hel", 3) == 0);
    EXPECT_EQ(outstanding(b), 7);
    EXPECT_OK(mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, 6);
    EXPECT(memcmp(buf, "world!", 6) == 0);
    EXPECT_SIGNALS(b, SOCKET_NEW | MX_SOCKET_READABLE);
    EXPECT_OK(mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, 1);
    EXPECT_SIGNALS(b, SOCKET_NEW);
    actual = UNTOUCHED_SIZE;
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(stream_reads_take_what_is_there) {
    mx_handle_t a, b;
    char buf[16];
    size_t actual;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_socket_write(a, 0, "hello", 5, &actual));
    EXPECT_OK(mx_socket_write(a, 0, "world", 5, &actual));
    EXPECT_OK(mx_socket_read(b, 0, buf, 0, &actual));
    EXPECT_EQ(actual, 0);
    EXPECT_OK(mx_socket_read(b, 0, buf, 3, &actual));
    EXPECT_EQ(actual, 3);
    EXPECT(memcmp(buf, "hel", 3) == 0);
    EXPECT_OK(mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, 7);
    EXPECT(memcmp(buf, "loworld", 7) == 0);
    EXPECT_SIGNALS(b, SOCKET_NEW);
    /* Both directions are independent. */
    EXPECT_OK(mx_socket_write(b, 0, "back", 4, &actual));
    EXPECT_SIGNALS(a, SOCKET_NEW | MX_SOCKET_READABLE);
    EXPECT_SIGNALS(b, SOCKET_NEW);
    EXPECT_OK(mx_socket_read(a, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, 4);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(socket_read_checks_in_order) {
    mx_handle_t a, b, event, b_wo;
    char buf[4];
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_event_create(0, &event));
    EXPECT((b_wo = with_rights(b, MX_RIGHT_WRITE)) != MX_HANDLE_INVALID);
    /* Options first, then the NULL buffer, both before the handle. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(BOGUS, 1, buf, sizeof buf, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(BOGUS, 0, NULL, 1, &actual));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_socket_read(BOGUS, 0, buf, sizeof buf, &actual));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_socket_read(BOGUS, 0, NULL, 0, &actual));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_socket_read(event, 0, buf, sizeof buf, &actual));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_socket_read(event, 0, NULL, 0, &actual));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_socket_read(b_wo, 0, buf, sizeof buf, &actual));
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_OK(mx_socket_write(a, 0, "ab", 2, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(b, 1, buf, sizeof buf, &actual));
    EXPECT_EQ(outstanding(b), 2);
    mx_handle_close(a);
    mx_handle_close(b);
    mx_handle_close(b_wo);
    mx_handle_close(event);
}

/* SPEC 4, half-close, step by step, with the signals of both ends. */
TEST(half_close_scenario) {
    mx_handle_t a, b;
    char buf[16];
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_socket_write(a, 0, "before", 6, &actual));

    /* 1. A half-closes: A loses WRITABLE (and gains no PEER_CLOSED); B
       gains PEER_CLOSED and keeps WRITABLE and READABLE. */
    EXPECT_OK(mx_socket_write(a, MX_SOCKET_HALF_CLOSE, NULL, 0, &actual));
    EXPECT_EQ(actual, 0);
    EXPECT_SIGNALS(a, MX_SIGNAL_LAST_HANDLE);
    EXPECT_SIGNALS(b, MX_SOCKET_READABLE | MX_SOCKET_WRITABLE | MX_SOCKET_PEER_CLOSED |
                          MX_SIGNAL_LAST_HANDLE);

    /* 2. A can no longer write; half-closing again is fine. */
    actual = UNTOUCHED_SIZE;
    EXPECT_STATUS(MX_ERR_BAD_STATE, mx_socket_write(a, 0, "x", 1, &actual));
    EXPECT_STATUS(MX_ERR_BAD_STATE, mx_socket_write(a, 0, "x", 0, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_OK(mx_socket_write(a, MX_SOCKET_HALF_CLOSE, "ignored", 0, &actual));

    /* 3. B can still write to A, and A can read. */
    EXPECT_OK(mx_socket_write(b, 0, "reply", 5, &actual));
    EXPECT_SIGNALS(a, MX_SOCKET_READABLE | MX_SIGNAL_LAST_HANDLE);
    EXPECT_OK(mx_socket_read(a, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, 5);
    EXPECT(memcmp(buf, "reply", 5) == 0);

    /* 4. B reads what A wrote before, then PEER_CLOSED. */
    EXPECT_OK(mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, 6);
    EXPECT(memcmp(buf, "before", 6) == 0);
    EXPECT_SIGNALS(b, MX_SOCKET_WRITABLE | MX_SOCKET_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    actual = UNTOUCHED_SIZE;
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_EQ(outstanding(b), 0);

    /* 5. Once B is closed: A's half-close stays idempotent, writes see the
       closed peer first. */
    EXPECT_OK(mx_handle_close(b));
    EXPECT_OK(mx_socket_write(a, MX_SOCKET_HALF_CLOSE, NULL, 0, &actual));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_socket_write(a, 0, "x", 1, &actual));
    EXPECT_SIGNALS(a, MX_SOCKET_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    EXPECT_OK(mx_handle_close(a));

    /* 6. Half-closing towards a closed peer fails. */
    EXPECT_OK(mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b));
    EXPECT_OK(mx_handle_close(b));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_socket_write(a, MX_SOCKET_HALF_CLOSE, NULL, 0, &actual));
    EXPECT_OK(mx_handle_close(a));
}

TEST(half_close_when_full_does_not_give_writable_back) {
    static char big[CAPACITY];
    mx_handle_t a, b;
    size_t actual;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_socket_write(a, 0, big, CAPACITY, &actual));
    EXPECT_OK(mx_socket_write(a, MX_SOCKET_HALF_CLOSE, NULL, 0, &actual));
    EXPECT_OK(mx_socket_read(b, 0, big, 100, &actual));
    EXPECT_EQ(actual, 100);
    EXPECT_SIGNALS(a, MX_SIGNAL_LAST_HANDLE);
    mx_handle_close(a);
    mx_handle_close(b);
}

/* SPEC 4, closing: B gains PEER_CLOSED, loses WRITABLE, reads the rest. */
TEST(close_scenario) {
    mx_handle_t a, b;
    char buf[16];
    size_t actual = UNTOUCHED_SIZE;
    EXPECT_OK(mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b));
    EXPECT_OK(mx_socket_write(a, 0, "one", 3, &actual));
    EXPECT_OK(mx_socket_write(a, 0, "four", 4, &actual));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_SIGNALS(b, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    /* Writes fail at once, even empty ones; the count still works. */
    actual = UNTOUCHED_SIZE;
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_socket_write(b, 0, "x", 1, &actual));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_socket_write(b, 0, NULL, 0, &actual));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_EQ(outstanding(b), 7);
    EXPECT_OK(mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, 3);
    EXPECT_OK(mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, 4);
    EXPECT(memcmp(buf, "four", 4) == 0);
    EXPECT_SIGNALS(b, MX_SOCKET_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(outstanding(b), 0);
    EXPECT_OK(mx_handle_close(b));
}

TEST(closing_one_of_two_handles_keeps_the_end_open) {
    mx_handle_t a, a2, b;
    size_t actual;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_handle_duplicate(a, MX_RIGHT_SAME_RIGHTS, &a2));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_SIGNALS(b, SOCKET_NEW);
    EXPECT_OK(mx_socket_write(b, 0, "x", 1, &actual));
    EXPECT_OK(mx_handle_close(a2));
    EXPECT_SIGNALS(b, MX_SOCKET_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    mx_handle_close(b);
}

/* ---- Handles ------------------------------------------------------------ */

TEST(handle_close_of_invalid_and_stale_values) {
    mx_handle_t e, gone;
    EXPECT_OK(mx_handle_close(MX_HANDLE_INVALID));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_handle_close(BOGUS));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_handle_close(-5));
    EXPECT_OK(mx_event_create(0, &gone));
    EXPECT_OK(mx_handle_close(gone));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_handle_close(gone));
    /* New objects do not bring the old value back. */
    mx_handle_t made[256];
    for (int i = 0; i < 256; i++) {
        EXPECT_OK(mx_event_create(0, &made[i]));
        EXPECT(made[i] != gone);
    }
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_signal(gone, 0, MX_USER_SIGNAL_0));
    for (int i = 0; i < 256; i++) {
        EXPECT_OK(mx_handle_close(made[i]));
    }
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_OK(mx_handle_close(e));
}

TEST(handle_duplicate_rights_and_last_handle) {
    mx_handle_t a, b, dup = UNTOUCHED_HANDLE, ro, no_dup;
    mx_info_handle_basic_t ia, id;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_handle_duplicate(a, MX_RIGHT_SAME_RIGHTS, &dup));
    EXPECT(dup != a && dup > 0);
    EXPECT(info_of(a, &ia) && info_of(dup, &id));
    EXPECT_EQ(id.koid, ia.koid);
    EXPECT_EQ(id.rights, MX_DEFAULT_SOCKET_RIGHTS);
    /* Two handles: LAST_HANDLE is gone from the object, seen through both. */
    EXPECT_SIGNALS(a, MX_SOCKET_WRITABLE);
    EXPECT_SIGNALS(dup, MX_SOCKET_WRITABLE);
    EXPECT_SIGNALS(b, SOCKET_NEW);
    /* Fewer rights. */
    EXPECT_OK(mx_handle_duplicate(a, MX_RIGHT_READ | MX_RIGHT_DUPLICATE, &ro));
    EXPECT(info_of(ro, &id));
    EXPECT_EQ(id.rights, MX_RIGHT_READ | MX_RIGHT_DUPLICATE);
    /* More rights than held, or SAME_RIGHTS mixed with others: INVALID_ARGS. */
    mx_handle_t out = UNTOUCHED_HANDLE;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_handle_duplicate(ro, MX_RIGHT_WRITE, &out));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_handle_duplicate(a, MX_RIGHT_SAME_RIGHTS | MX_RIGHT_READ, &out));
    /* No DUPLICATE right: ACCESS_DENIED. */
    EXPECT_OK(mx_handle_duplicate(a, MX_RIGHT_READ, &no_dup));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_handle_duplicate(no_dup, MX_RIGHT_SAME_RIGHTS, &out));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_handle_duplicate(BOGUS, MX_RIGHT_SAME_RIGHTS, &out));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_handle_duplicate(a, MX_RIGHT_SAME_RIGHTS, NULL));
    EXPECT_EQ(out, UNTOUCHED_HANDLE);
    /* Back to one handle: LAST_HANDLE again. */
    EXPECT_OK(mx_handle_close(dup));
    EXPECT_OK(mx_handle_close(ro));
    EXPECT_OK(mx_handle_close(no_dup));
    EXPECT_SIGNALS(a, SOCKET_NEW);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(handle_replace_moves_the_handle) {
    mx_handle_t e, e2, r = UNTOUCHED_HANDLE, r2, no_dup;
    mx_info_handle_basic_t info;
    EXPECT_OK(mx_event_create(0, &e));
    /* Failures leave the old handle valid. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_handle_replace(e, MX_RIGHT_SAME_RIGHTS, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_handle_replace(e, MX_RIGHT_SIGNAL_PEER, &r));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_handle_replace(BOGUS, MX_RIGHT_SAME_RIGHTS, &r));
    EXPECT_EQ(r, UNTOUCHED_HANDLE);
    EXPECT_SIGNALS(e, MX_SIGNAL_LAST_HANDLE);
    /* Success: new value, fewer rights, old value gone, LAST_HANDLE kept. */
    EXPECT_OK(mx_handle_replace(e, MX_RIGHT_READ | MX_RIGHT_SIGNAL, &r));
    EXPECT(r != e);
    EXPECT(info_of(r, &info));
    EXPECT_EQ(info.rights, MX_RIGHT_READ | MX_RIGHT_SIGNAL);
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_handle_close(e));
    EXPECT_SIGNALS(r, MX_SIGNAL_LAST_HANDLE);
    /* No right needed (r lacks DUPLICATE). */
    EXPECT_OK(mx_handle_replace(r, MX_RIGHT_SAME_RIGHTS, &r2));
    EXPECT(info_of(r2, &info));
    EXPECT_EQ(info.rights, MX_RIGHT_READ | MX_RIGHT_SIGNAL);
    /* With two handles, replacing one keeps LAST_HANDLE clear. */
    EXPECT_OK(mx_event_create(0, &e2));
    EXPECT_OK(mx_handle_duplicate(e2, MX_RIGHT_READ, &no_dup));
    EXPECT_OK(mx_handle_replace(no_dup, MX_RIGHT_SAME_RIGHTS, &r));
    EXPECT_SIGNALS(e2, MX_SIGNAL_NONE);
    EXPECT_OK(mx_handle_close(r));
    EXPECT_SIGNALS(e2, MX_SIGNAL_LAST_HANDLE);
    mx_handle_close(e2);
    mx_handle_close(r2);
}

TEST(handle_replace_cancels_waits_through_the_old_value) {
    mx_handle_t e, r;
    struct waiter w;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT(start_waiter(&w, e, MX_EVENT_SIGNALED, MX_TIME_INFINITE));
    EXPECT_OK(mx_handle_replace(e, MX_RIGHT_SAME_RIGHTS, &r));
    pthread_join(w.thread, NULL);
    note_status(w.status);
    EXPECT_EQ(w.status, MX_ERR_CANCELED);
    EXPECT(w.observed & MX_SIGNAL_HANDLE_CLOSED);
    mx_handle_close(r);
}

/* ---- Signals, events, eventpairs ---------------------------------------- */

TEST(object_signal_on_sockets_takes_user_signals_only) {
    mx_handle_t a, b, no_signal;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_object_signal(a, 0, MX_USER_SIGNAL_0 | MX_USER_SIGNAL_7));
    EXPECT_SIGNALS(a, SOCKET_NEW | MX_USER_SIGNAL_0 | MX_USER_SIGNAL_7);
    EXPECT_SIGNALS(b, SOCKET_NEW);
    /* Clear is applied, then set. */
    EXPECT_OK(mx_object_signal(a, MX_USER_SIGNAL_ALL, MX_USER_SIGNAL_7));
    EXPECT_SIGNALS(a, SOCKET_NEW | MX_USER_SIGNAL_7);
    EXPECT_OK(mx_object_signal(a, MX_USER_SIGNAL_7, MX_USER_SIGNAL_7));
    EXPECT_SIGNALS(a, SOCKET_NEW | MX_USER_SIGNAL_7);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_signal(a, 0, MX_SOCKET_READABLE));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_signal(a, MX_SOCKET_WRITABLE, 0));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_signal(a, 0, MX_EVENT_SIGNALED));
    EXPECT_SIGNALS(a, SOCKET_NEW | MX_USER_SIGNAL_7);
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_signal(BOGUS, 0, MX_USER_SIGNAL_0));
    EXPECT((no_signal = with_rights(a, MX_RIGHT_READ)) != MX_HANDLE_INVALID);
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_signal(no_signal, 0, MX_USER_SIGNAL_0));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_signal_peer(no_signal, 0, MX_USER_SIGNAL_0));
    mx_handle_close(no_signal);
    /* Peer: acts on the other end. */
    EXPECT_OK(mx_object_signal_peer(a, 0, MX_USER_SIGNAL_3));
    EXPECT_SIGNALS(b, SOCKET_NEW | MX_USER_SIGNAL_3);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_signal_peer(a, 0, MX_SOCKET_PEER_CLOSED));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_signal_peer(BOGUS, 0, MX_USER_SIGNAL_0));
    EXPECT_OK(mx_handle_close(b));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_object_signal_peer(a, 0, MX_USER_SIGNAL_3));
    mx_handle_close(a);
}

TEST(events_start_with_last_handle_and_signal) {
    mx_handle_t e = UNTOUCHED_HANDLE, e_ro;
    mx_info_handle_basic_t info;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_event_create(1, &e));
    EXPECT_EQ(e, UNTOUCHED_HANDLE);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_event_create(0, NULL));
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_SIGNALS(e, MX_SIGNAL_LAST_HANDLE);
    EXPECT(info_of(e, &info));
    EXPECT_EQ(info.type, MX_OBJ_TYPE_EVENT);
    EXPECT_EQ(info.rights, MX_DEFAULT_EVENT_RIGHTS);
    EXPECT_EQ(info.related_koid, MX_KOID_INVALID);
    EXPECT_EQ(info.props, MX_OBJ_PROP_WAITABLE);
    EXPECT_OK(mx_object_signal(e, 0, MX_EVENT_SIGNALED | MX_USER_SIGNAL_1));
    EXPECT_SIGNALS(e, MX_SIGNAL_LAST_HANDLE | MX_EVENT_SIGNALED | MX_USER_SIGNAL_1);
    EXPECT_OK(mx_object_signal(e, MX_EVENT_SIGNALED, 0));
    EXPECT_SIGNALS(e, MX_SIGNAL_LAST_HANDLE | MX_USER_SIGNAL_1);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_signal(e, 0, MX_SOCKET_READABLE));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_signal(e, 0, MX_SIGNAL_LAST_HANDLE));
    /* Events never hold SIGNAL_PEER. */
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_signal_peer(e, 0, MX_USER_SIGNAL_0));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_handle_duplicate(e, MX_DEFAULT_EVENT_RIGHTS | MX_RIGHT_SIGNAL_PEER, &e_ro));
    mx_handle_close(e);
}

TEST(eventpairs_signal_each_other) {
    mx_handle_t p = UNTOUCHED_HANDLE, q = UNTOUCHED_HANDLE;
    mx_info_handle_basic_t ip, iq;
    /* Bad options: NOT_SUPPORTED (as Magenta), outputs untouched. */
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED, mx_eventpair_create(1, &p, &q));
    EXPECT_EQ(p, UNTOUCHED_HANDLE);
    EXPECT_EQ(q, UNTOUCHED_HANDLE);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_eventpair_create(0, NULL, &q));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_eventpair_create(0, &p, NULL));
    EXPECT_OK(mx_eventpair_create(0, &p, &q));
    EXPECT_SIGNALS(p, MX_SIGNAL_LAST_HANDLE);
    EXPECT_SIGNALS(q, MX_SIGNAL_LAST_HANDLE);
    EXPECT(info_of(p, &ip) && info_of(q, &iq));
    EXPECT_EQ(ip.type, MX_OBJ_TYPE_EVENT_PAIR);
    EXPECT_EQ(ip.rights, MX_DEFAULT_EVENT_PAIR_RIGHTS);
    EXPECT_EQ(ip.related_koid, iq.koid);
    EXPECT_EQ(iq.related_koid, ip.koid);
    EXPECT_OK(mx_object_signal(p, 0, MX_EPAIR_SIGNALED));
    EXPECT_OK(mx_object_signal_peer(p, 0, MX_USER_SIGNAL_2 | MX_EPAIR_SIGNALED));
    EXPECT_SIGNALS(p, MX_SIGNAL_LAST_HANDLE | MX_EPAIR_SIGNALED);
    EXPECT_SIGNALS(q, MX_SIGNAL_LAST_HANDLE | MX_EPAIR_SIGNALED | MX_USER_SIGNAL_2);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_signal_peer(q, 0, MX_EPAIR_PEER_CLOSED));
    /* Closing one end: the other gains PEER_CLOSED, keeps the rest. */
    EXPECT_OK(mx_handle_close(q));
    EXPECT_SIGNALS(p, MX_SIGNAL_LAST_HANDLE | MX_EPAIR_SIGNALED | MX_EPAIR_PEER_CLOSED);
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_object_signal_peer(p, 0, MX_USER_SIGNAL_0));
    EXPECT_OK(mx_object_signal(p, MX_EPAIR_SIGNALED, 0));
    EXPECT_SIGNALS(p, MX_SIGNAL_LAST_HANDLE | MX_EPAIR_PEER_CLOSED);
    /* Sockets calls on an eventpair: wrong type. */
    size_t actual;
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_socket_write(p, 0, "x", 1, &actual));
    mx_handle_close(p);
}

/* ---- mx_object_get_info ------------------------------------------------- */

TEST(get_info_topics_and_buffers) {
    mx_handle_t e;
    mx_info_handle_basic_t info[2];
    size_t actual = UNTOUCHED_SIZE, avail = UNTOUCHED_SIZE;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_OK(mx_object_get_info(e, MX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL));
    /* HANDLE_VALID reports no counts: they are left alone, as Magenta did. */
    EXPECT_OK(mx_object_get_info(e, MX_INFO_HANDLE_VALID, NULL, 0, &actual, &avail));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    EXPECT_EQ(avail, UNTOUCHED_SIZE);
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_get_info(BOGUS, MX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE,
                  mx_object_get_info(BOGUS, MX_INFO_HANDLE_BASIC, info, sizeof info, &actual, &avail));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    /* A topic not answered here: NOT_SUPPORTED, after the handle check. */
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED,
                  mx_object_get_info(e, MX_INFO_NONE, info, sizeof info, &actual, &avail));
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED,
                  mx_object_get_info(e, 99, info, sizeof info, &actual, &avail));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE,
                  mx_object_get_info(BOGUS, 99, info, sizeof info, &actual, &avail));
    EXPECT_EQ(actual, UNTOUCHED_SIZE);
    /* Too small: BUFFER_TOO_SMALL, with the counts. */
    EXPECT_STATUS(MX_ERR_BUFFER_TOO_SMALL,
                  mx_object_get_info(e, MX_INFO_HANDLE_BASIC, info, sizeof info[0] - 1, &actual, &avail));
    EXPECT_EQ(actual, 0);
    EXPECT_EQ(avail, 1);
    actual = avail = UNTOUCHED_SIZE;
    EXPECT_STATUS(MX_ERR_BUFFER_TOO_SMALL,
                  mx_object_get_info(e, MX_INFO_HANDLE_BASIC, NULL, 0, &actual, &avail));
    EXPECT_EQ(actual, 0);
    EXPECT_EQ(avail, 1);
    /* A NULL buffer that claims room faults when written. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_object_get_info(e, MX_INFO_HANDLE_BASIC, NULL, sizeof info[0], &actual, &avail));
    /* Larger buffers are fine; one record is written. */
    memset(info, 0xee, sizeof info);
    EXPECT_OK(mx_object_get_info(e, MX_INFO_HANDLE_BASIC, info, sizeof info, &actual, &avail));
    EXPECT_EQ(actual, 1);
    EXPECT_EQ(avail, 1);
    EXPECT_EQ(info[0].type, MX_OBJ_TYPE_EVENT);
    EXPECT_EQ(info[1].koid, 0xeeeeeeeeeeeeeeeeull);
    EXPECT_OK(mx_object_get_info(e, MX_INFO_HANDLE_BASIC, info, sizeof info[0], NULL, NULL));
    mx_handle_close(e);
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_get_info(e, MX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL));
}

/* ---- mx_object_wait_one ------------------------------------------------- */

TEST(wait_one_reports_without_blocking) {
    mx_handle_t a, b, no_read;
    mx_signals_t observed = 0xdeadbeefu;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    /* Satisfied now: OK, whatever the deadline. */
    EXPECT_OK(mx_object_wait_one(a, MX_SOCKET_WRITABLE, 0, &observed));
    EXPECT_EQ(observed, SOCKET_NEW);
    EXPECT_OK(mx_object_wait_one(a, MX_SOCKET_WRITABLE | MX_SOCKET_READABLE, MX_TIME_INFINITE, NULL));
    /* Not satisfied, deadline passed: TIMED_OUT with the state. */
    observed = 0xdeadbeefu;
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_object_wait_one(a, MX_SOCKET_READABLE, 0, &observed));
    EXPECT_EQ(observed, SOCKET_NEW);
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_object_wait_one(a, MX_SOCKET_READABLE, 1, NULL));
    /* Errors leave *observed alone. */
    observed = 0xdeadbeefu;
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_wait_one(BOGUS, MX_SOCKET_READABLE, 0, &observed));
    EXPECT((no_read = with_rights(a, MX_RIGHT_WRITE)) != MX_HANDLE_INVALID);
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_wait_one(no_read, MX_SOCKET_WRITABLE, 0, &observed));
    EXPECT_EQ(observed, 0xdeadbeefu);
    mx_handle_close(no_read);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(wait_one_times_out_at_the_deadline) {
    mx_handle_t e;
    mx_signals_t observed = 0;
    EXPECT_OK(mx_event_create(0, &e));
    mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
    mx_time_t deadline = mx_deadline_after(MX_MSEC(30));
    /* signals = 0 is legal: it waits for the deadline. */
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_object_wait_one(e, 0, deadline, &observed));
    EXPECT(mx_time_get(MX_CLOCK_MONOTONIC) >= deadline);
    EXPECT(ms_since(start) >= 30.0);
    EXPECT_EQ(observed, MX_SIGNAL_LAST_HANDLE);
    mx_handle_close(e);
}

TEST(two_threads_waiting_are_woken_by_one_write) {
    mx_handle_t a, b;
    struct waiter w1, w2;
    size_t actual;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT(start_waiter(&w1, b, MX_SOCKET_READABLE, MX_TIME_INFINITE));
    EXPECT(start_waiter(&w2, b, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED, MX_TIME_INFINITE));
    /* A change that asserts no watched bit wakes nobody. */
    EXPECT_OK(mx_object_signal(b, 0, MX_USER_SIGNAL_0));
    sleep_ms(20);
    EXPECT_EQ(__atomic_load_n(&w1.status, __ATOMIC_SEQ_CST), 1);
    EXPECT_EQ(__atomic_load_n(&w2.status, __ATOMIC_SEQ_CST), 1);
    EXPECT_OK(mx_socket_write(a, 0, "wake", 4, &actual));
    pthread_join(w1.thread, NULL);
    pthread_join(w2.thread, NULL);
    EXPECT_EQ(w1.status, MX_OK);
    EXPECT_EQ(w2.status, MX_OK);
    EXPECT(w1.observed & MX_SOCKET_READABLE);
    EXPECT(w2.observed & MX_SOCKET_READABLE);
    EXPECT(w1.observed & MX_USER_SIGNAL_0);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(closing_the_handle_cancels_a_wait) {
    mx_handle_t a, b, b2;
    struct waiter w, other;
    size_t actual;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_handle_duplicate(b, MX_RIGHT_SAME_RIGHTS, &b2));
    EXPECT(start_waiter(&w, b, MX_SOCKET_READABLE, MX_TIME_INFINITE));
    EXPECT(start_waiter(&other, b2, MX_SOCKET_READABLE, MX_TIME_INFINITE));
    /* Closing b (from this thread) cancels the wait made through b ... */
    EXPECT_OK(mx_handle_close(b));
    pthread_join(w.thread, NULL);
    note_status(w.status);
    EXPECT_EQ(w.status, MX_ERR_CANCELED);
    EXPECT(w.observed & MX_SIGNAL_HANDLE_CLOSED);
    EXPECT(w.observed & MX_SOCKET_WRITABLE);
    /* ... and only that one: the wait through b2 goes on. */
    sleep_ms(20);
    EXPECT_EQ(__atomic_load_n(&other.status, __ATOMIC_SEQ_CST), 1);
    EXPECT_OK(mx_socket_write(a, 0, "x", 1, &actual));
    pthread_join(other.thread, NULL);
    EXPECT_EQ(other.status, MX_OK);
    EXPECT_EQ(other.observed & MX_SIGNAL_HANDLE_CLOSED, 0);
    mx_handle_close(a);
    mx_handle_close(b2);
}

TEST(observed_accumulates_states_seen_during_the_wait) {
    mx_handle_t e;
    struct waiter w;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT(start_waiter(&w, e, MX_USER_SIGNAL_1, mx_deadline_after(MX_SEC(30))));
    EXPECT_OK(mx_object_signal(e, 0, MX_USER_SIGNAL_0));
    EXPECT_OK(mx_object_signal(e, MX_USER_SIGNAL_0, 0));
    EXPECT_OK(mx_object_signal(e, 0, MX_USER_SIGNAL_1));
    pthread_join(w.thread, NULL);
    EXPECT_EQ(w.status, MX_OK);
    /* USER_0 was set and cleared while the wait was registered. */
    EXPECT_EQ(w.observed, MX_SIGNAL_LAST_HANDLE | MX_USER_SIGNAL_0 | MX_USER_SIGNAL_1);
    EXPECT_SIGNALS(e, MX_SIGNAL_LAST_HANDLE | MX_USER_SIGNAL_1);
    /* And with a timeout. */
    EXPECT_OK(mx_object_signal(e, MX_USER_SIGNAL_ALL, 0));
    EXPECT(start_waiter(&w, e, MX_USER_SIGNAL_5, mx_deadline_after(MX_MSEC(300))));
    EXPECT_OK(mx_object_signal(e, 0, MX_USER_SIGNAL_2));
    EXPECT_OK(mx_object_signal(e, MX_USER_SIGNAL_2, 0));
    pthread_join(w.thread, NULL);
    EXPECT_EQ(w.status, MX_ERR_TIMED_OUT);
    EXPECT_EQ(w.observed, MX_SIGNAL_LAST_HANDLE | MX_USER_SIGNAL_2);
    mx_handle_close(e);
}

/* ---- mx_object_wait_many ------------------------------------------------ */

TEST(wait_many_checks_its_items) {
    mx_handle_t e, no_read;
    mx_wait_item_t items[3];
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_wait_many(NULL, 1, 0));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_wait_many(items, MX_WAIT_MANY_MAX_ITEMS + 1, 0));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_wait_many(NULL, 0xffffffffu, 0));
    /* An item that cannot register undoes the others; pending untouched. */
    items[0].handle = e;
    items[0].waitfor = MX_USER_SIGNAL_0;
    items[1].handle = BOGUS;
    items[1].waitfor = MX_USER_SIGNAL_0;
    items[0].pending = items[1].pending = 0xdeadbeefu;
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_wait_many(items, 2, MX_TIME_INFINITE));
    EXPECT_EQ(items[0].pending, 0xdeadbeefu);
    EXPECT_EQ(items[1].pending, 0xdeadbeefu);
    EXPECT((no_read = with_rights(e, MX_RIGHT_SIGNAL)) != MX_HANDLE_INVALID);
    items[1].handle = no_read;
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_object_wait_many(items, 2, MX_TIME_INFINITE));
    EXPECT_EQ(items[0].pending, 0xdeadbeefu);
    mx_handle_close(no_read);
    mx_handle_close(e);
}

TEST(wait_many_with_no_items_sleeps_until_the_deadline) {
    mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
    mx_time_t deadline = mx_deadline_after(MX_MSEC(20));
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_object_wait_many(NULL, 0, deadline));
    EXPECT(mx_time_get(MX_CLOCK_MONOTONIC) >= deadline);
    EXPECT(ms_since(start) >= 20.0);
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_object_wait_many(NULL, 0, 0));
}

TEST(wait_many_fills_every_pending) {
    mx_handle_t a, b, e;
    mx_wait_item_t items[2];
    size_t actual;
    EXPECT_OK(mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b));
    EXPECT_OK(mx_event_create(0, &e));
    items[0].handle = b;
    items[0].waitfor = MX_SOCKET_READABLE;
    items[1].handle = e;
    items[1].waitfor = MX_EVENT_SIGNALED;
    /* Nothing asserted, deadline passed: TIMED_OUT, pending filled. */
    items[0].pending = items[1].pending = 0xdeadbeefu;
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_object_wait_many(items, 2, 0));
    EXPECT_EQ(items[0].pending, SOCKET_NEW);
    EXPECT_EQ(items[1].pending, MX_SIGNAL_LAST_HANDLE);
    /* One asserted: OK, and the other's state is reported too. */
    EXPECT_OK(mx_object_signal(e, 0, MX_EVENT_SIGNALED));
    items[0].pending = items[1].pending = 0xdeadbeefu;
    EXPECT_OK(mx_object_wait_many(items, 2, MX_TIME_INFINITE));
    EXPECT_EQ(items[0].pending, SOCKET_NEW);
    EXPECT_EQ(items[1].pending, MX_SIGNAL_LAST_HANDLE | MX_EVENT_SIGNALED);
    EXPECT_EQ(items[0].handle, b);
    EXPECT_EQ(items[1].waitfor, MX_EVENT_SIGNALED);
    EXPECT_OK(mx_object_signal(e, MX_EVENT_SIGNALED, 0));
    EXPECT_OK(mx_socket_write(a, 0, "d", 1, &actual));
    EXPECT_OK(mx_object_wait_many(items, 2, 0));
    EXPECT_EQ(items[0].pending, SOCKET_NEW | MX_SOCKET_READABLE);
    mx_handle_close(a);
    mx_handle_close(b);
    mx_handle_close(e);
}

TEST(wait_many_takes_the_maximum_number_of_items) {
    static mx_wait_item_t items[MX_WAIT_MANY_MAX_ITEMS];
    mx_handle_t e;
    EXPECT_OK(mx_event_create(0, &e));
    for (unsigned i = 0; i < MX_WAIT_MANY_MAX_ITEMS; i++) {
        items[i].handle = e;
        items[i].waitfor = i == MX_WAIT_MANY_MAX_ITEMS - 1 ? MX_SIGNAL_LAST_HANDLE : MX_USER_SIGNAL_0;
        items[i].pending = 0;
    }
    EXPECT_OK(mx_object_wait_many(items, MX_WAIT_MANY_MAX_ITEMS, MX_TIME_INFINITE));
    EXPECT_EQ(items[0].pending, MX_SIGNAL_LAST_HANDLE);
    EXPECT_EQ(items[MX_WAIT_MANY_MAX_ITEMS - 1].pending, MX_SIGNAL_LAST_HANDLE);
    mx_handle_close(e);
}

struct many_waiter {
    pthread_t thread;
    pid_t tid;
    mx_wait_item_t items[2];
    mx_status_t status;
};

static void* many_waiter_main(void* arg) {
    struct many_waiter* w = (struct many_waiter*)arg;
    __atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
    w->status = mx_object_wait_many(w->items, 2, MX_TIME_INFINITE);
    return NULL;
}

static int start_many_waiter(struct many_waiter* w, mx_handle_t h0, mx_signals_t s0,
                             mx_handle_t h1, mx_signals_t s1) {
    memset(w, 0, sizeof *w);
    w->items[0].handle = h0;
    w->items[0].waitfor = s0;
    w->items[1].handle = h1;
    w->items[1].waitfor = s1;
    w->status = 1;
    if (pthread_create(&w->thread, NULL, many_waiter_main, w) != 0) {
        return 0;
    }
    for (int i = 0; i < 10000; i++) {
        pid_t tid = __atomic_load_n(&w->tid, __ATOMIC_SEQ_CST);
        if (tid != 0 && asleep(tid)) {
            sleep_ms(5);
            return 1;
        }
        sleep_ms(1);
    }
    return 0;
}

TEST(wait_many_is_woken_by_another_thread) {
    mx_handle_t a, b, e;
    struct many_waiter w;
    size_t actual;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT(start_many_waiter(&w, e, MX_EVENT_SIGNALED, b, MX_SOCKET_READABLE));
    EXPECT_OK(mx_socket_write(a, 0, "x", 1, &actual));
    pthread_join(w.thread, NULL);
    EXPECT_EQ(w.status, MX_OK);
    EXPECT_EQ(w.items[0].pending, MX_SIGNAL_LAST_HANDLE);
    EXPECT(w.items[1].pending & MX_SOCKET_READABLE);
    mx_handle_close(a);
    mx_handle_close(b);
    mx_handle_close(e);
}

TEST(wait_many_is_canceled_by_closing_an_item) {
    mx_handle_t e1, e2;
    struct many_waiter w;
    EXPECT_OK(mx_event_create(0, &e1));
    EXPECT_OK(mx_event_create(0, &e2));
    EXPECT(start_many_waiter(&w, e1, MX_EVENT_SIGNALED, e2, MX_EVENT_SIGNALED));
    EXPECT_OK(mx_handle_close(e2));
    pthread_join(w.thread, NULL);
    note_status(w.status);
    EXPECT_EQ(w.status, MX_ERR_CANCELED);
    EXPECT_EQ(w.items[0].pending & MX_SIGNAL_HANDLE_CLOSED, 0);
    EXPECT(w.items[1].pending & MX_SIGNAL_HANDLE_CLOSED);
    mx_handle_close(e1);
}

/* ---- Threads moving data ------------------------------------------------ */

#define STREAM_TOTAL (8u << 20)

struct writer {
    mx_handle_t h;
    mx_status_t status;
    size_t written;
};

static unsigned char pattern(size_t i) {
    return (unsigned char)(i ^ (i >> 8) ^ (i >> 16));
}

/* Writes STREAM_TOTAL bytes, blocking on WRITABLE, then half-closes. */
static void* stream_writer(void* arg) {
    struct writer* w = (struct writer*)arg;
    static unsigned char chunk[50000];
    while (w->written < STREAM_TOTAL) {
        size_t n = STREAM_TOTAL - w->written, actual = 0;
        if (n > sizeof chunk) {
            n = sizeof chunk;
        }
        for (size_t i = 0; i < n; i++) {
            chunk[i] = pattern(w->written + i);
        }
        size_t done = 0;
        while (done < n) {
            mx_status_t status = mx_socket_write(w->h, 0, chunk + done, n - done, &actual);
            if (status == MX_ERR_SHOULD_WAIT) {
                mx_signals_t seen;
                status = mx_object_wait_one(w->h, MX_SOCKET_WRITABLE | MX_SOCKET_PEER_CLOSED,
                                            MX_TIME_INFINITE, &seen);
                if (status != MX_OK) {
                    w->status = status;
                    return NULL;
                }
                continue;
            }
            if (status != MX_OK) {
                w->status = status;
                return NULL;
            }
            done += actual;
        }
        w->written += n;
    }
    w->status = mx_socket_write(w->h, MX_SOCKET_HALF_CLOSE, NULL, 0, NULL);
    return NULL;
}

TEST(a_stream_carries_bytes_between_threads_in_order) {
    static unsigned char buf[70000];
    mx_handle_t a, b;
    struct writer w = {0, 1, 0};
    pthread_t thread;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    w.h = a;
    EXPECT(pthread_create(&thread, NULL, stream_writer, &w) == 0);
    size_t got = 0;
    for (;;) {
        size_t actual = 0;
        mx_status_t status = mx_socket_read(b, 0, buf, sizeof buf, &actual);
        if (status == MX_ERR_SHOULD_WAIT) {
            EXPECT_OK(mx_object_wait_one(b, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED,
                                         MX_TIME_INFINITE, NULL));
            continue;
        }
        if (status == MX_ERR_PEER_CLOSED) {
            break;
        }
        EXPECT_OK(status);
        for (size_t i = 0; i < actual; i++) {
            if (buf[i] != pattern(got + i)) {
                FAIL_AT("byte %zu differs", got + i);
                return;
            }
        }
        got += actual;
    }
    pthread_join(thread, NULL);
    EXPECT_EQ(w.status, MX_OK);
    EXPECT_EQ(got, STREAM_TOTAL);
    mx_handle_close(a);
    mx_handle_close(b);
}

/* ---- Ports -------------------------------------------------------------- */

TEST(port_create_checks_options_and_output) {
    mx_handle_t port = UNTOUCHED_HANDLE;
    mx_info_handle_basic_t info;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_create(1, &port));
    EXPECT_EQ(port, UNTOUCHED_HANDLE);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_create(0, NULL));
    EXPECT_OK(mx_port_create(0, &port));
    EXPECT(info_of(port, &info));
    EXPECT_EQ(info.type, MX_OBJ_TYPE_PORT);
    EXPECT_EQ(info.rights, MX_DEFAULT_PORT_RIGHTS);
    EXPECT_EQ(info.props, MX_OBJ_PROP_NONE);
    /* Ports cannot be waited on. */
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED, mx_object_wait_one(port, MX_SIGNAL_LAST_HANDLE, 0, NULL));
    mx_handle_close(port);
}

TEST(port_queue_and_wait_carry_user_packets_in_order) {
    mx_handle_t port, event, no_write, no_read;
    mx_port_packet_t in, out;
    EXPECT_OK(mx_port_create(0, &port));
    memset(&in, 0, sizeof in);
    in.key = 42;
    in.type = 77; /* overwritten: queued packets are user packets */
    in.status = -3;
    for (int i = 0; i < 4; i++) {
        in.user.u64[i] = 0x1000u + (uint64_t)i;
    }
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_queue(port, &in, sizeof in));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_queue(port, NULL, 0));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_queue(BOGUS, &in, 1));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_port_queue(BOGUS, &in, 0));
    EXPECT_OK(mx_event_create(0, &event));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_port_queue(event, &in, 0));
    EXPECT((no_write = with_rights(port, MX_RIGHT_READ)) != MX_HANDLE_INVALID);
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_port_queue(no_write, &in, 0));
    EXPECT_OK(mx_port_queue(port, &in, 0));
    in.key = 43;
    EXPECT_OK(mx_port_queue(port, &in, 0));
    memset(&out, 0xee, sizeof out);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_wait(port, 0, &out, sizeof out));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_wait(port, 0, NULL, 0));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_port_wait(event, 0, &out, 0));
    EXPECT((no_read = with_rights(port, MX_RIGHT_WRITE)) != MX_HANDLE_INVALID);
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_port_wait(no_read, 0, &out, 0));
    EXPECT_EQ(out.key, 0xeeeeeeeeeeeeeeeeull);
    EXPECT_OK(mx_port_wait(port, 0, &out, 0));
    EXPECT_EQ(out.key, 42);
    EXPECT_EQ(out.type, MX_PKT_TYPE_USER);
    EXPECT_EQ(out.status, -3);
    EXPECT_EQ(out.user.u64[3], 0x1003u);
    EXPECT_OK(mx_port_wait(port, MX_TIME_INFINITE, &out, 0));
    EXPECT_EQ(out.key, 43);
    memset(&out, 0xee, sizeof out);
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_port_wait(port, mx_deadline_after(MX_MSEC(5)), &out, 0));
    EXPECT_EQ(out.key, 0xeeeeeeeeeeeeeeeeull);
    mx_handle_close(no_read);
    mx_handle_close(no_write);
    mx_handle_close(event);
    mx_handle_close(port);
}

TEST(wait_async_once_and_repeating_queue_signal_packets) {
    mx_handle_t port, a, b;
    mx_port_packet_t packet;
    size_t actual;
    char buf[8];
    EXPECT_OK(mx_port_create(0, &port));
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_wait_async(b, port, 1, MX_SOCKET_READABLE, 2));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_object_wait_async(b, BOGUS, 1, MX_SOCKET_READABLE, 0));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_object_wait_async(b, a, 1, MX_SOCKET_READABLE, 0));
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED, mx_object_wait_async(port, port, 1, MX_SIGNAL_LAST_HANDLE, 0));
    /* Once: one packet when READABLE becomes asserted. */
    EXPECT_OK(mx_object_wait_async(b, port, 7, MX_SOCKET_READABLE, MX_WAIT_ASYNC_ONCE));
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_port_wait(port, 0, &packet, 0));
    EXPECT_OK(mx_socket_write(a, 0, "x", 1, &actual));
    EXPECT_OK(mx_port_wait(port, 0, &packet, 0));
    EXPECT_EQ(packet.key, 7);
    EXPECT_EQ(packet.type, MX_PKT_TYPE_SIGNAL_ONE);
    EXPECT_EQ(packet.status, MX_OK);
    EXPECT_EQ(packet.signal.trigger, MX_SOCKET_READABLE);
    EXPECT(packet.signal.observed & MX_SOCKET_READABLE);
    EXPECT_EQ(packet.signal.count, 1);
    EXPECT_OK(mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_OK(mx_socket_write(a, 0, "y", 1, &actual));
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_port_wait(port, 0, &packet, 0));
    /* Repeating: already asserted, so a packet at once; more after changes. */
    EXPECT_OK(mx_object_wait_async(b, port, 8, MX_SOCKET_READABLE, MX_WAIT_ASYNC_REPEATING));
    EXPECT_OK(mx_port_wait(port, 0, &packet, 0));
    EXPECT_EQ(packet.key, 8);
    EXPECT_EQ(packet.type, MX_PKT_TYPE_SIGNAL_REP);
    EXPECT_OK(mx_object_signal(b, 0, MX_USER_SIGNAL_0));
    EXPECT_OK(mx_port_wait(port, 0, &packet, 0));
    EXPECT_EQ(packet.key, 8);
    EXPECT(packet.signal.observed & MX_USER_SIGNAL_0);
    /* Cancel ends it; a second cancel finds nothing. */
    EXPECT_OK(mx_port_cancel(port, b, 8));
    EXPECT_STATUS(MX_ERR_NOT_FOUND, mx_port_cancel(port, b, 8));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_port_cancel(port, BOGUS, 8));
    EXPECT_OK(mx_object_signal(b, MX_USER_SIGNAL_0, 0));
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_port_wait(port, 0, &packet, 0));
    mx_handle_close(a);
    mx_handle_close(b);
    mx_handle_close(port);
}

struct port_waiter {
    pthread_t thread;
    pid_t tid;
    mx_handle_t port;
    mx_port_packet_t packet;
    mx_status_t status;
};

static void* port_waiter_main(void* arg) {
    struct port_waiter* w = (struct port_waiter*)arg;
    __atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
    w->status = mx_port_wait(w->port, MX_TIME_INFINITE, &w->packet, 0);
    return NULL;
}

static int start_port_waiter(struct port_waiter* w, mx_handle_t port) {
    memset(w, 0, sizeof *w);
    w->port = port;
    w->status = 1;
    if (pthread_create(&w->thread, NULL, port_waiter_main, w) != 0) {
        return 0;
    }
    for (int i = 0; i < 10000; i++) {
        pid_t tid = __atomic_load_n(&w->tid, __ATOMIC_SEQ_CST);
        if (tid != 0 && asleep(tid)) {
            sleep_ms(5);
            return 1;
        }
        sleep_ms(1);
    }
    return 0;
}

TEST(port_wait_is_woken_by_a_packet_and_canceled_by_close) {
    mx_handle_t port, dup;
    struct port_waiter w;
    mx_port_packet_t packet;
    memset(&packet, 0, sizeof packet);
    packet.key = 99;
    EXPECT_OK(mx_port_create(0, &port));
    EXPECT(start_port_waiter(&w, port));
    EXPECT_OK(mx_port_queue(port, &packet, 0));
    pthread_join(w.thread, NULL);
    EXPECT_EQ(w.status, MX_OK);
    EXPECT_EQ(w.packet.key, 99);
    /* Closing the handle the thread waits through: CANCELED. */
    EXPECT_OK(mx_handle_duplicate(port, MX_RIGHT_SAME_RIGHTS, &dup));
    EXPECT(start_port_waiter(&w, dup));
    EXPECT_OK(mx_handle_close(dup));
    pthread_join(w.thread, NULL);
    note_status(w.status);
    EXPECT_EQ(w.status, MX_ERR_CANCELED);
    mx_handle_close(port);
}

/* ---- Coverage of the status codes --------------------------------------- */

/* Runs last: every code a call of this build can return was seen above. */
TEST(every_reachable_status_was_returned) {
    static const mx_status_t reachable[] = {
        MX_OK, MX_ERR_NOT_SUPPORTED, MX_ERR_INVALID_ARGS, MX_ERR_BAD_HANDLE,
        MX_ERR_WRONG_TYPE, MX_ERR_BUFFER_TOO_SMALL, MX_ERR_BAD_STATE,
        MX_ERR_TIMED_OUT, MX_ERR_SHOULD_WAIT, MX_ERR_CANCELED,
        MX_ERR_PEER_CLOSED, MX_ERR_NOT_FOUND, MX_ERR_ACCESS_DENIED,
    };
    int missing = 0;
    if (tests_filtered) {
        return;
    }
    for (size_t i = 0; i < COUNT(reachable); i++) {
        if (!(statuses_seen & (1ull << -reachable[i]))) {
            printf("    never returned: %s\n", status_name(reachable[i]));
            missing = 1;
        }
    }
    /* Not reachable from C in this build: INTERNAL (only a bug: see
       tests/boundary.rs), NO_MEMORY and NO_RESOURCES (exhaustion), and
       OUT_OF_RANGE, ALREADY_EXISTS,
       ALREADY_BOUND, UNAVAILABLE (no call in scope returns them). */
    EXPECT(!missing);
}

static const struct test tests[] = {
    T(time_get_reads_the_monotonic_clock),
    T(deadline_after_saturates),
    T(nanosleep_sleeps_until_the_deadline),
    T(socket_create_checks_options_and_outputs),
    T(socket_create_makes_two_writable_ends),
    T(socket_write_null_buffer_is_checked_before_the_handle),
    T(socket_write_finds_its_handle_in_order),
    T(socket_write_checks_options),
    T(socket_write_of_nothing_queues_nothing_even_when_full),
    T(socket_sizes_beyond_32_bits_are_invalid),
    T(socket_write_ignores_a_null_actual),
    T(stream_fills_to_capacity_with_short_writes),
    T(datagram_writes_are_whole_or_should_wait),
    T(datagram_reads_return_one_datagram_and_truncate),
    T(stream_reads_take_what_is_there),
    T(socket_read_checks_in_order),
    T(half_close_scenario),
    T(half_close_when_full_does_not_give_writable_back),
    T(close_scenario),
    T(closing_one_of_two_handles_keeps_the_end_open),
    T(handle_close_of_invalid_and_stale_values),
    T(handle_duplicate_rights_and_last_handle),
    T(handle_replace_moves_the_handle),
    T(handle_replace_cancels_waits_through_the_old_value),
    T(object_signal_on_sockets_takes_user_signals_only),
    T(events_start_with_last_handle_and_signal),
    T(eventpairs_signal_each_other),
    T(get_info_topics_and_buffers),
    T(wait_one_reports_without_blocking),
    T(wait_one_times_out_at_the_deadline),
    T(two_threads_waiting_are_woken_by_one_write),
    T(closing_the_handle_cancels_a_wait),
    T(observed_accumulates_states_seen_during_the_wait),
    T(wait_many_checks_its_items),
    T(wait_many_with_no_items_sleeps_until_the_deadline),
    T(wait_many_fills_every_pending),
    T(wait_many_takes_the_maximum_number_of_items),
    T(wait_many_is_woken_by_another_thread),
    T(wait_many_is_canceled_by_closing_an_item),
    T(a_stream_carries_bytes_between_threads_in_order),
    T(port_create_checks_options_and_output),
    T(port_queue_and_wait_carry_user_packets_in_order),
    T(wait_async_once_and_repeating_queue_signal_packets),
    T(port_wait_is_woken_by_a_packet_and_canceled_by_close),
    T(every_reachable_status_was_returned),
};

int main(int argc, char** argv) {
    return run_tests(tests, COUNT(tests), argc, argv);
}
