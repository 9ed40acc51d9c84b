//! This door's side of the school link: the changes waiting in the outbox, the rows they
//! name, and the school's changes written into the local database (without going back to
//! the outbox).

use super::rows::{Change, FetchContext, LastSeen, SharedRow};
use super::server::Delivery;
use crate::store::stored_day;
use crate::store::{erasures, ErasureKind, Store, StoreError};
use chrono::NaiveDate;
use rusqlite::{params, ErrorCode, OptionalExtension, Transaction};

/// Puts every shared row this folder holds in the outbox: what a first link, or a school
/// server put back from a backup, is offered.
const OFFER_EVERYTHING: &str = "
    INSERT INTO school_outbox (tbl, uid) SELECT 'students', uid FROM students;
    INSERT INTO school_outbox (tbl, uid) SELECT 'class_days', day FROM class_days;
    INSERT INTO school_outbox (tbl, uid) SELECT 'face_templates', uid FROM face_templates;
    INSERT INTO school_outbox (tbl, uid) SELECT 'attendance', uid FROM attendance;";

/// Marks what the outbox holds now as an offer, not this folder's own changes: everything
/// held here offered (a first link, a school server put back) or a restored backup's
/// outbox. The school's rows win over it, and leaving the school drops it
/// (`db/0021_school_offer.sql`).
const OUTBOX_IS_AN_OFFER: &str =
    "UPDATE school_link SET offered_until = (SELECT MAX(id) FROM school_outbox)";

/// Unlinks a folder from the school server: it sends nothing more and forgets what it
/// learnt of the server (its login, its clock, how far it had fetched, which students it
/// has: linked again, it fetches them all anew).
const LEAVE: &str = "
    UPDATE school_link SET linked = 0, applying = 0, pulled = 0, online = 0, problem = NULL,
           reconcile = 0, clock_ahead_ms = NULL, clock_checked_ms = NULL, office = NULL,
           login = NULL, server_id = NULL, last_seen = NULL, away_until = NULL,
           offered_until = NULL;
    DELETE FROM school_students;";

/// A folder away from the school server: since when (a stored time), and the erasures
/// waiting to reach the school when it joins again (table and uid of each).
#[derive(Clone, Debug)]
pub(crate) struct AwayFromSchool {
    left_at: String,
    erasures: Vec<(String, String)>,
}

/// One change waiting for the school server: a row of a shared table, by uid.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub table: String,
    pub uid: String,
}

/// How a row the school server refused stays in the outbox (its `refused` column).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Refused {
    /// Offered again each round (the school may take it later: a student it does not know
    /// yet, a login that may not make the change).
    Again = 1,
    /// Never offered again: a mark dated on a day that had not come by the school's clock,
    /// nor by this door's. It stays here, counted as made while the clock was ahead, until
    /// it is removed.
    ForGood = 2,
}

impl Refused {
    /// How a row the server answered stays in the outbox, with the reason (`None`: taken).
    /// A mark dated on a day that has not come at the school is held for good only when it
    /// has not come here either (by `today`, this door's date): then this door's clock,
    /// now behind the mark's date, was ahead when it was made. Otherwise the server's
    /// clock may be the wrong one (behind), and the mark is offered again: the school takes
    /// it once the server's clock is set right.
    pub(super) fn of<'a>(
        answer: &'a Delivery,
        row: Option<&SharedRow>,
        today: NaiveDate,
    ) -> Option<(&'a str, Refused)> {
        match answer {
            Delivery::Taken => None,
            Delivery::Refused(why) => Some((why, Refused::Again)),
            Delivery::DatedAhead(why) => {
                let after_today = matches!(row, Some(SharedRow::Mark { day, .. })
                    if stored_day(day).is_some_and(|d| d > today));
                let how = if after_today {
                    Refused::ForGood
                } else {
                    Refused::Again
                };
                Some((why, how))
            }
        }
    }
}

/// The outbox entries up to `last_id` that name these rows (with those the school refused
/// before, when `with_refused`).
pub struct OutboxBatch {
    pub last_id: i64,
    pub rows: Vec<Pending>,
    pub with_refused: bool,
}

/// What writing the school's changes here did.
#[derive(Default, Debug)]
pub struct Applied {
    /// Enrolment photo files of deleted students, to delete from the photos folder.
    pub orphaned_photos: Vec<String>,
    /// Students deleted here because the school deleted them (recorded as erasures).
    pub deleted_students: usize,
    /// Students whose face data was erased here because another machine of the school
    /// erased it (recorded as erasures).
    pub erased_face_data: usize,
    /// Changes that could not be written here, worded for the admin.
    pub refused: Vec<String>,
}

/// A linked folder's name at the school and what it has not sent the school server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsent {
    /// The door's name at the school.
    pub door: String,
    /// Marks (and decisions by hand) made here that the server does not have.
    pub marks: usize,
    /// Other changes made here (students, photos, class days, erasures) it does not have.
    pub changes: usize,
}

/// What the linked folder of `conn` has not sent; `None` when it is not linked.
fn unsent(conn: &rusqlite::Connection) -> Result<Option<Unsent>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT door,
                    (SELECT COUNT(DISTINCT uid) FROM school_outbox WHERE tbl = 'attendance'),
                    (SELECT COUNT(*) FROM (SELECT DISTINCT tbl, uid FROM school_outbox
                                           WHERE tbl <> 'attendance'))
             FROM school_link WHERE linked = 1",
            [],
            |r| {
                Ok(Unsent {
                    door: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    marks: r.get::<_, i64>(1)? as usize,
                    changes: r.get::<_, i64>(2)? as usize,
                })
            },
        )
        .optional()?)
}

