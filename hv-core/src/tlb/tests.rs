//! TLB tests: unit behaviour of each operation and a model check that the
//! TLB never disagrees with the page tables it caches.

use super::*;
use crate::addr::{GuestAddress, PhysAddr};
use crate::paging::aarch64::Stage2;
use crate::paging::tests::pool_of;
use crate::paging::{FramePool, PageTable};
use proptest::prelude::*;

const K4: u64 = 1 << 12;
const M2: u64 = 1 << 21;
const G1: u64 = 1 << 30;

fn e(vmid: u16, asid: u16, va: u64, pa: u64, size: PageSize, attrs: Attrs) -> TlbEntry {
    TlbEntry {
        vmid: Vmid(vmid),
        asid: Asid(asid),
        va,
        pa,
        size,
        attrs,
    }
}

fn k(vmid: u16, asid: u16, va: u64) -> TlbKey {
    TlbKey {
        vmid: Vmid(vmid),
        asid: Asid(asid),
        va,
    }
}

#[test]
fn bad_geometry_is_refused() {
    assert_eq!(
        SetAssocTlb::new(3, 4, Replacement::Lru).unwrap_err(),
        TlbError::BadGeometry
    );
    assert_eq!(
        SetAssocTlb::new(4, 64, Replacement::Lru).unwrap_err(),
        TlbError::BadGeometry
    );
    assert_eq!(
        SetAssocTlb::new(0, 4, Replacement::Lru).unwrap_err(),
        TlbError::BadGeometry
    );
}

#[test]
fn hits_every_page_size_with_the_offset() {
    let mut t = SetAssocTlb::new(64, 4, Replacement::TreePlru).unwrap();
    t.insert(e(1, 1, 0x1000, 0xa000, PageSize::Size4K, Attrs::RW));
    t.insert(e(
        1,
        1,
        0x4020_0000,
        0x8000_0000,
        PageSize::Size2M,
        Attrs::READ,
    ));
    t.insert(e(
        1,
        1,
        0x8000_0000,
        0x1_0000_0000,
        PageSize::Size1G,
        Attrs::RWX,
    ));
    assert_eq!(
        t.lookup(k(1, 1, 0x1fff)),
        Some(TlbHit {
            pa: 0xafff,
            attrs: Attrs::RW,
            size: PageSize::Size4K
        })
    );
    assert_eq!(
        t.lookup(k(1, 1, 0x403f_fff0)).map(|h| h.pa),
        Some(0x801f_fff0)
    );
    assert_eq!(
        t.lookup(k(1, 1, 0xbfff_ffff)).map(|h| (h.pa, h.size)),
        Some((0x1_3fff_ffff, PageSize::Size1G))
    );
    // Other VMID, other ASID, next page: misses.
    assert_eq!(t.lookup(k(2, 1, 0x1000)), None);
    assert_eq!(t.lookup(k(1, 2, 0x1000)), None);
    assert_eq!(t.lookup(k(1, 1, 0x2000)), None);
    assert_eq!(
        t.stats(),
        TlbStats {
            hits: 3,
            misses: 3,
            evictions: 0,
            invalidated: 0
        }
    );
}

#[test]
fn global_entries_match_every_asid_but_not_other_vms() {
    let mut t = SetAssocTlb::new(16, 2, Replacement::Lru).unwrap();
    t.insert(e(
        1,
        5,
        0x1000,
        0xa000,
        PageSize::Size4K,
        Attrs::RW | Attrs::GLOBAL,
    ));
    assert!(t.lookup(k(1, 9, 0x1000)).is_some());
    assert!(t.lookup(k(2, 5, 0x1000)).is_none());
    // TLBI ASIDE1 keeps global entries; TLBI VAE1 drops them.
    t.invalidate(Invalidate::Asid(Vmid(1), Asid(5)));
    assert!(t.lookup(k(1, 9, 0x1000)).is_some());
    t.invalidate(Invalidate::Va {
        vmid: Vmid(1),
        asid: Some(Asid(3)),
        va: 0x1000,
    });
    assert!(t.lookup(k(1, 9, 0x1000)).is_none());
}

