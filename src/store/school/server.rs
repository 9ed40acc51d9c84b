//! The school server's side of the link (PostgreSQL): its schema, and the SQL that takes a
//! door's rows and gives back everything that changed since a door last asked.

use super::rows::{Change, FetchContext, LastSeen, SharedRow};
use crate::store::stored_day;
use postgres::error::SqlState;
use postgres::{Client, NoTls, Transaction};
use std::path::Path;
use std::time::Duration;

/// Schema migrations of the school server, applied in order. Each also runs over what a
/// later version added beside the tables (`CREATE OR REPLACE`, `IF NOT EXISTS`): a server
/// put back in place from a backup made before an upgrade keeps those.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../db/postgres/0001_school.sql"),
    include_str!("../../../db/postgres/0002_absent_by_hand.sql"),
    include_str!("../../../db/postgres/0003_server_life.sql"),
    include_str!("../../../db/postgres/0004_decision_by_hand_stays.sql"),
    include_str!("../../../db/postgres/0005_deletions_recorded_by_the_server.sql"),
    include_str!("../../../db/postgres/0006_changes_numbered_by_the_server.sql"),
    include_str!("../../../db/postgres/0007_truncation_recorded_by_the_server.sql"),
    include_str!("../../../db/postgres/0008_student_last_day.sql"),
    include_str!("../../../db/postgres/0009_student_away.sql"),
];

/// Writers take this advisory lock, so change numbers become visible in order (the
/// server's own numbering trigger takes it too, for a change made by hand: schema 6).
const WRITE_LOCK: i64 = 0x526f_6c6c_6361_6c6c; // "Rollcall"

/// The channel doors listen on for "something changed".
pub const CHANNEL: &str = "rollcall_changes";

/// A failure talking to the school server, worded for an admin.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("The school server cannot be reached ({0}).")]
    Unreachable(String),
    #[error("The school server refused this door's login: check the user and password in the database address.")]
    Login,
    #[error("This door's login may not set up the school server's tables: start Rollcall once with the school administrator's login first.")]
    NotSetUp,
    #[error("The connection to the school server could not be secured: {0}")]
    Tls(String),
    #[error("The school server answered with an error: {0}")]
    Other(String),
}

impl From<postgres::Error> for ServerError {
    fn from(e: postgres::Error) -> Self {
        let message = e.as_db_error().map(|d| d.message()).unwrap_or_default();
        match e.code() {
            Some(_) if message.contains("no encryption") => ServerError::Tls(
                "the school server accepts only encrypted connections: add ?sslmode=require to the database address".into(),
            ),
            Some(c) if *c == SqlState::INVALID_PASSWORD => ServerError::Login,
            Some(c) if *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => ServerError::Login,
            Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => ServerError::NotSetUp,
            Some(_) => ServerError::Other(
                e.as_db_error()
                    .map(|d| d.message().to_string())
                    .unwrap_or_else(|| e.to_string()),
            ),
            None => ServerError::Unreachable(plain_reason(&e)),
        }
    }
}

/// The cause of a connection failure without the address (which may hold a password).
fn plain_reason(e: &postgres::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = e.to_string();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// Connects to the school server and brings its schema up to date. With `sslmode=require`
/// in the address the connection is encrypted and the server's certificate checked against
/// the public authorities and the school's own (`ca_file`, PEM).
pub fn connect(
    url: &str,
    ca_file: Option<&Path>,
    timeout: Duration,
) -> Result<Client, ServerError> {
    let mut config: postgres::Config = url.parse().map_err(|_| {
        ServerError::Other("the database address is not a valid postgres:// address".into())
    })?;
    config
        .connect_timeout(timeout)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(5))
        .application_name("rollcall");
    let mut client = if config.get_ssl_mode() == postgres::config::SslMode::Require {
        config.connect(tls(ca_file)?)?
    } else {
        config.connect(NoTls)?
    };
    migrate(&mut client)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    Ok(client)
}

