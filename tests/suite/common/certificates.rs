//! Certificates for the TLS tests (the school server's, the mail server's), made by
//! openssl.

use std::path::{Path, PathBuf};

/// Runs `openssl` with `args` in `dir` (certificates for the TLS tests); it must succeed.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A school's own certificate authority and a server certificate for 127.0.0.1 signed by
/// it, made by openssl in `dir`: the server's key and certificate go to `key` and `crt`
/// (relative to `dir`); returns the authority's certificate (PEM).
pub fn school_certificates(dir: &Path, key: &str, crt: &str) -> PathBuf {
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=Test School CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            crt,
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    dir.join("ca.crt")
}
