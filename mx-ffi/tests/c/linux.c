/*
 * <magenta/linux.h> from C (SPEC 11): channels made from SOCK_SEQPACKET
 * descriptors, and processes started with handles, which they take with
 * mx_get_startup_handle.
 *
 * The program is also its own child: mx_linux_spawn starts /proc/self/exe
 * with MX_LINUX_TEST_ROLE in the environment, which names what the child
 * does, or (for a child given the parent's environment) with
 * MX_LINUX_TEST_INHERITED, which the parent sets for that purpose. A child
 * reports by its exit status.
 *
 * Built and run by tests/c.rs, normally and with MX_STRICT_POINTERS=1. In
 * strict mode the tests of invalid non-NULL pointers run too (without it
 * such a pointer is undefined behaviour, as in any C library).
 */
#define _GNU_SOURCE

#include <magenta/syscalls.h>
#include <magenta/linux.h>
#include <magenta/processargs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* A value that is no handle. */
#define BOGUS ((mx_handle_t)0x7ffffff0)
/* What an out-parameter holds before a call that must not write it. */
#define UNTOUCHED_HANDLE ((mx_handle_t)0x5a5a5a5a)
/* An address in no mapping (read at run time, so that the compiler does
   not see the invalid access coming). */
static volatile uintptr_t wild_address = 16;
#define WILD ((void*)wild_address)

/* This program, for it to start itself. */
#define SELF "/proc/self/exe"
#define ROLE_ENV "MX_LINUX_TEST_ROLE"
#define INHERITED_ENV "MX_LINUX_TEST_INHERITED"

/* The stream the parent sends its "stream" child. */
#define STREAM_BYTES (8u << 20)

extern char** environ;

/* ---- Helpers ------------------------------------------------------------ */

static int strict_mode(void) {
    const char* value = getenv("MX_STRICT_POINTERS");
    return value != NULL && strcmp(value, "1") == 0;
}

static int fd_is_open(int fd) {
    return fcntl(fd, F_GETFD) != -1;
}

static mx_time_t seconds_from_now(unsigned s) {
    return mx_deadline_after(MX_SEC(s));
}

/* The byte at offset i of the test stream. */
static uint8_t pattern(uint64_t i) {
    return (uint8_t)((i * 0x9e3779b97f4a7c15ull) >> 56);
}

/* FNV-1a, 64 bits: the checksum the child sends back. */
static uint64_t fnv1a(uint64_t hash, const uint8_t* bytes, size_t len) {
    for (size_t i = 0; i < len; i++) {
        hash = (hash ^ bytes[i]) * 0x100000001b3ull;
    }
    return hash;
}
#define FNV_START 0xcbf29ce484222325ull

/* Writes all of buf into a stream socket, waiting while it is full. */
static mx_status_t write_all(mx_handle_t s, const void* buf, size_t len) {
    const uint8_t* at = buf;
    while (len > 0) {
        size_t n = 0;
        mx_status_t status = mx_socket_write(s, 0, at, len, &n);
        if (status == MX_ERR_SHOULD_WAIT) {
            status = mx_object_wait_one(s, MX_SOCKET_WRITABLE | MX_SOCKET_PEER_CLOSED,
                                        seconds_from_now(30), NULL);
            if (status != MX_OK) {
                return status;
            }
            continue;
        }
        if (status != MX_OK) {
            return status;
        }
        at += n;
        len -= n;
    }
    return MX_OK;
}

/* Reads exactly len bytes from a stream socket, waiting while it is empty. */
static mx_status_t read_exact(mx_handle_t s, void* buf, size_t len) {
    uint8_t* at = buf;
    while (len > 0) {
        size_t n = 0;
        mx_status_t status = mx_socket_read(s, 0, at, len, &n);
        if (status == MX_ERR_SHOULD_WAIT) {
            status = mx_object_wait_one(s, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED,
                                        seconds_from_now(30), NULL);
            if (status != MX_OK) {
                return status;
            }
            continue;
        }
        if (status != MX_OK) {
            return status;
        }
        at += n;
        len -= n;
    }
    return MX_OK;
}

