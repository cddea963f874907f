//! An x86 guest under SVM: its VMCB and registers, its RAM behind nested
//! page tables, the port-I/O and MMIO buses its exits reach, its local
//! APIC, and the exit loop that serves them (IN/OUT, MMIO through
//! hv-core's instruction emulator, CPUID, EFER, HLT, the debug-exit port)
//! and injects the APIC's interrupts.

use super::host_timer::{take_pending_interrupts, HostTimer};
use super::hpet::Hpet;
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
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use hv_core::arch::x86_64::mmio_insn::{self, CpuMode, MmioAccess, Regs, Segment, MAX_LEN};
use hv_core::arch::x86_64::svm::{
    self, ctrl, event_inj, misc1, misc2, save, EventKind, Exit, IoExit, Seg, Vmcb,
};
use hv_core::devices::acpi_pm::{AcpiSleep, PowerRequest};
use hv_core::devices::ioapic::IoApic;
use hv_core::devices::lapic::Lapic;
use hv_core::mem::{GuestMemory, GuestRam, RamRegion};
use hv_core::mmio::{AccessWidth, BusError, MmioBus, MmioDevice};
use hv_core::paging::x86_64::Npt;
use hv_core::paging::{self, Attrs, PageTable};
use hv_core::pio::PioBus;
use hv_core::{GuestAddress, PhysAddr};

/// CR0.PE | CR0.ET: protected mode, paging off.
const CR0_PE_ET: u64 = 0x11;
const CR0_PG: u64 = 1 << 31;
const EFER_LMA: u64 = 1 << 10;
const EFER_MSR: u32 = 0xC000_0080;
/// Segment attribute bits: long (64-bit code) and default size.
const SEG_L: u16 = 1 << 9;
const SEG_DB: u16 = 1 << 10;
/// #GP's and #UD's vectors.
const GP_VECTOR: u8 = 13;
const UD_VECTOR: u8 = 6;
/// RFLAGS.IF.
const RFLAGS_IF: u64 = 1 << 9;
/// EVENTINJ / EXITINTINFO: valid, and the type field.
const EVENT_VALID: u64 = 1 << 31;
const EVENT_TYPE: u64 = 7 << 8;
/// Where the local APIC is (xAPIC default base) and its size.
pub const LAPIC_BASE: u64 = 0xfee0_0000;
const LAPIC_SIZE: u64 = 0x1000;
/// The I/O APICs (microvm's two): register bases, 24 inputs each, the
/// second taking GSIs 24-47.
const IOAPIC_BASES: [u64; 2] = [0xfec0_0000, 0xfec1_0000];
const IOAPIC_PINS: usize = 24;
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
struct MapPage([u8; 4096]);

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

/// The guest's local APIC, shared by its MMIO window and the exit loop.
type SharedLapic = Arc<spin::Mutex<Lapic>>;
/// An I/O APIC, likewise.
type SharedIoApic = Arc<spin::Mutex<IoApic<IOAPIC_PINS>>>;

/// A device model shared with the exit loop, on the MMIO bus.
struct Shared<D>(Arc<spin::Mutex<D>>);

impl<D: MmioDevice> MmioDevice for Shared<D> {
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        self.0.lock().read(offset, width)
    }

    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        self.0.lock().write(offset, width, value);
    }
}

