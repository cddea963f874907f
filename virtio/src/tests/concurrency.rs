//! A driver thread and a device thread over shared guest memory, with
//! EVENT_IDX on both sides: a liveness check of the suppression protocol
//! (a lost notification or interrupt stalls the run, caught by a deadline,
//! not by timing the test). The race windows are narrow, so this is a smoke
//! test; `event_idx_rearm_rechecks_for_entries_published_meanwhile` plays
//! the critical interleaving deterministically.
//!
//! The device drains with a budget smaller than the queue, as the transport
//! does against a driver that keeps publishing: when a pass stops with work
//! left it goes on by itself (a home's poll), since no kick will come for
//! it.

use crate::device::drain_queue;
use crate::queue::Queue;
use crate::testing::{need_event, Buf, DriverQueue, RAM_BASE};
use alloc::sync::Arc;
use core::sync::atomic::{fence, AtomicBool, Ordering};
use hv_core::mem::GuestRam;
use std::thread;
use std::time::{Duration, Instant};

const QSIZE: u16 = 16;
/// Chains per pass: less than a full ring, so passes stop with work left.
const BUDGET: usize = 3;
const TOTAL: u32 = 20_000;
const STALL: Duration = Duration::from_secs(20);

#[test]
fn event_idx_loses_no_notification_between_threads() {
    let mem = Arc::new(GuestRam::with_size(RAM_BASE, 1 << 20).unwrap());
    let mut dq = DriverQueue::new(&*mem, RAM_BASE, QSIZE);
    let mut q = Queue::new(QSIZE);
    q.set_desc_table(dq.desc);
    q.set_avail_ring(dq.avail);
    q.set_used_ring(dq.used);
    q.set_features(true, false);
    q.set_ready(&*mem).unwrap();

    let kick = Arc::new(AtomicBool::new(false));
    let irq = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let device = {
        let (mem, kick, irq, stop) = (mem.clone(), kick.clone(), irq.clone(), stop.clone());
        thread::spawn(move || {
            let mut scratch = alloc::vec::Vec::new();
            let mut served = 0u32;
            let mut deferred = false;
            while !stop.load(Ordering::Acquire) {
                if kick.swap(false, Ordering::AcqRel) || deferred {
                    let d = drain_queue(&mut q, &*mem, &mut scratch, BUDGET, |_, _| {
                        served += 1;
                        1
                    })
                    .expect("queue stays healthy");
                    assert!(d.consumed <= BUDGET);
                    deferred = d.work_left;
                    if d.notify {
                        irq.store(true, Ordering::Release);
                    }
                } else {
                    thread::yield_now();
                }
            }
            served
        })
    };

    let buf = hv_core::GuestAddress(RAM_BASE.0 + 0x8000);
    let (mut submitted, mut completed) = (0u32, 0u32);
    let mut used_seen = 0u16;
    let mut kicks = 0u32;
    while completed < TOTAL {
        while submitted - completed < u32::from(QSIZE) && submitted < TOTAL {
            let old = dq.avail_idx();
            dq.add_chain(&*mem, &[Buf::w(buf, 1)]);
            submitted += 1;
            // Publish before reading avail_event (virtqueue_kick_prepare).
            fence(Ordering::SeqCst);
            if need_event(dq.avail_event(&*mem), dq.avail_idx(), old) {
                kick.store(true, Ordering::Release);
                kicks += 1;
            }
        }
        // Reap; if nothing is there, re-arm used_event and re-check before
        // waiting for the interrupt (virtqueue_enable_cb).
        let deadline = Instant::now() + STALL;
        loop {
            let mut progress = false;
            while dq.pop_used(&*mem).is_some() {
                completed += 1;
                used_seen = used_seen.wrapping_add(1);
                progress = true;
            }
            if progress {
                break;
            }
            dq.set_used_event(&*mem, used_seen);
            fence(Ordering::SeqCst);
            if dq.used_idx(&*mem) != used_seen {
                continue;
            }
            while !irq.swap(false, Ordering::AcqRel) {
                assert!(
                    Instant::now() < deadline,
                    "stalled: {completed}/{TOTAL} done, {submitted} submitted"
                );
                thread::yield_now();
            }
        }
    }
    stop.store(true, Ordering::Release);
    let served = device.join().unwrap();
    assert_eq!(served, TOTAL);
    // The device only ever ran because the driver kicked it.
    assert!((1..=TOTAL).contains(&kicks));
}
