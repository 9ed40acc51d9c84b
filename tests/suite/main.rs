//! Rollcall's integration tests, as one binary (one link of OpenCV and eframe instead of
//! one per file). Each module tests one part through its real interfaces.

mod common;

mod admin_ui;
mod api;
mod bad_input;
mod cli;
mod crash;
mod data_safety;
mod kiosk_degraded;
mod kiosk_ui;
mod review;
mod school;
mod screenshot;
mod service;
mod site_check;
mod vision;
