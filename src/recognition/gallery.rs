//! The gallery: every enrolled student's face templates, one compact matrix per model,
//! plus faces the kiosk has seen and confidently attributed (kept to learn what strangers
//! look like at this site; they are never matched against).

use super::codes::{ByteProbe, ByteRows, CodedRows};
use crate::vision::Embeddings;
use std::collections::HashMap;

/// Where a template's photo came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Captured by the kiosk's own camera.
    Camera,
    /// An uploaded or imported photo (another camera, another room).
    Upload,
}

impl Origin {
    /// As stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Camera => "camera",
            Origin::Upload => "upload",
        }
    }

    /// From the database's text; anything unknown is an upload.
    pub fn parse(s: &str) -> Origin {
        if s == "camera" {
            Origin::Camera
        } else {
            Origin::Upload
        }
    }
}

/// Rows of one model: templates, and observations from the kiosk.
#[derive(Clone, Debug, Default)]
pub(super) struct ModelRows {
    /// Templates, compactly (they fix the model's vector length).
    pub rows: CodedRows,
    /// Index into `Gallery::students` for each template.
    pub owner: Vec<u32>,
    pub origin: Vec<Origin>,
    /// Faces seen at the kiosk, row after row, and whose they were.
    pub observed: Vec<f32>,
    pub observed_owner: Vec<u32>,
    /// Each student's template rows.
    rows_of: Vec<Vec<u32>>,
    /// Each student's templates summarised as one row (their mean direction, 8-bit), for
    /// a first look at a large school; kept only when [`Gallery::summarise`] asks.
    summaries: ByteRows,
    /// Whether `summaries` holds every student (apart from the `stale` ones).
    summarised: bool,
    /// Students whose templates changed since their summary was made.
    stale: Vec<u32>,
}

impl ModelRows {
    fn new(dim: usize) -> ModelRows {
        ModelRows {
            rows: CodedRows::new(dim),
            summaries: ByteRows::new(dim),
            ..ModelRows::default()
        }
    }

    /// Adds one template of student `owner`.
    fn push(&mut self, owner: u32, vector: &[f32], origin: Origin) {
        let row = self.len() as u32;
        self.rows.push(vector);
        self.owner.push(owner);
        self.origin.push(origin);
        self.note_row_of(owner, row);
        if self.summarised {
            self.stale.push(owner);
        }
    }

    /// Records that template `row` is student `owner`'s.
    fn note_row_of(&mut self, owner: u32, row: u32) {
        if self.rows_of.len() <= owner as usize {
            self.rows_of.resize(owner as usize + 1, Vec::new());
        }
        self.rows_of[owner as usize].push(row);
    }

    /// Adds student `s`'s templates, as numbers, to `sum`; returns how many there were.
    fn add_templates_of(&self, s: u32, sum: &mut [f32]) -> usize {
        let rows = self.rows_of.get(s as usize).map_or(&[][..], |r| r);
        rows.iter().for_each(|r| self.rows.add_to(*r as usize, sum));
        rows.len()
    }

