//! Admin → Email settings: the mail server for attendance reports, saved in settings.toml,
//! and a test message. The saved password never comes back to the screen: an empty
//! password field keeps it. While the form is untouched it follows what another program
//! saves (a hand edit, a second kiosk's admin), and Save writes only what the admin changed.

use super::files::{Ask, FileChooser};
use super::widgets::{field, hint, note, ERROR, OK};
use crate::kiosk::admin::{AdminClient, Answer, EmailForm, Outcome, Pending};
use crate::settings::MailSecurity;
use egui::{Color32, RichText};
use std::time::{Duration, Instant};

/// The email settings screen.
#[derive(Default)]
pub struct EmailSettingsView {
    form: Option<EmailForm>,
    /// The form as saved when it was last loaded or saved: Save writes only what the
    /// admin changed from it.
    loaded: Option<EmailForm>,
    port: String,
    /// A new password typed by the admin (empty: keep the saved one).
    password: String,
    test_to: String,
    /// Loading the settings (`false`) or saving them (`true`).
    asked: Option<(Answer<EmailForm>, bool)>,
    /// When the saved settings were last asked for (see `LOOK_AGAIN`).
    looked: Option<Instant>,
    testing: Option<Pending<Outcome>>,
    message: Option<(String, Color32)>,
    /// Choosing the certificate authority's file.
    files: FileChooser,
}

/// How often the saved settings are looked at again while the screen shows them untouched.
const LOOK_AGAIN: Duration = Duration::from_secs(2);

fn security_name(s: MailSecurity) -> &'static str {
    match s {
        MailSecurity::None => "None (plain, on the school's own network)",
        MailSecurity::Starttls => "STARTTLS (usually port 587)",
        MailSecurity::Tls => "TLS (usually port 465)",
    }
}

impl EmailSettingsView {
    /// Asks for the saved settings (when the screen is opened, and again while it shows
    /// them untouched).
    pub fn load(&mut self, admin: &AdminClient) {
        self.asked = Some((admin.email_settings(), false));
        self.looked = Some(Instant::now());
    }

    /// Whether the form shows the settings as loaded (nothing typed or chosen since).
    fn untouched(&self) -> bool {
        match (&self.form, &self.loaded) {
            (Some(form), Some(loaded)) => {
                form == loaded && self.port == loaded.port.to_string() && self.password.is_empty()
            }
            _ => false,
        }
    }

    /// Forgets what was typed (when the admin mode locks).
    pub fn clear(&mut self) {
        *self = EmailSettingsView::default();
    }

    /// Takes the answers that came since the last frame.
    pub fn take_answers(&mut self) {
        if let Some((r, saving)) = self
            .asked
            .as_ref()
            .and_then(|(a, saving)| Some((a.poll()?, *saving)))
        {
            self.asked = None;
            // Settings looked up again once the admin started typing are not put over it.
            let typing = !saving && self.form.is_some() && !self.untouched();
            match r.unwrap_or_else(|lost| Err(lost.to_string())) {
                Ok(_) if typing => {}
                Ok(form) => {
                    if saving {
                        let saved = if form.ca_file.is_empty() {
                            "Email settings saved."
                        } else {
                            "Email settings saved. A copy of the CA certificate is kept in \
                             Rollcall's folder: the file chosen may go; choose it again when \
                             the school renews its authority."
                        };
                        self.message = Some((saved.into(), OK));
                    }
                    self.port = form.port.to_string();
                    self.loaded = Some(form.clone());
                    self.form = Some(form);
                    self.password.clear();
                }
                Err(e) => self.message = Some((e, ERROR)),
            }
        }
        if let Some(r) = self.testing.as_ref().and_then(Pending::poll) {
            self.testing = None;
            self.message = Some(match r.unwrap_or_else(|lost| Err(lost.to_string())) {
                Ok(m) => (m, OK),
                Err(e) => (e, ERROR),
            });
        }
    }

    /// The form as typed, or why it cannot be used.
    fn typed(&self) -> Result<(EmailForm, Option<String>), String> {
        let mut form = self.form.clone().ok_or("The settings are still loading.")?;
        form.port = self
            .port
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or("The port must be a number from 1 to 65535.")?;
        let password = (!self.password.is_empty()).then(|| self.password.clone());
        Ok((form, password))
    }

