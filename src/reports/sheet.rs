//! The attendance sheet: students × class days, present or absent, with totals — what the
//! old dashboard showed, and what exports and email reports are made from.
//!
//! A class day is a day on which the kiosk (or the API, or the command line) marked anyone,
//! or a day an admin declared; a correction by hand never makes one. A student without a
//! mark on a class day since their enrolment was absent; days before they were enrolled do
//! not count for them, nor the days after the last day of a student who left the school.

use crate::store::stored_day;
use crate::store::{Store, StoreError};
use crate::wording::{count, long_date};
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::HashMap;

/// One student's line.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetRow {
    pub student_id: i64,
    pub roll_no: String,
    pub name: String,
    pub email: String,
    /// Present on each class day, in `Sheet::days` order.
    pub present: Vec<bool>,
    /// Whether each class day's answer was decided by hand: a mark an admin made, or an
    /// absence an admin recorded (which stops the kiosk marking them that day).
    pub by_hand: Vec<bool>,
    /// Whether each class day counts for this student (from their enrolment on, up to
    /// their last day if they left the school).
    pub counted: Vec<bool>,
    /// The day a student enrolled after the first class day of the sheet was enrolled
    /// (the class days before it do not count for them).
    pub enrolled_on: Option<NaiveDate>,
    /// The last class day counted for a student who left the school.
    pub last_day: Option<NaiveDate>,
    /// Class days on which they were away from the school (they left and came back), which
    /// do not count for them.
    pub away_days: usize,
    pub present_days: usize,
    pub absent_days: usize,
}

impl SheetRow {
    /// Attendance in percent, `None` when there were no class days.
    pub fn percent(&self) -> Option<f64> {
        let days = self.present_days + self.absent_days;
        (days > 0).then(|| 100.0 * self.present_days as f64 / days as f64)
    }

    /// What class day `c` shows: "P", "A", or "-" before the student was enrolled (or
    /// after they left).
    pub fn cell(&self, c: usize) -> &'static str {
        match (self.present.get(c), self.counted.get(c)) {
            (Some(true), _) => "P",
            (_, Some(true)) => "A",
            _ => "-",
        }
    }

    /// What class day `c` shows on screen: `cell`, with "*" when decided by hand.
    pub fn cell_on_screen(&self, c: usize) -> String {
        let cell = self.cell(c);
        match self.by_hand.get(c) {
            Some(true) if cell != "-" => format!("{cell}*"),
            _ => cell.to_string(),
        }
    }

    /// Why some class days do not count for them, in words: "enrolled 4 March 2026",
    /// "left the school, last day 3 March 2026" ("leaves" when that day is after `today`),
    /// "away 2 class days" (joined by "; "); empty when every one does.
    pub fn standing(&self, today: NaiveDate) -> String {
        let mut parts = Vec::new();
        if let Some(day) = self.enrolled_on {
            parts.push(format!("enrolled {}", long_date(day)));
        }
        if let Some(day) = self.last_day {
            let left = if day > today { "leaves" } else { "left" };
            parts.push(format!("{left} the school, last day {}", long_date(day)));
        }
        if self.away_days > 0 {
            parts.push(format!("away {}", count(self.away_days, "class day")));
        }
        parts.join("; ")
    }

    /// Whether they were gone from the school by `day`: their last day in class was before
    /// it (one whose leave is ahead is still in the class).
    pub fn gone_by(&self, day: NaiveDate) -> bool {
        self.last_day.is_some_and(|d| d < day)
    }

    /// How many counted class days were decided by hand.
    pub fn days_by_hand(&self) -> usize {
        self.by_hand
            .iter()
            .zip(&self.counted)
            .filter(|(by_hand, counted)| **by_hand && **counted)
            .count()
    }

    /// Whether the student is under `threshold` percent.
    pub fn is_under(&self, threshold: f64) -> bool {
        self.percent().is_some_and(|p| p < threshold)
    }
}

