//! The guest machine contract: the QEMU-`virt`-compatible AArch64 machine
//! every guest sees, in hv-kernel and in hv-sim alike (DESIGN.md). This is the
//! one place these numbers live.

use crate::addr::GuestAddress;

/// Base of guest RAM.
pub const RAM_BASE: GuestAddress = GuestAddress(0x4000_0000);
/// GICv3 distributor.
pub const GICD_BASE: GuestAddress = GuestAddress(0x0800_0000);
/// Size of the distributor frame.
pub const GICD_SIZE: u64 = 0x1_0000;
/// GICv3 redistributors, one [`GICR_STRIDE`] frame pair per vCPU.
pub const GICR_BASE: GuestAddress = GuestAddress(0x080A_0000);
/// Size of one vCPU's redistributor (RD_base + SGI_base frames).
pub const GICR_STRIDE: u64 = 0x2_0000;
/// The guest's CPU interface when the host GIC is a GICv2: hv maps the
/// host's GICV frame here (QEMU virt's `gic-version=2` layout; GICv3
/// guests reach theirs through system registers instead).
pub const GICC_BASE: GuestAddress = GuestAddress(0x0801_0000);
/// Size of the GICv2 CPU interface: two 4 KiB pages (GICC_DIR is in the
/// second).
pub const GICC_SIZE: u64 = 0x2000;
/// Size of a GICv2 distributor frame.
pub const GICD_V2_SIZE: u64 = 0x1000;

/// Which interrupt controller the guest gets: the host's generation (a
/// GICv2 host can only give list registers of its own kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicModel {
    /// GICv3: distributor and redistributors, system-register CPU
    /// interface.
    V3,
    /// GICv2: distributor and memory-mapped CPU interface.
    V2,
}

/// PL011 UART.
pub const UART_BASE: GuestAddress = GuestAddress(0x0900_0000);
/// Size of the UART frame.
pub const UART_SIZE: u64 = 0x1000;
/// INTID of the UART (SPI 1), level-triggered.
pub const UART_INTID: u32 = 33;
/// PL031 RTC.
pub const RTC_BASE: GuestAddress = GuestAddress(0x0901_0000);
/// INTID of the RTC (SPI 2).
pub const RTC_INTID: u32 = 34;
/// First virtio-mmio slot.
pub const VIRTIO_MMIO_BASE: GuestAddress = GuestAddress(0x0a00_0000);
/// Size of (and distance between) virtio-mmio slots.
pub const VIRTIO_MMIO_SLOT_SIZE: u64 = 0x200;
/// Number of virtio-mmio slots.
pub const VIRTIO_MMIO_SLOTS: u32 = 32;
/// INTID of virtio-mmio slot 0 (SPI 16); slot n uses this + n, edge-triggered.
pub const VIRTIO_MMIO_INTID_BASE: u32 = 48;
/// Generic timer PPIs.
pub const TIMER_EL1_VIRT_INTID: u32 = 27;
/// EL1 physical timer PPI.
pub const TIMER_EL1_PHYS_INTID: u32 = 30;
/// EL2 physical timer PPI.
pub const TIMER_EL2_PHYS_INTID: u32 = 26;

/// Guest address of virtio-mmio slot `n`, or `None` past the last slot.
pub const fn virtio_mmio_slot(n: u32) -> Option<GuestAddress> {
    if n < VIRTIO_MMIO_SLOTS {
        Some(GuestAddress(
            VIRTIO_MMIO_BASE.0 + n as u64 * VIRTIO_MMIO_SLOT_SIZE,
        ))
    } else {
        None
    }
}

/// INTID of virtio-mmio slot `n`, or `None` past the last slot.
pub const fn virtio_mmio_intid(n: u32) -> Option<u32> {
    if n < VIRTIO_MMIO_SLOTS {
        Some(VIRTIO_MMIO_INTID_BASE + n)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtio_slots_follow_qemu_virt() {
        assert_eq!(virtio_mmio_slot(0), Some(GuestAddress(0x0a00_0000)));
        assert_eq!(virtio_mmio_slot(31), Some(GuestAddress(0x0a00_3e00)));
        assert_eq!(virtio_mmio_slot(32), None);
        assert_eq!(virtio_mmio_intid(1), Some(49));
        assert_eq!(virtio_mmio_intid(32), None);
    }
}
