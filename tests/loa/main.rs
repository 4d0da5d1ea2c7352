//! loa's one integration-test binary: the engine simulated over a month, the whole daemon
//! on a port-0 listener (and what airs under approval), the CLI, the real ALSA path,
//! SIGKILL fault rounds, the Debian package and systemd unit, the panel's routes, /metrics
//! against /healthz, ingest and export/import, and the upload size limit against the real
//! daemon.

mod alsa;
mod approval_air;
mod cli;
mod daemon;
mod faults;
mod ingest;
mod metrics;
mod package;
mod panel;
mod simulation;
mod support;
mod transfer;
mod upload_limit;
