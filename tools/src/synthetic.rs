//! Synthetic students whose templates behave like faces seen by one classroom camera, for
//! benchmarks at school sizes no data set reaches.
//!
//! Each model's vector is `√a·site + √b·identity + √e·noise`, normalised: a direction
//! every face at the site shares, the person's identity in a space of looks (64
//! dimensions: among 10,000 students some look alike), and per-photo noise. `a` is the
//! model's stranger mean in the default calibration prior (two students at one camera)
//! and `a + b` a same-camera genuine pair's usual similarity. Real faces spread more
//! (pose, light); this is a stand-in for timing and for comparing two ways of searching,
//! not for accuracy figures. Every vector depends only on (person, photo): a separate
//! process can make new photos of the students another one stored.

use rollcall::settings::RecognitionSettings;
use rollcall::vision::Embeddings;

/// Dimensions of the space of looks.
const LOOKS: usize = 64;

/// A small deterministic generator (xorshift) for synthetic data.
pub(crate) struct Draw(pub(crate) u64);

impl Draw {
    /// Seeded by a mix of `a` and `b`.
    fn new(a: u64, b: u64) -> Draw {
        // splitmix64 of the pair: never zero for xorshift.
        let mut z = a
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(b.wrapping_mul(0xbf58_476d_1ce4_e5b9))
            .wrapping_add(0x94d0_49bb_1331_11eb);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Draw((z ^ (z >> 31)) | 1)
    }

    /// Uniform in [−0.5, 0.5).
    pub(crate) fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    /// Roughly normal: a sum of four uniforms, centred, variance 1/3.
    fn next(&mut self) -> f32 {
        (0..4).map(|_| self.uniform()).sum()
    }

    fn unit(&mut self, dim: usize) -> Vec<f32> {
        normalised((0..dim).map(|_| self.next()).collect())
    }
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
    v.iter_mut().for_each(|x| *x /= n);
    v
}

/// One model's shape.
struct Shape {
    model_id: &'static str,
    site: Vec<f32>,
    looks: Vec<Vec<f32>>,
    weights: [f32; 3],
}

/// The synthetic school's faces.
pub struct SyntheticFaces {
    shapes: Vec<Shape>,
}

/// The model ids, vector lengths and usual same-camera genuine similarity of synthetic
/// students.
const MODELS: [(&str, usize, f32); 2] = [
    ("dlib-resnet-v1", 128, 0.975),
    ("facenet-20180408", 512, 0.80),
];

impl Default for SyntheticFaces {
    fn default() -> SyntheticFaces {
        let prior = RecognitionSettings::default().calibration.prior;
        let shapes = MODELS
            .iter()
            .enumerate()
            .map(|(m, (model_id, dim, genuine))| {
                let mean = prior
                    .iter()
                    .find(|p| p.model_id == *model_id)
                    .map_or(0.5, |p| p.stranger_mean);
                let a = mean.clamp(0.0, 0.95);
                let b = (genuine - a).clamp(0.01, 0.99 - a);
                let mut draw = Draw::new(u64::MAX - m as u64, 0);
                Shape {
                    model_id,
                    site: draw.unit(*dim),
                    looks: (0..LOOKS).map(|_| draw.unit(*dim)).collect(),
                    weights: [a.sqrt(), b.sqrt(), (1.0 - a - b).sqrt()],
                }
            })
            .collect();
        SyntheticFaces { shapes }
    }
}

impl SyntheticFaces {
    /// Photo `photo` of person `person`: one template per model.
    pub fn face(&self, person: u64, photo: u64) -> Embeddings {
        let look: Vec<f32> = {
            let mut d = Draw::new(person, u64::MAX);
            (0..LOOKS).map(|_| d.next()).collect()
        };
        Embeddings(
            self.shapes
                .iter()
                .enumerate()
                .map(|(m, s)| {
                    let dim = s.site.len();
                    let identity = normalised(
                        (0..dim)
                            .map(|i| s.looks.iter().zip(&look).map(|(l, g)| l[i] * g).sum())
                            .collect(),
                    );
                    let noise = Draw::new(person, photo * 8 + m as u64 + 1).unit(dim);
                    let [wa, wb, we] = s.weights;
                    let v = (0..dim)
                        .map(|i| wa * s.site[i] + wb * identity[i] + we * noise[i])
                        .collect();
                    (s.model_id, normalised(v))
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn a_persons_photos_score_like_a_genuine_pair_and_strangers_like_the_prior() {
        let faces = SyntheticFaces::default();
        let prior = RecognitionSettings::default().calibration.prior;
        for (m, (model_id, _, genuine)) in MODELS.iter().enumerate() {
            let (mut same, mut other) = (Vec::new(), Vec::new());
            for p in 0..200u64 {
                let a = &faces.face(p, 0).0[m].1;
                same.push(cos(a, &faces.face(p, 1).0[m].1));
                other.push(cos(a, &faces.face(p + 1000, 0).0[m].1));
            }
            let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
            let p = prior.iter().find(|p| p.model_id == *model_id).unwrap();
            assert!((mean(&same) - genuine).abs() < 0.01, "{model_id}");
            assert!((mean(&other) - p.stranger_mean).abs() < 0.01, "{model_id}");
            // The same (person, photo) is the same face, in any process.
            assert_eq!(faces.face(7, 3).0, SyntheticFaces::default().face(7, 3).0);
        }
    }
}
