//! The CPU's view of memory: the [`CpuBus`] trait, the faults it reports,
//! and [`FlatBus`], an MMU-off implementation over guest RAM and the MMIO bus.
//!
//! Every guest load, store and instruction fetch of the interpreter goes
//! through a `CpuBus`, so a home can put a soft MMU (stage-1 walk + software
//! TLB) and its devices behind it without touching the CPU.

use crate::addr::GuestAddress;
use crate::mem::{GuestMemory, MemError};
use crate::mmio::{AccessWidth, MmioBus};
use core::fmt;

use super::sysreg::SysRegEnc;

/// What an access does (for permission checks in an MMU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKind {
    /// A data read.
    Read,
    /// A data write.
    Write,
    /// An instruction fetch.
    Exec,
}

/// The kind of a failed translation or access, as the architecture names it
/// in the fault status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// No valid translation (at `Fault::level`).
    Translation,
    /// The access flag is clear (at `Fault::level`).
    AccessFlag,
    /// The translation forbids the access (at `Fault::level`).
    Permission,
    /// Nothing answered at the physical address (synchronous external abort).
    External,
    /// The address is not aligned as the access requires.
    Alignment,
}

/// A failed guest memory access; the CPU turns it into a guest abort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What went wrong.
    pub kind: FaultKind,
    /// Translation table level for translation, access-flag and permission
    /// faults (0..=3); ignored otherwise.
    pub level: u8,
}

impl Fault {
    /// A synchronous external abort (no RAM and no device at the address).
    pub const EXTERNAL: Fault = Fault {
        kind: FaultKind::External,
        level: 0,
    };
    /// An alignment fault.
    pub const ALIGNMENT: Fault = Fault {
        kind: FaultKind::Alignment,
        level: 0,
    };

    /// The 6-bit DFSC/IFSC value of ESR_ELx for this fault.
    pub const fn status_code(self) -> u32 {
        let level = (self.level & 3) as u32;
        match self.kind {
            FaultKind::Translation => 0b00_0100 | level,
            FaultKind::AccessFlag => 0b00_1000 | level,
            FaultKind::Permission => 0b00_1100 | level,
            FaultKind::External => 0b01_0000,
            FaultKind::Alignment => 0b10_0001,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} fault (level {})", self.kind, self.level)
    }
}

/// Cache and TLB maintenance the guest asked for (DC, IC, TLBI), passed to
/// the bus so a soft MMU can drop its TLB entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Maintenance {
    /// A TLBI operation; `op` is the instruction's `op1:CRm:op2` and the
    /// argument is the value of Xt (0 when the operation takes none).
    Tlbi {
        /// `op1 << 7 | CRm << 3 | op2` of the TLBI instruction.
        op: u16,
    },
    /// A data-cache clean/invalidate by VA or set/way (a no-op for a
    /// coherent emulated machine).
    DataCache,
    /// An instruction-cache invalidation (the CPU also drops its blocks).
    InstructionCache,
}

/// The memory interface of the interpreter.
///
/// `el` is the exception level whose permissions apply (0 for the
/// unprivileged LDTR/STTR family even when executing at EL1). Sizes are 1, 2,
/// 4 or 8 bytes; the CPU splits 16-byte accesses. Values are little-endian
/// and zero-extended.
pub trait CpuBus {
    /// Load `size` bytes at virtual address `va`.
    fn load(&mut self, va: u64, size: u8, el: u8) -> Result<u64, Fault>;

    /// Store the low `size` bytes of `value` at `va`; returns the physical
    /// address written, which the CPU uses to invalidate translated code.
    fn store(&mut self, va: u64, size: u8, value: u64, el: u8) -> Result<u64, Fault>;

    /// Translate an instruction-fetch address to a physical address.
    fn fetch_pa(&mut self, va: u64, el: u8) -> Result<u64, Fault>;

    /// Read the instruction word at physical address `pa` (4-byte aligned).
    fn fetch_word(&mut self, pa: u64) -> Result<u32, Fault>;

    /// A tag for the translation regime in effect at `el` (e.g. MMU on/off,
    /// ASID); part of the block-cache key. The default is `el` itself. If
    /// the fetch translation changes other than through the guest's TLBI
    /// or SCTLR/TTBR/TCR writes, the home calls
    /// [`super::Cpu::flush_jump_cache`].
    fn regime(&self, el: u8) -> u32 {
        u32::from(el)
    }

    /// Whether the home traps accesses to `reg` before the CPU handles it
    /// (as hv-kernel does with HCR_EL2.TACR for ACTLR_EL1); a trapped
    /// access is undefined in the guest. The default traps nothing.
    fn traps_sysreg(&self, _reg: SysRegEnc) -> bool {
        false
    }

