//! The device tree a guest gets: the guest machine contract
//! ([`crate::machine`]) as a DTB, describing only what the guest owns.

use crate::machine;
use alloc::vec::Vec;
use core::fmt;
use vm_fdt::FdtWriter;

const GIC_PHANDLE: u32 = 1;
const CLOCK_PHANDLE: u32 = 2;
/// GIC interrupt specifier types and flags.
const GIC_SPI: u32 = 0;
const GIC_PPI: u32 = 1;
const IRQ_EDGE_RISING: u32 = 1;
const IRQ_LEVEL_HIGH: u32 = 4;

/// What to describe.
#[derive(Clone, Debug)]
pub struct GuestFdt<'a> {
    /// Guest RAM size in bytes, from [`machine::RAM_BASE`].
    pub ram_size: u64,
    /// Number of vCPUs (MPIDRs 0..n).
    pub cpus: u32,
    /// Kernel command line.
    pub bootargs: &'a str,
    /// Guest-physical [start, end) of the initrd, if any.
    pub initrd: Option<(u64, u64)>,
    /// The virtio-mmio slots that hold a device.
    pub virtio_slots: &'a [u32],
    /// The interrupt controller.
    pub gic: machine::GicModel,
}

/// Why the DTB could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    /// The writer refused (e.g. a string with a NUL byte).
    Writer,
    /// No CPUs, or a virtio slot past the last one.
    BadMachine,
}

impl fmt::Display for FdtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FdtError::Writer => write!(f, "device tree writer failed"),
            FdtError::BadMachine => write!(f, "guest machine description is invalid"),
        }
    }
}

impl From<vm_fdt::Error> for FdtError {
    fn from(_: vm_fdt::Error) -> Self {
        FdtError::Writer
    }
}

/// Split a 64-bit value into two cells (#address-cells = #size-cells = 2).
fn cells(v: u64) -> [u32; 2] {
    [(v >> 32) as u32, v as u32]
}

fn reg(base: u64, size: u64) -> [u32; 4] {
    let [a, b] = cells(base);
    let [c, d] = cells(size);
    [a, b, c, d]
}

