//! Test cases: a short instruction sequence and the machine state it starts
//! from, drawn at random; load/store base registers are steered so every
//! access lands in the scratch buffer.

use super::forms::{bits, Class, Form, Gen, Mem};
use super::layout::{POOL_LEN, SCRATCH, SCRATCH_LEN};
use super::rng::Rng;

/// The architectural state a sequence starts from or ends in (the part the
/// harness loads and dumps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// X0..X30.
    pub x: [u64; 31],
    /// SP (SP_EL0).
    pub sp: u64,
    /// NZCV in bits 31:28.
    pub nzcv: u64,
    /// Inputs: FPCR. Outputs: FPSR.
    pub fpcr_fpsr: u64,
    /// V0..V31.
    pub v: [u128; 32],
    /// The scratch buffer at [`SCRATCH`].
    pub mem: [u8; SCRATCH_LEN],
}

impl State {
    /// All zero.
    pub fn zero() -> State {
        State {
            x: [0; 31],
            sp: 0,
            nzcv: 0,
            fpcr_fpsr: 0,
            v: [0; 32],
            mem: [0; SCRATCH_LEN],
        }
    }
}

/// One test: the instructions and the state before them.
#[derive(Clone, Debug)]
pub struct Case {
    /// Index of the class in [`super::forms::classes`].
    pub class: usize,
    /// The sequence (literal loads get their offsets when laid out).
    pub insns: Vec<u32>,
    /// `(index into insns, byte offset in the literal pool)` of each
    /// literal load, whose imm19 the layout fills in.
    pub literals: Vec<(usize, u32)>,
    /// The inputs (`fpcr_fpsr` is FPCR).
    pub input: State,
}

/// The FPCR bits of ARMv8.0 that change results: AHP, DN, FZ, RMode.
pub const FPCR_BITS: u64 = 0x07c0_0000;

/// Options of the generator.
#[derive(Clone, Copy, Debug)]
pub struct GenOptions {
    /// The FPCR bits drawn at random (the rest are 0): of AHP (26), DN
    /// (25), FZ (24) and RMode (23:22), the ARMv8.0 controls.
    pub fpcr_mask: u64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            fpcr_mask: FPCR_BITS,
        }
    }
}

// ---- values ----

/// A floating-point bit pattern with `ebits` exponent and `mbits` fraction
/// bits, drawn from the values that make FP code go wrong: zeros,
/// subnormals, the smallest normals, ones, halves (for rounding), integers
/// near 2^31/2^32/2^63/2^64 (conversions), the largest finite values,
/// infinities, quiet and signalling NaNs, and ordinary random numbers.
pub fn fp_value(rng: &mut Rng, ebits: u32, mbits: u32) -> u64 {
    let bias = (1u64 << (ebits - 1)) - 1;
    let emax = (1u64 << ebits) - 1;
    let mmask = (1u64 << mbits) - 1;
    let sign = rng.next_u64() & 1;
    let pack = |e: u64, m: u64| (sign << (ebits + mbits)) | (e << mbits) | (m & mmask);
    let frac = rng.next_u64() & mmask;
    match rng.below(16) {
        0 => pack(0, 0),
        1 => pack(0, frac | 1),                            // subnormal
        2 => pack(1, frac & rng.next_u64()),               // near the smallest normal
        3 => pack(bias, 0),                                // 1.0
        4 => pack(bias - 1 + rng.below(3), 0),             // 0.5, 1, 2
        5 => pack(emax, 0),                                // infinity
        6 => pack(emax, (1 << (mbits - 1)) | frac),        // quiet NaN
        7 => pack(emax, (frac & !(1 << (mbits - 1))) | 1), // signalling NaN
        8 => pack(emax - 1, mmask),                        // largest finite
        9 => {
            // x.5, x.25, x.75 and friends: rounding ties and near-ties.
            let e = bias + rng.below(6);
            let keep = mbits.saturating_sub((e - bias) as u32 + 2);
            pack(e, frac & !((1u64 << keep) - 1))
        }
        10 => {
            // Around the integer conversion limits.
            let p = *rng.pick(&[15u64, 16, 31, 32, 63, 64]);
            let e = (bias + p).min(emax - 1) - rng.below(2);
            pack(e, frac & !((1u64 << mbits.saturating_sub(4)) - 1))
        }
        11 => pack(bias + rng.below(24), frac), // moderate integers and fractions
        12 => pack(bias.saturating_sub(rng.below(24)), frac),
        13 => pack(1 + rng.below(emax - 1), frac),
        _ => pack(bias - 8 + rng.below(16), frac),
    }
}

