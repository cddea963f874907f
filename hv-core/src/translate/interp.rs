//! The CPU state and the interpreter: the portable reference tier.
//!
//! A home builds a [`Cpu`] with a [`CpuConfig`], points it at guest code
//! with [`Cpu::reset`], and calls [`Cpu::run`] with its [`CpuBus`] and an
//! instruction budget. `run` executes translated blocks until the budget is
//! used up or something needs the home ([`Exit`]): an HVC or SMC (the PSCI
//! conduit), a WFI/WFE, or (when configured) any exception the guest took.
//! Guest faults — undefined instructions, aborts, SVC, BRK — are delivered
//! to the guest's own vector table at EL1 and do not stop `run`.

use super::bus::{AccessKind, CpuBus, Fault, Maintenance};
use super::cache::BlockCache;
use super::cond::cond_holds;
use super::decode::{
    AddrMode, Barrier, Bitfield, BranchReg, Csel, Dp1, Dp2, Dp3, ExclKind, Insn, LogicOp, MemKind,
    MemOp, MovWide, PstateField, Shift, SP,
};
use super::exception::{
    esr, vector_offset, ExceptionClass, Spsr, SyncException, VectorKind, DAIF_MASK, ISS_WNR,
    NZCV_MASK,
};
use super::fp::soft::{self, Rm};
use super::fp::{self, FpInsn};
use super::ir::{Block, Op, PAGE_SIZE};
use super::jit::{Callbacks, Jit, JitKey};
use super::regs::{ArchRegs, HostTlbEntry, JumpTableEntry, HOST_TLB_ENTRIES, JUMP_TABLE_ENTRIES};
use super::sysreg::{self as sr, SysRegEnc, SysRegs};
use super::TranslateError;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

/// Identification and tuning of one virtual CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuConfig {
    /// MIDR_EL1 (default: Cortex-A57 r1p0, as QEMU's `cortex-a57`).
    pub midr: u64,
    /// MPIDR_EL1 (bit 31 is RES1 and always set).
    pub mpidr: u64,
    /// CNTFRQ_EL0 at reset, in Hz.
    pub cntfrq: u64,
    /// Upper bound of instructions per translated block (at least 1).
    pub max_block_insns: usize,
    /// Return [`Exit::Exception`] after delivering each guest exception.
    pub exit_on_exception: bool,
}

impl Default for CpuConfig {
    fn default() -> Self {
        Self {
            midr: 0x411f_d070,
            mpidr: 0x8000_0000,
            cntfrq: 62_500_000,
            max_block_insns: 256,
            exit_on_exception: false,
        }
    }
}

/// The timer output lines, see [`Cpu::timer_lines`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerLines {
    /// EL1 virtual timer (CNTV_*).
    pub virt: bool,
    /// EL1 physical timer (CNTP_*).
    pub phys: bool,
}

/// Why [`Cpu::run`] returned. For HVC, SMC, WFI and WFE the PC already
/// points past the instruction, so calling `run` again resumes the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The instruction budget is used up.
    Budget,
    /// HVC #imm at EL1 (the PSCI conduit); arguments are in X0..X7.
    Hvc {
        /// The instruction's immediate.
        imm: u16,
    },
    /// SMC #imm at EL1.
    Smc {
        /// The instruction's immediate.
        imm: u16,
    },
    /// WFI: the guest waits for an interrupt.
    Wfi,
    /// WFE: the guest waits for an event.
    Wfe,
    /// A synchronous exception was raised at the very vector the previous
    /// one entered, with no instruction retired in between and the same
    /// vector as its target (e.g. an instruction abort at a VBAR outside
    /// RAM, or an UNDEF as a handler's first instruction): the guest can
    /// never make progress again. The exception is not taken; the home
    /// should stop the guest with a clear report.
    FaultLoop {
        /// Where the fault recurs (the vector address).
        pc: u64,
        /// The syndrome the fault would have (ESR_EL1).
        esr: u64,
        /// VBAR_EL1.
        vbar: u64,
    },
    /// The guest took an exception (only with
    /// [`CpuConfig::exit_on_exception`]); the CPU is already at the vector.
    Exception {
        /// ESR_EL1 after entry (unchanged for interrupts).
        esr: u64,
        /// Exception level the exception was taken from.
        from_el: u8,
        /// ELR_EL1: the preferred return address.
        elr: u64,
        /// Vector kind.
        kind: VectorKind,
    },
}

/// What one instruction did.
pub(in crate::translate) enum Flow {
    /// Fall through to the next instruction.
    Next,
    /// Continue at this address (ends the block).
    Jump(u64),
    /// Take a synchronous exception.
    Exc(SyncException),
    /// Return to the home; `self.regs.pc` is already set.
    Exit(Exit),
}

/// A failed data access and the address of the byte that faulted (the
/// second half of a 16-byte access, or the byte past a page boundary of an
/// unaligned one, may fault where the first did not): FAR_EL1 must name
/// the page that needs fixing, or the guest's fault handler fixes the wrong
/// page and the access faults forever.
#[derive(Clone, Copy, Debug)]
pub(in crate::translate) struct MemFault(pub Fault, pub u64);

/// Whether `size` bytes at `va` span two pages.
#[inline]
const fn crosses_page(va: u64, size: u64) -> bool {
    (va & (PAGE_SIZE - 1)) + size > PAGE_SIZE
}

/// Bits of a 32- or 64-bit result.
#[inline]
const fn mask(sf: bool, v: u64) -> u64 {
    if sf {
        v
    } else {
        v & 0xffff_ffff
    }
}

/// NZCV in PSTATE layout (bits 31:28).
#[inline]
const fn pack_nzcv(n: bool, z: bool, c: bool, v: bool) -> u32 {
    ((n as u32) << 31) | ((z as u32) << 30) | ((c as u32) << 29) | ((v as u32) << 28)
}

/// `AddWithCarry` of the Arm ARM at 32 or 64 bits: result and NZCV.
#[inline]
pub fn add_with_carry(sf: bool, x: u64, y: u64, carry: bool) -> (u64, u32) {
    if sf {
        let (r1, c1) = x.overflowing_add(y);
        let (r, c2) = r1.overflowing_add(u64::from(carry));
        let v = ((x ^ r) & (y ^ r)) >> 63 != 0;
        (r, pack_nzcv(r >> 63 != 0, r == 0, c1 || c2, v))
    } else {
        let (x, y) = (x as u32, y as u32);
        let (r1, c1) = x.overflowing_add(y);
        let (r, c2) = r1.overflowing_add(u32::from(carry));
        let v = ((x ^ r) & (y ^ r)) >> 31 != 0;
        (u64::from(r), pack_nzcv(r >> 31 != 0, r == 0, c1 || c2, v))
    }
}

/// Shift `v` (already a `sf`-sized value) by `amount` (< data size).
#[inline]
fn shift_reg(sf: bool, v: u64, shift: Shift, amount: u32) -> u64 {
    if sf {
        match shift {
            Shift::Lsl => v << (amount & 63),
            Shift::Lsr => v >> (amount & 63),
            Shift::Asr => ((v as i64) >> (amount & 63)) as u64,
            Shift::Ror => v.rotate_right(amount),
        }
    } else {
        let w = v as u32;
        u64::from(match shift {
            Shift::Lsl => w << (amount & 31),
            Shift::Lsr => w >> (amount & 31),
            Shift::Asr => ((w as i32) >> (amount & 31)) as u32,
            Shift::Ror => w.rotate_right(amount),
        })
    }
}

/// Low `width` bits set (`width` 1..=64).
#[inline]
const fn ones(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

// Identification registers (fixed for this tier). They advertise exactly
// what this CPU implements, because guests choose code paths from them:
// Linux patches its atomics to LSE and registers the aes-ce/sha*-ce
// drivers, glibc's ifuncs and OpenSSL read the HWCAPs derived from them.
// Every register of the ID space not listed reads as zero ("not
// implemented"), which also covers ID_AA64ISAR1_EL1 (no PAuth, LRCPC,
// DPB, JSCVT, FCMA...), ID_AA64PFR1_EL1 (no BTI, SSBS, MTE),
// ID_AA64MMFR1/2_EL1 (no PAN, VHE, LOR, HAFDBS, UAO...) and
// ID_AA64ZFR0_EL1 (no SVE).
//
// ID_AA64PFR0_EL1:
//   EL0 [3:0] = 1, EL1 [7:4] = 1: AArch64 only; EL2 [11:8] = EL3 [15:12]
//     = 0: this CPU has no EL2/EL3.
//   FP [19:16] = 0 and AdvSIMD [23:20] = 0: implemented, without
//     half-precision arithmetic (FEAT_FP16 would be 1; 0xF = absent).
//   GIC [27:24] = 0: the CPU itself has no GIC system registers (a home
//     may serve them through `CpuBus::sysreg_read`); RAS, SVE, ... = 0.
const ID_AA64PFR0: u64 = 0x11;
// ID_AA64ISAR0_EL1:
//   AES [7:4] = 2: AESE/AESD/AESMC/AESIMC (`fp::crypto`) plus PMULL/PMULL2
//     on 64-bit elements (FEAT_PMULL, implemented in the FP/SIMD tier).
//   SHA1 [11:8] = 1: SHA1C/P/M/H/SU0/SU1 (`fp::crypto`).
//   SHA2 [15:12] = 1: SHA256H/H2/SU0/SU1; not 2 (no SHA512).
//   CRC32 [19:16] = 1: CRC32B/H/W/X and CRC32CB/H/W/X (`Dp2::Crc32`).
//   Atomic [23:20] = 2: the FEAT_LSE atomics (`atomics`).
//   RDM, SHA3, SM3, SM4, DP, FHM, TS, TLB, RNDR [63:28] = 0: not
//     implemented (ARMv8.0 plus the above).
const ID_AA64ISAR0: u64 = (2 << 4) | (1 << 8) | (1 << 12) | (1 << 16) | (2 << 20);
// ID_AA64MMFR0_EL1 (unchanged): PARange [3:0] = 5 (48-bit PA), ASIDBits
// [7:4] = 2 (16-bit ASID), TGran16 [23:20] = 0 (16K granule not
// supported), TGran64 [27:24] = 0 and TGran4 [31:28] = 0 (supported).
const ID_AA64MMFR0: u64 = 0x25;
const CTR_EL0: u64 = 0x8444_c004; // 64-byte lines, PIPT I-cache
const DCZID_EL0: u64 = 4; // DC ZVA zeroes 64 bytes
const DC_ZVA_BYTES: u64 = 64;
/// ISS of a trapped WFI (WFE adds 1): condition valid, condition AL.
const WF_ISS: u32 = (1 << 24) | (0xe << 20);
/// Entries of the direct-mapped jump cache (virtual PC -> block).
const JUMP_CACHE_SIZE: usize = 1024;

/// What LDXR/LDXP armed. STXR/STXP succeed only if the address and size
/// match and memory still holds the values read (the value-based model
/// QEMU uses too; whether this CPU's own plain stores clear the monitor is
/// IMPLEMENTATION DEFINED, and with it they clear it exactly when they
/// change the data). Single-CPU: the compare and the store are not one
/// atomic step; SMP needs a compare-exchange in the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Monitor {
    va: u64,
    total: u64,
    values: (u128, Option<u128>),
}

