//! Bounded work per notification: a driver that keeps publishing while the
//! device drains (another vCPU, played by [`PublishingMemory`]) gets at most
//! a budget of chains per notify or poll, every request is served exactly
//! once and in order over repeated polls, interrupts and EVENT_IDX kicks stay
//! right, and stopping the queue or the device drops the deferred work.

use crate::blk::*;
use crate::device::{drain_queue, Drained, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1};
use crate::mmio::*;
use crate::queue::Queue;
use crate::testing::{
    check_transport_invariants, mmio_init, rd, wr, write_blk_header, Buf, DriverQueue, Publisher,
    PublishingMemory, RAM_BASE,
};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use hv_core::mem::GuestRam;
use hv_core::mmio::MmioDevice;
use hv_core::GuestAddress;

const HEADER: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_0000);
const DATA: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_1000);
const STATUS_BYTE: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_2000);
/// Used length of one served read request: 512 bytes and the status byte.
const READ_LEN: u32 = 513;

type Mem = Arc<PublishingMemory<GuestRam>>;
type Dev = MmioTransport<VirtioBlock<MemoryBackend>, Mem>;

/// A read of sector 0: header, 512 bytes, status.
fn read_request() -> Vec<Buf> {
    vec![
        Buf::r(HEADER, 16),
        Buf::w(DATA, 512),
        Buf::w(STATUS_BYTE, 1),
    ]
}

fn memory() -> Mem {
    let ram = GuestRam::with_size(RAM_BASE, 1 << 20).unwrap();
    write_blk_header(&ram, HEADER, VIRTIO_BLK_T_IN, 0);
    Arc::new(PublishingMemory::new(ram))
}

/// A virtio-blk transport with a queue of `qsize` entries, initialised by
/// a driver that will publish `total` reads from another vCPU.
fn rig(qsize: u16, event_idx: bool, total: u64) -> (Mem, Dev) {
    let mem = memory();
    let config = BlockConfig {
        logical_block_size: 512,
        ..BlockConfig::default()
    };
    let blk = VirtioBlock::new(MemoryBackend::new(1 << 20), config).unwrap();
    let mut dev = MmioTransport::new(blk, Arc::clone(&mem));
    let q = DriverQueue::new(mem.inner(), RAM_BASE, qsize);
    let wanted = VIRTIO_F_VERSION_1 | if event_idx { VIRTIO_F_EVENT_IDX } else { 0 };
    let features = mmio_init(&mut dev, wanted, core::slice::from_ref(&q)).unwrap();
    assert_eq!(features & VIRTIO_F_EVENT_IDX != 0, event_idx);
    mem.set_driver(Publisher::new(q, read_request(), total, event_idx));
    (mem, dev)
}

fn next_avail(dev: &Dev) -> u16 {
    dev.queues()[0].next_avail()
}

fn used_idx(mem: &Mem) -> u16 {
    mem.driver(|p, m| p.q.used_idx(m))
}

/// Take one kick the driver made, if any.
fn take_kick(mem: &Mem) -> bool {
    mem.driver(|p, _| {
        let k = p.kicks > 0;
        p.kicks -= u32::from(k);
        k
    })
}

/// Acknowledge the interrupt; whether the used-buffer cause was up.
fn ack(dev: &mut Dev) -> bool {
    let s = rd(dev, INTERRUPT_STATUS);
    wr(dev, INTERRUPT_ACK, s);
    s & INT_USED_BUFFER != 0
}

/// What the home loop of [`run_to_completion`] saw.
#[derive(Debug, Default)]
struct Run {
    notifies: u32,
    polls: u32,
    interrupts: u32,
}

