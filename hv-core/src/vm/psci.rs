//! PSCI 1.1 and SMCCC calls as a guest makes them (HVC or SMC, function id in
//! x0, arguments in x1-x3), decoded into typed requests.
//!
//! Every argument is guest-controlled: SMC32 function ids take only the low
//! 32 bits of each argument, as the SMC Calling Convention says.
//!
//! [`answer`] carries them out against the vCPUs' power states
//! ([`super::power`]): both homes answer with it.

use super::power::{CpuOnError, Power, VcpuPower};

/// PSCI version hv implements: 1.1.
pub const PSCI_VERSION_1_1: u64 = 0x0001_0001;
/// SMCCC version hv implements: 1.1.
pub const SMCCC_VERSION_1_1: u64 = 0x0001_0001;
/// MIGRATE_INFO_TYPE answer: no Trusted OS that needs migration.
pub const MIGRATE_INFO_NOT_REQUIRED: u64 = 2;

/// PSCI return codes (as the 64-bit value left in x0).
pub mod status {
    /// Success.
    pub const SUCCESS: u64 = 0;
    /// NOT_SUPPORTED (-1).
    pub const NOT_SUPPORTED: u64 = -1i64 as u64;
    /// INVALID_PARAMETERS (-2).
    pub const INVALID_PARAMETERS: u64 = -2i64 as u64;
    /// DENIED (-3).
    pub const DENIED: u64 = -3i64 as u64;
    /// ALREADY_ON (-4).
    pub const ALREADY_ON: u64 = -4i64 as u64;
    /// ON_PENDING (-5).
    pub const ON_PENDING: u64 = -5i64 as u64;
    /// INTERNAL_FAILURE (-6).
    pub const INTERNAL_FAILURE: u64 = -6i64 as u64;
    /// INVALID_ADDRESS (-9).
    pub const INVALID_ADDRESS: u64 = -9i64 as u64;
}

/// AFFINITY_INFO answers.
pub mod affinity {
    /// The CPU is on.
    pub const ON: u64 = 0;
    /// The CPU is off.
    pub const OFF: u64 = 1;
    /// CPU_ON was called and the CPU has not started yet.
    pub const ON_PENDING: u64 = 2;
}

mod fid {
    pub const SMCCC_VERSION: u32 = 0x8000_0000;
    pub const SMCCC_ARCH_FEATURES: u32 = 0x8000_0001;
    pub const PSCI_VERSION: u32 = 0x8400_0000;
    pub const CPU_SUSPEND: u32 = 0x8400_0001;
    pub const CPU_OFF: u32 = 0x8400_0002;
    pub const CPU_ON: u32 = 0x8400_0003;
    pub const AFFINITY_INFO: u32 = 0x8400_0004;
    pub const MIGRATE_INFO_TYPE: u32 = 0x8400_0006;
    pub const SYSTEM_OFF: u32 = 0x8400_0008;
    pub const SYSTEM_RESET: u32 = 0x8400_0009;
    pub const PSCI_FEATURES: u32 = 0x8400_000a;
    /// Bit 30 of a function id selects the SMC64 convention.
    pub const SMC64: u32 = 0x4000_0000;
}

/// A decoded guest call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciCall {
    /// SMCCC_VERSION: answer [`SMCCC_VERSION_1_1`].
    SmcccVersion,
    /// SMCCC_ARCH_FEATURES for a function id: hv implements no
    /// architecture workarounds, so answer NOT_SUPPORTED.
    SmcccArchFeatures(u32),
    /// PSCI_VERSION: answer [`PSCI_VERSION_1_1`].
    Version,
    /// PSCI_FEATURES for a function id: answer with [`features`].
    Features(u32),
    /// CPU_SUSPEND: may be treated as a WFI (return SUCCESS).
    CpuSuspend {
        /// Power state parameter.
        power_state: u64,
        /// Resume address for powerdown states.
        entry: u64,
        /// Value for x0 at resume.
        context: u64,
    },
    /// CPU_OFF: the calling vCPU stops.
    CpuOff,
    /// CPU_ON: start `target` at `entry` with x0 = `context`.
    CpuOn {
        /// MPIDR affinity of the vCPU to start.
        target: u64,
        /// Guest-physical entry point.
        entry: u64,
        /// Value for the new vCPU's x0.
        context: u64,
    },
    /// AFFINITY_INFO: answer from [`affinity`] or INVALID_PARAMETERS.
    AffinityInfo {
        /// MPIDR affinity asked about.
        target: u64,
        /// Lowest affinity level; only 0 is supported.
        level: u64,
    },
    /// MIGRATE_INFO_TYPE: answer [`MIGRATE_INFO_NOT_REQUIRED`].
    MigrateInfoType,
    /// SYSTEM_OFF.
    SystemOff,
    /// SYSTEM_RESET.
    SystemReset,
    /// Anything else: answer NOT_SUPPORTED.
    Unknown(u32),
}

