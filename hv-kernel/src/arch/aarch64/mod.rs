//! hv-kernel on AArch64: boot at EL2, console, DTB, secondary CPUs, PSCI.

mod bcm2835_wdt;
mod cache;
mod dtb;
mod exceptions;
mod gic;
mod guest;
mod idregs;
mod mmu;
mod psci;
mod semihosting;
mod stage2;
mod timer;
mod uart;
mod vcpu;

use super::host_disk;
use crate::config::{self, Size};
use crate::vm;
use crate::{console, kprintln};
use aarch64_cpu::registers::{CurrentEL, Readable, CNTFRQ_EL0, CNTPCT_EL0, MIDR_EL1, MPIDR_EL1};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use hv_core::machine;
use hv_core::mem::{GuestRam, RamRegion};
use psci::Conduit;
use uart::{Crlf, Uart};
use virtio::blk::{BlockBackend, SliceBackend};
use virtio::slots::Disk;

/// Most CPUs hv brings up; the rest are left off.
pub const MAX_CPUS: usize = 8;
/// Stacks. The boot CPU builds the guest machine, whose structures a debug
/// build moves by value several times (about 50 KiB of frames when the VM
/// is published); every CPU may rebuild the machine on a guest reboot.
/// There is no guard page: a stack overflow corrupts what lies below it,
/// so these leave a wide margin.
const BOOT_STACK_SIZE: usize = 256 * 1024;
const SECONDARY_STACK_SIZE: usize = 128 * 1024;
/// More than hv's image could be (code, data, stacks, heap, table pools).
const MAX_IMAGE_SIZE: u64 = 64 << 20;
/// Semihosting exit status for a fatal error.
const EXIT_FAILURE: u32 = 1;
/// Semihosting exit status when the guest asked for a reset (the default
/// test guest's FAIL verdict).
const EXIT_GUEST_RESET: u32 = 2;
/// Guest RAM when `hv.guest_mem=` does not say.
const DEFAULT_GUEST_MEM: u64 = 128 << 20;
/// Guest RAM is placed on this alignment (stage-2 block size).
const GUEST_RAM_ALIGN: u64 = 2 << 20;

core::arch::global_asm!(
    include_str!("boot.s"),
    BOOT_STACK_SIZE = const BOOT_STACK_SIZE,
    SECONDARY_STACK_SIZE = const SECONDARY_STACK_SIZE,
    SECONDARY_STACKS_SIZE = const SECONDARY_STACK_SIZE * (MAX_CPUS - 1),
    MAX_CPUS = const MAX_CPUS,
);
core::arch::global_asm!(include_str!("vectors.s"));

extern "C" {
    fn secondary_entry();
    fn spin_table_entry();
    static __image_start: u8;
    static __image_end: u8;
}

/// The console UART once known: for the emergency console and input.
static CONSOLE_UART: spin::Once<Uart> = spin::Once::new();
/// PSCI conduit once known (0 none, 1 SMC, 2 HVC).
static PSCI: AtomicUsize = AtomicUsize::new(0);
/// The BCM2835 watchdog's address once known (0: none).
static WATCHDOG: AtomicUsize = AtomicUsize::new(0);
/// MPIDR of each logical CPU hv released from a spin table (slot 0, the
/// boot CPU, unused); `spin_table_entry` finds its index here with its MMU
/// still off, so each slot is cleaned to the PoC before the release.
#[no_mangle]
static spin_table_mpidrs: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(u64::MAX) }; MAX_CPUS];
/// Secondary CPUs that have reported in.
static CPUS_ONLINE: AtomicUsize = AtomicUsize::new(0);

fn psci() -> Option<Conduit> {
    match PSCI.load(Ordering::Acquire) {
        1 => Some(Conduit::Smc),
        2 => Some(Conduit::Hvc),
        _ => None,
    }
}

fn current_el() -> u64 {
    CurrentEL.read(CurrentEL::EL)
}

