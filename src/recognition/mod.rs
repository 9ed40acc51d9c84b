//! Recognition: a gallery of face templates per student, and the open-set decision of
//! whether a probe face is one of them.
//!
//! Each model's similarity (cosine, best template per student) is normalised by the
//! statistics of stranger scores for that model, `z = (s - mean) / std`, and the models'
//! z-scores are fused as `Σz / √n`, so the fused stranger score keeps roughly unit spread.

use crate::settings::{RecognitionSettings, ScoreNorm};
use crate::vision::Embeddings;
use std::collections::HashMap;

/// Templates of one model, stored row by row.
#[derive(Default, Clone)]
struct ModelTemplates {
    dim: usize,
    rows: Vec<f32>,
    /// Index into `Gallery::students` for each row.
    owner: Vec<usize>,
}

/// Every enrolled student's templates, for fast identification.
#[derive(Default, Clone)]
pub struct Gallery {
    students: Vec<i64>,
    index: HashMap<i64, usize>,
    models: HashMap<String, ModelTemplates>,
}

/// The best candidate for a probe face.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub student_id: i64,
    /// Fused, normalised score (stranger standard deviations above the stranger mean).
    pub score: f32,
    /// Lead over the runner-up student (equal to `score` when there is none).
    pub margin: f32,
}