/// A local APIC, the clock its timer runs on, and the host timer that
/// makes a guest that runs without exits stop when its timer is due.
struct Interrupts {
    lapic: SharedLapic,
    ioapics: [SharedIoApic; 2],
    /// Device interrupt lines: the device's MMIO base and its GSI.
    lines: Vec<(GuestAddress, u32)>,
    /// Port-I/O devices' interrupt lines: a port of the device and its GSI.
    port_lines: Vec<(u16, u32)>,
    clock: Hpet,
    host_timer: Option<HostTimer>,
    /// The vector last injected as an external interrupt: an exit during
    /// its delivery reports it in EXITINTINFO as an exception (QEMU's
    /// SVM), which must be turned back before it is injected again.
    last_irq: Option<u8>,
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

/// An x86 guest.
pub struct X86Guest {
    vmcb: Box<Vmcb>,
    gprs: Gprs,
    ram: Arc<GuestRam>,
    ram_size: u64,
    /// Devices on ports.
    pub pio: PioBus,
    /// Devices on guest-physical addresses that are not RAM.
    pub mmio: MmioBus,
    exited: Arc<AtomicU32>,
    sleep: Option<Arc<spin::Mutex<AcpiSleep>>>,
    irq: Option<Interrupts>,
    /// Kept alive while the guest runs (the CPU reads them).
    _npt: PageTable<Npt, TablePool>,
    _iopm: Box<[MapPage]>,
    _msrpm: Box<[MapPage]>,
    /// Counters.
    pub stats: Stats,
}

impl X86Guest {
    /// A guest whose RAM `ram` (guest-physical `[0, ram_size)`, host
    /// physical `ram_pa`, 2 MiB aligned) is mapped by nested page tables
    /// from the guest table pool, with the debug-exit port on its port
    /// bus, to be started in 32-bit protected mode at `rip` with `rbx`
    /// (the PVH entry state: flat segments, paging off).
    pub fn new(
        ram: GuestRam,
        ram_pa: u64,
        ram_size: u64,
        rip: u64,
        rbx: u64,
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
        let mut vmcb = Box::<Vmcb>::default();
        set_up_vmcb(
            &mut vmcb,
            npt.root().raw(),
            iopm.as_ptr() as u64,
            msrpm.as_ptr() as u64,
        );
        vmcb.set_u64(save::RIP, rip);
        let mut gprs = Gprs::default();
        gprs.0[3] = rbx;
        let exited = Arc::new(AtomicU32::new(NOT_EXITED));
        let mut pio = PioBus::new();
        pio.insert(DEBUG_EXIT_PORT, 4, Box::new(DebugExit(exited.clone())))
            .map_err(|e| format!("debug-exit port: {e}"))?;
        Ok(X86Guest {
            vmcb,
            gprs,
            ram: Arc::new(ram),
            ram_size,
            pio,
            mmio: MmioBus::new(),
            exited,
            sleep: None,
            irq: None,
            _npt: npt,
            _iopm: iopm,
            _msrpm: msrpm,
            stats: Stats::default(),
        })
    }

    /// Give the guest a local APIC (ID 0) at its default base and
    /// microvm's two I/O APICs, the APIC's timer running on `clock`: hv
    /// then injects their interrupts, and with
    /// `host_timer` also stops a guest that runs past its timer's deadline
    /// without exits.
    pub fn attach_lapic(
        &mut self,
        clock: Hpet,
        host_timer: Option<HostTimer>,
    ) -> Result<(), String> {
        let lapic = Arc::new(spin::Mutex::new(Lapic::new(0)));
        self.mmio
            .insert(
                GuestAddress(LAPIC_BASE),
                LAPIC_SIZE,
                Box::new(Shared(lapic.clone())),
            )
            .map_err(|e| format!("local APIC: {e}"))?;
        let ioapics = [0u8, 1].map(|id| Arc::new(spin::Mutex::new(IoApic::new(id))));
        for (ioapic, base) in ioapics.iter().zip(IOAPIC_BASES) {
            self.mmio
                .insert(
                    GuestAddress(base),
                    IOAPIC_SIZE,
                    Box::new(Shared(ioapic.clone())),
                )
                .map_err(|e| format!("I/O APIC: {e}"))?;
        }
        self.irq = Some(Interrupts {
            lapic,
            ioapics,
            lines: Vec::new(),
            port_lines: Vec::new(),
            clock,
            host_timer,
            last_irq: None,
        });
        Ok(())
    }

    /// Put the ACPI sleep and reset registers (hv-core `acpi_pm`) at ports
    /// `port`..`port + 3`, resetting on `reset_value`: the guest can then
    /// power off (S5) or reset as the FADT says.
    pub fn attach_acpi_sleep(&mut self, port: u16, reset_value: u8) -> Result<(), String> {
        let sleep = Arc::new(spin::Mutex::new(AcpiSleep::new(reset_value)));
        self.pio
            .insert(port, 3, Box::new(Shared(sleep.clone())))
            .map_err(|e| format!("ACPI sleep registers: {e}"))?;
        self.sleep = Some(sleep);
        Ok(())
    }