/// MPIDR affinity fields (Aff3, Aff2, Aff1, Aff0), as PSCI and the DTB use them.
fn mpidr() -> u64 {
    MPIDR_EL1.get() & 0xff_00ff_ffff
}

/// Rust entry of the boot CPU, from boot.s, with x0 = DTB address.
#[no_mangle]
extern "C" fn aarch64_primary_main(dtb_addr: usize) -> ! {
    super::heap::init();
    let info = dtb::parse(dtb_addr);
    if let Some((driver, base)) = info.as_ref().ok().and_then(|i| i.uart) {
        // SAFETY: the DTB's console UART, of the kind `driver` drives, at
        // its translated address; firmware left it ready for output.
        let uart = *CONSOLE_UART.call_once(|| unsafe { Uart::new(driver, base) });
        console::set_writer(Box::new(Crlf(uart)));
    }
    // Without a console UART (no DTB, or none it names that hv drives)
    // output is dropped; a fatal error still ends a QEMU run with status 1.
    console::init_logging();

    let el = current_el();
    if el != 2 {
        fatal(format_args!(
            "hv-kernel must be entered at EL2 but runs at EL{el}; \
             on QEMU use -M virt,virtualization=on"
        ));
    }
    // The linker script once left __image_end absolute (not relocated),
    // which inverted this range: guest RAM placement then ignored hv's
    // image and the cache clean before releasing CPUs never ended.
    let (image_start, image_end) = image_range();
    if image_end <= image_start || image_end - image_start > MAX_IMAGE_SIZE {
        fatal(format_args!(
            "hv-kernel: its own image range {image_start:#x}..{image_end:#x} is wrong \
             (linker script)"
        ));
    }
    let info = match info {
        Ok(info) => info,
        Err(e) => fatal(format_args!("hv-kernel: {e}")),
    };
    PSCI.store(
        match info.psci {
            None => 0,
            Some(Conduit::Smc) => 1,
            Some(Conduit::Hvc) => 2,
        },
        Ordering::Release,
    );
    WATCHDOG.store(info.bcm2835_watchdog.unwrap_or(0), Ordering::Release);
    if let Err(e) = mmu::enable_boot_cpu(&info, vcpu::pa_bits()) {
        fatal(format_args!("hv-kernel: EL2 MMU: {e}"));
    }

    let ram: u64 = info.ram.iter().map(|&(_, size)| size).sum();
    kprintln!("hv-kernel {} (aarch64)", env!("CARGO_PKG_VERSION"));
    kprintln!("  exception level: EL{el}");
    kprintln!("  MIDR_EL1: {:#010x}", MIDR_EL1.get());
    for &(base, size) in &info.ram {
        kprintln!("  RAM: {base:#x}..{:#x} ({})", base + size, Size(size));
    }
    kprintln!("  RAM total: {}", Size(ram));
    kprintln!("  CPUs: {}", info.cpus.len());
    if let Some((driver, base)) = info.uart {
        kprintln!("  console: {} at {base:#x}", driver.name);
    }
    match info.gic {
        Some(dtb::HostGic::V3 { gicd, gicr }) => {
            kprintln!("  GIC: GICv3 (distributor {gicd:#x}, redistributors {gicr:#x})");
        }
        Some(dtb::HostGic::V2 { gicd, gicv, .. }) => {
            kprintln!("  GIC: GICv2 (distributor {gicd:#x}, virtual CPU interface {gicv:#x})");
        }
        None => kprintln!("  GIC: none hv can run guests on"),
    }
    match info.psci {
        Some(conduit) => {
            let (major, minor) = psci::version(conduit);
            kprintln!("  PSCI {major}.{minor} via {conduit:?}");
        }
        None => kprintln!(
            "  PSCI: none (no /psci node); power-off {}",
            if info.bcm2835_watchdog.is_some() {
                "through the BCM2835 watchdog"
            } else {
                "unavailable"
            }
        ),
    }
    kprintln!("  EL2 MMU: on (identity map, RAM cacheable)");
    kprintln!(
        "  heap: {} bytes used of {}",
        super::heap::used(),
        Size(super::heap::HEAP_SIZE as u64)
    );

    start_secondaries(&info);

    #[cfg(feature = "fault-test")]
    {
        log::warn!("fault-test: loading from an address outside hv's EL2 map");
        // SAFETY: deliberately not sound: this load must fault, so that the
        // boot test sees the EL2 vectors print a fault dump.
        let v = unsafe { core::ptr::read_volatile(0xdead_beef_0000_0000 as *const u64) };
        log::error!("fault-test: the load did not fault (read {v:#x})");
    }

    match info.initrd {
        Some(bundle) => run_guest(&info, bundle),
        None => kprintln!(
            "hv-kernel: no guest given (load a guest bundle as the initrd; \
             `cargo xtask run` does)"
        ),
    }
    kprintln!("hv-kernel: all done, powering off");
    power_off()
}

