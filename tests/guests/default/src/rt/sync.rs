//! A spin lock that masks IRQs while held, so an interrupt handler on the
//! same CPU cannot deadlock against the code it interrupted.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A spin lock around a `T`.
#[derive(Debug)]
pub struct IrqLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out the value to one holder at a time.
unsafe impl<T: Send> Sync for IrqLock<T> {}

impl<T> IrqLock<T> {
    /// An unlocked lock.
    pub const fn new(value: T) -> Self {
        IrqLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Run `f` with the value, IRQs masked on this CPU and the lock held.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let daif = mask_irqs();
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference.
        let r = f(unsafe { &mut *self.value.get() });
        self.locked.store(false, Ordering::Release);
        restore_irqs(daif);
        r
    }
}

/// Mask IRQs on this CPU; returns the previous DAIF for [`restore_irqs`].
pub fn mask_irqs() -> u64 {
    let daif: u64;
    // SAFETY: reads DAIF and sets PSTATE.I; only interrupt delivery changes.
    unsafe {
        asm!("mrs {}, daif", out(reg) daif, options(nomem, nostack, preserves_flags));
        asm!("msr daifset, #2", options(nostack, preserves_flags));
    }
    daif
}

/// Restore the DAIF value [`mask_irqs`] returned.
pub fn restore_irqs(daif: u64) {
    // SAFETY: writes back a DAIF value read earlier on this CPU.
    unsafe { asm!("msr daif, {}", in(reg) daif, options(nostack, preserves_flags)) };
}

/// Unmask IRQs on this CPU (PSTATE.I = 0): pending IRQs are taken now.
pub fn enable_irqs() {
    // SAFETY: the IRQ vector saves every caller-saved register, so an
    // interrupt between any two instructions is invisible to Rust code.
    unsafe { asm!("msr daifclr, #2", "isb", options(nostack, preserves_flags)) };
}

/// Mask IRQs on this CPU (PSTATE.I = 1).
pub fn disable_irqs() {
    // SAFETY: only stops IRQ delivery to this CPU.
    unsafe { asm!("msr daifset, #2", options(nostack, preserves_flags)) };
}
