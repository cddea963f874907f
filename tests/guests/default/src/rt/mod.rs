//! The guest runtime (bare-metal build only).
//!
//! Single-CPU pieces: the console, PSCI and the synchronous-exception hook
//! (the DMA glue, `crate::dma`, serves the x86 guest too). For the SMP and interrupt guests: secondary CPUs ([`smp`]),
//! the IRQ vector and per-INTID handlers ([`irq`]), a GICv3 EL1 driver
//! ([`gic`]), the generic timers ([`timer`]), bounded waits ([`time`]) and
//! PASS/FAIL bookkeeping ([`report`]). A guest that needs virtual memory
//! builds a stage-1 map and switches the MMU on with [`mmu`]. A raw
//! virtio-blk driver for queue stress tests ([`rawblk`]).

pub mod console;
pub mod disks;
pub mod exceptions;
pub mod gic;
pub mod irq;
pub mod mmu;
pub mod psci;
pub mod rawblk;
pub mod report;
pub mod smp;
pub mod sync;
pub mod time;
pub mod timer;

/// Stack of the boot CPU.
const STACK_SIZE: usize = 64 * 1024;

core::arch::global_asm!(
    include_str!("../boot.s"),
    STACK_SIZE = const STACK_SIZE,
    SECONDARY_STACK_SIZE = const smp::SECONDARY_STACK_SIZE,
    MAX_CPUS = const smp::MAX_CPUS,
);

/// Print a line on the guest console (whole lines stay whole when several
/// CPUs print).
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::rt::console::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    console::print_unlocked(format_args!(
        "guest panic on CPU {}: {info}\nFAIL\n",
        smp::cpu_index()
    ));
    psci::system_reset()
}
