//! The safe Rust API, in the conventions of the `magenta` and
//! `fuchsia-zircon` crates.
//!
//! [`Handle`] owns a handle value and closes it on drop; typed wrappers
//! ([`Socket`], [`Event`], [`EventPair`], [`Port`]) own a `Handle`. Behaviour common to
//! all handles lives in traits: [`AsHandleRef`] (waiting, signalling,
//! information), [`HandleBased`] (duplicate, replace, conversions) and
//! [`Peered`] (signalling the peer). Every method is a thin call into
//! [`crate::sys`].

mod channel;
mod event;
mod port;
mod socket;
mod time;

use core::marker::PhantomData;

use mx_core::abi::{HandleBasicInfo, WaitItem as RawWaitItem, HANDLE_INVALID};
use mx_core::{Koid, ObjectType, RawHandle, Rights, Signals, Status};

use crate::sys;

pub use channel::{Channel, ChannelCall, MessageBuf, ReadError};
pub use event::{Event, EventPair};
pub use port::{Packet, PacketContents, Port, SignalPacket, UserPacket, WaitAsyncOpts};
pub use socket::{Socket, SocketOpts};
pub use time::{ClockId, Deadline, TimeExt};

/// An owned handle: dropping it closes it.
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Handle(RawHandle);

impl Handle {
    /// The invalid handle (`MX_HANDLE_INVALID`); dropping it does nothing.
    pub const fn invalid() -> Handle {
        Handle(HANDLE_INVALID)
    }

    /// Takes ownership of a raw handle value: dropping the result closes it.
    /// Closing a value twice is a logic error, caught as `BAD_HANDLE` (or, if
    /// the value was reused, acting on the wrong handle), never undefined
    /// behaviour.
    pub const fn from_raw(raw: RawHandle) -> Handle {
        Handle(raw)
    }

    /// Gives up ownership: the value stays open.
    pub fn into_raw(self) -> RawHandle {
        let raw = self.0;
        core::mem::forget(self);
        raw
    }

    /// The raw value (ownership stays here).
    pub const fn raw_handle(&self) -> RawHandle {
        self.0
    }

    /// Whether this is `MX_HANDLE_INVALID`.
    pub const fn is_invalid(&self) -> bool {
        self.0 == HANDLE_INVALID
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.0 != HANDLE_INVALID {
            // BAD_HANDLE here means the value was closed behind our back;
            // there is nobody to report it to.
            let _ = sys::handle_close(self.0);
        }
    }
}

/// A borrowed handle, valid for `'a`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct HandleRef<'a> {
    raw: RawHandle,
    _borrow: PhantomData<&'a Handle>,
}

impl HandleRef<'_> {
    /// Borrows a raw value that the caller keeps open for the borrow's life.
    pub const fn from_raw(raw: RawHandle) -> HandleRef<'static> {
        HandleRef {
            raw,
            _borrow: PhantomData,
        }
    }

    /// The raw value.
    pub const fn raw_handle(&self) -> RawHandle {
        self.raw
    }
}

/// What every handle can do.
pub trait AsHandleRef {
    /// Borrows the handle.
    fn as_handle_ref(&self) -> HandleRef<'_>;

    /// The raw value.
    fn raw_handle(&self) -> RawHandle {
        self.as_handle_ref().raw
    }

    /// Waits until any of `signals` is asserted or `deadline` passes
    /// ([`sys::object_wait_one`]); returns the observed signals.
    ///
    /// # Errors
    /// As [`sys::object_wait_one`]; use that function to see the signals
    /// observed by a wait that timed out or was cancelled.
    fn wait_handle(
        &self,
        signals: Signals,
        deadline: impl Into<Deadline>,
    ) -> Result<Signals, Status> {
        sys::object_wait_one(self.raw_handle(), signals, deadline.into().to_time())
            .map_err(Status::from)
    }

    /// Clears then sets user signals on the object ([`sys::object_signal`]).
    ///
    /// # Errors
    /// As [`sys::object_signal`].
    fn signal_handle(&self, clear: Signals, set: Signals) -> Result<(), Status> {
        sys::object_signal(self.raw_handle(), clear, set)
    }

    /// `MX_INFO_HANDLE_BASIC` ([`sys::object_get_info`]).
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    fn basic_info(&self) -> Result<HandleBasicInfo, Status> {
        sys::object_get_info_handle_basic(self.raw_handle())
    }

    /// Alias of [`AsHandleRef::basic_info`], under `fuchsia-zircon`'s name.
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    fn get_info(&self) -> Result<HandleBasicInfo, Status> {
        self.basic_info()
    }

    /// Asks for a packet on `port` with `key` when any of `signals` is
    /// asserted on this object ([`sys::object_wait_async`]).
    ///
    /// # Errors
    /// As [`sys::object_wait_async`].
    fn wait_async_handle(
        &self,
        port: &Port,
        key: u64,
        signals: Signals,
        options: WaitAsyncOpts,
    ) -> Result<(), Status> {
        sys::object_wait_async(
            self.raw_handle(),
            port.raw_handle(),
            key,
            signals,
            options.into_raw(),
        )
    }

