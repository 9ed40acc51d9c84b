//! Tests of the evaluation tools, as one binary.

mod common;

mod bench;
mod eval;
mod liveness;
mod school_bench;

/// The main suite's certificates for the school server's TLS.
#[allow(dead_code)]
#[path = "../../../tests/suite/common/certificates.rs"]
mod certificates;

/// The main suite's PostgreSQL server for one test (not every helper is used here).
#[allow(dead_code)]
#[path = "../../../tests/suite/common/postgres.rs"]
mod school_server;
