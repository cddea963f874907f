//! Rules Q1-Q11 and notification suppression, at the queue level.

use crate::device::{drain_queue, Drained};
use crate::queue::*;
use crate::testing::{at, Access, Buf, DriverQueue, RecordingMemory, RAM_BASE};
use alloc::vec;
use alloc::vec::Vec;
use hv_core::mem::{GuestMemory, GuestRam};
use hv_core::GuestAddress;

const BUF: GuestAddress = GuestAddress(RAM_BASE.0 + 0x8000);
/// Used length the test handler reports for a chain it served.
const SERVED: u32 = 7;

fn ram(size: u64) -> GuestRam {
    GuestRam::with_size(RAM_BASE, size).unwrap()
}

fn setup_with<M: GuestMemory>(
    mem: &M,
    size: u16,
    indirect: bool,
    event_idx: bool,
) -> (DriverQueue, Queue) {
    let dq = DriverQueue::new(mem, RAM_BASE, size);
    let mut q = Queue::new(size);
    q.set_size(size);
    q.set_desc_table(dq.desc);
    q.set_avail_ring(dq.avail);
    q.set_used_ring(dq.used);
    q.set_features(event_idx, indirect);
    q.set_ready(mem).unwrap();
    (dq, q)
}

/// Drain with a handler that records each served chain and returns SERVED;
/// the budget (the queue size) always suffices here. The result is whether
/// to notify.
fn drain<M: GuestMemory>(
    q: &mut Queue,
    mem: &M,
) -> (Result<bool, QueueError>, Vec<Vec<Descriptor>>) {
    let (r, served) = drain_budget(q, mem, usize::from(q.size()));
    if let Ok(d) = r {
        assert!(!d.work_left, "a full ring fits in a queue-size budget");
    }
    (r.map(|d| d.notify), served)
}

/// Drain at most `budget` chains, recording each served chain.
fn drain_budget<M: GuestMemory>(
    q: &mut Queue,
    mem: &M,
    budget: usize,
) -> (Result<Drained, QueueError>, Vec<Vec<Descriptor>>) {
    let mut served = Vec::new();
    let mut scratch = Vec::new();
    let r = drain_queue(q, mem, &mut scratch, budget, |_, d| {
        served.push(d.to_vec());
        SERVED
    });
    (r, served)
}

fn used_all<M: GuestMemory>(dq: &mut DriverQueue, mem: &M) -> Vec<(u32, u32)> {
    let mut v = Vec::new();
    while let Some(u) = dq.pop_used(mem) {
        v.push(u);
    }
    v
}

fn chain_result<M: GuestMemory>(
    q: &Queue,
    mem: &M,
    head: u16,
) -> Result<Vec<Descriptor>, ChainError> {
    q.chain(mem, head).collect()
}

#[test]
fn valid_chain_is_served_and_completed() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    let head = dq.add_chain(&mem, &[Buf::r(BUF, 16), Buf::w(at(BUF, 16), 512)]);
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert_eq!(served.len(), 1);
    assert_eq!(served[0][1].addr, at(BUF, 16));
    assert!(served[0][1].is_write_only());
    assert_eq!(used_all(&mut dq, &mem), vec![(u32::from(head), SERVED)]);
}

#[test]
fn q1_queue_size_zero_not_power_of_two_or_above_max_is_refused() {
    let mem = ram(1 << 20);
    let dq = DriverQueue::new(&mem, RAM_BASE, 8);
    for size in [0u16, 3, 6, 512] {
        let mut q = Queue::new(256);
        q.set_size(size);
        q.set_desc_table(dq.desc);
        q.set_avail_ring(dq.avail);
        q.set_used_ring(dq.used);
        assert_eq!(q.set_ready(&mem), Err(QueueError::BadSize(size)));
        assert!(!q.ready());
        // Nothing divides by the size or indexes with it while not ready.
        assert_eq!(q.pop_avail(&mem), Err(QueueError::NotReady));
        assert_eq!(q.add_used(&mem, 0, 0), Err(QueueError::NotReady));
        assert_eq!(q.needs_notification(&mem), Err(QueueError::NotReady));
        assert_eq!(q.enable_notification(&mem), Err(QueueError::NotReady));
    }
}