impl Store {
    /// Links this data folder to a school server as door `door`: from now on every change
    /// goes to the outbox. The first time, everything already here is queued too, after
    /// the school's own rows are fetched (they win: a backup made before the door was
    /// linked, restored at a linked door, must not overwrite the school).
    pub fn link_to_school(&mut self, door: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let linked: bool = tx.query_row("SELECT linked FROM school_link", [], |r| r.get(0))?;
        if !linked {
            // What was changed here while away from the school is sent before its rows are
            // fetched (they would win over it): the outbox up to here.
            tx.execute(
                "UPDATE school_link SET away_until = CASE WHEN left_at IS NOT NULL
                     THEN (SELECT MAX(id) FROM school_outbox) END",
                [],
            )?;
            tx.execute_batch(OFFER_EVERYTHING)?;
            tx.execute(OUTBOX_IS_AN_OFFER, [])?;
            tx.execute("UPDATE school_link SET linked = 1, reconcile = 1", [])?;
        }
        tx.execute(
            "UPDATE school_link SET door = ?1 WHERE door IS NOT ?1",
            [door],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What this folder has not sent the school server; `None` when it is not linked.
    pub fn unsent_to_school(&self) -> Result<Option<Unsent>, StoreError> {
        unsent(&self.conn)
    }

    /// Unlinks this folder from the school server: it is a door of its own again, sends
    /// nothing more for now and forgets what it learnt of the server (its login, its
    /// clock, how far it had fetched), so a later link starts afresh and offers everything
    /// it holds. What was changed here and not sent, and what is changed here from now on,
    /// waits for a later link, which tells the school first. Returns what was not sent;
    /// `None`: it was not linked.
    pub fn leave_school(&mut self, actor: &str) -> Result<Option<Unsent>, StoreError> {
        let tx = self.conn.transaction()?;
        let Some(left) = unsent(&tx)? else {
            return Ok(None);
        };
        // The changes made here and not sent stay, to reach the school first if this
        // folder joins it again, as they would have had the server come back before it
        // left (and what is changed here from now on joins them:
        // `db/0020_school_changes_while_away.sql`). What the link offered of everything
        // held here, or a restored backup's outbox, goes: the school's rows win over it
        // (`db/0021_school_offer.sql`) — but not its erasures, nor what was changed during
        // an earlier time away and not yet sent.
        tx.execute(
            "DELETE FROM school_outbox
             WHERE NOT (gone = 1 AND tbl IN ('students', 'face_templates', 'face_data'))
               AND id > COALESCE((SELECT away_until FROM school_link), 0)
               AND id <= COALESCE((SELECT offered_until FROM school_link), 0)",
            [],
        )?;
        // A folder that leaves again before its link told the school what was changed
        // during its first time away keeps the first time it left.
        tx.execute_batch(LEAVE)?;
        tx.execute(
            "UPDATE school_link SET left_at = COALESCE(left_at, ?1)",
            [crate::store::timestamp(chrono::Local::now())],
        )?;
        crate::store::audit(
            &tx,
            actor,
            "leave the school server",
            &format!(
                "door {:?}; {} and {} not sent",
                left.door,
                crate::wording::count(left.marks, "mark"),
                crate::wording::count(left.changes, "other change")
            ),
        )?;
        tx.commit()?;
        Ok(Some(left))
    }

    /// This folder's time away from the school server, when it left it and has not joined
    /// again: since when, and the erasures waiting to reach the school.
    pub(crate) fn away_from_school(&self) -> Result<Option<AwayFromSchool>, StoreError> {
        let Some(left_at) = self
            .conn
            .query_row(
                "SELECT left_at FROM school_link WHERE linked = 0 AND left_at IS NOT NULL",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
        else {
            return Ok(None);
        };
        let erasures = self
            .conn
            .prepare(
                "SELECT tbl, uid FROM school_outbox
                 WHERE gone = 1 AND tbl IN ('students', 'face_templates', 'face_data')
                 ORDER BY id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(Some(AwayFromSchool { left_at, erasures }))
    }

    /// Keeps a restored backup away from the school server as the folder it replaced was
    /// (`away`): the backup's link, if it had one, is left as `leave_school` leaves it, and
    /// its outbox holds the replaced folder's erasures waiting for the school, which were
    /// made after the backup or not yet told (and, from a backup made while away too, the
    /// changes made then). A backup made while linked would otherwise link a folder that
    /// left, and one made before any link would forget what was erased since (joined
    /// again, the school's older copy would come back).
    pub(crate) fn stay_away_from_school(
        &mut self,
        away: &AwayFromSchool,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        // A backup made while away holds what was changed here until then, still to send
        // (the restore brings those changes back); a linked one's outbox is the link's.
        tx.execute(
            "DELETE FROM school_outbox
             WHERE NOT EXISTS (SELECT 1 FROM school_link WHERE linked = 0 AND left_at IS NOT NULL)",
            [],
        )?;
        tx.execute_batch(LEAVE)?;
        tx.execute("UPDATE school_link SET left_at = ?1", [&away.left_at])?;
        let mut waiting =
            tx.prepare("INSERT INTO school_outbox (tbl, uid, gone) VALUES (?1, ?2, 1)")?;
        for (table, uid) in &away.erasures {
            waiting.execute([table, uid])?;
        }
        drop(waiting);
        tx.commit()?;
        Ok(())
    }

    /// Records what this folder's login to the school server may do (learnt on connecting):
    /// `office`, the school administrator's; else a door's, which may only add marks.
    /// `None`: the link is opened with `login` (the user name), so what another login was
    /// found to do is forgotten.
    pub(crate) fn set_school_login(
        &mut self,
        login: &str,
        office: Option<bool>,
    ) -> Result<(), StoreError> {
        match office {
            Some(office) => self.conn.execute(
                "UPDATE school_link SET login = ?1, office = ?2
                 WHERE login IS NOT ?1 OR office IS NOT ?2",
                params![login, office],
            )?,
            None => self.conn.execute(
                "UPDATE school_link SET login = ?1, office = NULL WHERE login IS NOT ?1",
                [login],
            )?,
        };
        Ok(())
    }

    /// Refuses a change only the school's office may make (`what`: "Enrolling a student")
    /// while this folder is linked with a door's login: the school would never take it, and
    /// it would stay here alone (an erased face at the school and every other door). Also
    /// while the link has not yet learnt what its login may do (it has not reached the
    /// server with it): such a change waits for that.
    pub(crate) fn office_only(&self, what: &'static str) -> Result<(), StoreError> {
        let (linked, office): (bool, Option<bool>) =
            self.conn
                .query_row("SELECT linked, office FROM school_link", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        match (linked, office) {
            (true, Some(false)) => Err(StoreError::OfficeOnly(what)),
            (true, None) => Err(StoreError::NotConnectedYet(what)),
            _ => Ok(()),
        }
    }

    /// Every outbox entry, oldest first: table, uid and whether it is a deletion.
    #[cfg(test)]
    pub(crate) fn outbox_entries(&self) -> Vec<(String, String, bool)> {
        self.conn
            .prepare("SELECT tbl, uid, gone FROM school_outbox ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Links this folder as the office's machine would be once its link has connected.
    #[cfg(test)]
    pub(crate) fn link_to_school_as_office(&mut self, door: &str) -> Result<(), StoreError> {
        self.link_to_school(door)?;
        self.set_school_login("rollcall", Some(true))
    }

    /// Marks a database restored from a backup: at a linked door its next round fetches
    /// the school's changes first and lets them win over its (the backup's) outbox — also
    /// when the backup was made before the door was linked and a running link takes it
    /// up. Returns whether the backup is of a linked door.
    pub(crate) fn reconcile_after_restore(&mut self) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(OUTBOX_IS_AN_OFFER, [])?;
        tx.execute("UPDATE school_link SET reconcile = 1", [])?;
        let linked = tx.query_row("SELECT linked FROM school_link", [], |r| r.get(0))?;
        tx.commit()?;
        Ok(linked)
    }

    /// The oldest outbox entries to offer the school (at most `limit`, and none after
    /// `up_to` when given), one per row: those not offered yet, and with `with_refused`
    /// those the school refused before and may take later (not those refused for good).
    pub(super) fn outbox(
        &self,
        limit: usize,
        with_refused: bool,
        up_to: Option<i64>,
    ) -> Result<OutboxBatch, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, tbl, uid FROM school_outbox
             WHERE (refused = 0 OR (?2 AND refused = 1)) AND (?3 IS NULL OR id <= ?3)
             ORDER BY id LIMIT ?1",
        )?;
        let mut last_id = 0;
        let mut rows: Vec<Pending> = Vec::new();
        let entries = stmt.query_map(params![limit as i64, with_refused, up_to], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })?;
        for e in entries {
            let (id, table, uid) = e?;
            last_id = id;
            let p = Pending { table, uid };
            if !rows.contains(&p) {
                rows.push(p);
            }
        }
        Ok(OutboxBatch {
            last_id,
            rows,
            with_refused,
        })
    }

    /// Whether changes the school refused wait here to be offered again.
    pub(super) fn refused_waiting(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM school_outbox WHERE refused = 1)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Students here whose row the school refused (still in the outbox), by roll number
    /// and uid: enrolled here, the school may hold a student of the same roll number,
    /// fetched before this door could join the two.
    pub(super) fn refused_own_students(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT s.roll_no, s.uid FROM students s JOIN school_outbox o
                 ON o.tbl = 'students' AND o.uid = s.uid AND o.gone = 0 AND o.refused = 1",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The school's students not written here (see `write_students`), by uid.
    pub(super) fn unwritten_students(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT uid FROM school_unwritten")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest outbox entry (0 when the outbox is empty).
    pub(super) fn outbox_last_id(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM school_outbox", [], |r| {
                r.get(0)
            })?)
    }

    /// Forgets the outbox entries `batch` sent (a row the school took also loses the
    /// entries it was refused by before that were not in the batch) except those for
    /// `kept` rows, which stay as refused; returns the newest entry left (0 when none), so
    /// a later change has a higher number.
    pub(super) fn delivered(
        &mut self,
        batch: &OutboxBatch,
        kept: &[(Pending, Refused)],
    ) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        // A refused deletion stays one (an erasure made while away from the school keeps
        // the school's copy of what it erased from being fetched back).
        let mut deletion = tx.prepare(
            "SELECT gone FROM school_outbox WHERE tbl = ?1 AND uid = ?2 AND id <= ?3
             ORDER BY id DESC LIMIT 1",
        )?;
        let mut kept_gone = Vec::with_capacity(kept.len());
        for (p, _) in kept {
            let gone: Option<bool> = deletion
                .query_row(params![p.table, p.uid, batch.last_id], |r| r.get(0))
                .optional()?;
            kept_gone.push(gone.unwrap_or(false));
        }
        drop(deletion);
        // The earlier refusals of rows in this batch that the batch itself did not hold
        // (few, usually none: found from the refused entries, not looked up once per row
        // sent). Only those: a change made while the batch was on its way has a higher
        // number and waits for the next.
        let earlier: Vec<(i64, Refused, Pending)> = tx
            .prepare(
                "SELECT f.id, f.refused, f.tbl, f.uid FROM school_outbox f
                 WHERE (f.refused = 2 OR (f.refused = 1 AND NOT ?2))
                   AND EXISTS (SELECT 1 FROM school_outbox s
                               WHERE s.id <= ?1 AND (s.refused = 0 OR (?2 AND s.refused = 1))
                                 AND s.tbl = f.tbl AND s.uid = f.uid)",
            )?
            .query_map(params![batch.last_id, batch.with_refused], |r| {
                let how = match r.get::<_, i64>(1)? {
                    2 => Refused::ForGood,
                    _ => Refused::Again,
                };
                Ok((
                    r.get(0)?,
                    how,
                    Pending {
                        table: r.get(2)?,
                        uid: r.get(3)?,
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        for (id, how, p) in earlier {
            // Refused again, a row gets a new entry below; one held for good keeps its own.
            let held = how == Refused::ForGood && kept.iter().any(|(k, _)| *k == p);
            if !held {
                tx.execute("DELETE FROM school_outbox WHERE id = ?1", [id])?;
            }
        }
        tx.execute(
            "DELETE FROM school_outbox
             WHERE id <= ?1 AND (refused = 0 OR (?2 AND refused = 1))",
            params![batch.last_id, batch.with_refused],
        )?;
        // The students the school took (a deletion taken leaves no student here to list).
        let mut taken = tx.prepare(
            "INSERT OR IGNORE INTO school_students (uid) SELECT uid FROM students WHERE uid = ?1",
        )?;
        for p in &batch.rows {
            if p.table == "students" && !kept.iter().any(|(k, _)| k == p) {
                taken.execute([&p.uid])?;
            }
        }
        drop(taken);
        for ((p, how), gone) in kept.iter().zip(kept_gone) {
            tx.execute(
                "INSERT INTO school_outbox (tbl, uid, refused, gone) VALUES (?1, ?2, ?3, ?4)",
                params![p.table, p.uid, *how as i64, gone],
            )?;
        }
        let newest = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM school_outbox", [], |r| {
            r.get(0)
        })?;
        tx.commit()?;
        Ok(newest)
    }

    /// The current state of a shared row here, or `None` when it was deleted.
    pub(super) fn shared_row(&self, p: &Pending) -> Result<Option<SharedRow>, StoreError> {
        let c = &self.conn;
        let row = match p.table.as_str() {
            "students" => c
                .query_row(
                    "SELECT uid, roll_no, name, email, enrolled_at, last_day, away FROM students
                     WHERE uid = ?1",
                    [&p.uid],
                    |r| {
                        Ok(SharedRow::Student {
                            uid: r.get(0)?,
                            roll_no: r.get(1)?,
                            name: r.get(2)?,
                            email: r.get(3)?,
                            enrolled_at: r.get(4)?,
                            last_day: r.get(5)?,
                            away: r.get(6)?,
                        })
                    },
                )
                .optional()?,
            "face_templates" => c
                .query_row(
                    "SELECT t.uid, s.uid, t.model_id, t.vector, COALESCE(p.origin, t.origin, 'upload')
                     FROM face_templates t JOIN students s ON s.id = t.student_id
                     LEFT JOIN photos p ON p.id = t.photo_id WHERE t.uid = ?1",
                    [&p.uid],
                    |r| {
                        Ok(SharedRow::Template {
                            uid: r.get(0)?,
                            student_uid: r.get(1)?,
                            model_id: r.get(2)?,
                            vector: r.get(3)?,
                            origin: r.get(4)?,
                        })
                    },
                )
                .optional()?,
            "attendance" => c
                .query_row(
                    "SELECT a.uid, s.uid, a.day, a.marked_at, a.score, a.source, a.door, a.snapshot,
                            a.present
                     FROM attendance a JOIN students s ON s.id = a.student_id WHERE a.uid = ?1",
                    [&p.uid],
                    |r| {
                        Ok(SharedRow::Mark {
                            uid: r.get(0)?,
                            student_uid: r.get(1)?,
                            day: r.get(2)?,
                            marked_at: r.get(3)?,
                            score: r.get(4)?,
                            source: r.get(5)?,
                            door: r.get(6)?,
                            snapshot: r.get(7)?,
                            present: r.get(8)?,
                        })
                    },
                )
                .optional()?,
            "class_days" => c
                .query_row(
                    "SELECT day, declared_at, actor FROM class_days WHERE day = ?1",
                    [&p.uid],
                    |r| {
                        Ok(SharedRow::ClassDay {
                            day: r.get(0)?,
                            declared_at: r.get(1)?,
                            actor: r.get(2)?,
                        })
                    },
                )
                .optional()?,
            _ => None,
        };
        Ok(row)
    }

    /// The school server's last change held here.
    pub(super) fn pulled(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT pulled FROM school_link", [], |r| r.get(0))?)
    }

    /// The newest change fetched from the school server, to find again there
    /// (`server::still_holds`); `None`: nothing fetched since the link began.
    pub(super) fn last_seen(&self) -> Result<Option<LastSeen>, StoreError> {
        let text: Option<String> =
            self.conn
                .query_row("SELECT last_seen FROM school_link", [], |r| r.get(0))?;
        // One this Rollcall cannot read tells nothing.
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Whether the school server the link reached (`server::identity`) is another than it
    /// reached before: the school server was put back from a backup (or replaced, or
    /// given a new life by a machine that found it put back), which
    /// `school_server_went_back` deals with. The first one reached is recorded; so is the
    /// same server's id with its life, where a Rollcall before 2026-12-05's recorded it
    /// without.
    pub(super) fn server_went_back(&mut self, id: &str) -> Result<bool, StoreError> {
        let before: Option<String> =
            self.conn
                .query_row("SELECT server_id FROM school_link", [], |r| r.get(0))?;
        let went_back = match &before {
            None => false,
            Some(before) if before.matches('/').count() == 1 => {
                !id.starts_with(&format!("{before}/"))
            }
            Some(before) => before != id,
        };
        if !went_back && before.as_deref() != Some(id) {
            self.conn
                .execute("UPDATE school_link SET server_id = ?1", [id])?;
        }
        Ok(went_back)
    }

    /// Whether this folder's login to the school server is the office's (as last learnt).
    pub(super) fn office_login(&self) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(office, 0) FROM school_link", [], |r| {
                r.get(0)
            })?)
    }

    /// The school server was put back from a backup (now `server_id`): it lacks what
    /// changed after the backup was made, and numbers its new changes from the backup's.
    /// So this folder offers it everything it holds, as at a first link, and fetches
    /// everything anew (what it fetched since may be numbered as what it had fetched
    /// before). What this folder holds is newer than the backup, so it is sent first and
    /// is not overwritten by the school's older copies. At the office's login (`office`:
    /// `Some`) what was erased here since goes first, or it would come back from the
    /// backup: the school's students (uids) deleted here, and of what the school held,
    /// the templates of a student here that this folder does not hold (their face data
    /// erased, a photo removed) and the class days it does not hold (withdrawn). At a
    /// door's login (`None`) only the marks not decided by hand are offered: its copies
    /// of the rest would be refused.
    pub(super) fn school_server_went_back(
        &mut self,
        server_id: &str,
        office: Option<(&[String], &super::server::Held)>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let mut erased = 0;
        if let Some((deleted, held)) = office {
            for uid in deleted {
                erased += tx.execute(
                    "INSERT INTO school_outbox (tbl, uid, gone) VALUES ('students', ?1, 1)",
                    [uid],
                )?;
            }
            let mut gone = tx.prepare(
                "INSERT INTO school_outbox (tbl, uid, gone)
                 SELECT 'face_templates', ?1, 1
                 WHERE EXISTS (SELECT 1 FROM students WHERE uid = ?2)
                   AND NOT EXISTS (SELECT 1 FROM face_templates WHERE uid = ?1)",
            )?;
            for (template, student) in &held.templates {
                erased += gone.execute([template, student])?;
            }
            let mut withdrawn = tx.prepare(
                "INSERT INTO school_outbox (tbl, uid, gone) SELECT 'class_days', ?1, 1
                 WHERE NOT EXISTS (SELECT 1 FROM class_days WHERE day = ?1)",
            )?;
            for day in &held.class_days {
                erased += withdrawn.execute([day])?;
            }
            tx.execute_batch(OFFER_EVERYTHING)?;
        } else {
            tx.execute(
                "INSERT INTO school_outbox (tbl, uid)
                 SELECT 'attendance', uid FROM attendance WHERE source <> 'admin'",
                [],
            )?;
        }
        // It may lack students it had taken from here: it tells again which it has.
        tx.execute("DELETE FROM school_students", [])?;
        tx.execute(
            "UPDATE school_link SET pulled = 0, last_seen = NULL, reconcile = 0, server_id = ?1",
            [server_id],
        )?;
        tx.execute(OUTBOX_IS_AN_OFFER, [])?;
        crate::store::audit(
            &tx,
            actor,
            "school server put back",
            &format!(
                "the school server was put back from a backup (or replaced): everything \
                 here offered to it again{}, and everything it holds fetched anew",
                if erased > 0 {
                    format!(
                        ", after {} made here",
                        crate::wording::count(erased, "deletion")
                    )
                } else {
                    String::new()
                }
            ),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The outbox's last entry made while this folder was away from the school, when it
    /// has joined it again and not yet fetched it: those entries go first (`None`: none).
    pub(super) fn away_until(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT away_until FROM school_link", [], |r| r.get(0))?)
    }

    /// Whether the school's changes must be fetched before the outbox is sent, and win
    /// over it: after a restore (the outbox is the backup's, older than what the school
    /// changed since) or a first link.
    pub(super) fn reconciling(&self) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT reconcile FROM school_link", [], |r| r.get(0))?)
    }

    /// Writes the school's changes here, whole (`apply_part`, then `finish_fetch`).
    pub(super) fn apply(
        &mut self,
        changes: &[Change],
        up_to: i64,
        last_seen: Option<&LastSeen>,
        school_wins: bool,
    ) -> Result<Applied, StoreError> {
        let applied = self.apply_part(changes, &FetchContext::of(changes), school_wins)?;
        self.finish_fetch(up_to, last_seen, school_wins)?;
        Ok(applied)
    }

    /// Writes a part of the school's changes here in one transaction (deletions first,
    /// then rows, parents before children; `context`: the whole fetch's). With
    /// `school_wins`, what waits in the outbox for those rows is dropped (the school's
    /// version stands).
    pub(super) fn apply_part(
        &mut self,
        changes: &[Change],
        context: &FetchContext,
        school_wins: bool,
    ) -> Result<Applied, StoreError> {
        let tx = self.conn.transaction()?;
        let applied = untold(&tx, || write_part(&tx, changes, context, school_wins))?;
        tx.commit()?;
        if applied.deleted_students + applied.erased_face_data > 0 {
            self.flush_erased();
        }
        Ok(applied)
    }

    /// Ends a fetch whose every part is written here: moves the "pulled" mark to `up_to`
    /// (and `last_seen`, when given, to that change); with `school_wins` the door stops
    /// reconciling (not before: a fetch cut short is made again, the school winning).
    pub(super) fn finish_fetch(
        &mut self,
        up_to: i64,
        last_seen: Option<&LastSeen>,
        school_wins: bool,
    ) -> Result<(), StoreError> {
        let last_seen = last_seen.and_then(|seen| serde_json::to_string(seen).ok());
        // Once the school's rows are all here, the erasures made while this folder was
        // away from the school are ordinary changes waiting to be sent.
        self.conn.execute(
            "UPDATE school_link SET pulled = MAX(pulled, ?1),
                    last_seen = CASE WHEN ?1 > pulled AND ?2 IS NOT NULL THEN ?2
                                     ELSE last_seen END,
                    reconcile = CASE WHEN ?3 THEN 0 ELSE reconcile END,
                    left_at = CASE WHEN ?3 THEN NULL ELSE left_at END,
                    away_until = CASE WHEN ?3 THEN NULL ELSE away_until END",
            params![up_to, last_seen, school_wins],
        )?;
        Ok(())
    }

    /// Records whether the school server answered, and what went wrong (written only when
    /// it changes).
    pub(super) fn set_link_state(
        &mut self,
        online: bool,
        problem: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE school_link SET online = ?1, problem = ?2
             WHERE online IS NOT ?1 OR problem IS NOT ?2",
            params![online, problem],
        )?;
        Ok(())
    }
}

/// Deletes here the row of `table` the school deleted (`context`: the fetch it came in).
fn delete_here(
    tx: &Transaction<'_>,
    table: &str,
    uid: &str,
    context: &FetchContext,
    applied: &mut Applied,
) -> Result<(), StoreError> {
    match table {
        "students" => {
            tx.execute("DELETE FROM school_unwritten WHERE uid = ?1", [uid])?;
            tx.execute("DELETE FROM school_students WHERE uid = ?1", [uid])?;
            if let Some(id) = student_here(tx, uid)? {
                applied
                    .orphaned_photos
                    .extend(crate::store::photo_names(tx, id)?);
                // Remembered, as a deletion here is: restoring this door's older backup
                // does not bring the student back.
                if let Some((roll_no, _)) = crate::store::name_of(tx, id)? {
                    erasures::record(tx, ErasureKind::Student, &roll_no)?;
                    applied.deleted_students += 1;
                }
            }
            tx.execute("DELETE FROM students WHERE uid = ?1", [uid])?;
        }
        "face_templates" => {
            tx.execute("DELETE FROM face_templates WHERE uid = ?1", [uid])?;
        }
        // A student's face data erased at another machine: what this one holds of it goes
        // too (its photos, which would otherwise be embedded again at the next model
        // change and sent back to the school, snapshots, refused faces, observations).
        "face_data" => {
            if let Some(id) = student_here(tx, uid)? {
                erase_face_data_here(tx, id, uid, context, applied)?;
            }
        }
        "attendance" => {
            tx.execute("DELETE FROM attendance WHERE uid = ?1", [uid])?;
        }
        "class_days" => {
            tx.execute("DELETE FROM class_days WHERE day = ?1", [uid])?;
        }
        _ => {}
    }
    Ok(())
}

/// A student's face data erased at another machine: what this one holds of it goes too
/// (its photos, which would otherwise be embedded again at the next model change and sent
/// back to the school, snapshots, refused faces, observations) — but not what came after
/// the erasure. The school deleted every template of the student it held then, so a
/// template of theirs it sends in the same fetch (`context`) was taken since: the erasure
/// is an old one fetched again (a machine that left the school and joined it again fetches
/// everything, old deletions too) and the student was enrolled again since. Then only the
/// face data dated before the first photo here of the school's templates goes (with no
/// such photo, before the last erasure made here, when every one fetched was), each photo
/// erased recorded by its file name (the erasure recorded by roll number would, at a
/// restore, erase the new photos in the backup as well).
fn erase_face_data_here(
    tx: &Transaction<'_>,
    id: i64,
    uid: &str,
    context: &FetchContext,
    applied: &mut Applied,
) -> Result<(), StoreError> {
    let taken_since = context.templates_of(uid);
    let mut kept = Vec::new();
    for template in taken_since {
        let added: Option<String> = tx
            .query_row(
                "SELECT p.added_at FROM face_templates t JOIN photos p ON p.id = t.photo_id
                 WHERE t.uid = ?1 AND t.student_id = ?2",
                params![template, id],
                |r| r.get(0),
            )
            .optional()?;
        kept.extend(added);
    }
    let time = |t: &String| chrono::DateTime::parse_from_rfc3339(t).ok();
    let mut since = kept.into_iter().min_by_key(time);
    if since.is_none() && !taken_since.is_empty() {
        // No photo here of the school's templates (a door's are all from the school): if
        // this folder made every erasure of the student fetched here (as many recorded as
        // fetched), this one was made here already, and what came after the last is new.
        let erasures_fetched = context.erasures_of(uid);
        let made_here = erasures::face_data_erased_at(tx, id)?;
        if made_here.len() >= erasures_fetched {
            since = made_here.into_iter().max_by_key(time);
        }
    }
    let (files, erased) = match &since {
        None => {
            let (files, erased, recorded) = crate::store::erase_recorded_face_data(tx, id)?;
            if !recorded {
                return Ok(());
            }
            (files, erased)
        }
        Some(since) => {
            let (files, erased) = crate::store::erase_face_rows(tx, id, Some(since))?;
            for file in &files {
                erasures::record(tx, ErasureKind::Photo, file)?;
            }
            if erased == crate::store::Erased::default() {
                return Ok(());
            }
            (files, erased)
        }
    };
    crate::store::audit(
        tx,
        "school server",
        "erase face data",
        &format!("student {id}, erased at another machine of the school: {erased}"),
    )?;
    applied.orphaned_photos.extend(files);
    applied.erased_face_data += 1;
    Ok(())
}

/// Whether the school's `row` belongs to what this folder erased and has yet to tell the
/// school (a deletion waiting in the outbox): a student deleted here and their templates
/// and marks, a template removed here, or a template of a student whose face data was
/// erased here. Not written here: the school's copy goes once it hears of it (a door's
/// login, which may not erase, leaves it waiting, refused, and the data stays out of this
/// folder meanwhile).
fn erased_here_first(tx: &Transaction<'_>, row: &SharedRow) -> rusqlite::Result<bool> {
    let (student, template) = match row {
        SharedRow::Student { uid, .. } => (uid, None),
        SharedRow::Template {
            uid, student_uid, ..
        } => (student_uid, Some(uid)),
        SharedRow::Mark { student_uid, .. } => (student_uid, None),
        SharedRow::ClassDay { .. } => return Ok(false),
    };
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM school_outbox
                        WHERE gone = 1
                          AND ((tbl = 'students' AND uid = ?1)
                               OR (?2 IS NOT NULL AND tbl = 'face_data' AND uid = ?1)
                               OR (tbl = 'face_templates' AND uid = ?2)))",
        params![student, template],
        |r| r.get(0),
    )
}

