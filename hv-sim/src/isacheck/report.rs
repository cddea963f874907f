//! Running classes, cutting mismatches down to their first bad
//! instruction, and the report.

use super::disasm;
use super::forms::{self, Class, IMPLEMENTED};
use super::gen::{Case, GenOptions, State};
use super::{generate, prefixes, Ran, Runner, Verdict};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

/// What to run and how to report it.
#[derive(Clone, Debug)]
pub struct Options {
    /// Sequences per class.
    pub count: usize,
    /// Generator seed.
    pub seed: u64,
    /// Only these classes (all if empty).
    pub classes: Vec<String>,
    /// Mismatches and undefined encodings shown in full per class.
    pub show: usize,
    /// Fail on any class, not only the implemented ones.
    pub strict: bool,
    /// Generator options.
    pub gen: GenOptions,
    /// Mismatching sequences cut down per class (to name the instruction).
    pub minimize: usize,
    /// llvm-objdump, for disassembly (none: words only).
    pub objdump: Option<PathBuf>,
}

/// A mismatch cut down to its first mismatching instruction.
#[derive(Clone, Debug)]
pub struct Culprit {
    /// The whole sequence as laid out, and its start address.
    pub seq: Vec<u32>,
    /// Index of the culprit in `seq`.
    pub at: usize,
    /// Its address.
    pub pc: u64,
    /// Its word (as laid out in the prefix run).
    pub word: u32,
    /// The state before it (QEMU's after the prefix; equal on hv).
    pub before: State,
    /// FPCR of the case.
    pub fpcr: u64,
    /// QEMU's state after it.
    pub qemu: State,
    /// hv's state after it, or why there is none.
    pub hv: Result<State, String>,
}

impl Culprit {
    /// Whether only FPSR differs (the values are right).
    pub fn fpsr_only(&self) -> bool {
        match &self.hv {
            Ok(h) => {
                let mut h = h.clone();
                h.fpcr_fpsr = self.qemu.fpcr_fpsr;
                h == self.qemu
            }
            Err(_) => false,
        }
    }
}

/// The counts and findings of one class.
#[derive(Clone, Debug, Default)]
pub struct ClassReport {
    /// Class name.
    pub name: &'static str,
    /// Cases run on both sides (QEMU completed them).
    pub compared: u64,
    /// Same final state.
    pub matched: u64,
    /// Different final state.
    pub mismatched: u64,
    /// ... of which only FPSR differed.
    pub fpsr_only: u64,
    /// hv raised UNDEF.
    pub undefined: u64,
    /// hv took another exception.
    pub hv_exception: u64,
    /// QEMU did not complete the case.
    pub qemu_fault: u64,
    /// Undefined words and how often each was hit.
    pub undefined_words: HashMap<u32, u64>,
    /// Mismatches cut down to their instruction.
    pub culprits: Vec<Culprit>,
    /// hv exceptions and QEMU faults: the sequence and the message.
    pub other: Vec<(Vec<u32>, String)>,
    /// Wall time.
    pub seconds: f64,
}

impl ClassReport {
    /// Whether the class is listed as implemented.
    pub fn listed(&self) -> bool {
        IMPLEMENTED.contains(&self.name)
    }

    /// Whether every compared case matched and nothing was undefined.
    pub fn clean(&self) -> bool {
        self.compared > 0
            && self.matched == self.compared
            && self.undefined == 0
            && self.hv_exception == 0
            && self.qemu_fault == 0
    }
}

