//! The rows every door shares through the school server, as both sides read and write them.

/// One shared row, known at every door by its uid (a class day by its date).
#[derive(Clone, Debug, PartialEq)]
pub enum SharedRow {
    Student {
        uid: String,
        roll_no: String,
        name: String,
        email: String,
        enrolled_at: String,
        /// The last class day of a student who left the school (YYYY-MM-DD).
        last_day: Option<String>,
        /// Days away before coming back, as stored ("first/last" spans, comma-separated).
        away: Option<String>,
    },
    ClassDay {
        day: String,
        declared_at: String,
        actor: String,
    },
    Template {
        uid: String,
        student_uid: String,
        model_id: String,
        /// Little-endian f32 values, as stored.
        vector: Vec<u8>,
        origin: String,
    },
    Mark {
        uid: String,
        student_uid: String,
        day: String,
        marked_at: String,
        score: Option<f64>,
        source: String,
        door: Option<String>,
        snapshot: Option<Vec<u8>>,
        /// False for an absence recorded by hand.
        present: bool,
    },
}

impl SharedRow {
    /// Parents before children: students and class days, then templates and marks.
    pub fn rank(&self) -> u8 {
        match self {
            SharedRow::Student { .. } => 0,
            SharedRow::ClassDay { .. } => 1,
            SharedRow::Template { .. } => 2,
            SharedRow::Mark { .. } => 3,
        }
    }

    /// A student row's uid, roll number and email address (`None` for other rows).
    pub fn student_keys(&self) -> Option<(&str, &str, &str)> {
        self.student_named()
            .map(|(uid, roll_no, _, email)| (uid, roll_no, email))
    }

    /// A student's uid, roll number, name and email address; `None` for other rows.
    pub fn student_named(&self) -> Option<(&str, &str, &str, &str)> {
        match self {
            SharedRow::Student {
                uid,
                roll_no,
                name,
                email,
                ..
            } => Some((uid, roll_no, name, email)),
            _ => None,
        }
    }

    /// The shared table it belongs to and its uid there.
    pub fn key(&self) -> (&'static str, &str) {
        match self {
            SharedRow::Student { uid, .. } => ("students", uid),
            SharedRow::ClassDay { day, .. } => ("class_days", day),
            SharedRow::Template { uid, .. } => ("face_templates", uid),
            SharedRow::Mark { uid, .. } => ("attendance", uid),
        }
    }

    /// The row in a few words, for a message to the admin.
    pub fn describe(&self) -> String {
        match self {
            SharedRow::Student { roll_no, name, .. } => format!("student {roll_no} ({name})"),
            SharedRow::ClassDay { day, .. } => format!("class day {day}"),
            SharedRow::Template { .. } => "a face template".into(),
            SharedRow::Mark {
                day, present: true, ..
            } => format!("a mark on {day}"),
            SharedRow::Mark { day, .. } => format!("an absence recorded by hand on {day}"),
        }
    }
}

/// A change from the school server: a row as it is now, or a row deleted.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Row(SharedRow),
    Gone { table: String, uid: String },
}

impl Change {
    /// The shared table and uid of the row it is about.
    pub fn key(&self) -> (&str, &str) {
        match self {
            Change::Row(row) => row.key(),
            Change::Gone { table, uid } => (table, uid),
        }
    }
}

/// The newest change a folder fetched from the school server, as the server can be asked
/// about it again: on a server that went on from there the row is still there with that
/// change or a later one, or its deletion (or its student's) is recorded with a later one.
/// On a server put back as a copy of its data folder (a disk image, a virtual machine's
/// snapshot) from before that change, neither is — that is how a folder notices it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LastSeen {
    /// The change's number at the server.
    pub change: i64,
    /// The shared table, or for a deletion the table it was recorded under.
    pub table: String,
    /// The row's uid (a class day's date).
    pub uid: String,
    /// The student a template or mark belongs to (deleting the student takes it along).
    pub student: Option<String>,
    /// A mark's day: the school keeps one mark per student and day, and may replace the
    /// row of a mark with another door's earlier one.
    pub day: Option<String>,
    /// It was a deletion.
    pub gone: bool,
}

impl LastSeen {
    /// `change`, numbered `number` at the server.
    pub fn of(change: &Change, number: i64) -> LastSeen {
        let (table, uid) = change.key();
        let (student, day) = match change {
            Change::Row(SharedRow::Template { student_uid, .. }) => (Some(student_uid), None),
            Change::Row(SharedRow::Mark {
                student_uid, day, ..
            }) => (Some(student_uid), Some(day)),
            _ => (None, None),
        };
        LastSeen {
            change: number,
            table: table.to_string(),
            uid: uid.to_string(),
            student: student.cloned(),
            day: day.cloned(),
            gone: matches!(change, Change::Gone { .. }),
        }
    }
}

/// What a face-data erasure fetched from the school is judged by, over the whole fetch
/// (which may be written here in parts): of each student whose face data the school
/// erased, the templates it holds of them that came with the erasure (taken since: the
/// school deleted every template of the student it held then), and how many erasures of
/// their face data came.
#[derive(Debug, Default)]
pub struct FetchContext {
    taken_since: std::collections::HashMap<String, Vec<String>>,
    erasures: std::collections::HashMap<String, usize>,
}

impl FetchContext {
    /// The context of a fetch held whole.
    pub fn of(changes: &[Change]) -> FetchContext {
        let mut context = FetchContext::default();
        for change in changes {
            match change {
                Change::Gone { table, uid } if table == "face_data" => {
                    context.erased(uid);
                }
                Change::Row(SharedRow::Template {
                    uid, student_uid, ..
                }) => context.template(student_uid, uid),
                _ => {}
            }
        }
        context
    }

    /// One erasure of `student`'s face data in the fetch.
    pub fn erased(&mut self, student: &str) {
        *self.erasures.entry(student.to_string()).or_default() += 1;
    }

    /// A template of `student` in the fetch.
    pub fn template(&mut self, student: &str, template: &str) {
        self.taken_since
            .entry(student.to_string())
            .or_default()
            .push(template.to_string());
    }

    /// The templates of `student` in the fetch.
    pub fn templates_of(&self, student: &str) -> &[String] {
        self.taken_since.get(student).map_or(&[], Vec::as_slice)
    }

    /// How many erasures of `student`'s face data the fetch holds.
    pub fn erasures_of(&self, student: &str) -> usize {
        self.erasures.get(student).copied().unwrap_or(0)
    }
}
