//! What hv-kernel needs from the device tree the loader passed in x0, read
//! with hv-core's `dtb` reader (FDT_NOP tokens skipped, `reg` translated
//! through `ranges`, a malformed blob an error rather than a panic).

use super::psci::Conduit;
use super::uart;
use alloc::string::String;
use alloc::vec::Vec;
use hv_core::dtb::{Dtb, Node, Prop};

/// Facts about the machine, read from the DTB.
#[derive(Debug)]
pub struct BootInfo {
    /// The console UART (`/chosen/stdout-path`, or on QEMU virt without
    /// one the first PL011): its driver and physical address.
    pub uart: Option<(&'static uart::Driver, usize)>,
    /// Its interrupt (INTID), if the DTB gives it as a GIC SPI.
    pub uart_intid: Option<u32>,
    /// RAM as (base, size) pairs.
    pub ram: Vec<(u64, u64)>,
    /// Each CPU, in DTB order.
    pub cpus: Vec<Cpu>,
    /// PSCI conduit, if the DTB has a usable `/psci` node.
    pub psci: Option<Conduit>,
    /// Memory hv must leave alone: the `/memreserve/` entries and the
    /// `/reserved-memory` regions (firmware, spin tables), as (base, size).
    pub reserved: Vec<(u64, u64)>,
    /// The BCM2835 power-management watchdog (Raspberry Pi), hv's way to
    /// power off without PSCI.
    pub bcm2835_watchdog: Option<usize>,
    /// The `compatible` of a GICv2 the DTB names, for messages (and, with
    /// no virtualization frames, for the refusal).
    pub other_gic: Option<&'static str>,
    /// Where the DTB itself lies (start, size).
    pub dtb: (u64, u64),
    /// The loader's initrd range [start, end): hv's guest bundle.
    pub initrd: Option<(u64, u64)>,
    /// hv's own command line (`/chosen/bootargs`).
    pub bootargs: String,
    /// Physical addresses of the virtio-mmio windows.
    pub virtio_mmio: Vec<usize>,
    /// The interrupt controller hv can run guests on, if any.
    pub gic: Option<HostGic>,
}

/// The host's interrupt controller, by the physical addresses of its frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostGic {
    /// GICv3: distributor and the first redistributor.
    V3 { gicd: usize, gicr: usize },
    /// GICv2 with the virtualization extensions: distributor, CPU
    /// interface, virtual interface control (GICH) and the virtual CPU
    /// interface (GICV) that guests get.
    V2 {
        gicd: usize,
        gicc: usize,
        gich: usize,
        gicv: usize,
    },
}

/// A CPU of the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cpu {
    /// Its MPIDR affinity fields (the node's `reg`).
    pub mpidr: u64,
    /// How it is started.
    pub enable: EnableMethod,
}

/// A CPU node's `enable-method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnableMethod {
    /// PSCI CPU_ON.
    Psci,
    /// A spin table: the CPU waits in firmware until its release address
    /// (`cpu-release-addr`) holds an entry point.
    SpinTable(u64),
    /// Absent or not one hv implements: the CPU stays off.
    Unsupported,
}

/// GICv2 implementations, by `compatible`.
const GICV2: [&str; 3] = ["arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a7-gic"];

/// Why the DTB could not be used.
#[derive(Clone, Copy, Debug)]
pub enum DtbError {
    /// x0 was 0: the loader passed no DTB (e.g. QEMU with an ELF image).
    Missing,
    /// The blob failed validation.
    Invalid(hv_core::dtb::DtbError),
}

impl core::fmt::Display for DtbError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DtbError::Missing => write!(f, "no device tree passed in x0"),
            DtbError::Invalid(e) => write!(f, "invalid device tree: {e}"),
        }
    }
}

/// Larger blobs are refused (firmware DTBs are tens of KiB).
const MAX_DTB: usize = 2 << 20;

