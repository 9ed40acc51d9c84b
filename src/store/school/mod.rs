//! Several doors, one school: a door's data folder linked to the school's PostgreSQL server.
//!
//! Every door keeps its own SQLite database, so it keeps recognising and marking when the
//! network is down. While linked, each change made at the door waits in an outbox (SQLite
//! triggers put it there); the link sends it to the school server, which keeps one mark per
//! student and day whichever door it came from, and brings back everything the other doors
//! and the office changed (students, face templates, marks, class days). Sending is
//! idempotent (rows are known by uid), so a door killed halfway sends again without doubling
//! anything.
//!
//! ```text
//! door SQLite ──outbox──▶ link thread ──push──▶ PostgreSQL ──NOTIFY──▶ every door's link
//!      ▲                                                                   │
//!      └───────────────────── pull (changes after N) ◀─────────────────────┘
//! ```

mod replica;
mod rows;
mod server;

pub use replica::Unsent;
pub(crate) use replica::{forget_unsent_student, untold, AwayFromSchool};
pub use server::ServerError;

use crate::store::{Store, StoreError};
use rows::{Change, SharedRow};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Rows sent to the school server per transaction.
const BATCH: usize = 500;
/// How long to wait for the server to answer a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How often an idle door looks for changes when no notification came.
const POLL: Duration = Duration::from_secs(1);
/// How often the link looks at the outbox while it waits.
const NUDGE: Duration = Duration::from_millis(150);
/// How often changes the school refused (and may take later) are offered again. Not every
/// round: each offer holds the school's write lock, and a door's own students from before
/// it was linked with a door's login, say, are refused for as long as it runs.
const OFFER_REFUSED_AGAIN: Duration = Duration::from_secs(5 * 60);

/// Where the school server is and which door this is.
#[derive(Clone)]
pub struct SchoolServer {
    /// `postgres://user:password@host/db` (never logged or shown whole).
    pub url: String,
    /// This door's name, recorded with its marks ("North door").
    pub door: String,
    /// The school's own certificate authority (PEM), for `sslmode=require`.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for SchoolServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SchoolServer({}, {:?})", self.address(), self.door)
    }
}

impl SchoolServer {
    /// The user name the address logs in with ("" for the default).
    pub fn login(&self) -> String {
        self.url
            .parse::<postgres::Config>()
            .ok()
            .and_then(|c| c.get_user().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The server's address without the login, for messages.
    pub fn address(&self) -> String {
        let rest = self
            .url
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.url);
        let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
        host.split('?').next().unwrap_or(host).to_string()
    }
}

/// A door's link to the school server, as the kiosk shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SchoolStatus {
    /// The server answered the last time the link tried.
    pub online: bool,
    /// No school server is set for the program showing this (`SchoolSettings::
    /// no_server_here`): the folder is linked, but nothing sends its changes now.
    pub no_server_here: bool,
    /// What this folder's login to the server may do, learnt when the link last connected
    /// with it.
    pub login: SchoolLogin,
    /// Marks made here that the server does not have yet.
    pub waiting_marks: usize,
    /// Marks (and decisions by hand) made here that the server refused: they stay here and
    /// are offered again (not marks dated on a day that had not come at the school: they
    /// wait to be removed), and `problem` says why.
    pub refused_marks: usize,
    /// Other changes made here that the server refused (a door's own students from before
    /// it joined, or an erasure made while it was away, which a door's login may not make
    /// there): they stay here, offered again, and `problem` says why.
    pub refused_changes: usize,
    /// Anything the link could not do, worded for the admin.
    pub problem: Option<String>,
    /// How far this computer's clock is from the server's ("7 minutes ahead of"), when it
    /// is two minutes or more.
    pub clock_off: Option<String>,
    /// This computer's time zone against another door's, when they differ ("(UTC+00:00)
    /// is not North door's (UTC+11:00)"): `Store::zone_unlike_another_door`, which the
    /// door looks at once a minute (it reads a week of marks); `None` from `school_status`.
    pub zone_off: Option<String>,
}

/// What a linked folder's login to the school server may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchoolLogin {
    /// The school administrator's: enrolments, corrections and erasures are made here too.
    Office,
    /// A door's, which may only add marks: enrolments, corrections and erasures are refused
    /// here and made at the office.
    Door,
    /// Not known yet: the link has not reached the server with this login since it was
    /// linked (or the login changed); enrolments, corrections and erasures wait for it.
    NotKnownYet,
}