/// Run one class.
pub fn run_class(
    runner: &mut Runner,
    index: usize,
    class: &Class,
    opts: &Options,
) -> Result<ClassReport, String> {
    let start = Instant::now();
    let cases = generate(opts.seed, index, class, opts.count, opts.gen);
    let ran = runner.run(&cases)?;
    let mut rep = ClassReport {
        name: class.name,
        ..ClassReport::default()
    };
    // Sequences to cut down: wrong values first, then wrong FPSR only.
    let (mut to_cut, mut fpsr_cut) = (Vec::new(), Vec::new());
    for (case, r) in cases.iter().zip(&ran) {
        match &r.verdict {
            Verdict::QemuFault(why) => {
                rep.qemu_fault += 1;
                rep.other.push((r.insns.clone(), format!("QEMU: {why}")));
                continue;
            }
            Verdict::Match => rep.matched += 1,
            Verdict::Mismatch(states) => {
                rep.mismatched += 1;
                let (q, h) = &**states;
                let mut h2 = h.clone();
                h2.fpcr_fpsr = q.fpcr_fpsr;
                if h2 == *q {
                    rep.fpsr_only += 1;
                    if fpsr_cut.len() < opts.minimize {
                        fpsr_cut.push((case, r));
                    }
                } else if to_cut.len() < opts.minimize {
                    to_cut.push((case, r));
                }
            }
            Verdict::Undefined(pc) => {
                rep.undefined += 1;
                let i = ((pc - r.place.start) / 4) as usize;
                if let Some(w) = r.insns.get(i) {
                    *rep.undefined_words.entry(*w).or_default() += 1;
                }
            }
            Verdict::HvException(why) => {
                rep.hv_exception += 1;
                // Name the instruction when the exception is at one.
                let at = (0..r.insns.len())
                    .find(|&i| why.contains(&format!(" at {:#x},", r.place.start + 4 * i as u64)))
                    .map(|i| format!(" (instruction {})", i + 1))
                    .unwrap_or_default();
                rep.other.push((r.insns.clone(), format!("hv: {why}{at}")));
            }
        }
        rep.compared += 1;
    }
    let room = opts.minimize - to_cut.len();
    to_cut.extend(fpsr_cut.into_iter().take(room));
    rep.culprits = cut_down(runner, &to_cut)?;
    rep.seconds = start.elapsed().as_secs_f64();
    Ok(rep)
}

/// Find each mismatch's first mismatching instruction by running its
/// prefixes.
fn cut_down(runner: &mut Runner, mismatches: &[(&Case, &Ran)]) -> Result<Vec<Culprit>, String> {
    let mut all = Vec::new();
    let mut owner = Vec::new();
    for (i, (case, _)) in mismatches.iter().enumerate() {
        for p in prefixes(case) {
            all.push(p);
            owner.push(i);
        }
    }
    let ran = runner.run(&all)?;
    let mut by_owner: Vec<Vec<&Ran>> = vec![Vec::new(); mismatches.len()];
    for (o, r) in owner.iter().zip(&ran) {
        by_owner[*o].push(r);
    }
    let mut out = Vec::new();
    for ((case, full), pre) in mismatches.iter().zip(by_owner) {
        // Prefixes run in order 1..n-1; the full case is the n-th.
        let mut runs: Vec<&Ran> = pre;
        runs.push(full);
        let Some(k) = runs
            .iter()
            .position(|r| !matches!(r.verdict, Verdict::Match))
        else {
            continue;
        };
        let before = if k == 0 {
            Some(case.input.clone())
        } else {
            runs[k - 1].qemu.clone()
        };
        let (Some(before), Some(qemu)) = (before, runs[k].qemu.clone()) else {
            continue; // QEMU faulted on a prefix: nothing to show
        };
        let hv = match &runs[k].verdict {
            Verdict::Mismatch(s) => Ok(s.1.clone()),
            Verdict::Undefined(pc) => Err(format!("UNDEFINED at {pc:#x}")),
            Verdict::HvException(why) => Err(why.clone()),
            Verdict::QemuFault(why) => Err(format!("QEMU fault: {why}")),
            Verdict::Match => continue,
        };
        let seq = full.insns.clone();
        out.push(Culprit {
            word: runs[k].insns[k],
            pc: runs[k].place.start + 4 * k as u64,
            at: k,
            seq,
            before,
            fpcr: case.input.fpcr_fpsr,
            qemu,
            hv,
        });
    }
    Ok(out)
}

/// Disassembly of many words at once (deduplicated), or hex if there is
/// no disassembler.
#[derive(Debug, Default)]
pub struct Texts(HashMap<u32, String>);

