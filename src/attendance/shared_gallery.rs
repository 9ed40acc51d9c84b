//! The gallery of one data folder as a process holds it: one copy shared by the process's
//! recognisers (each engine of `rollcall serve`), kept in step with the store through its
//! templates version. A change one recogniser makes is seen by the others at once, without
//! each reloading every student.

use crate::recognition::{Gallery, Matcher, Origin};
use crate::settings::CalibrationSettings;
use crate::store::{Store, StoreError, TemplatesVersion};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A handle on the shared gallery; clones share it.
#[derive(Clone)]
pub struct SharedGallery(Arc<Inner>);

struct Inner {
    calibration: CalibrationSettings,
    held: RwLock<Held>,
    /// One change at a time: held while a change reads and writes the store, so the
    /// gallery itself is locked only to put the result in place.
    changing: Mutex<()>,
}

struct Held {
    matcher: Matcher,
    /// The store's templates version the gallery matches; `None` before the first read
    /// and after a change that could not be read back (the next refresh reads it).
    version: Option<TemplatesVersion>,
    /// Counts changes, so a reload read meanwhile never replaces a newer gallery.
    generation: u64,
}

impl Held {
    /// Puts a gallery read from the store in place: a change every sharer can notice.
    fn install(&mut self, (matcher, version): (Matcher, TemplatesVersion)) {
        self.matcher = matcher;
        self.version = Some(version);
        self.generation += 1;
    }
}

/// The matcher, read while no one changes it.
pub struct MatcherView<'a>(RwLockReadGuard<'a, Held>);

impl std::ops::Deref for MatcherView<'_> {
    type Target = Matcher;
    fn deref(&self) -> &Matcher {
        &self.0.matcher
    }
}

impl SharedGallery {
    /// An empty gallery, not read yet: `refresh` reads it.
    pub fn new(calibration: &CalibrationSettings) -> SharedGallery {
        SharedGallery(Arc::new(Inner {
            calibration: calibration.clone(),
            held: RwLock::new(Held {
                matcher: Matcher::new(Gallery::default(), calibration),
                version: None,
                generation: 0,
            }),
            changing: Mutex::new(()),
        }))
    }

