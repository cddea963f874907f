//! Building the guest machine from a guest bundle: kernel, initrd and DTB in
//! guest RAM, the PL011 and the virtio-blk disks on the MMIO bus. Nothing
//! here names a register; the arch code runs the result.

use crate::console;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use hv_core::devices::gicv3::Vgic;
use hv_core::devices::irq_line::IrqLine;
use hv_core::devices::pl011::{CharSink, Pl011};
use hv_core::machine;
use hv_core::mem::GuestRam;
use hv_core::mmio::{AccessWidth, BusError, MmioBus, MmioDevice};
use hv_core::vm::bundle::{self, BundleError};
use hv_core::vm::place::{self, GuestSoftware, PlaceError};
use hv_core::GuestAddress;
use virtio::slots::{self, AttachError, Disk, VirtioDisks};
use virtio::BlockBackend;

/// Console input hv holds for the guest beyond the UART's FIFO; more is
/// dropped (a paste of a few lines fits).
const CONSOLE_BACKLOG: usize = 4096;

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
    /// Its devices (the virtio transports hold the guest RAM).
    pub bus: MmioBus,
    /// Its interrupt controller (distributor and redistributors).
    pub vgic: Vgic,
    /// Which GIC the guest sees (the host's generation).
    pub gic: machine::GicModel,
    /// Its console (kept off the bus so hv can feed it input).
    uart: Pl011<GuestConsole>,
    uart_line: IrqLine,
    /// Console input the UART's FIFO had no room for yet: fed in as the
    /// guest reads, so pasted lines are not lost to FIFO overruns.
    input: VecDeque<u8>,
    lines: Vec<IrqLine>,
    /// The virtio disks, for serving work a notification left over.
    disks: VirtioDisks,
    /// Some disk queue has work left over (bounded work per notification).
    deferred_io: bool,
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

/// virtio-mmio Status register: writing 0 resets the device (virtio 1.2,
/// 4.2.2.1).
const VIRTIO_MMIO_STATUS: u64 = 0x70;

impl Guest {
    /// A load by vCPU `vcpu` from the guest's machine: the GIC's frames,
    /// else the bus. (A GICv2 distributor banks registers by the vCPU that
    /// accesses it.)
    pub fn mmio_read(
        &mut self,
        vcpu: usize,
        ipa: GuestAddress,
        width: AccessWidth,
    ) -> Result<u64, BusError> {
        if let Some(off) = offset_in(ipa, machine::UART_BASE, machine::UART_SIZE) {
            let v = self.uart.read(off, width) & width.mask();
            self.feed_uart();
            self.sample_uart();
            return Ok(v);
        }
        if let Some(off) = self.gicd_offset(ipa) {
            return Ok(match self.gic {
                machine::GicModel::V3 => self.vgic.dist_read(off, width),
                machine::GicModel::V2 => self.vgic.dist_v2_read(vcpu, off, width),
            });
        }
        if let Some(off) = offset_in(ipa, machine::GICR_BASE, self.gicr_size()) {
            return Ok(self.vgic.redist_read(off, width));
        }
        let v = self.bus.read(ipa, width)?;
        self.sample_line(ipa);
        Ok(v)
    }

    /// A store by vCPU `vcpu` to the guest's machine.
    pub fn mmio_write(
        &mut self,
        vcpu: usize,
        ipa: GuestAddress,
        width: AccessWidth,
        value: u64,
    ) -> Result<(), BusError> {
        if let Some(off) = offset_in(ipa, machine::UART_BASE, machine::UART_SIZE) {
            self.uart.write(off, width, value & width.mask());
            self.sample_uart();
            return Ok(());
        }
        if let Some(off) = self.gicd_offset(ipa) {
            match self.gic {
                machine::GicModel::V3 => self.vgic.dist_write(off, width, value),
                machine::GicModel::V2 => self.vgic.dist_v2_write(vcpu, off, width, value),
            }
            return Ok(());
        }
        if let Some(off) = offset_in(ipa, machine::GICR_BASE, self.gicr_size()) {
            self.vgic.redist_write(off, width, value);
            return Ok(());
        }
        self.bus.write(ipa, width, value)?;
        self.sample_line(ipa);
        // A notification serves a bounded number of requests; the rest is
        // left for polls (a guest may keep publishing from another vCPU).
        self.deferred_io = self.disks.has_deferred_work();
        Ok(())
    }

    /// Whether a disk has queue work left over from a notification.
    pub fn has_deferred_io(&self) -> bool {
        self.deferred_io
    }

