//! A small A64 encoder: enough to write guest code by hand in tests,
//! benchmarks and homes (boot trampolines). Each function returns one
//! instruction word; field values are masked to their width. Register
//! number 31 is SP or ZR as the instruction defines it.
//!
//! The encodings are checked against an external assembler (LLVM's
//! `llvm-mc`) in this module's tests.

use super::sysreg::SysRegEnc;

/// NOP.
pub const NOP: u32 = 0xd503_201f;
/// RET (X30).
pub const RET: u32 = 0xd65f_03c0;
/// ERET.
pub const ERET: u32 = 0xd69f_03e0;
/// WFI.
pub const WFI: u32 = 0xd503_207f;
/// WFE.
pub const WFE: u32 = 0xd503_205f;
/// ISB.
pub const ISB: u32 = 0xd503_3fdf;
/// DSB SY.
pub const DSB_SY: u32 = 0xd503_3f9f;
/// DMB ISH.
pub const DMB_ISH: u32 = 0xd503_3bbf;
/// CLREX.
pub const CLREX: u32 = 0xd503_3f5f;

/// Condition codes.
pub const EQ: u32 = 0;
/// Not equal.
pub const NE: u32 = 1;
/// Carry set / unsigned higher or same.
pub const HS: u32 = 2;
/// Carry clear / unsigned lower.
pub const LO: u32 = 3;
/// Negative.
pub const MI: u32 = 4;
/// Positive or zero.
pub const PL: u32 = 5;
/// Overflow.
pub const VS: u32 = 6;
/// No overflow.
pub const VC: u32 = 7;
/// Unsigned higher.
pub const HI: u32 = 8;
/// Unsigned lower or same.
pub const LS: u32 = 9;
/// Signed greater or equal.
pub const GE: u32 = 10;
/// Signed less than.
pub const LT: u32 = 11;
/// Signed greater than.
pub const GT: u32 = 12;
/// Signed less or equal.
pub const LE: u32 = 13;
/// Always.
pub const AL: u32 = 14;

#[inline]
const fn r(n: u32) -> u32 {
    n & 31
}

#[inline]
const fn sfb(sf: bool) -> u32 {
    (sf as u32) << 31
}

/// ADD/ADDS/SUB/SUBS (immediate): `op` 1 = SUB, `s` sets flags, `sh`
/// shifts the 12-bit immediate left by 12.
pub const fn addsub_imm(sf: bool, op: u32, s: bool, sh: bool, imm12: u32, rn: u32, rd: u32) -> u32 {
    sfb(sf)
        | ((op & 1) << 30)
        | ((s as u32) << 29)
        | (0b100010 << 23)
        | ((sh as u32) << 22)
        | ((imm12 & 0xfff) << 10)
        | (r(rn) << 5)
        | r(rd)
}
/// ADD Rd|SP, Rn|SP, #imm12.
pub const fn add_imm(sf: bool, rd: u32, rn: u32, imm12: u32) -> u32 {
    addsub_imm(sf, 0, false, false, imm12, rn, rd)
}
/// ADDS Rd, Rn|SP, #imm12.
pub const fn adds_imm(sf: bool, rd: u32, rn: u32, imm12: u32) -> u32 {
    addsub_imm(sf, 0, true, false, imm12, rn, rd)
}
/// SUB Rd|SP, Rn|SP, #imm12.
pub const fn sub_imm(sf: bool, rd: u32, rn: u32, imm12: u32) -> u32 {
    addsub_imm(sf, 1, false, false, imm12, rn, rd)
}
/// SUBS Rd, Rn|SP, #imm12.
pub const fn subs_imm(sf: bool, rd: u32, rn: u32, imm12: u32) -> u32 {
    addsub_imm(sf, 1, true, false, imm12, rn, rd)
}
/// CMP Rn|SP, #imm12.
pub const fn cmp_imm(sf: bool, rn: u32, imm12: u32) -> u32 {
    subs_imm(sf, 31, rn, imm12)
}

/// ADD/SUB (shifted register); `shift` 0 LSL, 1 LSR, 2 ASR.
#[allow(clippy::too_many_arguments)]
pub const fn addsub_reg(
    sf: bool,
    op: u32,
    s: bool,
    shift: u32,
    rm: u32,
    imm6: u32,
    rn: u32,
    rd: u32,
) -> u32 {
    sfb(sf)
        | ((op & 1) << 30)
        | ((s as u32) << 29)
        | (0b01011 << 24)
        | ((shift & 3) << 22)
        | (r(rm) << 16)
        | ((imm6 & 63) << 10)
        | (r(rn) << 5)
        | r(rd)
}

/// ADD/SUB (extended register): `option` is the 3-bit extend, `imm3` 0..=4.
#[allow(clippy::too_many_arguments)]
pub const fn addsub_ext(
    sf: bool,
    op: u32,
    s: bool,
    rm: u32,
    option: u32,
    imm3: u32,
    rn: u32,
    rd: u32,
) -> u32 {
    sfb(sf)
        | ((op & 1) << 30)
        | ((s as u32) << 29)
        | (0b01011001 << 21)
        | (r(rm) << 16)
        | ((option & 7) << 13)
        | ((imm3 & 7) << 10)
        | (r(rn) << 5)
        | r(rd)
}

/// ADC/ADCS/SBC/SBCS.
pub const fn addsub_carry(sf: bool, op: u32, s: bool, rm: u32, rn: u32, rd: u32) -> u32 {
    sfb(sf)
        | ((op & 1) << 30)
        | ((s as u32) << 29)
        | (0b11010000 << 21)
        | (r(rm) << 16)
        | (r(rn) << 5)
        | r(rd)
}

/// Logical (shifted register): `opc` 0 AND, 1 ORR, 2 EOR, 3 ANDS; `n`
/// inverts Rm (BIC/ORN/EON/BICS); `shift` 0..=3 LSL LSR ASR ROR.
#[allow(clippy::too_many_arguments)]
pub const fn logic_reg(
    sf: bool,
    opc: u32,
    n: bool,
    shift: u32,
    rm: u32,
    imm6: u32,
    rn: u32,
    rd: u32,
) -> u32 {
    sfb(sf)
        | ((opc & 3) << 29)
        | (0b01010 << 24)
        | ((shift & 3) << 22)
        | ((n as u32) << 21)
        | (r(rm) << 16)
        | ((imm6 & 63) << 10)
        | (r(rn) << 5)
        | r(rd)
}

/// MOV Rd, Rm (ORR Rd, ZR, Rm).
pub const fn mov_reg(sf: bool, rd: u32, rm: u32) -> u32 {
    logic_reg(sf, 1, false, 0, rm, 0, 31, rd)
}

