//! Links the guest at 1 MiB (see guest.ld), where PVH loaders put it.

fn main() {
    if std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-none") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this");
        println!("cargo:rerun-if-changed={dir}/guest.ld");
        println!("cargo:rustc-link-arg-bins=-T{dir}/guest.ld");
    }
}