/// Make guest RAM that hv wrote (`ranges`: host address and length) what
/// a guest starting with its MMU and caches off sees: clean it to the PoC,
/// then drop every instruction-cache line, so neither stale data nor stale
/// instructions from an earlier guest remain.
pub fn prepare_guest_image(ranges: &[(u64, u64)]) {
    for &(start, len) in ranges {
        cache::clean_invalidate_to_poc(start, len);
    }
    cache::invalidate_instruction_caches();
}

/// Power the machine off: PSCI SYSTEM_OFF, or without PSCI the Pi's
/// watchdog; a clear error where neither exists.
fn power_off() -> ! {
    if let Some(conduit) = psci() {
        let err = psci::system_off(conduit);
        fatal(format_args!("PSCI SYSTEM_OFF failed: {err}"))
    }
    match WATCHDOG.load(Ordering::Acquire) {
        0 => fatal(format_args!(
            "hv-kernel: cannot power off: the device tree has no /psci node \
             and no watchdog hv drives; halting"
        )),
        base => {
            bcm2835_wdt::power_off(base);
            fatal(format_args!(
                "hv-kernel: the BCM2835 watchdog at {base:#x} did not reset the machine"
            ))
        }
    }
}

/// Physical [start, end) of hv's own image (code, data, BSS, stacks, heap).
fn image_range() -> (u64, u64) {
    // Linker-script symbols: only their addresses mean anything.
    (
        core::ptr::addr_of!(__image_start) as u64,
        core::ptr::addr_of!(__image_end) as u64,
    )
}

/// Pick host memory for `size` bytes of guest RAM: the top of the highest
/// RAM bank with room, clear of hv's image, the DTB, the guest bundle and
/// the memory firmware reserved (`/memreserve/`, `/reserved-memory`).
fn place_guest_ram(info: &dtb::BootInfo, bundle: (u64, u64), size: u64) -> Option<u64> {
    let (dtb_start, dtb_size) = info.dtb;
    let mut busy = alloc::vec![image_range(), (dtb_start, dtb_start + dtb_size), bundle];
    busy.extend(info.reserved.iter().map(|&(b, s)| (b, b.saturating_add(s))));
    hv_core::vm::host_ram::place_guest_ram(&info.ram, &busy, size, GUEST_RAM_ALIGN)
}

