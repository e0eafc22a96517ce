//! Model-based property test: random operation sequences on a socket pair
//! and the channels a scenario creates, checked step by step against the
//! reference model of the specification (`mx_fuzz::model`, shared with the
//! `syscalls` fuzz harness).
//!
//! Each scenario starts with one socket pair (objects 0 and 1); channel
//! pairs it creates are the next objects. A message written into a channel
//! carries bytes and some of the live socket and channel handles; reading
//! it gives new handle values, which must name the same objects with the
//! rights sent. Closing a channel end closes the handles inside the
//! messages queued at it (recursively), which the model follows.
//!
//! After every operation the test compares the status, the counts and the
//! bytes, then, through every live handle, the signals and (for sockets)
//! the outstanding bytes, and that every stale value acts on nothing.

use mx::core::abi::{SOCKET_DATAGRAM, SOCKET_HALF_CLOSE, SOCKET_STREAM};
use mx::sys;
use mx::{Koid, RawHandle, Rights, Signals, Status, Time};
use mx_fuzz::model::{Held, Model, ObjectId, MAX_MSG_BYTES, SOCKET_CAPACITY as CAP};
use proptest::prelude::*;

/// One step of a scenario. `end` picks an object (modulo how many were
/// made: 0 and 1 are the socket ends); `handle` picks one of its live
/// handles (modulo their number), or its most recently closed (or sent)
/// value once it has none.
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
    ChannelCreate,
    /// A message of `len` bytes carrying the handles `pass` picks (each an
    /// `(end, handle)` pick as above).
    ChannelWrite {
        end: usize,
        handle: usize,
        len: usize,
        pass: Vec<(usize, usize)>,
    },
    ChannelRead {
        end: usize,
        handle: usize,
        bytes: usize,
        handles: usize,
        options: u32,
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

/// Message and read-buffer sizes: tiny, small, and around the limit.
fn message_size() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0usize..=16,
        2 => 17usize..3000,
        1 => MAX_MSG_BYTES - 2..=MAX_MSG_BYTES + 2,
    ]
}

/// Rights to ask for: keep, the default sets, subsets, nothing, and one
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
        Rights::TRANSFER | Rights::READ | Rights::WRITE,
        Rights::READ | Rights::WRITE,
        Rights::CHANNEL_DEFAULT,
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
    // Objects: 0 and 1 are the socket ends, then channel ends.
    let end = 0usize..8;
    let handle = 0usize..4;
    let pass = prop_oneof![
        12 => prop::collection::vec((end.clone(), handle.clone()), 0..4),
        1 => prop::collection::vec((end.clone(), handle.clone()), 65..=65),
    ];
    prop_oneof![
        8 => (end.clone(), handle.clone(), size())
            .prop_map(|(end, handle, len)| Op::Write { end, handle, len }),
        7 => (end.clone(), handle.clone(), size())
            .prop_map(|(end, handle, size)| Op::Read { end, handle, size }),
        1 => (end.clone(), handle.clone())
            .prop_map(|(end, handle)| Op::Outstanding { end, handle }),
        1 => (end.clone(), handle.clone())
            .prop_map(|(end, handle)| Op::HalfClose { end, handle }),
        2 => (end.clone(), handle.clone())
            .prop_map(|(end, handle)| Op::Close { end, handle }),
        2 => (end.clone(), handle.clone(), rights())
            .prop_map(|(end, handle, rights)| Op::Duplicate { end, handle, rights }),
        1 => (end.clone(), handle.clone(), rights())
            .prop_map(|(end, handle, rights)| Op::Replace { end, handle, rights }),
        2 => (end.clone(), handle.clone(), any::<bool>(), mask(), mask()).prop_map(
            |(end, handle, peer, clear, set)| Op::Signal { end, handle, peer, clear, set }
        ),
        1 => Just(Op::ChannelCreate),
        5 => (end.clone(), handle.clone(), message_size(), pass)
            .prop_map(|(end, handle, len, pass)| Op::ChannelWrite { end, handle, len, pass }),
        4 => (
            end,
            handle,
            message_size(),
            prop_oneof![4 => 0usize..4, 1 => Just(64usize)],
            prop_oneof![8 => Just(0u32), 2 => Just(1u32), 1 => Just(2u32)],
        )
            .prop_map(|(end, handle, bytes, handles, options)| Op::ChannelRead {
                end,
                handle,
                bytes,
                handles,
                options,
            }),
    ]
}

