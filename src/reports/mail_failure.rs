//! What went wrong with the mail server, in the words of the admin who set it up: which
//! setting to look at (the server's name, its port, Security, the login, a student's
//! address) rather than the mail library's own ("internal client error", "os error 111").

use crate::settings::{EmailSettings, MailSecurity};
use crate::wording::count;
use lettre::transport::smtp::Error as SmtpError;
use rustls::CertificateError;
use std::error::Error as _;
use std::io;
use std::net::ToSocketAddrs;

/// The mail server could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("The mail server \"{0}\" could not be found. Check its name in Admin → Email settings, and that this computer is on the school's network.")]
    UnknownServer(String),
    #[error("The mail server {0} refused the connection: nothing takes mail on that port. Check the port in Admin → Email settings (usually 587 with STARTTLS, 465 with TLS, 25 with None).")]
    NothingListening(String),
    #[error("Nothing answered at {server} within {}. Check the mail server's name and port in Admin → Email settings, and ask the school's IT whether this computer may reach it.", count(*.secs, "second"))]
    NoConnection { server: String, secs: u64 },
    #[error("The mail server {server} took the connection but said nothing within {}.{tls_hint} Check the port and Security in Admin → Email settings.", count(*.secs, "second"))]
    Silent {
        server: String,
        secs: u64,
        tls_hint: &'static str,
    },
    #[error("The mail server {0} does not offer STARTTLS. Under Security in Admin → Email settings, choose TLS if the school's IT gave a port for it (often 465), or None if the server takes mail without encryption on the school's own network.")]
    NoStarttls(String),
    #[error("The mail server {0} does not use TLS on this port: it answered without encryption. Under Security in Admin → Email settings, choose STARTTLS (often port 587) or None.")]
    NotTls(String),
    #[error(
        "This computer does not trust the mail server {server}: its certificate {why}. {advice}"
    )]
    Untrusted {
        server: String,
        why: String,
        advice: &'static str,
    },
    #[error("The certificate authority file {file} (Admin → Email settings) cannot be used: {reason}. Ask the school's IT for their certificate authority's file (PEM), or empty the field if the mail server's certificate is from a public authority.")]
    AuthorityFile { file: String, reason: String },
    #[error("Cannot reach the mail server {server} ({reason}). Check the email settings and the network.")]
    Unreachable { server: String, reason: String },
    #[error("The mail server {0} offers no way to log in over this connection. Choose STARTTLS or TLS under Security, or leave the user name empty if the server needs no login.")]
    NoLogin(String),
    #[error("The mail server {0} did not accept the user name and password. Check them in Admin → Email settings.")]
    LoginRefused(String),
    #[error("The sender address \"{0}\" in the email settings is not valid.")]
    BadSender(String),
    #[error("\"{0}\" is not a valid email address.")]
    BadRecipient(String),
    #[error("The test message was not sent: {0}.")]
    NotSent(String),
    #[error("Email is not set up yet: enter the mail server in Admin → Email settings (or set [email] host in settings.toml).")]
    NotConfigured,
}

/// A student's report that did not go, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct NotSent {
    pub student_id: i64,
    pub roll_no: String,
    pub name: String,
    pub email: String,
    /// Why, worded for the admin (see [`refusal`]).
    pub reason: String,
}

impl std::fmt::Display for NotSent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Not sent to {} ({}) at {}: {}.",
            self.name, self.roll_no, self.email, self.reason
        )
    }
}

/// Why connecting to (or logging in at) the mail server of `settings` failed.
pub(super) fn connection_failure(settings: &EmailSettings, e: &SmtpError) -> EmailError {
    let server = format!("{}:{}", settings.host, settings.port);
    let secs = settings.timeout_secs.max(1);
    let text = e.to_string();
    if let Some(tls) = tls_error(e) {
        return match tls {
            rustls::Error::InvalidCertificate(c) => untrusted(settings, server, c),
            // Plain SMTP ("220 …") read as a TLS record.
            rustls::Error::InvalidMessage(_) => EmailError::NotTls(server),
            other => EmailError::Unreachable {
                server,
                reason: format!("the secure connection failed: {other}"),
            },
        };
    }
    // 530 authentication required, 534 mechanism too weak, 535 credentials invalid.
    let code = e.status().map(u16::from);
    if e.is_client() && text.contains("STARTTLS is not supported") {
        return EmailError::NoStarttls(server);
    }
    if e.is_client() && text.contains("authentication mechanism") {
        return EmailError::NoLogin(server);
    }
    if matches!(code, Some(530 | 534 | 535)) {
        return EmailError::LoginRefused(server);
    }
    match io_error(e).map(io::Error::kind) {
        Some(io::ErrorKind::ConnectionRefused) => return EmailError::NothingListening(server),
        // Connecting timed out: nothing there, or a firewall between.
        Some(io::ErrorKind::TimedOut) => return EmailError::NoConnection { server, secs },
        // Connected, then no greeting within the timeout (a read timing out).
        Some(io::ErrorKind::WouldBlock) => {
            return EmailError::Silent {
                server,
                secs,
                tls_hint: match settings.security {
                    MailSecurity::Tls => "",
                    _ => {
                        " A server that waits for TLS (often on port 465) does that: if \
                         the school's IT gave this port for TLS, choose TLS under Security."
                    }
                },
            }
        }
        _ => {}
    }
    let resolves = (settings.host.as_str(), settings.port)
        .to_socket_addrs()
        .is_ok_and(|mut addresses| addresses.next().is_some());
    if !resolves {
        return EmailError::UnknownServer(settings.host.clone());
    }
    EmailError::Unreachable {
        server,
        reason: text,
    }
}

