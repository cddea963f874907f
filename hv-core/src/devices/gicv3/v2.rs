//! The GICv2 view of the same interrupt state: a distributor register file
//! as a GICv2 guest programs it (GIC architecture spec v2, IHI 0048B,
//! chapter 4.3), for machines whose host GIC is a GICv2 (the Raspberry
//! Pi 4's GIC-400). The guest's CPU interface is then the hardware's GICV
//! frame; only the distributor is emulated.
//!
//! Differences from the GICv3 view, each handled here:
//! * no redistributors: SGIs and PPIs (INTIDs 0-31) are banked in the
//!   distributor itself, by the vCPU that accesses it (4.3: "banked");
//! * SPIs are routed by GICD_ITARGETSR, a CPU mask per interrupt, instead
//!   of GICD_IROUTER; the model delivers an SPI to the lowest CPU in its
//!   mask (the 1-of-N choice the spec leaves to the implementation), and an
//!   empty mask leaves it with vCPU 0;
//! * SGIs are sent by writing GICD_SGIR; GICD_CPENDSGIR/SPENDSGIR clear and
//!   set them. The model does not keep an SGI pending per source CPU (one
//!   latch per SGI per target; reads report source CPU 0 for a pending SGI);
//! * GICD_CTLR has only the two group enables; GICD_TYPER reports the CPU
//!   count.

use super::{bit, reg, Vgic, GICD_CTLR_ENABLE_G0, GICD_CTLR_ENABLE_G1, IIDR, NR_PRIVATE, NR_SPI};
use crate::mmio::AccessWidth;

/// GICv2 distributor registers not shared with the GICv3 layout.
mod v2reg {
    pub const ITARGETSR: u64 = 0x0800;
    pub const SGIR: u64 = 0x0f00;
    pub const CPENDSGIR: u64 = 0x0f10;
    pub const SPENDSGIR: u64 = 0x0f20;
    pub const PIDR2: u64 = 0x0fe8;
}

/// PIDR2.ArchRev = GICv2 (as a GIC-400 reports).
const PIDR2_GICV2: u32 = 0x2b;
/// GICD_SGIR.TargetListFilter values.
const SGIR_FILTER_LIST: u64 = 0;
const SGIR_FILTER_OTHERS: u64 = 1;
const SGIR_FILTER_SELF: u64 = 2;

impl Vgic {
    /// The CPU mask of SPI `n` (0-based among SPIs) as ITARGETSR shows it.
    fn v2_target_mask(&self, n: usize) -> u8 {
        self.v2_targets.get(n).copied().unwrap_or(0)
    }

    /// Which INTIDs a register-file access at `offset` covers are private
    /// (banked), for the shared bit/priority/config registers.
    fn v2_private(offset: u64) -> bool {
        match offset {
            o if (reg::IPRIORITYR..reg::IPRIORITYR + 0x400).contains(&o) => {
                o - reg::IPRIORITYR < u64::from(NR_PRIVATE)
            }
            o if (reg::ICFGR..reg::ICFGR + 0x100).contains(&o) => o - reg::ICFGR < 8,
            o => (o & 0x7f) == 0,
        }
    }

    /// A GICv2 distributor read by `vcpu` at `offset` (from the frame's
    /// base). Reserved and write-only registers read as zero.
    pub fn dist_v2_read(&mut self, vcpu: usize, offset: u64, width: AccessWidth) -> u64 {
        if !self.valid(vcpu) {
            return 0;
        }
        let word = width == AccessWidth::Word;
        match offset {
            reg::CTLR if word => u64::from(self.ctlr & (GICD_CTLR_ENABLE_G0 | GICD_CTLR_ENABLE_G1)),
            reg::GICD_TYPER if word => {
                // ITLinesNumber [4:0], CPUNumber [7:5].
                let lines = (super::SPI_END / 32 - 1) as u64;
                lines | ((self.vcpus as u64 - 1) << 5)
            }
            reg::GICD_IIDR if word => u64::from(IIDR),
            v2reg::PIDR2 if word => u64::from(PIDR2_GICV2),
            o if (v2reg::ITARGETSR..v2reg::ITARGETSR + 0x400).contains(&o) => {
                let first = (o - v2reg::ITARGETSR) as u32;
                let mut v = 0u64;
                for i in 0..width.bytes() as u32 {
                    let intid = first + i;
                    let mask = if intid < NR_PRIVATE {
                        // A CPU reads its own interface's bit (Linux finds
                        // its CPU mask this way).
                        1u8 << vcpu
                    } else {
                        self.v2_target_mask((intid - NR_PRIVATE) as usize)
                    };
                    if intid < super::SPI_END {
                        v |= u64::from(mask) << (8 * i);
                    }
                }
                v
            }
            o if (v2reg::CPENDSGIR..v2reg::SPENDSGIR + 0x10).contains(&o) => {
                // One byte per SGI: which sources have it pending.
                let first = ((o - v2reg::CPENDSGIR) % 0x10) as u32;
                let pending = self.private[vcpu].pending | self.private[vcpu].lr_pending;
                let mut v = 0u64;
                for i in 0..width.bytes() as u32 {
                    let sgi = first + i;
                    if sgi < 16 && pending & bit(sgi) != 0 {
                        v |= 1 << (8 * i);
                    }
                }
                v
            }
            o if o < v2reg::ITARGETSR || (reg::ICFGR..reg::ICFGR + 0x100).contains(&o) => {
                self.irq_regs_read(vcpu, o, width, Self::v2_private(o))
            }
            _ => 0,
        }
    }