/// TLS that trusts the public authorities and the school's own certificate authority.
fn tls(ca_file: Option<&Path>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, ServerError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let unreadable = |e: &dyn std::fmt::Display| {
            ServerError::Tls(format!(
                "the school's certificate file {} cannot be read ({e})",
                path.display()
            ))
        };
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
            roots
                .add(cert.map_err(|e| unreadable(&e))?)
                .map_err(|e| unreadable(&e))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ServerError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn migrate(client: &mut Client) -> Result<(), ServerError> {
    let current = |c: &mut Client| -> Result<usize, ServerError> {
        let exists: bool = c
            .query_one("SELECT to_regclass('rollcall_schema') IS NOT NULL", &[])?
            .get(0);
        if !exists {
            return Ok(0);
        }
        let v: i32 = c
            .query_one("SELECT COALESCE(MAX(version), 0) FROM rollcall_schema", &[])?
            .get(0);
        Ok(v as usize)
    };
    if current(client)? >= MIGRATIONS.len() {
        return Ok(());
    }
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS rollcall_schema (version INTEGER NOT NULL)")?;
    let done: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM rollcall_schema", &[])?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO rollcall_schema (version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// What became of a row a door sent.
#[derive(Debug, PartialEq)]
pub enum Delivery {
    /// The school has it (or, for a mark, already had another mark of that student and day).
    Taken,
    /// The school refused it; the reason, for the admin.
    Refused(String),
    /// A door's mark on a day that had not come by the school's clock: its date is wrong,
    /// so the school will never take it, even once that day comes; the reason, for the
    /// admin.
    DatedAhead(String),
}

/// Sends a door's rows (`None`: deleted at the door) in one transaction; one answer per row.
pub fn push(
    client: &mut Client,
    rows: &[(String, String, Option<SharedRow>)],
) -> Result<Vec<Delivery>, ServerError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    let server_ms = server_clock_ms(&mut tx)?;
    let mut privileges = Privileges::default();
    let mut answers: Vec<Option<Delivery>> = (0..rows.len()).map(|_| None).collect();
    let student = |row: &Option<SharedRow>| matches!(row, Some(SharedRow::Student { .. }));
    // Students first (their templates and marks need them). One whose roll number or email
    // address another student of the school still holds waits for the others: another row
    // of this push may give it up (two numbers swapped at the office while the server was
    // away).
    let mut waiting = Vec::new();
    for (i, (table, uid, row)) in rows.iter().enumerate() {
        if student(row) {
            match offer(&mut tx, table, uid, row, server_ms, &mut privileges)? {
                Offered::Answered(answer) => answers[i] = Some(answer),
                Offered::Held => waiting.push(i),
            }
        }
    }
    settle(
        &mut tx,
        rows,
        waiting,
        &mut answers,
        server_ms,
        &mut privileges,
    )?;
    for (i, (table, uid, row)) in rows.iter().enumerate() {
        if !student(row) {
            answers[i] = Some(
                match offer(&mut tx, table, uid, row, server_ms, &mut privileges)? {
                    Offered::Answered(answer) => answer,
                    Offered::Held => Delivery::Refused(held_by_others(&mut tx, rows, i, &[])?),
                },
            );
        }
    }
    let answers: Vec<Delivery> = answers
        .into_iter()
        .map(|a| a.expect("every row answered or settled"))
        .collect();
    // The other doors look only when the school changed.
    if answers.contains(&Delivery::Taken) {
        tx.batch_execute(&format!("NOTIFY {CHANNEL}"))?;
    }
    tx.commit()?;
    Ok(answers)
}

/// How the server took one row of a push.
enum Offered {
    Answered(Delivery),
    /// Refused because another student holds its roll number or email address.
    Held,
}

/// Offers one row (`None`: deleted at the door) in a savepoint of its own.
fn offer(
    tx: &mut Transaction<'_>,
    table: &str,
    uid: &str,
    row: &Option<SharedRow>,
    server_ms: i64,
    privileges: &mut Privileges,
) -> Result<Offered, ServerError> {
    let mut point = tx.transaction()?;
    let result = match row {
        Some(row) => match dated_ahead(row, server_ms) {
            Some(why) => Ok(Some(Delivery::DatedAhead(why))),
            None => upsert(&mut point, row, privileges).map(|r| r.map(Delivery::Refused)),
        },
        None => delete(&mut point, table, uid, privileges).map(|r| r.map(Delivery::Refused)),
    };
    match result {
        Ok(None) => {
            point.commit()?;
            Ok(Offered::Answered(Delivery::Taken))
        }
        Ok(Some(refusal)) => {
            point.rollback()?;
            Ok(Offered::Answered(refusal))
        }
        Err(e) if e.code().is_some() => {
            point.rollback()?;
            if row.is_some() && e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                return Ok(Offered::Held);
            }
            let what = described(table, row);
            Ok(Offered::Answered(Delivery::Refused(refusal(
                &e,
                &what,
                row.is_none(),
            ))))
        }
        Err(e) => Err(e.into()),
    }
}

/// Offers the `held` student rows again while that frees roll numbers and addresses;
/// two or more each holding another's are parted by giving one of their students, for a
/// moment, a number and an address no one has (their own row gives them their new ones).
/// When a student so parted is still refused, nothing of this is kept: every held row is
/// refused, and the school is as it was. (A door writes the school's rows the same way:
/// `replica::write_students`.) Each refusal says who holds what at the school then.
fn settle(
    tx: &mut Transaction<'_>,
    rows: &[(String, String, Option<SharedRow>)],
    held: Vec<usize>,
    answers: &mut [Option<Delivery>],
    server_ms: i64,
    privileges: &mut Privileges,
) -> Result<(), ServerError> {
    if held.is_empty() {
        return Ok(());
    }
    let mut point = tx.transaction()?;
    let mut answered = Vec::new();
    let mut left = offer_while_it_frees(
        &mut point,
        rows,
        held.clone(),
        &mut answered,
        server_ms,
        privileges,
    )?;
    let mut parted: Vec<String> = Vec::new();
    // Each parting takes a student out of everyone's way for good, so there are at most
    // as many as rows.
    while parted.len() < held.len() {
        let Some(holder) = make_way(&mut point, rows, &left)? else {
            break;
        };
        parted.push(holder);
        left = offer_while_it_frees(&mut point, rows, left, &mut answered, server_ms, privileges)?;
    }
    let stranded = left.iter().any(|i| parted.iter().any(|p| p == &rows[*i].1));
    let refused = if stranded {
        point.rollback()?;
        held
    } else {
        point.commit()?;
        for (i, answer) in answered {
            answers[i] = Some(answer);
        }
        left
    };
    let uids: Vec<&str> = refused.iter().map(|i| rows[*i].1.as_str()).collect();
    for &i in &refused {
        answers[i] = Some(Delivery::Refused(held_by_others(tx, rows, i, &uids)?));
    }
    Ok(())
}

