//! Feature ID registers for the guest: hv traps their reads (HCR_EL2.TID3),
//! reads the hardware's value and hands the guest hv-core's view of it.

use core::arch::asm;
use hv_core::arch::aarch64::idregs;

macro_rules! id_reg {
    ($enc:literal) => {{
        let v: u64;
        // SAFETY: reading a feature ID register (op0 3, op1 0, CRn 0,
        // CRm 1-7; unallocated ones read as zero) has no side effects.
        unsafe { asm!(concat!("mrs {}, ", $enc), out(reg) v, options(nomem, nostack)) };
        v
    }};
}

/// The hardware value of the ID register at (CRm, op2).
fn hardware(crm: u8, op2: u8) -> u64 {
    match (crm, op2) {
        (1, 0) => id_reg!("S3_0_C0_C1_0"),
        (1, 1) => id_reg!("S3_0_C0_C1_1"),
        (1, 2) => id_reg!("S3_0_C0_C1_2"),
        (1, 3) => id_reg!("S3_0_C0_C1_3"),
        (1, 4) => id_reg!("S3_0_C0_C1_4"),
        (1, 5) => id_reg!("S3_0_C0_C1_5"),
        (1, 6) => id_reg!("S3_0_C0_C1_6"),
        (1, 7) => id_reg!("S3_0_C0_C1_7"),
        (2, 0) => id_reg!("S3_0_C0_C2_0"),
        (2, 1) => id_reg!("S3_0_C0_C2_1"),
        (2, 2) => id_reg!("S3_0_C0_C2_2"),
        (2, 3) => id_reg!("S3_0_C0_C2_3"),
        (2, 4) => id_reg!("S3_0_C0_C2_4"),
        (2, 5) => id_reg!("S3_0_C0_C2_5"),
        (2, 6) => id_reg!("S3_0_C0_C2_6"),
        (2, 7) => id_reg!("S3_0_C0_C2_7"),
        (3, 0) => id_reg!("S3_0_C0_C3_0"),
        (3, 1) => id_reg!("S3_0_C0_C3_1"),
        (3, 2) => id_reg!("S3_0_C0_C3_2"),
        (3, 3) => id_reg!("S3_0_C0_C3_3"),
        (3, 4) => id_reg!("S3_0_C0_C3_4"),
        (3, 5) => id_reg!("S3_0_C0_C3_5"),
        (3, 6) => id_reg!("S3_0_C0_C3_6"),
        (3, 7) => id_reg!("S3_0_C0_C3_7"),
        (4, 0) => id_reg!("S3_0_C0_C4_0"),
        (4, 1) => id_reg!("S3_0_C0_C4_1"),
        (4, 2) => id_reg!("S3_0_C0_C4_2"),
        (4, 3) => id_reg!("S3_0_C0_C4_3"),
        (4, 4) => id_reg!("S3_0_C0_C4_4"),
        (4, 5) => id_reg!("S3_0_C0_C4_5"),
        (4, 6) => id_reg!("S3_0_C0_C4_6"),
        (4, 7) => id_reg!("S3_0_C0_C4_7"),
        (5, 0) => id_reg!("S3_0_C0_C5_0"),
        (5, 1) => id_reg!("S3_0_C0_C5_1"),
        (5, 2) => id_reg!("S3_0_C0_C5_2"),
        (5, 3) => id_reg!("S3_0_C0_C5_3"),
        (5, 4) => id_reg!("S3_0_C0_C5_4"),
        (5, 5) => id_reg!("S3_0_C0_C5_5"),
        (5, 6) => id_reg!("S3_0_C0_C5_6"),
        (5, 7) => id_reg!("S3_0_C0_C5_7"),
        (6, 0) => id_reg!("S3_0_C0_C6_0"),
        (6, 1) => id_reg!("S3_0_C0_C6_1"),
        (6, 2) => id_reg!("S3_0_C0_C6_2"),
        (6, 3) => id_reg!("S3_0_C0_C6_3"),
        (6, 4) => id_reg!("S3_0_C0_C6_4"),
        (6, 5) => id_reg!("S3_0_C0_C6_5"),
        (6, 6) => id_reg!("S3_0_C0_C6_6"),
        (6, 7) => id_reg!("S3_0_C0_C6_7"),
        (7, 0) => id_reg!("S3_0_C0_C7_0"),
        (7, 1) => id_reg!("S3_0_C0_C7_1"),
        (7, 2) => id_reg!("S3_0_C0_C7_2"),
        (7, 3) => id_reg!("S3_0_C0_C7_3"),
        (7, 4) => id_reg!("S3_0_C0_C7_4"),
        (7, 5) => id_reg!("S3_0_C0_C7_5"),
        (7, 6) => id_reg!("S3_0_C0_C7_6"),
        (7, 7) => id_reg!("S3_0_C0_C7_7"),
        _ => 0,
    }
}

/// What the guest reads from the ID register at (CRm, op2).
pub fn guest_read(crm: u8, op2: u8) -> u64 {
    idregs::guest_view(crm, op2, hardware(crm, op2))
}