#[test]
fn q2_misaligned_or_out_of_ram_rings_are_refused() {
    let mem = ram(1 << 20);
    let dq = DriverQueue::new(&mem, RAM_BASE, 8);
    let end = RAM_BASE.0 + (1 << 20);
    type Setter = fn(&mut Queue, GuestAddress);
    let cases: [(Setter, GuestAddress, QueueError); 7] = [
        (
            Queue::set_desc_table,
            at(dq.desc, 8),
            QueueError::Misaligned(at(dq.desc, 8)),
        ),
        (
            Queue::set_avail_ring,
            at(dq.avail, 1),
            QueueError::Misaligned(at(dq.avail, 1)),
        ),
        (
            Queue::set_used_ring,
            at(dq.used, 2),
            QueueError::Misaligned(at(dq.used, 2)),
        ),
        (
            Queue::set_desc_table,
            GuestAddress(end - 64),
            QueueError::RingOutOfRange(GuestAddress(end - 64)),
        ),
        (
            Queue::set_avail_ring,
            GuestAddress(0x1000),
            QueueError::RingOutOfRange(GuestAddress(0x1000)),
        ),
        (
            Queue::set_used_ring,
            GuestAddress(end - 8),
            QueueError::RingOutOfRange(GuestAddress(end - 8)),
        ),
        (
            Queue::set_used_ring,
            GuestAddress(u64::MAX - 31),
            QueueError::RingOutOfRange(GuestAddress(u64::MAX - 31)),
        ),
    ];
    for (set, addr, err) in cases {
        let mut q = Queue::new(8);
        q.set_desc_table(dq.desc);
        q.set_avail_ring(dq.avail);
        q.set_used_ring(dq.used);
        set(&mut q, addr);
        assert_eq!(q.set_ready(&mem), Err(err));
        assert!(!q.ready());
    }
}

#[test]
fn q3_avail_index_more_than_queue_size_ahead_breaks_queue() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    dq.set_avail_idx(&mem, 9);
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(
        r,
        Err(QueueError::AvailIndexTooFarAhead {
            next_avail: 0,
            avail_idx: 9
        })
    );
    assert!(served.is_empty());
    assert!(q.is_broken());
    // Not spun on: later calls fail at once, and nothing is completed.
    dq.set_avail_idx(&mem, 1);
    assert_eq!(drain(&mut q, &mem).0, Err(QueueError::Broken));
    assert_eq!(dq.used_idx(&mem), 0);
    // Only a reset brings it back.
    q.reset();
    assert!(!q.is_broken());
}

#[test]
fn q3_avail_index_exactly_queue_size_ahead_is_fine() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    for i in 0..8u64 {
        dq.add_chain(&mem, &[Buf::w(at(BUF, i * 16), 16)]);
    }
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert_eq!(served.len(), 8);
    assert_eq!(used_all(&mut dq, &mem).len(), 8);
}

#[test]
fn q4_head_index_out_of_range_completes_with_len_0() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    dq.publish(&mem, 8);
    dq.publish(&mem, u16::MAX);
    assert_eq!(
        chain_result(&q, &mem, 8),
        Err(ChainError::HeadOutOfRange(8))
    );
    let good = dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert_eq!(served.len(), 1);
    assert_eq!(
        used_all(&mut dq, &mem),
        vec![(8, 0), (u32::from(u16::MAX), 0), (u32::from(good), SERVED)]
    );
}

#[test]
fn q4_next_index_out_of_range_completes_with_len_0() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    dq.write_desc(&mem, 0, BUF.0, 16, VIRTQ_DESC_F_NEXT, 8);
    dq.publish(&mem, 0);
    assert_eq!(
        chain_result(&q, &mem, 0),
        Err(ChainError::NextOutOfRange(8))
    );
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert!(served.is_empty());
    assert_eq!(used_all(&mut dq, &mem), vec![(0, 0)]);
}

