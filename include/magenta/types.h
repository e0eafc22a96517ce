/*
 * <magenta/types.h>: the basic types and constants of the Magenta calls.
 *
 * Handles, status codes (see <magenta/errors.h>), rights (see
 * <magenta/rights.h>), signals, time, channel and socket options, the
 * argument structs of mx_channel_call and mx_object_wait_many, and the
 * constants of the kinds this library does not have (VMOs, VMARs, timers,
 * fifos, caches), with Magenta's names and values.
 */
#ifndef MAGENTA_TYPES_H_
#define MAGENTA_TYPES_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include <magenta/compiler.h>
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
#define MX_KOID_INVALID ((uint64_t)0)
/* The koid Magenta gave its kernel; no object here has it. */
#define MX_KOID_KERNEL  ((uint64_t)1)

/* ---- Time --------------------------------------------------------------- */

/* Nanoseconds on the monotonic clock (CLOCK_MONOTONIC), or a deadline. */
typedef uint64_t mx_time_t;
/* A length of time, in nanoseconds. */
typedef uint64_t mx_duration_t;
#define MX_TIME_INFINITE UINT64_MAX
#define MX_NSEC(n) ((mx_duration_t)(1ull * (n)))
#define MX_USEC(n) ((mx_duration_t)(1000ull * (n)))
#define MX_MSEC(n) ((mx_duration_t)(1000000ull * (n)))
#define MX_SEC(n)  ((mx_duration_t)(1000000000ull * (n)))

/* The clocks of mx_time_get. */
/* Nanoseconds since boot (CLOCK_MONOTONIC); deadlines use this clock. */
#define MX_CLOCK_MONOTONIC (0u)
/* Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME). */
#define MX_CLOCK_UTC       (1u)
/* CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID). */
#define MX_CLOCK_THREAD    (2u)

/* ---- Signals ------------------------------------------------------------ */

/* The state bits an object shows to waiters. The same bit has a name per
   object kind (bit 2: MX_SOCKET_PEER_CLOSED, MX_EPAIR_PEER_CLOSED). */
typedef uint32_t mx_signals_t;

#define MX_SIGNAL_NONE            ((mx_signals_t)0u)
#define MX_USER_SIGNAL_ALL        ((mx_signals_t)0xff000000u)

/* The generic bits behind the names below (Magenta marks them as not for
   programs' use). */
#define __MX_OBJECT_SIGNAL_ALL    ((mx_signals_t)0x00ffffffu)
#define __MX_OBJECT_READABLE      ((mx_signals_t)1u << 0)
#define __MX_OBJECT_WRITABLE      ((mx_signals_t)1u << 1)
#define __MX_OBJECT_PEER_CLOSED   ((mx_signals_t)1u << 2)
#define __MX_OBJECT_SIGNALED      ((mx_signals_t)1u << 3)
#define __MX_OBJECT_SIGNAL_4      ((mx_signals_t)1u << 4)
#define __MX_OBJECT_SIGNAL_5      ((mx_signals_t)1u << 5)
#define __MX_OBJECT_SIGNAL_6      ((mx_signals_t)1u << 6)
#define __MX_OBJECT_SIGNAL_7      ((mx_signals_t)1u << 7)
#define __MX_OBJECT_SIGNAL_8      ((mx_signals_t)1u << 8)
#define __MX_OBJECT_SIGNAL_9      ((mx_signals_t)1u << 9)
#define __MX_OBJECT_SIGNAL_10     ((mx_signals_t)1u << 10)
#define __MX_OBJECT_SIGNAL_11     ((mx_signals_t)1u << 11)
#define __MX_OBJECT_SIGNAL_12     ((mx_signals_t)1u << 12)
#define __MX_OBJECT_SIGNAL_13     ((mx_signals_t)1u << 13)
#define __MX_OBJECT_SIGNAL_14     ((mx_signals_t)1u << 14)
#define __MX_OBJECT_SIGNAL_15     ((mx_signals_t)1u << 15)
#define __MX_OBJECT_SIGNAL_16     ((mx_signals_t)1u << 16)
#define __MX_OBJECT_SIGNAL_17     ((mx_signals_t)1u << 17)
#define __MX_OBJECT_SIGNAL_18     ((mx_signals_t)1u << 18)
#define __MX_OBJECT_SIGNAL_19     ((mx_signals_t)1u << 19)
#define __MX_OBJECT_SIGNAL_20     ((mx_signals_t)1u << 20)
#define __MX_OBJECT_SIGNAL_21     ((mx_signals_t)1u << 21)
#define __MX_OBJECT_LAST_HANDLE   ((mx_signals_t)1u << 22)
#define __MX_OBJECT_HANDLE_CLOSED ((mx_signals_t)1u << 23)

