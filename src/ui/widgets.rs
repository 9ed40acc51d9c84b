//! What every screen draws with: the palette, labelled text fields, hints and textures.

use crate::kiosk::admin::Thumbnail;
use egui::{Color32, RichText, TextureHandle};

/// Marked present (the kiosk's green).
pub const GREEN: Color32 = Color32::from_rgb(0x1b, 0x7f, 0x3b);
/// Already marked (amber).
pub const AMBER: Color32 = Color32::from_rgb(0xb4, 0x6a, 0x00);
/// Not recognised, refused (red).
pub const RED: Color32 = Color32::from_rgb(0xb3, 0x26, 0x1e);
/// A face being checked, a hint (blue).
pub const NEUTRAL: Color32 = Color32::from_rgb(0x3a, 0x6e, 0xa5);
/// An error message on a form.
pub const ERROR: Color32 = Color32::from_rgb(0xd0, 0x3a, 0x2f);
/// A warning the admin may go past.
pub const WARN: Color32 = Color32::from_rgb(0xd9, 0x8c, 0x00);
/// Something done.
pub const OK: Color32 = Color32::from_rgb(0x2e, 0x9d, 0x54);

/// Width of the labels in front of text fields.
const LABEL_W: f32 = 110.0;

/// A text field with a visible label that is also its accessible name.
pub fn field(ui: &mut egui::Ui, label: &str, value: &mut String, password: bool) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.add_sized([LABEL_W, 24.0], egui::Label::new(label));
        ui.add(
            egui::TextEdit::singleline(value)
                .password(password)
                .desired_width(280.0),
        )
        .labelled_by(l.id)
    })
    .inner
}

/// A small line under a field: the problem with it, or an empty line of the same height
/// so the form does not jump as messages come and go.
pub fn hint(ui: &mut egui::Ui, text: Option<&str>) {
    match text {
        Some(t) => under_field(ui, RichText::new(t).color(ERROR).small()),
        None => under_field(ui, RichText::new(" ").small()),
    }
}

/// A small grey line under a field, lined up with it: what the field is for.
pub fn note(ui: &mut egui::Ui, text: &str) {
    under_field(ui, RichText::new(text).weak().small());
}

/// `text` under a field, lined up with it; wrapped at the edge: it may be a sentence
/// longer than the field.
fn under_field(ui: &mut egui::Ui, text: RichText) {
    ui.horizontal(|ui| {
        ui.add_space(LABEL_W + ui.spacing().item_spacing.x);
        ui.add(egui::Label::new(text).wrap());
    });
}

/// A picture from the back end as a texture.
pub fn texture(ctx: &egui::Context, name: &str, t: &Thumbnail) -> TextureHandle {
    let image = egui::ColorImage::from_rgba_unmultiplied(t.size, &t.rgba);
    ctx.load_texture(name, image, egui::TextureOptions::LINEAR)
}

/// A button for something that cannot be undone: red text, and it says so when hovered.
pub fn danger_button(ui: &mut egui::Ui, label: &str, explains: &str) -> egui::Response {
    ui.add(egui::Button::new(RichText::new(label).color(ERROR).strong()).stroke((1.0, ERROR)))
        .on_hover_text(explains)
}

/// How far below the top of the screen a window first opens: under the kiosk's header.
pub const WINDOW_TOP: f32 = 72.0;

/// A question in a window fixed at the middle of the screen, to be answered before
/// anything else.
pub fn question_window(title: &str) -> egui::Window<'static> {
    egui::Window::new(title.to_owned())
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
}

/// A window the admin can move, first shown under the admin screens' tabs (a window
/// without a position starts over the kiosk's header and clock) and never wider or taller
/// than the screen (what does not fit scrolls).
pub fn movable_window(ctx: &egui::Context, title: &str) -> egui::Window<'static> {
    let top = ctx.content_rect().top() + WINDOW_TOP;
    movable_window_from(ctx, title, top)
}

/// A movable window first shown at `top` (a screen's controls above it stay in view), never
/// wider than the screen nor reaching below it.
pub fn movable_window_from(ctx: &egui::Context, title: &str, top: f32) -> egui::Window<'static> {
    let screen = ctx.content_rect();
    let top = top.min(screen.bottom() - 200.0).max(screen.top());
    egui::Window::new(title.to_owned())
        .pivot(egui::Align2::LEFT_TOP)
        .default_pos(egui::pos2(screen.left() + 16.0, top))
        .max_width(screen.width() - 32.0)
        .max_height(screen.bottom() - top - 24.0)
}
