//! Mapper tests: bad input, and a model check against a `BTreeMap` of
//! mapped intervals for every format and page size.

use super::aarch64::{Stage1, Stage2};
use super::x86_64::{Ept, Npt};
use super::*;
use crate::addr::{GuestAddress, PhysAddr};
use crate::frame::{BitmapFrameAllocator, MemoryRange, NodeId, NumaPolicy};
use crate::mem::GuestRam;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use proptest::prelude::*;

const KIB4: u64 = 1 << 12;
const MIB2: u64 = 1 << 21;
const GIB1: u64 = 1 << 30;
/// Where the table frames live in the test's "physical" memory.
const POOL: u64 = 0x8000_0000;
const POOL_SIZE: u64 = 8 << 20;

type Pool = FramePool<GuestRam, BitmapFrameAllocator>;

fn pool() -> Pool {
    pool_of(POOL_SIZE)
}

/// Table frames from `size` bytes of memory.
pub(crate) fn pool_of(size: u64) -> Pool {
    let mem = GuestRam::with_size(GuestAddress(POOL), size).unwrap();
    let alloc = BitmapFrameAllocator::new(
        &[MemoryRange {
            base: PhysAddr(POOL),
            size_bytes: size,
            node: NodeId(0),
        }],
        NumaPolicy::Local,
    )
    .unwrap();
    FramePool { mem, alloc }
}

fn s2(levels: u8) -> PageTable<Stage2, Pool> {
    PageTable::new(levels, pool()).unwrap()
}

fn ga(a: u64) -> GuestAddress {
    GuestAddress(a)
}

#[test]
fn block_mappings_are_used_when_aligned() {
    let mut pt = s2(3);
    pt.map(ga(GIB1), PhysAddr(2 * GIB1), GIB1 + MIB2 + KIB4, Attrs::RW)
        .unwrap();
    let t = pt.translate(ga(GIB1 + 0x1234)).unwrap();
    assert_eq!(t.oa, PhysAddr(2 * GIB1 + 0x1234));
    assert_eq!(t.leaf.size, PageSize::Size1G);
    assert_eq!(
        pt.translate(ga(2 * GIB1 + 5)).unwrap().leaf.size,
        PageSize::Size2M
    );
    assert_eq!(
        pt.translate(ga(2 * GIB1 + MIB2)).unwrap().leaf.size,
        PageSize::Size4K
    );
    // The output misaligned for blocks: all 4 KiB pages.
    pt.map(ga(4 * GIB1), PhysAddr(KIB4), MIB2, Attrs::READ)
        .unwrap();
    assert_eq!(
        pt.translate(ga(4 * GIB1)).unwrap().leaf.size,
        PageSize::Size4K
    );
}

#[test]
fn bad_maps_get_specific_errors() {
    let mut pt = s2(3);
    pt.map(ga(0x20_0000), PhysAddr(0x20_0000), MIB2, Attrs::RW)
        .unwrap();
    assert_eq!(
        pt.map(ga(0x1000), PhysAddr(0), 0, Attrs::RW),
        Err(MapError::ZeroSize)
    );
    assert_eq!(
        pt.map(ga(0x1800), PhysAddr(0), KIB4, Attrs::RW),
        Err(MapError::Misaligned { addr: 0x1800 })
    );
    assert_eq!(
        pt.map(ga(0x1000), PhysAddr(0x10), KIB4, Attrs::RW),
        Err(MapError::Misaligned { addr: 0x10 })
    );
    assert_eq!(
        pt.map(ga(0x1000), PhysAddr(0), 0x10, Attrs::RW),
        Err(MapError::Misaligned { addr: 0x10 })
    );
    // Overlap: the lowest mapped address is reported, nothing changes.
    assert_eq!(
        pt.map(ga(0x1f_f000), PhysAddr(0), 2 * KIB4, Attrs::RW),
        Err(MapError::AlreadyMapped { ia: 0x20_0000 })
    );
    assert_eq!(
        pt.translate(ga(0x1f_f000)),
        Err(MapError::NotMapped { ia: 0x1f_f000 })
    );
    // Beyond the 39-bit IPA space, and wrapping around 2^64.
    assert_eq!(
        pt.map(ga(1 << 39), PhysAddr(0), KIB4, Attrs::RW),
        Err(MapError::OutOfRange { addr: 1 << 39 })
    );
    assert_eq!(
        pt.map(ga((1 << 39) - KIB4), PhysAddr(0), 2 * KIB4, Attrs::RW),
        Err(MapError::OutOfRange { addr: 1 << 39 })
    );
    assert_eq!(
        pt.map(ga(!0xfff_u64), PhysAddr(0), 2 * KIB4, Attrs::RW),
        Err(MapError::OutOfRange { addr: !0xfff_u64 })
    );
    assert_eq!(
        pt.translate(ga(1 << 39)),
        Err(MapError::OutOfRange { addr: 1 << 39 })
    );
    // Output beyond 48 bits.
    assert_eq!(
        pt.map(ga(0), PhysAddr(1 << 48), KIB4, Attrs::RW),
        Err(MapError::OutOfRange { addr: 1 << 48 })
    );
    assert_eq!(
        pt.map(ga(0), PhysAddr(0), KIB4, Attrs::WRITE),
        Err(MapError::UnsupportedAttrs(Attrs::WRITE))
    );
    assert_eq!(
        pt.unmap(ga(0x1f_f000), 2 * KIB4),
        Err(MapError::NotMapped { ia: 0x1f_f000 })
    );
    assert_eq!(
        pt.protect(ga(0x3f_f000), 2 * KIB4, Attrs::READ),
        Err(MapError::NotMapped { ia: 0x40_0000 })
    );
    assert_eq!(
        PageTable::<Npt, Pool>::new(3, pool()).unwrap_err(),
        MapError::Unsupported
    );
}

