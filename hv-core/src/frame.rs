//! Physical frame allocation: 4 KiB frames and 2 MiB / 1 GiB contiguous
//! blocks out of the memory map, with a NUMA placement policy.
//!
//! [`BitmapFrameAllocator`] keeps one bit per 4 KiB frame (set = free) for
//! each range of the memory map, plus a summary bit per bitmap word (set =
//! that word has a free frame), so a 4 KiB allocation finds a free frame
//! with two `trailing_zeros` and no scanning in the common case. Each
//! range's bitmap starts at a 1 GiB boundary (frames before the range's
//! base are simply never free), so a 2 MiB block is 8 whole bitmap words and
//! a 1 GiB block 4096 of them, aligned in physical memory by construction.
//!
//! Freeing checks the frames: freeing a frame that is already free is
//! [`FrameError::DoubleFree`], and nothing is changed.

use crate::addr::{GuestAddress, PhysAddr};
use crate::mem::{GuestMemory, MemError};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// Size of one frame: the 4 KiB granule.
pub const FRAME_SIZE: u64 = 4096;
const FRAME_SHIFT: u32 = 12;

/// Size of one allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FrameSize {
    /// One 4 KiB frame.
    Size4K,
    /// 512 contiguous frames, 2 MiB aligned.
    Size2M,
    /// 262144 contiguous frames, 1 GiB aligned.
    Size1G,
}

impl FrameSize {
    /// Bytes in the block.
    pub const fn bytes(self) -> u64 {
        match self {
            FrameSize::Size4K => 1 << 12,
            FrameSize::Size2M => 1 << 21,
            FrameSize::Size1G => 1 << 30,
        }
    }

    /// 4 KiB frames in the block.
    pub const fn frames(self) -> u64 {
        self.bytes() >> FRAME_SHIFT
    }
}

/// A NUMA node number as the memory map gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NodeId(pub u8);

/// One range of usable RAM in the memory map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRange {
    /// First byte (rounded up to a frame by the allocator).
    pub base: PhysAddr,
    /// Length in bytes (the end is rounded down to a frame).
    pub size_bytes: u64,
    /// The node this RAM belongs to.
    pub node: NodeId,
}

/// Where allocations come from when there are several nodes. Every policy
/// falls back to the other nodes when its first choice is exhausted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumaPolicy {
    /// The caller's node (see [`BitmapFrameAllocator::set_local_node`]).
    Local,
    /// Round-robin over the nodes, one allocation each.
    Interleave,
    /// This node first.
    Preferred(NodeId),
}

/// Why a frame operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// No free block of the requested size on any node.
    OutOfFrames,
    /// The frame at this address is already free.
    DoubleFree(PhysAddr),
    /// The address is not in the memory map this allocator manages.
    NotOwned(PhysAddr),
    /// The address is not aligned to the block size being freed.
    Misaligned(PhysAddr),
    /// The memory map is empty, overlaps itself, or wraps the address space.
    BadMemoryMap,
    /// Zeroing the frame through guest memory failed.
    Mem(MemError),
}

impl From<MemError> for FrameError {
    fn from(e: MemError) -> Self {
        FrameError::Mem(e)
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::OutOfFrames => write!(f, "out of physical frames"),
            FrameError::DoubleFree(a) => write!(f, "frame {a} freed twice"),
            FrameError::NotOwned(a) => write!(f, "frame {a} is not managed by this allocator"),
            FrameError::Misaligned(a) => write!(f, "frame address {a} is misaligned"),
            FrameError::BadMemoryMap => write!(f, "memory map is empty or overlapping"),
            FrameError::Mem(e) => write!(f, "zeroing a frame: {e}"),
        }
    }
}

/// Source of physical frames.
pub trait FrameAllocator {
    /// A block of `size`, aligned to its size.
    fn alloc(&mut self, size: FrameSize) -> Result<PhysAddr, FrameError>;

    /// Give back a block that [`alloc`](FrameAllocator::alloc) returned.
    fn free(&mut self, pa: PhysAddr, size: FrameSize) -> Result<(), FrameError>;