/// An integer of `ebits` bits, biased towards the edges (0, 1, -1, the
/// signed and unsigned extremes) where saturation and overflow happen.
pub fn int_value(rng: &mut Rng, width: u32) -> u64 {
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let top = 1u64 << (width - 1);
    let v = match rng.below(12) {
        0 => 0,
        1 => 1,
        2 => mask,
        3 => top,
        4 => top - 1,
        5 => top.wrapping_add(1),
        6 => rng.below(64),
        7 => 0u64.wrapping_sub(rng.below(64)),
        8 => top.wrapping_add(rng.below(16)).wrapping_sub(8),
        9 => 1u64 << rng.below(u64::from(width)),
        _ => rng.next_u64(),
    };
    v & mask
}

/// A 64-bit general-register value.
fn gpr_value(rng: &mut Rng) -> u64 {
    match rng.below(10) {
        0 => fp_value(rng, 11, 52),
        1 => fp_value(rng, 8, 23),
        2 => int_value(rng, 32),
        3 => rng.next_u64() & 0xffff_ffff,
        4..=6 => int_value(rng, 64),
        _ => rng.next_u64(),
    }
}

/// A 128-bit SIMD&FP register value: lanes of one kind.
fn vreg_value(rng: &mut Rng) -> u128 {
    let mut v = 0u128;
    match rng.below(8) {
        0 | 1 => {
            for i in 0..2 {
                v |= u128::from(rng.next_u64()) << (64 * i);
            }
        }
        2 => {
            for i in 0..4 {
                v |= u128::from(fp_value(rng, 8, 23)) << (32 * i);
            }
        }
        3 => {
            for i in 0..2 {
                v |= u128::from(fp_value(rng, 11, 52)) << (64 * i);
            }
        }
        4 => {
            for i in 0..8 {
                v |= u128::from(fp_value(rng, 5, 10)) << (16 * i);
            }
        }
        5 => {
            let w = *rng.pick(&[8u32, 16, 32, 64]);
            for i in 0..128 / w {
                v |= u128::from(int_value(rng, w)) << (w * i);
            }
        }
        6 => {
            // Small lanes: table indices, shift counts (signed), lane numbers.
            for i in 0..16 {
                let b = (rng.below(80) as i64 - 16) as u8;
                v |= u128::from(b) << (8 * i);
            }
        }
        _ => {
            // Mixed: single-precision lanes in one half, integers in the other.
            v = u128::from(fp_value(rng, 8, 23)) | (u128::from(fp_value(rng, 8, 23)) << 32);
            v |= u128::from(int_value(rng, 64)) << 64;
        }
    }
    v
}

fn random_fpcr(rng: &mut Rng) -> u64 {
    let rmode = rng.below(4);
    let fz = rng.below(2);
    let dn = rng.below(2);
    let ahp = rng.below(2);
    (ahp << 26) | (dn << 25) | (fz << 24) | (rmode << 22)
}

/// A random starting state; SP points 16-aligned into the scratch buffer.
pub fn random_state(rng: &mut Rng, opts: GenOptions) -> State {
    let mut s = State::zero();
    for x in s.x.iter_mut() {
        *x = gpr_value(rng);
    }
    for v in s.v.iter_mut() {
        *v = vreg_value(rng);
    }
    s.nzcv = rng.below(16) << 28;
    s.fpcr_fpsr = random_fpcr(rng) & opts.fpcr_mask;
    for b in s.mem.iter_mut() {
        *b = rng.next_u64() as u8;
    }
    s.sp = SCRATCH + 16 * rng.below(SCRATCH_LEN as u64 / 16);
    s
}

// ---- memory accesses ----

/// Register numbering for the steering: 0-30 are X0-X30, [`SP_ID`] is SP.
pub const SP_ID: u8 = 32;

