//! The run loop: the interpreter in slices of instructions, PSCI calls over
//! HVC (and SMC, as hv-kernel accepts), WFI by skipping the counter to the
//! next timer deadline, and the timer and device interrupts through the
//! vGIC and its CPU interface into the CPU's IRQ input.

use crate::machine::Machine;
use hv_core::translate::jit::JitStats;
use hv_core::translate::Exit;
use hv_core::vm::psci::{self, status, Reply};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most instructions between two looks at the interrupt lines.
const SLICE: u64 = 1 << 14;

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    /// Stop after this many guest instructions.
    pub max_insns: Option<u64>,
    /// Print guest exceptions, PSCI calls and WFI waits to stderr
    /// (needs a machine built with `trace`).
    pub trace: bool,
    /// Stop at the end of the slice in which this flag went up (see
    /// [`crate::console::Watch`]).
    pub stop: Option<Arc<AtomicBool>>,
}

/// Why the guest stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// PSCI SYSTEM_OFF.
    PowerOff,
    /// PSCI SYSTEM_RESET.
    Reset,
    /// `max_insns` instructions ran.
    InsnLimit {
        /// Where the guest was.
        pc: u64,
        /// Its exception level.
        el: u8,
    },
    /// WFI with interrupts impossible: no timer armed and nothing pending,
    /// so the guest would wait forever.
    Hung {
        /// Where the guest waits.
        pc: u64,
    },
    /// A fault at an exception vector that re-enters the same vector with
    /// no instruction retired: the guest can never make progress.
    FaultLoop {
        /// The vector address where the fault recurs.
        pc: u64,
        /// The fault's syndrome (ESR_EL1).
        esr: u64,
        /// VBAR_EL1.
        vbar: u64,
    },
    /// The console printed the marker [`RunConfig::stop`] watches for.
    Marker,
}

impl Outcome {
    /// The process exit status hv-sim reports for this outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::PowerOff => 0,
            Outcome::Reset => 2,
            Outcome::InsnLimit { .. } => 3,
            Outcome::Hung { .. } => 4,
            Outcome::FaultLoop { .. } => 5,
            Outcome::Marker => 0,
        }
    }

    /// A short stable name (the stats file's `outcome`).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::PowerOff => "power-off",
            Outcome::Reset => "reset",
            Outcome::InsnLimit { .. } => "insn-limit",
            Outcome::Hung { .. } => "hung",
            Outcome::FaultLoop { .. } => "fault-loop",
            Outcome::Marker => "marker",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::PowerOff => write!(f, "guest powered off (PSCI SYSTEM_OFF)"),
            Outcome::Reset => write!(f, "guest asked for a reset (PSCI SYSTEM_RESET)"),
            Outcome::InsnLimit { pc, el } => write!(
                f,
                "instruction limit reached at {pc:#x} (EL{el}); the guest did not stop"
            ),
            Outcome::Hung { pc } => write!(
                f,
                "guest waits in WFI at {pc:#x} with no timer armed and no interrupt pending: it can never wake"
            ),
            Outcome::FaultLoop { pc, esr, vbar } => write!(
                f,
                "guest fault loop: the exception vector at {pc:#x} faults again before retiring an instruction (ESR {esr:#x}, VBAR_EL1 {vbar:#x}); the guest can never make progress"
            ),
            Outcome::Marker => write!(f, "stopped: the console printed the marker"),
        }
    }
}

/// What a run did.
#[derive(Clone, Copy, Debug)]
pub struct RunReport {
    /// Why it stopped.
    pub outcome: Outcome,
    /// Guest instructions retired.
    pub insns: u64,
    /// Host time spent.
    pub elapsed: Duration,
    /// The JIT's counters at the end, if the run had a JIT.
    pub jit: Option<JitStats>,
}

impl RunReport {
    /// Guest instructions per host microsecond.
    pub fn mips(&self) -> f64 {
        let us = self.elapsed.as_secs_f64() * 1e6;
        if us > 0.0 {
            self.insns as f64 / us
        } else {
            0.0
        }
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} instructions in {:.3} s ({:.1} MIPS)",
            self.insns,
            self.elapsed.as_secs_f64(),
            self.mips()
        )
    }
}