#[test]
fn unmapping_the_middle_of_a_block_splits_it() {
    let mut pt = s2(4);
    pt.map(ga(0), PhysAddr(GIB1), GIB1, Attrs::RWX).unwrap();
    pt.unmap(ga(MIB2 + KIB4), KIB4).unwrap();
    assert!(pt.translate(ga(MIB2 + KIB4)).is_err());
    let t = pt.translate(ga(MIB2)).unwrap();
    assert_eq!(
        (t.oa, t.leaf.size),
        (PhysAddr(GIB1 + MIB2), PageSize::Size4K)
    );
    let t = pt.translate(ga(3 * MIB2 + 8)).unwrap();
    assert_eq!(
        (t.oa, t.leaf.size),
        (PhysAddr(GIB1 + 3 * MIB2 + 8), PageSize::Size2M)
    );
    pt.protect(ga(0), KIB4, Attrs::READ).unwrap();
    assert_eq!(pt.translate(ga(0)).unwrap().leaf.attrs, Attrs::READ);
    assert_eq!(pt.translate(ga(KIB4)).unwrap().leaf.attrs, Attrs::RWX);
}

#[test]
fn destroy_returns_every_table_frame() {
    let p = pool();
    let free = p.alloc.free_frames();
    let mut pt = PageTable::<Ept, Pool>::new(4, p).unwrap();
    pt.map(ga(0x1234_5000), PhysAddr(0x1000), 3 * MIB2, Attrs::RW)
        .unwrap();
    let p = pt.destroy().unwrap();
    assert_eq!(p.alloc.free_frames(), free);
}

#[test]
fn walk_reports_one_descriptor_per_level() {
    for levels in [3u8, 4] {
        let mut pt = s2(levels);
        pt.map(ga(0x4000_0000), PhysAddr(0x9000_0000), KIB4, Attrs::RW)
            .unwrap();
        let w = pt.walk(ga(0x4000_0000)).unwrap();
        assert_eq!(w.steps, levels);
        assert_eq!(w.leaf.unwrap().oa_base, 0x9000_0000);
    }
}

// ---- the model ---------------------------------------------------------

/// Mapped intervals: start -> (end, output of start, attrs).
type Model = BTreeMap<u64, (u64, u64, Attrs)>;

fn model_lookup(m: &Model, ia: u64) -> Option<(u64, u64, u64, Attrs)> {
    let (&s, &(e, oa, a)) = m.range(..=ia).next_back()?;
    (ia < e).then_some((s, e, oa, a))
}

/// First address in `[lo, hi)` that is mapped (`mapped`) or not.
fn model_find(m: &Model, lo: u64, hi: u64, mapped: bool) -> Option<u64> {
    let mut cur = lo;
    while cur < hi {
        match model_lookup(m, cur) {
            Some((_, e, _, _)) => {
                if mapped {
                    return Some(cur);
                }
                cur = e;
            }
            None => {
                if !mapped {
                    return Some(cur);
                }
                cur = m.range(cur..).next().map_or(hi, |(&s, _)| s);
            }
        }
    }
    None
}

/// Cut `[lo, hi)` out of the model, returning the removed pieces.
fn model_remove(m: &mut Model, lo: u64, hi: u64) -> Vec<(u64, u64, u64, Attrs)> {
    let hits: Vec<u64> = m
        .range(..hi)
        .filter(|(_, &(e, _, _))| e > lo)
        .map(|(&s, _)| s)
        .collect();
    let mut removed = Vec::new();
    for s in hits {
        let (e, oa, a) = m.remove(&s).unwrap();
        if s < lo {
            m.insert(s, (lo, oa, a));
        }
        if e > hi {
            m.insert(hi, (e, oa + (hi - s), a));
        }
        let (cs, ce) = (s.max(lo), e.min(hi));
        removed.push((cs, ce, oa + (cs - s), a));
    }
    removed
}