/// What one load/store does with addresses and registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Base register (0-30 or [`SP_ID`]).
    pub base: u8,
    /// Register offset: index register (31 = XZR), extend option, shift.
    pub index: Option<(u8, u32, u32)>,
    /// Immediate offset added to the base to form the address (0 for
    /// post-index).
    pub offset: i64,
    /// Bytes accessed from the address.
    pub bytes: u64,
    /// Alignment the address needs (1: none).
    pub align: u64,
    /// General registers the instruction writes (0-30, [`SP_ID`]).
    pub writes: Vec<u8>,
    /// CAS/CASP: the compare register(s) and the size of each; half the
    /// time memory is made to hold their value so the swap happens.
    pub compare: Option<(u8, u8, u64)>,
}

fn sext(v: u32, width: u32) -> i64 {
    let s = 64 - width;
    ((u64::from(v) << s) as i64) >> s
}

fn base_id(rn: u32) -> u8 {
    if rn == 31 {
        SP_ID
    } else {
        rn as u8
    }
}

/// Adds `r` (a register field that names X0-X30 or XZR) to `writes`.
fn push_gpr(writes: &mut Vec<u8>, r: u32) {
    if r != 31 {
        writes.push(r as u8);
    }
}

/// The address formation of load/store `w` of kind `mem`.
pub fn access(w: u32, mem: Mem) -> Option<Access> {
    let rn = bits(w, 9, 5);
    let rt = bits(w, 4, 0);
    let mut a = Access {
        base: base_id(rn),
        align: 1,
        ..Access::default()
    };
    // Size in bytes (log2) and whether Rt is a written GPR, for the
    // single-register forms.
    let single = |w: u32| -> (u32, bool) {
        let (size, v, opc) = (bits(w, 31, 30), bits(w, 26, 26), bits(w, 23, 22));
        if v == 1 {
            ((opc >> 1) << 2 | size, false)
        } else {
            let prfm = size == 3 && opc == 2;
            (size, opc != 0 && !prfm)
        }
    };
    match mem {
        Mem::None => return None,
        Mem::Uimm => {
            let (scale, load_gpr) = single(w);
            a.offset = i64::from(bits(w, 21, 10)) << scale;
            a.bytes = 1 << scale;
            if load_gpr {
                push_gpr(&mut a.writes, rt);
            }
        }
        Mem::Imm9 => {
            let (scale, load_gpr) = single(w);
            let mode = bits(w, 11, 10);
            let imm = sext(bits(w, 20, 12), 9);
            a.offset = if mode == 1 { 0 } else { imm };
            a.bytes = 1 << scale;
            if load_gpr {
                push_gpr(&mut a.writes, rt);
            }
            if mode & 1 == 1 {
                a.writes.push(a.base);
            }
        }
        Mem::Reg => {
            let (scale, load_gpr) = single(w);
            let shift = if bits(w, 12, 12) == 1 { scale } else { 0 };
            a.index = Some((bits(w, 20, 16) as u8, bits(w, 15, 13), shift));
            a.bytes = 1 << scale;
            if load_gpr {
                push_gpr(&mut a.writes, rt);
            }
        }
        Mem::Pair => {
            let (opc, v, mode, l) = (
                bits(w, 31, 30),
                bits(w, 26, 26),
                bits(w, 24, 23),
                bits(w, 22, 22),
            );
            let esize: u64 = if v == 1 {
                4 << opc
            } else if opc == 2 {
                8
            } else {
                4
            };
            let imm = sext(bits(w, 21, 15), 7) * esize as i64;
            a.offset = if mode == 1 { 0 } else { imm };
            a.bytes = 2 * esize;
            if l == 1 && v == 0 {
                push_gpr(&mut a.writes, rt);
                push_gpr(&mut a.writes, bits(w, 14, 10));
            }
            if mode & 1 == 1 {
                a.writes.push(a.base);
            }
        }
        Mem::Lse | Mem::AcqRel => {
            a.bytes = 1 << bits(w, 31, 30);
            a.align = a.bytes;
            let load = mem == Mem::Lse || bits(w, 22, 22) == 1;
            if load {
                push_gpr(&mut a.writes, rt);
            }
        }
        Mem::Cas => {
            a.bytes = 1 << bits(w, 31, 30);
            a.align = a.bytes;
            let rs = bits(w, 20, 16);
            push_gpr(&mut a.writes, rs);
            a.compare = Some((rs as u8, 31, a.bytes));
        }
        Mem::Casp => {
            let esize = 4u64 << bits(w, 30, 30);
            a.bytes = 2 * esize;
            a.align = a.bytes;
            let rs = bits(w, 20, 16);
            push_gpr(&mut a.writes, rs);
            push_gpr(&mut a.writes, rs + 1);
            a.compare = Some((rs as u8, (rs + 1) as u8, esize));
        }
        Mem::SimdMulti => {
            let nregs = match bits(w, 15, 12) {
                0 | 2 => 4,
                4 | 6 => 3,
                7 => 1,
                _ => 2,
            };
            a.bytes = nregs * if bits(w, 30, 30) == 1 { 16 } else { 8 };
            if bits(w, 23, 23) == 1 {
                a.writes.push(a.base);
            }
        }
        Mem::SimdSingle => {
            let (opcode, r, size) = (bits(w, 15, 13), bits(w, 21, 21), bits(w, 11, 10));
            let selem = u64::from(((opcode & 1) << 1) | r) + 1;
            let scale = match opcode >> 1 {
                3 => size,
                2 if size & 1 == 1 => 3,
                s => s,
            };
            a.bytes = selem << scale;
            if bits(w, 23, 23) == 1 {
                a.writes.push(a.base);
            }
        }
    }
    Some(a)
}

