//! loa's one integration-test binary: the engine simulated over a month, the whole daemon
//! on a port-0 listener (with the journeys J07 broadcast, J08 approval and J22 clock),
//! changes reaching the air without a restart (J06), the CLI, the real ALSA path, SIGKILL
//! fault rounds (J21 among them), the Debian package and systemd unit, the panel's routes,
//! /metrics against /healthz, ingest and export/import, and the upload size limit against
//! the real daemon.

mod alsa;
mod approval_air;
mod broadcast_journey;
mod cli;
mod clock_journey;
mod daemon;
mod faults;
mod ingest;
mod metrics;
mod on_air;
mod package;
mod panel;
mod rule_instant;
mod simulation;
mod support;
mod transfer;
mod upload_limit;
