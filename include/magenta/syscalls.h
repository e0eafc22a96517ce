/*
 * <magenta/syscalls.h>: every public Magenta call, as libmagenta provides
 * it.
 *
 * Including this header is all a program needs; link with -lmagenta
 * (pkg-config: magenta). Every call of Magenta's syscall list is declared
 * and exported, so any Magenta program compiles and links. The calls on the
 * object kinds this library has (sockets, events, eventpairs, ports,
 * channels) and the system-wide ones (time, ticks, CPUs, random numbers)
 * behave as Magenta's kernel did; the project's SPEC.md describes them and
 * the notes below say what each returns. Every other call returns
 * MX_ERR_NOT_SUPPORTED and writes nothing. mx-ffi/README.md has the list.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <magenta/compiler.h>
#include <magenta/errors.h>
#include <magenta/rights.h>
#include <magenta/types.h>
#include <magenta/process.h>
#include <magenta/syscalls/types.h>
#include <magenta/syscalls/object.h>
#include <magenta/syscalls/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Time --------------------------------------------------------------- */

/* Nanoseconds on clock_id: MX_CLOCK_MONOTONIC, MX_CLOCK_UTC (since the
   Unix epoch) or MX_CLOCK_THREAD (CPU time of the calling thread); another
   id reads 0. */
mx_time_t mx_time_get(uint32_t clock_id);

/* Sleeps until deadline; MX_OK. */
mx_status_t mx_nanosleep(mx_time_t deadline);

/* A tick count that never goes back: here nanoseconds of the monotonic
   clock. */
uint64_t mx_ticks_get(void);

/* Ticks per second of mx_ticks_get: 1000000000 here. */
uint64_t mx_ticks_per_second(void);

/* Now plus nanoseconds, saturating at MX_TIME_INFINITE. */
mx_time_t mx_deadline_after(mx_duration_t nanoseconds);

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_clock_adjust(mx_handle_t handle, uint32_t clock_id,
                            int64_t offset);

/* ---- Global system information ------------------------------------------ */

/* The number of CPUs this process may run on (fixed at the first call). */
uint32_t mx_system_get_num_cpus(void);

/* Writes the NUL-terminated version string; MX_ERR_BUFFER_TOO_SMALL if it
   does not fit in version_len bytes. */
mx_status_t mx_system_get_version(char* version, uint32_t version_len);

/* Bytes of physical memory (MemTotal of /proc/meminfo; 0 if unreadable). */
uint64_t mx_system_get_physmem(void);

/* ---- Machine operations ------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_cache_flush(const void* addr, size_t len, uint32_t options);

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

/* Waits until any of signals is asserted: MX_OK, MX_ERR_TIMED_OUT, or
   MX_ERR_CANCELED (handle closed meanwhile; MX_SIGNAL_HANDLE_CLOSED in
   *observed). Needs MX_RIGHT_READ. observed may be NULL. */
mx_status_t mx_object_wait_one(mx_handle_t handle, mx_signals_t waitfor,
                               mx_time_t deadline, mx_signals_t* observed);

/* Waits on up to MX_WAIT_MANY_MAX_ITEMS handles; fills every pending.
   count 0: sleeps until deadline, then MX_ERR_TIMED_OUT. */
mx_status_t mx_object_wait_many(mx_wait_item_t* items, uint32_t count,
                                mx_time_t deadline);

/* Asks for a packet on port when any of signals is asserted on handle
   (MX_WAIT_ASYNC_ONCE or MX_WAIT_ASYNC_REPEATING). */
mx_status_t mx_object_wait_async(mx_handle_t handle, mx_handle_t port_handle,
                                 uint64_t key, mx_signals_t signals,
                                 uint32_t options);

/* Clears, then sets, signals (user signals; events also
   MX_EVENT_SIGNALED). Needs MX_RIGHT_SIGNAL. */
mx_status_t mx_object_signal(mx_handle_t handle, uint32_t clear_mask,
                             uint32_t set_mask);

/* As mx_object_signal, on the peer. Needs MX_RIGHT_SIGNAL_PEER. */
mx_status_t mx_object_signal_peer(mx_handle_t handle, uint32_t clear_mask,
                                  uint32_t set_mask);

/* Reads a property (MX_PROP_*). Needs MX_RIGHT_GET_PROPERTY, which no
   handle of this library holds: MX_ERR_ACCESS_DENIED for a live handle
   (after MX_ERR_INVALID_ARGS for a NULL value and MX_ERR_BAD_HANDLE). */
mx_status_t mx_object_get_property(mx_handle_t handle, uint32_t property,
                                   void* value, size_t size);