#[test]
fn each_invalidation_drops_exactly_what_it_names() {
    // The 4 KiB page and the 2 MiB block fall in different sets, so all
    // six entries fit without evictions.
    let mut t = SetAssocTlb::new(64, 4, Replacement::Random).unwrap();
    let fill = |t: &mut SetAssocTlb| {
        t.invalidate(Invalidate::All);
        for (v, a) in [(1, 1), (1, 2), (2, 1)] {
            t.insert(e(v, a, 0x1000, 0xa000, PageSize::Size4K, Attrs::RW));
            t.insert(e(v, a, 0xa0_0000, 0x40_0000, PageSize::Size2M, Attrs::RW));
        }
    };
    let present = |t: &mut SetAssocTlb| {
        let mut v = alloc::vec::Vec::new();
        for (vm, a) in [(1, 1), (1, 2), (2, 1)] {
            for va in [0x1000, 0xa0_0000] {
                v.push(t.lookup(k(vm, a, va)).is_some());
            }
        }
        v
    };
    fill(&mut t);
    t.invalidate(Invalidate::Vmid(Vmid(1)));
    assert_eq!(present(&mut t), [false, false, false, false, true, true]);
    fill(&mut t);
    t.invalidate(Invalidate::Asid(Vmid(1), Asid(2)));
    assert_eq!(present(&mut t), [true, true, false, false, true, true]);
    fill(&mut t);
    // Any address inside the 2 MiB block names it.
    t.invalidate(Invalidate::Va {
        vmid: Vmid(1),
        asid: None,
        va: 0xbf_f000,
    });
    assert_eq!(present(&mut t), [true, false, true, false, true, true]);
    fill(&mut t);
    t.invalidate(Invalidate::All);
    assert_eq!(t.occupancy(), 0);
    assert!(t.stats().invalidated >= 6 + 2 + 2 + 6);
}

#[test]
fn lru_evicts_the_least_recently_used_way() {
    // One set, two ways.
    let mut t = SetAssocTlb::new(1, 2, Replacement::Lru).unwrap();
    t.insert(e(1, 1, 0x1000, 0x1000, PageSize::Size4K, Attrs::RW));
    t.insert(e(1, 1, 0x2000, 0x2000, PageSize::Size4K, Attrs::RW));
    assert!(t.lookup(k(1, 1, 0x1000)).is_some());
    t.insert(e(1, 1, 0x3000, 0x3000, PageSize::Size4K, Attrs::RW));
    assert!(t.lookup(k(1, 1, 0x1000)).is_some());
    assert!(t.lookup(k(1, 1, 0x2000)).is_none());
    assert_eq!(t.stats().evictions, 1);
}

#[test]
fn tree_plru_never_evicts_the_most_recent_way() {
    let mut t = SetAssocTlb::new(1, 8, Replacement::TreePlru).unwrap();
    for i in 0..8u64 {
        t.insert(e(1, 1, i * K4, i * K4, PageSize::Size4K, Attrs::RW));
    }
    for i in 8..64u64 {
        let recent = (i - 1) * K4;
        assert!(t.lookup(k(1, 1, recent)).is_some());
        t.insert(e(1, 1, i * K4, i * K4, PageSize::Size4K, Attrs::RW));
        assert!(t.lookup(k(1, 1, recent)).is_some(), "evicted {recent:#x}");
    }
    assert_eq!(t.stats().evictions, 56);
    assert_eq!(t.occupancy(), 8);
}

#[test]
fn two_level_promotes_l2_hits_into_l1() {
    let l1 = SetAssocTlb::new(1, 2, Replacement::Lru).unwrap();
    let l2 = SetAssocTlb::new(64, 4, Replacement::Lru).unwrap();
    let mut t = TwoLevelTlb::new(l1, l2);
    for i in 0..4u64 {
        t.insert(e(
            1,
            1,
            i * K4,
            0x10_0000 + i * K4,
            PageSize::Size4K,
            Attrs::RW,
        ));
    }
    // Page 0 fell out of the 2-entry L1 but L2 still has it.
    assert!(t.l1.lookup(k(1, 1, 0)).is_none());
    assert_eq!(t.lookup(k(1, 1, 8)).map(|h| h.pa), Some(0x10_0008));
    assert!(t.l1.lookup(k(1, 1, 0)).is_some());
    t.invalidate(Invalidate::Vmid(Vmid(1)));
    assert!(t.lookup(k(1, 1, 0)).is_none());
    assert_eq!(t.stats().misses, 1);
}

#[test]
fn invalidating_one_page_drops_the_block_that_held_it() {
    let mut pt: Table = PageTable::new(3, pool_of(1 << 20)).unwrap();
    let mut t = SetAssocTlb::new(16, 4, Replacement::Lru).unwrap();
    pt.map(GuestAddress(0), PhysAddr(M2), M2, Attrs::RW)
        .unwrap();
    let leaf = pt.translate(GuestAddress(0)).unwrap().leaf;
    assert_eq!(leaf.size, PageSize::Size2M);
    t.insert(e(1, 1, leaf.ia_base, leaf.oa_base, leaf.size, leaf.attrs));
    pt.unmap(GuestAddress(5 * K4), K4).unwrap();
    t.invalidate(Invalidate::Va {
        vmid: Vmid(1),
        asid: Some(Asid(1)),
        va: 5 * K4,
    });
    assert_eq!(t.lookup(k(1, 1, 5 * K4)), None);
    assert_eq!(t.lookup(k(1, 1, 0)), None, "the whole block entry is gone");
}