/// A property's value as a string (up to its NUL).
fn text<'a>(p: Prop<'a>) -> &'a str {
    let end = p
        .value
        .iter()
        .position(|&c| c == 0)
        .unwrap_or(p.value.len());
    core::str::from_utf8(&p.value[..end]).unwrap_or("")
}

/// Whether `n`'s `compatible` list names `what`.
fn compatible(n: &Node<'_>, what: &str) -> bool {
    n.prop(b"compatible")
        .is_some_and(|p| p.value.split(|&c| c == 0).any(|s| s == what.as_bytes()))
}

/// A big-endian 1- or 2-cell number.
fn number(v: &[u8]) -> Option<u64> {
    match v.len() {
        4 => Some(u64::from(u32::from_be_bytes(v.try_into().ok()?))),
        8 => Some(u64::from_be_bytes(v.try_into().ok()?)),
        _ => None,
    }
}

/// The node `/chosen/stdout-path` names, directly or through `/aliases`.
fn stdout<'n, 'a>(nodes: &'n [Node<'a>]) -> Option<&'n Node<'a>> {
    let path = text(Dtb::find(nodes, b"/chosen")?.prop(b"stdout-path")?);
    let path = path.split(':').next()?;
    if path.starts_with('/') {
        return Dtb::find(nodes, path.as_bytes());
    }
    let alias = Dtb::find(nodes, b"/aliases")?.prop(path.as_bytes())?;
    Dtb::find(nodes, text(alias).as_bytes())
}