impl SchoolLogin {
    /// Whether enrolments, changes to students, corrections and erasures are made here.
    pub fn changes_school(self) -> bool {
        self == SchoolLogin::Office
    }
}

impl SchoolStatus {
    /// One short line for the kiosk's status bar.
    pub fn line(&self) -> String {
        use crate::wording::count;
        let part = |n: usize, noun: &str, what: &str| match n {
            0 => String::new(),
            n => format!(" — {} {what}", count(n, noun)),
        };
        let waiting = part(self.waiting_marks, "mark", "waiting");
        let refused = part(self.refused_marks, "mark", "the school did not take")
            + &part(self.refused_changes, "change", "the school did not take");
        let clock = match &self.clock_off {
            Some(how_far) => format!(" — this computer's clock is {how_far} the server's"),
            None => String::new(),
        };
        let zone = match &self.zone_off {
            Some(unlike) => format!(" — this computer's time zone {unlike}"),
            None => String::new(),
        };
        if self.no_server_here {
            format!("No school server is set for this computer{waiting}{refused}{clock}{zone}")
        } else if self.online {
            format!("School server: connected{waiting}{refused}{clock}{zone}")
        } else {
            format!("School server offline{waiting}{refused}{clock}{zone}")
        }
    }
}

impl Store {
    /// The school link's state, or `None` when this folder is not linked to a school server.
    pub fn school_status(&self) -> Result<Option<SchoolStatus>, StoreError> {
        use rusqlite::OptionalExtension;
        let link = self
            .conn
            .query_row(
                "SELECT online, problem, office,
                        (SELECT COUNT(DISTINCT uid) FROM school_outbox
                         WHERE tbl = 'attendance' AND refused = 0),
                        (SELECT COUNT(DISTINCT uid) FROM school_outbox o
                         WHERE tbl = 'attendance' AND refused > 0
                           AND NOT EXISTS (SELECT 1 FROM school_outbox n
                                           WHERE n.tbl = 'attendance' AND n.uid = o.uid
                                             AND n.refused = 0)),
                        (SELECT COUNT(*) FROM (SELECT DISTINCT tbl, uid FROM school_outbox
                                               WHERE tbl <> 'attendance' AND refused > 0))
                 FROM school_link WHERE linked = 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        match r.get::<_, Option<bool>>(2)? {
                            Some(true) => SchoolLogin::Office,
                            Some(false) => SchoolLogin::Door,
                            None => SchoolLogin::NotKnownYet,
                        },
                        r.get::<_, i64>(3)? as usize,
                        r.get::<_, i64>(4)? as usize,
                        r.get::<_, i64>(5)? as usize,
                    ))
                },
            )
            .optional()?;
        // Not linked: no clock of the school's to compare with.
        let Some((online, problem, login, waiting_marks, refused_marks, refused_changes)) = link
        else {
            return Ok(None);
        };
        let clock_off = self
            .school_clock(chrono::Local::now())?
            .filter(|c| c.ahead_ms.abs() >= crate::store::clock::SAY_MS)
            .map(|c| c.how_far());
        Ok(Some(SchoolStatus {
            online,
            no_server_here: false,
            login,
            problem,
            waiting_marks,
            refused_marks,
            refused_changes,
            clock_off,
            zone_off: None,
        }))
    }
}

/// A failure of the link, worded for an admin.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One door's connection: its local store, its data folder's photos, the server.
struct Door {
    store: Store,
    photos: PathBuf,
    server: SchoolServer,
    client: Option<postgres::Client>,
    /// The newest outbox entry the last round saw (entries it could not deliver included),
    /// so waiting ends only for a new change.
    outbox_seen: i64,
    /// When the changes the school refused were last offered again (`None`: not yet).
    refused_offered: Option<Instant>,
    /// Why the school refused them then: said again at every round while they wait.
    refused_why: Vec<String>,
}

impl Door {
    fn open(db: &Path, photos: &Path, server: &SchoolServer) -> Result<Door, StoreError> {
        let mut store = Store::open(db)?;
        store.link_to_school(&server.door)?;
        store.set_school_login(&server.login(), None)?;
        Ok(Door {
            store,
            photos: photos.to_path_buf(),
            server: server.clone(),
            client: None,
            outbox_seen: 0,
            refused_offered: None,
            refused_why: Vec::new(),
        })
    }

