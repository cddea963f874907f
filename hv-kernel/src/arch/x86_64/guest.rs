//! An x86 guest under SVM: its vCPUs (a VMCB and registers each), its RAM
//! behind nested page tables, the port-I/O and MMIO buses its exits
//! reach, its local APICs and I/O APICs, and the exit loop that serves
//! them (IN/OUT, MMIO through hv-core's instruction emulator, CPUID, EFER,
//! HLT, the debug-exit port) and injects the APICs' interrupts. The vCPUs
//! share one [`Machine`]; each runs on its own host CPU, and they start
//! each other with INIT and start-up IPIs as a PC's CPUs do.

use super::host_apic;
use super::host_timer::{take_pending_interrupts, HostTimer};
use super::hpet::Hpet;
use super::machine::{
    ConsoleInput, CpuSlot, Machine, MachineIrq, CPU_RUNNING, CPU_SIPI, CPU_WAIT_FOR_SIPI,
};
use super::mmio_view::{OnBus, Paging, EFER_LMA};
use super::svm::{Gprs, HostSvm};
use crate::arch::tables::{PoolKind, TablePool};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::arch::x86_64::__cpuid_count;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use hv_core::arch::x86_64::mmio_insn::{self, CpuMode, Regs, MAX_LEN};
use hv_core::arch::x86_64::svm::{
    self, ctrl, event_inj, misc1, misc2, save, EventKind, Exit, IoExit, Seg, Vmcb,
};
use hv_core::devices::acpi_pm::{AcpiSleep, PowerRequest};
use hv_core::devices::ioapic::IoApic;
use hv_core::devices::lapic::{IpiDest, Lapic};
use hv_core::mem::{GuestMemory, GuestRam, RamRegion};
use hv_core::mmio::{AccessWidth, MmioBus, MmioDevice};
use hv_core::paging::x86_64::Npt;
use hv_core::paging::{Attrs, PageTable};
use hv_core::pio::PioBus;
use hv_core::{GuestAddress, PhysAddr};
use x86_64::registers::model_specific::Msr;

/// CR0.PE | CR0.ET: protected mode, paging off.
const CR0_PE_ET: u64 = 0x11;
const EFER_MSR: u32 = 0xC000_0080;
const TSC_AUX_MSR: u32 = 0xC000_0103;
/// Segment attribute bits: long (64-bit code) and default size.
const SEG_L: u16 = 1 << 9;
const SEG_DB: u16 = 1 << 10;
/// #GP's, #UD's and NMI's vectors.
const GP_VECTOR: u8 = 13;
const UD_VECTOR: u8 = 6;
const NMI_VECTOR: u8 = 2;
/// CR0 after INIT: CD | NW | ET.
const CR0_INIT: u64 = 0x6000_0010;
/// How often the first vCPU looks for console input while it waits.
const CONSOLE_POLL_NS: u64 = 10_000_000;
/// RFLAGS.IF.
const RFLAGS_IF: u64 = 1 << 9;
/// EVENTINJ / EXITINTINFO: valid, and the type field.
const EVENT_VALID: u64 = 1 << 31;
const EVENT_TYPE: u64 = 7 << 8;
/// The I/O APICs (microvm's two): register bases, 24 inputs each, the
/// second taking GSIs 24-47.
const IOAPIC_BASES: [u64; 2] = [0xfec0_0000, 0xfec1_0000];
pub const IOAPIC_PINS: usize = 24;
const IOAPIC_SIZE: u64 = 0x1000;
/// The isa-debug-exit port QEMU and hv put at 0xf4.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// A static, 2 MiB-aligned area of guest RAM (guest-physical 0 up), handed
/// to one guest: hv allocates no guest RAM from the host's memory map yet.
#[repr(C, align(0x200000))]
pub struct StaticRam<const N: usize> {
    bytes: UnsafeCell<[u8; N]>,
    taken: AtomicBool,
}

// SAFETY: the area is handed to one GuestRam, once (guarded by `taken`),
// and reached only through it and by the guest.
unsafe impl<const N: usize> Sync for StaticRam<N> {}

impl<const N: usize> StaticRam<N> {
    /// An area of `N` bytes (BSS, zero).
    pub const fn new() -> Self {
        StaticRam {
            bytes: UnsafeCell::new([0; N]),
            taken: AtomicBool::new(false),
        }
    }

    /// The area as guest RAM at guest-physical 0, and its host physical
    /// address; `None` after the first call.
    pub fn take(&'static self) -> Option<(GuestRam, u64)> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        let host = NonNull::new(self.bytes.get().cast::<u8>())?;
        // SAFETY: the area is static, N bytes, 2 MiB aligned, and from
        // here on only reached through this GuestRam and by the guest
        // (`taken` makes this the only call that gets here).
        let region = unsafe { RamRegion::from_host(GuestAddress(0), N as u64, host) }.ok()?;
        Some((GuestRam::new(vec![region]).ok()?, host.as_ptr() as u64))
    }
}

/// A page of an I/O or MSR permission map.
#[derive(Clone)]
#[repr(C, align(4096))]
pub struct MapPage(pub [u8; 4096]);

/// An I/O or MSR permission map of `bytes` (whole pages, physically
/// contiguous: one allocation) with every bit set, so every port and MSR
/// access exits. Built page by page, so no map-sized temporary sits on
/// the boot stack.
fn all_intercepted(bytes: usize) -> Box<[MapPage]> {
    vec![MapPage([0xff; 4096]); bytes / 4096].into_boxed_slice()
}

/// How a guest's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// HLT (the guests here halt with interrupts off: for good).
    Halted,
    /// A write to the debug-exit port, with its value.
    DebugExit(u32),
    /// ACPI S5 through the sleep control register.
    PowerOff,
    /// The ACPI reset register.
    Reset,
    /// A triple fault (the SHUTDOWN intercept), at this RIP: a PC resets.
    TripleFault(u64),
    /// Another vCPU failed (its error is in the log).
    CpuFailed(usize),
}

