//! Instruction words run on the interpreter and on the JIT, which must
//! agree on everything the guest and its home can observe. The logic lives
//! in `hv_sim::jitcheck::fuzz_one` (input: one byte of set-up flags, one
//! byte of register seed, then A64 instruction words), which
//! `hv-sim/tests/jit.rs` also runs, with a proptest of structured programs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hv_sim::jitcheck::fuzz_one(data);
});