#[test]
fn q5_descriptor_cycle_stops_after_queue_size_descriptors() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    dq.write_desc(&mem, 0, BUF.0, 16, VIRTQ_DESC_F_NEXT, 1);
    dq.write_desc(&mem, 1, BUF.0, 16, VIRTQ_DESC_F_NEXT, 0);
    let items: Vec<_> = q.chain(&mem, 0).collect();
    assert_eq!(items.len(), 9, "8 descriptors, then the error");
    assert_eq!(items[8], Err(ChainError::TooLong));
    // A self-loop as well.
    dq.write_desc(&mem, 2, BUF.0, 16, VIRTQ_DESC_F_NEXT, 2);
    dq.publish(&mem, 0);
    dq.publish(&mem, 2);
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert!(served.is_empty());
    assert_eq!(used_all(&mut dq, &mem), vec![(0, 0), (2, 0)]);
}

#[test]
fn q5_chain_of_exactly_queue_size_descriptors_is_valid() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    let bufs: Vec<Buf> = (0..8u64).map(|i| Buf::r(at(BUF, i * 16), 16)).collect();
    let head = dq.add_chain(&mem, &bufs);
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].len(), 8);
    assert_eq!(used_all(&mut dq, &mem), vec![(u32::from(head), SERVED)]);
}

#[test]
fn q6_sum_of_lengths_above_u32_max_is_rejected() {
    // 4097 descriptors of 1 MiB each (all inside RAM) add up to > 2^32 - 1.
    let mem = ram(2 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8192, false, false);
    let big = GuestAddress(RAM_BASE.0 + (1 << 20));
    let bufs: Vec<Buf> = (0..4097).map(|_| Buf::r(big, 1 << 20)).collect();
    let head = dq.add_chain(&mem, &bufs);
    let items: Vec<_> = q.chain(&mem, head).collect();
    assert_eq!(items.len(), 4096, "4095 fit, the 4096th overflows");
    assert_eq!(items.last(), Some(&Err(ChainError::LengthOverflow)));
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert!(served.is_empty());
    assert_eq!(used_all(&mut dq, &mem), vec![(u32::from(head), 0)]);
}

#[test]
fn q7_indirect_chain_is_followed_when_negotiated_and_need_not_be_aligned() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, true, false);
    let table = at(BUF, 0x1003); // deliberately unaligned
    let head = dq.write_indirect(&mem, table, &[Buf::r(BUF, 16), Buf::w(at(BUF, 512), 512)]);
    dq.publish(&mem, head);
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].len(), 2);
    assert_eq!(served[0][1].len, 512);
    assert_eq!(used_all(&mut dq, &mem), vec![(u32::from(head), SERVED)]);
}

#[test]
fn q7_indirect_inside_indirect_is_rejected() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, true, false);
    let inner = at(BUF, 0x2000);
    crate::testing::write_desc_at(&mem, inner, BUF.0, 16, 0, 0);
    let table = at(BUF, 0x1000);
    crate::testing::write_desc_at(&mem, table, inner.0, 16, VIRTQ_DESC_F_INDIRECT, 0);
    dq.write_desc(&mem, 0, table.0, 16, VIRTQ_DESC_F_INDIRECT, 0);
    assert_eq!(chain_result(&q, &mem, 0), Err(ChainError::NestedIndirect));
    dq.publish(&mem, 0);
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert!(served.is_empty());
    assert_eq!(used_all(&mut dq, &mem), vec![(0, 0)]);
}

