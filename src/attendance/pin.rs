//! The admin PIN: stored only as an argon2 hash; five wrong tries lock it for a minute.

use crate::store::{Store, StoreError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand_core::OsRng;
use std::time::{Duration, Instant};

use crate::store::ADMIN_PIN_KEY as PIN_KEY;
/// Wrong tries allowed before the lock-out.
pub const MAX_WRONG_TRIES: u32 = 5;
/// How long the PIN is refused after too many wrong tries.
pub const LOCKOUT: Duration = Duration::from_secs(60);

/// The answer to a PIN.
#[derive(Clone, Debug, PartialEq)]
pub enum PinCheck {
    Accepted,
    Wrong { tries_left: u32 },
    LockedOut { wait: Duration },
    NotSet,
}

impl PinCheck {
    /// What to tell the admin.
    pub fn message(&self) -> String {
        match self {
            PinCheck::Accepted => "Unlocked.".into(),
            PinCheck::Wrong { tries_left } => {
                format!("Wrong PIN. {tries_left} tries left before a one-minute lock.")
            }
            PinCheck::LockedOut { wait } => format!(
                "Too many wrong PINs. Try again in {} seconds.",
                wait.as_secs().max(1)
            ),
            PinCheck::NotSet => "No admin PIN is set yet.".into(),
        }
    }
}

/// Why a PIN could not be set.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("The PIN must be 4 to 12 digits.")]
    Format,
    #[error("The two PINs are different.")]
    Mismatch,
    #[error("An admin PIN is already set.")]
    AlreadySet,
    /// The current PIN, when changing it, was refused: why.
    #[error("{0}")]
    Current(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("The PIN could not be stored safely.")]
    Hash,
}

/// Checks a new PIN (entered twice) and stores its hash.
fn store_new(store: &mut Store, pin: &str, again: &str) -> Result<(), PinError> {
    if pin != again {
        return Err(PinError::Mismatch);
    }
    if !(4..=12).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(PinError::Format);
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map_err(|_| PinError::Hash)?
        .to_string();
    store.set_admin_setting(PIN_KEY, &hash)?;
    Ok(())
}

/// The PIN check with its wrong-try counter.
#[derive(Debug, Default)]
pub struct AdminPin {
    wrong: u32,
    locked_until: Option<Instant>,
}

impl AdminPin {
    /// Whether a PIN has been set.
    pub fn is_set(store: &Store) -> Result<bool, StoreError> {
        Ok(store.admin_setting(PIN_KEY)?.is_some())
    }

    /// Sets the PIN the first time (entered twice).
    pub fn set(store: &mut Store, pin: &str, again: &str) -> Result<(), PinError> {
        if Self::is_set(store)? {
            return Err(PinError::AlreadySet);
        }
        store_new(store, pin, again)?;
        store.audit("admin", "set PIN", "the admin PIN was set")?;
        Ok(())
    }

    /// Changes the PIN: the current one (a wrong one counts as a wrong try), then the new
    /// one twice.
    pub fn change(
        &mut self,
        store: &mut Store,
        current: &str,
        new: &str,
        again: &str,
        now: Instant,
    ) -> Result<(), PinError> {
        match self.check(store, current, now)? {
            PinCheck::Accepted => {}
            refused => return Err(PinError::Current(refused.message())),
        }
        store_new(store, new, again)?;
        store.audit("admin", "change PIN", "the admin PIN was changed")?;
        Ok(())
    }

    /// Removes a forgotten PIN (from the command line, by whoever may use the data
    /// folder): the next admin chooses a new one. False when none was set.
    pub fn forget(store: &mut Store, actor: &str) -> Result<bool, StoreError> {
        let removed = store.remove_admin_setting(PIN_KEY)?;
        if removed {
            store.audit(
                actor,
                "forget PIN",
                "the admin PIN was removed; the next admin chooses a new one",
            )?;
        }
        Ok(removed)
    }

    /// Checks a PIN, counting wrong tries.
    pub fn check(
        &mut self,
        store: &mut Store,
        pin: &str,
        now: Instant,
    ) -> Result<PinCheck, StoreError> {
        let was_locked = self.locked_until.is_some_and(|until| now < until);
        let stored = store.admin_setting(PIN_KEY)?;
        let answer = self.check_against(stored.as_deref(), pin, now);
        if !was_locked && matches!(answer, PinCheck::LockedOut { .. }) {
            store.audit("admin", "PIN lock-out", "five wrong PINs in a row")?;
        }
        Ok(answer)
    }