/// Offers the `left` rows, again and again while that frees numbers for the others;
/// adds the answers to `answered` and returns the rows still held.
fn offer_while_it_frees(
    tx: &mut Transaction<'_>,
    rows: &[(String, String, Option<SharedRow>)],
    mut left: Vec<usize>,
    answered: &mut Vec<(usize, Delivery)>,
    server_ms: i64,
    privileges: &mut Privileges,
) -> Result<Vec<usize>, ServerError> {
    loop {
        let before = left.len();
        let mut still = Vec::new();
        for i in left {
            let (table, uid, row) = &rows[i];
            match offer(tx, table, uid, row, server_ms, privileges)? {
                Offered::Answered(answer) => answered.push((i, answer)),
                Offered::Held => still.push(i),
            }
        }
        if still.is_empty() || still.len() == before {
            return Ok(still);
        }
        left = still;
    }
}

/// Among the `left` student rows, one whose roll number or email address another of them
/// holds at the school: that student gets, for a moment, a number and an address no one
/// has; returns their uid. None when there is none.
fn make_way(
    tx: &mut Transaction<'_>,
    rows: &[(String, String, Option<SharedRow>)],
    left: &[usize],
) -> Result<Option<String>, postgres::Error> {
    let waiting: Vec<&str> = left.iter().map(|i| rows[*i].1.as_str()).collect();
    for i in left {
        let Some((uid, roll_no, email)) = rows[*i].2.as_ref().and_then(|r| r.student_keys()) else {
            continue;
        };
        let holder = holders_at_school(tx, uid, roll_no, email)?
            .into_iter()
            .map(|h| h.uid)
            .find(|h| waiting.contains(&h.as_str()));
        if let Some(holder) = holder {
            tx.execute(
                "UPDATE students SET roll_no = roll_no || '~' || uid, email = email || '~' || uid
                 WHERE uid = $1",
                &[&holder],
            )?;
            return Ok(Some(holder));
        }
    }
    Ok(None)
}