    /// Read a system register the CPU does not implement itself (e.g. the
    /// GIC CPU interface). `None` makes the MRS undefined in the guest.
    fn sysreg_read(&mut self, _reg: SysRegEnc) -> Option<u64> {
        None
    }

    /// Write such a register; `false` makes the MSR undefined in the guest.
    fn sysreg_write(&mut self, _reg: SysRegEnc, _value: u64) -> bool {
        false
    }

    /// The guest wrote a translation-control register the CPU keeps
    /// (SCTLR_EL1, TTBR0_EL1, TTBR1_EL1, TCR_EL1); `value` is the new
    /// contents. A soft MMU keeps its copy and drops its TLB here.
    fn translation_changed(&mut self, _reg: SysRegEnc, _value: u64) {}

    /// Cache or TLB maintenance by the guest, with the Xt argument.
    fn maintenance(&mut self, _op: Maintenance, _arg: u64) {}

    /// The page holding `va`, if an access of `kind` at `el` would reach
    /// plain guest RAM with no side effect besides the data (no device, no
    /// tracking): its guest physical page and the host address of the
    /// page's first byte (see [`crate::mem::GuestRam::host_address`]).
    /// Translated code then accesses that page directly until the CPU's
    /// next [`super::Cpu::flush_jump_cache`] (TLBI, translation-register
    /// writes, or the home's call). The default offers no page: every
    /// access takes the slow path through [`CpuBus::load`] and
    /// [`CpuBus::store`].
    fn host_page(&mut self, _va: u64, _el: u8, _kind: AccessKind) -> Option<HostPage> {
        None
    }
}

/// A guest page translated code may access directly, see
/// [`CpuBus::host_page`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostPage {
    /// Guest physical address of the page.
    pub pa: u64,
    /// Host address of the page's first byte.
    pub host: u64,
}

/// The MMU-off bus: virtual equals physical; RAM through a
/// [`GuestMemory`], every other address through an [`MmioBus`]. An address
/// with neither is a synchronous external abort in the guest.
#[derive(Debug)]
pub struct FlatBus<M: GuestMemory> {
    /// Guest RAM.
    pub mem: M,
    /// Devices for addresses outside RAM.
    pub mmio: MmioBus,
}

impl<M: GuestMemory> FlatBus<M> {
    /// A bus over `mem` and `mmio`.
    pub fn new(mem: M, mmio: MmioBus) -> Self {
        Self { mem, mmio }
    }
}

/// The MMIO width for a CPU access size (1, 2, 4 or 8).
fn width(size: u8) -> Result<AccessWidth, Fault> {
    AccessWidth::from_bytes(u64::from(size)).ok_or(Fault::EXTERNAL)
}

impl<M: GuestMemory> CpuBus for FlatBus<M> {
    fn load(&mut self, va: u64, size: u8, _el: u8) -> Result<u64, Fault> {
        let len = usize::from(size).min(8);
        let mut buf = [0u8; 8];
        // `len <= 8`, so the slice is in bounds.
        match self.mem.read(GuestAddress(va), &mut buf[..len]) {
            Ok(()) => Ok(u64::from_le_bytes(buf)),
            Err(MemError::OutOfRange { .. }) => self
                .mmio
                .read(GuestAddress(va), width(size)?)
                .map_err(|_| Fault::EXTERNAL),
            Err(_) => Err(Fault::EXTERNAL),
        }
    }

    fn store(&mut self, va: u64, size: u8, value: u64, _el: u8) -> Result<u64, Fault> {
        let len = usize::from(size).min(8);
        let bytes = value.to_le_bytes();
        match self.mem.write(GuestAddress(va), &bytes[..len]) {
            Ok(()) => Ok(va),
            Err(MemError::OutOfRange { .. }) => {
                self.mmio
                    .write(GuestAddress(va), width(size)?, value)
                    .map_err(|_| Fault::EXTERNAL)?;
                Ok(va)
            }
            Err(_) => Err(Fault::EXTERNAL),
        }
    }

    fn host_page(&mut self, va: u64, _el: u8, _kind: AccessKind) -> Option<HostPage> {
        let pa = va & !0xfff;
        let host = self.mem.host_address(GuestAddress(pa), 4096)?;
        Some(HostPage { pa, host })
    }

    fn fetch_pa(&mut self, va: u64, _el: u8) -> Result<u64, Fault> {
        // Executing from MMIO is not supported: only RAM holds code.
        self.mem
            .check_range(GuestAddress(va), 4)
            .map_err(|_| Fault::EXTERNAL)?;
        Ok(va)
    }

    fn fetch_word(&mut self, pa: u64) -> Result<u32, Fault> {
        self.mem
            .read_u32(GuestAddress(pa))
            .map_err(|_| Fault::EXTERNAL)
    }
}
