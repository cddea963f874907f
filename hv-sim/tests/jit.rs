//! The JIT proved against the interpreter: every test runs the same guest
//! on an interpreted CPU and on one with the JIT attached (threshold 1
//! unless said otherwise, so blocks compile at their first run), with the
//! same budgets, and compares exits, all registers, PSTATE, the
//! instruction count, the system registers of the exceptions taken, all
//! of RAM and the MMIO accesses after every run (`hv_sim::jitcheck`).
//!
//! Hand-written cases cover what random programs rarely hit (faults in the
//! middle of compiled code, self-modifying code, DMA to code, budgets that
//! end inside chained loops, interrupts); a proptest covers random
//! integer programs with loops, loads and stores.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::collections::HashMap;

use hv_core::translate::asm::*;
use hv_core::translate::exception::VectorKind;
use hv_core::translate::sysreg;
use hv_core::translate::Exit;
use hv_sim::jitcheck::{Pair, Setup, CODE, DATA, HOLE, MMIO, RAM, RAM_SIZE};
use proptest::prelude::*;

/// A branch to patch: its index, target label and encoder.
type Fixup = (usize, &'static str, fn(i32) -> u32);

/// A tiny assembler with forward and backward labels.
#[derive(Default)]
struct Prog {
    words: Vec<u32>,
    labels: HashMap<&'static str, usize>,
    fixups: Vec<Fixup>,
}

impl Prog {
    fn new() -> Prog {
        Prog::default()
    }
    fn w(&mut self, w: u32) -> &mut Prog {
        self.words.push(w);
        self
    }
    fn ws(&mut self, ws: &[u32]) -> &mut Prog {
        self.words.extend_from_slice(ws);
        self
    }
    fn label(&mut self, l: &'static str) -> &mut Prog {
        self.labels.insert(l, self.words.len());
        self
    }
    /// A branch to `l`, encoded by `f(byte offset)`.
    fn br(&mut self, l: &'static str, f: fn(i32) -> u32) -> &mut Prog {
        self.fixups.push((self.words.len(), l, f));
        self.words.push(0);
        self
    }
    fn finish(&self) -> Vec<u32> {
        let mut w = self.words.clone();
        for &(at, l, f) in &self.fixups {
            let to = self.labels[l];
            w[at] = f((to as i32 - at as i32) * 4);
        }
        w
    }
}

fn check(p: &mut Pair, budget: u64) -> Exit {
    p.run(budget).unwrap_or_else(|e| panic!("{e}"))
}

/// Run to the HVC that ends the program, comparing after every `slice`
/// instructions.
fn run_to_hvc(p: &mut Pair, slice: u64) {
    for _ in 0..1000 {
        match check(p, slice) {
            Exit::Budget => {}
            Exit::Hvc { .. } => return,
            other => panic!("unexpected exit {other:?}"),
        }
    }
    panic!(
        "no HVC: PC {:#x}, pstate {:#x}, x26 {:#x}, ESR {:#x}",
        p.interp.cpu.pc(),
        p.interp.cpu.pstate().bits(),
        p.interp.cpu.x(26),
        p.interp.cpu.sys.esr
    );
}

fn assert_compiled(p: &Pair) {
    let s = p.jit_stats();
    assert!(s.compiled > 0 && s.runs > 0, "the JIT ran nothing: {s:?}");
    // A block the back end declines runs interpreted: correct, but then
    // the test proves nothing about its code (an encoder error such as a
    // jump to a slow path that was never emitted hid this way once).
    assert_eq!(s.declined, 0, "blocks declined by the back end: {s:?}");
}

const X: bool = true;
const W: bool = false;

/// ALU ops with flags, CSEL/CSINC/CCMP, B.cond/CBZ/TBZ in a counted loop.
fn alu_loop() -> Vec<u32> {
    let mut p = Prog::new();
    p.w(movz(X, 0, 300, 0))
        .ws(&mov64(1, 0x8000_0000_0000_0010))
        .w(movn(W, 2, 7, 0))
        .w(movz(X, 10, 3, 0))
        .label("loop")
        .w(adds_imm(X, 1, 1, 0x7ff))
        .w(addsub_reg(W, 1, true, 0, 0, 3, 2, 2)) // subs w2, w2, w0, lsl #3
        .w(csel(X, 0, 0, 1, LT, 2, 3)) // csel x3, x2, x1, lt
        .w(csel(X, 0, 1, 3, VS, 4, 4)) // csinc x4, x4, x3, vs
        .w(ccmp(X, 1, true, 5, NE, 1, 4)) // ccmp x1, #5, #4, ne
        .w(csel(W, 0, 1, 31, HI, 31, 5)) // cset w5, ls
        .w(logic_reg(X, 2, false, 3, 1, 13, 6, 6)) // eor x6, x6, x1, ror #13
        .w(addsub_carry(X, 0, true, 2, 6, 7)) // adcs x7, x6, x2
        .w(addsub_carry(W, 1, false, 7, 3, 8)) // sbc w8, w3, w7
        .w(dp3(X, 0, 0, 2, 9, 1, 9)) // madd x9, x1, x2, x9
        .w(dp3(W, 0, 1, 0, 9, 3, 11)) // msub w11, w3, w0, w9
        .w(dp2(X, 2, 10, 9, 12)) // udiv x12, x9, x10
        .w(dp2(W, 3, 0, 11, 13)) // sdiv w13, w11, w0
        .w(dp2(X, 8, 0, 6, 14)) // lslv x14, x6, x0
        .w(dp2(W, 10, 0, 6, 15)) // asrv w15, w6, w0
        .w(bitfield(X, 2, 61, 60, 1, 16)) // lsl x16, x1, #3 (ubfm)
        .w(bitfield(W, 0, 4, 31, 6, 17)) // asr w17, w6, #4 (sbfm)
        .w(bitfield(X, 1, 8, 7, 6, 18)) // bfi x18, x6, #56, #8
        .w(extr(X, 19, 1, 6, 17))
        .w(dp1(X, 4, 6, 20)) // clz x20, x6
        .w(dp1(W, 2, 6, 21)) // rev w21, w6
        .w(dp3(X, 6, 0, 6, 31, 1, 22)) // umulh x22, x1, x6
        .w(dp3(X, 1, 0, 6, 9, 2, 23)) // smaddl x23, w2, w6, x9
        .w(adr(24, -16))
        .w(adrp(25, 3))
        .br("skip1", |o| tbz(true, 6, 3, o)) // tbnz x6, #3
        .w(addsub_reg(X, 0, false, 2, 6, 9, 1, 1)) // add x1, x1, x6, asr #9
        .label("skip1")
        .br("skip2", |o| cbz(W, false, 5, o)) // cbz w5
        .w(logic_reg(W, 3, true, 1, 2, 1, 7, 7)) // bics w7, w7, w2, lsr #1
        .label("skip2")
        .br("skip3", |o| b_cond(GE, o))
        .w(addsub_ext(X, 1, false, 2, 6, 2, 31, 4)) // sub x4, sp, w2, sxtw #2
        .label("skip3")
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o)) // cbnz x0, loop
        .w(hvc(0));
    p.finish()
}

#[test]
fn alu_flags_and_branch_loops() {
    for setup in [
        Setup::default(),
        Setup {
            threshold: 3,
            ..Setup::default()
        },
        Setup {
            max_block_insns: 4,
            ..Setup::default()
        },
    ] {
        let mut p = Pair::new(setup, CODE, &alu_loop());
        run_to_hvc(&mut p, 1_000_000);
        assert_compiled(&p);
        // Again, from code already compiled, in odd slices.
        p.both(|s| s.cpu.set_pc(CODE));
        run_to_hvc(&mut p, 37);
    }
}

