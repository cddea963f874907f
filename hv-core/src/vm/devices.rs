//! The AArch64 guest machine's devices (DESIGN.md, "The guest machine
//! contract"), one model for both homes: the GIC's distributor and
//! redistributors (GICv3, or a GICv2 distributor), the PL011 console with
//! the console input it has no room for yet, and the MMIO bus with the
//! virtio transports and their interrupt lines. hv-kernel calls
//! [`Devices::mmio_read`] and [`Devices::mmio_write`] from its stage-2
//! data aborts, hv-sim from its soft MMU; the vCPU-side parts (GIC CPU
//! interface, timers) stay with each home's vCPU.

use crate::devices::gicv3::Vgic;
use crate::devices::irq_line::IrqLine;
use crate::devices::pl011::{CharSink, Pl011};
use crate::machine::{self, GicModel};
use crate::mmio::{AccessWidth, BusError, MmioBus, MmioDevice};
use crate::GuestAddress;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Console input held for the guest beyond the UART's FIFO; more is
/// dropped (a paste of a few lines fits).
const CONSOLE_BACKLOG: usize = 4096;

/// virtio-mmio Status register: writing 0 resets the device (virtio 1.2,
/// 4.2.2.1).
const VIRTIO_MMIO_STATUS: u64 = 0x70;

/// Device work a notification left over (bounded work per notification),
/// for the home to continue: the virtio crate's disks implement it.
pub trait DeviceWork {
    /// Whether some device has work left.
    fn has_deferred_work(&self) -> bool;
    /// Do one more budget of it; returns whether work is still left.
    fn poll(&self) -> bool;
}

/// The guest's devices outside its vCPUs.
pub struct Devices<S: CharSink, W: DeviceWork> {
    /// The virtio transports (and any other bus device).
    pub bus: MmioBus,
    /// Distributor and redistributors.
    pub vgic: Vgic,
    /// Which GIC the guest sees.
    pub gic: GicModel,
    /// The console, kept off the bus so the home can feed it input.
    uart: Pl011<S>,
    uart_line: IrqLine,
    input: VecDeque<u8>,
    /// The bus devices' interrupt lines (edge-triggered virtio).
    lines: Vec<IrqLine>,
    /// What continues the disks' left-over queue work.
    work: W,
    /// Some device has work left over.
    deferred: bool,
}

impl<S: CharSink, W: DeviceWork> core::fmt::Debug for Devices<S, W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Devices")
            .field("bus", &self.bus)
            .field("gic", &self.gic)
            .field("lines", &self.lines.len())
            .field("deferred", &self.deferred)
            .finish_non_exhaustive()
    }
}

impl<S: CharSink, W: DeviceWork> Devices<S, W> {
    /// The devices of a guest with `vcpus` vCPUs and a `gic`: `bus` with
    /// its interrupting devices at `lines` (base, INTID; edge-triggered),
    /// `work` to continue their queues, `console` behind the PL011.
    pub fn new(
        bus: MmioBus,
        lines: &[(GuestAddress, u32)],
        work: W,
        vcpus: usize,
        gic: GicModel,
        console: S,
    ) -> Self {
        Devices {
            bus,
            vgic: Vgic::new(vcpus),
            gic,
            uart: Pl011::new(console),
            uart_line: IrqLine::new(machine::UART_BASE, machine::UART_INTID, false),
            input: VecDeque::new(),
            lines: lines
                .iter()
                .map(|&(base, intid)| IrqLine::new(base, intid, true))
                .collect(),
            work,
            deferred: false,
        }
    }

    /// What continues the devices' left-over work (e.g. the disks' slots).
    pub fn work(&self) -> &W {
        &self.work
    }

