//! loa: the broadcast controller for ward and commune loudspeaker systems.
//!
//! A small Linux box wired to the public-address amplifier decodes recorded announcements,
//! plays them on a cron-like schedule and offers a web panel. ARCHITECTURE.md has the
//! bird's-eye view; dependencies point one way:
//! `daemon → engine/panel → store/player/amp → schedule/decode/config/clock`.

pub mod accounts;
pub mod amp;
pub mod cli;
pub mod cli_library;
pub mod clock;
pub mod config;
pub mod cron;
pub mod daemon;
pub mod decode;
pub mod demo;
pub mod engine;
pub mod health;
pub mod library;
pub mod logging;
pub mod loudness;
pub mod model;
pub mod output;
pub mod panel;
pub mod player;
pub mod resample;
pub mod schedule;
pub mod seed;
pub mod store;