/// Every integer load and store form, in a loop that moves its bases.
fn mem_loop(unaligned: bool) -> Vec<u32> {
    let u = if unaligned { 1 } else { 0 };
    let mut p = Prog::new();
    p.w(movz(X, 0, 20, 0))
        .ws(&mov64(1, DATA + 0x800))
        .ws(&mov64(2, DATA + 0x2000))
        .ws(&mov64(3, DATA + 0x4ff0))
        .ws(&mov64(4, 0x8899_aabb_ccdd_eeff))
        .w(movz(X, 5, 0x18, 0))
        .label("loop");
    for size in 0..4u32 {
        let s = 1i32 << size;
        // store, zero- and sign-extending loads, every addressing mode
        p.w(ldst_uimm(size, false, 0, 3, 1, 4))
            .w(ldst_uimm(size, false, 1, 3, 1, 6))
            .w(ldst_imm9(size, false, 0, -3 * s + u, 0, 2, 4)) // stur
            .w(ldst_imm9(size, false, 1, -3 * s + u, 0, 2, 7)) // ldur
            .w(ldst_imm9(size, false, 0, 16, 3, 2, 4)) // str pre
            .w(ldst_imm9(size, false, 1, -8 + u, 1, 3, 8)) // ldr post
            .w(ldst_reg(size, false, 1, 5, 3, true, 1, 9)) // ldr [x1, x5, lsl #size]
            .w(ldst_reg(size, false, 0, 5, 2, false, 3, 4)); // str [x3, w5, uxtw]
        if size < 3 {
            p.w(ldst_uimm(size, false, 2, 5, 1, 10)) // ldrs x
                .w(ldst_imm9(size, false, 2, 56 + u, 3, 3, 11)) // ldrs x pre
                .w(ldst_reg(size, false, 2, 5, 6, false, 2, 12)); // ldrs x [x2, w5, sxtw]
        }
        if size < 2 {
            p.w(ldst_uimm(size, false, 3, 1, 1, 13)) // ldrs w
                .w(ldst_imm9(size, false, 3, -8 + u, 1, 2, 14)); // ldrs w post
        }
    }
    // Pairs: W, SW, X; offset, pre, post.
    p.w(ldst_pair(0, false, 2, false, 2, 6, 1, 4))
        .w(ldst_pair(0, false, 2, true, 2, 16, 1, 15))
        .w(ldst_pair(1, false, 3, true, -4, 18, 2, 17))
        .w(ldst_pair(2, false, 1, false, 4, 6, 3, 4))
        .w(ldst_pair(2, false, 3, true, -2, 20, 3, 19))
        .w(ldst_pair(2, false, 1, true, 6, 22, 1, 21))
        // SP-relative
        .w(ldst_pair(2, false, 3, false, -2, 4, 31, 6))
        .w(ldst_pair(2, false, 1, true, 2, 24, 31, 23))
        // literal (a load from the code page)
        .w(ldr_lit(0, false, -8, 25))
        .w(ldr_lit(2, false, 12, 25))
        .w(add_imm(X, 4, 4, 0x123))
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o))
        .w(hvc(0));
    p.finish()
}

#[test]
fn loads_and_stores_of_every_size_and_mode() {
    for (unaligned, mmu_on) in [(false, false), (true, true), (true, false)] {
        let setup = Setup {
            mmu_on,
            ..Setup::default()
        };
        let mut p = Pair::new(setup, CODE, &mem_loop(unaligned));
        run_to_hvc(&mut p, 1_000_000);
        assert_compiled(&p);
        let faults = p.interp.cpu.x(26);
        if unaligned && !mmu_on {
            assert!(faults > 0, "unaligned accesses with the MMU off fault");
        } else {
            assert_eq!(faults, 0, "no faults expected");
        }
    }
}

/// ALU work, a load from the hole, more ALU work, in a loop: the fault
/// happens in the middle of a compiled block, every iteration.
fn faulting_loop(fault: u32) -> Vec<u32> {
    let mut p = Prog::new();
    p.w(movz(X, 0, 10, 0))
        .ws(&mov64(20, HOLE + 0x40))
        .ws(&mov64(21, RAM + RAM_SIZE - 8))
        .label("loop")
        .w(add_imm(X, 1, 1, 1))
        .w(adds_imm(X, 2, 1, 5))
        .w(str_imm(X, 1, 21, 0))
        .w(fault)
        .w(csel(X, 0, 1, 2, EQ, 1, 3))
        .w(add_imm(X, 4, 4, 7))
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o))
        .w(hvc(0));
    p.finish()
}

#[test]
fn faults_in_the_middle_of_a_compiled_block() {
    let faults = [
        ldr_imm(X, 5, 20, 0),                       // load from the hole
        str_imm(W, 1, 20, 8),                       // store to the hole
        ldst_pair(2, false, 2, false, 0, 2, 21, 1), // STP: the second half faults
        ldst_pair(2, false, 2, true, 0, 6, 21, 5),  // LDP: the second half faults
        ldst_imm9(3, false, 1, 8, 3, 21, 5),        // pre-index into the hole: no write-back
        ldst_imm9(3, false, 1, 4, 0, 21, 5),        // unaligned, MMU off
        0x0000_0000,                                // UDF
    ];
    for fault in faults {
        for exit_on_exception in [false, true] {
            let setup = Setup {
                exit_on_exception,
                ..Setup::default()
            };
            let mut p = Pair::new(setup, CODE, &faulting_loop(fault));
            let mut exceptions = 0;
            loop {
                match check(&mut p, 100_000) {
                    Exit::Hvc { .. } => break,
                    Exit::Exception { kind, .. } => {
                        assert_eq!(kind, VectorKind::Sync);
                        exceptions += 1;
                    }
                    other => panic!("unexpected exit {other:?}"),
                }
            }
            assert_eq!(p.interp.cpu.x(26), 10, "one fault per iteration");
            if exit_on_exception {
                assert_eq!(exceptions, 10);
            }
            assert_compiled(&p);
        }
    }
}

#[test]
fn mmio_accesses_from_compiled_code() {
    let mut p = Prog::new();
    p.w(movz(X, 0, 8, 0))
        .ws(&mov64(1, MMIO + 0x10))
        .label("loop")
        .w(ldst_uimm(2, false, 0, 1, 1, 0)) // str w0, [x1, #4]
        .w(ldr_imm(X, 2, 1, 8))
        .w(ldst_uimm(0, false, 2, 3, 1, 3)) // ldrsb x3, [x1, #3]
        .w(ldst_imm9(1, false, 0, 8, 1, 1, 2)) // strh w2, [x1], #8
        .w(add_imm(X, 4, 2, 1))
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o))
        .w(hvc(0));
    let mut pair = Pair::new(Setup::default(), CODE, &p.finish());
    run_to_hvc(&mut pair, 1000);
    assert_compiled(&pair);
    assert_eq!(pair.jit.mmio.lock().unwrap().len(), 8 * 4);
}

/// A loop that rewrites an instruction of its own (at `patch`, an
/// `ADD X0, X0, #1` in the same or another block), then runs it.
fn self_modifying(same_block: bool) -> Vec<u32> {
    let mut p = Prog::new();
    p.w(movz(X, 7, 5, 0)).w(movz(X, 0, 0, 0)).w(adr(6, 0)); // patched below
    let adr_at = p.words.len() - 1;
    p.ws(&mov64(5, u64::from(add_imm(X, 0, 0, 100))))
        .label("loop");
    if !same_block {
        p.br("patch", b).label("patch");
    }
    let patch = p.words.len();
    p.w(add_imm(X, 0, 0, 1))
        .w(add_imm(X, 1, 1, 1))
        .w(ldst_uimm(2, false, 0, 0, 6, 5)) // str w5, [x6]
        .w(add_imm(X, 5, 5, 1 << 10)) // the next patch adds one more
        .w(sub_imm(X, 7, 7, 1))
        .br("loop", |o| cbz(X, true, 7, o))
        .w(hvc(0));
    p.words[adr_at] = adr(6, (patch as i32 - adr_at as i32) * 4);
    p.finish()
}

#[test]
fn self_modifying_code_runs_the_new_instruction() {
    for same_block in [true, false] {
        for threshold in [1, 2] {
            let setup = Setup {
                threshold,
                ..Setup::default()
            };
            let mut p = Pair::new(setup, CODE, &self_modifying(same_block));
            run_to_hvc(&mut p, 1_000_000);
            // 1, then +100, +101, +102, +103: the patched instruction ran.
            assert_eq!(p.interp.cpu.x(0), 1 + 100 + 101 + 102 + 103);
            assert!(p.jit_stats().invalidated > 0 || threshold > 1);
        }
    }
}

/// Code written into a data page by (fast-path) stores, run, rewritten
/// and run again: the host TLB must stop letting stores bypass the
/// invalidation once the page holds code.
#[test]
fn code_generated_into_a_data_page() {
    let gen = DATA + 0x3000;
    let mut p = Prog::new();
    p.w(movz(X, 7, 6, 0))
        .ws(&mov64(6, gen))
        .ws(&mov64(5, u64::from(add_imm(X, 0, 0, 1))))
        .ws(&mov64(4, u64::from(RET)))
        .label("loop")
        // Fill the page around the routine so its stores get hot.
        .w(ldst_pair(2, false, 2, false, 4, 4, 6, 4))
        .w(ldst_uimm(2, false, 0, 0, 6, 5)) // str w5, [x6]: ADD X0, X0, #n
        .w(ldst_uimm(2, false, 0, 1, 6, 4)) // str w4, [x6, #4]: RET
        .w(blr(6))
        .w(add_imm(X, 5, 5, 1 << 10)) // next time: ADD X0, X0, #n+1
        .w(sub_imm(X, 7, 7, 1))
        .br("loop", |o| cbz(X, true, 7, o))
        .w(hvc(0));
    let mut pair = Pair::new(Setup::default(), CODE, &p.finish());
    run_to_hvc(&mut pair, 1_000_000);
    assert_eq!(pair.interp.cpu.x(0), 1 + 2 + 3 + 4 + 5 + 6);
}

