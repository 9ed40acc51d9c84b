//! The clock's guard: a computer whose date is wrong would mark every student on the wrong
//! day, and nobody would see it until the sheet showed a whole day absent. Two things tell:
//! - the marks this machine already made: none can be on a day after today. When some are,
//!   either the clock is wrong now or it was wrong when they were made; the machine cannot
//!   tell which, so it takes no attendance until an admin sets the clock right or removes
//!   those marks. A mark the school server refused as dated on a day that had not come
//!   there stays such a mark once that day comes here (its date is wrong all the same);
//! - at a door linked to a school server, the server's clock: the link compares the two in
//!   its rounds, and a door an hour or more off takes no attendance (a few minutes off is
//!   said on its status line).

use super::{audit, Store, StoreError};
use crate::store::{day_text, stored_day};
use chrono::{DateTime, Local, NaiveDate, Timelike};
use rusqlite::{params, OptionalExtension};

/// A linked door this far from the school server's clock (either way) takes no attendance.
const STOP_MS: i64 = 60 * 60 * 1000;
/// A linked door this far from the school server's clock says so on its status line.
pub(crate) const SAY_MS: i64 = 2 * 60 * 1000;
/// A measurement older than this (by this computer's clock), or from the future (the clock
/// was set back since), no longer tells how far off the clock is.
const MEASURED_WITHIN_MS: i64 = 60 * 60 * 1000;
/// A measurement that has not moved is written again after this long, so it stays recent.
const REWRITE_AFTER_MS: i64 = 5 * 60 * 1000;

/// Why this computer's clock cannot date marks now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WrongClock {
    /// Marks made here while the clock was ahead (dated after today, or refused by the
    /// school server as such).
    MarksAhead(FutureMarks),
    /// The school server's clock is an hour or more from this one.
    OffSchool(SchoolClock),
}

impl std::fmt::Display for WrongClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WrongClock::MarksAhead(ahead) => ahead.fmt(f),
            WrongClock::OffSchool(clock) => clock.fmt(f),
        }
    }
}

/// This computer's clock against the school server's, as the link last measured it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolClock {
    /// Now, by this computer's clock.
    pub here: DateTime<Local>,
    /// How far this clock is ahead of the server's, in milliseconds (negative: behind).
    pub ahead_ms: i64,
}

impl SchoolClock {
    /// "7 minutes ahead of", "3 days behind", as a sentence says how far off the clock is.
    pub fn how_far(&self) -> String {
        let minutes = (self.ahead_ms.abs() + 30_000) / 60_000;
        let span = match minutes {
            m if m < 120 => crate::wording::count(m, "minute"),
            m if m < 48 * 60 => crate::wording::count((m + 30) / 60, "hour"),
            m => crate::wording::count((m + 12 * 60) / (24 * 60), "day"),
        };
        let way = if self.ahead_ms > 0 {
            "ahead of"
        } else {
            "behind"
        };
        format!("{span} {way}")
    }

    /// Now, by the school server's clock.
    pub fn at_school(&self) -> DateTime<Local> {
        self.here - chrono::Duration::milliseconds(self.ahead_ms)
    }
}

impl std::fmt::Display for SchoolClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "This computer's clock is {how_far} the school server's (here it is {here}, at \
             the school {school}): marks would be dated wrong. Set the computer's date and \
             time (if it is right, the school server's clock is the wrong one: set that); \
             attendance is taken again within a few seconds of the clocks agreeing.",
            how_far = self.how_far(),
            here = self.here.format("%Y-%m-%d %H:%M"),
            school = self.at_school().format("%Y-%m-%d %H:%M"),
        )
    }
}

/// Marks this machine made (the kiosk, the API, the command line; not corrections by hand,
/// not marks from other doors of the school) while its clock was ahead: on days after
/// today, or on days the school server said had not come when it was sent them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FutureMarks {
    /// Today, by this computer's clock.
    pub today: NaiveDate,
    /// The latest day marked.
    pub last_day: NaiveDate,
    /// How many marks.
    pub marks: i64,
}

