//! hv-sim: the hv core running on a host OS, with an emulated guest machine.
//!
//! * [`machine`]: the guest machine contract built in software: RAM, GICv3
//!   (hv-core's distributor/redistributor model and CPU interface), PL011,
//!   virtio-mmio disks, DTB, and the kernel loaded by hv-core's loader.
//! * [`dma`]: guest RAM as devices see it, with their writes logged so
//!   translated code they overwrite is dropped.
//! * [`mmu`]: the soft MMU (guest stage-1 walk and software TLB).
//! * [`run`]: the run loop (interpreter slices, PSCI, WFI, interrupts).
//! * [`console`]: where guest console output goes.
//! * [`check`]: `--engine check`, the interpreter and the JIT in lockstep.
//! * [`cli`]: the `hv-sim` command line.
//! * [`isacheck`]: `check-isa`, the interpreter checked instruction by
//!   instruction against QEMU user mode.
//! * `jitcheck` (x86_64 Linux, hidden): the JIT run in lockstep with the
//!   interpreter and compared, for `tests/jit.rs` and the `jit` fuzz target.
// Unsafe code has one home here, the JIT's executable memory.
#![deny(unsafe_code)]

pub mod check;
pub mod cli;
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub mod code_arena;
pub mod console;
pub mod dma;
pub mod isacheck;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[doc(hidden)] // test support: tests/jit.rs and the `jit` fuzz target
pub mod jitcheck;
pub mod machine;
pub mod mmu;
pub mod run;
