//! Which end of a peered object (socket, eventpair) an operation acts on.

/// One end of a peered object. Any index into a pair says which end it means
/// through this type, never through a bare integer.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Side {
    /// The end returned first by `create` (`out0`).
    A,
    /// The end returned second by `create` (`out1`).
    B,
}

impl Side {
    /// Both ends, `A` first.
    pub const BOTH: [Side; 2] = [Side::A, Side::B];

    /// The other end.
    pub const fn peer(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    /// 0 for `A`, 1 for `B`.
    pub const fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}
