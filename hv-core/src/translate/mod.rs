//! The instruction translator, tier 1: an AArch64 (A64) decoder, a small
//! block IR with NZCV liveness, a block cache, and a portable interpreter with
//! the EL0/EL1 exception model. hv-sim runs guests on it; a JIT tier can later
//! consume the same IR.
//!
//! * [`decode`]: one 32-bit A64 word to one [`decode::Insn`]; an encoding it
//!   does not know becomes [`decode::Insn::Undefined`], never a panic.
//! * [`cond`]: condition codes and their test against NZCV.
//! * [`crc`]: the CRC32/CRC32C arithmetic (FEAT_CRC32).
//! * [`atomics`]: the ARMv8.1 LSE atomics (CAS, CASP, SWP, `LD<op>`).
//! * [`ir`]: a translated block (the decoded ops up to a branch, a size limit
//!   or a page end) with per-op flag liveness.
//! * [`cache`]: blocks by guest physical address and translation regime,
//!   invalidated when guest code is written.
//! * [`memo`]: the direct-mapped memo with constant-time clearing that the
//!   block cache and the JIT put in front of their trees.
//! * [`bus`]: the [`bus::CpuBus`] trait every guest memory access goes
//!   through, and [`bus::FlatBus`] (MMU off: RAM through
//!   [`crate::mem::GuestMemory`], the rest through [`crate::mmio::MmioBus`]).
//! * [`regs`]: the general-purpose registers, PC and NZCV in the
//!   `#[repr(C)]` layout translated code addresses.
//! * [`interp`]: the CPU state and the interpreter ([`interp::Cpu::run`]),
//!   with a direct-mapped jump cache (virtual PC -> block) in front of the
//!   block cache.
//! * [`exception`]: exception entry (vector table, ESR/FAR/ELR/SPSR) and ERET.
//! * [`sysreg`]: the EL0/EL1 system registers reached by MRS/MSR.
//! * [`fp`]: FP/SIMD: decoding ([`fp::decode`]), execution, and the Arm FP
//!   arithmetic ([`fp::soft`]: the Arm ARM's FPRound, FPCR rounding modes,
//!   FZ, DN and AHP, the FPSR flags; [`fp::arith`] its instructions).
//! * [`asm`]: a small A64 encoder, used by tests, benchmarks and homes that
//!   need to build guest code.
//! * [`jit`]: the JIT tier (IR, passes, the x86_64 back end).
//!
//! The only `unsafe` code here is [`jit::native`] (executable memory,
//! entering generated code and its callbacks).
//!
//! Correctness evidence, besides the unit tests: the encoder is checked
//! against `llvm-mc`, the decoder against LLVM's disassembler on a seeded
//! random sample (`llvm_check`), the interpreter against a separate
//! reference model by proptest (`prop`), and — outside the test suite —
//! random integer, FP, SIMD, load/store and exception sequences were run on
//! this interpreter and on `qemu-system-aarch64 -M virt -cpu cortex-a57`
//! with register-for-register agreement (one deliberate difference: DC ZVA
//! with the MMU off is an alignment fault here, as the Arm ARM requires for
//! Device memory, while QEMU zeroes).
//!
//! # Running a guest
//!
//! ```
//! use hv_core::mem::{GuestMemory, GuestRam};
//! use hv_core::mmio::MmioBus;
//! use hv_core::translate::{asm, Cpu, CpuConfig, Exit, FlatBus};
//! use hv_core::GuestAddress;
//!
//! let ram = GuestRam::with_size(GuestAddress(0x4000_0000), 0x10000).unwrap();
//! // x0 = 6 * 7, then HVC #0 to report to the home, then WFI.
//! let code = [
//!     asm::movz(true, 1, 6, 0),
//!     asm::movz(true, 2, 7, 0),
//!     asm::dp3(true, 0, 0, 2, 31, 1, 0), // mul x0, x1, x2
//!     asm::hvc(0),
//!     asm::WFI,
//! ];
//! for (i, w) in code.iter().enumerate() {
//!     ram.write_u32(GuestAddress(0x4000_0000 + 4 * i as u64), *w).unwrap();
//! }
//! let mut bus = FlatBus::new(ram, MmioBus::new());
//! let mut cpu = Cpu::new(CpuConfig::default()).unwrap();
//! cpu.reset(0x4000_0000); // EL1h, interrupts masked, MMU off
//! assert_eq!(cpu.run(&mut bus, 1_000_000), Exit::Hvc { imm: 0 });
//! assert_eq!(cpu.x(0), 42); // e.g. a PSCI call: read X0..X3, write X0
//! assert_eq!(cpu.run(&mut bus, 1_000_000), Exit::Wfi);
//! ```

pub mod asm;
pub mod atomics;
pub mod bus;
pub mod cache;
pub mod cond;
pub mod crc;
pub mod decode;
pub mod exception;
pub mod fp;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod memo;
pub mod regs;
pub mod sysreg;

#[cfg(test)]
mod llvm_check;
#[cfg(test)]
mod llvm_scan;
#[cfg(test)]
mod prop;
#[cfg(test)]
mod tests;

pub use bus::{AccessKind, CpuBus, Fault, FaultKind, FlatBus};
pub use interp::{Cpu, CpuConfig, Exit, TimerLines};

use core::fmt;

/// Why a translator operation (outside the guest's own exception model)
/// failed. Guest-visible faults are not errors: they become guest exceptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranslateError {
    /// A configuration value is out of range (e.g. a zero block size limit).
    BadConfig,
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TranslateError::BadConfig => write!(f, "invalid translator configuration"),
        }
    }
}