/// The home rewrites code between runs (as a DMA would) and says so with
/// `invalidate_code`.
#[test]
fn host_write_to_code_then_invalidate_code() {
    let mut p = Prog::new();
    p.label("top")
        .w(movz(X, 0, 50, 0))
        .label("loop")
        .w(add_imm(X, 1, 1, 1)) // rewritten by the home
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o))
        .w(hvc(0))
        .br("top", b);
    let mut pair = Pair::new(Setup::default(), CODE, &p.finish());
    run_to_hvc(&mut pair, 1_000_000);
    assert_compiled(&pair);
    for (i, insn) in [add_imm(X, 1, 1, 3), addsub_reg(X, 1, false, 0, 0, 0, 1, 1)]
        .into_iter()
        .enumerate()
    {
        pair.both(|s| {
            s.write_words(CODE + 4, &[insn]);
            s.cpu.invalidate_code(CODE + 4, 4);
        });
        run_to_hvc(&mut pair, 1_000_000);
        let expect = [200, 200u64.wrapping_sub(1275)][i];
        assert_eq!(pair.jit.cpu.x(1), expect, "the new instruction ran");
    }
}

/// A block rewritten while another block of its page is chained to it:
/// only the rewritten block is dropped, and the link to it is undone, so
/// the new instruction runs (a stale link would run the old code).
#[test]
fn rewriting_a_chained_block_drops_it_alone_and_unlinks_it() {
    let mut p = Prog::new();
    p.label("top")
        .w(movz(X, 0, 50, 0))
        .label("loop")
        .w(sub_imm(X, 0, 0, 1)) // block A: SUB, B body
        .br("body", b)
        .label("body")
        .w(add_imm(X, 1, 1, 1)) // block B: rewritten by the home
        .br("loop", |o| cbz(X, true, 0, o))
        .w(hvc(0))
        .br("top", b);
    let body = CODE + 12;
    let mut pair = Pair::new(Setup::default(), CODE, &p.finish());
    run_to_hvc(&mut pair, 1_000_000);
    assert_compiled(&pair);
    let before = pair.jit_stats();
    assert!(before.links > 0, "nothing was chained: {before:?}");
    pair.both(|s| {
        s.write_words(body, &[add_imm(X, 1, 1, 3)]);
        s.cpu.invalidate_code(body, 4);
    });
    assert_eq!(
        pair.jit_stats().invalidated,
        before.invalidated + 1,
        "only the block holding the written word is dropped"
    );
    run_to_hvc(&mut pair, 1_000_000);
    assert_eq!(pair.jit.cpu.x(1), 50 + 150, "the new instruction ran");
}

/// Data stored next to code in the same page (as small bare-metal
/// images do) leaves the page's blocks compiled and chained.
#[test]
fn stores_next_to_code_keep_its_blocks() {
    let mut p = Prog::new();
    p.w(movz(X, 0, 200, 0))
        .w(adr(6, 0)) // x6 = the data word after the code, patched below
        .label("loop")
        .w(ldst_uimm(2, false, 1, 0, 6, 5)) // ldr w5, [x6]
        .w(add_imm(X, 5, 5, 3))
        .w(ldst_uimm(2, false, 0, 0, 6, 5)) // str w5, [x6]
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o))
        .w(hvc(0))
        .label("data")
        .w(0);
    let mut words = p.finish();
    let data = p.labels["data"];
    words[1] = adr(6, (data as i32 - 1) * 4);
    let mut pair = Pair::new(Setup::default(), CODE, &words);
    run_to_hvc(&mut pair, 1_000_000);
    assert_compiled(&pair);
    assert_eq!(pair.jit.cpu.x(5), 600);
    let s = pair.jit_stats();
    assert_eq!(s.invalidated, 0, "{s:?}");
    assert!(s.compiled <= 4, "blocks recompiled: {s:?}");
}

/// Budgets that end inside a loop of chained blocks: the JIT must stop
/// exactly where the interpreter does.
#[test]
fn budgets_ending_mid_loop() {
    let mut p = Prog::new();
    p.w(movz(X, 0, 0, 0))
        .label("a")
        .w(add_imm(X, 0, 0, 1))
        .br("b", |o| tbz(false, 0, 0, o))
        .w(add_imm(X, 1, 1, 1))
        .label("b")
        .w(add_imm(X, 2, 2, 1))
        .w(add_imm(X, 3, 3, 2))
        .br("a", |o| b_cond(NE, o))
        .w(cmp_imm(X, 3, 0))
        .br("a", b);
    let mut pair = Pair::new(Setup::default(), CODE, &p.finish());
    for budget in (1..60).chain([1000, 1, 2, 3, 5000, 7]) {
        assert_eq!(check(&mut pair, budget), Exit::Budget);
    }
    let s = pair.jit_stats();
    assert!(s.links > 0, "blocks were chained: {s:?}");
}

/// An IRQ line raised (and lowered) between runs, taken at the same
/// instruction by both.
#[test]
fn interrupt_raised_between_runs() {
    let mut p = Prog::new();
    p.w(msr_daifclr(2))
        .label("loop")
        .w(add_imm(X, 0, 0, 1))
        .w(add_imm(X, 1, 1, 3))
        .br("loop", |o| tbz(false, 0, 7, o))
        .w(msr_daifclr(2))
        .br("loop", b);
    for exit_on_exception in [false, true] {
        let setup = Setup {
            exit_on_exception,
            ..Setup::default()
        };
        let mut pair = Pair::new(setup, CODE, &p.finish());
        for round in 0..6u64 {
            check(&mut pair, 100 + round * 13);
            pair.both(|s| s.cpu.set_irq(round % 2 == 0));
            check(&mut pair, 50 + round);
        }
        pair.both(|s| s.cpu.set_irq(false));
        check(&mut pair, 1000);
        assert!(pair.interp.cpu.x(26) >= 0x100, "an IRQ was taken");
        assert_compiled(&pair);
    }
}

/// WFI and WFE leave compiled code for the home, and a vector table in
/// the hole ends the run with a fault loop, at the same instruction count.
#[test]
fn wfi_wfe_and_fault_loop_exits() {
    let mut p = Prog::new();
    p.label("top")
        .w(add_imm(X, 0, 0, 1))
        .w(WFI)
        .w(add_imm(X, 1, 1, 1))
        .w(WFE)
        .br("top", |o| tbz(false, 0, 4, o))
        .w(0); // UDF, every 16th time round
    p.br("top", b);
    let mut pair = Pair::new(Setup::default(), CODE, &p.finish());
    let mut exits = Vec::new();
    for _ in 0..40 {
        exits.push(check(&mut pair, 1000));
    }
    assert!(exits.contains(&Exit::Wfi) && exits.contains(&Exit::Wfe));
    pair.both(|s| s.cpu.sys.vbar = HOLE);
    let mut stuck = false;
    for _ in 0..40 {
        stuck |= matches!(check(&mut pair, 1000), Exit::FaultLoop { .. });
    }
    assert!(stuck, "a vector table in the hole is a fault loop");
    assert_compiled(&pair);
}

/// A code arena that fills up: all code is dropped
/// while chained blocks and cached code addresses point into it.
#[test]
fn full_code_arena_is_flushed_and_refilled() {
    for prog in [alu_loop(), mem_loop(true)] {
        let setup = Setup {
            arena_bytes: 4096,
            max_block_insns: 3,
            ..Setup::default()
        };
        let mut p = Pair::new(setup, CODE, &prog);
        run_to_hvc(&mut p, 97);
        let s = p.jit_stats();
        assert!(s.flushes > 0 && s.runs > 0, "the arena filled up: {s:?}");
    }
}

