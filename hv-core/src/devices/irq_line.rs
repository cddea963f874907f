//! A device's interrupt output as the guest's interrupt controller sees it,
//! the same in every home: an edge-triggered line (virtio-mmio) makes its
//! SPI pending on a rising edge; a level-triggered line (the PL011) passes
//! its level on.

use super::gicv3::Vgic;
use crate::GuestAddress;

/// One device's line to the vGIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqLine {
    /// Where the device's registers are (identifies the device on the bus).
    pub base: GuestAddress,
    /// The SPI it drives.
    pub intid: u32,
    /// Edge-triggered rather than level-sensitive.
    pub edge: bool,
    /// Level seen last time, to find rising edges.
    last: bool,
}

impl IrqLine {
    /// A line, low.
    pub fn new(base: GuestAddress, intid: u32, edge: bool) -> Self {
        IrqLine {
            base,
            intid,
            edge,
            last: false,
        }
    }

    /// The device's output is now `level`: tell the vGIC what that means
    /// for the SPI (routed to whichever vCPU the guest chose).
    pub fn update(&mut self, vgic: &mut Vgic, level: bool) {
        let target = vgic.spi_target(self.intid);
        if self.edge {
            if level && !self.last {
                vgic.pulse(target, self.intid);
            }
        } else {
            vgic.set_level(target, self.intid, level);
        }
        self.last = level;
    }

    /// Back to low without telling anyone (the device was reset).
    pub fn reset(&mut self) {
        self.last = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmio::AccessWidth::Word;

    /// A GIC with group 1 on and SPIs 33 and 48 enabled, in group 1.
    fn gic() -> Vgic {
        let mut v = Vgic::new(1);
        v.dist_write(0x0, Word, 0x2);
        v.dist_write(0x84, Word, u64::from(u32::MAX)); // IGROUPR1
        v.dist_write(0x104, Word, (1 << 1) | (1 << 16)); // ISENABLER1: 33, 48
        v.dist_write(0xc0c, Word, 0b10); // ICFGR3: 48 edge
        v
    }

    #[test]
    fn an_edge_line_pulses_once_per_rising_edge() {
        let mut v = gic();
        let mut line = IrqLine::new(GuestAddress(0x0a00_0000), 48, true);
        line.update(&mut v, true);
        assert!(v.has_pending(0));
        assert_eq!(v.take_pending(0, 4).len(), 1);
        v.lr_drained(0, 48);
        line.update(&mut v, true);
        assert!(!v.has_pending(0), "still high: no new edge");
        line.update(&mut v, false);
        line.update(&mut v, true);
        assert!(v.has_pending(0), "low then high: a new edge");
        line.reset();
        assert!(!line.last);
    }

    #[test]
    fn a_level_line_follows_its_level() {
        let mut v = gic();
        let mut line = IrqLine::new(GuestAddress(0x0900_0000), 33, false);
        line.update(&mut v, true);
        assert!(v.has_pending(0));
        line.update(&mut v, false);
        assert!(!v.has_pending(0));
    }
}