/// The open-set verdict for a probe.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Recognised as this student.
    Match(Candidate),
    /// Not confidently anyone enrolled; the best guess, if any, for diagnostics.
    Unknown(Option<Candidate>),
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Gallery {
    /// Number of students with at least one template.
    pub fn len(&self) -> usize {
        self.students.len()
    }

    pub fn is_empty(&self) -> bool {
        self.students.is_empty()
    }

    /// Adds one template.
    pub fn add(&mut self, student_id: i64, model_id: &str, vector: &[f32]) {
        let idx = *self.index.entry(student_id).or_insert_with(|| {
            self.students.push(student_id);
            self.students.len() - 1
        });
        let m = self.models.entry(model_id.to_string()).or_default();
        if m.dim == 0 {
            m.dim = vector.len();
        }
        if m.dim != vector.len() {
            tracing::warn!(model_id, "ignoring a template of the wrong length");
            return;
        }
        m.rows.extend_from_slice(vector);
        m.owner.push(idx);
    }

    /// Adds every template of one face.
    pub fn add_face(&mut self, student_id: i64, face: &Embeddings) {
        for (model, v) in &face.0 {
            self.add(student_id, model, v);
        }
    }

    /// Removes a student and all their templates.
    pub fn remove(&mut self, student_id: i64) {
        let Some(idx) = self.index.remove(&student_id) else {
            return;
        };
        let last = self.students.len() - 1;
        self.students.swap_remove(idx);
        if idx != last {
            self.index.insert(self.students[idx], idx);
        }
        for m in self.models.values_mut() {
            let mut rows = Vec::with_capacity(m.rows.len());
            let mut owner = Vec::with_capacity(m.owner.len());
            for (i, o) in m.owner.iter().enumerate() {
                if *o == idx {
                    continue;
                }
                owner.push(if *o == last { idx } else { *o });
                rows.extend_from_slice(&m.rows[i * m.dim..(i + 1) * m.dim]);
            }
            m.rows = rows;
            m.owner = owner;
        }
    }

    /// Fused normalised score for every student, in `students` order.
    fn fused_scores(&self, probe: &Embeddings, norms: &[ScoreNorm]) -> Vec<f32> {
        let mut fused = vec![0f32; self.students.len()];
        let mut used = 0usize;
        for norm in norms {
            let (Some(m), Some(p)) = (self.models.get(&norm.model_id), probe.get(&norm.model_id))
            else {
                continue;
            };
            if p.len() != m.dim {
                continue;
            }
            used += 1;
            let mut best = vec![f32::NEG_INFINITY; self.students.len()];
            for (row, owner) in m.rows.chunks_exact(m.dim).zip(&m.owner) {
                let s = dot(row, p);
                if s > best[*owner] {
                    best[*owner] = s;
                }
            }
            for (f, b) in fused.iter_mut().zip(best) {
                // A student without templates of this model counts as a stranger (z = 0).
                if b.is_finite() {
                    *f += (b - norm.stranger_mean) / norm.stranger_std;
                }
            }
        }
        let scale = (used.max(1) as f32).sqrt();
        fused.iter_mut().for_each(|f| *f /= scale);
        fused
    }

    /// The best-scoring student and their lead over the runner-up, whatever the threshold.
    pub fn best(&self, probe: &Embeddings, norms: &[ScoreNorm]) -> Option<Candidate> {
        let scores = self.fused_scores(probe, norms);
        let (mut first, mut second) = (None::<(usize, f32)>, f32::NEG_INFINITY);
        for (i, s) in scores.iter().enumerate() {
            match first {
                Some((_, f)) if *s <= f => second = second.max(*s),
                _ => {
                    if let Some((_, f)) = first {
                        second = f;
                    }
                    first = Some((i, *s));
                }
            }
        }
        first.map(|(i, s)| Candidate {
            student_id: self.students[i],
            score: s,
            margin: if second.is_finite() { s - second } else { s },
        })
    }

    /// Identifies a probe face under the given settings.
    pub fn identify(&self, probe: &Embeddings, settings: &RecognitionSettings) -> Decision {
        match self.best(probe, &settings.models) {
            Some(c) if c.score >= settings.threshold && c.margin >= settings.margin => {
                Decision::Match(c)
            }
            other => Decision::Unknown(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(model: &str) -> ScoreNorm {
        ScoreNorm {
            model_id: model.into(),
            stranger_mean: 0.0,
            stranger_std: 0.1,
        }
    }

    fn face(v: [f32; 2]) -> Embeddings {
        let n = (v[0] * v[0] + v[1] * v[1]).sqrt();
        Embeddings(vec![("m", vec![v[0] / n, v[1] / n])])
    }

    fn settings() -> RecognitionSettings {
        RecognitionSettings {
            models: vec![norm("m")],
            threshold: 5.0,
            margin: 1.0,
            ..RecognitionSettings::default()
        }
    }

    #[test]
    fn the_closest_student_wins_with_a_margin() {
        let mut g = Gallery::default();
        g.add_face(1, &face([1.0, 0.0]));
        g.add_face(2, &face([0.0, 1.0]));
        match g.identify(&face([1.0, 0.1]), &settings()) {
            Decision::Match(c) => {
                assert_eq!(c.student_id, 1);
                assert!(c.margin > 5.0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_face_between_two_students_is_not_guessed() {
        let mut g = Gallery::default();
        g.add_face(1, &face([1.0, 0.0]));
        g.add_face(2, &face([0.9, 0.1]));
        assert!(matches!(
            g.identify(&face([0.95, 0.05]), &settings()),
            Decision::Unknown(Some(_))
        ));
    }

    #[test]
    fn an_empty_gallery_knows_nobody() {
        assert_eq!(
            Gallery::default().identify(&face([1.0, 0.0]), &settings()),
            Decision::Unknown(None)
        );
    }

    #[test]
    fn removing_a_student_keeps_the_others() {
        let mut g = Gallery::default();
        g.add_face(1, &face([1.0, 0.0]));
        g.add_face(2, &face([0.0, 1.0]));
        g.add_face(3, &face([-1.0, 0.0]));
        g.remove(1);
        assert_eq!(g.len(), 2);
        let best = g.best(&face([-1.0, 0.05]), &settings().models).unwrap();
        assert_eq!(best.student_id, 3);
        let best = g.best(&face([0.0, 1.0]), &settings().models).unwrap();
        assert_eq!(best.student_id, 2);
    }
}