impl Texts {
    /// Disassemble `words`.
    pub fn of(objdump: Option<&std::path::Path>, dir: &std::path::Path, words: &[u32]) -> Texts {
        let mut uniq: Vec<u32> = words.to_vec();
        uniq.sort_unstable();
        uniq.dedup();
        let mut map = HashMap::new();
        if let Some(od) = objdump {
            match disasm::disassemble(od, dir, &uniq) {
                Ok(texts) => {
                    map.extend(uniq.iter().copied().zip(texts));
                }
                Err(e) => eprintln!("check-isa: disassembly failed: {e}"),
            }
        }
        Texts(map)
    }

    /// The text of `w`.
    pub fn get(&self, w: u32) -> String {
        self.0
            .get(&w)
            .cloned()
            .unwrap_or_else(|| format!(".inst {w:#010x}"))
    }
}

/// Register names (x5, w5, v3, q3, d3, s3, h3, b3, sp) in a disassembly,
/// as (is_vector, number) with SP as (false, 31); register lists
/// `{v0.16b-v3.16b}` are expanded.
fn registers_in(text: &str) -> Vec<(bool, u8)> {
    let mut regs = Vec::new();
    let ops = text.split_once(' ').map(|(_, o)| o).unwrap_or("");
    let ops = ops.split("//").next().unwrap_or("");
    for tok in ops.split(|c: char| !c.is_ascii_alphanumeric() && c != '-') {
        for part in tok.split('-') {
            let mut chars = part.chars();
            let Some(first) = chars.next() else { continue };
            let rest: String = chars.take_while(|c| c.is_ascii_digit()).collect();
            if part == "sp" || part == "wsp" {
                regs.push((false, 31));
                continue;
            }
            let Ok(n) = rest.parse::<u8>() else { continue };
            if n > 31 || part.len() != 1 + rest.len() {
                continue;
            }
            match first {
                'x' | 'w' if n < 31 => regs.push((false, n)),
                'v' | 'q' | 'd' | 's' | 'h' | 'b' => regs.push((true, n)),
                _ => {}
            }
        }
    }
    // Expand a vector range {vA.T-vB.T} (it may wrap past v31).
    let number = |t: &str| -> Option<u8> {
        let t = t.trim().trim_start_matches(['{', ' ', 'v']);
        t.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    if let (Some(a), Some(b)) = (ops.find('{'), ops.find('}')) {
        if let Some((lo, hi)) = ops.get(a..b).and_then(|l| l.split_once('-')) {
            if let (Some(mut n), Some(hi)) = (number(lo), number(hi)) {
                while n != hi && n < 32 {
                    n = (n + 1) % 32;
                    regs.push((true, n));
                }
            }
        }
    }
    regs.sort_unstable();
    regs.dedup();
    regs
}

fn hex_mem_diff(a: &[u8], b: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            let s = i;
            while i < a.len() && a[i] != b[i] {
                i += 1;
            }
            ranges.push((s, i));
        } else {
            i += 1;
        }
    }
    ranges
}

fn bytes_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The full account of one culprit.
pub fn describe(c: &Culprit, texts: &Texts) -> String {
    let mut s = String::new();
    let text = texts.get(c.word);
    let _ = writeln!(s, "    {:#x}: {:08x}  {}", c.pc, c.word, text);
    if c.seq.len() > 1 {
        let seq: Vec<String> = c.seq.iter().map(|w| texts.get(*w)).collect();
        let _ = writeln!(
            s,
            "      (instruction {} of the sequence: {})",
            c.at + 1,
            seq.join("; ")
        );
    }
    let b = &c.before;
    let mut inputs = format!("FPCR={:#010x} NZCV={:x}", c.fpcr, b.nzcv >> 28);
    for (vec, n) in registers_in(&text) {
        if vec {
            let _ = write!(inputs, " v{n}={:#034x}", b.v[usize::from(n)]);
        } else if n == 31 {
            let _ = write!(inputs, " sp={:#x}", b.sp);
        } else {
            let _ = write!(inputs, " x{n}={:#018x}", b.x[usize::from(n)]);
        }
    }
    let _ = writeln!(s, "      inputs: {inputs}");
    match &c.hv {
        Err(why) => {
            let _ = writeln!(s, "      hv: {why}");
        }
        Ok(h) => {
            let q = &c.qemu;
            for i in 0..31 {
                if q.x[i] != h.x[i] {
                    let _ = writeln!(s, "      x{i}: qemu {:#018x}  hv {:#018x}", q.x[i], h.x[i]);
                }
            }
            if q.sp != h.sp {
                let _ = writeln!(s, "      sp: qemu {:#x}  hv {:#x}", q.sp, h.sp);
            }
            if q.nzcv != h.nzcv {
                let _ = writeln!(
                    s,
                    "      nzcv: qemu {:x}  hv {:x}",
                    q.nzcv >> 28,
                    h.nzcv >> 28
                );
            }
            if q.fpcr_fpsr != h.fpcr_fpsr {
                let _ = writeln!(
                    s,
                    "      fpsr: qemu {:#010x}  hv {:#010x}",
                    q.fpcr_fpsr, h.fpcr_fpsr
                );
            }
            for i in 0..32 {
                if q.v[i] != h.v[i] {
                    let _ = writeln!(s, "      v{i}: qemu {:#034x}  hv {:#034x}", q.v[i], h.v[i]);
                }
            }
            for (a, e) in hex_mem_diff(&q.mem, &h.mem) {
                let _ = writeln!(
                    s,
                    "      mem[{:#x}..{:#x}]: qemu {}  hv {}",
                    super::layout::SCRATCH + a as u64,
                    super::layout::SCRATCH + e as u64,
                    bytes_hex(&q.mem[a..e]),
                    bytes_hex(&h.mem[a..e])
                );
            }
        }
    }
    s
}