    /// A GICv2 distributor write by `vcpu`. Writes to read-only or reserved
    /// registers, and of the wrong width, are ignored.
    pub fn dist_v2_write(&mut self, vcpu: usize, offset: u64, width: AccessWidth, value: u64) {
        if !self.valid(vcpu) {
            return;
        }
        let word = width == AccessWidth::Word;
        match offset {
            reg::CTLR if word => {
                let enables = value as u32 & (GICD_CTLR_ENABLE_G0 | GICD_CTLR_ENABLE_G1);
                self.ctlr = (self.ctlr & !(GICD_CTLR_ENABLE_G0 | GICD_CTLR_ENABLE_G1)) | enables;
                self.dirty |= (1u32 << self.vcpus) - 1;
            }
            v2reg::SGIR if word => self.v2_send_sgi(vcpu, value),
            o if (v2reg::ITARGETSR..v2reg::ITARGETSR + 0x400).contains(&o) => {
                let first = (o - v2reg::ITARGETSR) as u32;
                let cpus = ((1u32 << self.vcpus) - 1) as u8;
                for i in 0..width.bytes() as u32 {
                    let intid = first + i;
                    // The private interrupts' bytes are read-only.
                    let Some(n) = intid.checked_sub(NR_PRIVATE).map(|n| n as usize) else {
                        continue;
                    };
                    if n >= NR_SPI {
                        continue;
                    }
                    let mask = (value >> (8 * i)) as u8 & cpus;
                    self.v2_targets[n] = mask;
                    // The lowest CPU in the mask takes it (Aff0 routing).
                    self.routes[n] = if mask == 0 {
                        0
                    } else {
                        u64::from(mask.trailing_zeros())
                    };
                    // Both the old and the new target must look again.
                    self.mark(0, bit(intid));
                    self.reroute();
                    self.mark(0, bit(intid));
                }
            }
            o if (v2reg::CPENDSGIR..v2reg::SPENDSGIR + 0x10).contains(&o) => {
                let set = o >= v2reg::SPENDSGIR;
                let first = ((o - v2reg::CPENDSGIR) % 0x10) as u32;
                for i in 0..width.bytes() as u32 {
                    let sgi = first + i;
                    if sgi >= 16 || (value >> (8 * i)) & 0xff == 0 {
                        continue;
                    }
                    let base = if set { reg::ISPENDR } else { reg::ICPENDR };
                    self.bits_write(vcpu, 0, base, 1 << sgi);
                }
            }
            o if o < v2reg::ITARGETSR || (reg::ICFGR..reg::ICFGR + 0x100).contains(&o) => {
                self.irq_regs_write(vcpu, o, width, value, Self::v2_private(o));
            }
            _ => {}
        }
    }

    /// GICD_SGIR written by `vcpu`: make SGI `value[3:0]` pending at the
    /// CPUs the filter and list select (4.3.15).
    fn v2_send_sgi(&mut self, vcpu: usize, value: u64) {
        let sgi = (value & 0xf) as u32;
        let list = (value >> 16) & 0xff;
        let targets = match (value >> 24) & 0x3 {
            SGIR_FILTER_LIST => list,
            SGIR_FILTER_OTHERS => 0xff & !(1 << vcpu),
            SGIR_FILTER_SELF => 1 << vcpu,
            _ => 0, // reserved: no effect
        };
        for t in (0..self.vcpus).filter(|&t| targets & (1 << t) != 0) {
            self.pulse(t, sgi);
        }
    }
}

#[cfg(test)]
mod tests;