/* Writes a property. Needs MX_RIGHT_SET_PROPERTY: as
   mx_object_get_property. */
mx_status_t mx_object_set_property(mx_handle_t handle, uint32_t property,
                                   const void* value, size_t size);

/* Attaches cookie to an event or eventpair end, for scope (any live
   handle; its object's koid is the scope). Another scope than the first:
   MX_ERR_ACCESS_DENIED. Other kinds: MX_ERR_NOT_SUPPORTED. */
mx_status_t mx_object_set_cookie(mx_handle_t handle, mx_handle_t scope,
                                 uint64_t cookie);

/* Reads the cookie set for scope (MX_ERR_ACCESS_DENIED for any other
   scope, or none set). */
mx_status_t mx_object_get_cookie(mx_handle_t handle, mx_handle_t scope,
                                 uint64_t* cookie);

/* Reads information (MX_INFO_HANDLE_VALID, MX_INFO_HANDLE_BASIC) into
   buffer; *actual_count and *avail_count (each may be NULL) count records.
   Topics of other kinds fail on this library's handles with
   MX_ERR_ACCESS_DENIED or MX_ERR_WRONG_TYPE; unknown topics with
   MX_ERR_NOT_SUPPORTED. */
mx_status_t mx_object_get_info(mx_handle_t handle, uint32_t topic,
                               void* buffer, size_t buffer_size,
                               size_t* actual_count, size_t* avail_count);

/* A handle to a child (thread of a process, process or job of a job) by
   koid. Needs MX_RIGHT_ENUMERATE, which no handle here holds:
   MX_ERR_ACCESS_DENIED; with MX_HANDLE_INVALID (any process by koid)
   MX_ERR_NOT_FOUND. */
mx_status_t mx_object_get_child(mx_handle_t handle, uint64_t koid,
                                mx_rights_t rights, mx_handle_t* out);

/* ---- Channels ----------------------------------------------------------- */

/* A connected pair of channel ends (options must be 0). */
mx_status_t mx_channel_create(uint32_t options, mx_handle_t* out0,
                              mx_handle_t* out1);

/* Reads the first message: its bytes and handles, or its sizes with
   MX_ERR_BUFFER_TOO_SMALL. */
mx_status_t mx_channel_read(mx_handle_t handle, uint32_t options, void* bytes,
                            mx_handle_t* handles, uint32_t num_bytes,
                            uint32_t num_handles, uint32_t* actual_bytes,
                            uint32_t* actual_handles);

/* Writes a message; its handles leave the caller's table on success, and
   only then. */
mx_status_t mx_channel_write(mx_handle_t handle, uint32_t options,
                             const void* bytes, uint32_t num_bytes,
                             const mx_handle_t* handles,
                             uint32_t num_handles);

/* Writes a message and waits for the reply with the same transaction id
   (its first 4 bytes). */
mx_status_t mx_channel_call(mx_handle_t handle, uint32_t options,
                            mx_time_t deadline,
                            const mx_channel_call_args_t* args,
                            uint32_t* actual_bytes, uint32_t* actual_handles,
                            mx_status_t* read_status);

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
mx_status_t mx_socket_read(mx_handle_t handle, uint32_t options, void* buffer,
                           size_t size, size_t* actual);

/* ---- Threads ------------------------------------------------------------ */

/* Ends the calling thread (as pthread_exit). */
void mx_thread_exit(void) __NO_RETURN;

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_thread_create(mx_handle_t process, const char* name,
                             uint32_t name_len, uint32_t options,
                             mx_handle_t* out);
mx_status_t mx_thread_start(mx_handle_t handle, uintptr_t thread_entry,
                            uintptr_t stack, uintptr_t arg1, uintptr_t arg2);
mx_status_t mx_thread_read_state(mx_handle_t handle, uint32_t kind,
                                 void* buffer, uint32_t len,
                                 uint32_t* actual);
mx_status_t mx_thread_write_state(mx_handle_t handle, uint32_t kind,
                                  const void* buffer, uint32_t buffer_len);
mx_status_t mx_thread_set_priority(int32_t prio);

/* ---- Processes ---------------------------------------------------------- */

/* Ends the process with retcode (as exit). */
void mx_process_exit(int retcode) __NO_RETURN;

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_process_create(mx_handle_t job, const char* name,
                              uint32_t name_len, uint32_t options,
                              mx_handle_t* proc_handle,
                              mx_handle_t* vmar_handle);