/* Whether y is still this process's, with its rights: a byte written to it
   arrives at its peer x. */
static int pair_works(mx_handle_t x, mx_handle_t y) {
    char c = 'q';
    size_t n = 0;
    if (mx_socket_write(y, 0, &c, 1, &n) != MX_OK || n != 1) {
        return 0;
    }
    c = 0;
    return mx_socket_read(x, 0, &c, 1, &n) == MX_OK && n == 1 && c == 'q';
}

/* The child's exit status, 1000 + the signal if one ended it, -1 if it
   cannot be waited for. */
static int wait_child(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

/* Whether this process has no child left (none running, none to reap). */
static int no_child_left(void) {
    int status = 0;
    return waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

/* ---- The children ------------------------------------------------------- */

/* Reads the stream until the parent half-closes, then sends back its length
   and checksum. Also checks argv, the environment, and that each startup
   handle is taken once. */
static int child_stream(int argc, char** argv) {
    if (argc != 2 || strcmp(argv[0], "stream-child") != 0 || strcmp(argv[1], "one") != 0) {
        return 10;
    }
    /* The environment is envp's valid entries and the library's variable. */
    size_t count = 0;
    for (char** e = environ; *e != NULL; e++) count++;
    if (count != 2 || getenv("NO_EQUALS_SIGN") != NULL || getenv("PATH") != NULL ||
        getenv("MX_STARTUP_FD") == NULL) {
        return 11;
    }
    mx_handle_t s = mx_get_startup_handle(PA_HND(PA_USER0, 0));
    if (s == MX_HANDLE_INVALID) {
        return 12;
    }
    if (mx_get_startup_handle(PA_HND(PA_USER0, 0)) != MX_HANDLE_INVALID ||
        mx_get_startup_handle(PA_HND(PA_USER1, 0)) != MX_HANDLE_INVALID) {
        return 13;
    }
    static uint8_t buf[65536];
    uint64_t hash = FNV_START, total = 0;
    for (;;) {
        size_t n = 0;
        mx_status_t status = mx_socket_read(s, 0, buf, sizeof buf, &n);
        if (status == MX_ERR_SHOULD_WAIT) {
            if (mx_object_wait_one(s, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED,
                                   seconds_from_now(30), NULL) != MX_OK) {
                return 14;
            }
            continue;
        }
        if (status == MX_ERR_PEER_CLOSED) {
            break; /* half-closed, and all read */
        }
        if (status != MX_OK) {
            return 15;
        }
        hash = fnv1a(hash, buf, n);
        total += n;
    }
    uint64_t report[2] = {total, hash};
    if (write_all(s, report, sizeof report) != MX_OK) {
        return 16;
    }
    return mx_handle_close(s) == MX_OK ? 0 : 17;
}

/* Started with NULL argv and envp, and no handles. */
static int child_inherited(int argc, char** argv) {
    if (argc != 1 || strcmp(argv[0], SELF) != 0) {
        return 20;
    }
    const char* inherited = getenv(INHERITED_ENV);
    if (inherited == NULL || strcmp(inherited, "yes") != 0) {
        return 21;
    }
    return mx_get_startup_handle(PA_HND(PA_USER0, 0)) == MX_HANDLE_INVALID ? 0 : 22;
}

/* Sends back every message it receives on its channel, handles included,
   until the parent closes its end. */
static int child_echo(void) {
    mx_handle_t c = mx_get_startup_handle(PA_HND(PA_USER1, 7));
    if (c == MX_HANDLE_INVALID) {
        return 30;
    }
    for (;;) {
        mx_signals_t seen = 0;
        if (mx_object_wait_one(c, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                               seconds_from_now(30), &seen) != MX_OK) {
            return 31;
        }
        uint8_t bytes[64];
        mx_handle_t handles[4];
        uint32_t nb = 0, nh = 0;
        mx_status_t status = mx_channel_read(c, 0, bytes, handles, sizeof bytes, 4, &nb, &nh);
        if (status == MX_ERR_PEER_CLOSED) {
            return 0;
        }
        if (status != MX_OK || mx_channel_write(c, 0, bytes, nb, handles, nh) != MX_OK) {
            return 32;
        }
    }
}

static int child_main(const char* role, int argc, char** argv) {
    if (strcmp(role, "stream") == 0) return child_stream(argc, argv);
    if (strcmp(role, "inherited") == 0) return child_inherited(argc, argv);
    if (strcmp(role, "echo") == 0) return child_echo();
    return 99;
}

/* ---- mx_linux_channel_from_fd ------------------------------------------- */

TEST(channel_from_fd_carries_messages_and_handles) {
    int sv[2];
    EXPECT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    mx_handle_t a = UNTOUCHED_HANDLE, b = UNTOUCHED_HANDLE;
    EXPECT_OK(mx_linux_channel_from_fd(sv[0], &a));
    EXPECT(!fd_is_open(sv[0])); /* taken, and closed */
    EXPECT_OK(mx_linux_channel_from_fd(sv[1], &b));
    EXPECT(a != UNTOUCHED_HANDLE && a != MX_HANDLE_INVALID);
    EXPECT(b != UNTOUCHED_HANDLE && b != MX_HANDLE_INVALID && b != a);
    mx_info_handle_basic_t info;
    EXPECT_OK(mx_object_get_info(a, MX_INFO_HANDLE_BASIC, &info, sizeof info, NULL, NULL));
    EXPECT_EQ(info.type, MX_OBJ_TYPE_CHANNEL);
    EXPECT_EQ(info.rights, MX_DEFAULT_CHANNEL_RIGHTS);

    EXPECT_OK(mx_channel_write(a, 0, "ping", 4, NULL, 0));
    EXPECT_OK(mx_object_wait_one(b, MX_CHANNEL_READABLE, seconds_from_now(10), NULL));
    char bytes[16];
    uint32_t nb = 0, nh = 0;
    EXPECT_OK(mx_channel_read(b, 0, bytes, NULL, sizeof bytes, 0, &nb, &nh));
    EXPECT_EQ(nb, 4);
    EXPECT_EQ(nh, 0);
    EXPECT(memcmp(bytes, "ping", 4) == 0);

    /* A socket end goes through and still works. */
    mx_handle_t s0, s1, got = MX_HANDLE_INVALID;
    EXPECT_OK(mx_socket_create(0, &s0, &s1));
    EXPECT_OK(mx_channel_write(b, 0, "sock", 4, &s1, 1));
    EXPECT_OK(mx_object_wait_one(a, MX_CHANNEL_READABLE, seconds_from_now(10), NULL));
    EXPECT_OK(mx_channel_read(a, 0, bytes, &got, sizeof bytes, 1, &nb, &nh));
    EXPECT_EQ(nb, 4);
    EXPECT_EQ(nh, 1);
    EXPECT(pair_works(got, s0));

    EXPECT_OK(mx_handle_close(a));
    mx_signals_t seen = 0;
    EXPECT_OK(mx_object_wait_one(b, MX_CHANNEL_PEER_CLOSED, seconds_from_now(10), &seen));
    EXPECT(seen & MX_CHANNEL_PEER_CLOSED);
    EXPECT_OK(mx_handle_close(b));
    EXPECT_OK(mx_handle_close(got));
    EXPECT_OK(mx_handle_close(s0));
}

TEST(channel_from_fd_refuses_other_descriptors_and_leaves_them_open) {
    mx_handle_t h = UNTOUCHED_HANDLE;
    int p[2];
    EXPECT(pipe(p) == 0);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_channel_from_fd(p[0], &h));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_channel_from_fd(p[1], &h));
    EXPECT(fd_is_open(p[0]) && fd_is_open(p[1]));
    char c = 'p';
    EXPECT(write(p[1], &c, 1) == 1 && read(p[0], &c, 1) == 1 && c == 'p');
    close(p[0]);
    close(p[1]);

    int kinds[] = {SOCK_STREAM, SOCK_DGRAM};
    for (size_t i = 0; i < COUNT(kinds); i++) {
        int sv[2];
        EXPECT(socketpair(AF_UNIX, kinds[i], 0, sv) == 0);
        EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_channel_from_fd(sv[0], &h));
        EXPECT(fd_is_open(sv[0]));
        close(sv[0]);
        close(sv[1]);
    }
    /* A SOCK_SEQPACKET socket, but not connected. */
    int lonely = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    EXPECT(lonely >= 0);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_channel_from_fd(lonely, &h));
    EXPECT(fd_is_open(lonely));
    /* No descriptor at all. */
    int gone = dup(lonely);
    EXPECT(gone >= 0);
    close(gone);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_channel_from_fd(gone, &h));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_channel_from_fd(-1, &h));
    close(lonely);
    EXPECT_EQ(h, UNTOUCHED_HANDLE);
}

