//! [`SharedSocket`]: a socket pair's state and bytes in a [`Segment`], for
//! ends held in several processes.
//!
//! # Layout
//!
//! ```text
//!  0      header: magic, version, flags (datagram), koid, ring size, slots
//!  64     end A's state word; 128: end B's (write_shut, closed, user signals)
//!  192    end A's interest mask; 256: end B's (which slots want wake-ups)
//!  1024   16 slots of 128 bytes: one per process attached (or reserved for
//!         one in transit): state, pid, start time, handles held per end,
//!         bell (rung flag, token, abstract socket name)
//!  4096   pipe 0 control (bytes readable at end A): writer lock, written,
//!         reader lock, read, writer bias and streak, reader bias and
//!         streak, writer busy words, reader busy words (one per slot),
//!         each on its own cache line; 4608: pipe 1's
//!  8192   ring 0 (RING_BYTES), then ring 1
//! ```
//!
//! Every field is a word read with one atomic load (once per use: a value
//! another process wrote is copied into a local before it is checked and
//! used) or bytes copied raw (see [`crate::segment`]).
//!
//! # Trust
//!
//! The processes sharing a segment may be hostile to each other. Nothing a
//! peer writes can make this process touch memory outside the mapping: ring
//! positions are counters reduced modulo the ring's size, and lengths are
//! checked against what the counters allow before any copy. Counters that
//! break the pipe's invariants (more queued than the ring holds, payload
//! beyond bytes, a datagram header that does not fit) are reported as a
//! [`Violation`]; the caller marks the socket broken. A peer can still make
//! *this* socket misbehave (lose or invent its own bytes, hold its locks):
//! that is what sharing it means. Locks held too long by a live process,
//! or held by a dead one, are dealt with in [`SharedSocket::writer`].
//!
//! # Writers and readers
//!
//! Each side of each pipe is entered after the local [`Gate`] (one thread
//! of this process at a time), then, across processes, like a gate too:
//!
//! - The side is *biased* towards the slot that uses it alone (its bias
//!   word names it). That slot enters by setting its busy word and checking
//!   the bias again, with a light fence between
//!   ([`crate::fence::light_shared`]): no atomic read-modify-write, so
//!   nothing waits for the stores of the message just copied.
//! - Any other slot takes the side's lock word (compare-and-swap, a patience
//!   of [`LOCK_PATIENCE`] for a live holder, a dead holder's lock taken
//!   over), sets the bias word to revoked, issues
//!   [`crate::fence::heavy_shared`] (`membarrier` across processes), and
//!   waits until no other slot is busy (every slot's word, so that a bias
//!   word another process overwrote cannot let two in; a dead slot's mark
//!   does not count; a live one busy past the patience is a violation).
//! - A revoked side goes through the lock word until one slot has taken it
//!   64 times in a row; a side never biased is biased towards
//!   its first user. So a pipe side written by one process costs no
//!   read-modify-write, and one that several write alternately costs what
//!   a lock does.
//!
//! The in-process protocol it copies is the one of [`crate::gate`], which
//! the loom models check; a claimed slot's busy words start cleared.
//!
//! The holder's private view of the counters is in this process's memory,
//! reloaded and checked from the segment at each entry.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use mx_core::socket::MAX_HEADER;
use mx_core::storage::Tally;
use mx_core::{Side, Status};

use crate::gate::{Gate, Pass};
use crate::pipe::RING_BYTES;
use crate::segment::Segment;
use crate::storage::{Sink, Source};

/// `"MXSOCK02"`: the layout below, version 2 (biased pipe sides).
const MAGIC: u64 = u64::from_le_bytes(*b"MXSOCK02");

/// Processes (or in-transit handles) a segment can have attached at once.
pub const SLOTS: usize = 16;

const FLAGS: usize = 8;
const SLOT_COUNT: usize = 12;
const KOID: usize = 16;
const RING_SIZE: usize = 24;
const END_STATE: [usize; 2] = [64, 128];
const INTEREST: [usize; 2] = [192, 256];
const SLOT_TABLE: usize = 1024;
const SLOT_BYTES: usize = 128;
const PIPE_CTL: [usize; 2] = [4096, 4608];
const RING: [usize; 2] = [8192, 8192 + RING_BYTES];

/// Bytes of a socket segment.
pub const SEGMENT_BYTES: usize = 8192 + 2 * RING_BYTES;

const _: () = assert!(SLOT_TABLE + SLOTS * SLOT_BYTES <= PIPE_CTL[0]);

/// Flag in the header: datagram socket.
const DATAGRAM: u32 = 1;

// Slot fields.
/// The slot's state word: a [`SlotState`] in the low byte, and above it a
/// generation that [`SharedSocket::claim_slot`] counts up, so that a
/// reservation is told apart from a later one in the same slot.
const SLOT_STATE: usize = 0;
const STATE_MASK: u32 = 0xff;
const GENERATION_SHIFT: u32 = 8;
const SLOT_PID: usize = 4;
const SLOT_START: usize = 8;
const SLOT_HELD: [usize; 2] = [16, 20];
const SLOT_RUNG: usize = 24;
const SLOT_TOKEN: usize = 28;
const SLOT_BELL: usize = 32;
/// Bytes of a slot's bell name.
pub const BELL_NAME_BYTES: usize = 32;

// Pipe control fields.
const TX_LOCK: usize = 0;
const WRITTEN: usize = 64;
const RX_LOCK: usize = 128;
const READ: usize = 192;
/// Each side's (writer's, reader's) bias word: the slot plus one that
/// enters without the lock word, 0 for none yet, or [`REVOKED`].
const BIAS: [usize; 2] = [256, 320];
/// Next to each bias word: the slot plus one that took the lock word
/// last, and how many times in a row (above 8 bits).
const STREAK: [usize; 2] = [260, 324];
/// Each side's busy words, one per slot: 1 while that slot's process is
/// inside the side through its bias.
const BUSY: [usize; 2] = [384, 448];
const _: () = assert!(BUSY[1] + 4 * SLOTS <= PIPE_CTL[1] - PIPE_CTL[0]);

/// A bias word: taken away; the side goes through its lock word until a
/// slot has taken it [`REBIAS_STREAK`] times in a row.
const REVOKED: u32 = u32::MAX;
/// Entries through the lock word in a row by one slot after which the side
/// is biased towards it again.
const REBIAS_STREAK: u32 = 64;

// End state word.
/// End state bit: this end half-closed its writing.
pub const WRITE_SHUT: u64 = 1;
/// End state bit: this end's last handle, in every process, was closed.
pub const CLOSED: u64 = 2;
const USER_SHIFT: u32 = 8;

/// What a slot is.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum SlotState {
    /// Unused.
    Free = 0,
    /// Holds the handles of a message in transit to a process that has not
    /// attached yet; they count.
    Reserved = 1,
    /// A live process's; its handles count.
    Live = 2,
    /// A process that died; its handles no longer count. Taken again by
    /// [`SharedSocket::claim_slot`] once no lock names it.
    Dead = 3,
    /// Being taken by [`SharedSocket::claim_slot`]: its fields are being
    /// written, its handles do not count yet.
    Claiming = 4,
}