    /// Checks a PIN against a stored hash (`None`: no PIN was set), counting wrong tries:
    /// for a PIN kept elsewhere than in the records (a backup's, when they are damaged).
    pub fn check_against(&mut self, stored: Option<&str>, pin: &str, now: Instant) -> PinCheck {
        if let Some(until) = self.locked_until {
            if now < until {
                return PinCheck::LockedOut { wait: until - now };
            }
            self.locked_until = None;
            self.wrong = 0;
        }
        let Some(stored) = stored else {
            return PinCheck::NotSet;
        };
        let ok = PasswordHash::new(stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(pin.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        if ok {
            self.wrong = 0;
            return PinCheck::Accepted;
        }
        self.wrong += 1;
        if self.wrong >= MAX_WRONG_TRIES {
            self.locked_until = Some(now + LOCKOUT);
            return PinCheck::LockedOut { wait: LOCKOUT };
        }
        PinCheck::Wrong {
            tries_left: MAX_WRONG_TRIES - self.wrong,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("db")).unwrap();
        (dir, s)
    }

    #[test]
    fn the_pin_is_stored_as_a_hash_and_checked() {
        let (_d, mut s) = store();
        let mut pin = AdminPin::default();
        assert_eq!(
            pin.check(&mut s, "1234", Instant::now()).unwrap(),
            PinCheck::NotSet
        );
        assert!(matches!(
            AdminPin::set(&mut s, "12a4", "12a4"),
            Err(PinError::Format)
        ));
        assert!(matches!(
            AdminPin::set(&mut s, "1234", "1235"),
            Err(PinError::Mismatch)
        ));
        AdminPin::set(&mut s, "2468", "2468").unwrap();
        let stored = s.admin_setting(PIN_KEY).unwrap().unwrap();
        assert!(stored.starts_with("$argon2") && !stored.contains("2468"));
        assert_eq!(
            pin.check(&mut s, "2468", Instant::now()).unwrap(),
            PinCheck::Accepted
        );
        assert!(matches!(
            AdminPin::set(&mut s, "1111", "1111"),
            Err(PinError::AlreadySet)
        ));
    }

    #[test]
    fn the_pin_is_changed_with_the_current_one() {
        let (_d, mut s) = store();
        AdminPin::set(&mut s, "2468", "2468").unwrap();
        let mut pin = AdminPin::default();
        let now = Instant::now();
        let wrong = pin.change(&mut s, "1111", "1357", "1357", now).unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "Wrong PIN. 4 tries left before a one-minute lock."
        );
        assert!(matches!(
            pin.change(&mut s, "2468", "1357", "1358", now),
            Err(PinError::Mismatch)
        ));
        pin.change(&mut s, "2468", "1357", "1357", now).unwrap();
        assert_eq!(
            pin.check(&mut s, "2468", now).unwrap(),
            PinCheck::Wrong { tries_left: 4 }
        );
        assert_eq!(pin.check(&mut s, "1357", now).unwrap(), PinCheck::Accepted);
        assert_eq!(s.audit_log(1).unwrap()[0].action, "change PIN");
    }

    #[test]
    fn five_wrong_tries_lock_for_a_minute() {
        let (_d, mut s) = store();
        AdminPin::set(&mut s, "2468", "2468").unwrap();
        let mut pin = AdminPin::default();
        let t0 = Instant::now();
        for left in (1..MAX_WRONG_TRIES).rev() {
            assert_eq!(
                pin.check(&mut s, "0000", t0).unwrap(),
                PinCheck::Wrong { tries_left: left }
            );
        }
        assert!(matches!(
            pin.check(&mut s, "0000", t0).unwrap(),
            PinCheck::LockedOut { .. }
        ));
        // Even the right PIN is refused during the lock-out...
        assert!(matches!(
            pin.check(&mut s, "2468", t0 + Duration::from_secs(30))
                .unwrap(),
            PinCheck::LockedOut { .. }
        ));
        let lockouts = |s: &Store| {
            let log = s.audit_log(20).unwrap();
            log.iter().filter(|e| e.action == "PIN lock-out").count()
        };
        assert_eq!(lockouts(&s), 1, "the lock-out is logged once");
        // ...and accepted after it.
        assert_eq!(
            pin.check(&mut s, "2468", t0 + LOCKOUT + Duration::from_secs(1))
                .unwrap(),
            PinCheck::Accepted
        );
    }
}