/// The same code run at EL1 with SP_EL1, at EL1 with SP_EL0 and at EL0:
/// compiled code is specific to the exception level and stack pointer.
#[test]
fn same_code_at_el1h_el1t_and_el0() {
    let mut p = Prog::new();
    p.label("body")
        .w(movz(X, 0, 6, 0))
        .label("loop")
        .w(ldst_pair(2, false, 3, false, -2, 1, 31, 0)) // stp x0, x1, [sp, #-16]!
        .w(add_imm(X, 2, 31, 0)) // mov x2, sp
        .w(ldst_imm9(3, false, 0, 8, 2, 2, 0)) // sttr x0, [x2, #8]
        .w(ldr_imm(X, 3, 31, 8))
        .w(add_imm(X, 31, 31, 16))
        .w(add_imm(X, 1, 1, 1))
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o))
        .w(svc(1)) // EL0: an exception; EL1: the handler skips it too
        .w(hvc(0))
        .br("body", b);
    let mut pair = Pair::new(Setup::default(), CODE, &p.finish());
    // EL1h
    run_to_hvc(&mut pair, 1_000_000);
    // EL1t: MSR SPSel, #0 then the same code
    pair.both(|s| {
        s.cpu
            .set_pstate(hv_core::translate::exception::Spsr::from_bits_retain(
                0b0100 | 0x3c0,
            ));
    });
    run_to_hvc(&mut pair, 1_000_000);
    // EL0: HVC is undefined there, so run by budget
    pair.both(|s| {
        s.cpu
            .set_pstate(hv_core::translate::exception::Spsr::from_bits_retain(0));
    });
    for budget in [5, 50, 500, 5000] {
        check(&mut pair, budget);
    }
    assert_compiled(&pair);
}

/// Operand pairs for the scalar FP test: (double bits, single bits) of
/// ordinary values, the ones at the edges of the host path (zeros,
/// subnormals, the smallest normals, values whose results overflow or
/// underflow) and infinities and NaNs.
const FP_VALUES: [(u64, u32); 14] = [
    (0x3ff0_0000_0000_0000, 0x3f80_0000), // 1.0
    (0xc008_0000_0000_0000, 0xc040_0000), // -3.0
    (0x3fb9_9999_9999_999a, 0x3dcc_cccd), // 0.1
    (0x7e37_e43c_8800_759c, 0x7149_f2ca), // 1e300, 1e30
    (0x0170_0000_0000_0000, 0x0d80_0000), // 2^-1000, 2^-100
    (0x0010_0000_0000_0000, 0x0080_0000), // smallest normal
    (0x0020_0000_0000_0001, 0x0100_0001), // just above twice that
    (0x000f_ffff_ffff_ffff, 0x007f_ffff), // largest subnormal
    (0, 0),                               // +0.0
    (0x8000_0000_0000_0000, 0x8000_0000), // -0.0
    (0x7ff0_0000_0000_0000, 0x7f80_0000), // +inf
    (0x7ff8_0000_0000_0001, 0x7fc0_0001), // quiet NaN
    (0x7ff0_0000_0000_0001, 0x7f80_0001), // signalling NaN
    (0x7fef_ffff_ffff_ffff, 0x7f7f_ffff), // largest finite
];

/// Every pair of [`FP_VALUES`] through FADD, FSUB, FMUL, FDIV, FMAX,
/// FMIN, FMAXNM, FMINNM, FCMP,
/// FCMPE and FCMP #0.0, and every value through FSQRT and FCVT, in both
/// precisions, each result (with a Q register
/// loaded first, so a missing clear of the upper half shows), NZCV and
/// FPSR stored to memory. X1 holds the FPCR to run with, X2 the FPSR to
/// start from.
fn fp_pairs() -> Vec<u32> {
    const TABLE: u64 = DATA;
    // 196 pairs x 2 precisions x 14 results x 8 bytes: 0xab80 bytes.
    const OUT: u64 = DATA + 0x100;
    let store_x3 = ldst_imm9(3, false, 0, 8, 1, 20, 3); // str x3, [x20], #8
    let mut p = Prog::new();
    p.w(msr(sysreg::FPCR, 1))
        .w(msr(sysreg::FPSR, 2))
        .ws(&mov64(21, TABLE))
        .ws(&mov64(20, OUT))
        .w(movz(X, 9, 0, 0))
        .label("outer")
        .w(movz(X, 10, 0, 0))
        .label("inner")
        .w(addsub_reg(X, 0, false, 0, 9, 4, 21, 11)) // add x11, x21, x9, lsl #4
        .w(ldst_pair(2, false, 2, true, 0, 4, 11, 1)) // ldp x1, x4, [x11]
        .w(addsub_reg(X, 0, false, 0, 10, 4, 21, 12))
        .w(ldst_pair(2, false, 2, true, 0, 5, 12, 2)) // ldp x2, x5, [x12]
        .w(fmov_gp(true, true, 1, 1)) // fmov d1, x1
        .w(fmov_gp(true, true, 2, 2))
        .w(fmov_gp(false, true, 4, 4)) // fmov s4, w4
        .w(fmov_gp(false, true, 5, 5));
    for (ty, a, b, d, double) in [(1, 1, 2, 3, true), (0, 4, 5, 6, false)] {
        // FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM.
        for opcode in 0..8 {
            p.w(ldst_uimm(0, true, 3, 0, 11, d)) // ldr qD, [x11]
                .w(fp_dp2(ty, opcode, b, a, d))
                .w(fmov_gp(double, false, d, 3))
                .w(store_x3);
        }
        for (zero, signal) in [(false, false), (false, true), (true, false)] {
            p.w(fcmp(ty, b, a, zero, signal))
                .w(mrs(3, sysreg::NZCV))
                .w(store_x3);
        }
        // FSQRT, and FCVT to the other precision (its result read at
        // that precision's width).
        for (opcode, wide) in [(3, double), (if double { 4 } else { 5 }, !double)] {
            p.w(ldst_uimm(0, true, 3, 0, 11, d))
                .w(fp_dp1(ty, opcode, a, d))
                .w(fmov_gp(wide, false, d, 3))
                .w(store_x3);
        }
        p.w(mrs(3, sysreg::FPSR)).w(store_x3);
    }
    let n = FP_VALUES.len() as u32;
    p.w(add_imm(X, 10, 10, 1))
        .w(cmp_imm(X, 10, n))
        .br("inner", |o| b_cond(NE, o))
        .w(add_imm(X, 9, 9, 1))
        .w(cmp_imm(X, 9, n))
        .br("outer", |o| b_cond(NE, o))
        .w(hvc(0));
    p.finish()
}

#[test]
fn scalar_fp_on_the_host_path_and_off_it() {
    const IXC: u64 = 1 << 4;
    const FZ: u64 = 1 << 24;
    const DN: u64 = 1 << 25;
    let rmode = |m: u64| m << 22;
    // (CPACR, FPCR, starting FPSR): the host path's conditions in turn.
    let envs = [
        (3 << 20, 0, 0),
        (3 << 20, 0, IXC),
        (3 << 20, FZ, IXC),
        (3 << 20, DN, IXC),
        (3 << 20, FZ | DN, 0),
        (3 << 20, rmode(1), IXC),
        (3 << 20, rmode(2), IXC),
        (3 << 20, rmode(3), IXC),
        // FP trapped at EL1: every FP instruction is an exception.
        (0, 0, IXC),
        (1 << 20, 0, IXC),
    ];
    let table: Vec<u8> = FP_VALUES
        .iter()
        .flat_map(|&(d, s)| {
            d.to_le_bytes()
                .into_iter()
                .chain(u64::from(s).to_le_bytes())
        })
        .collect();
    for (cpacr, fpcr, fpsr) in envs {
        let mut p = Pair::new(Setup::default(), CODE, &fp_pairs());
        p.both(|s| {
            s.write(DATA, &table);
            s.cpu.sys.cpacr = cpacr;
        });
        p.set_x(1, fpcr);
        p.set_x(2, fpsr);
        run_to_hvc(&mut p, 997);
        assert_compiled(&p);
    }
}

