//! The emulated guest machine (DESIGN.md, "The guest machine contract"):
//! RAM, the devices (hv-core's `vm::devices`, the model hv-kernel runs:
//! GICv3 distributor and redistributor, PL011, virtio-mmio disks), the
//! GIC CPU interface from [`CpuInterface`] and the guest's DTB, with the
//! kernel loaded by hv-core's loader; the CPU is the translator's
//! interpreter (or JIT).

use crate::dma::DmaRam;
use crate::mmu::Mmu;
use hv_core::devices::gicv3_cpuif::CpuInterface;
use hv_core::devices::pl011::CharSink;
use hv_core::machine;
use hv_core::mem::{GuestMemory, GuestRam, MemError};
use hv_core::mmio::{AccessWidth, BusError, MmioBus};
use hv_core::translate::bus::HostPage;
use hv_core::translate::bus::Maintenance;
use hv_core::translate::jit::Jit;
use hv_core::translate::sysreg::{self, SysRegEnc};
use hv_core::translate::{AccessKind, Cpu, CpuBus, CpuConfig, Fault, TranslateError};
use hv_core::vm::bundle::{self, BundleError};
use hv_core::vm::devices::Devices;
use hv_core::vm::fdt::FdtError;
use hv_core::vm::loader::{Format, LoadError};
use hv_core::vm::place::{self, GuestSoftware, PlaceError};
use hv_core::vm::power::VcpuPower;
use hv_core::GuestAddress;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use virtio::blk::ConfigError;
use virtio::blk::FileBackend;
use virtio::slots::{self, AttachError, Disk, VirtioDisks};

/// Room at the top of guest RAM for the DTB (Linux wants it within 2 MiB).
const PAGE: u64 = 4096;
/// Smallest guest RAM: the kernel goes 2 MiB in, the DTB in the top 2 MiB.
pub const MIN_RAM: u64 = 8 << 20;

/// Why the machine could not be built.
#[derive(Debug)]
pub enum SimError {
    /// A host file could not be read or opened.
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The guest bundle is malformed.
    Bundle(BundleError),
    /// The kernel cannot be placed.
    Load(LoadError),
    /// Guest RAM refused an allocation or a copy.
    Mem(MemError),
    /// The device tree could not be written.
    Fdt(FdtError),
    /// A device could not be attached.
    Bus(BusError),
    /// A disk's configuration is invalid (e.g. empty image).
    Disk(PathBuf, ConfigError),
    /// The translator refused its configuration.
    Cpu(TranslateError),
    /// The JIT could not be set up (no back end for this host, or no
    /// executable memory).
    Jit(String),
    /// More disks than virtio-mmio slots.
    TooManyDisks,
    /// RAM size below [`MIN_RAM`] or not page-aligned.
    BadRamSize(u64),
    /// Initrd and DTB do not fit above the kernel.
    NoRoom,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            SimError::Bundle(e) => write!(f, "guest bundle: {e}"),
            SimError::Load(e) => write!(f, "guest image: {e}"),
            SimError::Mem(e) => write!(f, "guest RAM: {e}"),
            SimError::Fdt(e) => write!(f, "guest device tree: {e}"),
            SimError::Bus(e) => write!(f, "guest devices: {e}"),
            SimError::Disk(p, e) => write!(f, "{}: unusable as a disk: {e:?}", p.display()),
            SimError::Cpu(e) => write!(f, "CPU: {e}"),
            SimError::Jit(e) => write!(f, "JIT: {e} (use --engine interp)"),
            SimError::TooManyDisks => write!(
                f,
                "too many disks: the machine has {} virtio-mmio slots",
                machine::VIRTIO_MMIO_SLOTS
            ),
            SimError::BadRamSize(s) => write!(
                f,
                "guest RAM of {s} bytes: need a multiple of 4 KiB, at least {} MiB",
                MIN_RAM >> 20
            ),
            SimError::NoRoom => write!(f, "the initrd and device tree do not fit in guest RAM"),
        }
    }
}