    /// The object's koid.
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    fn koid(&self) -> Result<Koid, Status> {
        Ok(self.basic_info()?.koid)
    }

    /// The object's type.
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    fn object_type(&self) -> Result<ObjectType, Status> {
        Ok(ObjectType(self.basic_info()?.type_))
    }
}

/// An owned handle of some type.
pub trait HandleBased: AsHandleRef + From<Handle> + Into<Handle> {
    /// A new handle to the same object with `rights` (or
    /// [`Rights::SAME_RIGHTS`]).
    ///
    /// # Errors
    /// As [`sys::handle_duplicate`].
    fn duplicate_handle(&self, rights: Rights) -> Result<Self, Status> {
        sys::handle_duplicate(self.raw_handle(), rights)
            .map(|raw| Self::from(Handle::from_raw(raw)))
    }

    /// This handle, replaced by one with `rights`. On failure the handle is
    /// handed back unchanged.
    ///
    /// # Errors
    /// As [`sys::handle_replace`].
    fn replace_handle(self, rights: Rights) -> Result<Self, ReplaceError<Self>> {
        let raw = self.raw_handle();
        match sys::handle_replace(raw, rights) {
            Ok(new) => {
                // The old value is closed already.
                let _ = self.into_handle().into_raw();
                Ok(Self::from(Handle::from_raw(new)))
            }
            Err(status) => Err(ReplaceError {
                status,
                handle: self,
            }),
        }
    }

    /// Converts to a plain [`Handle`].
    fn into_handle(self) -> Handle {
        self.into()
    }

    /// Converts from a plain [`Handle`] (the type is not checked).
    fn from_handle(handle: Handle) -> Self {
        Self::from(handle)
    }
}

/// A failed [`HandleBased::replace_handle`]: the status and the handle.
#[derive(Debug)]
pub struct ReplaceError<T> {
    /// Why it failed.
    pub status: Status,
    /// The handle, still valid.
    pub handle: T,
}

/// An object with a peer (socket and eventpair ends).
pub trait Peered: HandleBased {
    /// Clears then sets user signals on the peer
    /// ([`sys::object_signal_peer`]).
    ///
    /// # Errors
    /// As [`sys::object_signal_peer`].
    fn signal_peer(&self, clear: Signals, set: Signals) -> Result<(), Status> {
        sys::object_signal_peer(self.raw_handle(), clear, set)
    }
}

impl AsHandleRef for Handle {
    fn as_handle_ref(&self) -> HandleRef<'_> {
        HandleRef {
            raw: self.0,
            _borrow: PhantomData,
        }
    }
}

impl AsHandleRef for HandleRef<'_> {
    fn as_handle_ref(&self) -> HandleRef<'_> {
        *self
    }
}

impl HandleBased for Handle {}

/// Implements the handle traits for a typed wrapper around [`Handle`].
macro_rules! handle_type {
    ($name:ident) => {
        impl $crate::api::AsHandleRef for $name {
            fn as_handle_ref(&self) -> $crate::api::HandleRef<'_> {
                self.0.as_handle_ref()
            }
        }
        impl From<$crate::api::Handle> for $name {
            fn from(handle: $crate::api::Handle) -> $name {
                $name(handle)
            }
        }
        impl From<$name> for $crate::api::Handle {
            fn from(value: $name) -> $crate::api::Handle {
                value.0
            }
        }
        impl $crate::api::HandleBased for $name {}
    };
}
pub(crate) use handle_type;

/// One object to wait on with [`object_wait_many`].
#[derive(Copy, Clone, Debug)]
pub struct WaitItem<'a> {
    /// The handle.
    pub handle: HandleRef<'a>,
    /// The signals that end the wait.
    pub waitfor: Signals,
    /// Out: the signals observed on it.
    pub pending: Signals,
}

/// Waits for any of several objects ([`sys::object_wait_many`]); fills every
/// item's `pending`.
///
/// # Errors
/// As [`sys::object_wait_many`].
pub fn object_wait_many(
    items: &mut [WaitItem<'_>],
    deadline: impl Into<Deadline>,
) -> Result<(), Status> {
    let deadline = deadline.into().to_time();
    let mut raw: Vec<RawWaitItem> = Vec::new();
    raw.try_reserve_exact(items.len())?;
    raw.extend(items.iter().map(|item| RawWaitItem {
        handle: item.handle.raw,
        waitfor: item.waitfor,
        pending: Signals::NONE,
    }));
    let result = sys::object_wait_many(&mut raw, deadline);
    if matches!(
        result,
        Ok(()) | Err(Status::TIMED_OUT) | Err(Status::CANCELED)
    ) {
        for (item, raw) in items.iter_mut().zip(&raw) {
            item.pending = raw.pending;
        }
    }
    result
}