/// Where to put right the address of a message the mail server refused for it.
pub(super) const STUDENTS_ADDRESS: &str = "check the student's email in Admin → Students";
/// The same, for the test message of Admin → Email settings.
pub(super) const TEST_ADDRESS: &str = "check the address the test was sent to";

/// Why the mail server did not take one message, for the admin: what the server said and
/// what to do about it (the address — `check_address` says where —, the login, or
/// simply later).
pub(super) fn refusal(e: &SmtpError, check_address: &str) -> String {
    let said = e.source().map(|s| s.to_string()).unwrap_or_default();
    let Some(code) = e.status().map(u16::from) else {
        return match io_error(e).map(io::Error::kind) {
            Some(io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                "the mail server stopped answering while it was sent: send it again later".into()
            }
            Some(_) => "the connection to the mail server broke off while it was sent: send \
                        it again later"
                .into(),
            None if e.to_string().contains("SMTPUTF8") => {
                "the mail server cannot take an address with letters beyond plain ASCII \
                 (it does not support SMTPUTF8)"
                    .into()
            }
            None => format!("it could not be sent ({e})"),
        };
    };
    let words = format!("\"{code} {}\"", said.trim());
    // The enhanced status code's subject (RFC 3463): 1 addressing, 7 security or policy.
    let subject = said
        .split_whitespace()
        .next()
        .map(|first| first.split('.').collect::<Vec<_>>())
        .filter(|parts| parts.len() == 3 && parts.iter().all(|p| p.parse::<u16>().is_ok()))
        .and_then(|parts| parts[1].parse::<u16>().ok());
    match (code, subject) {
        (400..=499, _) => {
            format!("the mail server could not take it just now ({words}): send it again later")
        }
        (_, Some(1)) | (551 | 553, None) => {
            format!(
                "the mail server does not take mail for this address ({words}): {check_address}"
            )
        }
        (_, Some(7)) => format!(
            "the mail server would not send it on ({words}): it may need a user name and \
             password, or a sender address of the school's own (Admin → Email settings); \
             ask the school's IT"
        ),
        _ => format!("the mail server refused it ({words})"),
    }
}

/// The I/O error under a mail error, if it has one.
fn io_error(e: &SmtpError) -> Option<&io::Error> {
    e.source()?.downcast_ref::<io::Error>()
}

/// The TLS error under a mail error: rustls's, inside the connection's I/O error.
fn tls_error(e: &SmtpError) -> Option<&rustls::Error> {
    let source = e.source()?;
    source.downcast_ref::<rustls::Error>().or_else(|| {
        source
            .downcast_ref::<io::Error>()?
            .get_ref()?
            .downcast_ref::<rustls::Error>()
    })
}

/// Why this computer does not trust the mail server's certificate, and what to do: the
/// name the certificate is made out for, the clock, or the school's own certificate
/// authority (`ca_file`, when the school signs its certificates itself).
fn untrusted(settings: &EmailSettings, server: String, e: &CertificateError) -> EmailError {
    let ask_it = "Ask the school's IT about the mail server's certificate.";
    let clock = "Check this computer's date and time; if they are right, the school's IT \
                 must renew the mail server's certificate.";
    let (why, advice) = match e {
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
            "is made out for another name".to_string(),
            "Ask the school's IT for the server's name as its certificate gives it, and \
             enter that name in Admin → Email settings.",
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
            "has expired (or this computer's clock is wrong)".into(),
            clock,
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
            "is not valid yet (or this computer's clock is wrong)".into(),
            clock,
        ),
        CertificateError::UnknownIssuer if settings.ca_file.trim().is_empty() => (
            "is not signed by an authority this computer knows (it may be self-signed)".into(),
            "If the school signs its mail server's certificate itself, ask its IT for their \
             certificate authority's file (PEM) and choose it under CA certificate in \
             Admin → Email settings.",
        ),
        // A signature that does not check against an authority of the same name: the
        // file is another authority's (an old one, renewed with a new key).
        CertificateError::UnknownIssuer | CertificateError::BadSignature
            if !settings.ca_file.trim().is_empty() =>
        {
            (
                format!(
                    "is signed neither by an authority this computer knows nor by the one in {}",
                    settings.ca_file.trim()
                ),
                "Ask the school's IT which certificate authority signed it, and choose that \
             authority's file under CA certificate in Admin → Email settings.",
            )
        }
        CertificateError::Revoked => ("has been revoked".into(), ask_it),
        _ => (
            "is not one it can accept (it may be self-signed)".into(),
            ask_it,
        ),
    };
    EmailError::Untrusted {
        server,
        why,
        advice,
    }
}
