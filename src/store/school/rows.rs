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