    fn client(&mut self) -> Result<&mut postgres::Client, ServerError> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            let mut client = server::connect(
                &self.server.url,
                self.server.ca_file.as_deref(),
                CONNECT_TIMEOUT,
            )?;
            let office = server::may_change_school(&mut client)?;
            if let Err(e) = self
                .store
                .set_school_login(&self.server.login(), Some(office))
            {
                tracing::warn!("school link: cannot record what its login may do: {e}");
            }
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    /// Sends the outbox and fetches the school's changes; returns what the server or this
    /// door refused, for the admin. On failure the connection is dropped (the next round
    /// connects again) and the door's state says offline.
    fn round(&mut self) -> Result<Vec<String>, LinkError> {
        let result = self.send_and_fetch();
        let state = match &result {
            Ok(refused) if refused.is_empty() => self.store.set_link_state(true, None),
            Ok(refused) => self.store.set_link_state(true, Some(&refused.join("\n"))),
            Err(LinkError::Server(e)) => {
                self.client = None;
                self.store.set_link_state(false, Some(&e.to_string()))
            }
            Err(LinkError::Store(_)) => Ok(()),
        };
        if let Err(e) = state {
            tracing::warn!("school link: cannot record its state: {e}");
        }
        result
    }

    fn send_and_fetch(&mut self) -> Result<Vec<String>, LinkError> {
        let mut refused = Vec::new();
        // First: a door whose clock is wrong learns it before anything else of this round.
        if let Some((ahead_ms, checked_ms)) = server::clock_ahead(self.client()?)? {
            self.store.set_school_clock(ahead_ms, checked_ms)?;
        }
        // A school server put back from a backup is told everything again: one restored
        // from `pg_dump` has new ids; one put back as a copy of its data folder has lost
        // the change this folder fetched last, and this folder gives it a new life so that
        // every machine notices (not all of them can tell by what they fetched).
        let mut server_id = server::identity(self.client()?)?;
        let mut went_back = self.store.server_went_back(&server_id)?;
        if let Some(seen) = self.store.last_seen()?.filter(|_| !went_back) {
            if !server::still_holds(self.client()?, &seen)? {
                tracing::warn!("the school server no longer holds change {}", seen.change);
                server_id = server::new_life(self.client()?, &server_id)?;
                went_back = true;
            }
        }
        if went_back {
            self.tell_everything_again(&server_id)?;
        }
        // After a restore the outbox is the backup's: what the school changed since then
        // is newer, so it is fetched first and wins. But what was changed here while this
        // folder was away from the school, joined again now, is newer than the school's
        // copy: it goes first, and the school's rules decide (a decision by hand stays).
        if self.store.reconciling()? {
            if let Some(up_to) = self.store.away_until()? {
                // What it refuses is offered again below, with its reasons.
                self.send_batches(true, Some(up_to), &mut Vec::new())?;
            }
            self.fetch(true, &mut refused)?;
        }
        self.send(&mut refused)?;
        self.fetch(false, &mut refused)?;
        Ok(refused)
    }

    /// The school server was found put back from a backup (or replaced): this folder
    /// offers it everything again and fetches everything anew. At the office's login, what
    /// was erased here and the school holds again goes first: the students deleted here
    /// (enrolled before they were deleted), the templates of students here and the class
    /// days that this folder no longer holds.
    fn tell_everything_again(&mut self, server_id: &str) -> Result<(), LinkError> {
        tracing::warn!("the school server was put back from a backup: offering it everything");
        if !self.store.office_login()? {
            self.store
                .school_server_went_back(server_id, None, "school server")?;
            return Ok(());
        }
        let deletions: Vec<_> = self
            .store
            .erasures()?
            .into_iter()
            .filter(|e| e.kind == crate::store::ErasureKind::Student)
            .collect();
        let mut deleted = Vec::new();
        if !deletions.is_empty() {
            let roll_nos: Vec<String> = deletions.iter().map(|e| e.subject.clone()).collect();
            for change in server::students_by_roll_no(self.client()?, &roll_nos)? {
                let Change::Row(SharedRow::Student {
                    uid,
                    roll_no,
                    enrolled_at,
                    ..
                }) = change
                else {
                    continue;
                };
                if deletions
                    .iter()
                    .any(|e| e.subject == roll_no && e.covers(&enrolled_at))
                {
                    deleted.push(uid);
                }
            }
        }
        let held = server::held(self.client()?)?;
        self.store
            .school_server_went_back(server_id, Some((&deleted, &held)), "school server")?;
        Ok(())
    }

