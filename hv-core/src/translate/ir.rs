//! The block IR: a translated basic block is the run of decoded
//! instructions from an entry address up to the first block-ending
//! instruction (a branch, an exception-generating or state-changing system
//! instruction, or an undefined encoding), a size limit, or the end of the
//! 4 KiB page, whichever comes first. A block never spans two pages, so it
//! is invalidated by writes to one page only.
//!
//! Each op carries `flags`: whether the NZCV value it produces is live, i.e.
//! read by a later op of the block before being overwritten, or possibly
//! observed outside the block (at the block end, or by an op that may raise
//! an exception and so save PSTATE). The interpreter skips the flag
//! computation of ops whose flags are dead.

use alloc::vec::Vec;

use super::bus::{CpuBus, Fault};
use super::decode::{decode, Insn};

/// Size of the page a block must stay within.
pub const PAGE_SIZE: u64 = 4096;

/// One IR op: a decoded instruction plus its flag liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The instruction.
    pub insn: Insn,
    /// For flag-setting instructions: whether their NZCV result is live.
    /// Always `false` for instructions that do not set flags.
    pub flags: bool,
}

/// A translated block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Guest physical address of the first instruction.
    pub pa: u64,
    /// The ops, one per guest instruction, in order.
    pub ops: Vec<Op>,
}

impl Block {
    /// Build a block from instruction words starting at `pa`: decode up to
    /// `max_insns` words (at least one), stopping after a block-ending
    /// instruction or at the page end, then compute flag liveness.
    pub fn from_words(pa: u64, words: &[u32], max_insns: usize) -> Block {
        let mut ops = Vec::new();
        let room = page_room(pa);
        for &w in words.iter().take(max_insns.max(1).min(room)) {
            let insn = decode(w);
            ops.push(Op { insn, flags: false });
            if insn.ends_block() {
                break;
            }
        }
        compute_flag_liveness(&mut ops);
        Block { pa, ops }
    }

    /// The physical address just past the block's last instruction.
    pub fn end(&self) -> u64 {
        self.pa + 4 * self.ops.len() as u64
    }

    /// Translate the block at physical address `pa`, fetching through
    /// `bus`. The first fetch's fault is returned; a later fetch fault ends
    /// the block before that instruction (its fault is raised when execution
    /// reaches it).
    pub fn translate<B: CpuBus + ?Sized>(
        bus: &mut B,
        pa: u64,
        max_insns: usize,
    ) -> Result<Block, Fault> {
        let limit = max_insns.max(1).min(page_room(pa));
        let mut ops = Vec::new();
        let mut addr = pa;
        for i in 0..limit {
            let w = match bus.fetch_word(addr) {
                Ok(w) => w,
                Err(f) if i == 0 => return Err(f),
                Err(_) => break,
            };
            let insn = decode(w);
            ops.push(Op { insn, flags: false });
            if insn.ends_block() {
                break;
            }
            addr = addr.wrapping_add(4);
        }
        compute_flag_liveness(&mut ops);
        Ok(Block { pa, ops })
    }

    /// Number of guest instructions.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the block is empty (never for a translated block).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Instructions that fit between `pa` and the end of its page.
fn page_room(pa: u64) -> usize {
    // At most 1024, so the cast cannot truncate.
    ((PAGE_SIZE - (pa & (PAGE_SIZE - 1))) / 4) as usize
}

/// Backward liveness pass over one block: NZCV is live at the block end;
/// an op that reads flags (explicitly, or by possibly leaving the block or
/// raising an exception) makes them live before it; an op that writes them
/// all (every flag-setting A64 instruction writes all four) kills them.
pub fn compute_flag_liveness(ops: &mut [Op]) {
    let mut live = true;
    for op in ops.iter_mut().rev() {
        let writes = op.insn.writes_flags();
        op.flags = writes && live;
        if writes {
            live = false;
        }
        if op.insn.reads_flags() {
            live = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::asm;
    use super::*;

    #[test]
    fn flags_of_overwritten_compares_are_dead() {
        let words = [
            asm::subs_imm(true, 1, 1, 1), // dead: overwritten by the cmp below
            asm::adds_imm(true, 2, 2, 3), // dead
            asm::cmp_imm(true, 1, 0),     // live: read by b.ne
            asm::b_cond(asm::NE, -12),
        ];
        let b = Block::from_words(0x4000_0000, &words, 64);
        assert_eq!(b.len(), 4);
        let flags: Vec<bool> = b.ops.iter().map(|o| o.flags).collect();
        assert_eq!(flags, [false, false, true, false]);
    }

    #[test]
    fn a_possible_fault_keeps_flags_live() {
        let words = [
            asm::subs_imm(true, 1, 1, 1), // live: the load may fault
            asm::ldr_imm(true, 3, 4, 0),
            asm::cmp_imm(true, 1, 0), // live at the block end (size limit)
        ];
        let b = Block::from_words(0x4000_0000, &words, 3);
        let flags: Vec<bool> = b.ops.iter().map(|o| o.flags).collect();
        assert_eq!(flags, [true, false, true]);
    }

    #[test]
    fn blocks_stop_at_branches_limits_and_page_ends() {
        let nop = asm::NOP;
        let words = [nop, nop, asm::b(8), nop];
        assert_eq!(Block::from_words(0x4000_0000, &words, 64).len(), 3);
        assert_eq!(Block::from_words(0x4000_0000, &words, 2).len(), 2);
        // Two instructions left in the page.
        assert_eq!(Block::from_words(0x4000_0ff8, &[nop; 8], 64).len(), 2);
    }
}
