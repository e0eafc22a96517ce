/*
 * datagram_pipeline: a producer thread sends numbered records over a
 * Magenta datagram socket to a consumer thread, then half-closes its end;
 * the consumer reads until the socket reports MX_ERR_PEER_CLOSED.
 *
 *   usage: datagram_pipeline [count]        (default 100000 records)
 *
 * Records are 64 bytes. 64 divides the socket's capacity (257,024 bytes),
 * so when a record does not fit the socket is exactly full and has dropped
 * MX_SOCKET_WRITABLE: waiting for WRITABLE is then a real wait. (With
 * datagrams of varying sizes, a datagram can fail to fit while WRITABLE is
 * still asserted; such a writer must not simply wait for WRITABLE again.)
 */
#include <magenta/syscalls.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_SIZE 64

struct record {
    uint64_t seq;
    uint64_t check;
    char text[RECORD_SIZE - 16];
};

_Static_assert(sizeof(struct record) == RECORD_SIZE, "64-byte records");

struct producer {
    mx_handle_t socket;
    uint64_t count;
    mx_status_t status;
};

static uint64_t checksum(uint64_t seq) {
    return seq * 0x9e3779b97f4a7c15ull ^ 0x5a5a5a5a5a5a5a5aull;
}

static void* produce(void* arg) {
    struct producer* p = arg;
    for (uint64_t seq = 0; seq < p->count; seq++) {
        struct record r;
        memset(&r, 0, sizeof r);
        r.seq = seq;
        r.check = checksum(seq);
        snprintf(r.text, sizeof r.text, "record %" PRIu64, seq);
        for (;;) {
            mx_status_t status = mx_socket_write(p->socket, 0, &r, sizeof r, NULL);
            if (status == MX_OK) {
                break;
            }
            if (status != MX_ERR_SHOULD_WAIT) {
                p->status = status;
                return NULL;
            }
            /* Full: sleep until the consumer makes room (or goes away). */
            status = mx_object_wait_one(p->socket, MX_SOCKET_WRITABLE | MX_SOCKET_PEER_CLOSED,
                                        MX_TIME_INFINITE, NULL);
            if (status != MX_OK) {
                p->status = status;
                return NULL;
            }
        }
    }
    /* No more records: the consumer reads what is queued, then PEER_CLOSED. */
    p->status = mx_socket_write(p->socket, MX_SOCKET_HALF_CLOSE, NULL, 0, NULL);
    return NULL;
}

struct consumer {
    mx_handle_t socket;
    uint64_t received;
    int in_order;
    char last[RECORD_SIZE];
    mx_status_t status;
};

static void* consume(void* arg) {
    struct consumer* c = arg;
    c->in_order = 1;
    for (;;) {
        struct record r;
        size_t actual = 0;
        mx_status_t status = mx_socket_read(c->socket, 0, &r, sizeof r, &actual);
        if (status == MX_ERR_SHOULD_WAIT) {
            status = mx_object_wait_one(c->socket, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED,
                                        MX_TIME_INFINITE, NULL);
            if (status != MX_OK) {
                c->status = status;
                return NULL;
            }
            continue;
        }
        if (status == MX_ERR_PEER_CLOSED) {
            c->status = MX_OK; /* the producer is done and everything is read */
            return NULL;
        }
        if (status != MX_OK) {
            c->status = status;
            return NULL;
        }
        if (actual != sizeof r || r.seq != c->received || r.check != checksum(r.seq)) {
            c->in_order = 0;
        }
        memcpy(c->last, r.text, sizeof r.text);
        c->received++;
    }
}

int main(int argc, char** argv) {
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    mx_handle_t producer_end, consumer_end;
    mx_status_t status = mx_socket_create(MX_SOCKET_DATAGRAM, &producer_end, &consumer_end);
    if (status != MX_OK) {
        fprintf(stderr, "mx_socket_create: %d\n", (int)status);
        return 1;
    }

    struct producer p = {producer_end, count, MX_OK};
    struct consumer c;
    memset(&c, 0, sizeof c);
    c.socket = consumer_end;
    mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
    pthread_t producer_thread, consumer_thread;
    pthread_create(&consumer_thread, NULL, consume, &c);
    pthread_create(&producer_thread, NULL, produce, &p);
    pthread_join(producer_thread, NULL);
    pthread_join(consumer_thread, NULL);
    double seconds = (double)(mx_time_get(MX_CLOCK_MONOTONIC) - start) / 1e9;

    mx_handle_close(producer_end);
    mx_handle_close(consumer_end);
    if (p.status != MX_OK || c.status != MX_OK) {
        fprintf(stderr, "producer: %d, consumer: %d\n", (int)p.status, (int)c.status);
        return 1;
    }
    printf("received %" PRIu64 " of %" PRIu64 " records, %s\n", c.received, count,
           c.in_order ? "in order" : "OUT OF ORDER");
    if (c.received > 0) {
        printf("last: %s\n", c.last);
    }
    fprintf(stderr, "%.0f records/s\n", seconds > 0 ? (double)c.received / seconds : 0.0);
    return c.received == count && c.in_order ? 0 : 1;
}
