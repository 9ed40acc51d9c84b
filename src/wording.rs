//! Wording shared by the screens, the command line and the audit log.

/// A number with its noun, singular or plural as the number asks: "1 photo", "3 photos",
/// "0 class days". Every noun Rollcall counts takes a plain "s".
pub fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, noun: &str) -> String {
    if n == N::from(1) {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_and_every_other_number_plural() {
        assert_eq!(count(1, "photo"), "1 photo");
        assert_eq!(count(0, "class day"), "0 class days");
        assert_eq!(count(12usize, "student"), "12 students");
    }
}