TEST(channel_from_fd_with_a_null_out_takes_nothing) {
    int sv[2];
    EXPECT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_channel_from_fd(sv[0], NULL));
    EXPECT(fd_is_open(sv[0]));
    if (strict_mode()) {
        EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_channel_from_fd(sv[0], (mx_handle_t*)WILD));
        static const mx_handle_t read_only = 0;
        EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                      mx_linux_channel_from_fd(sv[0], (mx_handle_t*)(uintptr_t)&read_only));
        EXPECT(fd_is_open(sv[0]));
    }
    /* The descriptor is as good as before. */
    mx_handle_t a, b;
    EXPECT_OK(mx_linux_channel_from_fd(sv[0], &a));
    EXPECT_OK(mx_linux_channel_from_fd(sv[1], &b));
    EXPECT_OK(mx_channel_write(a, 0, "x", 1, NULL, 0));
    EXPECT_OK(mx_object_wait_one(b, MX_CHANNEL_READABLE, seconds_from_now(10), NULL));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

/* ---- mx_linux_spawn ------------------------------------------------------ */

TEST(spawn_streams_to_a_child_that_sends_back_a_checksum) {
    mx_handle_t a, b;
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &a, &b));
    char* const argv[] = {"stream-child", "one", NULL};
    char* const envp[] = {ROLE_ENV "=stream", "NO_EQUALS_SIGN", "=empty-name", NULL};
    uint32_t info = PA_HND(PA_USER0, 0);
    pid_t pid = -1;
    EXPECT_OK(mx_linux_spawn(SELF, argv, envp, &b, &info, 1, &pid));
    EXPECT(pid > 0);
    /* The handle left this process. */
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_handle_close(b));

    static uint8_t buf[65536];
    uint64_t hash = FNV_START;
    for (uint64_t offset = 0; offset < STREAM_BYTES; offset += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i++) buf[i] = pattern(offset + i);
        hash = fnv1a(hash, buf, sizeof buf);
        EXPECT_OK(write_all(a, buf, sizeof buf));
    }
    EXPECT_OK(mx_socket_write(a, MX_SOCKET_HALF_CLOSE, NULL, 0, NULL));
    uint64_t report[2] = {0, 0};
    EXPECT_OK(read_exact(a, report, sizeof report));
    EXPECT_EQ(report[0], STREAM_BYTES);
    EXPECT_EQ(report[1], hash);
    EXPECT_EQ(wait_child(pid), 0);
    /* The child's exit closed its end. */
    mx_signals_t seen = 0;
    EXPECT_OK(mx_object_wait_one(a, MX_SOCKET_PEER_CLOSED, seconds_from_now(5), &seen));
    EXPECT(seen & MX_SOCKET_PEER_CLOSED);
    EXPECT_OK(mx_handle_close(a));
}

