//! What a transport needs from a virtio device, and the common loop that
//! drains a queue.

use crate::queue::{ChainError, Descriptor, Queue, QueueError};
use alloc::vec::Vec;
use hv_core::mem::GuestMemory;

/// VIRTIO_F_INDIRECT_DESC.
pub const VIRTIO_F_INDIRECT_DESC: u64 = 1 << 28;
/// VIRTIO_F_EVENT_IDX.
pub const VIRTIO_F_EVENT_IDX: u64 = 1 << 29;
/// VIRTIO_F_VERSION_1.
pub const VIRTIO_F_VERSION_1: u64 = 1 << 32;

/// A virtio device model, independent of the transport.
pub trait VirtioDevice: Send {
    /// Virtio device ID (2 for block).
    fn device_id(&self) -> u32;
    /// Features the device offers.
    fn device_features(&self) -> u64;
    /// QueueNumMax of each queue; the number of queues is the length.
    fn queue_max_sizes(&self) -> &[u16];
    /// Read device configuration space; bytes beyond it read as 0.
    fn read_config(&self, offset: u64, data: &mut [u8]);
    /// Write device configuration space (ignored by default).
    fn write_config(&mut self, offset: u64, data: &[u8]) {
        let _ = (offset, data);
    }
    /// The driver's features, accepted at FEATURES_OK (a subset of
    /// [`VirtioDevice::device_features`]).
    fn ack_features(&mut self, features: u64);
    /// Serve the available requests of queue `index`, at most `budget`
    /// chains of them (use [`drain_queue`]). [`Drained::notify`] when the
    /// driver wants a used-buffer notification, [`Drained::work_left`] when
    /// the budget ran out first; an error broke the queue.
    fn process_queue<M: GuestMemory + ?Sized>(
        &mut self,
        index: usize,
        queue: &mut Queue,
        mem: &M,
        budget: usize,
    ) -> Result<Drained, QueueError>;
    /// Back to the state before feature negotiation.
    fn reset(&mut self);
}

/// What one bounded pass over a queue did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Available entries consumed (chains served or refused, duplicate
    /// heads skipped); at most the budget.
    pub consumed: usize,
    /// The driver wants a used-buffer notification.
    pub notify: bool,
    /// The budget ran out while the driver still had entries available:
    /// call again (the queue continues where this pass stopped). While work
    /// is left, EVENT_IDX notifications stay suppressed (`avail_event` is
    /// not moved), so the caller, not a driver kick, must bring the next
    /// pass.
    pub work_left: bool,
}

/// Drain `queue`, consuming at most `budget` available entries: for each
/// available chain, collect its descriptors into `scratch` (bounded by the
/// queue size) and let `handle` serve it and return the used length. A
/// malformed chain is completed with length 0 without calling `handle`
/// (rules Q4-Q10); a duplicate in-flight head is skipped (Q11) and counts
/// against the budget.
///
/// When the ring runs empty within the budget, the device re-arms
/// notifications (with EVENT_IDX it moves `avail_event` to the next entry)
/// and re-checks, so no request published meanwhile is missed; entries
/// found by that re-check are served while budget is left, or reported as
/// [`Drained::work_left`]. When the budget runs out first, notifications
/// are left as they are and `work_left` is set: the queue's state
/// (`next_avail`) says where the next call goes on, so nothing is served
/// twice or skipped.
///
/// The budget exists because the driver may keep publishing while the
/// device drains (from another vCPU): without it, one notification could
/// keep the hypervisor busy for as long as the guest likes. A budget of 0
/// consumes nothing and reports `work_left` if anything is available.
pub fn drain_queue<M, F>(
    queue: &mut Queue,
    mem: &M,
    scratch: &mut Vec<Descriptor>,
    budget: usize,
    mut handle: F,
) -> Result<Drained, QueueError>
where
    M: GuestMemory + ?Sized,
    F: FnMut(&M, &[Descriptor]) -> u32,
{
    let mut consumed = 0usize;
    let work_left = loop {
        while consumed < budget {
            let head = match queue.pop_avail(mem) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                // The duplicate entry was consumed; go on with the next.
                Err(QueueError::HeadInFlight(_)) => {
                    consumed += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            consumed += 1;
            scratch.clear();
            let mut bad: Option<ChainError> = None;
            for d in queue.chain(mem, head) {
                match d {
                    Ok(d) => scratch.push(d),
                    Err(e) => {
                        bad = Some(e);
                        break;
                    }
                }
            }
            let used_len = match bad {
                Some(e) => {
                    log::debug!("virtio: chain {head} refused: {e:?}");
                    0
                }
                None => handle(mem, scratch),
            };
            queue.add_used(mem, head, used_len)?;
        }
        if consumed >= budget && queue.has_available(mem)? {
            // Out of budget with entries waiting: leave notifications
            // suppressed; the caller comes back.
            break true;
        }
        // The ring looked empty: re-arm, then look once more for entries
        // the driver published before it could see the re-arm.
        if !queue.enable_notification(mem)? {
            break false;
        }
        if consumed >= budget {
            // Found by the re-check with no budget left. Notifications are
            // armed, so a kick may come too; either way the caller comes
            // back.
            break true;
        }
    };
    Ok(Drained {
        consumed,
        notify: queue.needs_notification(mem)?,
        work_left,
    })
}