impl RunReport {
    /// The report as one line of JSON (`hv-sim run --stats`): outcome,
    /// exit status, guest instructions retired, host seconds, and with
    /// the JIT its blocks compiled, declined and dropped (their code was
    /// written), the chaining links patched, the entries into compiled
    /// code and the instructions that code handed to the interpreter. The instruction count is exact and the
    /// same on every run of the same guest (the counter ticks with
    /// instructions); the seconds are not.
    pub fn to_json(&self, engine: &str) -> String {
        let jit = match self.jit {
            Some(j) => format!(
                ", \"jit_blocks_compiled\": {}, \"jit_blocks_declined\": {}, \
                 \"jit_blocks_invalidated\": {}, \"jit_links\": {}, \
                 \"jit_code_entries\": {}, \"jit_interpreted_insns\": {}",
                j.compiled, j.declined, j.invalidated, j.links, j.runs, j.interpreted
            ),
            None => String::new(),
        };
        format!(
            "{{\"engine\": \"{engine}\", \"outcome\": \"{}\", \"exit_code\": {}, \
             \"guest_insns\": {}, \"host_seconds\": {:.6}{jit}}}\n",
            self.outcome.name(),
            self.outcome.exit_code(),
            self.insns,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Answer a PSCI/SMCCC call for the one vCPU (MPIDR 0), as hv-kernel does.
fn psci_call(m: &mut Machine, trace: bool) -> Option<Outcome> {
    let c = &m.cpu;
    let request = psci::decode(c.x(0), c.x(1), c.x(2), c.x(3));
    if trace {
        eprintln!("hv-sim: trace: PSCI {request:?} at {:#x}", c.pc());
    }
    let answer = match psci::answer(request, 0, &m.power) {
        Reply::Value(v) => v,
        Reply::SystemOff => return Some(Outcome::PowerOff),
        Reply::SystemReset => return Some(Outcome::Reset),
        // One vCPU: CPU_ON has no target to start and CPU_OFF is always
        // the last vCPU's, so the rules never answer these here.
        Reply::Started(_) | Reply::Off => status::DENIED,
    };
    m.cpu.set_x(0, answer);
    None
}

/// Run the machine until the guest powers off or resets, the instruction
/// limit is reached, the console printed the marker, or it waits for an
/// interrupt that cannot come.
///
/// Never inlined: `cargo xtask perf` counts this function's host
/// instructions under callgrind (`--toggle-collect=hv_sim::run::run`).
#[inline(never)]
pub fn run(m: &mut Machine, config: RunConfig) -> RunReport {
    let start = Instant::now();
    let first = m.cpu.icount();
    let outcome = loop {
        if let Some(o) = slice(m, &config, first, &mut |m, budget| {
            m.cpu.run(&mut m.bus, budget)
        }) {
            break o;
        }
    };
    RunReport {
        outcome,
        insns: m.cpu.icount().wrapping_sub(first),
        elapsed: start.elapsed(),
        jit: m.cpu.jit().map(|j| j.stats()),
    }
}

/// One turn of the run loop: run the CPU for a slice with `exec` (which
/// runs `m.cpu` for a budget, as [`hv_core::translate::Cpu::run`] does),
/// then serve devices, interrupts and the exit. `first` is the
/// instruction count the run started at. `Some` when the run is over.
pub(crate) fn slice(
    m: &mut Machine,
    config: &RunConfig,
    first: u64,
    exec: &mut dyn FnMut(&mut Machine, u64) -> Exit,
) -> Option<Outcome> {
    let used = m.cpu.icount().wrapping_sub(first);
    let mut budget = SLICE;
    if let Some(max) = config.max_insns {
        if used >= max {
            return Some(Outcome::InsnLimit {
                pc: m.cpu.pc(),
                el: m.cpu.el(),
            });
        }
        budget = budget.min(max - used);
    }
    // Look at the lines again when the next timer fires.
    if let Some(ticks) = m.cpu.ticks_to_timer() {
        budget = budget.min(ticks.max(1));
    }
    if config
        .stop
        .as_ref()
        .is_some_and(|s| s.load(Ordering::Acquire))
    {
        return Some(Outcome::Marker);
    }
    let exit = exec(m, budget);
    // Queue work a notify left at its budget goes on after every exit.
    let work_left = m.bus.poll_devices();
    // Device DMA (during this slice's MMIO writes and the poll) may have
    // overwritten translated code; drop it before the guest can run that
    // memory.
    for (pa, len) in m.bus.dma.take_written() {
        m.cpu.invalidate_code(pa, len);
    }
    m.bus.update_interrupts(&mut m.cpu);
    match exit {
        Exit::Budget | Exit::Wfe => {}
        Exit::FaultLoop { pc, esr, vbar } => return Some(Outcome::FaultLoop { pc, esr, vbar }),
        Exit::Hvc { .. } | Exit::Smc { .. } => {
            if let Some(o) = psci_call(m, config.trace) {
                return Some(o);
            }
        }
        Exit::Wfi => {
            // A vCPU does not sleep while device work is deferred: the
            // WFI completes and the next slice polls again.
            if work_left || m.bus.update_interrupts(&mut m.cpu) {
                return None;
            }
            match m.cpu.ticks_to_timer() {
                Some(ticks) => {
                    if config.trace {
                        eprintln!("hv-sim: trace: WFI, skipping {ticks} ticks to the timer");
                    }
                    m.cpu.skip_ticks(ticks);
                    m.bus.update_interrupts(&mut m.cpu);
                }
                None => return Some(Outcome::Hung { pc: m.cpu.pc() }),
            }
        }
        Exit::Exception {
            esr,
            from_el,
            elr,
            kind,
        } => {
            if config.trace {
                eprintln!(
                    "hv-sim: trace: {kind:?} exception from EL{from_el}: ESR {esr:#x} ELR {elr:#x} FAR {:#x}",
                    m.cpu.sys.far
                );
            }
        }
    }
    None
}
