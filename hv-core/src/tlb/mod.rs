//! Software TLBs: set-associative translation caches tagged by VMID and
//! ASID, holding 4 KiB, 2 MiB and 1 GiB entries, with the TLBI operations.
//!
//! * [`SetAssocTlb`]: one level, replacement policy chosen at construction
//!   ([`Replacement::Lru`], [`Replacement::TreePlru`], [`Replacement::Random`]).
//! * [`TwoLevelTlb`]: a small L1 in front of a larger L2.
//! * [`shootdown`]: per-vCPU TLBs kept coherent by a generation counter and
//!   a ring of invalidations; lookups take no lock.
//!
//! A TLB is owned by one vCPU (`&mut self`); sharing happens only through
//! [`shootdown::Shootdown`]. The cached translation is whatever the caller
//! inserted (a stage-2 walk, or a combined stage-1 + stage-2 result); the
//! caller invalidates after changing a table, as it would issue `TLBI`.

pub mod micro;
pub mod shootdown;

pub use micro::MicroTlb;

use crate::paging::{Asid, Attrs, PageSize, Vmid};
use alloc::vec;
use alloc::vec::Vec;

/// Which way of a full set an insert evicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// Least recently used (a per-entry timestamp).
    Lru,
    /// Tree pseudo-LRU (ways - 1 bits per set).
    TreePlru,
    /// Pseudo-random (xorshift), seeded at construction.
    Random,
}

/// Why a TLB could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlbError {
    /// Sets and ways must be powers of two, ways at most 32, and there must
    /// be at least one entry.
    BadGeometry,
}

/// What a lookup or an insert is about: the translation context and the
/// input address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TlbKey {
    /// The VM.
    pub vmid: Vmid,
    /// The address space within the VM.
    pub asid: Asid,
    /// The input (virtual or intermediate-physical) address.
    pub va: u64,
}

/// A translation to cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbEntry {
    /// The VM.
    pub vmid: Vmid,
    /// The ASID; ignored for lookups when `attrs` has [`Attrs::GLOBAL`].
    pub asid: Asid,
    /// First input address of the page or block (any address inside it is
    /// accepted and rounded down).
    pub va: u64,
    /// First output address of the page or block.
    pub pa: u64,
    /// Page or block size.
    pub size: PageSize,
    /// Permissions and memory type.
    pub attrs: Attrs,
}

/// A TLB hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbHit {
    /// The output address of the looked-up byte.
    pub pa: u64,
    /// Permissions and memory type.
    pub attrs: Attrs,
    /// Size of the entry that hit.
    pub size: PageSize,
}

/// A `TLBI`: which cached translations to drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalidate {
    /// Everything (`TLBI ALLE1`).
    All,
    /// One VM (`TLBI VMALLS12E1`).
    Vmid(Vmid),
    /// One ASID of one VM, global entries excepted (`TLBI ASIDE1`).
    Asid(Vmid, Asid),
    /// Entries covering `va` in `vmid`: of one ASID plus global ones
    /// (`TLBI VAE1`), or of every ASID when `asid` is `None` (`TLBI VAAE1`,
    /// and `TLBI IPAS2E1` for stage-2-only entries).
    Va {
        /// The VM.
        vmid: Vmid,
        /// The ASID, or all.
        asid: Option<Asid>,
        /// Any address inside the pages to drop.
        va: u64,
    },
}

/// Counters since construction (or [`Tlb::reset_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlbStats {
    /// Lookups that hit.
    pub hits: u64,
    /// Lookups that missed.
    pub misses: u64,
    /// Valid entries overwritten by an insert.
    pub evictions: u64,
    /// Entries dropped by invalidations.
    pub invalidated: u64,
}

/// A translation cache.
pub trait Tlb {
    /// The cached translation of `key.va`, if any.
    fn lookup(&mut self, key: TlbKey) -> Option<TlbHit>;
    /// Cache `entry`, replacing any entry for the same page and context.
    fn insert(&mut self, entry: TlbEntry);
    /// Drop what `op` names.
    fn invalidate(&mut self, op: Invalidate);
    /// Counters.
    fn stats(&self) -> TlbStats;
    /// Zero the counters.
    fn reset_stats(&mut self);
}

const SIZES: [PageSize; 3] = [PageSize::Size4K, PageSize::Size2M, PageSize::Size1G];

