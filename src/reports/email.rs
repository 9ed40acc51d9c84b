//! Attendance reports by email: one message per student with their own figures. The
//! server is checked first (an unreachable server is one clear error); after that a
//! message that fails is listed and the others still go. Every message is logged.

use super::mail_failure::{connection_failure, refusal, STUDENTS_ADDRESS, TEST_ADDRESS};
pub use super::mail_failure::{EmailError, NotSent};
use super::sheet::{percent_text, Sheet};
use crate::settings::{EmailSettings, MailSecurity};
use crate::store::Store;
use crate::wording::{count, long_date};

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use std::io;
use std::path::Path;
use std::time::Duration;

/// One student's report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub student_id: i64,
    pub roll_no: String,
    pub name: String,
    pub email: String,
    pub percent: Option<f64>,
    pub subject: String,
    pub body: String,
}

/// The reports to send over the sheet's days: to everyone in the class who had a class
/// day in them since their enrolment, or only to those under `under` percent. A student
/// gone from the school by the sheet's last day gets none (`SheetRow::gone_by`; until
/// 2026-12-06 a leave could not be recorded ahead, and any last day meant gone).
pub fn reports(sheet: &Sheet, under: Option<f64>, subject: &str) -> Vec<Report> {
    let (from, to) = (long_date(sheet.from), long_date(sheet.to));
    sheet
        .rows
        .iter()
        .filter(|r| {
            !r.gone_by(sheet.to) && r.percent().is_some() && under.is_none_or(|t| r.is_under(t))
        })
        .map(|r| {
            let days = r.present_days + r.absent_days;
            let mut body = format!(
                "Dear {},\n\nFrom {from} to {to} you were present on {} of {}: {} attendance.\n",
                r.name,
                r.present_days,
                count(days, "class day"),
                percent_text(r.percent())
            );
            if let Some(t) = under {
                body.push_str(&format!(
                    "\nThis is below the required {t:.0} %. Please talk to your teacher if something is wrong.\n"
                ));
            }
            body.push_str("\nThis message was sent by Rollcall, the classroom attendance system.\n");
            Report {
                student_id: r.student_id,
                roll_no: r.roll_no.clone(),
                name: r.name.clone(),
                email: r.email.clone(),
                percent: r.percent(),
                subject: subject.to_string(),
                body,
            }
        })
        .collect()
}

/// How many students of `sheet` in the class had no class day in it since their
/// enrolment: a report would tell them nothing ("present on 0 of 0 class days").
pub fn nothing_to_report(sheet: &Sheet) -> usize {
    sheet
        .rows
        .iter()
        .filter(|r| !r.gone_by(sheet.to) && r.percent().is_none())
        .count()
}

/// How many students of `sheet` would have been sent a report (a class day in it, under
/// `under` percent if given) but left the school: they are sent none.
pub fn left_the_school(sheet: &Sheet, under: Option<f64>) -> usize {
    sheet
        .rows
        .iter()
        .filter(|r| {
            r.gone_by(sheet.to) && r.percent().is_some() && under.is_none_or(|t| r.is_under(t))
        })
        .count()
}

/// What a send did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SendSummary {
    pub sent: Vec<String>,
    pub failed: Vec<NotSent>,
}

impl SendSummary {
    /// "Sent 4 of 6 messages.", or "Sent 6 messages." when none failed.
    pub fn sent_text(&self) -> String {
        match self.failed.len() {
            0 => format!("Sent {}.", count(self.sent.len(), "message")),
            failed => format!(
                "Sent {} of {}.",
                self.sent.len(),
                count(self.sent.len() + failed, "message")
            ),
        }
    }
}

/// The connection to the mail server of `s`, with its TLS trusting the public authorities
/// and the school's own (`ca_file`).
fn transport(s: &EmailSettings) -> Result<SmtpTransport, EmailError> {
    let tls = |wrap: fn(TlsParameters) -> Tls| -> Result<Tls, EmailError> {
        let mut parameters = TlsParameters::builder(s.host.clone());
        if !s.ca_file.trim().is_empty() {
            for certificate in authority_certificates(Path::new(s.ca_file.trim()))? {
                parameters = parameters.add_root_certificate(certificate);
            }
        }
        let parameters = parameters
            .build_rustls()
            .map_err(|e| connection_failure(s, &e))?;
        Ok(wrap(parameters))
    };
    let mut builder = SmtpTransport::builder_dangerous(&s.host)
        .port(s.port)
        .timeout(Some(Duration::from_secs(s.timeout_secs.max(1))));
    builder = match s.security {
        MailSecurity::None => builder,
        MailSecurity::Starttls => builder.tls(tls(Tls::Required)?),
        MailSecurity::Tls => builder.tls(tls(Tls::Wrapper)?),
    };
    if !s.user.is_empty() {
        builder = builder.credentials(Credentials::new(s.user.clone(), s.password.clone()));
    }
    Ok(builder.build())
}