/// Print one class's findings (after its counts).
pub fn print_details(rep: &ClassReport, opts: &Options, dir: &std::path::Path) {
    if rep.clean() {
        return;
    }
    let mut words: Vec<u32> = rep.undefined_words.keys().copied().collect();
    for c in &rep.culprits {
        words.push(c.word);
        words.extend(&c.seq);
    }
    for (seq, _) in rep.other.iter().take(opts.show) {
        words.extend(seq);
    }
    let texts = Texts::of(opts.objdump.as_deref(), dir, &words);
    println!("--- {} ---", rep.name);
    if !rep.undefined_words.is_empty() {
        let mut by_mn: HashMap<String, (u64, u32)> = HashMap::new();
        for (w, n) in &rep.undefined_words {
            let t = texts.get(*w);
            let e = by_mn
                .entry(disasm::mnemonic(&t).to_string())
                .or_insert((0, *w));
            e.0 += n;
        }
        let mut v: Vec<_> = by_mn.into_iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        println!("  undefined in hv, by mnemonic ({} cases):", rep.undefined);
        for (mn, (n, w)) in v {
            println!("    {mn:<12} {n:>6}  e.g. {w:08x}  {}", texts.get(w));
        }
    }
    if !rep.culprits.is_empty() {
        let mut by_mn: HashMap<String, (u64, u64)> = HashMap::new();
        for c in &rep.culprits {
            let e = by_mn
                .entry(disasm::mnemonic(&texts.get(c.word)).to_string())
                .or_default();
            e.0 += 1;
            if c.fpsr_only() {
                e.1 += 1;
            }
        }
        let mut v: Vec<_> = by_mn.into_iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        let list: Vec<String> = v
            .iter()
            .map(|(m, (n, f))| {
                if *f > 0 {
                    format!("{m} {n} ({f} FPSR only)")
                } else {
                    format!("{m} {n}")
                }
            })
            .collect();
        println!(
            "  mismatches by first mismatching instruction ({} of {} cut down, wrong values first): {}",
            rep.culprits.len(),
            rep.mismatched,
            list.join(", ")
        );
        // Wrong values before wrong FPSR flags; one example per mnemonic.
        let mut order: Vec<&Culprit> = rep.culprits.iter().collect();
        order.sort_by_key(|c| c.fpsr_only());
        let mut seen = Vec::new();
        for c in order {
            let mn = disasm::mnemonic(&texts.get(c.word)).to_string();
            let key = (mn, c.fpsr_only());
            if seen.len() < opts.show && !seen.contains(&key) {
                print!("{}", describe(c, &texts));
                seen.push(key);
            }
        }
    }
    for (seq, why) in rep.other.iter().take(opts.show) {
        let t: Vec<String> = seq
            .iter()
            .map(|w| format!("{w:08x} {}", texts.get(*w)))
            .collect();
        println!("  {why}: {}", t.join("; "));
    }
}