#[test]
fn q7_indirect_table_length_not_multiple_of_16_is_rejected() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, true, false);
    for (i, len) in [(0u16, 24u32), (1, 0), (2, 16 * 9)] {
        dq.write_desc(&mem, i, at(BUF, 0x1000).0, len, VIRTQ_DESC_F_INDIRECT, 0);
        assert_eq!(
            chain_result(&q, &mem, i),
            Err(ChainError::BadIndirectLength),
            "len {len}"
        );
        dq.publish(&mem, i);
    }
    let (_, served) = drain(&mut q, &mem);
    assert!(served.is_empty());
    assert_eq!(used_all(&mut dq, &mem), vec![(0, 0), (1, 0), (2, 0)]);
}

#[test]
fn q7_indirect_without_negotiation_is_rejected() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    let head = dq.write_indirect(&mem, at(BUF, 0x1000), &[Buf::r(BUF, 16)]);
    dq.publish(&mem, head);
    assert_eq!(
        chain_result(&q, &mem, head),
        Err(ChainError::IndirectNotNegotiated)
    );
    let (_, served) = drain(&mut q, &mem);
    assert!(served.is_empty());
    assert_eq!(used_all(&mut dq, &mem), vec![(u32::from(head), 0)]);
}

#[test]
fn q7_indirect_with_next_or_not_at_head_is_rejected() {
    let mem = ram(1 << 20);
    let (dq, q) = setup_with(&mem, 8, true, false);
    let table = at(BUF, 0x1000);
    crate::testing::write_desc_at(&mem, table, BUF.0, 16, 0, 0);
    dq.write_desc(
        &mem,
        0,
        table.0,
        16,
        VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT,
        1,
    );
    assert_eq!(
        chain_result(&q, &mem, 0),
        Err(ChainError::MisplacedIndirect)
    );
    dq.write_desc(&mem, 2, BUF.0, 16, VIRTQ_DESC_F_NEXT, 3);
    dq.write_desc(&mem, 3, table.0, 16, VIRTQ_DESC_F_INDIRECT, 0);
    assert_eq!(
        chain_result(&q, &mem, 2),
        Err(ChainError::MisplacedIndirect)
    );
}

#[test]
fn q8_descriptor_at_end_of_address_space_is_rejected_without_touching_memory() {
    let mem = RecordingMemory::new(ram(1 << 20));
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    dq.write_desc(&mem, 0, 0xffff_ffff_ffff_ff00, 512, VIRTQ_DESC_F_WRITE, 0);
    dq.publish(&mem, 0);
    mem.take();
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert!(served.is_empty());
    let log = mem.take();
    assert!(!log.is_empty());
    for a in log {
        let (Access::Read { addr, ok, .. } | Access::Write { addr, ok, .. }) = a;
        assert!(ok, "{a:?}");
        assert!(addr < RAM_BASE.0 + (1 << 20), "{a:?}");
    }
    assert_eq!(used_all(&mut dq, &mem), vec![(0, 0)]);
    // Outside RAM without overflow is refused the same way.
    dq.write_desc(&mem, 1, 0x1000, 512, VIRTQ_DESC_F_WRITE, 0);
    assert_eq!(chain_result(&q, &mem, 1), Err(ChainError::OutOfRam));
    assert_eq!(chain_result(&q, &mem, 0), Err(ChainError::AddressOverflow));
}

#[test]
fn q9_readable_descriptor_after_writable_is_rejected() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    let head = dq.add_chain(&mem, &[Buf::w(BUF, 16), Buf::r(at(BUF, 16), 16)]);
    assert_eq!(
        chain_result(&q, &mem, head),
        Err(ChainError::ReadableAfterWritable)
    );
    let (_, served) = drain(&mut q, &mem);
    assert!(served.is_empty());
    assert_eq!(used_all(&mut dq, &mem), vec![(u32::from(head), 0)]);
}

#[test]
fn q10_parse_failure_completes_with_len_0_and_queue_goes_on() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    let bad = dq.add_chain(&mem, &[Buf::w(BUF, 16), Buf::r(BUF, 16)]);
    let good = dq.add_chain(&mem, &[Buf::r(BUF, 16), Buf::w(BUF, 16)]);
    dq.publish(&mem, 200);
    let good2 = dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    let (r, served) = drain(&mut q, &mem);
    assert_eq!(r, Ok(true));
    assert_eq!(served.len(), 2);
    assert_eq!(
        used_all(&mut dq, &mem),
        vec![
            (u32::from(bad), 0),
            (u32::from(good), SERVED),
            (200, 0),
            (u32::from(good2), SERVED)
        ]
    );
}