/// What a student of the school's is to a student enrolled here under the same roll
/// number whom the school never took.
enum Joined {
    /// The same person (the same name or email, whatever the case and spacing): joined;
    /// who, for the audit log.
    Same(String),
    /// Someone else: left apart (the school's student is not written here); who.
    SomeoneElse(String),
}

/// A student enrolled here whom the school never took (the enrolment still waits in the
/// outbox: a kiosk's own student from before it joined with a door's login, or one
/// enrolled here while the office enrolled the same person), when the school sends a
/// student `row` of the same roll number and the same name or email: the same person, so
/// one student from then on. The student here takes the school's uid (the school's name
/// and email are written over it next) and keeps its marks, photos and templates, which
/// are offered to the school again at once, now as its student's. Without this, neither
/// side could take the other's student, and the marks made here never reached the school.
/// A student of the same roll number by another name and email is someone else (a kiosk
/// that numbered its own students 1, 2, 3 …): joined, they would be marked for each other.
fn join_own_student(tx: &Transaction<'_>, row: &SharedRow) -> rusqlite::Result<Option<Joined>> {
    let Some((uid, roll_no, name, email)) = row.student_named() else {
        return Ok(None);
    };
    if student_here(tx, uid)?.is_some() {
        return Ok(None);
    }
    let own: Option<(i64, String, String, String)> = tx
        .query_row(
            "SELECT s.id, s.uid, s.name, s.email FROM students s
             WHERE s.roll_no = ?1 AND EXISTS (SELECT 1 FROM school_outbox o
                                              WHERE o.tbl = 'students' AND o.uid = s.uid
                                                AND o.gone = 0)
               AND NOT EXISTS (SELECT 1 FROM school_students k WHERE k.uid = s.uid)",
            [roll_no],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((id, own_uid, own_name, own_email)) = own else {
        return Ok(None);
    };
    let who = format!("{roll_no} ({own_name})");
    let alike = |a: &str, b: &str| {
        let words = |s: &str| {
            s.split_whitespace()
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        };
        words(a) == words(b)
    };
    if !alike(name, &own_name) && !alike(email, &own_email) {
        return Ok(Some(Joined::SomeoneElse(who)));
    }
    tx.execute(
        "UPDATE students SET uid = ?1 WHERE id = ?2",
        params![uid, id],
    )?;
    tx.execute(
        "DELETE FROM school_outbox WHERE tbl = 'students' AND uid = ?1",
        [own_uid],
    )?;
    tx.execute(
        "UPDATE school_outbox SET refused = 0
         WHERE refused = 1
           AND ((tbl = 'attendance'
                 AND uid IN (SELECT uid FROM attendance WHERE student_id = ?1))
                OR (tbl = 'face_templates'
                    AND uid IN (SELECT uid FROM face_templates WHERE student_id = ?1)))",
        [id],
    )?;
    Ok(Some(Joined::Same(who)))
}

/// `Store::apply_part` within its transaction (the outbox's triggers held).
fn write_part(
    tx: &Transaction<'_>,
    changes: &[Change],
    context: &FetchContext,
    school_wins: bool,
) -> Result<Applied, StoreError> {
    let mut applied = Applied::default();
    if school_wins {
        // But not an erasure made here while this folder was away from the school
        // (linked again, it fetches everything): it is newer than anything the school
        // sends (an old erasure of the same student fetched again included).
        let mut drop = tx.prepare(
            "DELETE FROM school_outbox WHERE tbl = ?1 AND uid = ?2
               AND NOT (gone = 1 AND (SELECT left_at FROM school_link) IS NOT NULL)",
        )?;
        for change in changes {
            let (table, uid) = change.key();
            drop.execute([table, uid])?;
        }
    }
    let mut deleted = std::collections::HashSet::new();
    for change in changes {
        if let Change::Gone { table, uid } = change {
            if deleted.insert((table, uid)) {
                delete_here(tx, table, uid, context, &mut applied)?;
            }
        }
    }
    let mut rows: Vec<&SharedRow> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Row(row) => Some(row),
            Change::Gone { .. } => None,
        })
        .collect();
    rows.sort_by_key(|row| row.rank());
    // Every student the school sends, it has (written here or not).
    let mut listed = tx.prepare("INSERT OR IGNORE INTO school_students (uid) VALUES (?1)")?;
    for (uid, ..) in rows.iter().filter_map(|row| row.student_keys()) {
        listed.execute([uid])?;
    }
    drop(listed);
    // Students first, all of them (their templates and marks need them here).
    let mut waiting = Vec::new();
    for row in rows.iter().copied().filter(|r| r.rank() == 0) {
        if erased_here_first(tx, row)? {
            continue;
        }
        let someone_else = match join_own_student(tx, row)? {
            Some(Joined::Same(who)) => {
                crate::store::audit(
                    tx,
                    "school server",
                    "join student",
                    &format!(
                        "{who}, enrolled here and not taken by the school, is the school's \
                         student of the same roll number: one student from now on"
                    ),
                )?;
                None
            }
            Some(Joined::SomeoneElse(who)) => Some(who),
            None => None,
        };
        waiting.push((row, someone_else));
    }
    let mut overwritten = Vec::new();
    for (row, _) in &waiting {
        if let Some(lost) = refused_change_here(tx, row)? {
            overwritten.push((row.key().1, lost));
        }
    }
    let unwritten = write_students(tx, waiting)?;
    let unwritten_uids: Vec<&str> = unwritten.iter().map(|(row, ..)| row.key().1).collect();
    // A change made here that the school refused, written over by the school's copy of the
    // student (changed at another machine meanwhile): the school's stands, and the audit
    // log keeps what was lost here.
    for (uid, lost) in overwritten {
        if !unwritten_uids.contains(&uid) {
            tx.execute(
                "DELETE FROM school_outbox WHERE tbl = 'students' AND uid = ?1 AND refused = 1",
                [uid],
            )?;
            crate::store::audit(
                tx,
                "school server",
                "school's copy over a refused change",
                &lost,
            )?;
        }
    }
    for (row, someone_else, e) in &unwritten {
        let Some((uid, roll_no, email)) = row.student_keys() else {
            continue;
        };
        // Fetched again at every offer of what was refused, until written.
        tx.execute(
            "INSERT INTO school_unwritten (uid) VALUES (?1) ON CONFLICT DO NOTHING",
            [uid],
        )?;
        let holder = students_holding(tx, roll_no, email, uid)?
            .into_iter()
            .next();
        applied.refused.push(match (someone_else, holder) {
            (Some(who), _) => format!(
                "The school's {} was not written here: this computer's own student \
                 {who}, whom the school does not have, holds that roll number and is \
                 someone else by name and email. Enrol them at the office under a \
                 roll number of their own, then delete them here (Admin → Students, or \
                 rollcall delete {roll_no} --yes): the school's student is written here \
                 then.",
                row.describe()
            ),
            (None, Some(holder)) => holder.words(row, &unwritten_uids),
            (None, None) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                format!(
                    "The school's {} is not written here yet: another student here holds \
                     that roll number or email address until the school's change of \
                     theirs arrives (it is fetched again shortly).",
                    row.describe()
                )
            }
            (None, None) => format!("{}: {e}", row.describe()),
        });
    }
    for row in rows.into_iter().filter(|r| r.rank() > 0) {
        if erased_here_first(tx, row)? {
            continue;
        }
        if let Err(e) = upsert_here(tx, row) {
            applied.refused.push(format!("{}: {e}", row.describe()));
        }
    }
    Ok(applied)
}