/// Build the guest from the bundle the loader left at `bundle`, run it, and
/// report how it ended.
fn run_guest(info: &dtb::BootInfo, bundle: (u64, u64)) -> ! {
    let size = match config::cmdline_value(&info.bootargs, "hv.guest_mem") {
        Some(v) => match config::parse_size(v).filter(|s| s % GUEST_RAM_ALIGN == 0 && *s > 0) {
            Some(s) => s,
            None => fatal(format_args!("hv.guest_mem={v} is not a multiple of 2 MiB")),
        },
        None => DEFAULT_GUEST_MEM,
    };
    let (bundle_start, bundle_end) = bundle;
    // SAFETY: the loader put the bundle at [start, end) in RAM (DTB
    // /chosen); hv never writes there (guest RAM, RAM disks and hv's heap
    // are placed clear of it), so it stays valid and unchanged for the
    // whole run, and a reboot places the guest from it again.
    let bundle_bytes: &'static [u8] = unsafe {
        core::slice::from_raw_parts(
            bundle_start as *const u8,
            (bundle_end - bundle_start) as usize,
        )
    };
    let carried = match hv_core::vm::bundle::parse(bundle_bytes) {
        Ok(b) => [b.disk, b.read_only_disk],
        Err(e) => fatal(format_args!("hv-kernel: cannot start the guest: {e}")),
    };
    // Disks the bundle carries get host RAM right above the guest's.
    let disk_bytes: u64 = carried.iter().flatten().map(|d| d.len() as u64).sum();
    let reserve = size + disk_bytes.next_multiple_of(GUEST_RAM_ALIGN);
    let Some(host) = place_guest_ram(info, bundle, reserve) else {
        fatal(format_args!(
            "no room for {} of guest RAM{}: give the machine more memory",
            Size(size),
            if disk_bytes > 0 {
                alloc::format!(" and {} of RAM disks", Size(disk_bytes))
            } else {
                alloc::string::String::new()
            }
        ))
    };
    let Some(host_ptr) = NonNull::new(host as *mut u8) else {
        fatal(format_args!("guest RAM would start at address 0"))
    };
    // SAFETY: [host, host + size) is RAM from the DTB that holds neither hv's
    // image, the DTB nor the bundle (place_guest_ram), is 2 MiB aligned, and
    // from now on belongs to the guest alone.
    let region = unsafe { RamRegion::from_host(machine::RAM_BASE, size, host_ptr) };
    let ram = match region.and_then(|r| GuestRam::new(alloc::vec![r])) {
        Ok(ram) => Arc::new(ram),
        Err(e) => fatal(format_args!("guest RAM: {e}")),
    };
    kprintln!(
        "hv-kernel: guest RAM {} at IPA {} (host {host:#x})",
        Size(size),
        machine::RAM_BASE
    );

    let disks = if disk_bytes > 0 {
        ram_disks(carried, host + size)
    } else {
        host_disk::guest_disks(host_disk::probe_mmio(&info.virtio_mmio))
    };
    // One vCPU per CPU that came online.
    let vcpus = (CPUS_ONLINE.load(Ordering::Acquire) + 1).min(MAX_CPUS) as u32;
    let Some(host_gic) = info.gic else {
        match info.other_gic {
            Some(gic) => fatal(format_args!(
                "hv-kernel: this machine's interrupt controller ({gic}) has no \
                 virtualization frames (GICH, GICV) in the device tree: guests need them"
            )),
            None => fatal(format_args!(
                "hv-kernel: the device tree names no GICv3 or GICv2: guests need one"
            )),
        }
    };
    let model = match host_gic {
        dtb::HostGic::V3 { .. } => machine::GicModel::V3,
        dtb::HostGic::V2 { .. } => machine::GicModel::V2,
    };
    let guest = match vm::build(bundle_bytes, ram, host, size, disks, vcpus, model) {
        Ok(g) => g,
        Err(e) => fatal(format_args!("hv-kernel: cannot start the guest: {e}")),
    };

    let mut map = match stage2::GuestMap::new() {
        Ok(m) => m,
        Err(e) => fatal(format_args!("stage-2 tables: {e}")),
    };
    if let Err(e) = map.map_ram(machine::RAM_BASE, host, size) {
        fatal(format_args!("stage-2 map of guest RAM: {e}"));
    }

    if let dtb::HostGic::V2 { gicv, .. } = host_gic {
        // The guest's CPU interface is the hardware's virtual one.
        if let Err(e) = map.map_device(machine::GICC_BASE, gicv as u64, machine::GICC_SIZE) {
            fatal(format_args!(
                "stage-2 map of the GICv2 virtual CPU interface: {e}"
            ));
        }
    }
    gic::configure(host_gic);
    let (vttbr, vtcr) = match map.registers(vcpu::pa_bits()) {
        Ok(r) => r,
        Err(e) => fatal(format_args!("stage-2 registers: {e}")),
    };
    if let Some(intid) = info.uart_intid {
        // Console input goes to the guest's UART.
        gic::enable_spi(intid, mpidr());
        guest::CONSOLE_INTID.store(intid, Ordering::Relaxed);
        if let Some(mut uart) = console_uart() {
            uart.enable_rx_interrupt();
        }
    }
    let vcpus = guest.devices.vgic.vcpus();
    let mut phys = [0u64; MAX_CPUS];
    phys[0] = mpidr();
    for (slot, m) in phys
        .iter_mut()
        .skip(1)
        .zip(info.cpus.iter().map(|c| c.mpidr).filter(|&c| c != mpidr()))
    {
        *slot = m;
    }
    kprintln!(
        "hv-kernel: starting the guest at {} with {vcpus} vCPU(s)",
        guest.entry
    );
    let (entry, dtb) = (guest.entry.raw(), guest.dtb.raw());
    START_TICKS.store(CNTPCT_EL0.get(), Ordering::Release);
    let reboot = !config::cmdline_flag(&info.bootargs, "hv.no_reboot");
    let vm = guest::publish(
        guest,
        guest::Machine {
            vcpus,
            phys_mpidr: phys,
            vttbr,
            vtcr,
            reboot,
        },
    );
    match guest::run_vcpu(vm, 0, entry, dtb) {
        Some(outcome) => finish(vm, outcome),
        // vCPU 0 turned itself off; this CPU now waits like the others.
        None => park(0),
    }
}