#[test]
fn vector_fp_checks_every_lane() {
    // Each pair of FP_VALUES in one lane (k) of otherwise ordinary vectors
    // (1.5 everywhere else), through FADD/FSUB/FMUL/FDIV as 4S, 2S and 2D, with
    // FPSR reset to IXC before each op and stored after it with the
    // result: a lane the host path fails to check shows as a flag or a
    // value the interpreter does not produce.
    const OUT: u64 = DATA + 0x100;
    let store_q = |rt: u32| ldst_imm9(0, true, 2, 16, 1, 20, rt); // str qT, [x20], #16
    let store_x3 = ldst_imm9(3, false, 0, 8, 1, 20, 3);
    let mut p = Prog::new();
    p.ws(&mov64(21, DATA))
        .ws(&mov64(20, OUT))
        .ws(&mov64(7, 0x3ff8_0000_0000_0000)) // 1.5
        .ws(&mov64(8, 0x3fc0_0000)) // 1.5f
        .w(movz(X, 9, 0, 0))
        .label("outer")
        // Each outer round overwrites the last one's results (compared in
        // the meantime: a slice is shorter than a round).
        .ws(&mov64(20, OUT))
        .w(movz(X, 10, 0, 0))
        .label("inner")
        .w(addsub_reg(X, 0, false, 0, 9, 4, 21, 11))
        .w(ldst_pair(2, false, 2, true, 0, 4, 11, 1)) // ldp x1, x4, [x11]
        .w(addsub_reg(X, 0, false, 0, 10, 4, 21, 12))
        .w(ldst_pair(2, false, 2, true, 0, 5, 12, 2)); // ldp x2, x5, [x12]
    for (double, lanes, q) in [(false, 4u32, true), (false, 2, false), (true, 2, true)] {
        for k in 0..lanes {
            // v1, v2 = 1.5 in every lane, then lane k = a, b.
            let (size, gp_a, gp_b, one) = if double { (3, 1, 2, 7) } else { (2, 4, 5, 8) };
            let imm5 = |k: u32| ((k << 1) | 1) << size;
            p.w(simd_copy(true, false, 1 << size, 1, one, 1)) // dup v1, one
                .w(simd_copy(true, false, 1 << size, 1, one, 2))
                .w(simd_copy(true, false, imm5(k), 3, gp_a, 1)) // ins v1[k], a
                .w(simd_copy(true, false, imm5(k), 3, gp_b, 2));
            for op in 0..4 {
                p.w(msr(sysreg::FPSR, 6))
                    .w(vfp3(q, op, u32::from(double), 2, 1, 3))
                    .w(store_q(3))
                    .w(mrs(3, sysreg::FPSR))
                    .w(store_x3);
            }
        }
    }
    let n = FP_VALUES.len() as u32;
    p.w(add_imm(X, 10, 10, 1))
        .w(cmp_imm(X, 10, n))
        .br("inner", |o| b_cond(NE, o))
        .w(add_imm(X, 9, 9, 1))
        .w(cmp_imm(X, 9, n))
        .br("outer", |o| b_cond(NE, o))
        .w(hvc(0));
    let table: Vec<u8> = FP_VALUES
        .iter()
        .flat_map(|&(d, s)| {
            d.to_le_bytes()
                .into_iter()
                .chain(u64::from(s).to_le_bytes())
        })
        .collect();
    let words = p.finish();
    for fpcr in [0, 1 << 25] {
        let mut p = Pair::new(Setup::default(), CODE, &words);
        p.both(|s| s.write(DATA, &table));
        p.set_x(6, 1 << 4);
        p.both(|s| s.cpu.sys.fpcr = fpcr);
        run_to_hvc(&mut p, 997);
        assert_compiled(&p);
    }
}

#[test]
fn scalar_fp_of_ordinary_values_stays_on_the_host_path() {
    // 1000 rounds of FADD/FSUB/FMUL/FDIV/FCMP on normal doubles and
    // singles with IXC set: of 7,000 FP instructions none goes to the
    // interpreter, only the prologue's FMOVs and MSR and the final HVC do.
    let mut p = Prog::new();
    p.w(movz(X, 0, 1000, 0))
        .ws(&mov64(1, 0x3ff8_0000_0000_0000)) // 1.5
        .ws(&mov64(2, 0x4000_0000_0000_0000)) // 2.0
        .w(movz(W, 8, 0x3fc0, 1)) // 1.5f
        .w(fmov_gp(true, true, 1, 1))
        .w(fmov_gp(true, true, 2, 2))
        .w(fmov_gp(false, true, 8, 4))
        .w(msr(sysreg::FPSR, 7))
        .label("loop")
        .w(fp_dp2(1, 2, 2, 1, 3)) // fadd d3, d1, d2
        .w(fp_dp2(1, 0, 3, 3, 3)) // fmul d3, d3, d3
        .w(fp_dp2(1, 1, 3, 3, 1)) // fdiv d1, d3, d3 (1.0)
        .w(fp_dp2(1, 3, 2, 1, 5)) // fsub d5, d1, d2
        .w(fp_dp2(0, 0, 4, 4, 6)) // fmul s6, s4, s4
        .w(fcmp(1, 2, 5, false, false))
        .w(fcmp(0, 0, 6, true, true))
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o))
        .w(hvc(0));
    let mut p = Pair::new(Setup::default(), CODE, &p.finish());
    p.set_x(7, 1 << 4);
    run_to_hvc(&mut p, 100_000);
    let s = p.jit_stats();
    assert!(s.interpreted <= 5, "FP went to the interpreter: {s:?}");
    assert_eq!(p.jit.cpu.sys.fpsr, 1 << 4);
}

/// A random SIMD&FP program: V0..V31 loaded from the data pages, X1..X5
/// random, then `n` instructions drawn from the forms the JIT computes on
/// the host (bitwise, ADD/SUB, CMEQ, EXT, DUP, MOVI and friends, moves
/// to and from general registers, scalar FP) with random operands and
/// arrangements, reserved ones included (both engines must take the
/// same Undefined exception).
fn simd_program(seed: u64, n: usize) -> Vec<u32> {
    let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move |k: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) % k
    };
    let mut p = Prog::new();
    p.ws(&mov64(10, DATA));
    for v in 0..32 {
        p.w(ldst_uimm(0, true, 3, v, 10, v)); // ldr qV, [x10, #16 * V]
    }
    for x in 1..=5u32 {
        p.ws(&mov64(
            x,
            0x0123_4567_89ab_cdef_u64.rotate_left(x * 13) ^ seed,
        ));
    }
    // General registers the programs read and write.
    let gp = |k: u64| [1, 2, 3, 4, 5, 31][k as usize] as u32;
    const MODIMM: [u32; 4] = [0x6f00_e620, 0x6f00_2641, 0x0f01_9682, 0x6f02_76c3];
    for _ in 0..n {
        let (q, u) = (next(2) == 1, next(2) == 1);
        let (d, a, b) = (next(32) as u32, next(32) as u32, next(32) as u32);
        let size = next(4) as u32;
        let base = 10 + next(4) as u32;
        let w = match next(if seed % 2 == 1 { 26 } else { 25 }) {
            // Odd seeds toggle SIMD&FP traps in the middle of blocks.
            25 => msr(sysreg::CPACR_EL1, 6 + (next(4) == 0) as u32),
            // FADD/FSUB/FMUL/FDIV (vector).
            24 => vfp3(q, next(4) as u32, next(2) as u32, b, a, d),
            // SCVTF/UCVTF from a general register, FCVTZS to one.
            22 => scvtf(q, next(2) as u32, u, gp(next(6)), d),
            23 => fcvtzs(q, next(2) as u32, a, gp(next(6))),
            // FMOV/FABS/FNEG scalar and vector, FMOV #imm, FCSEL.
            20 => match next(3) {
                0 => fp_dp1(next(2) as u32, next(6) as u32, a, d),
                1 => vfabs(q, u, next(2) as u32, a, d),
                _ => fmov_imm(next(2) as u32, next(256) as u32, d),
            },
            21 => fcsel(next(2) as u32, b, next(16) as u32, a, d),
            // Shifts by immediate (SSHR/USHR, SHL/SLI, SSHLL/USHLL) and REV*.
            18 => simd_shift_imm(
                q,
                u,
                8 + next(120) as u32,
                [0, 10, 20][next(3) as usize],
                a,
                d,
            ),
            19 => simd_misc(q, u, size, next(2) as u32, a, d),
            12 => simd_copy(true, true, next(32) as u32, next(16) as u32, a, d), // INS (element)
            13 => simd_copy(q, false, next(32) as u32, 0, a, d),                 // DUP (element)
            14 => dup_scalar(next(32) as u32, a, d),
            15 => simd_copy(true, false, next(32) as u32, 3, gp(next(6)), d), // INS (general)
            // LDR/STR B..Q (immediate), LDUR/STUR and post/pre-index, LDP/STP.
            16 => match next(3) {
                0 => {
                    let (size, opc) = if size == 0 && u { (0, 2) } else { (size, 0) };
                    ldst_uimm(size, true, opc | u32::from(q), next(8) as u32, base, d)
                }
                1 => ldst_imm9(
                    size,
                    true,
                    u32::from(q),
                    next(64) as i32 - 16,
                    [0, 1, 3][next(3) as usize],
                    base,
                    d,
                ),
                _ => ldst_pair(
                    next(3) as u32,
                    true,
                    1 + next(3) as u32,
                    q,
                    next(8) as i32 - 2,
                    b,
                    base,
                    d,
                ),
            },
            17 => ldst_uimm(0, true, 3, next(16) as u32, base, d), // LDR Q
            0 | 1 => vthree(q, u, size, 3, b, a, d),
            2 => vthree(q, u, size, 16, b, a, d),
            3 => vthree(q, true, size, 17, b, a, d),
            4 => vcmeq0(q, size, a, d),
            5 => ext(q, b, next(16) as u32, a, d),
            6 => simd_copy(
                q,
                false,
                [1, 2, 4, 8, 3][next(5) as usize],
                1,
                gp(next(6)),
                d,
            ),
            7 => simd_copy(
                q,
                false,
                next(32) as u32,
                [5, 7][next(2) as usize],
                a,
                gp(next(6)),
            ),
            8 => MODIMM[next(4) as usize] & !31 | d,
            9 => match next(3) {
                0 => fmov_gp(u, true, gp(next(6)), d),
                1 => fmov_gp(u, false, a, gp(next(6))),
                _ => fmov_gp_hi(
                    u,
                    if u { gp(next(6)) } else { a },
                    if u { d } else { gp(next(6)) },
                ),
            },
            10 => fp_dp2(next(2) as u32, next(8) as u32, b, a, d),
            _ => fcmp(next(2) as u32, b, a, u, q),
        };
        p.w(w);
    }
    p.w(hvc(0));
    p.finish()
}

