//! The kiosk screen: video with a box and name over every face, a large verdict for each
//! student, a header with the clock and today's count, and a discreet status line.

use super::widgets::{AMBER, GREEN, NEUTRAL, RED};
use crate::camera::CameraError;
use crate::kiosk::door::verdict::{Verdict, VerdictKind};
use crate::kiosk::{CameraStatus, CaptureCommand, FrameFaces, Kiosk, KioskEvent, Tone};
use crate::settings::KioskSettings;
use crate::store::school::{SchoolLogin, SchoolStatus};
use crate::store::WrongClock;
use crate::wording::{count, grouped};
use egui::{Color32, FontId, Pos2, Rect, RichText, Sense, Stroke, Vec2};
use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

fn tone_colour(t: Tone) -> Color32 {
    match t {
        Tone::Neutral => NEUTRAL,
        Tone::Green => GREEN,
        Tone::Amber => AMBER,
        Tone::Red => RED,
    }
}

/// The verdicts' type size for a picture this big: readable from the door on a large
/// screen, a whole sentence still on one line of a small one.
fn text_size(picture: Rect) -> f32 {
    (picture.height() / 12.0)
        .min(picture.width() / 30.0)
        .clamp(MIN_TEXT, 44.0)
}

/// How much of the camera view's banner is written.
#[derive(Clone, Copy, PartialEq)]
enum Banner {
    /// At the door: the line for the people there, and the teacher's paragraph.
    ForTheDoor,
    /// A screen's small camera view: the line alone, in the view's size.
    Short,
}

/// How long the camera's frame rate is measured over.
const FPS_OVER: Duration = Duration::from_secs(2);

/// The smallest type a verdict is written in.
const MIN_TEXT: f32 = 16.0;

/// How big the verdict cards are written and how many are shown, for `cards` people over
/// a picture: together they cover at most about half of it, smaller type first, then the
/// oldest are only counted.
fn card_layout(picture: Rect, cards: usize) -> (f32, usize) {
    // A one-line card: the line, its margins and the gap to the next.
    let height = |size: f32| size * 1.35 + 26.0;
    let budget = picture.height() * 0.55;
    let size = text_size(picture)
        .min((budget / cards.max(1) as f32 - 26.0) / 1.35)
        .max(MIN_TEXT);
    let fit = ((budget / height(size)).floor() as usize).max(1);
    let shown = if cards > fit { (fit - 1).max(1) } else { cards };
    (size, shown)
}

fn verdict_colour(k: VerdictKind) -> Color32 {
    match k {
        VerdictKind::Welcome | VerdictKind::TryOut => GREEN,
        VerdictKind::AlreadyMarked | VerdictKind::AbsentByHand => AMBER,
        VerdictKind::NotRecognised | VerdictKind::NotVerified => RED,
    }
}

/// Whether the models are loaded.
#[derive(Clone, Debug, PartialEq)]
pub enum Recognition {
    Loading,
    /// Embedding the stored photos with a new face model: done, of total.
    Preparing {
        done: usize,
        total: usize,
    },
    Ready {
        students: usize,
    },
    Unavailable(String),
}

/// Everything the kiosk screen draws; updated from the back end's events.
/// The newest verdict for one face, and when that face was last on a frame.
struct Card {
    verdict: Verdict,
    last_seen: Instant,
}

pub struct KioskView {
    pub settings: KioskSettings,
    pub camera: CameraStatus,
    pub recognition: Recognition,
    pub faces: Option<FrameFaces>,
    /// One card per person in front of the camera, newest first.
    cards: Vec<Card>,
    pub marked_today: i64,
    /// Why the clock cannot date marks (marks made here after today, a school server's clock
    /// an hour or more away): meanwhile no attendance is taken.
    pub wrong_clock: Option<WrongClock>,
    pub problem: Option<(String, Instant)>,
    /// The link to the school server, when this door has one.
    pub school: Option<SchoolStatus>,
    /// (arrival, capture sequence number) of recent frames, for the camera's frame rate.
    frame_times: VecDeque<(Instant, u64)>,
    texture: Option<egui::TextureHandle>,
    /// When the frame on screen was captured (to move the face boxes up to it).
    shown_captured: Option<Instant>,
    /// Whether the video was drawn since [`KioskView::take_video_drawn`] last asked.
    video_drawn: bool,
}

impl KioskView {
    /// What this door's login to the school server may do (`None`: not linked).
    pub fn school_login(&self) -> Option<SchoolLogin> {
        self.school.as_ref().map(|s| s.login)
    }

    /// Whether this door's folder is linked to a school server that is not set for it
    /// (nothing sends its marks).
    pub fn no_server_here(&self) -> bool {
        self.school.as_ref().is_some_and(|s| s.no_server_here)
    }