/// Why the server refused student row `i` of a push, whose roll number or email address
/// other students hold at the school: who holds which, as the school has them now
/// (enrolled at another door, at an office, or by hand at the server). A holder among
/// `refused` (the uids of the push's students refused with it) is said to hold it still,
/// their own change not taken either: two numbers swapped, with one of them held by a
/// third student as well.
fn held_by_others(
    tx: &mut Transaction<'_>,
    rows: &[(String, String, Option<SharedRow>)],
    i: usize,
    refused: &[&str],
) -> Result<String, postgres::Error> {
    let (table, _, row) = &rows[i];
    let what = described(table, row);
    let held = match row.as_ref().and_then(|r| r.student_keys()) {
        Some((uid, roll_no, email)) => holders_at_school(tx, uid, roll_no, email)?
            .into_iter()
            .map(|holder| {
                let Holder {
                    uid: holder_uid,
                    roll_no: held_roll_no,
                    name,
                    email: held_email,
                } = holder;
                let whose = match refused.contains(&holder_uid.as_str()) {
                    true => format!(
                        "still {name}'s, whose own change sent with it was not taken either"
                    ),
                    false => format!("already {name}'s"),
                };
                let same_email = held_email.to_lowercase() == email.to_lowercase();
                match (held_roll_no == roll_no, same_email) {
                    (true, true) => format!(
                        "roll number {roll_no} and the email address {held_email} are {whose}"
                    ),
                    (true, false) => format!("roll number {roll_no} is {whose}"),
                    _ => format!("the email address {held_email} is {whose}"),
                }
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(if held.is_empty() {
        format!(
            "{what} was not taken by the school server: another student there has the same \
             roll number or email address"
        )
    } else {
        format!(
            "{what} was not taken by the school server: there, {}",
            held.join(", and ")
        )
    })
}

/// A student of the school.
struct Holder {
    uid: String,
    roll_no: String,
    name: String,
    email: String,
}

/// The school's students other than `uid` who hold `roll_no` or `email`, by roll number.
fn holders_at_school(
    tx: &mut Transaction<'_>,
    uid: &str,
    roll_no: &str,
    email: &str,
) -> Result<Vec<Holder>, postgres::Error> {
    Ok(tx
        .query(
            "SELECT uid, roll_no, name, email FROM students
             WHERE (roll_no = $1 OR lower(email) = lower($2)) AND uid <> $3
             ORDER BY roll_no",
            &[&roll_no, &email, &uid],
        )?
        .iter()
        .map(|r| Holder {
            uid: r.get(0),
            roll_no: r.get(1),
            name: r.get(2),
            email: r.get(3),
        })
        .collect())
}

/// A row of a push (`None`: deleted at the door in `table`) in a few words, for the admin.
fn described(table: &str, row: &Option<SharedRow>) -> String {
    match row {
        Some(r) => r.describe(),
        None => deletion_described(table),
    }
}

/// Why the server refused a row (`deletion`: one deleted at the door), for the admin.
fn refusal(e: &postgres::Error, what: &str, deletion: bool) -> String {
    match e.code() {
        Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE && deletion => may_not_delete(what),
        Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => not_allowed(what),
        _ => format!(
            "{what} was not taken by the school server: {}",
            e.as_db_error()
                .map(|d| d.message())
                .unwrap_or("unknown error")
        ),
    }
}

/// Why a deletion of a row the school holds was refused: it was made at a door while it was
/// away from the school (linked, a door's login deletes only marks the school never took).
fn may_not_delete(what: &str) -> String {
    format!(
        "{what} was not taken by the school server: this door's login may not delete \
         anything there. Do it at the office as well; until then it is made on this \
         computer only."
    )
}

/// A door's deletion in `table`, as the admin reads it in a refusal.
fn deletion_described(table: &str) -> String {
    match table {
        "face_data" => "erasing a student's face data".into(),
        "students" => "deleting a student".into(),
        "face_templates" => "removing a face template".into(),
        _ => format!("a deletion in {table}"),
    }
}

/// What this login may do to the shared tables, asked of the server once per push and
/// table: a change it may not make is refused before it is tried, so a door's refused rows,
/// offered again every few minutes, put no error in the server's log.
#[derive(Default)]
struct Privileges(std::collections::HashMap<(String, &'static str), bool>);

impl Privileges {
    /// Whether the login has `privilege` ("INSERT", "UPDATE", "DELETE") on `table`.
    fn may(
        &mut self,
        tx: &mut Transaction<'_>,
        table: &str,
        privilege: &'static str,
    ) -> Result<bool, postgres::Error> {
        if let Some(&may) = self.0.get(&(table.to_string(), privilege)) {
            return Ok(may);
        }
        let may: bool = tx
            .query_one(
                "SELECT has_table_privilege($1::text, $2::text)",
                &[&table, &privilege],
            )?
            .get(0);
        self.0.insert((table.to_string(), privilege), may);
        Ok(may)
    }
}

fn not_allowed(what: &str) -> String {
    format!("{what} was not taken by the school server: this door's login may not change it (a door may only add marks). Students and changes made at this computer before it joined the school reach it when this computer connects once with the school administrator's login; a student the office enrols under the same roll number, with the same name or email, becomes the same student here, with their marks.")
}

/// Why the school never takes a door's mark (not a decision by hand) on a day that has not
/// come by its clock (`server_ms`, milliseconds since 1970), if this is one: it was made
/// by a door whose clock was ahead (before its link could compare the two).
fn dated_ahead(row: &SharedRow, server_ms: i64) -> Option<String> {
    let SharedRow::Mark {
        day,
        marked_at,
        source,
        present: true,
        ..
    } = row
    else {
        return None;
    };
    if source == "admin" {
        return None;
    }
    let today = day_not_come(day, marked_at, server_ms)?;
    Some(format!(
        "{} was not taken by the school server: by its clock that day has not come (it is \
         {today} there; the door's clock was ahead when the mark was made). Set the door's \
         date and time; its Admin screen then offers to remove such marks",
        row.describe()
    ))
}

/// Writes one door row; `Some(reason)` when the school cannot take it (yet).
fn upsert(
    tx: &mut Transaction<'_>,
    row: &SharedRow,
    privileges: &mut Privileges,
) -> Result<Option<String>, postgres::Error> {
    // A template or mark of a student the school does not have (enrolled at a door whose
    // login may not add students, or removed at the office) waits at the door.
    let parent = match row {
        SharedRow::Template { student_uid, .. } | SharedRow::Mark { student_uid, .. } => {
            Some(student_uid)
        }
        _ => None,
    };
    // A correction by hand (present or absent) is the school's to make: a door's login,
    // which may not delete marks, may not make one either.
    if matches!(row, SharedRow::Mark { source, .. } if source == "admin")
        && !privileges.may(tx, "attendance", "DELETE")?
    {
        return Ok(Some(not_allowed(&row.describe())));
    }
    if let Some(student) = parent {
        let known: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM students WHERE uid = $1)",
                &[student],
            )?
            .get(0);
        if !known {
            return Ok(Some(format!(
                "{} was not taken by the school server: it does not know the student",
                row.describe()
            )));
        }
    }
    // What the upsert below needs (a student or a mark may update the school's row).
    let (table, _) = row.key();
    let needs: &[&'static str] = match row {
        SharedRow::Student { .. } | SharedRow::Mark { .. } => &["INSERT", "UPDATE"],
        SharedRow::ClassDay { .. } | SharedRow::Template { .. } => &["INSERT"],
    };
    for &privilege in needs {
        if !privileges.may(tx, table, privilege)? {
            return Ok(Some(not_allowed(&row.describe())));
        }
    }
    match row {
        SharedRow::Student {
            uid,
            roll_no,
            name,
            email,
            enrolled_at,
            last_day,
            away,
        } => {
            tx.execute(
                "INSERT INTO students (uid, roll_no, name, email, enrolled_at, last_day, away)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (uid) DO UPDATE SET roll_no = EXCLUDED.roll_no, name = EXCLUDED.name,
                     email = EXCLUDED.email, enrolled_at = EXCLUDED.enrolled_at,
                     last_day = EXCLUDED.last_day, away = EXCLUDED.away
                 WHERE (students.roll_no, students.name, students.email, students.enrolled_at,
                        students.last_day, students.away)
                       IS DISTINCT FROM (EXCLUDED.roll_no, EXCLUDED.name, EXCLUDED.email,
                                         EXCLUDED.enrolled_at, EXCLUDED.last_day, EXCLUDED.away)",
                &[uid, roll_no, name, email, enrolled_at, last_day, away],
            )?;
        }
        SharedRow::ClassDay {
            day,
            declared_at,
            actor,
        } => {
            tx.execute(
                "INSERT INTO class_days (day, declared_at, actor) VALUES ($1, $2, $3)
                 ON CONFLICT (day) DO NOTHING",
                &[day, declared_at, actor],
            )?;
        }
        SharedRow::Template {
            uid,
            student_uid,
            model_id,
            vector,
            origin,
        } => {
            tx.execute(
                "INSERT INTO face_templates (uid, student_uid, model_id, vector, origin)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (uid) DO NOTHING",
                &[uid, student_uid, model_id, vector, origin],
            )?;
        }
        SharedRow::Mark {
            uid,
            student_uid,
            day,
            marked_at,
            score,
            source,
            door,
            snapshot,
            present,
        } => {
            // A door sends its mark again after a crash, or after a correction: same uid.
            // A decision by hand stays (the server's trigger keeps it, against doors of
            // any release): a door's own mark of it, sent again (a door that had not heard
            // of the correction offers everything to a school server put back from a
            // backup), is older.
            let same = tx.execute(
                "UPDATE attendance SET marked_at = $2, score = $3, source = $4, door = $5,
                     snapshot = $6, present = $7
                 WHERE uid = $1 AND (marked_at, score, source, door, snapshot, present)
                       IS DISTINCT FROM ($2, $3, $4, $5, $6, $7)",
                &[uid, marked_at, score, source, door, snapshot, present],
            )?;
            let known: bool = same > 0
                || tx
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM attendance WHERE uid = $1)",
                        &[uid],
                    )?
                    .get(0);
            if !known {
                // One row per student and day: the earliest arrival at any door stays; a
                // decision by hand is never replaced, and only an absence recorded by hand
                // replaces a door's mark (the door had not heard of that mark yet).
                tx.execute(
                    "INSERT INTO attendance (uid, student_uid, day, marked_at, score, source, door, snapshot, present)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (student_uid, day) DO UPDATE SET uid = EXCLUDED.uid,
                         marked_at = EXCLUDED.marked_at, score = EXCLUDED.score,
                         source = EXCLUDED.source, door = EXCLUDED.door,
                         snapshot = EXCLUDED.snapshot, present = EXCLUDED.present
                     WHERE attendance.source <> 'admin'
                       AND (NOT EXCLUDED.present
                            OR (EXCLUDED.marked_at < attendance.marked_at AND EXCLUDED.source <> 'admin'))",
                    &[uid, student_uid, day, marked_at, score, source, door, snapshot, present],
                )?;
            }
        }
    }
    Ok(None)
}

/// The school's today, where the mark was made, when the mark's `day` comes after it (by the
/// offset from UTC recorded in `marked_at`); `None` when it does not, or cannot be read.
fn day_not_come(day: &str, marked_at: &str, server_ms: i64) -> Option<chrono::NaiveDate> {
    let offset = *chrono::DateTime::parse_from_rfc3339(marked_at)
        .ok()?
        .offset();
    let day = stored_day(day)?;
    let today = chrono::DateTime::from_timestamp_millis(server_ms)?
        .with_timezone(&offset)
        .date_naive();
    (day > today).then_some(today)
}

/// Deletes a row a door deleted (`face_data`: a student's face, every template); the reason
/// when the school refuses it.
fn delete(
    tx: &mut Transaction<'_>,
    table: &str,
    uid: &str,
    privileges: &mut Privileges,
) -> Result<Option<String>, postgres::Error> {
    if table == "face_data" {
        // A student's face data erased at a door: every template the school has of them
        // goes (one a third machine sent meanwhile included; the server records each
        // deletion), and every machine hears it, to erase the photos it holds. One the
        // school made already, holding nothing of the face since, is made: a door's login,
        // which may not erase, has nothing to be refused for (a door that erased a face
        // while away from the school, which the office erased as well).
        let made: bool = tx
            .query_one(
                "SELECT NOT EXISTS (SELECT 1 FROM face_templates WHERE student_uid = $1)
                    AND EXISTS (SELECT 1 FROM deletions WHERE tbl = 'face_data' AND uid = $1)",
                &[&uid],
            )?
            .get(0);
        if made {
            return Ok(None);
        }
        if !privileges.may(tx, "face_templates", "DELETE")? {
            return Ok(Some(may_not_delete(&deletion_described(table))));
        }
        tx.execute("DELETE FROM face_templates WHERE student_uid = $1", &[&uid])?;
        tx.execute(
            "INSERT INTO deletions (tbl, uid) VALUES ('face_data', $1)",
            &[&uid],
        )?;
        return Ok(None);
    }
    // The shared tables (only these names reach the SQL below), each row known by one key:
    // a class day by its date.
    let key = match table {
        "students" | "face_templates" | "attendance" => "uid",
        "class_days" => "day",
        _ => return Ok(None),
    };
    // A row the school never took (a mark it refused) is gone already: a door's login, which
    // may not delete, has nothing to be refused for.
    let held: bool = tx
        .query_one(
            &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE {key} = $1)"),
            &[&uid],
        )?
        .get(0);
    if !held {
        return Ok(None);
    }
    if !privileges.may(tx, table, "DELETE")? {
        return Ok(Some(may_not_delete(&deletion_described(table))));
    }
    // The server records the deletion (and those of a student's templates and marks).
    tx.execute(&format!("DELETE FROM {table} WHERE {key} = $1"), &[&uid])?;
    Ok(None)
}

