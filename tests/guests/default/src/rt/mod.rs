//! The guest runtime (bare-metal build only).

pub mod console;
pub mod disks;
pub mod dma;
pub mod exceptions;
pub mod psci;

/// Stack of the guest's one CPU.
const STACK_SIZE: usize = 64 * 1024;

core::arch::global_asm!(include_str!("../boot.s"), STACK_SIZE = const STACK_SIZE);

/// Print a line on the guest console.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::rt::console::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    console::print(format_args!("guest panic: {info}\nFAIL\n"));
    psci::system_reset()
}
