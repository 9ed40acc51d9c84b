//! Tests of the evaluation tools, as one binary.

mod common;

mod bench;
mod eval;
mod liveness;