    /// Whether enrolments, changes to students and corrections are made here: not at a
    /// door whose login may only add marks, nor before a linked door has learnt what its
    /// login may do (its admin screens say so).
    pub fn changes_here(&self) -> bool {
        self.school_login().is_none_or(SchoolLogin::changes_school)
    }

    pub fn new(settings: KioskSettings) -> KioskView {
        KioskView {
            settings,
            camera: CameraStatus::Starting,
            recognition: Recognition::Loading,
            faces: None,
            cards: Vec::new(),
            marked_today: 0,
            wrong_clock: None,
            problem: None,
            school: None,
            frame_times: VecDeque::new(),
            texture: None,
            shown_captured: None,
            video_drawn: false,
        }
    }

    /// Frames per second the camera delivered over the last two seconds (counted by
    /// sequence number, so frames the screen skipped still count).
    pub fn fps(&self) -> f64 {
        match (self.frame_times.front(), self.frame_times.back()) {
            // None came in them.
            (_, Some((t1, _))) if t1.elapsed() > FPS_OVER => 0.0,
            (Some((t0, s0)), Some((t1, s1))) if s1 > s0 => {
                (s1 - s0) as f64 / t1.duration_since(*t0).as_secs_f64().max(1e-6)
            }
            _ => 0.0,
        }
    }