    /// A load by vCPU `vcpu`: the console, the GIC's frames, else the bus.
    /// (A GICv2 distributor banks registers by the vCPU that accesses it.)
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
                GicModel::V3 => self.vgic.dist_read(off, width),
                GicModel::V2 => self.vgic.dist_v2_read(vcpu, off, width),
            });
        }
        if let Some(off) = self.gicr_offset(ipa) {
            return Ok(self.vgic.redist_read(off, width));
        }
        let v = self.bus.read(ipa, width)?;
        self.sample_line(ipa);
        Ok(v)
    }

    /// A store by vCPU `vcpu`.
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
                GicModel::V3 => self.vgic.dist_write(off, width, value),
                GicModel::V2 => self.vgic.dist_v2_write(vcpu, off, width, value),
            }
            return Ok(());
        }
        if let Some(off) = self.gicr_offset(ipa) {
            self.vgic.redist_write(off, width, value);
            return Ok(());
        }
        self.bus.write(ipa, width, value)?;
        self.sample_line(ipa);
        // A notification serves a bounded number of requests; the rest is
        // left for polls (a guest may keep publishing from another vCPU).
        self.deferred = self.work.has_deferred_work();
        Ok(())
    }

    /// Whether a device has work left over from a notification.
    pub fn has_deferred_io(&self) -> bool {
        self.deferred
    }

    /// Do one more budget of the devices' left-over work and pass their
    /// interrupts on; returns whether work is still left.
    pub fn poll_disks(&mut self) -> bool {
        if !self.deferred && !self.work.has_deferred_work() {
            return false;
        }
        self.deferred = self.work.poll();
        for i in 0..self.lines.len() {
            let base = self.lines[i].base;
            self.sample_line(base);
        }
        self.deferred
    }

    /// The offset of `ipa` in the redistributor frames, if it is there.
    pub fn gicr_offset(&self, ipa: GuestAddress) -> Option<u64> {
        offset_in(ipa, machine::GICR_BASE, self.gicr_size())
    }

    /// The offset of `ipa` in the distributor frame, if it is there.
    pub fn gicd_offset(&self, ipa: GuestAddress) -> Option<u64> {
        let size = match self.gic {
            GicModel::V3 => machine::GICD_SIZE,
            GicModel::V2 => machine::GICD_V2_SIZE,
        };
        offset_in(ipa, machine::GICD_BASE, size)
    }

    /// Redistributor frames: a GICv2 guest has none.
    fn gicr_size(&self) -> u64 {
        match self.gic {
            GicModel::V3 => machine::GICR_STRIDE * self.vgic.vcpus() as u64,
            GicModel::V2 => 0,
        }
    }

    /// A byte typed on the home's console, for the guest's UART (dropped
    /// when the backlog is full, like a real UART overrun).
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
    /// touched can have changed its line: disks complete synchronously.
    fn sample_line(&mut self, ipa: GuestAddress) {
        let Some((base, level)) = self.bus.interrupt_level_at(ipa) else {
            return;
        };
        if let Some(line) = self.lines.iter_mut().find(|l| l.base == base) {
            line.update(&mut self.vgic, level);
        }
    }

    /// Reboot the devices: a fresh interrupt controller and UART (on
    /// `console`), every virtio device reset (disks keep their contents).
    pub fn reset(&mut self, console: S) {
        self.vgic = Vgic::new(self.vgic.vcpus());
        self.uart = Pl011::new(console);
        self.uart_line.reset();
        self.input.clear();
        for line in &mut self.lines {
            // Every line belongs to a virtio-mmio transport.
            if let Some(status) = line.base.checked_add(VIRTIO_MMIO_STATUS) {
                let _ = self.bus.write(status, AccessWidth::Word, 0);
            }
            line.reset();
        }
        self.deferred = false;
    }
}