#[inline(always)]
const fn shift(size_idx: usize) -> u32 {
    12 + 9 * size_idx as u32
}

const fn size_index(size: PageSize) -> usize {
    match size {
        PageSize::Size4K => 0,
        PageSize::Size2M => 1,
        PageSize::Size1G => 2,
    }
}

/// Bits of `Slot::data` below the page address: attrs and the global flag.
const DATA_ATTRS: u64 = 0xff;

/// One cached translation. `tag == 0` marks an empty slot.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// `vpn << 3 | size_idx << 1 | 1`.
    tag: u64,
    /// `vmid << 16 | asid` in the low half; the compare mask in the high
    /// half (`0xffff_0000` for a global entry: VMID only).
    ctx: u64,
    /// Output page address | attrs bits.
    data: u64,
    /// LRU timestamp.
    stamp: u32,
}

impl Slot {
    #[inline(always)]
    fn matches(&self, tag: u64, ctx: u32) -> bool {
        self.tag == tag && ((self.ctx as u32) ^ ctx) & ((self.ctx >> 32) as u32) == 0
    }

    #[inline(always)]
    fn vmid(&self) -> u16 {
        (self.ctx >> 16) as u16
    }

    #[inline(always)]
    fn global(&self) -> bool {
        (self.ctx >> 32) as u32 != u32::MAX
    }
}

#[inline(always)]
fn make_tag(va: u64, size_idx: usize) -> u64 {
    ((va >> shift(size_idx)) << 3) | ((size_idx as u64) << 1) | 1
}

#[inline(always)]
pub(crate) fn make_ctx(vmid: Vmid, asid: Asid) -> u32 {
    (u32::from(vmid.0) << 16) | u32::from(asid.0)
}

/// A set-associative TLB.
#[derive(Debug)]
pub struct SetAssocTlb {
    /// `sets * ways` slots, set-major.
    slots: Vec<Slot>,
    /// Tree-PLRU bits per set.
    plru: Vec<u32>,
    /// Per way: (bits to clear, bits to set) in its set's PLRU word when it
    /// is used, so a touch is one and/or.
    plru_update: Vec<(u32, u32)>,
    set_mask: u64,
    ways: usize,
    way_bits: u32,
    policy: Replacement,
    /// Bit `i` set when an entry of `SIZES[i]` may be present.
    sizes_present: u8,
    clock: u32,
    rng: u64,
    stats: TlbStats,
}

impl SetAssocTlb {
    /// A TLB of `sets` sets of `ways` ways. Both powers of two, `ways <= 32`.
    pub fn new(sets: usize, ways: usize, policy: Replacement) -> Result<Self, TlbError> {
        if !sets.is_power_of_two() || !ways.is_power_of_two() || ways > 32 {
            return Err(TlbError::BadGeometry);
        }
        let n = sets.checked_mul(ways).ok_or(TlbError::BadGeometry)?;
        let way_bits = ways.trailing_zeros();
        let plru_update = (0..ways)
            .map(|way| {
                let (mut clear, mut set) = (0u32, 0u32);
                let mut node = 1usize;
                for level in (0..way_bits).rev() {
                    let dir = (way >> level) & 1;
                    // Point the node away from the way just used.
                    if dir == 0 {
                        set |= 1 << node;
                    } else {
                        clear |= 1 << node;
                    }
                    node = 2 * node + dir;
                }
                (clear, set)
            })
            .collect();
        Ok(SetAssocTlb {
            slots: vec![Slot::default(); n],
            plru: vec![0; sets],
            plru_update,
            set_mask: sets as u64 - 1,
            ways,
            way_bits: ways.trailing_zeros(),
            policy,
            sizes_present: 0,
            clock: 0,
            rng: 0x9e37_79b9_7f4a_7c15,
            stats: TlbStats::default(),
        })
    }

    /// Number of entries.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Number of valid entries (a scan; for tests and reports).
    pub fn occupancy(&self) -> usize {
        self.slots.iter().filter(|s| s.tag != 0).count()
    }

    #[inline(always)]
    fn set_of(&self, va: u64, size_idx: usize) -> usize {
        let vpn = va >> shift(size_idx);
        // Mix in higher bits so that regularly strided pages spread out.
        (((vpn ^ (vpn >> 11)) & self.set_mask) as usize) << self.way_bits
    }

