//! Running a laid-out batch on hv-core's interpreter, the way QEMU user
//! mode runs it: at EL0, with FP/SIMD enabled, on Normal memory (the MMU
//! is on, identity mapped: unaligned accesses are allowed where the
//! architecture allows them), with only the scratch buffer writable.

use super::gen::{Case, State};
use super::layout::{Batch, Place, BASE, SCRATCH, SCRATCH_LEN};
use hv_core::translate::exception::Spsr;
use hv_core::translate::sysreg::{SCTLR_M, SCTLR_RES1};
use hv_core::translate::{Cpu, CpuBus, CpuConfig, Exit, Fault};

/// How a case ended on the interpreter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HvEnd {
    /// It ran to the end of the sequence.
    Done(Box<State>),
    /// An instruction was undefined (EC 0) at this address.
    Undefined(u64),
    /// Some other exception: ESR, ELR, FAR.
    Exception {
        /// ESR_EL1.
        esr: u64,
        /// ELR_EL1.
        elr: u64,
        /// FAR_EL1.
        far: u64,
    },
    /// The instruction budget ran out (a sequence has no loops: a bug).
    Hung,
}

/// The harness image as memory: reads anywhere in it, writes only to the
/// scratch buffer (anything else is a bug worth an abort).
struct CheckBus {
    mem: Vec<u8>,
    /// Let stores reach all of the image (the harness's own code writes
    /// its records; only the self-test runs it here).
    all_writable: bool,
}

impl CheckBus {
    fn offset(&self, va: u64, size: u8) -> Result<usize, Fault> {
        let off = va.checked_sub(BASE).ok_or(Fault::EXTERNAL)?;
        let end = off.checked_add(u64::from(size)).ok_or(Fault::EXTERNAL)?;
        if end > self.mem.len() as u64 {
            return Err(Fault::EXTERNAL);
        }
        Ok(off as usize)
    }
}

impl CpuBus for CheckBus {
    fn load(&mut self, va: u64, size: u8, _el: u8) -> Result<u64, Fault> {
        let o = self.offset(va, size)?;
        let mut b = [0u8; 8];
        b[..usize::from(size)].copy_from_slice(&self.mem[o..o + usize::from(size)]);
        Ok(u64::from_le_bytes(b))
    }

    fn store(&mut self, va: u64, size: u8, value: u64, _el: u8) -> Result<u64, Fault> {
        let end = va.wrapping_add(u64::from(size));
        let in_scratch = va >= SCRATCH && end <= SCRATCH + SCRATCH_LEN as u64 && end >= va;
        if !in_scratch && !self.all_writable {
            return Err(Fault::EXTERNAL);
        }
        let o = self.offset(va, size)?;
        self.mem[o..o + usize::from(size)]
            .copy_from_slice(&value.to_le_bytes()[..usize::from(size)]);
        Ok(va)
    }

    fn fetch_pa(&mut self, va: u64, _el: u8) -> Result<u64, Fault> {
        self.offset(va, 4).map(|_| va)
    }

    fn fetch_word(&mut self, pa: u64) -> Result<u32, Fault> {
        self.load(pa, 4, 0).map(|v| v as u32)
    }
}

/// Runs cases of one batch.
pub struct HvRunner {
    cpu: Cpu,
    bus: CheckBus,
}

impl std::fmt::Debug for HvRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HvRunner")
    }
}

impl HvRunner {
    /// A fresh CPU over `batch`'s image.
    pub fn new(batch: &Batch) -> HvRunner {
        let config = CpuConfig {
            exit_on_exception: true,
            ..CpuConfig::default()
        };
        HvRunner {
            cpu: Cpu::new(config).expect("the default configuration is valid"),
            bus: CheckBus {
                mem: batch.hv_image(),
                all_writable: false,
            },
        }
    }