/// Build the guest's DTB.
pub fn build(m: &GuestFdt) -> Result<Vec<u8>, FdtError> {
    if m.cpus == 0
        || m.virtio_slots
            .iter()
            .any(|&s| s >= machine::VIRTIO_MMIO_SLOTS)
    {
        return Err(FdtError::BadMachine);
    }
    let mut w = FdtWriter::new()?;
    let root = w.begin_node("")?;
    w.property_string("compatible", "linux,dummy-virt")?;
    w.property_u32("#address-cells", 2)?;
    w.property_u32("#size-cells", 2)?;
    w.property_u32("interrupt-parent", GIC_PHANDLE)?;

    let chosen = w.begin_node("chosen")?;
    w.property_string("bootargs", m.bootargs)?;
    w.property_string("stdout-path", "/pl011@9000000")?;
    if let Some((start, end)) = m.initrd {
        w.property_u64("linux,initrd-start", start)?;
        w.property_u64("linux,initrd-end", end)?;
    }
    w.end_node(chosen)?;

    let memory = w.begin_node("memory@40000000")?;
    w.property_string("device_type", "memory")?;
    w.property_array_u32("reg", &reg(machine::RAM_BASE.raw(), m.ram_size))?;
    w.end_node(memory)?;

    let cpus = w.begin_node("cpus")?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 0)?;
    for cpu in 0..m.cpus {
        let node = w.begin_node(&alloc::format!("cpu@{cpu:x}"))?;
        w.property_string("device_type", "cpu")?;
        w.property_string("compatible", "arm,armv8")?;
        w.property_u32("reg", cpu)?;
        w.property_string("enable-method", "psci")?;
        w.end_node(node)?;
    }
    w.end_node(cpus)?;

    let psci = w.begin_node("psci")?;
    w.property_string_list(
        "compatible",
        alloc::vec!["arm,psci-1.0".into(), "arm,psci-0.2".into()],
    )?;
    w.property_string("method", "hvc")?;
    w.end_node(psci)?;

    let gic = w.begin_node("intc@8000000")?;
    w.property_u32("#interrupt-cells", 3)?;
    w.property_null("interrupt-controller")?;
    let gicd = match m.gic {
        machine::GicModel::V3 => reg(machine::GICD_BASE.raw(), machine::GICD_SIZE),
        machine::GicModel::V2 => reg(machine::GICD_BASE.raw(), machine::GICD_V2_SIZE),
    };
    let (compatible, second) = match m.gic {
        machine::GicModel::V3 => (
            "arm,gic-v3",
            reg(
                machine::GICR_BASE.raw(),
                machine::GICR_STRIDE * u64::from(m.cpus),
            ),
        ),
        machine::GicModel::V2 => (
            "arm,cortex-a15-gic",
            reg(machine::GICC_BASE.raw(), machine::GICC_SIZE),
        ),
    };
    w.property_string("compatible", compatible)?;
    w.property_array_u32("reg", &[gicd, second].concat())?;
    w.property_phandle(GIC_PHANDLE)?;
    w.end_node(gic)?;

    let timer = w.begin_node("timer")?;
    w.property_string("compatible", "arm,armv8-timer")?;
    // A GICv2 PPI specifier also names the CPUs it reaches (bits 15:8 of
    // the flags cell, one bit per CPU interface); GICv3 has no such field.
    let ppi_cpus = match m.gic {
        machine::GicModel::V3 => 0,
        machine::GicModel::V2 => ((1u32 << m.cpus.min(8)) - 1) << 8,
    };
    let ppi = |intid: u32| [GIC_PPI, intid - 16, ppi_cpus | IRQ_LEVEL_HIGH];
    // Secure physical (INTID 29), non-secure physical, virtual, hypervisor.
    let timer_irqs = [
        ppi(29),
        ppi(machine::TIMER_EL1_PHYS_INTID),
        ppi(machine::TIMER_EL1_VIRT_INTID),
        ppi(machine::TIMER_EL2_PHYS_INTID),
    ];
    w.property_array_u32("interrupts", &timer_irqs.concat())?;
    w.property_null("always-on")?;
    w.end_node(timer)?;

    let clock = w.begin_node("apb-pclk")?;
    w.property_string("compatible", "fixed-clock")?;
    w.property_u32("#clock-cells", 0)?;
    w.property_u32("clock-frequency", 24_000_000)?;
    w.property_string("clock-output-names", "clk24mhz")?;
    w.property_phandle(CLOCK_PHANDLE)?;
    w.end_node(clock)?;

    let uart = w.begin_node("pl011@9000000")?;
    w.property_string_list(
        "compatible",
        alloc::vec!["arm,pl011".into(), "arm,primecell".into()],
    )?;
    w.property_array_u32("reg", &reg(machine::UART_BASE.raw(), machine::UART_SIZE))?;
    w.property_array_u32(
        "interrupts",
        &[GIC_SPI, machine::UART_INTID - 32, IRQ_LEVEL_HIGH],
    )?;
    w.property_array_u32("clocks", &[CLOCK_PHANDLE, CLOCK_PHANDLE])?;
    w.property_string_list(
        "clock-names",
        alloc::vec!["uartclk".into(), "apb_pclk".into()],
    )?;
    w.end_node(uart)?;

    for &slot in m.virtio_slots {
        // Checked above: slot < VIRTIO_MMIO_SLOTS, so both lookups succeed.
        let (Some(base), Some(intid)) = (
            machine::virtio_mmio_slot(slot),
            machine::virtio_mmio_intid(slot),
        ) else {
            return Err(FdtError::BadMachine);
        };
        let node = w.begin_node(&alloc::format!("virtio_mmio@{:x}", base.raw()))?;
        w.property_string("compatible", "virtio,mmio")?;
        w.property_array_u32("reg", &reg(base.raw(), machine::VIRTIO_MMIO_SLOT_SIZE))?;
        w.property_array_u32("interrupts", &[GIC_SPI, intid - 32, IRQ_EDGE_RISING])?;
        w.property_null("dma-coherent")?;
        w.end_node(node)?;
    }

    w.end_node(root)?;
    Ok(w.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> GuestFdt<'static> {
        GuestFdt {
            ram_size: 128 << 20,
            cpus: 2,
            bootargs: "console=ttyAMA0",
            initrd: Some((0x4800_0000, 0x4810_0000)),
            virtio_slots: &[0, 1],
            gic: machine::GicModel::V3,
        }
    }

    /// Find `needle` in the blob (strings and property values are stored raw).
    fn contains(blob: &[u8], needle: &[u8]) -> bool {
        blob.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn describes_the_contract() {
        let blob = build(&machine()).unwrap();
        assert_eq!(&blob[..4], &[0xd0, 0x0d, 0xfe, 0xed], "FDT magic");
        for s in [
            &b"memory@40000000"[..],
            b"cpu@1",
            b"arm,gic-v3",
            b"arm,pl011",
            b"virtio_mmio@a000000",
            b"virtio_mmio@a000200",
            b"console=ttyAMA0",
            b"hvc",
        ] {
            assert!(
                contains(&blob, s),
                "missing {}",
                core::str::from_utf8(s).unwrap()
            );
        }
        // RAM reg: base 0x4000_0000, size 128 MiB, as big-endian cells.
        assert!(contains(
            &blob,
            &[0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x08, 0, 0, 0]
        ));
        // Slot 1's interrupt: SPI 17, edge.
        assert!(contains(&blob, &[0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 1]));
        assert!(!contains(&blob, b"cpu@2"));
    }

    #[test]
    fn an_independent_parser_reads_it_back() {
        let blob = build(&machine()).unwrap();
        let fdt = fdt::Fdt::new(&blob).unwrap();
        let ram: alloc::vec::Vec<_> = fdt
            .memory()
            .regions()
            .map(|r| (r.starting_address as u64, r.size))
            .collect();
        assert_eq!(ram, [(0x4000_0000, Some(128 << 20))]);
        assert_eq!(fdt.cpus().count(), 2);
        assert_eq!(fdt.chosen().bootargs(), Some("console=ttyAMA0"));
        let uart = fdt.chosen().stdout().unwrap();
        assert_eq!(
            uart.reg().unwrap().next().unwrap().starting_address as u64,
            0x0900_0000
        );
        assert_eq!(fdt.find_all_nodes("/virtio_mmio").count(), 2);
        let gic = fdt.find_compatible(&["arm,gic-v3"]).unwrap();
        let regs: alloc::vec::Vec<_> = gic
            .reg()
            .unwrap()
            .map(|r| r.starting_address as u64)
            .collect();
        assert_eq!(regs, [0x0800_0000, 0x080a_0000]);
    }

    #[test]
    fn a_gicv2_machine_gets_a_gicv2_node() {
        let m = GuestFdt {
            gic: machine::GicModel::V2,
            cpus: 3,
            ..machine()
        };
        let blob = build(&m).unwrap();
        let fdt = fdt::Fdt::new(&blob).unwrap();
        assert!(fdt.find_compatible(&["arm,gic-v3"]).is_none());
        let gic = fdt.find_compatible(&["arm,cortex-a15-gic"]).unwrap();
        let regs: alloc::vec::Vec<_> = gic
            .reg()
            .unwrap()
            .map(|r| (r.starting_address as u64, r.size))
            .collect();
        assert_eq!(
            regs,
            [(0x0800_0000, Some(0x1000)), (0x0801_0000, Some(0x2000))]
        );
        // Timer PPIs: type 1, level high, CPU mask 0b111 in bits 15:8.
        let timer = fdt.find_compatible(&["arm,armv8-timer"]).unwrap();
        let cells: alloc::vec::Vec<u32> = timer
            .property("interrupts")
            .unwrap()
            .value
            .chunks(4)
            .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(&cells[3..6], &[1, 14, 0x704]);
        // The GICv3 machine's timer flags carry no CPU mask.
        let v3 = build(&machine()).unwrap();
        assert!(contains(&v3, &[0, 0, 0, 1, 0, 0, 0, 14, 0, 0, 0, 4]));
    }

    #[test]
    fn refuses_impossible_machines() {
        let m = GuestFdt {
            cpus: 0,
            ..machine()
        };
        assert_eq!(build(&m), Err(FdtError::BadMachine));
        let m = GuestFdt {
            virtio_slots: &[32],
            ..machine()
        };
        assert_eq!(build(&m), Err(FdtError::BadMachine));
    }

    #[test]
    fn bootargs_with_nul_are_refused() {
        let m = GuestFdt {
            bootargs: "a\0b",
            ..machine()
        };
        assert_eq!(build(&m), Err(FdtError::Writer));
    }
}