/// Read the DTB at physical address `addr`.
pub fn parse(addr: usize) -> Result<BootInfo, DtbError> {
    if addr == 0 {
        return Err(DtbError::Missing);
    }
    // SAFETY: the boot protocol says x0 holds the address of a DTB in RAM
    // that stays untouched while we run; the MMU is off, so the physical
    // address is directly usable. The header's first 8 bytes (magic and
    // total size) are read first, then only that many bytes (capped).
    let header = unsafe { core::slice::from_raw_parts(addr as *const u8, 8) };
    let total = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    // SAFETY: as above: the loader placed `total` bytes of DTB at `addr`
    // (a wrong size is caught by the reader's own bounds checks, within
    // the cap).
    let blob = unsafe { core::slice::from_raw_parts(addr as *const u8, total.clamp(8, MAX_DTB)) };
    let dtb = Dtb::new(blob).map_err(DtbError::Invalid)?;
    let nodes = dtb.nodes().map_err(DtbError::Invalid)?;
    let first_reg = |n: &Node<'_>| Dtb::reg(&nodes, n).first().map(|&(a, _)| a as usize);

    let driver = |n: &Node<'_>| {
        uart::DRIVERS
            .iter()
            .find(|&&(c, _)| compatible(n, c))
            .map(|&(_, d)| d)
    };
    // Only QEMU virt gets a console the DTB does not name: elsewhere the
    // first PL011 may be wired to something else (the Pi's Bluetooth).
    let on_virt = nodes
        .first()
        .is_some_and(|root| compatible(root, "linux,dummy-virt"));
    let uart_node = match stdout(&nodes) {
        Some(n) => Some(n),
        None if on_virt => nodes.iter().find(|n| compatible(n, "arm,pl011")),
        None => None,
    };
    let uart = uart_node.and_then(|n| Some((driver(n)?, first_reg(n)?)));
    // `interrupts = <type number flags>`; type 0 is an SPI (INTID 32 + n).
    let uart_intid = uart_node.and_then(|n| n.prop(b"interrupts")).and_then(|p| {
        let mut cells = p.cells();
        match cells.next()? {
            0 => cells.next().map(|n| 32 + n),
            _ => None,
        }
    });

    let ram = nodes
        .iter()
        .filter(|n| n.prop(b"device_type").is_some_and(|p| text(p) == "memory"))
        .flat_map(|n| Dtb::reg(&nodes, n))
        .collect();

    // CPU IDs are raw `reg` values (no bus to translate them through).
    let cpus_node = Dtb::find(&nodes, b"/cpus");
    let cpus = nodes
        .iter()
        .filter(|n| cpus_node.is_some_and(|c| n.parent == c.offset && n.offset != c.offset))
        .filter(|n| n.prop(b"device_type").is_some_and(|p| text(p) == "cpu"))
        .filter_map(|n| {
            let mpidr = number(n.prop(b"reg")?.value)?;
            let enable = match n.prop(b"enable-method").map(text) {
                Some("psci") => EnableMethod::Psci,
                Some("spin-table") => n
                    .prop(b"cpu-release-addr")
                    .and_then(|p| number(p.value))
                    .map_or(EnableMethod::Unsupported, EnableMethod::SpinTable),
                // No enable-method: the boot CPU's node, or PSCI's default
                // on machines (QEMU virt) that only name it in /psci.
                None => EnableMethod::Psci,
                Some(_) => EnableMethod::Unsupported,
            };
            Some(Cpu { mpidr, enable })
        })
        .collect();

    let psci = Dtb::find(&nodes, b"/psci")
        .and_then(|n| n.prop(b"method"))
        .and_then(|p| match text(p) {
            "smc" => Some(Conduit::Smc),
            "hvc" => Some(Conduit::Hvc),
            _ => None,
        });

    let chosen = Dtb::find(&nodes, b"/chosen");
    let chosen_number = |name: &[u8]| chosen.and_then(|n| number(n.prop(name)?.value));
    let initrd = match (
        chosen_number(b"linux,initrd-start"),
        chosen_number(b"linux,initrd-end"),
    ) {
        (Some(start), Some(end)) if end > start => Some((start, end)),
        _ => None,
    };

    let virtio_mmio = nodes
        .iter()
        .filter(|n| compatible(n, "virtio,mmio"))
        .filter_map(first_reg)
        .collect();

    let gic = nodes
        .iter()
        .find(|n| compatible(n, "arm,gic-v3"))
        .and_then(|n| {
            let regs = Dtb::reg(&nodes, n);
            Some(HostGic::V3 {
                gicd: regs.first()?.0 as usize,
                gicr: regs.get(1)?.0 as usize,
            })
        })
        .or_else(|| {
            // A GICv2 with the virtualization extensions: GICD, GICC, GICH,
            // GICV (the binding's reg order).
            let n = nodes
                .iter()
                .find(|n| GICV2.iter().any(|c| compatible(n, c)))?;
            let regs = Dtb::reg(&nodes, n);
            Some(HostGic::V2 {
                gicd: regs.first()?.0 as usize,
                gicc: regs.get(1)?.0 as usize,
                gich: regs.get(2)?.0 as usize,
                gicv: regs.get(3)?.0 as usize,
            })
        });

    let mut reserved = dtb.reservations().map_err(DtbError::Invalid)?;
    if let Some(parent) = Dtb::find(&nodes, b"/reserved-memory") {
        for n in nodes
            .iter()
            .filter(|n| n.parent == parent.offset && n.offset != parent.offset)
        {
            reserved.extend(Dtb::reg(&nodes, n));
        }
    }

    let bcm2835_watchdog = nodes
        .iter()
        .find(|n| compatible(n, "brcm,bcm2835-pm-wdt") || compatible(n, "brcm,bcm2835-pm"))
        .and_then(first_reg);
    let other_gic = GICV2
        .into_iter()
        .find(|&c| nodes.iter().any(|n| compatible(n, c)));

    let bootargs = chosen
        .and_then(|n| n.prop(b"bootargs"))
        .map(text)
        .unwrap_or("");

    Ok(BootInfo {
        gic,
        uart,
        uart_intid,
        ram,
        cpus,
        psci,
        reserved,
        bcm2835_watchdog,
        other_gic,
        dtb: (addr as u64, blob.len() as u64),
        initrd,
        bootargs: String::from(bootargs),
        virtio_mmio,
    })
}
