//! vCPU power states as PSCI sees them (CPU_ON, CPU_OFF, AFFINITY_INFO),
//! shared by the CPUs that run a guest's vCPUs.
//!
//! All states live in one atomic word, so every PSCI call reads and changes
//! them in one step: two vCPUs calling CPU_OFF together cannot both leave
//! (one is the last and is DENIED), and two CPU_ON calls for the same OFF
//! vCPU cannot both succeed. A CPU_ON first *claims* the target, then
//! writes its entry point, then makes it PENDING; the target's CPU takes
//! the start only from PENDING, so it never sees a half-written entry, and
//! a later CPU_ON cannot change where it starts.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Most vCPUs tracked (4 bits each in a `u32`).
pub const MAX_VCPUS: usize = 8;

const BITS: u32 = 4;
const MASK: u32 = 0xf;

/// A vCPU's power state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    /// Off: CPU_ON may start it.
    Off,
    /// A CPU_ON call is writing its entry point.
    Claimed,
    /// Turned on, its CPU has not started it yet.
    Pending,
    /// Running.
    On,
}

impl Power {
    fn bits(self) -> u32 {
        match self {
            Power::Off => 0,
            Power::Claimed => 1,
            Power::Pending => 2,
            Power::On => 3,
        }
    }

    fn from_bits(b: u32) -> Power {
        match b {
            1 => Power::Claimed,
            2 => Power::Pending,
            3 => Power::On,
            _ => Power::Off,
        }
    }
}

/// Why a CPU_ON did not start its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuOnError {
    /// No such vCPU.
    NoSuchCpu,
    /// Another CPU_ON for it is in progress (PSCI ON_PENDING).
    OnPending,
    /// It is on (PSCI ALREADY_ON).
    AlreadyOn,
}

#[derive(Debug, Default)]
struct Start {
    entry: AtomicU64,
    context: AtomicU64,
}

/// The power states of a guest's vCPUs and where they start.
#[derive(Debug)]
pub struct VcpuPower {
    vcpus: usize,
    word: AtomicU32,
    starts: [Start; MAX_VCPUS],
}

fn get(word: u32, vcpu: usize) -> Power {
    Power::from_bits((word >> (BITS * vcpu as u32)) & MASK)
}

fn with(word: u32, vcpu: usize, state: Power) -> u32 {
    let shift = BITS * vcpu as u32;
    (word & !(MASK << shift)) | (state.bits() << shift)
}

impl VcpuPower {
    /// `vcpus` vCPUs (clamped to 1..=MAX_VCPUS), vCPU 0 on, the rest off.
    pub fn new(vcpus: usize) -> Self {
        VcpuPower {
            vcpus: vcpus.clamp(1, MAX_VCPUS),
            word: AtomicU32::new(with(0, 0, Power::On)),
            starts: Default::default(),
        }
    }

    /// Number of vCPUs.
    pub fn vcpus(&self) -> usize {
        self.vcpus
    }

    /// The state of `vcpu` now (Off for a vCPU that does not exist).
    pub fn state(&self, vcpu: usize) -> Power {
        if vcpu >= self.vcpus {
            return Power::Off;
        }
        get(self.word.load(Ordering::Acquire), vcpu)
    }

    /// Whether every vCPU is off.
    pub fn all_off(&self) -> bool {
        self.word.load(Ordering::Acquire) == 0
    }

    /// The raw word, for diagnostics.
    pub fn raw(&self) -> u32 {
        self.word.load(Ordering::Acquire)
    }

