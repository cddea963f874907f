//! Instruction words run on the interpreter and on the JIT, which must
//! agree on everything the guest and its home can observe. The logic lives
//! in `hv_sim::jitcheck::fuzz_one` (input: one byte of set-up flags, one
//! byte of register seed, then A64 instruction words), which
//! `hv-sim/tests/jit.rs` also runs, with a proptest of structured programs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The JIT's only back end is x86_64, its executable memory Linux's.
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    hv_sim::jitcheck::fuzz_one(data);
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    let _ = data;
});