impl std::error::Error for SimError {}

macro_rules! from_error {
    ($($from:ty => $variant:ident),*) => {
        $(impl From<$from> for SimError {
            fn from(e: $from) -> Self {
                SimError::$variant(e)
            }
        })*
    };
}
from_error!(BundleError => Bundle, LoadError => Load, MemError => Mem, FdtError => Fdt,
            BusError => Bus, TranslateError => Cpu);

impl From<PlaceError> for SimError {
    fn from(e: PlaceError) -> Self {
        match e {
            PlaceError::Load(e) => SimError::Load(e),
            PlaceError::Mem(e) => SimError::Mem(e),
            PlaceError::Fdt(e) => SimError::Fdt(e),
            PlaceError::NoRoom => SimError::NoRoom,
        }
    }
}

/// A disk image file for the guest.
#[derive(Clone, Debug)]
pub struct DiskSpec {
    /// The host file.
    pub path: PathBuf,
    /// Offer it read-only (VIRTIO_BLK_F_RO) and open it read-only.
    pub read_only: bool,
}

/// What to build.
#[derive(Clone, Debug)]
pub struct MachineConfig {
    /// Guest RAM size in bytes.
    pub ram_size: u64,
    /// Disks, one per virtio-mmio slot from slot 0.
    pub disks: Vec<DiskSpec>,
    /// Stop and report each guest exception ([`CpuConfig::exit_on_exception`]).
    pub trace: bool,
    /// Compile hot blocks once they ran this many times (hv-core's JIT);
    /// `None`: interpret everything.
    pub jit: Option<u32>,
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig {
            ram_size: 128 << 20,
            disks: Vec::new(),
            trace: false,
            jit: None,
        }
    }
}

/// The guest software: a kernel (arm64 Image, ELF or raw binary), and for
/// Linux an initrd and a command line.
#[derive(Clone, Debug, Default)]
pub struct Software<'a> {
    /// The kernel image.
    pub kernel: &'a [u8],
    /// Initial RAM disk.
    pub initrd: Option<&'a [u8]>,
    /// Kernel command line.
    pub cmdline: &'a str,
}

impl<'a> Software<'a> {
    /// `image` as the guest: an hv guest bundle (kernel, initrd, command
    /// line) or a bare kernel.
    pub fn from_image(image: &'a [u8]) -> Result<Self, SimError> {
        if bundle::is_bundle(image) {
            let b = bundle::parse(image)?;
            Ok(Software {
                kernel: b.kernel,
                initrd: b.initrd,
                cmdline: b.cmdline,
            })
        } else {
            Ok(Software {
                kernel: image,
                initrd: None,
                cmdline: "",
            })
        }
    }
}

/// Everything the CPU reaches: RAM, the devices and the GIC. The
/// interpreter's memory accesses all come here, through the soft MMU.
#[derive(Debug)]
pub struct SimBus {
    /// Guest RAM.
    pub ram: Arc<GuestRam>,
    /// The same RAM as the virtio transports see it (DMA writes logged).
    pub dma: Arc<DmaRam>,
    /// The machine's devices: the GIC's distributor and redistributors,
    /// the PL011, the virtio disks on the bus (hv-core's model, the one
    /// hv-kernel runs too).
    pub devices: Devices<Box<dyn CharSink>, VirtioDisks>,
    /// The vCPU's GIC CPU interface.
    pub cpuif: CpuInterface,
    /// Stage-1 translation and its TLB.
    pub mmu: Mmu,
    /// Breakpoint/watchpoint 0 registers and MDCCINT_EL1 (storage only).
    debug: [u64; 5],
}