impl FutureMarks {
    /// "the mark" or "the 1,234 marks", as a sentence names them.
    pub fn the_marks(&self) -> String {
        match self.marks {
            1 => "the mark".to_string(),
            n => format!("the {} marks", crate::wording::grouped(n)),
        }
    }
}

impl std::fmt::Display for FutureMarks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (were, them) = match self.marks {
            1 => ("was", "it"),
            _ => ("were", "them"),
        };
        if self.last_day <= self.today {
            // Only marks the school refused: their day has come here since.
            let (marks, its) = match self.marks {
                1 => (
                    format!("A mark made here for {}", self.last_day),
                    "Its date is",
                ),
                n => (
                    format!(
                        "{} made here (the latest for {})",
                        crate::wording::count(n, "mark"),
                        self.last_day
                    ),
                    "Their dates are",
                ),
            };
            return write!(
                f,
                "{marks} {were} dated while this computer's clock was ahead of the school \
                 server's: the school did not take {them}, as the day had not come there. \
                 {its} wrong, so no attendance is taken here until an admin removes {them} \
                 (Admin, or `rollcall future-marks --yes`)."
            );
        }
        write!(
            f,
            "This computer's date is {today}, but attendance was already marked here on \
             {last}: its clock is wrong. Set the computer's date and time; attendance is \
             taken again as soon as the date is right. If today really is {today}, {marks} \
             dated after it {were} made while the clock was ahead: an admin can remove {them} \
             (Admin, or `rollcall future-marks --yes`).",
            today = self.today,
            last = self.last_day,
            marks = self.the_marks(),
        )
    }
}

/// Which rows are marks made here, not by hand, while the clock was ahead: on days after
/// `?1`, or refused for good by the school server as dated on a day that had not come.
const MADE_AHEAD: &str = "present = 1 AND source <> 'admin'
     AND door IS (SELECT door FROM school_link)
     AND (day > ?1 OR uid IN (SELECT uid FROM school_outbox
                              WHERE tbl = 'attendance' AND refused = 2))";

impl Store {
    /// Why this computer's clock cannot date marks at `now` (by that clock), if it cannot:
    /// a school server's clock an hour or more away (said first: the clock is to be set
    /// before marks are removed by today's date), or marks made here while it was ahead.
    pub fn wrong_clock(&self, now: DateTime<Local>) -> Result<Option<WrongClock>, StoreError> {
        if let Some(off) = self
            .school_clock(now)?
            .filter(|c| c.ahead_ms.abs() >= STOP_MS)
        {
            return Ok(Some(WrongClock::OffSchool(off)));
        }
        Ok(self
            .future_marks(now.date_naive())?
            .map(WrongClock::MarksAhead))
    }