impl SlotState {
    fn from_word(word: u32) -> Option<SlotState> {
        match word & STATE_MASK {
            0 => Some(SlotState::Free),
            1 => Some(SlotState::Reserved),
            2 => Some(SlotState::Live),
            3 => Some(SlotState::Dead),
            4 => Some(SlotState::Claiming),
            _ => None,
        }
    }

    /// Whether the slot's handles count.
    fn counts(self) -> bool {
        matches!(self, SlotState::Reserved | SlotState::Live)
    }
}

/// A slot's state word.
fn state_word(generation: u32, state: SlotState) -> u32 {
    (generation << GENERATION_SHIFT) | state as u32
}

/// Another process broke the shared protocol: what it broke.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct Violation(pub &'static str);

impl core::fmt::Display for Violation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.0)
    }
}

/// How long a lock may stay with one live holder before the socket is
/// declared broken, by default: far beyond any copy (a pass only wraps
/// one), so only a holder that is stopped, or hostile, reaches it.
pub const LOCK_PATIENCE: Duration = Duration::from_secs(2);

/// The patience in force, in milliseconds ([`set_lock_patience`]).
static PATIENCE_MS: AtomicU64 = AtomicU64::new(LOCK_PATIENCE.as_millis() as u64);

/// Sets how long a lock may stay with one live holder (tests that play a
/// hostile peer shorten it, to run many cases).
pub fn set_lock_patience(patience: Duration) {
    PATIENCE_MS.store(patience.as_millis() as u64, Ordering::Relaxed);
}

fn lock_patience() -> Duration {
    Duration::from_millis(PATIENCE_MS.load(Ordering::Relaxed))
}

/// How often a waiter for a lock checks whether its holder still lives.
const LOCK_CHECK: Duration = Duration::from_millis(10);

/// Lock word bit: someone sleeps on the lock.
const LOCK_WAITERS: u32 = 1 << 31;

/// A socket pair in shared memory, and this process's private view of it.
#[derive(Debug)]
pub struct SharedSocket {
    seg: Segment,
    datagram: bool,
    koid: u64,
    /// Per pipe: this process's writer and reader views, each behind a
    /// local gate (threads of this process), used under the shared lock.
    pipes: [LocalViews; 2],
}

#[derive(Debug, Default)]
struct LocalViews {
    tx: Gate<Producer>,
    rx: Gate<Consumer>,
}

/// A writer's view: the counters when it last looked.
#[derive(Debug, Default)]
struct Producer {
    read_seen: Tally,
}

/// A reader's view.
#[derive(Debug, Default)]
struct Consumer {
    written_seen: Tally,
}

impl SharedSocket {
    /// A new segment for a pair with these properties; no slot is taken.
    ///
    /// # Errors
    /// As [`Segment::create`].
    pub fn create(datagram: bool, koid: u64) -> Result<SharedSocket, Status> {
        let seg = Segment::create("mx-socket", SEGMENT_BYTES)?;
        seg.u32_at(FLAGS)
            .store(if datagram { DATAGRAM } else { 0 }, Ordering::Relaxed);
        seg.u32_at(SLOT_COUNT)
            .store(SLOTS as u32, Ordering::Relaxed);
        seg.u64_at(KOID).store(koid, Ordering::Relaxed);
        seg.u32_at(RING_SIZE)
            .store(RING_BYTES as u32, Ordering::Relaxed);
        seg.u64_at(0).store(MAGIC, Ordering::Release);
        Ok(SharedSocket::new(seg, datagram, koid))
    }

    /// Maps a segment received from another process, checking its header.
    ///
    /// # Errors
    /// `INVALID_ARGS` if it is not a socket segment of this layout,
    /// `NO_MEMORY`.
    pub fn attach(fd: OwnedFd) -> Result<SharedSocket, Status> {
        let seg = Segment::attach(fd, SEGMENT_BYTES)?;
        if seg.u64_at(0).load(Ordering::Acquire) != MAGIC
            || seg.u32_at(SLOT_COUNT).load(Ordering::Relaxed) != SLOTS as u32
            || seg.u32_at(RING_SIZE).load(Ordering::Relaxed) != RING_BYTES as u32
        {
            return Err(Status::INVALID_ARGS);
        }
        let flags = seg.u32_at(FLAGS).load(Ordering::Relaxed);
        let koid = seg.u64_at(KOID).load(Ordering::Relaxed);
        Ok(SharedSocket::new(seg, flags & DATAGRAM != 0, koid))
    }

    fn new(seg: Segment, datagram: bool, koid: u64) -> SharedSocket {
        SharedSocket {
            seg,
            datagram,
            koid,
            pipes: Default::default(),
        }
    }

    /// The segment (to send its file on, or to compare identities).
    pub fn segment(&self) -> &Segment {
        &self.seg
    }

    /// Whether the pair is a datagram socket (as read once at attach).
    pub fn is_datagram(&self) -> bool {
        self.datagram
    }

    /// End A's koid (as read once at attach; B's is one more).
    pub fn koid(&self) -> u64 {
        self.koid
    }

    // ---- End state ----------------------------------------------------

    /// `side`'s state word.
    pub fn end_word(&self, side: Side) -> u64 {
        self.seg
            .u64_at(END_STATE[side.index()])
            .load(Ordering::Acquire)
    }

