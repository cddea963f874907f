//! Where the guest's PL011 output goes: the host's stdout, or a buffer
//! (tests, benchmarks).

use hv_core::devices::pl011::CharSink;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Guest console bytes to the host's stdout, flushed at each newline.
#[derive(Debug, Default)]
pub struct Stdout;

impl CharSink for Stdout {
    fn put(&mut self, byte: u8) {
        let mut out = std::io::stdout().lock();
        // A closed stdout must not stop the guest: errors are dropped.
        let _ = out.write_all(&[byte]);
        if byte == b'\n' {
            let _ = out.flush();
        }
    }
}

/// Guest console bytes collected in memory; clones share the buffer.
#[derive(Clone, Debug, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything the guest printed so far, lossily as UTF-8.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl CharSink for Captured {
    fn put(&mut self, byte: u8) {
        if let Ok(mut b) = self.0.lock() {
            b.push(byte);
        }
    }
}
