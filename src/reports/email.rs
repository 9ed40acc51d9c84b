//! Attendance reports by email: one message per student with their own figures. The
//! server is checked first (an unreachable server is one clear error); after that a
//! message that fails is listed and the others still go. Every message is logged.

use super::sheet::{percent_text, Sheet};
use crate::settings::{EmailSettings, MailSecurity};
use crate::store::Store;
use crate::wording::{count, long_date};

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// One student's report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
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

/// The mail server could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("Cannot reach the mail server {host}:{port} ({reason}). Check the email settings and the network.")]
    Unreachable {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("The mail server {0} offers no way to log in over this connection. Choose STARTTLS or TLS under Security, or leave the user name empty if the server needs no login.")]
    NoLogin(String),
    #[error("The mail server {0} did not accept the user name and password. Check them in Admin → Email settings.")]
    LoginRefused(String),
    #[error("The sender address \"{0}\" in the email settings is not valid.")]
    BadSender(String),
    #[error("\"{0}\" is not a valid email address.")]
    BadRecipient(String),
    #[error("The mail server refused the message: {0}")]
    Refused(String),
    #[error("Email is not set up yet: enter the mail server in Admin → Email settings (or set [email] host in settings.toml).")]
    NotConfigured,
}

/// What a send did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SendSummary {
    pub sent: Vec<String>,
    /// (recipient, reason)
    pub failed: Vec<(String, String)>,
}

fn transport(s: &EmailSettings) -> Result<SmtpTransport, lettre::transport::smtp::Error> {
    let builder = match s.security {
        MailSecurity::None => SmtpTransport::builder_dangerous(&s.host),
        MailSecurity::Starttls => SmtpTransport::starttls_relay(&s.host)?,
        MailSecurity::Tls => SmtpTransport::relay(&s.host)?,
    };
    let mut builder = builder
        .port(s.port)
        .timeout(Some(Duration::from_secs(s.timeout_secs.max(1))));
    if !s.user.is_empty() {
        builder = builder.credentials(Credentials::new(s.user.clone(), s.password.clone()));
    }
    Ok(builder.build())
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
    let unreachable = |reason: String| EmailError::Unreachable {
        host: settings.host.clone(),
        port: settings.port,
        reason,
    };
    set_up(settings)?;
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|_| EmailError::BadSender(settings.from.clone()))?;
    let mailer = transport(settings).map_err(|e| unreachable(e.to_string()))?;
    match mailer.test_connection() {
        Ok(true) => Ok((mailer, from)),
        Ok(false) => Err(unreachable("the server did not answer".into())),
        Err(e) => Err(connection_error(settings, e)),
    }
}

/// What went wrong while connecting, in the admin's terms: logging in, or reaching it.
fn connection_error(settings: &EmailSettings, e: lettre::transport::smtp::Error) -> EmailError {
    let server = format!("{}:{}", settings.host, settings.port);
    let text = e.to_string();
    // 530 authentication required, 534 mechanism too weak, 535 credentials invalid.
    let code = e.status().map(u16::from);
    if e.is_client() && text.contains("authentication mechanism") {
        EmailError::NoLogin(server)
    } else if matches!(code, Some(530 | 534 | 535)) {
        EmailError::LoginRefused(server)
    } else {
        EmailError::Unreachable {
            host: settings.host.clone(),
            port: settings.port,
            reason: text,
        }
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
        .map_err(|e| EmailError::Refused(e.to_string()))?;
    mailer
        .send(&message)
        .map(|_| ())
        .map_err(|e| EmailError::Refused(e.to_string()))
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
            .map_err(|_| "not a valid email address".to_string())
            .and_then(|to| {
                Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(r.subject.clone())
                    .header(ContentType::TEXT_PLAIN)
                    .body(r.body.clone())
                    .map_err(|e| e.to_string())
            })
            .and_then(|m| mailer.send(&m).map(|_| ()).map_err(|e| e.to_string()));
        if let Err(e) = store.log_email(
            &r.email,
            &r.subject,
            result.as_ref().err().map(String::as_str),
        ) {
            tracing::warn!("could not log an email: {e}");
        }
        match result {
            Ok(()) => summary.sent.push(r.email.clone()),
            Err(e) => summary.failed.push((r.email.clone(), e)),
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
