//! Running the guest: one vCPU per physical CPU, each entering its vCPU,
//! decoding every exit, emulating, resuming. The guest's devices and vGIC
//! are shared behind one lock, held only while an exit is handled.

use super::gic::{self, CpuGic};
use super::idregs;
use super::vcpu::{self, inject, VcpuRegs};
use crate::vm::Guest;
use core::arch::asm;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use hv_core::arch::aarch64::esr::{self, Exit};
use hv_core::arch::aarch64::sgi;
use hv_core::mmio::BusError;
use hv_core::vm::psci::{self, affinity, status, PsciCall};

/// Most vCPUs (one per physical CPU hv brings up).
pub const MAX_VCPUS: usize = super::MAX_CPUS;

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

/// Exit counts of all vCPUs, for the report at the end.
#[derive(Debug, Default)]
pub struct ExitStats {
    /// All exits.
    pub total: AtomicU64,
    /// Emulated MMIO accesses.
    pub mmio: AtomicU64,
    /// HVC/SMC calls.
    pub calls: AtomicU64,
    /// Exceptions injected into the guest.
    pub injected: AtomicU64,
    /// Physical interrupts taken while the guest ran.
    pub irqs: AtomicU64,
    /// WFI, ID registers, SGIs and others.
    pub other: AtomicU64,
}

fn count(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// vCPU power states (PSCI AFFINITY_INFO's view).
const OFF: u8 = 0;
const PENDING: u8 = 1;
const ON: u8 = 2;

/// Where a vCPU starts when PSCI CPU_ON turns it on.
#[derive(Debug, Default)]
struct VcpuSlot {
    state: AtomicU8,
    entry: AtomicU64,
    context: AtomicU64,
}

/// The running guest machine, shared by the physical CPUs.
#[derive(Debug)]
pub struct Vm {
    /// Devices and vGIC.
    pub guest: spin::Mutex<Guest>,
    vcpus: usize,
    slots: [VcpuSlot; MAX_VCPUS],
    /// Physical MPIDR of the CPU that runs vCPU n.
    phys_mpidr: [u64; MAX_VCPUS],
    vttbr: u64,
    vtcr: u64,
    /// Exit statistics.
    pub stats: ExitStats,
}

/// INTID of the machine's console UART, when hv passes its input to the
/// guest (0: not).
pub static CONSOLE_INTID: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// Physical SGI hv sends to make another CPU look at its vCPU's interrupts
/// (or start its vCPU).
pub const KICK_SGI: u32 = 8;

static VM: spin::Once<Vm> = spin::Once::new();

/// The guest, once one is running.
pub fn vm() -> Option<&'static Vm> {
    VM.get()
}

/// Publish the guest: vCPU 0 on; the others wait for PSCI CPU_ON.
pub fn publish(
    guest: Guest,
    vcpus: usize,
    phys_mpidr: [u64; MAX_VCPUS],
    vttbr: u64,
    vtcr: u64,
) -> &'static Vm {
    VM.call_once(|| {
        let vm = Vm {
            guest: spin::Mutex::new(guest),
            vcpus: vcpus.clamp(1, MAX_VCPUS),
            slots: Default::default(),
            phys_mpidr,
            vttbr,
            vtcr,
            stats: ExitStats::default(),
        };
        vm.slots[0].state.store(ON, Ordering::Release);
        vm
    })
}