#[derive(Clone, Debug)]
enum Op {
    Map {
        ia: u64,
        oa: u64,
        size: u64,
        attrs: Attrs,
    },
    Unmap {
        ia: u64,
        size: u64,
    },
    Protect {
        ia: u64,
        size: u64,
        attrs: Attrs,
    },
    Probe(u64),
}

fn attrs() -> impl Strategy<Value = Attrs> {
    (any::<bool>(), any::<bool>(), prop::bool::weighted(0.2)).prop_map(|(w, x, d)| {
        let mut a = Attrs::READ;
        a.set(Attrs::WRITE, w);
        a.set(Attrs::EXEC, x);
        a.set(Attrs::DEVICE, d);
        a
    })
}

/// A range in the first 4 GiB, built from one page size so that blocks of
/// every size get made, split and overlapped; sometimes misaligned or
/// reaching past the input size to exercise the errors.
fn range(ia_bits: u32) -> impl Strategy<Value = (u64, u64)> {
    let sized = prop_oneof![
        4 => (0u64..4, 0u64..1024, 1u64..5).prop_map(|(g, i, n)| (g * GIB1 + i * KIB4, n * KIB4)),
        3 => (0u64..4, 0u64..8, 1u64..3).prop_map(|(g, i, n)| (g * GIB1 + i * MIB2, n * MIB2)),
        1 => (0u64..4, 1u64..2).prop_map(|(g, n)| (g * GIB1, n * GIB1)),
        // Long mixed ranges: blocks of both sizes plus a 4 KiB tail.
        2 => (prop_oneof![(0u64..2048).prop_map(|i| i * MIB2), (0u64..4).prop_map(|g| g * GIB1)],
              0u64..700, 0u64..300)
            .prop_map(|(ia, n, k)| (ia, n * MIB2 + k * KIB4)),
    ];
    prop_oneof![
        20 => sized,
        1 => (0u64..0x1000, 0u64..3).prop_map(|(i, n)| (i * 0x800, n * 0x800)),
        1 => Just(((1u64 << ia_bits) - KIB4, 2 * KIB4)),
    ]
}

fn op(ia_bits: u32) -> impl Strategy<Value = Op> {
    let oa = prop_oneof![
        3 => (0u64..64).prop_map(|g| g * GIB1),
        3 => (0u64..4096).prop_map(|i| i * MIB2),
        2 => (0u64..(1 << 20)).prop_map(|i| i * KIB4),
    ];
    prop_oneof![
        4 => (range(ia_bits), oa, attrs())
            .prop_map(|((ia, size), oa, attrs)| Op::Map { ia, oa, size, attrs }),
        2 => range(ia_bits).prop_map(|(ia, size)| Op::Unmap { ia, size }),
        2 => (range(ia_bits), attrs()).prop_map(|((ia, size), attrs)| Op::Protect { ia, size, attrs }),
        2 => (0u64..4 * GIB1).prop_map(Op::Probe),
    ]
}

/// The error the mapper must give for a bad range, in its check order.
fn range_error(ia: u64, size: u64, ia_bits: u32) -> Option<MapError> {
    let limit = 1u64 << ia_bits;
    if size == 0 {
        Some(MapError::ZeroSize)
    } else if ia % KIB4 != 0 {
        Some(MapError::Misaligned { addr: ia })
    } else if size % KIB4 != 0 {
        Some(MapError::Misaligned { addr: size })
    } else if ia + size > limit {
        Some(MapError::OutOfRange {
            addr: ia.max(limit),
        })
    } else {
        None
    }
}

/// `ia` translates exactly as the model says, and the leaf the walk used
/// lies inside one model interval with a consistent output.
fn check<F: Format>(pt: &PageTable<F, Pool>, m: &Model, ia: u64) -> Result<(), TestCaseError> {
    let got = pt.translate(F::In::from_raw(ia));
    match model_lookup(m, ia) {
        None => prop_assert_eq!(got, Err(MapError::NotMapped { ia })),
        Some((s, e, oa, a)) => {
            let t = got.map_err(|e| TestCaseError::fail(alloc::format!("{ia:#x}: {e}")))?;
            prop_assert_eq!(t.oa.to_raw(), oa + (ia - s));
            prop_assert_eq!(t.leaf.attrs, a);
            let (ls, le) = (t.leaf.ia_base, t.leaf.ia_base + t.leaf.size.bytes());
            prop_assert!(
                s <= ls && le <= e,
                "leaf {:#x}..{:#x} outside {:#x}..{:#x}",
                ls,
                le,
                s,
                e
            );
        }
    }
    Ok(())
}

