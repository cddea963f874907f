//! Test verdicts: `test NAME: ok` / `test NAME: FAIL (why)` lines, a
//! summary, then PASS (PSCI SYSTEM_OFF) or FAIL (SYSTEM_RESET).

use core::fmt::{self, Write};

/// A failure message in a fixed buffer (the guests have no heap); text
/// past its capacity is cut.
#[derive(Clone, Copy)]
pub struct Msg {
    buf: [u8; 320],
    len: usize,
}

impl Msg {
    /// Format `args` into a message.
    pub fn new(args: fmt::Arguments) -> Self {
        let mut m = Msg {
            buf: [0; 320],
            len: 0,
        };
        let _ = m.write_fmt(args);
        m
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // The buffer only ever receives whole chars (see write_str).
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("(bad message)")
    }
}

impl Write for Msg {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut b = [0; 4];
            let e = c.encode_utf8(&mut b).as_bytes();
            let Some(dst) = self.buf.get_mut(self.len..self.len + e.len()) else {
                return Ok(());
            };
            dst.copy_from_slice(e);
            self.len += e.len();
        }
        Ok(())
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl From<super::time::Timeout> for Msg {
    fn from(t: super::time::Timeout) -> Self {
        Msg::new(format_args!("{t}"))
    }
}

/// A test's outcome.
pub type Outcome = Result<(), Msg>;

/// Several checks of one test, all evaluated: the failures are joined
/// with "; " into one message.
#[derive(Debug, Default)]
pub struct Findings {
    msg: Option<Msg>,
}

impl Findings {
    /// No failures yet.
    pub fn new() -> Self {
        Findings::default()
    }

    /// Record a failure unless `ok`.
    pub fn check(&mut self, ok: bool, args: fmt::Arguments) {
        if ok {
            return;
        }
        match &mut self.msg {
            None => self.msg = Some(Msg::new(args)),
            Some(m) => {
                let _ = m.write_str("; ");
                let _ = m.write_fmt(args);
            }
        }
    }

    /// Record a failed step.
    pub fn fail(&mut self, args: fmt::Arguments) {
        self.check(false, args);
    }

    /// Ok if every check passed.
    pub fn outcome(self) -> Outcome {
        self.msg.map_or(Ok(()), Err)
    }
}

/// Build a [`Msg`] with `format!` syntax.
#[macro_export]
macro_rules! msg {
    ($($arg:tt)*) => {
        $crate::rt::report::Msg::new(format_args!($($arg)*))
    };
}

/// Return early with a failure message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return Err($crate::msg!($($arg)*));
        }
    };
}

/// Passed and failed tests of one guest.
#[derive(Debug)]
pub struct Tally {
    guest: &'static str,
    passed: u32,
    failed: u32,
}

impl Tally {
    /// A tally for the guest named `guest`.
    pub const fn new(guest: &'static str) -> Self {
        Tally {
            guest,
            passed: 0,
            failed: 0,
        }
    }

    /// Print `test NAME: ok` or `test NAME: FAIL (why)` and count it.
    pub fn check(&mut self, name: &str, outcome: Outcome) -> bool {
        match outcome {
            Ok(()) => {
                self.passed += 1;
                crate::println!("test {name}: ok");
                true
            }
            Err(why) => {
                self.failed += 1;
                crate::println!("test {name}: FAIL ({why})");
                false
            }
        }
    }

    /// Failed tests so far.
    pub fn failed(&self) -> u32 {
        self.failed
    }

    /// Print the summary and the verdict, then power off (PASS) or reset
    /// (FAIL).
    pub fn finish(&self) -> ! {
        crate::println!(
            "{}: {} passed, {} failed",
            self.guest,
            self.passed,
            self.failed
        );
        if self.failed == 0 {
            crate::println!("PASS");
            super::psci::system_off()
        } else {
            crate::println!("FAIL");
            super::psci::system_reset()
        }
    }
}