/// The table of all classes.
pub fn print_table(reports: &[ClassReport]) {
    println!(
        "{:<18} {:>9} {:>9} {:>10} {:>9} {:>9} {:>8} {:>7} {:>6}  listed",
        "class",
        "compared",
        "matched",
        "mismatch",
        "fpsr-only",
        "undef-hv",
        "hv-exc",
        "qemu-f",
        "secs"
    );
    let mut total = ClassReport::default();
    for r in reports {
        println!(
            "{:<18} {:>9} {:>9} {:>10} {:>9} {:>9} {:>8} {:>7} {:>6.1}  {}",
            r.name,
            r.compared,
            r.matched,
            r.mismatched,
            r.fpsr_only,
            r.undefined,
            r.hv_exception,
            r.qemu_fault,
            r.seconds,
            match (r.listed(), r.clean()) {
                (true, true) => "implemented, ok",
                (true, false) => "implemented, FAILED",
                (false, true) => "not listed (clean)",
                (false, false) => "not listed",
            }
        );
        total.compared += r.compared;
        total.matched += r.matched;
        total.mismatched += r.mismatched;
        total.fpsr_only += r.fpsr_only;
        total.undefined += r.undefined;
        total.hv_exception += r.hv_exception;
        total.qemu_fault += r.qemu_fault;
        total.seconds += r.seconds;
    }
    println!(
        "{:<18} {:>9} {:>9} {:>10} {:>9} {:>9} {:>8} {:>7} {:>6.1}",
        "total",
        total.compared,
        total.matched,
        total.mismatched,
        total.fpsr_only,
        total.undefined,
        total.hv_exception,
        total.qemu_fault,
        total.seconds
    );
}

/// Run the selected classes, print the report; `Ok(true)` when nothing
/// that must pass failed.
pub fn run(runner: &mut Runner, opts: &Options, dir: &std::path::Path) -> Result<bool, String> {
    let classes = forms::classes();
    for name in &opts.classes {
        if !classes.iter().any(|c| c.name == name) {
            return Err(format!("no class named `{name}` (see --list)"));
        }
    }
    let mut reports = Vec::new();
    for (i, class) in classes.iter().enumerate() {
        if !opts.classes.is_empty() && !opts.classes.iter().any(|c| c == class.name) {
            continue;
        }
        let rep = run_class(runner, i, class, opts)?;
        println!(
            "check-isa: {:<18} {:>7} compared, {:>7} matched, {:>6} mismatched, {:>6} undefined in hv ({:.1} s)",
            rep.name, rep.compared, rep.matched, rep.mismatched, rep.undefined, rep.seconds
        );
        print_details(&rep, opts, dir);
        reports.push(rep);
    }
    println!();
    print_table(&reports);
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| !r.clean() && (r.listed() || opts.strict || r.qemu_fault > 0))
        .map(|r| r.name)
        .collect();
    if failed.is_empty() {
        println!("check-isa: ok");
        Ok(true)
    } else {
        println!("check-isa: FAILED: {}", failed.join(", "));
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::registers_in;

    #[test]
    fn registers_are_found_in_disassembly() {
        let v = |n: &[u8]| n.iter().map(|&r| (true, r)).collect::<Vec<_>>();
        let mut ld4 = v(&[0, 1, 2, 3]);
        ld4.insert(0, (false, 1));
        assert_eq!(
            registers_in("ld4 { v0.16b, v1.16b, v2.16b, v3.16b }, [x1]"),
            ld4
        );
        assert_eq!(registers_in("fmadd d1, d2, d3, d4"), v(&[1, 2, 3, 4]));
        assert_eq!(registers_in("add x0, sp, #0x1"), [(false, 0), (false, 31)]);
        // A wrapping list and a lane index.
        assert_eq!(
            registers_in("tbl v0.16b, { v30.16b-v1.16b }, v5.16b"),
            v(&[0, 1, 5, 30, 31])
        );
        assert_eq!(registers_in("mov w3, v2.s[1]"), [(false, 3), (true, 2)]);
        // Comments are not operands.
        assert_eq!(registers_in("mov x2, #0x5 // =5"), [(false, 2)]);
    }
}
