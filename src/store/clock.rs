//! The clock's guard: a computer whose date went back (a flat clock battery, a date set by
//! hand) would mark every student on the wrong day, and nobody would see it until the
//! sheet showed a whole day absent. The marks this machine already made tell: none can be
//! on a day after today. When some are, either the clock is wrong now or it was wrong
//! when they were made; the machine cannot tell which, so it takes no attendance until an
//! admin sets the clock right or removes those marks.

use super::{audit, Store, StoreError};
use chrono::NaiveDate;

/// Marks this machine made (the kiosk, the API, the command line; not corrections by hand,
/// not marks from other doors of the school) on days after today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FutureMarks {
    /// Today, by this computer's clock.
    pub today: NaiveDate,
    /// The latest day marked.
    pub last_day: NaiveDate,
    /// How many marks are dated after today.
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

/// Which rows are marks made here, not by hand, on days after `?1`.
const MADE_HERE_AFTER: &str = "day > ?1 AND present = 1 AND source <> 'admin'
     AND door IS (SELECT door FROM school_link)";

impl Store {
    /// The marks this machine made on days after `today`, if any.
    pub fn future_marks(&self, today: NaiveDate) -> Result<Option<FutureMarks>, StoreError> {
        let (last, marks): (Option<String>, i64) = self.conn.query_row(
            &format!("SELECT MAX(day), COUNT(*) FROM attendance WHERE {MADE_HERE_AFTER}"),
            [today.format("%Y-%m-%d").to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(last
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            .map(|last_day| FutureMarks {
                today,
                last_day,
                marks,
            }))
    }

    /// Removes the marks this machine made on days after `today` (made while its clock was
    /// ahead), logged; returns how many.
    pub fn remove_future_marks(
        &mut self,
        today: NaiveDate,
        actor: &str,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let today = today.format("%Y-%m-%d").to_string();
        let removed = tx.execute(
            &format!("DELETE FROM attendance WHERE {MADE_HERE_AFTER}"),
            [&today],
        )?;
        if removed > 0 {
            audit(
                &tx,
                actor,
                "remove marks made while the clock was ahead",
                &format!("{removed} dated after {today}"),
            )?;
        }
        tx.commit()?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewStudent;
    use chrono::{Duration, Local};

    fn student(store: &mut Store, n: u32) -> i64 {
        let s = NewStudent {
            roll_no: format!("R{n}"),
            name: format!("Student {n}"),
            email: format!("s{n}@example.org"),
        };
        store.insert_student(&s, &[], "test").unwrap()
    }

    #[test]
    fn only_marks_made_here_after_today_are_future_marks_and_only_they_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        let (a, b, c) = (
            student(&mut store, 1),
            student(&mut store, 2),
            student(&mut store, 3),
        );
        let now = Local::now();
        let today = now.date_naive();
        store
            .mark(a, now - Duration::days(1), Some(7.0), "kiosk", None)
            .unwrap();
        store.mark(a, now, Some(7.0), "kiosk", None).unwrap();
        // An absence recorded ahead by hand, and another door's mark from a clock ahead.
        store
            .correct(b, today + Duration::days(5), false, "trip", "admin")
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
}
