/*
 * <magenta/rights.h>: handle rights (mx_rights_t bits).
 *
 * A handle names an object together with a set of rights; each call checks
 * the rights it needs (MX_ERR_ACCESS_DENIED otherwise).
 */
#ifndef MAGENTA_RIGHTS_H_
#define MAGENTA_RIGHTS_H_

#include <stdint.h>

typedef uint32_t mx_rights_t;

#define MX_RIGHT_NONE        ((mx_rights_t)0u)
/* mx_handle_duplicate. */
#define MX_RIGHT_DUPLICATE   ((mx_rights_t)1u << 0)
/* Moving the handle elsewhere (nothing to move it to here: gates nothing). */
#define MX_RIGHT_TRANSFER    ((mx_rights_t)1u << 1)
/* mx_socket_read, mx_object_wait_*, mx_port_wait. */
#define MX_RIGHT_READ        ((mx_rights_t)1u << 2)
/* mx_socket_write, mx_port_queue, being the port of mx_object_wait_async. */
#define MX_RIGHT_WRITE       ((mx_rights_t)1u << 3)
/* mx_object_signal. */
#define MX_RIGHT_SIGNAL      ((mx_rights_t)1u << 12)
/* mx_object_signal_peer. */
#define MX_RIGHT_SIGNAL_PEER ((mx_rights_t)1u << 13)
/* In mx_handle_duplicate and mx_handle_replace: keep the same rights. */
#define MX_RIGHT_SAME_RIGHTS ((mx_rights_t)1u << 31)

/* The rights of the handles that the create calls return. */
#define MX_DEFAULT_SOCKET_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_SIGNAL | MX_RIGHT_SIGNAL_PEER)
#define MX_DEFAULT_EVENT_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_SIGNAL)
#define MX_DEFAULT_EVENTPAIR_RIGHTS \
    (MX_DEFAULT_EVENT_RIGHTS | MX_RIGHT_SIGNAL_PEER)
#define MX_DEFAULT_CHANNEL_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_SIGNAL | \
     MX_RIGHT_SIGNAL_PEER)
#define MX_DEFAULT_PORT_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE)

#endif /* MAGENTA_RIGHTS_H_ */