/// How far this computer's clock is ahead of the server's, in milliseconds (negative:
/// behind), and when it was measured by this computer's clock (milliseconds since 1970);
/// `None` when the server took too long to answer for the figure to mean much.
pub fn clock_ahead(client: &mut Client) -> Result<Option<(i64, i64)>, ServerError> {
    let before = chrono::Utc::now().timestamp_millis();
    let server = server_clock_ms(client)?;
    let after = chrono::Utc::now().timestamp_millis();
    if !(0..=2_000).contains(&(after - before)) {
        return Ok(None);
    }
    let here = before + (after - before) / 2;
    Ok(Some((here - server, here)))
}

/// Whether this login may change the school's students, face data and corrections (the
/// school administrator's), not only add marks (a door's).
pub fn may_change_school(client: &mut Client) -> Result<bool, ServerError> {
    Ok(client
        .query_one(
            "SELECT has_table_privilege('students', 'INSERT')
                AND has_table_privilege('students', 'DELETE')
                AND has_table_privilege('face_templates', 'DELETE')
                AND has_table_privilege('attendance', 'DELETE')
                AND has_table_privilege('class_days', 'INSERT')
                AND has_table_privilege('deletions', 'INSERT')",
            &[],
        )?
        .get(0))
}

/// The server's clock, in milliseconds since 1970.
fn server_clock_ms(client: &mut impl postgres::GenericClient) -> Result<i64, postgres::Error> {
    let ms: f64 = client
        .query_one(
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8",
            &[],
        )?
        .get(0);
    Ok(ms.round() as i64)
}

