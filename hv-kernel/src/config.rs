//! Build-time settings and small formatting helpers, kept free of hardware
//! so host tests cover them.

use core::fmt;

/// The log level named by `HV_LOG` at build time (default `info`).
pub fn log_level(setting: Option<&str>) -> log::LevelFilter {
    match setting.map(str::trim) {
        Some("off") => log::LevelFilter::Off,
        Some("error") => log::LevelFilter::Error,
        Some("warn") => log::LevelFilter::Warn,
        Some("debug") => log::LevelFilter::Debug,
        Some("trace") => log::LevelFilter::Trace,
        _ => log::LevelFilter::Info,
    }
}

/// A byte count printed in the largest binary unit that divides it, e.g.
/// `128 MiB`, `1536 KiB`, `17 B`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 4] = [
            (1 << 40, "TiB"),
            (1 << 30, "GiB"),
            (1 << 20, "MiB"),
            (1 << 10, "KiB"),
        ];
        for (unit, name) in UNITS {
            if self.0 >= unit && self.0 % unit == 0 {
                return write!(f, "{} {name}", self.0 / unit);
            }
        }
        write!(f, "{} B", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_the_largest_exact_unit() {
        assert_eq!(Size(128 << 20).to_string(), "128 MiB");
        assert_eq!(Size(1536 << 10).to_string(), "1536 KiB");
        assert_eq!(Size(3 << 30).to_string(), "3 GiB");
        assert_eq!(Size(17).to_string(), "17 B");
        assert_eq!(Size(0).to_string(), "0 B");
    }

    #[test]
    fn log_level_defaults_to_info() {
        assert_eq!(log_level(None), log::LevelFilter::Info);
        assert_eq!(log_level(Some("bogus")), log::LevelFilter::Info);
        assert_eq!(log_level(Some("debug")), log::LevelFilter::Debug);
        assert_eq!(log_level(Some("off")), log::LevelFilter::Off);
    }
}