/// Logical (immediate) from raw N:immr:imms.
pub const fn logic_imm(sf: bool, opc: u32, n: bool, immr: u32, imms: u32, rn: u32, rd: u32) -> u32 {
    sfb(sf)
        | ((opc & 3) << 29)
        | (0b100100 << 23)
        | ((n as u32) << 22)
        | ((immr & 63) << 16)
        | ((imms & 63) << 10)
        | (r(rn) << 5)
        | r(rd)
}

/// Move wide: `opc` 0 MOVN, 2 MOVZ, 3 MOVK; `hw` selects the 16-bit lane.
pub const fn movw(sf: bool, opc: u32, hw: u32, imm16: u32, rd: u32) -> u32 {
    sfb(sf)
        | ((opc & 3) << 29)
        | (0b100101 << 23)
        | ((hw & 3) << 21)
        | ((imm16 & 0xffff) << 5)
        | r(rd)
}
/// MOVZ Rd, #imm16, LSL #(16 * hw).
pub const fn movz(sf: bool, rd: u32, imm16: u32, hw: u32) -> u32 {
    movw(sf, 2, hw, imm16, rd)
}
/// MOVK Rd, #imm16, LSL #(16 * hw).
pub const fn movk(sf: bool, rd: u32, imm16: u32, hw: u32) -> u32 {
    movw(sf, 3, hw, imm16, rd)
}
/// MOVN Rd, #imm16, LSL #(16 * hw).
pub const fn movn(sf: bool, rd: u32, imm16: u32, hw: u32) -> u32 {
    movw(sf, 0, hw, imm16, rd)
}

/// Load a 64-bit constant with MOVZ + 3 MOVK.
pub const fn mov64(rd: u32, value: u64) -> [u32; 4] {
    [
        movz(true, rd, value as u32 & 0xffff, 0),
        movk(true, rd, (value >> 16) as u32 & 0xffff, 1),
        movk(true, rd, (value >> 32) as u32 & 0xffff, 2),
        movk(true, rd, (value >> 48) as u32 & 0xffff, 3),
    ]
}

/// Bitfield: `opc` 0 SBFM, 1 BFM, 2 UBFM (N = sf).
pub const fn bitfield(sf: bool, opc: u32, immr: u32, imms: u32, rn: u32, rd: u32) -> u32 {
    sfb(sf)
        | ((opc & 3) << 29)
        | (0b100110 << 23)
        | ((sf as u32) << 22)
        | ((immr & 63) << 16)
        | ((imms & 63) << 10)
        | (r(rn) << 5)
        | r(rd)
}

/// EXTR Rd, Rn, Rm, #lsb.
pub const fn extr(sf: bool, rd: u32, rn: u32, rm: u32, lsb: u32) -> u32 {
    sfb(sf)
        | (0b100111 << 23)
        | ((sf as u32) << 22)
        | (r(rm) << 16)
        | ((lsb & 63) << 10)
        | (r(rn) << 5)
        | r(rd)
}

/// CCMN (`op` 0) / CCMP (`op` 1), register (`imm` false) or 5-bit immediate.
#[allow(clippy::too_many_arguments)]
pub const fn ccmp(sf: bool, op: u32, imm: bool, rm_imm: u32, cond: u32, rn: u32, nzcv: u32) -> u32 {
    sfb(sf)
        | ((op & 1) << 30)
        | (1 << 29)
        | (0b11010010 << 21)
        | (r(rm_imm) << 16)
        | ((cond & 15) << 12)
        | ((imm as u32) << 11)
        | (r(rn) << 5)
        | (nzcv & 15)
}

/// CSEL (`op`=0,`o2`=0), CSINC (0,1), CSINV (1,0), CSNEG (1,1).
pub const fn csel(sf: bool, op: u32, o2: u32, rm: u32, cond: u32, rn: u32, rd: u32) -> u32 {
    sfb(sf)
        | ((op & 1) << 30)
        | (0b11010100 << 21)
        | (r(rm) << 16)
        | ((cond & 15) << 12)
        | ((o2 & 1) << 10)
        | (r(rn) << 5)
        | r(rd)
}

/// Data processing (2 source) with the 6-bit `opcode` (UDIV 2, SDIV 3,
/// LSLV 8, LSRV 9, ASRV 10, RORV 11, CRC32B..X 16..19, CRC32CB..CX 20..23).
pub const fn dp2(sf: bool, opcode: u32, rm: u32, rn: u32, rd: u32) -> u32 {
    sfb(sf) | (0b11010110 << 21) | (r(rm) << 16) | ((opcode & 63) << 10) | (r(rn) << 5) | r(rd)
}

/// Data processing (1 source): RBIT 0, REV16 1, REV32/REV(W) 2, REV(X) 3,
/// CLZ 4, CLS 5.
pub const fn dp1(sf: bool, opcode: u32, rn: u32, rd: u32) -> u32 {
    sfb(sf) | (1 << 30) | (0b11010110 << 21) | ((opcode & 63) << 10) | (r(rn) << 5) | r(rd)
}

/// Data processing (3 source): `op31` 0 MADD/MSUB, 1 SMADDL/SMSUBL, 2
/// SMULH, 5 UMADDL/UMSUBL, 6 UMULH; `o0` selects the subtracting form.
#[allow(clippy::too_many_arguments)]
pub const fn dp3(sf: bool, op31: u32, o0: u32, rm: u32, ra: u32, rn: u32, rd: u32) -> u32 {
    sfb(sf)
        | (0b11011 << 24)
        | ((op31 & 7) << 21)
        | (r(rm) << 16)
        | ((o0 & 1) << 15)
        | (r(ra) << 10)
        | (r(rn) << 5)
        | r(rd)
}

/// ADR Rd, PC + imm (±1 MiB).
pub const fn adr(rd: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    ((imm & 3) << 29) | (0b10000 << 24) | (((imm >> 2) & 0x7ffff) << 5) | r(rd)
}
/// ADRP Rd, page(PC) + pages * 4096.
pub const fn adrp(rd: u32, pages: i32) -> u32 {
    adr(rd, pages) | (1 << 31)
}

