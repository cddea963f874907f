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
    /// Serve all available requests of queue `index`. `Ok(true)` when the
    /// driver wants a used-buffer notification; an error broke the queue.
    fn process_queue<M: GuestMemory + ?Sized>(
        &mut self,
        index: usize,
        queue: &mut Queue,
        mem: &M,
    ) -> Result<bool, QueueError>;
    /// Back to the state before feature negotiation.
    fn reset(&mut self);
}

/// Drain `queue`: for each available chain, collect its descriptors into
/// `scratch` (bounded by the queue size) and let `handle` serve it and return
/// the used length. A malformed chain is completed with length 0 without
/// calling `handle` (rules Q4-Q10); a duplicate in-flight head is skipped
/// (Q11). With EVENT_IDX the device re-arms `avail_event` and re-checks, so
/// no request published meanwhile is missed. Returns whether to notify.
pub fn drain_queue<M, F>(
    queue: &mut Queue,
    mem: &M,
    scratch: &mut Vec<Descriptor>,
    mut handle: F,
) -> Result<bool, QueueError>
where
    M: GuestMemory + ?Sized,
    F: FnMut(&M, &[Descriptor]) -> u32,
{
    loop {
        loop {
            let head = match queue.pop_avail(mem) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                // The duplicate entry was consumed; go on with the next.
                Err(QueueError::HeadInFlight(_)) => continue,
                Err(e) => return Err(e),
            };
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
        if !queue.enable_notification(mem)? {
            break;
        }
    }
    queue.needs_notification(mem)
}
