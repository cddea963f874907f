//! Differential checking of the JIT against the interpreter, shared by
//! `tests/jit.rs` and the `jit` cargo-fuzz target.
//!
//! A [`Pair`] is two identical guests: same RAM (code, a vector table,
//! data pages), same unmapped hole past the end of RAM, same MMIO
//! recorder device, same registers. One is interpreted, the other has a
//! JIT attached. [`Pair::run`] runs both with the same budget and
//! compares everything a guest or its home can observe: the [`Exit`], X0..X30,
//! both stack pointers, PC, PSTATE, V0..V31, the instruction count, the
//! system registers (ESR/FAR/ELR/SPSR of the exceptions taken), all of
//! RAM and the MMIO accesses in order.
//!
//! Guest exceptions go to a small handler (see [`VECTORS`]) that records
//! them in X26..X29 and returns past the faulting instruction, so a fault
//! in the middle of compiled code is followed by more compiled code.

use std::sync::{Arc, Mutex};

use hv_core::mem::{GuestMemory, GuestRam};
use hv_core::mmio::{AccessWidth, MmioBus, MmioDevice};
use hv_core::translate::jit::{Jit, JitStats};
use hv_core::translate::sysreg::{self, SysRegs, SCTLR_M};
use hv_core::translate::{asm, Cpu, CpuConfig, Exit, FlatBus};
use hv_core::GuestAddress;

use crate::code_arena::DualMappedArena;

/// Guest RAM: `[RAM, RAM + RAM_SIZE)`.
pub const RAM: u64 = 0x4000_0000;
/// 64 KiB of RAM.
pub const RAM_SIZE: u64 = 0x1_0000;
/// Two pages of code.
pub const CODE: u64 = RAM;
/// Bytes of code space from [`CODE`].
pub const CODE_SIZE: u64 = 0x2000;
/// The vector table (VBAR_EL1). Synchronous exceptions (any origin) run
/// [`sync_handler`], interrupts [`irq_handler`].
pub const VECTORS: u64 = RAM + 0x2000;
/// Data pages: `[DATA, DATA + DATA_SIZE)`, to the end of RAM.
pub const DATA: u64 = RAM + 0x4000;
/// Bytes of data.
pub const DATA_SIZE: u64 = RAM + RAM_SIZE - DATA;
/// Unmapped: neither RAM nor MMIO, so every access faults (an external
/// abort).
pub const HOLE: u64 = RAM + RAM_SIZE;
/// The MMIO recorder device.
pub const MMIO: u64 = HOLE + 0x1000;
/// Size of the MMIO device.
pub const MMIO_SIZE: u64 = 0x1000;

/// Registers the exception handlers write (X26 counts exceptions, X27 is
/// scratch, X28 = ESR, X29 = FAR); generated programs leave them alone.
pub const HANDLER_REGS: core::ops::RangeInclusive<u8> = 26..=29;

/// The synchronous exception handler: record ESR_EL1 in X28 and FAR_EL1
/// in X29, count in X26, return past the instruction that raised the
/// exception (an SVC's ELR already points past it).
pub fn sync_handler() -> Vec<u32> {
    vec![
        asm::mrs(28, sysreg::ESR_EL1),
        asm::mrs(29, sysreg::FAR_EL1),
        asm::bitfield(true, 2, 26, 63, 28, 27), // LSR X27, X28, #26: the EC
        asm::cmp_imm(true, 27, 0x15),           // SVC
        asm::mrs(27, sysreg::ELR_EL1),
        asm::b_cond(asm::EQ, 8),
        asm::add_imm(true, 27, 27, 4),
        asm::msr(sysreg::ELR_EL1, 27),
        asm::add_imm(true, 26, 26, 1),
        asm::ERET,
    ]
}

/// The IRQ/FIQ handler: count in X26 (by 0x100), and return with
/// interrupts masked (SPSR.I and F set), as the line stays up.
pub fn irq_handler() -> Vec<u32> {
    vec![
        asm::mrs(27, sysreg::SPSR_EL1),
        // ORR X27, X27, #0xc0
        asm::logic_imm(true, 1, true, 58, 1, 27, 27),
        asm::msr(sysreg::SPSR_EL1, 27),
        asm::add_imm(true, 26, 26, 0x100),
        asm::ERET,
    ]
}