/// Decode a call from the guest's x0-x3.
#[inline]
pub fn decode(x0: u64, x1: u64, x2: u64, x3: u64) -> PsciCall {
    // Function ids are 32-bit (the upper half of x0 is ignored, per SMCCC).
    let id = x0 as u32;
    let smc64 = id & fid::SMC64 != 0;
    let arg = |v: u64| if smc64 { v } else { v & 0xffff_ffff };
    match id & !fid::SMC64 {
        fid::SMCCC_VERSION if !smc64 => PsciCall::SmcccVersion,
        fid::SMCCC_ARCH_FEATURES if !smc64 => PsciCall::SmcccArchFeatures(x1 as u32),
        fid::PSCI_VERSION if !smc64 => PsciCall::Version,
        fid::PSCI_FEATURES if !smc64 => PsciCall::Features(x1 as u32),
        fid::CPU_SUSPEND => PsciCall::CpuSuspend {
            power_state: arg(x1) & 0xffff_ffff,
            entry: arg(x2),
            context: arg(x3),
        },
        fid::CPU_OFF if !smc64 => PsciCall::CpuOff,
        fid::CPU_ON => PsciCall::CpuOn {
            target: arg(x1),
            entry: arg(x2),
            context: arg(x3),
        },
        fid::AFFINITY_INFO => PsciCall::AffinityInfo {
            target: arg(x1),
            level: arg(x2),
        },
        fid::MIGRATE_INFO_TYPE if !smc64 => PsciCall::MigrateInfoType,
        fid::SYSTEM_OFF if !smc64 => PsciCall::SystemOff,
        fid::SYSTEM_RESET if !smc64 => PsciCall::SystemReset,
        _ => PsciCall::Unknown(id),
    }
}

/// The PSCI_FEATURES answer for function id `id`: SUCCESS (0) for what hv
/// implements, NOT_SUPPORTED otherwise.
#[inline]
pub fn features(id: u32) -> u64 {
    match decode(u64::from(id), 0, 0, 0) {
        PsciCall::Unknown(_) | PsciCall::SmcccVersion | PsciCall::SmcccArchFeatures(_) => {
            // SMCCC_VERSION is discovered through PSCI_FEATURES in SMCCC 1.1.
            if id == fid::SMCCC_VERSION {
                status::SUCCESS
            } else {
                status::NOT_SUPPORTED
            }
        }
        _ => status::SUCCESS,
    }
}

/// What the home does once a call is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Put this in the caller's x0 and resume it.
    Value(u64),
    /// CPU_ON made this vCPU PENDING: wake it, then resume the caller
    /// with SUCCESS in x0.
    Started(usize),
    /// CPU_OFF: the caller's vCPU stops (it was not the last one on).
    Off,
    /// SYSTEM_OFF.
    SystemOff,
    /// SYSTEM_RESET.
    SystemReset,
}

/// The vCPU index of an MPIDR a guest names (Aff0 = index, the other
/// affinity fields 0), if the guest has that vCPU.
#[inline]
pub fn vcpu_of(mpidr: u64, vcpus: usize) -> Option<usize> {
    let index = (mpidr & 0xff) as usize;
    (mpidr & 0xff_00ff_ff00 == 0 && index < vcpus).then_some(index)
}

