//! The EL1 exception hook. A test that expects an exception arms
//! [`expect`]; the handler records it and resumes after the faulting
//! instruction (at ELR + 4, wrapping as the PC does: after an exception at
//! 0xffff_ffff_ffff_fffc it resumes at 0). Anything unexpected is reported
//! and ends the run as FAIL.

use core::sync::atomic::{AtomicU64, Ordering};

/// ESR_EL1 of the last expected exception, or 0.
static LAST_ESR: AtomicU64 = AtomicU64::new(0);
/// FAR_EL1 of the last expected exception.
static LAST_FAR: AtomicU64 = AtomicU64::new(0);
/// ELR_EL1 of the last expected exception.
static LAST_ELR: AtomicU64 = AtomicU64::new(0);
/// Set while a test expects an exception.
static ARMED: AtomicU64 = AtomicU64::new(0);

/// What an expected exception looked like.
#[derive(Clone, Copy, Debug)]
pub struct Taken {
    /// ESR_EL1.
    pub esr: u64,
    /// FAR_EL1.
    pub far: u64,
    /// ELR_EL1: the address of the instruction that took it.
    pub elr: u64,
}

impl Taken {
    /// ESR_EL1.EC.
    pub fn class(&self) -> u64 {
        self.esr >> 26
    }
}

/// Run `f`, which should take exactly one synchronous exception at EL1;
/// returns what was taken, or None if nothing was.
pub fn expect(f: impl FnOnce()) -> Option<Taken> {
    LAST_ESR.store(0, Ordering::SeqCst);
    ARMED.store(1, Ordering::SeqCst);
    f();
    ARMED.store(0, Ordering::SeqCst);
    match LAST_ESR.load(Ordering::SeqCst) {
        0 => None,
        esr => Some(Taken {
            esr,
            far: LAST_FAR.load(Ordering::SeqCst),
            elr: LAST_ELR.load(Ordering::SeqCst),
        }),
    }
}

/// Called by the vectors in boot.s; returns the address to resume at.
#[no_mangle]
extern "C" fn guest_exception(kind: u64, esr: u64, elr: u64, far: u64) -> u64 {
    // Synchronous, current EL with SP_ELx is the only kind a test arms for.
    if kind == 4 && ARMED.swap(0, Ordering::SeqCst) == 1 {
        LAST_ESR.store(esr, Ordering::SeqCst);
        LAST_FAR.store(far, Ordering::SeqCst);
        LAST_ELR.store(elr, Ordering::SeqCst);
        return elr.wrapping_add(4);
    }
    crate::println!(
        "guest: unexpected exception kind {kind}: ESR {esr:#x} ELR {elr:#x} FAR {far:#x}\nFAIL"
    );
    super::psci::system_reset()
}