/// One MMIO access seen by the recorder device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmioAccess {
    /// A write (else a read).
    pub write: bool,
    /// Offset in the device.
    pub offset: u64,
    /// Width in bytes.
    pub bytes: u64,
    /// Value written or returned.
    pub value: u64,
}

/// A device that logs every access; reads return a value derived from
/// the offset and the number of accesses so far (so a repeated or dropped
/// access shows in the results too).
struct Recorder(Arc<Mutex<Vec<MmioAccess>>>);

impl MmioDevice for Recorder {
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let value =
            (offset.wrapping_mul(0x0101_0101_0101_0101) ^ (log.len() as u64) << 4) & width.mask();
        log.push(MmioAccess {
            write: false,
            offset,
            bytes: width.bytes(),
            value,
        });
        value
    }

    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        log.push(MmioAccess {
            write: true,
            offset,
            bytes: width.bytes(),
            value: value & width.mask(),
        });
    }
}

/// How a pair of guests is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// Runs in the interpreter before a block is compiled (1: at once).
    pub threshold: u32,
    /// SCTLR_EL1.M set: data accesses are to Normal memory, so unaligned
    /// ones are allowed (the bus is flat either way). Clear: every
    /// unaligned access is an alignment fault.
    pub mmu_on: bool,
    /// [`CpuConfig::exit_on_exception`].
    pub exit_on_exception: bool,
    /// [`CpuConfig::max_block_insns`].
    pub max_block_insns: usize,
    /// Size of the JIT's code arena: small ones fill up and are flushed
    /// while the guest runs.
    pub arena_bytes: usize,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            threshold: 1,
            mmu_on: false,
            exit_on_exception: false,
            max_block_insns: CpuConfig::default().max_block_insns,
            arena_bytes: crate::machine::JIT_ARENA_BYTES,
        }
    }
}

/// One guest: CPU, bus and its MMIO log.
#[derive(Debug)]
pub struct Side {
    /// The CPU.
    pub cpu: Cpu,
    /// RAM and MMIO.
    pub bus: FlatBus<GuestRam>,
    /// What the MMIO recorder saw.
    pub mmio: Arc<Mutex<Vec<MmioAccess>>>,
}

impl Side {
    fn new(setup: &Setup, jit: Option<Jit>) -> Side {
        let ram = GuestRam::with_size(GuestAddress(RAM), RAM_SIZE).expect("guest RAM");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut mmio = MmioBus::new();
        mmio.insert(
            GuestAddress(MMIO),
            MMIO_SIZE,
            Box::new(Recorder(log.clone())),
        )
        .expect("MMIO device");
        let mut cpu = Cpu::new(CpuConfig {
            exit_on_exception: setup.exit_on_exception,
            max_block_insns: setup.max_block_insns.max(1),
            ..CpuConfig::default()
        })
        .expect("CPU");
        if let Some(j) = jit {
            cpu.attach_jit(j);
        }
        let mut side = Side {
            cpu,
            bus: FlatBus::new(ram, mmio),
            mmio: log,
        };
        // Data: a pattern, so loads see something other than zeros.
        let data: Vec<u8> = (0..DATA_SIZE)
            .map(|i| (i as u8).wrapping_mul(37) ^ (i >> 8) as u8)
            .collect();
        side.write(DATA, &data);
        for (slot, handler) in [
            (0x000, sync_handler()),
            (0x080, irq_handler()),
            (0x100, irq_handler()),
            (0x200, sync_handler()),
            (0x280, irq_handler()),
            (0x300, irq_handler()),
            (0x400, sync_handler()),
            (0x480, irq_handler()),
            (0x500, irq_handler()),
        ] {
            side.write_words(VECTORS + slot, &handler);
        }
        side.cpu.reset(CODE);
        side.cpu.sys.vbar = VECTORS;
        side.cpu.sys.cpacr = 3 << 20;
        if setup.mmu_on {
            side.cpu.sys.sctlr |= SCTLR_M;
        }
        side.cpu.set_banked_sp(0, DATA + 0x3000);
        side.cpu.set_banked_sp(1, DATA + 0x6000);
        side
    }

    /// Write bytes to guest RAM behind the CPU's back (the caller tells
    /// the CPU with [`Cpu::invalidate_code`] if they may be code).
    pub fn write(&mut self, addr: u64, bytes: &[u8]) {
        self.bus
            .mem
            .write(GuestAddress(addr), bytes)
            .expect("write inside RAM");
    }