impl Vm {
    /// If vCPU `me` was turned on by CPU_ON, claim it: (entry, context).
    pub fn take_start(&self, me: usize) -> Option<(u64, u64)> {
        let slot = self.slots.get(me)?;
        slot.state
            .compare_exchange(PENDING, ON, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        Some((
            slot.entry.load(Ordering::Acquire),
            slot.context.load(Ordering::Acquire),
        ))
    }

    /// Make the CPU running vCPU `target` look at its interrupts (or start).
    fn kick(&self, me: usize, target: usize) {
        if target == me {
            return;
        }
        if let Some(&mpidr) = self.phys_mpidr.get(target) {
            gic::send_sgi(mpidr, KICK_SGI);
        }
        // SAFETY: SEV only signals an event to every CPU.
        unsafe { asm!("sev", options(nomem, nostack)) };
    }
}

enum Step {
    Resume,
    /// This vCPU turned itself off (PSCI CPU_OFF).
    Off,
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

/// Run vCPU `me` of `vm` on this CPU from `entry` with x0 = `x0`. Returns
/// `None` when the vCPU turned itself off, or how the guest ended.
pub fn run_vcpu(vm: &Vm, me: usize, entry: u64, x0: u64) -> Option<Outcome> {
    vcpu::configure_el2(vm.vttbr, vm.vtcr, (1 << 31) | me as u64);
    let mut gic = match vm.phys_mpidr.get(me).map(|&m| CpuGic::init_cpu(m)) {
        Some(Ok(g)) => g,
        Some(Err(e)) => {
            log::error!("vCPU {me}: GIC: {e}");
            return Some(Outcome::Crashed);
        }
        None => return Some(Outcome::Crashed),
    };
    let mut regs = VcpuRegs::new(entry, x0);
    loop {
        {
            let mut guest = vm.guest.lock();
            guest.sample_device_irqs();
            gic.sync(&mut guest.vgic, me);
        }
        let vector = regs.run();
        count(&vm.stats.total);
        let step = match vector {
            8 => synchronous(vm, me, &mut regs, &mut gic),
            9 | 10 => {
                count(&vm.stats.irqs);
                physical_irq(vm, me, &mut gic);
                Step::Resume
            }
            _ => {
                let (esr, _, _) = syndrome();
                log::error!(
                    "vCPU {me}: SError or AArch32 exception (vector {vector}, ESR {esr:#x})"
                );
                Step::Stop(Outcome::Crashed)
            }
        };
        match step {
            Step::Resume => {}
            Step::Off => return None,
            Step::Stop(outcome) => return Some(outcome),
        }
    }
}

/// A physical interrupt arrived while the guest ran: forward the virtual
/// timer to the guest; kicks and maintenance only need the next sync.
fn physical_irq(vm: &Vm, me: usize, gic: &mut CpuGic) {
    let intid = gic::acknowledge();
    match intid {
        gic::SPURIOUS => {}
        gic::VTIMER_INTID => {
            gic::end_of_interrupt(intid);
            let mut guest = vm.guest.lock();
            let enabled = guest.vgic.is_enabled(me, intid);
            if !enabled || !gic.forward_timer(&mut guest.vgic, me) {
                // Not deliverable now: deactivate; a guest that armed the
                // timer without enabling its interrupt gets it masked.
                if !enabled {
                    gic::mask_vtimer();
                }
                gic::deactivate(intid);
            }
        }
        _ if intid == CONSOLE_INTID.load(Ordering::Relaxed) => {
            // Typed on hv's console: the guest's UART receives it.
            let mut uart = super::console_uart();
            let target = {
                let mut guest = vm.guest.lock();
                while let Some(byte) = uart.read_byte() {
                    guest.console_input(byte);
                }
                guest.vgic.spi_target(hv_core::machine::UART_INTID)
            };
            gic::end_of_interrupt(intid);
            gic::deactivate(intid);
            vm.kick(me, target);
        }
        _ => {
            gic::end_of_interrupt(intid);
            gic::deactivate(intid);
        }
    }
}

fn inject_data_abort(vm: &Vm, regs: &mut VcpuRegs, far: u64) {
    let esr = if vcpu::from_el0(regs) {
        inject::DATA_ABORT_LOWER_EL
    } else {
        inject::DATA_ABORT_SAME_EL
    };
    vcpu::inject_sync(regs, esr, far);
    count(&vm.stats.injected);
}

fn synchronous(vm: &Vm, me: usize, regs: &mut VcpuRegs, gic: &mut CpuGic) -> Step {
    let (esr_value, far, hpfar) = syndrome();
    match esr::decode(esr_value, hpfar, far) {
        Exit::DataAbort(access) => {
            let result = {
                let mut guest = vm.guest.lock();
                let result = if access.write {
                    let value = regs.get(access.reg) & access.width.mask();
                    guest.mmio_write(access.ipa, access.width, value)
                } else {
                    guest
                        .mmio_read(access.ipa, access.width)
                        .map(|v| regs.set(access.reg, access.load_result(v)))
                };
                // A device interrupt for another vCPU: wake it.
                for target in (0..vm.vcpus).filter(|&t| t != me) {
                    if guest.vgic.has_pending(target) {
                        vm.kick(me, target);
                    }
                }
                result
            };
            match result {
                Ok(()) => {
                    count(&vm.stats.mmio);
                    regs.pc += esr::instruction_length(esr_value);
                }
                Err(BusError::Unmapped(ipa) | BusError::Overlap(ipa)) => {
                    log::debug!("guest access to {ipa} outside its machine: abort injected");
                    inject_data_abort(vm, regs, far);
                }
            }
        }
        Exit::BadDataAbort { error, ipa } => {
            log::warn!("guest data abort at {ipa} not emulated ({error}): abort injected");
            inject_data_abort(vm, regs, far);
        }
        Exit::InstructionAbort { ipa } => {
            log::warn!("guest fetched from {ipa} outside its RAM: abort injected");
            let esr = if vcpu::from_el0(regs) {
                inject::INSTRUCTION_ABORT_LOWER_EL
            } else {
                inject::INSTRUCTION_ABORT_SAME_EL
            };
            vcpu::inject_sync(regs, esr, far);
            count(&vm.stats.injected);
        }
        // ELR_EL2 already points past an HVC.
        Exit::Hvc(_) => {
            count(&vm.stats.calls);
            return call(vm, me, regs);
        }
        // A trapped SMC returns to the SMC itself.
        Exit::Smc(_) => {
            count(&vm.stats.calls);
            regs.pc += 4;
            return call(vm, me, regs);
        }
        // WFI: wait here for a physical interrupt unless the guest already
        // has one to take (WFE is not trapped).
        Exit::Wfx { .. } => {
            count(&vm.stats.other);
            let ready = {
                let mut guest = vm.guest.lock();
                gic.sync(&mut guest.vgic, me);
                gic.guest_has_interrupt()
            };
            if !ready {
                // SAFETY: WFI only waits; it wakes on any pending physical
                // interrupt even though hv runs with interrupts masked.
                unsafe { asm!("wfi", options(nomem, nostack)) };
            }
            regs.pc += esr::instruction_length(esr_value);
        }
        Exit::SysReg(access) => {
            if let Some((crm, op2)) = access.id_register() {
                regs.set(access.rt, idregs::guest_read(crm, op2));
                regs.pc += 4;
                count(&vm.stats.other);
            } else if is_sgi1r_write(&access) {
                let request = sgi::decode(regs.get(access.rt), me, vm.vcpus);
                {
                    let mut guest = vm.guest.lock();
                    for t in (0..vm.vcpus).filter(|t| request.targets & (1 << t) != 0) {
                        guest.vgic.pulse(t, request.intid);
                    }
                }
                for t in (0..vm.vcpus).filter(|t| request.targets & (1 << t) != 0) {
                    vm.kick(me, t);
                }
                regs.pc += 4;
                count(&vm.stats.other);
            } else {
                log::debug!("guest system register access {access:?} not emulated: UNDEF injected");
                vcpu::inject_sync(regs, inject::UNDEFINED, 0);
                count(&vm.stats.injected);
            }
        }
        Exit::Other { ec, iss } => {
            log::warn!("guest exit EC {ec:#x} ISS {iss:#x} not handled: UNDEF injected");
            vcpu::inject_sync(regs, inject::UNDEFINED, 0);
            count(&vm.stats.injected);
        }
    }
    Step::Resume
}

/// MSR ICC_SGI1R_EL1 (op0 3, op1 0, CRn 12, CRm 11, op2 5).
fn is_sgi1r_write(a: &esr::SysRegAccess) -> bool {
    !a.read && a.op0 == 3 && a.op1 == 0 && a.crn == 12 && a.crm == 11 && a.op2 == 5
}

/// The vCPU index of an MPIDR the guest names (Aff0 = index, the rest 0).
fn vcpu_of(vm: &Vm, mpidr: u64) -> Option<usize> {
    let index = (mpidr & 0xff) as usize;
    (mpidr & 0xff_00ff_ff00 == 0 && index < vm.vcpus).then_some(index)
}

/// A PSCI/SMCCC call from vCPU `me`.
fn call(vm: &Vm, me: usize, regs: &mut VcpuRegs) -> Step {
    let request = psci::decode(regs.x[0], regs.x[1], regs.x[2], regs.x[3]);
    let answer = match request {
        PsciCall::SmcccVersion => psci::SMCCC_VERSION_1_1,
        PsciCall::SmcccArchFeatures(_) => status::NOT_SUPPORTED,
        PsciCall::Version => psci::PSCI_VERSION_1_1,
        PsciCall::Features(id) => psci::features(id),
        // Suspend behaves like WFI, which may complete at once.
        PsciCall::CpuSuspend { .. } => status::SUCCESS,
        PsciCall::CpuOff => {
            let on = (0..vm.vcpus)
                .filter(|&i| vm.slots[i].state.load(Ordering::Acquire) != OFF)
                .count();
            if on <= 1 {
                // The last vCPU may not turn itself off (PSCI: DENIED).
                status::DENIED
            } else {
                vm.slots[me].state.store(OFF, Ordering::Release);
                return Step::Off;
            }
        }
        PsciCall::CpuOn {
            target,
            entry,
            context,
        } => match vcpu_of(vm, target) {
            None => status::INVALID_PARAMETERS,
            Some(t) => {
                let slot = &vm.slots[t];
                slot.entry.store(entry, Ordering::Release);
                slot.context.store(context, Ordering::Release);
                match slot
                    .state
                    .compare_exchange(OFF, PENDING, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        vm.kick(me, t);
                        status::SUCCESS
                    }
                    Err(PENDING) => status::ON_PENDING,
                    Err(_) => status::ALREADY_ON,
                }
            }
        },
        PsciCall::AffinityInfo { target, level: 0 } => match vcpu_of(vm, target) {
            Some(t) => match vm.slots[t].state.load(Ordering::Acquire) {
                ON => affinity::ON,
                PENDING => affinity::ON_PENDING,
                _ => affinity::OFF,
            },
            None => status::INVALID_PARAMETERS,
        },
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