    /// Takes everything the back end has sent since the last frame.
    pub fn absorb(&mut self, ctx: &egui::Context, kiosk: &Kiosk) {
        while let Ok(e) = kiosk.events.try_recv() {
            match e {
                KioskEvent::Camera(s) => self.camera = s,
                KioskEvent::Enrolled(students) => {
                    if let Recognition::Ready { .. } = self.recognition {
                        self.recognition = Recognition::Ready { students }
                    }
                }
                KioskEvent::Preparing { done, total } => {
                    self.recognition = Recognition::Preparing { done, total }
                }
                KioskEvent::Ready { students } => {
                    self.recognition = Recognition::Ready { students }
                }
                KioskEvent::RecognitionUnavailable(r) => {
                    self.recognition = Recognition::Unavailable(r)
                }
                KioskEvent::MarkedToday(n) => self.marked_today = n,
                KioskEvent::Clock(wrong) => {
                    // No frame is judged meanwhile: the last faces' boxes would stay put.
                    if wrong.is_some() {
                        self.faces = None;
                    }
                    self.wrong_clock = wrong
                }
                KioskEvent::Problem(p) => self.problem = Some((p, Instant::now())),
                KioskEvent::School(status) => self.school = Some(status),
                KioskEvent::ScreenSettings {
                    room_name,
                    mirror,
                    verdict_secs,
                } => {
                    self.settings.room_name = room_name;
                    self.settings.mirror = mirror;
                    self.settings.verdict_secs = verdict_secs;
                }
                KioskEvent::Verdict { verdict, .. } => self.show_verdict(verdict),
                // Someone else stands where they stood: a card left there would seem to
                // be about the newcomer.
                KioskEvent::Replaced(left) => {
                    self.cards.retain(|c| !left.contains(&c.verdict.track_id))
                }
            }
        }
        if let Ok(frame) = kiosk.frames.try_recv() {
            let now = Instant::now();
            self.frame_times.push_back((now, frame.seq));
            while self
                .frame_times
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > FPS_OVER)
            {
                self.frame_times.pop_front();
            }
            self.shown_captured = Some(frame.captured);
            let image = frame.image;
            match &mut self.texture {
                Some(t) => t.set(image, egui::TextureOptions::LINEAR),
                None => {
                    self.texture =
                        Some(ctx.load_texture("camera", image, egui::TextureOptions::LINEAR))
                }
            }
        }
        if let Ok(f) = kiosk.faces.try_recv() {
            // (Found before the clock was: no frame is judged meanwhile.)
            if self.wrong_clock.is_none() {
                self.see_faces(f);
            }
        }
        // A card stays while its face does, and a few seconds after it left.
        let keep = Duration::from_secs(self.settings.verdict_secs.max(1));
        self.cards.retain(|c| c.last_seen.elapsed() < keep);
        if self
            .problem
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() > Duration::from_secs(10))
        {
            self.problem = None;
        }
    }

    /// Puts a face's newest verdict on its card. A verdict for a new face also takes away
    /// the cards of faces that have left (often the same person, found again), so one
    /// person never has two cards.
    fn show_verdict(&mut self, verdict: Verdict) {
        if let Some(card) = self
            .cards
            .iter_mut()
            .find(|c| c.verdict.track_id == verdict.track_id)
        {
            if card.verdict == verdict {
                return;
            }
        }
        let present: HashSet<u64> = self
            .faces
            .iter()
            .flat_map(|f| f.faces.iter().map(|o| o.track_id))
            .collect();
        self.cards.retain(|c| {
            c.verdict.track_id != verdict.track_id && present.contains(&c.verdict.track_id)
        });
        self.cards.insert(
            0,
            Card {
                verdict,
                last_seen: Instant::now(),
            },
        );
    }

    /// The faces on the newest processed frame: their cards stay up while they are there.
    /// Someone new at the kiosk takes down the cards naming nobody ("Not recognised", "We
    /// couldn't verify it's you") of faces that have left: the newcomer would take them
    /// for their own verdict. Cards with a name stay their few seconds.
    fn see_faces(&mut self, frame: FrameFaces) {
        let newcomer = frame
            .faces
            .iter()
            .any(|f| f.judged && !self.cards.iter().any(|c| c.verdict.track_id == f.track_id));
        if newcomer {
            let present: HashSet<u64> = frame.faces.iter().map(|f| f.track_id).collect();
            self.cards
                .retain(|c| c.verdict.name.is_some() || present.contains(&c.verdict.track_id));
        }
        let now = Instant::now();
        for face in &frame.faces {
            if let Some(card) = self
                .cards
                .iter_mut()
                .find(|c| c.verdict.track_id == face.track_id)
            {
                card.last_seen = now;
            }
        }
        let decided: Vec<Verdict> = frame
            .faces
            .iter()
            .filter_map(|f| f.verdict.clone())
            .collect();
        self.faces = Some(frame);
        for v in decided {
            self.show_verdict(v);
        }
    }

    /// The verdicts on screen, newest first.
    pub fn verdicts(&self) -> impl Iterator<Item = &Verdict> {
        self.cards.iter().map(|c| &c.verdict)
    }

    /// Draws the kiosk's central area: the video and verdicts, or the no-picture screens.
    pub fn central(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk) {
        match self.camera.clone() {
            CameraStatus::Unavailable { problem, camera } => {
                self.no_source(ui, kiosk, &NoPicture::of(&problem, camera))
            }
            CameraStatus::Ended => self.ended(ui, kiosk),
            status => {
                // The cards are drawn over the video, which keeps its size.
                let area = ui.available_rect_before_wrap();
                let picture = self.video(ui, area, &status, Banner::ForTheDoor);
                self.verdict_cards(ui, picture);
            }
        }
    }

    /// Whether this frame drew the video (the kiosk, or a screen's camera view); asking
    /// starts the count again for the next frame.
    pub fn take_video_drawn(&mut self) -> bool {
        std::mem::take(&mut self.video_drawn)
    }

    /// The live video only, fitted into `size` (for the enrolment screen's camera view).
    pub fn small_video(&mut self, ui: &mut egui::Ui, size: Vec2) {
        // Only the space: the picture itself is the labelled widget ("Camera view").
        let (_, rect) = ui.allocate_space(size);
        let status = self.camera.clone();
        self.video(ui, rect, &status, Banner::Short);
    }

    /// The header: room, date, clock, today's count, and `extra` (the admin button) at the
    /// right.
    pub fn header(&self, ui: &mut egui::Ui, extra: impl FnOnce(&mut egui::Ui)) {
        let now = chrono::Local::now();
        // The clock, the date and the count first, whole; the room's name in what is left,
        // cut short with "…" (and whole when hovered) where it is long or the window
        // narrow: a long name ran over the date and the clock.
        // Every label centred on the tallest one's line: the row otherwise grew as the
        // clock was laid out, and the count before it sat higher than the date after it.
        let tallest = ui.fonts_mut(|f| {
            f.row_height(&egui::FontId::proportional(26.0))
                .max(f.row_height(&egui::FontId::monospace(26.0)))
        });
        egui::containers::Sides::new()
            .height(tallest.max(ui.spacing().interact_size.y))
            .shrink_left()
            .truncate()
            .show(
                ui,
                |ui| {
                    let room = &self.settings.room_name;
                    ui.label(RichText::new(room).size(26.0).strong())
                        .on_hover_text(room);
                },
                |ui| {
                    extra(ui);
                    ui.label(
                        RichText::new(format!("Marked today: {}", self.marked_today)).size(22.0),
                    );
                    ui.separator();
                    ui.label(
                        RichText::new(now.format("%H:%M:%S").to_string())
                            .size(26.0)
                            .monospace(),
                    );
                    ui.label(RichText::new(now.format("%A %-d %B %Y").to_string()).size(22.0));
                },
            );
    }

    /// The discreet status line.
    pub fn status_line(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let camera = match &self.camera {
                CameraStatus::Live(d) => d.to_string(),
                CameraStatus::Dark(d) => format!("{d} (picture almost black)"),
                CameraStatus::Stuck(d) => format!("{d} (no picture for seconds)"),
                CameraStatus::Starting => "Starting the camera…".into(),
                CameraStatus::Reconnecting(_) => "Camera disconnected".into(),
                CameraStatus::Unavailable { .. } => "No picture".into(),
                CameraStatus::Ended => "Recording ended".into(),
            };
            let mut parts = vec![camera, format!("{:.0} fps", self.fps())];
            if let Some(f) = &self.faces {
                parts.push(format!("pipeline {:.0} ms", f.latency_ms));
            }
            match &self.recognition {
                Recognition::Loading => parts.push("loading face models…".into()),
                Recognition::Preparing { done, total } => parts.push(format!(
                    "updating face models: {} of {}",
                    grouped(done),
                    count(*total, "photo")
                )),
                Recognition::Ready { students } => {
                    parts.push(format!("{} with face data", count(*students, "student")))
                }
                Recognition::Unavailable(_) => parts.push("recognition unavailable".into()),
            }
            ui.label(RichText::new(parts.join(" · ")).small().weak());
            if let Some(school) = &self.school {
                let text = RichText::new(school.line()).small();
                // Amber for whatever an admin should see to: the server offline, a problem,
                // marks the school did not take, a clock minutes off the school's, a time
                // zone unlike another door's.
                let fine = school.online
                    && !school.no_server_here
                    && school.problem.is_none()
                    && school.refused_marks == 0
                    && school.refused_changes == 0
                    && school.clock_off.is_none()
                    && school.zone_off.is_none();
                let label = if fine {
                    ui.label(text.weak())
                } else {
                    ui.label(text.color(AMBER))
                };
                if let Some(p) = &school.problem {
                    label.on_hover_text(p);
                }
            }
            if let Some((p, _)) = &self.problem {
                ui.label(RichText::new(p).small().color(AMBER));
            }
        });
    }

    /// Draws the video fitted into `area`, with the faces over it; returns where the
    /// picture is.
    fn video(
        &mut self,
        ui: &mut egui::Ui,
        area: Rect,
        status: &CameraStatus,
        banner_kind: Banner,
    ) -> Rect {
        self.video_drawn = true;
        let Some(texture) = &self.texture else {
            let text = camera_notice(status)
                .map_or("Starting the camera…", |n| n.in_view(&banner_kind).0);
            ui.scope_builder(egui::UiBuilder::new().max_rect(area), |ui| {
                ui.centered_and_justified(|ui| ui.label(RichText::new(text).size(28.0)));
            });
            // As many ids as with a picture (its place, and the child over it): the
            // widgets after the view keep theirs when the first picture comes.
            let _over = ui.new_child(egui::UiBuilder::new().max_rect(area));
            return area;
        };
        let size = texture.size_vec2();
        let scale = (area.width() / size.x)
            .min(area.height() / size.y)
            .max(0.01);
        let rect = Rect::from_center_size(area.center(), size * scale);
        let mirror = self.settings.mirror;
        let uv = if mirror {
            Rect::from_min_max(Pos2::new(1.0, 0.0), Pos2::new(0.0, 1.0))
        } else {
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0))
        };
        let response = ui.allocate_rect(rect, Sense::hover());
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, "Camera view"));
        let painter = ui.painter_at(area);
        painter.image(texture.id(), rect, uv, Color32::WHITE);

        // What the people at the door read, and below it what the teacher needs to know. A
        // screen's small camera view, read by the admin, says only the line: the screen says
        // the rest (the teacher's paragraph would spill over the controls below).
        let for_the_teacher = |reason: &dyn std::fmt::Display| match banner_kind {
            Banner::ForTheDoor => Some((
                "Attendance cannot be taken here right now — please tell your teacher.".to_string(),
                Some(format!("For the teacher: {reason}")),
            )),
            Banner::Short => Some((
                "Attendance cannot be taken here right now.".to_string(),
                None,
            )),
        };
        // A source gone or ended leaves its last picture under the line (in a screen's
        // camera view: the kiosk's own area has screens of their own for those).
        let camera = camera_notice(status).map(|n| {
            let (line, teacher) = n.in_view(&banner_kind);
            (line.to_string(), teacher.map(str::to_string))
        });
        // One child over the picture for whatever is written on it, made whether anything
        // is or not (as without a picture): it takes one id from this Ui, and the widgets
        // after the view (a screen's Capture, "Add from files…") must keep theirs as
        // notices come and go — a click through the accessibility tree aims at the id it
        // found. It leaves the surrounding layout alone: whatever follows the view stays
        // below the picture, wherever the text ends.
        let mut over = ui.new_child(egui::UiBuilder::new().max_rect(rect));
        // The tag in a corner whatever the surrounding layout (a screen's camera view sits
        // in a centred one): the top at the door, whose verdicts are at the bottom; the
        // bottom of a screen's small view, where the faces' names are over them.
        let corner = match banner_kind {
            Banner::ForTheDoor => egui::Layout::top_down(egui::Align::Min),
            Banner::Short => egui::Layout::bottom_up(egui::Align::Min),
        };
        let mut tag_over = over.new_child(
            egui::UiBuilder::new()
                .max_rect(rect.shrink(8.0))
                .layout(corner),
        );
        let mut banner_over = over.new_child(egui::UiBuilder::new().max_rect(rect));
        // A recording plays where the camera would, and a try-out marks nobody: whoever
        // reads the screen should know it is not the door's camera at work. Drawn before
        // the faces: a name over a face near the top stays readable over it.
        if let Some(tag) = recording_tag(status, banner_kind) {
            egui::Frame::new()
                .fill(Color32::from_black_alpha(180))
                .corner_radius(4.0)
                .inner_margin(6.0)
                .show(&mut tag_over, |ui| {
                    let size = match banner_kind {
                        Banner::ForTheDoor => 18.0,
                        Banner::Short => 13.0,
                    };
                    ui.label(RichText::new(tag).size(size).color(AMBER));
                });
        }
        let tag_size = (text_size(rect) * 0.7).max(16.0);
        if let Some(frame) = &self.faces {
            let sx = rect.width() / frame.frame_size[0].max(1.0);
            let sy = rect.height() / frame.frame_size[1].max(1.0);
            // The picture on screen is usually newer than the frame the faces were found on.
            let ahead = self
                .shown_captured
                .map(|shown| shown.saturating_duration_since(frame.captured))
                .unwrap_or_default();
            for face in &frame.faces {
                let [x1, y1, x2, y2] = face.rect_ahead(ahead);
                let (x1, x2) = if mirror {
                    (frame.frame_size[0] - x2, frame.frame_size[0] - x1)
                } else {
                    (x1, x2)
                };
                let r = Rect::from_min_max(
                    Pos2::new(rect.min.x + x1 * sx, rect.min.y + y1 * sy),
                    Pos2::new(rect.min.x + x2 * sx, rect.min.y + y2 * sy),
                );
                // Nobody enrolled: no face is turned away in red (the card says why).
                let turned_away = face.tone == Tone::Red && self.nobody_enrolled();
                let colour = match turned_away {
                    true => NEUTRAL,
                    false => tone_colour(face.tone),
                };
                painter.rect_stroke(r, 6.0, Stroke::new(4.0, colour), egui::StrokeKind::Outside);
                if !face.label.is_empty() && !turned_away {
                    let galley = painter.layout_no_wrap(
                        face.label.clone(),
                        FontId::proportional(tag_size),
                        Color32::WHITE,
                    );
                    let tag = Rect::from_min_size(
                        Pos2::new(r.min.x - 4.0, r.min.y - galley.size().y - 10.0),
                        galley.size() + Vec2::new(12.0, 6.0),
                    );
                    painter.rect_filled(tag, 4.0, colour);
                    painter.galley(tag.min + Vec2::new(6.0, 3.0), galley, Color32::WHITE);
                }
            }
        }

        let banner = match (camera, &self.recognition, &self.wrong_clock) {
            (Some(no_picture), _, _) => Some(no_picture),
            (_, Recognition::Unavailable(reason), _) => for_the_teacher(reason),
            (_, _, Some(wrong)) => for_the_teacher(wrong),
            (_, Recognition::Loading, _) => Some(("Getting ready…".to_string(), None)),
            (_, Recognition::Preparing { done, total }, _) => Some((
                format!(
                    "Getting ready: updating the face models from the students' photos \
                     ({} of {})…",
                    grouped(done),
                    grouped(total)
                ),
                None,
            )),
            _ => None,
        };
        if let Some((text, detail)) = banner {
            painter.rect_filled(rect, 0.0, Color32::from_black_alpha(140));
            banner_over.vertical_centered(|ui| {
                let lines = if detail.is_some() { 4.0 } else { 1.0 };
                let size = match banner_kind {
                    Banner::ForTheDoor => 30.0,
                    Banner::Short => 18.0,
                };
                ui.add_space(((rect.height() - (size + 6.0) * lines) / 2.0).max(0.0));
                ui.label(RichText::new(text).size(size).color(Color32::WHITE));
                if let Some(detail) = detail {
                    ui.add_space(12.0);
                    ui.label(RichText::new(detail).size(18.0).color(Color32::LIGHT_GRAY));
                }
            });
        }
        rect
    }

    /// What the door says when no student's face is enrolled (none enrolled yet, or every
    /// student's face data erased): everyone would be "not recognised", which is not the
    /// student's problem.
    pub const NOBODY_ENROLLED: &'static str =
        "No student's face is enrolled yet — a teacher can add students' photos under Admin";

    /// Whether the models are ready and no student's face is enrolled.
    fn nobody_enrolled(&self) -> bool {
        self.recognition == Recognition::Ready { students: 0 }
    }

    /// One card per person, newest at the bottom of the picture (see `card_layout`); with
    /// nobody enrolled, one card saying so instead.
    fn verdict_cards(&self, ui: &mut egui::Ui, picture: Rect) {
        let cards: Vec<(Color32, String)> = if self.nobody_enrolled() && !self.cards.is_empty() {
            vec![(NEUTRAL, Self::NOBODY_ENROLLED.to_string())]
        } else {
            self.verdicts()
                .map(|v| (verdict_colour(v.kind), v.message()))
                .collect()
        };
        if cards.is_empty() {
            return;
        }
        let (size, shown) = card_layout(picture, cards.len());
        let inset = (picture.width() * 0.03).min(24.0);
        let region = picture.shrink(inset);
        ui.scope_builder(
            egui::UiBuilder::new()
                .max_rect(region)
                .layout(egui::Layout::bottom_up(egui::Align::Center)),
            |ui| {
                for (colour, text) in cards.iter().take(shown) {
                    egui::Frame::new()
                        .fill(*colour)
                        .corner_radius(10.0)
                        .inner_margin(egui::Margin::symmetric(20, 10))
                        .show(ui, |ui| {
                            ui.set_width(ui.available_width());
                            ui.label(
                                RichText::new(text)
                                    .size(size)
                                    .color(Color32::WHITE)
                                    .strong(),
                            );
                        });
                    ui.add_space(6.0);
                }
                let more = cards.len() - shown;
                if more > 0 {
                    egui::Frame::new()
                        .fill(Color32::from_black_alpha(200))
                        .corner_radius(10.0)
                        .inner_margin(egui::Margin::symmetric(20, 6))
                        .show(ui, |ui| {
                            ui.label(
                                RichText::new(format!("+{more} more — one at a time, please"))
                                    .size(size * 0.7)
                                    .color(Color32::WHITE),
                            );
                        });
                }
            },
        );
    }

    /// The friendly screen shown when there is no picture: what to do, and Retry. Another
    /// camera or a recording is chosen behind the admin PIN (Admin → Door settings):
    /// whoever stands at the door does not choose what the door sees.
    fn no_source(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, said: &NoPicture) {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.2);
            ui.label(RichText::new(said.heading).size(36.0).strong());
            ui.label(RichText::new(&said.advice).size(20.0));
            if let Some(detail) = &said.detail {
                ui.label(RichText::new(detail).small().weak());
            }
            ui.add_space(20.0);
            if ui.button(RichText::new("Retry").size(22.0)).clicked() {
                kiosk.command(CaptureCommand::Retry);
            }
            ui.add_space(12.0);
            ui.label(RichText::new(ANOTHER_CAMERA).size(16.0).weak());
        });
    }

    fn ended(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk) {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.3);
            ui.label(RichText::new("The recording has ended.").size(30.0));
            if ui.button(RichText::new("Play again").size(22.0)).clicked() {
                kiosk.command(CaptureCommand::Retry);
            }
        });
    }
}

