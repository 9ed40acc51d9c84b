//! A minimal SMTP server on 127.0.0.1 for the email tests: accepts every login and every
//! message, and keeps the messages.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
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
    listen(move |stream, store| session(stream, logins_accepted, &refusals, store))
}

/// Listens on 127.0.0.1 and serves each connection on a thread of its own with `serve`;
/// returns the port and the messages `serve` keeps.
fn listen(serve: impl Fn(TcpStream, &Received) + Clone + Send + 'static) -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Received = Arc::default();
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (serve, store) = (serve.clone(), store.clone());
            std::thread::spawn(move || serve(stream, &store));
        }
    });
    (port, received)
}

/// One client's SMTP session over `stream`, plain or TLS.
fn session(
    stream: impl Read + Write,
    logins_accepted: bool,
    refusals: &[(String, String)],
    store: &Received,
) {
    let mut r = BufReader::new(stream);
    let say = |r: &mut BufReader<_>, reply: &[u8]| {
        let w: &mut _ = r.get_mut();
        let _ = Write::write_all(w, reply).and_then(|()| Write::flush(w));
    };
    say(&mut r, b"220 test.local ESMTP\r\n");
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
            say(&mut r, b"354 go ahead\r\n");
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
            say(&mut r, b"221 bye\r\n");
            return;
        } else {
            b"250 OK\r\n"
        };
        say(&mut r, reply);
    }
}

/// Points the data folder's settings at the test server.
pub fn mail_settings(dir: &Path, port: u16) {
    std::fs::write(
        dir.join("settings.toml"),
        format!("[email]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Rollcall <attendance@school.example>\"\n"),
    )
    .unwrap();
}

/// A mail server on 127.0.0.1 that speaks TLS from the start (as on port 465), with a
/// certificate from a school's own authority made by openssl in `dir` (no public authority
/// vouches for it); takes every message. Returns the port, the messages, and the
/// authority's certificate (PEM).
pub fn tls_smtp_server(dir: &Path) -> (u16, Received, PathBuf) {
    use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    let authority = super::certificates::school_certificates(dir, "mail.key", "mail.crt");
    let certs = CertificateDer::pem_file_iter(dir.join("mail.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("mail.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let (port, received) = listen(move |stream, store| {
        let connection = rustls::ServerConnection::new(config.clone()).unwrap();
        session(
            rustls::StreamOwned::new(connection, stream),
            true,
            &[],
            store,
        )
    });
    (port, received, authority)
}
