//! Links the guest at its fixed address (see guest.ld).

fn main() {
    if std::env::var("TARGET").as_deref() == Ok("aarch64-unknown-none") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this");
        println!("cargo:rerun-if-changed={dir}/guest.ld");
        println!("cargo:rustc-link-arg-bins=-T{dir}/guest.ld");
    }
}