    /// Run one case laid out at `place`.
    pub fn run(&mut self, case: &Case, place: Place) -> HvEnd {
        let cpu = &mut self.cpu;
        cpu.reset(place.start);
        // FP/SIMD enabled at EL0 (CPACR_EL1.FPEN = 0b11); the MMU on, so
        // memory is Normal; alignment checks off, as Linux runs EL0.
        cpu.sys.cpacr = 3 << 20;
        cpu.sys.sctlr = SCTLR_RES1 | SCTLR_M;
        cpu.sys.fpcr = case.input.fpcr_fpsr;
        cpu.sys.fpsr = 0;
        // EL0t with the input flags.
        cpu.set_pstate(Spsr::from_bits_retain(case.input.nzcv & 0xf000_0000));
        for (i, x) in case.input.x.iter().enumerate() {
            cpu.set_x(i as u8, *x);
        }
        cpu.set_banked_sp(0, case.input.sp);
        for (i, v) in case.input.v.iter().enumerate() {
            cpu.set_v(i as u8, *v);
        }
        let s = (SCRATCH - BASE) as usize;
        self.bus.mem[s..s + SCRATCH_LEN].copy_from_slice(&case.input.mem);
        let budget = 16 + 2 * case.insns.len() as u64;
        match cpu.run(&mut self.bus, budget) {
            Exit::Exception { esr, elr, .. } if esr >> 26 == 0x15 && elr == place.end + 4 => {
                let mut st = State::zero();
                for (i, x) in st.x.iter_mut().enumerate() {
                    *x = cpu.x(i as u8);
                }
                st.sp = cpu.banked_sp()[0];
                st.nzcv = u64::from(cpu.nzcv());
                st.fpcr_fpsr = cpu.sys.fpsr;
                for (i, v) in st.v.iter_mut().enumerate() {
                    *v = cpu.v(i as u8);
                }
                st.mem.copy_from_slice(&self.bus.mem[s..s + SCRATCH_LEN]);
                HvEnd::Done(Box::new(st))
            }
            Exit::Exception { esr, elr, .. } if esr >> 26 == 0 => HvEnd::Undefined(elr),
            Exit::Exception { esr, elr, .. } => HvEnd::Exception {
                esr,
                elr,
                far: cpu.sys.far,
            },
            _ => HvEnd::Hung,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isacheck::forms::classes;
    use crate::isacheck::gen::GenOptions;
    use crate::isacheck::layout::{build, read_record, POOL_LEN, RECORD};
    use crate::isacheck::{generate, Verdict};

    /// The harness program itself, run on hv-core's interpreter with
    /// write/exit_group emulated: the records it writes must be the
    /// states the direct runs give. Checks the harness code and the
    /// record layout without QEMU.
    #[test]
    fn harness_program_dumps_what_direct_runs_give() {
        let all = classes();
        let mut cases = Vec::new();
        for name in [
            "int-addsub-imm",
            "int-logical",
            "ldst-uimm",
            "ldst-pair",
            "fp-cmp",
        ] {
            let i = all.iter().position(|c| c.name == name).unwrap();
            cases.extend(generate(5, i, &all[i], 20, GenOptions::default()));
        }
        let pool = [0x5au8; POOL_LEN];
        let batch = build(&cases, &pool);
        // Direct runs.
        let mut direct = HvRunner::new(&batch);
        let expected: Vec<HvEnd> = cases
            .iter()
            .zip(&batch.places)
            .map(|(c, p)| direct.run(c, *p))
            .collect();
        // The harness, from its entry point, at EL0.
        let mut cpu = Cpu::new(CpuConfig {
            exit_on_exception: true,
            ..CpuConfig::default()
        })
        .unwrap();
        let mut bus = CheckBus {
            mem: batch.image.clone(),
            all_writable: true,
        };
        cpu.reset(BASE + 0x4000);
        cpu.sys.cpacr = 3 << 20;
        cpu.sys.sctlr = SCTLR_RES1 | SCTLR_M;
        cpu.set_pstate(Spsr::from_bits_retain(0));
        let mut out = Vec::new();
        let status = loop {
            let exit = cpu.run(&mut bus, 1_000_000);
            let Exit::Exception { esr, elr, .. } = exit else {
                panic!("harness stopped with {exit:?}");
            };
            assert_eq!(esr >> 26, 0x15, "harness took {esr:#x} at {elr:#x}");
            match cpu.x(8) {
                64 => {
                    let (at, len) = ((cpu.x(1) - BASE) as usize, cpu.x(2) as usize);
                    out.extend_from_slice(&bus.mem[at..at + len]);
                    cpu.set_x(0, len as u64);
                }
                94 => break cpu.x(0),
                n => panic!("unexpected syscall {n}"),
            }
            cpu.set_pstate(Spsr::from_bits_retain(cpu.sys.spsr));
            cpu.set_pc(elr);
        };
        assert_eq!(status, 0);
        assert_eq!(out.len(), cases.len() * RECORD);
        let mut matched = 0;
        for (k, rec) in out.chunks_exact(RECORD).enumerate() {
            let got = read_record(rec);
            match &expected[k] {
                HvEnd::Done(want) => {
                    assert_eq!(&got, &**want, "case {k}");
                    matched += 1;
                }
                other => panic!("case {k}: direct run ended with {other:?}"),
            }
        }
        assert_eq!(matched, cases.len());
        // And the comparison says so.
        assert!(matches!(
            crate::isacheck::compare(&expected[0], &read_record(&out[..RECORD])),
            Verdict::Match
        ));
    }
}