    #[inline(always)]
    fn touch(&mut self, set: usize, way: usize) {
        // A direct-mapped TLB has nothing to track.
        if self.ways == 1 {
            return;
        }
        match self.policy {
            Replacement::Lru => {
                self.clock = self.clock.wrapping_add(1);
                if let Some(s) = self.slots.get_mut(set + way) {
                    s.stamp = self.clock;
                }
            }
            Replacement::TreePlru => {
                if let (Some(bits), Some(&(clear, set_bits))) = (
                    self.plru.get_mut(set >> self.way_bits),
                    self.plru_update.get(way),
                ) {
                    *bits = (*bits & !clear) | set_bits;
                }
            }
            Replacement::Random => {}
        }
    }

    fn victim(&mut self, set: usize) -> usize {
        if let Some(w) = self.slots[set..set + self.ways]
            .iter()
            .position(|s| s.tag == 0)
        {
            return w;
        }
        match self.policy {
            Replacement::Lru => {
                let now = self.clock;
                let mut best = (0, 0u32);
                for (w, s) in self.slots[set..set + self.ways].iter().enumerate() {
                    // Age survives clock wrap-around.
                    let age = now.wrapping_sub(s.stamp);
                    if age >= best.1 {
                        best = (w, age);
                    }
                }
                best.0
            }
            Replacement::TreePlru => {
                let bits = self.plru[set >> self.way_bits];
                let mut node = 1usize;
                for _ in 0..self.way_bits {
                    node = 2 * node + ((bits >> node) & 1) as usize;
                }
                node - self.ways
            }
            Replacement::Random => {
                let mut x = self.rng;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.rng = x;
                (x as usize) & (self.ways - 1)
            }
        }
    }

    #[inline(always)]
    fn probe(&mut self, key: TlbKey, size_idx: usize) -> Option<TlbHit> {
        let set = self.set_of(key.va, size_idx);
        let tag = make_tag(key.va, size_idx);
        let ctx = make_ctx(key.vmid, key.asid);
        // `set` is a multiple of `ways` below `slots.len()`, so the range is
        // in bounds; `get` keeps that from being a panic path anyway.
        let ways = self.slots.get(set..set + self.ways)?;
        let way = ways.iter().position(|s| s.matches(tag, ctx))?;
        let s = ways[way];
        {
            self.touch(set, way);
            let mask = (1u64 << shift(size_idx)) - 1;
            Some(TlbHit {
                pa: (s.data & !DATA_ATTRS) | (key.va & mask),
                attrs: Attrs::from_bits_retain(s.data as u8),
                size: SIZES[size_idx],
            })
        }
    }

    /// The 2 MiB and 1 GiB probes, and miss accounting.
    #[inline(never)]
    fn lookup_blocks(&mut self, key: TlbKey) -> Option<TlbHit> {
        for i in 1..SIZES.len() {
            if self.sizes_present & (1 << i) != 0 {
                if let Some(hit) = self.probe(key, i) {
                    self.stats.hits += 1;
                    return Some(hit);
                }
            }
        }
        self.stats.misses += 1;
        None
    }

    fn drop_where(&mut self, mut f: impl FnMut(&Slot) -> bool) {
        let mut n = 0;
        for s in self.slots.iter_mut() {
            if s.tag != 0 && f(s) {
                *s = Slot::default();
                n += 1;
            }
        }
        self.stats.invalidated += n;
    }
}

impl Tlb for SetAssocTlb {
    #[inline(always)]
    fn lookup(&mut self, key: TlbKey) -> Option<TlbHit> {
        // 4 KiB entries first and inline; blocks and misses out of line.
        if self.sizes_present & 1 != 0 {
            if let Some(hit) = self.probe(key, 0) {
                self.stats.hits += 1;
                return Some(hit);
            }
        }
        self.lookup_blocks(key)
    }

