//! hv-kernel on x86_64: PVH entry, serial console, GDT/IDT with a fault
//! dump, CPU virtualization features, AMD SVM with its built-in test
//! guest, exit through isa-debug-exit.

mod cpu;
mod exit;
mod guest;
mod host_apic;
mod host_timer;
mod hpet;
mod interrupts;
mod machine;
mod mmio_view;
mod pci;
mod pvh;
mod pvh_guest;
mod smp;
mod svm;
mod test_guest;

use super::host_disk;
use crate::config::{self, Size};
use crate::{console, kprintln};
use alloc::boxed::Box;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};
use uart_16550::SerialPort;

/// The boot CPU's stack. Debug builds keep large temporaries on it (a
/// VMCB is 4 KiB); the page tables sit just below it in BSS, so an
/// overflow would corrupt them: leave room.
const BOOT_STACK_SIZE: usize = 256 * 1024;
/// The PC's first serial port.
const COM1: u16 = 0x3f8;

core::arch::global_asm!(
    include_str!("boot.s"),
    BOOT_STACK_SIZE = const BOOT_STACK_SIZE,
    options(att_syntax)
);
core::arch::global_asm!(include_str!("vectors.s"), options(att_syntax));

fn serial() -> SerialPort {
    // SAFETY: COM1 is the standard 16550 at I/O port 0x3f8 on PCs and QEMU's
    // q35; hv owns it.
    let mut port = unsafe { SerialPort::new(COM1) };
    port.init();
    port
}

/// A byte typed on hv's console (COM1), if one is waiting.
fn console_byte() -> Option<u8> {
    // SAFETY: reading COM1's line status register has no side effect;
    // reading its receive buffer takes the byte the status says is there,
    // which nothing else in hv reads (the console only transmits).
    unsafe {
        let ready = x86_64::instructions::port::Port::<u8>::new(COM1 + 5).read() & 1 != 0;
        ready.then(|| x86_64::instructions::port::Port::<u8>::new(COM1).read())
    }
}

/// Rust entry from boot.s, in long mode, with the PVH start_info address.
#[no_mangle]
extern "C" fn x86_64_main(start_info: u64) -> ! {
    super::heap::init();
    console::set_writer(Box::new(serial()));
    console::init_logging();
    interrupts::init(0);

    kprintln!("hv-kernel {} (x86_64)", env!("CARGO_PKG_VERSION"));
    let features = cpu::features();
    kprintln!("  CPU vendor: {}", features.vendor.as_str());
    kprintln!("  VMX: {}", yes_no(features.vmx));
    kprintln!(
        "  SVM: {}, NPT: {}",
        yes_no(features.svm),
        yes_no(features.npt)
    );
    match pvh::memory_map(start_info) {
        Ok(map) => {
            for e in map.iter().filter(|e| e.is_ram()) {
                kprintln!(
                    "  RAM: {:#x}..{:#x} ({})",
                    e.addr,
                    e.addr + e.size,
                    Size(e.size)
                );
            }
            let total: u64 = map.iter().filter(|e| e.is_ram()).map(|e| e.size).sum();
            kprintln!("  RAM total: {}", Size(total));
        }
        Err(e) => log::error!("no memory map: {e}"),
    }
    match svm::HostSvm::enable(&features) {
        Ok(mut host) => {
            start_other_cpus(start_info);
            kprintln!("svm: running the built-in test guest (32-bit, nested paging)");
            match test_guest::run(&mut host) {
                Ok(r) => {
                    for v in &r.reported {
                        kprintln!("svm: the guest read back {v:#x}");
                    }
                    kprintln!(
                        "svm: the test guest halted after {} exits ({} I/O, {} MMIO)",
                        r.stats.exits,
                        r.stats.io,
                        r.stats.mmio
                    );
                    run_pvh_guest(&mut host, start_info);
                }
                Err(e) => fatal(format_args!("svm: the test guest failed: {e}")),
            }
        }
        Err(e) => kprintln!("svm: {e}: no guests on this CPU"),
    }
    kprintln!(
        "  heap: {} bytes used of {}",
        super::heap::used(),
        Size(super::heap::HEAP_SIZE as u64)
    );

    #[cfg(feature = "fault-test")]
    {
        log::warn!("fault-test: loading from an unmapped address");
        // SAFETY: deliberately not sound: the boot page tables map only the
        // first 4 GiB, so this load must page-fault and the boot test sees
        // the IDT's fault dump.
        let v = unsafe { core::ptr::read_volatile(0xdead_beef_000 as *const u64) };
        log::error!("fault-test: the load did not fault (read {v:#x})");
    }

    kprintln!("hv-kernel: all done, powering off");
    exit::qemu_exit(exit::ExitCode::Success)
}