/// Index into [`SimBus::debug`] of a breakpoint/watchpoint register
/// (DBGBVR/DBGBCR/DBGWVR/DBGWCR<n>_EL1, op0 = 2, CRn = 0, op2 = 4..=7) or
/// MDCCINT_EL1. ID_AA64DFR0_EL1 reads 0 (one breakpoint, one watchpoint),
/// so Linux programs pair 0; the registers hold values and never fire.
fn debug_reg(reg: SysRegEnc) -> Option<usize> {
    if reg.op0() != 2 || reg.op1() != 0 || reg.crn() != 0 {
        return None;
    }
    match (reg.crm(), reg.op2()) {
        (0, 4..=7) => Some(usize::from(reg.op2() - 4)),
        (2, 0) => Some(4),
        _ => None,
    }
}

fn width(size: u8) -> Result<AccessWidth, Fault> {
    AccessWidth::from_bytes(u64::from(size)).ok_or(Fault::EXTERNAL)
}

impl SimBus {
    /// A device load (not RAM).
    fn mmio_read(&mut self, pa: u64, width: AccessWidth) -> Result<u64, BusError> {
        self.devices.mmio_read(0, GuestAddress(pa), width)
    }

    /// A device store (not RAM).
    fn mmio_write(&mut self, pa: u64, width: AccessWidth, value: u64) -> Result<(), BusError> {
        self.devices.mmio_write(0, GuestAddress(pa), width, value)
    }

    /// Continue the queue work the disks' notifies left at their budget (one
    /// more budget of each such queue), then pass their interrupts on. The
    /// run loop calls this after every slice and before a WFI waits.
    /// Returns whether work is still left, in which case the vCPU must not
    /// sleep.
    pub fn poll_devices(&mut self) -> bool {
        self.devices.poll_disks()
    }

    /// Route the CPU's timer outputs to their PPIs, and set the CPU's IRQ
    /// input from the CPU interface. Returns the IRQ level.
    pub fn update_interrupts(&mut self, cpu: &mut Cpu) -> bool {
        let t = cpu.timer_lines();
        let vgic = &mut self.devices.vgic;
        vgic.set_level(0, machine::TIMER_EL1_VIRT_INTID, t.virt);
        vgic.set_level(0, machine::TIMER_EL1_PHYS_INTID, t.phys);
        let irq = self.cpuif.irq_line(vgic);
        cpu.set_irq(irq);
        irq
    }
}

impl SimBus {
    /// Load `size` bytes at physical address `pa`: RAM, else a device.
    fn load_pa(&mut self, pa: u64, size: u8) -> Result<u64, Fault> {
        let len = usize::from(size).min(8);
        let mut buf = [0u8; 8];
        // `len <= 8`, so the slice is in bounds.
        match self.ram.read(GuestAddress(pa), &mut buf[..len]) {
            Ok(()) => Ok(u64::from_le_bytes(buf)),
            Err(MemError::OutOfRange { .. }) => self
                .mmio_read(pa, width(size)?)
                .map_err(|_| Fault::EXTERNAL),
            Err(_) => Err(Fault::EXTERNAL),
        }
    }

    /// Store the low `size` bytes of `value` at physical address `pa`.
    fn store_pa(&mut self, pa: u64, size: u8, value: u64) -> Result<(), Fault> {
        let len = usize::from(size).min(8);
        let bytes = value.to_le_bytes();
        match self.ram.write(GuestAddress(pa), &bytes[..len]) {
            Ok(()) => Ok(()),
            Err(MemError::OutOfRange { .. }) => self
                .mmio_write(pa, width(size)?, value)
                .map_err(|_| Fault::EXTERNAL),
            Err(_) => Err(Fault::EXTERNAL),
        }
    }

    /// Whether an access of `size` bytes at `va` crosses into the next
    /// page (only possible with unaligned accesses, MMU on).
    #[inline]
    fn crosses_page(va: u64, size: u8) -> bool {
        (va & 0xfff) + u64::from(size) > 0x1000
    }
}

impl CpuBus for SimBus {
    fn load(&mut self, va: u64, size: u8, el: u8) -> Result<u64, Fault> {
        if self.mmu.enabled() && Self::crosses_page(va, size) {
            // Byte by byte, each translated on its own.
            let mut v = 0u64;
            for i in 0..u64::from(size.min(8)) {
                let a = va.wrapping_add(i);
                let pa = self.mmu.translate(&self.ram, a, AccessKind::Read, el)?;
                v |= self.load_pa(pa, 1)? << (8 * i);
            }
            return Ok(v);
        }
        let pa = self.mmu.translate(&self.ram, va, AccessKind::Read, el)?;
        self.load_pa(pa, size)
    }

