//! What hv-kernel needs from the device tree the loader passed in x0.

use super::psci::Conduit;
use alloc::string::String;
use alloc::vec::Vec;
use fdt::Fdt;

/// Facts about the machine, read from the DTB.
#[derive(Debug)]
pub struct BootInfo {
    /// Physical address of the console PL011.
    pub uart: Option<usize>,
    /// Its interrupt (INTID), if the DTB gives it as a GIC SPI.
    pub uart_intid: Option<u32>,
    /// RAM as (base, size) pairs.
    pub ram: Vec<(u64, u64)>,
    /// MPIDR of each CPU, in DTB order.
    pub cpus: Vec<u64>,
    /// PSCI conduit, if the DTB has a usable `/psci` node.
    pub psci: Option<Conduit>,
    /// Where the DTB itself lies (start, size).
    pub dtb: (u64, u64),
    /// The loader's initrd range [start, end): hv's guest bundle.
    pub initrd: Option<(u64, u64)>,
    /// hv's own command line (`/chosen/bootargs`).
    pub bootargs: String,
    /// Physical addresses of the virtio-mmio windows.
    pub virtio_mmio: Vec<usize>,
    /// GICv3 distributor and first redistributor, if the machine has one.
    pub gic: Option<(usize, usize)>,
}

/// Why the DTB could not be used.
#[derive(Clone, Copy, Debug)]
pub enum DtbError {
    /// x0 was 0: the loader passed no DTB (e.g. QEMU with an ELF image).
    Missing,
    /// The blob failed validation.
    Invalid(fdt::FdtError),
}

impl core::fmt::Display for DtbError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DtbError::Missing => write!(f, "no device tree passed in x0"),
            DtbError::Invalid(e) => write!(f, "invalid device tree: {e:?}"),
        }
    }
}

/// Read the DTB at physical address `addr`.
pub fn parse(addr: usize) -> Result<BootInfo, DtbError> {
    if addr == 0 {
        return Err(DtbError::Missing);
    }
    // SAFETY: the boot protocol says x0 holds the address of a DTB in RAM
    // that stays untouched while we run; the MMU is off, so the physical
    // address is directly usable. `from_ptr` validates the header and total
    // size before reading further.
    let fdt = unsafe { Fdt::from_ptr(addr as *const u8) }.map_err(DtbError::Invalid)?;

    let uart_node = fdt
        .chosen()
        .stdout()
        .filter(|n| {
            n.compatible()
                .is_some_and(|c| c.all().any(|s| s == "arm,pl011"))
        })
        .or_else(|| fdt.find_compatible(&["arm,pl011"]));
    let uart = uart_node
        .and_then(|n| n.reg()?.next())
        .map(|r| r.starting_address as usize);
    // `interrupts = <type number flags>`; type 0 is an SPI (INTID 32 + n).
    let uart_intid = uart_node
        .and_then(|n| n.property("interrupts"))
        .and_then(|p| {
            let cell = |i: usize| {
                Some(u32::from_be_bytes(
                    p.value.get(4 * i..4 * i + 4)?.try_into().ok()?,
                ))
            };
            match cell(0)? {
                0 => cell(1).map(|n| 32 + n),
                _ => None,
            }
        });

    let ram = fdt
        .memory()
        .regions()
        .filter_map(|r| Some((r.starting_address as u64, r.size? as u64)))
        .collect();

    let cpus = fdt
        .cpus()
        .filter_map(|c| c.ids().first().try_into().ok())
        .collect();

    let psci = fdt
        .find_node("/psci")
        .and_then(|n| n.property("method"))
        .and_then(|p| p.as_str())
        .and_then(|m| match m {
            "smc" => Some(Conduit::Smc),
            "hvc" => Some(Conduit::Hvc),
            _ => None,
        });

    let chosen_u64 = |name: &str| {
        fdt.find_node("/chosen")
            .and_then(|n| n.property(name))
            .and_then(|p| p.as_usize())
            .map(|v| v as u64)
    };
    let initrd = match (
        chosen_u64("linux,initrd-start"),
        chosen_u64("linux,initrd-end"),
    ) {
        (Some(start), Some(end)) if end > start => Some((start, end)),
        _ => None,
    };

    let virtio_mmio = fdt
        .all_nodes()
        .filter(|n| {
            n.compatible()
                .is_some_and(|c| c.all().any(|s| s == "virtio,mmio"))
        })
        .filter_map(|n| n.reg()?.next())
        .map(|r| r.starting_address as usize)
        .collect();

    let gic = fdt.find_compatible(&["arm,gic-v3"]).and_then(|n| {
        let mut regs = n.reg()?;
        let gicd = regs.next()?.starting_address as usize;
        let gicr = regs.next()?.starting_address as usize;
        Some((gicd, gicr))
    });

    Ok(BootInfo {
        gic,
        uart,
        uart_intid,
        ram,
        cpus,
        psci,
        dtb: (addr as u64, fdt.total_size() as u64),
        initrd,
        bootargs: String::from(fdt.chosen().bootargs().unwrap_or("")),
        virtio_mmio,
    })
}
