//! The desktop app (eframe/egui). Thin: it draws state the back end sends and sends
//! commands back; no SQL, no OpenCV here.

pub mod admin;
pub mod attack_check;
pub mod camera_chooser;
pub mod change_pin;
pub mod door_settings;
pub mod email_settings;
pub mod files;
pub mod fonts;
pub mod kiosk;
pub mod review;
pub mod student_list;
pub mod typing;
pub mod widgets;

use crate::data_dir::DataDir;
use crate::kiosk::{DoorSource, Kiosk, KioskEvent};
use crate::settings::Settings;
use admin::AdminView;
use kiosk::KioskView;
use std::sync::Arc;
use typing::TypingPace;

/// What the app is started with.
#[derive(Clone, Debug)]
pub struct AppOptions {
    pub data: DataDir,
    pub settings: Settings,
    /// What the door plays (a `SourceSpec` converts: the door at work, marking).
    pub source: DoorSource,
    /// Receives a copy of every kiosk event (benchmarks, tests); usually `None`.
    pub observer: Option<crossbeam_channel::Sender<KioskEvent>>,
}

/// The Rollcall window.
pub struct RollcallApp {
    pub kiosk: Kiosk,
    pub view: KioskView,
    pub admin: AdminView,
    /// In fullscreen the window cannot be closed without the admin PIN.
    pub fullscreen: bool,
    /// Keys typed after a Tab wait for the frame in which the focus has moved.
    pub typing: TypingPace,
}

impl RollcallApp {
    /// Starts the back end; it wakes this window whenever it has something new.
    pub fn new(ctx: &egui::Context, options: AppOptions) -> RollcallApp {
        fonts::install(ctx);
        let repaint = ctx.clone();
        let wake = Arc::new(move || repaint.request_repaint());
        let view = KioskView::new(options.settings.kiosk.clone());
        let kiosk = Kiosk::start(
            options.source,
            options.data,
            options.settings,
            wake,
            options.observer,
        );
        RollcallApp {
            kiosk,
            view,
            admin: AdminView::default(),
            fullscreen: false,
            typing: TypingPace::default(),
        }
    }

    /// One frame of UI.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        let RollcallApp {
            kiosk,
            view,
            admin,
            fullscreen,
            typing: _,
        } = self;
        let ctx = ui.ctx().clone();
        view.absorb(&ctx, kiosk);
        admin.tick(&ctx, &kiosk.admin);
        // At the door, closing needs the PIN.
        if *fullscreen && ctx.input(|i| i.viewport().close_requested()) && !admin.unlocked {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            admin.ask_pin(&kiosk.admin);
        }
        egui::Panel::top("header").show(ui, |ui| {
            view.header(ui, |ui| admin.header_button(ui, kiosk))
        });
        egui::Panel::bottom("status").show(ui, |ui| view.status_line(ui));
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if admin.unlocked {
                admin.show(ui, kiosk, view);
            } else {
                view.central(ui, kiosk);
            }
        });
        admin.pin_window(&ctx, kiosk);
        // New camera frames repaint the window only while it shows them.
        kiosk.show_video(view.take_video_drawn());
        // The clock ticks even when nothing else happens.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(500));
    }
}

impl eframe::App for RollcallApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    fn raw_input_hook(&mut self, ctx: &egui::Context, raw_input: &mut egui::RawInput) {
        if self.typing.pace(raw_input) {
            ctx.request_repaint();
        }
    }

    fn on_exit(&mut self) {
        self.kiosk.shutdown();
    }
}

/// Opens the window and runs until it is closed.
pub fn run(options: AppOptions, fullscreen: bool) -> anyhow::Result<()> {
    let viewport = egui::ViewportBuilder::default()
        .with_title("Rollcall")
        .with_inner_size([1024.0, 768.0])
        .with_fullscreen(fullscreen);
    let native = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    eframe::run_native(
        "Rollcall",
        native,
        Box::new(move |cc| {
            let mut app = RollcallApp::new(&cc.egui_ctx, options);
            app.fullscreen = fullscreen;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}