mx_status_t mx_process_start(mx_handle_t process_handle,
                             mx_handle_t thread_handle, uintptr_t entry,
                             uintptr_t stack, mx_handle_t arg_handle,
                             uintptr_t arg2);
mx_status_t mx_process_read_memory(mx_handle_t proc, uintptr_t vaddr,
                                   void* buffer, size_t len, size_t* actual);
mx_status_t mx_process_write_memory(mx_handle_t proc, uintptr_t vaddr,
                                    const void* buffer, size_t len,
                                    size_t* actual);

/* ---- Jobs --------------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_job_create(mx_handle_t parent_job, uint32_t options,
                          mx_handle_t* out);
mx_status_t mx_job_set_policy(mx_handle_t job, uint32_t options,
                              uint32_t topic, const void* policy,
                              uint32_t count);

/* ---- Tasks -------------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_task_bind_exception_port(mx_handle_t object, mx_handle_t eport,
                                        uint64_t key, uint32_t options);
mx_status_t mx_task_suspend(mx_handle_t task_handle);
mx_status_t mx_task_resume(mx_handle_t task_handle, uint32_t options);
mx_status_t mx_task_kill(mx_handle_t task_handle);

/* ---- Synchronization ---------------------------------------------------- */

/* An event (options must be 0). */
mx_status_t mx_event_create(uint32_t options, mx_handle_t* out);

/* A pair of peered events (options must be 0: else MX_ERR_NOT_SUPPORTED). */
mx_status_t mx_eventpair_create(uint32_t options, mx_handle_t* out0,
                                mx_handle_t* out1);

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_futex_wait(mx_futex_t* value_ptr, int current_value,
                          mx_time_t deadline);
mx_status_t mx_futex_wake(const mx_futex_t* value_ptr, uint32_t count);
mx_status_t mx_futex_requeue(mx_futex_t* wake_ptr, uint32_t wake_count,
                             int current_value, mx_futex_t* requeue_ptr,
                             uint32_t requeue_count);

/* ---- Ports -------------------------------------------------------------- */

/* A port (options must be 0). */
mx_status_t mx_port_create(uint32_t options, mx_handle_t* out);

/* Queues a user packet (an mx_port_packet_t; size must be 0). */
mx_status_t mx_port_queue(mx_handle_t handle, const void* packet, size_t size);

/* Takes the next packet (an mx_port_packet_t; size must be 0). */
mx_status_t mx_port_wait(mx_handle_t handle, mx_time_t deadline, void* packet,
                         size_t size);

/* Ends the waits of source with key on the port and drops their packets. */
mx_status_t mx_port_cancel(mx_handle_t handle, mx_handle_t source,
                           uint64_t key);

/* ---- Timers ------------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_timer_create(uint32_t options, uint32_t clock_id,
                            mx_handle_t* out);
mx_status_t mx_timer_start(mx_handle_t handle, mx_time_t deadline,
                           mx_duration_t period, mx_duration_t slack);
mx_status_t mx_timer_set(mx_handle_t handle, mx_time_t deadline,
                         mx_duration_t slack);
mx_status_t mx_timer_cancel(mx_handle_t handle);

/* ---- Memory ------------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_vmo_create(uint64_t size, uint32_t options, mx_handle_t* out);
mx_status_t mx_vmo_read(mx_handle_t handle, void* data, uint64_t offset,
                        size_t len, size_t* actual);
mx_status_t mx_vmo_write(mx_handle_t handle, const void* data,
                         uint64_t offset, size_t len, size_t* actual);
mx_status_t mx_vmo_get_size(mx_handle_t handle, uint64_t* size);
mx_status_t mx_vmo_set_size(mx_handle_t handle, uint64_t size);
mx_status_t mx_vmo_op_range(mx_handle_t handle, uint32_t op, uint64_t offset,
                            uint64_t size, void* buffer, size_t buffer_size);
mx_status_t mx_vmo_clone(mx_handle_t handle, uint32_t options,
                         uint64_t offset, uint64_t size, mx_handle_t* out);
mx_status_t mx_vmo_set_cache_policy(mx_handle_t handle, uint32_t cache_policy);

/* ---- Address spaces ----------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_vmar_allocate(mx_handle_t parent_vmar_handle, size_t offset,
                             size_t size, uint32_t map_flags,
                             mx_handle_t* child_vmar, uintptr_t* child_addr);
mx_status_t mx_vmar_destroy(mx_handle_t vmar_handle);
mx_status_t mx_vmar_map(mx_handle_t vmar_handle, size_t vmar_offset,
                        mx_handle_t vmo_handle, uint64_t vmo_offset,
                        size_t len, uint32_t map_flags,
                        uintptr_t* mapped_addr);
mx_status_t mx_vmar_unmap(mx_handle_t vmar_handle, uintptr_t addr, size_t len);
mx_status_t mx_vmar_protect(mx_handle_t vmar_handle, uintptr_t addr,
                            size_t len, uint32_t prot_flags);

/* ---- Random numbers ----------------------------------------------------- */