/// Which school server this is: PostgreSQL's ids of its database and students table (a
/// restore from `pg_dump` makes them anew, so a server put back from such a backup — or
/// replaced — answers with others) and its life (`new_life`).
pub fn identity(client: &mut Client) -> Result<String, ServerError> {
    Ok(client
        .query_one(
            "SELECT d.oid::text || '/' || 'students'::regclass::oid::text || '/'
                    || COALESCE((SELECT id FROM server_life LIMIT 1), '')
             FROM pg_database d WHERE d.datname = current_database()",
            &[],
        )?
        .get(0))
}

/// Whether the server still holds the change a folder fetched last (`LastSeen`): false
/// when it was put back as a copy of its data folder from before that change.
pub fn still_holds(client: &mut Client, seen: &LastSeen) -> Result<bool, ServerError> {
    let row = match (seen.gone, seen.table.as_str()) {
        // A deletion stays recorded under its number.
        (true, _) => "FALSE",
        (false, "students") => {
            "EXISTS (SELECT 1 FROM students WHERE uid = s.uid AND change >= s.change)"
        }
        (false, "face_templates") => {
            "EXISTS (SELECT 1 FROM face_templates WHERE uid = s.uid AND change >= s.change)"
        }
        (false, "attendance") => {
            "EXISTS (SELECT 1 FROM attendance a
                     WHERE (a.uid = s.uid OR (a.student_uid = s.student AND a.day = s.day))
                       AND a.change >= s.change)"
        }
        (false, "class_days") => {
            "EXISTS (SELECT 1 FROM class_days WHERE day = s.uid AND change >= s.change)"
        }
        // Not a table this Rollcall knows: nothing to tell by.
        (false, _) => "TRUE",
    };
    Ok(client
        .query_one(
            &format!(
                "WITH s AS (SELECT $1::bigint AS change, $2::text AS tbl, $3::text AS uid,
                                   $4::text AS student, $5::text AS day)
                 SELECT {row} OR EXISTS (
                     SELECT 1 FROM deletions d WHERE d.change >= s.change
                       AND ((d.tbl = s.tbl AND d.uid = s.uid)
                            OR (d.tbl = 'students' AND d.uid = s.student)))
                 FROM s"
            ),
            &[
                &seen.change,
                &seen.table,
                &seen.uid,
                &seen.student,
                &seen.day,
            ],
        )?
        .get(0))
}

