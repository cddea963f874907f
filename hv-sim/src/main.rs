//! `hv-sim` command line.

fn main() {
    println!("hv-sim: nothing to run yet");
}