/// The value an index register contributes to an address.
pub fn index_contribution(xm: u64, option: u32, shift: u32) -> u64 {
    let ext = match option {
        0b010 => xm & 0xffff_ffff,
        0b110 => xm as i32 as i64 as u64,
        _ => xm,
    };
    ext << shift
}

/// Registers already spoken for in a sequence being built.
#[derive(Clone, Debug, Default)]
struct Used {
    /// Written by an earlier instruction (value unknown at generation).
    written: Vec<u8>,
    /// Given a value by the steering.
    steered: Vec<u8>,
}

/// Point `acc`'s base (and index) registers into the scratch buffer in
/// `state`. Fails (leaving `state` alone) if the registers conflict with
/// earlier instructions or no aligned address fits.
fn steer(rng: &mut Rng, acc: &Access, used: &mut Used, state: &mut State) -> bool {
    let mut regs = vec![acc.base];
    if let Some((rm, _, _)) = acc.index {
        if rm != 31 {
            if rm == acc.base {
                return false;
            }
            regs.push(rm);
        }
    }
    if regs
        .iter()
        .any(|r| used.written.contains(r) || used.steered.contains(r))
    {
        return false;
    }
    if acc.bytes > SCRATCH_LEN as u64 {
        return false;
    }
    let index_value = match acc.index {
        Some((rm, _, _)) if rm != 31 => gpr_value(rng),
        _ => 0,
    };
    let contribution = match acc.index {
        Some((_, option, shift)) => index_contribution(index_value, option, shift),
        None => 0,
    };
    let slots = (SCRATCH_LEN as u64 - acc.bytes) / acc.align + 1;
    for _ in 0..32 {
        let mut target = SCRATCH + acc.align * rng.below(slots);
        let delta = (acc.offset as u64).wrapping_add(contribution);
        if acc.base == SP_ID {
            // SP must stay 16-aligned (Linux sets SCTLR_EL1.SA0): move the
            // target to the nearest address that makes it so.
            target -= target.wrapping_sub(delta) % 16;
            if target < SCRATCH {
                target += 16;
            }
            if target % acc.align != 0 || target + acc.bytes > SCRATCH + SCRATCH_LEN as u64 {
                continue;
            }
        }
        let base = target.wrapping_sub(delta);
        if acc.base == SP_ID {
            state.sp = base;
        } else {
            state.x[usize::from(acc.base)] = base;
        }
        if let Some((rm, _, _)) = acc.index {
            if rm != 31 {
                state.x[usize::from(rm)] = index_value;
            }
        }
        if let Some((r1, r2, esize)) = acc.compare {
            if rng.chance(1, 2) && !used.written.contains(&r1) && !used.written.contains(&r2) {
                let off = (target - SCRATCH) as usize;
                let val = |r: u8| if r == 31 { 0 } else { state.x[usize::from(r)] };
                let (v1, v2) = (val(r1), val(r2));
                let e = esize as usize;
                state.mem[off..off + e].copy_from_slice(&v1.to_le_bytes()[..e]);
                if acc.bytes > esize {
                    state.mem[off + e..off + 2 * e].copy_from_slice(&v2.to_le_bytes()[..e]);
                }
            }
        }
        used.steered.extend(regs);
        used.written.extend(acc.writes.iter().copied());
        return true;
    }
    false
}