    /// Changes `side`'s state word with `f` (a compare-and-swap loop);
    /// returns the new word, or `f`'s error.
    ///
    /// # Errors
    /// `f`'s.
    pub fn update_end<E>(
        &self,
        side: Side,
        mut f: impl FnMut(u64) -> Result<u64, E>,
    ) -> Result<u64, E> {
        let word = self.seg.u64_at(END_STATE[side.index()]);
        let mut old = word.load(Ordering::Acquire);
        loop {
            let new = f(old)?;
            match word.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(new),
                Err(now) => old = now,
            }
        }
    }

    /// `side` as the socket rules see it. With `exact`, `handles` is the
    /// count over every process (for `LAST_HANDLE`); otherwise only open
    /// (1) or closed (0) is meaningful.
    pub fn end(&self, side: Side, exact: bool) -> mx_core::socket::End {
        let word = self.end_word(side);
        let handles = if word & CLOSED != 0 {
            0
        } else if exact {
            self.total_held(side).max(1)
        } else {
            1
        };
        mx_core::socket::End {
            handles,
            write_shut: word & WRITE_SHUT != 0,
            user: SharedSocket::user_of(word),
        }
    }

    /// Fills pipe `pipe` of a segment no other process has seen yet with
    /// `queued` (its bytes written by `fill` into the sink it is given,
    /// from the ring's start).
    ///
    /// # Errors
    /// `fill`'s.
    pub fn preload(
        &self,
        pipe: usize,
        queued: Tally,
        fill: impl FnOnce(&mut dyn Sink) -> Result<(), Status>,
    ) -> Result<(), Status> {
        if queued.bytes as usize > RING_BYTES {
            return Err(Status::INTERNAL);
        }
        let mut sink = RingSink {
            ring: self.ring_ptr(pipe),
            len: queued.bytes as usize,
        };
        fill(&mut sink)?;
        self.ctl_u64(pipe, READ).store(0, Ordering::Relaxed);
        self.ctl_u64(pipe, WRITTEN)
            .store(queued.pack(), Ordering::Release);
        Ok(())
    }

    /// The user signals in a state word (`MX_USER_SIGNAL_*` shifted down).
    pub fn user_of(word: u64) -> u8 {
        (word >> USER_SHIFT) as u8
    }

    /// `word` with user signals `user`.
    pub fn with_user(word: u64, user: u8) -> u64 {
        (word & !(0xff << USER_SHIFT)) | (u64::from(user) << USER_SHIFT)
    }

    // ---- Slots ----------------------------------------------------------

    fn slot_word(&self, slot: usize, field: usize) -> &AtomicU32 {
        assert!(slot < SLOTS, "bad slot");
        self.seg.u32_at(SLOT_TABLE + slot * SLOT_BYTES + field)
    }

    /// Takes a slot for `state` (`Live` for this process, `Reserved` for
    /// handles in transit), with `held` handles of each end: a free slot,
    /// else the slot of a dead process that holds no lock (a lock word
    /// names its holder's slot, and a dead holder's lock is taken over by
    /// the next taker only while its slot says `Dead`).
    ///
    /// The slot is `Claiming` while its fields are written, so that no
    /// other process counts what a dead process left in it.
    ///
    /// # Errors
    /// `NO_RESOURCES` if every slot is taken.
    pub fn claim_slot(&self, state: SlotState, held: [u32; 2]) -> Result<usize, Status> {
        for from in [SlotState::Free, SlotState::Dead] {
            for slot in 0..SLOTS {
                if from == SlotState::Dead && self.names_a_lock(slot) {
                    continue;
                }
                let word = self.slot_word(slot, SLOT_STATE);
                let old = word.load(Ordering::Acquire);
                if SlotState::from_word(old) != Some(from) {
                    continue;
                }
                let generation = ((old >> GENERATION_SHIFT) + 1) & (u32::MAX >> GENERATION_SHIFT);
                if word
                    .compare_exchange(
                        old,
                        state_word(generation, SlotState::Claiming),
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    )
                    .is_err()
                {
                    continue;
                }
                // A dead process takes no more locks: none can have come
                // to name the slot between the check and the exchange.
                for side in Side::BOTH {
                    self.slot_word(slot, SLOT_HELD[side.index()])
                        .store(held[side.index()], Ordering::Relaxed);
                }
                self.slot_word(slot, SLOT_RUNG).store(0, Ordering::Relaxed);
                // A dead process may have left a busy mark.
                for pipe in 0..2 {
                    for side in 0..2 {
                        self.busy(pipe, side, slot).store(0, Ordering::Relaxed);
                    }
                }
                word.store(state_word(generation, state), Ordering::Release);
                return Ok(slot);
            }
        }
        Err(Status::NO_RESOURCES)
    }

    /// Frees reserved `slot` whose handles will never be received (the
    /// message carrying them was destroyed); returns the handles it held
    /// to each end, or `None` if it is not reserved (its receiver took it).
    ///
    /// With `generation`, only that reservation (one a later claim of the
    /// slot made is left alone); without, whichever the slot holds.
    pub fn release_reserved(&self, slot: usize, generation: Option<u32>) -> Option<[u32; 2]> {
        let word = self.slot_word(slot, SLOT_STATE);
        let old = word.load(Ordering::Acquire);
        let ours = match generation {
            Some(generation) => old == state_word(generation, SlotState::Reserved),
            None => SlotState::from_word(old) == Some(SlotState::Reserved),
        };
        let claiming = state_word(old >> GENERATION_SHIFT, SlotState::Claiming);
        if !ours
            || word
                .compare_exchange(old, claiming, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        let held = self.held(slot);
        for side in Side::BOTH {
            self.slot_word(slot, SLOT_HELD[side.index()])
                .store(0, Ordering::Relaxed);
        }
        word.store(
            state_word(old >> GENERATION_SHIFT, SlotState::Free),
            Ordering::Release,
        );
        Some(held)
    }

    /// The generation of `slot`'s current claim (read by the claimer, or
    /// from a record naming the slot).
    pub fn generation(&self, slot: usize) -> u32 {
        self.slot_word(slot, SLOT_STATE).load(Ordering::Acquire) >> GENERATION_SHIFT
    }

    /// Whether `slot` still holds the reservation of `generation` (its
    /// receiver has not taken it, and it was not released).
    pub fn is_reserved(&self, slot: usize, generation: u32) -> bool {
        self.slot_word(slot, SLOT_STATE).load(Ordering::Acquire)
            == state_word(generation, SlotState::Reserved)
    }

    /// Whether a writer or reader lock of either pipe names `slot` as its
    /// holder.
    fn names_a_lock(&self, slot: usize) -> bool {
        let holder = slot as u32 + 1;
        (0..2).any(|pipe| {
            [TX_LOCK, RX_LOCK].into_iter().any(|field| {
                self.ctl_u32(pipe, field).load(Ordering::Acquire) & !LOCK_WAITERS == holder
            })
        })
    }

    /// The busy word of `slot` on side `side` (0 writer, 1 reader) of pipe
    /// `pipe`.
    fn busy(&self, pipe: usize, side: usize, slot: usize) -> &AtomicU32 {
        self.ctl_u32(pipe, BUSY[side] + 4 * slot)
    }

    /// Enters side `side` (0 writer, 1 reader) of pipe `pipe` as slot `me`,
    /// whose process is inside that side's gate (one thread at a time).
    ///
    /// A side is biased towards the slot that uses it alone: that slot
    /// enters by marking its busy word, with no atomic read-modify-write
    /// (the protocol of [`crate::gate`], across processes: the hot side's
    /// fence is [`crate::fence::light_shared`], the revoker's
    /// [`crate::fence::heavy_shared`]). Any other slot takes the lock word,
    /// takes the bias away and waits until no slot is busy.
    fn enter_side(
        &self,
        pipe: usize,
        side: usize,
        me: usize,
        alive: &dyn Fn(usize) -> bool,
    ) -> Result<Held<'_>, Violation> {
        let mine = me as u32 + 1;
        let bias = self.ctl_u32(pipe, BIAS[side]);
        if bias.load(Ordering::Relaxed) == mine {
            let busy = self.busy(pipe, side, me);
            busy.store(1, Ordering::Relaxed);
            crate::fence::light_shared();
            if bias.load(Ordering::Relaxed) == mine {
                return Ok(Held::Biased(busy));
            }
            // Revoked meanwhile: the revoker waits for this.
            busy.store(0, Ordering::Release);
        }
        self.enter_side_locked(pipe, side, me, alive)
    }

    /// [`SharedSocket::enter_side`] through the lock word: revokes another
    /// slot's bias, or biases the side towards this slot.
    #[cold]
    fn enter_side_locked(
        &self,
        pipe: usize,
        side: usize,
        me: usize,
        alive: &dyn Fn(usize) -> bool,
    ) -> Result<Held<'_>, Violation> {
        let mine = me as u32 + 1;
        let field = if side == 0 { TX_LOCK } else { RX_LOCK };
        let lock = Locked::take(self.ctl_u32(pipe, field), me, alive)?;
        let bias = self.ctl_u32(pipe, BIAS[side]);
        let biased = bias.load(Ordering::Relaxed);
        if biased != 0 && biased != REVOKED && biased != mine {
            bias.store(REVOKED, Ordering::Relaxed);
            crate::fence::heavy_shared();
            // Every slot, not only the one the word named: a word another
            // process overwrote must not let two slots in at once.
            self.wait_not_busy(pipe, side, me, alive)?;
        }
        let streak = self.ctl_u32(pipe, STREAK[side]);
        let last = streak.load(Ordering::Relaxed);
        let run = if last & 0xff == mine & 0xff {
            (last >> 8).saturating_add(1)
        } else {
            1
        };
        streak.store((mine & 0xff) | run.min(1 << 23) << 8, Ordering::Relaxed);
        if biased == 0 || (biased == REVOKED && run >= REBIAS_STREAK) {
            // From this slot's next entry on, through its busy word.
            self.busy(pipe, side, me).store(0, Ordering::Relaxed);
            bias.store(mine, Ordering::Relaxed);
        }
        Ok(Held::Locked(lock))
    }

    /// Waits until no slot but `me` is busy on the side (a dead slot's
    /// mark does not count).
    fn wait_not_busy(
        &self,
        pipe: usize,
        side: usize,
        me: usize,
        alive: &dyn Fn(usize) -> bool,
    ) -> Result<(), Violation> {
        for slot in (0..SLOTS).filter(|&slot| slot != me) {
            let busy = self.busy(pipe, side, slot);
            let since = Instant::now();
            let mut spins = 0u32;
            while busy.load(Ordering::Acquire) != 0 {
                if !alive(slot) {
                    break;
                }
                if since.elapsed() > lock_patience() {
                    return Err(Violation("a process stayed inside a pipe side too long"));
                }
                spins = spins.wrapping_add(1);
                if spins < 100 {
                    core::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        Ok(())
    }

    /// The state of `slot`, `None` if the word is not a state at all.
    pub fn slot_state(&self, slot: usize) -> Option<SlotState> {
        SlotState::from_word(self.slot_word(slot, SLOT_STATE).load(Ordering::Acquire))
    }

    /// Changes `slot`'s state from `from` to `to` (keeping its
    /// generation); whether it did.
    pub fn set_slot_state(&self, slot: usize, from: SlotState, to: SlotState) -> bool {
        let word = self.slot_word(slot, SLOT_STATE);
        let mut old = word.load(Ordering::Acquire);
        loop {
            if SlotState::from_word(old) != Some(from) {
                return false;
            }
            let new = state_word(old >> GENERATION_SHIFT, to);
            match word.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(now) => old = now,
            }
        }
    }

    /// Changes reserved `slot` of `generation` to `to`; whether it did (it
    /// was still that reservation).
    pub fn set_reserved_state(&self, slot: usize, generation: u32, to: SlotState) -> bool {
        self.slot_word(slot, SLOT_STATE)
            .compare_exchange(
                state_word(generation, SlotState::Reserved),
                state_word(generation, to),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Records the process that owns `slot`: its pid and start time, its
    /// bell's name and token.
    pub fn set_owner(&self, slot: usize, pid: u32, start: u64, bell: &[u8], token: u32) {
        self.slot_word(slot, SLOT_PID).store(pid, Ordering::Relaxed);
        self.seg
            .u64_at(SLOT_TABLE + slot * SLOT_BYTES + SLOT_START)
            .store(start, Ordering::Relaxed);
        let n = bell.len().min(BELL_NAME_BYTES);
        let at = self
            .seg
            .bytes(SLOT_TABLE + slot * SLOT_BYTES + SLOT_BELL, BELL_NAME_BYTES);
        // SAFETY: `at` is `BELL_NAME_BYTES` bytes of the mapping (checked by
        // `bytes`), `bell` is ours; the copy forms no reference into the
        // mapping. Zero-filled first so a shorter name is terminated.
        unsafe {
            at.write_bytes(0, BELL_NAME_BYTES);
            core::ptr::copy_nonoverlapping(bell.as_ptr(), at, n);
        }
        self.slot_word(slot, SLOT_TOKEN)
            .store(token, Ordering::Relaxed);
    }

    /// The owner of `slot` as its process recorded it: pid, start time,
    /// bell name (copied out), bell token. Untrusted.
    pub fn owner(&self, slot: usize) -> (u32, u64, [u8; BELL_NAME_BYTES], u32) {
        let pid = self.slot_word(slot, SLOT_PID).load(Ordering::Relaxed);
        let start = self
            .seg
            .u64_at(SLOT_TABLE + slot * SLOT_BYTES + SLOT_START)
            .load(Ordering::Relaxed);
        let mut bell = [0u8; BELL_NAME_BYTES];
        let at = self
            .seg
            .bytes(SLOT_TABLE + slot * SLOT_BYTES + SLOT_BELL, BELL_NAME_BYTES);
        // SAFETY: `at` is `BELL_NAME_BYTES` bytes of the mapping; copied raw
        // into our array.
        unsafe { core::ptr::copy_nonoverlapping(at, bell.as_mut_ptr(), BELL_NAME_BYTES) };
        let token = self.slot_word(slot, SLOT_TOKEN).load(Ordering::Relaxed);
        (pid, start, bell, token)
    }

    /// Adds `delta` (wrapping; negative to remove) to the handles `slot`
    /// holds to `side`; returns the new count.
    pub fn add_held(&self, slot: usize, side: Side, delta: i32) -> u32 {
        let word = self.slot_word(slot, SLOT_HELD[side.index()]);
        let old = word.fetch_add(delta as u32, Ordering::SeqCst);
        old.wrapping_add(delta as u32)
    }

    /// Sets the handles `slot` holds to `side` (its owner's private count,
    /// which the owner keeps; another process's changes to the word are
    /// overwritten at the owner's next change).
    pub fn set_held(&self, slot: usize, side: Side, count: u32) {
        self.slot_word(slot, SLOT_HELD[side.index()])
            .store(count, Ordering::SeqCst);
    }

    /// Handles `slot` holds to each end.
    pub fn held(&self, slot: usize) -> [u32; 2] {
        Side::BOTH.map(|side| {
            self.slot_word(slot, SLOT_HELD[side.index()])
                .load(Ordering::Acquire)
        })
    }

    /// Handles to `side` in every process (and in transit), saturating at
    /// `u32::MAX`. Read after the caller's own change with a full fence, so
    /// that of two processes dropping their last handles at once, at least
    /// one sees both gone.
    pub fn total_held(&self, side: Side) -> u32 {
        core::sync::atomic::fence(Ordering::SeqCst);
        (0..SLOTS)
            .filter(|&slot| self.slot_state(slot).is_some_and(SlotState::counts))
            .map(|slot| {
                self.slot_word(slot, SLOT_HELD[side.index()])
                    .load(Ordering::Acquire)
            })
            .fold(0u32, u32::saturating_add)
    }

    /// Slots whose handles count, with their owners' pids.
    pub fn live_slots(&self) -> impl Iterator<Item = (usize, SlotState)> + '_ {
        (0..SLOTS).filter_map(|slot| match self.slot_state(slot) {
            Some(state @ (SlotState::Live | SlotState::Reserved)) => Some((slot, state)),
            _ => None,
        })
    }

    // ---- Wake-ups -------------------------------------------------------

    /// Which slots want to hear of changes to `side`.
    pub fn interest(&self, side: Side) -> u32 {
        self.seg
            .u32_at(INTEREST[side.index()])
            .load(Ordering::Relaxed)
    }

    /// Sets or clears `slot`'s interest in `side`; returns whether it was set
    /// before.
    pub fn set_interest(&self, side: Side, slot: usize, on: bool) -> bool {
        let bit = 1u32 << slot;
        let word = self.seg.u32_at(INTEREST[side.index()]);
        let old = if on {
            word.fetch_or(bit, Ordering::SeqCst)
        } else {
            word.fetch_and(!bit, Ordering::SeqCst)
        };
        old & bit != 0
    }

    /// Marks `slot`'s bell rung; whether it was not rung before (the caller
    /// then sends the wake-up).
    pub fn ring(&self, slot: usize) -> bool {
        self.slot_word(slot, SLOT_RUNG).swap(1, Ordering::AcqRel) == 0
    }

    /// Takes `slot`'s rung mark (the owner, before looking at the state).
    pub fn answer(&self, slot: usize) {
        self.slot_word(slot, SLOT_RUNG).store(0, Ordering::SeqCst);
    }

    // ---- Pipes ----------------------------------------------------------

    fn ctl_u64(&self, pipe: usize, field: usize) -> &AtomicU64 {
        self.seg.u64_at(PIPE_CTL[pipe] + field)
    }

    fn ctl_u32(&self, pipe: usize, field: usize) -> &AtomicU32 {
        self.seg.u32_at(PIPE_CTL[pipe] + field)
    }

    /// Pipe `pipe`'s writer counter as it is now, unchecked: for heuristics
    /// only (another process may have written anything there).
    pub fn published(&self, pipe: usize) -> u64 {
        self.ctl_u64(pipe, WRITTEN).load(Ordering::Relaxed)
    }

    /// What pipe `pipe` (the inbox of end `pipe`) holds now, without
    /// entering it; checked.
    ///
    /// # Errors
    /// A violation if the counters are impossible.
    pub fn queued(&self, pipe: usize) -> Result<Tally, Violation> {
        let read = Tally::unpack(self.ctl_u64(pipe, READ).load(Ordering::Acquire));
        let written = Tally::unpack(self.ctl_u64(pipe, WRITTEN).load(Ordering::Acquire));
        self.check(written.since(read))
    }

    /// Checks a queue's size against the pipe's invariants.
    fn check(&self, queued: Tally) -> Result<Tally, Violation> {
        if queued.bytes as usize > RING_BYTES {
            return Err(Violation("more bytes queued than the ring holds"));
        }
        if queued.payload > queued.bytes {
            return Err(Violation("more payload queued than bytes"));
        }
        if !self.datagram && queued.payload != queued.bytes {
            return Err(Violation("a stream's payload differs from its bytes"));
        }
        Ok(queued)
    }

    /// Enters the writer side of pipe `pipe` as slot `me`: this process's
    /// gate, then the shared lock. `alive(slot)` says whether the process
    /// of a slot still lives (a dead holder's lock is taken over).
    ///
    /// # Errors
    /// A violation: the lock was held by a live process for more than
    /// [`LOCK_PATIENCE`], or the counters are impossible.
    pub fn writer(
        &self,
        pipe: usize,
        me: usize,
        alive: &dyn Fn(usize) -> bool,
    ) -> Result<SharedWriter<'_>, Violation> {
        let state = self.pipes[pipe].tx.enter();
        let lock = self.enter_side(pipe, 0, me, alive)?;
        let written = Tally::unpack(self.ctl_u64(pipe, WRITTEN).load(Ordering::Acquire));
        let mut writer = SharedWriter {
            socket: self,
            pipe,
            state,
            written,
            _lock: lock,
        };
        // A writer's cached view is a lower bound of `read`; check what we
        // hold against a fresh one if the cache does not prove it sane.
        if writer.queued(false).is_err() {
            writer.queued(true)?;
        }
        Ok(writer)
    }

    /// Enters the reader side of pipe `pipe` as slot `me`.
    ///
    /// # Errors
    /// As [`SharedSocket::writer`].
    pub fn reader(
        &self,
        pipe: usize,
        me: usize,
        alive: &dyn Fn(usize) -> bool,
    ) -> Result<SharedReader<'_>, Violation> {
        let state = self.pipes[pipe].rx.enter();
        let lock = self.enter_side(pipe, 1, me, alive)?;
        let read = Tally::unpack(self.ctl_u64(pipe, READ).load(Ordering::Acquire));
        Ok(SharedReader {
            socket: self,
            pipe,
            state,
            read,
            _lock: lock,
        })
    }

    fn ring_ptr(&self, pipe: usize) -> *mut u8 {
        self.seg.bytes(RING[pipe], RING_BYTES)
    }
}

