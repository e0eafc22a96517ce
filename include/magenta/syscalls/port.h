/*
 * <magenta/syscalls/port.h>: port packets and asynchronous-wait options.
 *
 * This library queues user packets (mx_port_queue) and signal packets
 * (mx_object_wait_async); the exception and guest packet types exist for
 * programs that name them.
 */
#ifndef MAGENTA_SYSCALLS_PORT_H_
#define MAGENTA_SYSCALLS_PORT_H_

#include <stdbool.h>
#include <stdint.h>

#include <magenta/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* mx_object_wait_async options. */
/* One packet when any of the signals is (or becomes) asserted, then done. */
#define MX_WAIT_ASYNC_ONCE      0u
/* A packet whenever the state changes while a trigger bit is asserted and
   none of this wait's packets is queued, until cancelled. */
#define MX_WAIT_ASYNC_REPEATING 1u

/* mx_port_packet_t.type. */
#define MX_PKT_TYPE_USER          0x00u
#define MX_PKT_TYPE_SIGNAL_ONE    0x01u
#define MX_PKT_TYPE_SIGNAL_REP    0x02u
#define MX_PKT_TYPE_GUEST_MEM     0x03u
#define MX_PKT_TYPE_GUEST_IO      0x04u
#define MX_PKT_TYPE_EXCEPTION(n)  (0x05u | (((n) & 0xFFu) << 8))
#define MX_PKT_TYPE_MASK          0xFFu

#define MX_PKT_IS_USER(type)       ((type) == MX_PKT_TYPE_USER)
#define MX_PKT_IS_SIGNAL_ONE(type) ((type) == MX_PKT_TYPE_SIGNAL_ONE)
#define MX_PKT_IS_SIGNAL_REP(type) ((type) == MX_PKT_TYPE_SIGNAL_REP)
#define MX_PKT_IS_GUEST_MEM(type)  ((type) == MX_PKT_TYPE_GUEST_MEM)
#define MX_PKT_IS_GUEST_IO(type)   ((type) == MX_PKT_TYPE_GUEST_IO)
#define MX_PKT_IS_EXCEPTION(type) \
    (((type) & MX_PKT_TYPE_MASK) == MX_PKT_TYPE_EXCEPTION(0))

/* The payload of a user packet (mx_port_queue): 32 bytes, any view. */
typedef union mx_packet_user {
    uint64_t u64[4];
    uint32_t u32[8];
    uint16_t u16[16];
    uint8_t c8[32];
} mx_packet_user_t;

/* The payload of a signal packet (mx_object_wait_async): 32 bytes. */
typedef struct mx_packet_signal {
    mx_signals_t trigger;   /* the signals the wait was registered for */
    mx_signals_t observed;  /* the signals seen */
    uint64_t count;         /* 1 (see SPEC for channels) */
    uint64_t reserved0;
    uint64_t reserved1;
} mx_packet_signal_t;

/* The payload of an exception packet (not produced here). */
typedef struct mx_packet_exception {
    uint64_t pid;
    uint64_t tid;
    uint64_t reserved0;
    uint64_t reserved1;
} mx_packet_exception_t;

/* The payload of a guest memory trap (not produced here). */
typedef struct mx_packet_guest_mem {
    mx_vaddr_t addr;
#if defined(__aarch64__)
    uint32_t inst;
    uint32_t reserved0;
    uint64_t reserved1;
    uint64_t reserved2;
#elif defined(__x86_64__)
/* x86 instructions are at most 15 bytes long. */
#define X86_MAX_INST_LEN 15u
    uint8_t inst_len;
    uint8_t inst_buf[X86_MAX_INST_LEN];
    uint64_t reserved;
#endif
} mx_packet_guest_mem_t;

/* The payload of a guest port-I/O trap (not produced here). */
typedef struct mx_packet_guest_io {
    uint16_t port;
    uint8_t access_size;
    bool input;
    union {
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint8_t data[4];
    };
    uint64_t reserved0;
    uint64_t reserved1;
    uint64_t reserved2;
} mx_packet_guest_io_t;

/* A port packet: 48 bytes. */
typedef struct mx_port_packet {
    uint64_t key;           /* the key given to mx_object_wait_async, or the
                               queued packet's own */
    uint32_t type;          /* MX_PKT_TYPE_* */
    int32_t status;         /* mx_status_t; MX_OK for these packets */
    union {
        mx_packet_user_t user;              /* MX_PKT_TYPE_USER */
        mx_packet_signal_t signal;          /* MX_PKT_TYPE_SIGNAL_ONE, _REP */
        mx_packet_exception_t exception;
        mx_packet_guest_io_t guest_io;
        mx_packet_guest_mem_t guest_mem;
    };
} mx_port_packet_t;

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_SYSCALLS_PORT_H_ */
