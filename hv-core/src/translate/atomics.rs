//! ARMv8.1 Large System Extensions (FEAT_LSE): the single-copy atomic
//! read-modify-write instructions — CAS, CASP, SWP and the `LD<op>` family
//! (LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX, LDUMIN; `ST<op>` is
//! `LD<op>` with Rt = ZR) in every size and ordering (plain, A, L, AL).
//!
//! Decoding: [`decode_cas`] for the CAS/CASP slots of the load/store
//! exclusive group, [`decode_amo`] for the "atomic memory operations" slot
//! of the load/store register group. Both give one [`Insn::Atomic`].
//!
//! Execution (`Cpu::atomic`, the Arm ARM's `MemAtomic` and
//! `MemAtomicCompareAndSwap`):
//!
//! * The address must be aligned to the access size (the pair's total for
//!   CASP) whatever SCTLR_EL1.A says; otherwise an Alignment fault (FEAT_LSE2
//!   is not implemented). The fault is reported as a read (WnR = 0), as the
//!   Arm ARM reports an atomic's fault that a read of the location would
//!   also take.
//! * The location is read, the new value computed and written back. A read
//!   fault reports WnR = 0, a write fault (e.g. a read-only page) WnR = 1,
//!   and no register changes. A CAS whose comparison fails writes nothing.
//! * Orderings (acquire/release) need no action: this CPU performs its
//!   accesses in program order and hv-sim runs a single vCPU.
//! * Exclusive monitor: the Arm ARM clears *other* PEs' global monitors for
//!   the location; this CPU's own monitor is the value-based one of LDXR
//!   (see `interp`), so an atomic that changes the data makes a pending
//!   STXR fail, as any store does.
//! * Atomicity: the read and the write are two bus accesses. That is
//!   atomic as long as one thread runs guest code on the memory (hv-sim
//!   today: one vCPU); an SMP home needs a read-modify-write bus operation.

use super::bus::CpuBus;
use super::bus::Fault;
use super::decode::{Insn, SP};
use super::interp::{Cpu, Flow};

/// The operation of an atomic instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmoOp {
    /// LDADD: mem += Rs.
    Add,
    /// LDCLR: mem &= !Rs.
    Clr,
    /// LDEOR: mem ^= Rs.
    Eor,
    /// LDSET: mem |= Rs.
    Set,
    /// LDSMAX: signed maximum.
    Smax,
    /// LDSMIN: signed minimum.
    Smin,
    /// LDUMAX: unsigned maximum.
    Umax,
    /// LDUMIN: unsigned minimum.
    Umin,
    /// SWP: mem = Rs.
    Swp,
    /// CAS: if mem == Rs { mem = Rt }; Rs = old.
    Cas,
    /// CASP: the same on the register pairs Rs:Rs+1 and Rt:Rt+1.
    Casp,
}

/// A decoded LSE atomic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtomicOp {
    /// What it does.
    pub op: AmoOp,
    /// log2 of the access size (of one register of the pair for CASP).
    pub size_log2: u8,
    /// Acquire semantics (the A forms).
    pub acquire: bool,
    /// Release semantics (the L forms).
    pub release: bool,
    /// Rs: the operand (`LD<op>`, SWP) or compare value (CAS, CASP).
    pub rs: u8,
    /// Rt: the old value (`LD<op>`, SWP) or new value (CAS, CASP).
    pub rt: u8,
    /// Base register (32 = SP).
    pub rn: u8,
}

#[inline]
const fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

#[inline]
const fn bit(w: u32, b: u32) -> bool {
    (w >> b) & 1 != 0
}

/// The base register field: 31 is SP.
#[inline]
const fn base(w: u32) -> u8 {
    let r = bits(w, 9, 5) as u8;
    if r == 31 {
        SP
    } else {
        r
    }
}

/// CAS/CASP: `size 001000 o2 L o1 Rs o0 Rt2 Rn Rt` with o1 = 1 and either
/// o2 = 1 (CAS, any size) or o2 = 0 with size 0x (CASP, `sz` = bit 30).
/// Rt2 must be 11111: other values are CONSTRAINED UNPREDICTABLE and
/// UNDEFINED here, as LLVM and QEMU treat them. CASP needs even Rs and Rt,
/// else UNDEFINED.
pub fn decode_cas(w: u32) -> Insn {
    let size = bits(w, 31, 30);
    let o2 = bit(w, 23);
    let acquire = bit(w, 22);
    let release = bit(w, 15);
    let rs = bits(w, 20, 16) as u8;
    let rt = bits(w, 4, 0) as u8;
    if bits(w, 14, 10) != 0b11111 {
        return Insn::Undefined;
    }
    let (op, size_log2) = match (o2, size) {
        (true, s) => (AmoOp::Cas, s as u8),
        (false, 0) => (AmoOp::Casp, 2),
        (false, 1) => (AmoOp::Casp, 3),
        _ => return Insn::Undefined,
    };
    if op == AmoOp::Casp && (rs & 1 != 0 || rt & 1 != 0) {
        return Insn::Undefined;
    }
    Insn::Atomic(AtomicOp {
        op,
        size_log2,
        acquire,
        release,
        rs,
        rt,
        rn: base(w),
    })
}

