//! The attendance sheet: students × class days, present or absent, with totals — what the
//! old dashboard showed, and what exports and email reports are made from.
//!
//! A class day is a day in the range on which anyone was marked present (as in the old
//! system); a student without a mark on a class day was absent.

use crate::store::{Store, StoreError};
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::{BTreeSet, HashMap};

/// One student's line.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetRow {
    pub student_id: i64,
    pub roll_no: String,
    pub name: String,
    pub email: String,
    /// Present on each class day, in `Sheet::days` order.
    pub present: Vec<bool>,
    pub present_days: usize,
    pub absent_days: usize,
}

impl SheetRow {
    /// Attendance in percent, `None` when there were no class days.
    pub fn percent(&self) -> Option<f64> {
        let days = self.present_days + self.absent_days;
        (days > 0).then(|| 100.0 * self.present_days as f64 / days as f64)
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
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Formats a percentage for people ("92 %", or "—" without class days).
pub fn percent_text(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.0} %")).unwrap_or_else(|| "—".into())
}

impl Sheet {
    /// Builds the sheet from the store.
    pub fn build(store: &Store, from: NaiveDate, to: NaiveDate) -> Result<Sheet, StoreError> {
        let marks = store.attendance(from, to)?;
        let days: Vec<NaiveDate> = marks
            .iter()
            .filter_map(|m| parse_day(&m.day))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let column: HashMap<NaiveDate, usize> =
            days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
        let mut present: HashMap<i64, Vec<bool>> = HashMap::new();
        for m in &marks {
            if let Some(c) = parse_day(&m.day).and_then(|d| column.get(&d)) {
                present
                    .entry(m.student_id)
                    .or_insert_with(|| vec![false; days.len()])[*c] = true;
            }
        }
        let mut students = store.students()?;
        students.sort_by(|a, b| crate::order::natural_cmp(&a.roll_no, &b.roll_no));
        let rows: Vec<SheetRow> = students
            .into_iter()
            .map(|s| {
                let p = present
                    .remove(&s.id)
                    .unwrap_or_else(|| vec![false; days.len()]);
                let present_days = p.iter().filter(|x| **x).count();
                SheetRow {
                    student_id: s.id,
                    roll_no: s.roll_no,
                    name: s.name,
                    email: s.email,
                    absent_days: days.len() - present_days,
                    present_days,
                    present: p,
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
    use crate::store::NewStudent;
    use chrono::{Local, TimeZone};

    #[test]
    fn absent_means_no_mark_on_a_day_someone_was_marked() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("db")).unwrap();
        let mut add = |r: &str| {
            s.insert_student(
                &NewStudent {
                    roll_no: r.into(),
                    name: r.into(),
                    email: format!("{r}@example.org"),
                },
                &[],
                "t",
            )
            .unwrap()
        };
        let (a, b) = (add("A"), add("B"));
        let day = |d: u32| Local.with_ymd_and_hms(2026, 3, d, 9, 0, 0).unwrap();
        s.mark(a, day(2), None, "t", None).unwrap();
        s.mark(a, day(3), None, "t", None).unwrap();
        s.mark(b, day(3), None, "t", None).unwrap();
        let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let sheet = Sheet::build(&s, from, NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()).unwrap();
        assert_eq!(sheet.days.len(), 2);
        assert_eq!(sheet.per_day, vec![1, 2]);
        assert_eq!(sheet.rows[0].percent(), Some(100.0));
        assert_eq!(sheet.rows[1].percent(), Some(50.0));
        assert!(sheet.rows[1].is_under(85.0));
        assert_eq!(percent_text(sheet.rows[1].percent()), "50 %");
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