    /// Change the states for which `f` returns a new word, atomically.
    fn update(&self, f: impl FnMut(u32) -> Option<u32>) -> Result<u32, u32> {
        self.word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, f)
    }

    /// Set `vcpu`'s state unconditionally.
    pub fn set(&self, vcpu: usize, state: Power) {
        if vcpu < self.vcpus {
            // The closure always returns Some: the update cannot fail.
            let _ = self.update(|w| Some(with(w, vcpu, state)));
        }
    }

    /// PSCI CPU_ON of `target` at `entry` with `context` in x0. On success
    /// the target is PENDING and its CPU should be told.
    pub fn cpu_on(&self, target: usize, entry: u64, context: u64) -> Result<(), CpuOnError> {
        if target >= self.vcpus {
            return Err(CpuOnError::NoSuchCpu);
        }
        let claimed = self
            .update(|w| (get(w, target) == Power::Off).then(|| with(w, target, Power::Claimed)));
        match claimed {
            Ok(_) => {
                let start = &self.starts[target];
                start.entry.store(entry, Ordering::Relaxed);
                start.context.store(context, Ordering::Relaxed);
                // Release: the entry point is visible before PENDING is.
                self.set(target, Power::Pending);
                Ok(())
            }
            Err(w) => match get(w, target) {
                Power::Claimed | Power::Pending => Err(CpuOnError::OnPending),
                _ => Err(CpuOnError::AlreadyOn),
            },
        }
    }

    /// The CPU of vCPU `me` takes its start if a CPU_ON made it PENDING:
    /// (entry, context), and it is ON.
    pub fn take_start(&self, me: usize) -> Option<(u64, u64)> {
        if me >= self.vcpus {
            return None;
        }
        self.update(|w| (get(w, me) == Power::Pending).then(|| with(w, me, Power::On)))
            .ok()?;
        let start = &self.starts[me];
        Some((
            start.entry.load(Ordering::Relaxed),
            start.context.load(Ordering::Relaxed),
        ))
    }

    /// PSCI CPU_OFF from `me`: it is OFF, unless it is the last vCPU that
    /// is not (then false: PSCI DENIED).
    pub fn cpu_off(&self, me: usize) -> bool {
        if me >= self.vcpus {
            return false;
        }
        let vcpus = self.vcpus;
        self.update(|w| {
            let on = (0..vcpus).filter(|&v| get(w, v) != Power::Off).count();
            (on > 1).then(|| with(w, me, Power::Off))
        })
        .is_ok()
    }

    /// `vcpu` stops running without a PSCI call of its own (the machine is
    /// rebooting): ON becomes OFF. Any other state is left alone, so a
    /// CPU_ON that already followed a CPU_OFF is not undone.
    pub fn stop(&self, vcpu: usize) {
        if vcpu < self.vcpus {
            let _ = self.update(|w| (get(w, vcpu) == Power::On).then(|| with(w, vcpu, Power::Off)));
        }
    }

    /// Cancel every CPU_ON not yet taken (PENDING becomes OFF); CLAIMED
    /// ones are left to finish.
    pub fn cancel_pending(&self) {
        let vcpus = self.vcpus;
        let _ = self.update(|w| {
            let new = (0..vcpus)
                .filter(|&v| get(w, v) == Power::Pending)
                .fold(w, |w, v| with(w, v, Power::Off));
            (new != w).then_some(new)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};
    use std::thread;

    #[test]
    fn boot_state_and_affinity() {
        let p = VcpuPower::new(3);
        assert_eq!(p.state(0), Power::On);
        assert_eq!(p.state(1), Power::Off);
        assert_eq!(p.state(7), Power::Off, "beyond the machine");
        assert_eq!(p.cpu_on(0, 0, 0), Err(CpuOnError::AlreadyOn));
        assert_eq!(p.cpu_on(3, 0, 0), Err(CpuOnError::NoSuchCpu));
        assert_eq!(p.cpu_on(1, 0x4000, 7), Ok(()));
        assert_eq!(p.state(1), Power::Pending);
        assert_eq!(p.cpu_on(1, 0x5000, 8), Err(CpuOnError::OnPending));
        assert_eq!(p.take_start(1), Some((0x4000, 7)), "first caller's entry");
        assert_eq!(p.take_start(1), None, "taken once");
        assert_eq!(p.cpu_on(1, 0, 0), Err(CpuOnError::AlreadyOn));
    }

    #[test]
    fn the_last_vcpu_cannot_turn_off() {
        let p = VcpuPower::new(2);
        assert!(!p.cpu_off(0));
        p.cpu_on(1, 1, 1).unwrap();
        // PENDING counts as on: vCPU 0 may go.
        assert!(p.cpu_off(0));
        assert!(p.take_start(1).is_some());
        assert!(!p.cpu_off(1));
        assert!(!p.cpu_off(5), "no such vCPU");
    }

    #[test]
    fn stopping_does_not_undo_a_cpu_on_that_followed_cpu_off() {
        let p = VcpuPower::new(2);
        p.cpu_on(1, 1, 1).unwrap();
        p.take_start(1).unwrap();
        assert!(p.cpu_off(1));
        // Another vCPU turns it on again before its CPU has left the guest.
        p.cpu_on(1, 2, 2).unwrap();
        p.stop(1);
        assert_eq!(p.state(1), Power::Pending);
        assert_eq!(p.take_start(1), Some((2, 2)));
        p.stop(1);
        assert_eq!(p.state(1), Power::Off);
    }

    #[test]
    fn cancel_pending_leaves_running_ones() {
        let p = VcpuPower::new(3);
        p.cpu_on(1, 1, 1).unwrap();
        p.cpu_on(2, 2, 2).unwrap();
        p.take_start(2).unwrap();
        p.cancel_pending();
        assert_eq!(p.state(1), Power::Off);
        assert_eq!(p.state(2), Power::On);
        assert_eq!(p.take_start(1), None);
        p.set(0, Power::Off);
        p.set(2, Power::Off);
        assert!(p.all_off());
    }

    /// Two vCPUs call CPU_OFF at the same moment while a third stays on:
    /// both leave. With only the two of them on, exactly one leaves.
    #[test]
    fn concurrent_cpu_off_never_turns_everyone_off() {
        for round in 0..2000 {
            let p = Arc::new(VcpuPower::new(3));
            p.cpu_on(1, 1, 1).unwrap();
            p.cpu_on(2, 2, 2).unwrap();
            p.take_start(1).unwrap();
            p.take_start(2).unwrap();
            let keep_zero = round % 2 == 0;
            if !keep_zero {
                assert!(p.cpu_off(0));
            }
            let gate = Arc::new(Barrier::new(2));
            let handles: std::vec::Vec<_> = [1, 2]
                .into_iter()
                .map(|me| {
                    let (p, gate) = (Arc::clone(&p), Arc::clone(&gate));
                    thread::spawn(move || {
                        gate.wait();
                        p.cpu_off(me)
                    })
                })
                .collect();
            let left: usize = handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum();
            if keep_zero {
                assert_eq!(left, 2, "round {round}");
                assert_eq!(p.state(0), Power::On);
            } else {
                assert_eq!(left, 1, "round {round}: exactly one may leave");
                assert!(!p.all_off());
            }
        }
    }

    /// Several vCPUs CPU_ON the same OFF vCPU with different entry points:
    /// exactly one succeeds, and the vCPU starts where that one said.
    #[test]
    fn concurrent_cpu_on_has_one_winner_and_its_entry() {
        for round in 0..2000u64 {
            let p = Arc::new(VcpuPower::new(4));
            let gate = Arc::new(Barrier::new(3));
            let handles: std::vec::Vec<_> = (0..3u64)
                .map(|caller| {
                    let (p, gate) = (Arc::clone(&p), Arc::clone(&gate));
                    thread::spawn(move || {
                        gate.wait();
                        (caller, p.cpu_on(3, 0x1000 + caller, round))
                    })
                })
                .collect();
            let results: std::vec::Vec<_> =
                handles.into_iter().map(|h| h.join().unwrap()).collect();
            let winners: std::vec::Vec<u64> = results
                .iter()
                .filter(|(_, r)| r.is_ok())
                .map(|&(c, _)| c)
                .collect();
            assert_eq!(winners.len(), 1, "round {round}: {results:?}");
            for (_, r) in &results {
                assert!(matches!(
                    r,
                    Ok(()) | Err(CpuOnError::OnPending) | Err(CpuOnError::AlreadyOn)
                ));
            }
            assert_eq!(p.take_start(3), Some((0x1000 + winners[0], round)));
        }
    }
}
