//! Running the guest: enter, decode each exit, emulate, resume.

use super::gic::{self, CpuGic};
use super::idregs;
use super::vcpu::{self, inject, VcpuRegs};
use crate::vm::Guest;
use core::arch::asm;
use hv_core::arch::aarch64::esr::{self, Exit};
use hv_core::mmio::BusError;
use hv_core::vm::psci::{self, affinity, status, PsciCall};

/// How a guest run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// PSCI SYSTEM_OFF.
    PowerOff,
    /// PSCI SYSTEM_RESET (hv does not restart guests yet).
    Reset,
    /// The guest took an exception hv cannot continue from (SError).
    Crashed,
}

/// Exit counts, for the report at the end.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExitStats {
    /// All exits.
    pub total: u64,
    /// Emulated MMIO accesses.
    pub mmio: u64,
    /// HVC/SMC calls.
    pub calls: u64,
    /// Exceptions injected into the guest.
    pub injected: u64,
    /// Physical interrupts taken while the guest ran.
    pub irqs: u64,
    /// WFI and others.
    pub other: u64,
}

enum Step {
    Resume,
    Stop(Outcome),
}

fn syndrome() -> (u64, u64, u64) {
    let (esr, far, hpfar): (u64, u64, u64);
    // SAFETY: reading EL2 syndrome registers has no side effects.
    unsafe {
        asm!("mrs {}, esr_el2", out(reg) esr, options(nomem, nostack));
        asm!("mrs {}, far_el2", out(reg) far, options(nomem, nostack));
        asm!("mrs {}, hpfar_el2", out(reg) hpfar, options(nomem, nostack));
    }
    (esr, far, hpfar)
}

/// Run `guest` on this CPU until it powers off, resets or crashes.
pub fn run(guest: &mut Guest, gic: &mut CpuGic, stats: &mut ExitStats) -> Outcome {
    let mut regs = VcpuRegs::new(guest.entry.raw(), guest.dtb.raw());
    loop {
        guest.sample_device_irqs();
        gic.sync(&mut guest.vgic, 0);
        let vector = regs.run();
        stats.total += 1;
        let step = match vector {
            8 => synchronous(&mut regs, guest, gic, stats),
            9 | 10 => {
                stats.irqs += 1;
                physical_irq(guest, gic);
                Step::Resume
            }
            _ => {
                let (esr, _, _) = syndrome();
                log::error!("guest SError or AArch32 exception (vector {vector}, ESR {esr:#x})");
                Step::Stop(Outcome::Crashed)
            }
        };
        if let Step::Stop(outcome) = step {
            return outcome;
        }
    }
}

fn inject_data_abort(regs: &mut VcpuRegs, far: u64, stats: &mut ExitStats) {
    let esr = if vcpu::from_el0(regs) {
        inject::DATA_ABORT_LOWER_EL
    } else {
        inject::DATA_ABORT_SAME_EL
    };
    vcpu::inject_sync(regs, esr, far);
    stats.injected += 1;
}

/// A physical interrupt arrived while the guest ran: forward the virtual
/// timer to the guest, take note of maintenance, drop anything else.
fn physical_irq(guest: &mut Guest, gic: &mut CpuGic) {
    let intid = gic::acknowledge();
    match intid {
        gic::SPURIOUS => {}
        gic::VTIMER_INTID => {
            gic::end_of_interrupt(intid);
            let enabled = guest.vgic.is_enabled(0, intid);
            if !enabled || !gic.forward_timer(&mut guest.vgic, 0) {
                // Not deliverable now: deactivate; a guest that armed the
                // timer without enabling its interrupt gets it masked.
                if !enabled {
                    gic::mask_vtimer();
                }
                gic::deactivate(intid);
            }
        }
        _ => {
            // Maintenance (list registers drained) or an interrupt hv did
            // not ask for: the next sync does the work.
            gic::end_of_interrupt(intid);
            gic::deactivate(intid);
        }
    }
}

