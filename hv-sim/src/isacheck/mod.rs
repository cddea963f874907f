//! `check-isa`: hv-core's interpreter checked instruction by instruction
//! against QEMU user mode (`qemu-aarch64`), an implementation nobody here
//! wrote.
//!
//! For each instruction class ([`forms::classes`]) the generator
//! ([`gen`]) draws short sequences of random valid encodings and a random
//! starting state. A batch of cases is laid out in a static AArch64 Linux
//! program ([`layout`]) that QEMU runs, dumping every case's final state;
//! the same cases run on hv-core's interpreter at EL0 ([`hv`]). Registers,
//! flags, FPSR and the scratch memory are compared. A mismatching sequence
//! is cut down to the first instruction whose prefix mismatches, so the
//! report names the instruction and the state it started from.

pub mod disasm;
pub mod elf;
pub mod forms;
pub mod gen;
pub mod hv;
pub mod layout;
pub mod qemu;
pub mod report;
pub mod rng;

use gen::{Case, GenOptions, State};
use hv::{HvEnd, HvRunner};
use layout::{Place, POOL_LEN};
use rng::Rng;

/// Cases per QEMU run.
pub const BATCH: usize = 2000;

/// The result of one case.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Same final state.
    Match,
    /// Different final states: QEMU's, hv's.
    Mismatch(Box<(State, State)>),
    /// hv raised UNDEF at this address; QEMU executed the sequence.
    Undefined(u64),
    /// hv took another exception (or ran out of budget): a description.
    HvException(String),
    /// QEMU did not complete the case (a signal): its message.
    QemuFault(String),
}

/// A case after running: where it was laid out and what happened.
#[derive(Clone, Debug)]
pub struct Ran {
    /// Its instructions as laid out.
    pub insns: Vec<u32>,
    /// Where they were.
    pub place: Place,
    /// QEMU's final state, when it completed.
    pub qemu: Option<State>,
    /// The verdict.
    pub verdict: Verdict,
}

/// Runs cases on both sides.
#[derive(Debug)]
pub struct Runner {
    /// QEMU.
    pub qemu: qemu::Qemu,
    /// The literal pool every batch carries.
    pub pool: Box<[u8; POOL_LEN]>,
    runs: u64,
}

impl Runner {
    /// A runner whose literal pool comes from `seed`.
    pub fn new(qemu: qemu::Qemu, seed: u64) -> Runner {
        let mut rng = Rng::new(seed ^ 0x706f_6f6c); // "pool"
        let mut pool = Box::new([0u8; POOL_LEN]);
        for b in pool.iter_mut() {
            *b = rng.next_u64() as u8;
        }
        Runner {
            qemu,
            pool,
            runs: 0,
        }
    }

    /// Run `cases` on QEMU and on hv-core, in batches (QEMU runs in its
    /// own process while the interpreter works on the same batch).
    pub fn run(&mut self, cases: &[Case]) -> Result<Vec<Ran>, String> {
        let mut out: Vec<Ran> = Vec::with_capacity(cases.len());
        let mut i = 0;
        while i < cases.len() {
            let chunk = &cases[i..cases.len().min(i + BATCH)];
            let batch = layout::build(chunk, &self.pool);
            self.runs += 1;
            let running = self
                .qemu
                .start(&format!("batch-{}", self.runs % 4), &batch.elf())?;
            let mut hv = HvRunner::new(&batch);
            let hv_ends: Vec<HvEnd> = chunk
                .iter()
                .zip(&batch.places)
                .map(|(c, p)| hv.run(c, *p))
                .collect();
            let finished = running.finish()?;
            let done = finished.states.len().min(chunk.len());
            for (k, qstate) in finished.states.into_iter().take(done).enumerate() {
                let verdict = compare(&hv_ends[k], &qstate);
                out.push(Ran {
                    insns: batch.insns[k].clone(),
                    place: batch.places[k],
                    qemu: Some(qstate),
                    verdict,
                });
            }
            if done < chunk.len() {
                let why = finished
                    .failure
                    .unwrap_or_else(|| "qemu-aarch64 exited early with status 0".into());
                out.push(Ran {
                    insns: batch.insns[done].clone(),
                    place: batch.places[done],
                    qemu: None,
                    verdict: Verdict::QemuFault(why),
                });
                i += done + 1;
            } else {
                i += chunk.len();
            }
        }
        Ok(out)
    }
}

