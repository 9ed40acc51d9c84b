//! Choosing the door's camera among those connected (Admin → Door settings): used at
//! once, and kept in the settings for the next start.

use super::widgets::{ERROR, OK};
use crate::camera::{CameraDescription, SourceSpec};
use crate::kiosk::admin::{Outcome, Pending};
use crate::kiosk::{CaptureCommand, Kiosk};
use crate::settings::KioskSettings;
use egui::RichText;

/// The cameras found, the one chosen, and what came of keeping it.
#[derive(Default)]
pub struct CameraChooser {
    /// `None` until the admin asks which cameras are connected.
    cameras: Option<Vec<CameraDescription>>,
    /// The camera driver being asked which cameras are connected.
    looking: Option<Pending<Vec<CameraDescription>>>,
    chosen: usize,
    /// The camera chosen being kept for the next start, then what came of it.
    kept: Option<Pending<Outcome>>,
    note: Option<Outcome>,
}

impl CameraChooser {
    /// Takes `cameras` as the ones connected (what "Look for cameras" finds), the one the
    /// settings name chosen first.
    pub fn found(&mut self, cameras: Vec<CameraDescription>, settings: &KioskSettings) {
        let set = settings.camera.trim().to_lowercase();
        self.chosen = cameras
            .iter()
            .position(|c| c.index == set)
            .or_else(|| {
                cameras
                    .iter()
                    .position(|c| !set.is_empty() && c.name.to_lowercase().contains(&set))
            })
            .unwrap_or(0);
        self.cameras = Some(cameras);
    }

    /// The chooser: a button to look for cameras, then the list and "Use this camera".
    pub fn show(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, settings: &mut KioskSettings) {
        if let Some(found) = self.looking.as_ref().and_then(Pending::poll) {
            self.looking = None;
            // A listing that never came back is no camera found.
            self.found(found.unwrap_or_default(), settings);
        }
        match &self.cameras {
            _ if self.looking.is_some() => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Looking for cameras…");
                });
            }
            None => {
                if ui.button("Look for cameras").clicked() {
                    self.looking = Some(kiosk.admin.find_cameras());
                }
            }
            Some(cams) if cams.is_empty() => {
                ui.label("No cameras are connected.");
                if ui.button("Look again").clicked() {
                    self.looking = Some(kiosk.admin.find_cameras());
                }
            }
            Some(cams) => {
                let cams = cams.clone();
                ui.horizontal(|ui| {
                    egui::ComboBox::from_label("Camera")
                        .selected_text(
                            cams.get(self.chosen)
                                .map(|c| c.name.clone())
                                .unwrap_or_default(),
                        )
                        .show_ui(ui, |ui| {
                            for (i, c) in cams.iter().enumerate() {
                                ui.selectable_value(
                                    &mut self.chosen,
                                    i,
                                    format!("{} ({})", c.name, c.index),
                                );
                            }
                        });
                    if ui.button("Use this camera").clicked() {
                        if let Some(c) = cams.get(self.chosen) {
                            kiosk.command(CaptureCommand::Switch(
                                SourceSpec::webcam(&c.index, settings).into(),
                            ));
                            // Chosen here, it stays chosen: the next morning's start
                            // would otherwise look for the camera that was not there.
                            let setting = c.setting(&cams);
                            settings.camera = setting.clone();
                            self.kept = Some(kiosk.admin.save_camera(setting));
                            self.note = None;
                        }
                    }
                    if ui.button("Look again").clicked() {
                        self.looking = Some(kiosk.admin.find_cameras());
                    }
                });
            }
        }
        if let Some(kept) = self.kept.as_ref().and_then(Pending::poll) {
            self.kept = None;
            self.note = Some(kept.unwrap_or_else(|lost| Err(lost.to_string())));
        }
        match &self.note {
            Some(Ok(said)) => {
                ui.label(RichText::new(said).color(OK));
            }
            Some(Err(why)) => {
                ui.label(RichText::new(why).color(ERROR));
            }
            None => {}
        }
    }
}