/// `addr - base` if `addr` lies in `[base, base + size)`.
fn offset_in(addr: GuestAddress, base: GuestAddress, size: u64) -> Option<u64> {
    addr.checked_offset_from(base).filter(|&o| o < size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use alloc::vec;
    use core::sync::atomic::{AtomicBool, Ordering};

    /// A console that keeps what the guest wrote.
    #[derive(Debug, Default)]
    struct Keep(Arc<std::sync::Mutex<Vec<u8>>>);
    impl CharSink for Keep {
        fn put(&mut self, byte: u8) {
            self.0.lock().unwrap().push(byte);
        }
    }

    /// Deferred work that is left until polled once.
    #[derive(Debug, Default)]
    struct Once(AtomicBool);
    impl DeviceWork for Once {
        fn has_deferred_work(&self) -> bool {
            self.0.load(Ordering::SeqCst)
        }
        fn poll(&self) -> bool {
            self.0.store(false, Ordering::SeqCst);
            false
        }
    }

    /// A bus device whose line is high once written.
    #[derive(Debug, Default)]
    struct Raiser(bool);
    impl MmioDevice for Raiser {
        fn read(&mut self, _: u64, _: AccessWidth) -> u64 {
            7
        }
        fn write(&mut self, _: u64, _: AccessWidth, v: u64) {
            self.0 = v != 0;
        }
        fn interrupt_level(&self) -> bool {
            self.0
        }
    }

    const W: AccessWidth = AccessWidth::Word;
    const DEV: GuestAddress = GuestAddress(0x0a00_0000);

    fn devices(gic: GicModel) -> (Devices<Keep, Once>, Arc<std::sync::Mutex<Vec<u8>>>) {
        let mut bus = MmioBus::new();
        bus.insert(DEV, 0x200, alloc::boxed::Box::new(Raiser::default()))
            .unwrap();
        let out = Arc::new(std::sync::Mutex::new(Vec::new()));
        let d = Devices::new(
            bus,
            &[(DEV, 48)],
            Once::default(),
            2,
            gic,
            Keep(out.clone()),
        );
        (d, out)
    }

    #[test]
    fn accesses_reach_the_uart_the_gic_and_the_bus() {
        let (mut d, out) = devices(GicModel::V3);
        d.mmio_write(0, machine::UART_BASE, W, u64::from(b'h'))
            .unwrap();
        assert_eq!(*out.lock().unwrap(), vec![b'h']);
        // GICD_TYPER reads the same through both paths.
        let typer = d.mmio_read(0, machine::GICD_BASE.checked_add(4).unwrap(), W);
        assert_eq!(typer, Ok(d.vgic.dist_read(4, W)));
        assert_eq!(d.mmio_read(1, DEV, W), Ok(7));
        assert!(d.gicr_offset(machine::GICR_BASE).is_some());
        let unmapped = GuestAddress(0x0b00_0000);
        assert_eq!(
            d.mmio_read(0, unmapped, W),
            Err(BusError::Unmapped(unmapped))
        );
    }

    #[test]
    fn a_gicv2_guest_has_no_redistributors() {
        let (d, _) = devices(GicModel::V2);
        assert_eq!(d.gicr_offset(machine::GICR_BASE), None);
        assert!(d.gicd_offset(machine::GICD_BASE).is_some());
    }

    #[test]
    fn a_rising_device_line_makes_its_spi_pending() {
        let (mut d, _) = devices(GicModel::V3);
        // GICD_ISPENDR1 (INTIDs 32-63): INTID 48 is bit 16.
        let ispendr1 = machine::GICD_BASE.checked_add(0x204).unwrap();
        assert_eq!(d.mmio_read(0, ispendr1, W).unwrap() & (1 << 16), 0);
        d.mmio_write(0, DEV, W, 1).unwrap();
        assert_ne!(d.mmio_read(0, ispendr1, W).unwrap() & (1 << 16), 0);
    }

    #[test]
    fn deferred_work_is_polled_until_done() {
        let (mut d, _) = devices(GicModel::V3);
        d.work().0.store(true, Ordering::SeqCst);
        d.mmio_write(0, DEV, W, 0).unwrap();
        assert!(d.has_deferred_io());
        assert!(!d.poll_disks());
        assert!(!d.has_deferred_io());
    }

    #[test]
    fn console_input_waits_for_room_in_the_fifo() {
        let (mut d, _) = devices(GicModel::V3);
        for b in 0..64u8 {
            d.console_input(b);
        }
        // UARTDR gives the bytes back in order, past the FIFO's size.
        for b in 0..64u8 {
            assert_eq!(d.mmio_read(0, machine::UART_BASE, W), Ok(u64::from(b)));
        }
    }
}
