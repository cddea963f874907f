//! Leaving QEMU with a status: the isa-debug-exit device (the runner adds
//! `-device isa-debug-exit,iobase=0xf4,iosize=0x04`).

use x86_64::instructions::port::Port;

const ISA_DEBUG_EXIT_PORT: u16 = 0xf4;

/// Values written to isa-debug-exit; QEMU exits with `(value << 1) | 1`.
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub enum ExitCode {
    /// QEMU exit status 33, which qemu-runner.sh reports as 0.
    Success = 0x10,
    /// QEMU exit status 3.
    Failure = 0x1,
    /// The guest reset the machine (ACPI or a triple fault), which hv does
    /// not do for x86 guests yet: QEMU exit status 5.
    GuestReset = 0x2,
}

/// Exit QEMU; on hardware (no such device) halt instead.
pub fn qemu_exit(code: ExitCode) -> ! {
    let mut port = Port::<u32>::new(ISA_DEBUG_EXIT_PORT);
    // SAFETY: port 0xf4 is unused on PCs; under QEMU it is isa-debug-exit.
    unsafe { port.write(code as u32) };
    halt()
}

/// Stop this CPU for good.
pub fn halt() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