impl Outcome {
    /// Whether this ends the whole guest when one vCPU meets it (a vCPU
    /// that halts for good stops alone, as a PC's CPU does; the boot
    /// vCPU's end is the guest's end in any case).
    fn ends_the_guest(self) -> bool {
        !matches!(self, Outcome::Halted)
    }
}

/// Exits by kind.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// All exits.
    pub exits: u32,
    /// IN/OUT.
    pub io: u32,
    /// Emulated MMIO accesses.
    pub mmio: u32,
    /// CPUID.
    pub cpuid: u32,
    /// RDMSR/WRMSR.
    pub msr: u32,
    /// Exceptions hv injected (#GP for MSRs it does not emulate).
    pub injected: u32,
    /// Interrupts from the local APIC delivered to the guest.
    pub interrupts: u32,
    /// HLTs that waited for the APIC's timer.
    pub halts: u32,
    /// Nanoseconds from the first entry to the end (0 without a clock).
    pub run_ns: u64,
}

impl Stats {
    /// Add another vCPU's counts (not its run time).
    pub fn add(&mut self, o: &Stats) {
        self.exits += o.exits;
        self.io += o.io;
        self.mmio += o.mmio;
        self.cpuid += o.cpuid;
        self.msr += o.msr;
        self.injected += o.injected;
        self.interrupts += o.interrupts;
        self.halts += o.halts;
    }
}

/// The guest's local APIC, shared by its MMIO window and the exit loop.
pub type SharedLapic = Arc<spin::Mutex<Lapic>>;
/// An I/O APIC, likewise.
pub type SharedIoApic = Arc<spin::Mutex<IoApic<IOAPIC_PINS>>>;

/// A device model shared with the exit loop (or the console input), on a
/// bus.
pub struct Shared<D>(pub Arc<spin::Mutex<D>>);

impl<D: MmioDevice> MmioDevice for Shared<D> {
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        self.0.lock().read(offset, width)
    }

    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        self.0.lock().write(offset, width, value);
    }

    fn interrupt_level(&self) -> bool {
        self.0.lock().interrupt_level()
    }
}

/// One vCPU of an x86 guest (the first also builds the machine).
pub struct X86Guest {
    index: usize,
    m: Arc<Machine>,
    vmcb: Box<Vmcb>,
    gprs: Gprs,
    /// The host CPU's timer, when the guest has an APIC.
    host_timer: Option<HostTimer>,
    /// The vector last injected as an external interrupt: an exit during
    /// its delivery reports it in EXITINTINFO as an exception (QEMU's
    /// SVM), which must be turned back before it is injected again.
    last_irq: Option<u8>,
    /// The nested page tables, kept by the first vCPU (which outlives the
    /// others' runs).
    npt: Option<PageTable<Npt, TablePool>>,
    /// The host CPU saves the next RIP (NRIPS).
    nrips: bool,
    /// Counters.
    pub stats: Stats,
}

/// The debug-exit port: remembers the first value written.
struct DebugExit(Arc<AtomicU32>);

/// No value written yet.
const NOT_EXITED: u32 = u32::MAX;

impl MmioDevice for DebugExit {
    fn read(&mut self, _offset: u64, _width: AccessWidth) -> u64 {
        0
    }

    fn write(&mut self, _offset: u64, width: AccessWidth, value: u64) {
        let v = (value & width.mask()) as u32;
        let _ = self
            .0
            .compare_exchange(NOT_EXITED, v, Ordering::AcqRel, Ordering::Acquire);
    }
}

impl X86Guest {
    /// A guest of `vcpus` vCPUs (at least 1) whose RAM `ram`
    /// (guest-physical `[0, ram_size)`, host physical `ram_pa`, 2 MiB
    /// aligned) is mapped by nested page tables from the guest table pool,
    /// with the debug-exit port on its port bus; returns its first vCPU,
    /// to be started in 32-bit protected mode at `rip` with `rbx` (the PVH
    /// entry state: flat segments, paging off). The others come from
    /// [`X86Guest::other_vcpu`] and wait for a start-up IPI.
    pub fn new(
        ram: GuestRam,
        ram_pa: u64,
        ram_size: u64,
        rip: u64,
        rbx: u64,
        vcpus: usize,
    ) -> Result<Self, String> {
        let pool = TablePool::take(PoolKind::Guest).ok_or("the guest table pool is taken")?;
        let mut npt = PageTable::<Npt, TablePool>::new(4, pool)
            .map_err(|e| format!("nested page tables: {e:?}"))?;
        npt.map(GuestAddress(0), PhysAddr(ram_pa), ram_size, Attrs::RWX)
            .map_err(|e| format!("mapping guest RAM: {e:?}"))?;
        let iopm = all_intercepted(svm::IOPM_BYTES);
        let mut msrpm = all_intercepted(svm::MSRPM_BYTES);
        // The MSRs the VMCB holds need no exit.
        for msr in svm::VMCB_HELD_MSRS {
            if let Some((byte, bit)) = svm::msrpm_position(msr) {
                if let Some(page) = msrpm.get_mut(byte / 4096) {
                    page.0[byte % 4096] &= !(0b11 << bit);
                }
            }
        }
        let exited = Arc::new(AtomicU32::new(NOT_EXITED));
        let mut pio = PioBus::new();
        pio.insert(DEBUG_EXIT_PORT, 4, Box::new(DebugExit(exited.clone())))
            .map_err(|e| format!("debug-exit port: {e}"))?;
        let cpus = (0..vcpus.max(1))
            .map(|i| {
                CpuSlot::new(if i == 0 {
                    CPU_RUNNING
                } else {
                    CPU_WAIT_FOR_SIPI
                })
            })
            .collect();
        let m = Arc::new(Machine {
            ram: Arc::new(ram),
            ram_size,
            npt_root: npt.root().raw(),
            iopm,
            msrpm,
            pio: spin::Mutex::new(pio),
            mmio: spin::Mutex::new(MmioBus::new()),
            exited,
            sleep: spin::Once::new(),
            irq: spin::Once::new(),
            console_in: spin::Once::new(),
            cpus,
            end: spin::Mutex::new(None),
            running: AtomicUsize::new(vcpus.max(1)),
            asleep: AtomicUsize::new(0),
            ap_stats: spin::Mutex::new(Stats::default()),
        });
        let mut guest = X86Guest::vcpu(m, 0);
        guest.vmcb.set_u64(save::RIP, rip);
        guest.gprs.0[3] = rbx;
        guest.npt = Some(npt);
        Ok(guest)
    }