TEST(spawn_with_the_callers_environment_and_argv_of_path) {
    pid_t pid = -1;
    EXPECT_OK(mx_linux_spawn(SELF, NULL, NULL, NULL, NULL, 0, &pid));
    EXPECT_EQ(wait_child(pid), 0);
    /* An empty argv is the same. */
    char* const empty[] = {NULL};
    EXPECT_OK(mx_linux_spawn(SELF, empty, NULL, NULL, NULL, 0, &pid));
    EXPECT_EQ(wait_child(pid), 0);
    /* pid may be NULL: the child is reaped all the same. */
    EXPECT_OK(mx_linux_spawn(SELF, NULL, NULL, NULL, NULL, 0, NULL));
    int status = -1;
    EXPECT(waitpid(-1, &status, 0) > 0);
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT(no_child_left());
}

TEST(spawn_gives_a_channel_end_that_carries_handles_both_ways) {
    mx_handle_t a, b;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    char* const envp[] = {ROLE_ENV "=echo", NULL};
    uint32_t info = PA_HND(PA_USER1, 7);
    pid_t pid = -1;
    EXPECT_OK(mx_linux_spawn(SELF, NULL, envp, &b, &info, 1, &pid));
    for (int round = 0; round < 20; round++) {
        mx_handle_t s0, s1, back = MX_HANDLE_INVALID;
        EXPECT_OK(mx_socket_create(0, &s0, &s1));
        EXPECT_OK(mx_channel_write(a, 0, &round, sizeof round, &s1, 1));
        EXPECT_OK(mx_object_wait_one(a, MX_CHANNEL_READABLE, seconds_from_now(30), NULL));
        int echoed = -1;
        uint32_t nb = 0, nh = 0;
        EXPECT_OK(mx_channel_read(a, 0, &echoed, &back, sizeof echoed, 1, &nb, &nh));
        EXPECT_EQ(nb, sizeof echoed);
        EXPECT_EQ(nh, 1);
        EXPECT_EQ(echoed, round);
        /* The socket end went to the child and came back: the same pair. */
        EXPECT(pair_works(back, s0));
        EXPECT_OK(mx_handle_close(back));
        EXPECT_OK(mx_handle_close(s0));
    }
    EXPECT_OK(mx_handle_close(a));
    EXPECT_EQ(wait_child(pid), 0);
}