/// The real objects and the model.
struct Harness {
    model: Model,
    /// Each object's koid, by model object.
    koids: Vec<Koid>,
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
        let mut h = Harness {
            model: Model::new(),
            koids: Vec::new(),
            counter: 0,
            log: Vec::new(),
        };
        let values = sys::socket_create(options).expect("socket_create");
        let held = h.model.socket_create(options).expect("model socket_create");
        h.created(held, values);
        h
    }

    /// Places a new pair, recording its koids.
    fn created(&mut self, held: [Held; 2], (a, b): (RawHandle, RawHandle)) {
        for (held, value) in held.into_iter().zip([a, b]) {
            assert_eq!(held.object().0, self.koids.len());
            self.koids
                .push(sys::object_get_info_handle_basic(value).expect("info").koid);
            self.model.place(held, value);
        }
    }

    fn data(&mut self, len: usize) -> Vec<u8> {
        let base = self.counter;
        self.counter += len as u64 + 1;
        (0..len as u64)
            .map(|i| ((base + i).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8)
            .collect()
    }

    /// The handle value `(end, handle)` picks: a live one, or a stale one.
    fn pick(&self, end: usize, handle: usize) -> Option<RawHandle> {
        let id = ObjectId(end % self.model.objects());
        let live = self.model.handles(id);
        if live.is_empty() {
            self.model.dead(id).last().copied()
        } else {
            Some(live[handle % live.len()].0)
        }
    }

    /// Compares the signals and outstanding bytes of every open object,
    /// through every handle (a handle without `READ` may neither wait nor
    /// query), and that stale values act on nothing.
    fn check(&self) -> Result<(), TestCaseError> {
        for id in (0..self.model.objects()).map(ObjectId) {
            for &(h, _) in self.model.handles(id) {
                prop_assert_eq!(
                    sys::object_wait_one(h, Signals::NONE, Time::ZERO),
                    self.model.object_wait_one(h, Signals::NONE),
                    "signals of {:?} ({:?})",
                    id,
                    self.model.kind(id)
                );
                prop_assert_eq!(
                    sys::socket_read::<[u8]>(h, 0, None),
                    self.model.socket_outstanding(h, 0),
                    "outstanding at {:?} ({:?})",
                    id,
                    self.model.kind(id)
                );
            }
        }
        for h in self.model.dead_values() {
            prop_assert_eq!(
                sys::socket_read::<[u8]>(h, 0, None),
                Err(Status::BAD_HANDLE)
            );
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
            Op::ChannelCreate => self.channel_create(),
            Op::ChannelWrite {
                end,
                handle,
                len,
                ref pass,
            } => self.channel_write(end, handle, len, pass),
            Op::ChannelRead {
                end,
                handle,
                bytes,
                handles,
                options,
            } => self.channel_read(end, handle, bytes, handles, options),
        }
    }

    fn write(&mut self, end: usize, handle: usize, len: usize) -> Result<(), TestCaseError> {
        let Some(h) = self.pick(end, handle) else {
            return Ok(());
        };
        let data = self.data(len);
        let got = sys::socket_write(h, 0, &data[..]);
        let want = self.model.socket_write(h, 0, &data);
        prop_assert_eq!(got, want, "write of {} bytes through {:#x}", len, h);
        Ok(())
    }

    fn read(
        &mut self,
        end: usize,
        handle: usize,
        size: Option<usize>,
    ) -> Result<(), TestCaseError> {
        let Some(h) = self.pick(end, handle) else {
            return Ok(());
        };
        let Some(size) = size else {
            let got = sys::socket_read::<[u8]>(h, 0, None);
            prop_assert_eq!(got, self.model.socket_outstanding(h, 0), "outstanding");
            return Ok(());
        };
        let mut buf = vec![0u8; size];
        let got = sys::socket_read(h, 0, Some(&mut buf[..]));
        let want = self.model.socket_read(h, 0, size);
        prop_assert_eq!(
            got,
            want.as_ref().map(Vec::len).map_err(|&s| s),
            "read of {} through {:#x}",
            size,
            h
        );
        if let Ok(expected) = want {
            prop_assert!(buf[..expected.len()] == expected[..], "bytes read");
        }
        Ok(())
    }

    fn half_close(&mut self, end: usize, handle: usize) -> Result<(), TestCaseError> {
        let Some(h) = self.pick(end, handle) else {
            return Ok(());
        };
        let got = sys::socket_write(h, SOCKET_HALF_CLOSE, &[][..]);
        let want = self.model.socket_write(h, SOCKET_HALF_CLOSE, &[]);
        prop_assert_eq!(got, want, "half-close through {:#x}", h);
        Ok(())
    }

    fn close(&mut self, end: usize, handle: usize) -> Result<(), TestCaseError> {
        let Some(h) = self.pick(end, handle) else {
            return Ok(());
        };
        let got = sys::handle_close(h);
        prop_assert_eq!(got, self.model.handle_close(h), "close {:#x}", h);
        Ok(())
    }

    /// Checks a new handle: positive, naming `held`'s object with its
    /// rights; then places it.
    fn receive(&mut self, held: Held, new: RawHandle) -> Result<(), TestCaseError> {
        prop_assert!(new > 0);
        let info = sys::object_get_info_handle_basic(new).expect("get_info");
        prop_assert_eq!(info.rights, held.rights(), "rights of {:#x}", new);
        prop_assert_eq!(info.koid, self.koids[held.object().0], "koid of {:#x}", new);
        self.model.place(held, new);
        Ok(())
    }

    fn duplicate(
        &mut self,
        end: usize,
        handle: usize,
        rights: Rights,
        replace: bool,
    ) -> Result<(), TestCaseError> {
        let Some(h) = self.pick(end, handle) else {
            return Ok(());
        };
        let (got, want) = if replace {
            (
                sys::handle_replace(h, rights),
                self.model.handle_replace(h, rights),
            )
        } else {
            (
                sys::handle_duplicate(h, rights),
                self.model.handle_duplicate(h, rights),
            )
        };
        match (got, want) {
            (Ok(new), Ok(held)) => self.receive(held, new)?,
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
        let Some(h) = self.pick(end, handle) else {
            return Ok(());
        };
        let (clear, set) = (
            Signals::from_bits_retain(clear),
            Signals::from_bits_retain(set),
        );
        let got = if peer {
            sys::object_signal_peer(h, clear, set)
        } else {
            sys::object_signal(h, clear, set)
        };
        let want = self.model.object_signal(h, peer, clear, set);
        prop_assert_eq!(got, want, "signal (peer: {}) through {:#x}", peer, h);
        Ok(())
    }

    fn channel_create(&mut self) -> Result<(), TestCaseError> {
        let values = sys::channel_create(0).expect("channel_create");
        let held = self.model.channel_create(0).expect("model channel_create");
        self.created(held, values);
        Ok(())
    }

    fn channel_write(
        &mut self,
        end: usize,
        handle: usize,
        len: usize,
        pass: &[(usize, usize)],
    ) -> Result<(), TestCaseError> {
        let Some(h) = self.pick(end, handle) else {
            return Ok(());
        };
        let values: Vec<RawHandle> = pass
            .iter()
            .filter_map(|&(end, handle)| self.pick(end, handle))
            .collect();
        let data = self.data(len);
        let got = sys::channel_write(h, 0, &data[..], &values[..]);
        let want = self.model.channel_write(h, 0, &data, &values);
        prop_assert_eq!(
            got,
            want,
            "channel write of {} bytes and {:?} through {:#x}",
            len,
            values,
            h
        );
        if want.is_err() {
            // Every listed handle stays, unchanged (the check that follows
            // reads their signals and rights).
            for &v in &values {
                if let Some((id, rights)) = self.model.live(v) {
                    let info = sys::object_get_info_handle_basic(v).expect("kept");
                    prop_assert_eq!(info.rights, rights);
                    prop_assert_eq!(info.koid, self.koids[id.0]);
                }
            }
        }
        Ok(())
    }

    fn channel_read(
        &mut self,
        end: usize,
        handle: usize,
        bytes: usize,
        handles: usize,
        options: u32,
    ) -> Result<(), TestCaseError> {
        let Some(h) = self.pick(end, handle) else {
            return Ok(());
        };
        let mut buf = vec![0u8; bytes];
        let mut values = vec![0 as RawHandle; handles];
        let got = sys::channel_read(h, options, &mut buf[..], &mut values[..]);
        let want = self.model.channel_read(h, options, bytes, handles);
        match (got, want) {
            (Ok((nb, nh)), Ok(message)) => {
                prop_assert_eq!(
                    (nb as usize, nh as usize),
                    (message.bytes.len(), message.handles.len()),
                    "counts read through {:#x}",
                    h
                );
                prop_assert!(buf[..message.bytes.len()] == message.bytes[..], "bytes");
                for (held, &new) in message.handles.into_iter().zip(&values) {
                    self.receive(held, new)?;
                }
            }
            (got, want) => prop_assert_eq!(
                got.map(|_| ()),
                want.map(|_| ()),
                "channel read ({}, {}, options {}) through {:#x}",
                bytes,
                handles,
                options,
                h
            ),
        }
        Ok(())
    }

    /// Closes every live handle; each close succeeds once.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        for id in (0..self.model.objects()).map(ObjectId) {
            while let Some(&(h, _)) = self.model.handles(id).first() {
                prop_assert_eq!(sys::handle_close(h), Ok(()));
                prop_assert_eq!(self.model.handle_close(h), Ok(()));
                prop_assert_eq!(sys::handle_close(h), Err(Status::BAD_HANDLE));
            }
        }
        Ok(())
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // After a failed assertion, release the objects anyway.
        for id in (0..self.model.objects()).map(ObjectId) {
            for &(h, _) in self.model.handles(id) {
                let _ = sys::handle_close(h);
            }
        }
    }
}