fn synchronous(
    regs: &mut VcpuRegs,
    guest: &mut Guest,
    gic: &mut CpuGic,
    stats: &mut ExitStats,
) -> Step {
    let (esr_value, far, hpfar) = syndrome();
    match esr::decode(esr_value, hpfar, far) {
        Exit::DataAbort(access) => {
            let result = if access.write {
                let value = regs.get(access.reg) & access.width.mask();
                guest.mmio_write(access.ipa, access.width, value)
            } else {
                guest
                    .mmio_read(access.ipa, access.width)
                    .map(|v| regs.set(access.reg, access.load_result(v)))
            };
            match result {
                Ok(()) => {
                    stats.mmio += 1;
                    regs.pc += esr::instruction_length(esr_value);
                }
                Err(BusError::Unmapped(ipa) | BusError::Overlap(ipa)) => {
                    log::debug!("guest access to {ipa} outside its machine: abort injected");
                    inject_data_abort(regs, far, stats);
                }
            }
        }
        Exit::BadDataAbort { error, ipa } => {
            log::warn!("guest data abort at {ipa} not emulated ({error}): abort injected");
            inject_data_abort(regs, far, stats);
        }
        Exit::InstructionAbort { ipa } => {
            log::warn!("guest fetched from {ipa} outside its RAM: abort injected");
            let esr = if vcpu::from_el0(regs) {
                inject::INSTRUCTION_ABORT_LOWER_EL
            } else {
                inject::INSTRUCTION_ABORT_SAME_EL
            };
            vcpu::inject_sync(regs, esr, far);
            stats.injected += 1;
        }
        // ELR_EL2 already points past an HVC.
        Exit::Hvc(_) => {
            stats.calls += 1;
            return call(regs);
        }
        // A trapped SMC returns to the SMC itself.
        Exit::Smc(_) => {
            stats.calls += 1;
            regs.pc += 4;
            return call(regs);
        }
        // WFI: wait here for a physical interrupt unless the guest already
        // has one to take (WFE is not trapped).
        Exit::Wfx { .. } => {
            stats.other += 1;
            gic.sync(&mut guest.vgic, 0);
            if !gic.guest_has_interrupt() {
                // SAFETY: WFI only waits; it wakes on any pending physical
                // interrupt even though hv runs with interrupts masked.
                unsafe { asm!("wfi", options(nomem, nostack)) };
            }
            regs.pc += esr::instruction_length(esr_value);
        }
        Exit::SysReg(access) => match access.id_register() {
            Some((crm, op2)) => {
                regs.set(access.rt, idregs::guest_read(crm, op2));
                regs.pc += 4;
                stats.other += 1;
            }
            None => {
                log::debug!("guest system register access {access:?} not emulated: UNDEF injected");
                vcpu::inject_sync(regs, inject::UNDEFINED, 0);
                stats.injected += 1;
            }
        },
        Exit::Other { ec, iss } => {
            log::warn!("guest exit EC {ec:#x} ISS {iss:#x} not handled: UNDEF injected");
            vcpu::inject_sync(regs, inject::UNDEFINED, 0);
            stats.injected += 1;
        }
    }
    Step::Resume
}

/// A PSCI/SMCCC call from the guest's one vCPU (MPIDR 0).
fn call(regs: &mut VcpuRegs) -> Step {
    let request = psci::decode(regs.x[0], regs.x[1], regs.x[2], regs.x[3]);
    let answer = match request {
        PsciCall::SmcccVersion => psci::SMCCC_VERSION_1_1,
        PsciCall::SmcccArchFeatures(_) => status::NOT_SUPPORTED,
        PsciCall::Version => psci::PSCI_VERSION_1_1,
        PsciCall::Features(id) => psci::features(id),
        // Suspend behaves like WFI, which completes at once.
        PsciCall::CpuSuspend { .. } => status::SUCCESS,
        // The last vCPU may not turn itself off (PSCI: DENIED).
        PsciCall::CpuOff => status::DENIED,
        PsciCall::CpuOn { target: 0, .. } => status::ALREADY_ON,
        PsciCall::CpuOn { .. } => status::INVALID_PARAMETERS,
        PsciCall::AffinityInfo {
            target: 0,
            level: 0,
        } => affinity::ON,
        PsciCall::AffinityInfo { .. } => status::INVALID_PARAMETERS,
        PsciCall::MigrateInfoType => psci::MIGRATE_INFO_NOT_REQUIRED,
        PsciCall::SystemOff => return Step::Stop(Outcome::PowerOff),
        PsciCall::SystemReset => return Step::Stop(Outcome::Reset),
        PsciCall::Unknown(id) => {
            log::debug!("guest called unknown function {id:#x}");
            status::NOT_SUPPORTED
        }
    };
    regs.x[0] = answer;
    Step::Resume
}
