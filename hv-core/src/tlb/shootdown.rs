//! TLB shootdown across vCPUs without locks on the lookup path.
//!
//! Each vCPU owns a [`VcpuTlb`]; they share one [`Shootdown`]. Whoever
//! changes a page table publishes the matching [`Invalidate`]: it goes into
//! a ring slot, then the domain's generation is bumped (release). A lookup
//! first compares the generation it has seen with the current one (one
//! acquire load, no lock, no write to shared memory); only when they differ
//! does it replay the ring from where it was — or flush everything if the
//! ring has lapped it or a slot is being rewritten. It then acknowledges the
//! generation it reached, which [`Shootdown::wait_acked`] uses to tell the
//! publisher when a table frame may be freed.
//!
//! Guarantee: a lookup that starts after `publish(op)` returned (in the
//! happens-before sense, e.g. after reading a flag the publisher set
//! afterwards) never returns a translation `op` removed.

use super::{Invalidate, Tlb, TlbEntry, TlbHit, TlbKey};
use crate::paging::{Asid, Vmid};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};

/// Invalidations remembered; a vCPU further behind than this flushes all.
pub const RING: usize = 64;

/// One published invalidation: `seq` is its generation once complete.
#[derive(Debug, Default)]
struct RingSlot {
    seq: AtomicU64,
    op: AtomicU64,
    va: AtomicU64,
}

/// The shared half: generation, ring and per-vCPU acknowledgements.
#[derive(Debug)]
pub struct Shootdown {
    generation: AtomicU64,
    ring: [RingSlot; RING],
    /// Publishers take turns (shootdowns are rare; lookups never take it).
    publishing: AtomicBool,
    /// Generation each vCPU has caught up with.
    acks: Vec<AtomicU64>,
}

const KIND_ALL: u64 = 0;
const KIND_VMID: u64 = 1;
const KIND_ASID: u64 = 2;
const KIND_VA: u64 = 3;
const KIND_VA_ALL_ASIDS: u64 = 4;

fn encode(op: Invalidate) -> (u64, u64) {
    let pack = |kind: u64, v: Vmid, a: u16| kind | (u64::from(v.0) << 8) | (u64::from(a) << 24);
    match op {
        Invalidate::All => (KIND_ALL, 0),
        Invalidate::Vmid(v) => (pack(KIND_VMID, v, 0), 0),
        Invalidate::Asid(v, a) => (pack(KIND_ASID, v, a.0), 0),
        Invalidate::Va {
            vmid,
            asid: Some(a),
            va,
        } => (pack(KIND_VA, vmid, a.0), va),
        Invalidate::Va {
            vmid,
            asid: None,
            va,
        } => (pack(KIND_VA_ALL_ASIDS, vmid, 0), va),
    }
}

fn decode(word: u64, va: u64) -> Invalidate {
    let vmid = Vmid((word >> 8) as u16);
    let asid = Asid((word >> 24) as u16);
    match word & 0xff {
        KIND_VMID => Invalidate::Vmid(vmid),
        KIND_ASID => Invalidate::Asid(vmid, asid),
        KIND_VA => Invalidate::Va {
            vmid,
            asid: Some(asid),
            va,
        },
        KIND_VA_ALL_ASIDS => Invalidate::Va {
            vmid,
            asid: None,
            va,
        },
        // KIND_ALL, and anything unexpected: the safe answer.
        _ => Invalidate::All,
    }
}

impl Shootdown {
    /// A domain for `vcpus` vCPUs.
    pub fn new(vcpus: usize) -> Arc<Self> {
        Arc::new(Shootdown {
            generation: AtomicU64::new(0),
            ring: core::array::from_fn(|_| RingSlot::default()),
            publishing: AtomicBool::new(false),
            acks: (0..vcpus).map(|_| AtomicU64::new(0)).collect(),
        })
    }

    /// The latest generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Publish `op` (after the page-table change it covers); returns its
    /// generation.
    pub fn publish(&self, op: Invalidate) -> u64 {
        while self
            .publishing
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        let g = self.generation.load(Ordering::Relaxed) + 1;
        let slot = &self.ring[(g % RING as u64) as usize];
        let (word, va) = encode(op);
        // Seqlock write: mark the slot busy, fill it, then stamp it.
        slot.seq.store(0, Ordering::Relaxed);
        fence(Ordering::Release);
        slot.op.store(word, Ordering::Relaxed);
        slot.va.store(va, Ordering::Relaxed);
        slot.seq.store(g, Ordering::Release);
        self.generation.store(g, Ordering::Release);
        self.publishing.store(false, Ordering::Release);
        g
    }

    /// The invalidation of generation `g`, or `None` if its slot has been
    /// reused (or is being rewritten).
    fn read(&self, g: u64) -> Option<Invalidate> {
        let slot = &self.ring[(g % RING as u64) as usize];
        let s1 = slot.seq.load(Ordering::Acquire);
        let word = slot.op.load(Ordering::Relaxed);
        let va = slot.va.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        let s2 = slot.seq.load(Ordering::Relaxed);
        (s1 == g && s2 == g).then(|| decode(word, va))
    }

    /// Whether every vCPU has caught up with generation `g` (then frames
    /// unmapped before `g` was published may be freed). Spins at most
    /// `spins` times; a vCPU that is not running must [`VcpuTlb::sync`]
    /// before it runs again, or be waited for.
    pub fn wait_acked(&self, g: u64, spins: u64) -> bool {
        for _ in 0..=spins {
            if self.acks.iter().all(|a| a.load(Ordering::Acquire) >= g) {
                return true;
            }
            core::hint::spin_loop();
        }
        false
    }
}

