//! What a guest asks of the hypervisor, independent of the home that runs it.

pub mod psci;
