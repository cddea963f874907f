//! AMD SVM on this CPU: switching it on, and running a guest until its
//! next #VMEXIT. The VMCB layout and exit decoding are hv-core's
//! (`arch::x86_64::svm`); this is what only the CPU can do.

use super::cpu::Features;
use alloc::boxed::Box;
use core::fmt;
use hv_core::arch::x86_64::svm::{Exit, Vmcb};
use x86_64::registers::model_specific::{Efer, EferFlags, Msr};

/// Where VMRUN saves the host's state.
const VM_HSAVE_PA: u32 = 0xC001_0117;

core::arch::global_asm!(include_str!("svm_run.s"), options(att_syntax));

extern "C" {
    /// Runs the guest of `guest_vmcb` (physical address) with the GPRs in
    /// `gprs` (indexed by register number; RAX and RSP live in the VMCB)
    /// until its next #VMEXIT, saving and restoring the host's VMLOAD
    /// state through `host_vmcb`. Defined in svm_run.s.
    fn hv_svm_run(guest_vmcb: u64, host_vmcb: u64, gprs: *mut u64);
}

/// Why SVM cannot run guests here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SvmError {
    /// The CPU has no SVM (an Intel CPU, or SVM hidden by the host).
    NoSvm,
    /// SVM without nested paging.
    NoNestedPaging,
}

impl fmt::Display for SvmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SvmError::NoSvm => write!(f, "the CPU offers no AMD SVM"),
            SvmError::NoNestedPaging => write!(f, "the CPU's SVM has no nested paging"),
        }
    }
}

/// A page the CPU owns while SVM is on.
#[repr(C, align(4096))]
struct Page([u8; 4096]);

/// The guest's general registers other than RAX and RSP (which the VMCB
/// holds), by register number: index 0 and 4 are unused.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gprs(pub [u64; 16]);

/// SVM switched on on this CPU.
pub struct HostSvm {
    /// The host save area (VM_HSAVE_PA).
    _hsave: Box<Page>,
    /// The CPU fills the VMCB's next RIP after instruction intercepts.
    pub nrips: bool,
    /// The host's VMLOAD/VMSAVE state (FS, GS, TR, LDTR, syscall MSRs)
    /// while a guest's is loaded.
    host: Box<Vmcb>,
}

impl fmt::Debug for HostSvm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostSvm").finish_non_exhaustive()
    }
}

/// hv runs identity-mapped: a pointer is a physical address.
fn phys<T>(p: &T) -> u64 {
    p as *const T as u64
}

impl HostSvm {
    /// Switch SVM on: EFER.SVME (and NXE, which nested entries with NX
    /// need), and the host save area.
    pub fn enable(features: &Features) -> Result<HostSvm, SvmError> {
        if !features.svm {
            return Err(SvmError::NoSvm);
        }
        if !features.npt {
            return Err(SvmError::NoNestedPaging);
        }
        let hsave = Box::new(Page([0; 4096]));
        // SAFETY: SVME enables the SVM instructions; NXE makes the NX bit
        // of page-table entries valid (hv's own tables never set it). The
        // CPU has SVM (checked above) and this changes nothing else.
        unsafe {
            Efer::update(|f| {
                *f |= EferFlags::SECURE_VIRTUAL_MACHINE_ENABLE | EferFlags::NO_EXECUTE_ENABLE
            })
        };
        // SAFETY: VM_HSAVE_PA takes a page-aligned physical address the
        // CPU may write while SVM is on; `hsave` is such a page, owned by
        // the returned HostSvm (which is never dropped while guests run).
        unsafe { Msr::new(VM_HSAVE_PA).write(phys(&*hsave)) };
        Ok(HostSvm {
            nrips: features.nrips,
            _hsave: hsave,
            host: Box::default(),
        })
    }

    /// Run the guest of `vmcb` with `gprs` to its next exit.
    pub fn run(&mut self, vmcb: &mut Vmcb, gprs: &mut Gprs) -> Exit {
        // SAFETY: both VMCBs are page-aligned boxes this code owns (so
        // their addresses are physical ones), `gprs` is 16 u64s, and SVM
        // is on (HostSvm exists). VMRUN checks the guest VMCB and exits
        // with VMEXIT_INVALID instead of running a bad one; the guest's
        // memory is only what its nested page tables map.
        unsafe { hv_svm_run(phys(vmcb), phys(&*self.host), gprs.0.as_mut_ptr()) };
        vmcb.exit()
    }
}