#[test]
fn micro_tlb_drops_every_fragment_of_a_named_block() {
    let mut t = MicroTlb::<64>::new();
    // Two fragments of one 2 MiB block, and an unrelated page.
    for va in [0x20_0000, 0x20_5000] {
        t.insert(e(1, 1, va, 0x40_0000, PageSize::Size2M, Attrs::RW));
    }
    t.insert(e(1, 1, 0x1000, 0x9000, PageSize::Size4K, Attrs::RW));
    assert_eq!(
        t.lookup(k(1, 1, 0x20_5008)),
        Some(TlbHit {
            pa: 0x40_5008,
            attrs: Attrs::RW,
            size: PageSize::Size2M
        })
    );
    t.invalidate(Invalidate::Va {
        vmid: Vmid(1),
        asid: Some(Asid(1)),
        va: 0x3f_f000,
    });
    assert_eq!(t.lookup(k(1, 1, 0x20_0000)), None);
    assert_eq!(t.lookup(k(1, 1, 0x20_5000)), None);
    assert!(t.lookup(k(1, 1, 0x1000)).is_some());
    assert_eq!(t.stats().invalidated, 2);
}

// ---- model: the TLB against the page tables ----------------------------

type Table = PageTable<Stage2, FramePool<crate::mem::GuestRam, crate::frame::BitmapFrameAllocator>>;

/// Two VMs with two address spaces each: context `c` is VMID `c / 2 + 1`,
/// ASID `c % 2 + 1`, with its own table.
const CONTEXTS: usize = 4;

fn ctx_key(c: usize, va: u64) -> TlbKey {
    k((c / 2 + 1) as u16, (c % 2 + 1) as u16, va)
}

#[derive(Clone, Debug)]
enum Op {
    Map {
        c: usize,
        ia: u64,
        oa: u64,
        size: u64,
        w: bool,
    },
    Unmap {
        c: usize,
        ia: u64,
        size: u64,
    },
    Protect {
        c: usize,
        ia: u64,
        size: u64,
        w: bool,
    },
    Lookup {
        c: usize,
        va: u64,
    },
    Flush(Invalidate),
}

/// How the hypervisor invalidates after a change (any of these suffices).
#[derive(Clone, Copy, Debug)]
enum How {
    ByVa,
    ByVaAllAsids,
    ByAsid,
    ByVmid,
    All,
}

