//! Advanced SIMD structure loads and stores: LD1-LD4/ST1-ST4 (multiple
//! structures), LD1-LD4/ST1-ST4 (single structure, one lane) and
//! LD1R-LD4R, each with no offset, post-index by the transfer size
//! (`Rm` = 31) or post-index by `Xm`.
//!
//! Semantics follow the Arm ARM pseudocode (`LD1 (multiple structures)`
//! etc.); where it leaves a choice — which elements of the destination
//! registers a fault part-way leaves written — this follows QEMU: elements
//! are transferred in the pseudocode's order and written to the register
//! file as they arrive (LD1/ST1 of whole registers move 8 bytes at a time,
//! as QEMU's promoted little-endian accesses do), the upper half of a
//! 64-bit (Q = 0) destination is cleared only once every element arrived,
//! and the base register is written back only if nothing faulted.

use super::lanes::{lane, qmask, set_lane};
use super::{FpInsn, Post};
use crate::translate::bus::CpuBus;
use crate::translate::decode::SP;
use crate::translate::interp::{Cpu, Flow};

#[inline]
const fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}
#[inline]
const fn bit(w: u32, b: u32) -> bool {
    (w >> b) & 1 != 0
}

/// Decode the Advanced SIMD load/store structure groups: `0 Q 0011 0 0 ...`
/// (multiple) and `0 Q 0011 0 1 ...` (single). The caller has checked bits
/// 29:27 = 001 and V (bit 26) = 1 of the load/store group; anything else
/// there is unallocated.
pub fn decode(w: u32) -> Option<FpInsn> {
    if bit(w, 31) || bits(w, 29, 25) != 0b00110 {
        return None;
    }
    let q = bit(w, 30);
    let load = bit(w, 22);
    let rm = bits(w, 20, 16) as u8;
    let post = match (bit(w, 23), rm) {
        (false, 0) => Post::None,
        (false, _) => return None,
        (true, 31) => Post::Imm,
        (true, m) => Post::Reg(m),
    };
    let rt = bits(w, 4, 0) as u8;
    let rn = match bits(w, 9, 5) as u8 {
        31 => SP,
        n => n,
    };
    let size = bits(w, 11, 10) as u8;
    if !bit(w, 24) {
        // Multiple structures: 0 Q 0011000 L 000000 opcode size Rn Rt, or
        // 0 Q 0011001 L 0 Rm opcode size Rn Rt.
        if bit(w, 21) {
            return None;
        }
        let (rpt, selem) = match bits(w, 15, 12) {
            0b0000 => (1, 4),
            0b0010 => (4, 1),
            0b0100 => (1, 3),
            0b0110 => (3, 1),
            0b0111 => (1, 1),
            0b1000 => (1, 2),
            0b1010 => (2, 1),
            _ => return None,
        };
        // The .1D arrangement only exists for LD1/ST1.
        if size == 3 && !q && selem != 1 {
            return None;
        }
        return Some(FpInsn::LdStMulti {
            q,
            load,
            rpt,
            selem,
            size,
            rt,
            rn,
            post,
        });
    }
    // Single structure: 0 Q 0011010 L R 00000 opcode S size Rn Rt, or
    // 0 Q 0011011 L R Rm opcode S size Rn Rt.
    let opcode = bits(w, 15, 13);
    let s = bits(w, 12, 12) as u8;
    let selem = (((opcode & 1) << 1) | bits(w, 21, 21)) as u8 + 1;
    let qb = u8::from(q);
    let (scale, index, replicate) = match opcode >> 1 {
        3 => {
            if !load || s != 0 {
                return None;
            }
            (size, 0, true)
        }
        0 => (0, (qb << 3) | (s << 2) | size, false),
        1 => {
            if size & 1 != 0 {
                return None;
            }
            (1, (qb << 2) | (s << 1) | (size >> 1), false)
        }
        _ => {
            if size & 2 != 0 {
                return None;
            }
            if size == 0 {
                (2, (qb << 1) | s, false)
            } else if s != 0 {
                return None;
            } else {
                (3, qb, false)
            }
        }
    };
    Some(FpInsn::LdStSingle {
        q,
        load,
        replicate,
        selem,
        size: scale,
        index,
        rt,
        rn,
        post,
    })
}

