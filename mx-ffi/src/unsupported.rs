//! The calls of Magenta's syscall list whose objects this library does not
//! have (threads, processes, jobs, VMOs, VMARs, timers, fifos, futexes,
//! interrupts, PCI, the hypervisor, ...), so that every Magenta program
//! links.
//!
//! Each returns `MX_ERR_NOT_SUPPORTED` at once and touches none of its
//! arguments: no out-parameter is written and no pointer is read, whatever
//! it points to, so none of these functions is `unsafe` to call. The one
//! call that returns a value instead of a status, `mx_acpi_uefi_rsdp`,
//! returns 0 (no table).
//!
//! `mx-ffi/abi/calls.txt` lists every call with what it does; the tests
//! check that each one here is listed as `NOT_SUPPORTED` there, and that
//! each such call returns `MX_ERR_NOT_SUPPORTED` without writing.

// The prototypes are Magenta's, some with eight parameters.
#![allow(clippy::too_many_arguments)]

use core::ffi::{c_char, c_int, c_void};

use crate::ctypes::{mx_handle_t, mx_status_t, mx_time_t};

/// `MX_ERR_NOT_SUPPORTED`.
const NOT_SUPPORTED: mx_status_t = mx_core::Status::NOT_SUPPORTED.into_raw();

/// Defines each call as an exported function that returns
/// `MX_ERR_NOT_SUPPORTED`.
macro_rules! not_supported {
    ($(fn $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        #[doc = concat!(
            "`", stringify!($name), "`—Not supported here: returns ",
            "`MX_ERR_NOT_SUPPORTED` and touches none of its arguments."
        )]
        #[unsafe(no_mangle)]
        pub extern "C" fn $name($($arg: $ty),*) -> mx_status_t {
            NOT_SUPPORTED
        }
    )*};
}