/// The disks a bundle carries, copied to host RAM at `at` (set aside for
/// them above guest RAM) and served from there: for machines whose host
/// has no disk to give (no virtio on the Pi or i.MX 8M boards).
fn ram_disks(carried: [Option<&[u8]>; 2], at: u64) -> Vec<Disk<Box<dyn BlockBackend>>> {
    let mut disks: Vec<Disk<Box<dyn BlockBackend>>> = Vec::new();
    let mut next = at;
    for (contents, read_only) in carried.into_iter().zip([false, true]) {
        let Some(contents) = contents else { continue };
        // SAFETY: [next, next + len) lies in the host RAM place_guest_ram
        // reserved past guest RAM for these disks (clear of hv, the DTB and
        // the bundle), each disk after the previous one; from here on only
        // this backend reaches it, for the rest of hv's life.
        let memory: &'static mut [u8] =
            unsafe { core::slice::from_raw_parts_mut(next as *mut u8, contents.len()) };
        memory.copy_from_slice(contents);
        kprintln!(
            "hv-kernel: {} RAM disk of {} from the guest bundle",
            if read_only { "read-only" } else { "writable" },
            Size(contents.len() as u64)
        );
        next += contents.len() as u64;
        disks.push(Disk {
            read_only,
            backend: Box::new(SliceBackend::new(memory)),
        });
    }
    disks
}

/// When the guest started (CNTPCT), for the report.
static START_TICKS: AtomicU64 = AtomicU64::new(0);

/// The guest ended (on whichever CPU saw it): report and leave.
fn finish(vm: &guest::Vm, outcome: guest::Outcome) -> ! {
    let ticks = CNTPCT_EL0.get() - START_TICKS.load(Ordering::Acquire);
    let freq = CNTFRQ_EL0.get().max(1);
    let sum = |f: fn(&guest::ExitStats) -> &AtomicU64| -> u64 {
        vm.stats.iter().map(|s| f(s).load(Ordering::Relaxed)).sum()
    };
    let total = sum(|s| &s.total);
    let boots = vm.boots.load(Ordering::Relaxed);
    kprintln!(
        "hv-kernel: guest {} after {} ms{}: {} exits ({} MMIO, {} calls, {} injected, {} IRQs, {} other), {} exits/s",
        match outcome {
            guest::Outcome::PowerOff => "powered off",
            guest::Outcome::Reset => "asked for a reset",
            guest::Outcome::Crashed => "crashed",
        },
        ticks * 1000 / freq,
        if boots > 1 {
            alloc::format!(" and {boots} boots")
        } else {
            alloc::string::String::new()
        },
        total,
        sum(|s| &s.mmio),
        sum(|s| &s.calls),
        sum(|s| &s.injected),
        sum(|s| &s.irqs),
        sum(|s| &s.other),
        total * freq / ticks.max(1),
    );
    match outcome {
        guest::Outcome::PowerOff => {
            kprintln!("hv-kernel: all done, powering off");
            power_off()
        }
        guest::Outcome::Reset => exit_with(EXIT_GUEST_RESET),
        guest::Outcome::Crashed => fatal(format_args!("hv-kernel: the guest crashed")),
    }
}