/// Boot the guest QEMU passed as `-initrd` (PVH module 0), if any: an
/// x86_64 ELF with a PVH entry note. Its debug-exit code decides hv's
/// exit status.
fn run_pvh_guest(host: &mut svm::HostSvm, start_info: u64) {
    let module = match pvh::modules(start_info) {
        Ok(m) => m.first().copied(),
        Err(e) => {
            log::error!("no module list: {e}");
            None
        }
    };
    let Some(module) = module else {
        kprintln!("svm: no guest module (-initrd); nothing more to run");
        return;
    };
    let image = pvh::module_bytes(&module);
    kprintln!(
        "svm: booting the guest module ({} bytes) through PVH",
        image.len()
    );
    let how = |end: guest::Outcome| match end {
        guest::Outcome::PowerOff => "ACPI S5",
        _ => "debug-exit",
    };
    let size = match pvh::cmdline(start_info).and_then(|c| config::cmdline_value(c, "hv.guest_mem"))
    {
        None => pvh_guest::DEFAULT_RAM,
        Some(v) => match config::parse_size(v) {
            Some(s) => s,
            None => fatal(format_args!("hv.guest_mem={v}: not a size (e.g. 512M)")),
        },
    };
    let ram = match pvh_guest::guest_ram(start_info, size) {
        Ok(r) => r,
        Err(e) => fatal(format_args!("svm: {e}")),
    };
    let disks = host_disk::guest_disks(pci::host_disks());
    match pvh_guest::run(host, image, ram, disks) {
        Ok((
            end @ (guest::Outcome::PowerOff | guest::Outcome::DebugExit(pvh_guest::GUEST_PASS)),
            stats,
        )) => {
            kprintln!(
                "svm: the guest powered off through {} after {} exits ({} I/O, {} MMIO, {} CPUID, {} MSR, {} HLT); {} interrupts injected",
                how(end),
                stats.exits,
                stats.io,
                stats.mmio,
                stats.cpuid,
                stats.msr,
                stats.halts,
                stats.interrupts
            );
            if stats.run_ns > 0 {
                kprintln!(
                    "svm: the guest ran {} ms, {} exits/s",
                    stats.run_ns / 1_000_000,
                    u128::from(stats.exits) * 1_000_000_000 / u128::from(stats.run_ns)
                );
            }
        }
        Ok((end @ (guest::Outcome::Reset | guest::Outcome::TripleFault(_)), stats)) => {
            match end {
                guest::Outcome::TripleFault(rip) => {
                    kprintln!("svm: the guest triple-faulted at RIP {rip:#x} (a PC resets)")
                }
                _ => kprintln!("svm: the guest reset the machine (ACPI reset register)"),
            }
            kprintln!(
                "svm: after {} exits, {} exceptions injected; hv does not reboot x86 guests yet, so the run ends here (as QEMU's -no-reboot)",
                stats.exits,
                stats.injected
            );
            exit::qemu_exit(exit::ExitCode::GuestReset)
        }
        Ok((end, _)) => fatal(format_args!("svm: the guest failed: {end:?}")),
        Err(e) => fatal(format_args!("svm: the guest failed: {e}")),
    }
}

/// Start the other CPUs and say how many came up with SVM.
fn start_other_cpus(start_info: u64) {
    let clock = match hpet::Hpet::start() {
        Ok(c) => c,
        Err(e) => {
            log::warn!("{e}: the other CPUs stay off");
            return;
        }
    };
    match smp::start_aps(&clock, &pvh::loader_ranges(start_info)) {
        Ok(s) => kprintln!(
            "smp: {} CPU(s) online, SVM on {} of the {} other(s)",
            s.cpus,
            s.aps_with_svm,
            s.cpus - 1
        ),
        Err(e) => log::warn!("smp: {e}: the other CPUs stay off"),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Set once the CPU is on its way down, so a fault while reporting a fault
/// just halts.
static FATAL: AtomicBool = AtomicBool::new(false);

/// Report a fatal error on a fresh serial handle (the console lock may be
/// held by the failing code) and stop with a failure status.
pub fn fatal(args: fmt::Arguments) -> ! {
    if !FATAL.swap(true, Ordering::AcqRel) {
        let _ = fmt::Write::write_fmt(&mut serial(), format_args!("{args}\n"));
        exit::qemu_exit(exit::ExitCode::Failure)
    }
    exit::halt()
}

/// A CPU exception: dump and stop.
fn fatal_exception(frame: &interrupts::ExceptionFrame) -> ! {
    if !FATAL.swap(true, Ordering::AcqRel) {
        let _ = interrupts::dump(&mut serial(), frame);
        exit::qemu_exit(exit::ExitCode::Failure)
    }
    exit::halt()
}
