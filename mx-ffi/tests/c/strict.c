/*
 * Strict pointer mode (MX_STRICT_POINTERS=1): invalid non-NULL pointers give
 * MX_ERR_INVALID_ARGS instead of a crash, and a call that fails so has no
 * effect (nothing written, nothing consumed, no handle made or lost).
 *
 * tests/c.rs runs this program with the variable set (everything passes)
 * and without it (the first invalid pointer kills the process with SIGSEGV:
 * the default mode trusts pointers, like any C library).
 */
#define _GNU_SOURCE

#include <magenta/syscalls.h>

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

/* Addresses in no mapping, and a read-only page. */
static void* wild;
static unsigned char* unmapped;  /* a page that was unmapped */
static unsigned char* read_only; /* a page mapped PROT_READ */
static unsigned char* edge;      /* the last 8 bytes before `unmapped` */

static int setup(void) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned char* pages = (unsigned char*)mmap(NULL, (size_t)page * 3, PROT_READ | PROT_WRITE,
                                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
        return 0;
    }
    unmapped = pages + page;
    read_only = pages + 2 * page;
    edge = unmapped - 8;
    memset(edge, 'e', 8);
    wild = (void*)(uintptr_t)16;
    return munmap(unmapped, (size_t)page) == 0 &&
           mprotect(read_only, (size_t)page, PROT_READ) == 0;
}

static mx_koid_t koid_of(mx_handle_t h) {
    mx_info_handle_basic_t info;
    if (mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof info, NULL, NULL) != MX_OK) {
        return 0;
    }
    return info.koid;
}

static size_t outstanding(mx_handle_t h) {
    size_t n = 0;
    mx_socket_read(h, 0, NULL, 0, &n);
    return n;
}

/* First: in the default mode this crashes the process. */
TEST(socket_write_from_a_wild_pointer) {
    mx_handle_t a, b;
    size_t actual = 77;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 0, wild, 5, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 0, unmapped, 5, &actual));
    EXPECT_EQ(actual, 77);
    EXPECT_EQ(outstanding(b), 0);
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_socket_read(b, 0, &actual, 1, NULL));
    /* Partly valid: faults as a whole, and nothing is queued. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 0, edge, 16, &actual));
    EXPECT_EQ(outstanding(b), 0);
    /* The valid part alone is fine. */
    EXPECT_OK(mx_socket_write(a, 0, edge, 8, &actual));
    EXPECT_EQ(actual, 8);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(datagram_write_from_a_partly_valid_buffer_queues_nothing) {
    mx_handle_t a, b;
    size_t actual = 77;
    EXPECT_OK(mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 0, edge, 4096, &actual));
    EXPECT_EQ(outstanding(b), 0);
    EXPECT_OK(mx_socket_write(a, 0, "ok", 2, &actual));
    EXPECT_EQ(outstanding(b), 2);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(socket_read_into_bad_memory_consumes_nothing) {
    mx_handle_t a, b;
    char buf[8];
    size_t actual = 77;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_OK(mx_socket_write(a, 0, "payload", 7, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(b, 0, wild, 7, &actual));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(b, 0, read_only, 7, &actual));
    /* Straddling the end of a mapping (only 7 bytes are copied, so a larger
       size alone would not fault). */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(b, 0, unmapped - 4, 7, &actual));
    EXPECT_EQ(actual, 7);
    EXPECT_EQ(outstanding(b), 7);
    EXPECT_OK(mx_socket_read(b, 0, buf, sizeof buf, &actual));
    EXPECT_EQ(actual, 7);
    EXPECT(memcmp(buf, "payload", 7) == 0);
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(bad_actual_fails_the_call_before_it_acts) {
    mx_handle_t a, b;
    char buf[8];
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 0, "abc", 3, (size_t*)wild));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_write(a, 0, "abc", 3, (size_t*)read_only));
    EXPECT_EQ(outstanding(b), 0);
    EXPECT_OK(mx_socket_write(a, 0, "abc", 3, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(b, 0, buf, sizeof buf, (size_t*)read_only));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_read(b, 0, NULL, 0, (size_t*)wild));
    EXPECT_EQ(outstanding(b), 3);
    /* Half-close with a bad actual: not done. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_socket_write(a, MX_SOCKET_HALF_CLOSE, NULL, 0, (size_t*)read_only));
    EXPECT_OK(mx_socket_write(a, 0, "d", 1, NULL));
    mx_handle_close(a);
    mx_handle_close(b);
}

TEST(create_calls_with_bad_outputs_make_nothing) {
    mx_handle_t a, b, c, d, e;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    mx_koid_t first = koid_of(a);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_socket_create(MX_SOCKET_STREAM, (mx_handle_t*)wild, &c));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_socket_create(MX_SOCKET_STREAM, &c, (mx_handle_t*)read_only));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_event_create(0, (mx_handle_t*)read_only));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_eventpair_create(0, &c, (mx_handle_t*)wild));
    /* No object was made in between: koids are consecutive. */
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &c, &d));
    EXPECT_EQ(koid_of(c), first + 2);
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_EQ(koid_of(e), first + 4);
    mx_handle_close(a);
    mx_handle_close(b);
    mx_handle_close(c);
    mx_handle_close(d);
    mx_handle_close(e);
}