/// What a camera view says of a camera's picture that is wrong.
struct CameraNotice {
    /// For the people at the door.
    door: &'static str,
    /// What the teacher is to do, under it at the door, where there is more to do.
    teacher: Option<&'static str>,
    /// For a screen's small camera view, whose reader is the admin.
    short: &'static str,
}

/// What is wrong with the camera's picture, if anything: a source gone, lost or ended,
/// one that stopped sending, a picture that stays black; `None` while pictures come (or
/// the camera is starting).
fn camera_notice(status: &CameraStatus) -> Option<CameraNotice> {
    let same = |line: &'static str| CameraNotice {
        door: line,
        teacher: None,
        short: line,
    };
    match status {
        CameraStatus::Reconnecting(_) => Some(same("Camera disconnected — reconnecting…")),
        CameraStatus::Unavailable { problem, camera } => {
            Some(same(NoPicture::of(problem, *camera).heading))
        }
        CameraStatus::Ended => Some(same("The recording has ended.")),
        CameraStatus::Stuck(_) => Some(CameraNotice {
            door: "The camera has stopped sending pictures — please tell your teacher.",
            teacher: Some(
                "For the teacher: no picture has come from the camera for seconds. Unplug \
                 the camera and plug it in again; if the picture does not come back, \
                 restart Rollcall.",
            ),
            short: "The camera has stopped sending pictures: plug it in again, or restart \
                    Rollcall.",
        }),
        CameraStatus::Dark(_) => Some(CameraNotice {
            door: "The camera's picture is black — please tell your teacher.",
            teacher: Some(
                "For the teacher: the camera's picture has stayed almost black for \
                 seconds. Open the camera's privacy shutter or uncover its lens; in a dark \
                 room, turn the lights on.",
            ),
            short: "The camera's picture is black: open its privacy shutter, or turn the \
                    lights on.",
        }),
        CameraStatus::Starting | CameraStatus::Live(_) => None,
    }
}