not_supported! {
    fn mx_clock_adjust(_handle: mx_handle_t, _clock_id: u32, _offset: i64);
    fn mx_cache_flush(_addr: *const c_void, _len: usize, _options: u32);
    fn mx_thread_create(_process: mx_handle_t, _name: *const c_char, _name_len: u32, _options: u32, _out: *mut mx_handle_t);
    fn mx_thread_start(_handle: mx_handle_t, _thread_entry: usize, _stack: usize, _arg1: usize, _arg2: usize);
    fn mx_thread_read_state(_handle: mx_handle_t, _kind: u32, _buffer: *mut c_void, _len: u32, _actual: *mut u32);
    fn mx_thread_write_state(_handle: mx_handle_t, _kind: u32, _buffer: *const c_void, _buffer_len: u32);
    fn mx_thread_set_priority(_prio: i32);
    fn mx_process_create(_job: mx_handle_t, _name: *const c_char, _name_len: u32, _options: u32, _proc_handle: *mut mx_handle_t, _vmar_handle: *mut mx_handle_t);
    fn mx_process_start(_process_handle: mx_handle_t, _thread_handle: mx_handle_t, _entry: usize, _stack: usize, _arg_handle: mx_handle_t, _arg2: usize);
    fn mx_process_read_memory(_proc: mx_handle_t, _vaddr: usize, _buffer: *mut c_void, _len: usize, _actual: *mut usize);
    fn mx_process_write_memory(_proc: mx_handle_t, _vaddr: usize, _buffer: *const c_void, _len: usize, _actual: *mut usize);
    fn mx_job_create(_parent_job: mx_handle_t, _options: u32, _out: *mut mx_handle_t);
    fn mx_job_set_policy(_job: mx_handle_t, _options: u32, _topic: u32, _policy: *const c_void, _count: u32);
    fn mx_task_bind_exception_port(_object: mx_handle_t, _eport: mx_handle_t, _key: u64, _options: u32);
    fn mx_task_suspend(_task_handle: mx_handle_t);
    fn mx_task_resume(_task_handle: mx_handle_t, _options: u32);
    fn mx_task_kill(_task_handle: mx_handle_t);
    fn mx_futex_wait(_value_ptr: *mut i32, _current_value: c_int, _deadline: mx_time_t);
    fn mx_futex_wake(_value_ptr: *const i32, _count: u32);
    fn mx_futex_requeue(_wake_ptr: *mut i32, _wake_count: u32, _current_value: c_int, _requeue_ptr: *mut i32, _requeue_count: u32);
    fn mx_timer_create(_options: u32, _clock_id: u32, _out: *mut mx_handle_t);
    fn mx_timer_start(_handle: mx_handle_t, _deadline: mx_time_t, _period: u64, _slack: u64);
    fn mx_timer_set(_handle: mx_handle_t, _deadline: mx_time_t, _slack: u64);
    fn mx_timer_cancel(_handle: mx_handle_t);
    fn mx_vmo_create(_size: u64, _options: u32, _out: *mut mx_handle_t);
    fn mx_vmo_read(_handle: mx_handle_t, _data: *mut c_void, _offset: u64, _len: usize, _actual: *mut usize);
    fn mx_vmo_write(_handle: mx_handle_t, _data: *const c_void, _offset: u64, _len: usize, _actual: *mut usize);
    fn mx_vmo_get_size(_handle: mx_handle_t, _size: *mut u64);
    fn mx_vmo_set_size(_handle: mx_handle_t, _size: u64);
    fn mx_vmo_op_range(_handle: mx_handle_t, _op: u32, _offset: u64, _size: u64, _buffer: *mut c_void, _buffer_size: usize);
    fn mx_vmo_clone(_handle: mx_handle_t, _options: u32, _offset: u64, _size: u64, _out: *mut mx_handle_t);
    fn mx_vmo_set_cache_policy(_handle: mx_handle_t, _cache_policy: u32);
    fn mx_vmar_allocate(_parent_vmar_handle: mx_handle_t, _offset: usize, _size: usize, _map_flags: u32, _child_vmar: *mut mx_handle_t, _child_addr: *mut usize);
    fn mx_vmar_destroy(_vmar_handle: mx_handle_t);
    fn mx_vmar_map(_vmar_handle: mx_handle_t, _vmar_offset: usize, _vmo_handle: mx_handle_t, _vmo_offset: u64, _len: usize, _map_flags: u32, _mapped_addr: *mut usize);
    fn mx_vmar_unmap(_vmar_handle: mx_handle_t, _addr: usize, _len: usize);
    fn mx_vmar_protect(_vmar_handle: mx_handle_t, _addr: usize, _len: usize, _prot_flags: u32);
    fn mx_fifo_create(_elem_count: u32, _elem_size: u32, _options: u32, _out0: *mut mx_handle_t, _out1: *mut mx_handle_t);
    fn mx_fifo_read(_handle: mx_handle_t, _data: *mut c_void, _len: usize, _num_written: *mut u32);
    fn mx_fifo_write(_handle: mx_handle_t, _data: *const c_void, _len: usize, _num_written: *mut u32);
    fn mx_vmar_unmap_handle_close_thread_exit(_vmar_handle: mx_handle_t, _addr: usize, _len: usize, _handle: mx_handle_t);
    fn mx_log_create(_options: u32, _out: *mut mx_handle_t);
    fn mx_log_write(_handle: mx_handle_t, _len: u32, _buffer: *const c_void, _options: u32);
    fn mx_log_read(_handle: mx_handle_t, _len: u32, _buffer: *mut c_void, _options: u32);
    fn mx_ktrace_read(_handle: mx_handle_t, _data: *mut c_void, _offset: u32, _len: u32, _actual: *mut u32);
    fn mx_ktrace_control(_handle: mx_handle_t, _action: u32, _options: u32, _ptr: *mut c_void);
    fn mx_ktrace_write(_handle: mx_handle_t, _id: u32, _arg0: u32, _arg1: u32);
    fn mx_mtrace_control(_handle: mx_handle_t, _kind: u32, _action: u32, _options: u32, _ptr: *mut c_void, _size: u32);
    fn mx_debug_read(_handle: mx_handle_t, _buffer: *mut c_void, _length: u32);
    fn mx_debug_write(_buffer: *const c_void, _length: u32);
    fn mx_debug_send_command(_resource_handle: mx_handle_t, _buffer: *const c_void, _length: u32);
    fn mx_interrupt_create(_handle: mx_handle_t, _vector: u32, _options: u32, _out_handle: *mut mx_handle_t);
    fn mx_interrupt_complete(_handle: mx_handle_t);
    fn mx_interrupt_wait(_handle: mx_handle_t);
    fn mx_interrupt_signal(_handle: mx_handle_t);
    fn mx_mmap_device_io(_handle: mx_handle_t, _io_addr: u32, _len: u32);
    fn mx_vmo_create_contiguous(_rsrc_handle: mx_handle_t, _size: usize, _alignment_log2: u32, _out: *mut mx_handle_t);
    fn mx_vmo_create_physical(_rsrc_handle: mx_handle_t, _paddr: usize, _size: usize, _out: *mut mx_handle_t);
    fn mx_iommu_create(_rsrc_handle: mx_handle_t, _type: u32, _desc: *const c_void, _desc_len: u32, _out: *mut mx_handle_t);
    fn mx_bti_create(_iommu: mx_handle_t, _bti_id: u64, _out: *mut mx_handle_t);
    fn mx_bti_pin(_bti: mx_handle_t, _vmo: mx_handle_t, _offset: u64, _size: u64, _perms: u32, _extents: *mut u64, _extents_len: u32, _actual: *mut u32);
    fn mx_bti_unpin(_bti: mx_handle_t, _extents: *const u64, _extents_len: u32);
    fn mx_bootloader_fb_get_info(_format: *mut u32, _width: *mut u32, _height: *mut u32, _stride: *mut u32);
    fn mx_set_framebuffer(_handle: mx_handle_t, _vaddr: *mut c_void, _len: u32, _format: u32, _width: u32, _height: u32, _stride: u32);
    fn mx_set_framebuffer_vmo(_handle: mx_handle_t, _vmo: mx_handle_t, _len: u32, _format: u32, _width: u32, _height: u32, _stride: u32);
    fn mx_pci_get_nth_device(_handle: mx_handle_t, _index: u32, _out_info: *mut c_void, _out_handle: *mut mx_handle_t);
    fn mx_pci_enable_bus_master(_handle: mx_handle_t, _enable: bool);
    fn mx_pci_enable_pio(_handle: mx_handle_t, _enable: bool);
    fn mx_pci_reset_device(_handle: mx_handle_t);
    fn mx_pci_cfg_pio_rw(_handle: mx_handle_t, _bus: u8, _dev: u8, _func: u8, _offset: u8, _val: *mut u32, _width: usize, _write: bool);
    fn mx_pci_get_bar(_handle: mx_handle_t, _bar_num: u32, _out_bar: *mut c_void);
    fn mx_pci_get_config(_handle: mx_handle_t, _out_config: *mut c_void);
    fn mx_pci_io_write(_handle: mx_handle_t, _bar_num: u32, _offset: u32, _len: u32, _value: u32);
    fn mx_pci_io_read(_handle: mx_handle_t, _bar_num: u32, _offset: u32, _len: u32, _out_value: *mut u32);
    fn mx_pci_map_interrupt(_handle: mx_handle_t, _which_irq: i32, _out_handle: *mut mx_handle_t);
    fn mx_pci_query_irq_mode_caps(_handle: mx_handle_t, _mode: u32, _out_max_irqs: *mut u32);
    fn mx_pci_set_irq_mode(_handle: mx_handle_t, _mode: u32, _requested_irq_count: u32);
    fn mx_pci_init(_handle: mx_handle_t, _init_buf: *const c_void, _len: u32);
    fn mx_pci_add_subtract_io_range(_handle: mx_handle_t, _mmio: bool, _base: u64, _len: u64, _add: bool);
    fn mx_acpi_cache_flush(_handle: mx_handle_t);
    fn mx_resource_create(_parent_handle: mx_handle_t, _kind: u32, _low: u64, _high: u64, _resource_out: *mut mx_handle_t);
    fn mx_guest_create(_resource: mx_handle_t, _options: u32, _physmem_vmo: mx_handle_t, _out: *mut mx_handle_t);
    fn mx_guest_set_trap(_guest: mx_handle_t, _kind: u32, _addr: usize, _len: usize, _fifo: mx_handle_t);
    fn mx_vcpu_create(_guest: mx_handle_t, _options: u32, _args: *const c_void, _out: *mut mx_handle_t);
    fn mx_vcpu_resume(_vcpu: mx_handle_t, _packet: *mut c_void);
    fn mx_vcpu_interrupt(_vcpu: mx_handle_t, _vector: u32);
    fn mx_vcpu_read_state(_vcpu: mx_handle_t, _kind: u32, _buffer: *mut c_void, _len: u32);
    fn mx_vcpu_write_state(_vcpu: mx_handle_t, _kind: u32, _buffer: *const c_void, _len: u32);
    fn mx_system_mexec(_kernel: mx_handle_t, _bootimage: mx_handle_t, _cmdline: *const c_char, _cmdline_len: u32);
    fn mx_job_set_relative_importance(_root_resource: mx_handle_t, _job: mx_handle_t, _less_important_job: mx_handle_t);
}

/// `mx_acpi_uefi_rsdp`—Not supported here: returns 0 (no ACPI table) and
/// touches nothing.
#[unsafe(no_mangle)]
pub extern "C" fn mx_acpi_uefi_rsdp(_handle: mx_handle_t) -> u64 {
    0
}