    /// Makes (or, with `keep` false, drops) every student's summary.
    fn summarise(&mut self, students: usize, keep: bool) {
        if !keep {
            self.summaries.clear();
            self.summarised = false;
            self.stale.clear();
            return;
        }
        let stale = if self.summarised {
            std::mem::take(&mut self.stale)
        } else {
            (0..students as u32).collect()
        };
        let mut sum = vec![0f32; self.dim()];
        for s in stale {
            sum.iter_mut().for_each(|x| *x = 0.0);
            self.add_templates_of(s, &mut sum);
            let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                sum.iter_mut().for_each(|x| *x /= norm);
            }
            self.summaries.set(s as usize, &sum);
        }
        self.summarised = true;
    }

    /// The `count` students whose summaries are closest to `probe`, added to `into`;
    /// false when the summaries are not kept.
    pub fn closest_students(&self, probe: &[f32], count: usize, into: &mut Vec<u32>) -> bool {
        if !self.summarised || !self.stale.is_empty() || probe.len() != self.dim() {
            return false;
        }
        let mut sims = Vec::new();
        self.summaries
            .similarities(&ByteProbe::new(probe), &mut sims);
        // The `count`-th highest similarity, then every student at or above it.
        let mut order = sims.clone();
        let bar = match count {
            0 => return true,
            c if c < order.len() => *order.select_nth_unstable_by(c - 1, |a, b| b.total_cmp(a)).1,
            _ => f32::NEG_INFINITY,
        };
        let order = (0..sims.len() as u32)
            .filter(|s| sims[*s as usize] >= bar)
            .take(count);
        into.extend(order);
        true
    }

    /// The best similarity to `probe` of each student in `students`, into `out` (indexed
    /// by student; the others are left as they are).
    pub fn best_of(&self, students: &[u32], probe: &[f32], out: &mut [f32]) {
        for s in students {
            let rows = self.rows_of.get(*s as usize).map_or(&[][..], |r| r);
            out[*s as usize] = self.rows.best_similarity(rows, probe);
        }
    }

    /// The model's vector length.
    pub fn dim(&self) -> usize {
        self.rows.dim()
    }

    pub fn observation(&self, i: usize) -> &[f32] {
        let dim = self.dim();
        &self.observed[i * dim..(i + 1) * dim]
    }

    pub fn len(&self) -> usize {
        self.owner.len()
    }

    /// Each student's best similarity to `probe` (−∞ for a student without templates);
    /// `scratch` holds every template's similarity on the way.
    pub fn best_per_student(
        &self,
        probe: &[f32],
        students: usize,
        out: &mut Vec<f32>,
        scratch: &mut Vec<f32>,
    ) {
        out.clear();
        out.resize(students, f32::NEG_INFINITY);
        self.rows.similarities(probe, scratch);
        for (s, owner) in scratch.iter().zip(&self.owner) {
            let best = &mut out[*owner as usize];
            if *s > *best {
                *best = *s;
            }
        }
    }

    /// Keeps only the rows whose owner passes `keep`, renumbering owners with `map`.
    fn retain(&mut self, keep: impl Fn(u32) -> Option<u32>) {
        let dim = self.dim();
        let kept: Vec<Option<u32>> = self.owner.iter().map(|o| keep(*o)).collect();
        self.rows.retain(|i| kept[i].is_some());
        self.origin = (self.origin.iter().zip(&kept))
            .filter(|(_, k)| k.is_some())
            .map(|(o, _)| *o)
            .collect();
        self.owner = kept.into_iter().flatten().collect();
        let mut observed = Vec::new();
        let mut observed_owner = Vec::new();
        for (i, o) in self.observed_owner.iter().enumerate() {
            if let Some(n) = keep(*o) {
                observed.extend_from_slice(&self.observed[i * dim..(i + 1) * dim]);
                observed_owner.push(n);
            }
        }
        self.observed = observed;
        self.observed_owner = observed_owner;
        self.rows_of.clear();
        for row in 0..self.owner.len() {
            self.note_row_of(self.owner[row], row as u32);
        }
        // Students were renumbered: every summary is made again when next asked.
        self.summarise(0, false);
    }
}

/// Every enrolled student's templates, for fast identification.
#[derive(Clone, Debug, Default)]
pub struct Gallery {
    pub(super) students: Vec<i64>,
    index: HashMap<i64, u32>,
    pub(super) models: Vec<(String, ModelRows)>,
}

impl Gallery {
    /// Number of students with at least one template.
    pub fn len(&self) -> usize {
        self.students.len()
    }

    pub fn is_empty(&self) -> bool {
        self.students.is_empty()
    }

    /// Whether the student has templates here.
    pub fn contains(&self, student_id: i64) -> bool {
        self.index.contains_key(&student_id)
    }

    /// Faces the kiosk kept, over all models.
    pub fn observations(&self) -> usize {
        self.models
            .iter()
            .map(|(_, m)| m.observed_owner.len())
            .max()
            .unwrap_or(0)
    }

    /// Students with at least one template from the kiosk's camera.
    pub fn camera_enrolled(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        for (_, m) in &self.models {
            for (o, origin) in m.owner.iter().zip(&m.origin) {
                if *origin == Origin::Camera {
                    seen.insert(*o);
                }
            }
        }
        seen.len()
    }

    /// Templates held, over all models.
    pub fn templates(&self) -> usize {
        self.models.iter().map(|(_, m)| m.len()).sum()
    }

    pub(super) fn model(&self, model_id: &str) -> Option<&ModelRows> {
        self.models
            .iter()
            .find(|(id, _)| id == model_id)
            .map(|(_, m)| m)
    }

