//! Running the guest: one vCPU per physical CPU, each entering its vCPU,
//! decoding every exit, emulating, resuming. The guest's devices and vGIC
//! are shared behind one lock, held only while an exit that needs them is
//! handled.
//!
//! The exit path does only what changed: the vGIC marks the vCPUs whose
//! interrupts changed, those vCPUs get their bit in [`Vm::needs_sync`] and
//! a kick, and a vCPU reconciles its list registers only when its bit is
//! set or its own list registers asked (maintenance interrupt, forwarded
//! timer). An exit that touches neither (an HVC, an ID-register read) takes
//! no lock.

use super::gic::{self, CpuGic};
use super::idregs;
use super::timer;
use super::vcpu::{self, inject, VcpuRegs};
use crate::vm::Guest;
use core::arch::asm;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use hv_core::arch::aarch64::esr::{self, Exit};
use hv_core::arch::aarch64::sgi;
use hv_core::devices::gicv3;
use hv_core::machine;
use hv_core::mmio::BusError;
use hv_core::vm::power::VcpuPower;
use hv_core::vm::psci::{self, status, Reply};

/// Most vCPUs (one per physical CPU hv brings up).
pub const MAX_VCPUS: usize = super::MAX_CPUS;

/// How a guest run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// PSCI SYSTEM_OFF.
    PowerOff,
    /// PSCI SYSTEM_RESET with rebooting switched off (`hv.no_reboot`).
    Reset,
    /// The guest took an exception hv cannot continue from (SError), or
    /// could not be started again.
    Crashed,
}

/// Exit counts of one vCPU, for the report at the end. A cache line of its
/// own: CPUs must not share lines they write on every exit.
#[derive(Debug, Default)]
#[repr(align(64))]
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

/// Each counter belongs to one CPU: a plain load and store, no atomic
/// read-modify-write on the exit path.
fn count(c: &AtomicU64) {
    c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// The running guest machine, shared by the physical CPUs.
#[derive(Debug)]
pub struct Vm {
    /// Devices and vGIC.
    pub guest: spin::Mutex<Guest>,
    vcpus: usize,
    /// PSCI power state of every vCPU.
    power: VcpuPower,
    /// vCPUs whose interrupts changed and must reconcile (bit n: vCPU n).
    needs_sync: AtomicU32,
    /// A reboot is in progress: every vCPU leaves the guest.
    stopping: AtomicBool,
    /// A disk has queue work left over from a notification: every vCPU
    /// serves some of it at its next exit.
    deferred_io: AtomicBool,
    /// PSCI SYSTEM_RESET reboots the guest (otherwise it ends the run).
    reboot: bool,
    /// Physical MPIDR of the CPU that runs vCPU n.
    phys_mpidr: [u64; MAX_VCPUS],
    vttbr: u64,
    vtcr: u64,
    /// Guest boots so far (1 for the first).
    pub boots: AtomicU32,
    /// Exit statistics, per vCPU.
    pub stats: [ExitStats; MAX_VCPUS],
}

/// INTID of the machine's console UART, when hv passes its input to the
/// guest (0: not).
pub static CONSOLE_INTID: AtomicU32 = AtomicU32::new(0);

/// Physical SGI hv sends to make another CPU look at its vCPU's interrupts
/// (or start its vCPU, or leave it).
pub const KICK_SGI: u32 = 8;

static VM: spin::Once<Vm> = spin::Once::new();

/// The guest, once one is running.
pub fn vm() -> Option<&'static Vm> {
    VM.get()
}

/// What the machine looks like when the guest is published.
#[derive(Debug)]
pub struct Machine {
    /// Number of vCPUs.
    pub vcpus: usize,
    /// Physical MPIDR of the CPU that runs vCPU n.
    pub phys_mpidr: [u64; MAX_VCPUS],
    /// Stage-2 registers.
    pub vttbr: u64,
    /// Stage-2 control.
    pub vtcr: u64,
    /// Reboot on PSCI SYSTEM_RESET.
    pub reboot: bool,
}