fn run(datagram: bool, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut h = Harness::new(datagram);
    h.check()?;
    for op in ops {
        h.apply(op)
            .map_err(|e| TestCaseError::fail(format!("{e} after {:?}", h.log)))?;
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
    // Objects 2 and 3, then 4 and 5, are channel ends. The socket ends
    // travel in messages; closing the channel end holding them (inside a
    // message queued at the end that receives it) closes them.
    let channels = vec![
        ChannelCreate,
        ChannelWrite {
            end: 2,
            handle: 0,
            len: 10,
            pass: vec![(0, 0)],
        },
        // Sent: the value is stale, the end is alive (no PEER_CLOSED at 1).
        Write {
            end: 0,
            handle: 0,
            len: 1,
        },
        ChannelRead {
            end: 3,
            handle: 0,
            bytes: 4,
            handles: 1,
            options: 0,
        },
        ChannelRead {
            end: 3,
            handle: 0,
            bytes: 10,
            handles: 0,
            options: 0,
        },
        ChannelRead {
            end: 3,
            handle: 0,
            bytes: 10,
            handles: 1,
            options: 2,
        },
        ChannelRead {
            end: 3,
            handle: 0,
            bytes: 16,
            handles: 4,
            options: 0,
        },
        Write {
            end: 0,
            handle: 0,
            len: 5,
        },
        ChannelRead {
            end: 3,
            handle: 0,
            bytes: 16,
            handles: 4,
            options: 0,
        },
        // The end written to itself; a value twice; too many; too big;
        // the largest message.
        ChannelWrite {
            end: 2,
            handle: 0,
            len: 0,
            pass: vec![(2, 0)],
        },
        ChannelWrite {
            end: 2,
            handle: 0,
            len: 0,
            pass: vec![(0, 0), (0, 0)],
        },
        ChannelWrite {
            end: 2,
            handle: 0,
            len: 0,
            pass: vec![(0, 0); 65],
        },
        ChannelWrite {
            end: 2,
            handle: 0,
            len: MAX_MSG_BYTES + 1,
            pass: vec![],
        },
        ChannelWrite {
            end: 2,
            handle: 0,
            len: MAX_MSG_BYTES,
            pass: vec![],
        },
        ChannelRead {
            end: 3,
            handle: 0,
            bytes: MAX_MSG_BYTES,
            handles: 0,
            options: 0,
        },
        // An empty message is a message.
        ChannelWrite {
            end: 3,
            handle: 0,
            len: 0,
            pass: vec![],
        },
        ChannelRead {
            end: 2,
            handle: 0,
            bytes: 0,
            handles: 0,
            options: 0,
        },
        // Socket end 0 and a duplicate of end 1 in transit: end 1 loses
        // LAST_HANDLE.
        Duplicate {
            end: 1,
            handle: 0,
            rights: Rights::SAME_RIGHTS,
        },
        ChannelWrite {
            end: 2,
            handle: 0,
            len: 3,
            pass: vec![(0, 0), (1, 1)],
        },
        ChannelCreate,
        // Discarded without being read.
        ChannelWrite {
            end: 4,
            handle: 0,
            len: 20,
            pass: vec![],
        },
        ChannelRead {
            end: 5,
            handle: 0,
            bytes: 1,
            handles: 0,
            options: 1,
        },
        ChannelRead {
            end: 5,
            handle: 0,
            bytes: 100,
            handles: 0,
            options: 0,
        },
        // End 3, with the sockets queued at it, into a message at 5.
        ChannelWrite {
            end: 4,
            handle: 0,
            len: 2,
            pass: vec![(3, 0)],
        },
        ChannelRead {
            end: 2,
            handle: 0,
            bytes: 100,
            handles: 4,
            options: 0,
        },
        // Closing 5 closes 3 (2 sees PEER_CLOSED), whose queue held socket
        // end 0 (1 sees PEER_CLOSED) and the duplicate (1 regains
        // LAST_HANDLE).
        Close { end: 5, handle: 0 },
        ChannelRead {
            end: 2,
            handle: 0,
            bytes: 100,
            handles: 4,
            options: 0,
        },
        ChannelWrite {
            end: 2,
            handle: 0,
            len: 1,
            pass: vec![(1, 0)],
        },
        Read {
            end: 1,
            handle: 0,
            size: 10,
        },
        Write {
            end: 1,
            handle: 0,
            len: 10,
        },
    ];
    vec![
        fill_and_drain.to_vec(),
        handles.to_vec(),
        read_sees_later_write,
        channels,
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