/// A jump-cache entry: the block at virtual address `va` for exception
/// level `el`, valid while the VA->PA mapping and the block itself are,
/// and what the JIT knows of it.
#[derive(Debug, Clone)]
struct JumpEntry {
    va: u64,
    el: u8,
    block: Arc<Block>,
    /// The regime tag the block was found under.
    regime: u32,
    /// Runs through this entry (counted only with a JIT attached).
    hits: u32,
    /// Compiled code (for `code_spsel`), [`DECLINED`], or 0 (not yet).
    code: u64,
    code_spsel: bool,
}

/// [`JumpEntry::code`] of a block the JIT declined to compile.
const DECLINED: u64 = 1;

/// One AArch64 virtual CPU (EL0 and EL1) with its block cache.
#[derive(Debug)]
pub struct Cpu {
    /// X0..X30, the SPs, PC, NZCV and the instruction counter (retired
    /// instructions plus exceptions entered), in the layout translated
    /// code addresses.
    pub(in crate::translate) regs: ArchRegs,
    /// DAIF in PSTATE layout.
    daif: u32,
    el: u8,
    spsel: bool,
    il: bool,
    /// System registers with plain storage.
    pub sys: SysRegs,
    /// The exclusive monitor: address, size and the value(s) the last
    /// LDXR/LDXP read; cleared by STXR, CLREX and exception return.
    monitor: Option<Monitor>,
    /// The last synchronous exception entry: its vector address and
    /// `icount` just after it, to recognise a fault loop.
    last_sync_entry: Option<(u64, u64)>,
    /// Counter ticks that passed without instructions (idle time).
    idle_ticks: u64,
    irq: bool,
    fiq: bool,
    oslsr: u64,
    cache: BlockCache,
    /// Virtual-PC lookup in front of the block cache; flushed when blocks
    /// are dropped and on TLB maintenance or translation-control writes.
    jump_cache: Vec<Option<JumpEntry>>,
    /// The JIT tier, if attached ([`Cpu::attach_jit`]).
    jit: Option<Box<Jit>>,
    /// Whether `regs.tlb` may hold entries (only the JIT fills it).
    host_tlb_used: bool,
    /// Whether the jump table in `regs` may hold entries.
    jump_table_used: bool,
    /// The chaining site compiled code last left through (0: none), to
    /// link it to the next block's code.
    chain_site: u64,
    config: CpuConfig,
}

impl Cpu {
    /// A CPU in its reset state at EL1 with PC 0; see [`Cpu::reset`].
    pub fn new(config: CpuConfig) -> Result<Cpu, TranslateError> {
        if config.max_block_insns == 0 {
            return Err(TranslateError::BadConfig);
        }
        let mut cpu = Cpu {
            regs: ArchRegs::default(),
            daif: 0,
            el: 1,
            spsel: true,
            il: false,
            sys: SysRegs::default(),
            monitor: None,
            last_sync_entry: None,
            idle_ticks: 0,
            irq: false,
            fiq: false,
            oslsr: 0,
            cache: BlockCache::new(),
            jump_cache: vec![None; JUMP_CACHE_SIZE],
            jit: None,
            host_tlb_used: false,
            jump_table_used: false,
            chain_site: 0,
            config,
        };
        cpu.reset(0);
        Ok(cpu)
    }

    /// Architectural reset into EL1h at `pc`: interrupts masked, MMU off,
    /// general and FP registers zero, FP/SIMD trapped (CPACR_EL1.FPEN = 0,
    /// as on hardware; guests enable it). The block cache is kept.
    pub fn reset(&mut self, pc: u64) {
        self.regs.x = [0; 31];
        self.regs.sp = [0; 2];
        self.regs.v = [0; 32];
        self.regs.pc = pc;
        self.regs.nzcv = 0;
        self.daif = DAIF_MASK as u32;
        self.el = 1;
        self.spsel = true;
        self.il = false;
        self.monitor = None;
        self.sys = SysRegs {
            midr: self.config.midr,
            mpidr: self.config.mpidr | (1 << 31),
            sctlr: sr::SCTLR_RES1,
            cntfrq: self.config.cntfrq,
            ..SysRegs::default()
        };
        self.oslsr = 0b1010; // OS lock implemented and locked
        self.flush_jump_cache(); // the MMU state changed
    }

    /// General register `n` (0..=30); 31 reads as zero, 32 is the current SP.
    pub fn x(&self, n: u8) -> u64 {
        match self.regs.x.get(usize::from(n)) {
            Some(v) => *v,
            None if n == SP => self.regs.sp[self.sp_index()],
            None => 0,
        }
    }

    /// Write general register `n`; 31 is discarded, 32 is the current SP.
    pub fn set_x(&mut self, n: u8, value: u64) {
        if let Some(r) = self.regs.x.get_mut(usize::from(n)) {
            *r = value;
        } else if n == SP {
            let i = self.sp_index();
            self.regs.sp[i] = value;
        }
    }

    /// The current stack pointer.
    pub fn sp(&self) -> u64 {
        self.regs.sp[self.sp_index()]
    }

    /// SP_EL0 and SP_EL1.
    pub fn banked_sp(&self) -> [u64; 2] {
        self.regs.sp
    }

    /// Set SP_EL0 (`el` 0) or SP_EL1 (`el` 1); other values are ignored.
    pub fn set_banked_sp(&mut self, el: u8, value: u64) {
        if let Some(s) = self.regs.sp.get_mut(usize::from(el)) {
            *s = value;
        }
    }

    /// The program counter.
    pub fn pc(&self) -> u64 {
        self.regs.pc
    }

    /// Set the program counter.
    pub fn set_pc(&mut self, pc: u64) {
        self.regs.pc = pc;
    }

    /// SIMD&FP register `n` (0..=31) as 128 bits; other `n` read 0.
    pub fn v(&self, n: u8) -> u128 {
        self.regs.v.get(usize::from(n)).copied().unwrap_or(0)
    }

    /// Write SIMD&FP register `n`.
    pub fn set_v(&mut self, n: u8, value: u128) {
        if let Some(r) = self.regs.v.get_mut(usize::from(n)) {
            *r = value;
        }
    }

    /// NZCV in PSTATE layout (bits 31:28).
    pub fn nzcv(&self) -> u32 {
        self.regs.nzcv
    }

    /// Set NZCV (bits 31:28; other bits ignored).
    pub fn set_nzcv(&mut self, nzcv: u32) {
        self.regs.nzcv = nzcv & NZCV_MASK as u32;
    }

    /// Current exception level (0 or 1).
    pub fn el(&self) -> u8 {
        self.el
    }

    /// PSTATE in the SPSR layout.
    pub fn pstate(&self) -> Spsr {
        let mut bits = u64::from(self.regs.nzcv) | u64::from(self.daif) | (u64::from(self.el) << 2);
        if self.spsel {
            bits |= 1;
        }
        if self.il {
            bits |= Spsr::IL.bits();
        }
        Spsr::from_bits_retain(bits)
    }

    /// Set PSTATE from an SPSR-layout value (EL 0 or 1 only; other ELs and
    /// AArch32 are ignored).
    pub fn set_pstate(&mut self, p: Spsr) {
        self.regs.nzcv = (p.bits() & NZCV_MASK) as u32;
        self.daif = (p.bits() & DAIF_MASK) as u32;
        self.il = p.contains(Spsr::IL);
        if p.el() <= 1 && !p.contains(Spsr::M4) {
            self.el = p.el();
            self.spsel = p.contains(Spsr::SP);
        }
    }

    /// Instructions retired and exceptions entered since construction. An
    /// exception entry counts as one, so a guest that only takes
    /// exceptions (a fault loop) still uses up [`Cpu::run`]'s budget and
    /// advances the counter.
    pub fn icount(&self) -> u64 {
        self.regs.icount
    }

    /// The generic-timer counter (CNTPCT_EL0 = CNTVCT_EL0; CNTVOFF is not
    /// modelled): one tick per retired instruction plus the ticks the home
    /// skipped while the guest idled. The n-th instruction reads at least n.
    pub fn counter(&self) -> u64 {
        self.regs.icount.wrapping_add(self.idle_ticks)
    }