/// End the QEMU run with `code` (semihosting), or halt.
fn exit_with(code: u32) -> ! {
    semihosting::exit(code);
    halt()
}

/// Start every other CPU of the DTB, by PSCI CPU_ON or by its spin table,
/// and wait for each to report in.
fn start_secondaries(info: &dtb::BootInfo) {
    let (cpus, psci) = (&info.cpus, info.psci);
    // A released CPU runs with its MMU off (Non-cacheable accesses) until
    // it switches it on: it must find in memory, not only in this CPU's
    // caches, everything it reads first (stacks, the EL2 page tables and
    // their registers, relocated pointers). Clean and invalidate hv's whole
    // image to the PoC; the invalidate also drops lines that would hide
    // what the CPU writes to its stack before its MMU is on.
    let (start, end) = image_range();
    cache::clean_invalidate_to_poc(start, end - start);
    let me = mpidr();
    let mut started = 0;
    for (index, cpu) in cpus.iter().filter(|c| c.mpidr != me).enumerate() {
        let index = index + 1;
        let target = cpu.mpidr;
        if index >= MAX_CPUS {
            log::warn!("CPU {target:#x} left off: hv-kernel supports {MAX_CPUS} CPUs");
            continue;
        }
        let result = match (cpu.enable, psci) {
            (dtb::EnableMethod::Psci, Some(conduit)) => psci::cpu_on(
                conduit,
                target,
                secondary_entry as *const () as u64,
                index as u64,
            )
            .map_err(|e| alloc::format!("CPU_ON failed: {e}")),
            (dtb::EnableMethod::Psci, None) => {
                Err("its enable-method is PSCI but the device tree has no /psci node".into())
            }
            (dtb::EnableMethod::SpinTable(release), _) => {
                let in_ram = info.ram.iter().any(|&(base, size)| {
                    release >= base
                        && release
                            .checked_add(8)
                            .is_some_and(|end| end <= base.saturating_add(size))
                });
                if release % 8 != 0 || !in_ram {
                    Err(alloc::format!(
                        "its cpu-release-addr {release:#x} is not an aligned word of RAM"
                    ))
                } else {
                    release_from_spin_table(index, target, release);
                    Ok(())
                }
            }
            (dtb::EnableMethod::Unsupported, _) => Err(
                "its enable-method is neither psci nor spin-table (or lacks cpu-release-addr)"
                    .into(),
            ),
        };
        match result {
            Ok(()) => started += 1,
            Err(e) => log::error!("CPU {target:#x} left off: {e}"),
        }
    }
    let deadline = CNTPCT_EL0.get() + CNTFRQ_EL0.get() * 10;
    while CPUS_ONLINE.load(Ordering::Acquire) < started && CNTPCT_EL0.get() < deadline {
        core::hint::spin_loop();
    }
    let online = CPUS_ONLINE.load(Ordering::Acquire);
    if online == started {
        kprintln!("hv-kernel: {} of {} CPUs online", online + 1, cpus.len());
    } else {
        log::error!("only {online} of {started} secondary CPUs reported in");
    }
}

