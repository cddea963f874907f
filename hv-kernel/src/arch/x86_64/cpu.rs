//! What the CPU offers for virtualization.

use raw_cpuid::CpuId;

/// Vendor name and virtualization features from CPUID.
#[derive(Debug)]
pub struct Features {
    /// e.g. "GenuineIntel", "AuthenticAMD".
    pub vendor: heapless::String<12>,
    /// Intel VT-x.
    pub vmx: bool,
    /// AMD-V.
    pub svm: bool,
    /// AMD nested page tables.
    pub npt: bool,
    /// AMD NRIPS: the VMCB's next-RIP field is valid after instruction
    /// intercepts (QEMU TCG does not offer it).
    pub nrips: bool,
}

/// Read the CPU's features.
pub fn features() -> Features {
    let cpuid = CpuId::new();
    let mut vendor = heapless::String::new();
    if let Some(v) = cpuid.get_vendor_info() {
        // A vendor string is exactly 12 ASCII bytes, so it always fits.
        let _ = vendor.push_str(v.as_str());
    }
    let vmx = cpuid.get_feature_info().is_some_and(|f| f.has_vmx());
    let svm = cpuid
        .get_extended_processor_and_feature_identifiers()
        .is_some_and(|f| f.has_svm());
    let npt = svm && cpuid.get_svm_info().is_some_and(|s| s.has_nested_paging());
    let nrips = svm && cpuid.get_svm_info().is_some_and(|s| s.has_nrip());
    Features {
        vendor,
        vmx,
        svm,
        npt,
        nrips,
    }
}