    /// Advance the counter by `ticks` without executing (e.g. while the
    /// guest waits in WFI for its timer).
    pub fn skip_ticks(&mut self, ticks: u64) {
        self.idle_ticks = self.idle_ticks.wrapping_add(ticks);
    }

    /// Output lines of the EL1 virtual and physical timers (ENABLE set,
    /// IMASK clear, condition met); the home routes them to its interrupt
    /// controller (PPIs 27 and 30 on the virt machine).
    pub fn timer_lines(&self) -> TimerLines {
        let now = self.counter();
        let fires = |ctl: u64, cval: u64| ctl & 3 == 1 && now >= cval;
        TimerLines {
            virt: fires(self.sys.cntv_ctl, self.sys.cntv_cval),
            phys: fires(self.sys.cntp_ctl, self.sys.cntp_cval),
        }
    }

    /// Counter ticks until the earliest enabled, unmasked timer fires (0
    /// if one already has), or `None` if none is armed: how far a home may
    /// [`Cpu::skip_ticks`] after a WFI.
    pub fn ticks_to_timer(&self) -> Option<u64> {
        let now = self.counter();
        let due = |ctl: u64, cval: u64| (ctl & 3 == 1).then(|| cval.saturating_sub(now));
        match (
            due(self.sys.cntv_ctl, self.sys.cntv_cval),
            due(self.sys.cntp_ctl, self.sys.cntp_cval),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Drive the IRQ input (level): taken at the next block boundary when
    /// PSTATE.I is clear.
    pub fn set_irq(&mut self, level: bool) {
        self.irq = level;
    }

    /// Drive the FIQ input (level).
    pub fn set_fiq(&mut self, level: bool) {
        self.fiq = level;
    }

    /// The block cache (statistics, size).
    pub fn cache(&self) -> &BlockCache {
        &self.cache
    }

    /// Tell the CPU that guest code in `[pa, pa + len)` changed by a path
    /// that bypasses the CPU (DMA, the home loading an image).
    pub fn invalidate_code(&mut self, pa: u64, len: u64) {
        if self.cache.invalidate_range(pa, len) {
            self.code_dropped(pa, len);
        }
    }

    /// Blocks in `[pa, pa + len)` were dropped from the block cache: drop
    /// their compiled code and every cached association.
    fn code_dropped(&mut self, pa: u64, len: u64) {
        if let Some(j) = self.jit.as_mut() {
            j.invalidate(pa, len);
            // A block running now may have been dropped: let it, but not
            // the blocks it links to, run on.
            self.regs.chain_limit = 0;
            self.chain_site = 0;
        }
        self.flush_jump_cache();
    }

    /// Attach a JIT: from the next [`Cpu::run`], blocks that have run
    /// [`Jit::threshold`] times run as generated code.
    pub fn attach_jit(&mut self, jit: Jit) {
        self.jit = Some(Box::new(jit));
        self.flush_jump_cache();
    }

    /// The attached JIT, if any.
    pub fn jit(&self) -> Option<&Jit> {
        self.jit.as_deref()
    }

    /// Forget every virtual-to-block association. A home whose
    /// [`CpuBus`] changes the instruction-fetch translation (or the
    /// [`CpuBus::regime`] tag) behind the guest's back must call this; guest
    /// TLBI, IC and writes to SCTLR/TTBRx/TCR do it automatically.
    pub fn flush_jump_cache(&mut self) {
        for e in self.jump_cache.iter_mut() {
            *e = None;
        }
        self.jump_table_clear();
        // Whatever made the associations stale may have changed data
        // translations too.
        if self.host_tlb_used {
            self.regs.tlb = [[HostTlbEntry::EMPTY; HOST_TLB_ENTRIES]; 2];
            self.host_tlb_used = false;
        }
    }

    /// Remember in the host TLB that the guest page at `va` (accessed at
    /// `el`) is plain RAM, if the bus says so, so translated code's next
    /// accesses to it skip the bus. Pages holding translated code never
    /// get a write entry: stores to them must drop the code.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // JIT back ends only
    fn host_tlb_fill<B: CpuBus + ?Sized>(&mut self, bus: &mut B, va: u64, el: u8, write: bool) {
        let kind = if write {
            AccessKind::Write
        } else {
            AccessKind::Read
        };
        let Some(page) = bus.host_page(va, el, kind) else {
            return;
        };
        if write && self.cache.page_holds_code(page.pa) {
            return;
        }
        let vpage = va & !(PAGE_SIZE - 1);
        let addend = page.host.wrapping_sub(vpage);
        let Some(e) = self
            .regs
            .tlb
            .get_mut(usize::from(el & 1))
            .and_then(|t| t.get_mut(ArchRegs::tlb_index(va)))
        else {
            return;
        };
        let same = e.pa_page == page.pa && e.addend == addend && {
            let other = if write { e.read_tag } else { e.write_tag };
            other == vpage || other == HostTlbEntry::NONE
        };
        if !same {
            *e = HostTlbEntry::EMPTY;
        }
        e.addend = addend;
        e.pa_page = page.pa;
        if write {
            e.write_tag = vpage;
        } else {
            e.read_tag = vpage;
        }
        self.host_tlb_used = true;
    }

    /// The page at `pa` now holds translated code: its stores must take
    /// the slow path.
    fn host_tlb_protect_code(&mut self, pa: u64) {
        if !self.host_tlb_used {
            return;
        }
        let page = pa & !(PAGE_SIZE - 1);
        for e in self.regs.tlb.iter_mut().flatten() {
            if e.pa_page == page {
                e.write_tag = HostTlbEntry::NONE;
            }
        }
    }

    /// A load for translated code's slow path: the interpreter's access,
    /// then a host TLB fill.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // JIT back ends only
    pub(in crate::translate) fn jit_load<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        va: u64,
        size_log2: u8,
        el: u8,
        pc: u64,
    ) -> Result<u64, SyncException> {
        let align = self.align_for(size_log2);
        match self.load(bus, va, size_log2, el, align) {
            Ok(v) => {
                self.host_tlb_fill(bus, va, el, false);
                Ok(v as u64)
            }
            Err(f) => Err(self.data_abort_exc(f.1, f.0, false, pc)),
        }
    }

    /// A store for translated code's slow path.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // JIT back ends only
    pub(in crate::translate) fn jit_store<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        va: u64,
        size_log2: u8,
        value: u64,
        el: u8,
        pc: u64,
    ) -> Result<(), SyncException> {
        let align = self.align_for(size_log2);
        match self.store(bus, va, size_log2, u128::from(value), el, align) {
            Ok(()) => {
                self.host_tlb_fill(bus, va, el, true);
                Ok(())
            }
            Err(f) => Err(self.data_abort_exc(f.1, f.0, true, pc)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CpuConfig {
        &self.config
    }

    #[inline]
    fn sp_index(&self) -> usize {
        usize::from(self.el != 0 && self.spsel)
    }

    /// Recompute [`ArchRegs::fp_fast`] from the current EL, CPACR, FPCR
    /// and FPSR.
    pub(in crate::translate) fn refresh_fp_fast(&mut self) {
        let fpcr = self.sys.fpcr as u32;
        let mut fast = 0;
        if self.fp_enabled() {
            fast |= ArchRegs::FP_ENABLED;
            if fpcr & soft::FPCR_FZ == 0 {
                fast |= ArchRegs::FP_FAST_CMP;
                let round_to_nearest = soft::Env::new(self.sys.fpcr).rmode() == Rm::TieEven;
                if round_to_nearest && self.sys.fpsr as u32 & soft::IXC != 0 {
                    fast |= ArchRegs::FP_FAST_ARITH;
                }
            }
        }
        self.regs.fp_fast = fast;
    }

    fn fp_enabled(&self) -> bool {
        match (self.sys.cpacr >> 20) & 3 {
            0b11 => true,
            0b01 => self.el != 0,
            _ => false,
        }
    }

    fn sync(&self, ec: ExceptionClass, iss: u32, far: Option<u64>, elr: u64) -> Flow {
        Flow::Exc(SyncException {
            esr: esr(ec, iss),
            far,
            elr,
        })
    }

    pub(in crate::translate) fn undefined(&self, pc: u64) -> Flow {
        self.sync(ExceptionClass::Unknown, 0, None, pc)
    }

    /// An MSR/MRS/SYS trapped to EL1 (EC 0x18) with its encoding in the ISS.
    fn sysreg_trap(&self, pc: u64, reg: SysRegEnc, rt: u8, read: bool) -> Flow {
        let iss = (u32::from(reg.op0()) << 20)
            | (u32::from(reg.op2()) << 17)
            | (u32::from(reg.op1()) << 14)
            | (u32::from(reg.crn()) << 10)
            | (u32::from(rt & 31) << 5)
            | (u32::from(reg.crm()) << 1)
            | u32::from(read);
        self.sync(ExceptionClass::SysRegTrap, iss, None, pc)
    }

    fn fp_trap(&self, pc: u64) -> Flow {
        self.sync(ExceptionClass::FpAccess, 0, None, pc)
    }

    pub(in crate::translate) fn data_abort(
        &self,
        va: u64,
        fault: Fault,
        write: bool,
        pc: u64,
    ) -> Flow {
        Flow::Exc(self.data_abort_exc(va, fault, write, pc))
    }

    fn data_abort_exc(&self, va: u64, fault: Fault, write: bool, pc: u64) -> SyncException {
        let ec = if self.el == 0 {
            ExceptionClass::DataAbortLower
        } else {
            ExceptionClass::DataAbortSame
        };
        let wnr = if write { ISS_WNR } else { 0 };
        SyncException {
            esr: esr(ec, fault.status_code() | wnr),
            far: Some(va),
            elr: pc,
        }
    }

    /// Enter EL1 through the vector table. `sync` carries ESR/FAR/ELR for a
    /// synchronous exception; for an interrupt ELR is the current PC.
    pub fn take_exception(&mut self, kind: VectorKind, sync: Option<SyncException>) -> Exit {
        let from_el = self.el;
        let offset = vector_offset(kind, from_el, self.spsel);
        self.sys.spsr = self.pstate().bits();
        let elr = match sync {
            Some(e) => {
                self.sys.esr = e.esr;
                if let Some(far) = e.far {
                    self.sys.far = far;
                }
                e.elr
            }
            None => self.regs.pc,
        };
        self.sys.elr = elr;
        self.el = 1;
        self.spsel = true;
        self.il = false;
        self.daif = DAIF_MASK as u32;
        self.regs.pc = self.sys.vbar.wrapping_add(offset);
        self.regs.icount = self.regs.icount.wrapping_add(1);
        Exit::Exception {
            esr: self.sys.esr,
            from_el,
            elr,
            kind,
        }
    }

    fn eret(&mut self) {
        let spsr = Spsr::from_bits_retain(self.sys.spsr);
        self.monitor = None;
        self.regs.nzcv = (spsr.bits() & NZCV_MASK) as u32;
        self.daif = (spsr.bits() & DAIF_MASK) as u32;
        self.regs.pc = self.sys.elr;
        let target = spsr.el();
        let illegal = spsr.contains(Spsr::M4)
            || target > 1
            || (target == 0 && spsr.contains(Spsr::SP))
            || spsr.bits() & 2 != 0;
        if illegal {
            self.il = true;
        } else {
            self.il = spsr.contains(Spsr::IL);
            self.el = target;
            self.spsel = spsr.contains(Spsr::SP);
        }
    }

    /// Run until `budget` instructions have retired (checked at block
    /// boundaries, so up to one block more may run) or the home is needed.
    pub fn run<B: CpuBus + ?Sized>(&mut self, bus: &mut B, budget: u64) -> Exit {
        let start = self.regs.icount;
        // Compiled code may skip block boundaries while there is budget
        // left and no interrupt line is up (the lines only change between
        // runs; DAIF, EL and translation only by interpreted instructions,
        // whose blocks never chain).
        self.chain_site = 0;
        self.regs.chain_limit = if self.irq || self.fiq {
            0
        } else {
            start.saturating_add(budget)
        };
        loop {
            // The previous block's chaining site, to link to this block
            // only if nothing happens in between.
            let mut chain_from = core::mem::take(&mut self.chain_site);
            if self.regs.icount.wrapping_sub(start) >= budget {
                return Exit::Budget;
            }
            if self.fiq && self.daif & Spsr::F.bits() as u32 == 0 {
                chain_from = 0;
                let e = self.take_exception(VectorKind::Fiq, None);
                if self.config.exit_on_exception {
                    return e;
                }
            } else if self.irq && self.daif & Spsr::I.bits() as u32 == 0 {
                chain_from = 0;
                let e = self.take_exception(VectorKind::Irq, None);
                if self.config.exit_on_exception {
                    return e;
                }
            }
            let pc = self.regs.pc;
            let block = if self.il {
                Err(SyncException {
                    esr: esr(ExceptionClass::IllegalState, 0),
                    far: None,
                    elr: pc,
                })
            } else {
                self.lookup(bus, pc)
            };
            let result = match block {
                Ok((b, slot)) => match self.jit_code(bus, slot, &b, chain_from) {
                    Some(code) => self.exec_jit(bus, code),
                    None => self.exec_block(&b, bus),
                },
                Err(e) => Some(Err(e)),
            };
            let exc = match result {
                None => continue,
                Some(Ok(exit)) => return exit,
                Some(Err(e)) => e,
            };
            if let Some(stuck) = self.fault_loop(&exc) {
                return stuck;
            }
            let exit = self.take_exception(VectorKind::Sync, Some(exc));
            self.last_sync_entry = Some((self.regs.pc, self.regs.icount));
            if self.config.exit_on_exception {
                return exit;
            }
        }
    }

    /// [`Exit::FaultLoop`] if taking `exc` would repeat the previous
    /// synchronous entry exactly: raised by the first instruction at the
    /// vector that entry jumped to (its fetch, which counts nothing, or its
    /// execution, which counts one), and bound for the same vector. The
    /// state after taking it would equal the state before (interrupts are
    /// masked by the entry), so the guest would loop for ever.
    fn fault_loop(&self, exc: &SyncException) -> Option<Exit> {
        let (vector, at) = self.last_sync_entry?;
        let target =
            self.sys
                .vbar
                .wrapping_add(vector_offset(VectorKind::Sync, self.el, self.spsel));
        let first_insn = self.regs.icount.wrapping_sub(at) <= 1;
        (exc.elr == vector && first_insn && target == vector).then_some(Exit::FaultLoop {
            pc: exc.elr,
            esr: exc.esr,
            vbar: self.sys.vbar,
        })
    }

    /// Find or translate the block at `pc`; also returns its jump-cache
    /// slot.
    fn lookup<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        pc: u64,
    ) -> Result<(Arc<Block>, usize), SyncException> {
        let abort_ec = if self.el == 0 {
            ExceptionClass::InstAbortLower
        } else {
            ExceptionClass::InstAbortSame
        };
        if pc & 3 != 0 {
            return Err(SyncException {
                esr: esr(ExceptionClass::PcAlignment, 0),
                far: Some(pc),
                elr: pc,
            });
        }
        // The index is masked to the table size, so `get` always succeeds.
        let slot = ((pc >> 2) as usize) & (JUMP_CACHE_SIZE - 1);
        if let Some(Some(e)) = self.jump_cache.get(slot) {
            if e.va == pc && e.el == self.el {
                return Ok((e.block.clone(), slot));
            }
        }
        let abort = |f: Fault| SyncException {
            esr: esr(abort_ec, f.status_code()),
            far: Some(pc),
            elr: pc,
        };
        let pa = bus.fetch_pa(pc, self.el).map_err(abort)?;
        let regime = bus.regime(self.el);
        let block = match self.cache.get((pa, regime)) {
            Some(b) => b,
            None => {
                // Keep the block inside the virtual page as well as the
                // physical one.
                let room = ((PAGE_SIZE - (pc & (PAGE_SIZE - 1))) / 4) as usize;
                let max = self.config.max_block_insns.min(room);
                let block = Block::translate(bus, pa, max).map_err(abort)?;
                self.host_tlb_protect_code(pa);
                self.cache.insert(regime, block)
            }
        };
        if let Some(e) = self.jump_cache.get_mut(slot) {
            *e = Some(JumpEntry {
                va: pc,
                el: self.el,
                block: block.clone(),
                regime,
                hits: 0,
                code: 0,
                code_spsel: false,
            });
        }
        Ok((block, slot))
    }

    /// The compiled code to run for the block just looked up in jump-cache
    /// `slot`, compiling it once it is hot; `None` to interpret it.
    /// `chain_from`: the chaining site (or 0) of the compiled block that
    /// jumped here, with no state change in between, to link to this
    /// block's code.
    #[inline]
    fn jit_code<B: CpuBus + ?Sized>(
        &mut self,
        _bus: &B,
        slot: usize,
        block: &Arc<Block>,
        chain_from: u64,
    ) -> Option<u64> {
        let jit = self.jit.as_mut()?;
        let e = self.jump_cache.get_mut(slot)?.as_mut()?;
        let key = JitKey {
            pa: block.pa,
            regime: e.regime,
            va: e.va,
            el: self.el,
            spsel: self.spsel,
        };
        if e.code > DECLINED && e.code_spsel == self.spsel {
            if chain_from != 0 {
                jit.link(chain_from, &key);
            }
            let (va, code) = (e.va, e.code);
            self.jump_table_set(va, code);
            return Some(code);
        }
        if e.code == DECLINED {
            return None;
        }
        e.hits = e.hits.saturating_add(1);
        if e.hits < jit.threshold() {
            return None;
        }
        let mut flushed = false;
        let code = match jit.lookup(&key) {
            Some(c) => c,
            None => jit.compile(key, block, jit_callbacks::<B>(), &mut flushed),
        };
        e.code = code.max(DECLINED);
        e.code_spsel = self.spsel;
        let va = e.va;
        if flushed {
            // Every other entry's code is gone.
            for (i, other) in self.jump_cache.iter_mut().enumerate() {
                if let (true, Some(o)) = (i != slot, other.as_mut()) {
                    o.code = 0;
                }
            }
            self.jump_table_clear();
        }
        if code > DECLINED {
            self.jump_table_set(va, code);
            Some(code)
        } else {
            None
        }
    }

    /// Let translated code branch to `code` for the block at `va` (at the
    /// current EL and SPSel) through the jump table.
    #[inline]
    fn jump_table_set(&mut self, va: u64, code: u64) {
        if let Some(e) = self.regs.jumps.get_mut(JumpTableEntry::index(va)) {
            *e = JumpTableEntry {
                tag: JumpTableEntry::tag(va, self.el, self.spsel),
                code,
            };
            self.jump_table_used = true;
        }
    }

    /// Empty the jump table: its code may be gone, or its addresses now
    /// name other blocks.
    fn jump_table_clear(&mut self) {
        if self.jump_table_used {
            self.regs.jumps = [JumpTableEntry::EMPTY; JUMP_TABLE_ENTRIES];
            self.jump_table_used = false;
        }
    }

    /// Run compiled code; results as [`Cpu::exec_block`]. Remembers the
    /// chaining site the code left through, if any, for [`Cpu::jit_code`].
    fn exec_jit<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        code: u64,
    ) -> Option<Result<Exit, SyncException>> {
        let entry = self.jit.as_ref().map(|j| j.entry())?;
        self.refresh_fp_fast();
        let result = run_compiled(self, bus, entry, code);
        if let Some(j) = self.jit.as_mut() {
            j.note_run();
            j.collect();
        }
        match result {
            Ok(site) => {
                self.chain_site = site;
                None
            }
            Err(pending) => pending,
        }
    }

    /// Execute one op at `pc` (the JIT's path into the interpreter).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // JIT back ends only
    pub(in crate::translate) fn exec_one<B: CpuBus + ?Sized>(
        &mut self,
        op: &Op,
        pc: u64,
        bus: &mut B,
    ) -> Flow {
        if let Some(j) = self.jit.as_mut() {
            j.note_interpreted();
        }
        let flow = self.exec(op, pc, bus);
        self.refresh_fp_fast();
        flow
    }

    /// Execute one block from `self.regs.pc`. `None`: continue with the next
    /// block; `Some(Ok(exit))`: return to the home; `Some(Err(e))`: take
    /// the synchronous exception `e`.
    fn exec_block<B: CpuBus + ?Sized>(
        &mut self,
        block: &Block,
        bus: &mut B,
    ) -> Option<Result<Exit, SyncException>> {
        let mut pc = self.regs.pc;
        for op in &block.ops {
            self.regs.icount = self.regs.icount.wrapping_add(1);
            match self.exec(op, pc, bus) {
                Flow::Next => pc = pc.wrapping_add(4),
                Flow::Jump(target) => {
                    self.regs.pc = target;
                    return None;
                }
                Flow::Exc(e) => {
                    self.regs.pc = pc;
                    return Some(Err(e));
                }
                Flow::Exit(exit) => return Some(Ok(exit)),
            }
        }
        self.regs.pc = pc;
        None
    }

    #[inline]
    fn set_flags_if(&mut self, live: bool, nzcv: u32) {
        if live {
            self.regs.nzcv = nzcv;
        }
    }

    /// Execute one op at `pc`. Always inlined into the block loop (its
    /// only caller): when the match grew by one arm (LSE), LLVM stopped
    /// inlining it and every guest instruction paid a call, +14% host
    /// instructions per guest instruction on the integer workloads.
    #[inline(always)]
    fn exec<B: CpuBus + ?Sized>(&mut self, op: &Op, pc: u64, bus: &mut B) -> Flow {
        let live = op.flags;
        match op.insn {
            Insn::Undefined => return self.undefined(pc),
            Insn::Nop => {}
            Insn::Wfi => {
                if self.el == 0 && self.sys.sctlr & sr::SCTLR_NTWI == 0 {
                    return self.sync(ExceptionClass::Wf, WF_ISS, None, pc);
                }
                if self.irq || self.fiq {
                    // An interrupt is already pending (masked or not): WFI
                    // completes at once.
                    return Flow::Jump(pc.wrapping_add(4));
                }
                self.regs.pc = pc.wrapping_add(4);
                return Flow::Exit(Exit::Wfi);
            }
            Insn::Wfe => {
                if self.el == 0 && self.sys.sctlr & sr::SCTLR_NTWE == 0 {
                    return self.sync(ExceptionClass::Wf, WF_ISS | 1, None, pc);
                }
                self.regs.pc = pc.wrapping_add(4);
                return Flow::Exit(Exit::Wfe);
            }
            Insn::Adr { rd, imm, page } => {
                let base = if page { pc & !0xfff } else { pc };
                self.set_x(rd, base.wrapping_add(imm as u64));
            }
            Insn::AddSubImm {
                sf,
                sub,
                s,
                rd,
                rn,
                imm,
            } => {
                let (y, c) = if sub { (!imm, true) } else { (imm, false) };
                let a = self.x(rn);
                if s && live {
                    let (r, f) = add_with_carry(sf, a, y, c);
                    self.regs.nzcv = f;
                    self.set_x(rd, r);
                } else {
                    self.set_x(rd, mask(sf, a.wrapping_add(y).wrapping_add(u64::from(c))));
                }
            }
            Insn::LogicImm {
                sf,
                op,
                rd,
                rn,
                imm,
            } => {
                let r = self.logic(sf, op, self.x(rn), imm, live);
                self.set_x(rd, r);
            }
            Insn::MovWide {
                sf,
                op,
                rd,
                imm16,
                shift,
            } => {
                let v = u64::from(imm16) << (shift & 63);
                let r = match op {
                    MovWide::N => !v,
                    MovWide::Z => v,
                    MovWide::K => (self.x(rd) & !(0xffffu64 << (shift & 63))) | v,
                };
                self.set_x(rd, mask(sf, r));
            }
            Insn::Bitfield {
                sf,
                op,
                rd,
                rn,
                immr,
                imms,
            } => {
                let r = self.bitfield(sf, op, rd, rn, u32::from(immr), u32::from(imms));
                self.set_x(rd, r);
            }
            Insn::Extr {
                sf,
                rd,
                rn,
                rm,
                lsb,
            } => {
                let (hi, lo, lsb) = (self.x(rn), self.x(rm), u32::from(lsb));
                let r = if sf {
                    if lsb == 0 {
                        lo
                    } else {
                        (lo >> lsb) | (hi << (64 - lsb))
                    }
                } else {
                    let cat = ((hi & 0xffff_ffff) << 32) | (lo & 0xffff_ffff);
                    (cat >> lsb) & 0xffff_ffff
                };
                self.set_x(rd, r);
            }
            Insn::LogicReg {
                sf,
                op,
                invert,
                shift,
                amount,
                rd,
                rn,
                rm,
            } => {
                let mut b = shift_reg(sf, mask(sf, self.x(rm)), shift, u32::from(amount));
                if invert {
                    b = mask(sf, !b);
                }
                let r = self.logic(sf, op, self.x(rn), b, live);
                self.set_x(rd, r);
            }
            Insn::AddSubReg {
                sf,
                sub,
                s,
                shift,
                amount,
                rd,
                rn,
                rm,
            } => {
                let b = shift_reg(sf, mask(sf, self.x(rm)), shift, u32::from(amount));
                self.addsub(sf, sub, s && live, rd, self.x(rn), b);
            }
            Insn::AddSubExt {
                sf,
                sub,
                s,
                ext,
                amount,
                rd,
                rn,
                rm,
            } => {
                let b = mask(sf, ext.apply(self.x(rm)) << amount);
                self.addsub(sf, sub, s && live, rd, self.x(rn), b);
            }
            Insn::AddSubCarry {
                sf,
                sub,
                s,
                rd,
                rn,
                rm,
            } => {
                let b = self.x(rm);
                let y = if sub { !b } else { b };
                let carry = self.regs.nzcv & (1 << 29) != 0;
                let (r, f) = add_with_carry(sf, self.x(rn), y, carry);
                self.set_flags_if(s && live, f);
                self.set_x(rd, mask(sf, r));
            }
            Insn::CondCmp {
                sf,
                sub,
                imm,
                rn,
                rm_imm,
                cond,
                nzcv,
            } => {
                if live {
                    self.regs.nzcv = if cond_holds(cond, self.regs.nzcv) {
                        let b = if imm {
                            u64::from(rm_imm)
                        } else {
                            self.x(rm_imm)
                        };
                        let (y, c) = if sub { (!b, true) } else { (b, false) };
                        add_with_carry(sf, self.x(rn), y, c).1
                    } else {
                        u32::from(nzcv) << 28
                    };
                }
            }
            Insn::CondSel {
                sf,
                op,
                rd,
                rn,
                rm,
                cond,
            } => {
                let r = if cond_holds(cond, self.regs.nzcv) {
                    self.x(rn)
                } else {
                    let b = self.x(rm);
                    match op {
                        Csel::Csel => b,
                        Csel::Csinc => b.wrapping_add(1),
                        Csel::Csinv => !b,
                        Csel::Csneg => b.wrapping_neg(),
                    }
                };
                self.set_x(rd, mask(sf, r));
            }
            Insn::Dp2 { sf, op, rd, rn, rm } => {
                let r = self.dp2(sf, op, self.x(rn), self.x(rm));
                self.set_x(rd, r);
            }
            Insn::Dp1 { sf, op, rd, rn } => {
                let r = dp1(sf, op, mask(sf, self.x(rn)));
                self.set_x(rd, r);
            }
            Insn::Dp3 {
                sf,
                op,
                rd,
                rn,
                rm,
                ra,
            } => {
                let (n, m, a) = (self.x(rn), self.x(rm), self.x(ra));
                let r = match op {
                    Dp3::Madd => a.wrapping_add(n.wrapping_mul(m)),
                    Dp3::Msub => a.wrapping_sub(n.wrapping_mul(m)),
                    Dp3::Smaddl => {
                        a.wrapping_add((n as i32 as i64).wrapping_mul(m as i32 as i64) as u64)
                    }
                    Dp3::Smsubl => {
                        a.wrapping_sub((n as i32 as i64).wrapping_mul(m as i32 as i64) as u64)
                    }
                    Dp3::Umaddl => a.wrapping_add((n & 0xffff_ffff) * (m & 0xffff_ffff)),
                    Dp3::Umsubl => a.wrapping_sub((n & 0xffff_ffff) * (m & 0xffff_ffff)),
                    Dp3::Smulh => ((i128::from(n as i64) * i128::from(m as i64)) >> 64) as u64,
                    Dp3::Umulh => ((u128::from(n) * u128::from(m)) >> 64) as u64,
                };
                self.set_x(rd, mask(sf, r));
            }
            Insn::B { off, link } => {
                if link {
                    self.set_x(30, pc.wrapping_add(4));
                }
                return Flow::Jump(pc.wrapping_add(off as u64));
            }
            Insn::BCond { cond, off } => {
                return Flow::Jump(if cond_holds(cond, self.regs.nzcv) {
                    pc.wrapping_add(off as u64)
                } else {
                    pc.wrapping_add(4)
                });
            }
            Insn::Cbz { sf, nz, rt, off } => {
                let zero = mask(sf, self.x(rt)) == 0;
                return Flow::Jump(if zero != nz {
                    pc.wrapping_add(off as u64)
                } else {
                    pc.wrapping_add(4)
                });
            }
            Insn::Tbz { nz, bit, rt, off } => {
                let set = (self.x(rt) >> (bit & 63)) & 1 != 0;
                return Flow::Jump(if set == nz {
                    pc.wrapping_add(off as u64)
                } else {
                    pc.wrapping_add(4)
                });
            }
            Insn::BrReg { op, rn } => {
                let target = self.x(rn);
                if op == BranchReg::Blr {
                    self.set_x(30, pc.wrapping_add(4));
                }
                return Flow::Jump(target);
            }
            Insn::Eret => {
                if self.el == 0 {
                    return self.undefined(pc);
                }
                self.eret();
                return Flow::Jump(self.regs.pc);
            }
            Insn::Svc { imm } => {
                return self.sync(
                    ExceptionClass::Svc64,
                    u32::from(imm),
                    None,
                    pc.wrapping_add(4),
                );
            }
            Insn::Hvc { imm } => {
                if self.el == 0 {
                    return self.undefined(pc);
                }
                self.regs.pc = pc.wrapping_add(4);
                return Flow::Exit(Exit::Hvc { imm });
            }
            Insn::Smc { imm } => {
                if self.el == 0 {
                    return self.undefined(pc);
                }
                self.regs.pc = pc.wrapping_add(4);
                return Flow::Exit(Exit::Smc { imm });
            }
            Insn::Brk { imm } => {
                return self.sync(ExceptionClass::Brk64, u32::from(imm), None, pc);
            }
            Insn::Barrier(b) => {
                if b == Barrier::Clrex {
                    self.monitor = None;
                }
            }
            Insn::MsrImm { field, imm } => {
                if self.el == 0 {
                    if field == PstateField::SpSel {
                        return self.undefined(pc);
                    }
                    if self.sys.sctlr & sr::SCTLR_UMA == 0 {
                        let op2 = if field == PstateField::DaifSet { 6 } else { 7 };
                        let enc = SysRegEnc::new(0, 3, 4, imm, op2);
                        return self.sysreg_trap(pc, enc, 31, false);
                    }
                }
                let bits = u32::from(imm & 15) << 6;
                match field {
                    PstateField::SpSel => self.spsel = imm & 1 != 0,
                    PstateField::DaifSet => self.daif |= bits,
                    PstateField::DaifClr => self.daif &= !bits,
                }
            }
            Insn::Sys {
                op1,
                crn,
                crm,
                op2,
                rt,
            } => return self.sys_op(bus, pc, op1, crn, crm, op2, rt),
            Insn::Mrs { reg, rt }
                if self.el == 0 && SysRegs::el0_readable(reg) && !self.sys.el0_enabled(reg) =>
            {
                return self.sysreg_trap(pc, reg, rt, true);
            }
            Insn::Msr { reg, rt }
                if self.el == 0 && SysRegs::el0_writable(reg) && !self.sys.el0_enabled(reg) =>
            {
                return self.sysreg_trap(pc, reg, rt, false);
            }
            Insn::Mrs { reg, rt } => {
                if matches!(reg, sr::FPCR | sr::FPSR) && !self.fp_enabled() {
                    return self.fp_trap(pc);
                }
                match self.read_sysreg(bus, reg) {
                    Some(v) => self.set_x(rt, v),
                    None => return self.undefined(pc),
                }
            }
            Insn::Msr { reg, rt } => {
                if matches!(reg, sr::FPCR | sr::FPSR) && !self.fp_enabled() {
                    return self.fp_trap(pc);
                }
                if !self.write_sysreg(bus, reg, self.x(rt)) {
                    return self.undefined(pc);
                }
            }
            Insn::Mem { op, rt, rn, mode } => return self.mem(bus, pc, op, rt, rn, mode),
            Insn::Pair {
                op,
                rt,
                rt2,
                rn,
                mode,
            } => return self.pair(bus, pc, op, rt, rt2, rn, mode),
            Insn::Excl {
                kind,
                size_log2,
                pair,
                rs,
                rt,
                rt2,
                rn,
            } => return self.excl(bus, pc, kind, size_log2, pair, rs, rt, rt2, rn),
            Insn::Atomic(a) => return self.atomic(bus, pc, a),
            Insn::Fp(f) => {
                if !self.fp_enabled() {
                    return self.fp_trap(pc);
                }
                if matches!(f, FpInsn::LdStMulti { .. } | FpInsn::LdStSingle { .. }) {
                    return self.simd_ldst(bus, pc, &f);
                }
                if !fp::execute(self, &f, live) {
                    return self.undefined(pc);
                }
            }
        }
        Flow::Next
    }

    #[inline]
    fn logic(&mut self, sf: bool, op: LogicOp, a: u64, b: u64, live: bool) -> u64 {
        let r = mask(
            sf,
            match op {
                LogicOp::And | LogicOp::Ands => a & b,
                LogicOp::Orr => a | b,
                LogicOp::Eor => a ^ b,
            },
        );
        if op == LogicOp::Ands && live {
            let n = if sf { r >> 63 } else { r >> 31 } & 1 != 0;
            self.regs.nzcv = pack_nzcv(n, r == 0, false, false);
        }
        r
    }

    #[inline]
    fn addsub(&mut self, sf: bool, sub: bool, set_flags: bool, rd: u8, a: u64, b: u64) {
        let (y, c) = if sub { (!b, true) } else { (b, false) };
        if set_flags {
            let (r, f) = add_with_carry(sf, a, y, c);
            self.regs.nzcv = f;
            self.set_x(rd, r);
        } else {
            self.set_x(rd, mask(sf, a.wrapping_add(y).wrapping_add(u64::from(c))));
        }
    }

    fn bitfield(&self, sf: bool, op: Bitfield, rd: u8, rn: u8, r: u32, s: u32) -> u64 {
        let size = if sf { 64 } else { 32 };
        let src = mask(sf, self.x(rn));
        let (field, width, pos) = if s >= r {
            let width = s - r + 1;
            ((src >> r) & ones(width), width, 0)
        } else {
            let width = s + 1;
            (src & ones(width), width, size - r)
        };
        let out = match op {
            Bitfield::Ubfm => field << pos,
            Bitfield::Sbfm => {
                let sh = 64 - width;
                ((((field << sh) as i64) >> sh) as u64) << pos
            }
            Bitfield::Bfm => (self.x(rd) & !(ones(width) << pos)) | (field << pos),
        };
        mask(sf, out)
    }

    fn dp2(&self, sf: bool, op: Dp2, a: u64, b: u64) -> u64 {
        let a = mask(sf, a);
        let b = mask(sf, b);
        let size = if sf { 64 } else { 32 };
        let r = match op {
            Dp2::Udiv => a.checked_div(b).unwrap_or(0),
            Dp2::Sdiv => {
                if b == 0 {
                    0
                } else if sf {
                    (a as i64).wrapping_div(b as i64) as u64
                } else {
                    (a as u32 as i32).wrapping_div(b as u32 as i32) as u32 as u64
                }
            }
            Dp2::Lslv => shift_reg(sf, a, Shift::Lsl, (b % size) as u32),
            Dp2::Lsrv => shift_reg(sf, a, Shift::Lsr, (b % size) as u32),
            Dp2::Asrv => shift_reg(sf, a, Shift::Asr, (b % size) as u32),
            Dp2::Rorv => shift_reg(sf, a, Shift::Ror, (b % size) as u32),
            Dp2::Crc32 {
                size_log2,
                castagnoli,
            } => u64::from(super::crc::crc32(a as u32, b, 1 << size_log2, castagnoli)),
        };
        mask(sf, r)
    }

    fn read_sysreg<B: CpuBus + ?Sized>(&mut self, bus: &mut B, reg: SysRegEnc) -> Option<u64> {
        if (self.el == 0 && !SysRegs::el0_readable(reg)) || bus.traps_sysreg(reg) {
            return None;
        }
        let counter = self.counter();
        Some(match reg {
            sr::NZCV => u64::from(self.regs.nzcv),
            sr::DAIF => u64::from(self.daif),
            sr::CURRENT_EL => u64::from(self.el) << 2,
            sr::SPSEL => u64::from(self.spsel),
            sr::SP_EL0 if self.spsel => self.regs.sp[0],
            sr::SP_EL0 => return None,
            sr::REVIDR_EL1 => 0,
            sr::ID_AA64PFR0_EL1 => ID_AA64PFR0,
            sr::ID_AA64ISAR0_EL1 => ID_AA64ISAR0,
            sr::ID_AA64MMFR0_EL1 => ID_AA64MMFR0,
            sr::MIDR_EL1 => self.sys.midr,
            sr::MPIDR_EL1 => self.sys.mpidr,
            sr::CTR_EL0 => CTR_EL0,
            sr::DCZID_EL0 => DCZID_EL0,
            sr::CLIDR_EL1 | sr::CCSIDR_EL1 => 0,
            sr::CNTPCT_EL0 | sr::CNTVCT_EL0 => counter,
            sr::CNTP_TVAL_EL0 => u64::from(self.sys.cntp_cval.wrapping_sub(counter) as u32),
            sr::CNTV_TVAL_EL0 => u64::from(self.sys.cntv_cval.wrapping_sub(counter) as u32),
            // ISTATUS (bit 2): enabled and the condition is met.
            sr::CNTV_CTL_EL0 => {
                let c = self.sys.cntv_ctl;
                c | (u64::from(c & 1 == 1 && counter >= self.sys.cntv_cval) << 2)
            }
            sr::CNTP_CTL_EL0 => {
                let c = self.sys.cntp_ctl;
                c | (u64::from(c & 1 == 1 && counter >= self.sys.cntp_cval) << 2)
            }
            sr::OSLSR_EL1 => self.oslsr,
            r if sr::is_id_space(r) => 0,
            r => match self.sys.storage_mut(r) {
                Some((v, _)) => *v,
                None => bus.sysreg_read(r)?,
            },
        })
    }

    fn write_sysreg<B: CpuBus + ?Sized>(&mut self, bus: &mut B, reg: SysRegEnc, v: u64) -> bool {
        if (self.el == 0 && !SysRegs::el0_writable(reg))
            || SysRegs::read_only(reg)
            || bus.traps_sysreg(reg)
        {
            return false;
        }
        let counter = self.counter();
        match reg {
            sr::NZCV => self.regs.nzcv = (v & NZCV_MASK) as u32,
            sr::DAIF => self.daif = (v & DAIF_MASK) as u32,
            sr::SPSEL => self.spsel = v & 1 != 0,
            sr::SP_EL0 if self.spsel => self.regs.sp[0] = v,
            sr::SP_EL0 => return false,
            sr::CNTP_TVAL_EL0 => {
                self.sys.cntp_cval = counter.wrapping_add(v as u32 as i32 as i64 as u64)
            }
            sr::CNTV_TVAL_EL0 => {
                self.sys.cntv_cval = counter.wrapping_add(v as u32 as i32 as i64 as u64)
            }
            sr::OSLAR_EL1 => self.oslsr = 0b1000 | ((v & 1) << 1),
            sr::SCTLR_EL1 | sr::TTBR0_EL1 | sr::TTBR1_EL1 | sr::TCR_EL1 => {
                if let Some((s, m)) = self.sys.storage_mut(reg) {
                    *s = (*s & !m) | (v & m);
                    bus.translation_changed(reg, *s);
                }
                // The fetch translation may change with these.
                self.flush_jump_cache();
            }
            r => match self.sys.storage_mut(r) {
                Some((s, m)) => *s = (*s & !m) | (v & m),
                None => return bus.sysreg_write(r, v),
            },
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn sys_op<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        pc: u64,
        op1: u8,
        crn: u8,
        crm: u8,
        op2: u8,
        rt: u8,
    ) -> Flow {
        if self.el == 0 {
            if op1 != 3 {
                return self.undefined(pc);
            }
            let zva = (crn, crm, op2) == (7, 4, 1);
            let enable = if zva { sr::SCTLR_DZE } else { sr::SCTLR_UCI };
            if self.sys.sctlr & enable == 0 {
                let enc = SysRegEnc::new(1, op1, crn, crm, op2);
                return self.sysreg_trap(pc, enc, rt, false);
            }
        }
        let arg = self.x(rt);
        match (op1, crn, crm, op2) {
            // DC ZVA: zero an aligned 64-byte block.
            (3, 7, 4, 1) => {
                if self.sys.sctlr & sr::SCTLR_M == 0 {
                    // Zeroing Device memory (everything, with the MMU off)
                    // is an alignment fault.
                    return self.data_abort(arg, Fault::ALIGNMENT, true, pc);
                }
                let base = arg & !(DC_ZVA_BYTES - 1);
                for i in 0..DC_ZVA_BYTES / 8 {
                    let va = base.wrapping_add(i * 8);
                    match bus.store(va, 8, 0, self.el) {
                        Ok(pa) => self.note_store(pa, 8),
                        Err(f) => return self.data_abort(arg, f, true, pc),
                    }
                }
            }
            // IC IALLUIS, IC IALLU.
            (0, 7, 1, 0) | (0, 7, 5, 0) => {
                self.cache.clear();
                if let Some(j) = self.jit.as_mut() {
                    j.invalidate_all();
                }
                self.flush_jump_cache();
                bus.maintenance(Maintenance::InstructionCache, arg);
            }
            // IC IVAU.
            (3, 7, 5, 1) => {
                if let Ok(pa) = bus.fetch_pa(arg, self.el) {
                    self.invalidate_code(pa, 1);
                }
                bus.maintenance(Maintenance::InstructionCache, arg);
            }
            // AT S1E1R/W, S1E0R/W: approximated by the fetch translation.
            (0, 7, 8, 0..=3) => {
                let el = if op2 >= 2 { 0 } else { 1 };
                self.sys.par = match bus.fetch_pa(arg, el) {
                    Ok(pa) => pa & 0x000f_ffff_ffff_f000,
                    Err(f) => 1 | (u64::from(f.status_code()) << 1),
                };
            }
            // DC by VA or set/way.
            (_, 7, _, _) => bus.maintenance(Maintenance::DataCache, arg),
            // TLBI.
            (_, 8, _, _) => {
                self.flush_jump_cache();
                bus.maintenance(
                    Maintenance::Tlbi {
                        op: (u16::from(op1) << 7) | (u16::from(crm) << 3) | u16::from(op2),
                    },
                    arg,
                );
            }
            _ => return self.undefined(pc),
        }
        Flow::Jump(pc.wrapping_add(4))
    }

    /// Effective address and write-back value of an addressing mode.
    #[inline]
    fn address(&self, pc: u64, rn: u8, mode: AddrMode) -> (u64, Option<u64>) {
        match mode {
            AddrMode::Offset(o) => (self.x(rn).wrapping_add(o as u64), None),
            AddrMode::Pre(o) => {
                let a = self.x(rn).wrapping_add(o as u64);
                (a, Some(a))
            }
            AddrMode::Post(o) => {
                let b = self.x(rn);
                (b, Some(b.wrapping_add(o as u64)))
            }
            AddrMode::Reg { rm, ext, shift } => (
                self.x(rn)
                    .wrapping_add(ext.apply(self.x(rm)) << (shift & 7)),
                None,
            ),
            AddrMode::Literal(o) => (pc.wrapping_add(o as u64), None),
        }
    }

    /// Load `1 << size_log2` bytes (up to 16) from an address that must be
    /// a multiple of `align` (a power of two; 1 for none).
    pub(in crate::translate) fn load<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        va: u64,
        size_log2: u8,
        el: u8,
        align: u64,
    ) -> Result<u128, MemFault> {
        let size = 1u64 << (size_log2 & 7);
        if va & align.wrapping_sub(1) != 0 {
            return Err(MemFault(Fault::ALIGNMENT, va));
        }
        if size_log2 >= 4 {
            let lo = self.load(bus, va, 3, el, 1)?;
            let hi = self.load(bus, va.wrapping_add(8), 3, el, 1)?;
            Ok(lo | (hi << 64))
        } else if crosses_page(va, size) {
            // Byte by byte, so a fault names the byte (and page) it hit.
            let mut v = 0u128;
            for i in 0..size {
                let a = va.wrapping_add(i);
                let b = bus.load(a, 1, el).map_err(|f| MemFault(f, a))?;
                v |= u128::from(b & 0xff) << (8 * i);
            }
            Ok(v)
        } else {
            bus.load(va, size as u8, el)
                .map(u128::from)
                .map_err(|f| MemFault(f, va))
        }
    }

    /// Store `1 << size_log2` bytes (up to 16) at a multiple of `align`,
    /// and drop translated code the store overwrote.
    pub(in crate::translate) fn store<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        va: u64,
        size_log2: u8,
        value: u128,
        el: u8,
        align: u64,
    ) -> Result<(), MemFault> {
        let size = 1u64 << (size_log2 & 7);
        if va & align.wrapping_sub(1) != 0 {
            return Err(MemFault(Fault::ALIGNMENT, va));
        }
        if size_log2 >= 4 {
            self.store(bus, va, 3, value & u128::from(u64::MAX), el, 1)?;
            self.store(bus, va.wrapping_add(8), 3, value >> 64, el, 1)?;
        } else if crosses_page(va, size) {
            for i in 0..size {
                let a = va.wrapping_add(i);
                let pa = bus
                    .store(a, 1, (value >> (8 * i)) as u64 & 0xff, el)
                    .map_err(|f| MemFault(f, a))?;
                self.note_store(pa, 1);
            }
        } else {
            let pa = bus
                .store(va, size as u8, value as u64, el)
                .map_err(|f| MemFault(f, va))?;
            self.note_store(pa, size);
        }
        Ok(())
    }