/// Gives the school server (`id`, as `identity` read it) a new life, so that every machine
/// finds it another server and tells it everything again; returns its identity now (also
/// when another machine gave it one first).
pub fn new_life(client: &mut Client, id: &str) -> Result<String, ServerError> {
    let life = id.rsplit('/').next().unwrap_or_default();
    client.execute(
        "UPDATE server_life SET id = md5(random()::text || clock_timestamp()::text)
         WHERE id = $1",
        &[&life],
    )?;
    identity(client)
}

/// What the school holds of the rows an office may take away: every face template (its
/// uid and its student's) and every class day declared.
#[derive(Debug)]
pub struct Held {
    pub templates: Vec<(String, String)>,
    pub class_days: Vec<String>,
}

/// Every face template and class day the school holds.
pub fn held(client: &mut Client) -> Result<Held, ServerError> {
    let mut tx = snapshot(client)?;
    let templates = tx
        .query("SELECT uid, student_uid FROM face_templates", &[])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let class_days = tx
        .query("SELECT day FROM class_days", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.commit()?;
    Ok(Held {
        templates,
        class_days,
    })
}

/// A read-only transaction that sees the school as of its start.
fn snapshot(client: &mut Client) -> Result<Transaction<'_>, postgres::Error> {
    client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
}

/// Rows fetched per part. A part is written to the door's database in one transaction, so
/// a door fetching a large school (joining it, or after the server was put back) goes on
/// marking meanwhile, and holds one part in memory rather than the school.
const PART: usize = 2000;

/// How a fetch ended: the newest change number (`since` when nothing came) and that change,
/// to ask the server about at later rounds (`None`: nothing new).
pub struct Pulled {
    pub newest: i64,
    pub last_seen: Option<LastSeen>,
}

/// Everything that changed after change `since`, as one snapshot of the school, handed to
/// `part` a part at a time with the context of the whole fetch: deletions first, then
/// students, class days, templates and marks (parents before children).
pub fn pull<E, F>(client: &mut Client, since: i64, mut part: F) -> Result<Pulled, E>
where
    E: From<ServerError>,
    F: FnMut(&[Change], &FetchContext) -> Result<(), E>,
{
    let mut tx = snapshot(client).map_err(ServerError::from)?;
    let context = fetch_context(&mut tx, since).map_err(ServerError::from)?;
    let mut pulled = Pulled {
        newest: since,
        last_seen: None,
    };
    let mut buffer = Vec::with_capacity(PART);
    let mut each = |number: i64, change: Change| -> Result<(), E> {
        if number > pulled.newest {
            pulled.last_seen = Some(LastSeen::of(&change, number));
            pulled.newest = number;
        }
        buffer.push(change);
        if buffer.len() == PART {
            part(&buffer, &context)?;
            buffer.clear();
        }
        Ok(())
    };
    stream(
        &mut tx,
        "SELECT change, tbl, uid FROM deletions WHERE change > $1 ORDER BY change",
        &since,
        |r| Change::Gone {
            table: r.get(1),
            uid: r.get(2),
        },
        &mut each,
    )?;
    for table in [
        Fetched::Students,
        Fetched::ClassDays,
        Fetched::Templates,
        Fetched::Marks,
    ] {
        table.each(&mut tx, "change > $1", &since, &mut each)?;
    }
    if !buffer.is_empty() {
        part(&buffer, &context)?;
    }
    tx.commit().map_err(ServerError::from)?;
    Ok(pulled)
}

/// Hands each row `sql` (on `$1`; the change number first) selects to `each`, as `change`
/// makes it, without holding them all.
fn stream<E: From<ServerError>>(
    tx: &mut Transaction<'_>,
    sql: &str,
    arg: &(dyn postgres::types::ToSql + Sync),
    change: impl Fn(&postgres::Row) -> Change,
    each: &mut impl FnMut(i64, Change) -> Result<(), E>,
) -> Result<(), E> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut rows = tx
        .query_raw(sql, std::iter::once(arg))
        .map_err(ServerError::from)?;
    while let Some(r) = rows.next().map_err(ServerError::from)? {
        each(r.get(0), change(&r))?;
    }
    Ok(())
}

/// The context of the fetch after change `since`: the erasures of face data in it, and
/// the templates in it of those students.
fn fetch_context(tx: &mut Transaction<'_>, since: i64) -> Result<FetchContext, postgres::Error> {
    let mut context = FetchContext::default();
    let erased = "SELECT uid FROM deletions WHERE change > $1 AND tbl = 'face_data'";
    for r in tx.query(erased, &[&since])? {
        context.erased(r.get(0));
    }
    for r in tx.query(
        &format!(
            "SELECT student_uid, uid FROM face_templates
             WHERE change > $1 AND student_uid IN ({erased})"
        ),
        &[&since],
    )? {
        context.template(r.get(0), r.get(1));
    }
    Ok(context)
}

