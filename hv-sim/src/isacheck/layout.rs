//! The harness: a static AArch64 Linux program that runs a batch of cases
//! under `qemu-aarch64`, one after another, and writes each case's final
//! state to stdout; and the memory layout hv-core's interpreter sees.
//!
//! Memory (one read-write-execute segment at [`BASE`]):
//!
//! | address | what |
//! |---|---|
//! | `BASE` | the continuation slot: where the dump routine goes next |
//! | [`SCRATCH`] | the 256-byte scratch buffer loads and stores use |
//! | [`POOL`] | the literal pool (4 KiB of random bytes) |
//! | [`OUT`] | the output record the dump routine fills and writes |
//! | [`CODE`] | `b case0`, the setup and dump routines, the cases |
//! | after the code | one input record per case |
//!
//! Each case is `adrp/add x0, input; adr x1, next; bl setup; ldp ...
//! x2-x30; ldp x0, x1, [x0]`, then the sequence, then `b dump`. `setup`
//! loads V0-V31, NZCV, FPCR, FPSR = 0, SP and the scratch buffer from the
//! input record and clears the exclusive monitor; `dump` stores X0-X30,
//! SP, NZCV, FPSR, V0-V31 and the scratch buffer into the output record
//! (X0 through TPIDR_EL0, so no register is lost), writes it to stdout
//! and jumps to the continuation. The last case continues at `exit(0)`.
//!
//! Records (input and output alike, [`RECORD`] bytes): X0-X30 at 0, SP at
//! 248, NZCV at 256, FPCR (input) or FPSR (output) at 264, V0-V31 at 288,
//! the scratch buffer at 800.

use super::elf;
use super::gen::{Case, State};
use hv_core::translate::asm;
use hv_core::translate::sysreg::{FPCR, FPSR, NZCV, TPIDR_EL0};

/// Start of the harness's segment.
pub const BASE: u64 = 0x1000_0000;
/// The continuation slot.
const CONT: u64 = BASE;
/// The scratch buffer every load and store of a case stays inside.
pub const SCRATCH: u64 = BASE + 0x1000;
/// Its size.
pub const SCRATCH_LEN: usize = 256;
/// The literal pool.
pub const POOL: u64 = BASE + 0x2000;
/// Its size.
pub const POOL_LEN: usize = 0x1000;
/// The output record.
const OUT: u64 = BASE + 0x3000;
/// Start of the code.
const CODE: u64 = BASE + 0x4000;

/// Bytes of an input or output record.
pub const RECORD: usize = 1056;
const SP_OFF: usize = 248;
const NZCV_OFF: usize = 256;
const FP_OFF: usize = 264;
const V_OFF: usize = 288;
const MEM_OFF: usize = 800;

/// Where a laid-out case's sequence sits.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    /// Address of its first instruction.
    pub start: u64,
    /// Address of the `b dump` after it (hv-core runs to an SVC put there).
    pub end: u64,
}

/// A batch of cases laid out in one harness.
#[derive(Debug)]
pub struct Batch {
    /// The segment at [`BASE`] as QEMU runs it.
    pub image: Vec<u8>,
    /// Code bytes from [`CODE`] (for the ELF's `.text`).
    text_len: u64,
    /// Per case: where its sequence is.
    pub places: Vec<Place>,
    /// Per case: its instructions as laid out (literal offsets filled in).
    pub insns: Vec<Vec<u32>>,
}

impl Batch {
    /// The ELF QEMU runs.
    pub fn elf(&self) -> Vec<u8> {
        elf::write(&elf::Image {
            vaddr: BASE,
            bytes: &self.image,
            entry: CODE,
            text: (CODE - BASE, self.text_len),
        })
    }

    /// The image hv-core runs: each case's `b dump` is an `svc #0`, so the
    /// interpreter stops (with an SVC exception) where QEMU would dump.
    pub fn hv_image(&self) -> Vec<u8> {
        let mut img = self.image.clone();
        for p in &self.places {
            let o = (p.end - BASE) as usize;
            img[o..o + 4].copy_from_slice(&asm::svc(0).to_le_bytes());
        }
        img
    }
}

/// Code being emitted at [`CODE`] onwards.
struct Code(Vec<u32>);

impl Code {
    fn pc(&self) -> u64 {
        CODE + 4 * self.0.len() as u64
    }
    fn emit(&mut self, w: u32) {
        self.0.push(w);
    }
    /// `adrp xd, target; add xd, xd, #lo12(target)`.
    fn addr(&mut self, rd: u32, target: u64) {
        let pages = ((target >> 12) as i64 - (self.pc() >> 12) as i64) as i32;
        self.emit(asm::adrp(rd, pages));
        self.emit(asm::add_imm(true, rd, rd, (target & 0xfff) as u32));
    }
    fn branch_offset(&self, target: u64) -> i32 {
        (target as i64 - self.pc() as i64) as i32
    }
    /// Copy the 256-byte buffer at [x_src] to [x_dst] with x4/x5.
    fn copy256(&mut self, src: u32, dst: u32) {
        for k in 0..(SCRATCH_LEN / 16) as i32 {
            self.emit(asm::ldst_pair(2, false, 2, true, 2 * k, 5, src, 4));
            self.emit(asm::ldst_pair(2, false, 2, false, 2 * k, 5, dst, 4));
        }
    }
}