    /// Alignment an ordinary access of `1 << size_log2` bytes needs: its
    /// size when SCTLR_EL1.A is set or the MMU is off (data accesses are
    /// then to Device memory, where unaligned accesses fault), else none.
    /// Device pages with the MMU on are the bus's business.
    #[inline]
    pub(in crate::translate) fn align_for(&self, size_log2: u8) -> u64 {
        if self.sys.sctlr & (sr::SCTLR_A | sr::SCTLR_M) != sr::SCTLR_M {
            1 << (size_log2 & 7)
        } else {
            1
        }
    }

    #[inline]
    fn note_store(&mut self, pa: u64, len: u64) {
        if self.cache.may_hold_code(pa, len) && self.cache.invalidate_range(pa, len) {
            self.code_dropped(pa, len);
        }
    }

    /// Register value to store for Rt of `op`.
    #[inline]
    fn store_value(&self, op: MemOp, rt: u8) -> u128 {
        if op.fp {
            self.v(rt)
        } else {
            u128::from(self.x(rt))
        }
    }

    /// Write a loaded value to Rt with the extension `op` asks for.
    #[inline]
    fn write_loaded(&mut self, op: MemOp, rt: u8, raw: u128) {
        if op.fp {
            self.set_v(rt, raw);
            return;
        }
        let v = raw as u64;
        let bits = 8u32 << (op.size_log2 & 3);
        let r = match op.kind {
            MemKind::LoadSx64 => {
                let sh = 64 - bits;
                (((v << sh) as i64) >> sh) as u64
            }
            MemKind::LoadSx32 => {
                let sh = 64 - bits;
                ((((v << sh) as i64) >> sh) as u64) & 0xffff_ffff
            }
            _ => v,
        };
        self.set_x(rt, r);
    }