    fn store(&mut self, va: u64, size: u8, value: u64, el: u8) -> Result<u64, Fault> {
        if self.mmu.enabled() && Self::crosses_page(va, size) {
            // Check every byte first so a faulting store writes nothing.
            let n = u64::from(size.min(8));
            let mut pas = [0u64; 8];
            for (i, pa) in (0..n).zip(pas.iter_mut()) {
                *pa = self
                    .mmu
                    .translate(&self.ram, va.wrapping_add(i), AccessKind::Write, el)?;
            }
            for (i, &pa) in (0..n).zip(pas.iter()) {
                self.store_pa(pa, 1, value >> (8 * i))?;
            }
            return Ok(pas[0]);
        }
        let pa = self.mmu.translate(&self.ram, va, AccessKind::Write, el)?;
        self.store_pa(pa, size, value)?;
        Ok(pa)
    }

    fn host_page(&mut self, va: u64, el: u8, kind: AccessKind) -> Option<HostPage> {
        let page = va & !0xfff;
        let pa = self.mmu.translate(&self.ram, page, kind, el).ok()?;
        // Device writes are logged by `dma`; the CPU's are not, so RAM is
        // all a page needs to be.
        let host = self.ram.host_address(GuestAddress(pa), 4096)?;
        Some(HostPage { pa, host })
    }

    fn fetch_pa(&mut self, va: u64, el: u8) -> Result<u64, Fault> {
        let pa = self.mmu.translate(&self.ram, va, AccessKind::Exec, el)?;
        // Only RAM holds code.
        self.ram
            .check_range(GuestAddress(pa), 4)
            .map_err(|_| Fault::EXTERNAL)?;
        Ok(pa)
    }

    fn fetch_word(&mut self, pa: u64) -> Result<u32, Fault> {
        self.ram
            .read_u32(GuestAddress(pa))
            .map_err(|_| Fault::EXTERNAL)
    }

    fn translation_changed(&mut self, reg: SysRegEnc, value: u64) {
        self.mmu.set(reg, value);
    }

    fn maintenance(&mut self, op: Maintenance, _arg: u64) {
        if let Maintenance::Tlbi { .. } = op {
            self.mmu.flush();
        }
    }

    /// ACTLR_EL1 is IMPLEMENTATION DEFINED; hv-kernel traps it
    /// (HCR_EL2.TACR) and injects UNDEF, and so does the simulator, so a
    /// guest sees the same machine in both homes.
    fn traps_sysreg(&self, reg: SysRegEnc) -> bool {
        reg == sysreg::ACTLR_EL1
    }

    fn sysreg_read(&mut self, reg: SysRegEnc) -> Option<u64> {
        if CpuInterface::owns(reg) {
            self.cpuif.read(&mut self.devices.vgic, reg)
        } else {
            debug_reg(reg).and_then(|i| self.debug.get(i).copied())
        }
    }

    fn sysreg_write(&mut self, reg: SysRegEnc, value: u64) -> bool {
        if CpuInterface::owns(reg) {
            return self.cpuif.write(&mut self.devices.vgic, reg, value);
        }
        match debug_reg(reg).and_then(|i| self.debug.get_mut(i)) {
            Some(r) => {
                *r = value;
                true
            }
            None => false,
        }
    }
}

/// A machine ready to run: one vCPU at the kernel's entry with x0 = DTB.
#[derive(Debug)]
pub struct Machine {
    /// The vCPU.
    pub cpu: Cpu,
    /// Its memory, devices and interrupt controller.
    pub bus: SimBus,
    /// Where the kernel starts.
    pub entry: GuestAddress,
    /// Where the DTB is.
    pub dtb: GuestAddress,
    /// How the kernel was recognised.
    pub format: Format,
    /// The vCPU's power state as PSCI sees it (one vCPU, on).
    pub power: VcpuPower,
}