TEST(spawn_argument_errors_leave_the_handles) {
    mx_handle_t a, b;
    EXPECT_OK(mx_socket_create(0, &a, &b));
    uint32_t info = PA_HND(PA_USER0, 0);
    pid_t pid = 77;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(NULL, NULL, NULL, &b, &info, 1, &pid));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, NULL, NULL, NULL, &info, 1, &pid));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, NULL, NULL, &b, NULL, 1, &pid));
    mx_handle_t twice[2] = {b, b};
    uint32_t two_infos[2] = {PA_HND(PA_USER0, 0), PA_HND(PA_USER0, 1)};
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, NULL, NULL, twice, two_infos, 2, &pid));
    mx_handle_t many[65];
    uint32_t many_infos[65];
    for (uint32_t i = 0; i < 65; i++) {
        many[i] = b;
        many_infos[i] = PA_HND(PA_USER0, i);
    }
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, NULL, NULL, many, many_infos, 65, &pid));
    mx_handle_t bogus = BOGUS;
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_linux_spawn(SELF, NULL, NULL, &bogus, &info, 1, &pid));
    mx_handle_t b_then_bogus[2] = {b, BOGUS};
    EXPECT_STATUS(MX_ERR_BAD_HANDLE,
                  mx_linux_spawn(SELF, NULL, NULL, b_then_bogus, two_infos, 2, &pid));
    EXPECT_EQ(pid, 77);
    EXPECT(pair_works(a, b));
    EXPECT(no_child_left());
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(spawn_needs_the_transfer_right) {
    mx_handle_t a, b, weak;
    EXPECT_OK(mx_socket_create(0, &a, &b));
    mx_rights_t rights = MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_DUPLICATE;
    EXPECT_OK(mx_handle_replace(b, rights, &weak));
    uint32_t info = PA_HND(PA_USER0, 0);
    pid_t pid = 77;
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_linux_spawn(SELF, NULL, NULL, &weak, &info, 1, &pid));
    EXPECT_EQ(pid, 77);
    mx_info_handle_basic_t basic;
    EXPECT_OK(mx_object_get_info(weak, MX_INFO_HANDLE_BASIC, &basic, sizeof basic, NULL, NULL));
    EXPECT_EQ(basic.rights, rights);
    EXPECT(pair_works(a, weak));
    EXPECT(no_child_left());
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(weak));
}

