//! Driving the Rollcall window in tests as a person would: by visible labels.

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use rollcall::ui::RollcallApp;
use std::time::{Duration, Instant};

/// The app in a test harness.
pub type H = Harness<'static, RollcallApp>;

/// Steps the UI until `found` holds; on time-out, fails with what the screen shows.
pub fn step_until(h: &mut H, what: &str, secs: u64, found: impl Fn(&H) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        h.step();
        if found(h) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let visible: Vec<String> = h
        .query_all_by(|_| true)
        .filter_map(|n| {
            let n = n.accesskit_node();
            n.label()
                .or_else(|| n.value().filter(|_| n.role() == Role::Label))
        })
        .collect();
    panic!("timed out waiting for {what}; the screen shows {visible:?}");
}

/// Whether any widget's label holds `text` (several may: the admin screens' list count
/// and the status line's "… students with face data" both hold "0 students").
pub fn shows(h: &H, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// Where a widget's top edge was laid out in the last frame (screen points).
pub fn top_of(node: &egui_kittest::Node<'_>) -> f64 {
    node.accesskit_node().bounding_box().unwrap().y0
}

/// Where a widget's bottom edge was laid out in the last frame (screen points).
pub fn bottom_of(node: &egui_kittest::Node<'_>) -> f64 {
    node.accesskit_node().bounding_box().unwrap().y1
}

/// Clicks through the accessibility tree (as a screen reader would), which does not
/// depend on where the widget was laid out in the last frame.
pub fn click(h: &mut H, role: Role, label: &str) {
    h.get_by_role_and_label(role, label).click_accesskit();
    h.step();
    h.step();
}

/// The text field (plain or password) with this label.
pub fn text_field<'a>(h: &'a H, label: &'a str) -> egui_kittest::Node<'a> {
    h.query_all_by_label(label)
        .find(|n| {
            matches!(
                n.accesskit_node().role(),
                Role::TextInput | Role::PasswordInput
            )
        })
        .unwrap_or_else(|| panic!("no text field labelled {label:?}"))
}

/// What the text field with this label holds ("" when it says nothing).
pub fn field_value(h: &H, label: &str) -> String {
    text_field(h, label)
        .accesskit_node()
        .value()
        .unwrap_or_default()
}

/// Keeps drawing the window for `secs` seconds, ten frames a second (time for the back
/// end to answer, or for something that must not happen to have its chance).
pub fn keep_drawing(h: &mut H, secs: u64) {
    for _ in 0..secs * 10 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

pub fn type_into(h: &mut H, label: &str, text: &str) {
    text_field(h, label).focus();
    h.step();
    text_field(h, label).type_text(text);
    h.step();
    h.step();
}

/// Sets the PIN on first use (which unlocks).
pub fn set_pin(h: &mut H, pin: &str) {
    click(h, Role::Button, "Admin");
    step_until(h, "the set-PIN window", 60, |h| {
        shows(h, "Set an admin PIN")
    });
    type_into(h, "New PIN", pin);
    type_into(h, "PIN again", pin);
    click(h, Role::Button, "Set PIN");
    step_until(h, "the admin screens", 30, |h| shows(h, "Enrol a student"));
}

/// Unlocks the admin screens with the PIN.
pub fn unlock(h: &mut H, pin: &str) {
    click(h, Role::Button, "Admin");
    step_until(h, "the PIN window", 30, |h| shows(h, "Enter the admin PIN"));
    type_into(h, "PIN", pin);
    click(h, Role::Button, "Unlock");
}
