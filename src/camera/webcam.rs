//! A webcam through nokhwa's native backend (V4L2 on Linux).

use super::{CameraError, FrameSource};
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};
use opencv::core::{Mat, CV_8UC3};
use opencv::imgproc;
use opencv::prelude::*;

/// A camera found on this machine.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraDescription {
    pub index: String,
    pub name: String,
}

impl CameraDescription {
    /// What `[kiosk] camera` says to choose this camera again at the next start: its name,
    /// which stays the same when cameras are plugged in another order, or its index where
    /// the name would choose another of `all` too (two of one model), as `WebcamSource::open`
    /// takes the first whose name holds it.
    pub fn setting(&self, all: &[CameraDescription]) -> String {
        let name = self.name.to_lowercase();
        let others = all
            .iter()
            .filter(|c| c.index != self.index && c.name.to_lowercase().contains(&name))
            .count();
        if name.trim().is_empty() || others > 0 || all.iter().any(|c| c.index == self.name) {
            self.index.clone()
        } else {
            self.name.clone()
        }
    }
}

/// The cameras the native backend reports (empty where there are none or no backend).
pub fn list_cameras() -> Vec<CameraDescription> {
    match nokhwa::query(ApiBackend::Auto) {
        Ok(cams) => cams
            .into_iter()
            .map(|c| CameraDescription {
                index: c.index().to_string(),
                name: c.human_name(),
            })
            .collect(),
        Err(e) => {
            tracing::info!("no camera backend: {e}");
            Vec::new()
        }
    }
}

pub struct WebcamSource {
    camera: nokhwa::Camera,
    label: String,
}

impl WebcamSource {
    /// Opens a camera by index ("0") or by (part of) its name.
    pub fn open(
        which: &str,
        width: u32,
        height: u32,
        fps: u32,
    ) -> Result<WebcamSource, CameraError> {
        let cameras = list_cameras();
        if cameras.is_empty() {
            return Err(CameraError::NoCamera);
        }
        let chosen = cameras
            .iter()
            .find(|c| c.index == which)
            .or_else(|| {
                let wanted = which.to_lowercase();
                cameras
                    .iter()
                    .find(|c| c.name.to_lowercase().contains(&wanted))
            })
            .ok_or_else(|| CameraError::NotFound(which.to_string()))?;
        let index = chosen
            .index
            .parse::<u32>()
            .map(CameraIndex::Index)
            .unwrap_or_else(|_| CameraIndex::String(chosen.index.clone()));
        let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(
            CameraFormat::new(Resolution::new(width, height), FrameFormat::MJPEG, fps),
        ));
        let mut camera =
            nokhwa::Camera::new(index, format).map_err(|e| CameraError::Open(e.to_string()))?;
        camera
            .open_stream()
            .map_err(|e| CameraError::Open(e.to_string()))?;
        let res = camera.resolution();
        Ok(WebcamSource {
            label: format!(
                "Camera {} ({}) {}×{}",
                chosen.index,
                chosen.name,
                res.width(),
                res.height()
            ),
            camera,
        })
    }
}

impl FrameSource for WebcamSource {
    fn next_frame(&mut self) -> Result<Mat, CameraError> {
        let buffer = self
            .camera
            .frame()
            .map_err(|e| CameraError::Disconnected(e.to_string()))?;
        // Most webcams send JPEG: OpenCV decodes it straight to BGR, with no conversion.
        if buffer.source_frame_format() == FrameFormat::MJPEG
            && buffer.buffer().starts_with(&[0xFF, 0xD8])
        {
            let bytes = opencv::core::Vector::<u8>::from_slice(buffer.buffer());
            let bgr = opencv::imgcodecs::imdecode(&bytes, opencv::imgcodecs::IMREAD_COLOR)
                .map_err(|e| CameraError::Disconnected(e.message.clone()))?;
            if !bgr.empty() {
                return Ok(bgr);
            }
        }
        let rgb = buffer
            .decode_image::<RgbFormat>()
            .map_err(|e| CameraError::Disconnected(e.to_string()))?;
        let (w, h) = (rgb.width() as i32, rgb.height() as i32);
        let raw = rgb.into_raw();
        let flat =
            Mat::from_slice(&raw).map_err(|e| CameraError::Disconnected(e.message.clone()))?;
        let image = flat
            .reshape(3, h)
            .map_err(|e| CameraError::Disconnected(e.message.clone()))?;
        debug_assert_eq!(image.typ(), CV_8UC3);
        debug_assert_eq!(image.cols(), w);
        let mut bgr = Mat::default();
        imgproc::cvt_color_def(&image, &mut bgr, imgproc::COLOR_RGB2BGR)
            .map_err(|e| CameraError::Disconnected(e.message.clone()))?;
        Ok(bgr)
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(index: &str, name: &str) -> CameraDescription {
        CameraDescription {
            index: index.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_camera_chosen_is_kept_by_name_unless_the_name_would_choose_another() {
        let all = [
            camera("0", "Integrated Webcam"),
            camera("1", "USB Camera"),
            camera("2", "USB Camera 2"),
            camera("3", "USB Camera 2"),
        ];
        assert_eq!(all[0].setting(&all), "Integrated Webcam");
        // "USB Camera" is in "USB Camera 2" too; two cameras of one model share a name.
        assert_eq!(all[1].setting(&all), "1");
        assert_eq!(all[2].setting(&all), "2");
        assert_eq!(all[3].setting(&all), "3");
        // A name that is another camera's index would be read as that index.
        let odd = [camera("0", "1"), camera("1", "Logitech")];
        assert_eq!(odd[0].setting(&odd), "0");
        assert_eq!(odd[1].setting(&odd), "Logitech");
    }
}
