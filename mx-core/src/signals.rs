//! `mx_signals_t`: the bits of state an object shows to waiters.

bitflags::bitflags! {
    /// Signal bits (`mx_signals_t`).
    ///
    /// The same bit can mean different things on different object kinds
    /// (bit 2 is `SOCKET_PEER_CLOSED` on a socket, `CHANNEL_PEER_CLOSED` on a
    /// channel and `EPAIR_PEER_CLOSED` on an eventpair), so the names below
    /// alias; the short names `READABLE`, `WRITABLE` and `PEER_CLOSED` mean
    /// the same bits for sockets and channels.
    #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
    #[repr(transparent)]
    pub struct Signals: u32 {
        /// `MX_SOCKET_READABLE`: data is waiting to be read at this end.
        const SOCKET_READABLE = 1 << 0;
        /// `MX_SOCKET_WRITABLE`: this end may write.
        const SOCKET_WRITABLE = 1 << 1;
        /// `MX_SOCKET_PEER_CLOSED`: the peer closed, or half-closed its writing.
        const SOCKET_PEER_CLOSED = 1 << 2;
        /// `MX_CHANNEL_READABLE`: a message is queued at this end.
        const CHANNEL_READABLE = 1 << 0;
        /// `MX_CHANNEL_WRITABLE`: the peer is open.
        const CHANNEL_WRITABLE = 1 << 1;
        /// `MX_CHANNEL_PEER_CLOSED`: the peer end's last handle was closed.
        const CHANNEL_PEER_CLOSED = 1 << 2;
        /// `MX_EVENT_SIGNALED`: the user-settable bit of an event.
        const EVENT_SIGNALED = 1 << 3;
        /// `MX_EPAIR_SIGNALED`: the user-settable bit of an eventpair end.
        const EPAIR_SIGNALED = 1 << 3;
        /// `MX_EPAIR_PEER_CLOSED`: the other end of an eventpair is closed.
        const EPAIR_PEER_CLOSED = 1 << 2;
        /// `MX_SIGNAL_LAST_HANDLE`: exactly one handle names this object.
        const LAST_HANDLE = 1 << 22;
        /// `MX_SIGNAL_HANDLE_CLOSED`: reported when a wait was cancelled by a close.
        const HANDLE_CLOSED = 1 << 23;
        /// `MX_USER_SIGNAL_0`.
        const USER_0 = 1 << 24;
        /// `MX_USER_SIGNAL_1`.
        const USER_1 = 1 << 25;
        /// `MX_USER_SIGNAL_2`.
        const USER_2 = 1 << 26;
        /// `MX_USER_SIGNAL_3`.
        const USER_3 = 1 << 27;
        /// `MX_USER_SIGNAL_4`.
        const USER_4 = 1 << 28;
        /// `MX_USER_SIGNAL_5`.
        const USER_5 = 1 << 29;
        /// `MX_USER_SIGNAL_6`.
        const USER_6 = 1 << 30;
        /// `MX_USER_SIGNAL_7`.
        const USER_7 = 1 << 31;

        // Any bit may be waited for, so unknown bits must survive round trips.
        const _ = !0;
    }
}

impl Signals {
    /// `MX_SIGNAL_NONE`.
    pub const NONE: Signals = Signals::empty();
    /// `MX_USER_SIGNAL_ALL`: the eight bits free for programs.
    pub const USER_ALL: Signals = Signals::from_bits_retain(0xff00_0000);
    /// `MX_SOCKET_READABLE`, under its short name.
    pub const READABLE: Signals = Signals::SOCKET_READABLE;
    /// `MX_SOCKET_WRITABLE`, under its short name.
    pub const WRITABLE: Signals = Signals::SOCKET_WRITABLE;
    /// `MX_SOCKET_PEER_CLOSED`, under its short name.
    pub const PEER_CLOSED: Signals = Signals::SOCKET_PEER_CLOSED;
}
