//! Tests of the hostile-guest rules (named after them) and property tests.

mod blk;
mod budget;
mod concurrency;
mod mmio;
mod prop;
mod queue;