#[test]
fn q11_head_reused_while_in_flight_is_rejected() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    let head = dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    assert_eq!(q.pop_avail(&mem), Ok(Some(head)));
    dq.publish(&mem, head);
    assert_eq!(q.pop_avail(&mem), Err(QueueError::HeadInFlight(head)));
    assert_eq!(q.pop_avail(&mem), Ok(None), "the duplicate was consumed");
    q.add_used(&mem, head, 0).unwrap();
    // Once completed the head may be offered again.
    dq.publish(&mem, head);
    assert_eq!(q.pop_avail(&mem), Ok(Some(head)));
    assert!(!q.is_broken());
}

#[test]
fn event_idx_interrupts_only_when_used_event_is_crossed() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, true);
    dq.set_used_event(&mem, 1);
    dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    // used idx goes 0 -> 1: used_event 1 is not in [0, 1).
    assert_eq!(drain(&mut q, &mem).0, Ok(false));
    assert_eq!(dq.avail_event(&mem), 1, "device asks to hear about entry 1");
    dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    // used idx goes 1 -> 2: crosses used_event 1.
    assert_eq!(drain(&mut q, &mem).0, Ok(true));
    assert_eq!(dq.avail_event(&mem), 2);
    // A batch that jumps over used_event still interrupts once.
    dq.set_used_event(&mem, 3);
    for _ in 0..3 {
        dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    }
    assert_eq!(drain(&mut q, &mem).0, Ok(true));
    // Nothing new used: no interrupt.
    assert_eq!(drain(&mut q, &mem).0, Ok(false));
}

#[test]
fn no_interrupt_flag_suppresses_without_event_idx() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, false);
    dq.set_avail_flags(&mem, VIRTQ_AVAIL_F_NO_INTERRUPT);
    dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    assert_eq!(drain(&mut q, &mem).0, Ok(false));
    dq.set_avail_flags(&mem, 0);
    dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    assert_eq!(drain(&mut q, &mem).0, Ok(true));
}

#[test]
fn indices_wrap_around_u16() {
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 4, false, false);
    let mut completed = 0u32;
    for _ in 0..70_000u32 {
        dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
        let (r, served) = drain(&mut q, &mem);
        assert_eq!(r, Ok(true));
        assert_eq!(served.len(), 1);
        completed += used_all(&mut dq, &mem).len() as u32;
    }
    assert_eq!(completed, 70_000);
    assert_eq!(q.next_used(), (70_000u32 % 65_536) as u16);
}

#[test]
fn event_idx_rearm_rechecks_for_entries_published_meanwhile() {
    // The interleaving a lost-notification bug needs, played out in order:
    // the device finds the ring empty, the driver publishes (and, seeing the
    // old avail_event, does not notify), then the device re-arms.
    let mem = ram(1 << 20);
    let (mut dq, mut q) = setup_with(&mem, 8, false, true);
    dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    assert_eq!(drain(&mut q, &mem).1.len(), 1);
    assert_eq!(dq.avail_event(&mem), 1);
    assert_eq!(q.pop_avail(&mem), Ok(None));
    dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    dq.add_chain(&mem, &[Buf::r(BUF, 16)]);
    // The driver's second publish saw avail_event 1 and old idx 2: no kick.
    assert_eq!(q.enable_notification(&mem), Ok(true), "late entries found");
    assert_eq!(dq.avail_event(&mem), 1);
    let (r, served) = drain(&mut q, &mem);
    // used_event stayed 0, so used 1 -> 3 does not interrupt.
    assert_eq!(r, Ok(false));
    assert_eq!(served.len(), 2);
    assert_eq!(dq.avail_event(&mem), 3);
}