/// The certificates in a certificate authority's file (PEM), or why it cannot be used.
pub fn authority_certificates(path: &Path) -> Result<Vec<Certificate>, EmailError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let unusable = |reason: &str| EmailError::AuthorityFile {
        file: path.display().to_string(),
        reason: reason.to_string(),
    };
    let pem = std::fs::read(path).map_err(|e| {
        unusable(&match e.kind() {
            io::ErrorKind::NotFound => "there is no such file".to_string(),
            io::ErrorKind::PermissionDenied => "this computer's user may not read it".into(),
            io::ErrorKind::IsADirectory => "it is a folder, not a file".into(),
            _ => format!("it cannot be read ({e})"),
        })
    })?;
    let not_pem = "it holds no certificate (a certificate authority's file has a line \
                   \"-----BEGIN CERTIFICATE-----\")";
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| unusable(not_pem))?;
    if certificates.is_empty() {
        return Err(unusable(not_pem));
    }
    let mut anchors = rustls::RootCertStore::empty();
    certificates
        .into_iter()
        .map(|der| {
            anchors
                .add(der.clone())
                .map_err(|_| unusable("a certificate in it is damaged"))?;
            Certificate::from_der(der.to_vec())
                .map_err(|_| unusable("a certificate in it is damaged"))
        })
        .collect()
}

/// Whether a mail server is set up at all (known before anything is sent).
pub fn set_up(settings: &EmailSettings) -> Result<(), EmailError> {
    if settings.host.trim().is_empty() {
        Err(EmailError::NotConfigured)
    } else {
        Ok(())
    }
}

/// What to say when a run has nobody to email: everyone, or those under `under` percent.
pub fn nobody_to_email(under: Option<f64>) -> String {
    match under {
        Some(t) => format!("Nobody is under {t:.0} % in this range: there is no one to email."),
        None => "Nobody to email: no student had a class day in this range since they were \
                 enrolled."
            .into(),
    }
}

/// A connection to the mail server that answered, and the sender.
fn connect(settings: &EmailSettings) -> Result<(SmtpTransport, Mailbox), EmailError> {
    set_up(settings)?;
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|_| EmailError::BadSender(settings.from.clone()))?;
    let mailer = transport(settings)?;
    match mailer.test_connection() {
        Ok(true) => Ok((mailer, from)),
        Ok(false) => Err(EmailError::Unreachable {
            server: format!("{}:{}", settings.host, settings.port),
            reason: "it did not answer".into(),
        }),
        Err(e) => Err(connection_failure(settings, &e)),
    }
}

/// Sends one short message to `to`, so an admin can see the settings work.
pub fn send_test(settings: &EmailSettings, to: &str, room: &str) -> Result<(), EmailError> {
    let recipient: Mailbox = to
        .trim()
        .parse()
        .map_err(|_| EmailError::BadRecipient(to.trim().to_string()))?;
    let (mailer, from) = connect(settings)?;
    let message = Message::builder()
        .from(from)
        .to(recipient)
        .subject(format!("Rollcall test email ({room})"))
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "This is a test from the Rollcall kiosk in {room}.\n\nIf you can read it, \
             attendance reports will reach students with these email settings.\n"
        ))
        .map_err(|e| EmailError::NotSent(e.to_string()))?;
    mailer
        .send(&message)
        .map(|_| ())
        .map_err(|e| EmailError::NotSent(refusal(&e, TEST_ADDRESS)))
}

