//! loa's one integration-test binary: the engine simulated over a month, the whole daemon
//! on a port-0 listener, the CLI, the real ALSA path, ingest and export/import.

mod alsa;
mod cli;
mod daemon;
mod ingest;
mod simulation;
mod support;
mod transfer;