    fn insert(&mut self, e: TlbEntry) {
        let i = size_index(e.size);
        let set = self.set_of(e.va, i);
        let tag = make_tag(e.va, i);
        let global = e.attrs.contains(Attrs::GLOBAL);
        let mask: u64 = if global { 0xffff_0000 } else { 0xffff_ffff };
        let ctx = u64::from(make_ctx(e.vmid, e.asid));
        // One pass: a slot holding the same page in an overlapping context
        // is reused, else the first empty one; only a full set needs the
        // replacement policy.
        let (mut same, mut empty) = (None, None);
        for (w, s) in self.slots[set..set + self.ways].iter().enumerate() {
            if s.matches(tag, ctx as u32) {
                same = Some(w);
                break;
            }
            if s.tag == 0 && empty.is_none() {
                empty = Some(w);
            }
        }
        let way = match same.or(empty) {
            Some(w) => w,
            None => {
                self.stats.evictions += 1;
                self.victim(set)
            }
        };
        let page_mask = (1u64 << shift(i)) - 1;
        self.slots[set + way] = Slot {
            tag,
            ctx: (mask << 32) | ctx,
            data: (e.pa & !page_mask) | u64::from(e.attrs.bits()),
            stamp: 0,
        };
        self.sizes_present |= 1 << i;
        self.touch(set, way);
    }

    fn invalidate(&mut self, op: Invalidate) {
        match op {
            Invalidate::All => {
                self.drop_where(|_| true);
                self.sizes_present = 0;
            }
            Invalidate::Vmid(v) => self.drop_where(|s| s.vmid() == v.0),
            Invalidate::Asid(v, a) => {
                let ctx = u64::from(make_ctx(v, a));
                self.drop_where(|s| !s.global() && s.ctx as u32 as u64 == ctx)
            }
            Invalidate::Va { vmid, asid, va } => {
                for i in 0..SIZES.len() {
                    if self.sizes_present & (1 << i) == 0 {
                        continue;
                    }
                    let set = self.set_of(va, i);
                    let tag = make_tag(va, i);
                    for way in 0..self.ways {
                        let s = &mut self.slots[set + way];
                        let hit = s.tag == tag
                            && s.vmid() == vmid.0
                            && match asid {
                                None => true,
                                Some(a) => s.global() || s.ctx as u16 == a.0,
                            };
                        if hit {
                            *s = Slot::default();
                            self.stats.invalidated += 1;
                        }
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

/// A small L1 TLB in front of a larger L2. An L2 hit is copied into L1.
#[derive(Debug)]
pub struct TwoLevelTlb<L1 = SetAssocTlb, L2 = SetAssocTlb> {
    /// The small, fast level.
    pub l1: L1,
    /// The large level.
    pub l2: L2,
}

impl<L1: Tlb, L2: Tlb> TwoLevelTlb<L1, L2> {
    /// An L1 and an L2.
    pub fn new(l1: L1, l2: L2) -> Self {
        TwoLevelTlb { l1, l2 }
    }
}

impl<L1: Tlb, L2: Tlb> Tlb for TwoLevelTlb<L1, L2> {
    #[inline(always)]
    fn lookup(&mut self, key: TlbKey) -> Option<TlbHit> {
        if let Some(hit) = self.l1.lookup(key) {
            return Some(hit);
        }
        self.lookup_l2(key)
    }

    fn insert(&mut self, entry: TlbEntry) {
        self.l2.insert(entry);
        self.l1.insert(entry);
    }

    fn invalidate(&mut self, op: Invalidate) {
        self.l1.invalidate(op);
        self.l2.invalidate(op);
    }

    /// Hits at either level, misses of both, evictions and invalidations
    /// of L2 (L1 evictions are routine).
    fn stats(&self) -> TlbStats {
        let (a, b) = (self.l1.stats(), self.l2.stats());
        TlbStats {
            hits: a.hits + b.hits,
            misses: b.misses,
            evictions: b.evictions,
            invalidated: b.invalidated,
        }
    }

    fn reset_stats(&mut self) {
        self.l1.reset_stats();
        self.l2.reset_stats();
    }
}

impl<L1: Tlb, L2: Tlb> TwoLevelTlb<L1, L2> {
    /// An L1 miss: look in L2 and promote a hit.
    #[inline(never)]
    fn lookup_l2(&mut self, key: TlbKey) -> Option<TlbHit> {
        let hit = self.l2.lookup(key)?;
        let mask = hit.size.bytes() - 1;
        // The L2 entry's own ASID is not returned; a promoted entry is
        // tagged with the looked-up one (or global, as it was).
        self.l1.insert(TlbEntry {
            vmid: key.vmid,
            asid: key.asid,
            va: key.va & !mask,
            pa: hit.pa & !mask,
            size: hit.size,
            attrs: hit.attrs,
        });
        Some(hit)
    }
}

#[cfg(test)]
mod tests;