/// Runs `change` with the outbox's triggers held (`applying` set): what it changes here is
/// not a change for the school.
pub(crate) fn untold<T, E: From<rusqlite::Error>>(
    conn: &rusqlite::Connection,
    change: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    conn.execute("UPDATE school_link SET applying = 1", [])?;
    let done = change()?;
    conn.execute("UPDATE school_link SET applying = 0", [])?;
    Ok(done)
}

/// Drops from the outbox everything of student `id`, whom the school never took (deleting
/// them then, `untold`, sends nothing).
pub(crate) fn forget_unsent_student(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM school_outbox
         WHERE (tbl = 'students' AND uid = (SELECT uid FROM students WHERE id = ?1))
            OR (tbl = 'attendance' AND uid IN (SELECT uid FROM attendance WHERE student_id = ?1))
            OR (tbl = 'face_templates'
                AND uid IN (SELECT uid FROM face_templates WHERE student_id = ?1))",
        [id],
    )?;
    Ok(())
}

/// A student row of the school's that could not be written here: the row, who of this
/// computer's own holds its roll number (if known), and why.
type Unwritten<'r> = (&'r SharedRow, Option<String>, rusqlite::Error);

/// Writes the school's student rows here (each with who holds its roll number here, if
/// someone else not taken by the school); returns those that could not be written, with
/// why. A roll number held here by another of the school's students may be given up in
/// the same fetch (one student's corrected number given to another, two numbers swapped
/// through a third): rows wait for the others and are written again while that frees
/// numbers, and two or more rows each waiting for the other's number are parted by giving
/// one of their students, for a moment, a number no one has. When a student so parted is
/// still not written (another holds their new number or address as well), nothing of the
/// parting is kept: those rows wait as they were, with no number of the moment left here.
fn write_students<'r>(
    tx: &Transaction<'_>,
    waiting: Vec<(&'r SharedRow, Option<String>)>,
) -> rusqlite::Result<Vec<Unwritten<'r>>> {
    let mut failed = write_while_it_frees(tx, waiting)?;
    if failed.len() < 2 {
        return Ok(failed);
    }
    let before: Vec<_> = failed.iter().map(|(row, s, _)| (*row, s.clone())).collect();
    tx.execute_batch("SAVEPOINT parting")?;
    let mut parted: Vec<String> = Vec::new();
    // Each parting takes a student out of everyone's way for good, so there are at most
    // as many as rows.
    while parted.len() < before.len() {
        let Some(holder) = make_way(tx, &failed)? else {
            break;
        };
        parted.push(holder);
        let again = failed.into_iter().map(|(row, s, _)| (row, s)).collect();
        failed = write_while_it_frees(tx, again)?;
    }
    let stranded = failed
        .iter()
        .any(|(row, ..)| parted.iter().any(|p| p == row.key().1));
    if stranded {
        tx.execute_batch("ROLLBACK TO parting; RELEASE parting")?;
        return write_while_it_frees(tx, before);
    }
    tx.execute_batch("RELEASE parting")?;
    Ok(failed)
}

/// Writes the rows, again and again while that frees numbers for the others; returns those
/// that could not be written.
fn write_while_it_frees<'r>(
    tx: &Transaction<'_>,
    mut waiting: Vec<(&'r SharedRow, Option<String>)>,
) -> rusqlite::Result<Vec<Unwritten<'r>>> {
    loop {
        let before = waiting.len();
        let mut failed = Vec::new();
        for (row, someone_else) in waiting {
            match upsert_here(tx, row) {
                Ok(()) => {
                    let (_, uid) = row.key();
                    tx.execute("DELETE FROM school_unwritten WHERE uid = ?1", [uid])?;
                }
                Err(e) => failed.push((row, someone_else, e)),
            }
        }
        if failed.is_empty() || failed.len() == before {
            return Ok(failed);
        }
        waiting = failed.into_iter().map(|(row, s, _)| (row, s)).collect();
    }
}

/// Among `failed` student rows, one whose roll number or email address another of them
/// holds here: that student gets, for a moment, a number and an address no one has (their
/// own row gives them their new ones); returns their uid. None when there is none.
fn make_way(tx: &Transaction<'_>, failed: &[Unwritten<'_>]) -> rusqlite::Result<Option<String>> {
    let waiting: Vec<&str> = failed.iter().map(|(row, ..)| row.key().1).collect();
    for (row, ..) in failed {
        let Some((uid, roll_no, email)) = row.student_keys() else {
            continue;
        };
        let holders = students_holding(tx, roll_no, email, uid)?;
        if let Some(holder) = holders
            .into_iter()
            .find(|h| waiting.contains(&h.uid.as_str()))
        {
            tx.execute(
                "UPDATE students SET roll_no = roll_no || '~' || uid, email = email || '~' || uid
                 WHERE uid = ?1",
                [&holder.uid],
            )?;
            return Ok(Some(holder.uid));
        }
    }
    Ok(None)
}

