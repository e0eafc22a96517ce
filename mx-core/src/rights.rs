//! `mx_rights_t`: what a handle may do with its object.

bitflags::bitflags! {
    /// Handle rights (`mx_rights_t`).
    #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
    #[repr(transparent)]
    pub struct Rights: u32 {
        /// `MX_RIGHT_DUPLICATE`: gates `mx_handle_duplicate`.
        const DUPLICATE = 1 << 0;
        /// `MX_RIGHT_TRANSFER`: moving the handle elsewhere.
        const TRANSFER = 1 << 1;
        /// `MX_RIGHT_READ`: socket reads, waits, port waits.
        const READ = 1 << 2;
        /// `MX_RIGHT_WRITE`: socket writes, port queueing, being an async-wait target.
        const WRITE = 1 << 3;
        /// `MX_RIGHT_EXECUTE`: mapping a VMO executable (no kind here uses it).
        const EXECUTE = 1 << 4;
        /// `MX_RIGHT_MAP`: mapping a VMO (no kind here uses it).
        const MAP = 1 << 5;
        /// `MX_RIGHT_GET_PROPERTY`: `mx_object_get_property`.
        const GET_PROPERTY = 1 << 6;
        /// `MX_RIGHT_SET_PROPERTY`: `mx_object_set_property`.
        const SET_PROPERTY = 1 << 7;
        /// `MX_RIGHT_ENUMERATE`: `mx_object_get_child`, listing a task's children.
        const ENUMERATE = 1 << 8;
        /// `MX_RIGHT_DESTROY`: killing a task (no kind here uses it).
        const DESTROY = 1 << 9;
        /// `MX_RIGHT_SET_POLICY`: a job's policy (no kind here uses it).
        const SET_POLICY = 1 << 10;
        /// `MX_RIGHT_GET_POLICY`: a job's policy (no kind here uses it).
        const GET_POLICY = 1 << 11;
        /// `MX_RIGHT_SIGNAL`: `mx_object_signal`.
        const SIGNAL = 1 << 12;
        /// `MX_RIGHT_SIGNAL_PEER`: `mx_object_signal_peer`.
        const SIGNAL_PEER = 1 << 13;
        /// `MX_RIGHT_SAME_RIGHTS`: "keep the rights" in duplicate and replace.
        const SAME_RIGHTS = 1 << 31;

        // Rights arrive from C callers as raw words; keep every bit.
        const _ = !0;
    }
}

impl Rights {
    /// `MX_RIGHT_NONE`.
    pub const NONE: Rights = Rights::empty();
    /// Default rights of a socket end.
    pub const SOCKET_DEFAULT: Rights = Rights::TRANSFER
        .union(Rights::DUPLICATE)
        .union(Rights::READ)
        .union(Rights::WRITE)
        .union(Rights::SIGNAL)
        .union(Rights::SIGNAL_PEER);
    /// Default rights of an event.
    pub const EVENT_DEFAULT: Rights = Rights::DUPLICATE
        .union(Rights::TRANSFER)
        .union(Rights::READ)
        .union(Rights::WRITE)
        .union(Rights::SIGNAL);
    /// Default rights of an eventpair end.
    pub const EVENTPAIR_DEFAULT: Rights = Rights::EVENT_DEFAULT.union(Rights::SIGNAL_PEER);
    /// Default rights of a channel end (no `DUPLICATE`).
    pub const CHANNEL_DEFAULT: Rights = Rights::TRANSFER
        .union(Rights::READ)
        .union(Rights::WRITE)
        .union(Rights::SIGNAL)
        .union(Rights::SIGNAL_PEER);
    /// Default rights of a port.
    pub const PORT_DEFAULT: Rights = Rights::DUPLICATE
        .union(Rights::TRANSFER)
        .union(Rights::READ)
        .union(Rights::WRITE);

    /// The rights of a new handle made from one holding `self`, asking for
    /// `requested` (`SAME_RIGHTS` keeps them all).
    ///
    /// # Errors
    /// `INVALID_ARGS` if `requested` is not a subset of `self`.
    pub fn derive(self, requested: Rights) -> Result<Rights, crate::Status> {
        if requested == Rights::SAME_RIGHTS {
            Ok(self)
        } else if self.contains(requested) {
            Ok(requested)
        } else {
            Err(crate::Status::INVALID_ARGS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn defaults_match_the_spec() {
        assert_eq!(Rights::SOCKET_DEFAULT.bits(), 0b11_0000_0000_1111);
        assert_eq!(Rights::EVENT_DEFAULT.bits(), 0b01_0000_0000_1111);
        assert_eq!(Rights::EVENTPAIR_DEFAULT.bits(), 0b11_0000_0000_1111);
        assert_eq!(Rights::PORT_DEFAULT.bits(), 0b1111);
    }

    #[test]
    fn derive_keeps_or_reduces() {
        let r = Rights::READ | Rights::WRITE;
        assert_eq!(r.derive(Rights::SAME_RIGHTS), Ok(r));
        assert_eq!(r.derive(Rights::READ), Ok(Rights::READ));
        assert_eq!(r.derive(Rights::NONE), Ok(Rights::NONE));
        assert_eq!(r.derive(Rights::DUPLICATE), Err(Status::INVALID_ARGS));
        // SAME_RIGHTS mixed with other bits is not "keep": it is a request for
        // a bit nobody holds.
        assert_eq!(
            r.derive(Rights::SAME_RIGHTS | Rights::READ),
            Err(Status::INVALID_ARGS)
        );
    }
}
