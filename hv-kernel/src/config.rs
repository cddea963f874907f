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

/// A byte count in the largest binary unit it reaches: exact values as
/// integers (`128 MiB`), others with one decimal (`510.9 MiB`).
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
            if self.0 >= unit {
                let whole = self.0 / unit;
                if self.0 % unit == 0 {
                    return write!(f, "{whole} {name}");
                }
                // Tenths, truncated; u128 keeps the multiply from overflowing.
                let tenths = (u128::from(self.0 % unit) * 10 / u128::from(unit)) as u64;
                return write!(f, "{whole}.{tenths} {name}");
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
        assert_eq!(Size(1536 << 10).to_string(), "1.5 MiB");
        assert_eq!(Size(523_132 << 10).to_string(), "510.8 MiB");
        assert_eq!(Size(u64::MAX).to_string(), "16777215.9 TiB");
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
