//! Changing the admin PIN: the current one, then the new one twice (a PIN known to someone
//! who should no longer have it).

use super::widgets::{field, ERROR};
use crate::kiosk::admin::{AdminClient, Outcome, Pending};
use egui::{RichText, Vec2};

/// The "Change PIN" window.
#[derive(Default)]
pub struct ChangePinWindow {
    open: bool,
    current: String,
    new: String,
    again: String,
    asked: Option<Pending<Outcome>>,
    problem: Option<String>,
    /// Whether the first field was given the keyboard (once: the admin may click another).
    focused: bool,
}

impl ChangePinWindow {
    /// Opens the window, empty.
    pub fn open(&mut self) {
        *self = ChangePinWindow {
            open: true,
            ..ChangePinWindow::default()
        };
    }

    /// Draws the window while it is open; returns what to tell the admin once the PIN is
    /// changed (the window then closes).
    pub fn show(&mut self, ctx: &egui::Context, admin: &AdminClient) -> Option<String> {
        if let Some(answer) = self.asked.as_ref().and_then(Pending::poll) {
            self.asked = None;
            match answer.unwrap_or_else(|lost| Err(lost.to_string())) {
                Ok(done) => {
                    *self = ChangePinWindow::default();
                    return Some(done);
                }
                Err(why) => self.problem = Some(why),
            }
        }
        if !self.open {
            return None;
        }
        let mut open = true;
        let mut change = false;
        egui::Window::new("Change the admin PIN")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .anchor(egui::Align2::CENTER_CENTER, Vec2::ZERO)
            .show(ctx, |ui| {
                let first = field(ui, "Current PIN", &mut self.current, true);
                if !self.focused {
                    first.request_focus();
                    self.focused = true;
                }
                field(ui, "New PIN", &mut self.new, true);
                let last = field(ui, "New PIN again", &mut self.again, true);
                let enter = last.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.label(RichText::new("4 to 12 digits.").weak().small());
                if let Some(why) = &self.problem {
                    ui.label(RichText::new(why).color(ERROR));
                }
                let ready = self.asked.is_none()
                    && !self.current.is_empty()
                    && !self.new.is_empty()
                    && !self.again.is_empty();
                change = (ui
                    .add_enabled(ready, egui::Button::new("Change PIN"))
                    .clicked()
                    || enter)
                    && ready;
            });
        if change {
            self.problem = None;
            self.asked = Some(admin.change_pin(
                std::mem::take(&mut self.current),
                self.new.clone(),
                self.again.clone(),
            ));
        }
        if !open {
            *self = ChangePinWindow::default();
        }
        None
    }
}