/// The answer to `call` from vCPU `me` of a guest whose vCPUs' power
/// states are `power`: the PSCI 1.1 / SMCCC 1.1 rules both homes follow.
/// Inlined: it is on every HVC exit's path, which the perf gate counts.
#[inline]
pub fn answer(call: PsciCall, me: usize, power: &VcpuPower) -> Reply {
    let value = match call {
        PsciCall::SmcccVersion => SMCCC_VERSION_1_1,
        PsciCall::SmcccArchFeatures(_) => status::NOT_SUPPORTED,
        PsciCall::Version => PSCI_VERSION_1_1,
        PsciCall::Features(id) => features(id),
        // Suspend behaves like WFI, which may complete at once.
        PsciCall::CpuSuspend { .. } => status::SUCCESS,
        // The last vCPU on may not turn itself off.
        PsciCall::CpuOff if power.cpu_off(me) => return Reply::Off,
        PsciCall::CpuOff => status::DENIED,
        PsciCall::CpuOn {
            target,
            entry,
            context,
        } => match vcpu_of(target, power.vcpus()) {
            None => status::INVALID_PARAMETERS,
            Some(t) => match power.cpu_on(t, entry, context) {
                Ok(()) => return Reply::Started(t),
                Err(CpuOnError::OnPending) => status::ON_PENDING,
                Err(CpuOnError::AlreadyOn) => status::ALREADY_ON,
                Err(CpuOnError::NoSuchCpu) => status::INVALID_PARAMETERS,
            },
        },
        PsciCall::AffinityInfo { target, level: 0 } => match vcpu_of(target, power.vcpus()) {
            Some(t) => match power.state(t) {
                Power::On => affinity::ON,
                Power::Claimed | Power::Pending => affinity::ON_PENDING,
                Power::Off => affinity::OFF,
            },
            None => status::INVALID_PARAMETERS,
        },
        PsciCall::AffinityInfo { .. } => status::INVALID_PARAMETERS,
        PsciCall::MigrateInfoType => MIGRATE_INFO_NOT_REQUIRED,
        PsciCall::SystemOff => return Reply::SystemOff,
        PsciCall::SystemReset => return Reply::SystemReset,
        PsciCall::Unknown(id) => {
            log::debug!("guest called unknown function {id:#x}");
            status::NOT_SUPPORTED
        }
    };
    Reply::Value(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_the_power_states() {
        let power = VcpuPower::new(2);
        let on = |t| PsciCall::CpuOn {
            target: t,
            entry: 0x4008_0000,
            context: 0,
        };
        let info = |t| PsciCall::AffinityInfo {
            target: t,
            level: 0,
        };
        // vCPU 0 may not leave while it is the only one on.
        assert_eq!(
            answer(PsciCall::CpuOff, 0, &power),
            Reply::Value(status::DENIED)
        );
        assert_eq!(answer(info(1), 0, &power), Reply::Value(affinity::OFF));
        assert_eq!(answer(on(1), 0, &power), Reply::Started(1));
        assert_eq!(answer(on(1), 0, &power), Reply::Value(status::ON_PENDING));
        assert_eq!(
            answer(info(1), 0, &power),
            Reply::Value(affinity::ON_PENDING)
        );
        assert_eq!(answer(on(0), 1, &power), Reply::Value(status::ALREADY_ON));
        // No vCPU 2, and no affinity level 1 or other clusters.
        assert_eq!(
            answer(on(2), 0, &power),
            Reply::Value(status::INVALID_PARAMETERS)
        );
        assert_eq!(
            answer(on(0x100), 0, &power),
            Reply::Value(status::INVALID_PARAMETERS)
        );
        assert_eq!(
            answer(
                PsciCall::AffinityInfo {
                    target: 0,
                    level: 1
                },
                0,
                &power
            ),
            Reply::Value(status::INVALID_PARAMETERS)
        );
        assert_eq!(answer(PsciCall::SystemOff, 1, &power), Reply::SystemOff);
        assert_eq!(answer(PsciCall::SystemReset, 0, &power), Reply::SystemReset);
        assert_eq!(
            answer(PsciCall::Unknown(0x8400_00ff), 0, &power),
            Reply::Value(status::NOT_SUPPORTED)
        );
    }

    #[test]
    fn decodes_cpu_on_in_both_conventions() {
        assert_eq!(
            decode(0xc400_0003, 1, 0x4008_0000, 0xdead_beef_0000_0001),
            PsciCall::CpuOn {
                target: 1,
                entry: 0x4008_0000,
                context: 0xdead_beef_0000_0001
            }
        );
        // SMC32: only the low halves of the arguments count.
        assert_eq!(
            decode(0x8400_0003, 0xffff_ffff_0000_0002, 0x1_4008_0000, 7),
            PsciCall::CpuOn {
                target: 2,
                entry: 0x4008_0000,
                context: 7
            }
        );
    }

    #[test]
    fn upper_half_of_the_function_id_is_ignored() {
        assert_eq!(decode(0xffff_ffff_8400_0008, 0, 0, 0), PsciCall::SystemOff);
    }

    #[test]
    fn unknown_and_misencoded_ids_are_unknown() {
        assert_eq!(decode(0x8400_00ff, 0, 0, 0), PsciCall::Unknown(0x8400_00ff));
        // SYSTEM_OFF has no SMC64 form.
        assert_eq!(decode(0xc400_0008, 0, 0, 0), PsciCall::Unknown(0xc400_0008));
        assert_eq!(decode(0, 0, 0, 0), PsciCall::Unknown(0));
    }

    #[test]
    fn features_reports_what_is_implemented() {
        assert_eq!(features(0x8400_0000), status::SUCCESS);
        assert_eq!(features(0xc400_0003), status::SUCCESS);
        assert_eq!(features(0x8000_0000), status::SUCCESS);
        assert_eq!(features(0x8400_0005), status::NOT_SUPPORTED);
        assert_eq!(features(0x8000_0001), status::NOT_SUPPORTED);
    }

    #[test]
    fn status_codes_are_negative_numbers() {
        assert_eq!(status::NOT_SUPPORTED as i64, -1);
        assert_eq!(status::INVALID_ADDRESS as i64, -9);
    }
}
