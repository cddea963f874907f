//! `hv-sim run --engine check`: the interpreter and the JIT run the same
//! guest in lockstep, and the run stops at the first difference.
//!
//! Two machines are built from the same software, one per engine, and
//! step through the run loop slice by slice (so both see interrupts, timers
//! and device completions at the same instruction counts). After every
//! slice their architectural state and console output are compared; RAM
//! every [`RAM_CHECK_INSNS`] instructions and at the end; the disks at the
//! end.
//!
//! On a difference the run starts again from the beginning (the machines
//! are deterministic) and steps both engines one block at a time, so the
//! report names the block whose results differ, the registers or memory
//! words that differ, and for each the instruction of the block that last
//! wrote it. Stepping block by block leaves out one thing the first pass
//! had, chaining between compiled blocks; when the second pass finds no
//! difference the report says so and names the slice.
//!
//! Neither machine writes the user's disk images: each works on its own
//! temporary copy.

use crate::console::{Captured, Stdout, Watch};
use crate::machine::{DiskSpec, Machine, MachineConfig, Software};
use crate::run::{self, Outcome, RunConfig};
use hv_core::addr::GuestAddress;
use hv_core::devices::pl011::CharSink;
use hv_core::mem::GuestMemory;
use hv_core::translate::bus::CpuBus;
use hv_core::translate::ir::{Block, PAGE_SIZE};
use hv_core::translate::jit::ir::{FpOp, GReg, IrOp};
use hv_core::translate::jit::lift::lift;
use hv_core::translate::Exit;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

/// Guest instructions between two comparisons of all of RAM (a comparison
/// reads both machines' RAM; slices are often short, so counting them
/// would compare far more often on a timer-driven guest like Linux).
pub const RAM_CHECK_INSNS: u64 = 1 << 26;

/// Memory words (8 bytes) the block-by-block pass watches.
const WATCHED_WORDS: usize = 4;

/// How a checked run ended.
#[derive(Debug)]
pub enum CheckOutcome {
    /// Both engines ran to the same end with the same state, console,
    /// RAM and disks.
    Agree(run::RunReport),
    /// They differ: what the report says.
    Differ(String),
}

/// The guest's architectural state at a block boundary, as compared.
#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    icount: u64,
    pc: u64,
    el: u8,
    pstate: u64,
    x: [u64; 31],
    sp: [u64; 2],
    v: [u128; 32],
    /// FPSR's cumulative exception flags (and the rest of it).
    fpsr: u64,
    /// The watched memory words (`None`: not readable).
    words: Vec<Option<u64>>,
}

impl State {
    fn of(m: &Machine, watch: &[u64]) -> State {
        let c = &m.cpu;
        State {
            icount: c.icount(),
            pc: c.pc(),
            el: c.el(),
            pstate: c.pstate().bits(),
            x: core::array::from_fn(|i| c.x(i as u8)),
            sp: c.banked_sp(),
            v: core::array::from_fn(|i| c.v(i as u8)),
            fpsr: c.sys.fpsr,
            words: watch
                .iter()
                .map(|&a| m.bus.ram.read_obj::<u64>(GuestAddress(a)).ok())
                .collect(),
        }
    }