TEST(spawn_refuses_events_eventpairs_and_ports) {
    mx_handle_t a, b, event, ep0, ep1, port;
    EXPECT_OK(mx_socket_create(0, &a, &b));
    EXPECT_OK(mx_event_create(0, &event));
    EXPECT_OK(mx_eventpair_create(0, &ep0, &ep1));
    EXPECT_OK(mx_port_create(0, &port));
    mx_handle_t kinds[] = {event, ep0, port};
    uint32_t infos[2] = {PA_HND(PA_USER0, 0), PA_HND(PA_USER0, 1)};
    for (size_t i = 0; i < COUNT(kinds); i++) {
        EXPECT_STATUS(MX_ERR_NOT_SUPPORTED,
                      mx_linux_spawn(SELF, NULL, NULL, &kinds[i], infos, 1, NULL));
        /* With a socket that could go: nothing goes. */
        mx_handle_t pair[2] = {b, kinds[i]};
        EXPECT_STATUS(MX_ERR_NOT_SUPPORTED, mx_linux_spawn(SELF, NULL, NULL, pair, infos, 2, NULL));
    }
    EXPECT_OK(mx_object_signal(event, 0, MX_USER_SIGNAL_0));
    EXPECT_OK(mx_object_signal_peer(ep0, 0, MX_USER_SIGNAL_1));
    EXPECT_SIGNALS(ep1, MX_USER_SIGNAL_1 | MX_SIGNAL_LAST_HANDLE);
    EXPECT(pair_works(a, b));
    EXPECT(no_child_left());
    mx_handle_t all[] = {a, b, event, ep0, ep1, port};
    for (size_t i = 0; i < COUNT(all); i++) EXPECT_OK(mx_handle_close(all[i]));
}