/* Free for programs (mx_object_signal, mx_object_signal_peer). */
#define MX_USER_SIGNAL_0          ((mx_signals_t)1u << 24)
#define MX_USER_SIGNAL_1          ((mx_signals_t)1u << 25)
#define MX_USER_SIGNAL_2          ((mx_signals_t)1u << 26)
#define MX_USER_SIGNAL_3          ((mx_signals_t)1u << 27)
#define MX_USER_SIGNAL_4          ((mx_signals_t)1u << 28)
#define MX_USER_SIGNAL_5          ((mx_signals_t)1u << 29)
#define MX_USER_SIGNAL_6          ((mx_signals_t)1u << 30)
#define MX_USER_SIGNAL_7          ((mx_signals_t)1u << 31)

/* Every object. */
/* Reported in *observed (or pending) when a wait was cancelled because its
   handle was closed. */
#define MX_SIGNAL_HANDLE_CLOSED   __MX_OBJECT_HANDLE_CLOSED
/* Exactly one handle names the object. */
#define MX_SIGNAL_LAST_HANDLE     __MX_OBJECT_LAST_HANDLE

/* Events. */
#define MX_EVENT_SIGNALED         __MX_OBJECT_SIGNALED
#define MX_EVENT_SIGNAL_MASK      (MX_USER_SIGNAL_ALL | __MX_OBJECT_SIGNALED)

/* Eventpairs. */
#define MX_EPAIR_SIGNALED         __MX_OBJECT_SIGNALED
#define MX_EPAIR_PEER_CLOSED      __MX_OBJECT_PEER_CLOSED
#define MX_EPAIR_SIGNAL_MASK \
    (MX_USER_SIGNAL_ALL | __MX_OBJECT_SIGNALED | __MX_OBJECT_PEER_CLOSED)

/* Channels. */
#define MX_CHANNEL_READABLE       __MX_OBJECT_READABLE
#define MX_CHANNEL_WRITABLE       __MX_OBJECT_WRITABLE
#define MX_CHANNEL_PEER_CLOSED    __MX_OBJECT_PEER_CLOSED

/* Sockets. The last four belong to Magenta's later shutdown and control
   plane, which this library does not have: they are never asserted. */
#define MX_SOCKET_READABLE        __MX_OBJECT_READABLE
#define MX_SOCKET_WRITABLE        __MX_OBJECT_WRITABLE
#define MX_SOCKET_PEER_CLOSED     __MX_OBJECT_PEER_CLOSED
#define MX_SOCKET_READ_DISABLED   __MX_OBJECT_SIGNAL_4
#define MX_SOCKET_WRITE_DISABLED  __MX_OBJECT_SIGNAL_5
#define MX_SOCKET_CONTROL_READABLE __MX_OBJECT_SIGNAL_6
#define MX_SOCKET_CONTROL_WRITABLE __MX_OBJECT_SIGNAL_7

/* Ports (never asserted: ports cannot be waited on). */
#define MX_PORT_READABLE          __MX_OBJECT_READABLE

/* Kinds this library does not have. */
#define MX_FIFO_READABLE          __MX_OBJECT_READABLE
#define MX_FIFO_WRITABLE          __MX_OBJECT_WRITABLE
#define MX_FIFO_PEER_CLOSED       __MX_OBJECT_PEER_CLOSED
#define MX_TASK_TERMINATED        __MX_OBJECT_SIGNALED
#define MX_JOB_NO_PROCESSES       __MX_OBJECT_SIGNALED
#define MX_JOB_NO_JOBS            __MX_OBJECT_SIGNAL_4
#define MX_PROCESS_TERMINATED     __MX_OBJECT_SIGNALED
#define MX_THREAD_TERMINATED      __MX_OBJECT_SIGNALED
#define MX_LOG_READABLE           __MX_OBJECT_READABLE
#define MX_LOG_WRITABLE           __MX_OBJECT_WRITABLE
#define MX_TIMER_SIGNALED         __MX_OBJECT_SIGNALED

/* ---- Waiting ------------------------------------------------------------ */

/* One entry of mx_object_wait_many. */
typedef struct mx_wait_item {
    mx_handle_t handle;   /* in: the handle to wait on */
    mx_signals_t waitfor; /* in: the signals that end the wait */
    mx_signals_t pending; /* out: the signals observed during the wait */
} mx_wait_item_t;

/* The most items mx_object_wait_many takes. */
#define MX_WAIT_MANY_MAX_ITEMS 1024u

/* ---- Channels ----------------------------------------------------------- */

/* A transaction id: the first 4 bytes of a message, for mx_channel_call. */
typedef uint32_t mx_txid_t;

/* The arguments of mx_channel_call: 48 bytes. */
typedef struct {
    const void* wr_bytes;          /* the message to write */
    const mx_handle_t* wr_handles; /* its handles (moved on success) */
    void* rd_bytes;                /* room for the reply's bytes */
    mx_handle_t* rd_handles;       /* room for the reply's handles */
    uint32_t wr_num_bytes;
    uint32_t wr_num_handles;
    uint32_t rd_num_bytes;
    uint32_t rd_num_handles;
} mx_channel_call_args_t;