TEST(duplicate_and_replace_with_bad_outputs_change_nothing) {
    mx_handle_t e, r;
    mx_signals_t observed;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_handle_duplicate(e, MX_RIGHT_SAME_RIGHTS, (mx_handle_t*)read_only));
    /* No second handle appeared. */
    EXPECT_OK(mx_object_wait_one(e, MX_SIGNAL_LAST_HANDLE, 0, &observed));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_handle_replace(e, MX_RIGHT_SAME_RIGHTS, (mx_handle_t*)wild));
    /* The old handle still works. */
    EXPECT_OK(mx_object_signal(e, 0, MX_EVENT_SIGNALED));
    EXPECT_OK(mx_handle_replace(e, MX_RIGHT_SAME_RIGHTS, &r));
    mx_handle_close(r);
}

TEST(waits_with_bad_pointers) {
    mx_handle_t e;
    mx_wait_item_t* items_ro = (mx_wait_item_t*)read_only;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_object_wait_one(e, MX_SIGNAL_LAST_HANDLE, 0, (mx_signals_t*)wild));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_object_wait_one(e, MX_SIGNAL_LAST_HANDLE, 0, (mx_signals_t*)read_only));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_wait_many((mx_wait_item_t*)wild, 1, 0));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_wait_many((mx_wait_item_t*)unmapped, 2, 0));
    /* Readable but not writable: refused before waiting. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_wait_many(items_ro, 1, MX_TIME_INFINITE));
    /* Items straddling the end of a mapping. */
    mx_wait_item_t* straddle = (mx_wait_item_t*)(void*)(unmapped - sizeof(mx_wait_item_t));
    straddle->handle = e;
    straddle->waitfor = MX_SIGNAL_LAST_HANDLE;
    EXPECT_OK(mx_object_wait_many(straddle, 1, 0));
    EXPECT_EQ(straddle->pending, MX_SIGNAL_LAST_HANDLE);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_wait_many(straddle, 2, 0));
    mx_handle_close(e);
}

TEST(get_info_with_bad_pointers) {
    mx_handle_t e;
    mx_info_handle_basic_t info;
    size_t actual = 77;
    EXPECT_OK(mx_event_create(0, &e));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_object_get_info(e, MX_INFO_HANDLE_BASIC, wild, sizeof info, &actual, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_object_get_info(e, MX_INFO_HANDLE_BASIC, read_only, sizeof info, &actual, NULL));
    EXPECT_EQ(actual, 77);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_object_get_info(e, MX_INFO_HANDLE_BASIC, &info, sizeof info, (size_t*)wild, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_object_get_info(e, MX_INFO_HANDLE_BASIC, &info,
                                                          sizeof info, NULL, (size_t*)read_only));
    EXPECT_OK(mx_object_get_info(e, MX_INFO_HANDLE_BASIC, &info, sizeof info, &actual, NULL));
    EXPECT_EQ(actual, 1);
    EXPECT_EQ(info.type, MX_OBJ_TYPE_EVENT);
    mx_handle_close(e);
}

TEST(ports_with_bad_packets) {
    mx_handle_t port;
    mx_port_packet_t packet;
    memset(&packet, 0, sizeof packet);
    EXPECT_OK(mx_port_create(0, &port));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_create(0, (mx_handle_t*)read_only));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_queue(port, wild, 0));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_queue(port, unmapped - 8, 0));
    EXPECT_OK(mx_port_queue(port, &packet, 0));
    /* A bad packet buffer fails before a packet is taken. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_wait(port, 0, read_only, 0));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_port_wait(port, 0, wild, 0));
    EXPECT_OK(mx_port_wait(port, 0, &packet, 0));
    mx_handle_close(port);
}

static const struct test tests[] = {
    T(socket_write_from_a_wild_pointer),
    T(datagram_write_from_a_partly_valid_buffer_queues_nothing),
    T(socket_read_into_bad_memory_consumes_nothing),
    T(bad_actual_fails_the_call_before_it_acts),
    T(create_calls_with_bad_outputs_make_nothing),
    T(duplicate_and_replace_with_bad_outputs_change_nothing),
    T(waits_with_bad_pointers),
    T(get_info_with_bad_pointers),
    T(ports_with_bad_packets),
};

int main(int argc, char** argv) {
    if (!setup()) {
        printf("setup failed\n");
        return 2;
    }
    return run_tests(tests, COUNT(tests), argc, argv);
}