/// When the school's student `row` is one whose change made here the school refused (still
/// waiting), and differs from it: what the change made here was, for the audit log.
fn refused_change_here(tx: &Transaction<'_>, row: &SharedRow) -> rusqlite::Result<Option<String>> {
    let Some((uid, roll_no, name, email)) = row.student_named() else {
        return Ok(None);
    };
    let here: Option<(String, String, String)> = tx
        .query_row(
            "SELECT s.roll_no, s.name, s.email FROM students s
             WHERE s.uid = ?1 AND EXISTS (SELECT 1 FROM school_outbox o
                                          WHERE o.tbl = 'students' AND o.uid = s.uid
                                            AND o.gone = 0 AND o.refused = 1)",
            [uid],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((here_roll_no, here_name, here_email)) = here else {
        return Ok(None);
    };
    let lost: Vec<String> = [
        ("roll number", &here_roll_no, roll_no),
        ("name", &here_name, name),
        ("email address", &here_email, email),
    ]
    .into_iter()
    .filter(|(_, here, school)| here != school)
    .map(|(what, here, school)| format!("{what} \"{here}\" (the school's: \"{school}\")"))
    .collect();
    Ok((!lost.is_empty()).then(|| {
        format!(
            "the school's copy of student {roll_no} ({name}) was written over the change \
             made here that the school had not taken: {}",
            lost.join(", ")
        )
    }))
}

/// The student here holding a roll number or an email address the school gives another.
struct Holder {
    uid: String,
    roll_no: String,
    name: String,
    /// "roll number" or "email address".
    holds: &'static str,
    /// Whether a change of theirs made here waits for the school.
    waiting: bool,
    /// Whether the school has the student: else, with a change waiting, this computer's
    /// own, whom the school never took.
    at_school: bool,
}

impl Holder {
    /// Why the school's student `row` was not written here, for the admin; `unwritten`: the
    /// uids of the school's students not written with it.
    fn words(&self, row: &SharedRow, unwritten: &[&str]) -> String {
        let (row, roll_no, name, holds) = (row.describe(), &self.roll_no, &self.name, self.holds);
        match (self.waiting, self.at_school) {
            (true, true) => format!(
                "The school's {row} was not written here: this computer's student {roll_no} \
                 ({name}) holds that {holds} here, by a change of theirs the school has not \
                 taken (it is offered again each round, with the school's reason). Once the \
                 school takes it, or one of the two is given another {holds} (Admin → \
                 Students, at the office's computer), the school's student is written here."
            ),
            (true, false) => format!(
                "The school's {row} was not written here: this computer's own student \
                 {roll_no} ({name}), whom the school does not have, holds that {holds}. Enrol \
                 them at the office under a roll number of their own, then delete them here \
                 (Admin → Students, or rollcall delete {roll_no} --yes): the school's student \
                 is written here then."
            ),
            _ if unwritten.contains(&self.uid.as_str()) => format!(
                "The school's {row} is not written here yet: student {roll_no} ({name}) still \
                 holds that {holds} here, and the school's change of them, fetched with it, \
                 could not be written either (both are fetched again shortly)."
            ),
            _ => format!(
                "The school's {row} is not written here yet: student {roll_no} ({name}) holds \
                 that {holds} here until the school's change of them arrives (it is fetched \
                 again shortly)."
            ),
        }
    }
}

/// The students here who hold `roll_no` or `email` (other than the school's student
/// `uid`): those with a change waiting for the school first.
fn students_holding(
    tx: &Transaction<'_>,
    roll_no: &str,
    email: &str,
    uid: &str,
) -> rusqlite::Result<Vec<Holder>> {
    let mut holders = tx.prepare(
        "SELECT s.uid, s.roll_no, s.name, s.roll_no = ?1,
                EXISTS (SELECT 1 FROM school_outbox o
                        WHERE o.tbl = 'students' AND o.uid = s.uid AND o.gone = 0) AS waiting,
                EXISTS (SELECT 1 FROM school_students k WHERE k.uid = s.uid)
         FROM students s
         WHERE (s.roll_no = ?1 OR s.email = ?2) AND s.uid IS NOT ?3
         ORDER BY waiting DESC",
    )?;
    let holders = holders.query_map([roll_no, email, uid], |r| {
        Ok(Holder {
            uid: r.get(0)?,
            roll_no: r.get(1)?,
            name: r.get(2)?,
            holds: match r.get(3)? {
                true => "roll number",
                false => "email address",
            },
            waiting: r.get(4)?,
            at_school: r.get(5)?,
        })
    })?;
    holders.collect()
}

fn student_here(tx: &Transaction<'_>, uid: &str) -> rusqlite::Result<Option<i64>> {
    tx.query_row("SELECT id FROM students WHERE uid = ?1", [uid], |r| {
        r.get(0)
    })
    .optional()
}

/// Writes one of the school's rows here. A mark replaces this door's own mark of the same
/// student and day (the school keeps one), except an absence recorded by hand here that
/// the school has not heard of yet: when it does, the absence replaces the school's mark
/// there too.
fn upsert_here(tx: &Transaction<'_>, row: &SharedRow) -> rusqlite::Result<()> {
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
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (uid) DO UPDATE SET roll_no = excluded.roll_no, name = excluded.name,
                     email = excluded.email, enrolled_at = excluded.enrolled_at,
                     last_day = excluded.last_day, away = excluded.away",
                params![uid, roll_no, name, email, enrolled_at, last_day, away],
            )?;
        }
        SharedRow::ClassDay {
            day,
            declared_at,
            actor,
        } => {
            tx.execute(
                "INSERT INTO class_days (day, declared_at, actor) VALUES (?1, ?2, ?3)
                 ON CONFLICT (day) DO NOTHING",
                params![day, declared_at, actor],
            )?;
        }
        SharedRow::Template {
            uid,
            student_uid,
            model_id,
            vector,
            origin,
        } => {
            if let Some(student) = student_here(tx, student_uid)? {
                tx.execute(
                    "INSERT INTO face_templates (uid, student_id, photo_id, model_id, vector, origin)
                     VALUES (?1, ?2, NULL, ?3, ?4, ?5) ON CONFLICT (uid) DO NOTHING",
                    params![uid, student, model_id, vector, origin],
                )?;
            }
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
            let Some(student) = student_here(tx, student_uid)? else {
                return Ok(());
            };
            let absence_pending: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM attendance a JOIN school_outbox o
                                    ON o.tbl = 'attendance' AND o.uid = a.uid
                                WHERE a.student_id = ?1 AND a.day = ?2 AND a.uid IS NOT ?3
                                  AND a.present = 0)",
                params![student, day, uid],
                |r| r.get(0),
            )?;
            if absence_pending && source != "admin" {
                return Ok(());
            }
            tx.execute(
                "DELETE FROM attendance WHERE student_id = ?1 AND day = ?2 AND uid IS NOT ?3",
                params![student, day, uid],
            )?;
            tx.execute(
                "INSERT INTO attendance (uid, student_id, day, marked_at, score, source, door, snapshot, present)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (uid) DO UPDATE SET student_id = excluded.student_id,
                     day = excluded.day, marked_at = excluded.marked_at, score = excluded.score,
                     source = excluded.source, door = excluded.door, snapshot = excluded.snapshot,
                     present = excluded.present",
                params![uid, student, day, marked_at, score, source, door, snapshot, present],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::school::SchoolLogin;
    use crate::store::{NewStudent, WrongClock};
    use chrono::{Duration, Local};

    fn refused_counts(store: &Store) -> (usize, usize) {
        let s = store.school_status().unwrap().expect("linked");
        (s.waiting_marks, s.refused_marks)
    }

    #[test]
    fn office_changes_wait_until_the_link_has_learnt_what_its_login_may_do() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        let before = store.add_test_student(1);
        store.link_to_school("North door").unwrap();
        let login = |s: &Store| s.school_status().unwrap().expect("linked").login;
        assert_eq!(login(&store), SchoolLogin::NotKnownYet);
        let student = NewStudent {
            roll_no: "R2".into(),
            name: "Student 2".into(),
            email: "s2@example.org".into(),
        };
        // Linked, never connected: the school might refuse it, so it is not made here.
        assert!(matches!(
            store.insert_student(&student, &[], "admin"),
            Err(StoreError::NotConnectedYet("Enrolling a student"))
        ));
        assert!(matches!(
            store.erase_face_data(before, "admin"),
            Err(StoreError::NotConnectedYet(_))
        ));
        // The office's login, once learnt, makes them; kept while the server is away.
        store.set_school_login("principal", Some(true)).unwrap();
        assert_eq!(login(&store), SchoolLogin::Office);
        store.insert_student(&student, &[], "admin").unwrap();
        // The link opened with another login: learnt again before anything changes.
        store.set_school_login("principal", None).unwrap();
        assert_eq!(login(&store), SchoolLogin::Office);
        store.set_school_login("north", None).unwrap();
        assert_eq!(login(&store), SchoolLogin::NotKnownYet);
        assert!(matches!(
            store.delete_student(before, "admin"),
            Err(StoreError::NotConnectedYet(_))
        ));
        store.set_school_login("north", Some(false)).unwrap();
        assert_eq!(login(&store), SchoolLogin::Door);
        assert!(matches!(
            store.delete_student(before, "admin"),
            Err(StoreError::OfficeOnly(_))
        ));
        assert_eq!(store.students().unwrap().len(), 2);
    }

    #[test]
    fn a_folder_that_leaves_its_school_keeps_its_data_and_sends_it_all_if_linked_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        assert_eq!(store.leave_school("test").unwrap(), None);
        store.link_to_school_as_office("North door").unwrap();
        let a = store.add_test_student(1);
        store
            .mark(a, Local::now(), Some(7.0), "kiosk", None)
            .unwrap();
        let unsent = Unsent {
            door: "North door".into(),
            marks: 1,
            changes: 1,
        };
        assert_eq!(store.unsent_to_school().unwrap(), Some(unsent.clone()));
        assert_eq!(store.leave_school("test").unwrap(), Some(unsent));
        assert_eq!(store.school_status().unwrap(), None);
        assert_eq!(store.unsent_to_school().unwrap(), None);
        // Its own again: changes are made here and queued for nobody.
        let b = store.add_test_student(2);
        store
            .mark(b, Local::now(), Some(7.0), "kiosk", None)
            .unwrap();
        assert_eq!(store.students().unwrap().len(), 2);
        // Linked again: everything it holds is offered, and the new login is learnt.
        store.link_to_school("North door").unwrap();
        let status = store.school_status().unwrap().expect("linked");
        assert_eq!(status.login, SchoolLogin::NotKnownYet);
        assert_eq!(status.waiting_marks, 2);
        assert_eq!(store.unsent_to_school().unwrap().unwrap().changes, 2);
    }

    #[test]
    fn what_was_erased_while_away_from_the_school_goes_to_it_and_is_not_fetched_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        // A folder never linked records nothing for a school.
        let stray = store.add_test_student(9);
        store.delete_student(stray, "admin").unwrap();
        assert!(store.outbox_entries().is_empty());
        store.link_to_school_as_office("Office").unwrap();
        let ids = [1, 2, 3].map(|n| store.add_test_student(n));
        let uids = ids.map(|id| {
            store
                .conn
                .query_row("SELECT uid FROM students WHERE id = ?1", [id], |r| {
                    r.get::<_, String>(0)
                })
                .unwrap()
        });
        // What the school holds: the three students, one template of each.
        let school: Vec<Change> = (0..3)
            .flat_map(|i| {
                [
                    Change::Row(SharedRow::Student {
                        uid: uids[i].clone(),
                        roll_no: format!("R{}", i + 1),
                        name: format!("Student {}", i + 1),
                        email: format!("s{}@example.org", i + 1),
                        enrolled_at: "2026-09-01T08:00:00+02:00".into(),
                        last_day: None,
                        away: None,
                    }),
                    Change::Row(SharedRow::Template {
                        uid: format!("template-{i}"),
                        student_uid: uids[i].clone(),
                        model_id: "facenet".into(),
                        vector: vec![0; 16],
                        origin: "upload".into(),
                    }),
                ]
            })
            .collect();
        store.apply(&school, 6, None, true).unwrap();
        // The first student also has a photo of this machine's.
        let photo = crate::store::NewPhoto {
            file_name: "r1.jpg".into(),
            origin: "upload".into(),
            templates: vec![("facenet".into(), vec![0.5; 4])],
        };
        store.add_photos(ids[0], &[photo], "test").unwrap();
        let (photo_id, photo_template): (i64, String) = store
            .conn
            .query_row(
                "SELECT p.id, t.uid FROM photos p JOIN face_templates t ON t.photo_id = p.id",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        // The round that fetched the school sends what waits.
        let waiting = store.outbox(100, true, None).unwrap();
        store.delivered(&waiting, &[]).unwrap();
        store.leave_school("test").unwrap();
        // Alone, the first student's photo is removed, the second student's face data is
        // erased and the third student deleted.
        store.remove_photo(photo_id, "admin").unwrap();
        store.erase_face_data(ids[1], "admin").unwrap();
        store.delete_student(ids[2], "admin").unwrap();
        // Templates of a model it stopped running are dropped, not erased: the school keeps
        // them for the machines that run it.
        assert!(matches!(
            store.retire_templates_except(&["another model"]).unwrap(),
            crate::store::RetiredTemplates::Dropped(1)
        ));
        // Linked again, the whole school is fetched, the school winning, as at a first link.
        store.link_to_school_as_office("Office").unwrap();
        store.apply(&school, 6, None, true).unwrap();
        let templates = |store: &Store, id: i64| store.templates_of(id).unwrap().len();
        assert_eq!(
            (templates(&store, ids[0]), templates(&store, ids[1])),
            (1, 0)
        );
        assert!(store.students().unwrap().iter().all(|s| s.roll_no != "R3"));
        // They go to the school, before everything else offered with them (a photo taken
        // since).
        let waiting = store.outbox_entries();
        let mut gone: Vec<(&str, &str)> = waiting
            .iter()
            .take_while(|(_, _, gone)| *gone)
            .map(|(table, uid, _)| (table.as_str(), uid.as_str()))
            .collect();
        gone.sort();
        // One entry each: the templates that went with a face or a student are not told
        // one by one.
        assert_eq!(
            gone,
            [
                ("face_data", uids[1].as_str()),
                ("face_templates", photo_template.as_str()),
                ("students", uids[2].as_str())
            ]
        );
        assert_eq!(waiting.iter().filter(|(_, _, gone)| *gone).count(), 3);
        // Told once: fetched again later, what the school holds then is written here.
        store.conn.execute("DELETE FROM school_outbox", []).unwrap();
        store.apply(&school, 6, None, true).unwrap();
        assert_eq!(templates(&store, ids[1]), 1);
        assert!(store.students().unwrap().iter().any(|s| s.roll_no == "R3"));
    }

    #[test]
    fn what_was_changed_while_away_from_the_school_is_offered_first_when_it_joins_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        let waiting = |store: &Store| -> Vec<(String, bool)> {
            let entries = store.outbox_entries().into_iter();
            entries.map(|(table, _, gone)| (table, gone)).collect()
        };
        let (one, two) = (store.add_test_student(1), store.add_test_student(2));
        let now = chrono::Local::now();
        let today = now.date_naive();
        store.mark(two, now, Some(7.5), "kiosk", None).unwrap();
        let declared = today - chrono::Days::new(1);
        store.declare_class_day(declared, "admin").unwrap();
        store.link_to_school_as_office("Office").unwrap();
        store.leave_school("test").unwrap();
        assert!(waiting(&store).is_empty());
        // Alone: a student renamed, a kiosk mark taken away (it was someone else: the day,
        // its only mark, is declared a class day, so that it stays one), a class day
        // withdrawn.
        store
            .update_student(one, "R1", "Ada Renamed", "ada@example.org", "admin")
            .unwrap();
        store
            .correct(two, today, false, "not them", "admin", now)
            .unwrap();
        store.withdraw_class_day(declared, "admin").unwrap();
        let away = vec![
            ("students".to_string(), false),
            ("class_days".to_string(), false),
            ("attendance".to_string(), false),
            ("class_days".to_string(), true),
        ];
        assert_eq!(waiting(&store), away);
        // Leaving again before the link's first round, they stay (not what the link
        // offered besides).
        store.link_to_school_as_office("Office").unwrap();
        store.leave_school("test").unwrap();
        assert_eq!(waiting(&store), away);
        // Joined again, they are offered before everything else it holds, which the
        // school's rows win over.
        store.link_to_school_as_office("Office").unwrap();
        let up_to = store
            .away_until()
            .unwrap()
            .expect("changes made while away");
        let first = store.outbox(100, true, Some(up_to)).unwrap();
        let tables: Vec<&str> = first.rows.iter().map(|p| p.table.as_str()).collect();
        assert_eq!(
            tables,
            ["students", "class_days", "attendance", "class_days"]
        );
        assert!(store.outbox(100, true, None).unwrap().rows.len() > tables.len());
        // Refused (a door's login may not withdraw a class day), the withdrawal goes to the
        // end of the outbox, still a deletion.
        let withdrawn = first.rows[3].clone();
        store
            .delivered(&first, &[(withdrawn.clone(), Refused::Again)])
            .unwrap();
        let (gone, refused): (bool, i64) = store
            .conn
            .query_row(
                "SELECT gone, refused FROM school_outbox WHERE tbl = ?1 AND uid = ?2",
                params![withdrawn.table, withdrawn.uid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((gone, refused), (true, Refused::Again as i64));
        assert!(store
            .outbox(100, true, Some(up_to))
            .unwrap()
            .rows
            .is_empty());
        // Once the school is fetched, nothing is held back any more.
        store.apply(&[], 0, None, true).unwrap();
        assert_eq!(store.away_until().unwrap(), None);
        // A folder never linked, or linked all along, has nothing sent first.
        let mut linked = Store::open(&dir.path().join("linked.db")).unwrap();
        linked.link_to_school_as_office("Office").unwrap();
        assert_eq!(linked.away_until().unwrap(), None);
    }

    #[test]
    fn what_a_linked_folder_had_not_sent_when_it_left_the_school_goes_first_when_it_joins_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        let tables = |batch: &OutboxBatch| -> Vec<String> {
            batch.rows.iter().map(|p| p.table.clone()).collect()
        };
        let one = store.add_test_student(1);
        // Linked, its first round made: the school's rows fetched, everything sent.
        store.link_to_school_as_office("Office").unwrap();
        store.apply(&[], 0, None, true).unwrap();
        let offered = store.outbox(100, true, None).unwrap();
        store.delivered(&offered, &[]).unwrap();
        assert!(store.outbox_entries().is_empty());
        // The server out of reach: a rename and a mark wait here. The folder leaves.
        store
            .update_student(one, "R1", "Ada Renamed", "ada@example.org", "admin")
            .unwrap();
        store
            .mark(one, chrono::Local::now(), Some(7.5), "kiosk", None)
            .unwrap();
        let left = store.leave_school("test").unwrap().expect("it was linked");
        assert_eq!((left.marks, left.changes), (1, 1));
        // Joined again, they go to the school first (before its rows are fetched).
        store.link_to_school_as_office("Office").unwrap();
        let up_to = store.away_until().unwrap().expect("changes waiting");
        let first = store.outbox(100, true, Some(up_to)).unwrap();
        assert_eq!(tables(&first), ["students", "attendance"]);
        // A restored backup's outbox is not: the school's newer rows win over it.
        store.delivered(&first, &[]).unwrap();
        store.apply(&[], 0, None, true).unwrap();
        let offered = store.outbox(100, true, None).unwrap();
        store.delivered(&offered, &[]).unwrap();
        store
            .update_student(one, "R1", "Ada From The Backup", "ada@example.org", "admin")
            .unwrap();
        assert!(store.reconcile_after_restore().unwrap());
        store.leave_school("test").unwrap();
        assert!(store.outbox_entries().is_empty());
    }

    #[test]
    fn the_school_servers_identity_and_last_change_seen_are_kept_until_the_link_starts_anew() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        store.link_to_school_as_office("Office").unwrap();
        // As a Rollcall before 2026-12-05 recorded it: the same server with its life.
        assert!(!store.server_went_back("16384/16390").unwrap());
        assert!(!store.server_went_back("16384/16390/life-1").unwrap());
        assert!(!store.server_went_back("16384/16390/life-1").unwrap());
        assert!(store.server_went_back("16384/16390/life-2").unwrap());
        assert!(store.server_went_back("20000/20006/life-1").unwrap());

        // The newest change fetched moves with the fetch position, forward only; a fetch
        // that names none (a student joined by roll number) leaves it.
        let seen = |change: i64, uid: &str| LastSeen {
            change,
            table: "students".into(),
            uid: uid.into(),
            student: None,
            day: None,
            gone: false,
        };
        assert_eq!(store.last_seen().unwrap(), None);
        store.apply(&[], 5, Some(&seen(5, "a")), false).unwrap();
        store.apply(&[], 5, Some(&seen(5, "b")), false).unwrap();
        store.apply(&[], 3, Some(&seen(3, "c")), false).unwrap();
        store.apply(&[], 9, None, false).unwrap();
        assert_eq!(store.last_seen().unwrap(), Some(seen(5, "a")));
        assert_eq!(store.pulled().unwrap(), 9);
        // Told everything again, or leaving the school: fetched anew from the start.
        store
            .school_server_went_back("16384/16390/life-2", None, "test")
            .unwrap();
        assert_eq!(
            (store.last_seen().unwrap(), store.pulled().unwrap()),
            (None, 0)
        );
        store.apply(&[], 2, Some(&seen(2, "d")), false).unwrap();
        store.leave_school("test").unwrap();
        assert_eq!(store.last_seen().unwrap(), None);
    }

    #[test]
    fn refused_rows_wait_out_of_the_ordinary_rounds_and_go_once_taken() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        store.link_to_school_as_office("North door").unwrap();
        let (a, b) = (store.add_test_student(1), store.add_test_student(2));
        let student = |store: &Store, id: i64| Pending {
            table: "students".into(),
            uid: store
                .conn
                .query_row("SELECT uid FROM students WHERE id = ?1", [id], |r| r.get(0))
                .unwrap(),
        };
        let (one, two) = (student(&store, a), student(&store, b));
        // The school refuses the first student, takes the second.
        let batch = store.outbox(100, true, None).unwrap();
        assert_eq!(batch.rows, vec![one.clone(), two.clone()]);
        store
            .delivered(&batch, &[(one.clone(), Refused::Again)])
            .unwrap();
        assert!(store.refused_waiting().unwrap());
        // An ordinary round offers only what is new, and forgets none of the refused.
        assert!(store.outbox(100, false, None).unwrap().rows.is_empty());
        store
            .update_student(b, "R2", "Student Two", "two@example.org", "admin")
            .unwrap();
        let batch = store.outbox(100, false, None).unwrap();
        assert_eq!(batch.rows, vec![two.clone()]);
        store.delivered(&batch, &[]).unwrap();
        assert_eq!(
            store.outbox(100, true, None).unwrap().rows,
            vec![one.clone()]
        );
        // Changed, the refused student goes in the next round; taken, its refusal goes too.
        store
            .update_student(a, "R1", "Student One", "one@example.org", "admin")
            .unwrap();
        let batch = store.outbox(100, false, None).unwrap();
        assert_eq!(batch.rows, vec![one.clone()]);
        store.delivered(&batch, &[]).unwrap();
        assert!(!store.refused_waiting().unwrap());
        assert!(store.outbox(100, true, None).unwrap().rows.is_empty());
    }

    #[test]
    fn a_student_the_school_never_took_becomes_the_schools_student_of_the_same_roll_number() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        let own = store.add_test_student(1);
        let taken = store.add_test_student(2);
        let other = store.add_test_student(3);
        store.link_to_school_as_office("North door").unwrap();
        store
            .mark(own, Local::now(), Some(7.0), "kiosk", None)
            .unwrap();
        let uid_of = |store: &Store, id: i64| -> String {
            store
                .conn
                .query_row("SELECT uid FROM students WHERE id = ?1", [id], |r| r.get(0))
                .unwrap()
        };
        let pending = |table: &str, uid: String| Pending {
            table: table.into(),
            uid,
        };
        let mark_uid: String = store
            .conn
            .query_row(
                "SELECT uid FROM attendance WHERE student_id = ?1",
                [own],
                |r| r.get(0),
            )
            .unwrap();
        // The school took student 2 but refused students 1 and 3 and the mark (a door's
        // login).
        let batch = store.outbox(100, true, None).unwrap();
        let refused = [
            (pending("students", uid_of(&store, own)), Refused::Again),
            (pending("students", uid_of(&store, other)), Refused::Again),
            (pending("attendance", mark_uid.clone()), Refused::Again),
        ];
        store.delivered(&batch, &refused).unwrap();
        assert!(store.outbox(100, false, None).unwrap().rows.is_empty());
        let (r1, r2) = ("R1".to_string(), "R2".to_string());

        // The office enrols the same person under the same roll number (their name spelt
        // out, the same email), someone else under the roll number of the student the
        // school already has from here, and someone else again under student 3's (another
        // name, another email: a kiosk that numbered its own students 1, 2, 3 …).
        let student = |uid: &str, roll_no: &str, name: &str, email: &str| {
            Change::Row(SharedRow::Student {
                uid: uid.into(),
                roll_no: roll_no.into(),
                name: name.into(),
                email: email.into(),
                enrolled_at: "2026-12-05T08:00:00+00:00".into(),
                last_day: None,
                away: None,
            })
        };
        let applied = store
            .apply(
                &[
                    student("school-1", &r1, "Ada Lovelace", "S1@Example.org"),
                    student("school-2", &r2, "Someone Else", "else@example.org"),
                    student("school-3", "R3", "Grace Hopper", "grace@example.org"),
                ],
                7,
                None,
                false,
            )
            .unwrap();
        // One student, the school's, with what this door held of them…
        assert_eq!(uid_of(&store, own), "school-1");
        let here = store.student_by_roll_no(&r1).unwrap().unwrap();
        assert_eq!((here.0, here.2.as_str()), (own, "Ada Lovelace"));
        assert_eq!(store.students().unwrap().len(), 3);
        let audit = store.audit_log(10).unwrap();
        assert!(
            audit.iter().any(|e| e.action == "join student"),
            "{audit:?}"
        );
        // …whose mark is offered at once, as the school's student's; their enrolment here
        // is not offered at all.
        let batch = store.outbox(100, false, None).unwrap();
        assert_eq!(batch.rows, vec![pending("attendance", mark_uid)]);
        // A student the school holds already is never joined to another: refused, said.
        assert_ne!(uid_of(&store, taken), "school-2");
        assert_eq!(
            store.student_by_roll_no(&r2).unwrap().unwrap().2,
            "Student 2"
        );
        // Nor is someone else by name and email, though the roll number is theirs: left
        // apart, and the admin told what to do.
        assert_ne!(uid_of(&store, other), "school-3");
        assert_eq!(
            store.student_by_roll_no("R3").unwrap().unwrap().2,
            "Student 3"
        );
        assert_eq!(applied.refused.len(), 2, "{:?}", applied.refused);
        assert!(
            applied.refused[1].starts_with(
                "The school's student R3 (Grace Hopper) was not written here: this computer's \
                 own student R3 (Student 3), whom the school does not have, holds that roll \
                 number and is someone else by name and email."
            ),
            "{:?}",
            applied.refused
        );
    }

    #[test]
    fn an_old_face_data_erasure_fetched_again_erases_only_what_came_before_the_new_enrolment() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        let (ada, grace) = (store.add_test_student(1), store.add_test_student(2));
        store.link_to_school_as_office("North door").unwrap();
        // Each student's photos: one from before the school erased their face data (the
        // school deleted its templates then), one taken since (its template the school
        // holds); Grace's only from before.
        let photo = |store: &mut Store, id: i64, file: &str, added: &str| -> String {
            let new = crate::store::NewPhoto {
                file_name: file.into(),
                origin: "camera".into(),
                templates: vec![("facenet".into(), vec![0.5; 4])],
            };
            store.add_photos(id, &[new], "test").unwrap();
            store
                .conn
                .execute(
                    "UPDATE photos SET added_at = ?2 WHERE file_name = ?1",
                    [file, added],
                )
                .unwrap();
            store
                .conn
                .query_row(
                    "SELECT t.uid FROM face_templates t JOIN photos p ON p.id = t.photo_id
                     WHERE p.file_name = ?1",
                    [file],
                    |r| r.get(0),
                )
                .unwrap()
        };
        let uid_of = |store: &Store, id: i64| -> String {
            store
                .conn
                .query_row("SELECT uid FROM students WHERE id = ?1", [id], |r| r.get(0))
                .unwrap()
        };
        photo(&mut store, ada, "ada-old.jpg", "2026-10-01T08:00:00+02:00");
        let taken_since = photo(&mut store, ada, "ada-new.jpg", "2026-11-20T08:00:00+01:00");
        photo(
            &mut store,
            grace,
            "grace-old.jpg",
            "2026-10-01T08:00:00+02:00",
        );
        // What the kiosk learnt of Ada at the door: before the erasure, and since.
        for seen in ["2026-10-02T08:00:00+02:00", "2026-11-21T08:00:00+01:00"] {
            store
                .conn
                .execute(
                    "INSERT INTO face_observations (student_id, model_id, vector, seen_at)
                     VALUES (?1, 'facenet', x'00000000', ?2)",
                    params![ada, seen],
                )
                .unwrap();
        }
        let (ada_uid, grace_uid) = (uid_of(&store, ada), uid_of(&store, grace));
        let template = |uid: &str, student_uid: &str| {
            Change::Row(SharedRow::Template {
                uid: uid.into(),
                student_uid: student_uid.into(),
                model_id: "facenet".into(),
                vector: vec![0; 16],
                origin: "camera".into(),
            })
        };
        // Linked again, this machine fetches everything: both old erasures, and the
        // template of Ada's the school holds now.
        let gone = |uid: &str| Change::Gone {
            table: "face_data".into(),
            uid: uid.into(),
        };
        let applied = store
            .apply(
                &[
                    gone(&ada_uid),
                    gone(&grace_uid),
                    template(&taken_since, &ada_uid),
                ],
                9,
                None,
                true,
            )
            .unwrap();
        let photos = |store: &Store, id: i64| -> Vec<String> {
            let mut stmt = store
                .conn
                .prepare("SELECT file_name FROM photos WHERE student_id = ?1 ORDER BY id")
                .unwrap();
            let names = stmt.query_map([id], |r| r.get(0)).unwrap();
            names.map(Result::unwrap).collect()
        };
        // Ada keeps her new photo and its template, and what the kiosk saw of her since;
        // what came before the erasure goes, as it did at the other machine.
        assert_eq!(photos(&store, ada), vec!["ada-new.jpg".to_string()]);
        let templates: i64 = store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM face_templates WHERE student_id = ?1",
                [ada],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(templates, 1);
        let seen: Vec<String> = store
            .conn
            .prepare("SELECT seen_at FROM face_observations WHERE student_id = ?1")
            .unwrap()
            .query_map([ada], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(seen, vec!["2026-11-21T08:00:00+01:00".to_string()]);
        // Grace, whom the school holds no template of, loses everything, as before.
        assert!(photos(&store, grace).is_empty());
        let mut orphaned = applied.orphaned_photos.clone();
        orphaned.sort();
        assert_eq!(orphaned, vec!["ada-old.jpg", "grace-old.jpg"]);
        assert_eq!(applied.erased_face_data, 2);
        // Remembered so that a restore erases them again: Ada's old photo by its name (by
        // her roll number, the restore would take her new photo too), Grace's face data.
        let erasures: Vec<(ErasureKind, String)> = store
            .erasures()
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.subject))
            .collect();
        assert!(erasures.contains(&(ErasureKind::Photo, "ada-old.jpg".into())));
        assert!(erasures.contains(&(ErasureKind::FaceData, "R2".into())));
        assert!(!erasures.contains(&(ErasureKind::FaceData, "R1".into())));
        // Fetched again, the erasure takes nothing more.
        let again = store
            .apply(
                &[gone(&ada_uid), template(&taken_since, &ada_uid)],
                9,
                None,
                true,
            )
            .unwrap();
        assert_eq!(again.erased_face_data, 0);
        assert_eq!(photos(&store, ada), vec!["ada-new.jpg".to_string()]);
    }

    #[test]
    fn a_door_fetching_again_an_erasure_it_made_keeps_what_it_learnt_of_the_face_since() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        let ada = store.add_test_student(1);
        store.link_to_school_as_office("North door").unwrap();
        let ada_uid: String = store
            .conn
            .query_row("SELECT uid FROM students WHERE id = ?1", [ada], |r| {
                r.get(0)
            })
            .unwrap();
        let gone = Change::Gone {
            table: "face_data".into(),
            uid: ada_uid.clone(),
        };
        let template = |uid: &str| {
            Change::Row(SharedRow::Template {
                uid: uid.into(),
                student_uid: ada_uid.clone(),
                model_id: "facenet".into(),
                vector: vec![0; 16],
                origin: "camera".into(),
            })
        };
        // The school erased Ada's face; this door did as well (recorded), then fetched her
        // new templates (no photo here) and learnt her face at the door.
        store
            .apply(std::slice::from_ref(&gone), 5, None, false)
            .unwrap();
        // (Made yesterday: erasures are recorded to the second.)
        store
            .conn
            .execute(
                "UPDATE erasures SET erased_at = ?1",
                [crate::store::timestamp(Local::now() - Duration::days(1))],
            )
            .unwrap();
        store.apply(&[template("t-new")], 6, None, false).unwrap();
        let observe = |store: &Store| {
            store
                .conn
                .execute(
                    "INSERT INTO face_observations (student_id, model_id, vector, seen_at)
                     VALUES (?1, 'facenet', x'00000000', ?2)",
                    params![
                        ada,
                        crate::store::timestamp(Local::now() + Duration::hours(1))
                    ],
                )
                .unwrap();
        };
        observe(&store);
        let observations = |store: &Store| -> i64 {
            store
                .conn
                .query_row(
                    "SELECT COUNT(*) FROM face_observations WHERE student_id = ?1",
                    [ada],
                    |r| r.get(0),
                )
                .unwrap()
        };
        let face_data_erasures = |store: &Store| {
            store
                .erasures()
                .unwrap()
                .iter()
                .filter(|e| e.kind == ErasureKind::FaceData)
                .count()
        };
        assert_eq!(face_data_erasures(&store), 1);

        // Everything fetched anew (the school server put back, or the door joined again):
        // the old erasure, made here already, takes nothing and is not recorded again.
        let applied = store
            .apply(&[gone.clone(), template("t-new")], 9, None, false)
            .unwrap();
        assert_eq!(applied.erased_face_data, 0);
        assert_eq!(observations(&store), 1);
        assert_eq!(face_data_erasures(&store), 1);
        assert_eq!(store.templates_of(ada).unwrap().len(), 1);

        // The same after her roll number was corrected (the erasure made here is recorded
        // under the old one), even with the old number given to another student since.
        store
            .update_student(ada, "R10", "Student 1", "s1@example.org", "office")
            .unwrap();
        let another = crate::store::NewStudent {
            roll_no: "R1".into(),
            name: "Student 9".into(),
            email: "s9@example.org".into(),
        };
        store.insert_student(&another, &[], "test").unwrap();
        let applied = store
            .apply(&[gone.clone(), template("t-new")], 10, None, false)
            .unwrap();
        assert_eq!(applied.erased_face_data, 0);
        assert_eq!(observations(&store), 1);
        assert_eq!(face_data_erasures(&store), 1);

        // But a second erasure this door never heard of (it was away) erases what it
        // learnt, though the school holds templates taken since.
        let applied = store
            .apply(&[gone.clone(), gone, template("t-newer")], 12, None, false)
            .unwrap();
        assert_eq!(applied.erased_face_data, 1);
        assert_eq!(observations(&store), 0);
        assert_eq!(face_data_erasures(&store), 2);
        assert_eq!(store.templates_of(ada).unwrap().len(), 1);
    }

    #[test]
    fn a_mark_dated_ahead_of_the_school_is_held_for_good_only_when_it_is_ahead_here_too() {
        let mark = |day: &str| SharedRow::Mark {
            uid: "m".into(),
            student_uid: "s".into(),
            day: day.into(),
            marked_at: format!("{day}T08:00:00+01:00"),
            score: Some(7.0),
            source: "kiosk".into(),
            door: Some("North door".into()),
            snapshot: None,
            present: true,
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let ahead = Delivery::DatedAhead("not come".into());
        let how = |answer: &Delivery, day: &str| {
            Refused::of(answer, Some(&mark(day)), today).map(|(_, how)| how)
        };
        // This door's clock, set right, dates it after today as well: it was ahead.
        assert_eq!(how(&ahead, "2026-12-07"), Some(Refused::ForGood));
        // Today here: the door's clock is still ahead, or the server's is behind (a flat
        // battery at the server) and the mark is right; offered again either way.
        assert_eq!(how(&ahead, "2026-12-04"), Some(Refused::Again));
        assert_eq!(
            how(&Delivery::Refused("no".into()), "2026-12-07"),
            Some(Refused::Again)
        );
        assert_eq!(how(&Delivery::Taken, "2026-12-07"), None);
    }

    #[test]
    fn a_mark_the_school_refused_as_dated_ahead_is_never_offered_again_and_waits_to_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        store.link_to_school_as_office("North door").unwrap();
        let (a, b) = (store.add_test_student(1), store.add_test_student(2));
        let now = Local::now();
        let today = now.date_naive();
        // Made while the door's clock was three days ahead (the server was down), and a
        // mark of today the school refuses for another reason.
        store
            .mark(a, now + Duration::days(3), Some(7.0), "kiosk", None)
            .unwrap();
        store.mark(b, now, Some(7.0), "kiosk", None).unwrap();
        let batch = store.outbox(100, true, None).unwrap();
        let mark = |store: &Store, id: i64| Pending {
            table: "attendance".into(),
            uid: store
                .conn
                .query_row(
                    "SELECT uid FROM attendance WHERE student_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .unwrap(),
        };
        let (ahead, other) = (mark(&store, a), mark(&store, b));
        store
            .delivered(
                &batch,
                &[
                    (ahead.clone(), Refused::ForGood),
                    (other.clone(), Refused::Again),
                ],
            )
            .unwrap();
        assert_eq!(
            store.outbox(100, true, None).unwrap().rows,
            vec![other.clone()],
            "only the other refusal is offered again"
        );
        assert_eq!(refused_counts(&store), (0, 2));

        // The clock is set right and the days pass: once that day has come here, the mark
        // is still one made while the clock was ahead, and still holds the door.
        let that_day = today + Duration::days(3);
        for day in [today, that_day, that_day + Duration::days(1)] {
            let held = store.future_marks(day).unwrap().expect("still dated wrong");
            assert_eq!((held.marks, held.last_day), (1, that_day));
        }
        let then = now + Duration::days(3);
        let Some(WrongClock::MarksAhead(held)) = store.wrong_clock(then).unwrap() else {
            panic!("the door takes attendance with a mark dated wrong");
        };
        let said = held.to_string();
        assert!(
            said.starts_with(&format!(
                "A mark made here for {that_day} was dated while this computer's clock was \
                 ahead of the school server's: the school did not take it"
            )),
            "{said}"
        );
        assert!(said.contains("`rollcall future-marks --yes`"), "{said}");

        // Removed: the deletion goes to the school (which never held the mark) and the
        // entry refused for good goes with it; the other mark is taken this time, but a
        // change to it made while the batch was on its way waits for the next round.
        assert_eq!(store.remove_future_marks(that_day, "admin").unwrap(), 1);
        let batch = store.outbox(100, true, None).unwrap();
        assert_eq!(batch.rows, vec![other.clone(), ahead.clone()]);
        store
            .correct(
                b,
                today,
                false,
                "went home ill",
                "admin",
                chrono::Local::now(),
            )
            .unwrap();
        store.delivered(&batch, &[]).unwrap();
        assert!(store.outbox(100, true, None).unwrap().rows.contains(&other));
        assert_eq!(refused_counts(&store), (1, 0));
        assert_eq!(store.future_marks(that_day).unwrap(), None);
        assert_eq!(store.wrong_clock(then).unwrap(), None);
    }

    /// A door's housekeeping erases its own copy of a leaver's face once their last day
    /// is over (until 2026-12-06 it stayed at every door until the office's machine ran),
    /// untold: a door's login may not erase the school's copy. The office's erasure,
    /// fetched later, finds nothing more to do.
    #[test]
    fn a_door_erases_its_own_copy_of_a_leavers_face_once_the_last_day_is_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        store.link_to_school("North door").unwrap();
        let today = Local::now().date_naive();
        let friday = today + chrono::Days::new(4);
        let saturday = friday + chrono::Days::new(1);
        // The school's student, leaving on Friday, and her face.
        let ada = SharedRow::Student {
            uid: "ada".into(),
            roll_no: "R1".into(),
            name: "Ada".into(),
            email: "ada@example.org".into(),
            enrolled_at: crate::store::timestamp(Local::now()),
            last_day: Some(friday.to_string()),
            away: None,
        };
        let template = SharedRow::Template {
            uid: "t1".into(),
            student_uid: "ada".into(),
            model_id: "facenet".into(),
            vector: vec![0; 16],
            origin: "camera".into(),
        };
        store
            .apply(&[Change::Row(ada), Change::Row(template)], 2, None, false)
            .unwrap();
        let id = store.student_by_roll_no("R1").unwrap().unwrap().0;
        assert_eq!(store.templates_of(id).unwrap().len(), 1);
        assert_eq!(
            store
                .erase_face_data_of_leavers(friday, "rollcall")
                .unwrap()
                .1,
            0
        );
        assert_eq!(
            store.templates_of(id).unwrap().len(),
            1,
            "known until Friday"
        );
        // Not while the login is unknown: the office's own copy erased untold would leave
        // the school's for good.
        let (_, leavers) = store
            .erase_face_data_of_leavers(saturday, "rollcall")
            .unwrap();
        assert_eq!(leavers, 0);
        store.set_school_login("north", Some(false)).unwrap();
        assert_eq!(
            store
                .erase_face_data_of_leavers(saturday, "rollcall")
                .unwrap()
                .1,
            1
        );
        assert!(store.templates_of(id).unwrap().is_empty());
        assert_eq!(store.outbox_entries(), [], "nothing for the school");
        assert!(store.audit_log(1).unwrap()[0]
            .details
            .contains("erased this door's copy"));
        let gone = Change::Gone {
            table: "face_data".into(),
            uid: "ada".into(),
        };
        let applied = store.apply(&[gone], 3, None, false).unwrap();
        assert_eq!(applied.refused, Vec::<String>::new());
        assert!(store.templates_of(id).unwrap().is_empty());
    }

    /// A school student's row, as the school sends it.
    fn school_student(uid: &str, roll_no: &str, name: &str) -> Change {
        Change::Row(SharedRow::Student {
            uid: uid.into(),
            roll_no: roll_no.into(),
            name: name.into(),
            email: format!("{uid}@example.org"),
            enrolled_at: "2026-12-01T08:00:00+00:00".into(),
            last_day: None,
            away: None,
        })
    }

    /// The roll numbers here of the students of these uids.
    fn roll_numbers(store: &Store, uids: &[&str]) -> Vec<String> {
        uids.iter()
            .map(|uid| {
                store
                    .conn
                    .query_row("SELECT roll_no FROM students WHERE uid = ?1", [uid], |r| {
                        r.get(0)
                    })
                    .unwrap()
            })
            .collect()
    }

    /// Corrections made at the office while a door was off — two roll numbers swapped
    /// through a third, one given up and taken by another, two email addresses swapped —
    /// arrive in one fetch as the students are now: every one is written (until 2026-12-06
    /// a row whose number or address another student still held here was refused and
    /// passed for good: the door kept the old ones, swapped).
    #[test]
    fn roll_numbers_swapped_or_passed_on_in_one_fetch_are_all_written_at_a_door() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = north_door(dir.path());
        let students = [("a", "R1", "Ada"), ("b", "R2", "Bo"), ("c", "R3", "Cy")];
        let rows: Vec<Change> = students
            .iter()
            .map(|(uid, roll, name)| school_student(uid, roll, name))
            .collect();
        assert!(store
            .apply(&rows, 1, None, false)
            .unwrap()
            .refused
            .is_empty());
        let fetches = [
            // Ada and Bo swapped: Bo's row first, then Ada's.
            ([("b", "R1", "Bo"), ("a", "R2", "Ada")], ["R2", "R1", "R3"]),
            // Cy moves on to R4 and Ada takes R3, Ada's row first.
            ([("a", "R3", "Ada"), ("c", "R4", "Cy")], ["R3", "R1", "R4"]),
        ];
        for (n, (rows, after)) in fetches.into_iter().enumerate() {
            let rows = rows.map(|(uid, roll, name)| school_student(uid, roll, name));
            let applied = store.apply(&rows, 2 + n as i64, None, false).unwrap();
            assert_eq!(applied.refused, Vec::<String>::new());
            assert_eq!(roll_numbers(&store, &["a", "b", "c"]), after);
        }
        // Bo's and Cy's email addresses swapped (typed the wrong way round).
        let swapped =
            [("b", "R1", "Bo", "c"), ("c", "R4", "Cy", "b")].map(|(uid, roll, name, to)| {
                let mut row = school_student(uid, roll, name);
                if let Change::Row(SharedRow::Student { email, .. }) = &mut row {
                    *email = format!("{to}@example.org");
                }
                row
            });
        let applied = store.apply(&swapped, 4, None, false).unwrap();
        assert_eq!(applied.refused, Vec::<String>::new());
        let email_of = |uid: &str| -> String {
            store
                .conn
                .query_row("SELECT email FROM students WHERE uid = ?1", [uid], |r| {
                    r.get(0)
                })
                .unwrap()
        };
        assert_eq!(
            [email_of("b"), email_of("c")],
            ["c@example.org", "b@example.org"]
        );
        assert_eq!(roll_numbers(&store, &["a", "b", "c"]), ["R3", "R1", "R4"]);
        assert_eq!(
            store.outbox_entries(),
            [],
            "nothing to send: the school's own change"
        );
        assert_eq!(store.unwritten_students().unwrap(), Vec::<String>::new());
    }

    /// Links a folder to the school as the north door, with a door's login.
    fn link_as_north_door(store: &mut Store) {
        store.link_to_school("North door").unwrap();
        store.set_school_login("north", Some(false)).unwrap();
    }

    /// A new folder at `dir` linked as the north door.
    fn north_door(dir: &std::path::Path) -> Store {
        let mut store = Store::open(&dir.join("rollcall.db")).unwrap();
        link_as_north_door(&mut store);
        store
    }

    /// Offers everything waiting to the school, which refuses it all (to offer again).
    fn refuse_all_waiting(store: &mut Store) {
        let batch = store.outbox(100, false, None).unwrap();
        let refused: Vec<(Pending, Refused)> = batch
            .rows
            .iter()
            .map(|p| (p.clone(), Refused::Again))
            .collect();
        store.delivered(&batch, &refused).unwrap();
    }

    /// A door at `dir` with a student of its own (R5, Student 5, s5@example.org), enrolled
    /// before it joined the school, whose enrolment the school refused; the student's id.
    fn door_with_its_own_student(dir: &std::path::Path) -> (Store, i64) {
        let mut store = Store::open(&dir.join("rollcall.db")).unwrap();
        let own = store.add_test_student(5);
        link_as_north_door(&mut store);
        refuse_all_waiting(&mut store);
        (store, own)
    }

    /// A door's own student whom the school never took holds the roll number the school
    /// gives one of its students: the school's row is not written, the admin is told what
    /// to do, and once the door's own student is deleted there (a door's login may delete
    /// that one) the row, fetched again, is written.
    #[test]
    fn a_schools_student_whose_number_a_doors_own_student_holds_is_written_once_that_one_goes() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, own) = door_with_its_own_student(dir.path());
        let never_taken = |store: &Store, id| store.student(id).unwrap().unwrap().never_taken;
        assert!(never_taken(&store, own));
        let grace = school_student("g", "R4", "Grace");
        assert!(store
            .apply(&[grace], 1, None, false)
            .unwrap()
            .refused
            .is_empty());
        let grace_id = store.student_by_roll_no("R4").unwrap().unwrap().0;
        assert!(!never_taken(&store, grace_id));

        let corrected = school_student("g", "R5", "Grace");
        let applied = store
            .apply(std::slice::from_ref(&corrected), 2, None, false)
            .unwrap();
        assert_eq!(
            applied.refused,
            [
                "The school's student R5 (Grace) was not written here: this computer's own \
              student R5 (Student 5), whom the school does not have, holds that roll number. \
              Enrol them at the office under a roll number of their own, then delete them \
              here (Admin → Students, or rollcall delete R5 --yes): the school's student is \
              written here then."
            ]
        );
        assert_eq!(roll_numbers(&store, &["g"]), ["R4"]);
        assert_eq!(store.unwritten_students().unwrap(), ["g"]);

        // The school's student may not be deleted at a door; the door's own may.
        assert!(matches!(
            store.delete_student(grace_id, "admin"),
            Err(StoreError::OfficeOnly(_))
        ));
        store.delete_student(own, "admin").unwrap();
        assert_eq!(
            store.outbox_entries(),
            [],
            "nothing of theirs was the school's"
        );
        let applied = store.apply(&[corrected], 2, None, false).unwrap();
        assert!(applied.refused.is_empty(), "{:?}", applied.refused);
        assert_eq!(roll_numbers(&store, &["g"]), ["R5"]);
        assert_eq!(store.unwritten_students().unwrap(), Vec::<String>::new());
    }

    /// The school's Ada (R1) and Bo (R2), fetched and written.
    fn fetch_ada_and_bo(store: &mut Store) {
        let first = [
            school_student("a", "R1", "Ada"),
            school_student("b", "R2", "Bo"),
        ];
        let applied = store.apply(&first, 1, None, false).unwrap();
        assert!(applied.refused.is_empty(), "{:?}", applied.refused);
    }

    /// A roll number the school gives one student while, here, another of its students
    /// still holds it (their own change comes in a later part of the fetch): the admin is
    /// told who holds it, and the row is written once the other's change has come.
    #[test]
    fn a_number_passed_on_in_two_parts_of_a_fetch_names_who_holds_it_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = north_door(dir.path());
        fetch_ada_and_bo(&mut store);
        let ada = [school_student("a", "R2", "Ada")];
        let applied = store.apply(&ada, 2, None, false).unwrap();
        assert_eq!(
            applied.refused,
            [
                "The school's student R2 (Ada) is not written here yet: student R2 (Bo) holds \
              that roll number here until the school's change of them arrives (it is fetched \
              again shortly)."
            ]
        );
        let bo = [school_student("b", "R3", "Bo")];
        assert!(store.apply(&bo, 3, None, false).unwrap().refused.is_empty());
        assert!(store
            .apply(&ada, 3, None, false)
            .unwrap()
            .refused
            .is_empty());
        assert_eq!(roll_numbers(&store, &["a", "b"]), ["R2", "R3"]);
    }

    /// Two of the school's students swapped while one of them also takes an address the
    /// door's own student holds: the swap cannot be written whole, so nothing of it is
    /// (no number of the moment, "R2~b", left at the door); both wait, fetched again, and
    /// are written once the door's own student goes.
    #[test]
    fn a_swap_a_door_cannot_write_whole_leaves_its_students_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, own) = door_with_its_own_student(dir.path());
        fetch_ada_and_bo(&mut store);
        let mut bo = school_student("b", "R1", "Bo");
        if let Change::Row(SharedRow::Student { email, .. }) = &mut bo {
            *email = "s5@example.org".into();
        }
        let swap = [school_student("a", "R2", "Ada"), bo];
        let applied = store.apply(&swap, 2, None, false).unwrap();
        assert_eq!(applied.refused.len(), 2, "{:?}", applied.refused);
        // Ada's row names who holds her new number, and that his row waits with hers.
        assert_eq!(
            applied.refused[0],
            "The school's student R2 (Ada) is not written here yet: student R2 (Bo) still \
             holds that roll number here, and the school's change of them, fetched with it, \
             could not be written either (both are fetched again shortly)."
        );
        assert!(
            applied.refused[1].contains(
                "own student R5 (Student 5), whom the school does not \
             have, holds that email address"
            ),
            "{:?}",
            applied.refused
        );
        assert_eq!(roll_numbers(&store, &["a", "b"]), ["R1", "R2"]);
        assert_eq!(store.unwritten_students().unwrap(), ["a", "b"]);

        store.delete_student(own, "admin").unwrap();
        let applied = store.apply(&swap, 2, None, false).unwrap();
        assert!(applied.refused.is_empty(), "{:?}", applied.refused);
        assert_eq!(roll_numbers(&store, &["a", "b"]), ["R2", "R1"]);
        assert_eq!(store.unwritten_students().unwrap(), Vec::<String>::new());
    }

    /// An office's folder at `path` whose students 1 to `n` the school took; then student
    /// `n` is given roll number R7 here (a change waiting). Returns it and that student.
    fn office_with_a_change_waiting(path: &std::path::Path, n: u32) -> (Store, i64) {
        let mut store = Store::open(path).unwrap();
        let ids: Vec<i64> = (1..=n).map(|i| store.add_test_student(i)).collect();
        store.link_to_school("Office").unwrap();
        store.set_school_login("office", Some(true)).unwrap();
        let taken = store.outbox(100, false, None).unwrap();
        store.delivered(&taken, &[]).unwrap();
        let last = ids[ids.len() - 1];
        store
            .update_student(
                last,
                "R7",
                &format!("Student {n}"),
                &format!("s{n}@example.org"),
                "admin",
            )
            .unwrap();
        (store, last)
    }

    /// A student the school took from this office, whose later change here (a new roll
    /// number) the school refused, is still the school's: the school's student now holding
    /// that number is not written here, and the admin is told so, not to enrol and delete
    /// the school's own student as this computer's (at the office, that deletion would
    /// reach the school).
    #[test]
    fn a_schools_student_whose_change_waits_is_not_taken_for_this_computers_own() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, one) = office_with_a_change_waiting(&dir.path().join("rollcall.db"), 1);
        refuse_all_waiting(&mut store);
        assert!(!store.student(one).unwrap().unwrap().never_taken);

        let applied = store
            .apply(&[school_student("bo", "R7", "Bo")], 1, None, false)
            .unwrap();
        assert_eq!(
            applied.refused,
            [
                "The school's student R7 (Bo) was not written here: this computer's student \
              R7 (Student 1) holds that roll number here, by a change of theirs the school \
              has not taken (it is offered again each round, with the school's reason). Once \
              the school takes it, or one of the two is given another roll number (Admin → \
              Students, at the office's computer), the school's student is written here."
            ]
        );
        // Nor joined to Student 1: Bo waits, fetched again until written.
        assert_eq!(store.students().unwrap().len(), 1);
        assert_eq!(store.unwritten_students().unwrap(), ["bo"]);
    }

    /// A linked folder upgraded to schema 26 lists as the school's the students with no
    /// change waiting (the school took them, or sent them); one whose change waits is not
    /// known either way, as before.
    #[test]
    fn an_upgraded_linked_folder_lists_its_students_with_no_change_waiting_as_the_schools() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollcall.db");
        let (store, _) = office_with_a_change_waiting(&path, 2);
        store
            .conn
            .execute_batch("DROP TABLE school_students; PRAGMA user_version = 25;")
            .unwrap();
        drop(store);

        let store = Store::open(&path).unwrap();
        assert_eq!(listed_as_the_schools(&store), ["R1"]);
    }

    /// The roll numbers of the students listed as the school's.
    fn listed_as_the_schools(store: &Store) -> Vec<String> {
        store
            .conn
            .prepare("SELECT s.roll_no FROM school_students k JOIN students s ON s.uid = k.uid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// A folder that leaves its school forgets which students the school has (linked
    /// again, to the same school or another, it fetches them all anew); its students stay.
    #[test]
    fn a_folder_that_leaves_its_school_forgets_which_students_the_school_has() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = office_with_a_change_waiting(&dir.path().join("rollcall.db"), 1);
        assert_eq!(listed_as_the_schools(&store), ["R7"]);
        store.leave_school("test").unwrap();
        assert_eq!(listed_as_the_schools(&store), Vec::<String>::new());
        assert_eq!(store.students().unwrap().len(), 1);
    }

    /// A change made here that the school refused, then the school's copy of the student
    /// (changed at another machine): the school's copy is written, the refused change is
    /// no longer offered, and the audit log keeps what it was.
    #[test]
    fn the_schools_copy_written_over_a_refused_change_leaves_it_in_the_audit_log() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, one) = office_with_a_change_waiting(&dir.path().join("rollcall.db"), 1);
        refuse_all_waiting(&mut store);
        let uid: String = store
            .conn
            .query_row("SELECT uid FROM students WHERE id = ?1", [one], |r| {
                r.get(0)
            })
            .unwrap();
        let renamed = school_student(&uid, "R1", "Student One");
        let applied = store.apply(&[renamed], 1, None, false).unwrap();
        assert!(applied.refused.is_empty(), "{:?}", applied.refused);
        let here = store.student(one).unwrap().unwrap();
        assert_eq!(
            (here.roll_no.as_str(), here.name.as_str()),
            ("R1", "Student One")
        );
        assert_eq!(store.outbox_entries(), []);
        let audit = store.audit_log(1).unwrap();
        assert_eq!(audit[0].action, "school's copy over a refused change");
        assert_eq!(
            audit[0].details,
            format!(
                "the school's copy of student R1 (Student One) was written over the change \
                 made here that the school had not taken: roll number \"R7\" (the school's: \
                 \"R1\"), name \"Student 1\" (the school's: \"Student One\"), email address \
                 \"s1@example.org\" (the school's: \"{uid}@example.org\")"
            )
        );
    }
}