/// One call into the device (a notify or a poll), checked: it served at
/// most `budget` chains and, unless the driver can suppress interrupts,
/// raised the interrupt for what it completed.
fn call(mem: &Mem, dev: &mut Dev, budget: usize, run: &mut Run, f: impl FnOnce(&mut Dev)) {
    let (before, used_before) = (next_avail(dev), used_idx(mem));
    f(dev);
    check_transport_invariants(dev);
    let consumed = usize::from(next_avail(dev).wrapping_sub(before));
    assert!(consumed <= budget, "{consumed} chains in one call");
    let irq = ack(dev);
    run.interrupts += u32::from(irq);
    if !mem.driver(|p, _| p.event_idx) && used_idx(mem) != used_before {
        assert!(
            irq,
            "completions without an interrupt (no suppression asked)"
        );
    }
}

/// The home's loop, one guest exit per round: a kick the driver made is a
/// QueueNotify write; after every exit the home polls while work is
/// deferred; with no kick pending the driver vCPU runs. A device that is
/// idle with requests outstanding and no kick coming has lost one.
fn run_to_completion(mem: &Mem, dev: &mut Dev, budget: usize) -> Run {
    let mut run = Run::default();
    for _ in 0..1_000_000 {
        if take_kick(mem) {
            run.notifies += 1;
            call(mem, dev, budget, &mut run, |d| wr(d, QUEUE_NOTIFY, 0));
        } else {
            mem.driver_step();
        }
        if dev.has_deferred_work() {
            run.polls += 1;
            call(mem, dev, budget, &mut run, |d| {
                let left = d.poll();
                assert_eq!(left, d.has_deferred_work());
            });
        } else if mem.driver(|p, _| p.kicks == 0) {
            // Idle device, no kick coming: the driver must be done.
            mem.driver_step();
            if mem.driver(|p, _| p.kicks == 0) {
                let (left, outstanding) = mem.driver(|p, _| (p.to_publish, p.outstanding()));
                assert_eq!(
                    (left, outstanding),
                    (0, 0),
                    "device idle with requests outstanding and no kick: one was lost"
                );
                return run;
            }
        }
    }
    panic!("the run did not finish");
}

fn check_all_served(mem: &Mem, total: usize) {
    mem.driver(|p, _| {
        assert_eq!(p.published.len(), total);
        assert_eq!(p.reaped.len(), total, "each request completed exactly once");
        assert!(p.reaped_in_order(), "completions in publish order");
        assert!(p.reaped.iter().all(|&(_, len)| len == READ_LEN));
    });
}

fn notify_and_poll_serve_at_most_the_budget_each(event_idx: bool) {
    const QSIZE: u16 = 16;
    const TOTAL: u64 = 3000;
    let (mem, mut dev) = rig(QSIZE, event_idx, TOTAL);
    assert_eq!(dev.chain_budget(), None, "default: the queue size");
    let run = run_to_completion(&mem, &mut dev, usize::from(QSIZE));
    check_all_served(&mem, TOTAL as usize);
    assert!(
        run.polls > 0,
        "the busy driver made the device defer work: {run:?}"
    );
    if !event_idx {
        assert!(run.interrupts > 0);
    }
    assert!(!dev.has_deferred_work());
    if event_idx {
        // Done: avail_event asks for the next entry again.
        assert_eq!(
            mem.driver(|p, m| p.q.avail_event(m)),
            next_avail(&dev),
            "notifications re-armed once the work ran out"
        );
    }
}

#[test]
fn busy_driver_gets_at_most_a_queue_size_per_call_and_every_request_once_in_order() {
    notify_and_poll_serve_at_most_the_budget_each(false);
}

#[test]
fn busy_driver_with_event_idx_gets_at_most_a_queue_size_per_call_and_loses_no_kick() {
    notify_and_poll_serve_at_most_the_budget_each(true);
}

#[test]
fn small_budgets_and_slow_drivers_lose_no_request_and_no_kick() {
    for event_idx in [false, true] {
        for budget in [1usize, 2, 3, 7] {
            for period in [1u32, 2, 3, 5] {
                let (mem, mut dev) = rig(8, event_idx, 400);
                dev.set_chain_budget(Some(budget));
                mem.driver(|p, _| p.period = period);
                run_to_completion(&mem, &mut dev, budget);
                check_all_served(&mem, 400);
            }
        }
    }
}

