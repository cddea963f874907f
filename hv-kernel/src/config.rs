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

// Guest options: only the images that run guests (AArch64) read them.
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
/// A size as QEMU and Linux write them: a number with an optional K, M or G
/// suffix (binary units), e.g. `128M`.
pub fn parse_size(s: &str) -> Option<u64> {
    let (digits, shift) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 10),
        b'M' | b'm' => (&s[..s.len() - 1], 20),
        b'G' | b'g' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(1 << shift)
}

#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
/// The value of `key=value` in a kernel-style command line.
pub fn cmdline_value<'a>(cmdline: &'a str, key: &str) -> Option<&'a str> {
    cmdline
        .split_whitespace()
        .find_map(|arg| arg.strip_prefix(key)?.strip_prefix('='))
}

#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
/// Whether a kernel-style command line holds the bare flag `flag`.
pub fn cmdline_flag(cmdline: &str, flag: &str) -> bool {
    cmdline.split_whitespace().any(|arg| arg == flag)
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
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("128M"), Some(128 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("M"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("-1M"), None);
        assert_eq!(parse_size("99999999999999G"), None);
    }

    #[test]
    fn cmdline_values_are_found_by_key() {
        let c = "console=ttyAMA0 hv.guest_mem=256M quiet";
        assert_eq!(cmdline_value(c, "hv.guest_mem"), Some("256M"));
        assert_eq!(cmdline_value(c, "console"), Some("ttyAMA0"));
        assert_eq!(cmdline_value(c, "quiet"), None);
        assert_eq!(cmdline_value(c, "hv.guest"), None);
    }

    #[test]
    fn cmdline_flags_match_whole_words() {
        let c = "hv.guest_mem=256M hv.no_reboot";
        assert!(cmdline_flag(c, "hv.no_reboot"));
        assert!(!cmdline_flag(c, "hv.no"));
        assert!(!cmdline_flag(c, "hv.guest_mem"));
        assert!(!cmdline_flag("", "hv.no_reboot"));
    }

    #[test]
    fn log_level_defaults_to_info() {
        assert_eq!(log_level(None), log::LevelFilter::Info);
        assert_eq!(log_level(Some("bogus")), log::LevelFilter::Info);
        assert_eq!(log_level(Some("debug")), log::LevelFilter::Debug);
        assert_eq!(log_level(Some("off")), log::LevelFilter::Off);
    }
}