/// B to PC + `off` bytes.
pub const fn b(off: i32) -> u32 {
    (0b000101 << 26) | ((off as u32 >> 2) & 0x03ff_ffff)
}
/// BL to PC + `off` bytes.
pub const fn bl(off: i32) -> u32 {
    b(off) | (1 << 31)
}
/// B.cond to PC + `off` bytes.
pub const fn b_cond(cond: u32, off: i32) -> u32 {
    (0b0101_0100 << 24) | (((off as u32 >> 2) & 0x7ffff) << 5) | (cond & 15)
}
/// CBZ (`nz` false) / CBNZ.
pub const fn cbz(sf: bool, nz: bool, rt: u32, off: i32) -> u32 {
    sfb(sf) | (0b011010 << 25) | ((nz as u32) << 24) | (((off as u32 >> 2) & 0x7ffff) << 5) | r(rt)
}
/// TBZ (`nz` false) / TBNZ on bit `bit` (0..=63).
pub const fn tbz(nz: bool, rt: u32, bit: u32, off: i32) -> u32 {
    (((bit >> 5) & 1) << 31)
        | (0b011011 << 25)
        | ((nz as u32) << 24)
        | ((bit & 31) << 19)
        | (((off as u32 >> 2) & 0x3fff) << 5)
        | r(rt)
}
/// BR Rn.
pub const fn br(rn: u32) -> u32 {
    0xd61f_0000 | (r(rn) << 5)
}
/// BLR Rn.
pub const fn blr(rn: u32) -> u32 {
    0xd63f_0000 | (r(rn) << 5)
}
/// RET Rn.
pub const fn ret(rn: u32) -> u32 {
    0xd65f_0000 | (r(rn) << 5)
}

const fn exc(opc: u32, ll: u32, imm16: u32) -> u32 {
    (0b1101_0100 << 24) | ((opc & 7) << 21) | ((imm16 & 0xffff) << 5) | (ll & 3)
}
/// SVC #imm16.
pub const fn svc(imm16: u32) -> u32 {
    exc(0, 1, imm16)
}
/// HVC #imm16.
pub const fn hvc(imm16: u32) -> u32 {
    exc(0, 2, imm16)
}
/// SMC #imm16.
pub const fn smc(imm16: u32) -> u32 {
    exc(0, 3, imm16)
}
/// BRK #imm16.
pub const fn brk(imm16: u32) -> u32 {
    exc(1, 0, imm16)
}

/// MRS Xt, reg.
pub const fn mrs(rt: u32, reg: SysRegEnc) -> u32 {
    0xd530_0000 | ((reg.0 as u32) << 5) | r(rt)
}
/// MSR reg, Xt.
pub const fn msr(reg: SysRegEnc, rt: u32) -> u32 {
    0xd510_0000 | ((reg.0 as u32) << 5) | r(rt)
}
/// MSR DAIFSet, #imm4.
pub const fn msr_daifset(imm4: u32) -> u32 {
    0xd503_40df | ((imm4 & 15) << 8)
}
/// MSR DAIFClr, #imm4.
pub const fn msr_daifclr(imm4: u32) -> u32 {
    0xd503_40ff | ((imm4 & 15) << 8)
}
/// MSR SPSel, #imm1.
pub const fn msr_spsel(imm1: u32) -> u32 {
    0xd500_40bf | ((imm1 & 1) << 8)
}
/// SYS #op1, Cn, Cm, #op2, Xt (DC, IC, AT, TLBI).
pub const fn sys(op1: u32, crn: u32, crm: u32, op2: u32, rt: u32) -> u32 {
    0xd508_0000
        | ((op1 & 7) << 16)
        | ((crn & 15) << 12)
        | ((crm & 15) << 8)
        | ((op2 & 7) << 5)
        | r(rt)
}

/// Load/store register (unsigned scaled offset): `size` 0..=3, `v` SIMD&FP,
/// `opc` as in the Arm ARM, `imm12` in units of the access size.
pub const fn ldst_uimm(size: u32, v: bool, opc: u32, imm12: u32, rn: u32, rt: u32) -> u32 {
    ((size & 3) << 30)
        | (0b111 << 27)
        | ((v as u32) << 26)
        | (1 << 24)
        | ((opc & 3) << 22)
        | ((imm12 & 0xfff) << 10)
        | (r(rn) << 5)
        | r(rt)
}
/// LDR Xt/Wt, [Xn|SP, #off] (`off` a byte offset, multiple of the size).
pub const fn ldr_imm(sf: bool, rt: u32, rn: u32, off: u32) -> u32 {
    let size = if sf { 3 } else { 2 };
    ldst_uimm(size, false, 1, off >> size, rn, rt)
}
/// STR Xt/Wt, [Xn|SP, #off].
pub const fn str_imm(sf: bool, rt: u32, rn: u32, off: u32) -> u32 {
    let size = if sf { 3 } else { 2 };
    ldst_uimm(size, false, 0, off >> size, rn, rt)
}
/// Load/store register with a 9-bit signed offset: `mode` 0 unscaled
/// (LDUR), 1 post-index, 2 unprivileged (LDTR), 3 pre-index.
pub const fn ldst_imm9(
    size: u32,
    v: bool,
    opc: u32,
    imm9: i32,
    mode: u32,
    rn: u32,
    rt: u32,
) -> u32 {
    ((size & 3) << 30)
        | (0b111 << 27)
        | ((v as u32) << 26)
        | ((opc & 3) << 22)
        | ((imm9 as u32 & 0x1ff) << 12)
        | ((mode & 3) << 10)
        | (r(rn) << 5)
        | r(rt)
}
/// Load/store register (register offset), `option` the extend, `s` scales.
#[allow(clippy::too_many_arguments)]
pub const fn ldst_reg(
    size: u32,
    v: bool,
    opc: u32,
    rm: u32,
    option: u32,
    s: bool,
    rn: u32,
    rt: u32,
) -> u32 {
    ((size & 3) << 30)
        | (0b111 << 27)
        | ((v as u32) << 26)
        | ((opc & 3) << 22)
        | (1 << 21)
        | (r(rm) << 16)
        | ((option & 7) << 13)
        | ((s as u32) << 12)
        | (0b10 << 10)
        | (r(rn) << 5)
        | r(rt)
}
/// Load register (literal): `opc` 0 W, 1 X, 2 SW, 3 PRFM (V=0).
pub const fn ldr_lit(opc: u32, v: bool, off: i32, rt: u32) -> u32 {
    ((opc & 3) << 30)
        | (0b011 << 27)
        | ((v as u32) << 26)
        | (((off as u32 >> 2) & 0x7ffff) << 5)
        | r(rt)
}
/// Load/store pair: `opc` 0 W/S, 1 SW/D, 2 X/Q; `mode` 0 no-allocate, 1
/// post-index, 2 offset, 3 pre-index; `imm7` in units of the element size.
#[allow(clippy::too_many_arguments)]
pub const fn ldst_pair(
    opc: u32,
    v: bool,
    mode: u32,
    load: bool,
    imm7: i32,
    rt2: u32,
    rn: u32,
    rt: u32,
) -> u32 {
    ((opc & 3) << 30)
        | (0b101 << 27)
        | ((v as u32) << 26)
        | ((mode & 3) << 23)
        | ((load as u32) << 22)
        | ((imm7 as u32 & 0x7f) << 15)
        | (r(rt2) << 10)
        | (r(rn) << 5)
        | r(rt)
}
/// Load/store exclusive and ordered: `size`, `o2`, `l`, `o1`, `o0` as in the
/// Arm ARM.
#[allow(clippy::too_many_arguments)]
pub const fn ldst_excl(
    size: u32,
    o2: u32,
    l: u32,
    o1: u32,
    rs: u32,
    o0: u32,
    rt2: u32,
    rn: u32,
    rt: u32,
) -> u32 {
    ((size & 3) << 30)
        | (0b001000 << 24)
        | ((o2 & 1) << 23)
        | ((l & 1) << 22)
        | ((o1 & 1) << 21)
        | (r(rs) << 16)
        | ((o0 & 1) << 15)
        | (r(rt2) << 10)
        | (r(rn) << 5)
        | r(rt)
}

