/*
 * <magenta/rights.h>: handle rights (mx_rights_t bits) and the rights each
 * kind of object's handles start with.
 *
 * A handle names an object together with a set of rights; each call checks
 * the rights it needs (MX_ERR_ACCESS_DENIED otherwise). Every right and
 * default of Magenta is here, also for kinds this library does not have.
 */
#ifndef MAGENTA_RIGHTS_H_
#define MAGENTA_RIGHTS_H_

#include <stdint.h>

typedef uint32_t mx_rights_t;

#define MX_RIGHT_NONE         ((mx_rights_t)0u)
/* mx_handle_duplicate. */
#define MX_RIGHT_DUPLICATE    ((mx_rights_t)1u << 0)
/* Moving the handle elsewhere (nothing to move it to here: gates nothing). */
#define MX_RIGHT_TRANSFER     ((mx_rights_t)1u << 1)
/* mx_socket_read, mx_object_wait_*, mx_port_wait. */
#define MX_RIGHT_READ         ((mx_rights_t)1u << 2)
/* mx_socket_write, mx_port_queue, being the port of mx_object_wait_async. */
#define MX_RIGHT_WRITE        ((mx_rights_t)1u << 3)
/* Mapping memory executable (VMOs). */
#define MX_RIGHT_EXECUTE      ((mx_rights_t)1u << 4)
/* Mapping memory (VMOs). */
#define MX_RIGHT_MAP          ((mx_rights_t)1u << 5)
/* mx_object_get_property. No handle of this library's kinds holds it. */
#define MX_RIGHT_GET_PROPERTY ((mx_rights_t)1u << 6)
/* mx_object_set_property. No handle of this library's kinds holds it. */
#define MX_RIGHT_SET_PROPERTY ((mx_rights_t)1u << 7)
/* mx_object_get_child and listing a task's children. */
#define MX_RIGHT_ENUMERATE    ((mx_rights_t)1u << 8)
/* Killing a task. */
#define MX_RIGHT_DESTROY      ((mx_rights_t)1u << 9)
/* Setting a job's policy. */
#define MX_RIGHT_SET_POLICY   ((mx_rights_t)1u << 10)
/* Reading a job's policy. */
#define MX_RIGHT_GET_POLICY   ((mx_rights_t)1u << 11)
/* mx_object_signal. */
#define MX_RIGHT_SIGNAL       ((mx_rights_t)1u << 12)
/* mx_object_signal_peer. */
#define MX_RIGHT_SIGNAL_PEER  ((mx_rights_t)1u << 13)
/* In mx_handle_duplicate and mx_handle_replace: keep the same rights. */
#define MX_RIGHT_SAME_RIGHTS  ((mx_rights_t)1u << 31)

/* ---- The rights of the handles that the create calls return ------------- */

/* Kinds this library has. */
#define MX_DEFAULT_CHANNEL_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_SIGNAL | \
     MX_RIGHT_SIGNAL_PEER)
#define MX_DEFAULT_EVENT_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_SIGNAL)
#define MX_DEFAULT_EVENT_PAIR_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_SIGNAL | MX_RIGHT_SIGNAL_PEER)
#define MX_DEFAULT_PORT_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE)
#define MX_DEFAULT_SOCKET_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_SIGNAL | MX_RIGHT_SIGNAL_PEER)

/* Kinds this library does not have (their calls are MX_ERR_NOT_SUPPORTED). */
#define MX_DEFAULT_FIFO_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_SIGNAL | MX_RIGHT_SIGNAL_PEER)
#define MX_DEFAULT_GUEST_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_WRITE)
#define MX_DEFAULT_INTERRUPT_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE)
#define MX_DEFAULT_IO_MAPPING_RIGHTS MX_RIGHT_READ
#define MX_DEFAULT_JOB_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_DUPLICATE | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_ENUMERATE | MX_RIGHT_DESTROY | MX_RIGHT_GET_PROPERTY | \
     MX_RIGHT_SET_PROPERTY | MX_RIGHT_SET_POLICY | MX_RIGHT_GET_POLICY | \
     MX_RIGHT_SIGNAL)
#define MX_DEFAULT_LOG_RIGHTS \
    (MX_RIGHT_TRANSFER | MX_RIGHT_WRITE | MX_RIGHT_DUPLICATE | MX_RIGHT_SIGNAL)
#define MX_DEFAULT_PCI_DEVICE_RIGHTS \
    (MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER)
#define MX_DEFAULT_PCI_INTERRUPT_RIGHTS \
    (MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_TRANSFER)
#define MX_DEFAULT_PROCESS_RIGHTS \
    (MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | \
     MX_RIGHT_ENUMERATE | MX_RIGHT_DESTROY | MX_RIGHT_GET_PROPERTY | \
     MX_RIGHT_SET_PROPERTY | MX_RIGHT_SIGNAL)
#define MX_DEFAULT_RESOURCE_RIGHTS \
    (MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | \
     MX_RIGHT_SIGNAL)
#define MX_DEFAULT_THREAD_RIGHTS \
    (MX_RIGHT_READ | MX_RIGHT_WRITE | MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | \
     MX_RIGHT_DESTROY | MX_RIGHT_GET_PROPERTY | MX_RIGHT_SET_PROPERTY | \
     MX_RIGHT_SIGNAL)
#define MX_DEFAULT_TIMERS_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_SIGNAL)
#define MX_DEFAULT_VCPU_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_EXECUTE | MX_RIGHT_SIGNAL)
#define MX_DEFAULT_VMAR_RIGHTS (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER)
#define MX_DEFAULT_VMO_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE | \
     MX_RIGHT_EXECUTE | MX_RIGHT_MAP | MX_RIGHT_GET_PROPERTY | \
     MX_RIGHT_SET_PROPERTY | MX_RIGHT_SIGNAL)
#define MX_DEFAULT_IOMMU_RIGHTS (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER)
#define MX_DEFAULT_BTI_RIGHTS \
    (MX_RIGHT_DUPLICATE | MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_MAP)

#endif /* MAGENTA_RIGHTS_H_ */