pub(crate) fn compare(hv: &HvEnd, qemu: &State) -> Verdict {
    match hv {
        HvEnd::Done(s) if **s == *qemu => Verdict::Match,
        HvEnd::Done(s) => Verdict::Mismatch(Box::new((qemu.clone(), (**s).clone()))),
        HvEnd::Undefined(pc) => Verdict::Undefined(*pc),
        HvEnd::Exception { esr, elr, far } => Verdict::HvException(format!(
            "exception ESR {esr:#x} (EC {:#x}) at {elr:#x}, FAR {far:#x}",
            esr >> 26
        )),
        HvEnd::Hung => Verdict::HvException("ran out of its instruction budget".into()),
    }
}

/// `count` cases of class `index` from `seed` (the same for a class
/// whatever other classes run).
pub fn generate(
    seed: u64,
    index: usize,
    class: &forms::Class,
    count: usize,
    opts: GenOptions,
) -> Vec<Case> {
    let salt = class.name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Rng::new(seed).fork(salt);
    (0..count)
        .map(|_| gen::case(&mut rng, index, class, opts))
        .collect()
}

/// Prefixes of a mismatching case, to find its first mismatching
/// instruction: `case` cut to 1..len-1 instructions.
pub fn prefixes(case: &Case) -> Vec<Case> {
    (1..case.insns.len())
        .map(|k| Case {
            class: case.class,
            insns: case.insns[..k].to_vec(),
            literals: case
                .literals
                .iter()
                .copied()
                .filter(|&(i, _)| i < k)
                .collect(),
            input: case.input.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::forms::{classes, Gen};
    use super::gen::{case, draw, GenOptions};
    use super::rng::Rng;
    use super::*;

    /// Every encoding the generator draws is one LLVM's disassembler
    /// decodes with exactly hv's features (ARMv8.0 + FP/SIMD + CRC32 +
    /// LSE + AES + SHA1/SHA256): nothing reserved, unallocated, or from a
    /// later extension.
    #[test]
    fn llvm_decodes_every_generated_encoding() {
        let objdump = disasm::find_objdump()
            .expect("llvm-objdump from rustup's llvm-tools (rust-toolchain.toml lists it)");
        let dir = std::env::temp_dir();
        let mut rng = Rng::new(11);
        let mut words = Vec::new();
        for (i, class) in classes().iter().enumerate() {
            match &class.gen {
                Gen::Forms { forms, .. } => {
                    for form in forms {
                        for _ in 0..48 {
                            words.push((class.name, form.name, draw(&mut rng, form)));
                        }
                    }
                }
                _ => {
                    for _ in 0..300 {
                        for w in case(&mut rng, i, class, GenOptions::default()).insns {
                            words.push((class.name, "", w));
                        }
                    }
                }
            }
        }
        let only: Vec<u32> = words.iter().map(|w| w.2).collect();
        let texts = disasm::disassemble(&objdump, &dir, &only).unwrap();
        let bad: Vec<String> = words
            .iter()
            .zip(&texts)
            .filter(|(_, t)| t.is_empty() || t.contains("<unknown>"))
            .map(|((c, f, w), t)| format!("{c}/{f}: {w:#010x} {t}"))
            .collect();
        assert!(
            bad.is_empty(),
            "{} of {} words rejected by LLVM, e.g.:\n{}",
            bad.len(),
            words.len(),
            bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        );
    }

    /// Sequences use every form of their class (the steering of load and
    /// store bases starves none), and SP serves as a base now and then.
    #[test]
    fn every_form_appears_in_generated_sequences() {
        for (i, class) in classes().iter().enumerate() {
            let Gen::Forms { forms, .. } = &class.gen else {
                continue;
            };
            let cases = generate(9, i, class, 3000, GenOptions::default());
            let mut seen = vec![0u32; forms.len()];
            let mut sp_base = 0;
            for c in &cases {
                for &w in &c.insns {
                    let hits: Vec<usize> =
                        (0..forms.len()).filter(|&k| forms[k].matches(w)).collect();
                    assert!(
                        !hits.is_empty(),
                        "{}: {w:#010x} matches no form",
                        class.name
                    );
                    for k in hits {
                        seen[k] += 1;
                    }
                    if forms[0].mem != super::forms::Mem::None && (w >> 5) & 31 == 31 {
                        sp_base += 1;
                    }
                }
            }
            for (f, n) in forms.iter().zip(&seen) {
                assert!(*n >= 10, "{}: form {} drawn {n} times", class.name, f.name);
            }
            if forms[0].mem != super::forms::Mem::None {
                assert!(sp_base >= 10, "{}: SP as base {sp_base} times", class.name);
            }
        }
    }
}