/// Students × class days between two dates.
#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: Vec<NaiveDate>,
    pub rows: Vec<SheetRow>,
    /// Students present on each day.
    pub per_day: Vec<usize>,
    /// The school's doors that marked anyone in the range (several doors on one server).
    pub doors: Vec<String>,
    /// Only marks made at this door count as present (`None`: every door's).
    pub door: Option<String>,
    /// Decisions by hand in the range on days that are not class days (which count for
    /// nobody): student, day, and present (a mark) or not (an absence recorded).
    pub by_hand_off_class_days: Vec<(i64, NaiveDate, bool)>,
}

/// Formats a percentage for people ("92 %", or "—" without class days).
pub fn percent_text(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.0} %")).unwrap_or_else(|| "—".into())
}

impl Sheet {
    /// Builds the sheet from the store.
    pub fn build(store: &Store, from: NaiveDate, to: NaiveDate) -> Result<Sheet, StoreError> {
        Sheet::build_for_door(store, from, to, None)
    }

    /// Builds the sheet counting only the marks made at `door` (class days stay the
    /// school's).
    pub fn build_for_door(
        store: &Store,
        from: NaiveDate,
        to: NaiveDate,
        door: Option<&str>,
    ) -> Result<Sheet, StoreError> {
        let days = store.class_days(from, to)?;
        let mut marks = store.attendance(from, to)?;
        let mut doors: Vec<String> = marks.iter().filter_map(|m| m.door.clone()).collect();
        doors.sort();
        doors.dedup();
        if let Some(door) = door {
            marks.retain(|m| m.door.as_deref() == Some(door));
        }
        let column: HashMap<NaiveDate, usize> =
            days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
        let mut present: HashMap<i64, Vec<bool>> = HashMap::new();
        let mut by_hand: HashMap<i64, Vec<bool>> = HashMap::new();
        let mut by_hand_off_class_days = Vec::new();
        let mut hand = |student_id: i64, day: NaiveDate, here: bool| match column.get(&day) {
            Some(c) => {
                by_hand
                    .entry(student_id)
                    .or_insert_with(|| vec![false; days.len()])[*c] = true
            }
            None => by_hand_off_class_days.push((student_id, day, here)),
        };
        for m in &marks {
            let Some(day) = stored_day(&m.day) else {
                continue;
            };
            if let Some(c) = column.get(&day) {
                present
                    .entry(m.student_id)
                    .or_insert_with(|| vec![false; days.len()])[*c] = true;
            }
            if m.source == "admin" {
                hand(m.student_id, day, true);
            }
        }
        // An absence recorded by hand stands at every door.
        for (student_id, day) in store.absences_by_hand(from, to)? {
            if let Some(day) = stored_day(&day) {
                hand(student_id, day, false);
            }
        }
        let mut students = store.students()?;
        // A student who left before the range was not in the class then.
        students.retain(|s| s.last_day.is_none_or(|l| l >= from));
        students.sort_by(|a, b| crate::order::natural_cmp(&a.roll_no, &b.roll_no));
        let rows: Vec<SheetRow> = students
            .into_iter()
            .map(|s| {
                let p = present
                    .remove(&s.id)
                    .unwrap_or_else(|| vec![false; days.len()]);
                let enrolled = s.enrolled_at.get(..10).and_then(stored_day);
                let away = |d: &NaiveDate| s.away.iter().any(|(a, b)| a <= d && d <= b);
                let in_class = |d: &NaiveDate| {
                    enrolled.is_none_or(|e| *d >= e)
                        && s.last_day.is_none_or(|l| *d <= l)
                        && !away(d)
                };
                let counted: Vec<bool> = days
                    .iter()
                    .zip(&p)
                    .map(|(d, here)| *here || in_class(d))
                    .collect();
                let away_days = days
                    .iter()
                    .zip(&counted)
                    .filter(|(d, counted)| !**counted && away(d))
                    .count();
                let present_days = p.iter().filter(|x| **x).count();
                let counted_days = counted.iter().filter(|x| **x).count();
                SheetRow {
                    student_id: s.id,
                    roll_no: s.roll_no,
                    name: s.name,
                    email: s.email,
                    absent_days: counted_days - present_days,
                    present_days,
                    present: p,
                    by_hand: by_hand
                        .remove(&s.id)
                        .unwrap_or_else(|| vec![false; days.len()]),
                    counted,
                    enrolled_on: enrolled.filter(|e| days.first().is_some_and(|d| d < e)),
                    last_day: s.last_day,
                    away_days,
                }
            })
            .collect();
        let per_day = (0..days.len())
            .map(|c| rows.iter().filter(|r| r.present[c]).count())
            .collect();
        Ok(Sheet {
            from,
            to,
            days,
            rows,
            per_day,
            doors,
            door: door.map(str::to_string),
            by_hand_off_class_days,
        })
    }
}

