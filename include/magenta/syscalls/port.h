/*
 * <magenta/syscalls/port.h>: port packets and asynchronous-wait options.
 */
#ifndef MAGENTA_SYSCALLS_PORT_H_
#define MAGENTA_SYSCALLS_PORT_H_

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
#define MX_PKT_TYPE_USER        0x00u
#define MX_PKT_TYPE_SIGNAL_ONE  0x01u
#define MX_PKT_TYPE_SIGNAL_REP  0x02u

#define MX_PKT_IS_USER(type)       ((type) == MX_PKT_TYPE_USER)
#define MX_PKT_IS_SIGNAL_ONE(type) ((type) == MX_PKT_TYPE_SIGNAL_ONE)
#define MX_PKT_IS_SIGNAL_REP(type) ((type) == MX_PKT_TYPE_SIGNAL_REP)

/* The payload of a user packet (mx_port_queue): 32 bytes, any view. */
typedef union mx_packet_user {
    uint64_t u64[4];
    uint32_t u32[8];
    uint16_t u16[16];
    uint8_t c8[32];
} mx_packet_user_t;

/* The payload of a signal packet (mx_object_wait_async). */
typedef struct mx_packet_signal {
    mx_signals_t trigger;   /* the signals the wait was registered for */
    mx_signals_t observed;  /* the signals seen */
    uint64_t count;         /* always 1 */
} mx_packet_signal_t;

/* A port packet: 48 bytes. */
typedef struct mx_port_packet {
    uint64_t key;           /* the key given to mx_object_wait_async, or the
                               queued packet's own */
    uint32_t type;          /* MX_PKT_TYPE_* */
    int32_t status;         /* mx_status_t; MX_OK for these packets */
    union {
        mx_packet_user_t user;      /* MX_PKT_TYPE_USER */
        mx_packet_signal_t signal;  /* MX_PKT_TYPE_SIGNAL_ONE, _REP */
    };
} mx_port_packet_t;

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_SYSCALLS_PORT_H_ */
