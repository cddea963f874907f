//! Floating-point and SIMD instructions (filled in by the FP/SIMD step).

/// A decoded FP/SIMD instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpInsn {}

impl FpInsn {
    /// Whether the instruction writes NZCV.
    pub fn writes_flags(&self) -> bool {
        match *self {}
    }
    /// Whether the instruction reads NZCV.
    pub fn reads_flags(&self) -> bool {
        match *self {}
    }
}

/// Decode an FP/SIMD data-processing word.
pub fn decode(_w: u32) -> Option<FpInsn> {
    None
}