/// Publish the guest: vCPU 0 on; the others wait for PSCI CPU_ON.
pub fn publish(guest: Guest, machine: Machine) -> &'static Vm {
    VM.call_once(|| {
        let vcpus = machine.vcpus.clamp(1, MAX_VCPUS);
        Vm {
            guest: spin::Mutex::new(guest),
            vcpus,
            power: VcpuPower::new(vcpus),
            needs_sync: AtomicU32::new(0),
            stopping: AtomicBool::new(false),
            deferred_io: AtomicBool::new(false),
            reboot: machine.reboot,
            phys_mpidr: machine.phys_mpidr,
            vttbr: machine.vttbr,
            vtcr: machine.vtcr,
            boots: AtomicU32::new(1),
            stats: Default::default(),
        }
    })
}

impl Vm {
    /// If vCPU `me` was turned on by CPU_ON, claim it: (entry, context).
    pub fn take_start(&self, me: usize) -> Option<(u64, u64)> {
        self.power.take_start(me)
    }

    /// Make the CPU running vCPU `target` look at its interrupts (or start,
    /// or stop).
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

    /// Tell the vCPUs in `mask` (other than `me`) that their interrupts
    /// changed.
    fn notify(&self, me: usize, mask: u32) {
        let others = mask & !(1 << me);
        if others == 0 {
            return;
        }
        self.needs_sync.fetch_or(others, Ordering::AcqRel);
        for target in (0..self.vcpus).filter(|t| others & (1 << t) != 0) {
            self.kick(me, target);
        }
    }

    /// Run `f` on the guest with the lock held, then reconcile this vCPU's
    /// list registers if its interrupts changed and notify the others whose
    /// did.
    fn with_guest<R>(
        &self,
        me: usize,
        gic: &mut CpuGic,
        f: impl FnOnce(&mut Guest, &mut CpuGic) -> R,
    ) -> R {
        let (result, others) = {
            let mut guest = self.guest.lock();
            let result = f(&mut guest, gic);
            let deferred = guest.devices.has_deferred_io();
            if self.deferred_io.load(Ordering::Relaxed) != deferred {
                self.deferred_io.store(deferred, Ordering::Release);
            }
            let dirty = guest.devices.vgic.take_dirty();
            if dirty & (1 << me) != 0 || gic.wants_sync() {
                gic.sync(&mut guest.devices.vgic, me);
            }
            // Syncing may release interrupts another vCPU now gets.
            (result, dirty | guest.devices.vgic.take_dirty())
        };
        self.notify(me, others);
        result
    }
}

