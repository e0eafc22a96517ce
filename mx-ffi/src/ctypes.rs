//! The C names of the types in the prototypes, as Rust aliases, so that the
//! entry points read like `include/magenta/syscalls.h`.
//!
//! The structs are `mx-core`'s `repr(C)` types; `tests/abi.rs` checks every size, alignment and
//! offset against the headers.

#![allow(non_camel_case_types)]

/// `mx_status_t`: `MX_OK` or a negative `MX_ERR_*` code.
pub type mx_status_t = i32;
/// `mx_handle_t`: a handle value; `MX_HANDLE_INVALID` is 0.
pub type mx_handle_t = mx_core::RawHandle;
/// `mx_signals_t`: signal bits.
pub type mx_signals_t = u32;
/// `mx_rights_t`: right bits.
pub type mx_rights_t = u32;
/// `mx_time_t`: nanoseconds on the monotonic clock.
pub type mx_time_t = u64;
/// `mx_koid_t`: a kernel object id.
pub type mx_koid_t = u64;
/// `mx_wait_item_t`: one entry of `mx_object_wait_many`.
pub type mx_wait_item_t = mx_core::abi::WaitItem;
/// `mx_info_handle_basic_t`: the record of `MX_INFO_HANDLE_BASIC`.
pub type mx_info_handle_basic_t = mx_core::abi::HandleBasicInfo;
/// `mx_port_packet_t`: a port packet.
pub type mx_port_packet_t = mx_core::abi::PortPacket;

/// `pid_t`: a Linux process id (`<magenta/linux.h>`).
pub type pid_t = libc::pid_t;

/// `mx_txid_t`: a channel message's transaction id.
pub type mx_txid_t = u32;

/// `mx_channel_call_args_t`: the messages of `mx_channel_call`. The four
/// pointers are kept as addresses (`usize`) so that the struct can be
/// copied in as plain bytes; the entry point turns them into user-pointer
/// types.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct mx_channel_call_args_t {
    /// `const void* wr_bytes`.
    pub wr_bytes: usize,
    /// `const mx_handle_t* wr_handles`.
    pub wr_handles: usize,
    /// `void* rd_bytes`.
    pub rd_bytes: usize,
    /// `mx_handle_t* rd_handles`.
    pub rd_handles: usize,
    /// Bytes to write.
    pub wr_num_bytes: u32,
    /// Handles to write.
    pub wr_num_handles: u32,
    /// Room for the reply's bytes.
    pub rd_num_bytes: u32,
    /// Room for the reply's handles.
    pub rd_num_handles: u32,
}

const _: () = assert!(core::mem::size_of::<mx_channel_call_args_t>() == 48);