/// Squeeze the standard register fields (Rd/Rt, Rn, Rm) of `w` into X0-X3
/// or V0-V3 where `form` draws them at random: sequences then feed one
/// instruction's result to the next.
fn squeeze_registers(rng: &mut Rng, form: &Form, mut w: u32) -> u32 {
    for lo in [0u32, 5, 16] {
        let field = 0x1f << lo;
        if form.random & field == field {
            w = (w & !field) | ((rng.below(4) as u32) << lo);
        }
    }
    w
}

/// One instance of `form` (valid by its rule).
pub fn draw(rng: &mut Rng, form: &Form) -> u32 {
    let squeeze = rng.chance(1, 3);
    loop {
        let mut w = form.fixed | (rng.next_u32() & form.random);
        if squeeze {
            w = squeeze_registers(rng, form, w);
        }
        if (form.ok)(w) {
            return w;
        }
    }
}

/// A case of class `class` (number `index`).
pub fn case(rng: &mut Rng, index: usize, class: &Class, opts: GenOptions) -> Case {
    let mut input = random_state(rng, opts);
    let mut insns = Vec::new();
    let mut literals = Vec::new();
    match &class.gen {
        Gen::Forms { forms, max_len } => {
            let n = 1 + rng.below(*max_len);
            let mut used = Used::default();
            while (insns.len() as u64) < n {
                let form = rng.pick(forms);
                let w = draw(rng, form);
                match access(w, form.mem) {
                    None => insns.push(w),
                    Some(acc) => {
                        if steer(rng, &acc, &mut used, &mut input) {
                            insns.push(w);
                        }
                    }
                }
            }
        }
        Gen::Literal => {
            let n = 1 + rng.below(3);
            for i in 0..n as usize {
                // opc: 00 W/S, 01 X/D, 10 SW/Q, 11 PRFM (GPR only).
                let v = rng.below(2) as u32;
                let opc = rng.below(if v == 1 { 3 } else { 4 }) as u32;
                let rt = rng.below(32) as u32;
                let bytes = if v == 1 {
                    4u32 << opc
                } else if opc == 1 {
                    8
                } else {
                    4
                };
                let offset = 4 * rng.below(u64::from(POOL_LEN as u32 - bytes) / 4 + 1) as u32;
                insns.push((opc << 30) | (0b011 << 27) | (v << 26) | rt);
                literals.push((i, offset));
            }
        }
        Gen::Exclusive => exclusive(rng, &mut input, &mut insns),
    }
    Case {
        class: index,
        insns,
        literals,
        input,
    }
}