    /// Write instruction words at `addr`.
    pub fn write_words(&mut self, addr: u64, words: &[u32]) {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.write(addr, &bytes);
    }

    /// Everything compared between the two guests.
    pub fn snapshot(&self) -> Snapshot {
        let mut ram = vec![0u8; RAM_SIZE as usize];
        self.bus
            .mem
            .read(GuestAddress(RAM), &mut ram)
            .expect("read RAM");
        Snapshot {
            x: core::array::from_fn(|i| self.cpu.x(i as u8)),
            sp: self.cpu.banked_sp(),
            pc: self.cpu.pc(),
            pstate: self.cpu.pstate().bits(),
            v: core::array::from_fn(|i| self.cpu.v(i as u8)),
            icount: self.cpu.icount(),
            sys: self.cpu.sys.clone(),
            ram,
            mmio: self.mmio.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}

/// The observable state of one guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// X0..X30.
    pub x: [u64; 31],
    /// SP_EL0, SP_EL1.
    pub sp: [u64; 2],
    /// PC.
    pub pc: u64,
    /// PSTATE in SPSR layout (NZCV, DAIF, EL, SPSel, IL).
    pub pstate: u64,
    /// V0..V31.
    pub v: [u128; 32],
    /// Instructions retired plus exceptions entered.
    pub icount: u64,
    /// System registers (ESR, FAR, ELR, SPSR of the last exception).
    pub sys: SysRegs,
    /// All of RAM.
    pub ram: Vec<u8>,
    /// MMIO accesses, in order.
    pub mmio: Vec<MmioAccess>,
}

impl Snapshot {
    /// The differences from `other` (the JIT side), one line each; empty
    /// if none.
    pub fn diff(&self, jit: &Snapshot) -> Vec<String> {
        let mut d = Vec::new();
        for (i, (a, b)) in self.x.iter().zip(&jit.x).enumerate() {
            if a != b {
                d.push(format!("X{i}: interp {a:#x}, jit {b:#x}"));
            }
        }
        for (i, (a, b)) in self.sp.iter().zip(&jit.sp).enumerate() {
            if a != b {
                d.push(format!("SP_EL{i}: interp {a:#x}, jit {b:#x}"));
            }
        }
        let mut field = |name: &str, a: u64, b: u64| {
            if a != b {
                d.push(format!("{name}: interp {a:#x}, jit {b:#x}"));
            }
        };
        field("PC", self.pc, jit.pc);
        field("PSTATE", self.pstate, jit.pstate);
        field("icount", self.icount, jit.icount);
        for (i, (a, b)) in self.v.iter().zip(&jit.v).enumerate() {
            if a != b {
                d.push(format!("V{i}: interp {a:#x}, jit {b:#x}"));
            }
        }
        if self.sys != jit.sys {
            d.push(format!(
                "system registers: interp {:x?}, jit {:x?}",
                self.sys, jit.sys
            ));
        }
        let bad: Vec<usize> = if self.ram == jit.ram {
            Vec::new()
        } else {
            (0..self.ram.len())
                .filter(|&i| self.ram.get(i) != jit.ram.get(i))
                .collect()
        };
        for &i in bad.iter().take(8) {
            d.push(format!(
                "RAM {:#x}: interp {:#04x}, jit {:#04x}",
                RAM + i as u64,
                self.ram[i],
                jit.ram[i]
            ));
        }
        if bad.len() > 8 {
            d.push(format!("... {} RAM bytes differ in all", bad.len()));
        }
        if self.mmio != jit.mmio {
            d.push(format!(
                "MMIO log: interp {:x?}, jit {:x?}",
                self.mmio, jit.mmio
            ));
        }
        d
    }
}

/// An interpreted guest and a JIT guest, kept in lockstep.
#[derive(Debug)]
pub struct Pair {
    /// The reference.
    pub interp: Side,
    /// The guest under test.
    pub jit: Side,
}

impl Pair {
    /// Two guests with `code` at `at` (inside the code pages), PC at its
    /// start.
    pub fn new(setup: Setup, at: u64, code: &[u32]) -> Pair {
        let arena = DualMappedArena::new(setup.arena_bytes).expect("executable memory");
        let jit = Jit::new(Box::new(arena), setup.threshold).expect("a JIT on this host");
        let mut p = Pair {
            interp: Side::new(&setup, None),
            jit: Side::new(&setup, Some(jit)),
        };
        p.both(|s| {
            s.write_words(at, code);
            s.cpu.set_pc(at);
        });
        p
    }