/// What a camera view says over a recording's pictures, or a try-out's (`None`: the
/// camera's, at work).
fn recording_tag(status: &CameraStatus, kind: Banner) -> Option<&'static str> {
    let source = match status {
        CameraStatus::Live(s) | CameraStatus::Dark(s) | CameraStatus::Stuck(s) => s,
        _ => return None,
    };
    match (source.try_out, source.recording, kind) {
        (true, true, Banner::ForTheDoor) => Some(TRY_OUT_OF_A_RECORDING),
        (true, _, _) => Some(TRY_OUT),
        (false, false, _) => None,
        (false, true, Banner::ForTheDoor) => Some(RECORDING_AT_THE_DOOR),
        (false, true, Banner::Short) => Some("A recording, not the camera"),
    }
}

/// What the door says over a recording's pictures.
const RECORDING_AT_THE_DOOR: &str =
    "A recording, not the camera: the students in it are marked present";
/// What the door says over a try-out's pictures (a screen's small view too).
const TRY_OUT: &str = "A try-out: nobody is marked";
/// What the door says over the pictures of a recording played as a try-out.
const TRY_OUT_OF_A_RECORDING: &str = "A recording played as a try-out: nobody is marked";

impl CameraNotice {
    /// The notice as a view of this kind shows it: its line, and the teacher's paragraph
    /// at the door.
    fn in_view(&self, kind: &Banner) -> (&'static str, Option<&'static str>) {
        match kind {
            Banner::ForTheDoor => (self.door, self.teacher),
            Banner::Short => (self.short, None),
        }
    }
}

