//! ezm-loadgen binary (being written).
fn main() {}
