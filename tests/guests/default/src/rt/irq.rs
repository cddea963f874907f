//! IRQ dispatch: the IRQ vector (boot.s) saves every caller-saved register
//! and calls [`guest_irq`], which acknowledges the interrupt (ICC_IAR1_EL1),
//! calls the handler registered for its INTID, then ends it as the handler
//! asks. Handlers run with IRQs masked.

use super::gic;
use super::smp::{cpu_index, MAX_CPUS};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// INTIDs with a handler slot: SGIs, PPIs and the first 96 SPIs.
pub const NR_INTIDS: usize = 128;

/// What [`guest_irq`] does after the handler returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eoi {
    /// End the interrupt: EOIR (and DIR with EOImode 1).
    Complete,
    /// Priority drop only (EOIR with EOImode 1): the interrupt stays active
    /// until someone deactivates it (DIR or GICR_ICACTIVER0).
    DropOnly,
    /// Nothing: the handler ended it itself.
    Nothing,
}

/// An interrupt handler: gets the CPU index and the INTID.
pub type Handler = fn(cpu: usize, intid: u32) -> Eoi;

/// Handler per INTID, as a function address (0: none).
static HANDLERS: [AtomicUsize; NR_INTIDS] = [const { AtomicUsize::new(0) }; NR_INTIDS];
/// Interrupts taken per CPU.
static TAKEN: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
/// Interrupts without a handler, and the last such INTID.
static UNEXPECTED: AtomicU32 = AtomicU32::new(0);
static LAST_UNEXPECTED: AtomicU32 = AtomicU32::new(0);
/// Spurious acknowledges (1020-1023).
static SPURIOUS: AtomicU32 = AtomicU32::new(0);

/// Call `handler` for `intid` from now on (all CPUs).
pub fn register(intid: u32, handler: Handler) {
    if let Some(slot) = HANDLERS.get(intid as usize) {
        slot.store(handler as usize, Ordering::Release);
    }
}

/// Forget the handler of `intid`.
pub fn unregister(intid: u32) {
    if let Some(slot) = HANDLERS.get(intid as usize) {
        slot.store(0, Ordering::Release);
    }
}

/// Interrupts taken by this CPU so far.
pub fn taken() -> u32 {
    TAKEN
        .get(cpu_index())
        .map_or(0, |t| t.load(Ordering::Relaxed))
}

/// Interrupts that had no handler: (count, last INTID).
pub fn unexpected() -> (u32, u32) {
    (
        UNEXPECTED.load(Ordering::Relaxed),
        LAST_UNEXPECTED.load(Ordering::Relaxed),
    )
}

/// Spurious acknowledges so far.
pub fn spurious() -> u32 {
    SPURIOUS.load(Ordering::Relaxed)
}

/// Called by the IRQ vector in boot.s.
#[no_mangle]
extern "C" fn guest_irq() {
    let intid = gic::acknowledge();
    if intid >= 1020 {
        SPURIOUS.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let cpu = cpu_index();
    if let Some(t) = TAKEN.get(cpu) {
        t.fetch_add(1, Ordering::Relaxed);
    }
    let address = HANDLERS
        .get(intid as usize)
        .map_or(0, |h| h.load(Ordering::Acquire));
    let action = if address == 0 {
        // Nobody expects it: silence it so it cannot storm, and count it.
        UNEXPECTED.fetch_add(1, Ordering::Relaxed);
        LAST_UNEXPECTED.store(intid, Ordering::Relaxed);
        if intid < 32 {
            gic::write32(gic::rd() + gic::gicr::ICENABLER0, 1 << intid);
        }
        Eoi::Complete
    } else {
        // SAFETY: HANDLERS only ever holds 0 or a `Handler` stored by
        // `register`, so the address is a function of that type.
        let handler: Handler = unsafe { core::mem::transmute::<usize, Handler>(address) };
        handler(cpu, intid)
    };
    match action {
        Eoi::Complete => {
            gic::end_of_interrupt(intid);
            if gic::split_eoi() {
                gic::deactivate(intid);
            }
        }
        Eoi::DropOnly => gic::end_of_interrupt(intid),
        Eoi::Nothing => {}
    }
}