    /// Apply `f` to both guests.
    pub fn both(&mut self, mut f: impl FnMut(&mut Side)) {
        f(&mut self.interp);
        f(&mut self.jit);
    }

    /// Set X`n` on both.
    pub fn set_x(&mut self, n: u8, value: u64) {
        self.both(|s| s.cpu.set_x(n, value));
    }

    /// Run both for `budget` instructions and compare. `Err`: a readable
    /// report of every difference.
    pub fn run(&mut self, budget: u64) -> Result<Exit, String> {
        let before = self.interp.snapshot();
        let a = self.interp.cpu.run(&mut self.interp.bus, budget);
        let b = self.jit.cpu.run(&mut self.jit.bus, budget);
        let mut d = Vec::new();
        if a != b {
            d.push(format!("exit: interp {a:x?}, jit {b:x?}"));
        }
        d.extend(self.interp.snapshot().diff(&self.jit.snapshot()));
        if d.is_empty() {
            Ok(a)
        } else {
            Err(format!(
                "JIT and interpreter differ after run({budget}) from PC {:#x} (icount {}):\n  {}",
                before.pc,
                before.icount,
                d.join("\n  ")
            ))
        }
    }

    /// Compare the two guests now.
    pub fn compare(&self) -> Result<(), String> {
        let d = self.interp.snapshot().diff(&self.jit.snapshot());
        if d.is_empty() {
            Ok(())
        } else {
            Err(d.join("\n  "))
        }
    }

    /// The JIT's counters.
    pub fn jit_stats(&self) -> JitStats {
        self.jit.cpu.jit().map(|j| j.stats()).unwrap_or_default()
    }
}

/// Registers X0..X25 at the start of a checked program: small numbers,
/// large numbers, addresses in the data pages, the hole and the MMIO
/// device (so that random loads and stores hit all of them).
pub fn initial_regs(seed: u64) -> [u64; 26] {
    let mut s = seed | 1;
    core::array::from_fn(|i| {
        // xorshift64
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        match i % 8 {
            0 => s & 0xff,
            1 => DATA + (s % DATA_SIZE),
            2 => DATA + 0x1000 * (s % (DATA_SIZE / 0x1000)) + 0xff8,
            3 => HOLE + (s & 0xff8),
            4 => MMIO + (s & 0xff8),
            5 => s,
            6 => s & 0xffff_ffff,
            _ => (s & 0xff).wrapping_neg(),
        }
    })
}

/// Run `words` placed at [`CODE`] with registers from
/// [`initial_regs`]`(seed)`: up to `runs` runs of `budget` instructions
/// each, resuming after every exit, comparing after each. This is the
/// fuzz target's whole body.
pub fn check_words(
    setup: Setup,
    words: &[u32],
    seed: u64,
    runs: usize,
    budget: u64,
) -> Result<(), String> {
    let n = words.len().min((CODE_SIZE / 4) as usize);
    let mut p = Pair::new(setup, CODE, &words[..n]);
    for (i, v) in initial_regs(seed).iter().enumerate() {
        p.set_x(i as u8, *v);
    }
    for _ in 0..runs {
        if let Exit::FaultLoop { .. } = p.run(budget)? {
            break;
        }
    }
    Ok(())
}

/// The `jit` fuzz target: the first byte picks the [`Setup`], the second
/// the register seed, the rest are instruction words. Panics on a
/// difference.
pub fn fuzz_one(data: &[u8]) {
    let Some(([flags, seed], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let flags = *flags;
    let seed = u64::from(*seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let words: Vec<u32> = rest
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let setup = Setup {
        threshold: u32::from(flags & 3) + 1,
        mmu_on: flags & 4 != 0,
        exit_on_exception: flags & 8 != 0,
        max_block_insns: if flags & 16 != 0 { 5 } else { 256 },
        arena_bytes: if flags & 32 != 0 { 8192 } else { 1 << 20 },
    };
    if let Err(e) = check_words(setup, &words, seed, 6, 2000) {
        panic!("{e}");
    }
}
