//! A minimal SMTP server on 127.0.0.1 for the email tests: accepts every login and every
//! message, and keeps the messages.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A message received by the test server: (recipients, text).
pub type Received = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server on 127.0.0.1: accepts every login and message, and keeps them.
pub fn smtp_server() -> (u16, Received) {
    smtp_server_with(true)
}

/// A minimal SMTP server on 127.0.0.1 that accepts logins or refuses every one (535).
pub fn smtp_server_with(logins_accepted: bool) -> (u16, Received) {
    smtp_server_refusing(logins_accepted, &[])
}

/// A minimal SMTP server on 127.0.0.1 that answers `RCPT TO` for each listed address with
/// its reply (e.g. "550 5.1.1 User unknown") and takes every other message.
pub fn smtp_server_refusing(logins_accepted: bool, refusals: &[(&str, &str)]) -> (u16, Received) {
    let refusals: Vec<(String, String)> = refusals
        .iter()
        .map(|(to, reply)| (to.to_string(), format!("{reply}\r\n")))
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Received = Arc::default();
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (store, refusals) = (store.clone(), refusals.clone());
            std::thread::spawn(move || {
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                let _ = w.write_all(b"220 test.local ESMTP\r\n");
                let (mut rcpts, mut line) = (Vec::new(), String::new());
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-test.local\r\n250 AUTH PLAIN\r\n"
                    } else if cmd.starts_with("HELO") {
                        b"250 test.local\r\n"
                    } else if cmd.starts_with("AUTH PLAIN") && logins_accepted {
                        b"235 2.7.0 Authentication successful\r\n"
                    } else if cmd.starts_with("AUTH PLAIN") {
                        b"535 5.7.8 Authentication credentials invalid\r\n"
                    } else if cmd.starts_with("RCPT TO:") {
                        let to = line.trim_end()[8..]
                            .trim_matches(|c| c == '<' || c == '>' || c == ' ')
                            .to_string();
                        match refusals.iter().find(|(refused, _)| *refused == to) {
                            Some((_, reply)) => reply.as_bytes(),
                            None => {
                                rcpts.push(to);
                                b"250 OK\r\n"
                            }
                        }
                    } else if cmd == "DATA" {
                        let _ = w.write_all(b"354 go ahead\r\n");
                        let mut text = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                                break;
                            }
                            text.push_str(&line);
                        }
                        store
                            .lock()
                            .unwrap()
                            .push((std::mem::take(&mut rcpts), text.replace("=\r\n", "")));
                        b"250 queued\r\n"
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = w.write_all(reply);
                }
            });
        }
    });
    (port, received)
}

/// Points the data folder's settings at the test server.
pub fn mail_settings(dir: &Path, port: u16) {
    std::fs::write(
        dir.join("settings.toml"),
        format!("[email]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Rollcall <attendance@school.example>\"\n"),
    )
    .unwrap();
}

/// A mail server on 127.0.0.1 that speaks TLS from the start with a self-signed
/// certificate made by openssl in `dir` (no authority vouches for it).
pub fn self_signed_tls_server(dir: &Path) -> u16 {
    use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    super::openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
            "mail.key",
            "-out",
            "mail.crt",
        ],
    );
    let (cert, key) = (dir.join("mail.crt"), dir.join("mail.key"));
    let certs = CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, PrivateKeyDer::from_pem_file(&key).unwrap())
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let connection = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(connection, stream);
            // The greeting goes once the client trusts the certificate: it never does.
            let _ = tls.write_all(b"220 mail.school.example ESMTP\r\n");
        }
    });
    port
}
