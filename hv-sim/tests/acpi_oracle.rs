//! The ACPI tables hv-core builds for x86 guests (`vm::acpi`), read back
//! by parsers nobody here wrote: rust-osdev's `acpi` crate for the
//! static tables (RSDP, XSDT, FADT, MADT: it checks every signature,
//! length and checksum as an OS does), and ACPICA's `iasl` (Debian's
//! acpica-tools, which `cargo xtask test` installs) disassembling the
//! DSDT's AML.

use acpi::fadt::Fadt;
use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};
use hv_core::vm::acpi::{tables, X86Machine};
use std::process::Command;
use std::ptr::NonNull;
use std::sync::Arc;

/// Where the tables go in guest memory.
const AT: usize = 0xe_0000;

/// "Physical memory": the tables, 8-byte aligned, at `AT`.
#[derive(Clone)]
struct Memory(Arc<Vec<u64>>);

impl AcpiHandler for Memory {
    unsafe fn map_physical_region<T>(
        &self,
        physical_address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        let bytes = self.0.len() * 8;
        let off = physical_address
            .checked_sub(AT)
            .filter(|o| o + size <= bytes)
            .unwrap_or_else(|| {
                panic!("the parser mapped {physical_address:#x}+{size:#x}, outside the tables")
            });
        let base = self.0.as_ptr() as *mut u8;
        // SAFETY: `off + size` is inside the buffer (checked above), which
        // the Arc keeps alive as long as this handler (inside the mapping).
        let ptr = unsafe { NonNull::new_unchecked(base.add(off).cast::<T>()) };
        // SAFETY: the region is `size` bytes of the buffer, mapped as is.
        unsafe { PhysicalMapping::new(physical_address, ptr, size, size, self.clone()) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

fn memory(bytes: &[u8]) -> Memory {
    let mut words = vec![0u64; bytes.len().div_ceil(8) + 1];
    for (i, b) in bytes.iter().enumerate() {
        words[i / 8] |= u64::from(*b) << (8 * (i % 8));
    }
    Memory(Arc::new(words))
}

#[test]
fn acpi_crate_reads_rsdp_xsdt_fadt_and_madt() {
    for cpus in [1u8, 2, 8] {
        let bytes = tables(AT as u64, &X86Machine::hv_machine(cpus)).expect("tables");
        // SAFETY: AT holds an RSDP (the first 36 bytes) in the memory the
        // handler maps.
        let acpi = unsafe { AcpiTables::from_rsdp(memory(&bytes), AT) }.expect("parses");
        let fadt = acpi.find_table::<Fadt>().expect("FADT");
        let flags = { fadt.flags };
        assert!(flags.system_is_hw_reduced_acpi(), "hardware-reduced");
        let sleep = fadt
            .sleep_control_register()
            .expect("valid")
            .expect("present");
        assert_eq!(sleep.address, 0x600);
        let reset = fadt.reset_register().expect("reset register");
        assert_eq!(reset.address, 0x602);
        let dsdt = acpi.dsdt().expect("DSDT");
        assert!(
            dsdt.length > 24 * 20,
            "AML for 24 devices: {} bytes",
            dsdt.length
        );
        let madt = acpi.find_table::<Madt>().expect("MADT");
        let (mut lapics, mut ioapics) = (Vec::new(), Vec::new());
        for e in madt.get().entries() {
            match e {
                MadtEntry::LocalApic(l) => lapics.push((l.processor_id, l.apic_id, { l.flags })),
                MadtEntry::IoApic(i) => {
                    ioapics.push(({ i.io_apic_address }, { i.global_system_interrupt_base }))
                }
                other => panic!("unexpected MADT entry {other:?}"),
            }
        }
        let want: Vec<(u8, u8, u32)> = (0..cpus).map(|i| (i, i, 1)).collect();
        assert_eq!(lapics, want);
        assert_eq!(ioapics, [(0xfec0_0000, 0), (0xfec1_0000, 24)]);
    }
}

/// The DSDT disassembled by ACPICA: every transport is a device with the
/// virtio-mmio HID, its window and its interrupt, COM1 is a PNP0501 with
/// its ports and edge-triggered IRQ 4, and \_S5 says 5.
#[test]
fn iasl_disassembles_the_dsdt() {
    let bytes = tables(AT as u64, &X86Machine::hv_machine(1)).expect("tables");
    let memory = memory(&bytes);
    // SAFETY: as above.
    let acpi = unsafe { AcpiTables::from_rsdp(memory, AT) }.expect("parses");
    let dsdt = acpi.dsdt().expect("DSDT");
    // The AML starts after the 36-byte header.
    let start = dsdt.address - 36 - AT;
    let table = &bytes[start..start + 36 + dsdt.length as usize];
    let dir = std::env::temp_dir().join(format!("hv-acpi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dsdt.dat"), table).unwrap();
    let out = Command::new("iasl")
        .current_dir(&dir)
        .args(["-d", "dsdt.dat"])
        .output()
        .expect("iasl (Debian's acpica-tools; cargo xtask test installs it)");
    assert!(
        out.status.success(),
        "iasl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dsl = std::fs::read_to_string(dir.join("dsdt.dsl")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        dsl.matches("Name (_HID, \"LNRO0005\")").count(),
        24,
        "{dsl}"
    );
    assert!(dsl.contains("Device (VR17)"), "{dsl}");
    assert!(dsl.contains("0xFEB02E00,         // Address Base"), "{dsl}");
    assert!(dsl.contains("0x0000002F,"), "slot 23's GSI 47: {dsl}");
    assert_eq!(
        dsl.matches("Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive")
            .count(),
        24,
        "{dsl}"
    );
    assert!(dsl.contains("Name (_S5, Package (0x02)"), "{dsl}");
    assert!(dsl.contains("0x05,"), "{dsl}");
    // COM1 as microvm describes it: PNP0501, ports 3F8-3FF, edge IRQ 4.
    assert!(dsl.contains("Device (COM1)"), "{dsl}");
    assert!(dsl.contains("EisaId (\"PNP0501\")"), "{dsl}");
    assert!(
        dsl.contains("0x03F8,             // Range Minimum"),
        "{dsl}"
    );
    assert!(dsl.contains("0x08,               // Length"), "{dsl}");
    assert_eq!(
        dsl.matches("Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive")
            .count(),
        1,
        "{dsl}"
    );
    assert!(dsl.contains("0x00000004,"), "COM1's GSI 4: {dsl}");
}
