/*
 * <magenta/syscalls.h>: every Magenta call that libmagenta provides.
 *
 * Including this header is all a program needs; link with -lmagenta
 * (pkg-config: magenta). The behaviour of each call is described in the
 * project's SPEC.md; the notes below say what each returns.
 *
 * Pointers: NULL is checked as Magenta does. Any other invalid pointer is
 * undefined behaviour (usually a crash) unless the environment variable
 * MX_STRICT_POINTERS=1 is set, which makes it MX_ERR_INVALID_ARGS at the
 * cost of a system call per copy. Out-parameters are written only when the
 * call succeeds, except *observed (also on MX_ERR_TIMED_OUT and
 * MX_ERR_CANCELED), wait items' pending (likewise) and get_info's counts
 * (also on MX_ERR_BUFFER_TOO_SMALL).
 */
#ifndef MAGENTA_SYSCALLS_H_
#define MAGENTA_SYSCALLS_H_

#include <stddef.h>
#include <stdint.h>

#include <magenta/errors.h>
#include <magenta/rights.h>
#include <magenta/types.h>
#include <magenta/syscalls/object.h>
#include <magenta/syscalls/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Time --------------------------------------------------------------- */

/* Nanoseconds on clock_id (MX_CLOCK_MONOTONIC; other clocks read 0). */
mx_time_t mx_time_get(uint32_t clock_id);

/* Now plus nanoseconds, saturating at MX_TIME_INFINITE. */
mx_time_t mx_deadline_after(uint64_t nanoseconds);

/* Sleeps until deadline; MX_OK. */
mx_status_t mx_nanosleep(mx_time_t deadline);

/* ---- Handles ------------------------------------------------------------ */

/* Closes a handle (MX_HANDLE_INVALID: MX_OK). Waits through it end with
   MX_ERR_CANCELED. */
mx_status_t mx_handle_close(mx_handle_t handle);

/* A new handle to the same object with rights (MX_RIGHT_SAME_RIGHTS or a
   subset). Needs MX_RIGHT_DUPLICATE. */
mx_status_t mx_handle_duplicate(mx_handle_t handle, mx_rights_t rights,
                                mx_handle_t* out);

/* As mx_handle_duplicate, but handle is closed on success (and only then);
   needs no right. */
mx_status_t mx_handle_replace(mx_handle_t handle, mx_rights_t rights,
                              mx_handle_t* out);

/* ---- Objects ------------------------------------------------------------ */

/* Clears, then sets, signals (user signals; events also MX_EVENT_SIGNALED).
   Needs MX_RIGHT_SIGNAL. */
mx_status_t mx_object_signal(mx_handle_t handle, uint32_t clear_mask,
                             uint32_t set_mask);

/* As mx_object_signal, on the peer. Needs MX_RIGHT_SIGNAL_PEER. */
mx_status_t mx_object_signal_peer(mx_handle_t handle, uint32_t clear_mask,
                                  uint32_t set_mask);

/* Waits until any of signals is asserted: MX_OK, MX_ERR_TIMED_OUT, or
   MX_ERR_CANCELED (handle closed meanwhile; MX_SIGNAL_HANDLE_CLOSED in
   *observed). Needs MX_RIGHT_READ. observed may be NULL. */
mx_status_t mx_object_wait_one(mx_handle_t handle, mx_signals_t signals,
                               mx_time_t deadline, mx_signals_t* observed);

/* Waits on up to MX_WAIT_MANY_MAX_ITEMS handles; fills every pending.
   count 0: sleeps until deadline, then MX_ERR_TIMED_OUT. */
mx_status_t mx_object_wait_many(mx_wait_item_t* items, uint32_t count,
                                mx_time_t deadline);

/* Reads information (MX_INFO_HANDLE_VALID, MX_INFO_HANDLE_BASIC) into
   buffer; *actual and *avail (each may be NULL) count records. */