    fn mem<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        pc: u64,
        op: MemOp,
        rt: u8,
        rn: u8,
        mode: AddrMode,
    ) -> Flow {
        if op.fp && !self.fp_enabled() {
            return self.fp_trap(pc);
        }
        let (va, wb) = self.address(pc, rn, mode);
        let el = if op.unpriv { 0 } else { self.el };
        let align = self.align_for(op.size_log2);
        match op.kind {
            MemKind::Prefetch => return Flow::Next,
            MemKind::Store => {
                let v = self.store_value(op, rt);
                if let Err(f) = self.store(bus, va, op.size_log2, v, el, align) {
                    return self.data_abort(f.1, f.0, true, pc);
                }
                self.fill_for_simd(bus, op, va, el, true);
            }
            _ => match self.load(bus, va, op.size_log2, el, align) {
                Ok(raw) => {
                    self.fill_for_simd(bus, op, va, el, false);
                    if let Some(a) = wb {
                        self.set_x(rn, a);
                    }
                    self.write_loaded(op, rt, raw);
                    return Flow::Next;
                }
                Err(f) => return self.data_abort(f.1, f.0, false, pc),
            },
        }
        if let Some(a) = wb {
            self.set_x(rn, a);
        }
        Flow::Next
    }

    #[allow(clippy::too_many_arguments)]
    fn pair<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        pc: u64,
        op: MemOp,
        rt: u8,
        rt2: u8,
        rn: u8,
        mode: AddrMode,
    ) -> Flow {
        if op.fp && !self.fp_enabled() {
            return self.fp_trap(pc);
        }
        let (va, wb) = self.address(pc, rn, mode);
        let va2 = va.wrapping_add(1 << op.size_log2);
        let el = self.el;
        let align = self.align_for(op.size_log2);
        if op.kind == MemKind::Store {
            let (a, b) = (self.store_value(op, rt), self.store_value(op, rt2));
            if let Err(f) = self.store(bus, va, op.size_log2, a, el, align) {
                return self.data_abort(f.1, f.0, true, pc);
            }
            if let Err(f) = self.store(bus, va2, op.size_log2, b, el, align) {
                return self.data_abort(f.1, f.0, true, pc);
            }
            self.fill_for_simd(bus, op, va, el, true);
            self.fill_for_simd(bus, op, va2, el, true);
        } else {
            let a = match self.load(bus, va, op.size_log2, el, align) {
                Ok(v) => v,
                Err(f) => return self.data_abort(f.1, f.0, false, pc),
            };
            let b = match self.load(bus, va2, op.size_log2, el, align) {
                Ok(v) => v,
                Err(f) => return self.data_abort(f.1, f.0, false, pc),
            };
            self.fill_for_simd(bus, op, va, el, false);
            self.fill_for_simd(bus, op, va2, el, false);
            if let Some(w) = wb {
                self.set_x(rn, w);
            }
            self.write_loaded(op, rt, a);
            self.write_loaded(op, rt2, b);
            return Flow::Next;
        }
        if let Some(w) = wb {
            self.set_x(rn, w);
        }
        Flow::Next
    }

    /// After a SIMD&FP access, fill the JIT's host TLB for its page: their
    /// slow path is this interpreter code, not the JIT's load and store
    /// callbacks, which fill it for the integer accesses.
    fn fill_for_simd<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        op: MemOp,
        va: u64,
        el: u8,
        write: bool,
    ) {
        if op.fp && self.jit.is_some() {
            self.host_tlb_fill(bus, va, el, write);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn excl<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        pc: u64,
        kind: ExclKind,
        size_log2: u8,
        pair: bool,
        rs: u8,
        rt: u8,
        rt2: u8,
        rn: u8,
    ) -> Flow {
        let va = self.x(rn);
        let el = self.el;
        let elem = 1u64 << (size_log2 & 3);
        let total = if pair { elem * 2 } else { elem };
        if va & (total - 1) != 0 {
            let write = matches!(kind, ExclKind::StoreExcl | ExclKind::StoreRelease);
            return self.data_abort(va, Fault::ALIGNMENT, write, pc);
        }
        let op = MemOp {
            size_log2,
            kind: MemKind::Load,
            fp: false,
            unpriv: false,
        };
        match kind {
            ExclKind::LoadExcl | ExclKind::LoadAcquire => {
                let a = match self.load(bus, va, size_log2, el, elem) {
                    Ok(v) => v,
                    Err(f) => return self.data_abort(f.1, f.0, false, pc),
                };
                let b = if pair {
                    match self.load(bus, va.wrapping_add(elem), size_log2, el, elem) {
                        Ok(v) => Some(v),
                        Err(f) => return self.data_abort(f.1, f.0, false, pc),
                    }
                } else {
                    None
                };
                if kind == ExclKind::LoadExcl {
                    self.monitor = Some(Monitor {
                        va,
                        total,
                        values: (a, b),
                    });
                }
                self.write_loaded(op, rt, a);
                if let Some(b) = b {
                    self.write_loaded(op, rt2, b);
                }
            }
            ExclKind::StoreRelease => {
                let v = u128::from(self.x(rt));
                if let Err(f) = self.store(bus, va, size_log2, v, el, elem) {
                    return self.data_abort(f.1, f.0, true, pc);
                }
            }
            ExclKind::StoreExcl => {
                let armed = self
                    .monitor
                    .take()
                    .filter(|m| m.va == va && m.total == total);
                let ok = match armed {
                    None => false,
                    Some(m) => {
                        let a = match self.load(bus, va, size_log2, el, elem) {
                            Ok(v) => v,
                            Err(f) => return self.data_abort(f.1, f.0, true, pc),
                        };
                        let b = if pair {
                            let va2 = va.wrapping_add(elem);
                            match self.load(bus, va2, size_log2, el, elem) {
                                Ok(v) => Some(v),
                                Err(f) => return self.data_abort(f.1, f.0, true, pc),
                            }
                        } else {
                            None
                        };
                        (a, b) == m.values
                    }
                };
                if ok {
                    let a = u128::from(self.x(rt));
                    if let Err(f) = self.store(bus, va, size_log2, a, el, elem) {
                        return self.data_abort(f.1, f.0, true, pc);
                    }
                    if pair {
                        let b = u128::from(self.x(rt2));
                        let va2 = va.wrapping_add(elem);
                        if let Err(f) = self.store(bus, va2, size_log2, b, el, elem) {
                            return self.data_abort(f.1, f.0, true, pc);
                        }
                    }
                }
                self.set_x(rs, u64::from(!ok));
            }
        }
        Flow::Next
    }
}

