//! Model-based property test: random operation sequences on a socket pair,
//! checked step by step against a small reference model written here.
//!
//! The model is deliberately plain: each end is a list of handles with their
//! rights, a half-closed flag, user signals, and the bytes waiting to be read
//! at it (a `VecDeque<u8>` for streams, a `VecDeque<Vec<u8>>` for datagrams).
//! After every operation the test compares the status, the byte count and
//! the bytes, then the outstanding counts and the signals of both ends.

use std::collections::VecDeque;

use mx::core::abi::{SOCKET_DATAGRAM, SOCKET_HALF_CLOSE, SOCKET_STREAM};
use mx::sys::{self, ErrorWith};
use mx::{RawHandle, Rights, Signals, Status, Time};
use proptest::prelude::*;

/// Payload bytes each direction holds.
const CAP: usize = 257_024;

/// One step of a scenario. `end` is 0 (A) or 1 (B); `handle` picks one of
/// that end's live handles (modulo their number), or its most recently
/// closed value once it has none.
#[derive(Clone, Debug)]
enum Op {
    Write {
        end: usize,
        handle: usize,
        len: usize,
    },
    Read {
        end: usize,
        handle: usize,
        size: usize,
    },
    Outstanding {
        end: usize,
        handle: usize,
    },
    HalfClose {
        end: usize,
        handle: usize,
    },
    Close {
        end: usize,
        handle: usize,
    },
    Duplicate {
        end: usize,
        handle: usize,
        rights: Rights,
    },
    Replace {
        end: usize,
        handle: usize,
        rights: Rights,
    },
    Signal {
        end: usize,
        handle: usize,
        peer: bool,
        clear: u32,
        set: u32,
    },
}

/// Sizes around the interesting values: tiny, small, medium, and the
/// capacity.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..=16,
        3 => 17usize..3000,
        1 => 3000usize..70_000,
        1 => 70_000usize..CAP - 300,
        2 => CAP - 300..=CAP + 300,
    ]
}

/// Rights to ask for: keep, the default set, subsets, nothing, and one
/// superset that must fail.
fn rights() -> impl Strategy<Value = Rights> {
    prop::sample::select(vec![
        Rights::SAME_RIGHTS,
        Rights::SOCKET_DEFAULT,
        Rights::READ | Rights::WRITE | Rights::DUPLICATE,
        Rights::READ | Rights::DUPLICATE,
        Rights::WRITE | Rights::DUPLICATE,
        Rights::READ,
        Rights::WRITE,
        Rights::SIGNAL | Rights::SIGNAL_PEER | Rights::READ,
        Rights::NONE,
        Rights::SOCKET_DEFAULT | Rights::from_bits_retain(1 << 20),
    ])
}

