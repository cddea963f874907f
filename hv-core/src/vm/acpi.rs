//! The ACPI tables of hv's x86 guest machine, built with rust-vmm's
//! `acpi_tables` crate: RSDP → XSDT → FADT (hardware-reduced: sleep
//! control/status and reset registers in I/O space, no legacy PM blocks)
//! and MADT (a local APIC per vCPU, the I/O APICs); the FADT points at the
//! DSDT, which describes each virtio-mmio transport (`LNRO0005`, its
//! registers and interrupt, as Linux's virtio-mmio driver expects on
//! ACPI machines) and the `\_S5` sleep type the guest writes to power
//! off. Debian's x86 cloud kernel finds its devices and CPUs only there
//! (no MP table, no virtio-mmio command-line devices).
//!
//! [`tables`] returns the bytes to place at one guest-physical address;
//! the RSDP is their first 36 bytes (boot protocols pass its address:
//! PVH's `rsdp_paddr`, Linux's `acpi_rsdp_addr`).

use acpi_tables::aml;
use acpi_tables::fadt::{FADTBuilder, Flags};
use acpi_tables::gas::{AccessSize, AddressSpace, GAS};
use acpi_tables::madt::{
    EnabledStatus, IoApic, LocalInterruptController, ProcessorLocalApic, MADT,
};
use acpi_tables::rsdp::Rsdp;
use acpi_tables::sdt::Sdt;
use acpi_tables::xsdt::XSDT;
use acpi_tables::Aml;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const OEM_ID: [u8; 6] = *b"HVHVHV";
const OEM_TABLE_ID: [u8; 8] = *b"HVX86MCH";
const OEM_REVISION: u32 = 1;
/// The `\_S5` sleep type (SLP_TYP) the guest writes to power off.
pub const S5_SLEEP_TYPE: u8 = 5;
/// Sleep control register bits: SLP_TYP (4:2) and SLP_EN (5).
pub const SLP_TYP_SHIFT: u8 = 2;
/// SLP_EN.
pub const SLP_EN: u8 = 1 << 5;
/// Size of one table header.
const HEADER: u32 = 36;

/// The machine the tables describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct X86Machine {
    /// vCPUs (APIC IDs 0..cpus).
    pub cpus: u8,
    /// The local APICs' physical base.
    pub lapic_base: u32,
    /// The I/O APICs (24 inputs each): register base and first GSI; the
    /// second is absent when its base is 0.
    pub ioapics: [IoApicAt; 2],
    /// virtio-mmio transports: first base, stride, count, and the GSI of
    /// the first (transport n has GSI `virtio_gsi_base + n`).
    pub virtio_base: u32,
    /// Distance between transports (and each one's size).
    pub virtio_stride: u32,
    /// Number of transports.
    pub virtio_count: u32,
    /// GSI of transport 0.
    pub virtio_gsi_base: u32,
    /// I/O port of the sleep control register (status at +1).
    pub sleep_port: u16,
    /// I/O port of the reset register, and the value that resets.
    pub reset_port: u16,
    /// The value written to `reset_port` to reset.
    pub reset_value: u8,
    /// COM1's I/O base and GSI, described in the DSDT as a `PNP0501`
    /// device (as microvm does): Linux then binds its 8250 driver through
    /// ACPI with the right interrupt; 0 for no COM1.
    pub com1_port: u16,
    /// See `com1_port`.
    pub com1_gsi: u32,
}

/// Where an I/O APIC is and which GSIs it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoApicAt {
    /// Register base (0: absent).
    pub base: u32,
    /// GSI of its first input.
    pub gsi_base: u32,
}

impl X86Machine {
    /// hv's x86 guest machine with `cpus` vCPUs: QEMU microvm's layout
    /// (LAPIC at 0xfee00000; I/O APICs at 0xfec00000 for GSIs 0-23 and
    /// 0xfec10000 for GSIs 24-47; 24 virtio-mmio transports of 0x200 bytes
    /// at 0xfeb00000 on GSIs 24..47, measured on QEMU 10) plus the sleep
    /// registers at port
    /// 0x600 and the reset register at 0x602 (value 1).
    pub const fn hv_machine(cpus: u8) -> X86Machine {
        X86Machine {
            cpus,
            lapic_base: 0xfee0_0000,
            ioapics: [
                IoApicAt {
                    base: 0xfec0_0000,
                    gsi_base: 0,
                },
                IoApicAt {
                    base: 0xfec1_0000,
                    gsi_base: 24,
                },
            ],
            virtio_base: 0xfeb0_0000,
            virtio_stride: 0x200,
            virtio_count: 24,
            virtio_gsi_base: 24,
            sleep_port: 0x600,
            reset_port: 0x602,
            reset_value: 1,
            com1_port: 0x3f8,
            com1_gsi: 4,
        }
    }
}

fn io_gas(port: u16) -> GAS {
    GAS::new(
        AddressSpace::SystemIo,
        8,
        0,
        AccessSize::ByteAccess,
        u64::from(port),
    )
}

