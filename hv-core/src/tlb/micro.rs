//! A direct-mapped micro-TLB for the front of a [`super::TwoLevelTlb`]:
//! one slot per index, no replacement state, no bounds check on the hit
//! path (the table is a power-of-two array indexed under a mask).
//!
//! Blocks are cached as the 4 KiB fragment that was looked up (the usual
//! hardware trick); each fragment remembers its block size so that an
//! invalidation by address drops every fragment of the block it names.

use super::{make_ctx, Invalidate, Tlb, TlbEntry, TlbHit, TlbKey, TlbStats};
use crate::paging::{Attrs, PageSize};

#[derive(Clone, Copy, Debug, Default)]
struct Frag {
    /// `page << 1 | 1`; 0 when empty.
    tag: u64,
    /// `vmid << 16 | asid` low, compare mask high (VMID only if global).
    ctx: u64,
    /// Output page | attrs (bits 0-5) | size code (bits 6-7).
    data: u64,
}

#[inline(always)]
fn size_of_code(code: u64) -> PageSize {
    match code & 3 {
        1 => PageSize::Size2M,
        2 => PageSize::Size1G,
        _ => PageSize::Size4K,
    }
}

/// Work the `perf-slowdown-test` feature adds to every hit: 16 rounds of
/// arithmetic the optimiser must keep (about 60 instructions), a known
/// slowdown for the performance gate to catch.
#[cfg(feature = "perf-slowdown-test")]
#[inline(always)]
fn injected_slowdown(page: u64) {
    let mut x = page;
    for i in 0..16 {
        x = core::hint::black_box(x.rotate_left(7) ^ i);
    }
}

/// A direct-mapped TLB of `N` 4 KiB fragments (`N` a power of two).
#[derive(Debug)]
pub struct MicroTlb<const N: usize> {
    frags: [Frag; N],
    /// Whether any fragment of a block is cached (by-address invalidation
    /// then has to look at every slot).
    has_blocks: bool,
    stats: TlbStats,
}

impl<const N: usize> Default for MicroTlb<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> MicroTlb<N> {
    const MASK: usize = {
        assert!(N.is_power_of_two(), "MicroTlb size must be a power of two");
        N - 1
    };

    /// An empty micro-TLB.
    pub fn new() -> Self {
        let _ = Self::MASK;
        MicroTlb {
            frags: [Frag::default(); N],
            has_blocks: false,
            stats: TlbStats::default(),
        }
    }

    fn drop_where(&mut self, mut f: impl FnMut(&Frag) -> bool) {
        for s in self.frags.iter_mut() {
            if s.tag != 0 && f(s) {
                *s = Frag::default();
                self.stats.invalidated += 1;
            }
        }
    }
}

impl<const N: usize> Tlb for MicroTlb<N> {
    #[inline(always)]
    fn lookup(&mut self, key: TlbKey) -> Option<TlbHit> {
        let page = key.va >> 12;
        // The mask keeps the index below N: no bounds check, no panic.
        let s = self.frags[(page as usize) & Self::MASK];
        let ctx = make_ctx(key.vmid, key.asid);
        if s.tag == (page << 1) | 1 && ((s.ctx as u32) ^ ctx) & ((s.ctx >> 32) as u32) == 0 {
            self.stats.hits += 1;
            #[cfg(feature = "perf-slowdown-test")]
            injected_slowdown(page);
            return Some(TlbHit {
                pa: (s.data & !0xfff) | (key.va & 0xfff),
                attrs: Attrs::from_bits_retain(s.data as u8 & 0x3f),
                size: size_of_code(s.data >> 6),
            });
        }
        self.stats.misses += 1;
        None
    }

    /// Caches the 4 KiB fragment of `e` that contains `e.va`.
    fn insert(&mut self, e: TlbEntry) {
        let page = e.va >> 12;
        let size_code = match e.size {
            PageSize::Size4K => 0u64,
            PageSize::Size2M => 1,
            PageSize::Size1G => 2,
        };
        let block_mask = e.size.bytes() - 1;
        let frag_pa = (e.pa & !block_mask) | (e.va & block_mask & !0xfff);
        let mask: u64 = if e.attrs.contains(Attrs::GLOBAL) {
            0xffff_0000
        } else {
            0xffff_ffff
        };
        let slot = &mut self.frags[(page as usize) & Self::MASK];
        if slot.tag != 0 {
            self.stats.evictions += 1;
        }
        *slot = Frag {
            tag: (page << 1) | 1,
            ctx: (mask << 32) | u64::from(make_ctx(e.vmid, e.asid)),
            data: frag_pa | u64::from(e.attrs.bits() & 0x3f) | (size_code << 6),
        };
        self.has_blocks |= size_code != 0;
    }

    fn invalidate(&mut self, op: Invalidate) {
        let vmid_of = |f: &Frag| (f.ctx >> 16) as u16;
        let global = |f: &Frag| (f.ctx >> 32) as u32 != u32::MAX;
        match op {
            Invalidate::All => {
                self.drop_where(|_| true);
                self.has_blocks = false;
            }
            Invalidate::Vmid(v) => self.drop_where(|f| vmid_of(f) == v.0),
            Invalidate::Asid(v, a) => {
                let ctx = make_ctx(v, a);
                self.drop_where(|f| !global(f) && f.ctx as u32 == ctx)
            }
            Invalidate::Va { vmid, asid, va } => {
                let named = |f: &Frag| {
                    let size = size_of_code(f.data >> 6).bytes();
                    let base = (f.tag >> 1) << 12;
                    // Same block as `va`, in the VM, in the ASID or global.
                    (base ^ va) & !(size - 1) == 0
                        && vmid_of(f) == vmid.0
                        && asid.is_none_or(|a| global(f) || f.ctx as u16 == a.0)
                };
                if self.has_blocks {
                    self.drop_where(named);
                } else {
                    let i = ((va >> 12) as usize) & Self::MASK;
                    let f = self.frags[i];
                    if f.tag != 0 && named(&f) {
                        self.frags[i] = Frag::default();
                        self.stats.invalidated += 1;
                    }
                }
            }
        }
    }

    fn stats(&self) -> TlbStats {
        self.stats
    }

    fn reset_stats(&mut self) {
        self.stats = TlbStats::default();
    }
}