/* Fills buffer with len (at most MX_CPRNG_DRAW_MAX_LEN) random bytes from
   the OS; *actual = len. */
mx_status_t mx_cprng_draw(void* buffer, size_t len, size_t* actual);

/* Mixes len (at most MX_CPRNG_ADD_ENTROPY_MAX_LEN) bytes into the OS's
   random pool (it credits no entropy). */
mx_status_t mx_cprng_add_entropy(const void* buffer, size_t len);

/* ---- Fifos -------------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_fifo_create(uint32_t elem_count, uint32_t elem_size,
                           uint32_t options, mx_handle_t* out0,
                           mx_handle_t* out1);
mx_status_t mx_fifo_read(mx_handle_t handle, void* data, size_t len,
                         uint32_t* num_written);
mx_status_t mx_fifo_write(mx_handle_t handle, const void* data, size_t len,
                          uint32_t* num_written);

/* ---- Several operations in one ------------------------------------------ */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_vmar_unmap_handle_close_thread_exit(mx_handle_t vmar_handle,
                                                   uintptr_t addr, size_t len,
                                                   mx_handle_t handle);
/* Stores new_value in *value_ptr, closes handle and ends the calling
   thread. No mx_futex_wait waits here (it is MX_ERR_NOT_SUPPORTED), so
   nobody is woken. */
void mx_futex_wake_handle_close_thread_exit(const mx_futex_t* value_ptr,
                                            uint32_t count, int new_value,
                                            mx_handle_t handle) __NO_RETURN;

/* ---- Logging ------------------------------------------------------------ */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_log_create(uint32_t options, mx_handle_t* out);
mx_status_t mx_log_write(mx_handle_t handle, uint32_t len, const void* buffer,
                         uint32_t options);
mx_status_t mx_log_read(mx_handle_t handle, uint32_t len, void* buffer,
                        uint32_t options);

/* ---- Tracing ------------------------------------------------------------ */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_ktrace_read(mx_handle_t handle, void* data, uint32_t offset,
                           uint32_t len, uint32_t* actual);
mx_status_t mx_ktrace_control(mx_handle_t handle, uint32_t action,
                              uint32_t options, void* ptr);
mx_status_t mx_ktrace_write(mx_handle_t handle, uint32_t id, uint32_t arg0,
                            uint32_t arg1);
mx_status_t mx_mtrace_control(mx_handle_t handle, uint32_t kind,
                              uint32_t action, uint32_t options, void* ptr,
                              uint32_t size);

