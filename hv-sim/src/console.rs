//! Where the guest's PL011 output goes: the host's stdout, or a buffer
//! (tests, benchmarks).

use hv_core::devices::pl011::CharSink;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
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

impl Captured {
    /// The bytes from offset `start` on.
    pub fn bytes_from(&self, start: usize) -> Vec<u8> {
        self.0
            .lock()
            .map(|b| b.get(start..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }
}

impl CharSink for Captured {
    fn put(&mut self, byte: u8) {
        if let Ok(mut b) = self.0.lock() {
            b.push(byte);
        }
    }
}

/// A sink that passes every byte on to another and raises a flag once the
/// output contains a marker (`hv-sim run --stop-at`): the run loop stops
/// at the end of the slice in which the flag went up.
#[derive(Debug)]
pub struct Watch<S> {
    inner: S,
    marker: Vec<u8>,
    /// The last `marker.len()` bytes.
    window: std::collections::VecDeque<u8>,
    seen: Arc<AtomicBool>,
}

impl<S: CharSink> Watch<S> {
    /// Watch for `marker` (non-empty) in what goes to `inner`; the flag
    /// it returns goes up once the marker was printed.
    pub fn new(inner: S, marker: &str) -> (Self, Arc<AtomicBool>) {
        let seen = Arc::new(AtomicBool::new(false));
        let watch = Watch {
            inner,
            marker: marker.as_bytes().to_vec(),
            window: std::collections::VecDeque::with_capacity(marker.len()),
            seen: Arc::clone(&seen),
        };
        (watch, seen)
    }
}

impl<S: CharSink> CharSink for Watch<S> {
    fn put(&mut self, byte: u8) {
        self.inner.put(byte);
        if self.marker.is_empty() || self.seen.load(Ordering::Relaxed) {
            return;
        }
        if self.window.len() == self.marker.len() {
            self.window.pop_front();
        }
        self.window.push_back(byte);
        if self.window.iter().eq(self.marker.iter()) {
            self.seen.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(marker: &str, text: &str) -> (bool, String) {
        let out = Captured::new();
        let (mut w, seen) = Watch::new(out.clone(), marker);
        for b in text.bytes() {
            w.put(b);
        }
        (seen.load(Ordering::Acquire), out.text())
    }

    #[test]
    fn watch_passes_everything_on_and_sees_the_marker() {
        assert_eq!(
            feed("up", "boot\nuserspace up\nmore"),
            (true, "boot\nuserspace up\nmore".into())
        );
        assert!(!feed("up!", "userspace up").0);
        // A partial match followed by the real one (window, not prefix).
        assert!(feed("aab", "aaab").0);
        assert!(feed("HV", "H\nHV").0);
        assert!(!feed("", "anything").0);
    }
}