/// What the kiosk says when it has no picture: what is wrong, what to do, and the
/// source's own words where they add to it (small, for whoever sets the kiosk up).
#[derive(Debug, PartialEq)]
struct NoPicture {
    heading: &'static str,
    advice: String,
    detail: Option<String>,
}

/// Why a camera that is there did not start, as far as its driver's words tell.
#[derive(Clone, Copy, Debug, PartialEq)]
enum OpenFailure {
    /// Another program has it (a video call, another Rollcall window).
    InUse,
    /// This computer's account may not open it (on Linux, not in the "video" group).
    NotAllowed,
    Other,
}

impl OpenFailure {
    fn of(said: &str) -> OpenFailure {
        let said = said.to_lowercase();
        if said.contains("permission denied") || said.contains("os error 13") {
            OpenFailure::NotAllowed
        } else if said.contains("busy") || said.contains("os error 16") {
            OpenFailure::InUse
        } else {
            OpenFailure::Other
        }
    }

    fn advice(self) -> &'static str {
        match self {
            OpenFailure::InUse => {
                "Another program is using it (a video call, another Rollcall window): close \
                 that program, then press Retry."
            }
            OpenFailure::NotAllowed => {
                "This computer's user account is not allowed to use the camera. Whoever \
                 looks after this computer can allow it (on Linux: add the account to the \
                 \"video\" group, then log in again); then press Retry."
            }
            OpenFailure::Other => {
                "If another program is using it (a video call, another Rollcall window), \
                 close that program; otherwise unplug the camera and plug it in again. Then \
                 press Retry."
            }
        }
    }
}