/// The start of a ring, as a sink (for [`SharedSocket::preload`]).
struct RingSink {
    ring: *mut u8,
    len: usize,
}

impl Sink for RingSink {
    fn len(&self) -> usize {
        self.len
    }

    unsafe fn write_from_raw(
        &mut self,
        offset: usize,
        src: *const u8,
        len: usize,
    ) -> Result<(), Status> {
        assert!(offset + len <= self.len, "beyond the ring sink");
        // SAFETY: `offset + len <= self.len <= RING_BYTES`: within the ring,
        // in the mapping; `src` is valid for `len` reads (the caller's
        // promise) and is private memory, not the ring.
        unsafe { core::ptr::copy_nonoverlapping(src, self.ring.add(offset), len) };
        Ok(())
    }
}

/// Being inside a pipe side, left when dropped.
#[derive(Debug)]
enum Held<'a> {
    /// Through the side's bias: this slot's busy word, cleared on drop.
    Biased(&'a AtomicU32),
    /// Through the lock word.
    Locked(#[allow(dead_code)] Locked<'a>),
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Held::Biased(busy) = self {
            // A revoker acquires this.
            busy.store(0, Ordering::Release);
        }
    }
}

/// A held shared lock, released when dropped.
#[derive(Debug)]
struct Locked<'a> {
    word: &'a AtomicU32,
}