#[test]
fn endless_publisher_cannot_hold_a_notify_or_poll_beyond_the_budget() {
    let (mem, mut dev) = rig(16, true, u64::MAX);
    mem.driver_step();
    wr(&mut dev, QUEUE_NOTIFY, 0);
    assert_eq!(next_avail(&dev), 16, "one budget: the queue size");
    assert!(dev.has_deferred_work());
    for round in 2..50u16 {
        assert!(dev.poll(), "the driver never stops, so work is always left");
        assert_eq!(next_avail(&dev), 16 * round);
    }
    let served = mem.driver(|p, _| {
        assert!(p.reaped_in_order());
        p.reaped.len()
    });
    assert!(served >= 16 * 48);
}

/// Queue size for tests whose driver publishes while idle: room for 10
/// requests of 3 descriptors.
const IDLE_QSIZE: u16 = 32;

/// Publish `n` reads with the driver's other vCPU idle.
fn publish_idle(mem: &Mem, n: u64) {
    mem.driver(|p, _| {
        p.active = false;
        p.to_publish = n;
    });
    mem.driver_step();
    mem.driver(|p, _| p.kicks = 0);
}

fn deferred_work_interrupts_on_each_poll(event_idx: bool) {
    let (mem, mut dev) = rig(IDLE_QSIZE, event_idx, 0);
    dev.set_chain_budget(Some(2));
    publish_idle(&mem, 5);
    wr(&mut dev, QUEUE_NOTIFY, 0);
    for (served, left) in [(2u16, true), (4, true), (5, false)] {
        assert_eq!(next_avail(&dev), served);
        assert_eq!(used_idx(&mem), served);
        assert_eq!(dev.has_deferred_work(), left);
        assert!(ack(&mut dev), "used-buffer interrupt after {served}");
        // The driver reaps and, with EVENT_IDX, asks for the next one.
        mem.driver_step();
        if served < 5 {
            assert!(dev.poll() || served == 4);
        }
    }
    assert!(!dev.poll(), "nothing deferred: poll does nothing");
    assert!(!ack(&mut dev), "and raises nothing");
    assert_eq!(used_idx(&mem), 5);
    check_all_served(&mem, 5);
}

#[test]
fn deferred_work_raises_the_used_buffer_interrupt_on_each_poll() {
    deferred_work_interrupts_on_each_poll(false);
}

#[test]
fn deferred_work_with_event_idx_raises_the_interrupt_the_driver_asked_for() {
    deferred_work_interrupts_on_each_poll(true);
}

#[test]
fn a_notify_continues_deferred_work_where_it_stopped() {
    let (mem, mut dev) = rig(IDLE_QSIZE, false, 0);
    dev.set_chain_budget(Some(2));
    publish_idle(&mem, 5);
    wr(&mut dev, QUEUE_NOTIFY, 0);
    wr(&mut dev, QUEUE_NOTIFY, 0);
    assert_eq!(next_avail(&dev), 4);
    assert!(dev.has_deferred_work());
    assert!(!dev.poll());
    mem.driver_step();
    check_all_served(&mem, 5);
}

#[test]
fn event_idx_kicks_stay_suppressed_while_work_is_deferred() {
    let (mem, mut dev) = rig(IDLE_QSIZE, true, 0);
    dev.set_chain_budget(Some(2));
    publish_idle(&mem, 6);
    let avail_event = |mem: &Mem| mem.driver(|p, m| p.q.avail_event(m));
    assert_eq!(avail_event(&mem), 0);
    wr(&mut dev, QUEUE_NOTIFY, 0);
    assert!(dev.has_deferred_work());
    assert_eq!(avail_event(&mem), 0, "not re-armed while work is left");
    dev.poll();
    assert_eq!(avail_event(&mem), 0);
    assert!(!dev.poll());
    assert_eq!(avail_event(&mem), 6, "re-armed when the ring ran empty");
    // So the next publish kicks again.
    mem.driver(|p, _| p.to_publish = 1);
    mem.driver_step();
    assert!(take_kick(&mem));
}

