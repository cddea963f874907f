use super::*;

const AT: u64 = 0xe_0000;

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// The table at guest address `addr`: its bytes (length from its header).
fn table(b: &[u8], addr: u64) -> &[u8] {
    let o = (addr - AT) as usize;
    let len = u32_at(b, o + 4) as usize;
    &b[o..o + len]
}

fn sums_to_zero(t: &[u8]) -> bool {
    t.iter().fold(0u8, |a, x| a.wrapping_add(*x)) == 0
}

#[test]
fn the_chain_from_rsdp_to_dsdt_holds_together() {
    let b = tables(AT, &X86Machine::hv_machine(2)).unwrap();
    assert_eq!(&b[..8], b"RSD PTR ");
    assert!(sums_to_zero(&b[..20]), "RSDP checksum");
    assert!(sums_to_zero(&b[..36]), "RSDP extended checksum");
    let xsdt = table(&b, u64_at(&b, 24));
    assert_eq!(&xsdt[..4], b"XSDT");
    assert!(sums_to_zero(xsdt));
    let (fadt, madt) = (table(&b, u64_at(xsdt, 36)), table(&b, u64_at(xsdt, 44)));
    assert_eq!((&fadt[..4], &madt[..4]), (&b"FACP"[..], &b"APIC"[..]));
    assert!(sums_to_zero(fadt) && sums_to_zero(madt));
    // FADT: hardware-reduced; X_DSDT (offset 140) names the DSDT.
    assert_ne!(u32_at(fadt, 112) & (1 << 20), 0, "HW_REDUCED_ACPI");
    let dsdt = table(&b, u64_at(fadt, 140));
    assert_eq!(&dsdt[..4], b"DSDT");
    assert!(sums_to_zero(dsdt));
    // Sleep control register: a GAS in I/O space (id 1) at port 0x600.
    assert_eq!(fadt[244], 1);
    assert_eq!(u64_at(fadt, 248), 0x600);
    // Every table lies inside what was built.
    assert!((u64_at(fadt, 140) - AT) as usize + dsdt.len() <= b.len());
}

#[test]
fn madt_lists_every_cpu_and_the_ioapic() {
    let b = tables(AT, &X86Machine::hv_machine(3)).unwrap();
    let xsdt = table(&b, u64_at(&b, 24));
    let madt = table(&b, u64_at(xsdt, 44));
    assert_eq!(u32_at(madt, 36), 0xfee0_0000);
    let mut at = 44;
    let (mut cpus, mut ioapics) = (0, 0);
    while at < madt.len() {
        let (kind, len) = (madt[at], madt[at + 1] as usize);
        match kind {
            0 => {
                assert_eq!(madt[at + 3], cpus, "APIC IDs in order");
                cpus += 1;
            }
            1 => {
                let want = [(0xfec0_0000, 0), (0xfec1_0000, 24)][ioapics];
                assert_eq!((u32_at(madt, at + 4), u32_at(madt, at + 8)), want);
                ioapics += 1;
            }
            other => panic!("unexpected MADT entry type {other}"),
        }
        at += len;
    }
    assert_eq!((cpus, ioapics), (3, 2));
}

#[test]
fn dsdt_describes_each_virtio_transport_and_s5() {
    let b = tables(AT, &X86Machine::hv_machine(1)).unwrap();
    let xsdt = table(&b, u64_at(&b, 24));
    let fadt = table(&b, u64_at(xsdt, 36));
    let dsdt = table(&b, u64_at(fadt, 140));
    let count = |needle: &[u8]| dsdt.windows(needle.len()).filter(|w| *w == needle).count();
    assert_eq!(count(b"LNRO0005\0"), 24);
    assert_eq!(count(b"VR00"), 1);
    assert_eq!(count(b"VR17"), 1);
    assert_eq!(count(b"_S5_"), 1);
    // Memory32Fixed (0x86) of slot 1: base 0xfeb00200, length 0x200.
    let mem1 = [0x86, 9, 0, 1, 0x00, 0x02, 0xb0, 0xfe, 0x00, 0x02, 0, 0];
    assert_eq!(count(&mem1), 1);
    // Its extended interrupt (0x89): consumer, level, active high, GSI 25.
    let irq1 = [0x89, 6, 0, 0x01, 1, 25, 0, 0, 0];
    assert_eq!(count(&irq1), 1);
}

#[test]
fn bad_machines_are_refused() {
    assert!(tables(AT, &X86Machine::hv_machine(0)).is_err());
    assert!(tables(AT + 4, &X86Machine::hv_machine(1)).is_err());
    assert!(tables(0xffff_f000, &X86Machine::hv_machine(1)).is_err());
}