    /// Sends the outbox, a batch at a time; what the server refuses stays in it, offered
    /// again after `OFFER_REFUSED_AGAIN` (its reasons are said at every round meanwhile).
    fn send(&mut self, refused: &mut Vec<String>) -> Result<(), LinkError> {
        let with_refused = self
            .refused_offered
            .is_none_or(|t| t.elapsed() >= OFFER_REFUSED_AGAIN);
        let mut now_refused = Vec::new();
        self.send_batches(with_refused, None, &mut now_refused)?;
        if with_refused {
            self.refused_offered = Some(Instant::now());
            self.refused_why.clear();
            self.join_refused_students(&mut now_refused)?;
            self.fetch_unwritten_students(&mut now_refused)?;
        }
        for why in now_refused {
            if !self.refused_why.contains(&why) {
                self.refused_why.push(why);
            }
        }
        refused.extend(self.refused_why.iter().cloned());
        if !self.store.refused_waiting()? {
            self.refused_why.clear();
        }
        Ok(())
    }

    /// Students of this folder's own that the school refused, whom the school holds under
    /// the same roll number, are joined to the school's (with its templates and marks).
    /// The school's student usually comes in a fetch and is joined then; this finds those
    /// fetched before a door could join them (Rollcall before 2026-12-05).
    fn join_refused_students(&mut self, refused: &mut Vec<String>) -> Result<(), LinkError> {
        let refused_here = self.store.refused_own_students()?;
        if refused_here.is_empty() {
            return Ok(());
        }
        let roll_nos: Vec<String> = refused_here.iter().map(|(r, _)| r.clone()).collect();
        // The school's copy of a student whose own change it refused (a correction: two
        // numbers swapped while another student held one of them) is not written over
        // that change: it waits here, and the admin is told why.
        let changes: Vec<Change> = server::students_by_roll_no(self.client()?, &roll_nos)?
            .into_iter()
            .filter(|c| {
                !matches!(c, Change::Row(SharedRow::Student { uid, .. })
                    if refused_here.iter().any(|(_, own)| own == uid))
            })
            .collect();
        self.write_fetched_again(&changes, refused)
    }

    /// The school's students this folder could not write (see `Store::apply`) are fetched
    /// again, with their templates and marks: written once what held their roll number
    /// here is resolved (until 2026-12-06 passed for good).
    fn fetch_unwritten_students(&mut self, refused: &mut Vec<String>) -> Result<(), LinkError> {
        let uids = self.store.unwritten_students()?;
        if uids.is_empty() {
            return Ok(());
        }
        let changes = server::students_by_uid(self.client()?, &uids)?;
        self.write_fetched_again(&changes, refused)
    }

    /// Writes here rows asked of the school again, outside the fetch (which stays where it
    /// was); adds what could not be written to `refused`.
    fn write_fetched_again(
        &mut self,
        changes: &[Change],
        refused: &mut Vec<String>,
    ) -> Result<(), LinkError> {
        if changes.is_empty() {
            return Ok(());
        }
        let pulled = self.store.pulled()?;
        refused.extend(self.store.apply(changes, pulled, None, false)?.refused);
        Ok(())
    }

    /// Sends the outbox's entries (`with_refused`: also those refused before; `up_to`: none
    /// after that entry), a batch at a time, and puts what the server refused back as
    /// refused.
    fn send_batches(
        &mut self,
        with_refused: bool,
        up_to: Option<i64>,
        refused: &mut Vec<String>,
    ) -> Result<(), LinkError> {
        loop {
            let batch = self.store.outbox(BATCH, with_refused, up_to)?;
            if batch.rows.is_empty() {
                self.outbox_seen = 0;
                return Ok(());
            }
            let mut rows = Vec::with_capacity(batch.rows.len());
            for p in &batch.rows {
                rows.push((p.table.clone(), p.uid.clone(), self.store.shared_row(p)?));
            }
            rows.sort_by_key(|(table, _, row)| sending_rank(table, row.as_ref()));
            let answers = server::push(self.client()?, &rows)?;
            let mut kept = Vec::new();
            let today = chrono::Local::now().date_naive();
            for ((table, uid, row), answer) in rows.iter().zip(&answers) {
                let Some((why, how)) = replica::Refused::of(answer, row.as_ref(), today) else {
                    continue;
                };
                refused.push(why.to_string());
                let row = replica::Pending {
                    table: table.clone(),
                    uid: uid.clone(),
                };
                kept.push((row, how));
            }
            self.outbox_seen = self.store.delivered(&batch, &kept)?;
            // Refused rows go back at the end of the outbox: offered with the refused ones,
            // they would come round again in this same round. Up to an entry, every one
            // goes now (the end is after it).
            let done = match up_to {
                Some(_) => false,
                None => (with_refused && !kept.is_empty()) || batch.rows.len() < BATCH,
            };
            if done {
                return Ok(());
            }
        }
    }

