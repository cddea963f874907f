//! Device models every home presents to the guest (besides virtio, which has
//! its own crate).

pub mod pl011;