impl Cpu {
    /// Execute an [`FpInsn::LdStMulti`] or [`FpInsn::LdStSingle`]; the
    /// caller has done the CPACR check.
    pub(in crate::translate) fn simd_ldst<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        pc: u64,
        f: &FpInsn,
    ) -> Flow {
        match *f {
            FpInsn::LdStMulti {
                q,
                load,
                rpt,
                selem,
                size,
                rt,
                rn,
                post,
            } => self.ldst_multi(bus, pc, q, load, rpt, selem, size, rt, rn, post),
            FpInsn::LdStSingle {
                q,
                load,
                replicate,
                selem,
                size,
                index,
                rt,
                rn,
                post,
            } => self.ldst_single(
                bus, pc, q, load, replicate, selem, size, index, rt, rn, post,
            ),
            _ => self.undefined(pc),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn ldst_multi<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        pc: u64,
        q: bool,
        load: bool,
        rpt: u8,
        selem: u8,
        size: u8,
        rt: u8,
        rn: u8,
        post: Post,
    ) -> Flow {
        let base = self.x(rn);
        let el = self.el();
        // Device memory (MMU off) and SCTLR_EL1.A check the element size.
        let align = self.align_for(size);
        let nregs = usize::from(rpt * selem);
        let dbytes: u64 = if q { 16 } else { 8 };
        let total = nregs as u64 * dbytes;
        let reg = |k: usize| (rt + k as u8) % 32;
        let mut regs = [0u128; 4];
        for (k, r) in regs.iter_mut().enumerate().take(nregs) {
            *r = self.v(reg(k));
        }
        if selem == 1 {
            // Consecutive whole registers, 8 bytes at a time.
            let per = dbytes / 8;
            for c in 0..total / 8 {
                let va = base.wrapping_add(c * 8);
                let k = (c / per) as usize;
                let sh = 64 * (c % per) as u32;
                if load {
                    match self.load(bus, va, 3, el, align) {
                        Ok(v) => {
                            regs[k] = (regs[k] & !(u128::from(u64::MAX) << sh)) | (v << sh);
                        }
                        Err(e) => {
                            for (k, r) in regs.iter().enumerate().take(nregs) {
                                self.set_v(reg(k), *r);
                            }
                            return self.data_abort(e.1, e.0, false, pc);
                        }
                    }
                } else if let Err(e) = self.store(
                    bus,
                    va,
                    3,
                    (regs[k] >> sh) & u128::from(u64::MAX),
                    el,
                    align,
                ) {
                    return self.data_abort(e.1, e.0, true, pc);
                }
            }
        } else {
            // Interleaved structures: element i of the transfer (register
            // i % selem, lane i / selem) is at base + i * ebytes, so memory
            // is accessed in ascending order. Fast path: move the whole
            // transfer 8 bytes at a time (8 is a multiple of the element
            // size, so a chunk holds whole elements and is aligned to the
            // element size iff the base is); from the first chunk that
            // faults on, go element by element, so the elements before the
            // faulting one are transferred and the fault names its address,
            // as with per-element accesses.
            let es = 8u32 << size;
            let ebytes = 1u64 << size;
            let sel = u32::from(selem);
            let nelems = (total >> size) as u32;
            let per_chunk = 8 >> size;
            let elem = |buf: &[u64; 8], i: u32| -> u64 {
                let off = i << size;
                let m = if es == 64 { u64::MAX } else { (1 << es) - 1 };
                (buf[(off / 8) as usize] >> (8 * (off % 8))) & m
            };
            let mut buf = [0u64; 8];
            let chunks = (total / 8) as u32;
            let mut done = chunks;
            if load {
                for c in 0..chunks {
                    match self.load(bus, base.wrapping_add(u64::from(c) * 8), 3, el, align) {
                        Ok(v) => buf[c as usize] = v as u64,
                        Err(_) => {
                            done = c;
                            break;
                        }
                    }
                }
                for i in 0..done * per_chunk {
                    set_lane(&mut regs[(i % sel) as usize], es, i / sel, elem(&buf, i));
                }
            } else {
                for i in 0..nelems {
                    let x = lane(regs[(i % sel) as usize], es, i / sel);
                    let off = i << size;
                    buf[(off / 8) as usize] |= x << (8 * (off % 8));
                }
                for c in 0..chunks {
                    let va = base.wrapping_add(u64::from(c) * 8);
                    if self
                        .store(bus, va, 3, u128::from(buf[c as usize]), el, align)
                        .is_err()
                    {
                        done = c;
                        break;
                    }
                }
            }
            for i in done * per_chunk..nelems {
                let va = base.wrapping_add(u64::from(i) * ebytes);
                let (k, e) = ((i % sel) as usize, i / sel);
                if load {
                    match self.load(bus, va, size, el, align) {
                        Ok(v) => set_lane(&mut regs[k], es, e, v as u64),
                        Err(f) => {
                            for (k, r) in regs.iter().enumerate().take(nregs) {
                                self.set_v(reg(k), *r);
                            }
                            return self.data_abort(f.1, f.0, false, pc);
                        }
                    }
                } else if let Err(f) =
                    self.store(bus, va, size, u128::from(lane(regs[k], es, e)), el, align)
                {
                    return self.data_abort(f.1, f.0, true, pc);
                }
            }
        }
        if load {
            for (k, r) in regs.iter().enumerate().take(nregs) {
                self.set_v(reg(k), qmask(q, *r));
            }
        }
        self.simd_writeback(rn, base, total, post);
        Flow::Next
    }

    #[allow(clippy::too_many_arguments)]
    fn ldst_single<B: CpuBus + ?Sized>(
        &mut self,
        bus: &mut B,
        pc: u64,
        q: bool,
        load: bool,
        replicate: bool,
        selem: u8,
        size: u8,
        index: u8,
        rt: u8,
        rn: u8,
        post: Post,
    ) -> Flow {
        let base = self.x(rn);
        let el = self.el();
        let align = self.align_for(size);
        let es = 8u32 << size;
        let ebytes = 1u64 << size;
        for s in 0..selem {
            let t = (rt + s) % 32;
            let va = base.wrapping_add(u64::from(s) * ebytes);
            if load {
                let x = match self.load(bus, va, size, el, align) {
                    Ok(v) => v as u64,
                    Err(f) => return self.data_abort(f.1, f.0, false, pc),
                };
                let r = if replicate {
                    let mut r = u128::from(x);
                    let mut w = es;
                    while w < 128 {
                        r |= r << w;
                        w *= 2;
                    }
                    qmask(q, r)
                } else {
                    let mut r = self.v(t);
                    set_lane(&mut r, es, u32::from(index), x);
                    r
                };
                self.set_v(t, r);
            } else {
                let x = lane(self.v(t), es, u32::from(index));
                if let Err(f) = self.store(bus, va, size, u128::from(x), el, align) {
                    return self.data_abort(f.1, f.0, true, pc);
                }
            }
        }
        self.simd_writeback(rn, base, u64::from(selem) * ebytes, post);
        Flow::Next
    }

    #[inline]
    fn simd_writeback(&mut self, rn: u8, base: u64, size: u64, post: Post) {
        match post {
            Post::None => {}
            Post::Imm => self.set_x(rn, base.wrapping_add(size)),
            Post::Reg(m) => self.set_x(rn, base.wrapping_add(self.x(m))),
        }
    }
}