    /// vCPU `index` of the machine `m`, in the PVH entry state.
    fn vcpu(m: Arc<Machine>, index: usize) -> X86Guest {
        let mut vmcb = Box::<Vmcb>::default();
        set_up_vmcb(
            &mut vmcb,
            m.npt_root,
            m.iopm.as_ptr() as u64,
            m.msrpm.as_ptr() as u64,
        );
        X86Guest {
            index,
            m,
            vmcb,
            gprs: Gprs::default(),
            host_timer: None,
            last_irq: None,
            npt: None,
            nrips: false,
            stats: Stats::default(),
        }
    }

    /// The guest's vCPU `index` (1 up to the count given to `new`), which
    /// waits for a start-up IPI; None past the count.
    pub fn other_vcpu(&self, index: usize) -> Option<X86Guest> {
        (index > 0 && index < self.m.cpus.len()).then(|| X86Guest::vcpu(self.m.clone(), index))
    }

    /// The guest's vCPUs.
    pub fn vcpus(&self) -> usize {
        self.m.cpus.len()
    }

    /// The port-I/O bus (to attach devices).
    pub fn pio(&self) -> spin::MutexGuard<'_, PioBus> {
        self.m.pio.lock()
    }

    /// The MMIO bus (to attach devices).
    pub fn mmio(&self) -> spin::MutexGuard<'_, MmioBus> {
        self.m.mmio.lock()
    }

    /// Give the guest a local APIC per vCPU (IDs 0 up) at the default base
    /// and microvm's two I/O APICs, the APICs' timers running on `clock`:
    /// hv then injects their interrupts, and with each host CPU's APIC
    /// timer (started by `run`) also stops a guest that runs past its
    /// timer's deadline without exits.
    pub fn attach_lapic(&mut self, clock: Hpet) -> Result<(), String> {
        let ioapics = [0u8, 1].map(|id| Arc::new(spin::Mutex::new(IoApic::new(id))));
        {
            let mut mmio = self.m.mmio.lock();
            for (ioapic, base) in ioapics.iter().zip(IOAPIC_BASES) {
                mmio.insert(
                    GuestAddress(base),
                    IOAPIC_SIZE,
                    Box::new(Shared(ioapic.clone())),
                )
                .map_err(|e| format!("I/O APIC: {e}"))?;
            }
        }
        let lapics = (0..self.m.cpus.len())
            .map(|i| Arc::new(spin::Mutex::new(Lapic::new(i as u8))))
            .collect();
        self.m.irq.call_once(|| MachineIrq {
            lapics,
            ioapics,
            lines: spin::Mutex::new(Vec::new()),
            port_lines: spin::Mutex::new(Vec::new()),
            clock,
        });
        Ok(())
    }

    /// Put the ACPI sleep and reset registers (hv-core `acpi_pm`) at ports
    /// `port`..`port + 3`, resetting on `reset_value`: the guest can then
    /// power off (S5) or reset as the FADT says.
    pub fn attach_acpi_sleep(&mut self, port: u16, reset_value: u8) -> Result<(), String> {
        let sleep = Arc::new(spin::Mutex::new(AcpiSleep::new(reset_value)));
        self.m
            .pio
            .lock()
            .insert(port, 3, Box::new(Shared(sleep.clone())))
            .map_err(|e| format!("ACPI sleep registers: {e}"))?;
        self.m.sleep.call_once(|| sleep);
        Ok(())
    }

    /// The interrupt line of the device at `base` on the MMIO bus drives
    /// `gsi` (after [`X86Guest::attach_lapic`]; GSIs past 47 are ignored).
    pub fn connect_line(&mut self, base: GuestAddress, gsi: u32) {
        if let Some(irq) = self.m.irq.get() {
            irq.lines.lock().push((base, gsi));
        }
    }

    /// The interrupt line of the port-I/O device at `port` drives `gsi`
    /// (the ISA way: COM1 on IRQ 4).
    pub fn connect_port_line(&mut self, port: u16, gsi: u32) {
        if let Some(irq) = self.m.irq.get() {
            irq.port_lines.lock().push((port, gsi));
        }
    }

    /// Hand what is typed on hv's console to the guest through `deliver`
    /// (its UART's receiver; false when full). The first vCPU polls for
    /// it at every exit and, while it waits in HLT, every 10 ms.
    pub fn attach_console_input(&mut self, deliver: Box<dyn FnMut(u8) -> bool + Send>) {
        self.m.console_in.call_once(|| {
            spin::Mutex::new(ConsoleInput {
                deliver,
                held: None,
            })
        });
    }

    /// Pass console input on (the first vCPU only).
    fn poll_console(&self) {
        let (0, Some(input)) = (self.index, self.m.console_in.get()) else {
            return;
        };
        let mut input = input.lock();
        loop {
            let Some(byte) = input.held.take().or_else(super::console_byte) else {
                return;
            };
            if !(input.deliver)(byte) {
                input.held = Some(byte);
                return;
            }
        }
    }

    /// The time the wait of this vCPU must end by: `deadline`, or sooner
    /// for the first vCPU when console input must be polled.
    fn wake_by(&self, deadline: Option<u64>) -> Option<u64> {
        let (0, Some(_), Some(irq)) = (self.index, self.m.console_in.get(), self.m.irq.get())
        else {
            return deadline;
        };
        let poll = irq.clock.now_ns() + CONSOLE_POLL_NS;
        Some(deadline.map_or(poll, |d| d.min(poll)))
    }

    /// The guest's RAM (for devices that DMA into it).
    pub fn ram(&self) -> &Arc<GuestRam> {
        &self.m.ram
    }

    /// This vCPU's local APIC, if the guest has APICs.
    fn lapic(&self) -> Option<&SharedLapic> {
        self.m.irq.get().map(|irq| &irq.lapics[self.index])
    }

    /// Run this vCPU until the guest ends (it powers off, resets, writes
    /// the debug-exit port, triple-faults, or another vCPU ended it) or,
    /// for a vCPU other than the first, until it halts for good; at most
    /// `max_exits` exits (a guest that never stops is an error, not a hang
    /// of hv). The first vCPU returns how the guest ended, after the
    /// others have left it.
    pub fn run(&mut self, svm: &mut HostSvm, max_exits: u32) -> Result<Outcome, String> {
        let me = self.index;
        self.nrips = svm.nrips;
        if let (Some(irq), None) = (self.m.irq.get(), self.host_timer) {
            self.host_timer = HostTimer::start(&irq.clock)
                .map_err(|e| log::warn!("{e}: guests that spin without exits miss their timer"))
                .ok();
        }
        self.m.cpus[me]
            .host_apic
            .store(host_apic::id(), Ordering::Release);
        let result = self.exit_loop(svm, max_exits);
        if let Some(t) = self.host_timer {
            t.disarm();
        }
        self.m.cpus[me].host_apic.store(u32::MAX, Ordering::Release);
        match &result {
            Ok(end) if me == 0 || end.ends_the_guest() => self.m.end_with(*end, me),
            Ok(_) => {}
            Err(e) => {
                if me != 0 {
                    log::error!("x86 guest: vCPU {me}: {e}");
                }
                self.m.end_with(Outcome::CpuFailed(me), me);
            }
        }
        self.m.running.fetch_sub(1, Ordering::AcqRel);
        if me != 0 {
            self.m.ap_stats.lock().add(&self.stats);
        } else {
            self.wait_for_the_others();
            self.stats.add(&self.m.ap_stats.lock());
        }
        result
    }

    /// The first vCPU, at the end: let the others leave the guest (they
    /// were kicked) before its memory goes; at most about a second.
    fn wait_for_the_others(&self) {
        let clock = self.m.irq.get().map(|i| i.clock);
        let start = clock.map_or(0, |c| c.now_ns());
        while self.m.running.load(Ordering::Acquire) > 0 {
            if clock.is_none_or(|c| c.now_ns() - start > 1_000_000_000) {
                log::warn!("x86 guest: a vCPU did not stop");
                return;
            }
            for i in 1..self.m.cpus.len() {
                self.m.kick(i);
            }
            for _ in 0..10_000 {
                core::hint::spin_loop();
            }
        }
    }

    fn exit_loop(&mut self, svm: &mut HostSvm, max_exits: u32) -> Result<Outcome, String> {
        for _ in 0..max_exits {
            if let Some(end) = self.m.ended() {
                return Ok(end);
            }
            // INIT sends the boot CPU to the firmware's reset vector: for
            // a guest with no firmware, a reset.
            if self.index == 0 && self.m.cpus[0].init.swap(false, Ordering::AcqRel) {
                return Ok(Outcome::Reset);
            }
            if !self.start_up()? {
                continue;
            }
            self.poll_console();
            self.deliver_interrupt();
            self.arm_host_timer();
            let exit = svm.run(&mut self.vmcb, &mut self.gprs);
            self.stats.exits += 1;
            self.vmcb.set_u8(ctrl::TLB_CONTROL, 0);
            self.requeue_interrupted_event();
            match exit {
                Exit::Io(io) if !io.string => {
                    self.port_io(io);
                    self.stats.io += 1;
                    let code = self.m.exited.load(Ordering::Acquire);
                    if code != NOT_EXITED {
                        return Ok(Outcome::DebugExit(code));
                    }
                    match self.m.sleep.get().and_then(|s| s.lock().take_request()) {
                        Some(PowerRequest::Off) => return Ok(Outcome::PowerOff),
                        Some(PowerRequest::Reset) => return Ok(Outcome::Reset),
                        None => {}
                    }
                }
                Exit::Npf(f) if f.final_address && !f.fetch => {
                    match self.emulate_mmio(f.gpa) {
                        Ok(()) => self.stats.mmio += 1,
                        // As KVM does for a guest's user code when its
                        // emulator fails: #UD, which the guest's own handler
                        // reports (hv has no VMM to hand the error to).
                        Err(e) => self.undefined(format_args!("MMIO at {:#x}: {e}", f.gpa)),
                    }
                    self.route_ipis();
                }
                // Nothing executable outside RAM (QEMU TCG would run the
                // zeros an unassigned address reads as).
                Exit::Npf(f) if f.final_address => {
                    self.undefined(format_args!("instruction fetch from {:#x}, not RAM", f.gpa))
                }
                Exit::Shutdown => {
                    log::warn!(
                        "x86 guest: vCPU {} shut down (triple fault) at RIP {:#x}, CR0 {:#x}, CR3 {:#x}, CR4 {:#x}, EFER {:#x}, CS {:#x}",
                        self.index,
                        self.rip(),
                        self.vmcb.u64(save::CR0),
                        self.vmcb.u64(save::CR3),
                        self.vmcb.u64(save::CR4),
                        self.vmcb.u64(save::EFER),
                        self.vmcb.seg(save::CS).selector
                    );
                    return Ok(Outcome::TripleFault(self.rip()));
                }
                Exit::Cpuid => {
                    self.cpuid();
                    self.stats.cpuid += 1;
                }
                Exit::Msr { write } => {
                    self.msr(write)?;
                    self.stats.msr += 1;
                }
                Exit::Hlt => {
                    if !self.wait_for_interrupt()? {
                        return Ok(Outcome::Halted);
                    }
                }
                // The window hv asked for is open: the next entry injects.
                Exit::Vintr => self.close_interrupt_window(),
                // The host timer, a kick from another vCPU (or another host
                // interrupt): let the host take it; the guest's own
                // interrupt is injected next.
                Exit::Intr => take_pending_interrupts(),
                other => {
                    return Err(format!(
                        "unexpected exit {other:?} at RIP {:#x}",
                        self.rip()
                    ))
                }
            }
        }
        Err(format!("the guest did not stop within {max_exits} exits"))
    }

    /// INIT and start-up IPIs (SDM vol. 3, 9.4.4): after an INIT, and
    /// from power-on for all vCPUs but the first, wait (while the guest
    /// runs) for a start-up IPI, then start in real mode at the page it
    /// names. False if the guest ended meanwhile; an error if no vCPU is
    /// left to send one.
    fn start_up(&mut self) -> Result<bool, String> {
        let slot = &self.m.cpus[self.index];
        if slot.init.swap(false, Ordering::AcqRel) {
            let _ = slot.state.compare_exchange(
                CPU_RUNNING,
                CPU_WAIT_FOR_SIPI,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
        if slot.state.load(Ordering::Acquire) == CPU_RUNNING {
            return Ok(true);
        }
        if !self.m.fall_asleep() {
            return Err("waiting for a start-up IPI that no vCPU is left to send".into());
        }
        while slot.state.load(Ordering::Acquire) != CPU_SIPI {
            if self.m.ended().is_some() {
                self.m.wake_up();
                return Ok(false);
            }
            self.idle(None);
        }
        self.m.wake_up();
        // The INIT that led here (it may have come while this vCPU already
        // waited) is used up.
        slot.init.store(false, Ordering::Release);
        let vector = slot.sipi_vector.load(Ordering::Relaxed);
        set_up_real_mode(&mut self.vmcb, vector);
        self.gprs = Gprs::default();
        self.last_irq = None;
        slot.state.store(CPU_RUNNING, Ordering::Release);
        log::info!(
            "x86 guest: vCPU {} starts at {:#x}",
            self.index,
            u64::from(vector) << 12
        );
        Ok(true)
    }

    /// Wait for a host interrupt (a kick from another vCPU, or the host
    /// timer armed for `deadline`, on the clock's ns) with the host CPU
    /// halted; without a host timer, a short spin.
    fn idle(&self, deadline: Option<u64>) {
        let clock = self.m.irq.get().map(|i| i.clock);
        match (self.host_timer, clock) {
            (Some(t), Some(c)) => {
                match deadline {
                    Some(d) => t.arm_in(d.saturating_sub(c.now_ns())),
                    None => t.disarm(),
                }
                // SAFETY: STI's shadow keeps an interrupt that is already
                // pending from arriving before HLT starts, so none is lost
                // (the caller checked its condition with interrupts off);
                // the host timer's and the kick's handler only
                // acknowledge the APIC and return.
                unsafe { core::arch::asm!("sti", "hlt", "cli", options(nomem, nostack)) };
            }
            _ => {
                for _ in 0..1_000 {
                    core::hint::spin_loop();
                }
            }
        }
    }

    /// IPIs this vCPU's APIC sent, to their targets (an INIT de-assert
    /// changes nothing).
    fn route_ipis(&mut self) {
        let Some(lapic) = self.lapic() else {
            return;
        };
        loop {
            let Some(ipi) = lapic.lock().take_ipi() else {
                return;
            };
            if ipi.mode == 5 && !ipi.assert {
                continue;
            }
            self.m
                .deliver(self.index, ipi.mode, ipi.vector, false, ipi.dest);
        }
    }

    /// Device lines into the I/O APICs, and what they deliver to its
    /// targets.
    fn sample_lines(&self, irq: &MachineIrq) {
        // Runs before every entry: no allocation. A bus lock is held while
        // an I/O APIC's is taken, the order an MMIO access to an I/O APIC
        // (through the bus) takes them too.
        let set = |gsi: u32, level: bool| {
            let pin = gsi as usize;
            if let Some(io) = irq.ioapics.get(pin / IOAPIC_PINS) {
                io.lock().set_level(pin % IOAPIC_PINS, level);
            }
        };
        {
            let mmio = self.m.mmio.lock();
            for &(base, gsi) in irq.lines.lock().iter() {
                set(gsi, mmio.interrupt_level_at(base).is_some_and(|(_, l)| l));
            }
        }
        {
            let pio = self.m.pio.lock();
            for &(port, gsi) in irq.port_lines.lock().iter() {
                set(gsi, pio.interrupt_level_at(port) == Some(true));
            }
        }
        for io in &irq.ioapics {
            loop {
                let Some(d) = io.lock().take_delivery() else {
                    break;
                };
                let dest = IpiDest::Field {
                    dest: d.dest,
                    logical: d.logical,
                };
                self.m.deliver(self.index, d.mode, d.vector, d.level, dest);
            }
        }
    }

    /// Before an entry: bring the APIC up to date, feed the device lines
    /// through the I/O APICs, and inject a pending NMI or the APIC's
    /// highest interrupt when the guest can take one (RFLAGS.IF set, no
    /// interrupt shadow, no other event queued), else ask for an exit when
    /// it can (V_IRQ with the VINTR intercept).
    fn deliver_interrupt(&mut self) {
        let Some(irq) = self.m.irq.get() else {
            return;
        };
        {
            let mut lapic = irq.lapics[self.index].lock();
            lapic.advance_to(irq.clock.now_ns());
            // Level-triggered EOIs back to the I/O APICs.
            while let Some(v) = lapic.take_level_eoi() {
                for io in &irq.ioapics {
                    io.lock().eoi(v);
                }
            }
        }
        self.sample_lines(irq);
        let queued = self.vmcb.u64(ctrl::EVENT_INJ) & EVENT_VALID != 0;
        if !queued && self.m.cpus[self.index].nmi.swap(false, Ordering::AcqRel) {
            self.vmcb
                .set_u64(ctrl::EVENT_INJ, event_inj(NMI_VECTOR, EventKind::Nmi, None));
            return;
        }
        let mut lapic = irq.lapics[self.index].lock();
        let Some(vector) = lapic.pending_vector() else {
            return;
        };
        let can_take = self.vmcb.u64(save::RFLAGS) & RFLAGS_IF != 0
            && self.vmcb.u64(ctrl::INT_STATE) & 1 == 0
            && !queued;
        if can_take {
            self.vmcb.set_u64(
                ctrl::EVENT_INJ,
                event_inj(vector, EventKind::ExternalInterrupt, None),
            );
            lapic.acknowledge(vector);
            self.last_irq = Some(vector);
            self.stats.interrupts += 1;
        } else {
            let ctl = self.vmcb.u32(ctrl::INT_CTL);
            self.vmcb.set_u32(ctrl::INT_CTL, ctl | svm::V_IRQ);
            let m = self.vmcb.u32(ctrl::INTERCEPT_MISC1);
            self.vmcb.set_u32(ctrl::INTERCEPT_MISC1, m | misc1::VINTR);
        }
    }

    /// Before an entry: have the host timer fire at the guest APIC's next
    /// deadline (or not at all).
    fn arm_host_timer(&self) {
        let (Some(irq), Some(t)) = (self.m.irq.get(), self.host_timer) else {
            return;
        };
        match irq.lapics[self.index].lock().next_deadline() {
            Some(deadline) => t.arm_in(deadline.saturating_sub(irq.clock.now_ns())),
            None => t.disarm(),
        }
    }

    fn close_interrupt_window(&mut self) {
        let ctl = self.vmcb.u32(ctrl::INT_CTL);
        self.vmcb.set_u32(ctrl::INT_CTL, ctl & !svm::V_IRQ);
        let m = self.vmcb.u32(ctrl::INTERCEPT_MISC1);
        self.vmcb.set_u32(ctrl::INTERCEPT_MISC1, m & !misc1::VINTR);
    }

    /// After an exit: an event whose delivery the exit interrupted (e.g.
    /// a nested page fault on the guest's stack) is in EXITINTINFO and
    /// must be delivered again. QEMU's SVM labels an interrupted external
    /// interrupt as an exception: the vector hv last injected as an
    /// interrupt goes back as one.
    fn requeue_interrupted_event(&mut self) {
        let info = self.vmcb.u64(ctrl::EXIT_INT_INFO);
        self.vmcb.set_u64(ctrl::EVENT_INJ, 0);
        if info & EVENT_VALID == 0 {
            return;
        }
        let vector = info as u8;
        let mut event = info;
        if vector >= 32 && self.last_irq == Some(vector) {
            event = (event & !EVENT_TYPE) | ((EventKind::ExternalInterrupt as u64) << 8);
        }
        self.vmcb.set_u64(ctrl::EVENT_INJ, event);
    }

    /// HLT: with interrupts on and an APIC, wait (the host CPU halted
    /// until its timer or a kick) until the APIC has an interrupt or an
    /// NMI is due, then go on past the HLT; returns false when the guest
    /// halted for good (interrupts off, or no APIC). An HLT nothing could
    /// ever end (no timer armed, and no other vCPU awake) is an error, not
    /// a hang; an INIT or the guest's end leaves the HLT to the exit loop.
    fn wait_for_interrupt(&mut self) -> Result<bool, String> {
        let interrupts_on = self.vmcb.u64(save::RFLAGS) & RFLAGS_IF != 0;
        let Some(irq) = self.m.irq.get().filter(|_| interrupts_on) else {
            return Ok(false);
        };
        self.stats.halts += 1;
        let slot = &self.m.cpus[self.index];
        loop {
            if self.m.ended().is_some() || slot.init.load(Ordering::Acquire) {
                return Ok(true);
            }
            self.poll_console();
            self.sample_lines(irq);
            let deadline = {
                let mut lapic = irq.lapics[self.index].lock();
                lapic.advance_to(irq.clock.now_ns());
                if lapic.pending_vector().is_some() || slot.nmi.load(Ordering::Acquire) {
                    break;
                }
                self.wake_by(lapic.next_deadline())
            };
            if deadline.is_none() {
                // Only another vCPU can end this HLT.
                if !self.m.fall_asleep() {
                    return Err(format!(
                        "the guest halted at RIP {:#x} with interrupts on and nothing to wake it",
                        self.rip()
                    ));
                }
                self.idle(None);
                self.m.wake_up();
            } else {
                self.idle(deadline);
            }
        }
        // The HLT is done: an STI shadow it sat in ends with it, and the
        // interrupt is taken right after it (before a following CLI).
        self.skip(1);
        let state = self.vmcb.u64(ctrl::INT_STATE);
        self.vmcb.set_u64(ctrl::INT_STATE, state & !1);
        Ok(true)
    }

    fn rip(&self) -> u64 {
        self.vmcb.u64(save::RIP)
    }

    /// Past the intercepted instruction: to the next RIP the CPU saved
    /// where it offers NRIPS, else `len` bytes on (CPUID, RDMSR and WRMSR
    /// are 2, HLT 1, without prefixes; QEMU's SVM saves no next RIP).
    fn skip(&mut self, len: u64) {
        let rip = if self.nrips {
            self.vmcb.u64(ctrl::NEXT_RIP)
        } else {
            self.rip().wrapping_add(len)
        };
        self.vmcb.set_u64(save::RIP, rip);
    }

    /// IN or OUT through the port-I/O bus: IN AL and AX keep the rest of
    /// RAX, IN EAX zero-extends (as the CPU writes registers).
    fn port_io(&mut self, io: IoExit) {
        let width = AccessWidth::from_bytes(u64::from(io.size)).unwrap_or(AccessWidth::Byte);
        let rax = self.vmcb.u64(save::RAX);
        if io.input {
            let v = self.m.pio.lock().read(io.port, width);
            let keep = match io.size {
                1 => !0xff,
                2 => !0xffff,
                _ => 0,
            };
            self.vmcb.set_u64(save::RAX, (rax & keep) | v);
        } else if !self.m.pio.lock().write(io.port, width, rax & width.mask()) {
            log::debug!("x86 guest: OUT to unclaimed port {:#x}", io.port);
        }
        self.vmcb.set_u64(save::RIP, io.next_rip);
    }

    /// CPUID: the host's answer, with SVM hidden (leaf 0x8000_0001 ECX
    /// bit 2), x2APIC and TSC-deadline hidden (leaf 1 ECX bits 21 and 24:
    /// hv's APIC is an xAPIC with one-shot and periodic timers), and the
    /// hypervisor bit set (leaf 1 ECX bit 31).
    fn cpuid(&mut self) {
        let leaf = self.vmcb.u64(save::RAX) as u32;
        let sub = self.gprs.0[1] as u32;
        let mut r = __cpuid_count(leaf, sub);
        // The vCPU's APIC ID where CPUID reports one: vCPU n's APIC is n.
        let apic_id = self.index as u32;
        match leaf {
            // x2APIC and TSC-deadline: the APIC model offers neither.
            1 => {
                r.ecx = (r.ecx & !(1 << 21) & !(1 << 24)) | (1 << 31);
                r.ebx = (r.ebx & 0x00ff_ffff) | (apic_id << 24);
            }
            0xb | 0x1f => r.edx = apic_id,
            0x8000_0001 => r.ecx &= !(1 << 2),
            _ => {}
        }
        self.vmcb.set_u64(save::RAX, u64::from(r.eax));
        self.gprs.0[3] = u64::from(r.ebx);
        self.gprs.0[1] = u64::from(r.ecx);
        self.gprs.0[2] = u64::from(r.edx);
        self.skip(2);
    }

    /// RDMSR/WRMSR: EFER, which the guest sees without SVME (SVM needs it
    /// set in the VMCB's copy), and TSC_AUX. The MSRs the VMCB holds never
    /// exit (`svm::VMCB_HELD_MSRS`). Any other MSR gets #GP(0), as on a
    /// CPU without it: the instruction does not complete.
    fn msr(&mut self, write: bool) -> Result<(), String> {
        let msr = self.gprs.0[1] as u32;
        let value = (self.vmcb.u64(save::RAX) & 0xffff_ffff) | (self.gprs.0[2] << 32);
        let read = match (msr, write) {
            (EFER_MSR, true) => {
                self.vmcb.set_u64(save::EFER, value | svm::EFER_SVME);
                None
            }
            (EFER_MSR, false) => Some(self.vmcb.u64(save::EFER) & !svm::EFER_SVME),
            // RDTSCP and RDPID read TSC_AUX without an exit, from the host
            // CPU's own register: vCPU n always runs on host CPU n, and hv
            // does not use TSC_AUX, so the guest's value lives there
            // (Linux keeps its CPU number in it; an AP that gets #GP for
            // it triple-faults).
            (TSC_AUX_MSR, true) => {
                // SAFETY: TSC_AUX only feeds RDTSCP/RDPID, which hv does
                // not use; its high half is reserved, so only the low one
                // is written.
                unsafe { Msr::new(TSC_AUX_MSR).write(value & 0xffff_ffff) };
                None
            }
            // SAFETY: reading TSC_AUX has no side effect; the CPU has it
            // (CPUID offers RDTSCP, or the guest would not ask).
            (TSC_AUX_MSR, false) => Some(unsafe { Msr::new(TSC_AUX_MSR).read() }),
            _ => {
                log::debug!(
                    "x86 guest: vCPU {}: {} of MSR {msr:#x} at RIP {:#x}: #GP",
                    self.index,
                    if write { "WRMSR" } else { "RDMSR" },
                    self.rip()
                );
                self.vmcb.set_u64(
                    ctrl::EVENT_INJ,
                    event_inj(GP_VECTOR, EventKind::Exception, Some(0)),
                );
                self.stats.injected += 1;
                return Ok(());
            }
        };
        if let Some(v) = read {
            self.vmcb.set_u64(save::RAX, v & 0xffff_ffff);
            self.gprs.0[2] = v >> 32;
        }
        self.skip(2);
        Ok(())
    }

    /// How the guest translates linear addresses now.
    fn paging(&self) -> Paging {
        Paging {
            cr0: self.vmcb.u64(save::CR0),
            cr3: self.vmcb.u64(save::CR3),
            efer: self.vmcb.u64(save::EFER),
        }
    }

    /// Give the guest #UD for an instruction hv cannot carry out (`why`,
    /// logged).
    fn undefined(&mut self, why: core::fmt::Arguments) {
        log::warn!("x86 guest: {why}: #UD at RIP {:#x}", self.rip());
        self.vmcb.set_u64(
            ctrl::EVENT_INJ,
            event_inj(UD_VECTOR, EventKind::Exception, None),
        );
        self.stats.injected += 1;
    }

    /// Emulate the instruction at the guest's RIP, which faulted on
    /// `gpa`: fetch its bytes (page by page), decode them for the
    /// guest's mode, run it on its registers and the MMIO bus.
    fn emulate_mmio(&mut self, gpa: u64) -> Result<(), String> {
        let cs = self.vmcb.seg(save::CS);
        let long = self.vmcb.u64(save::EFER) & EFER_LMA != 0 && cs.attrib & SEG_L != 0;
        let mode = if long {
            CpuMode::Long64
        } else if cs.attrib & SEG_DB != 0 {
            CpuMode::Protected32
        } else {
            return Err("MMIO from 16-bit guest code is not emulated".into());
        };
        let rip = self.rip();
        let va = if long { rip } else { cs.base.wrapping_add(rip) };
        let mut bytes = [0u8; MAX_LEN];
        let mut n = 0;
        while n < MAX_LEN {
            let at = va.wrapping_add(n as u64);
            let pa = self.paging().linear_to_gpa(&self.m.ram, at)?;
            // Up to the page end, and within RAM.
            let chunk = (0x1000 - (at & 0xfff))
                .min((MAX_LEN - n) as u64)
                .min(self.m.ram_size.saturating_sub(pa)) as usize;
            if chunk == 0 {
                break;
            }
            self.m
                .ram
                .read(GuestAddress(pa), &mut bytes[n..n + chunk])
                .map_err(|e| format!("fetching the instruction at {pa:#x}: {e:?}"))?;
            n += chunk;
        }
        let insn = mmio_insn::decode(&bytes[..n], mode)
            .map_err(|e| format!("instruction at RIP {rip:#x}: {e}"))?;
        let mut regs = Regs {
            gpr: self.gprs.0,
            rip,
            rflags: self.vmcb.u64(save::RFLAGS),
        };
        regs.gpr[0] = self.vmcb.u64(save::RAX);
        regs.gpr[4] = self.vmcb.u64(save::RSP);
        let seg = |at| self.vmcb.seg(at).base;
        // Segment bases in mmio_insn::Segment order; in 64-bit mode only
        // FS and GS have one.
        let bases = if long {
            [0, 0, 0, 0, seg(save::FS), seg(save::GS)]
        } else {
            [save::ES, save::CS, save::SS, save::DS, save::FS, save::GS].map(seg)
        };
        let paging = self.paging();
        let m = self.m.clone();
        let mut bus = m.mmio.lock();
        let mut on_bus = OnBus {
            bus: &mut bus,
            lapic: m.irq.get().map(|irq| &irq.lapics[self.index]),
            gpa,
            ram: &m.ram,
            ram_size: m.ram_size,
            paging,
            bases,
        };
        insn.emulate(&mut regs, &mut on_bus)?;
        drop(bus);
        self.gprs.0 = regs.gpr;
        self.vmcb.set_u64(save::RAX, regs.gpr[0]);
        self.vmcb.set_u64(save::RSP, regs.gpr[4]);
        self.vmcb.set_u64(save::RIP, regs.rip);
        self.vmcb.set_u64(save::RFLAGS, regs.rflags);
        Ok(())
    }
}

impl Drop for X86Guest {
    /// A guest that is gone has no timer for the host to keep.
    fn drop(&mut self) {
        if let Some(t) = self.host_timer {
            t.disarm();
        }
    }
}

/// The state INIT and a start-up IPI with `vector` leave a CPU in (SDM
/// vol. 3, table 10-1; APM vol. 2, 14.1.3): real mode, CS = vector << 8
/// (base vector << 12), IP 0, other segments at 0 with 64 KiB limits,
/// CR0 = CD | NW | ET, no paging, EFER with only SVME (which SVM needs).
fn set_up_real_mode(v: &mut Vmcb, vector: u8) {
    set_entry_state(
        v,
        Seg::real_mode(u16::from(vector) << 8, true),
        Seg::real_mode(0, false),
        CR0_INIT,
    );
    v.set_u64(save::CR3, 0);
    v.set_u64(save::CR4, 0);
    v.set_u64(save::RIP, 0);
    v.set_u64(save::RSP, 0);
    v.set_u64(save::RAX, 0);
    v.set_u8(save::CPL, 0);
    v.set_u64(ctrl::EVENT_INJ, 0);
    v.set_u8(ctrl::TLB_CONTROL, svm::TLB_FLUSH_ALL);
}

/// What both entry states share: `cs` and `data` in the segment
/// registers, descriptor tables at 0 with 64 KiB limits, an LDT and a
/// busy TSS as after reset, EFER with only SVME (which SVM needs), `cr0`,
/// and RFLAGS and the debug registers at their reset values.
fn set_entry_state(v: &mut Vmcb, cs: Seg, data: Seg, cr0: u64) {
    v.set_seg(save::CS, cs);
    for s in [save::DS, save::ES, save::SS, save::FS, save::GS] {
        v.set_seg(s, data);
    }
    let table = Seg {
        limit: 0xffff,
        ..Seg::default()
    };
    v.set_seg(save::GDTR, table);
    v.set_seg(save::IDTR, table);
    v.set_seg(save::LDTR, Seg::system(0x2, 0xffff));
    v.set_seg(save::TR, Seg::system(0xB, 0xffff));
    v.set_u64(save::EFER, svm::EFER_SVME);
    v.set_u64(save::CR0, cr0);
    v.set_u64(save::RFLAGS, 0x2);
    v.set_u64(save::DR6, 0xffff_0ff0);
    v.set_u64(save::DR7, 0x400);
}

/// A VMCB for a guest entering 32-bit flat protected mode with paging
/// off (the PVH entry state), nested paging with `npt_root`, every I/O
/// port, MSR, HLT, CPUID and interrupt intercepted.
fn set_up_vmcb(v: &mut Vmcb, npt_root: u64, iopm: u64, msrpm: u64) {
    v.set_u32(
        ctrl::INTERCEPT_MISC1,
        misc1::INTR
            | misc1::NMI
            | misc1::CPUID
            | misc1::HLT
            | misc1::IOIO_PROT
            | misc1::MSR_PROT
            | misc1::SHUTDOWN,
    );
    v.set_u32(
        ctrl::INTERCEPT_MISC2,
        misc2::VMRUN | misc2::VMMCALL | misc2::SVM_INSNS,
    );
    v.set_u64(ctrl::IOPM_BASE_PA, iopm);
    v.set_u64(ctrl::MSRPM_BASE_PA, msrpm);
    v.set_u32(ctrl::ASID, 1);
    v.set_u8(ctrl::TLB_CONTROL, svm::TLB_FLUSH_ALL);
    v.set_u32(ctrl::INT_CTL, svm::V_INTR_MASKING);
    v.set_u64(ctrl::MISC_CTL, svm::NP_ENABLE);
    v.set_u64(ctrl::N_CR3, npt_root);
    set_entry_state(
        v,
        Seg::flat32(0x08, true),
        Seg::flat32(0x10, false),
        CR0_PE_ET,
    );
    v.set_u64(save::G_PAT, svm::DEFAULT_PAT);
}