/// Signal masks: mostly user signals, sometimes a bit a socket refuses.
fn mask() -> impl Strategy<Value = u32> {
    prop_oneof![
        6 => (0u32..256).prop_map(|u| u << 24),
        1 => Just(0u32),
        1 => (0u32..24).prop_map(|bit| 1 << bit),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let end = 0usize..2;
    let handle = 0usize..4;
    prop_oneof![
        8 => (end.clone(), handle.clone(), size())
            .prop_map(|(end, handle, len)| Op::Write { end, handle, len }),
        7 => (end.clone(), handle.clone(), size())
            .prop_map(|(end, handle, size)| Op::Read { end, handle, size }),
        1 => (end.clone(), handle.clone())
            .prop_map(|(end, handle)| Op::Outstanding { end, handle }),
        1 => (end.clone(), handle.clone())
            .prop_map(|(end, handle)| Op::HalfClose { end, handle }),
        1 => (end.clone(), handle.clone())
            .prop_map(|(end, handle)| Op::Close { end, handle }),
        2 => (end.clone(), handle.clone(), rights())
            .prop_map(|(end, handle, rights)| Op::Duplicate { end, handle, rights }),
        1 => (end.clone(), handle.clone(), rights())
            .prop_map(|(end, handle, rights)| Op::Replace { end, handle, rights }),
        2 => (end, handle, any::<bool>(), mask(), mask()).prop_map(
            |(end, handle, peer, clear, set)| Op::Signal { end, handle, peer, clear, set }
        ),
    ]
}

/// The reference model of one end.
#[derive(Debug, Default)]
struct End {
    /// Live handles naming this end, with their rights.
    handles: Vec<(RawHandle, Rights)>,
    /// Closed values (stale handles).
    dead: Vec<RawHandle>,
    /// This end half-closed its writing.
    write_shut: bool,
    /// User signals set on this end.
    user: Signals,
    /// Stream bytes waiting to be read here.
    bytes: VecDeque<u8>,
    /// Datagrams waiting to be read here.
    datagrams: VecDeque<Vec<u8>>,
}

impl End {
    fn open(&self) -> bool {
        !self.handles.is_empty()
    }

    fn queued(&self) -> usize {
        self.bytes.len() + self.datagrams.iter().map(Vec::len).sum::<usize>()
    }

    /// The handle `pick` selects: a live one, or a stale value.
    fn pick(&self, pick: usize) -> Option<Pick> {
        if self.handles.is_empty() {
            self.dead.last().map(|&h| Pick::Dead(h))
        } else {
            let i = pick % self.handles.len();
            let (h, r) = self.handles[i];
            Some(Pick::Live(i, h, r))
        }
    }
}

#[derive(Copy, Clone, Debug)]
enum Pick {
    Live(usize, RawHandle, Rights),
    Dead(RawHandle),
}

impl Pick {
    fn raw(self) -> RawHandle {
        match self {
            Pick::Live(_, h, _) | Pick::Dead(h) => h,
        }
    }

    /// `BAD_HANDLE` for a stale value, `ACCESS_DENIED` without `need`.
    fn check(self, need: Rights) -> Result<(), Status> {
        match self {
            Pick::Dead(_) => Err(Status::BAD_HANDLE),
            Pick::Live(_, _, r) if !r.contains(need) => Err(Status::ACCESS_DENIED),
            Pick::Live(..) => Ok(()),
        }
    }
}

/// A socket pair and its model.
struct Harness {
    datagram: bool,
    ends: [End; 2],
    /// Makes every written byte differ from its neighbours and from other
    /// writes.
    counter: u64,
    /// What happened so far, for failure messages.
    log: Vec<String>,
}

impl Harness {
    fn new(datagram: bool) -> Harness {
        let options = if datagram {
            SOCKET_DATAGRAM
        } else {
            SOCKET_STREAM
        };
        let (a, b) = sys::socket_create(options).expect("socket_create");
        let mut ends: [End; 2] = Default::default();
        ends[0].handles.push((a, Rights::SOCKET_DEFAULT));
        ends[1].handles.push((b, Rights::SOCKET_DEFAULT));
        Harness {
            datagram,
            ends,
            counter: 0,
            log: Vec::new(),
        }
    }

    fn data(&mut self, len: usize) -> Vec<u8> {
        let base = self.counter;
        self.counter += len as u64 + 1;
        (0..len as u64)
            .map(|i| ((base + i).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8)
            .collect()
    }

    /// The signals the model predicts for `end` (which is open).
    fn expected_signals(&self, end: usize) -> Signals {
        let (this, peer) = (&self.ends[end], &self.ends[1 - end]);
        let mut s = this.user;
        if this.queued() > 0 {
            s |= Signals::READABLE;
        }
        if !peer.open() || peer.write_shut {
            s |= Signals::PEER_CLOSED;
        }
        if !this.write_shut && peer.open() && peer.queued() < CAP {
            s |= Signals::WRITABLE;
        }
        if this.handles.len() == 1 {
            s |= Signals::LAST_HANDLE;
        }
        s
    }

    /// Compares the signals and outstanding bytes of both ends, through
    /// every handle (a handle without `READ` may neither wait nor query).
    fn check(&self) -> Result<(), TestCaseError> {
        for end in 0..2 {
            let e = &self.ends[end];
            for &(h, r) in &e.handles {
                let observed = sys::object_wait_one(h, Signals::NONE, Time::ZERO);
                let queried = sys::socket_read::<[u8]>(h, 0, None);
                if r.contains(Rights::READ) {
                    let want = ErrorWith {
                        status: Status::TIMED_OUT,
                        value: Some(self.expected_signals(end)),
                    };
                    prop_assert_eq!(observed, Err(want), "signals of end {}", end);
                    prop_assert_eq!(queried, Ok(e.queued()), "outstanding at end {}", end);
                } else {
                    let denied = ErrorWith {
                        status: Status::ACCESS_DENIED,
                        value: None,
                    };
                    prop_assert_eq!(observed, Err(denied));
                    prop_assert_eq!(queried, Err(Status::ACCESS_DENIED));
                }
            }
            for &h in &e.dead {
                prop_assert_eq!(
                    sys::socket_read::<[u8]>(h, 0, None),
                    Err(Status::BAD_HANDLE)
                );
            }
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        self.log.push(format!("{op:?}"));
        match *op {
            Op::Write { end, handle, len } => self.write(end, handle, len),
            Op::Read { end, handle, size } => self.read(end, handle, Some(size)),
            Op::Outstanding { end, handle } => self.read(end, handle, None),
            Op::HalfClose { end, handle } => self.half_close(end, handle),
            Op::Close { end, handle } => self.close(end, handle),
            Op::Duplicate {
                end,
                handle,
                rights,
            } => self.duplicate(end, handle, rights, false),
            Op::Replace {
                end,
                handle,
                rights,
            } => self.duplicate(end, handle, rights, true),
            Op::Signal {
                end,
                handle,
                peer,
                clear,
                set,
            } => self.signal(end, handle, peer, clear, set),
        }
    }

    fn write(&mut self, end: usize, handle: usize, len: usize) -> Result<(), TestCaseError> {
        let Some(pick) = self.ends[end].pick(handle) else {
            return Ok(());
        };
        let data = self.data(len);
        let got = sys::socket_write(pick.raw(), 0, &data[..]);
        let want = pick.check(Rights::WRITE).and_then(|()| {
            let (this, peer) = (&self.ends[end], &self.ends[1 - end]);
            if !peer.open() {
                return Err(Status::PEER_CLOSED);
            }
            if this.write_shut {
                return Err(Status::BAD_STATE);
            }
            if len == 0 {
                return Ok(0);
            }
            let room = CAP - peer.queued();
            if room == 0 || (self.datagram && len > room) {
                return Err(Status::SHOULD_WAIT);
            }
            Ok(len.min(room))
        });
        prop_assert_eq!(got, want, "write of {} bytes from end {}", len, end);
        if let Ok(n) = want {
            let peer = &mut self.ends[1 - end];
            if n == 0 {
                // Nothing is queued, not even an empty datagram.
            } else if self.datagram {
                peer.datagrams.push_back(data);
            } else {
                peer.bytes.extend(&data[..n]);
            }
        }
        Ok(())
    }

    fn read(
        &mut self,
        end: usize,
        handle: usize,
        size: Option<usize>,
    ) -> Result<(), TestCaseError> {
        let Some(pick) = self.ends[end].pick(handle) else {
            return Ok(());
        };
        let mut buf = vec![0u8; size.unwrap_or(0)];
        let got = match size {
            Some(_) => sys::socket_read(pick.raw(), 0, Some(&mut buf[..])),
            None => sys::socket_read::<[u8]>(pick.raw(), 0, None),
        };
        let checked = pick.check(Rights::READ);
        let this = &self.ends[end];
        let peer_done = !self.ends[1 - end].open() || self.ends[1 - end].write_shut;
        let want = checked.and_then(|()| match size {
            None => Ok(this.queued()),
            Some(_) if this.queued() == 0 => Err(if peer_done {
                Status::PEER_CLOSED
            } else {
                Status::SHOULD_WAIT
            }),
            Some(0) => Ok(0),
            Some(size) if self.datagram => Ok(size.min(this.datagrams[0].len())),
            Some(size) => Ok(size.min(this.queued())),
        });
        prop_assert_eq!(got, want, "read of {:?} at end {}", size, end);
        if let (Ok(n), Some(size)) = (want, size) {
            if size > 0 {
                let this = &mut self.ends[end];
                let expected: Vec<u8> = if self.datagram {
                    let d = this.datagrams.pop_front().expect("a datagram");
                    d[..n].to_vec()
                } else {
                    this.bytes.drain(..n).collect()
                };
                prop_assert!(buf[..n] == expected[..], "bytes read at end {}", end);
            }
        }
        Ok(())
    }

    fn half_close(&mut self, end: usize, handle: usize) -> Result<(), TestCaseError> {
        let Some(pick) = self.ends[end].pick(handle) else {
            return Ok(());
        };
        let got = sys::socket_write(pick.raw(), SOCKET_HALF_CLOSE, &[][..]);
        let want = pick.check(Rights::WRITE).and_then(|()| {
            if self.ends[end].write_shut {
                Ok(0)
            } else if !self.ends[1 - end].open() {
                Err(Status::PEER_CLOSED)
            } else {
                Ok(0)
            }
        });
        prop_assert_eq!(got, want, "half-close of end {}", end);
        if want.is_ok() {
            self.ends[end].write_shut = true;
        }
        Ok(())
    }

    fn close(&mut self, end: usize, handle: usize) -> Result<(), TestCaseError> {
        let Some(pick) = self.ends[end].pick(handle) else {
            return Ok(());
        };
        let got = sys::handle_close(pick.raw());
        match pick {
            Pick::Dead(_) => prop_assert_eq!(got, Err(Status::BAD_HANDLE)),
            Pick::Live(i, h, _) => {
                prop_assert_eq!(got, Ok(()));
                let e = &mut self.ends[end];
                e.handles.remove(i);
                e.dead.push(h);
                if !e.open() {
                    // What was waiting to be read here is gone with the end.
                    e.bytes.clear();
                    e.datagrams.clear();
                }
            }
        }
        Ok(())
    }

    fn duplicate(
        &mut self,
        end: usize,
        handle: usize,
        rights: Rights,
        replace: bool,
    ) -> Result<(), TestCaseError> {
        let Some(pick) = self.ends[end].pick(handle) else {
            return Ok(());
        };
        let got = if replace {
            sys::handle_replace(pick.raw(), rights)
        } else {
            sys::handle_duplicate(pick.raw(), rights)
        };
        let need = if replace {
            Rights::NONE
        } else {
            Rights::DUPLICATE
        };
        let want = pick.check(need).and_then(|()| {
            let Pick::Live(_, _, held) = pick else {
                unreachable!()
            };
            if rights == Rights::SAME_RIGHTS {
                Ok(held)
            } else if held.contains(rights) {
                Ok(rights)
            } else {
                Err(Status::INVALID_ARGS)
            }
        });
        match (got, want) {
            (Ok(new), Ok(new_rights)) => {
                prop_assert!(new > 0);
                let info = sys::object_get_info_handle_basic(new).expect("get_info");
                prop_assert_eq!(info.rights, new_rights);
                let e = &mut self.ends[end];
                if let (true, Pick::Live(i, old, _)) = (replace, pick) {
                    e.handles.remove(i);
                    e.dead.push(old);
                }
                e.handles.push((new, new_rights));
            }
            (got, want) => prop_assert_eq!(got.map(|_| ()), want.map(|_| ())),
        }
        Ok(())
    }

    fn signal(
        &mut self,
        end: usize,
        handle: usize,
        peer: bool,
        clear: u32,
        set: u32,
    ) -> Result<(), TestCaseError> {
        let Some(pick) = self.ends[end].pick(handle) else {
            return Ok(());
        };
        let (clear, set) = (
            Signals::from_bits_retain(clear),
            Signals::from_bits_retain(set),
        );
        let got = if peer {
            sys::object_signal_peer(pick.raw(), clear, set)
        } else {
            sys::object_signal(pick.raw(), clear, set)
        };
        let need = if peer {
            Rights::SIGNAL_PEER
        } else {
            Rights::SIGNAL
        };
        let target = if peer { 1 - end } else { end };
        let want = pick.check(need).and_then(|()| {
            if !Signals::USER_ALL.contains(clear | set) {
                Err(Status::INVALID_ARGS)
            } else if peer && !self.ends[target].open() {
                Err(Status::PEER_CLOSED)
            } else {
                Ok(())
            }
        });
        prop_assert_eq!(got, want, "signal (peer: {}) from end {}", peer, end);
        if want.is_ok() {
            let t = &mut self.ends[target];
            t.user = (t.user - clear) | set;
        }
        Ok(())
    }

    /// Closes every live handle; each close succeeds once.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        for end in 0..2 {
            for (h, _) in std::mem::take(&mut self.ends[end].handles) {
                prop_assert_eq!(sys::handle_close(h), Ok(()));
                prop_assert_eq!(sys::handle_close(h), Err(Status::BAD_HANDLE));
            }
        }
        Ok(())
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // After a failed assertion, release the pair anyway.
        for end in &self.ends {
            for &(h, _) in &end.handles {
                let _ = sys::handle_close(h);
            }
        }
    }
}

fn run(datagram: bool, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut h = Harness::new(datagram);
    h.check()?;
    for op in ops {
        h.apply(op)?;
        h.check()
            .map_err(|e| TestCaseError::fail(format!("{e} after {:?}", h.log)))?;
    }
    h.finish()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        // Failures are turned into fixed scenarios below instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn model_stream_socket(ops in prop::collection::vec(op(), 1..60)) {
        run(false, &ops)?;
    }


    #[test]
    fn model_datagram_socket(ops in prop::collection::vec(op(), 1..60)) {
        run(true, &ops)?;
    }
}