#[test]
fn random_simd_programs_match_the_interpreter() {
    let data: Vec<u8> = (0..0x1000u32)
        .map(|i| (i.wrapping_mul(0x9d) ^ (i >> 3)) as u8)
        .collect();
    for seed in 0..24u64 {
        // Every fourth program with SIMD&FP trapped at EL1.
        let cpacr = if seed % 4 == 3 { 0 } else { 3 << 20 };
        let setup = Setup {
            max_block_insns: 64,
            ..Setup::default()
        };
        let mut p = Pair::new(setup, CODE, &simd_program(seed, 400));
        p.both(|s| {
            s.write(DATA, &data);
            s.cpu.sys.cpacr = cpacr;
        });
        run_to_hvc(&mut p, 37);
        assert_compiled(&p);
        if cpacr != 0 {
            // Each exception (counted in X26) interprets 6 instructions:
            // the faulting one, 3 MRS, an MSR and ERET; the prologue's 32
            // Q loads and the final HVC are interpreted too. Of the 400
            // random instructions, 317-351 ran on the host path when this
            // test was written (the rest: BSL/BIT/BIF, FP values off the
            // host path, reserved forms).
            let overhead = 33 + 6 * p.jit.cpu.x(26);
            let s = p.jit_stats();
            let host = (400 + overhead).saturating_sub(s.interpreted);
            assert!(
                host >= 150,
                "seed {seed}: only {host} on the host path: {s:?}"
            );
        }
    }
}

#[test]
fn more_live_values_than_host_registers() {
    // 20 loads whose values all stay live until a chain of multiply-adds
    // at the end that reads them in reverse: the block needs more homes
    // than the 9 registers for temporaries, and the first values loaded,
    // used last, move from their registers to spill slots.
    let mut p = Prog::new();
    p.ws(&mov64(21, DATA));
    for r in 0..20u32 {
        p.w(ldr_imm(true, r, 21, 8 * r));
    }
    p.w(movz(X, 22, 0, 0));
    for r in 0..20u32 {
        p.w(dp3(X, 0, 0, 19 - r, 22, 22 - (r % 3), 22)); // madd x22, xN, x(19-r), x22
    }
    p.w(hvc(0));
    let mut p = Pair::new(Setup::default(), CODE, &p.finish());
    run_to_hvc(&mut p, 1000);
    assert_compiled(&p);
    assert_ne!(p.jit.cpu.x(22), 0);
}

#[test]
fn simd_pairs_across_the_end_of_ram_fault_in_compiled_code() {
    // LDR D warms the host TLB for the last page of RAM; LDP/STP D from
    // its last 8 bytes reach into the hole and must fault every time,
    // not only when the interpreter runs them.
    let mut p = Prog::new();
    p.ws(&mov64(12, HOLE - 8))
        .w(movz(X, 0, 5, 0))
        .label("loop")
        .w(ldst_uimm(3, true, 1, 0, 12, 0)) // ldr d0, [x12]
        .w(ldst_pair(1, true, 2, true, 0, 2, 12, 1)) // ldp d1, d2, [x12]
        .w(ldst_pair(1, true, 2, false, 0, 2, 12, 1)) // stp d1, d2, [x12]
        .w(ldst_uimm(0, true, 3, 0, 12, 3)) // ldr q3, [x12] (crosses too)
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o))
        .w(hvc(0));
    let mut p = Pair::new(Setup::default(), CODE, &p.finish());
    run_to_hvc(&mut p, 10_000);
    assert_compiled(&p);
    // Three faults an iteration, counted by the handler.
    assert_eq!(p.jit.cpu.x(26), 15);
}

#[test]
fn moves_from_vector_lanes_extend_as_the_instruction_says() {
    // V0 = all ones (every lane negative): SMOV sign-extends to 32 or 64
    // bits, UMOV and MOV zero-extend, from lane 0 (read straight from the
    // cached XMM register) and from other lanes (read from memory).
    let mut p = Prog::new();
    p.w(movn(X, 9, 0, 0)) // x9 = -1
        .w(fmov_gp(true, true, 9, 0)) // d0 = all ones, upper half zero
        .w(fmov_gp_hi(true, 9, 0)) // v0.d[1] = all ones
        .w(simd_copy(true, false, 4, 5, 0, 1)) // smov x1, v0.s[0]
        .w(simd_copy(false, false, 4, 7, 0, 2)) // mov w2, v0.s[0]
        .w(simd_copy(false, false, 2, 5, 0, 3)) // smov w3, v0.h[0]
        .w(simd_copy(true, false, 1, 5, 0, 4)) // smov x4, v0.b[0]
        .w(simd_copy(true, false, 8, 7, 0, 5)) // mov x5, v0.d[0]
        .w(simd_copy(false, false, 20, 7, 0, 6)) // mov w6, v0.s[2]
        .w(hvc(0));
    let mut p = Pair::new(Setup::default(), CODE, &p.finish());
    run_to_hvc(&mut p, 100);
    assert_compiled(&p);
    let x = |n| p.jit.cpu.x(n);
    assert_eq!(
        [x(1), x(2), x(3), x(4), x(5), x(6)],
        [
            u64::MAX,
            0xffff_ffff,
            0xffff_ffff,
            u64::MAX,
            u64::MAX,
            0xffff_ffff
        ]
    );
}

#[test]
fn every_condition_right_after_every_flag_setting_op() {
    // The JIT tests a condition on the host's flags when the flag-setting
    // op is the one just before: every A64 condition, in CSET and in
    // B.cond, right after SUBS, ADDS, ANDS, SBCS and ADCS at both widths,
    // on operands at the edges (equal, signed overflow, unsigned wrap,
    // 32-bit edges).
    const PAIRS: [(u64, u64); 9] = [
        (0, 0),
        (1, 2),
        (2, 1),
        (0x7fff_ffff_ffff_ffff, 1),
        (0x8000_0000_0000_0000, 1),
        (u64::MAX, 1),
        (0x7fff_ffff, 1),
        (0x8000_0000, 0x8000_0000),
        (5, u64::MAX),
    ];
    let store_x4 = ldst_imm9(3, false, 0, 8, 1, 20, 4); // str x4, [x20], #8
    let mut p = Prog::new();
    p.ws(&mov64(11, DATA))
        .ws(&mov64(20, DATA + 0x6000))
        .w(movz(X, 9, PAIRS.len() as u32, 0))
        .label("pair")
        .w(ldst_pair(2, false, 1, true, 2, 2, 11, 1)); // ldp x1, x2, [x11], #16
    let ops: [fn(bool) -> u32; 5] = [
        |sf| addsub_reg(sf, 1, true, 0, 2, 0, 1, 3), // subs
        |sf| addsub_reg(sf, 0, true, 0, 2, 0, 1, 3), // adds
        |sf| logic_reg(sf, 3, false, 0, 2, 0, 1, 3), // ands
        |sf| addsub_carry(sf, 1, true, 2, 1, 3),     // sbcs
        |sf| addsub_carry(sf, 0, true, 2, 1, 3),     // adcs
    ];
    for op in ops {
        for sf in [W, X] {
            for c in 0..16u32 {
                p.w(op(sf))
                    .w(csel(X, 0, 1, 31, c ^ 1, 31, 4)) // cset x4, c
                    .w(store_x4);
                // B.cond over one instruction: x4 = 0 if taken, else 1.
                p.w(op(sf))
                    .w(movz(X, 4, 0, 0))
                    .w(b_cond(c, 8))
                    .w(movz(X, 4, 1, 0))
                    .w(store_x4);
            }
        }
    }
    p.w(sub_imm(X, 9, 9, 1))
        .br("pair", |o| cbz(X, true, 9, o)) // cbnz x9, pair
        .w(hvc(0));
    let words = p.finish();
    let mut p = Pair::new(Setup::default(), CODE, &words);
    let table: Vec<u8> = PAIRS
        .iter()
        .flat_map(|&(a, b)| a.to_le_bytes().into_iter().chain(b.to_le_bytes()))
        .collect();
    p.both(|s| s.write(DATA, &table));
    run_to_hvc(&mut p, 10_000);
    assert_compiled(&p);
}