/* ---- Kernel debugging --------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_debug_read(mx_handle_t handle, void* buffer, uint32_t length);
mx_status_t mx_debug_write(const void* buffer, uint32_t length);
mx_status_t mx_debug_send_command(mx_handle_t resource_handle,
                                  const void* buffer, uint32_t length);

/* ---- Interrupts --------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_interrupt_create(mx_handle_t handle, uint32_t vector,
                                uint32_t options, mx_handle_t* out_handle);
mx_status_t mx_interrupt_complete(mx_handle_t handle);
mx_status_t mx_interrupt_wait(mx_handle_t handle);
mx_status_t mx_interrupt_signal(mx_handle_t handle);

/* ---- Device I/O and memory ---------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_mmap_device_io(mx_handle_t handle, uint32_t io_addr,
                              uint32_t len);
mx_status_t mx_vmo_create_contiguous(mx_handle_t rsrc_handle, size_t size,
                                     uint32_t alignment_log2,
                                     mx_handle_t* out);
mx_status_t mx_vmo_create_physical(mx_handle_t rsrc_handle, mx_paddr_t paddr,
                                   size_t size, mx_handle_t* out);

/* ---- Device memory access ----------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_iommu_create(mx_handle_t rsrc_handle, uint32_t type,
                            const void* desc, uint32_t desc_len,
                            mx_handle_t* out);
mx_status_t mx_bti_create(mx_handle_t iommu, uint64_t bti_id,
                          mx_handle_t* out);
mx_status_t mx_bti_pin(mx_handle_t bti, mx_handle_t vmo, uint64_t offset,
                       uint64_t size, uint32_t perms, uint64_t* extents,
                       uint32_t extents_len, uint32_t* actual);
mx_status_t mx_bti_unpin(mx_handle_t bti, const uint64_t* extents,
                         uint32_t extents_len);

/* ---- Boot-time display -------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_bootloader_fb_get_info(uint32_t* format, uint32_t* width,
                                      uint32_t* height, uint32_t* stride);
mx_status_t mx_set_framebuffer(mx_handle_t handle, void* vaddr, uint32_t len,
                               uint32_t format, uint32_t width,
                               uint32_t height, uint32_t stride);
mx_status_t mx_set_framebuffer_vmo(mx_handle_t handle, mx_handle_t vmo,
                                   uint32_t len, uint32_t format,
                                   uint32_t width, uint32_t height,
                                   uint32_t stride);

/* ---- PCI ---------------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_pci_get_nth_device(mx_handle_t handle, uint32_t index,
                                  mx_pcie_device_info_t* out_info,
                                  mx_handle_t* out_handle);
mx_status_t mx_pci_enable_bus_master(mx_handle_t handle, bool enable);
mx_status_t mx_pci_enable_pio(mx_handle_t handle, bool enable);
mx_status_t mx_pci_reset_device(mx_handle_t handle);
mx_status_t mx_pci_cfg_pio_rw(mx_handle_t handle, uint8_t bus, uint8_t dev,
                              uint8_t func, uint8_t offset, uint32_t* val,
                              size_t width, bool write);
mx_status_t mx_pci_get_bar(mx_handle_t handle, uint32_t bar_num,
                           mx_pci_resource_t* out_bar);
mx_status_t mx_pci_get_config(mx_handle_t handle,
                              mx_pci_resource_t* out_config);
mx_status_t mx_pci_io_write(mx_handle_t handle, uint32_t bar_num,
                            uint32_t offset, uint32_t len, uint32_t value);
mx_status_t mx_pci_io_read(mx_handle_t handle, uint32_t bar_num,
                           uint32_t offset, uint32_t len,
                           uint32_t* out_value);
mx_status_t mx_pci_map_interrupt(mx_handle_t handle, int32_t which_irq,
                                 mx_handle_t* out_handle);
mx_status_t mx_pci_query_irq_mode_caps(mx_handle_t handle, uint32_t mode,
                                       uint32_t* out_max_irqs);
mx_status_t mx_pci_set_irq_mode(mx_handle_t handle, uint32_t mode,
                                uint32_t requested_irq_count);
mx_status_t mx_pci_init(mx_handle_t handle, const mx_pci_init_arg_t* init_buf,
                        uint32_t len);
mx_status_t mx_pci_add_subtract_io_range(mx_handle_t handle, bool mmio,
                                         uint64_t base, uint64_t len,
                                         bool add);

/* ---- ACPI --------------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
uint64_t mx_acpi_uefi_rsdp(mx_handle_t handle);
/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_acpi_cache_flush(mx_handle_t handle);

/* ---- Resources ---------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_resource_create(mx_handle_t parent_handle, uint32_t kind,
                               uint64_t low, uint64_t high,
                               mx_handle_t* resource_out);

/* ---- Hypervisor --------------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_guest_create(mx_handle_t resource, uint32_t options,
                            mx_handle_t physmem_vmo, mx_handle_t* out);
mx_status_t mx_guest_set_trap(mx_handle_t guest, uint32_t kind,
                              mx_vaddr_t addr, size_t len, mx_handle_t fifo);
mx_status_t mx_vcpu_create(mx_handle_t guest, uint32_t options,
                           const mx_vcpu_create_args_t* args,
                           mx_handle_t* out);
mx_status_t mx_vcpu_resume(mx_handle_t vcpu, mx_guest_packet_t* packet);
mx_status_t mx_vcpu_interrupt(mx_handle_t vcpu, uint32_t vector);
mx_status_t mx_vcpu_read_state(mx_handle_t vcpu, uint32_t kind, void* buffer,
                               uint32_t len);
mx_status_t mx_vcpu_write_state(mx_handle_t vcpu, uint32_t kind,
                                const void* buffer, uint32_t len);

/* ---- System control ----------------------------------------------------- */

/* Not supported here: each returns MX_ERR_NOT_SUPPORTED and writes nothing. */
mx_status_t mx_system_mexec(mx_handle_t kernel, mx_handle_t bootimage,
                            const char* cmdline, uint32_t cmdline_len);
mx_status_t mx_job_set_relative_importance(mx_handle_t root_resource,
                                           mx_handle_t job,
                                           mx_handle_t less_important_job);

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_SYSCALLS_H_ */
