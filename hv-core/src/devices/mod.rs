//! Device models every home presents to the guest (besides virtio, which has
//! its own crate).

pub mod acpi_pm;
pub mod gicv3;
pub mod gicv3_cpuif;
pub mod ioapic;
pub mod irq_line;
pub mod lapic;
pub mod pl011;
pub mod uart16550;
