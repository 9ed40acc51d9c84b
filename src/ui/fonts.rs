//! Fonts for every name a school has: egui's built-in fonts cover Latin, Greek and
//! Cyrillic only, so at start-up a system font with Chinese, Japanese and Korean glyphs
//! (Debian's `fonts-noto-cjk`, installed by `scripts/setup`, or another common one) is
//! added as a fallback after them.

use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
use egui::{FontData, FontFamily};
use std::path::Path;
use std::sync::Arc;

/// Fallback fonts tried in order (file, face index in the collection).
const FALLBACKS: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    (
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        0,
    ),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
];

/// Adds the first fallback font found; returns its file, or `None` (names in other
/// scripts then show as boxes, and a warning is logged).
pub fn install(ctx: &egui::Context) -> Option<&'static str> {
    for (path, index) in FALLBACKS {
        if !Path::new(path).is_file() {
            continue;
        }
        match std::fs::read(path) {
            Ok(bytes) => {
                ctx.add_font(FontInsert {
                    name: "fallback-cjk".into(),
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
    tracing::warn!(
        "no font with Chinese, Japanese or Korean glyphs found (scripts/setup installs \
         fonts-noto-cjk); such names will show as boxes"
    );
    None
}