    /// How far this computer's clock is from the school server's, when the link measured
    /// it lately (`None`: not linked, never measured, measured too long ago, or the clock
    /// was changed since).
    pub fn school_clock(&self, now: DateTime<Local>) -> Result<Option<SchoolClock>, StoreError> {
        let measured: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT clock_ahead_ms, clock_checked_ms FROM school_link
                 WHERE linked = 1 AND clock_ahead_ms IS NOT NULL AND clock_checked_ms IS NOT NULL",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(measured
            .filter(|&(_, checked)| is_recent(now.timestamp_millis() - checked))
            .map(|(ahead_ms, _)| SchoolClock {
                // To the minute, as it is shown: the kiosk is told again only when it changes.
                here: now
                    .with_second(0)
                    .and_then(|t| t.with_nanosecond(0))
                    .unwrap_or(now),
                ahead_ms,
            }))
    }

    /// Records how far this computer's clock is ahead of the school server's (`ahead_ms`,
    /// negative: behind), measured at `checked_ms` by this clock. Written when it moved by a
    /// second or more, the last figure is `REWRITE_AFTER_MS` old, or the clock was set back
    /// past it: not every round.
    pub(crate) fn set_school_clock(
        &mut self,
        ahead_ms: i64,
        checked_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE school_link SET clock_ahead_ms = ?1, clock_checked_ms = ?2
             WHERE clock_ahead_ms IS NULL OR clock_checked_ms IS NULL
                OR abs(clock_ahead_ms - ?1) >= 1000
                OR ?2 - clock_checked_ms NOT BETWEEN 0 AND ?3",
            params![ahead_ms, checked_ms, REWRITE_AFTER_MS],
        )?;
        Ok(())
    }

    /// The marks this machine made while its clock was ahead (on days after `today`, or
    /// refused as such by the school server), if any.
    pub fn future_marks(&self, today: NaiveDate) -> Result<Option<FutureMarks>, StoreError> {
        let (last, marks): (Option<String>, i64) = self.conn.query_row(
            &format!("SELECT MAX(day), COUNT(*) FROM attendance WHERE {MADE_AHEAD}"),
            [day_text(today)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(last
            .and_then(|d| stored_day(&d))
            .map(|last_day| FutureMarks {
                today,
                last_day,
                marks,
            }))
    }

    /// Removes the marks this machine made while its clock was ahead (`future_marks`),
    /// logged; returns how many.
    pub fn remove_future_marks(
        &mut self,
        today: NaiveDate,
        actor: &str,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let today = day_text(today);
        let removed = tx.execute(
            &format!("DELETE FROM attendance WHERE {MADE_AHEAD}"),
            [&today],
        )?;
        if removed > 0 {
            audit(
                &tx,
                actor,
                "remove marks made while the clock was ahead",
                &format!("{removed}; today is {today}"),
            )?;
        }
        tx.commit()?;
        Ok(removed)
    }

    /// The newest attendance row's id: it changes when a mark is made here or arrives
    /// from another door (cheap, unlike the comparison below).
    pub fn newest_mark(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT MAX(id) FROM attendance", [], |r| r.get(0))?)
    }

    /// This computer's time zone against another door's, if they differ: the newest mark
    /// another door of the school made (in the last week) carries that door's offset from
    /// UTC, which is compared with this computer's offset at that same instant (so a change
    /// to summer time between the two is no difference). Clocks that agree on the instant
    /// but not on the zone date a morning's marks on different days ("(UTC+00:00) is not
    /// North door's (UTC+11:00)"); which door is wrong cannot be told here.
    pub fn zone_unlike_another_door(&self) -> Result<Option<String>, StoreError> {
        let week_ago = day_text((Local::now() - chrono::Duration::days(7)).date_naive());
        let newest: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT door, marked_at FROM attendance
                 WHERE day >= ?1 AND source <> 'admin' AND door IS NOT NULL
                   AND door IS NOT (SELECT door FROM school_link)
                 ORDER BY day DESC LIMIT 1",
                [week_ago],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((door, marked_at)) = newest else {
            return Ok(None);
        };
        let Ok(there) = DateTime::parse_from_rfc3339(&marked_at) else {
            return Ok(None);
        };
        let here = there.with_timezone(&Local).fixed_offset();
        Ok((here.offset() != there.offset()).then(|| {
            format!(
                "(UTC{}) is not {door}'s (UTC{})",
                here.format("%:z"),
                there.format("%:z")
            )
        }))
    }
}

/// Whether a measurement taken `since_ms` ago (by this clock) still tells.
fn is_recent(since_ms: i64) -> bool {
    (-60_000..=MEASURED_WITHIN_MS).contains(&since_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Local};

    #[test]
    fn only_marks_made_here_after_today_are_future_marks_and_only_they_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        let (a, b, c) = (
            store.add_test_student(1),
            store.add_test_student(2),
            store.add_test_student(3),
        );
        let now = Local::now();
        let today = now.date_naive();
        store
            .mark(a, now - Duration::days(1), Some(7.0), "kiosk", None)
            .unwrap();
        store.mark(a, now, Some(7.0), "kiosk", None).unwrap();
        // An absence recorded ahead by hand, and another door's mark from a clock ahead.
        store
            .correct(
                b,
                today + Duration::days(5),
                false,
                "trip",
                "admin",
                chrono::Local::now(),
            )
            .unwrap();
        store
            .conn
            .execute(
                "INSERT INTO attendance (uid, student_id, day, marked_at, score, source, door)
                 VALUES ('u1', ?1, ?2, ?2 || 'T08:00:00+00:00', 7.0, 'kiosk', 'North door')",
                rusqlite::params![c, (today + Duration::days(9)).to_string()],
            )
            .unwrap();
        assert_eq!(store.future_marks(today).unwrap(), None);

        // The kiosk's clock was two and three days ahead.
        store
            .mark(b, now + Duration::days(2), Some(7.0), "kiosk", None)
            .unwrap();
        store
            .mark(c, now + Duration::days(3), Some(7.0), "api", None)
            .unwrap();
        let ahead = store.future_marks(today).unwrap().expect("marks ahead");
        assert_eq!(
            ahead,
            FutureMarks {
                today,
                last_day: today + Duration::days(3),
                marks: 2
            }
        );
        let said = ahead.to_string();
        assert!(
            said.contains(&format!("This computer's date is {today}")),
            "{said}"
        );
        assert!(
            said.contains("the 2 marks dated after it were made"),
            "{said}"
        );
        // Two days on by the clock, the mark three days ahead is still one.
        assert_eq!(
            store
                .future_marks(today + Duration::days(2))
                .unwrap()
                .unwrap()
                .marks,
            1
        );

        assert_eq!(store.remove_future_marks(today, "admin").unwrap(), 2);
        assert_eq!(store.future_marks(today).unwrap(), None);
        let rows: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM attendance", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            rows, 4,
            "today's, yesterday's, the absence and the other door's stay"
        );
        let logged = store.audit_log(1).unwrap();
        assert_eq!(
            logged[0].action,
            "remove marks made while the clock was ahead"
        );
        assert_eq!(store.remove_future_marks(today, "admin").unwrap(), 0);
    }

    #[test]
    fn a_door_an_hour_or_more_from_the_school_servers_clock_takes_no_attendance() {
        const MINUTE: i64 = 60_000;
        const DAY: i64 = 24 * 60 * MINUTE;
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        let now = Local::now();
        let at = now.timestamp_millis();
        // A single door (not linked): a figure left from an earlier link does not count.
        store.set_school_clock(3 * DAY, at).unwrap();
        assert_eq!(store.school_clock(now).unwrap(), None);
        assert_eq!(store.wrong_clock(now).unwrap(), None);
        store.link_to_school_as_office("North door").unwrap();
        store
            .conn
            .execute(
                "UPDATE school_link SET clock_ahead_ms = NULL, clock_checked_ms = NULL",
                [],
            )
            .unwrap();
        assert_eq!(store.wrong_clock(now).unwrap(), None, "never measured");

        // Three days ahead, measured a second ago.
        store.set_school_clock(3 * DAY, at - 1000).unwrap();
        let Some(WrongClock::OffSchool(clock)) = store.wrong_clock(now).unwrap() else {
            panic!("a clock three days ahead must stop the door");
        };
        assert_eq!(clock.how_far(), "3 days ahead of");
        let said = clock.to_string();
        assert!(
            said.starts_with("This computer's clock is 3 days ahead of the school server's")
                && said.contains(&format!(
                    "(here it is {}, at the school {})",
                    now.format("%Y-%m-%d %H:%M"),
                    (now - Duration::days(3)).format("%Y-%m-%d %H:%M")
                ))
                && said.contains("Set the computer's date and time"),
            "{said}"
        );
        let status = store.school_status().unwrap().unwrap();
        assert!(
            status
                .line()
                .ends_with(" — this computer's clock is 3 days ahead of the server's"),
            "{}",
            status.line()
        );
        // The clock set back since: the figure was measured "in the future" and no longer
        // tells, until the link measures again.
        assert_eq!(store.wrong_clock(now - Duration::days(3)).unwrap(), None);
        // Measured two hours ago (the link has not reached the server since): no longer.
        assert_eq!(store.wrong_clock(now + Duration::hours(2)).unwrap(), None);

        // An hour and a half behind.
        store.set_school_clock(-90 * MINUTE, at).unwrap();
        let Some(WrongClock::OffSchool(clock)) = store.wrong_clock(now).unwrap() else {
            panic!("a clock 90 minutes behind must stop the door");
        };
        assert_eq!(clock.how_far(), "90 minutes behind");

        // Seven minutes ahead: attendance goes on, and the status line says it.
        store.set_school_clock(7 * MINUTE + 400, at).unwrap();
        assert_eq!(store.wrong_clock(now).unwrap(), None);
        let status = store.school_status().unwrap().unwrap();
        assert_eq!(status.clock_off.as_deref(), Some("7 minutes ahead of"));
        // Under two minutes: nothing to say.
        store.set_school_clock(-100 * 1000, at).unwrap();
        assert_eq!(store.school_status().unwrap().unwrap().clock_off, None);
        assert_eq!(store.wrong_clock(now).unwrap(), None);

        // With marks made here ahead of today as well, the clock is said first: the admin
        // sets it, then removes the marks by the right date (not by the wrong one).
        let a = store.add_test_student(1);
        store.set_school_clock(3 * DAY, at).unwrap();
        store
            .mark(a, now + Duration::days(3), Some(7.0), "kiosk", None)
            .unwrap();
        assert!(matches!(
            store.wrong_clock(now).unwrap(),
            Some(WrongClock::OffSchool(_))
        ));
        store.set_school_clock(0, at + 1).unwrap();
        assert!(matches!(
            store.wrong_clock(now).unwrap(),
            Some(WrongClock::MarksAhead(_))
        ));
    }

    #[test]
    fn a_time_zone_unlike_another_doors_is_said_on_the_status_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        store.link_to_school_as_office("South door").unwrap();
        let a = store.add_test_student(1);
        let now = Local::now().fixed_offset();
        let mark = |store: &Store, door: &str, at: chrono::DateTime<chrono::FixedOffset>| {
            store.conn.execute("DELETE FROM attendance", []).unwrap();
            store
                .conn
                .execute(
                    "INSERT INTO attendance (student_id, day, marked_at, score, source, door)
                     VALUES (?1, ?2, ?3, 7.0, 'kiosk', ?4)",
                    params![a, day_text(at.date_naive()), at.to_rfc3339(), door],
                )
                .unwrap();
            store.zone_unlike_another_door().unwrap()
        };
        // North door marks in this computer's own zone: nothing to say.
        assert_eq!(mark(&store, "North door", now), None);
        // The same instant, with North door's zone five hours from this one's.
        let five_off =
            chrono::FixedOffset::east_opt(now.offset().local_minus_utc() + 5 * 3600).unwrap();
        let there = now.with_timezone(&five_off);
        let zone_off = mark(&store, "North door", there);
        let unlike = format!(
            "(UTC{}) is not North door's (UTC{})",
            now.format("%:z"),
            there.format("%:z")
        );
        assert_eq!(zone_off.as_deref(), Some(unlike.as_str()));
        let status = crate::store::school::SchoolStatus {
            zone_off,
            ..store.school_status().unwrap().unwrap()
        };
        assert!(
            status
                .line()
                .ends_with(&format!(" — this computer's time zone {unlike}")),
            "{}",
            status.line()
        );
        // This door's own marks, and marks by hand, are not compared.
        assert_eq!(mark(&store, "South door", there), None);
        store
            .conn
            .execute(
                "UPDATE attendance SET door = 'North door', source = 'admin'",
                [],
            )
            .unwrap();
        assert_eq!(store.zone_unlike_another_door().unwrap(), None);
    }
}