    /// A block of `size`, zero-filled through `mem` (the memory the frames
    /// live in, addressed by their physical address).
    fn alloc_zeroed<M: GuestMemory + ?Sized>(
        &mut self,
        size: FrameSize,
        mem: &M,
    ) -> Result<PhysAddr, FrameError> {
        let pa = self.alloc(size)?;
        if let Err(e) = mem.fill(GuestAddress(pa.raw()), 0, size.bytes()) {
            // The block was ours a moment ago, so giving it back cannot fail.
            let _ = self.free(pa, size);
            return Err(FrameError::Mem(e));
        }
        Ok(pa)
    }
}

/// The frames of one memory-map range.
#[derive(Debug)]
struct Zone {
    node: NodeId,
    /// Address of bit 0 of `words[0]`, 1 GiB aligned, `<= start`.
    origin: u64,
    /// First and one-past-last managed byte, frame aligned.
    start: u64,
    end: u64,
    /// One bit per frame from `origin`; set = free.
    words: Vec<u64>,
    /// Bit `i` set iff `words[i] != 0`.
    summary: Vec<u64>,
    /// Where the last 4 KiB search ended, as a summary word index.
    hint: usize,
    free_frames: u64,
    total_frames: u64,
}

impl Zone {
    fn new(range: &MemoryRange) -> Option<Zone> {
        let start = range.base.raw().checked_add(FRAME_SIZE - 1)? & !(FRAME_SIZE - 1);
        let end = range.base.raw().checked_add(range.size_bytes)? & !(FRAME_SIZE - 1);
        if end <= start {
            return None;
        }
        let origin = start & !((1u64 << 30) - 1);
        let nframes = usize::try_from((end - origin) >> FRAME_SHIFT).ok()?;
        let mut zone = Zone {
            node: range.node,
            origin,
            start,
            end,
            words: vec![0; nframes.div_ceil(64)],
            summary: vec![0; nframes.div_ceil(64).div_ceil(64)],
            hint: 0,
            free_frames: 0,
            total_frames: 0,
        };
        let first = ((start - origin) >> FRAME_SHIFT) as usize;
        for frame in first..nframes {
            zone.set_free(frame);
        }
        zone.free_frames = (nframes - first) as u64;
        zone.total_frames = zone.free_frames;
        Some(zone)
    }

    #[inline]
    fn set_free(&mut self, frame: usize) {
        let w = frame / 64;
        if let Some(word) = self.words.get_mut(w) {
            *word |= 1 << (frame % 64);
            if let Some(s) = self.summary.get_mut(w / 64) {
                *s |= 1 << (w % 64);
            }
        }
    }

    #[inline]
    fn alloc_4k(&mut self) -> Option<u64> {
        let n = self.summary.len();
        let mut si = self.hint;
        for _ in 0..n {
            // `si < n` always: it starts at a stored hint (< n) and wraps.
            let s = self.summary[si];
            if s != 0 {
                let w = si * 64 + s.trailing_zeros() as usize;
                // A set summary bit names an existing word.
                let bits = self.words[w];
                let bit = bits.trailing_zeros();
                let rest = bits & (bits - 1);
                self.words[w] = rest;
                if rest == 0 {
                    self.summary[si] = s & (s - 1);
                }
                self.hint = si;
                self.free_frames -= 1;
                return Some(self.origin + (((w * 64) as u64 + u64::from(bit)) << FRAME_SHIFT));
            }
            si += 1;
            if si == n {
                si = 0;
            }
        }
        None
    }

    fn alloc_block(&mut self, size: FrameSize) -> Option<u64> {
        if self.free_frames < size.frames() {
            return None;
        }
        let span = (size.frames() / 64) as usize;
        let mut w = 0;
        while w + span <= self.words.len() {
            let block = &self.words[w..w + span];
            match block.iter().rposition(|&x| x != u64::MAX) {
                None => {
                    for i in w..w + span {
                        self.words[i] = 0;
                        self.summary[i / 64] &= !(1 << (i % 64));
                    }
                    self.free_frames -= size.frames();
                    return Some(self.origin + (((w * 64) as u64) << FRAME_SHIFT));
                }
                // Skip to the next aligned window past the busy word.
                Some(busy) => w = (w + busy + span) / span * span,
            }
        }
        None
    }