impl<'a> Locked<'a> {
    /// Takes the lock `word` as slot `me`.
    fn take(
        word: &'a AtomicU32,
        me: usize,
        alive: &dyn Fn(usize) -> bool,
    ) -> Result<Locked<'a>, Violation> {
        let mine = me as u32 + 1;
        if word
            .compare_exchange(0, mine, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(Locked { word });
        }
        Locked::contended(word, mine, alive)
    }

    #[cold]
    fn contended(
        word: &'a AtomicU32,
        mine: u32,
        alive: &dyn Fn(usize) -> bool,
    ) -> Result<Locked<'a>, Violation> {
        for _ in 0..200 {
            core::hint::spin_loop();
            if word.load(Ordering::Relaxed) == 0
                && word
                    .compare_exchange(0, mine, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Ok(Locked { word });
            }
        }
        let mut holder = 0;
        let mut since = Instant::now();
        loop {
            let now = word.load(Ordering::Relaxed);
            if now & !LOCK_WAITERS == 0 {
                // Free: take it, keeping the waiters mark for the others.
                if word
                    .compare_exchange(
                        now,
                        mine | (now & LOCK_WAITERS),
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    )
                    .is_ok()
                {
                    return Ok(Locked { word });
                }
                continue;
            }
            let owner = now & !LOCK_WAITERS;
            if owner != holder {
                holder = owner;
                since = Instant::now();
            }
            let slot = (owner - 1) as usize;
            if slot >= SLOTS {
                return Err(Violation("a lock word names no slot"));
            }
            if !alive(slot) {
                // Its process died inside a copy, before publishing: what it
                // left beyond the counters is not part of the stream.
                if word
                    .compare_exchange(
                        now,
                        mine | (now & LOCK_WAITERS),
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    )
                    .is_ok()
                {
                    return Ok(Locked { word });
                }
                continue;
            }
            if since.elapsed() > lock_patience() {
                return Err(Violation("a lock was held by another process too long"));
            }
            let marked = now | LOCK_WAITERS;
            if now & LOCK_WAITERS == 0
                && word
                    .compare_exchange(now, marked, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            let timeout = rustix::thread::futex::Timespec {
                tv_sec: 0,
                tv_nsec: LOCK_CHECK.as_nanos() as _,
            };
            // Shared futex (no PRIVATE flag): the holder may be another
            // process. Any outcome (woken, changed, timed out) loops.
            let _ = rustix::thread::futex::wait(
                word,
                rustix::thread::futex::Flags::empty(),
                marked,
                Some(&timeout),
            );
        }
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let old = self.word.swap(0, Ordering::Release);
        if old & LOCK_WAITERS != 0 {
            let _ = rustix::thread::futex::wake(
                self.word,
                rustix::thread::futex::Flags::empty(),
                u32::MAX,
            );
        }
    }
}