/// FP data-processing (2 source), scalar: `ty` 0 single, 1 double;
/// `opcode` 0 FMUL, 1 FDIV, 2 FADD, 3 FSUB, 4 FMAX, 5 FMIN, 6 FMAXNM, 7
/// FMINNM (the Arm ARM's numbering).
pub const fn fp_dp2(ty: u32, opcode: u32, rm: u32, rn: u32, rd: u32) -> u32 {
    0x1e20_0800 | ((ty & 3) << 22) | (r(rm) << 16) | ((opcode & 15) << 12) | (r(rn) << 5) | r(rd)
}
/// FP data-processing (1 source), scalar: `opcode` 0 FMOV, 1 FABS, 2
/// FNEG, 3 FSQRT.
pub const fn fp_dp1(ty: u32, opcode: u32, rn: u32, rd: u32) -> u32 {
    0x1e20_4000 | ((ty & 3) << 22) | ((opcode & 63) << 15) | (r(rn) << 5) | r(rd)
}
/// FABS (FNEG with `neg`), vector; `sz` 1 for 2D.
pub const fn vfabs(q: bool, neg: bool, sz: u32, rn: u32, rd: u32) -> u32 {
    0x0ea0_f800
        | ((q as u32) << 30)
        | ((neg as u32) << 29)
        | ((sz & 1) << 22)
        | (r(rn) << 5)
        | r(rd)
}
/// FMOV Sd/Dd, #imm8 (the Arm ARM's 8-bit FP immediate).
pub const fn fmov_imm(ty: u32, imm8: u32, rd: u32) -> u32 {
    0x1e20_1000 | ((ty & 3) << 22) | ((imm8 & 0xff) << 13) | r(rd)
}
/// FADD/FSUB/FMUL/FDIV (vector, `op` 0..=3 in that order); `sz` 1 for
/// 2D.
pub const fn vfp3(q: bool, op: u32, sz: u32, rm: u32, rn: u32, rd: u32) -> u32 {
    let base = match op & 3 {
        0 => 0x0e20_d400,
        1 => 0x0ea0_d400,
        2 => 0x2e20_dc00,
        _ => 0x2e20_fc00,
    };
    base | ((q as u32) << 30) | ((sz & 1) << 22) | (r(rm) << 16) | (r(rn) << 5) | r(rd)
}
/// SCVTF (UCVTF with `unsigned`) Sd/Dd (`ty`), Wn/Xn (`sf`).
pub const fn scvtf(sf: bool, ty: u32, unsigned: bool, rn: u32, rd: u32) -> u32 {
    0x1e22_0000 | sfb(sf) | ((ty & 3) << 22) | ((unsigned as u32) << 16) | (r(rn) << 5) | r(rd)
}
/// FCVTZS Wd/Xd (`sf`), Sn/Dn (`ty`).
pub const fn fcvtzs(sf: bool, ty: u32, rn: u32, rd: u32) -> u32 {
    0x1e38_0000 | sfb(sf) | ((ty & 3) << 22) | (r(rn) << 5) | r(rd)
}
/// FCSEL Vd, Vn, Vm, cond.
pub const fn fcsel(ty: u32, rm: u32, cond: u32, rn: u32, rd: u32) -> u32 {
    0x1e20_0c00 | ((ty & 3) << 22) | (r(rm) << 16) | ((cond & 15) << 12) | (r(rn) << 5) | r(rd)
}
/// FCMP (FCMPE if `signal`) of Sn/Dn (`ty` 0/1) with Vm, or with +0.0 if
/// `zero`.
pub const fn fcmp(ty: u32, rm: u32, rn: u32, zero: bool, signal: bool) -> u32 {
    let rm = if zero { 0 } else { r(rm) };
    0x1e20_2000
        | ((ty & 3) << 22)
        | (rm << 16)
        | (r(rn) << 5)
        | ((signal as u32) << 4)
        | ((zero as u32) << 3)
}
/// FMOV between Wn/Xn and Sd/Dd (`double`) of the same width; `to_fp`:
/// from the general register.
pub const fn fmov_gp(double: bool, to_fp: bool, rn: u32, rd: u32) -> u32 {
    0x1e26_0000
        | sfb(double)
        | ((double as u32) << 22)
        | ((to_fp as u32) << 16)
        | (r(rn) << 5)
        | r(rd)
}
/// AdvSIMD three same: `opcode` 0b00011 the bitwise group (`u`/`size`
/// select AND, BIC, ORR, ORN, EOR, BSL, BIT, BIF), 0b10000 ADD/SUB,
/// 0b10001 CMTST/CMEQ.
#[allow(clippy::too_many_arguments)]
pub const fn vthree(q: bool, u: bool, size: u32, opcode: u32, rm: u32, rn: u32, rd: u32) -> u32 {
    0x0e20_0400
        | ((q as u32) << 30)
        | ((u as u32) << 29)
        | ((size & 3) << 22)
        | (r(rm) << 16)
        | ((opcode & 31) << 11)
        | (r(rn) << 5)
        | r(rd)
}
/// CMEQ (zero), vector.
pub const fn vcmeq0(q: bool, size: u32, rn: u32, rd: u32) -> u32 {
    0x0e20_9800 | ((q as u32) << 30) | ((size & 3) << 22) | (r(rn) << 5) | r(rd)
}
/// EXT Vd, Vn, Vm, #imm4.
pub const fn ext(q: bool, rm: u32, imm4: u32, rn: u32, rd: u32) -> u32 {
    0x2e00_0000 | ((q as u32) << 30) | (r(rm) << 16) | ((imm4 & 15) << 11) | (r(rn) << 5) | r(rd)
}
/// AdvSIMD copy: `imm4` 0b0001 DUP (general), 0b0101 SMOV, 0b0111 UMOV
/// (with `op` 0); `imm5` encodes the lane size and index.
pub const fn simd_copy(q: bool, op: bool, imm5: u32, imm4: u32, rn: u32, rd: u32) -> u32 {
    0x0e00_0400
        | ((q as u32) << 30)
        | ((op as u32) << 29)
        | ((imm5 & 31) << 16)
        | ((imm4 & 15) << 11)
        | (r(rn) << 5)
        | r(rd)
}
/// AdvSIMD shift by immediate (vector): `immhb` the 7-bit immh:immb
/// (lane size and amount), `opcode` 0b00000 SSHR/USHR, 0b01010 SHL/SLI,
/// 0b10100 SSHLL/USHLL.
pub const fn simd_shift_imm(q: bool, u: bool, immhb: u32, opcode: u32, rn: u32, rd: u32) -> u32 {
    0x0f00_0400
        | ((q as u32) << 30)
        | ((u as u32) << 29)
        | ((immhb & 0x7f) << 16)
        | ((opcode & 31) << 11)
        | (r(rn) << 5)
        | r(rd)
}
/// AdvSIMD two-register miscellaneous: `opcode` 0 REV64 (REV32 with
/// `u`), 1 REV16, and so on.
pub const fn simd_misc(q: bool, u: bool, size: u32, opcode: u32, rn: u32, rd: u32) -> u32 {
    0x0e20_0800
        | ((q as u32) << 30)
        | ((u as u32) << 29)
        | ((size & 3) << 22)
        | ((opcode & 31) << 12)
        | (r(rn) << 5)
        | r(rd)
}
/// DUP (element, scalar): Vd = Vn's element encoded in `imm5`.
pub const fn dup_scalar(imm5: u32, rn: u32, rd: u32) -> u32 {
    0x5e00_0400 | ((imm5 & 31) << 16) | (r(rn) << 5) | r(rd)
}
/// FMOV Xd, Vn.D\[1\] or (`to_fp`) FMOV Vd.D\[1\], Xn.
pub const fn fmov_gp_hi(to_fp: bool, rn: u32, rd: u32) -> u32 {
    0x9eae_0000 | ((to_fp as u32) << 16) | (r(rn) << 5) | r(rd)
}