#[test]
fn queue_ready_0_while_work_is_deferred_drops_it_cleanly() {
    let (mem, mut dev) = rig(IDLE_QSIZE, true, 0);
    dev.set_chain_budget(Some(2));
    publish_idle(&mem, 5);
    wr(&mut dev, QUEUE_NOTIFY, 0);
    assert!(dev.has_deferred_work());
    assert!(ack(&mut dev));
    wr(&mut dev, QUEUE_SEL, 0);
    wr(&mut dev, QUEUE_READY, 0);
    assert_eq!(rd(&mut dev, QUEUE_READY), 0);
    assert!(!dev.has_deferred_work());
    check_transport_invariants(&dev);
    assert!(!dev.poll());
    wr(&mut dev, QUEUE_NOTIFY, 0);
    assert_eq!(used_idx(&mem), 2, "nothing served after the stop");
    assert_eq!(next_avail(&dev), 2);
    assert!(!ack(&mut dev));
}

#[test]
fn device_reset_while_work_is_deferred_drops_it_cleanly() {
    let (mem, mut dev) = rig(IDLE_QSIZE, false, 0);
    dev.set_chain_budget(Some(2));
    publish_idle(&mem, 5);
    wr(&mut dev, QUEUE_NOTIFY, 0);
    assert!(dev.has_deferred_work());
    wr(&mut dev, STATUS, 0);
    assert!(!dev.has_deferred_work());
    assert!(!dev.poll());
    assert_eq!(used_idx(&mem), 2, "nothing served after the reset");
    assert!(!dev.interrupt_level());
    // The driver sets the device up again; the old requests are gone.
    let q = DriverQueue::new(mem.inner(), RAM_BASE, IDLE_QSIZE);
    mmio_init(&mut dev, VIRTIO_F_VERSION_1, core::slice::from_ref(&q)).unwrap();
    mem.set_driver(Publisher::new(q, read_request(), 3, false));
    let run = run_to_completion(&mem, &mut dev, 2);
    assert!(run.notifies > 0);
    check_all_served(&mem, 3);
}

#[test]
fn failed_or_broken_device_drops_deferred_work() {
    // The driver gives up (FAILED).
    let (mem, mut dev) = rig(IDLE_QSIZE, false, 0);
    dev.set_chain_budget(Some(2));
    publish_idle(&mem, 5);
    wr(&mut dev, QUEUE_NOTIFY, 0);
    let s = rd(&mut dev, STATUS);
    wr(&mut dev, STATUS, s | STATUS_FAILED);
    assert!(!dev.has_deferred_work());
    assert!(!dev.poll());
    assert_eq!(used_idx(&mem), 2);

    // The driver corrupts the available index while work is deferred: the
    // poll breaks the queue (rule Q3) instead of serving.
    let (mem, mut dev) = rig(IDLE_QSIZE, false, 0);
    dev.set_chain_budget(Some(2));
    publish_idle(&mem, 5);
    wr(&mut dev, QUEUE_NOTIFY, 0);
    mem.driver(|p, m| p.q.set_avail_idx(m, 200));
    assert!(!dev.poll());
    assert!(!dev.has_deferred_work());
    assert_ne!(dev.status() & STATUS_DEVICE_NEEDS_RESET, 0);
    assert_eq!(used_idx(&mem), 2);
    check_transport_invariants(&dev);
}

// Queue level: `drain_queue` itself.