    /// The interrupt line of the device at `base` on the MMIO bus drives
    /// `gsi` (after [`X86Guest::attach_lapic`]; GSIs past 47 are ignored).
    pub fn connect_line(&mut self, base: GuestAddress, gsi: u32) {
        if let Some(irq) = self.irq.as_mut() {
            irq.lines.push((base, gsi));
        }
    }

    /// The interrupt line of the port-I/O device at `port` drives `gsi`
    /// (the ISA way: COM1 on IRQ 4).
    pub fn connect_port_line(&mut self, port: u16, gsi: u32) {
        if let Some(irq) = self.irq.as_mut() {
            irq.port_lines.push((port, gsi));
        }
    }

    /// The guest's RAM (for devices that DMA into it).
    pub fn ram(&self) -> &Arc<GuestRam> {
        &self.ram
    }

    /// Run until the guest halts, powers off or resets, or writes the
    /// debug-exit port; at most
    /// `max_exits` exits (a guest that never stops is an error, not a
    /// hang of hv).
    pub fn run(&mut self, svm: &mut HostSvm, max_exits: u32) -> Result<Outcome, String> {
        for _ in 0..max_exits {
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
                    let code = self.exited.load(Ordering::Acquire);
                    if code != NOT_EXITED {
                        return Ok(Outcome::DebugExit(code));
                    }
                    match self.sleep.as_ref().and_then(|s| s.lock().take_request()) {
                        Some(PowerRequest::Off) => return Ok(Outcome::PowerOff),
                        Some(PowerRequest::Reset) => return Ok(Outcome::Reset),
                        None => {}
                    }
                }
                Exit::Npf(f) if f.final_address && !f.fetch => match self.emulate_mmio(f.gpa) {
                    Ok(()) => self.stats.mmio += 1,
                    // As KVM does for a guest's user code when its
                    // emulator fails: #UD, which the guest's own handler
                    // reports (hv has no VMM to hand the error to).
                    Err(e) => self.undefined(format_args!("MMIO at {:#x}: {e}", f.gpa)),
                },
                // Nothing executable outside RAM (QEMU TCG would run the
                // zeros an unassigned address reads as).
                Exit::Npf(f) if f.final_address => {
                    self.undefined(format_args!("instruction fetch from {:#x}, not RAM", f.gpa))
                }
                Exit::Shutdown => return Ok(Outcome::TripleFault(self.rip())),
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
                // The host timer (or another host interrupt): let the host
                // take it; the guest's own interrupt is injected next.
                Exit::Intr => take_pending_interrupts(),
                other => {
                    return Err(format!(
                        "unexpected exit {other:?} at RIP {:#x}",
                        self.vmcb.u64(save::RIP)
                    ))
                }
            }
        }
        Err(format!("the guest did not stop within {max_exits} exits"))
    }

    /// Before an entry: bring the APIC up to date and, if it has an
    /// interrupt for the guest, inject it when the guest can take one
    /// (RFLAGS.IF set, no interrupt shadow, no other event queued), else
    /// ask for an exit when it can (V_IRQ with the VINTR intercept).
    fn deliver_interrupt(&mut self) {
        let Some(irq) = self.irq.as_mut() else {
            return;
        };
        let mut lapic = irq.lapic.lock();
        lapic.advance_to(irq.clock.now_ns());
        // Level-triggered EOIs back to the I/O APICs, device lines in,
        // what they deliver to the local APIC.
        while let Some(v) = lapic.take_level_eoi() {
            for io in &irq.ioapics {
                io.lock().eoi(v);
            }
        }
        let mmio_levels = irq.lines.iter().map(|&(base, gsi)| {
            (
                gsi,
                self.mmio.interrupt_level_at(base).is_some_and(|(_, l)| l),
            )
        });
        let port_levels = irq
            .port_lines
            .iter()
            .map(|&(port, gsi)| (gsi, self.pio.interrupt_level_at(port) == Some(true)));
        for (gsi, level) in mmio_levels.chain(port_levels) {
            let pin = gsi as usize;
            if let Some(io) = irq.ioapics.get(pin / IOAPIC_PINS) {
                io.lock().set_level(pin % IOAPIC_PINS, level);
            }
        }
        for io in &irq.ioapics {
            let mut io = io.lock();
            while let Some(d) = io.take_delivery() {
                // Fixed and lowest-priority to the one vCPU; NMI, SMI,
                // INIT and ExtINT routings are not offered yet.
                if d.mode <= 1 {
                    lapic.raise(d.vector, d.level);
                } else {
                    log::debug!("x86 guest: I/O APIC delivery mode {} ignored", d.mode);
                }
            }
        }
        let Some(vector) = lapic.pending_vector() else {
            return;
        };
        let can_take = self.vmcb.u64(save::RFLAGS) & RFLAGS_IF != 0
            && self.vmcb.u64(ctrl::INT_STATE) & 1 == 0
            && self.vmcb.u64(ctrl::EVENT_INJ) & EVENT_VALID == 0;
        if can_take {
            self.vmcb.set_u64(
                ctrl::EVENT_INJ,
                event_inj(vector, EventKind::ExternalInterrupt, None),
            );
            lapic.acknowledge(vector);
            irq.last_irq = Some(vector);
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
        let Some(irq) = self.irq.as_ref() else {
            return;
        };
        let Some(t) = irq.host_timer else {
            return;
        };
        match irq.lapic.lock().next_deadline() {
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
        let last_irq = self.irq.as_ref().and_then(|i| i.last_irq);
        if vector >= 32 && last_irq == Some(vector) {
            event = (event & !EVENT_TYPE) | ((EventKind::ExternalInterrupt as u64) << 8);
        }
        self.vmcb.set_u64(ctrl::EVENT_INJ, event);
    }

    /// HLT: with interrupts on and an APIC, wait (on the host's clock)
    /// until the APIC has an interrupt for the guest, then go on past the
    /// HLT; returns false when the guest halted for good (interrupts off,
    /// or no APIC). An HLT nothing could ever end is an error, not a hang.
    fn wait_for_interrupt(&mut self) -> Result<bool, String> {
        let interrupts_on = self.vmcb.u64(save::RFLAGS) & RFLAGS_IF != 0;
        let Some(irq) = self.irq.as_ref().filter(|_| interrupts_on) else {
            return Ok(false);
        };
        self.stats.halts += 1;
        loop {
            let mut lapic = irq.lapic.lock();
            lapic.advance_to(irq.clock.now_ns());
            if lapic.pending_vector().is_some() {
                break;
            }
            let Some(deadline) = lapic.next_deadline() else {
                return Err(format!(
                    "the guest halted at RIP {:#x} with interrupts on and nothing to wake it",
                    self.rip()
                ));
            };
            drop(lapic);
            while irq.clock.now_ns() < deadline {
                core::hint::spin_loop();
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

    /// Past an instruction of `len` bytes (CPUID, RDMSR and WRMSR are 2;
    /// QEMU's SVM reports no next RIP for them).
    fn skip(&mut self, len: u64) {
        let rip = self.rip().wrapping_add(len);
        self.vmcb.set_u64(save::RIP, rip);
    }

    /// IN or OUT through the port-I/O bus: IN AL and AX keep the rest of
    /// RAX, IN EAX zero-extends (as the CPU writes registers).
    fn port_io(&mut self, io: IoExit) {
        let width = AccessWidth::from_bytes(u64::from(io.size)).unwrap_or(AccessWidth::Byte);
        let rax = self.vmcb.u64(save::RAX);
        if io.input {
            let v = self.pio.read(io.port, width);
            let keep = match io.size {
                1 => !0xff,
                2 => !0xffff,
                _ => 0,
            };
            self.vmcb.set_u64(save::RAX, (rax & keep) | v);
        } else if !self.pio.write(io.port, width, rax & width.mask()) {
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
        match leaf {
            // x2APIC and TSC-deadline: the APIC model offers neither.
            1 => r.ecx = (r.ecx & !(1 << 21) & !(1 << 24)) | (1 << 31),
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
    /// set in the VMCB's copy). The MSRs the VMCB holds never exit
    /// (`svm::VMCB_HELD_MSRS`). Any other MSR gets #GP(0), as on a CPU
    /// without it: the instruction does not complete.
    fn msr(&mut self, write: bool) -> Result<(), String> {
        let msr = self.gprs.0[1] as u32;
        if msr != EFER_MSR {
            log::debug!(
                "x86 guest: {} of MSR {msr:#x} at RIP {:#x}: #GP",
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
        if write {
            let v = (self.vmcb.u64(save::RAX) & 0xffff_ffff) | (self.gprs.0[2] << 32);
            self.vmcb.set_u64(save::EFER, v | svm::EFER_SVME);
        } else {
            let v = self.vmcb.u64(save::EFER) & !svm::EFER_SVME;
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
            let pa = self.paging().linear_to_gpa(&self.ram, at)?;
            // Up to the page end, and within RAM.
            let chunk = (0x1000 - (at & 0xfff))
                .min((MAX_LEN - n) as u64)
                .min(self.ram_size.saturating_sub(pa)) as usize;
            if chunk == 0 {
                break;
            }
            self.ram
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
        let mut on_bus = OnBus {
            bus: &mut self.mmio,
            gpa,
            ram: &self.ram,
            ram_size: self.ram_size,
            paging,
            bases,
        };
        insn.emulate(&mut regs, &mut on_bus)?;
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
        if let Some(t) = self.irq.as_ref().and_then(|i| i.host_timer) {
            t.disarm();
        }
    }
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
    v.set_seg(save::CS, Seg::flat32(0x08, true));
    for s in [save::DS, save::ES, save::SS, save::FS, save::GS] {
        v.set_seg(s, Seg::flat32(0x10, false));
    }
    let table = Seg {
        limit: 0xffff,
        ..Seg::default()
    };
    v.set_seg(save::GDTR, table);
    v.set_seg(save::IDTR, table);
    v.set_seg(save::LDTR, Seg::system(0x2, 0xffff));
    v.set_seg(save::TR, Seg::system(0xB, 0x67));
    v.set_u64(save::EFER, svm::EFER_SVME);
    v.set_u64(save::CR0, CR0_PE_ET);
    v.set_u64(save::RFLAGS, 0x2);
    v.set_u64(save::DR6, 0xffff_0ff0);
    v.set_u64(save::DR7, 0x400);
    v.set_u64(save::G_PAT, svm::DEFAULT_PAT);
}

/// How a guest translates linear addresses: CR0, CR3 and EFER.
#[derive(Clone, Copy, Debug)]
struct Paging {
    cr0: u64,
    cr3: u64,
    efer: u64,
}

impl Paging {
    /// The guest-physical address of linear `va`: `va` itself (32 bits)
    /// with paging off, else through the guest's own 4-level tables (long
    /// mode; 32-bit paging is not walked yet).
    fn linear_to_gpa(&self, ram: &GuestRam, va: u64) -> Result<u64, String> {
        if self.cr0 & CR0_PG == 0 {
            return Ok(va & 0xffff_ffff);
        }
        if self.efer & EFER_LMA == 0 {
            return Err("MMIO from a guest with 32-bit paging is not emulated".into());
        }
        // Canonical addresses: bits 63:47 all equal; the walk takes 48 bits.
        let top = va >> 47;
        if top != 0 && top != 0x1_ffff {
            return Err(format!("address {va:#x} is not canonical"));
        }
        let root = PhysAddr(self.cr3 & 0x000f_ffff_ffff_f000);
        let walk = paging::walk::<Npt, _>(ram, root, 4, va & 0xffff_ffff_ffff)
            .map_err(|e| format!("walking the guest's tables for {va:#x}: {e:?}"))?;
        let leaf = walk
            .leaf
            .ok_or_else(|| format!("the guest's tables do not map {va:#x}"))?;
        Ok(leaf.oa_base + ((va & 0xffff_ffff_ffff) - leaf.ia_base))
    }
}

/// The faulting access, on the MMIO bus, for the instruction emulator,
/// and (for MOVS) the guest's view of memory: RAM or the bus, through its
/// segments and page tables.
struct OnBus<'a> {
    bus: &'a mut MmioBus,
    gpa: u64,
    ram: &'a GuestRam,
    ram_size: u64,
    paging: Paging,
    /// ES, CS, SS, DS, FS, GS bases.
    bases: [u64; 6],
}

impl OnBus<'_> {
    /// The guest-physical address of `seg:va` for an access of `w` that
    /// must not cross a page (string elements are at most 8 bytes; one
    /// that straddles pages is refused rather than split).
    fn gpa_of(&self, seg: Segment, va: u64, w: AccessWidth) -> Result<u64, String> {
        let base = self.bases[seg as usize];
        let linear = base.wrapping_add(va);
        if (linear & 0xfff) + w.bytes() > 0x1000 {
            return Err(format!("a string element at {linear:#x} straddles pages"));
        }
        self.paging.linear_to_gpa(self.ram, linear)
    }

    fn in_ram(&self, gpa: u64, w: AccessWidth) -> bool {
        gpa.checked_add(w.bytes())
            .is_some_and(|end| end <= self.ram_size)
    }
}

impl MmioAccess for OnBus<'_> {
    type Error = String;

    /// Addresses no device decodes read as 0, as on QEMU's microvm (the
    /// reference machine; ports that nothing decodes float to all ones,
    /// as there too: `PioBus`).
    fn read(&mut self, w: AccessWidth) -> Result<u64, String> {
        match self.bus.read(GuestAddress(self.gpa), w) {
            Err(BusError::Unmapped(_)) => {
                log::debug!("x86 guest: read of unmapped {:#x}", self.gpa);
                Ok(0)
            }
            r => r.map_err(|e| format!("{e}")),
        }
    }

    /// Writes to addresses no device decodes go nowhere.
    fn write(&mut self, w: AccessWidth, v: u64) -> Result<(), String> {
        match self.bus.write(GuestAddress(self.gpa), w, v) {
            Err(BusError::Unmapped(_)) => {
                log::debug!("x86 guest: write of unmapped {:#x}", self.gpa);
                Ok(())
            }
            r => r.map_err(|e| format!("{e}")),
        }
    }

    /// MOVS's source: RAM, or a device (either side may be the one that
    /// faulted).
    fn read_virt(&mut self, seg: Segment, va: u64, w: AccessWidth) -> Result<u64, String> {
        let gpa = self.gpa_of(seg, va, w)?;
        if self.in_ram(gpa, w) {
            let mut b = [0u8; 8];
            let n = w.bytes() as usize;
            self.ram
                .read(GuestAddress(gpa), &mut b[..n])
                .map_err(|e| format!("{e:?}"))?;
            return Ok(u64::from_le_bytes(b));
        }
        OnBus {
            gpa,
            ..self.rebind()
        }
        .read(w)
    }

    /// MOVS's destination (always ES).
    fn write_virt(&mut self, va: u64, w: AccessWidth, v: u64) -> Result<(), String> {
        let gpa = self.gpa_of(Segment::Es, va, w)?;
        if self.in_ram(gpa, w) {
            let n = w.bytes() as usize;
            return self
                .ram
                .write(GuestAddress(gpa), &v.to_le_bytes()[..n])
                .map_err(|e| format!("{e:?}"));
        }
        OnBus {
            gpa,
            ..self.rebind()
        }
        .write(w, v)
    }
}

impl<'a> OnBus<'a> {
    /// The same view, borrowed again (to aim it at another address).
    fn rebind(&mut self) -> OnBus<'_> {
        OnBus {
            bus: &mut *self.bus,
            gpa: self.gpa,
            ram: self.ram,
            ram_size: self.ram_size,
            paging: self.paging,
            bases: self.bases,
        }
    }
}
