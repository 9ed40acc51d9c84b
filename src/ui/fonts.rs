//! Fonts for every name a school has: egui's built-in fonts cover Latin, Greek and
//! Cyrillic only, so at start-up system fonts are added as fallbacks after them: one with
//! Chinese, Japanese and Korean glyphs (Debian's `fonts-noto-cjk`), one with other common
//! scripts (Arabic, Hebrew, Armenian, Georgian: `fonts-dejavu-core`), and one with
//! symbols and monochrome emoji (`fonts-symbola`), all installed by `scripts/setup`.

use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
use egui::{FontData, FontFamily};
use std::path::Path;
use std::sync::Arc;

/// A fallback font: its name in egui, what it adds, and the files tried in order (file,
/// face index in the collection).
struct Fallback {
    name: &'static str,
    covers: &'static str,
    package: &'static str,
    files: &'static [(&'static str, u32)],
}

const FALLBACKS: &[Fallback] = &[
    Fallback {
        name: "fallback-cjk",
        covers: "Chinese, Japanese and Korean",
        package: "fonts-noto-cjk",
        files: &[
            ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
            (
                "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
                0,
            ),
            ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
            ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
        ],
    },
    Fallback {
        name: "fallback-scripts",
        covers: "Arabic, Hebrew, Armenian and Georgian",
        package: "fonts-dejavu-core",
        files: &[("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0)],
    },
    Fallback {
        name: "fallback-symbols",
        covers: "symbol and emoji",
        package: "fonts-symbola",
        files: &[(
            "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
            0,
        )],
    },
];

/// Adds every fallback font found; returns their files. A missing one is logged (its
/// glyphs then show as boxes).
pub fn install(ctx: &egui::Context) -> Vec<&'static str> {
    let mut installed = Vec::new();
    for fallback in FALLBACKS {
        match add_first(ctx, fallback) {
            Some(path) => installed.push(path),
            None => tracing::warn!(
                "no font with {} glyphs found (scripts/setup installs {}); they will show \
                 as boxes",
                fallback.covers,
                fallback.package
            ),
        }
    }
    installed
}

fn add_first(ctx: &egui::Context, fallback: &Fallback) -> Option<&'static str> {
    for (path, index) in fallback.files {
        if !Path::new(path).is_file() {
            continue;
        }
        match std::fs::read(path) {
            Ok(bytes) => {
                ctx.add_font(FontInsert {
                    name: fallback.name.into(),
                    data: FontData::from_blob(Arc::new(bytes), *index),
                    families: [FontFamily::Proportional, FontFamily::Monospace]
                        .into_iter()
                        .map(|family| InsertFontFamily {
                            family,
                            priority: FontPriority::Lowest,
                        })
                        .collect(),
                });
                return Some(path);
            }
            Err(e) => tracing::warn!("could not read the font {path}: {e}"),
        }
    }
    None
}