    pub fn show(&mut self, ui: &mut egui::Ui, admin: &AdminClient) {
        if self.form.is_none() && self.asked.is_none() {
            self.load(admin);
        }
        // What another program saves meanwhile shows while the form is untouched.
        if self.asked.is_none()
            && self.untouched()
            && self.looked.is_none_or(|at| at.elapsed() >= LOOK_AGAIN)
        {
            self.load(admin);
        }
        ui.ctx().request_repaint_after(LOOK_AGAIN);
        let Some(form) = self.form.as_mut() else {
            ui.spinner();
            return;
        };
        ui.heading("Email settings");
        ui.label(
            RichText::new(
                "The mail server that sends attendance reports to students. Ask the school's \
                 IT for these.",
            )
            .weak(),
        );
        ui.add_space(6.0);
        field(ui, "Mail server", &mut form.host, false);
        field(ui, "Port", &mut self.port, false);
        ui.horizontal(|ui| {
            let label = ui.add_sized([110.0, 24.0], egui::Label::new("Security"));
            egui::ComboBox::from_id_salt("mail-security")
                .selected_text(security_name(form.security))
                .show_ui(ui, |ui| {
                    for s in [
                        MailSecurity::Starttls,
                        MailSecurity::Tls,
                        MailSecurity::None,
                    ] {
                        ui.selectable_value(&mut form.security, s, security_name(s));
                    }
                })
                .response
                .labelled_by(label.id);
        });
        if let Some((Ask::Certificate, paths)) = self.files.show(ui.ctx()) {
            if let Some(path) = paths.first() {
                form.ca_file = path.display().to_string();
            }
        }
        if form.security != MailSecurity::None || !form.ca_file.is_empty() {
            ui.horizontal(|ui| {
                field(ui, "CA certificate", &mut form.ca_file, false);
                if ui.button("Choose…").clicked() {
                    self.files.open(Ask::Certificate);
                }
            });
            note(
                ui,
                if form.security == MailSecurity::None {
                    "Not used with Security None: a plain connection has no certificate to \
                     check. Choose STARTTLS or TLS to use it, or empty the field."
                } else {
                    "Only if the school signs its mail server's certificate itself: the file \
                     (PEM) of its certificate authority, from the school's IT. Leave it empty \
                     otherwise."
                },
            );
            if self.files.problem.is_some() {
                hint(ui, self.files.problem.as_deref());
            }
        }
        field(ui, "User name", &mut form.user, false);
        field(ui, "Password", &mut self.password, true);
        if form.password_saved {
            note(ui, "A password is saved. Leave the field empty to keep it.");
        }
        field(ui, "Sender", &mut form.from, false);
        field(ui, "Subject", &mut form.subject, false);
        ui.add_space(6.0);
        let busy = matches!(self.asked, Some((_, true)));
        if ui
            .add_enabled(!busy, egui::Button::new("Save email settings"))
            .clicked()
        {
            match self.typed() {
                Ok((form, password)) => {
                    self.message = None;
                    let loaded = self.loaded.clone().unwrap_or_else(|| form.clone());
                    self.asked = Some((admin.save_email_settings(loaded, form, password), true));
                }
                Err(e) => self.message = Some((e, ERROR)),
            }
        }
        ui.separator();
        field(ui, "Send a test to", &mut self.test_to, false);
        let testing = self.testing.is_some();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    !testing && !self.test_to.trim().is_empty(),
                    egui::Button::new("Send test email"),
                )
                .clicked()
            {
                match self.typed() {
                    Ok((form, password)) => {
                        self.message = None;
                        self.testing = Some(admin.test_email(form, password, self.test_to.clone()));
                    }
                    Err(e) => self.message = Some((e, ERROR)),
                }
            }
            if testing {
                ui.spinner();
                ui.label("Sending…");
            }
        });
        ui.label(
            RichText::new("The test uses the settings on this screen, saved or not.")
                .weak()
                .small(),
        );
        if let Some((m, colour)) = &self.message {
            ui.label(RichText::new(m).color(*colour));
        }
    }
}
