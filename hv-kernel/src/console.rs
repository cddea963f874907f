//! The kernel console: one writer (the arch's UART) behind a lock, the
//! `kprintln!` macro, and the `log` facade printing through it.

use alloc::boxed::Box;
use core::fmt::{self, Write};
use spin::Mutex;

static CONSOLE: Mutex<Option<Box<dyn Write + Send>>> = Mutex::new(None);

/// Route console output to `writer` (the arch's UART driver).
pub fn set_writer(writer: Box<dyn Write + Send>) {
    *CONSOLE.lock() = Some(writer);
}

/// Print to the console; output before [`set_writer`] is dropped.
pub fn print(args: fmt::Arguments) {
    if let Some(w) = CONSOLE.lock().as_mut() {
        // A UART write cannot fail; there is nowhere to report it if it did.
        let _ = w.write_fmt(args);
    }
}

/// Print a line to the kernel console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::console::print(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::console::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// The `log` backend: `[LEVEL] message` on the console.
struct KernelLogger;

impl log::Log for KernelLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            print(format_args!("[{:5}] {}\n", record.level(), record.args()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: KernelLogger = KernelLogger;

/// Install the logger at the level chosen at build time with `HV_LOG`
/// (`error`, `warn`, `info`, `debug`, `trace`; default `info`).
pub fn init_logging() {
    let level = crate::config::log_level(option_env!("HV_LOG"));
    // A second call fails harmlessly: the logger is already installed.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