impl Machine {
    /// Build the machine for `sw` with the disks of `config`; guest console
    /// output goes to `console`.
    pub fn new<S: CharSink + 'static>(
        config: &MachineConfig,
        sw: &Software,
        console: S,
    ) -> Result<Machine, SimError> {
        let ram_size = config.ram_size;
        if ram_size < MIN_RAM || ram_size % PAGE != 0 {
            return Err(SimError::BadRamSize(ram_size));
        }
        let ram = Arc::new(GuestRam::with_size(machine::RAM_BASE, ram_size)?);
        let dma = Arc::new(DmaRam::new(Arc::clone(&ram)));
        let mut mmio = MmioBus::new();
        let mut disks = Vec::new();
        for disk in &config.disks {
            let backend =
                FileBackend::open(&disk.path, disk.read_only).map_err(|error| SimError::Io {
                    path: disk.path.clone(),
                    error,
                })?;
            disks.push(Disk {
                backend,
                read_only: disk.read_only,
            });
        }
        let disks = slots::attach_disks(&mut mmio, &dma, disks).map_err(|e| match e {
            AttachError::TooMany => SimError::TooManyDisks,
            AttachError::Bus(e) => SimError::Bus(e),
            AttachError::Config { index, error } => SimError::Disk(
                config
                    .disks
                    .get(index)
                    .map(|d| d.path.clone())
                    .unwrap_or_default(),
                error,
            ),
        })?;
        let lines: Vec<(GuestAddress, u32)> =
            disks.slots().iter().map(|a| (a.base, a.intid)).collect();
        let slot_numbers: Vec<u32> = disks.slots().iter().map(|a| a.slot).collect();
        let software = GuestSoftware {
            kernel: sw.kernel,
            initrd: sw.initrd,
            cmdline: sw.cmdline,
        };
        let placed = place::place(
            &*ram,
            &software,
            ram_size,
            1,
            &slot_numbers,
            machine::GicModel::V3,
        )?;
        let dtb = placed.dtb.raw();

        let mut cpu = Cpu::new(CpuConfig {
            exit_on_exception: config.trace,
            ..CpuConfig::default()
        })?;
        if let Some(threshold) = config.jit {
            cpu.attach_jit(new_jit(threshold)?);
        }
        cpu.reset(placed.entry.raw());
        cpu.set_x(0, dtb);
        Ok(Machine {
            cpu,
            bus: SimBus {
                ram,
                dma,
                devices: Devices::new(
                    mmio,
                    &lines,
                    disks,
                    1,
                    machine::GicModel::V3,
                    Box::new(console),
                ),
                cpuif: CpuInterface::new(0),
                mmu: Mmu::default(),
                debug: [0; 5],
            },
            entry: placed.entry,
            dtb: placed.dtb,
            format: placed.format,
            power: VcpuPower::new(1),
        })
    }
}

/// Size of the JIT's code arena. When it fills up, all code is dropped and
/// hot blocks are compiled again.
pub const JIT_ARENA_BYTES: usize = 64 << 20;

/// A JIT over a fresh dual-mapped arena.
#[cfg(target_os = "linux")]
pub fn new_jit(threshold: u32) -> Result<Jit, SimError> {
    let arena = crate::code_arena::DualMappedArena::new(JIT_ARENA_BYTES)
        .map_err(|e| SimError::Jit(format!("no executable memory: {e}")))?;
    Jit::new(Box::new(arena), threshold).map_err(|e| SimError::Jit(e.to_string()))
}

/// A JIT needs executable memory, which hv-sim only sets up on Linux.
#[cfg(not(target_os = "linux"))]
pub fn new_jit(_threshold: u32) -> Result<Jit, SimError> {
    Err(SimError::Jit(
        "hv-sim's JIT needs a Linux host for its executable memory".into(),
    ))
}
