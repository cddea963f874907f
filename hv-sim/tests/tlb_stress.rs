//! Multi-threaded TLB shootdown stress test.
//!
//! One "hypervisor" thread keeps remapping guest pages to new host frames
//! and publishing the matching invalidation; several vCPU threads, each with
//! its own lock-free TLB, translate those pages all the while (walking the
//! shared stage-2 table on a miss). Every output address names the version
//! of the mapping it came from, and the writer publishes "version v is
//! current" only after the shootdown for it. The property: a translation a
//! vCPU starts after it has seen version v is never older than v — no vCPU
//! ever uses a mapping that was already shot down.

use hv_core::frame::{BitmapFrameAllocator, MemoryRange, NodeId, NumaPolicy};
use hv_core::mem::GuestRam;
use hv_core::paging::aarch64::Stage2;
use hv_core::paging::{Asid, Attrs, FramePool, PageTable, Vmid};
use hv_core::tlb::shootdown::{Shootdown, VcpuTlb};
use hv_core::tlb::{
    Invalidate, MicroTlb, Replacement, SetAssocTlb, Tlb, TlbEntry, TlbKey, TwoLevelTlb,
};
use hv_core::{GuestAddress, PhysAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

type Table = PageTable<Stage2, FramePool<GuestRam, BitmapFrameAllocator>>;

/// Few pages, all of which fit the TLBs: a stale entry survives unless the
/// shootdown removes it, so a broken shootdown shows at once.
const PAGES: u64 = 16;
const PAGE: u64 = 4096;
const IPA: u64 = 0x4000_0000;
/// Output addresses: `FRAMES + (version * PAGES + page) * PAGE`.
const FRAMES: u64 = 0x1_0000_0000;
const VMID: Vmid = Vmid(3);
const READERS: usize = 3;
const REMAPS: u64 = 20_000;

fn pa_of(page: u64, version: u64) -> u64 {
    FRAMES + (version * PAGES + page) * PAGE
}

/// (page, version) an output address encodes.
fn decode(pa: u64) -> (u64, u64) {
    let n = (pa - FRAMES) / PAGE;
    (n % PAGES, n / PAGES)
}

fn table() -> Table {
    let pool = 0x8000_0000;
    let size = 1 << 20;
    let mem = GuestRam::with_size(GuestAddress(pool), size).expect("table memory");
    let map = [MemoryRange {
        base: PhysAddr(pool),
        size_bytes: size,
        node: NodeId(0),
    }];
    let alloc = BitmapFrameAllocator::new(&map, NumaPolicy::Local).expect("allocator");
    let mut pt = PageTable::new(3, FramePool { mem, alloc }).expect("table");
    for p in 0..PAGES {
        pt.map(
            GuestAddress(IPA + p * PAGE),
            PhysAddr(pa_of(p, 0)),
            PAGE,
            Attrs::RW,
        )
        .expect("initial map");
    }
    pt
}

/// xorshift: each thread its own sequence, no shared state.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[derive(Debug, Default)]
struct ReaderReport {
    lookups: u64,
    hits: u64,
    walks: u64,
    full_flushes: u64,
}

#[test]
fn no_vcpu_uses_a_shot_down_translation() {
    let pt = Arc::new(RwLock::new(table()));
    let domain = Shootdown::new(READERS);
    let committed: Arc<Vec<AtomicU64>> = Arc::new((0..PAGES).map(|_| AtomicU64::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));

    let readers: Vec<_> = (0..READERS)
        .map(|cpu| {
            let (pt, committed, done) = (pt.clone(), committed.clone(), done.clone());
            // vCPU 0's L2 is tiny so that evictions and refills happen
            // all the time; the others' hold every page.
            let (sets, ways) = if cpu == 0 { (1, 2) } else { (4, 4) };
            let tlb = TwoLevelTlb::new(
                MicroTlb::<16>::new(),
                SetAssocTlb::new(sets, ways, Replacement::TreePlru).expect("l2"),
            );
            let mut vcpu = VcpuTlb::new(tlb, domain.clone(), cpu).expect("vcpu");
            std::thread::spawn(move || {
                let mut rng = 0x9e37_79b9_7f4a_7c15 ^ (cpu as u64 + 1);
                let mut report = ReaderReport::default();
                while !done.load(Ordering::Acquire) {
                    let page = next(&mut rng) % PAGES;
                    // Whatever was committed before the lookup starts must
                    // be visible to it.
                    let floor = committed[page as usize].load(Ordering::Acquire);
                    let va = IPA + page * PAGE + ((next(&mut rng) % PAGE) & !7);
                    let key = TlbKey {
                        vmid: VMID,
                        asid: Asid(0),
                        va,
                    };
                    let pa = match vcpu.lookup(key) {
                        Some(hit) => {
                            report.hits += 1;
                            hit.pa
                        }
                        None => {
                            report.walks += 1;
                            let t = pt
                                .read()
                                .expect("table lock")
                                .translate(GuestAddress(va))
                                .expect("every page stays mapped");
                            vcpu.insert(TlbEntry {
                                vmid: VMID,
                                asid: Asid(0),
                                va: t.leaf.ia_base,
                                pa: t.leaf.oa_base,
                                size: t.leaf.size,
                                attrs: t.leaf.attrs,
                            });
                            t.oa.raw()
                        }
                    };
                    report.lookups += 1;
                    let (got_page, version) = decode(pa & !(PAGE - 1));
                    assert_eq!(got_page, page, "translation of another page");
                    assert!(
                        version >= floor,
                        "vCPU {cpu} used version {version} of page {page} after version {floor} was shot down"
                    );
                    assert_eq!(pa & (PAGE - 1), va & (PAGE - 1));
                }
                // Catch up with the last shootdowns before leaving.
                vcpu.sync();
                report.full_flushes = vcpu.full_flushes();
                let _ = vcpu.tlb().stats();
                report
            })
        })
        .collect();

    // The writer: remap a random page to its next version, shoot it down,
    // then declare the version current. Mix in the other TLBI forms.
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut last_gen = 0;
    let mut acked_waits = 0u64;
    for n in 0..REMAPS {
        let page = next(&mut rng) % PAGES;
        let v = committed[page as usize].load(Ordering::Relaxed) + 1;
        let ipa = GuestAddress(IPA + page * PAGE);
        {
            let mut t = pt.write().expect("table lock");
            t.unmap(ipa, PAGE).expect("unmap");
            t.map(ipa, PhysAddr(pa_of(page, v)), PAGE, Attrs::RW)
                .expect("map");
        }
        let op = match n % 97 {
            0 => Invalidate::All,
            1 => Invalidate::Vmid(VMID),
            2 => Invalidate::Asid(VMID, Asid(0)),
            3 => Invalidate::Va {
                vmid: VMID,
                asid: Some(Asid(0)),
                va: ipa.raw() + 0x123,
            },
            _ => Invalidate::Va {
                vmid: VMID,
                asid: None,
                va: ipa.raw(),
            },
        };
        last_gen = domain.publish(op);
        committed[page as usize].store(v, Ordering::Release);
        // Now and then wait, as before freeing the old frame, for every
        // vCPU to have applied the shootdown.
        if n % 1000 == 999 && domain.wait_acked(last_gen, 1 << 24) {
            acked_waits += 1;
        }
    }
    done.store(true, Ordering::Release);

    let reports: Vec<ReaderReport> = readers
        .into_iter()
        .map(|h| h.join().expect("a vCPU thread failed"))
        .collect();
    assert!(
        domain.wait_acked(last_gen, 0),
        "every vCPU caught up at exit"
    );
    assert!(
        acked_waits > 0,
        "vCPUs acknowledged shootdowns while running"
    );
    for r in &reports {
        assert!(r.lookups > 0 && r.hits > 0 && r.walks > 0, "{r:?}");
    }
    let lookups: u64 = reports.iter().map(|r| r.lookups).sum();
    let flushes: u64 = reports.iter().map(|r| r.full_flushes).sum();
    println!("{REMAPS} remaps, {lookups} checked lookups, {flushes} full flushes: {reports:?}");
}
