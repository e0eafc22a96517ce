/*
 * stream_copy: copies standard input to standard output through a Magenta
 * stream socket. A thread reads stdin and writes into one end; the main
 * thread reads the other end and writes stdout. At end of input the writer
 * half-closes its end, and the reader stops at MX_ERR_PEER_CLOSED once it
 * has read everything.
 *
 *   usage: stream_copy < in > out
 */
#define _POSIX_C_SOURCE 200809L

#include <magenta/syscalls.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

struct writer {
    mx_handle_t socket;
    mx_status_t status;
    int read_error;
};

/* Writes all of buf into the socket, sleeping while it is full. */
static mx_status_t write_all(mx_handle_t socket, const char* buf, size_t len) {
    while (len > 0) {
        size_t actual = 0;
        mx_status_t status = mx_socket_write(socket, 0, buf, len, &actual);
        if (status == MX_ERR_SHOULD_WAIT) {
            status = mx_object_wait_one(socket, MX_SOCKET_WRITABLE | MX_SOCKET_PEER_CLOSED,
                                        MX_TIME_INFINITE, NULL);
            if (status != MX_OK) {
                return status;
            }
            continue;
        }
        if (status != MX_OK) {
            return status;
        }
        buf += actual; /* a stream write may be short */
        len -= actual;
    }
    return MX_OK;
}

static void* stdin_to_socket(void* arg) {
    struct writer* w = arg;
    static char buf[65536];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            w->read_error = errno;
            break;
        }
        if (n == 0) {
            break;
        }
        w->status = write_all(w->socket, buf, (size_t)n);
        if (w->status != MX_OK) {
            return NULL;
        }
    }
    w->status = mx_socket_write(w->socket, MX_SOCKET_HALF_CLOSE, NULL, 0, NULL);
    return NULL;
}

static int write_stdout(const char* buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(void) {
    mx_handle_t in, out;
    mx_status_t status = mx_socket_create(MX_SOCKET_STREAM, &in, &out);
    if (status != MX_OK) {
        fprintf(stderr, "mx_socket_create: %d\n", (int)status);
        return 1;
    }
    struct writer w = {in, MX_OK, 0};
    pthread_t thread;
    pthread_create(&thread, NULL, stdin_to_socket, &w);

    static char buf[65536];
    int failed = 0;
    for (;;) {
        size_t actual = 0;
        status = mx_socket_read(out, 0, buf, sizeof buf, &actual);
        if (status == MX_ERR_SHOULD_WAIT) {
            status = mx_object_wait_one(out, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED,
                                        MX_TIME_INFINITE, NULL);
            if (status == MX_OK) {
                continue;
            }
        }
        if (status == MX_ERR_PEER_CLOSED) {
            break; /* half-closed and drained: end of input */
        }
        if (status != MX_OK) {
            fprintf(stderr, "mx_socket_read: %d\n", (int)status);
            failed = 1;
            break;
        }
        if (write_stdout(buf, actual) != 0) {
            perror("write");
            failed = 1;
            break;
        }
    }
    /* Closing our end makes a writer still blocked see PEER_CLOSED. */
    mx_handle_close(out);
    pthread_join(thread, NULL);
    mx_handle_close(in);
    if (w.read_error != 0 || (w.status != MX_OK && !failed)) {
        fprintf(stderr, "stdin: errno %d, socket: %d\n", w.read_error, (int)w.status);
        failed = 1;
    }
    return failed;
}
