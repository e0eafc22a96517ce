/*
 * spawn_stream: a process starts itself again as a child with
 * mx_linux_spawn (<magenta/linux.h>), handing it one end of a Magenta
 * stream socket, and streams a checked pattern through it. The child takes
 * its end with mx_get_startup_handle, verifies every byte and, once the
 * parent has half-closed its end, sends back how many bytes it received,
 * which the parent checks. The parent reaps the child with waitpid: the
 * library does not.
 *
 *   usage: spawn_stream [mebibytes]          (default 64)
 */
#define _POSIX_C_SOURCE 200809L

#include <magenta/syscalls.h>
#include <magenta/linux.h>
#include <magenta/processargs.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* argv[1] of the child. */
#define CHILD_ARG "--child"
/* What the child asks mx_get_startup_handle for. */
#define SOCKET_INFO PA_HND(PA_USER0, 0)

/* The byte at offset i of the stream: not periodic over any short span. */
static uint8_t pattern(uint64_t i) {
    return (uint8_t)((i * 0x9e3779b97f4a7c15ull) >> 56);
}

static mx_status_t wait_for(mx_handle_t socket, mx_signals_t signals) {
    return mx_object_wait_one(socket, signals | MX_SOCKET_PEER_CLOSED, MX_TIME_INFINITE, NULL);
}

/* Writes all of buf, waiting while the socket is full. */
static mx_status_t write_all(mx_handle_t socket, const void* buf, size_t len) {
    const uint8_t* at = buf;
    while (len > 0) {
        size_t actual = 0;
        mx_status_t status = mx_socket_write(socket, 0, at, len, &actual);
        if (status == MX_ERR_SHOULD_WAIT) {
            status = wait_for(socket, MX_SOCKET_WRITABLE);
            if (status != MX_OK) {
                return status;
            }
            continue;
        }
        if (status != MX_OK) {
            return status;
        }
        at += actual; /* a stream write may be short */
        len -= actual;
    }
    return MX_OK;
}

/* Reads exactly len bytes, waiting while the socket is empty. */
static mx_status_t read_all(mx_handle_t socket, void* buf, size_t len) {
    uint8_t* at = buf;
    while (len > 0) {
        size_t actual = 0;
        mx_status_t status = mx_socket_read(socket, 0, at, len, &actual);
        if (status == MX_ERR_SHOULD_WAIT) {
            status = wait_for(socket, MX_SOCKET_READABLE);
            if (status != MX_OK) {
                return status;
            }
            continue;
        }
        if (status != MX_OK) {
            return status;
        }
        at += actual;
        len -= actual;
    }
    return MX_OK;
}

/* The child: verifies the stream, then reports its length. */
static int child(void) {
    mx_handle_t socket = mx_get_startup_handle(SOCKET_INFO);
    if (socket == MX_HANDLE_INVALID) {
        fprintf(stderr, "child: no startup handle (not started by mx_linux_spawn?)\n");
        return 1;
    }
    static uint8_t buf[65536];
    uint64_t received = 0;
    for (;;) {
        size_t actual = 0;
        mx_status_t status = mx_socket_read(socket, 0, buf, sizeof buf, &actual);
        if (status == MX_ERR_SHOULD_WAIT) {
            status = wait_for(socket, MX_SOCKET_READABLE);
            if (status == MX_OK) {
                continue;
            }
        }
        if (status == MX_ERR_PEER_CLOSED) {
            break; /* half-closed and drained: the whole stream is here */
        }
        if (status != MX_OK) {
            fprintf(stderr, "child: mx_socket_read: %d\n", (int)status);
            return 1;
        }
        for (size_t i = 0; i < actual; i++) {
            if (buf[i] != pattern(received + i)) {
                fprintf(stderr, "child: byte %" PRIu64 " is %u, expected %u\n", received + i,
                        (unsigned)buf[i], (unsigned)pattern(received + i));
                return 1; /* exiting closes the socket: the parent sees PEER_CLOSED */
            }
        }
        received += actual;
    }
    /* The half-close stops only the parent's direction: ours still works. */
    mx_status_t status = write_all(socket, &received, sizeof received);
    mx_handle_close(socket);
    if (status != MX_OK) {
        fprintf(stderr, "child: reporting the count: %d\n", (int)status);
        return 1;
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], CHILD_ARG) == 0) {
        return child();
    }
    uint64_t total = (argc > 1 ? strtoull(argv[1], NULL, 10) : 64) << 20;

    mx_handle_t ours, theirs;
    mx_status_t status = mx_socket_create(MX_SOCKET_STREAM, &ours, &theirs);
    if (status != MX_OK) {
        fprintf(stderr, "mx_socket_create: %d\n", (int)status);
        return 1;
    }
    /* The child is this program. /proc/self/exe names it whatever argv[0]
       is (a name found through PATH, say); argv[0] is what the child sees. */
    char* child_argv[] = {argv[0], CHILD_ARG, NULL};
    uint32_t info = SOCKET_INFO;
    pid_t pid = 0;
    status = mx_linux_spawn("/proc/self/exe", child_argv, NULL, &theirs, &info, 1, &pid);
    if (status != MX_OK) {
        fprintf(stderr, "mx_linux_spawn: %d\n", (int)status);
        return 1;
    }
    /* `theirs` is the child's now: it is no longer valid here. */

    int failed = 0;
    static uint8_t buf[65536];
    for (uint64_t offset = 0; offset < total;) {
        size_t len = total - offset < sizeof buf ? (size_t)(total - offset) : sizeof buf;
        for (size_t i = 0; i < len; i++) {
            buf[i] = pattern(offset + i);
        }
        status = write_all(ours, buf, len);
        if (status != MX_OK) {
            fprintf(stderr, "mx_socket_write at byte %" PRIu64 ": %d\n", offset, (int)status);
            failed = 1;
            break;
        }
        offset += len;
    }
    uint64_t counted = 0;
    if (!failed) {
        /* End of stream: the child's reads end with MX_ERR_PEER_CLOSED once
           it has everything. Then it answers. */
        status = mx_socket_write(ours, MX_SOCKET_HALF_CLOSE, NULL, 0, NULL);
        if (status == MX_OK) {
            status = read_all(ours, &counted, sizeof counted);
        }
        if (status != MX_OK) {
            fprintf(stderr, "half-close and answer: %d\n", (int)status);
            failed = 1;
        }
    }
    mx_handle_close(ours);

    int wait_status = 0;
    if (waitpid(pid, &wait_status, 0) != pid || !WIFEXITED(wait_status) ||
        WEXITSTATUS(wait_status) != 0) {
        fprintf(stderr, "the child failed (wait status %d)\n", wait_status);
        failed = 1;
    }
    if (failed || counted != total) {
        fprintf(stderr, "the child counted %" PRIu64 " of %" PRIu64 " bytes\n", counted, total);
        return 1;
    }
    printf("child verified %" PRIu64 " of %" PRIu64 " bytes\n", counted, total);
    return 0;
}