    /// The matcher (gallery and calibration), for reading.
    pub fn matcher(&self) -> MatcherView<'_> {
        MatcherView(self.read())
    }

    /// Counts the gallery's changes (reloads and changes made through any handle): a
    /// recogniser compares it to notice a change another one made.
    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    /// Reads the gallery again when someone (this process or another) enrolled or removed
    /// a student since it was read. Cheap when nothing changed; true when it reloaded. The
    /// store is read without holding the gallery, so identification goes on meanwhile.
    pub fn refresh(&self, store: &Store) -> Result<bool, StoreError> {
        let now = store.templates_version()?;
        let generation = {
            let held = self.read();
            if held.version == Some(now) {
                return Ok(false);
            }
            held.generation
        };
        let read = self.read_store(store)?;
        let mut held = self.write();
        if held.generation == generation {
            held.install(read);
        }
        Ok(true)
    }

    /// Writes to the store and changes the gallery to match, as one step: no recogniser of
    /// this process reloads in between (which would count the change twice), and a change
    /// another program made just before is read first (rather than taken as included), one
    /// made while this one is written is read with it (rather than taken for this one).
    /// Identification goes on meanwhile: the gallery is locked only to put the change in
    /// place, not while the store is read or written.
    pub fn change<S: AsRef<Store>, T, E: From<StoreError>>(
        &self,
        target: &mut S,
        write: impl FnOnce(&mut S) -> Result<T, E>,
        update: impl FnOnce(&mut Gallery, &T),
    ) -> Result<T, E> {
        let _turn = self.0.changing.lock().unwrap_or_else(|p| p.into_inner());
        // Another program may write between the look below and this change's own write;
        // its change would then be taken as this one's. Noticed afterwards by this.
        let others_before = target.as_ref().others_version()?;
        // Copied out so the read guard is gone before `install` takes the write lock (a
        // guard in the `match` itself would live through its arms and deadlock).
        let held_version = self.read().version;
        let before = match held_version {
            Some(v) if v == target.as_ref().templates_version()? => v,
            _ => {
                // Another program's change first. It replaces whatever a refresh put in
                // place meanwhile: a gallery and its version always go together.
                let read = self.read_store(target.as_ref())?;
                let version = read.1;
                self.write().install(read);
                version
            }
        };
        let out = write(target)?;
        // The change is in the store now: it has succeeded, whatever happens below. If the
        // store cannot be read back, the gallery is marked unread and the next refresh
        // reads it, rather than the change being reported as failed.
        let store = target.as_ref();
        let put_in_place = if store.others_version().ok() != Some(others_before) {
            // Someone else wrote meanwhile (perhaps only an attendance mark): the store is
            // read again, this change with it, rather than this change alone applied.
            self.read_store(store)
                .map(|read| self.write().install(read))
        } else {
            store.templates_version().and_then(|after| {
                let mut held = self.write();
                if held.version == Some(before) {
                    held.matcher.update(|g| update(g, &out));
                    held.version = Some(after);
                    held.generation += 1;
                } else if held.version != Some(after) {
                    // A refresh put a read in place that is neither before nor after this
                    // change: read again rather than guess.
                    held.install(self.read_store(store)?);
                }
                // Otherwise a refresh already read the store with this change in it.
                Ok(())
            })
        };
        if let Err(e) = put_in_place {
            tracing::warn!("the gallery will be read again: {e}");
            let mut held = self.write();
            held.version = None;
            held.generation += 1;
        }
        Ok(out)
    }

    /// The store's gallery, calibrated, and the templates version it was read at.
    fn read_store(&self, store: &Store) -> Result<(Matcher, TemplatesVersion), StoreError> {
        let version = store.templates_version()?;
        let mut gallery = Gallery::default();
        store.for_each_template(|t| {
            gallery.add(
                t.student_id,
                &t.model_id,
                &t.vector,
                Origin::parse(&t.origin),
            )
        })?;
        for o in store.observations()? {
            gallery.add_observation(o.student_id, &o.model_id, &o.vector);
        }
        Ok((Matcher::new(gallery, &self.0.calibration), version))
    }

    fn read(&self) -> RwLockReadGuard<'_, Held> {
        self.0.held.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Held> {
        self.0.held.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewPhoto, NewStudent};

    fn student(n: usize) -> NewStudent {
        NewStudent {
            roll_no: format!("R{n}"),
            name: format!("Student {n}"),
            email: format!("s{n}@example.org"),
        }
    }

    fn face(n: usize) -> Vec<NewPhoto> {
        vec![NewPhoto {
            file_name: format!("{n}/a.jpg"),
            origin: "upload".into(),
            templates: vec![("m".into(), vec![n as f32, 1.0])],
        }]
    }

    fn enrol(gallery: &SharedGallery, store: &mut Store, n: usize) -> i64 {
        gallery
            .change(
                store,
                |s| s.insert_student(&student(n), &face(n), "test"),
                |g, id| g.add(*id, "m", &[n as f32, 1.0], Origin::Upload),
            )
            .unwrap()
    }

    fn setup() -> (tempfile::TempDir, Store, SharedGallery) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        (
            dir,
            store,
            SharedGallery::new(&CalibrationSettings::default()),
        )
    }

    #[test]
    fn recognisers_sharing_it_read_the_store_once() {
        let (_d, mut store, one) = setup();
        store.insert_student(&student(1), &face(1), "test").unwrap();
        let other = one.clone();
        assert!(one.refresh(&store).unwrap());
        assert!(!other.refresh(&store).unwrap(), "already read by the first");
        assert_eq!(other.matcher().gallery().len(), 1);
    }

    #[test]
    fn a_change_through_one_recogniser_reaches_the_others_without_a_reload() {
        let (_d, mut store, one) = setup();
        let other = one.clone();
        one.refresh(&store).unwrap();
        enrol(&one, &mut store, 1);
        enrol(&other, &mut store, 2);
        assert_eq!(one.matcher().gallery().len(), 2);
        assert_eq!(one.matcher().gallery().templates(), 2, "each counted once");
        assert!(!other.refresh(&store).unwrap());
        assert!(!one.refresh(&store).unwrap());
        let seen = other.generation();
        enrol(&one, &mut store, 3);
        assert_ne!(other.generation(), seen, "the other notices the change");
    }

    #[test]
    fn another_programs_enrolment_is_read_and_never_skipped() {
        let (d, mut store, one) = setup();
        one.refresh(&store).unwrap();
        let mut elsewhere = Store::open(&d.path().join("rollcall.db")).unwrap();
        elsewhere
            .insert_student(&student(1), &face(1), "other program")
            .unwrap();
        // This process enrols before it noticed: the other program's student is read too.
        enrol(&one, &mut store, 2);
        assert_eq!(one.matcher().gallery().len(), 2);
        assert_eq!(one.matcher().gallery().templates(), 2);
        elsewhere
            .insert_student(&student(3), &face(3), "other program")
            .unwrap();
        assert!(one.refresh(&store).unwrap());
        assert_eq!(one.matcher().gallery().len(), 3);
    }

    #[test]
    fn identification_goes_on_while_a_change_writes_the_store() {
        let (_d, mut store, one) = setup();
        enrol(&one, &mut store, 1);
        let door = one.clone();
        let read_meanwhile = one
            .change(
                &mut store,
                |s| {
                    // Another recogniser identifies while the enrolment is being written.
                    let (tx, rx) = std::sync::mpsc::channel();
                    let door = door.clone();
                    std::thread::spawn(move || tx.send(door.matcher().gallery().len()));
                    let seen = rx.recv_timeout(std::time::Duration::from_secs(2));
                    s.insert_student(&student(2), &face(2), "test")
                        .map(|id| (id, seen))
                },
                |g, (id, _)| g.add(*id, "m", &[2.0, 1.0], Origin::Upload),
            )
            .unwrap()
            .1;
        assert_eq!(
            read_meanwhile,
            Ok(1),
            "the gallery as it was, without waiting"
        );
        assert_eq!(door.matcher().gallery().len(), 2);
        assert!(
            !door.refresh(&store).unwrap(),
            "the change is not read twice"
        );
    }

    #[test]
    fn a_reload_during_a_change_is_not_counted_twice() {
        let (_d, mut store, one) = setup();
        enrol(&one, &mut store, 1);
        let door = one.clone();
        one.change(
            &mut store,
            |s| {
                let id = s.insert_student(&student(2), &face(2), "test")?;
                // The door's periodic check runs after the write, before the change is
                // put in place: it reads the new student itself.
                assert!(door.refresh(s).unwrap());
                Ok::<_, StoreError>(id)
            },
            |g, id| g.add(*id, "m", &[2.0, 1.0], Origin::Upload),
        )
        .unwrap();
        assert_eq!(one.matcher().gallery().len(), 2);
        assert_eq!(one.matcher().gallery().templates(), 2, "counted once");
    }

    #[test]
    fn a_failed_write_leaves_the_gallery_as_it_was() {
        let (_d, mut store, one) = setup();
        enrol(&one, &mut store, 1);
        let failed = one.change(
            &mut store,
            |s| s.insert_student(&student(1), &face(1), "test"),
            |g, id| g.add(*id, "m", &[0.0, 1.0], Origin::Upload),
        );
        assert!(failed.is_err(), "the same student twice");
        assert_eq!(one.matcher().gallery().templates(), 1);
        assert!(!one.refresh(&store).unwrap());
    }

    #[test]
    fn another_programs_enrolment_while_this_one_is_written_is_not_taken_for_it() {
        let (d, mut store, one) = setup();
        enrol(&one, &mut store, 1);
        let mut elsewhere = Store::open(&d.path().join("rollcall.db")).unwrap();
        enrol_meanwhile(&one, &mut store, 2, || {
            elsewhere
                .insert_student(&student(3), &face(3), "other program")
                .unwrap();
        });
        assert_eq!(one.matcher().gallery().len(), 3, "both enrolments");
        assert_eq!(one.matcher().gallery().templates(), 3);
        assert!(!one.refresh(&store).unwrap(), "read with both already");
        // Another program's attendance mark alone meanwhile costs a read, nothing else.
        enrol_meanwhile(&one, &mut store, 4, || {
            elsewhere
                .mark(1, chrono::Local::now(), Some(5.0), "other door", None)
                .unwrap();
        });
        assert_eq!(one.matcher().gallery().templates(), 4);
        assert!(!one.refresh(&store).unwrap());
    }

    /// Enrols student `n`, with `meanwhile` run after this change looked at the store and
    /// before it writes (another program's write landing in between).
    fn enrol_meanwhile(
        gallery: &SharedGallery,
        store: &mut Store,
        n: usize,
        meanwhile: impl FnOnce(),
    ) {
        gallery
            .change(
                store,
                |s| {
                    meanwhile();
                    s.insert_student(&student(n), &face(n), "test")
                },
                |g, id| g.add(*id, "m", &[n as f32, 1.0], Origin::Upload),
            )
            .unwrap();
    }

    #[test]
    fn a_change_written_but_not_read_back_succeeds_and_is_read_at_the_next_refresh() {
        let (d, mut store, one) = setup();
        enrol(&one, &mut store, 1);
        let db = d.path().join("rollcall.db");
        let other_connection = rusqlite::Connection::open(&db).unwrap();
        one.change(
            &mut store,
            |s| {
                let id = s.insert_student(&student(2), &face(2), "test")?;
                // The store stops answering once the enrolment is written.
                other_connection
                    .execute_batch("ALTER TABLE face_observations RENAME TO hidden")
                    .unwrap();
                Ok::<_, StoreError>(id)
            },
            |_, _| panic!("the gallery is not changed from a store it cannot read"),
        )
        .expect("the enrolment was written");
        assert_eq!(one.matcher().gallery().len(), 1, "not put in place");
        assert!(
            one.refresh(&store).is_err(),
            "the store still cannot be read"
        );
        other_connection
            .execute_batch("ALTER TABLE hidden RENAME TO face_observations")
            .unwrap();
        assert!(one.refresh(&store).unwrap(), "read again");
        assert_eq!(one.matcher().gallery().len(), 2);
    }

    #[test]
    fn another_programs_enrolment_read_before_a_failed_write_is_noticed_by_every_sharer() {
        let (d, mut store, one) = setup();
        enrol(&one, &mut store, 1);
        let other = one.clone();
        let seen = other.generation();
        Store::open(&d.path().join("rollcall.db"))
            .unwrap()
            .insert_student(&student(2), &face(2), "other program")
            .unwrap();
        let failed = one.change(
            &mut store,
            |s| s.insert_student(&student(1), &face(1), "test"),
            |g, id| g.add(*id, "m", &[0.0, 1.0], Origin::Upload),
        );
        assert!(failed.is_err(), "the same student twice");
        assert_eq!(one.matcher().gallery().len(), 2, "read before the write");
        assert_ne!(other.generation(), seen, "the door must look again");
    }
}
