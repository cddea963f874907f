//! A guest that counts its boots on its disk: the first boot records itself
//! and asks for a reset (PSCI SYSTEM_RESET); the second checks that it came
//! back as from a real reset and powers off.
//!
//! What a reset must give it: the disk as it was left (the count is there),
//! and its own image placed again (a variable the first boot changed has
//! its initial value). Plain QEMU without `-no-reboot` resets the machine
//! the same way, which makes it the reference.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("guest-reboot is an AArch64 guest image; `cargo xtask test` builds and boots it");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use core::sync::atomic::{AtomicU64, Ordering};
    use guest_default::println;
    use guest_default::rt::disks::probe;
    use guest_default::rt::psci;
    use virtio_drivers::device::blk::SECTOR_SIZE;

    /// What sector 0 starts with once a boot was recorded.
    const MAGIC: &[u8; 8] = b"HVBOOTS\0";
    /// Initial value of a variable in the image's data; the first boot
    /// changes it before the reset.
    const PRISTINE: u64 = 0x5eed_0fb0_07ed;
    static IMAGE_DATA: AtomicU64 = AtomicU64::new(PRISTINE);

    fn verdict(ok: bool) -> ! {
        if ok {
            println!("PASS");
            psci::system_off()
        } else {
            println!("FAIL");
            // A reset would boot a third time: the count says FAIL again.
            psci::system_reset()
        }
    }

    #[no_mangle]
    extern "C" fn guest_main(_dtb: usize) -> ! {
        println!("guest-reboot: hello from EL1");
        let (Some(mut disk), _) = probe() else {
            println!("test a writable disk is there: FAIL");
            verdict(false)
        };
        let mut sector = [0u8; SECTOR_SIZE];
        if disk.read_blocks(0, &mut sector).is_err() {
            println!("test read the boot count: FAIL");
            verdict(false)
        }
        let boots = if sector.starts_with(MAGIC) {
            u64::from_le_bytes(sector[8..16].try_into().unwrap_or_default())
        } else {
            0
        };
        let this_boot = boots + 1;
        println!("guest-reboot: boot {this_boot}");
        sector[..8].copy_from_slice(MAGIC);
        sector[8..16].copy_from_slice(&this_boot.to_le_bytes());
        if disk.write_blocks(0, &sector).is_err() || disk.flush().is_err() {
            println!("test record the boot on the disk: FAIL");
            verdict(false)
        }
        match this_boot {
            1 => {
                IMAGE_DATA.store(!PRISTINE, Ordering::SeqCst);
                println!("guest-reboot: asking for a reset");
                psci::system_reset()
            }
            2 => {
                println!("test the disk kept the first boot's count: ok");
                let pristine = IMAGE_DATA.load(Ordering::SeqCst) == PRISTINE;
                println!(
                    "test the image was placed again: {}",
                    if pristine { "ok" } else { "FAIL" }
                );
                verdict(pristine)
            }
            n => {
                println!("test exactly one reset: FAIL (boot {n})");
                verdict(false)
            }
        }
    }
}
