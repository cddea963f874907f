//! Building the guest machine from a guest bundle: kernel, initrd and DTB in
//! guest RAM, and its devices (hv-core's `vm::devices`, the same model
//! hv-sim runs) with the virtio-blk disks on the MMIO bus. Nothing here
//! names a register; the arch code runs the result.

use crate::console;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use hv_core::devices::pl011::CharSink;
use hv_core::machine;
use hv_core::mem::GuestRam;
use hv_core::mmio::MmioBus;
use hv_core::vm::bundle::{self, BundleError};
use hv_core::vm::devices::Devices;
use hv_core::vm::place::{self, GuestSoftware, PlaceError};
use hv_core::GuestAddress;
use virtio::slots::{self, AttachError, Disk, VirtioDisks};
use virtio::BlockBackend;

/// Why the guest could not be built.
#[derive(Clone, Copy, Debug)]
pub enum VmError {
    /// The bundle is malformed.
    Bundle(BundleError),
    /// The guest does not fit in its RAM.
    Place(PlaceError),
    /// The disks could not be attached.
    Disks(AttachError),
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmError::Bundle(e) => write!(f, "{e}"),
            VmError::Place(e) => write!(f, "{e}"),
            VmError::Disks(e) => write!(f, "guest disks: {e:?}"),
        }
    }
}

impl From<BundleError> for VmError {
    fn from(e: BundleError) -> Self {
        VmError::Bundle(e)
    }
}

impl From<PlaceError> for VmError {
    fn from(e: PlaceError) -> Self {
        VmError::Place(e)
    }
}

impl From<AttachError> for VmError {
    fn from(e: AttachError) -> Self {
        VmError::Disks(e)
    }
}

/// Guest console output on hv's console, each line marked as the guest's.
#[derive(Debug, Default)]
pub struct GuestConsole {
    at_line_start: bool,
}

impl GuestConsole {
    /// A console that starts a new line.
    pub fn new() -> Self {
        GuestConsole {
            at_line_start: true,
        }
    }
}

impl CharSink for GuestConsole {
    fn put(&mut self, byte: u8) {
        if self.at_line_start {
            console::print(format_args!("[guest] "));
        }
        match byte {
            b'\n' => console::print(format_args!("\n")),
            b'\r' => {}
            b => console::print(format_args!("{}", char::from(b))),
        }
        self.at_line_start = byte == b'\n';
    }
}

/// A guest ready to run.
pub struct Guest {
    /// Its devices: the GIC's distributor and redistributors, the console,
    /// the virtio disks on the bus.
    pub devices: Devices<GuestConsole, VirtioDisks>,
    /// What is placed in RAM at every (re)boot.
    software: Software,
    /// Entry point (x0 = `dtb`).
    pub entry: GuestAddress,
    /// Where its DTB is.
    pub dtb: GuestAddress,
}

/// The guest's software and machine shape, kept to place it again when the
/// guest reboots.
struct Software {
    bundle: &'static [u8],
    ram: Arc<GuestRam>,
    /// Host physical address of guest RAM's first byte.
    host_base: u64,
    ram_size: u64,
    vcpus: u32,
    slots: Vec<u32>,
    gic: machine::GicModel,
}

impl Software {
    /// Place kernel, initrd and DTB in guest RAM: (entry, DTB).
    fn place(&self, quiet: bool) -> Result<(GuestAddress, GuestAddress), VmError> {
        let bundle = bundle::parse(self.bundle)?;
        let sw = GuestSoftware {
            kernel: bundle.kernel,
            initrd: bundle.initrd,
            cmdline: bundle.cmdline,
        };
        let placed = place::place(
            &*self.ram,
            &sw,
            self.ram_size,
            self.vcpus,
            &self.slots,
            self.gic,
        )?;
        // The guest starts with its MMU and caches off: what hv just wrote
        // through its cacheable map must reach memory, and no stale
        // instruction may hide it.
        let host = |a: GuestAddress| self.host_base + (a.raw() - machine::RAM_BASE.raw());
        let ranges = placed.written().map(|(s, e)| (host(s), e.raw() - s.raw()));
        crate::arch::prepare_guest_image(&ranges);
        if !quiet {
            log::info!(
                "guest kernel ({:?}, {} KiB) at {}, entry {}",
                placed.format,
                bundle.kernel.len() / 1024,
                placed.kernel_at,
                placed.entry
            );
            if let Some((start, end)) = placed.initrd {
                log::info!("guest initrd ({} KiB) at {start:#x}", (end - start) / 1024);
            }
        }
        Ok((placed.entry, placed.dtb))
    }
}

impl Guest {
    /// Reboot the machine: a fresh interrupt controller and UART, every
    /// virtio device reset (disks keep their contents), and the guest's
    /// software placed in RAM again. Returns the new (entry, DTB).
    pub fn reset(&mut self) -> Result<(GuestAddress, GuestAddress), VmError> {
        self.devices.reset(GuestConsole::new());
        let (entry, dtb) = self.software.place(true)?;
        self.entry = entry;
        self.dtb = dtb;
        Ok((entry, dtb))
    }
}

impl fmt::Debug for Guest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guest")
            .field("entry", &self.entry)
            .field("dtb", &self.dtb)
            .field("bus", &self.devices.bus)
            .finish()
    }
}

/// Load the guest in `bundle_bytes` into `ram` (`ram_size` bytes at the
/// contract's RAM base) for a machine of `vcpus` vCPUs, and attach its
/// devices.
pub fn build<B: BlockBackend + 'static>(
    bundle_bytes: &'static [u8],
    ram: Arc<GuestRam>,
    host_base: u64,
    ram_size: u64,
    disks: Vec<Disk<B>>,
    vcpus: u32,
    gic: machine::GicModel,
) -> Result<Guest, VmError> {
    // Check the bundle before anything is attached.
    bundle::parse(bundle_bytes)?;
    let mut bus = MmioBus::new();
    let disks = slots::attach_disks(&mut bus, &ram, disks)?;
    let attached = disks.slots().to_vec();
    let software = Software {
        bundle: bundle_bytes,
        ram,
        host_base,
        ram_size,
        vcpus,
        gic,
        slots: attached.iter().map(|a| a.slot).collect(),
    };
    let (entry, dtb) = software.place(false)?;
    let lines: Vec<(GuestAddress, u32)> = attached.iter().map(|a| (a.base, a.intid)).collect();
    Ok(Guest {
        devices: Devices::new(bus, &lines, disks, vcpus as usize, gic, GuestConsole::new()),
        software,
        entry,
        dtb,
    })
}