/// The school's students of these roll numbers, as they are now, with their face
/// templates and marks: what a door needs to join its own student of the same roll number
/// to the school's when it fetched the school's student before it could (until
/// 2026-12-05 a door could not, and went on past that change).
pub fn students_by_roll_no(
    client: &mut Client,
    roll_nos: &[String],
) -> Result<Vec<Change>, ServerError> {
    students_where(client, "roll_no = ANY($1)", roll_nos)
}

/// The school's students of these uids, as they are now, with their face templates and
/// marks: what a door fetches again of the students it could not write before.
pub fn students_by_uid(client: &mut Client, uids: &[String]) -> Result<Vec<Change>, ServerError> {
    students_where(client, "uid = ANY($1)", uids)
}

/// The school's students `filter` picks (`$1`: `values`), with their templates and marks.
fn students_where(
    client: &mut Client,
    filter: &str,
    values: &[String],
) -> Result<Vec<Change>, ServerError> {
    let mut tx = snapshot(client)?;
    let mut changes = Vec::new();
    let mut uids: Vec<String> = Vec::new();
    Fetched::Students.each(&mut tx, filter, &values, &mut |_, change| {
        if let Change::Row(SharedRow::Student { uid, .. }) = &change {
            uids.push(uid.clone());
        }
        changes.push(change);
        Ok::<_, ServerError>(())
    })?;
    if !uids.is_empty() {
        for table in [Fetched::Templates, Fetched::Marks] {
            table.each(&mut tx, "student_uid = ANY($1)", &uids, &mut |_, change| {
                changes.push(change);
                Ok::<_, ServerError>(())
            })?;
        }
    }
    tx.commit()?;
    Ok(changes)
}

/// A table of the school's that doors fetch rows of.
#[derive(Clone, Copy)]
enum Fetched {
    Students,
    ClassDays,
    Templates,
    Marks,
}

impl Fetched {
    /// The columns read, the change that wrote the row first.
    fn select(self) -> &'static str {
        match self {
            Fetched::Students => {
                "SELECT change, uid, roll_no, name, email, enrolled_at, last_day, away FROM students"
            }
            Fetched::ClassDays => "SELECT change, day, declared_at, actor FROM class_days",
            Fetched::Templates => {
                "SELECT change, uid, student_uid, model_id, vector, origin FROM face_templates"
            }
            Fetched::Marks => {
                "SELECT change, uid, student_uid, day, marked_at, score, source, door, snapshot,
                        present
                 FROM attendance"
            }
        }
    }

    /// The row `select` read.
    fn row(self, r: &postgres::Row) -> SharedRow {
        match self {
            Fetched::Students => SharedRow::Student {
                uid: r.get(1),
                roll_no: r.get(2),
                name: r.get(3),
                email: r.get(4),
                enrolled_at: r.get(5),
                last_day: r.get(6),
                away: r.get(7),
            },
            Fetched::ClassDays => SharedRow::ClassDay {
                day: r.get(1),
                declared_at: r.get(2),
                actor: r.get(3),
            },
            Fetched::Templates => SharedRow::Template {
                uid: r.get(1),
                student_uid: r.get(2),
                model_id: r.get(3),
                vector: r.get(4),
                origin: r.get(5),
            },
            Fetched::Marks => SharedRow::Mark {
                uid: r.get(1),
                student_uid: r.get(2),
                day: r.get(3),
                marked_at: r.get(4),
                score: r.get(5),
                source: r.get(6),
                door: r.get(7),
                snapshot: r.get(8),
                present: r.get(9),
            },
        }
    }

    /// Hands each row of this table `filter` (a condition on `$1`) picks to `each`, with
    /// its change number, without holding them all.
    fn each<E: From<ServerError>>(
        self,
        tx: &mut Transaction<'_>,
        filter: &str,
        arg: &(dyn postgres::types::ToSql + Sync),
        each: &mut impl FnMut(i64, Change) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!("{} WHERE {filter}", self.select());
        stream(tx, &sql, arg, |r| Change::Row(self.row(r)), each)
    }
}

#[cfg(test)]
mod tests {
    use super::day_not_come;

    #[test]
    fn a_day_has_come_where_the_mark_was_made() {
        // 2026-12-04 23:00 UTC: already the 5th at UTC+2, still the 4th at UTC−5.
        let server = chrono::DateTime::parse_from_rfc3339("2026-12-04T23:00:00+00:00")
            .unwrap()
            .timestamp_millis();
        let the_4th = chrono::NaiveDate::from_ymd_opt(2026, 12, 4);
        for (day, marked_at, not_come) in [
            ("2026-12-05", "2026-12-05T00:30:00+02:00", None),
            ("2026-12-05", "2026-12-05T00:30:00-05:00", the_4th),
            ("2026-12-07", "2026-12-07T08:41:00+00:00", the_4th),
            ("2026-12-04", "2026-12-04T20:00:00+00:00", None),
        ] {
            assert_eq!(
                day_not_come(day, marked_at, server),
                not_come,
                "{marked_at}"
            );
        }
        // What cannot be read is taken as before.
        assert_eq!(day_not_come("2026-12-07", "08:41", server), None);
    }
}