    /// Serve one more budget of the disks' left-over queue work and raise
    /// their interrupts; returns whether work is still left.
    pub fn poll_disks(&mut self) -> bool {
        self.deferred_io = self.disks.poll();
        for i in 0..self.lines.len() {
            let base = self.lines[i].base;
            self.sample_line(base);
        }
        self.deferred_io
    }

    /// The offset of `ipa` in the redistributor frames, if it is there.
    pub fn gicr_offset(&self, ipa: GuestAddress) -> Option<u64> {
        offset_in(ipa, machine::GICR_BASE, self.gicr_size())
    }

    /// The offset of `ipa` in the distributor frame, if it is there.
    pub fn gicd_offset(&self, ipa: GuestAddress) -> Option<u64> {
        let size = match self.gic {
            machine::GicModel::V3 => machine::GICD_SIZE,
            machine::GicModel::V2 => machine::GICD_V2_SIZE,
        };
        offset_in(ipa, machine::GICD_BASE, size)
    }

    /// Redistributor frames: a GICv2 guest has none.
    fn gicr_size(&self) -> u64 {
        match self.gic {
            machine::GicModel::V3 => machine::GICR_STRIDE * self.vgic.vcpus() as u64,
            machine::GicModel::V2 => 0,
        }
    }

    /// Bytes typed on hv's console, for the guest's UART (dropped when its
    /// receive FIFO is full, like a real UART overrun).
    pub fn console_input(&mut self, byte: u8) {
        if self.input.len() < CONSOLE_BACKLOG {
            self.input.push_back(byte);
        }
        self.feed_uart();
        self.sample_uart();
    }

    /// Move waiting console input into the UART's FIFO while it has room.
    fn feed_uart(&mut self) {
        while let Some(&byte) = self.input.front() {
            if !self.uart.receive(byte) {
                break;
            }
            self.input.pop_front();
        }
    }

    /// Pass the PL011's (level-sensitive) interrupt line to the vGIC.
    fn sample_uart(&mut self) {
        let level = self.uart.interrupt_level();
        self.uart_line.update(&mut self.vgic, level);
    }

    /// After an access to the bus device at `ipa`: a rising edge of its
    /// (edge-triggered virtio) line makes its SPI pending. Only the device
    /// touched can have changed its line: hv's disks complete synchronously.
    fn sample_line(&mut self, ipa: GuestAddress) {
        let Some((base, level)) = self.bus.interrupt_level_at(ipa) else {
            return;
        };
        if let Some(line) = self.lines.iter_mut().find(|l| l.base == base) {
            line.update(&mut self.vgic, level);
        }
    }

    /// Reboot the machine: a fresh interrupt controller and UART, every
    /// virtio device reset (disks keep their contents), and the guest's
    /// software placed in RAM again. Returns the new (entry, DTB).
    pub fn reset(&mut self) -> Result<(GuestAddress, GuestAddress), VmError> {
        self.vgic = Vgic::new(self.software.vcpus as usize);
        self.uart = Pl011::new(GuestConsole::new());
        self.uart_line.reset();
        for line in &mut self.lines {
            // Every slot is a virtio-mmio transport; the write cannot miss.
            if let Some(status) = line.base.checked_add(VIRTIO_MMIO_STATUS) {
                let _ = self.bus.write(status, AccessWidth::Word, 0);
            }
            line.reset();
        }
        self.deferred_io = false;
        let (entry, dtb) = self.software.place(true)?;
        self.entry = entry;
        self.dtb = dtb;
        Ok((entry, dtb))
    }
}

/// `addr - base` if `addr` lies in `[base, base + size)`.
fn offset_in(addr: GuestAddress, base: GuestAddress, size: u64) -> Option<u64> {
    addr.checked_offset_from(base).filter(|&o| o < size)
}

impl fmt::Debug for Guest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guest")
            .field("entry", &self.entry)
            .field("dtb", &self.dtb)
            .field("bus", &self.bus)
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
    Ok(Guest {
        bus,
        vgic: Vgic::new(vcpus as usize),
        gic,
        uart: Pl011::new(GuestConsole::new()),
        uart_line: IrqLine::new(machine::UART_BASE, machine::UART_INTID, false),
        input: VecDeque::new(),
        lines: attached
            .iter()
            .map(|a| IrqLine::new(a.base, a.intid, true))
            .collect(),
        disks,
        deferred_io: false,
        software,
        entry,
        dtb,
    })
}
