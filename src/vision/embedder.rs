//! Face embedders: an aligned face chip in, an L2-normalised vector out.

use super::align::{self, ChipTemplate, DLIB_CHIP, FACENET_CHIP};
use super::models::{read_model, ModelFiles};
use super::network::{unloadable, Backend, Network};
use super::{dlib_convert, Face, VisionError};
use opencv::core::{self, Mat, Scalar, Size};
use opencv::prelude::*;
use opencv::{dnn, imgproc};

/// Turns a face into a vector; faces of one person land close together.
pub trait FaceEmbedder: Send {
    /// Stable id stored with every template, so a model change can re-enrol cleanly.
    fn model_id(&self) -> &'static str;
    /// The aligned chip this embedder expects.
    fn template(&self) -> &ChipTemplate;
    /// Embeds an aligned chip (BGR, `template().size` square).
    fn embed_chip(&mut self, chip: &Mat) -> Result<Vec<f32>, VisionError>;
    /// Aligns the face in a BGR image and embeds it.
    fn embed(&mut self, bgr: &Mat, face: &Face) -> Result<Vec<f32>, VisionError> {
        let chip = align::chip(bgr, face, self.template())?;
        self.embed_chip(&chip)
    }

    /// An enrolment template: the mean of the face's and its mirror image's embeddings
    /// (a steadier template; measured to lift correct accepts on other days' frames).
    fn embed_template(&mut self, bgr: &Mat, face: &Face) -> Result<Vec<f32>, VisionError> {
        Ok(self.embed_plain_and_template(bgr, face)?.1)
    }

    /// Both the plain embedding (as a probe) and the enrolment template of one face.
    fn embed_plain_and_template(
        &mut self,
        bgr: &Mat,
        face: &Face,
    ) -> Result<(Vec<f32>, Vec<f32>), VisionError> {
        let chip = align::chip(bgr, face, self.template())?;
        let mut mirrored = Mat::default();
        core::flip(&chip, &mut mirrored, 1)?;
        let plain = self.embed_chip(&chip)?;
        let flipped = self.embed_chip(&mirrored)?;
        let mut v: Vec<f32> = plain.iter().zip(&flipped).map(|(x, y)| x + y).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= norm);
        Ok((plain, v))
    }
}

/// Runs an embedding network and L2-normalises its output.
fn run(net: &mut Network, blob: &Mat) -> Result<Vec<f32>, VisionError> {
    let mut v = net.run(blob, &[])?.swap_remove(0).values;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
    Ok(v)
}

/// dlib's ResNet (150×150 chip → 128-D), converted to ONNX at load time.
pub struct DlibResnetEmbedder {
    net: Network,
    mean_rgb: [f64; 3],
}

impl DlibResnetEmbedder {
    pub const MODEL_ID: &'static str = "dlib-resnet-v1";

    pub fn new(files: &ModelFiles, backend: &Backend) -> Result<Self, VisionError> {
        let dat = read_model(&files.dlib_resnet)?;
        let converted =
            dlib_convert::convert(&dat).map_err(|e| unloadable(&files.dlib_resnet, e))?;
        let net = backend.onnx(&converted.onnx, &files.dlib_resnet)?;
        Ok(DlibResnetEmbedder {
            net,
            mean_rgb: converted.mean_rgb,
        })
    }
}

impl FaceEmbedder for DlibResnetEmbedder {
    fn model_id(&self) -> &'static str {
        Self::MODEL_ID
    }
    fn template(&self) -> &ChipTemplate {
        &DLIB_CHIP
    }
    fn embed_chip(&mut self, chip: &Mat) -> Result<Vec<f32>, VisionError> {
        let [r, g, b] = self.mean_rgb;
        let side = DLIB_CHIP.size;
        // (pixel - mean) / 256, RGB planes.
        let blob = dnn::blob_from_image(
            chip,
            1.0 / 256.0,
            Size::new(side, side),
            Scalar::new(r, g, b, 0.0),
            true,
            false,
            core::CV_32F,
        )?;
        run(&mut self.net, &blob)
    }
}

/// FaceNet 20180408-102900 (160×160 RGB → 512-D).
pub struct FaceNetEmbedder {
    net: Network,
}

impl FaceNetEmbedder {
    pub const MODEL_ID: &'static str = "facenet-20180408";

    /// The published graph, in 32-bit floats.
    pub fn new(files: &ModelFiles, backend: &Backend) -> Result<Self, VisionError> {
        Ok(FaceNetEmbedder {
            net: backend.tensorflow(&files.facenet)?,
        })
    }

    /// The same network in 8 bits as `scripts/setup` built it (OpenVINO only): the same
    /// model id, as its embeddings agree with the 32-bit ones (cosine 0.988 or more on
    /// real faces), so templates made by either are compared with the other's.
    pub fn new_int8(files: &ModelFiles, backend: &Backend) -> Result<Self, VisionError> {
        Ok(FaceNetEmbedder {
            net: backend.openvino_file(&files.facenet_int8)?,
        })
    }
}

impl FaceEmbedder for FaceNetEmbedder {
    fn model_id(&self) -> &'static str {
        Self::MODEL_ID
    }
    fn template(&self) -> &ChipTemplate {
        &FACENET_CHIP
    }
    fn embed_chip(&mut self, chip: &Mat) -> Result<Vec<f32>, VisionError> {
        // Fixed standardisation, (x - 127.5) / 128, as the 20180408 model was trained
        // (per-image prewhitening measured clearly worse on LFW).
        let side = FACENET_CHIP.size;
        let blob = match self.net {
            // OpenCV's TensorFlow importer takes planes (1×3×H×W) and transposes itself.
            Network::OpenCv(_) => dnn::blob_from_image(
                chip,
                1.0 / 128.0,
                Size::new(side, side),
                Scalar::all(127.5),
                true,
                false,
                core::CV_32F,
            )?,
            // OpenVINO runs the graph as written: 1×H×W×3.
            Network::OpenVino(_) => {
                let mut rgb = Mat::default();
                imgproc::cvt_color_def(chip, &mut rgb, imgproc::COLOR_BGR2RGB)?;
                let mut scaled = Mat::default();
                rgb.convert_to(&mut scaled, core::CV_32F, 1.0 / 128.0, -127.5 / 128.0)?;
                scaled.reshape_nd(1, &[1, side, side, 3])?.try_clone()?
            }
        };
        run(&mut self.net, &blob)
    }
}