#[test]
fn fuzz_target_smoke() {
    // The fuzz target's entry point on a few fixed inputs.
    let prog = alu_loop();
    for flags in 0..64u8 {
        let mut data = vec![flags, 0x5a];
        data.extend(prog.iter().flat_map(|w| w.to_le_bytes()));
        hv_sim::jitcheck::fuzz_one(&data);
    }
}

// ---------------------------------------------------------------------
// Random programs.
//
// Registers: X0..X15 results and values; X16..X19 bases in the data
// pages, X20 a base in the hole, X21 in the MMIO device, X22 a small
// index, X23 the inner loop counter, X24 indirect branch targets, X25 the
// outer loop counter; X26..X29 belong to the exception handler.

/// A source register: any but the handler's, or XZR/SP.
fn src(v: u64) -> u32 {
    let r = (v % 27) as u32;
    if r == 26 {
        31
    } else {
        r
    }
}

/// Bits `[at, at + n)` of `r`.
fn f(r: u64, at: u32, n: u32) -> u32 {
    ((r >> at) & ((1u64 << n) - 1)) as u32
}

/// One integer data-processing instruction chosen by `sel`, its fields
/// from `r`.
fn alu(sel: u8, r: u64) -> u32 {
    let sf = f(r, 0, 1) == 1;
    let rd = f(r, 1, 4);
    let rn = src(u64::from(f(r, 5, 8)));
    let rm = src(u64::from(f(r, 13, 8)));
    let cond = f(r, 21, 4) % 14;
    let imm6 = if sf { f(r, 25, 6) } else { f(r, 25, 5) };
    let (a, b, c) = (f(r, 31, 2), f(r, 33, 1) == 1, f(r, 34, 12));
    match sel % 15 {
        0 => addsub_imm(sf, a, b, f(r, 46, 1) == 1, c, rn, rd),
        1 => addsub_reg(sf, a, b, a % 3, rm, imm6, rn, rd),
        2 => logic_reg(sf, a, b, f(r, 46, 2), rm, imm6, rn, rd),
        3 => {
            // A valid bitmask immediate: 64-bit elements (N=1) or 32-bit.
            let imms = if sf { c % 63 } else { c % 31 };
            let immr = if sf { f(r, 46, 6) } else { f(r, 46, 5) };
            logic_imm(sf, a, sf, immr, imms, rn, rd)
        }
        4 => dp2(sf, [2, 3, 8, 9, 10, 11][(c % 6) as usize], rm, rn, rd),
        5 => match c % 5 {
            0 => dp3(sf, 0, u32::from(b), rm, src(u64::from(f(r, 46, 8))), rn, rd),
            1 => dp3(
                true,
                1,
                u32::from(b),
                rm,
                src(u64::from(f(r, 46, 8))),
                rn,
                rd,
            ),
            2 => dp3(
                true,
                5,
                u32::from(b),
                rm,
                src(u64::from(f(r, 46, 8))),
                rn,
                rd,
            ),
            3 => dp3(true, 2, 0, rm, 31, rn, rd),
            _ => dp3(true, 6, 0, rm, 31, rn, rd),
        },
        6 => csel(sf, a, u32::from(b), rm, cond, rn, rd),
        7 => ccmp(sf, a, b, if b { c & 31 } else { rm }, cond, rn, f(r, 46, 4)),
        8 => {
            let hw = if sf { a } else { a & 1 };
            movw(sf, [0, 2, 3][(c % 3) as usize], hw, f(r, 46, 16), rd)
        }
        9 => {
            let imm = f(r, 34, 21) as i32 - (1 << 20);
            if b {
                adrp(rd, imm)
            } else {
                adr(rd, imm)
            }
        }
        10 => {
            let (immr, imms) = if sf {
                (c & 63, f(r, 46, 6))
            } else {
                (c & 31, f(r, 46, 5))
            };
            bitfield(sf, a % 3, immr, imms, rn, rd)
        }
        11 => extr(sf, rd, rn, rm, imm6),
        12 => {
            let op = c % 6;
            dp1(sf || op == 3, op, rn, rd)
        }
        13 => addsub_carry(sf, a, b, rm, rn, rd),
        _ => addsub_ext(sf, a, b, rm, f(r, 46, 3), c % 5, rn, rd),
    }
}

/// One integer load or store (or an index update) chosen by `sel`.
fn mem(sel: u8, r: u64) -> u32 {
    let rn = match f(r, 0, 4) {
        0..=11 => 16 + f(r, 0, 4) % 4,
        12 | 13 => 20,
        _ => 21,
    };
    let rt = f(r, 4, 4);
    let rt2 = (rt + 1 + f(r, 8, 4) % 15) % 16;
    let size = f(r, 12, 2);
    // STR, LDR, LDRS to X, LDRS to W, kept to valid sizes.
    let opc = match f(r, 14, 2) {
        2 if size < 3 => 2,
        3 if size < 2 => 3,
        o => o & 1,
    };
    let small = f(r, 16, 7) as i32 - 64;
    match sel % 6 {
        0 => ldst_uimm(size, false, opc, f(r, 23, 6), rn, rt),
        1 => {
            let imm9 = if f(r, 29, 1) == 1 {
                small
            } else {
                small & !((1 << size) - 1)
            };
            ldst_imm9(
                size,
                false,
                opc,
                imm9,
                [0, 1, 3][(f(r, 30, 4) % 3) as usize],
                rn,
                rt,
            )
        }
        2 => {
            let rm = if f(r, 34, 2) == 0 { rt2 } else { 22 };
            ldst_reg(
                size,
                false,
                opc,
                rm,
                [2, 3, 6, 7][f(r, 36, 2) as usize],
                f(r, 38, 1) == 1,
                rn,
                rt,
            )
        }
        3 => {
            let load = f(r, 39, 1) == 1;
            let popc = match f(r, 40, 2) {
                1 if load => 1,
                o => (o & 1) * 2,
            };
            ldst_pair(
                popc,
                false,
                1 + f(r, 42, 2) % 3,
                load,
                small / 8,
                rt2,
                rn,
                rt,
            )
        }
        4 => ldr_lit(f(r, 14, 2) % 3, false, small * 4, rt),
        _ => movz(true, 22, f(r, 16, 8), 0),
    }
}

/// Instructions the JIT hands to the interpreter mid-block (FP, SIMD
/// loads, exclusives, LSE, CRC, system registers, exceptions), or that
/// touch SP: the state must be handed over exactly both ways.
fn extra(sel: u8, r: u64) -> u32 {
    let rd = f(r, 0, 4);
    let rn = src(u64::from(f(r, 4, 8)));
    let rm = src(u64::from(f(r, 12, 8)));
    let (vd, vn, vm) = (f(r, 20, 5), f(r, 25, 5), f(r, 30, 5));
    let base = 16 + f(r, 35, 2);
    let imm = f(r, 37, 4);
    match sel % 16 {
        0 => 0x9e67_0000 | (rn << 5) | vd,              // fmov dV, xN
        1 => 0x1e60_2800 | (vm << 16) | (vn << 5) | vd, // fadd dV, dN, dM
        2 => 0x1e60_2000 | (vm << 16) | (vn << 5),      // fcmp dN, dM: sets NZCV
        3 => 0x9e78_0000 | (vn << 5) | rd,              // fcvtzs xD, dN
        4 => ldst_uimm(0, true, 2 + f(r, 41, 1), imm, base, vd), // str/ldr qV
        5 => mrs(rd, hv_core::translate::sysreg::NZCV),
        6 => msr(hv_core::translate::sysreg::NZCV, rn),
        7 => mrs(rd, hv_core::translate::sysreg::CNTVCT_EL0),
        8 => ldst_excl(3, 0, 1, 0, 31, 0, 31, base, rd), // ldxr
        9 => ldst_excl(2 + f(r, 41, 1), 0, 0, 0, rd, 0, 31, base, rm.min(15)), // stxr
        10 => 0xf820_0000 | (rm << 16) | (base << 5) | rd, // ldadd
        11 => dp2(f(r, 41, 2) == 3, 16 + f(r, 41, 3), rm, rn, rd), // crc32
        12 => {
            // SP moves by 16 bytes, or is a base
            match f(r, 41, 2) {
                0 => add_imm(true, 31, 31, 16),
                1 => sub_imm(true, 31, 31, 16),
                2 => ldr_imm(true, rd, 31, 8 * imm),
                _ => ldst_pair(2, false, 3, false, -2, rm.min(15), 31, rd),
            }
        }
        13 => [
            svc(imm),
            brk(imm),
            WFI,
            sys(0, 7, 5, 0, 31), // IC IALLU: drops all code, this block's too
            sys(0, 8, 7, 0, 31), // TLBI VMALLE1: flushes the host TLB
            ISB,
        ][(f(r, 41, 3) % 6) as usize],
        14 => msr_spsel(f(r, 41, 1)),
        _ => ldst_imm9(
            f(r, 41, 2),
            false,
            f(r, 43, 1),
            f(r, 44, 5) as i32 - 16,
            2,
            base,
            rd,
        ), // ldtr/sttr
    }
}