fn dp1(sf: bool, op: Dp1, a: u64) -> u64 {
    match (op, sf) {
        (Dp1::Rbit, true) => a.reverse_bits(),
        (Dp1::Rbit, false) => u64::from((a as u32).reverse_bits()),
        (Dp1::Rev16, _) => {
            let m = 0x00ff_00ff_00ff_00ffu64;
            mask(sf, ((a & m) << 8) | ((a >> 8) & m))
        }
        (Dp1::Rev32, _) => {
            u64::from((a as u32).swap_bytes()) | (u64::from(((a >> 32) as u32).swap_bytes()) << 32)
        }
        (Dp1::Rev, true) => a.swap_bytes(),
        (Dp1::Rev, false) => u64::from((a as u32).swap_bytes()),
        (Dp1::Clz, true) => u64::from(a.leading_zeros()),
        (Dp1::Clz, false) => u64::from((a as u32).leading_zeros()),
        (Dp1::Cls, true) => u64::from(((a ^ (a << 1)) | 1).leading_zeros()),
        (Dp1::Cls, false) => {
            let w = a as u32;
            u64::from(((w ^ (w << 1)) | 1).leading_zeros())
        }
    }
}

/// The callbacks generated code is built for, for bus type `B`.
#[cfg(target_arch = "x86_64")]
fn jit_callbacks<B: CpuBus + ?Sized>() -> Callbacks {
    let (load, store) = super::jit::native::access_addrs::<B>();
    Callbacks {
        interp: super::jit::native::interp_one_addr::<B>(),
        load,
        store,
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::extra_unused_type_parameters)] // same signature as on x86_64
fn jit_callbacks<B: CpuBus + ?Sized>() -> Callbacks {
    Callbacks::default()
}

#[cfg(target_arch = "x86_64")]
fn run_compiled<B: CpuBus + ?Sized>(
    cpu: &mut Cpu,
    bus: &mut B,
    entry: u64,
    code: u64,
) -> Result<u64, Option<Result<Exit, SyncException>>> {
    super::jit::native::run_block(cpu, bus, entry, code)
}

/// Without a back end no code is ever compiled, so this is never reached.
#[cfg(not(target_arch = "x86_64"))]
fn run_compiled<B: CpuBus + ?Sized>(
    _cpu: &mut Cpu,
    _bus: &mut B,
    _entry: u64,
    _code: u64,
) -> Result<u64, Option<Result<Exit, SyncException>>> {
    Err(None)
}