/// A vCPU's TLB, kept coherent with the others through a [`Shootdown`].
#[derive(Debug)]
pub struct VcpuTlb<T: Tlb> {
    tlb: T,
    domain: Arc<Shootdown>,
    cpu: usize,
    seen: u64,
    full_flushes: u64,
}

impl<T: Tlb> VcpuTlb<T> {
    /// vCPU `cpu`'s TLB in `domain`; `None` if `cpu` is out of the
    /// domain's range.
    pub fn new(tlb: T, domain: Arc<Shootdown>, cpu: usize) -> Option<Self> {
        if cpu >= domain.acks.len() {
            return None;
        }
        let seen = domain.generation();
        domain.acks[cpu].store(seen, Ordering::Release);
        Some(VcpuTlb {
            tlb,
            domain,
            cpu,
            seen,
            full_flushes: 0,
        })
    }

    /// Catch up with published invalidations.
    #[inline(always)]
    pub fn sync(&mut self) {
        let g = self.domain.generation.load(Ordering::Acquire);
        if g != self.seen {
            self.catch_up(g);
        }
    }

    #[cold]
    fn catch_up(&mut self, g: u64) {
        let lapped = g - self.seen > RING as u64;
        let mut flush = lapped;
        if !lapped {
            for n in self.seen + 1..=g {
                match self.domain.read(n) {
                    Some(op) => self.tlb.invalidate(op),
                    None => {
                        flush = true;
                        break;
                    }
                }
            }
        }
        if flush {
            self.tlb.invalidate(Invalidate::All);
            self.full_flushes += 1;
        }
        self.seen = g;
        // `cpu` was checked against `acks` in `new`.
        self.domain.acks[self.cpu].store(g, Ordering::Release);
    }

    /// Look up after catching up with shootdowns.
    #[inline(always)]
    pub fn lookup(&mut self, key: TlbKey) -> Option<TlbHit> {
        self.sync();
        self.tlb.lookup(key)
    }

    /// Cache a translation walked by this vCPU.
    ///
    /// Walk only after a [`lookup`](Self::lookup) (or [`sync`](Self::sync))
    /// so that any invalidation published before the walk is applied
    /// before this entry is inserted, or replayed after it.
    #[inline]
    pub fn insert(&mut self, entry: TlbEntry) {
        self.tlb.insert(entry);
    }

    /// The TLB itself (stats, local invalidation).
    pub fn tlb(&mut self) -> &mut T {
        &mut self.tlb
    }

    /// Times this vCPU had to flush everything (ring lapped or racing).
    pub fn full_flushes(&self) -> u64 {
        self.full_flushes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::{Attrs, PageSize};
    use crate::tlb::{Replacement, SetAssocTlb};

    fn entry(va: u64, pa: u64) -> TlbEntry {
        TlbEntry {
            vmid: Vmid(1),
            asid: Asid(1),
            va,
            pa,
            size: PageSize::Size4K,
            attrs: Attrs::RW,
        }
    }

    fn key(va: u64) -> TlbKey {
        TlbKey {
            vmid: Vmid(1),
            asid: Asid(1),
            va,
        }
    }

    fn vcpu(domain: &Arc<Shootdown>, cpu: usize) -> VcpuTlb<SetAssocTlb> {
        let tlb = SetAssocTlb::new(16, 4, Replacement::Lru).unwrap();
        VcpuTlb::new(tlb, domain.clone(), cpu).unwrap()
    }

    #[test]
    fn published_invalidation_reaches_every_vcpu() {
        let d = Shootdown::new(2);
        let (mut a, mut b) = (vcpu(&d, 0), vcpu(&d, 1));
        for t in [&mut a, &mut b] {
            t.insert(entry(0x1000, 0x8000));
            t.insert(entry(0x2000, 0x9000));
        }
        let g = d.publish(Invalidate::Va {
            vmid: Vmid(1),
            asid: Some(Asid(1)),
            va: 0x1abc,
        });
        assert!(!d.wait_acked(g, 0), "nobody has looked yet");
        for t in [&mut a, &mut b] {
            assert_eq!(t.lookup(key(0x1000)), None);
            assert_eq!(t.lookup(key(0x2004)).map(|h| h.pa), Some(0x9004));
            assert_eq!(t.full_flushes(), 0);
        }
        assert!(d.wait_acked(g, 0));
    }

    #[test]
    fn a_vcpu_lapped_by_the_ring_flushes_everything() {
        let d = Shootdown::new(1);
        let mut a = vcpu(&d, 0);
        a.insert(entry(0x1000, 0x8000));
        for i in 0..=RING as u64 {
            d.publish(Invalidate::Asid(Vmid(9), Asid(i as u16)));
        }
        assert_eq!(a.lookup(key(0x1000)), None);
        assert_eq!(a.full_flushes(), 1);
    }

    #[test]
    fn ops_survive_the_ring_encoding() {
        let ops = [
            Invalidate::All,
            Invalidate::Vmid(Vmid(0xffff)),
            Invalidate::Asid(Vmid(3), Asid(0xfffe)),
            Invalidate::Va {
                vmid: Vmid(7),
                asid: Some(Asid(9)),
                va: u64::MAX,
            },
            Invalidate::Va {
                vmid: Vmid(7),
                asid: None,
                va: 0x1000,
            },
        ];
        for op in ops {
            let (w, va) = encode(op);
            assert_eq!(decode(w, va), op);
        }
        assert!(VcpuTlb::new(
            SetAssocTlb::new(1, 1, Replacement::Random).unwrap(),
            Shootdown::new(1),
            1
        )
        .is_none());
    }
}