    /// Fetches the school's changes since the last ones held here and writes them here, a
    /// part at a time (`school_wins`: over what waits in the outbox for the same rows).
    fn fetch(&mut self, school_wins: bool, refused: &mut Vec<String>) -> Result<(), LinkError> {
        let since = self.store.pulled()?;
        self.client()?;
        let Door {
            store,
            photos,
            client,
            ..
        } = self;
        let client = client.as_mut().expect("connected above");
        let (mut parts, mut erased) = (0, false);
        let pulled = server::pull(client, since, |changes, context| {
            let applied = store.apply_part(changes, context, school_wins)?;
            for f in &applied.orphaned_photos {
                let _ = std::fs::remove_file(photos.join(f));
            }
            erased |= applied.deleted_students + applied.erased_face_data > 0;
            refused.extend(applied.refused);
            parts += 1;
            Ok::<_, LinkError>(())
        })?;
        if parts == 0 && pulled.newest <= since && !school_wins {
            return Ok(());
        }
        store.finish_fetch(pulled.newest, pulled.last_seen.as_ref(), school_wins)?;
        if erased {
            store.erase_in_saved_copies();
        }
        Ok(())
    }

    /// Waits up to `d` for another door's "something changed", or for a new change here
    /// (not for entries the server refused: they wait for the next round).
    fn wait(&mut self, d: Duration) {
        use postgres::fallible_iterator::FallibleIterator;
        let until = Instant::now() + d;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            let slice = left.min(NUDGE);
            match self.client.as_mut() {
                Some(c) => {
                    if let Ok(Some(_)) = c.notifications().timeout_iter(slice).next() {
                        return;
                    }
                }
                None => std::thread::sleep(slice),
            }
            if self
                .store
                .outbox_last_id()
                .is_ok_and(|last| last > self.outbox_seen)
            {
                return;
            }
        }
    }
}

/// One round now (for a command that runs once): send what waits here, fetch what changed;
/// returns what the server or this door refused, for the admin. Offline is not an error
/// for the caller's own work: everything stays in the outbox.
pub fn sync_once(
    db: &Path,
    photos: &Path,
    server: &SchoolServer,
) -> Result<Vec<String>, LinkError> {
    Door::open(db, photos, server)?.round()
}

/// The link running in the background for as long as the kiosk or the server runs.
pub struct SchoolLink {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SchoolLink {
    /// Links the data folder and starts the link's thread. (A kiosk learns the link's state
    /// from the database: `Store::school_status`.)
    pub fn start(
        db: &Path,
        photos: &Path,
        server: &SchoolServer,
    ) -> Result<SchoolLink, StoreError> {
        let mut door = Door::open(db, photos, server)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("rollcall-school".into())
            .spawn(move || {
                let mut backoff = POLL;
                let mut last_problem: Option<String> = None;
                while !stopping.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    match door.round() {
                        Ok(_) => {
                            backoff = POLL;
                            last_problem = None;
                            door.wait(
                                POLL.saturating_sub(started.elapsed())
                                    .max(Duration::from_millis(50)),
                            );
                        }
                        Err(e) => {
                            let text = e.to_string();
                            if last_problem.as_deref() != Some(&text) {
                                tracing::warn!("school link: {text}");
                            }
                            last_problem = Some(text);
                            crate::store::sleep_unless(&stopping, backoff);
                            backoff = (backoff * 2).min(Duration::from_secs(5));
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Open {
                path: db.display().to_string(),
                reason: format!("cannot start the school link: {e}"),
            })?;
        Ok(SchoolLink {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for SchoolLink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The order a batch of the outbox is sent in: parents before children (students and
/// class days, then templates and marks), deletions last — but a student's face data
/// erased goes before any template: the school deletes every template of the student it
/// holds, so a photo added since (enrolled again while the server was away) would lose
/// its template at the school, and, fetched back, its photo here.
fn sending_rank(table: &str, row: Option<&SharedRow>) -> u8 {
    match row {
        Some(row) => row.rank(),
        None if table == "face_data" => 1,
        None => 4,
    }
}