/// The DSDT's AML: the virtio-mmio devices under `\_SB_` and `\_S5`.
fn dsdt_aml(m: &X86Machine) -> Vec<u8> {
    let mut devices: Vec<u8> = Vec::new();
    for n in 0..m.virtio_count {
        let base = m.virtio_base.wrapping_add(n.wrapping_mul(m.virtio_stride));
        let gsi = m.virtio_gsi_base.wrapping_add(n);
        // Four-character names: VR00 .. VRFF.
        let name = format!("VR{:02X}", n & 0xff);
        let hid = aml::Name::new("_HID".into(), &"LNRO0005");
        let uid = aml::Name::new("_UID".into(), &n);
        let mem = aml::Memory32Fixed::new(true, base, m.virtio_stride);
        // Level-triggered, active high: a transport's line stays up until
        // the driver acknowledges (as QEMU's microvm describes it).
        let irq = aml::Interrupt::new(true, false, false, false, gsi);
        let crs_template = aml::ResourceTemplate::new(alloc::vec![&mem, &irq]);
        let crs = aml::Name::new("_CRS".into(), &crs_template);
        aml::Device::new(name.as_str().into(), alloc::vec![&hid, &uid, &crs])
            .to_aml_bytes(&mut devices);
    }
    if m.com1_port != 0 {
        let hid = aml::Name::new("_HID".into(), &aml::EISAName::new("PNP0501"));
        let uid = aml::Name::new("_UID".into(), &0u8);
        let io = aml::IO::new(m.com1_port, m.com1_port, 1, 8);
        // Edge-triggered, active high: the ISA way.
        let irq = aml::Interrupt::new(true, true, false, false, m.com1_gsi);
        let crs_template = aml::ResourceTemplate::new(alloc::vec![&io, &irq]);
        let crs = aml::Name::new("_CRS".into(), &crs_template);
        aml::Device::new("COM1".into(), alloc::vec![&hid, &uid, &crs]).to_aml_bytes(&mut devices);
    }
    let mut out = Vec::new();
    // Scope(\_SB_) { the devices }: the scope's body is raw AML.
    let body = RawAml(&devices);
    aml::Scope::new("\\_SB_".into(), alloc::vec![&body]).to_aml_bytes(&mut out);
    let zero = 0u8;
    let s5_type = S5_SLEEP_TYPE;
    let s5 = aml::Package::new(alloc::vec![&s5_type, &zero]);
    aml::Name::new("_S5_".into(), &s5).to_aml_bytes(&mut out);
    out
}

/// Already-encoded AML, as an AML object.
struct RawAml<'a>(&'a [u8]);

impl Aml for RawAml<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn acpi_tables::AmlSink) {
        sink.vec(self.0);
    }
}

/// Why the tables could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcpiError {
    /// No vCPU, or an address that does not fit the tables' fields.
    BadMachine(String),
}

/// The tables for `m`, to be placed at guest-physical `at` (16-byte
/// aligned, below 4 GiB so 32-bit firmware fields could name it too):
/// RSDP (36 bytes), XSDT, FADT, MADT, DSDT, each 16-byte aligned.
pub fn tables(at: u64, m: &X86Machine) -> Result<Vec<u8>, AcpiError> {
    if m.cpus == 0 {
        return Err(AcpiError::BadMachine("no vCPU".into()));
    }
    if at % 16 != 0 || at.checked_add(0x1_0000).is_none_or(|e| e > 1 << 32) {
        return Err(AcpiError::BadMachine(format!("tables at {at:#x}")));
    }
    let align = |v: usize| (v + 15) & !15;
    // Build the tables that do not name others first, then lay out.
    let mut dsdt = Sdt::new(*b"DSDT", HEADER, 6, OEM_ID, OEM_TABLE_ID, OEM_REVISION);
    dsdt.append_slice(&dsdt_aml(m));
    let mut madt = MADT::new(
        OEM_ID,
        OEM_TABLE_ID,
        OEM_REVISION,
        LocalInterruptController::Address(m.lapic_base),
    );
    for id in 0..m.cpus {
        madt.add_structure(ProcessorLocalApic::new(id, id, EnabledStatus::Enabled));
    }
    for (id, io) in (0u8..).zip(m.ioapics.iter().filter(|io| io.base != 0)) {
        madt.add_structure(IoApic::new(id, io.base, io.gsi_base));
    }
    let mut madt_bytes = Vec::new();
    madt.to_aml_bytes(&mut madt_bytes);

    let rsdp_off = 0usize;
    let xsdt_off = align(rsdp_off + Rsdp::len());
    // XSDT: header + 2 entries (FADT, MADT).
    let xsdt_len = HEADER as usize + 2 * 8;
    let fadt_off = align(xsdt_off + xsdt_len);
    let madt_off = align(fadt_off + acpi_tables::fadt::FADT::len());
    let dsdt_off = align(madt_off + madt_bytes.len());
    let addr = |off: usize| at + off as u64;

    let mut fadt = FADTBuilder::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION)
        .dsdt_64(addr(dsdt_off))
        .flag(Flags::HwReducedAcpi)
        .flag(Flags::ResetRegSup);
    fadt.sleep_control_reg = io_gas(m.sleep_port);
    fadt.sleep_status_reg = io_gas(m.sleep_port.wrapping_add(1));
    fadt.reset_reg = io_gas(m.reset_port);
    fadt.reset_value = m.reset_value;
    let mut fadt_bytes = Vec::new();
    fadt.finalize().to_aml_bytes(&mut fadt_bytes);

    let mut xsdt = XSDT::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION);
    xsdt.add_entry(addr(fadt_off));
    xsdt.add_entry(addr(madt_off));
    let mut xsdt_bytes = Vec::new();
    xsdt.to_aml_bytes(&mut xsdt_bytes);
    let mut rsdp_bytes = Vec::new();
    Rsdp::new(OEM_ID, addr(xsdt_off)).to_aml_bytes(&mut rsdp_bytes);

    let mut out = Vec::new();
    for (off, bytes) in [
        (rsdp_off, rsdp_bytes.as_slice()),
        (xsdt_off, xsdt_bytes.as_slice()),
        (fadt_off, fadt_bytes.as_slice()),
        (madt_off, madt_bytes.as_slice()),
        (dsdt_off, dsdt.as_slice()),
    ] {
        out.resize(off, 0);
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
