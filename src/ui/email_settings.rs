//! Admin → Email settings: the mail server for attendance reports, saved in settings.toml,
//! and a test message. The saved password never comes back to the screen: an empty
//! password field keeps it.

use super::files::{Ask, FileChooser};
use super::widgets::{field, hint, note, ERROR, OK};
use crate::kiosk::admin::{AdminClient, Answer, EmailForm, Outcome, Pending};
use crate::settings::MailSecurity;
use egui::{Color32, RichText};

/// The email settings screen.
#[derive(Default)]
pub struct EmailSettingsView {
    form: Option<EmailForm>,
    port: String,
    /// A new password typed by the admin (empty: keep the saved one).
    password: String,
    test_to: String,
    /// Loading or saving the settings.
    asked: Option<Answer<EmailForm>>,
    testing: Option<Pending<Outcome>>,
    message: Option<(String, Color32)>,
    /// Choosing the certificate authority's file.
    files: FileChooser,
}

fn security_name(s: MailSecurity) -> &'static str {
    match s {
        MailSecurity::None => "None (plain, on the school's own network)",
        MailSecurity::Starttls => "STARTTLS (usually port 587)",
        MailSecurity::Tls => "TLS (usually port 465)",
    }
}

impl EmailSettingsView {
    /// Asks for the saved settings (when the screen is opened).
    pub fn load(&mut self, admin: &AdminClient) {
        self.asked = Some(admin.email_settings());
    }

    /// Forgets what was typed (when the admin mode locks).
    pub fn clear(&mut self) {
        *self = EmailSettingsView::default();
    }

    /// Takes the answers that came since the last frame.
    pub fn take_answers(&mut self) {
        if let Some(r) = self.asked.as_ref().and_then(Pending::poll) {
            let saving = self.form.is_some();
            self.asked = None;
            match r.unwrap_or_else(|lost| Err(lost.to_string())) {
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
        let busy = self.asked.is_some();
        if ui
            .add_enabled(!busy, egui::Button::new("Save email settings"))
            .clicked()
        {
            match self.typed() {
                Ok((form, password)) => {
                    self.message = None;
                    self.asked = Some(admin.save_email_settings(form, password));
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
