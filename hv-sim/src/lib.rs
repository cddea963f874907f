//! hv-sim: the hv core running on a host OS, with an emulated guest machine.