    fn model_mut(&mut self, model_id: &str, dim: usize) -> Option<&mut ModelRows> {
        let i = match self.models.iter().position(|(id, _)| id == model_id) {
            Some(i) => i,
            None => {
                self.models
                    .push((model_id.to_string(), ModelRows::new(dim)));
                self.models.len() - 1
            }
        };
        let m = &mut self.models[i].1;
        if m.dim() != dim {
            tracing::warn!(model_id, "ignoring a vector of the wrong length");
            return None;
        }
        Some(m)
    }

    fn student_index(&mut self, student_id: i64) -> u32 {
        *self.index.entry(student_id).or_insert_with(|| {
            self.students.push(student_id);
            (self.students.len() - 1) as u32
        })
    }

    /// Adds one template.
    pub fn add(&mut self, student_id: i64, model_id: &str, vector: &[f32], origin: Origin) {
        let idx = self.student_index(student_id);
        if let Some(m) = self.model_mut(model_id, vector.len()) {
            m.push(idx, vector, origin);
        }
    }

    /// Adds every template of one face.
    pub fn add_face(&mut self, student_id: i64, face: &Embeddings, origin: Origin) {
        for (model, v) in &face.0 {
            self.add(student_id, model, v, origin);
        }
    }

    /// Adds a face the kiosk attributed to an enrolled student (ignored for students the
    /// gallery does not know).
    pub fn add_observation(&mut self, student_id: i64, model_id: &str, vector: &[f32]) {
        let Some(&idx) = self.index.get(&student_id) else {
            return;
        };
        if let Some(m) = self.model_mut(model_id, vector.len()) {
            m.observed.extend_from_slice(vector);
            m.observed_owner.push(idx);
        }
    }

    /// The mean of one student's templates of a model (e.g. their liveness reference).
    pub fn mean_template(&self, student_id: i64, model_id: &str) -> Option<Vec<f32>> {
        let idx = *self.index.get(&student_id)?;
        let m = self.model(model_id)?;
        let mut sum = vec![0f32; m.dim()];
        let n = m.add_templates_of(idx, &mut sum);
        (n > 0).then(|| sum.into_iter().map(|s| s / n as f32).collect())
    }

    /// Removes a student with their templates and observations.
    pub fn remove(&mut self, student_id: i64) {
        let Some(idx) = self.index.remove(&student_id) else {
            return;
        };
        let last = (self.students.len() - 1) as u32;
        self.students.swap_remove(idx as usize);
        if idx != last {
            self.index.insert(self.students[idx as usize], idx);
        }
        for (_, m) in &mut self.models {
            m.retain(|o| match o {
                o if o == idx => None,
                o if o == last => Some(idx),
                o => Some(o),
            });
        }
    }

    /// Keeps a summary of every student's templates (`keep`), for a first look at a large
    /// school, or drops them; call after changes, before searching.
    pub(super) fn summarise(&mut self, keep: bool) {
        let students = self.students.len();
        for (_, m) in &mut self.models {
            m.summarise(students, keep);
        }
    }

    /// The student at an index.
    pub(super) fn student(&self, i: usize) -> i64 {
        self.students[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(v: [f32; 2]) -> Embeddings {
        let n = (v[0] * v[0] + v[1] * v[1]).sqrt();
        Embeddings(vec![("m", vec![v[0] / n, v[1] / n])])
    }

    #[test]
    fn removing_a_student_keeps_the_others_and_their_rows() {
        let mut g = Gallery::default();
        g.add_face(1, &face([1.0, 0.0]), Origin::Upload);
        g.add_face(2, &face([0.0, 1.0]), Origin::Camera);
        g.add_face(3, &face([-1.0, 0.0]), Origin::Upload);
        g.add_observation(3, "m", &[-1.0, 0.0]);
        g.remove(1);
        assert_eq!(g.len(), 2);
        let m = g.model("m").unwrap();
        let mut best = Vec::new();
        m.best_per_student(&[-1.0, 0.0], g.len(), &mut best, &mut Vec::new());
        let top = (0..2).max_by(|a, b| best[*a].total_cmp(&best[*b])).unwrap();
        assert_eq!(g.student(top), 3);
        assert_eq!(m.observed_owner, vec![top as u32]);
        assert_eq!(m.origin.iter().filter(|o| **o == Origin::Camera).count(), 1);
    }
}