/// Scenarios the random search reaches only rarely, run every time.
fn fixed_scenarios() -> Vec<Vec<Op>> {
    use Op::*;
    let fill_and_drain = [
        Write {
            end: 0,
            handle: 0,
            len: CAP - 1,
        },
        Write {
            end: 0,
            handle: 0,
            len: 5,
        },
        Write {
            end: 0,
            handle: 0,
            len: 0,
        },
        Read {
            end: 1,
            handle: 0,
            size: 0,
        },
        Read {
            end: 1,
            handle: 0,
            size: 3,
        },
        Write {
            end: 0,
            handle: 0,
            len: 10,
        },
        HalfClose { end: 0, handle: 0 },
        Read {
            end: 1,
            handle: 0,
            size: CAP,
        },
        Read {
            end: 1,
            handle: 0,
            size: CAP,
        },
        Read {
            end: 1,
            handle: 0,
            size: 1,
        },
        Write {
            end: 1,
            handle: 0,
            len: 100,
        },
        Close { end: 1, handle: 0 },
        HalfClose { end: 0, handle: 0 },
        Read {
            end: 0,
            handle: 0,
            size: 40,
        },
        Read {
            end: 0,
            handle: 0,
            size: 100,
        },
        Read {
            end: 0,
            handle: 0,
            size: 100,
        },
    ];
    let handles = [
        Duplicate {
            end: 0,
            handle: 0,
            rights: Rights::READ,
        },
        Duplicate {
            end: 0,
            handle: 0,
            rights: Rights::WRITE | Rights::DUPLICATE,
        },
        Write {
            end: 0,
            handle: 1,
            len: 7,
        },
        Write {
            end: 0,
            handle: 2,
            len: 7,
        },
        Replace {
            end: 0,
            handle: 2,
            rights: Rights::WRITE,
        },
        Close { end: 0, handle: 0 },
        Close { end: 0, handle: 0 },
        Signal {
            end: 1,
            handle: 0,
            peer: true,
            clear: 0,
            set: 1 << 24,
        },
        Close { end: 0, handle: 0 },
        Write {
            end: 1,
            handle: 0,
            len: 1,
        },
        Signal {
            end: 1,
            handle: 0,
            peer: true,
            clear: 0,
            set: 1 << 24,
        },
        Read {
            end: 1,
            handle: 0,
            size: 0,
        },
        Close { end: 0, handle: 0 },
    ];
    // Found by the search: the second read must see the second write.
    let read_sees_later_write = vec![
        Duplicate {
            end: 0,
            handle: 0,
            rights: Rights::SAME_RIGHTS,
        },
        Write {
            end: 1,
            handle: 0,
            len: 131_478,
        },
        Read {
            end: 0,
            handle: 0,
            size: 0,
        },
        Write {
            end: 1,
            handle: 0,
            len: 1,
        },
        Read {
            end: 0,
            handle: 0,
            size: 131_479,
        },
    ];
    vec![
        fill_and_drain.to_vec(),
        handles.to_vec(),
        read_sees_later_write,
    ]
}

#[test]
fn model_fixed_scenarios_stream() {
    for ops in fixed_scenarios() {
        run(false, &ops).unwrap();
    }
}

#[test]
fn model_fixed_scenarios_datagram() {
    for ops in fixed_scenarios() {
        run(true, &ops).unwrap();
    }
}
