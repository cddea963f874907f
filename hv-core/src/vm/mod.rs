//! What a guest is given and what it asks of the hypervisor, independent of
//! the home that runs it.

pub mod acpi;
pub mod bundle;
pub mod devices;
pub mod fdt;
pub mod host_ram;
pub mod loader;
pub mod place;
pub mod power;
pub mod psci;
pub mod pvh;