fn range() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![
        4 => (0u64..64, 1u64..4).prop_map(|(i, n)| (i * K4, n * K4)),
        3 => (0u64..4, 1u64..3).prop_map(|(i, n)| (i * M2, n * M2)),
        1 => Just((0, G1)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0..CONTEXTS;
    let oa = prop_oneof![
        (0u64..8).prop_map(|i| i * G1),
        (0u64..512).prop_map(|i| i * M2 + (i % 3) * K4)
    ];
    let flush = prop_oneof![
        Just(Invalidate::All),
        (1u16..3).prop_map(|v| Invalidate::Vmid(Vmid(v))),
        (1u16..3, 1u16..3).prop_map(|(v, a)| Invalidate::Asid(Vmid(v), Asid(a))),
        (1u16..3, 0u64..G1 + M2).prop_map(|(v, va)| Invalidate::Va {
            vmid: Vmid(v),
            asid: None,
            va
        }),
    ];
    prop_oneof![
        2 => (c.clone(), range(), oa, any::<bool>())
            .prop_map(|(c, (ia, size), oa, w)| Op::Map { c, ia, oa, size, w }),
        1 => (c.clone(), range()).prop_map(|(c, (ia, size))| Op::Unmap { c, ia, size }),
        1 => (c.clone(), range(), any::<bool>())
            .prop_map(|(c, (ia, size), w)| Op::Protect { c, ia, size, w }),
        8 => (c, prop_oneof![3 => 0u64..64 * K4, 2 => 0u64..5 * M2, 1 => 0u64..G1 + M2])
            .prop_map(|(c, va)| Op::Lookup { c, va }),
        1 => flush.prop_map(Op::Flush),
    ]
}

fn how() -> impl Strategy<Value = How> {
    prop_oneof![
        4 => Just(How::ByVa),
        1 => Just(How::ByVaAllAsids),
        1 => Just(How::ByAsid),
        1 => Just(How::ByVmid),
        1 => Just(How::All),
    ]
}

fn invalidate_range(tlb: &mut impl Tlb, c: usize, ia: u64, size: u64, how: How) {
    let key = ctx_key(c, 0);
    match how {
        // One TLBI per 4 KiB page, as a guest would; blocks are named by
        // any address inside them, so large ranges go by ASID instead.
        How::ByVa | How::ByVaAllAsids if size <= 16 * K4 => {
            for va in (ia..ia + size).step_by(K4 as usize) {
                let asid = matches!(how, How::ByVa).then_some(key.asid);
                tlb.invalidate(Invalidate::Va {
                    vmid: key.vmid,
                    asid,
                    va,
                });
            }
        }
        How::ByVa | How::ByVaAllAsids | How::ByAsid => {
            tlb.invalidate(Invalidate::Asid(key.vmid, key.asid))
        }
        How::ByVmid => tlb.invalidate(Invalidate::Vmid(key.vmid)),
        How::All => tlb.invalidate(Invalidate::All),
    }
}

/// Look `va` up in context `c`: a hit must be what the table says now; a
/// miss walks the table and fills the TLB, as a vCPU would.
fn lookup(tlb: &mut impl Tlb, tables: &[Table], c: usize, va: u64) -> Result<(), TestCaseError> {
    let key = ctx_key(c, va);
    let truth = tables[c].translate(GuestAddress(va)).ok();
    match tlb.lookup(key) {
        Some(hit) => {
            let t = truth.ok_or_else(|| {
                TestCaseError::fail(alloc::format!(
                    "stale hit {hit:?} for unmapped {va:#x} in context {c}"
                ))
            })?;
            prop_assert_eq!(hit.pa, t.oa.raw(), "stale output for {:#x}", va);
            prop_assert_eq!(hit.attrs, t.leaf.attrs, "stale attrs for {:#x}", va);
        }
        None => {
            if let Some(t) = truth {
                tlb.insert(TlbEntry {
                    vmid: key.vmid,
                    asid: key.asid,
                    va: t.leaf.ia_base,
                    pa: t.leaf.oa_base,
                    size: t.leaf.size,
                    attrs: t.leaf.attrs,
                });
            }
        }
    }
    Ok(())
}

fn run(mut tlb: impl Tlb, ops: Vec<(Op, How)>) -> Result<(), TestCaseError> {
    let mut tables: Vec<Table> = (0..CONTEXTS)
        .map(|_| PageTable::new(3, pool_of(1 << 20)).unwrap())
        .collect();
    let attrs = |w: bool| if w { Attrs::RW } else { Attrs::READ };
    for (op, how) in ops {
        match op {
            Op::Map { c, ia, oa, size, w } => {
                // A map of an unmapped range needs no TLBI.
                let _ = tables[c].map(GuestAddress(ia), PhysAddr(oa), size, attrs(w));
            }
            Op::Unmap { c, ia, size } | Op::Protect { c, ia, size, .. } => {
                let done = match op {
                    Op::Protect { w, .. } => tables[c].protect(GuestAddress(ia), size, attrs(w)),
                    _ => tables[c].unmap(GuestAddress(ia), size),
                };
                if done.is_ok() {
                    invalidate_range(&mut tlb, c, ia, size, how);
                    // The changed range's ends, at once.
                    for va in [ia, ia + size - 1] {
                        lookup(&mut tlb, &tables, c, va)?;
                    }
                }
            }
            Op::Flush(op) => tlb.invalidate(op),
            Op::Lookup { c, va } => lookup(&mut tlb, &tables, c, va)?,
        }
    }
    Ok(())
}

fn ops() -> impl Strategy<Value = Vec<(Op, How)>> {
    proptest::collection::vec((op(), how()), 1..120)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn lru_tlb_never_returns_a_removed_translation(ops in ops()) {
        run(SetAssocTlb::new(16, 4, Replacement::Lru).unwrap(), ops)?;
    }

    #[test]
    fn plru_tlb_never_returns_a_removed_translation(ops in ops()) {
        run(SetAssocTlb::new(2, 4, Replacement::TreePlru).unwrap(), ops)?;
    }

    #[test]
    fn random_tlb_never_returns_a_removed_translation(ops in ops()) {
        run(SetAssocTlb::new(8, 1, Replacement::Random).unwrap(), ops)?;
    }

    #[test]
    fn micro_tlb_never_returns_a_removed_translation(ops in ops()) {
        run(MicroTlb::<8>::new(), ops)?;
    }

    #[test]
    fn micro_in_front_of_set_assoc_never_returns_a_removed_translation(ops in ops()) {
        let l2 = SetAssocTlb::new(8, 2, Replacement::Random).unwrap();
        run(TwoLevelTlb::new(MicroTlb::<4>::new(), l2), ops)?;
    }

    #[test]
    fn two_level_tlb_never_returns_a_removed_translation(ops in ops()) {
        let l1 = SetAssocTlb::new(1, 4, Replacement::TreePlru).unwrap();
        let l2 = SetAssocTlb::new(8, 4, Replacement::Lru).unwrap();
        run(TwoLevelTlb::new(l1, l2), ops)?;
    }
}
