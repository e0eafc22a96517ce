//! Blocking: a short bounded spin, then parking until woken or the deadline.
//!
//! Waking a thread that sleeps on another CPU costs tens of microseconds on a
//! virtual machine, far more than a socket operation. So a waiter first
//! watches the object's lock-free signal snapshot for a short while (bounded
//! by about one wake-up's cost, [`spin_budget`]), yielding the CPU every few
//! rounds so a peer on the same CPU can run. Only then does it register an
//! observer and park. The budget is `MX_SPIN_NS` nanoseconds if that
//! environment variable is set (0 disables spinning), else
//! [`DEFAULT_SPIN_NS`].

use std::sync::OnceLock;

use mx_core::Time;

use crate::sync::{yield_now, Parker};
use crate::time::now;

/// The default spin budget before parking, in nanoseconds.
pub const DEFAULT_SPIN_NS: u64 = 20_000;

/// Spin rounds between two yields of the CPU.
const ROUNDS_PER_YIELD: u32 = 8;

/// The spin budget in nanoseconds.
pub fn spin_budget() -> u64 {
    #[allow(clippy::disallowed_types)]
    static BUDGET: OnceLock<u64> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::env::var("MX_SPIN_NS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_SPIN_NS)
    })
}

/// Polls `ready` for at most the spin budget (and not past `deadline`);
/// returns whether it became true.
pub(crate) fn spin_until(deadline: Time, mut ready: impl FnMut() -> bool) -> bool {
    if cfg!(loom) {
        return ready();
    }
    let budget = spin_budget();
    if budget == 0 {
        return ready();
    }
    let end = now()
        .saturating_add(core::time::Duration::from_nanos(budget))
        .min(deadline);
    loop {
        for _ in 0..ROUNDS_PER_YIELD {
            if ready() {
                return true;
            }
            core::hint::spin_loop();
        }
        if now() >= end {
            return ready();
        }
        yield_now();
    }
}

/// Parks until `parker` is unparked (true) or `deadline` passes (false).
pub(crate) fn park_until(parker: &Parker, deadline: Time) -> bool {
    loop {
        if parker.is_unparked() {
            return true;
        }
        let timeout = if deadline == Time::INFINITE {
            None
        } else {
            let current = now();
            if current >= deadline {
                return parker.is_unparked();
            }
            deadline.remaining_since(current)
        };
        if parker.park(timeout) {
            return true;
        }
        if cfg!(loom) && timeout.is_some() {
            return parker.is_unparked();
        }
    }
}