#[cfg(test)]
mod tests {
    use super::super::decode::{decode, Insn};
    use super::super::sysreg;
    use super::*;

    /// (assembly, our encoding, LLVM's encoding): the third column was
    /// produced by `llvm-mc -triple=aarch64 -mattr=+crc,+el3 -show-encoding`
    /// from the first.
    fn table() -> alloc::vec::Vec<(&'static str, u32, u32)> {
        alloc::vec![
            ("add x0, x1, #1", add_imm(true, 0, 1, 1), 0x9100_0420),
            (
                "adds w2, w3, #4095",
                adds_imm(false, 2, 3, 4095),
                0x313f_fc62
            ),
            ("sub sp, sp, #16", sub_imm(true, 31, 31, 16), 0xd100_43ff),
            ("cmp x5, #7", cmp_imm(true, 5, 7), 0xf100_1cbf),
            (
                "add x3, x4, #1, lsl #12",
                addsub_imm(true, 0, false, true, 1, 4, 3),
                0x9140_0483
            ),
            (
                "subs x1, x2, x3, lsl #4",
                addsub_reg(true, 1, true, 0, 3, 4, 2, 1),
                0xeb03_1041
            ),
            (
                "add w1, w2, w3, asr #31",
                addsub_reg(false, 0, false, 2, 3, 31, 2, 1),
                0x0b83_7c41
            ),
            (
                "add x0, sp, w1, uxtw #2",
                addsub_ext(true, 0, false, 1, 2, 2, 31, 0),
                0x8b21_4be0
            ),
            (
                "subs x0, x1, w2, sxtb",
                addsub_ext(true, 1, true, 2, 4, 0, 1, 0),
                0xeb22_8020
            ),
            (
                "adc x0, x1, x2",
                addsub_carry(true, 0, false, 2, 1, 0),
                0x9a02_0020
            ),
            (
                "sbcs w0, w1, w2",
                addsub_carry(false, 1, true, 2, 1, 0),
                0x7a02_0020
            ),
            (
                "and x0, x1, x2, lsl #3",
                logic_reg(true, 0, false, 0, 2, 3, 1, 0),
                0x8a02_0c20
            ),
            (
                "bic w0, w1, w2, ror #5",
                logic_reg(false, 0, true, 3, 2, 5, 1, 0),
                0x0ae2_1420
            ),
            (
                "eon x3, x4, x5, lsr #1",
                logic_reg(true, 2, true, 1, 5, 1, 4, 3),
                0xca65_0483
            ),
            (
                "ands x0, x1, x2",
                logic_reg(true, 3, false, 0, 2, 0, 1, 0),
                0xea02_0020
            ),
            ("mov x0, x1", mov_reg(true, 0, 1), 0xaa01_03e0),
            (
                "and x0, x1, #0xff",
                logic_imm(true, 0, true, 0, 7, 1, 0),
                0x9240_1c20
            ),
            (
                "orr w0, wzr, #0x80000001",
                logic_imm(false, 1, false, 1, 1, 31, 0),
                0x3201_07e0
            ),
            (
                "eor x2, x3, #0x5555555555555555",
                logic_imm(true, 2, false, 0, 0x3c, 3, 2),
                0xd200_f062
            ),
            (
                "movz x0, #0x1234, lsl #16",
                movz(true, 0, 0x1234, 1),
                0xd2a2_4680
            ),
            (
                "movk x0, #0xbeef, lsl #48",
                movk(true, 0, 0xbeef, 3),
                0xf2f7_dde0
            ),
            ("movn w1, #0", movn(false, 1, 0, 0), 0x1280_0001),
            (
                "sbfm x0, x1, #4, #11",
                bitfield(true, 0, 4, 11, 1, 0),
                0x9344_2c20
            ),
            (
                "bfm w0, w1, #28, #3",
                bitfield(false, 1, 28, 3, 1, 0),
                0x331c_0c20
            ),
            (
                "ubfm x2, x3, #60, #59",
                bitfield(true, 2, 60, 59, 3, 2),
                0xd37c_ec62
            ),
            ("extr x0, x1, x2, #17", extr(true, 0, 1, 2, 17), 0x93c2_4420),
            (
                "ccmp x1, x2, #4, ne",
                ccmp(true, 1, false, 2, 1, 1, 4),
                0xfa42_1024
            ),
            (
                "ccmn w1, #5, #2, eq",
                ccmp(false, 0, true, 5, 0, 1, 2),
                0x3a45_0822
            ),
            (
                "csel x0, x1, x2, lt",
                csel(true, 0, 0, 2, 11, 1, 0),
                0x9a82_b020
            ),
            (
                "csinc w0, w1, w2, eq",
                csel(false, 0, 1, 2, 0, 1, 0),
                0x1a82_0420
            ),
            (
                "csinv x0, x1, x2, hi",
                csel(true, 1, 0, 2, 8, 1, 0),
                0xda82_8020
            ),
            (
                "csneg x0, x1, x2, ge",
                csel(true, 1, 1, 2, 10, 1, 0),
                0xda82_a420
            ),
            ("udiv x0, x1, x2", dp2(true, 2, 2, 1, 0), 0x9ac2_0820),
            ("sdiv w0, w1, w2", dp2(false, 3, 2, 1, 0), 0x1ac2_0c20),
            ("lslv x0, x1, x2", dp2(true, 8, 2, 1, 0), 0x9ac2_2020),
            ("rorv w0, w1, w2", dp2(false, 11, 2, 1, 0), 0x1ac2_2c20),
            ("crc32b w0, w1, w2", dp2(false, 16, 2, 1, 0), 0x1ac2_4020),
            ("crc32cx w0, w1, x2", dp2(true, 23, 2, 1, 0), 0x9ac2_5c20),
            ("rbit x0, x1", dp1(true, 0, 1, 0), 0xdac0_0020),
            ("rev16 w0, w1", dp1(false, 1, 1, 0), 0x5ac0_0420),
            ("rev32 x0, x1", dp1(true, 2, 1, 0), 0xdac0_0820),
            ("rev x0, x1", dp1(true, 3, 1, 0), 0xdac0_0c20),
            ("clz w0, w1", dp1(false, 4, 1, 0), 0x5ac0_1020),
            ("cls x0, x1", dp1(true, 5, 1, 0), 0xdac0_1420),
            (
                "madd x0, x1, x2, x3",
                dp3(true, 0, 0, 2, 3, 1, 0),
                0x9b02_0c20
            ),
            (
                "msub w0, w1, w2, w3",
                dp3(false, 0, 1, 2, 3, 1, 0),
                0x1b02_8c20
            ),
            (
                "smaddl x0, w1, w2, x3",
                dp3(true, 1, 0, 2, 3, 1, 0),
                0x9b22_0c20
            ),
            (
                "umsubl x0, w1, w2, x3",
                dp3(true, 5, 1, 2, 3, 1, 0),
                0x9ba2_8c20
            ),
            (
                "smulh x0, x1, x2",
                dp3(true, 2, 0, 2, 31, 1, 0),
                0x9b42_7c20
            ),
            (
                "umulh x0, x1, x2",
                dp3(true, 6, 0, 2, 31, 1, 0),
                0x9bc2_7c20
            ),
            ("adr x0, #-4", adr(0, -4), 0x10ff_ffe0),
            ("adrp x1, #8192", adrp(1, 2), 0xd000_0001),
            ("b #-8", b(-8), 0x17ff_fffe),
            ("bl #0x100", bl(0x100), 0x9400_0040),
            ("b.ne #-12", b_cond(1, -12), 0x54ff_ffa1),
            ("cbz w3, #16", cbz(false, false, 3, 16), 0x3400_0083),
            ("cbnz x4, #-4", cbz(true, true, 4, -4), 0xb5ff_ffe4),
            ("tbz x5, #33, #8", tbz(false, 5, 33, 8), 0xb608_0045),
            ("tbnz w6, #3, #-16", tbz(true, 6, 3, -16), 0x371f_ff86),
            ("br x17", br(17), 0xd61f_0220),
            ("blr x2", blr(2), 0xd63f_0040),
            ("ret x5", ret(5), 0xd65f_00a0),
            ("svc #0x12", svc(0x12), 0xd400_0241),
            ("hvc #0", hvc(0), 0xd400_0002),
            ("smc #1", smc(1), 0xd400_0023),
            ("brk #0x3e8", brk(0x3e8), 0xd420_7d00),
            ("mrs x0, nzcv", mrs(0, sysreg::NZCV), 0xd53b_4200),
            ("msr vbar_el1, x1", msr(sysreg::VBAR_EL1, 1), 0xd518_c001),
            ("mrs x2, currentel", mrs(2, sysreg::CURRENT_EL), 0xd538_4242),
            ("msr daifset, #2", msr_daifset(2), 0xd503_42df),
            ("msr daifclr, #0xf", msr_daifclr(15), 0xd503_4fff),
            ("msr spsel, #0", msr_spsel(0), 0xd500_40bf),
            ("dc zva, x3", sys(3, 7, 4, 1, 3), 0xd50b_7423),
            ("ic iallu", sys(0, 7, 5, 0, 31), 0xd508_751f),
            ("tlbi vmalle1", sys(0, 8, 7, 0, 31), 0xd508_871f),
            ("ldr x0, [x1, #8]", ldr_imm(true, 0, 1, 8), 0xf940_0420),
            (
                "str w2, [sp, #4092]",
                str_imm(false, 2, 31, 4092),
                0xb90f_ffe2
            ),
            (
                "ldrb w0, [x1, #4095]",
                ldst_uimm(0, false, 1, 4095, 1, 0),
                0x397f_fc20
            ),
            (
                "ldrsh x0, [x1, #2]",
                ldst_uimm(1, false, 2, 1, 1, 0),
                0x7980_0420
            ),
            (
                "ldrsw x0, [x1]",
                ldst_uimm(2, false, 2, 0, 1, 0),
                0xb980_0020
            ),
            (
                "ldrsb w0, [x1]",
                ldst_uimm(0, false, 3, 0, 1, 0),
                0x39c0_0020
            ),
            (
                "prfm pldl1keep, [x1]",
                ldst_uimm(3, false, 2, 0, 1, 0),
                0xf980_0020
            ),
            (
                "ldur x0, [x1, #-1]",
                ldst_imm9(3, false, 1, -1, 0, 1, 0),
                0xf85f_f020
            ),
            (
                "ldr x0, [x1], #-256",
                ldst_imm9(3, false, 1, -256, 1, 1, 0),
                0xf850_0420
            ),
            (
                "strb w0, [x1, #255]!",
                ldst_imm9(0, false, 0, 255, 3, 1, 0),
                0x380f_fc20
            ),
            (
                "ldtr x0, [x1, #8]",
                ldst_imm9(3, false, 1, 8, 2, 1, 0),
                0xf840_8820
            ),
            (
                "ldr x0, [x1, x2, lsl #3]",
                ldst_reg(3, false, 1, 2, 3, true, 1, 0),
                0xf862_7820
            ),
            (
                "strh w0, [x1, w2, sxtw]",
                ldst_reg(1, false, 0, 2, 6, false, 1, 0),
                0x7822_c820
            ),
            (
                "ldr w0, [x1, w2, uxtw #2]",
                ldst_reg(2, false, 1, 2, 2, true, 1, 0),
                0xb862_5820
            ),
            ("ldr x0, #-8", ldr_lit(1, false, -8, 0), 0x58ff_ffc0),
            ("ldrsw x1, #12", ldr_lit(2, false, 12, 1), 0x9800_0061),
            (
                "stp x29, x30, [sp, #-16]!",
                ldst_pair(2, false, 3, false, -2, 30, 31, 29),
                0xa9bf_7bfd
            ),
            (
                "ldp x29, x30, [sp], #16",
                ldst_pair(2, false, 1, true, 2, 30, 31, 29),
                0xa8c1_7bfd
            ),
            (
                "ldp w0, w1, [x2, #8]",
                ldst_pair(0, false, 2, true, 2, 1, 2, 0),
                0x2941_0440
            ),
            (
                "ldpsw x0, x1, [x2, #-4]",
                ldst_pair(1, false, 2, true, -1, 1, 2, 0),
                0x697f_8440
            ),
            (
                "stnp x0, x1, [x2]",
                ldst_pair(2, false, 0, false, 0, 1, 2, 0),
                0xa800_0440
            ),
            (
                "ldxr w0, [x1]",
                ldst_excl(2, 0, 1, 0, 31, 0, 31, 1, 0),
                0x885f_7c20
            ),
            (
                "ldaxr x0, [x1]",
                ldst_excl(3, 0, 1, 0, 31, 1, 31, 1, 0),
                0xc85f_fc20
            ),
            (
                "stxr w2, x3, [x4]",
                ldst_excl(3, 0, 0, 0, 2, 0, 31, 4, 3),
                0xc802_7c83
            ),
            (
                "stlxrb w2, w3, [x4]",
                ldst_excl(0, 0, 0, 0, 2, 1, 31, 4, 3),
                0x0802_fc83
            ),
            (
                "ldxp x0, x1, [x2]",
                ldst_excl(3, 0, 1, 1, 31, 0, 1, 2, 0),
                0xc87f_0440
            ),
            (
                "stxp w5, w0, w1, [x2]",
                ldst_excl(2, 0, 0, 1, 5, 0, 1, 2, 0),
                0x8825_0440
            ),
            (
                "ldar x0, [x1]",
                ldst_excl(3, 1, 1, 0, 31, 1, 31, 1, 0),
                0xc8df_fc20
            ),
            (
                "stlrh w0, [x1]",
                ldst_excl(1, 1, 0, 0, 31, 1, 31, 1, 0),
                0x489f_fc20
            ),
            ("nop", NOP, 0xd503_201f),
            ("ret", RET, 0xd65f_03c0),
            ("eret", ERET, 0xd69f_03e0),
            ("wfi", WFI, 0xd503_207f),
            ("wfe", WFE, 0xd503_205f),
            ("isb", ISB, 0xd503_3fdf),
            ("dsb sy", DSB_SY, 0xd503_3f9f),
            ("dmb ish", DMB_ISH, 0xd503_3bbf),
            ("clrex", CLREX, 0xd503_3f5f),
            ("fmul d3, d1, d2", fp_dp2(1, 0, 2, 1, 3), 0x1e62_0823),
            ("fdiv s3, s1, s2", fp_dp2(0, 1, 2, 1, 3), 0x1e22_1823),
            ("fadd d19, d18, d17", fp_dp2(1, 2, 17, 18, 19), 0x1e71_2a53),
            ("fsub s0, s31, s7", fp_dp2(0, 3, 7, 31, 0), 0x1e27_3be0),
            ("fmax d1, d2, d3", fp_dp2(1, 4, 3, 2, 1), 0x1e63_4841),
            ("fmin s1, s2, s3", fp_dp2(0, 5, 3, 2, 1), 0x1e23_5841),
            ("fmaxnm d1, d2, d3", fp_dp2(1, 6, 3, 2, 1), 0x1e63_6841),
            ("fminnm s1, s2, s3", fp_dp2(0, 7, 3, 2, 1), 0x1e23_7841),
            ("fcmp d19, d3", fcmp(1, 3, 19, false, false), 0x1e63_2260),
            ("fcmpe s1, s2", fcmp(0, 2, 1, false, true), 0x1e22_2030),
            ("fcmp d1, #0.0", fcmp(1, 9, 1, true, false), 0x1e60_2028),
            ("fcmpe s4, #0.0", fcmp(0, 0, 4, true, true), 0x1e20_2098),
            ("fmov d4, x11", fmov_gp(true, true, 11, 4), 0x9e67_0164),
            ("fmov d1, d2", fp_dp1(1, 0, 2, 1), 0x1e60_4041),
            ("fabs s3, s4", fp_dp1(0, 1, 4, 3), 0x1e20_c083),
            ("fneg d5, d6", fp_dp1(1, 2, 6, 5), 0x1e61_40c5),
            ("fcvt d1, s2", fp_dp1(0, 5, 2, 1), 0x1e22_c041),
            ("fcvt s1, d2", fp_dp1(1, 4, 2, 1), 0x1e62_4041),
            ("fsqrt d1, d2", fp_dp1(1, 3, 2, 1), 0x1e61_c041),
            ("fsqrt s3, s4", fp_dp1(0, 3, 4, 3), 0x1e21_c083),
            (
                "fabs v1.4s, v2.4s",
                vfabs(true, false, 0, 2, 1),
                0x4ea0_f841
            ),
            ("fneg v1.2d, v2.2d", vfabs(true, true, 1, 2, 1), 0x6ee0_f841),
            (
                "fneg v3.2s, v4.2s",
                vfabs(false, true, 0, 4, 3),
                0x2ea0_f883
            ),
            ("fmov d7, #-1.25", fmov_imm(1, 0xf4, 7), 0x1e7e_9007),
            ("fcsel d1, d2, d3, lt", fcsel(1, 3, LT, 2, 1), 0x1e63_bc41),
            ("scvtf d1, x2", scvtf(true, 1, false, 2, 1), 0x9e62_0041),
            (
                "fadd v1.4s, v2.4s, v3.4s",
                vfp3(true, 0, 0, 3, 2, 1),
                0x4e23_d441
            ),
            (
                "fsub v1.2d, v2.2d, v3.2d",
                vfp3(true, 1, 1, 3, 2, 1),
                0x4ee3_d441
            ),
            (
                "fmul v1.2s, v2.2s, v3.2s",
                vfp3(false, 2, 0, 3, 2, 1),
                0x2e23_dc41
            ),
            (
                "fdiv v1.2d, v2.2d, v3.2d",
                vfp3(true, 3, 1, 3, 2, 1),
                0x6e63_fc41
            ),
            ("scvtf s1, w2", scvtf(false, 0, false, 2, 1), 0x1e22_0041),
            ("ucvtf d3, w4", scvtf(false, 1, true, 4, 3), 0x1e63_0083),
            ("ucvtf s3, x4", scvtf(true, 0, true, 4, 3), 0x9e23_0083),
            ("fcvtzs x5, d6", fcvtzs(true, 1, 6, 5), 0x9e78_00c5),
            ("fcvtzs w5, s6", fcvtzs(false, 0, 6, 5), 0x1e38_00c5),
            ("fcvtzs w7, d8", fcvtzs(false, 1, 8, 7), 0x1e78_0107),
            ("fcsel s1, s2, s3, eq", fcsel(0, 3, EQ, 2, 1), 0x1e23_0c41),
            ("fmov s1, w2", fmov_gp(false, true, 2, 1), 0x1e27_0041),
            ("fmov x3, d30", fmov_gp(true, false, 30, 3), 0x9e66_03c3),
            ("fmov w5, s6", fmov_gp(false, false, 6, 5), 0x1e26_00c5),
            (
                "and v1.16b, v2.16b, v3.16b",
                vthree(true, false, 0, 3, 3, 2, 1),
                0x4e23_1c41
            ),
            (
                "bic v1.8b, v2.8b, v3.8b",
                vthree(false, false, 1, 3, 3, 2, 1),
                0x0e63_1c41
            ),
            (
                "orn v4.8b, v5.8b, v6.8b",
                vthree(false, false, 3, 3, 6, 5, 4),
                0x0ee6_1ca4
            ),
            (
                "eor v7.16b, v8.16b, v9.16b",
                vthree(true, true, 0, 3, 9, 8, 7),
                0x6e29_1d07
            ),
            (
                "add v1.4s, v2.4s, v3.4s",
                vthree(true, false, 2, 16, 3, 2, 1),
                0x4ea3_8441
            ),
            (
                "sub v1.8h, v2.8h, v3.8h",
                vthree(true, true, 1, 16, 3, 2, 1),
                0x6e63_8441
            ),
            (
                "cmeq v1.16b, v2.16b, v3.16b",
                vthree(true, true, 0, 17, 3, 2, 1),
                0x6e23_8c41
            ),
            ("cmeq v1.4s, v2.4s, #0", vcmeq0(true, 2, 2, 1), 0x4ea0_9841),
            ("cmeq v1.4h, v2.4h, #0", vcmeq0(false, 1, 2, 1), 0x0e60_9841),
            (
                "ext v1.16b, v2.16b, v3.16b, #8",
                ext(true, 3, 8, 2, 1),
                0x6e03_4041
            ),
            (
                "ext v1.8b, v2.8b, v3.8b, #3",
                ext(false, 3, 3, 2, 1),
                0x2e03_1841
            ),
            (
                "dup v2.4s, w12",
                simd_copy(true, false, 4, 1, 12, 2),
                0x4e04_0d82
            ),
            (
                "dup v2.8b, w12",
                simd_copy(false, false, 1, 1, 12, 2),
                0x0e01_0d82
            ),
            (
                "umov w1, v2.b[5]",
                simd_copy(false, false, 0b01011, 7, 2, 1),
                0x0e0b_3c41
            ),
            (
                "smov x1, v2.h[3]",
                simd_copy(true, false, 0b01110, 5, 2, 1),
                0x4e0e_2c41
            ),
            (
                "mov x1, v2.d[1]",
                simd_copy(true, false, 0b11000, 7, 2, 1),
                0x4e18_3c41
            ),
            ("fmov x3, v4.d[1]", fmov_gp_hi(false, 4, 3), 0x9eae_0083),
            ("fmov v4.d[1], x3", fmov_gp_hi(true, 3, 4), 0x9eaf_0064),
            (
                "mov v1.b[3], v2.b[7]",
                simd_copy(true, true, 7, 7, 2, 1),
                0x6e07_3c41
            ),
            (
                "mov v1.s[1], v2.s[3]",
                simd_copy(true, true, 12, 12, 2, 1),
                0x6e0c_6441
            ),
            (
                "dup v3.8h, v4.h[5]",
                simd_copy(true, false, 22, 0, 4, 3),
                0x4e16_0483
            ),
            ("mov b3, v1.b[2]", dup_scalar(5, 1, 3), 0x5e05_0423),
            ("mov d3, v1.d[1]", dup_scalar(24, 1, 3), 0x5e18_0423),
            (
                "mov v1.h[2], w5",
                simd_copy(true, false, 10, 3, 5, 1),
                0x4e0a_1ca1
            ),
            (
                "ldr q1, [x10, #32]",
                ldst_uimm(0, true, 3, 2, 10, 1),
                0x3dc0_0941
            ),
            (
                "str b2, [x11, #3]",
                ldst_uimm(0, true, 0, 3, 11, 2),
                0x3d00_0d62
            ),
            (
                "ldp q1, q2, [x12], #32",
                ldst_pair(2, true, 1, true, 2, 2, 12, 1),
                0xacc1_0981
            ),
            (
                "stp s1, s2, [x13, #-8]!",
                ldst_pair(0, true, 3, false, -2, 2, 13, 1),
                0x2dbf_09a1
            ),
            (
                "ldur d4, [x11, #-3]",
                ldst_imm9(3, true, 1, -3, 0, 11, 4),
                0xfc5f_d164
            ),
        ]
    }

    #[test]
    fn encoder_matches_llvm_mc() {
        for (text, ours, llvm) in table() {
            assert_eq!(
                ours, llvm,
                "{text}: ours {ours:#010x}, llvm-mc {llvm:#010x}"
            );
        }
    }

    #[test]
    fn every_assembled_instruction_decodes() {
        for (text, _, llvm) in table() {
            assert_ne!(decode(llvm), Insn::Undefined, "{text} ({llvm:#010x})");
        }
    }
}