/// Under every no-picture screen: where the door's camera is chosen.
const ANOTHER_CAMERA: &str =
    "An admin can choose another camera, or a recording, in Admin → Door settings.";

impl NoPicture {
    fn of(problem: &CameraError, camera: bool) -> NoPicture {
        let (heading, advice, detail) = match (problem, camera) {
            (CameraError::NoCamera, _) => (
                "No camera found",
                "Check that the camera is plugged in, then press Retry.".to_string(),
                None,
            ),
            (CameraError::NotFound(name), _) => (
                "No camera found",
                format!(
                    "No camera here is called \"{name}\". Check that it is plugged in, then \
                     press Retry."
                ),
                None,
            ),
            // A camera that is there but does not start: what its driver said, in words.
            (problem @ CameraError::Open(said), true) => (
                "The camera could not be started",
                OpenFailure::of(said).advice().to_string(),
                Some(problem.to_string()),
            ),
            (problem, true) => (
                "The camera could not be started",
                OpenFailure::Other.advice().to_string(),
                Some(problem.to_string()),
            ),
            (problem, false) => (
                "The recording could not be played",
                "Check that the recording is still there and plays, then press Retry.".to_string(),
                Some(problem.to_string()),
            ),
        };
        NoPicture {
            heading,
            advice,
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: f32, h: f32) -> Rect {
        Rect::from_min_size(Pos2::ZERO, Vec2::new(w, h))
    }

    #[test]
    fn verdicts_grow_with_the_window_and_shrink_to_fit_more_people() {
        let (small, _) = card_layout(picture(780.0, 440.0), 1);
        let (large, _) = card_layout(picture(1240.0, 700.0), 1);
        assert!(small >= MIN_TEXT && large > small * 1.4, "{small} {large}");
        // Two people side by side in a wide, short picture: both cards.
        let wide = picture(1024.0, 384.0);
        assert_eq!(card_layout(wide, 2), (text_size(wide), 2));
        // Four: all of them, in smaller type.
        let (four, shown) = card_layout(wide, 4);
        assert_eq!(shown, 4);
        assert!(four < text_size(wide));
        // A crowd in a small window: some cards, the rest counted; never none.
        let (_, shown) = card_layout(picture(780.0, 440.0), 12);
        assert!((1..12).contains(&shown), "{shown}");
        let (_, shown) = card_layout(picture(200.0, 100.0), 3);
        assert_eq!(shown, 1);
    }

    #[test]
    fn a_recording_says_so_over_its_pictures_and_a_camera_does_not() {
        let source = |recording| crate::kiosk::SourceName {
            label: "Door".into(),
            recording,
            try_out: false,
        };
        for kind in [Banner::ForTheDoor, Banner::Short] {
            for status in [
                CameraStatus::Live(source(false)),
                CameraStatus::Dark(source(false)),
                CameraStatus::Stuck(source(false)),
                CameraStatus::Starting,
                CameraStatus::Ended,
            ] {
                assert_eq!(recording_tag(&status, kind), None, "{status:?}");
            }
            for status in [
                CameraStatus::Live(source(true)),
                CameraStatus::Dark(source(true)),
                CameraStatus::Stuck(source(true)),
            ] {
                assert!(recording_tag(&status, kind).is_some(), "{status:?}");
            }
        }
        assert_eq!(
            recording_tag(&CameraStatus::Live(source(true)), Banner::ForTheDoor),
            Some(RECORDING_AT_THE_DOOR)
        );
        // A try-out never reads as the door at work, from a camera or a recording.
        for recording in [false, true] {
            let try_out = crate::kiosk::SourceName {
                try_out: true,
                ..source(recording)
            };
            for kind in [Banner::ForTheDoor, Banner::Short] {
                let tag = recording_tag(&CameraStatus::Live(try_out.clone()), kind);
                assert!(
                    tag.is_some_and(|t| t.ends_with("a try-out: nobody is marked") || t == TRY_OUT),
                    "{tag:?}"
                );
            }
        }
    }

    #[test]
    fn a_camera_that_is_there_but_does_not_start_is_not_called_missing() {
        let none = NoPicture::of(&CameraError::NoCamera, true);
        assert_eq!(none.heading, "No camera found");
        assert_eq!(none.detail, None, "the heading says it already");
        let named = NoPicture::of(&CameraError::NotFound("Logitech".into()), true);
        assert_eq!(named.heading, "No camera found");
        assert!(named
            .advice
            .starts_with("No camera here is called \"Logitech\". Check"));
        // A camera in use by a video call: nokhwa's words kept small below the advice.
        let busy = CameraError::Open("Device or resource busy".into());
        let busy = NoPicture::of(&busy, true);
        assert_eq!(busy.heading, "The camera could not be started");
        assert!(
            busy.advice.starts_with("Another program is using it"),
            "{busy:?}"
        );
        assert!(busy.detail.unwrap().ends_with("Device or resource busy"));
        // An account that may not open it is told so, not to close other programs.
        let denied = CameraError::Open(
            "Could not open device 0: Failed to open device: Permission denied (os error 13)"
                .into(),
        );
        let denied = NoPicture::of(&denied, true);
        assert!(
            denied
                .advice
                .starts_with("This computer's user account is not allowed")
                && denied.advice.contains("\"video\" group"),
            "{denied:?}"
        );
        let other = NoPicture::of(&CameraError::Open("Invalid argument".into()), true);
        assert!(other.advice.contains("unplug the camera"), "{other:?}");
        let file = NoPicture::of(&CameraError::Open("cannot play a.mp4".into()), false);
        assert_eq!(file.heading, "The recording could not be played");
        assert!(file.detail.unwrap().contains("cannot play a.mp4"));
    }
}
