//! Wording shared by the screens, the command line and the audit log.

/// A number with its noun, singular or plural as the number asks: "1 photo", "3 photos",
/// "0 class days", "2,003 students". Every noun Rollcall counts takes a plain "s".
pub fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, noun: &str) -> String {
    if n == N::from(1) {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", grouped(n))
    }
}

/// A whole number with its thousands set apart, as people read them: "2,003", "-12,500";
/// anything else (a fraction) as it is.
pub fn grouped(n: impl std::fmt::Display) -> String {
    let text = n.to_string();
    let digits = text.strip_prefix('-').unwrap_or(&text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + digits.len() / 3);
    if text.starts_with('-') {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A day as people write it: "4 March 2026".
pub fn long_date(day: chrono::NaiveDate) -> String {
    day.format("%-d %B %Y").to_string()
}

/// Days from `first` to `last` as people write them: "4 March 2026" for one day,
/// "4 March 2026 to 10 March 2026" for more.
pub fn day_span(first: chrono::NaiveDate, last: chrono::NaiveDate) -> String {
    match first == last {
        true => long_date(first),
        false => format!("{} to {}", long_date(first), long_date(last)),
    }
}

/// How a mark was made, as the attendance table's `source` records it ('kiosk', 'api',
/// 'cli', 'admin'), in the words an admin reads in Review and the exported workbook: "cli"
/// and "api" are a developer's words. A source this release does not know (a newer
/// door's) is shown as it is.
pub fn mark_source(source: &str) -> &str {
    match source {
        "kiosk" => "kiosk camera",
        "api" => "photo sent to the API",
        "cli" => "photo at the command line",
        "admin" => "correction by hand",
        other => other,
    }
}

/// Items as a sentence lists them: "a", "a and b", "a, b and c" (empty: "").
pub fn listing(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Why a file or folder could not be read or written, worded for the person who chose it
/// ("there is no such file or folder", "the disk is full") rather than as the system's
/// error code.
pub fn file_problem(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "there is no such file or folder".into(),
        ErrorKind::PermissionDenied => "Rollcall is not allowed to open it".into(),
        ErrorKind::IsADirectory => "it is a folder, not a file".into(),
        ErrorKind::NotADirectory => "a part of that path is a file, not a folder".into(),
        ErrorKind::StorageFull => "the disk is full".into(),
        ErrorKind::ReadOnlyFilesystem => "the disk is read-only".into(),
        _ => {
            let text = e.to_string();
            match text.rfind(" (os error ") {
                Some(i) => text[..i].to_string(),
                None => text,
            }
        }
    }
}

/// What the kiosk's screens say of its link to a school server.
pub mod school_link {
    /// Said over the admin screens of a door whose login to the school server may only add
    /// marks (its enrolments, corrections and erasures are refused).
    pub const DOOR_LOGIN: &str = "This door's login to the school server may only add marks. \
        Enrol students, change or delete them, erase face data and correct attendance at the \
        office (the school's Rollcall with the administrator's login): made here, they would \
        never reach the school or its other doors.";

    /// Said over the admin screens instead when no school server is set for this computer
    /// at all.
    pub const NO_SERVER_SET: &str = "This data folder is linked to a school server, but none \
        is set for this computer, so it cannot tell whether it may change the school's \
        students and attendance or only add marks: enrolling, changes to students and \
        corrections wait. Set the school server again (the `database` under [school] in the \
        data folder's settings.toml); or, if this computer should no longer be linked to a \
        school, run `rollcall leave-school`.";

    /// Said over the admin screens of a linked door whose link has not yet reached the
    /// school server with its login (so what it may do is not known).
    pub const LOGIN_NOT_KNOWN_YET: &str = "This computer has not reached the school server \
        since it was linked (or since its login changed), so it cannot tell yet whether it may \
        change the school's students and attendance or only add marks. Enrolling, changes to \
        students and corrections wait until it has: check the network and the school server \
        (the kiosk's status line says when it is connected). A computer that should not be \
        linked to a school server at all: remove the address from its settings, then run \
        `rollcall leave-school`.";

    /// Said on hovering the status line of a kiosk whose folder is linked to a school
    /// server when none is set for it.
    pub const NO_SERVER_SET_STATUS: &str = "This data folder is linked to a school server, \
        but none is set for this computer (the `database` under [school] in its settings.toml, \
        $ROLLCALL_DATABASE or --database), so nothing sends its marks to the school or brings \
        the other doors' changes. Set it again; or, if this computer should no longer be \
        linked to a school, run `rollcall leave-school`.";
}

#[cfg(test)]
mod tests {
    use super::{count, file_problem, grouped, listing};

    #[test]
    fn items_are_listed_as_a_sentence_lists_them() {
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(listing(&items(&[])), "");
        assert_eq!(listing(&items(&["3 photos"])), "3 photos");
        assert_eq!(listing(&items(&["a", "b"])), "a and b");
        assert_eq!(listing(&items(&["a", "b", "c"])), "a, b and c");
    }

    #[test]
    fn one_is_singular_and_every_other_number_plural() {
        assert_eq!(count(1, "photo"), "1 photo");
        assert_eq!(count(0, "class day"), "0 class days");
        assert_eq!(count(12usize, "student"), "12 students");
        assert_eq!(count(2003usize, "student"), "2,003 students");
    }

    #[test]
    fn thousands_are_set_apart_in_whole_numbers_only() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(10000u64), "10,000");
        assert_eq!(grouped(1234567i64), "1,234,567");
        assert_eq!(grouped(-12500), "-12,500");
        assert_eq!(grouped(2.5), "2.5");
    }

    #[test]
    fn file_problems_are_told_in_words_without_error_codes() {
        let missing = std::fs::read("/no/such/folder/a.jpg").unwrap_err();
        assert_eq!(file_problem(&missing), "there is no such file or folder");
        let folder = std::fs::read(std::env::temp_dir()).unwrap_err();
        assert_eq!(file_problem(&folder), "it is a folder, not a file");
        // EIO: no wording of its own, the system's words without the code.
        let other = std::io::Error::from_raw_os_error(5);
        assert_eq!(file_problem(&other), "Input/output error");
    }
}