#[derive(Clone, Debug)]
enum Item {
    /// One instruction.
    Op(u32),
    /// A forward branch over `skip` items: kind, selector bits.
    Fwd { kind: u8, r: u64, skip: usize },
    /// `MOVZ X23, #count; body; SUB X23, X23, #1; CBNZ X23, body`.
    Loop { count: u32, body: Vec<Item> },
}

fn op_item() -> impl Strategy<Value = Item> {
    prop_oneof![
        3 => (any::<u8>(), any::<u64>()).prop_map(|(s, r)| Item::Op(alu(s, r))),
        2 => (any::<u8>(), any::<u64>()).prop_map(|(s, r)| Item::Op(mem(s, r))),
        1 => (any::<u8>(), any::<u64>()).prop_map(|(s, r)| Item::Op(extra(s, r))),
        1 => (0u8..5, any::<u64>(), 0usize..6).prop_map(|(kind, r, skip)| Item::Fwd { kind, r, skip }),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        6 => op_item(),
        1 => (1u32..7, prop::collection::vec(op_item(), 1..10))
            .prop_map(|(count, body)| Item::Loop { count, body }),
    ]
}

fn len(it: &Item) -> usize {
    match it {
        Item::Op(_) => 1,
        Item::Fwd { kind, .. } => 1 + usize::from(*kind == 4),
        Item::Loop { body, .. } => 3 + body.iter().map(len).sum::<usize>(),
    }
}

/// Assemble `items`; forward branches land at most at the end of the
/// sequence they are in.
fn emit(items: &[Item], out: &mut Vec<u32>) {
    let mut starts = Vec::with_capacity(items.len() + 1);
    let mut at = out.len();
    for it in items {
        starts.push(at);
        at += len(it);
    }
    starts.push(at);
    for (i, it) in items.iter().enumerate() {
        match it {
            Item::Op(w) => out.push(*w),
            Item::Fwd { kind, r, skip } => {
                let here = out.len();
                let to = starts[(i + 1 + skip).min(items.len())];
                let off = (to as i32 - here as i32) * 4;
                let reg = src(u64::from(f(*r, 0, 8)));
                match kind {
                    0 => out.push(b_cond(f(*r, 8, 4) % 14, off)),
                    1 => out.push(cbz(f(*r, 12, 1) == 1, f(*r, 13, 1) == 1, reg, off)),
                    2 => out.push(tbz(f(*r, 13, 1) == 1, reg, f(*r, 14, 6), off)),
                    3 => out.push(b(off)),
                    _ => out.extend([adr(24, off), br(24)]),
                }
            }
            Item::Loop { count, body } => {
                out.push(movz(true, 23, *count, 0));
                let top = out.len();
                emit(body, out);
                out.push(sub_imm(true, 23, 23, 1));
                let here = out.len();
                out.push(cbz(true, true, 23, (top as i32 - here as i32) * 4));
            }
        }
    }
}

/// The whole program: the items in an outer loop counted by X25, then
/// HVC, then a branch back to the start.
fn program(items: &[Item]) -> Vec<u32> {
    let mut out = Vec::new();
    emit(items, &mut out);
    out.push(sub_imm(true, 25, 25, 1));
    let here = out.len() as i32;
    out.push(cbz(true, true, 25, -here * 4));
    out.push(hvc(0));
    let here = out.len() as i32;
    out.push(b(-here * 4));
    out
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        1u32..4,
        any::<bool>(),
        prop_oneof![3 => Just(256usize), 1 => 1usize..6],
        prop_oneof![3 => Just(1usize << 20), 1 => Just(8192usize)],
    )
        .prop_map(|(threshold, mmu_on, max_block_insns, arena_bytes)| Setup {
            threshold,
            mmu_on,
            max_block_insns,
            arena_bytes,
            ..Setup::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_programs_agree(
        setup in setup(),
        items in prop::collection::vec(item(), 1..40),
        start in 0u64..0x300,
        regs in prop::array::uniform16(prop_oneof![
            any::<u64>(),
            0u64..256,
            Just(u64::MAX),
            Just(1u64 << 63),
            Just(0x8000_0000u64),
        ]),
        bases in prop::array::uniform4(0u64..(hv_sim::jitcheck::DATA_SIZE - 8)),
        aligned_bases in any::<bool>(),
        outer in 1u64..5,
        budgets in prop::collection::vec(1u64..3000, 1..4),
    ) {
        let code = program(&items);
        let at = CODE + 4 * start;
        let mut p = Pair::new(setup, at, &code);
        for (i, v) in regs.iter().enumerate() {
            p.set_x(i as u8, *v);
        }
        for (i, off) in bases.iter().enumerate() {
            let off = if aligned_bases { off & !7 } else { *off };
            p.set_x(16 + i as u8, DATA + off);
        }
        p.set_x(20, HOLE + (regs[0] & 0x1f8));
        p.set_x(21, MMIO + (regs[1] & 0x7f8));
        p.set_x(22, regs[2] & 0xff);
        p.set_x(25, outer);
        for budget in budgets.iter().copied().chain([20_000]) {
            if let Err(e) = p.run(budget) {
                return Err(TestCaseError::fail(format!("{e}\nprogram at {at:#x}: {code:#010x?}")));
            }
        }
    }
}

/// Seeds for the `jit` fuzz target: the hand-written programs and
/// random ones, in its input format, written to `$JIT_FUZZ_CORPUS`
/// (`cargo test -p hv-sim --release --test jit -- --ignored write_fuzz_corpus`).
#[test]
#[ignore = "writes files; run by hand before fuzzing"]
fn write_fuzz_corpus() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let dir = std::env::var("JIT_FUZZ_CORPUS").expect("JIT_FUZZ_CORPUS=directory");
    std::fs::create_dir_all(&dir).expect("corpus directory");
    let mut programs = vec![
        alu_loop(),
        mem_loop(false),
        mem_loop(true),
        self_modifying(true),
        self_modifying(false),
        faulting_loop(ldr_imm(X, 5, 20, 0)),
    ];
    let mut runner = TestRunner::deterministic();
    let items = prop::collection::vec(item(), 1..40);
    for _ in 0..200 {
        let tree = items.new_tree(&mut runner).expect("a program");
        programs.push(program(&tree.current()));
    }
    for (i, prog) in programs.iter().enumerate() {
        let mut data = vec![(i % 32) as u8, i as u8];
        data.extend(prog.iter().flat_map(|w| w.to_le_bytes()));
        std::fs::write(format!("{dir}/seed-{i:03}"), data).expect("write a seed");
    }
}

/// A block that ends in an interpreted MSR SPSel changes which stack
/// pointer the next block uses: its exit must go back to the run loop, not
/// through the jump table to code compiled for the old SPSel. Here T runs
/// at SPSel 1 on even turns (entered from the TBZ) and at SPSel 0 on odd
/// ones (after the MSR), reading SP each time.
#[test]
fn spsel_written_by_an_interpreted_msr_reaches_the_next_block() {
    let mut p = Prog::new();
    p.ws(&mov64(9, 0x1000))
        .ws(&mov64(10, 0x2000))
        .w(add_imm(X, 31, 9, 0)) // SP_EL1 = 0x1000
        .w(msr_spsel(0))
        .w(add_imm(X, 31, 10, 0)) // SP_EL0 = 0x2000
        .w(msr_spsel(1))
        .w(movz(X, 0, 40, 0))
        .label("loop")
        .br("t", |o| tbz(false, 0, 0, o))
        .w(msr_spsel(0))
        .label("t")
        .w(addsub_ext(X, 0, false, 3, 3, 0, 31, 3)) // X3 = SP + X3
        .w(msr_spsel(1))
        .w(sub_imm(X, 0, 0, 1))
        .br("loop", |o| cbz(X, true, 0, o))
        .w(hvc(0));
    let mut pair = Pair::new(Setup::default(), CODE, &p.finish());
    run_to_hvc(&mut pair, 1_000_000);
    assert_compiled(&pair);
    assert_eq!(pair.interp.cpu.x(3), 20 * 0x1000 + 20 * 0x2000);
}
