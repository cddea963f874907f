//! Booting an x86_64 guest the way QEMU's `-kernel` does on `-M microvm`:
//! the ELF's PT_LOAD segments at their physical addresses, a PVH
//! `hvm_start_info` with a memory map, entry at the PVH note's address in
//! 32-bit protected mode with EBX pointing at the start_info. The machine
//! is the part of microvm the x86 test guest uses: a local APIC (hv-core's
//! model, its timer on the host's HPET), COM1 (hv-core's 16550),
//! microvm's 24 virtio-mmio transports with the guest's disks on the first
//! ones (the `virtio` crate's VirtioBlock, as on AArch64: the host's own
//! virtio-pci disks, or a RAM disk when it has none), and the
//! ACPI tables with the sleep and reset registers they name, and the
//! isa-debug-exit port.

use super::guest::{Outcome, Shared, Stats, X86Guest};
use super::hpet::Hpet;
use super::pvh as host_pvh;
use super::smp;
use super::svm::HostSvm;
use super::test_guest::{ToConsole, COM1};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::ptr::NonNull;
use hv_core::devices::uart16550::Uart16550;
use hv_core::mem::{GuestMemory, GuestRam, RamRegion};
use hv_core::vm::acpi::{self, X86Machine};
use hv_core::vm::pvh::{self, MemmapEntry, E820_RAM};
use hv_core::vm::{bundle, host_ram, loader};
use hv_core::GuestAddress;
use virtio::blk::MemoryBackend;
use virtio::slots::{self, Disk, SlotLayout};
use virtio::BlockBackend;

/// Guest RAM unless hv's command line says otherwise (`hv.guest_mem=`):
/// 256 MiB at guest-physical 0, enough for Debian's amd64 kernel and an
/// initramfs.
pub const DEFAULT_RAM: u64 = 256 << 20;
/// The least guest RAM: the low 1 MiB and room for a kernel.
const MIN_RAM: u64 = 16 << 20;
/// Guest RAM's alignment in host memory (2 MiB pages in the NPT).
const RAM_ALIGN: u64 = 2 << 20;
/// Guest RAM lies below this: hv's identity map ends at 4 GiB (boot.s),
/// and its top GiB, the PC's device window, is mapped uncached.
const MAPPED_END: u64 = 3 << 30;
/// The PC's low memory (BIOS data, option ROMs, the AP trampoline):
/// never guest RAM, and in the guest cleared before loading.
const LOW_MEMORY: u64 = 1 << 20;
/// Where the start_info goes (low memory the PVH image does not use).
const START_INFO: u64 = 0x6000;
/// Where the ACPI tables go: the BIOS area below 1 MiB, which the memory
/// map leaves out of RAM (as QEMU's firmware places them there too).
const ACPI_TABLES: u64 = 0xe_0000;
/// End of the PC's low RAM (the EBDA and ROMs follow).
const LOW_RAM_END: u64 = 0x9_fc00;
/// microvm's virtio-mmio transports, interrupting on GSIs 24..47.
const MICROVM_SLOTS: SlotLayout = SlotLayout {
    base: GuestAddress(0xfeb0_0000),
    stride: 0x200,
    count: 24,
    intid_base: 24,
};
/// The RAM disk's size, when the host has no disk (it lives on hv's heap).
const RAM_DISK_BYTES: u64 = 128 << 10;
/// COM1's GSI (ISA IRQ 4, identity-mapped on the first I/O APIC).
const COM1_GSI: u32 = 4;
/// The debug-exit value the test guest writes when it passes.
pub const GUEST_PASS: u32 = 0x10;
/// A guest that needs more exits than this is stuck.
const MAX_EXITS: u32 = 1_000_000;

extern "C" {
    /// hv's image, from the linker script (only their addresses count).
    static __image_start: u8;
    static __image_end: u8;
}

