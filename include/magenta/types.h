/*
 * <magenta/types.h>: the basic types and constants of the Magenta calls.
 *
 * Handles, status codes (see <magenta/errors.h>), rights (see
 * <magenta/rights.h>), signals, time, socket options and mx_wait_item_t.
 */
#ifndef MAGENTA_TYPES_H_
#define MAGENTA_TYPES_H_

#include <stddef.h>
#include <stdint.h>

#include <magenta/errors.h>
#include <magenta/rights.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Handles and status ------------------------------------------------ */

/* A handle value: a positive int32_t naming an object and rights. A closed
   value is not reused for a long time (2^20 closes of its slot). */
typedef int32_t mx_handle_t;
#define MX_HANDLE_INVALID ((mx_handle_t)0)

/* MX_OK or an MX_ERR_* code (<magenta/errors.h>). */
typedef int32_t mx_status_t;

/* A kernel object id: unique for the life of the process (counts from 1024). */
typedef uint64_t mx_koid_t;
#define MX_KOID_INVALID ((mx_koid_t)0u)

/* ---- Time --------------------------------------------------------------- */

/* Nanoseconds on the monotonic clock (CLOCK_MONOTONIC), or a deadline. */
typedef uint64_t mx_time_t;
#define MX_TIME_INFINITE UINT64_MAX
#define MX_NSEC(n) ((mx_time_t)(1ull * (n)))
#define MX_USEC(n) ((mx_time_t)(1000ull * (n)))
#define MX_MSEC(n) ((mx_time_t)(1000000ull * (n)))
#define MX_SEC(n)  ((mx_time_t)(1000000000ull * (n)))

/* The clock of mx_time_get: the only one. */
#define MX_CLOCK_MONOTONIC 0u

/* ---- Signals ------------------------------------------------------------ */

/* The state bits an object shows to waiters. The same bit has a name per
   object kind (bit 2: MX_SOCKET_PEER_CLOSED, MX_EPAIR_PEER_CLOSED). */
typedef uint32_t mx_signals_t;

#define MX_SIGNAL_NONE            ((mx_signals_t)0u)

/* Sockets. */
#define MX_SOCKET_READABLE        ((mx_signals_t)1u << 0)
#define MX_SOCKET_WRITABLE        ((mx_signals_t)1u << 1)
#define MX_SOCKET_PEER_CLOSED     ((mx_signals_t)1u << 2)

/* Channels. */
#define MX_CHANNEL_READABLE       ((mx_signals_t)1u << 0)
#define MX_CHANNEL_WRITABLE       ((mx_signals_t)1u << 1)
#define MX_CHANNEL_PEER_CLOSED    ((mx_signals_t)1u << 2)

/* Events and eventpairs. */
#define MX_EVENT_SIGNALED         ((mx_signals_t)1u << 3)
#define MX_EPAIR_SIGNALED         ((mx_signals_t)1u << 3)
#define MX_EPAIR_PEER_CLOSED      ((mx_signals_t)1u << 2)

/* Every object. */
#define MX_SIGNAL_LAST_HANDLE     ((mx_signals_t)1u << 22)
/* Reported in *observed (or pending) when a wait was cancelled because its
   handle was closed. */
#define MX_SIGNAL_HANDLE_CLOSED   ((mx_signals_t)1u << 23)

/* Free for programs (mx_object_signal, mx_object_signal_peer). */
#define MX_USER_SIGNAL_0          ((mx_signals_t)1u << 24)
#define MX_USER_SIGNAL_1          ((mx_signals_t)1u << 25)
#define MX_USER_SIGNAL_2          ((mx_signals_t)1u << 26)
#define MX_USER_SIGNAL_3          ((mx_signals_t)1u << 27)
#define MX_USER_SIGNAL_4          ((mx_signals_t)1u << 28)
#define MX_USER_SIGNAL_5          ((mx_signals_t)1u << 29)
#define MX_USER_SIGNAL_6          ((mx_signals_t)1u << 30)
#define MX_USER_SIGNAL_7          ((mx_signals_t)1u << 31)
#define MX_USER_SIGNAL_ALL        ((mx_signals_t)0xff000000u)

/* ---- Sockets ------------------------------------------------------------ */

/* mx_socket_create options. */
#define MX_SOCKET_STREAM          0u
#define MX_SOCKET_DATAGRAM        1u
/* mx_socket_write option (with size 0): close this end for writing. */
#define MX_SOCKET_HALF_CLOSE      1u

/* ---- Channels ----------------------------------------------------------- */

/* The largest message: bytes and handles (both limits inclusive). */
#define MX_CHANNEL_MAX_MSG_BYTES   65536u
#define MX_CHANNEL_MAX_MSG_HANDLES 64u
/* mx_channel_read option: destroy a message that does not fit. */
#define MX_CHANNEL_READ_MAY_DISCARD 1u

/* A message's transaction id: its first four bytes (mx_channel_call). */
typedef uint32_t mx_txid_t;

/* The two messages of mx_channel_call. */
typedef struct mx_channel_call_args {
    const void* wr_bytes;
    const mx_handle_t* wr_handles;
    void* rd_bytes;
    mx_handle_t* rd_handles;
    uint32_t wr_num_bytes;
    uint32_t wr_num_handles;
    uint32_t rd_num_bytes;
    uint32_t rd_num_handles;
} mx_channel_call_args_t;

/* ---- Waiting ------------------------------------------------------------ */

/* One entry of mx_object_wait_many. */
typedef struct mx_wait_item {
    mx_handle_t handle;   /* in: the handle to wait on */
    mx_signals_t waitfor; /* in: the signals that end the wait */
    mx_signals_t pending; /* out: the signals observed during the wait */
} mx_wait_item_t;

/* The most items mx_object_wait_many takes. */
#define MX_WAIT_MANY_MAX_ITEMS 1024u

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_TYPES_H_ */