mx_status_t mx_object_get_info(mx_handle_t handle, uint32_t topic,
                               void* buffer, size_t buffer_size,
                               size_t* actual, size_t* avail);

/* ---- Events ------------------------------------------------------------- */

/* An event (options must be 0). */
mx_status_t mx_event_create(uint32_t options, mx_handle_t* out);

/* A pair of peered events (options must be 0: else MX_ERR_NOT_SUPPORTED). */
mx_status_t mx_eventpair_create(uint32_t options, mx_handle_t* out0,
                                mx_handle_t* out1);

/* ---- Sockets ------------------------------------------------------------ */

/* A connected pair of endpoints: MX_SOCKET_STREAM or MX_SOCKET_DATAGRAM. */
mx_status_t mx_socket_create(uint32_t options, mx_handle_t* out0,
                             mx_handle_t* out1);

/* Writes size bytes (options 0; a stream write may be short, a datagram
   write is whole or MX_ERR_SHOULD_WAIT), or with MX_SOCKET_HALF_CLOSE and
   size 0 closes this end for writing. actual may be NULL. */
mx_status_t mx_socket_write(mx_handle_t handle, uint32_t options,
                            const void* buffer, size_t size, size_t* actual);

/* Reads up to size bytes (a datagram read returns one datagram, truncated
   to size). buffer NULL and size 0: *actual = bytes waiting. actual may be
   NULL. */
mx_status_t mx_socket_read(mx_handle_t handle, uint32_t options,
                           void* buffer, size_t size, size_t* actual);

/* ---- Channels ----------------------------------------------------------- */

/* A connected pair of channel ends (options must be 0). */
mx_status_t mx_channel_create(uint32_t options, mx_handle_t* out0,
                              mx_handle_t* out1);

/* Writes a message; the handles move into it (on success only). */
mx_status_t mx_channel_write(mx_handle_t handle, uint32_t options,
                             const void* bytes, uint32_t num_bytes,
                             const mx_handle_t* handles, uint32_t num_handles);

/* Reads the first message (options 0 or MX_CHANNEL_READ_MAY_DISCARD).
   actual_bytes and actual_handles may be NULL. */
mx_status_t mx_channel_read(mx_handle_t handle, uint32_t options,
                            void* bytes, mx_handle_t* handles,
                            uint32_t num_bytes, uint32_t num_handles,
                            uint32_t* actual_bytes, uint32_t* actual_handles);

/* Writes args' message and waits until deadline for the reply with the same
   transaction id. MX_ERR_CALL_FAILED reports the reason in *read_status. */
mx_status_t mx_channel_call(mx_handle_t handle, uint32_t options,
                            mx_time_t deadline,
                            const mx_channel_call_args_t* args,
                            uint32_t* actual_bytes, uint32_t* actual_handles,
                            mx_status_t* read_status);

/* ---- Ports -------------------------------------------------------------- */

/* A port (options must be 0). */
mx_status_t mx_port_create(uint32_t options, mx_handle_t* out);

/* Queues a user packet (an mx_port_packet_t; size must be 0). */
mx_status_t mx_port_queue(mx_handle_t handle, const void* packet, size_t size);

/* Takes the next packet (an mx_port_packet_t; size must be 0). */
mx_status_t mx_port_wait(mx_handle_t handle, mx_time_t deadline,
                         void* packet, size_t size);

/* Ends the waits of source with key on the port and drops their packets. */
mx_status_t mx_port_cancel(mx_handle_t handle, mx_handle_t source,
                           uint64_t key);

/* Asks for a packet on port when any of signals is asserted on handle
   (MX_WAIT_ASYNC_ONCE or MX_WAIT_ASYNC_REPEATING). */
mx_status_t mx_object_wait_async(mx_handle_t handle, mx_handle_t port,
                                 uint64_t key, mx_signals_t signals,
                                 uint32_t options);

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_SYSCALLS_H_ */