/// Release the CPU `mpidr` (hv's CPU `index`) from a spin table: it waits
/// in firmware (WFE) until the 64-bit word at `release` is non-zero, then
/// jumps there with its MMU off (the devicetree spec's spin-table method;
/// Linux's arm64 booting document).
fn release_from_spin_table(index: usize, mpidr: u64, release: u64) {
    spin_table_mpidrs[index].store(mpidr, Ordering::Release);
    let slot = core::ptr::addr_of!(spin_table_mpidrs[index]) as u64;
    cache::clean_invalidate_to_poc(slot, 8);
    let entry = spin_table_entry as *const () as u64;
    // SAFETY: `release` is the CPU's cpu-release-addr from the DTB: an
    // 8-byte-aligned word of RAM that firmware reserved for this protocol
    // (hv's map covers it as RAM); writing the entry point there is the
    // protocol's one action.
    unsafe { core::ptr::write_volatile(release as *mut u64, entry) };
    // The waiting CPU reads with its MMU off: push the word to the PoC
    // (clean_invalidate ends with DSB SY, so it completes before the SEV).
    cache::clean_invalidate_to_poc(release, 8);
    aarch64_cpu::asm::sev();
}

/// Rust entry of a secondary CPU, from boot.s, with its logical index.
#[no_mangle]
extern "C" fn aarch64_secondary_main(index: usize) -> ! {
    if !mmu::is_on() {
        fatal(format_args!(
            "cpu {index}: started before the EL2 map was built"
        ));
    }
    kprintln!(
        "  cpu {index}: MPIDR {:#x} online at EL{}",
        mpidr(),
        current_el()
    );
    CPUS_ONLINE.fetch_add(1, Ordering::AcqRel);
    park(index)
}

/// Wait until the guest turns on the vCPU that runs on this CPU (PSCI
/// CPU_ON from another vCPU), run it until it turns off, and wait again.
fn park(index: usize) -> ! {
    loop {
        if let Some((vm, (entry, context))) =
            guest::vm().and_then(|vm| Some((vm, vm.take_start(index)?)))
        {
            if let Some(outcome) = guest::run_vcpu(vm, index, entry, context) {
                finish(vm, outcome);
            }
            continue;
        }
        // Woken by SEV (or the kick SGI) from the vCPU that called CPU_ON.
        aarch64_cpu::asm::wfe();
    }
}

fn halt() -> ! {
    loop {
        aarch64_cpu::asm::wfe();
    }
}

/// Set once a CPU is on its way down, so a fault while reporting a fault
/// (e.g. semihosting on hardware without a debugger) just halts.
static FATAL: AtomicBool = AtomicBool::new(false);

/// The physical counter (CNTPCT_EL0).
fn counter() -> u64 {
    CNTPCT_EL0.get()
}

/// Ticks of [`counter`] per second.
fn counter_frequency() -> u64 {
    CNTFRQ_EL0.get().max(1)
}

/// A second handle on the console UART: for fatal messages that must not
/// wait for the console lock (the failing code may hold it), and for reading
/// console input (receive registers the console writer never touches).
/// Concurrent use with the locked console can only interleave characters.
fn console_uart() -> Option<Uart> {
    CONSOLE_UART.get().copied()
}

/// Report a fatal error and stop: exit QEMU with a failure status through
/// semihosting, otherwise halt.
pub fn fatal(args: fmt::Arguments) -> ! {
    if !FATAL.swap(true, Ordering::AcqRel) {
        if let Some(uart) = console_uart() {
            let _ = fmt::Write::write_fmt(&mut Crlf(uart), format_args!("{args}\n"));
        }
        semihosting::exit(EXIT_FAILURE);
    }
    halt()
}

/// An exception hv does not handle: dump the state and stop.
fn fatal_exception(frame: &exceptions::ExceptionFrame, kind: u64) -> ! {
    if !FATAL.swap(true, Ordering::AcqRel) {
        if let Some(uart) = console_uart() {
            let _ = exceptions::dump(&mut Crlf(uart), frame, kind);
        }
        semihosting::exit(EXIT_FAILURE);
    }
    halt()
}