    /// What differs between `self` (interpreter) and `jit`, one item per
    /// register, flag set or word.
    fn differences(&self, jit: &State, watch: &[u64]) -> Vec<Difference> {
        let mut d = Vec::new();
        let mut field = |what: Place, a: String, b: String| {
            if a != b {
                d.push(Difference {
                    place: what,
                    interp: a,
                    jit: b,
                });
            }
        };
        field(
            Place::Other("instruction count"),
            self.icount.to_string(),
            jit.icount.to_string(),
        );
        field(
            Place::Other("pc"),
            format!("{:#x}", self.pc),
            format!("{:#x}", jit.pc),
        );
        field(
            Place::Other("exception level"),
            self.el.to_string(),
            jit.el.to_string(),
        );
        field(
            Place::Nzcv,
            format!("{:#x}", self.pstate),
            format!("{:#x}", jit.pstate),
        );
        for i in 0..31 {
            field(
                Place::X(i as u8),
                format!("{:#x}", self.x[i]),
                format!("{:#x}", jit.x[i]),
            );
        }
        for i in 0..2 {
            field(
                Place::Sp(i as u8),
                format!("{:#x}", self.sp[i]),
                format!("{:#x}", jit.sp[i]),
            );
        }
        for i in 0..32 {
            field(
                Place::V(i as u8),
                format!("{:#x}", self.v[i]),
                format!("{:#x}", jit.v[i]),
            );
        }
        field(
            Place::Other("fpsr"),
            format!("{:#x}", self.fpsr),
            format!("{:#x}", jit.fpsr),
        );
        let word = |w: Option<&Option<u64>>| match w.copied().flatten() {
            Some(v) => format!("{v:#x}"),
            None => "unreadable".to_string(),
        };
        for (i, &a) in watch.iter().enumerate() {
            field(
                Place::Word(a),
                word(self.words.get(i)),
                word(jit.words.get(i)),
            );
        }
        d
    }
}

/// Where the engines differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    X(u8),
    V(u8),
    /// SP_EL0 (0) or SP_EL1 (1).
    Sp(u8),
    /// PSTATE, NZCV included.
    Nzcv,
    /// The 8 bytes of guest RAM at this address.
    Word(u64),
    Other(&'static str),
}

#[derive(Debug)]
struct Difference {
    place: Place,
    interp: String,
    jit: String,
}

impl Difference {
    fn name(&self) -> String {
        match self.place {
            Place::X(n) => format!("x{n}"),
            Place::V(n) => format!("v{n}"),
            Place::Sp(n) => format!("sp_el{n}"),
            Place::Nzcv => "pstate (nzcv)".into(),
            Place::Word(a) => format!("memory at {a:#x}"),
            Place::Other(s) => s.into(),
        }
    }
}

/// The two machines of a checked run, with their consoles.
struct Pair {
    interp: Machine,
    jit: Machine,
    interp_console: Captured,
    jit_console: Captured,
    /// Console bytes already compared.
    console_seen: usize,
    interp_stop: Option<Arc<AtomicBool>>,
    jit_stop: Option<Arc<AtomicBool>>,
    disks: DiskCopies,
}

/// Temporary copies of the read-write disks: one per engine, removed when
/// dropped.
struct DiskCopies {
    interp: Vec<PathBuf>,
    jit: Vec<PathBuf>,
}

impl DiskCopies {
    fn new(disks: &[DiskSpec], pass: u32) -> Result<DiskCopies, String> {
        let mut copies = DiskCopies {
            interp: Vec::new(),
            jit: Vec::new(),
        };
        for (i, d) in disks.iter().enumerate().filter(|(_, d)| !d.read_only) {
            for (engine, list) in [("interp", &mut copies.interp), ("jit", &mut copies.jit)] {
                let path = std::env::temp_dir().join(format!(
                    "hv-sim-check-{}-{pass}-{i}-{engine}.img",
                    std::process::id()
                ));
                std::fs::copy(&d.path, &path).map_err(|e| {
                    format!("copying {} to {}: {e}", d.path.display(), path.display())
                })?;
                list.push(path);
            }
        }
        Ok(copies)
    }

    /// `disks` with the read-write ones replaced by `copies`.
    fn specs(disks: &[DiskSpec], copies: &[PathBuf]) -> Vec<DiskSpec> {
        let mut copies = copies.iter();
        disks
            .iter()
            .map(|d| DiskSpec {
                path: if d.read_only {
                    d.path.clone()
                } else {
                    copies.next().cloned().unwrap_or_else(|| d.path.clone())
                },
                read_only: d.read_only,
            })
            .collect()
    }
}