/// Date ranges the review screen offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    ThisWeek,
    ThisMonth,
}

impl Range {
    /// First and last day of the range containing `today`.
    pub fn bounds(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Range::ThisWeek => {
                let start = today - Duration::days(today.weekday().num_days_from_monday() as i64);
                (start, start + Duration::days(6))
            }
            Range::ThisMonth => {
                let start = today.with_day(1).unwrap_or(today);
                let next = if start.month() == 12 {
                    NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
                };
                (start, next.map(|n| n - Duration::days(1)).unwrap_or(today))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Correction, NewStudent};
    use chrono::{Local, TimeZone};

    fn store_with(dir: &std::path::Path, rolls: &[&str]) -> (Store, Vec<i64>) {
        let path = dir.join("db");
        let mut s = Store::open(&path).unwrap();
        let ids = rolls
            .iter()
            .map(|r| {
                s.insert_student(
                    &NewStudent {
                        roll_no: r.to_string(),
                        name: r.to_string(),
                        email: format!("{r}@example.org"),
                    },
                    &[],
                    "t",
                )
                .unwrap()
            })
            .collect();
        (s, ids)
    }

    fn enrolled_on(dir: &std::path::Path, id: i64, day: &str) {
        rusqlite::Connection::open(dir.join("db"))
            .unwrap()
            .execute(
                "UPDATE students SET enrolled_at = ?1 WHERE id = ?2",
                rusqlite::params![format!("{day}T08:00:00+00:00"), id],
            )
            .unwrap();
    }

    fn day(d: u32) -> chrono::DateTime<Local> {
        Local.with_ymd_and_hms(2026, 3, d, 9, 0, 0).unwrap()
    }

    fn march(s: &Store) -> Sheet {
        let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        Sheet::build(s, from, NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()).unwrap()
    }

    #[test]
    fn absent_means_no_mark_on_a_day_someone_was_marked() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, ids) = store_with(dir.path(), &["A", "B"]);
        let (a, b) = (ids[0], ids[1]);
        enrolled_on(dir.path(), a, "2026-03-01");
        enrolled_on(dir.path(), b, "2026-03-01");
        s.mark(a, day(2), None, "kiosk", None).unwrap();
        s.mark(a, day(3), None, "kiosk", None).unwrap();
        s.mark(b, day(3), None, "kiosk", None).unwrap();
        let sheet = march(&s);
        assert_eq!(sheet.days.len(), 2);
        assert_eq!(sheet.per_day, vec![1, 2]);
        assert_eq!(sheet.rows[0].percent(), Some(100.0));
        assert_eq!(sheet.rows[1].percent(), Some(50.0));
        assert!(sheet.rows[1].is_under(85.0));
        assert_eq!(percent_text(sheet.rows[1].percent()), "50 %");
    }

    #[test]
    fn the_days_after_a_students_last_day_count_for_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, ids) = store_with(dir.path(), &["A", "B"]);
        let (a, b) = (ids[0], ids[1]);
        for id in &ids {
            enrolled_on(dir.path(), *id, "2026-03-01");
        }
        // A comes on the 2nd and 3rd; B, the 2nd only, then moves away.
        s.mark(a, day(2), None, "kiosk", None).unwrap();
        s.mark(b, day(2), None, "kiosk", None).unwrap();
        s.mark(a, day(3), None, "kiosk", None).unwrap();
        s.mark(a, day(4), None, "kiosk", None).unwrap();
        let before = march(&s);
        assert_eq!(before.rows[1].percent(), Some(100.0 / 3.0));
        let third = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
        s.student_left(b, third, third, "admin").unwrap();
        let sheet = march(&s);
        let row = &sheet.rows[1];
        assert_eq!(row.last_day, Some(third));
        // Absent on the 3rd, their last day; the 4th is not theirs.
        assert_eq!(
            (0..3).map(|c| row.cell(c)).collect::<Vec<_>>(),
            ["P", "A", "-"]
        );
        assert_eq!((row.present_days, row.absent_days), (1, 1));
        assert_eq!(row.percent(), Some(50.0));
        // A range after their last day leaves them out: they were not in the class then.
        let after = Sheet::build(
            &s,
            NaiveDate::from_ymd_opt(2026, 3, 4).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
        )
        .unwrap();
        assert_eq!(after.rows.len(), 1);
        assert_eq!(after.rows[0].roll_no, "A");
        // Back in the class the day after (recorded by mistake): every day counts again.
        let march_day = |n| NaiveDate::from_ymd_opt(2026, 3, n).unwrap();
        assert!(s.student_back(b, march_day(4), "admin").unwrap());
        assert_eq!(march(&s).rows[1], before.rows[1]);
        assert!(
            !s.student_back(b, march_day(5), "admin").unwrap(),
            "not away"
        );

        // Away from the 4th to the 5th, back on the 6th: those two days count for nobody.
        s.mark(a, day(5), None, "kiosk", None).unwrap();
        s.mark(a, day(6), None, "kiosk", None).unwrap();
        s.student_left(b, third, third, "admin").unwrap();
        assert!(s.student_back(b, march_day(6), "admin").unwrap());
        let row = &march(&s).rows[1];
        assert_eq!(row.last_day, None);
        assert_eq!(
            (0..5).map(|c| row.cell(c)).collect::<Vec<_>>(),
            ["P", "A", "-", "-", "A"]
        );
        assert_eq!(
            (row.present_days, row.absent_days, row.away_days),
            (1, 2, 2)
        );
        // Away again and back: both spans stay theirs.
        s.student_left(b, march_day(6), march_day(6), "admin")
            .unwrap();
        s.mark(a, day(9), None, "kiosk", None).unwrap();
        s.mark(a, day(10), None, "kiosk", None).unwrap();
        assert!(s.student_back(b, march_day(10), "admin").unwrap());
        let row = &march(&s).rows[1];
        assert_eq!(
            (0..7).map(|c| row.cell(c)).collect::<Vec<_>>(),
            ["P", "A", "-", "-", "A", "-", "A"]
        );
    }

    /// A and B, enrolled on 1 March 2026, both marked by the kiosk on Monday the 2nd.
    fn a_and_b_on_monday(dir: &std::path::Path) -> (Store, Vec<i64>) {
        let (mut s, ids) = store_with(dir, &["A", "B"]);
        for id in &ids {
            enrolled_on(dir, *id, "2026-03-01");
            s.mark(*id, day(2), None, "kiosk", None).unwrap();
        }
        (s, ids)
    }

    #[test]
    fn a_correction_by_hand_changes_nobody_elses_attendance() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, ids) = a_and_b_on_monday(dir.path());
        let before = march(&s);
        // A Saturday nobody came: marking A present by hand does not make it a class day.
        let saturday = NaiveDate::from_ymd_opt(2026, 3, 7).unwrap();
        assert!(!s.is_class_day(saturday).unwrap());
        let done = s
            .correct(
                ids[0],
                saturday,
                true,
                "was on a trip",
                "admin",
                chrono::Local::now(),
            )
            .unwrap();
        assert!(done.changed && !done.kept_class_day);
        let after = march(&s);
        assert_eq!(after.days, before.days);
        assert_eq!(after.by_hand_off_class_days, [(ids[0], saturday, true)]);
        assert_eq!(after.rows[1].percent(), Some(100.0), "B is not made absent");
        // Declared, the day counts for everyone.
        assert!(s.declare_class_day(saturday, "admin").unwrap());
        assert!(!s.declare_class_day(saturday, "admin").unwrap(), "once");
        let declared = march(&s);
        assert_eq!(declared.days.len(), 2);
        assert_eq!(declared.rows[0].percent(), Some(100.0));
        assert_eq!(declared.rows[1].percent(), Some(50.0));
        let log = s.audit_log(10).unwrap();
        assert!(
            log.iter().any(|e| e.action == "declare class day"),
            "{log:?}"
        );
        assert!(s.class_day_declaration(saturday).unwrap().is_some());
        // Withdrawn (declared by mistake), it counts for nobody again.
        assert!(s.withdraw_class_day(saturday, "admin").unwrap());
        assert!(!s.withdraw_class_day(saturday, "admin").unwrap(), "once");
        let withdrawn = march(&s);
        assert_eq!(
            (&withdrawn.days, &withdrawn.rows),
            (&before.days, &before.rows)
        );
        // A's mark by hand stays on record, on a day outside the table.
        assert_eq!(withdrawn.by_hand_off_class_days, [(ids[0], saturday, true)]);
        assert!(s.class_day_declaration(saturday).unwrap().is_none());
        // A declared day on which the kiosk then marked someone stays a class day.
        let monday = day(9).date_naive();
        assert!(s.declare_class_day(monday, "admin").unwrap());
        s.mark(ids[0], day(9), None, "kiosk", None).unwrap();
        assert!(s.withdraw_class_day(monday, "admin").unwrap());
        assert!(s.is_class_day(monday).unwrap());
        let log = s.audit_log(10).unwrap();
        assert!(
            log.iter().any(|e| e.action == "withdraw class day"),
            "{log:?}"
        );
    }

    #[test]
    fn taking_away_a_days_only_kiosk_mark_keeps_the_day_and_the_absence_counts() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, ids) = a_and_b_on_monday(dir.path());
        // Tuesday the 3rd: only A came.
        s.mark(ids[0], day(3), None, "kiosk", None).unwrap();
        let tuesday = day(3).date_naive();
        // B is marked present by hand on Tuesday, then A's kiosk mark is taken away: only a
        // mark by hand is left, and the day stays a class day.
        s.correct(
            ids[1],
            tuesday,
            true,
            "came late",
            "admin",
            chrono::Local::now(),
        )
        .unwrap();
        let done = s
            .correct(
                ids[0],
                tuesday,
                false,
                "left early",
                "admin",
                chrono::Local::now(),
            )
            .unwrap();
        assert_eq!(
            done,
            Correction {
                changed: true,
                kept_class_day: true
            }
        );
        let sheet = march(&s);
        assert_eq!(sheet.days.len(), 2, "Tuesday still counts");
        assert_eq!(sheet.rows[0].percent(), Some(50.0), "A's absence counts");
        assert_eq!(sheet.rows[1].percent(), Some(100.0));
        // On screen, Tuesday's answers were decided by hand; Monday's came from the kiosk.
        let shown =
            |r: usize| -> Vec<String> { (0..2).map(|c| sheet.rows[r].cell_on_screen(c)).collect() };
        assert_eq!(
            (shown(0), shown(1)),
            (vec!["P".into(), "A*".into()], vec!["P".into(), "P*".into()])
        );
        assert_eq!(sheet.rows[0].cell(1), "A", "exports keep the old letters");
        assert_eq!(
            (sheet.rows[0].days_by_hand(), sheet.rows[1].days_by_hand()),
            (1, 1)
        );
        assert!(s.class_day_declaration(tuesday).unwrap().is_some());
        let log = s.audit_log(10).unwrap();
        assert!(log.iter().any(|e| e.action == "keep class day"), "{log:?}");
        // Taking away one of two kiosk marks declares nothing; nor does a mark by hand.
        let monday = day(2).date_naive();
        let done = s
            .correct(
                ids[1],
                monday,
                false,
                "wrong person",
                "admin",
                chrono::Local::now(),
            )
            .unwrap();
        assert!(done.changed && !done.kept_class_day);
        assert!(s.class_day_declaration(monday).unwrap().is_none());
        let done = s
            .correct(
                ids[1],
                tuesday,
                false,
                "not late",
                "admin",
                chrono::Local::now(),
            )
            .unwrap();
        assert!(done.changed && !done.kept_class_day);
        // Withdrawn (there was no class), Tuesday counts for nobody.
        assert!(s.withdraw_class_day(tuesday, "admin").unwrap());
        assert_eq!(march(&s).days.len(), 1);
    }

    #[test]
    fn deleting_a_student_changes_nobody_elses_attendance() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, ids) = store_with(dir.path(), &["A", "B", "C", "Late"]);
        let (a, b, c, late) = (ids[0], ids[1], ids[2], ids[3]);
        for id in [a, b, c] {
            enrolled_on(dir.path(), id, "2026-03-01");
        }
        enrolled_on(dir.path(), late, "2026-03-10");
        // Monday the 2nd A and B came; Tuesday the 3rd only A; Wednesday the 4th only A, but
        // by hand; Thursday the 5th only C, before Late was enrolled.
        s.mark(a, day(2), None, "kiosk", None).unwrap();
        s.mark(b, day(2), None, "kiosk", None).unwrap();
        s.mark(a, day(3), None, "api", None).unwrap();
        s.correct(
            a,
            day(4).date_naive(),
            true,
            "on a trip",
            "admin",
            chrono::Local::now(),
        )
        .unwrap();
        s.mark(c, day(5), None, "kiosk", None).unwrap();
        let before = march(&s);
        assert_eq!(before.days.len(), 3);
        let b_before = before
            .rows
            .iter()
            .find(|r| r.student_id == b)
            .unwrap()
            .percent();
        assert_eq!(b_before, Some(100.0 / 3.0));

        // A leaves: Tuesday stays a class day for B and C (declared, audited); Monday
        // (B came too) and Wednesday (not a class day) declare nothing.
        let (_, kept) = s.delete_student(a, "admin").unwrap();
        assert_eq!(kept, 1);
        let after = march(&s);
        assert_eq!(after.days, before.days);
        let b_after = after.rows.iter().find(|r| r.student_id == b).unwrap();
        assert_eq!(b_after.percent(), b_before, "B's absence on Tuesday counts");
        assert!(s
            .class_day_declaration(day(3).date_naive())
            .unwrap()
            .is_some());
        for d in [2, 4] {
            assert!(s
                .class_day_declaration(day(d).date_naive())
                .unwrap()
                .is_none());
        }
        let log = s.audit_log(10).unwrap();
        assert!(
            log.iter()
                .any(|e| e.action == "keep class day" && e.details == "2026-03-03"),
            "{log:?}"
        );

        // B leaves: Monday, now B's mark alone, stays for C. Then C: Thursday counted for
        // nobody left (Late was enrolled after), and is not kept.
        assert_eq!(s.delete_student(b, "admin").unwrap().1, 1);
        assert!(s
            .class_day_declaration(day(2).date_naive())
            .unwrap()
            .is_some());
        let (_, kept) = s.delete_student(c, "admin").unwrap();
        assert_eq!(kept, 0);
        assert!(s
            .class_day_declaration(day(5).date_naive())
            .unwrap()
            .is_none());
    }

    #[test]
    fn days_before_a_students_enrolment_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, ids) = store_with(dir.path(), &["A", "Late"]);
        enrolled_on(dir.path(), ids[0], "2026-03-01");
        enrolled_on(dir.path(), ids[1], "2026-03-03");
        for d in 2..=4 {
            s.mark(ids[0], day(d), None, "kiosk", None).unwrap();
        }
        s.mark(ids[1], day(4), None, "kiosk", None).unwrap();
        let sheet = march(&s);
        let late = &sheet.rows[1];
        assert_eq!(late.counted, vec![false, true, true]);
        assert_eq!((late.present_days, late.absent_days), (1, 1));
        assert_eq!(late.percent(), Some(50.0));
        // The row says why the first day shows "-"; the other's, enrolled before the
        // first class day, has nothing to say.
        let today = day(31).date_naive();
        assert_eq!(late.standing(today), "enrolled 3 March 2026");
        assert_eq!(sheet.rows[0].standing(today), "");
    }

    #[test]
    fn ranges_cover_the_week_and_the_month() {
        let wed = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(
            Range::ThisWeek.bounds(wed),
            (
                NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
            )
        );
        let dec = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(
            Range::ThisMonth.bounds(dec),
            (
                NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
            )
        );
    }
}