TEST(spawn_that_cannot_start_leaves_the_handles_and_no_process) {
    mx_handle_t a, b;
    EXPECT_OK(mx_socket_create(0, &a, &b));
    uint32_t info = PA_HND(PA_USER0, 0);
    pid_t pid = 77;
    EXPECT_STATUS(MX_ERR_NOT_FOUND,
                  mx_linux_spawn("/nonexistent/mx-linux-test", NULL, NULL, &b, &info, 1, &pid));
    EXPECT(pair_works(a, b));
    /* A name without '/' is not looked up in PATH, as with execve. */
    EXPECT_STATUS(MX_ERR_NOT_FOUND, mx_linux_spawn("sh", NULL, NULL, &b, &info, 1, &pid));
    EXPECT_STATUS(MX_ERR_NOT_FOUND, mx_linux_spawn("", NULL, NULL, &b, &info, 1, &pid));
    /* Not executable. */
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_linux_spawn("/dev/null", NULL, NULL, &b, &info, 1, &pid));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_linux_spawn("/", NULL, NULL, &b, &info, 1, &pid));
    EXPECT_EQ(pid, 77);
    EXPECT(pair_works(a, b));
    EXPECT(no_child_left());
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(spawn_strings_beyond_the_limits) {
    mx_handle_t a, b;
    EXPECT_OK(mx_socket_create(0, &a, &b));
    uint32_t info = PA_HND(PA_USER0, 0);
    /* 1 MiB is the most a string may have, without its NUL. */
    size_t max = 1u << 20;
    char* long_string = malloc(max + 2);
    EXPECT(long_string != NULL);
    memset(long_string, 'a', max + 1);
    long_string[max + 1] = 0;
    char* const too_long[] = {"x", long_string, NULL};
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, too_long, NULL, &b, &info, 1, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, NULL, too_long, &b, &info, 1, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(long_string, NULL, NULL, &b, &info, 1, NULL));
    /* Within the library's limit, beyond the kernel's (128 KiB a string):
       the start fails. */
    long_string[200000] = 0;
    EXPECT_STATUS(MX_ERR_IO, mx_linux_spawn(SELF, too_long, NULL, &b, &info, 1, NULL));
    free(long_string);
    /* 65536 strings is the most an array may have. */
    size_t entries = (1u << 16) + 1;
    char** too_many = malloc((entries + 1) * sizeof *too_many);
    EXPECT(too_many != NULL);
    for (size_t i = 0; i < entries; i++) too_many[i] = "y";
    too_many[entries] = NULL;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, too_many, NULL, &b, &info, 1, NULL));
    free(too_many);
    EXPECT(pair_works(a, b));
    EXPECT(no_child_left());
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(spawn_with_invalid_pointers_in_strict_mode) {
    if (!strict_mode()) {
        return; /* undefined behaviour without it */
    }
    mx_handle_t a, b;
    EXPECT_OK(mx_socket_create(0, &a, &b));
    uint32_t info = PA_HND(PA_USER0, 0);
    char* const wild_entry[] = {"x", (char*)WILD, NULL};
    static const pid_t read_only = 0;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn((const char*)WILD, NULL, NULL, &b, &info, 1, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, (char* const*)WILD, NULL, &b, &info, 1, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, NULL, (char* const*)WILD, &b, &info, 1, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, wild_entry, NULL, &b, &info, 1, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_linux_spawn(SELF, NULL, wild_entry, &b, &info, 1, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_linux_spawn(SELF, NULL, NULL, (const mx_handle_t*)WILD, &info, 1, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_linux_spawn(SELF, NULL, NULL, &b, (const uint32_t*)WILD, 1, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_linux_spawn(SELF, NULL, NULL, &b, &info, 1, (pid_t*)WILD));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_linux_spawn(SELF, NULL, NULL, &b, &info, 1, (pid_t*)(uintptr_t)&read_only));
    EXPECT_EQ(read_only, 0);
    EXPECT(pair_works(a, b));
    EXPECT(no_child_left());
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

/* ---- mx_get_startup_handle ---------------------------------------------- */

TEST(startup_handles_of_a_process_not_spawned) {
    EXPECT_EQ(mx_get_startup_handle(PA_HND(PA_USER0, 0)), MX_HANDLE_INVALID);
    EXPECT_EQ(mx_get_startup_handle(PA_HND(PA_USER1, 7)), MX_HANDLE_INVALID);
    EXPECT_EQ(mx_get_startup_handle(0), MX_HANDLE_INVALID);
    EXPECT_EQ(mx_get_startup_handle(PA_HND(PA_USER0, 0)), MX_HANDLE_INVALID);
}

static const struct test tests[] = {
    T(channel_from_fd_carries_messages_and_handles),
    T(channel_from_fd_refuses_other_descriptors_and_leaves_them_open),
    T(channel_from_fd_with_a_null_out_takes_nothing),
    T(spawn_streams_to_a_child_that_sends_back_a_checksum),
    T(spawn_with_the_callers_environment_and_argv_of_path),
    T(spawn_gives_a_channel_end_that_carries_handles_both_ways),
    T(spawn_argument_errors_leave_the_handles),
    T(spawn_needs_the_transfer_right),
    T(spawn_refuses_events_eventpairs_and_ports),
    T(spawn_that_cannot_start_leaves_the_handles_and_no_process),
    T(spawn_strings_beyond_the_limits),
    T(spawn_with_invalid_pointers_in_strict_mode),
    T(startup_handles_of_a_process_not_spawned),
};

int main(int argc, char** argv) {
    const char* role = getenv(ROLE_ENV);
    if (role == NULL && getenv(INHERITED_ENV) != NULL) {
        role = "inherited";
    }
    if (role != NULL) {
        return child_main(role, argc, argv);
    }
    /* What a child started with the caller's environment finds (set while
       this process has one thread). */
    setenv(INHERITED_ENV, "yes", 1);
    return run_tests(tests, COUNT(tests), argc, argv);
}