impl DiskCopies {
    /// The first read-write disk whose two copies differ, described.
    fn differ(&self) -> Result<Option<String>, String> {
        for (a, b) in self.interp.iter().zip(&self.jit) {
            let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
            let (da, db) = (read(a)?, read(b)?);
            if da != db {
                let at = da
                    .iter()
                    .zip(&db)
                    .position(|(x, y)| x != y)
                    .unwrap_or(da.len().min(db.len()));
                return Ok(Some(format!(
                    "the disks written differ, first at byte {at} (sector {})",
                    at / 512
                )));
            }
        }
        Ok(None)
    }
}

impl Drop for DiskCopies {
    fn drop(&mut self) {
        for p in self.interp.iter().chain(&self.jit) {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Pair {
    fn new(
        config: &MachineConfig,
        sw: &Software,
        stop_at: Option<&str>,
        threshold: u32,
        pass: u32,
    ) -> Result<Pair, String> {
        let disks = DiskCopies::new(&config.disks, pass)?;
        let build = |jit: Option<u32>, copies: &[PathBuf], console: &Captured| {
            let config = MachineConfig {
                disks: DiskCopies::specs(&config.disks, copies),
                jit,
                ..config.clone()
            };
            match stop_at {
                Some(marker) => {
                    let (sink, seen) = Watch::new(console.clone(), marker);
                    Machine::new(&config, sw, sink).map(|m| (m, Some(seen)))
                }
                None => Machine::new(&config, sw, console.clone()).map(|m| (m, None)),
            }
            .map_err(|e| e.to_string())
        };
        let interp_console = Captured::new();
        let jit_console = Captured::new();
        let (interp, interp_stop) = build(None, &disks.interp, &interp_console)?;
        let (jit, jit_stop) = build(Some(threshold), &disks.jit, &jit_console)?;
        Ok(Pair {
            interp,
            jit,
            interp_console,
            jit_console,
            console_seen: 0,
            interp_stop,
            jit_stop,
            disks,
        })
    }

    /// `run_config` for each machine, with its console's stop flag.
    fn run_configs(&self, run_config: &RunConfig) -> (RunConfig, RunConfig) {
        let with = |stop: &Option<Arc<AtomicBool>>| RunConfig {
            stop: stop.clone(),
            ..run_config.clone()
        };
        (with(&self.interp_stop), with(&self.jit_stop))
    }

    /// Compare the consoles' new output; pass the interpreter's on to
    /// `out` when it agrees.
    fn console_differs(&mut self, out: Option<&mut dyn CharSink>) -> Option<String> {
        let a = self.interp_console.bytes_from(self.console_seen);
        let b = self.jit_console.bytes_from(self.console_seen);
        if a != b {
            return Some(format!(
                "console output differs after {} bytes: interpreter {:?}, JIT {:?}",
                self.console_seen,
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            ));
        }
        if let Some(out) = out {
            for &byte in &a {
                out.put(byte);
            }
        }
        self.console_seen += a.len();
        None
    }
}

/// The first differing 8-byte words of the two machines' RAM (at most
/// [`WATCHED_WORDS`]).
fn ram_differences(a: &Machine, b: &Machine) -> Result<Vec<u64>, String> {
    const CHUNK: usize = 1 << 20;
    let mut out = Vec::new();
    let mut ba = vec![0u8; CHUNK];
    let mut bb = vec![0u8; CHUNK];
    for region in a.bus.ram.regions() {
        let base = region.base().raw();
        let mut off = 0;
        while off < region.size() && out.len() < WATCHED_WORDS {
            let n = CHUNK.min((region.size() - off) as usize);
            let at = GuestAddress(base + off);
            a.bus
                .ram
                .read(at, &mut ba[..n])
                .map_err(|e| e.to_string())?;
            b.bus
                .ram
                .read(at, &mut bb[..n])
                .map_err(|e| e.to_string())?;
            if ba[..n] != bb[..n] {
                for w in (0..n).step_by(8) {
                    if ba[w..w + 8] != bb[w..w + 8] && out.len() < WATCHED_WORDS {
                        out.push(base + off + w as u64);
                    }
                }
            }
            off += n as u64;
        }
    }
    Ok(out)
}

/// Run `sw` on both engines in lockstep. The interpreter's console output
/// goes to stdout as it agrees; progress and the verdict to stderr.
pub fn check(
    config: &MachineConfig,
    sw: &Software,
    run_config: &RunConfig,
    stop_at: Option<&str>,
    threshold: u32,
) -> Result<CheckOutcome, String> {
    check_with(config, sw, run_config, stop_at, threshold, &|_| {})
}

/// [`check`], with `tamper` applied to the JIT's machine after every step
/// (slice or block) of both passes: the tests' way to plant a difference.
/// It must be idempotent and depend only on the machine's state.
fn check_with(
    config: &MachineConfig,
    sw: &Software,
    run_config: &RunConfig,
    stop_at: Option<&str>,
    threshold: u32,
    tamper: &dyn Fn(&mut Machine),
) -> Result<CheckOutcome, String> {
    let start = Instant::now();
    let mut pair = Pair::new(config, sw, stop_at, threshold, 1)?;
    let (what, watch, slices) = match first_pass(&mut pair, run_config, tamper)? {
        FirstPass::Agree { outcome, slices } => {
            let insns = pair.interp.cpu.icount();
            eprintln!(
                "hv-sim: check: the interpreter and the JIT agree: {insns} instructions in {slices} slices, same console, RAM and disks"
            );
            return Ok(CheckOutcome::Agree(run::RunReport {
                outcome,
                insns,
                elapsed: start.elapsed(),
                jit: pair.jit.cpu.jit().map(|j| j.stats()),
            }));
        }
        FirstPass::Differ {
            what,
            watch,
            slices,
        } => (what, watch, slices),
    };
    eprintln!(
        "hv-sim: check: the engines differ after slice {slices} (at instruction {}): {what}",
        pair.interp.cpu.icount()
    );
    eprintln!(
        "hv-sim: check: running again from the start, one block at a time, to find the block"
    );
    drop(pair);
    let mut pair = Pair::new(config, sw, stop_at, threshold, 2)?;
    let found = second_pass(&mut pair, run_config, &watch, slices, tamper)?;
    let mut report = format!("the interpreter and the JIT differ after slice {slices}: {what}\n");
    match found {
        Some(block) => report.push_str(&block),
        None => report.push_str(
            "run block by block (no chaining between compiled blocks), the engines agree up to that slice: \
             the difference needs chained blocks",
        ),
    }
    Ok(CheckOutcome::Differ(report))
}

enum FirstPass {
    Agree {
        outcome: Outcome,
        slices: u64,
    },
    Differ {
        what: String,
        /// RAM words that differ.
        watch: Vec<u64>,
        slices: u64,
    },
}

/// Both engines at full speed, compared slice by slice.
fn first_pass(
    pair: &mut Pair,
    run_config: &RunConfig,
    tamper: &dyn Fn(&mut Machine),
) -> Result<FirstPass, String> {
    let first = pair.interp.cpu.icount();
    let (cfg_a, cfg_b) = pair.run_configs(run_config);
    let mut stdout = Stdout;
    let mut slices = 0u64;
    let mut ram_checked = first;
    loop {
        let oa = run::slice(&mut pair.interp, &cfg_a, first, &mut |m, budget| {
            m.cpu.run(&mut m.bus, budget)
        });
        let ob = run::slice(&mut pair.jit, &cfg_b, first, &mut |m, budget| {
            m.cpu.run(&mut m.bus, budget)
        });
        tamper(&mut pair.jit);
        slices += 1;
        let differ = |what: String, watch: Vec<u64>| {
            Ok(FirstPass::Differ {
                what,
                watch,
                slices,
            })
        };
        if let Some(p) = pair.console_differs(Some(&mut stdout)) {
            return differ(p, Vec::new());
        }
        let (sa, sb) = (State::of(&pair.interp, &[]), State::of(&pair.jit, &[]));
        if sa != sb {
            return differ(describe_list(&sa.differences(&sb, &[])), Vec::new());
        }
        if oa != ob {
            return differ(
                format!("the runs ended differently: interpreter {oa:?}, JIT {ob:?}"),
                Vec::new(),
            );
        }
        let now = pair.interp.cpu.icount();
        if now.wrapping_sub(ram_checked) >= RAM_CHECK_INSNS || oa.is_some() {
            ram_checked = now;
            let words = ram_differences(&pair.interp, &pair.jit)?;
            if !words.is_empty() {
                let list: Vec<String> = words.iter().map(|a| format!("{a:#x}")).collect();
                return differ(format!("RAM differs at {}", list.join(", ")), words);
            }
        }
        if let Some(outcome) = oa {
            return match pair.disks.differ()? {
                Some(p) => differ(p, Vec::new()),
                None => Ok(FirstPass::Agree { outcome, slices }),
            };
        }
    }
}

/// Both engines again, one block at a time, up to `slices` slices: the
/// first block after which they differ, described; `None` if none did.
fn second_pass(
    pair: &mut Pair,
    run_config: &RunConfig,
    watch: &[u64],
    slices: u64,
    tamper: &dyn Fn(&mut Machine),
) -> Result<Option<String>, String> {
    let first = pair.interp.cpu.icount();
    let (cfg_a, cfg_b) = pair.run_configs(run_config);
    let mut trace: Vec<State> = Vec::new();
    for _ in 0..slices {
        // Empty unless the interpreter runs this slice.
        trace.clear();
        let oa = run::slice(&mut pair.interp, &cfg_a, first, &mut |m, budget| {
            trace.push(State::of(m, watch));
            step_blocks(m, budget, &mut |m| {
                trace.push(State::of(m, watch));
                true
            })
        });
        let mut found = None;
        let ob = run::slice(&mut pair.jit, &cfg_b, first, &mut |m, budget| {
            let mut j = 0;
            step_blocks(m, budget, &mut |m| {
                j += 1;
                tamper(m);
                let now = State::of(m, watch);
                match (trace.get(j - 1), trace.get(j)) {
                    (_, Some(t)) if *t == now => true,
                    (Some(before), interp) => {
                        found = Some(describe_block(m, before, interp, &now, watch));
                        false
                    }
                    // The interpreter did not run this slice at all.
                    (None, _) => {
                        found =
                            Some("the JIT ran a slice the interpreter did not start".to_string());
                        false
                    }
                }
            })
        });
        if found.is_some() {
            return Ok(found);
        }
        if pair.console_differs(None).is_some()
            || State::of(&pair.interp, watch) != State::of(&pair.jit, watch)
            || oa != ob
            || oa.is_some()
        {
            // Between blocks: the interpreter ran blocks the JIT did not
            // (or the slice's device work differed).
            return Ok(Some(format!(
                "the interpreter ran {} blocks in the slice, the JIT stopped earlier or the slice's devices differ",
                trace.len() - 1
            )));
        }
    }
    Ok(None)
}

/// Run `m` block by block for `budget` instructions, as one
/// [`hv_core::translate::Cpu::run`] would, calling `after` after each
/// block (or exception entry); `after` returning false stops the steps.
fn step_blocks(m: &mut Machine, budget: u64, after: &mut dyn FnMut(&mut Machine) -> bool) -> Exit {
    let start = m.cpu.icount();
    loop {
        let exit = m.cpu.run(&mut m.bus, 1);
        if !after(m) {
            return Exit::Budget;
        }
        if exit != Exit::Budget || m.cpu.icount().wrapping_sub(start) >= budget {
            return exit;
        }
    }
}

fn describe_list(list: &[Difference]) -> String {
    list.iter()
        .map(|d| format!("{}: interpreter {}, JIT {}", d.name(), d.interp, d.jit))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The block that ran from state `before` (the same on both engines) and
/// left the interpreter in `interp` (`None`: it had stopped) and the JIT
/// in `jit`: what differs, the block's instructions, and which of them
/// last wrote each differing place.
fn describe_block(
    m: &mut Machine,
    before: &State,
    interp: Option<&State>,
    jit: &State,
    watch: &[u64],
) -> String {
    let mut out = format!(
        "the block at {:#x} (EL{}), entered after {} instructions, ",
        before.pc, before.el, before.icount
    );
    let Some(interp) = interp else {
        out.push_str("ran on the JIT after the interpreter had stopped the slice\n");
        return out;
    };
    let diffs = interp.differences(jit, watch);
    out.push_str("leaves different results:\n");
    let block = fetch_block(m, before.pc, before.el);
    let writers = block
        .as_ref()
        .map(|(b, _)| writers(b, before.pc))
        .unwrap_or_default();
    for d in &diffs {
        let _ = write!(
            out,
            "  {}: interpreter {}, JIT {}",
            d.name(),
            d.interp,
            d.jit
        );
        let last = writers
            .iter()
            .rev()
            .find(|(_, w)| w.iter().any(|w| w.covers(d.place)));
        if let Some((index, w)) = last {
            let pc = before.pc.wrapping_add(4 * *index as u64);
            let how = if w.contains(&Writes::Anything) {
                "interpreted inside the block; may have written it"
            } else {
                "last written by it"
            };
            let _ = write!(out, " <- instruction {index} at {pc:#x} ({how})");
        }
        out.push('\n');
    }
    match block {
        Some(b) => {
            out.push_str("  the block:\n");
            let (block, words) = b;
            for (i, (op, word)) in block.ops.iter().zip(&words).enumerate() {
                let pc = before.pc.wrapping_add(4 * i as u64);
                let _ = writeln!(out, "    {pc:#x}: {word:08x}  {:?}", op.insn);
            }
        }
        None => out.push_str("  (its instructions cannot be read back)\n"),
    }
    out
}

/// What an instruction of a block writes, from its IR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writes {
    Place(Place),
    /// The stack pointer the block uses (SP_EL0 or SP_ELx).
    Sp,
    /// Memory.
    Memory,
    /// Interpreted: anything.
    Anything,
}

impl Writes {
    fn covers(self, place: Place) -> bool {
        match self {
            Writes::Place(p) => p == place,
            Writes::Sp => matches!(place, Place::Sp(_)),
            Writes::Memory => matches!(place, Place::Word(_)),
            Writes::Anything => true,
        }
    }
}

/// For each instruction of `block` (at `va`), what its lifted IR writes.
fn writers(block: &Block, va: u64) -> Vec<(u16, Vec<Writes>)> {
    let ir = lift(block, va);
    let mut out: Vec<(u16, Vec<Writes>)> = Vec::new();
    for op in &ir.ops {
        let w = match op {
            IrOp::Insn { index } => {
                out.push((*index, Vec::new()));
                continue;
            }
            IrOp::Set {
                reg: GReg::X(n), ..
            } => Writes::Place(Place::X(*n)),
            IrOp::Set { reg: GReg::Sp, .. } => Writes::Sp,
            IrOp::Flags { .. } | IrOp::CondFlags { .. } => Writes::Place(Place::Nzcv),
            IrOp::Store { .. } => Writes::Memory,
            IrOp::Interp { .. } => Writes::Anything,
            IrOp::Fp { op, .. } => {
                // Those that may raise FP exception flags.
                if let (
                    FpOp::Arith { .. }
                    | FpOp::VArith { .. }
                    | FpOp::Cmp { .. }
                    | FpOp::FromInt { .. }
                    | FpOp::ToInt { .. }
                    | FpOp::Cvt { .. },
                    Some(last),
                ) = (op, out.last_mut())
                {
                    last.1.push(Writes::Place(Place::Other("fpsr")));
                }
                let result = match *op {
                    FpOp::Arith { rd, .. }
                    | FpOp::VArith { rd, .. }
                    | FpOp::Logic { rd, .. }
                    | FpOp::Lanes { rd, .. }
                    | FpOp::Ext { rd, .. }
                    | FpOp::Imm { rd, .. }
                    | FpOp::DupGp { rd, .. }
                    | FpOp::DupElem { rd, .. }
                    | FpOp::Bits { rd, .. }
                    | FpOp::FromInt { rd, .. }
                    | FpOp::Cvt { rd, .. }
                    | FpOp::Csel { rd, .. }
                    | FpOp::Shift { rd, .. }
                    | FpOp::Widen { rd, .. }
                    | FpOp::Rev { rd, .. }
                    | FpOp::Elem { rd, .. }
                    | FpOp::InsGp { rd, .. }
                    | FpOp::FromGp { rd, .. } => Place::V(rd),
                    FpOp::Mem { load: false, .. } => {
                        if let Some(last) = out.last_mut() {
                            last.1.push(Writes::Memory);
                        }
                        continue;
                    }
                    FpOp::Mem { rt, rt2, .. } => {
                        if let (Some(r2), Some(last)) = (rt2, out.last_mut()) {
                            last.1.push(Writes::Place(Place::V(r2)));
                        }
                        Place::V(rt)
                    }
                    FpOp::Cmp { .. } => Place::Nzcv,
                    // The IR's own Set of the register follows.
                    FpOp::ToGp { .. } | FpOp::ToInt { .. } => continue,
                };
                Writes::Place(result)
            }
            _ => continue,
        };
        if let Some(last) = out.last_mut() {
            last.1.push(w);
        }
    }
    out
}

/// The block at `va` as the translator builds it, with its instruction
/// words, read through `m`'s translation.
fn fetch_block(m: &mut Machine, va: u64, el: u8) -> Option<(Block, Vec<u32>)> {
    let pa = m.bus.fetch_pa(va, el).ok()?;
    let room = ((PAGE_SIZE - (va & (PAGE_SIZE - 1))) / 4) as usize;
    let max = m.cpu.config().max_block_insns.min(room);
    let words: Vec<u32> = (0..max as u64)
        .map_while(|i| m.bus.fetch_word(pa + 4 * i).ok())
        .collect();
    if words.is_empty() {
        return None;
    }
    let block = Block::from_words(pa, &words, max);
    Some((block, words))
}

#[cfg(all(test, target_arch = "x86_64", target_os = "linux"))]
mod tests {
    use super::*;
    use hv_core::machine::{RAM_BASE, UART_BASE};
    use hv_core::translate::asm;

    /// Where the raw image lands.
    const LOAD: u64 = RAM_BASE.raw() + 0x20_0000;
    /// The word the loop stores its counter to.
    const DATA: u64 = LOAD + 0x1000;
    /// A word nobody writes.
    const UNTOUCHED: u64 = LOAD + 0x3000;
    const ROUNDS: u32 = 60_000;

    /// A loop of `ROUNDS` turns storing its counter, then "ok\n" on the
    /// UART and SYSTEM_OFF.
    fn guest() -> Vec<u8> {
        let mut c = Vec::new();
        c.extend(asm::mov64(1, 0));
        c.extend(asm::mov64(2, DATA));
        c.extend(asm::mov64(3, UART_BASE.raw()));
        c.extend(asm::mov64(5, u64::from(ROUNDS)));
        // loop: x1 += 1; [x2] = x1; x4 = x1 ^ (x1 << 1); until x1 == x5
        c.push(asm::add_imm(true, 1, 1, 1));
        c.push(asm::str_imm(true, 1, 2, 0));
        c.push(asm::logic_reg(true, 2, false, 0, 1, 1, 1, 4));
        c.push(asm::addsub_reg(true, 1, true, 0, 5, 0, 1, 31));
        c.push(asm::b_cond(asm::NE, -16));
        for ch in b"ok\n" {
            c.extend(asm::mov64(4, u64::from(*ch)));
            c.push(asm::str_imm(false, 4, 3, 0));
        }
        c.extend(asm::mov64(0, 0x8400_0008));
        c.push(asm::hvc(0));
        c.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn checked(tamper: &dyn Fn(&mut Machine)) -> CheckOutcome {
        let image = guest();
        let sw = Software {
            kernel: &image,
            initrd: None,
            cmdline: "",
        };
        let config = MachineConfig {
            ram_size: 16 << 20,
            ..MachineConfig::default()
        };
        check_with(&config, &sw, &RunConfig::default(), None, 2, tamper).expect("check runs")
    }

    #[test]
    fn the_engines_agree_on_a_plain_guest() {
        match checked(&|_| {}) {
            CheckOutcome::Agree(report) => {
                assert_eq!(report.outcome, Outcome::PowerOff);
                assert!(report.insns > 5 * u64::from(ROUNDS), "{report}");
            }
            CheckOutcome::Differ(text) => panic!("differ: {text}"),
        }
    }

    #[test]
    fn a_register_the_jit_gets_wrong_is_named_with_its_block() {
        let halfway = 2 * u64::from(ROUNDS);
        let outcome = checked(&|m| {
            if m.cpu.icount() >= halfway {
                m.cpu.set_x(20, 0xdead);
            }
        });
        let CheckOutcome::Differ(text) = outcome else {
            panic!("the planted difference was not found");
        };
        assert!(text.contains("x20: interpreter 0x0, JIT 0xdead"), "{text}");
        // The block is the loop (it starts 16 bytes after the four MOVs of
        // 4 instructions each), and it is listed.
        let loop_pc = LOAD + 16 * 4;
        assert!(
            text.contains(&format!("the block at {loop_pc:#x}")),
            "{text}"
        );
        assert!(text.contains("the block:"), "{text}");
    }

    #[test]
    fn memory_the_jit_gets_wrong_is_found_at_the_end_and_named() {
        let halfway = 2 * u64::from(ROUNDS);
        let outcome = checked(&|m| {
            if m.cpu.icount() >= halfway {
                m.bus
                    .ram
                    .write_obj(GuestAddress(UNTOUCHED), 0x5a5a_u64)
                    .expect("RAM");
            }
        });
        let CheckOutcome::Differ(text) = outcome else {
            panic!("the planted difference was not found");
        };
        assert!(
            text.contains(&format!("RAM differs at {UNTOUCHED:#x}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("memory at {UNTOUCHED:#x}")),
            "{text}"
        );
    }

    #[test]
    fn a_wrong_counter_store_is_traced_to_the_store() {
        // The JIT "stores" x1 + 1: the difference shows in DATA, which the
        // block's STR (instruction 1 of the loop block) writes.
        let halfway = 2 * u64::from(ROUNDS);
        let outcome = checked(&|m| {
            if m.cpu.icount() >= halfway {
                let v = m.cpu.x(1) + 1;
                m.bus.ram.write_obj(GuestAddress(DATA), v).expect("RAM");
            }
        });
        let CheckOutcome::Differ(text) = outcome else {
            panic!("the planted difference was not found");
        };
        eprintln!("{text}");
        let store_pc = LOAD + 16 * 4 + 4;
        assert!(
            text.contains(&format!("memory at {DATA:#x}"))
                && text.contains(&format!(
                    "instruction 1 at {store_pc:#x} (last written by it)"
                )),
            "{text}"
        );
    }

    #[test]
    fn differences_list_each_place() {
        let a = State {
            icount: 5,
            pc: 0x1000,
            el: 1,
            pstate: 0x6000_0000,
            x: [0; 31],
            sp: [0; 2],
            v: [0; 32],
            fpsr: 0,
            words: vec![Some(1)],
        };
        let mut b = a.clone();
        b.x[7] = 9;
        b.v[3] = 1;
        b.fpsr = 0x10;
        b.pstate = 0x2000_0000;
        b.words[0] = None;
        let names: Vec<String> = a
            .differences(&b, &[0x4000])
            .iter()
            .map(Difference::name)
            .collect();
        assert_eq!(
            names,
            ["pstate (nzcv)", "x7", "v3", "fpsr", "memory at 0x4000"]
        );
        assert!(a.differences(&a, &[0x4000]).is_empty());
    }
}