    fn free(&mut self, pa: u64, size: FrameSize) -> Result<(), FrameError> {
        let first = ((pa - self.origin) >> FRAME_SHIFT) as usize;
        let count = size.frames() as usize;
        for frame in first..first + count {
            // The caller checked `[pa, pa + size)` lies inside this zone.
            if self.words[frame / 64] & (1 << (frame % 64)) != 0 {
                let at = self.origin + ((frame as u64) << FRAME_SHIFT);
                return Err(FrameError::DoubleFree(PhysAddr(at)));
            }
        }
        for frame in first..first + count {
            self.set_free(frame);
        }
        self.free_frames += size.frames();
        Ok(())
    }
}

/// A bitmap frame allocator over a NUMA memory map.
#[derive(Debug)]
pub struct BitmapFrameAllocator {
    /// Sorted by address, non-overlapping.
    zones: Vec<Zone>,
    /// The distinct nodes, sorted.
    nodes: Vec<NodeId>,
    policy: NumaPolicy,
    local: NodeId,
    next_interleave: usize,
}

impl BitmapFrameAllocator {
    /// An allocator that owns every frame of `map`, placing allocations by
    /// `policy`. The local node starts as the lowest node in the map.
    pub fn new(map: &[MemoryRange], policy: NumaPolicy) -> Result<Self, FrameError> {
        let mut zones = Vec::with_capacity(map.len());
        for range in map {
            if range.base.checked_add(range.size_bytes).is_none() {
                return Err(FrameError::BadMemoryMap);
            }
            // A range too small to hold one whole frame contributes nothing.
            if let Some(z) = Zone::new(range) {
                zones.push(z);
            }
        }
        zones.sort_by_key(|z| z.start);
        if zones.is_empty() || zones.windows(2).any(|w| w[0].end > w[1].start) {
            return Err(FrameError::BadMemoryMap);
        }
        let mut nodes: Vec<NodeId> = zones.iter().map(|z| z.node).collect();
        nodes.sort();
        nodes.dedup();
        Ok(BitmapFrameAllocator {
            local: nodes[0],
            zones,
            nodes,
            policy,
            next_interleave: 0,
        })
    }

    /// The node [`NumaPolicy::Local`] allocates from (the calling CPU's).
    pub fn set_local_node(&mut self, node: NodeId) {
        self.local = node;
    }

    /// Change the placement policy.
    pub fn set_policy(&mut self, policy: NumaPolicy) {
        self.policy = policy;
    }

    /// The nodes of the memory map, sorted.
    pub fn nodes(&self) -> &[NodeId] {
        &self.nodes
    }

    /// Free 4 KiB frames on all nodes.
    pub fn free_frames(&self) -> u64 {
        self.zones.iter().map(|z| z.free_frames).sum()
    }

    /// Free 4 KiB frames on `node`.
    pub fn free_frames_on(&self, node: NodeId) -> u64 {
        self.zones
            .iter()
            .filter(|z| z.node == node)
            .map(|z| z.free_frames)
            .sum()
    }

    /// All 4 KiB frames the allocator manages.
    pub fn total_frames(&self) -> u64 {
        self.zones.iter().map(|z| z.total_frames).sum()
    }

    /// The node a physical address belongs to, if the allocator owns it.
    pub fn node_of(&self, pa: PhysAddr) -> Option<NodeId> {
        self.zone_index(pa.raw()).map(|i| self.zones[i].node)
    }

    fn zone_index(&self, pa: u64) -> Option<usize> {
        let i = self
            .zones
            .partition_point(|z| z.start <= pa)
            .checked_sub(1)?;
        (pa < self.zones[i].end).then_some(i)
    }