/// Sends the reports; `progress(done, total)` after each. Each message goes to the email log.
pub fn send(
    settings: &EmailSettings,
    reports: &[Report],
    store: &mut Store,
    mut progress: impl FnMut(usize, usize),
) -> Result<SendSummary, EmailError> {
    let (mailer, from) = connect(settings)?;
    let mut summary = SendSummary::default();
    for (i, r) in reports.iter().enumerate() {
        let result = r
            .email
            .parse::<Mailbox>()
            .map_err(|_| {
                "it is not a valid email address: correct it in Admin → Students".to_string()
            })
            .and_then(|to| {
                Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(r.subject.clone())
                    .header(ContentType::TEXT_PLAIN)
                    .body(r.body.clone())
                    .map_err(|e| e.to_string())
            })
            .and_then(|m| {
                mailer
                    .send(&m)
                    .map(|_| ())
                    .map_err(|e| refusal(&e, STUDENTS_ADDRESS))
            });
        if let Err(e) = store.log_email(
            &r.email,
            &r.subject,
            result.as_ref().err().map(String::as_str),
        ) {
            tracing::warn!("could not log an email: {e}");
        }
        match result {
            Ok(()) => summary.sent.push(r.email.clone()),
            Err(reason) => summary.failed.push(NotSent {
                student_id: r.student_id,
                roll_no: r.roll_no.clone(),
                name: r.name.clone(),
                email: r.email.clone(),
                reason,
            }),
        }
        progress(i + 1, reports.len());
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::SheetRow;
    use chrono::NaiveDate;

    fn sheet(from: NaiveDate, to: NaiveDate) -> Sheet {
        Sheet {
            from,
            to,
            days: vec![from],
            rows: vec![SheetRow {
                student_id: 1,
                roll_no: "CS005".into(),
                name: "Emi Sato".into(),
                email: "emi@example.org".into(),
                present: vec![false],
                by_hand: vec![false],
                counted: vec![true],
                enrolled_on: None,
                last_day: None,
                away_days: 0,
                present_days: 0,
                absent_days: 1,
            }],
            per_day: vec![0],
            doors: Vec::new(),
            door: None,
            by_hand_off_class_days: Vec::new(),
        }
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn a_report_tells_the_days_it_counts_and_the_bar_missed() {
        let counted = sheet(day(12, 1), day(12, 2));
        let body = &reports(&counted, Some(85.0), "s")[0].body;
        assert!(
            body.contains(
                "From 1 December 2026 to 2 December 2026 you were present on 0 of 1 class day: \
                 0 % attendance."
            ) && body.contains("below the required 85 %"),
            "{body}"
        );
        assert!(!reports(&counted, None, "s")[0].body.contains("required"));
    }

    #[test]
    fn a_student_with_no_class_day_since_their_enrolment_gets_no_report() {
        let mut sheet = sheet(day(12, 1), day(12, 2));
        let mut newcomer = sheet.rows[0].clone();
        newcomer.roll_no = "CS006".into();
        newcomer.counted = vec![false];
        newcomer.absent_days = 0;
        sheet.rows.push(newcomer);
        let to: Vec<String> = reports(&sheet, None, "s")
            .into_iter()
            .map(|r| r.roll_no)
            .collect();
        assert_eq!(to, ["CS005"], "not \"present on 0 of 0 class days\"");
        assert_eq!(nothing_to_report(&sheet), 1);
    }

    #[test]
    fn a_student_who_left_the_school_gets_no_report() {
        let mut sheet = sheet(day(12, 1), day(12, 2));
        let mut gone = sheet.rows[0].clone();
        gone.roll_no = "CS007".into();
        gone.last_day = Some(day(12, 1));
        sheet.rows.push(gone);
        for under in [None, Some(85.0)] {
            let to: Vec<String> = reports(&sheet, under, "s")
                .into_iter()
                .map(|r| r.roll_no)
                .collect();
            assert_eq!(to, ["CS005"]);
            assert_eq!(left_the_school(&sheet, under), 1);
        }
        // Counted among those who left only when a report would have gone to them.
        assert_eq!(left_the_school(&sheet, Some(0.0)), 0);
        assert_eq!(nothing_to_report(&sheet), 0);
        // A leave ahead, on the sheet's last day or after: still in the class, reported.
        for last_day in [day(12, 2), day(12, 9)] {
            sheet.rows[1].last_day = Some(last_day);
            let to: Vec<String> = reports(&sheet, None, "s")
                .into_iter()
                .map(|r| r.roll_no)
                .collect();
            assert_eq!(to, ["CS005", "CS007"]);
            assert_eq!(left_the_school(&sheet, None), 0);
        }
    }
}
