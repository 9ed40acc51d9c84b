//! Rollcall: a face-recognition attendance kiosk.
//!
//! Layers, lowest first, each usable alone: `camera` (frame sources) and `vision` (faces
//! in images) → `recognition` (who is it) → `store` (the database) → `attendance` (the
//! service every front calls) and `reports` (sheets, exports, emails) → the fronts:
//! `kiosk` (threads) with `ui` (the window), `api` (HTTP) and `cli`. See ARCHITECTURE.md.

pub mod api;
pub mod attendance;
pub mod camera;
pub mod cli;
pub mod data_dir;
pub mod kiosk;
pub mod order;
pub mod recognition;
pub mod reports;
pub mod settings;
pub mod store;
pub mod ui;
pub mod vision;
pub mod wording;