/// The writer side of a shared pipe, entered.
#[derive(Debug)]
pub struct SharedWriter<'a> {
    socket: &'a SharedSocket,
    pipe: usize,
    /// Left before `state` (fields drop in order): the next thread of this
    /// process through the gate may mark the same busy word.
    _lock: Held<'a>,
    state: Pass<'a, Producer>,
    /// `written` as loaded at entry, then as this writer published it.
    written: Tally,
}

impl SharedWriter<'_> {
    /// What the pipe holds from this writer's view (`fresh` reloads the
    /// reader's counter; otherwise it may overstate), checked.
    ///
    /// # Errors
    /// A violation if the counters are impossible.
    pub fn queued(&mut self, fresh: bool) -> Result<Tally, Violation> {
        if fresh {
            self.state.read_seen =
                Tally::unpack(self.socket.ctl_u64(self.pipe, READ).load(Ordering::Acquire));
        }
        self.socket.check(self.written.since(self.state.read_seen))
    }

    /// Appends all of `src` (of which `payload` bytes are payload) and
    /// publishes it; the caller checked the capacity.
    ///
    /// # Errors
    /// `SHOULD_WAIT` if the ring has no room for it (which the capacity
    /// rule rules out unless the counters lie), or the source's fault.
    pub fn push(&mut self, src: &(impl Source + ?Sized), payload: u32) -> Result<(), Status> {
        let len = src.len();
        if len == 0 {
            return Ok(());
        }
        let fits = |queued: Tally| queued.bytes as usize + len <= RING_BYTES;
        if !self.queued(false).is_ok_and(fits) {
            // The cached view of the reader may be stale: look again.
            let queued = self.queued(true).map_err(|_| Status::SHOULD_WAIT)?;
            if !fits(queued) {
                return Err(Status::SHOULD_WAIT);
            }
        }
        let ring = self.socket.ring_ptr(self.pipe);
        let at = self.written.bytes as usize % RING_BYTES;
        let first = len.min(RING_BYTES - at);
        // SAFETY: `at + first <= RING_BYTES` and `len - first <= at`: both
        // ranges are in the ring, which is in the mapping. Bytes past
        // `written` are not read by any reader of this protocol; another
        // process ignoring it can only garble this socket's own bytes.
        unsafe {
            src.copy_to_raw(0, ring.add(at), first)?;
            if first < len {
                src.copy_to_raw(first, ring, len - first)?;
            }
        }
        let written = self.written.plus(payload, len as u32);
        self.written = written;
        self.socket
            .ctl_u64(self.pipe, WRITTEN)
            .store(written.pack(), Ordering::Release);
        Ok(())
    }
}

/// The reader side of a shared pipe, entered.
#[derive(Debug)]
pub struct SharedReader<'a> {
    socket: &'a SharedSocket,
    pipe: usize,
    /// Left before `state` (fields drop in order): the next thread of this
    /// process through the gate may mark the same busy word.
    _lock: Held<'a>,
    state: Pass<'a, Consumer>,
    /// `read` as loaded at entry, then as this reader published it.
    read: Tally,
}