fn run_model<F: Format>(levels: u8, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut pt = PageTable::<F, Pool>::new(levels, pool()).unwrap();
    let ia_bits = pt.ia_bits();
    let mut m = Model::new();
    for op in ops {
        let (lo, hi) = match op {
            Op::Map {
                ia,
                oa,
                size,
                attrs,
            } => {
                let want = range_error(ia, size, ia_bits)
                    .or_else(|| {
                        model_find(&m, ia, ia + size, true)
                            .map(|at| MapError::AlreadyMapped { ia: at })
                    })
                    .map_or(Ok(()), Err);
                let got = pt.map(F::In::from_raw(ia), F::Out::from_raw(oa), size, attrs);
                prop_assert_eq!(got, want);
                if got.is_ok() {
                    m.insert(ia, (ia + size, oa, attrs));
                }
                (ia, ia.saturating_add(size))
            }
            Op::Unmap { ia, size } | Op::Protect { ia, size, .. } => {
                let want = range_error(ia, size, ia_bits)
                    .or_else(|| {
                        model_find(&m, ia, ia + size, false)
                            .map(|at| MapError::NotMapped { ia: at })
                    })
                    .map_or(Ok(()), Err);
                let got = match op {
                    Op::Protect { attrs, .. } => pt.protect(F::In::from_raw(ia), size, attrs),
                    _ => pt.unmap(F::In::from_raw(ia), size),
                };
                prop_assert_eq!(got, want);
                if got.is_ok() {
                    let removed = model_remove(&mut m, ia, ia + size);
                    if let Op::Protect { attrs, .. } = op {
                        for (s, e, oa, _) in removed {
                            m.insert(s, (e, oa, attrs));
                        }
                    }
                }
                (ia, ia.saturating_add(size))
            }
            Op::Probe(ia) => (ia, ia + 1),
        };
        for ia in [lo.saturating_sub(KIB4), lo, hi.saturating_sub(1), hi] {
            if ia >> ia_bits == 0 {
                check(&pt, &m, ia & !7)?;
            }
        }
    }
    // Every interval's ends and middle agree at the end.
    for (&s, &(e, _, _)) in &m {
        for ia in [s, s + (e - s) / 2, e - 1, e] {
            check(&pt, &m, ia)?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn stage2_3_levels_matches_model(ops in proptest::collection::vec(op(39), 1..40)) {
        run_model::<Stage2>(3, ops)?;
    }

    #[test]
    fn stage2_4_levels_matches_model(ops in proptest::collection::vec(op(48), 1..40)) {
        run_model::<Stage2>(4, ops)?;
    }

    #[test]
    fn stage1_matches_model(ops in proptest::collection::vec(op(39), 1..40)) {
        run_model::<Stage1>(3, ops)?;
    }

    #[test]
    fn npt_matches_model(ops in proptest::collection::vec(op(48), 1..40)) {
        run_model::<Npt>(4, ops)?;
    }

    #[test]
    fn ept_matches_model(ops in proptest::collection::vec(op(48), 1..40)) {
        run_model::<Ept>(4, ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A guest's own stage-1 tables are hostile input: whatever bytes they
    /// hold, a walk returns a result or an error and never panics, and a
    /// leaf it reports is aligned and inside the output size.
    #[test]
    fn walking_garbage_tables_never_panics(
        words in proptest::collection::vec(any::<u64>(), 512 * 4),
        pointers in proptest::collection::vec((0usize..512 * 4, 0u64..4), 0..64),
        vas in proptest::collection::vec(any::<u64>(), 1..32),
        levels in 3u8..5,
    ) {
        let base = 0x4000_0000u64;
        let mem = GuestRam::with_size(GuestAddress(base), 4 * 4096).unwrap();
        for (i, w) in words.iter().enumerate() {
            mem.store_u64(GuestAddress(base + 8 * i as u64), *w, core::sync::atomic::Ordering::Relaxed).unwrap();
        }
        // Some entries point back into the four tables so walks go deep.
        for (i, t) in pointers {
            let d = <Stage1 as Format>::table(base + t * 4096);
            mem.store_u64(GuestAddress(base + 8 * i as u64), d, core::sync::atomic::Ordering::Relaxed).unwrap();
        }
        for va in vas {
            let va = va & ((1 << (12 + 9 * u32::from(levels))) - 1);
            for root in [PhysAddr(base), PhysAddr(base + 4096), PhysAddr(!0xfff_u64)] {
                if let Ok(w) = walk::<Stage1, _>(&mem, root, levels, va) {
                    prop_assert!(w.steps >= 1 && w.steps <= levels);
                    if let Some(leaf) = w.leaf {
                        prop_assert_eq!(leaf.oa_base % leaf.size.bytes(), 0);
                        prop_assert!(leaf.oa_base < 1 << 48);
                        prop_assert!(leaf.ia_base <= va && va - leaf.ia_base < leaf.size.bytes());
                    }
                }
            }
        }
    }
}