/* mx_channel_read option: drop a message too large for the buffers. */
#define MX_CHANNEL_READ_MAY_DISCARD 1u
/* The most bytes and handles one message holds. */
#define MX_CHANNEL_MAX_MSG_BYTES    65536u
#define MX_CHANNEL_MAX_MSG_HANDLES  64u

/* ---- Sockets ------------------------------------------------------------ */

/* mx_socket_create options. */
#define MX_SOCKET_STREAM          (0u << 0)
#define MX_SOCKET_DATAGRAM        (1u << 0)
/* mx_socket_write option (with size 0): close this end for writing. The
   name of the Magenta this library follows; MX_SOCKET_SHUTDOWN_WRITE is the
   same bit under Magenta's later name. */
#define MX_SOCKET_HALF_CLOSE      1u
/* Later Magenta's names. SHUTDOWN_WRITE is HALF_CLOSE; the others are
   options this library rejects with MX_ERR_INVALID_ARGS. */
#define MX_SOCKET_SHUTDOWN_WRITE  (1u << 0)
#define MX_SOCKET_SHUTDOWN_READ   (1u << 1)
#define MX_SOCKET_SHUTDOWN_MASK   (MX_SOCKET_SHUTDOWN_WRITE | MX_SOCKET_SHUTDOWN_READ)
#define MX_SOCKET_HAS_CONTROL     (1u << 1)
#define MX_SOCKET_CREATE_MASK     (MX_SOCKET_DATAGRAM | MX_SOCKET_HAS_CONTROL)
#define MX_SOCKET_CONTROL         (1u << 2)

/* ---- Memory (VMOs and VMARs: not in this library) ----------------------- */

/* mx_vmo_op_range operations. */
#define MX_VMO_OP_COMMIT                 1u
#define MX_VMO_OP_DECOMMIT               2u
#define MX_VMO_OP_LOCK                   3u
#define MX_VMO_OP_UNLOCK                 4u
#define MX_VMO_OP_LOOKUP                 5u
#define MX_VMO_OP_CACHE_SYNC             6u
#define MX_VMO_OP_CACHE_INVALIDATE       7u
#define MX_VMO_OP_CACHE_CLEAN            8u
#define MX_VMO_OP_CACHE_CLEAN_INVALIDATE 9u

/* mx_vmo_clone options. */
#define MX_VMO_CLONE_COPY_ON_WRITE       1u

/* Mapping flags of the mx_vmar_* calls. */
#define MX_VM_FLAG_PERM_READ          (1u << 0)
#define MX_VM_FLAG_PERM_WRITE         (1u << 1)
#define MX_VM_FLAG_PERM_EXECUTE       (1u << 2)
#define MX_VM_FLAG_COMPACT            (1u << 3)
#define MX_VM_FLAG_SPECIFIC           (1u << 4)
#define MX_VM_FLAG_SPECIFIC_OVERWRITE (1u << 5)
#define MX_VM_FLAG_CAN_MAP_SPECIFIC   (1u << 6)
#define MX_VM_FLAG_CAN_MAP_READ       (1u << 7)
#define MX_VM_FLAG_CAN_MAP_WRITE      (1u << 8)
#define MX_VM_FLAG_CAN_MAP_EXECUTE    (1u << 9)
#define MX_VM_FLAG_MAP_RANGE          (1u << 10)

/* A virtual address. */
typedef uintptr_t mx_vaddr_t;
/* A physical address. */
typedef uintptr_t mx_paddr_t;
/* An offset, and a relative offset. */
typedef uint64_t mx_off_t;
typedef int64_t mx_rel_off_t;

/* The size of an object's name (MX_PROP_NAME), terminator included. */
#define MX_MAX_NAME_LEN           (32)

/* The most bytes one mx_cprng_draw returns, one mx_cprng_add_entropy takes. */
#define MX_CPRNG_DRAW_MAX_LEN        256
#define MX_CPRNG_ADD_ENTROPY_MAX_LEN 256

/* Interrupt flags. */
#define MX_FLAG_REMAP_IRQ  0x1

/* Cache policies of the calls that map memory. */
typedef enum {
    MX_CACHE_POLICY_CACHED          = 0,
    MX_CACHE_POLICY_UNCACHED        = 1,
    MX_CACHE_POLICY_UNCACHED_DEVICE = 2,
    MX_CACHE_POLICY_WRITE_COMBINING = 3,

    MX_CACHE_POLICY_MASK            = 0x3
} mx_cache_policy_t;

/* mx_cache_flush options. */
#define MX_CACHE_FLUSH_INSN         (1u << 0)
#define MX_CACHE_FLUSH_DATA         (1u << 1)

/* mx_timer_start slack options. */
#define MX_TIMER_SLACK_CENTER       0u
#define MX_TIMER_SLACK_EARLY        1u
#define MX_TIMER_SLACK_LATE         2u

/* A futex word: atomic_int in C, int in C++ (whose <atomic> names are in
   namespace std). */
#ifdef __cplusplus
typedef int mx_futex_t;
#else
typedef atomic_int mx_futex_t;
#endif

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_TYPES_H_ */