impl SharedReader<'_> {
    /// What the pipe holds from this reader's view (`fresh` reloads the
    /// writer's counter; otherwise it may understate), checked.
    ///
    /// # Errors
    /// A violation if the counters are impossible.
    pub fn queued(&mut self, fresh: bool) -> Result<Tally, Violation> {
        if fresh {
            self.state.written_seen = Tally::unpack(
                self.socket
                    .ctl_u64(self.pipe, WRITTEN)
                    .load(Ordering::Acquire),
            );
        }
        let queued = self.state.written_seen.since(self.read);
        if queued.bytes as usize > RING_BYTES && !fresh {
            // The cache predates another process's reads: look again.
            return self.queued(true);
        }
        self.socket.check(queued)
    }

    /// Copies bytes `skip..skip + len` of what is queued to `put`, in at
    /// most two pieces.
    fn pieces(
        &self,
        skip: usize,
        len: usize,
        mut put: impl FnMut(usize, *const u8, usize) -> Result<(), Status>,
    ) -> Result<(), Status> {
        if len == 0 {
            return Ok(());
        }
        assert!(skip + len <= RING_BYTES, "copy beyond the ring");
        let ring = self.socket.ring_ptr(self.pipe);
        let at = (self.read.bytes as usize + skip) % RING_BYTES;
        let first = len.min(RING_BYTES - at);
        // SAFETY: both ranges are within the ring (`at + first <=
        // RING_BYTES`, `len - first < RING_BYTES`), which is in the mapping;
        // `put` copies them raw.
        unsafe {
            put(0, ring.add(at), first)?;
            if first < len {
                put(first, ring, len - first)?;
            }
        }
        Ok(())
    }

    /// Copies up to `dst.len()` queued bytes from the front into `dst`
    /// without consuming them (the caller checked they are queued).
    pub fn peek(&mut self, dst: &mut [u8; MAX_HEADER], len: usize) -> usize {
        let len = len.min(MAX_HEADER);
        let out = dst.as_mut_ptr();
        let copied = self.pieces(0, len, |offset, src, n| {
            // SAFETY: `offset + n <= len <= MAX_HEADER`: within `dst`, ours;
            // `src` is `n` bytes of the ring.
            unsafe { core::ptr::copy_nonoverlapping(src, out.add(offset), n) };
            Ok(())
        });
        if copied.is_ok() {
            len
        } else {
            0
        }
    }

    /// Copies queued bytes `skip..skip + len` into `dst`, then consumes
    /// `consume` from the front. The caller checked `skip + len <=
    /// consume.bytes <= queued`.
    ///
    /// # Errors
    /// The sink's fault (nothing consumed).
    pub fn take(
        &mut self,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        consume: Tally,
    ) -> Result<(), Status> {
        assert!(len <= dst.len(), "more bytes than the sink holds");
        self.pieces(skip, len, |offset, src, n| {
            // SAFETY: `src` is `n` bytes of the ring; `offset + n <= len <=
            // dst.len()` (asserted above).
            unsafe { dst.write_from_raw(offset, src, n) }
        })?;
        let read = self.read.plus(consume.payload, consume.bytes);
        self.read = read;
        self.socket
            .ctl_u64(self.pipe, READ)
            .store(read.pack(), Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(_: usize) -> bool {
        true
    }

    #[test]
    fn bytes_cross_between_two_mappings() {
        let a = SharedSocket::create(false, 77).unwrap();
        let fd = rustix::io::fcntl_dupfd_cloexec(a.segment().fd(), 0).unwrap();
        let b = SharedSocket::attach(fd).unwrap();
        assert_eq!(b.koid(), 77);
        assert!(!b.is_datagram());
        let sa = a.claim_slot(SlotState::Live, [1, 0]).unwrap();
        let sb = b.claim_slot(SlotState::Live, [0, 1]).unwrap();
        assert_ne!(sa, sb);
        assert_eq!(a.total_held(Side::A), 1);
        assert_eq!(b.total_held(Side::B), 1);
        {
            let mut w = a.writer(1, sa, &alive).unwrap();
            w.push(&b"hello"[..], 5).unwrap();
        }
        assert_eq!(b.queued(1).unwrap().payload, 5);
        let mut r = b.reader(1, sb, &alive).unwrap();
        let q = r.queued(true).unwrap();
        let mut out = [0u8; 5];
        r.take(0, 5, &mut out[..], q).unwrap();
        assert_eq!(&out, b"hello");
    }

    #[test]
    fn impossible_counters_are_violations() {
        let a = SharedSocket::create(false, 1).unwrap();
        a.ctl_u64(0, WRITTEN).store(
            Tally {
                payload: 9,
                bytes: 9,
            }
            .pack(),
            Ordering::Relaxed,
        );
        assert!(a.queued(0).is_ok());
        a.ctl_u64(0, WRITTEN).store(
            Tally {
                payload: RING_BYTES as u32 + 1,
                bytes: RING_BYTES as u32 + 1,
            }
            .pack(),
            Ordering::Relaxed,
        );
        assert!(a.queued(0).is_err());
        a.ctl_u64(0, WRITTEN).store(
            Tally {
                payload: 5,
                bytes: 9,
            }
            .pack(),
            Ordering::Relaxed,
        );
        assert_eq!(
            a.queued(0).unwrap_err(),
            Violation("a stream's payload differs from its bytes")
        );
        let me = a.claim_slot(SlotState::Live, [1, 1]).unwrap();
        assert!(a.reader(0, me, &alive).unwrap().queued(true).is_err());
    }

    #[test]
    fn a_dead_holders_lock_is_taken_over_and_a_live_one_times_out() {
        let a = SharedSocket::create(true, 1).unwrap();
        let me = a.claim_slot(SlotState::Live, [1, 1]).unwrap();
        // Slot 5 holds the writer lock of pipe 0 (the side is not biased).
        a.ctl_u32(0, BIAS[0]).store(REVOKED, Ordering::Relaxed);
        a.ctl_u32(0, TX_LOCK).store(6, Ordering::Relaxed);
        let dead = |slot: usize| slot != 5;
        assert!(a.writer(0, me, &dead).is_ok());
        a.ctl_u32(0, TX_LOCK).store(6, Ordering::Relaxed);
        let started = Instant::now();
        assert_eq!(
            a.writer(0, me, &alive).unwrap_err(),
            Violation("a lock was held by another process too long")
        );
        assert!(started.elapsed() >= LOCK_PATIENCE);
        a.ctl_u32(0, TX_LOCK).store(99, Ordering::Relaxed);
        assert_eq!(
            a.writer(0, me, &alive).unwrap_err(),
            Violation("a lock word names no slot")
        );
    }

    #[test]
    fn a_side_one_slot_uses_is_biased_towards_it_and_another_slot_revokes() {
        let a = SharedSocket::create(true, 1).unwrap();
        let fd = rustix::io::fcntl_dupfd_cloexec(a.segment().fd(), 0).unwrap();
        let b = SharedSocket::attach(fd).unwrap();
        let sa = a.claim_slot(SlotState::Live, [1, 0]).unwrap();
        let sb = b.claim_slot(SlotState::Live, [0, 1]).unwrap();
        // The first entry takes the lock word and biases the side.
        drop(a.writer(0, sa, &alive).unwrap());
        assert_eq!(a.ctl_u32(0, BIAS[0]).load(Ordering::Relaxed), sa as u32 + 1);
        // Then the slot enters through its busy word alone.
        let inside = a.writer(0, sa, &alive).unwrap();
        assert_eq!(a.ctl_u32(0, TX_LOCK).load(Ordering::Relaxed), 0);
        assert_eq!(a.busy(0, 0, sa).load(Ordering::Relaxed), 1);
        let entered = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let other = scope.spawn(|| {
                let writer = b.writer(0, sb, &alive).unwrap();
                entered.store(true, Ordering::SeqCst);
                drop(writer);
            });
            std::thread::sleep(Duration::from_millis(100));
            assert!(!entered.load(Ordering::SeqCst), "in while the owner is");
            drop(inside);
            other.join().unwrap();
        });
        assert!(entered.load(Ordering::SeqCst));
        assert_eq!(a.ctl_u32(0, BIAS[0]).load(Ordering::Relaxed), REVOKED);
        // Revoked: the former owner now goes through the lock word...
        let inside = a.writer(0, sa, &alive).unwrap();
        assert_eq!(a.ctl_u32(0, TX_LOCK).load(Ordering::Relaxed), sa as u32 + 1);
        drop(inside);
        // ...until it has taken it often enough in a row.
        for _ in 0..REBIAS_STREAK {
            drop(a.writer(0, sa, &alive).unwrap());
        }
        assert_eq!(a.ctl_u32(0, BIAS[0]).load(Ordering::Relaxed), sa as u32 + 1);
    }

    #[test]
    fn two_processes_on_one_side_never_are_inside_at_once() {
        let a = SharedSocket::create(false, 1).unwrap();
        let fd = rustix::io::fcntl_dupfd_cloexec(a.segment().fd(), 0).unwrap();
        let b = SharedSocket::attach(fd).unwrap();
        let sa = a.claim_slot(SlotState::Live, [1, 0]).unwrap();
        let sb = b.claim_slot(SlotState::Live, [1, 0]).unwrap();
        const ROUNDS: u64 = 20_000;
        // Each entry adds one to a counter in the ring's first bytes, with
        // a plain read and write: a lost update means two were inside.
        // One side pauses now and then, so that the other takes the side
        // often enough in a row to be biased, and is revoked when the
        // first comes back: the revocation is what this exercises.
        let bump = |socket: &SharedSocket, me: usize, pauses: bool| {
            for round in 0..ROUNDS {
                if pauses && round % 200 == 0 {
                    std::thread::sleep(Duration::from_micros(300));
                }
                let writer = socket.writer(0, me, &alive).unwrap();
                let counter = socket.ring_ptr(0).cast::<u64>();
                // SAFETY: the ring is mapped and 8-aligned (a page), and the
                // writer side is held: no one else touches these bytes.
                let seen = unsafe { counter.read_volatile() };
                // A window for the other to come in, were it able to.
                for _ in 0..20 {
                    core::hint::spin_loop();
                }
                // SAFETY: as above.
                unsafe { counter.write_volatile(seen + 1) };
                drop(writer);
            }
        };
        std::thread::scope(|scope| {
            scope.spawn(|| bump(&a, sa, false));
            scope.spawn(|| bump(&b, sb, true));
        });
        let counter = a.ring_ptr(0).cast::<u64>();
        // SAFETY: as above; both threads have finished.
        assert_eq!(unsafe { counter.read_volatile() }, 2 * ROUNDS);
    }

    #[test]
    fn a_live_slot_that_stays_busy_times_out_and_a_dead_one_is_ignored() {
        let a = SharedSocket::create(true, 1).unwrap();
        let me = a.claim_slot(SlotState::Live, [1, 1]).unwrap();
        // Slot 5 is biased and inside.
        a.ctl_u32(0, BIAS[0]).store(6, Ordering::Relaxed);
        a.busy(0, 0, 5).store(1, Ordering::Relaxed);
        let dead = |slot: usize| slot != 5;
        assert!(a.writer(0, me, &dead).is_ok());
        a.ctl_u32(0, BIAS[0]).store(6, Ordering::Relaxed);
        let started = Instant::now();
        assert_eq!(
            a.writer(0, me, &alive).unwrap_err(),
            Violation("a process stayed inside a pipe side too long")
        );
        assert!(started.elapsed() >= LOCK_PATIENCE);
    }

    #[test]
    fn slots_count_handles_until_their_process_dies() {
        let a = SharedSocket::create(false, 1).unwrap();
        let s0 = a.claim_slot(SlotState::Live, [1, 1]).unwrap();
        let s1 = a.claim_slot(SlotState::Reserved, [0, 1]).unwrap();
        assert_eq!(a.total_held(Side::B), 2);
        assert!(a.set_slot_state(s0, SlotState::Live, SlotState::Dead));
        assert_eq!(a.total_held(Side::B), 1);
        assert_eq!(a.total_held(Side::A), 0);
        assert_eq!(a.add_held(s1, Side::B, -1), 0);
        assert_eq!(a.total_held(Side::B), 0);
        let all: Vec<_> = (0..SLOTS)
            .map(|_| a.claim_slot(SlotState::Live, [0, 0]))
            .collect();
        // The dead process's slot is taken again, last, with fresh counts.
        assert_eq!(all.iter().filter(|r| r.is_ok()).count(), SLOTS - 1);
        assert_eq!(all[SLOTS - 2], Ok(s0));
        assert_eq!(a.held(s0), [0, 0]);
        assert_eq!(*all.last().unwrap(), Err(Status::NO_RESOURCES));
    }

    #[test]
    fn a_reservation_is_released_only_by_its_own_generation() {
        let a = SharedSocket::create(false, 1).unwrap();
        let slot = a.claim_slot(SlotState::Reserved, [0, 1]).unwrap();
        let first = a.generation(slot);
        assert!(a.is_reserved(slot, first));
        // Taken by its receiver, freed, reserved again for another message.
        assert!(a.set_reserved_state(slot, first, SlotState::Live));
        assert!(!a.is_reserved(slot, first));
        assert!(a.set_slot_state(slot, SlotState::Live, SlotState::Free));
        assert_eq!(a.claim_slot(SlotState::Reserved, [0, 1]), Ok(slot));
        let second = a.generation(slot);
        assert_ne!(first, second);
        // The first message's release must not touch the second's.
        assert_eq!(a.release_reserved(slot, Some(first)), None);
        assert_eq!(a.total_held(Side::B), 1);
        assert!(!a.set_reserved_state(slot, first, SlotState::Live));
        assert_eq!(a.release_reserved(slot, Some(second)), Some([0, 1]));
        assert_eq!(a.slot_state(slot), Some(SlotState::Free));
        assert_eq!(a.total_held(Side::B), 0);
        assert_eq!(a.release_reserved(slot, Some(second)), None);
    }

    #[test]
    fn a_dead_slot_that_holds_a_lock_is_not_taken_again() {
        let a = SharedSocket::create(false, 1).unwrap();
        let all: Vec<usize> = (0..SLOTS)
            .map(|_| a.claim_slot(SlotState::Live, [0, 0]).unwrap())
            .collect();
        assert!(a.set_slot_state(all[3], SlotState::Live, SlotState::Dead));
        assert!(a.set_slot_state(all[7], SlotState::Live, SlotState::Dead));
        // Slot 3 died holding pipe 1's reader lock (with a waiter mark).
        a.ctl_u32(1, RX_LOCK)
            .store(4 | LOCK_WAITERS, Ordering::Relaxed);
        assert_eq!(a.claim_slot(SlotState::Reserved, [0, 1]), Ok(all[7]));
        assert_eq!(a.slot_state(all[7]), Some(SlotState::Reserved));
        assert_eq!(a.total_held(Side::B), 1);
        assert_eq!(
            a.claim_slot(SlotState::Live, [0, 0]),
            Err(Status::NO_RESOURCES)
        );
        // Once the lock is taken over (here: released), slot 3 is free.
        a.ctl_u32(1, RX_LOCK).store(0, Ordering::Relaxed);
        assert_eq!(a.claim_slot(SlotState::Live, [0, 0]), Ok(all[3]));
    }
}
