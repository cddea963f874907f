//! hv-kernel: placeholder
fn main() {}
