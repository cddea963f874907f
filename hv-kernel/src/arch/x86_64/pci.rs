//! The host's virtio-pci disks: bus 0 scanned through the PC's
//! configuration mechanism #1 (an address at port 0xcf8, the data at
//! 0xcfc), which every PC chipset and QEMU's q35 decode, so hv needs no
//! ACPI MCFG table to find them. The firmware (SeaBIOS under QEMU) has
//! assigned the BARs already; hv only switches on memory decoding and bus
//! mastering and hands the device to `virtio-drivers`.
//!
//! Only bus 0: QEMU puts `-device virtio-blk-pci` there (q35's root
//! complex) unless told otherwise; devices behind bridges are not looked
//! for.

use super::super::host_disk::{self, HostDisk, KernelHal};
use alloc::vec::Vec;
use virtio_drivers::transport::pci::bus::{Command, ConfigurationAccess, DeviceFunction, PciRoot};
use virtio_drivers::transport::pci::{virtio_device_type, PciTransport};
use virtio_drivers::transport::DeviceType;
use x86_64::instructions::port::Port;

/// Configuration mechanism #1's address and data ports.
const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;
/// The enable bit of a configuration address.
const ENABLE: u32 = 1 << 31;
/// hv's identity map ends here (boot.s): a BAR above it is unreachable.
const MAPPED_END: u64 = 4 << 30;

/// The configuration address of `register` (a dword offset) of `df`.
fn config_address(df: DeviceFunction, register: u8) -> u32 {
    ENABLE
        | u32::from(df.bus) << 16
        | u32::from(df.device & 0x1f) << 11
        | u32::from(df.function & 0x7) << 8
        | u32::from(register & 0xfc)
}

/// Configuration space through ports 0xcf8/0xcfc. The address/data pair is
/// not atomic: hv touches configuration space only at boot, on the boot
/// CPU, with interrupts off.
struct PortCam;

impl ConfigurationAccess for PortCam {
    fn read_word(&self, df: DeviceFunction, register: u8) -> u32 {
        // SAFETY: 0xcf8/0xcfc are the PC's PCI configuration ports; hv owns
        // them (nothing else runs on the host), and a configuration read has
        // no side effects on the devices hv scans.
        unsafe {
            Port::<u32>::new(CONFIG_ADDRESS).write(config_address(df, register));
            Port::<u32>::new(CONFIG_DATA).read()
        }
    }

    fn write_word(&mut self, df: DeviceFunction, register: u8, data: u32) {
        // SAFETY: as in read_word; the callers write only the command
        // register of a device hv is about to drive, and virtio-drivers'
        // own capability fields.
        unsafe {
            Port::<u32>::new(CONFIG_ADDRESS).write(config_address(df, register));
            Port::<u32>::new(CONFIG_DATA).write(data);
        }
    }

    unsafe fn unsafe_clone(&self) -> Self {
        PortCam
    }
}

/// Whether every memory BAR of `df` is assigned and inside hv's map.
fn bars_reachable(root: &mut PciRoot<PortCam>, df: DeviceFunction) -> Result<(), &'static str> {
    let bars = root.bars(df).map_err(|_| "a BAR of unknown type")?;
    for bar in bars.iter().flatten() {
        if let Some((address, size)) = bar.memory_address_size() {
            if size == 0 {
                continue;
            }
            if address == 0 {
                return Err("a memory BAR the firmware did not assign");
            }
            if address.checked_add(size).is_none_or(|end| end > MAPPED_END) {
                return Err("a memory BAR above 4 GiB, outside hv's map");
            }
        }
    }
    Ok(())
}

/// Every virtio-blk device on PCI bus 0, started.
pub fn host_disks() -> Vec<HostDisk> {
    let mut root = PciRoot::new(PortCam);
    let found: Vec<_> = root
        .enumerate_bus(0)
        .filter(|(_, info)| virtio_device_type(info) == Some(DeviceType::Block))
        .map(|(df, _)| df)
        .collect();
    let mut disks = Vec::new();
    for df in found {
        if let Err(why) = bars_reachable(&mut root, df) {
            log::warn!("virtio-blk at PCI {df}: {why}; not used");
            continue;
        }
        let (_, command) = root.get_status_command(df);
        root.set_command(df, command | Command::MEMORY_SPACE | Command::BUS_MASTER);
        match PciTransport::new::<KernelHal, _>(&mut root, df) {
            Ok(transport) => {
                disks.extend(host_disk::start(transport.into(), format_args!("PCI {df}")))
            }
            Err(e) => log::warn!("virtio-blk at PCI {df}: {e}; not used"),
        }
    }
    disks
}