    /// Allocate with an explicit policy for this one call.
    pub fn alloc_with(
        &mut self,
        size: FrameSize,
        policy: NumaPolicy,
    ) -> Result<PhysAddr, FrameError> {
        let first = match policy {
            NumaPolicy::Local => self.local,
            NumaPolicy::Preferred(n) => n,
            NumaPolicy::Interleave => {
                let n = self.nodes[self.next_interleave % self.nodes.len()];
                self.next_interleave = self.next_interleave.wrapping_add(1);
                n
            }
        };
        // First the chosen node's zones, then everyone else's.
        for pass_on_first in [true, false] {
            for zone in self
                .zones
                .iter_mut()
                .filter(|z| (z.node == first) == pass_on_first)
            {
                let got = match size {
                    FrameSize::Size4K => zone.alloc_4k(),
                    _ => zone.alloc_block(size),
                };
                if let Some(pa) = got {
                    return Ok(PhysAddr(pa));
                }
            }
        }
        Err(FrameError::OutOfFrames)
    }
}

impl FrameAllocator for BitmapFrameAllocator {
    #[inline]
    fn alloc(&mut self, size: FrameSize) -> Result<PhysAddr, FrameError> {
        // The one-node, 4 KiB case skips the policy machinery.
        if let ([zone], FrameSize::Size4K) = (self.zones.as_mut_slice(), size) {
            return zone.alloc_4k().map(PhysAddr).ok_or(FrameError::OutOfFrames);
        }
        self.alloc_with(size, self.policy)
    }

