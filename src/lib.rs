//! Rollcall: a face-recognition attendance kiosk.
//!
//! Layers, each usable alone: `vision` (faces in images) → `recognition` (who is it) →
//! `store` (SQLite) → `attendance` (the service every front calls).

pub mod api;
pub mod attendance;
pub mod bench;
pub mod camera;
pub mod cli;
pub mod data_dir;
pub mod eval;
pub mod kiosk;
pub mod liveness_eval;
pub mod recognition;
pub mod settings;
pub mod store;
pub mod ui;
pub mod vision;
