//! The host CPU's own local APIC (xAPIC, at its default base, which the
//! boot tables identity-map): its registers for the host timer, and the
//! interprocessor interrupts that start the other CPUs.

/// The xAPIC's default base.
const APIC_BASE: u64 = 0xfee0_0000;
/// The registers hv uses.
pub const ID: u64 = 0x20;
pub const SVR: u64 = 0xf0;
pub const ICR_LOW: u64 = 0x300;
pub const ICR_HIGH: u64 = 0x310;
pub const LVT_TIMER: u64 = 0x320;
pub const INITIAL_COUNT: u64 = 0x380;
pub const CURRENT_COUNT: u64 = 0x390;
pub const DIVIDE: u64 = 0x3e0;
/// ICR: delivery status (the previous IPI is still being sent).
const ICR_PENDING: u32 = 1 << 12;
/// The most polls of the delivery status per IPI (QEMU clears it at once;
/// hardware within microseconds).
const ICR_POLLS: u32 = 1_000_000;

/// Write an APIC register.
pub fn write(offset: u64, v: u32) {
    // SAFETY: the boot tables identity-map the APIC's page; these are its
    // 32-bit registers, and hv is the only user of this CPU's APIC.
    unsafe { core::ptr::write_volatile((APIC_BASE + offset) as *mut u32, v) }
}

/// Read an APIC register.
pub fn read(offset: u64) -> u32 {
    // SAFETY: as in `write`; reads of these registers have no side effect.
    unsafe { core::ptr::read_volatile((APIC_BASE + offset) as *const u32) }
}

/// This CPU's APIC ID.
pub fn id() -> u32 {
    read(ID) >> 24
}

/// Send the IPI `icr_low` (vector, delivery mode, shorthand) to APIC
/// `dest` (ignored with a shorthand); false if the APIC never finished
/// sending it.
pub fn send_ipi(dest: u32, icr_low: u32) -> bool {
    write(ICR_HIGH, dest << 24);
    write(ICR_LOW, icr_low);
    (0..ICR_POLLS).any(|_| read(ICR_LOW) & ICR_PENDING == 0)
}