    fn free(&mut self, pa: PhysAddr, size: FrameSize) -> Result<(), FrameError> {
        if !pa.is_aligned(size.bytes()) {
            return Err(FrameError::Misaligned(pa));
        }
        let last = pa
            .checked_add(size.bytes() - 1)
            .ok_or(FrameError::NotOwned(pa))?;
        let i = self.zone_index(pa.raw()).ok_or(FrameError::NotOwned(pa))?;
        if last.raw() >= self.zones[i].end {
            return Err(FrameError::NotOwned(pa));
        }
        self.zones[i].free(pa.raw(), size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::GuestRam;
    use alloc::collections::BTreeMap;
    use proptest::prelude::*;

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn one_node(base: u64, size: u64) -> BitmapFrameAllocator {
        BitmapFrameAllocator::new(
            &[MemoryRange {
                base: PhysAddr(base),
                size_bytes: size,
                node: NodeId(0),
            }],
            NumaPolicy::Local,
        )
        .unwrap()
    }

    /// Two nodes; node 1 starts off a 2 MiB boundary and has a 1 GiB range.
    fn two_nodes() -> [MemoryRange; 3] {
        [
            MemoryRange {
                base: PhysAddr(0x4000_0000),
                size_bytes: 8 * MIB,
                node: NodeId(0),
            },
            MemoryRange {
                base: PhysAddr(0x1_0000_3000),
                size_bytes: 6 * MIB,
                node: NodeId(1),
            },
            MemoryRange {
                base: PhysAddr(0x2_0000_0000),
                size_bytes: GIB,
                node: NodeId(1),
            },
        ]
    }

    #[test]
    fn freeing_a_frame_twice_is_refused() {
        let mut a = one_node(0x4000_0000, MIB);
        let f = a.alloc(FrameSize::Size4K).unwrap();
        a.free(f, FrameSize::Size4K).unwrap();
        assert_eq!(a.free(f, FrameSize::Size4K), Err(FrameError::DoubleFree(f)));
        assert_eq!(a.free_frames(), a.total_frames());
    }

    #[test]
    fn freeing_foreign_or_misaligned_frames_is_refused() {
        let mut a = one_node(0x4000_0000, MIB);
        assert_eq!(
            a.free(PhysAddr(0x1000), FrameSize::Size4K),
            Err(FrameError::NotOwned(PhysAddr(0x1000)))
        );
        assert_eq!(
            a.free(PhysAddr(0x4000_0800), FrameSize::Size4K),
            Err(FrameError::Misaligned(PhysAddr(0x4000_0800)))
        );
        // A 2 MiB block reaching past the 1 MiB range is not ours.
        assert_eq!(
            a.free(PhysAddr(0x4000_0000), FrameSize::Size2M),
            Err(FrameError::NotOwned(PhysAddr(0x4000_0000)))
        );
    }

    #[test]
    fn bad_memory_maps_are_refused() {
        let overlapping = [
            MemoryRange {
                base: PhysAddr(0),
                size_bytes: 2 * MIB,
                node: NodeId(0),
            },
            MemoryRange {
                base: PhysAddr(MIB),
                size_bytes: 2 * MIB,
                node: NodeId(1),
            },
        ];
        assert_eq!(
            BitmapFrameAllocator::new(&overlapping, NumaPolicy::Local).unwrap_err(),
            FrameError::BadMemoryMap
        );
        assert_eq!(
            BitmapFrameAllocator::new(&[], NumaPolicy::Local).unwrap_err(),
            FrameError::BadMemoryMap
        );
        let wrapping = [MemoryRange {
            base: PhysAddr(u64::MAX - 0xfff),
            size_bytes: 0x2000,
            node: NodeId(0),
        }];
        assert_eq!(
            BitmapFrameAllocator::new(&wrapping, NumaPolicy::Local).unwrap_err(),
            FrameError::BadMemoryMap
        );
    }

    #[test]
    fn exhaustion_is_reported_and_blocks_are_aligned() {
        let mut a = one_node(0x4010_0000, 4 * MIB);
        // 4 MiB starting 1 MiB past a 2 MiB boundary holds one whole block.
        let b = a.alloc(FrameSize::Size2M).unwrap();
        assert_eq!(b, PhysAddr(0x4020_0000));
        assert_eq!(a.alloc(FrameSize::Size2M), Err(FrameError::OutOfFrames));
        assert_eq!(a.alloc(FrameSize::Size1G), Err(FrameError::OutOfFrames));
        for _ in 0..512 {
            a.alloc(FrameSize::Size4K).unwrap();
        }
        assert_eq!(a.alloc(FrameSize::Size4K), Err(FrameError::OutOfFrames));
    }

    #[test]
    fn alloc_zeroed_clears_the_frame() {
        let ram = GuestRam::with_size(GuestAddress(0x4000_0000), MIB).unwrap();
        ram.fill(GuestAddress(0x4000_0000), 0xaa, MIB).unwrap();
        let mut a = one_node(0x4000_0000, MIB);
        let f = a.alloc_zeroed(FrameSize::Size4K, &ram).unwrap();
        let mut buf = [0xffu8; 4096];
        ram.read(GuestAddress(f.raw()), &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        // Frames outside the backing memory cannot be zeroed: the frame is
        // given back and the error says why.
        let mut far = one_node(0x8000_0000, MIB);
        let before = far.free_frames();
        assert!(matches!(
            far.alloc_zeroed(FrameSize::Size4K, &ram),
            Err(FrameError::Mem(MemError::OutOfRange { .. }))
        ));
        assert_eq!(far.free_frames(), before);
    }

    #[test]
    fn policies_place_frames_on_the_expected_node() {
        let mut a = BitmapFrameAllocator::new(&two_nodes(), NumaPolicy::Interleave).unwrap();
        let nodes: Vec<NodeId> = (0..4)
            .map(|_| {
                let f = a.alloc(FrameSize::Size4K).unwrap();
                a.node_of(f).unwrap()
            })
            .collect();
        assert_eq!(nodes, [NodeId(0), NodeId(1), NodeId(0), NodeId(1)]);
        a.set_policy(NumaPolicy::Local);
        a.set_local_node(NodeId(1));
        let f = a.alloc(FrameSize::Size4K).unwrap();
        assert_eq!(a.node_of(f), Some(NodeId(1)));
        let g = a
            .alloc_with(FrameSize::Size1G, NumaPolicy::Preferred(NodeId(0)))
            .unwrap();
        // Node 0 has no 1 GiB block: the allocation falls back to node 1.
        assert_eq!(g, PhysAddr(0x2_0000_0000));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Alloc(FrameSize, NumaPolicy),
        Free(usize),
        FreeAgain(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let size = prop_oneof![
            8 => Just(FrameSize::Size4K),
            3 => Just(FrameSize::Size2M),
            1 => Just(FrameSize::Size1G),
        ];
        let policy = prop_oneof![
            Just(NumaPolicy::Local),
            Just(NumaPolicy::Interleave),
            (0u8..3).prop_map(|n| NumaPolicy::Preferred(NodeId(n))),
        ];
        prop_oneof![
            4 => (size, policy).prop_map(|(s, p)| Op::Alloc(s, p)),
            2 => any::<usize>().prop_map(Op::Free),
            1 => any::<usize>().prop_map(Op::FreeAgain),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn never_hands_out_a_frame_twice_and_gets_everything_back(
            ops in proptest::collection::vec(op(), 1..200)
        ) {
            let map = two_nodes();
            let mut a = BitmapFrameAllocator::new(&map, NumaPolicy::Local).unwrap();
            let total = a.total_frames();
            // Live blocks by base: (end, size).
            let mut live: BTreeMap<u64, (u64, FrameSize)> = BTreeMap::new();
            let mut freed: Vec<(PhysAddr, FrameSize)> = Vec::new();
            for op in ops {
                match op {
                    Op::Alloc(size, policy) => {
                        let free_before = a.free_frames();
                        let preferred = match policy {
                            NumaPolicy::Preferred(n) => Some(n),
                            NumaPolicy::Local => Some(NodeId(0)),
                            NumaPolicy::Interleave => None,
                        };
                        let room_on_preferred =
                            preferred.map(|n| a.free_frames_on(n) > 0);
                        match a.alloc_with(size, policy) {
                            Ok(pa) => {
                                let (s, e) = (pa.raw(), pa.raw() + size.bytes());
                                prop_assert!(pa.is_aligned(size.bytes()));
                                let inside = map.iter().any(|r| {
                                    s >= r.base.raw() && e <= r.base.raw() + r.size_bytes
                                });
                                prop_assert!(inside);
                                // No live block overlaps the new one.
                                if let Some((_, &(end, _))) = live.range(..e).next_back() {
                                    prop_assert!(end <= s, "{pa} handed out twice");
                                }
                                if size == FrameSize::Size4K && room_on_preferred == Some(true) {
                                    prop_assert_eq!(a.node_of(pa), preferred);
                                }
                                live.insert(s, (e, size));
                                prop_assert_eq!(a.free_frames(), free_before - size.frames());
                            }
                            Err(e) => {
                                prop_assert_eq!(e, FrameError::OutOfFrames);
                                prop_assert!(size != FrameSize::Size4K || free_before == 0);
                            }
                        }
                    }
                    Op::Free(i) if !live.is_empty() => {
                        let base = *live.keys().nth(i % live.len()).unwrap();
                        let (_, size) = live.remove(&base).unwrap();
                        prop_assert_eq!(a.free(PhysAddr(base), size), Ok(()));
                        freed.push((PhysAddr(base), size));
                    }
                    Op::FreeAgain(i) if !freed.is_empty() => {
                        let (pa, size) = freed[i % freed.len()];
                        // Only a genuine double free: not re-allocated since.
                        let reused = live.range(..pa.raw() + size.bytes()).next_back()
                            .is_some_and(|(_, &(end, _))| end > pa.raw());
                        if !reused {
                            prop_assert!(matches!(
                                a.free(pa, size),
                                Err(FrameError::DoubleFree(_))
                            ));
                        }
                    }
                    _ => {}
                }
            }
            for (base, (_, size)) in live {
                prop_assert_eq!(a.free(PhysAddr(base), size), Ok(()));
            }
            prop_assert_eq!(a.free_frames(), total);
        }
    }
}