/// Load-exclusive then store-exclusive to the same address and size
/// (succeeds on both), or a store-exclusive alone (fails on both: the
/// monitor is clear at the start of every case), or a load alone.
fn exclusive(rng: &mut Rng, state: &mut State, insns: &mut Vec<u32>) {
    loop {
        let pair = rng.chance(1, 3);
        let size = if pair {
            2 + rng.below(2) as u32
        } else {
            rng.below(4) as u32
        };
        let acquire = rng.below(2) as u32;
        let release = rng.below(2) as u32;
        let rn = rng.below(32) as u32;
        let rt = rng.below(32) as u32;
        let rt2 = if pair { rng.below(32) as u32 } else { 31 };
        let rs = rng.below(32) as u32;
        let (st_rt, st_rt2) = (
            rng.below(32) as u32,
            if pair { rng.below(32) as u32 } else { 31 },
        );
        let o1 = pair as u32;
        // size 001000 o2=0 L o1 Rs o0 Rt2 Rn Rt
        let enc = |l: u32, rs: u32, o0: u32, rt2: u32, rt: u32| {
            (size << 30)
                | (0b001000 << 24)
                | (l << 22)
                | (o1 << 21)
                | (rs << 16)
                | (o0 << 15)
                | (rt2 << 10)
                | (rn << 5)
                | rt
        };
        let load = enc(1, 31, acquire, rt2, rt);
        let store = enc(0, rs, release, st_rt2, st_rt);
        let esize = 1u64 << size;
        let bytes = if pair { 2 * esize } else { esize };
        let kind = rng.below(4); // 0-1: load+store, 2: store alone, 3: load alone
        let with_load = kind != 2;
        let with_store = kind != 3;
        if with_load && pair && rt == rt2 {
            continue; // LDXP with Rt == Rt2: CONSTRAINED UNPREDICTABLE
        }
        if with_store && (rs == st_rt || (pair && rs == st_rt2) || (rs == rn && rn != 31)) {
            continue; // STXR status register overlapping: CONSTRAINED UNPREDICTABLE
        }
        if with_load && with_store && rn != 31 && (rt == rn || (pair && rt2 == rn)) {
            continue; // the load would overwrite the store's base
        }
        let slots = (SCRATCH_LEN as u64 - bytes) / bytes + 1;
        let target = SCRATCH + bytes * rng.below(slots);
        if rn == 31 {
            if target % 16 != 0 {
                continue;
            }
            state.sp = target;
        } else {
            state.x[rn as usize] = target;
        }
        if with_load {
            insns.push(load);
        }
        if with_store {
            insns.push(store);
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steering_lands_in_scratch() {
        // ldr x1, [x2, w3, sxtw #3]; ldp x4, x5, [sp, #-16]!; ldr q6, [x7, #4080]
        let words = [
            (0xf863_d841u32, Mem::Reg),
            (0xa9ff_17e4, Mem::Pair),
            (0x3dc3_fce6, Mem::Uimm),
        ];
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let mut st = random_state(&mut rng, GenOptions::default());
            let mut used = Used::default();
            for (w, m) in words {
                let acc = access(w, m).unwrap();
                assert!(steer(&mut rng, &acc, &mut used, &mut st), "{w:#x}");
                let base = if acc.base == SP_ID {
                    st.sp
                } else {
                    st.x[usize::from(acc.base)]
                };
                let idx = acc
                    .index
                    .map(|(rm, o, s)| index_contribution(st.x[usize::from(rm)], o, s))
                    .unwrap_or(0);
                let addr = base.wrapping_add(acc.offset as u64).wrapping_add(idx);
                assert!(addr >= SCRATCH && addr + acc.bytes <= SCRATCH + SCRATCH_LEN as u64);
            }
            assert_eq!(st.sp % 16, 0);
        }
    }

    #[test]
    fn access_sizes_follow_the_encoding() {
        // ld4 {v0.16b-v3.16b}, [x1]: 64 bytes; ld1 {v0.8b}, [x1], #8: 8 bytes
        assert_eq!(access(0x4c40_0020, Mem::SimdMulti).unwrap().bytes, 64);
        let post = access(0x0cdf_7020, Mem::SimdMulti).unwrap();
        assert_eq!((post.bytes, post.writes.clone()), (8, vec![1]));
        // ld4r {v0.2d-v3.2d}, [x1]: 4 x 8 bytes; ld3 {v0.s-v2.s}[1], [x1]: 12
        assert_eq!(access(0x4d60_ec20, Mem::SimdSingle).unwrap().bytes, 32);
        assert_eq!(access(0x0d40_b020, Mem::SimdSingle).unwrap().bytes, 12);
        // casp x0, x1, x2, x3, [x4]: 16 bytes aligned, writes x0, x1
        let c = access(0x4820_7c82, Mem::Casp).unwrap();
        assert_eq!((c.bytes, c.align, c.writes), (16, 16, vec![0, 1]));
    }
}