/// Host memory for the guest's RAM: the top of the highest RAM in the PVH
/// memory map (below 3 GiB: hv's cached identity map) with room, clear of the low
/// 1 MiB, hv's image and what the loader put in memory (the guest bundle
/// among it), 2 MiB aligned; hv-core's `place_guest_ram` picks it, as on
/// AArch64. Returns `size` bytes (a multiple of 2 MiB, at least 16 MiB)
/// of guest RAM at guest-physical 0 and its host address.
pub fn guest_ram(start_info: u64, size: u64) -> Result<(GuestRam, u64), String> {
    if size % RAM_ALIGN != 0 || size < MIN_RAM {
        return Err(format!(
            "guest RAM of {size:#x} bytes: a multiple of 2 MiB, at least 16 MiB, is needed"
        ));
    }
    let map = host_pvh::memory_map(start_info).map_err(|e| format!("no memory map: {e}"))?;
    let banks: Vec<(u64, u64)> = map
        .iter()
        .filter(|e| e.is_ram() && e.addr < MAPPED_END)
        .map(|e| (e.addr, e.size.min(MAPPED_END - e.addr)))
        .collect();
    let image = (
        core::ptr::addr_of!(__image_start) as u64,
        core::ptr::addr_of!(__image_end) as u64,
    );
    let mut busy = vec![(0, LOW_MEMORY), image];
    busy.extend(host_pvh::loader_ranges(start_info));
    let host = host_ram::place_guest_ram(&banks, &busy, size, RAM_ALIGN).ok_or_else(|| {
        format!(
            "no room for the guest's {} MiB of RAM: give the machine more memory",
            size >> 20
        )
    })?;
    let ptr = NonNull::new(host as *mut u8).ok_or("guest RAM would start at address 0")?;
    // SAFETY: [host, host + size) is RAM from the firmware's memory
    // map, below 3 GiB (identity-mapped), clear of hv's image (which holds
    // its heap, stacks and page tables), the low 1 MiB and everything the
    // loader put there (place_guest_ram); from here on only this GuestRam
    // and the guest reach it.
    let region = unsafe { RamRegion::from_host(GuestAddress(0), size, ptr) }
        .map_err(|e| format!("guest RAM: {e:?}"))?;
    let ram = GuestRam::new(vec![region]).map_err(|e| format!("guest RAM: {e:?}"))?;
    // The guest looks for firmware structures in its low 1 MiB; the rest
    // of its RAM is left as the firmware left it (hv put nothing there).
    ram.fill(GuestAddress(0), 0, LOW_MEMORY)
        .map_err(|e| format!("clearing low guest RAM: {e:?}"))?;
    log::info!("guest RAM: {} MiB at host {host:#x}", size >> 20);
    Ok((ram, host))
}