enum Step {
    Resume,
    /// This vCPU turned itself off (PSCI CPU_OFF).
    Off,
    /// This vCPU asked for a reboot (PSCI SYSTEM_RESET).
    Reboot,
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

/// Step the guest's PC past a trapped instruction, wrapping as the
/// architecture does (a trap at the top of the address space must not
/// overflow hv's arithmetic).
fn skip(regs: &mut VcpuRegs, bytes: u64) {
    regs.pc = regs.pc.wrapping_add(bytes);
}

/// Run vCPU `me` of `vm` on this CPU from `entry` with x0 = `x0`. Returns
/// `None` when the vCPU turned itself off or left for a reboot, or how the
/// guest ended.
pub fn run_vcpu(vm: &Vm, me: usize, entry: u64, x0: u64) -> Option<Outcome> {
    // SAFETY: the stage-2 tables behind `vm.vttbr` map only the guest's RAM
    // and are complete; no guest runs on this CPU yet.
    unsafe { vcpu::configure_el2(vm.vttbr, vm.vtcr, (1 << 31) | me as u64) };
    timer::reset_guest_timers();
    let mut gic = match vm.phys_mpidr.get(me).map(|&m| CpuGic::init_cpu(me, m)) {
        Some(Ok(g)) => g,
        Some(Err(e)) => {
            log::error!("vCPU {me}: GIC: {e}");
            return Some(Outcome::Crashed);
        }
        None => return Some(Outcome::Crashed),
    };
    {
        // The timer PPIs come from hardware; their enables follow the
        // guest's as the vGIC holds them now.
        let mut guest = vm.guest.lock();
        for intid in gic::FORWARDED {
            guest.devices.vgic.set_hw(me, intid, true);
            gic::mirror_enable(me, intid, guest.devices.vgic.is_enabled(me, intid));
        }
    }
    let mut regs = VcpuRegs::new(entry, x0);
    let me_bit = 1u32 << me;
    let stats = &vm.stats[me];
    // hv's EL2 timer is armed to come back for left-over disk work.
    let mut io_timer = false;
    let mut storm = StormWatch::default();
    loop {
        if vm.stopping.load(Ordering::Acquire) {
            if io_timer {
                timer::disarm_hyp_timer();
            }
            leave(vm, me, &mut gic);
            return None;
        }
        if vm.deferred_io.load(Ordering::Acquire) || io_timer {
            io_timer = serve_deferred_io(vm, me, &mut gic);
        }
        if vm.needs_sync.load(Ordering::Acquire) & me_bit != 0 || gic.wants_sync() {
            settle(vm, me, &mut gic);
        }
        let vector = regs.run();
        count(&stats.total);
        let step = match vector {
            8 => synchronous(vm, me, &mut regs, &mut gic),
            9 | 10 => {
                count(&stats.irqs);
                let intid = physical_irq(vm, me, &mut gic);
                storm.irq(me, intid, regs.pc, &gic);
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
            Step::Off => {
                leave(vm, me, &mut gic);
                return None;
            }
            Step::Reboot => return reboot(vm, me, &mut gic),
            Step::Stop(outcome) => return Some(outcome),
        }
    }
}

/// Ticks of the physical counter between polls of left-over disk work when
/// the guest makes no exits: 100 µs at QEMU's 1 GHz.
const IO_POLL_TICKS: u64 = 100_000;

/// Serve one budget of the disks' left-over queue work. While work is
/// left, hv's EL2 timer brings this vCPU back soon even if the guest spins
/// without exits (it may be waiting for exactly that work); returns whether
/// the timer is armed.
fn serve_deferred_io(vm: &Vm, me: usize, gic: &mut CpuGic) -> bool {
    let left = vm.with_guest(me, gic, |guest, _| {
        if guest.devices.has_deferred_io() {
            guest.devices.poll_disks()
        } else {
            false
        }
    });
    if left {
        timer::arm_hyp_timer(super::counter() + IO_POLL_TICKS);
    } else {
        timer::disarm_hyp_timer();
    }
    left
}

/// Reconcile vCPU `me`'s list registers with the vGIC now, and tell the
/// vCPUs whose interrupts that changed.
fn settle(vm: &Vm, me: usize, gic: &mut CpuGic) {
    vm.needs_sync.fetch_and(!(1 << me), Ordering::AcqRel);
    let others = {
        let mut guest = vm.guest.lock();
        gic.sync(&mut guest.devices.vgic, me);
        guest.devices.vgic.take_dirty()
    };
    vm.notify(me, others);
}

/// vCPU `me` leaves the guest (CPU_OFF, or a reboot): its list registers go
/// back to the model, and it is no longer ON.
fn leave(vm: &Vm, me: usize, gic: &mut CpuGic) {
    {
        let mut guest = vm.guest.lock();
        gic.evict_all(&mut guest.devices.vgic, me);
        let dirty = guest.devices.vgic.take_dirty();
        drop(guest);
        vm.notify(me, dirty);
    }
    for intid in gic::FORWARDED {
        gic::mirror_enable(me, intid, false);
    }
    timer::reset_guest_timers();
    // After CPU_OFF the state is OFF already, and may even be PENDING again
    // (another vCPU's CPU_ON): only a vCPU stopped by a reboot is ON here.
    vm.power.stop(me);
}

/// Seconds a reboot waits for the other vCPUs to leave the guest.
const REBOOT_WAIT_S: u64 = 5;

/// PSCI SYSTEM_RESET from vCPU `me`: stop every vCPU, reset the machine,
/// place the guest's software again and start vCPU 0 at its entry, as a
/// real machine's reset does. Disks keep their contents.
fn reboot(vm: &Vm, me: usize, gic: &mut CpuGic) -> Option<Outcome> {
    if vm
        .stopping
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        // Another vCPU is rebooting the machine already.
        leave(vm, me, gic);
        return None;
    }
    for target in 0..vm.vcpus {
        vm.kick(me, target);
    }
    leave(vm, me, gic);
    let deadline = super::counter() + super::counter_frequency() * REBOOT_WAIT_S;
    loop {
        // A CPU_ON still waiting to be taken is cancelled; CLAIMED ones
        // become PENDING within their caller's exit and are cancelled next.
        vm.power.cancel_pending();
        if vm.power.all_off() {
            break;
        }
        if super::counter() > deadline {
            log::error!(
                "reboot: vCPUs did not stop (power states {:#x})",
                vm.power.raw()
            );
            return Some(Outcome::Crashed);
        }
        core::hint::spin_loop();
    }
    let placed = vm.guest.lock().reset();
    let (entry, dtb) = match placed {
        Ok(p) => p,
        Err(e) => {
            log::error!("reboot: cannot place the guest again: {e}");
            return Some(Outcome::Crashed);
        }
    };
    let boots = vm.boots.fetch_add(1, Ordering::AcqRel) + 1;
    log::info!("guest asked for a reset: rebooting it (boot {boots})");
    vm.needs_sync.store((1 << vm.vcpus) - 1, Ordering::Release);
    vm.stopping.store(false, Ordering::Release);
    // Every vCPU is off: this CPU_ON cannot fail.
    let _ = vm.power.cpu_on(0, entry.raw(), dtb.raw());
    vm.kick(me, 0);
    None
}

/// Physical interrupts taken in a row without the guest moving: more than
/// this is an interrupt storm (an interrupt hv acknowledges but whose cause
/// it does not clear), reported once.
const STORM_IRQS: u32 = 1 << 20;

/// Watches for the same physical interrupt taken again and again with the
/// guest at the same PC.
#[derive(Debug, Default)]
struct StormWatch {
    intid: u32,
    pc: u64,
    count: u32,
    reported: bool,
}

impl StormWatch {
    fn irq(&mut self, me: usize, intid: u32, pc: u64, gic: &CpuGic) {
        if intid != self.intid || pc != self.pc {
            *self = StormWatch {
                intid,
                pc,
                count: 0,
                reported: self.reported,
            };
            return;
        }
        self.count = self.count.saturating_add(1);
        if self.count == STORM_IRQS && !self.reported {
            self.reported = true;
            log::error!(
                "vCPU {me}: physical interrupt {intid} taken {STORM_IRQS} times with the guest at {pc:#x}: {:x?}",
                gic.report()
            );
        }
    }
}

/// A physical interrupt arrived while the guest ran: take it. Returns the
/// INTID taken.
fn physical_irq(vm: &Vm, me: usize, gic: &mut CpuGic) -> u32 {
    let intid = gic::acknowledge();
    handle_physical(vm, me, gic, intid);
    intid
}

/// Handle acknowledged physical interrupt `intid`: forward the guest's
/// timers, pass console input on; kicks and maintenance only need the next
/// sync.
fn handle_physical(vm: &Vm, me: usize, gic: &mut CpuGic, intid: u32) {
    match intid {
        gic::SPURIOUS => {}
        gic::VTIMER_INTID | gic::PTIMER_INTID => {
            // Priority drop only: the guest's deactivation (through the
            // HW list register) deactivates it.
            gic::end_of_interrupt(intid);
            vm.with_guest(me, gic, |guest, gic| {
                gic.forward(&mut guest.devices.vgic, me, intid);
            });
        }
        gic::MAINTENANCE_INTID => {
            gic::end_of_interrupt(intid);
            gic::deactivate(intid);
            gic.maintenance();
        }
        _ if intid == CONSOLE_INTID.load(Ordering::Relaxed) => {
            // Typed on hv's console: the guest's UART receives it.
            if let Some(mut uart) = super::console_uart() {
                vm.with_guest(me, gic, |guest, _| {
                    // Bounded: a UART that never runs dry (a stuck line)
                    // must not hold this CPU.
                    for _ in 0..CONSOLE_INPUT_BURST {
                        let Some(byte) = uart.read_byte() else { break };
                        guest.devices.console_input(byte);
                    }
                });
            }
            gic::end_of_interrupt(intid);
            gic::deactivate(intid);
        }
        _ => {
            // The kick SGI, hv's WFI timer: the loop looks at what changed.
            gic::end_of_interrupt(intid);
            gic::deactivate(intid);
        }
    }
}

/// The GICv2 distributor's set-enable and clear-enable registers of
/// INTIDs 0-31 (banked per CPU), whose writes change a timer PPI's enable.
const GICD_ISENABLER0: u64 = 0x100;
const GICD_ICENABLER0: u64 = 0x180;

/// Most console bytes moved to the guest per UART interrupt; the rest wait
/// for the next one (the line stays asserted while bytes wait).
const CONSOLE_INPUT_BURST: usize = 64;

fn inject_data_abort(vm: &Vm, me: usize, regs: &mut VcpuRegs, far: u64) {
    let esr = if vcpu::from_el0(regs) {
        inject::DATA_ABORT_LOWER_EL
    } else {
        inject::DATA_ABORT_SAME_EL
    };
    vcpu::inject_sync(regs, esr, far);
    count(&vm.stats[me].injected);
}

/// An emulated MMIO access from vCPU `me`. Reads of the vGIC's
/// pending/active registers first fold in what only this CPU can see (its
/// list registers, its timers' lines); writes of a redistributor's enables
/// are mirrored to the forwarded timer PPIs.
fn mmio(
    vm: &Vm,
    me: usize,
    gic: &mut CpuGic,
    regs: &mut VcpuRegs,
    access: &esr::DataAccess,
) -> Result<(), BusError> {
    vm.with_guest(me, gic, |guest, gic| {
        if access.write {
            let value = regs.get(access.reg) & access.width.mask();
            guest
                .devices
                .mmio_write(me, access.ipa, access.width, value)?;
            let v3_enables = guest
                .devices
                .gicr_offset(access.ipa)
                .and_then(gicv3::redist_enable_register);
            // A GICv2 guest's PPI enables are banked in its distributor,
            // by the writing vCPU.
            let v2_enables = (guest.devices.gic == machine::GicModel::V2
                && guest
                    .devices
                    .gicd_offset(access.ipa)
                    .is_some_and(|o| o == GICD_ISENABLER0 || o == GICD_ICENABLER0))
            .then_some(me);
            if let Some(v) = v3_enables.or(v2_enables) {
                for intid in gic::FORWARDED {
                    gic::mirror_enable(v, intid, guest.devices.vgic.is_enabled(v, intid));
                }
            }
            Ok(())
        } else {
            let own_state = guest
                .devices
                .gicr_offset(access.ipa)
                .and_then(gicv3::redist_state_register)
                == Some(me);
            let dist_state = guest
                .devices
                .gicd_offset(access.ipa)
                .is_some_and(gicv3::dist_state_register);
            if own_state || dist_state {
                let (virt, phys) = timer::guest_lines();
                guest.devices.vgic.set_level(me, gic::VTIMER_INTID, virt);
                guest.devices.vgic.set_level(me, gic::PTIMER_INTID, phys);
                gic.snapshot(&mut guest.devices.vgic, me);
            }
            let value = guest.devices.mmio_read(me, access.ipa, access.width)?;
            regs.set(access.reg, access.load_result(value));
            Ok(())
        }
    })
}

fn synchronous(vm: &Vm, me: usize, regs: &mut VcpuRegs, gic: &mut CpuGic) -> Step {
    let (esr_value, far, hpfar) = syndrome();
    let stats = &vm.stats[me];
    match esr::decode(esr_value, hpfar, far) {
        Exit::DataAbort(access) => match mmio(vm, me, gic, regs, &access) {
            Ok(()) => {
                count(&stats.mmio);
                skip(regs, esr::instruction_length(esr_value));
            }
            Err(BusError::Unmapped(ipa) | BusError::Overlap(ipa)) => {
                log::debug!("guest access to {ipa} outside its machine: abort injected");
                inject_data_abort(vm, me, regs, far);
            }
        },
        Exit::BadDataAbort { error, ipa } => {
            log::warn!("guest data abort at {ipa} not emulated ({error}): abort injected");
            inject_data_abort(vm, me, regs, far);
        }
        Exit::InstructionAbort { ipa } => {
            log::warn!("guest fetched from {ipa} outside its RAM: abort injected");
            let esr = if vcpu::from_el0(regs) {
                inject::INSTRUCTION_ABORT_LOWER_EL
            } else {
                inject::INSTRUCTION_ABORT_SAME_EL
            };
            vcpu::inject_sync(regs, esr, far);
            count(&stats.injected);
        }
        // ELR_EL2 already points past an HVC.
        Exit::Hvc(_) => {
            count(&stats.calls);
            return call(vm, me, regs);
        }
        // A trapped SMC returns to the SMC itself.
        Exit::Smc(_) => {
            count(&stats.calls);
            skip(regs, 4);
            return call(vm, me, regs);
        }
        Exit::Wfx { .. } => {
            count(&stats.other);
            wait_for_interrupt(vm, me, gic);
            skip(regs, esr::instruction_length(esr_value));
        }
        Exit::SysReg(access) => {
            if let Some((crm, op2)) = access.id_register() {
                regs.set(access.rt, idregs::guest_read(crm, op2));
                skip(regs, 4);
                count(&stats.other);
            } else if is_sgi1r_write(&access) {
                let request = sgi::decode(regs.get(access.rt), me, vm.vcpus);
                vm.with_guest(me, gic, |guest, _| {
                    for t in request.vcpus() {
                        guest.devices.vgic.pulse(t, request.intid);
                    }
                });
                skip(regs, 4);
                count(&stats.other);
            } else {
                log::debug!("guest system register access {access:?} not emulated: UNDEF injected");
                vcpu::inject_sync(regs, inject::UNDEFINED, 0);
                count(&stats.injected);
            }
        }
        Exit::Other { ec, iss } => {
            log::warn!("guest exit EC {ec:#x} ISS {iss:#x} not handled: UNDEF injected");
            vcpu::inject_sync(regs, inject::UNDEFINED, 0);
            count(&stats.injected);
        }
    }
    Step::Resume
}

/// A trapped WFI (WFE is not trapped): sleep until a physical interrupt
/// (a kick, a forwarded timer, console input) or the earliest deadline of
/// the guest's armed timers, unless the guest already has an interrupt to
/// take or its interrupts changed.
fn wait_for_interrupt(vm: &Vm, me: usize, gic: &mut CpuGic) {
    let me_bit = 1 << me;
    if gic.has_drained() || gic.wants_sync() || vm.needs_sync.load(Ordering::Acquire) & me_bit != 0
    {
        // Settle first: what drained may make room for what waits.
        settle(vm, me, gic);
    }
    if gic.guest_has_interrupt()
        || vm.needs_sync.load(Ordering::Acquire) & me_bit != 0
        || vm.stopping.load(Ordering::Acquire)
        || vm.deferred_io.load(Ordering::Acquire)
    {
        // Left-over disk work is served on the way back into the guest.
        return;
    }
    let deadline = timer::earliest_guest_deadline();
    if let Some(d) = deadline {
        timer::arm_hyp_timer(d);
    }
    // SAFETY: WFI only waits; it wakes on any pending physical interrupt
    // even though hv runs with interrupts masked. A kick sent after the
    // checks above is pending by then, so it is not missed.
    unsafe { asm!("wfi", options(nomem, nostack)) };
    if deadline.is_some() {
        timer::disarm_hyp_timer();
    }
    // Take what woke us here rather than in one more exit right after
    // entering the guest (a kick, a forwarded timer, console input).
    for _ in 0..WAKE_IRQS {
        let intid = gic::acknowledge();
        if intid == gic::SPURIOUS {
            break;
        }
        handle_physical(vm, me, gic, intid);
    }
}

/// Physical interrupts taken at most after a WFI wakes; any more are taken
/// as exits (the guest must not wait behind an endless stream).
const WAKE_IRQS: u32 = 4;

/// MSR ICC_SGI1R_EL1 (op0 3, op1 0, CRn 12, CRm 11, op2 5).
fn is_sgi1r_write(a: &esr::SysRegAccess) -> bool {
    !a.read && a.op0 == 3 && a.op1 == 0 && a.crn == 12 && a.crm == 11 && a.op2 == 5
}

/// A PSCI/SMCCC call from vCPU `me`, answered by hv-core's PSCI rules.
fn call(vm: &Vm, me: usize, regs: &mut VcpuRegs) -> Step {
    let request = psci::decode(regs.x[0], regs.x[1], regs.x[2], regs.x[3]);
    regs.x[0] = match psci::answer(request, me, &vm.power) {
        Reply::Value(v) => v,
        Reply::Started(t) => {
            vm.kick(me, t);
            status::SUCCESS
        }
        Reply::Off => return Step::Off,
        Reply::SystemOff => return Step::Stop(Outcome::PowerOff),
        Reply::SystemReset if vm.reboot => return Step::Reboot,
        Reply::SystemReset => return Step::Stop(Outcome::Reset),
    };
    Step::Resume
}