fn ldp_q(load: bool, rt: u32, rn: u32, off: usize) -> u32 {
    asm::ldst_pair(2, true, 2, load, (off / 16) as i32, rt + 1, rn, rt)
}
fn ldp_x(load: bool, rt: u32, rn: u32, off: usize) -> u32 {
    asm::ldst_pair(2, false, 2, load, (off / 8) as i32, rt + 1, rn, rt)
}

/// Lay out `cases` with the literal pool `pool`.
pub fn build(cases: &[Case], pool: &[u8; POOL_LEN]) -> Batch {
    let mut c = Code(Vec::new());
    // Entry: jump over the routines to the first case (patched below).
    c.emit(0);
    // setup: x0 = input record, x1 = continuation, x30 = return.
    let setup = c.pc();
    c.emit(asm::CLREX);
    c.addr(2, CONT);
    c.emit(asm::str_imm(true, 1, 2, 0));
    for r in (0..32).step_by(2) {
        c.emit(ldp_q(true, r, 0, V_OFF + 16 * r as usize));
    }
    c.emit(asm::ldr_imm(true, 2, 0, NZCV_OFF as u32));
    c.emit(asm::msr(NZCV, 2));
    c.emit(asm::ldr_imm(true, 2, 0, FP_OFF as u32));
    c.emit(asm::msr(FPCR, 2));
    c.emit(asm::msr(FPSR, 31));
    c.emit(asm::ldr_imm(true, 2, 0, SP_OFF as u32));
    c.emit(asm::add_imm(true, 31, 2, 0)); // mov sp, x2
    c.emit(asm::add_imm(true, 2, 0, MEM_OFF as u32));
    c.addr(3, SCRATCH);
    c.copy256(2, 3);
    c.emit(asm::RET);
    // dump: save everything into OUT, write(1, OUT, RECORD), continue.
    let dump = c.pc();
    c.emit(asm::msr(TPIDR_EL0, 0));
    c.addr(0, OUT);
    for r in (1..31).step_by(2) {
        c.emit(ldp_x(false, r, 0, 8 * r as usize));
    }
    c.emit(asm::mrs(1, TPIDR_EL0));
    c.emit(asm::str_imm(true, 1, 0, 0));
    c.emit(asm::add_imm(true, 1, 31, 0)); // mov x1, sp
    c.emit(asm::str_imm(true, 1, 0, SP_OFF as u32));
    c.emit(asm::mrs(1, NZCV));
    c.emit(asm::str_imm(true, 1, 0, NZCV_OFF as u32));
    c.emit(asm::mrs(1, FPSR));
    c.emit(asm::str_imm(true, 1, 0, FP_OFF as u32));
    for r in (0..32).step_by(2) {
        c.emit(ldp_q(false, r, 0, V_OFF + 16 * r as usize));
    }
    c.addr(2, SCRATCH);
    c.emit(asm::add_imm(true, 3, 0, MEM_OFF as u32));
    c.copy256(2, 3);
    c.emit(asm::mov_reg(true, 1, 0));
    c.emit(asm::movz(true, 0, 1, 0));
    c.emit(asm::movz(true, 2, RECORD as u32, 0));
    c.emit(asm::movz(true, 8, 64, 0)); // write
    c.emit(asm::svc(0));
    c.emit(asm::cmp_imm(true, 0, RECORD as u32));
    let fail_branch = c.0.len();
    c.emit(0); // b.ne fail
    c.addr(1, CONT);
    c.emit(asm::ldr_imm(true, 1, 1, 0));
    c.emit(asm::br(1));
    let fail = c.pc();
    c.0[fail_branch] = asm::b_cond(
        asm::NE,
        (fail as i64 - (CODE + 4 * fail_branch as u64) as i64) as i32,
    );
    c.emit(asm::movz(true, 0, 3, 0));
    c.emit(asm::movz(true, 8, 94, 0)); // exit_group(3): the write failed
    c.emit(asm::svc(0));
    let exit = c.pc();
    c.emit(asm::movz(true, 0, 0, 0));
    c.emit(asm::movz(true, 8, 94, 0)); // exit_group(0)
    c.emit(asm::svc(0));

    // The cases. Input records go after the code, whose length is known
    // only at the end: emit with placeholder addresses, then fix them.
    let mut places = Vec::with_capacity(cases.len());
    let mut insns = Vec::with_capacity(cases.len());
    let mut input_fixups = Vec::with_capacity(cases.len());
    let first_case = c.pc();
    for case in cases {
        input_fixups.push(c.0.len());
        c.emit(0); // adrp x0, input
        c.emit(0); // add x0, x0, #lo12(input)
        let next = c.pc() + 4 * (19 + case.insns.len() as u64);
        let adr_off = (next - c.pc()) as i32;
        c.emit(asm::adr(1, adr_off));
        c.emit(asm::bl(c.branch_offset(setup)));
        for r in (2..30).step_by(2) {
            c.emit(ldp_x(true, r, 0, 8 * r as usize));
        }
        c.emit(asm::ldr_imm(true, 30, 0, 240));
        c.emit(ldp_x(true, 0, 0, 0));
        let start = c.pc();
        let mut words = case.insns.clone();
        for &(i, off) in &case.literals {
            let pc = start + 4 * i as u64;
            let imm19 = ((POOL + u64::from(off)) as i64 - pc as i64) / 4;
            words[i] = (words[i] & !(0x7ffff << 5)) | (((imm19 as u32) & 0x7ffff) << 5);
        }
        for &w in &words {
            c.emit(w);
        }
        let end = c.pc();
        c.emit(asm::b(c.branch_offset(dump)));
        debug_assert_eq!(c.pc(), next);
        places.push(Place { start, end });
        insns.push(words);
    }
    c.0[0] = asm::b(if cases.is_empty() {
        (exit - CODE) as i32
    } else {
        (first_case - CODE) as i32
    });
    // The last case continues at exit: its `adr x1, next` points just past
    // its own code, where a `b exit` goes.
    c.emit(asm::b(c.branch_offset(exit)));
    let text_len = 4 * c.0.len() as u64;
    let inputs = (CODE + text_len + 15) & !15;
    for (k, &at) in input_fixups.iter().enumerate() {
        let target = inputs + (k * RECORD) as u64;
        let pc = CODE + 4 * at as u64;
        let pages = ((target >> 12) as i64 - (pc >> 12) as i64) as i32;
        c.0[at] = asm::adrp(0, pages);
        c.0[at + 1] = asm::add_imm(true, 0, 0, (target & 0xfff) as u32);
    }

    let mut image = vec![0u8; (inputs - BASE) as usize + cases.len() * RECORD];
    let pool_at = (POOL - BASE) as usize;
    image[pool_at..pool_at + POOL_LEN].copy_from_slice(pool);
    let code_at = (CODE - BASE) as usize;
    for (i, w) in c.0.iter().enumerate() {
        image[code_at + 4 * i..code_at + 4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    for (k, case) in cases.iter().enumerate() {
        let at = (inputs - BASE) as usize + k * RECORD;
        write_record(&case.input, &mut image[at..at + RECORD]);
    }
    Batch {
        image,
        text_len,
        places,
        insns,
    }
}

/// Serialise `s` into a record.
pub fn write_record(s: &State, out: &mut [u8]) {
    for (i, x) in s.x.iter().enumerate() {
        out[8 * i..8 * i + 8].copy_from_slice(&x.to_le_bytes());
    }
    out[SP_OFF..SP_OFF + 8].copy_from_slice(&s.sp.to_le_bytes());
    out[NZCV_OFF..NZCV_OFF + 8].copy_from_slice(&s.nzcv.to_le_bytes());
    out[FP_OFF..FP_OFF + 8].copy_from_slice(&s.fpcr_fpsr.to_le_bytes());
    for (i, v) in s.v.iter().enumerate() {
        let o = V_OFF + 16 * i;
        out[o..o + 16].copy_from_slice(&v.to_le_bytes());
    }
    out[MEM_OFF..MEM_OFF + SCRATCH_LEN].copy_from_slice(&s.mem);
}

/// Parse a record.
pub fn read_record(r: &[u8]) -> State {
    let u64_at = |o: usize| u64::from_le_bytes(r[o..o + 8].try_into().unwrap_or([0; 8]));
    let mut s = State::zero();
    for (i, x) in s.x.iter_mut().enumerate() {
        *x = u64_at(8 * i);
    }
    s.sp = u64_at(SP_OFF);
    s.nzcv = u64_at(NZCV_OFF);
    s.fpcr_fpsr = u64_at(FP_OFF);
    for (i, v) in s.v.iter_mut().enumerate() {
        let o = V_OFF + 16 * i;
        *v = u128::from_le_bytes(r[o..o + 16].try_into().unwrap_or([0; 16]));
    }
    s.mem.copy_from_slice(&r[MEM_OFF..MEM_OFF + SCRATCH_LEN]);
    s
}