/// Boot `image` and run it until it powers off (ACPI S5 or debug-exit) or
/// resets; returns how it ended. `image` is a PVH ELF, or a guest bundle
/// (hv-core `vm::bundle`) whose kernel is one, with an initrd (module 0
/// of the start_info, as QEMU gives it) and a command line, in `ram`
/// (from [`guest_ram`]). `disks` go on
/// the first virtio-mmio transports; with none the guest gets a RAM disk.
pub fn run(
    svm: &mut HostSvm,
    image: &[u8],
    (ram, ram_pa): (GuestRam, u64),
    mut disks: Vec<Disk<Box<dyn BlockBackend>>>,
) -> Result<(Outcome, Stats), String> {
    let (kernel, initrd, cmdline) = if bundle::is_bundle(image) {
        let b = bundle::parse(image).map_err(|e| format!("the guest bundle: {e}"))?;
        (
            b.kernel,
            b.initrd,
            (!b.cmdline.is_empty()).then_some(b.cmdline),
        )
    } else {
        (image, None, None)
    };
    let ram_size = ram.regions().iter().map(|r| r.size()).sum::<u64>();
    let layout =
        loader::layout_pvh(kernel, ram_size).map_err(|e| format!("the guest image: {e}"))?;
    for s in &layout.segments {
        ram.write(s.addr, s.data)
            .and_then(|()| {
                let bss = s.addr.raw() + s.data.len() as u64;
                ram.fill(GuestAddress(bss), 0, s.mem_size - s.data.len() as u64)
            })
            .map_err(|e| format!("loading a segment at {}: {e:?}", s.addr))?;
    }
    let map = [
        MemmapEntry {
            addr: 0,
            size: LOW_RAM_END,
            kind: E820_RAM,
            reserved: 0,
        },
        MemmapEntry {
            addr: 0x10_0000,
            size: ram_size - 0x10_0000,
            kind: E820_RAM,
            reserved: 0,
        },
    ];
    // The initrd at the top of RAM, page aligned, clear of the kernel.
    let modules = match initrd {
        Some(rd) => {
            let at = ram_size
                .checked_sub(rd.len() as u64)
                .map(|a| a & !0xfff)
                .filter(|&a| a >= layout.end.raw())
                .ok_or("the initrd does not fit in guest RAM above the kernel")?;
            ram.write(GuestAddress(at), rd)
                .map_err(|e| format!("loading the initrd: {e:?}"))?;
            vec![(at, rd.len() as u64)]
        }
        None => vec![],
    };
    // One vCPU per host CPU that came up (the MADT lists their APICs).
    let vcpus = smp::cpus_online();
    let machine = X86Machine::hv_machine(vcpus as u8);
    let acpi = acpi::tables(ACPI_TABLES, &machine).map_err(|e| format!("ACPI tables: {e:?}"))?;
    ram.write(GuestAddress(ACPI_TABLES), &acpi)
        .map_err(|e| format!("writing the ACPI tables: {e:?}"))?;
    ram.write(
        GuestAddress(START_INFO),
        &pvh::start_info(
            START_INFO,
            &map,
            &modules,
            cmdline.map(str::as_bytes),
            ACPI_TABLES,
        ),
    )
    .map_err(|e| format!("writing the start_info: {e:?}"))?;
    let mut guest = X86Guest::new(ram, ram_pa, ram_size, layout.entry.raw(), START_INFO, vcpus)?;
    let com1 = Arc::new(spin::Mutex::new(Uart16550::new(ToConsole)));
    guest
        .pio()
        .insert(COM1, 8, Box::new(Shared(com1.clone())))
        .map_err(|e| format!("COM1: {e}"))?;
    // What is typed on hv's console goes to the guest's COM1.
    guest.attach_console_input(Box::new(move |byte| com1.lock().receive(byte)));
    guest.attach_acpi_sleep(machine.sleep_port, machine.reset_value)?;
    let clock = Hpet::start();
    match clock {
        Ok(clock) => guest.attach_lapic(clock)?,
        Err(e) => log::warn!("{e}: the guest gets no local APIC"),
    }
    if disks.is_empty() {
        log::info!("no host disk: the guest gets a RAM disk of {RAM_DISK_BYTES} bytes");
        disks.push(Disk {
            backend: Box::new(MemoryBackend::new(RAM_DISK_BYTES)),
            read_only: false,
        });
    }
    let ram = guest.ram().clone();
    let attached = slots::attach_block_devices_at(MICROVM_SLOTS, &mut guest.mmio(), &ram, disks)
        .map_err(|e| format!("virtio-mmio: {e:?}"))?;
    for slot in attached {
        guest.connect_line(slot.base, slot.intid);
    }
    // COM1's interrupt on ISA IRQ 4, as on microvm (Linux's serial driver
    // transmits for user space on THRE interrupts).
    guest.connect_port_line(COM1, COM1_GSI);
    // vCPU n on host CPU n; they wait there for the guest's start-up IPI.
    for index in 1..guest.vcpus() {
        let Some(mut vcpu) = guest.other_vcpu(index) else {
            break;
        };
        smp::run_on(
            index,
            Box::new(move |svm: &mut HostSvm| {
                // Errors end the guest and are logged by `run`.
                let _ = vcpu.run(svm, MAX_EXITS);
            }),
        )
        .map_err(|e| format!("vCPU {index}: {e}"))?;
    }
    let started = clock.map(|c| (c, c.now_ns()));
    let end = guest.run(svm, MAX_EXITS)?;
    if let Ok((clock, t0)) = started {
        guest.stats.run_ns = clock.now_ns().saturating_sub(t0);
    }
    match end {
        Outcome::Halted => Err("the guest halted instead of powering off".into()),
        end => Ok((end, guest.stats)),
    }
}