fn queue_for(mem: &PublishingMemory<GuestRam>, size: u16, event_idx: bool) -> Queue {
    let q = mem.driver(|p, _| p.q.clone());
    let mut dq = Queue::new(size);
    dq.set_desc_table(q.desc);
    dq.set_avail_ring(q.avail);
    dq.set_used_ring(q.used);
    dq.set_features(event_idx, false);
    dq.set_ready(mem).unwrap();
    dq
}

fn drain(q: &mut Queue, mem: &PublishingMemory<GuestRam>, budget: usize) -> Drained {
    let mut scratch = Vec::new();
    drain_queue(q, mem, &mut scratch, budget, |_, _| 1).unwrap()
}

fn publishing(size: u16, event_idx: bool, total: u64) -> PublishingMemory<GuestRam> {
    let ram = GuestRam::with_size(RAM_BASE, 1 << 20).unwrap();
    let q = DriverQueue::new(&ram, RAM_BASE, size);
    let mem = PublishingMemory::new(ram);
    mem.set_driver(Publisher::new(q, vec![Buf::w(DATA, 1)], total, event_idx));
    mem
}

#[test]
fn drain_stops_at_the_budget_and_says_work_is_left() {
    let mem = publishing(8, true, u64::MAX);
    let mut q = queue_for(&mem, 8, true);
    for _ in 0..20 {
        let d = drain(&mut q, &mem, 5);
        assert_eq!(d.consumed, 5);
        assert!(d.work_left);
    }
    assert_eq!(q.next_avail(), 100);
    mem.driver_step();
    mem.driver(|p, _| assert!(p.reaped_in_order() && p.reaped.len() == 100));
}

#[test]
fn budget_spent_just_as_the_ring_empties_leaves_no_work() {
    let mem = publishing(8, true, 0);
    let mut q = queue_for(&mem, 8, true);
    mem.driver(|p, _| {
        p.active = false;
        p.to_publish = 4;
    });
    mem.driver_step();
    let d = drain(&mut q, &mem, 4);
    assert_eq!((d.consumed, d.work_left), (4, false));
    assert_eq!(mem.driver(|p, m| p.q.avail_event(m)), 4, "re-armed");
}

#[test]
fn entries_found_by_the_rearm_check_without_budget_are_work_left() {
    let mem = publishing(8, true, 0);
    let mut q = queue_for(&mem, 8, true);
    mem.driver(|p, _| {
        p.active = false;
        p.to_publish = 2;
    });
    mem.driver_step();
    // The loads of the available index in a pass with budget 2: two pops,
    // the has-more check (ring empty), then the re-check after re-arming.
    // The driver publishes one more right there.
    mem.driver(|p, _| {
        p.active = true;
        p.period = 4;
        p.to_publish = 1;
        p.kicks = 0;
    });
    let d = drain(&mut q, &mem, 2);
    assert_eq!((d.consumed, d.work_left), (2, true));
    // Re-armed before the driver published, so it kicked too; either way
    // the entry is served by the next pass, once.
    mem.driver(|p, _| p.active = false);
    let d = drain(&mut q, &mem, 2);
    assert_eq!((d.consumed, d.work_left), (1, false));
    mem.driver_step();
    mem.driver(|p, _| assert!(p.reaped_in_order() && p.reaped.len() == 3));
}

#[test]
fn zero_budget_serves_nothing_and_reports_waiting_entries() {
    let mem = publishing(8, false, 0);
    let mut q = queue_for(&mem, 8, false);
    let d = drain(&mut q, &mem, 0);
    assert_eq!(d, Drained::default());
    mem.driver(|p, _| {
        p.active = false;
        p.to_publish = 1;
    });
    mem.driver_step();
    let d = drain(&mut q, &mem, 0);
    assert_eq!((d.consumed, d.work_left, d.notify), (0, true, false));
    assert_eq!(mem.driver(|p, m| p.q.used_idx(m)), 0, "nothing completed");
}