/// `LD<op>`/SWP: `size 111 V 00 A R 1 Rs o3 opc 00 Rn Rt` (the caller has
/// matched bits 29:27, 25:24, 21 and 11:10). V = 1, LDAPR (o3:opc = 1100,
/// FEAT_LRCPC) and the other o3 = 1 values are unallocated here.
pub fn decode_amo(w: u32) -> Insn {
    if bit(w, 26) {
        return Insn::Undefined;
    }
    let op = match (bit(w, 15), bits(w, 14, 12)) {
        (false, 0) => AmoOp::Add,
        (false, 1) => AmoOp::Clr,
        (false, 2) => AmoOp::Eor,
        (false, 3) => AmoOp::Set,
        (false, 4) => AmoOp::Smax,
        (false, 5) => AmoOp::Smin,
        (false, 6) => AmoOp::Umax,
        (false, 7) => AmoOp::Umin,
        (true, 0) => AmoOp::Swp,
        _ => return Insn::Undefined,
    };
    Insn::Atomic(AtomicOp {
        op,
        size_log2: bits(w, 31, 30) as u8,
        acquire: bit(w, 23),
        release: bit(w, 22),
        rs: bits(w, 20, 16) as u8,
        rt: bits(w, 4, 0) as u8,
        rn: base(w),
    })
}

/// The new memory value of an `LD<op>`/SWP on `bits`-bit data (both
/// operands already truncated to `bits`).
#[inline]
fn combine(op: AmoOp, old: u64, val: u64, bits: u32) -> u64 {
    let sx = |v: u64| -> i64 {
        let sh = 64 - bits;
        ((v << sh) as i64) >> sh
    };
    match op {
        AmoOp::Add => old.wrapping_add(val),
        AmoOp::Clr => old & !val,
        AmoOp::Eor => old ^ val,
        AmoOp::Set => old | val,
        AmoOp::Smax => {
            if sx(old) >= sx(val) {
                old
            } else {
                val
            }
        }
        AmoOp::Smin => {
            if sx(old) <= sx(val) {
                old
            } else {
                val
            }
        }
        AmoOp::Umax => old.max(val),
        AmoOp::Umin => old.min(val),
        AmoOp::Swp | AmoOp::Cas | AmoOp::Casp => val,
    }
}

impl Cpu {
    /// Execute an LSE atomic at `pc`.
    pub(super) fn atomic<B: CpuBus + ?Sized>(&mut self, bus: &mut B, pc: u64, a: AtomicOp) -> Flow {
        let esize = a.size_log2 & 3;
        let ebits = 8u32 << esize;
        let emask = if ebits == 64 {
            u64::MAX
        } else {
            (1u64 << ebits) - 1
        };
        let pair = a.op == AmoOp::Casp;
        let total_log2 = esize + u8::from(pair);
        let va = self.x(a.rn);
        if va & ((1u64 << total_log2) - 1) != 0 {
            return self.data_abort(va, Fault::ALIGNMENT, false, pc);
        }
        let el = self.el();
        // Operands before any register is written (Rs, Rt and Rn may alias).
        let s = self.x(a.rs) & emask;
        let t = self.x(a.rt) & emask;
        let (s2, t2) = if pair {
            (self.x(a.rs + 1) & emask, self.x(a.rt + 1) & emask)
        } else {
            (0, 0)
        };
        let old = match self.load(bus, va, total_log2, el, 1) {
            Ok(v) => v,
            Err(f) => return self.data_abort(f.1, f.0, false, pc),
        };
        let (lo, hi) = if pair {
            if esize == 3 {
                (old as u64, (old >> 64) as u64)
            } else {
                (old as u64 & emask, (old as u64) >> 32)
            }
        } else {
            (old as u64 & emask, 0)
        };
        let new = match a.op {
            AmoOp::Cas => (lo == s).then_some(u128::from(t)),
            AmoOp::Casp => {
                (lo == s && hi == s2).then_some(u128::from(t) | (u128::from(t2) << ebits))
            }
            op => Some(u128::from(combine(op, lo, s, ebits) & emask)),
        };
        if let Some(n) = new {
            if let Err(f) = self.store(bus, va, total_log2, n, el, 1) {
                return self.data_abort(f.1, f.0, true, pc);
            }
        }
        match a.op {
            AmoOp::Cas => self.set_x(a.rs, lo),
            AmoOp::Casp => {
                self.set_x(a.rs, lo);
                self.set_x(a.rs + 1, hi);
            }
            _ => self.set_x(a.rt, lo),
        }
        Flow::Next
    }
}

#[cfg(test)]
#[path = "atomics_tests.rs"]
mod tests;
