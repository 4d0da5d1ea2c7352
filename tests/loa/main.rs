//! loa's one integration-test binary: the engine simulated over a month, the whole daemon
//! on a port-0 listener, the CLI, and the real ALSA path.

mod alsa;
mod cli;
mod daemon;
mod panel;
mod simulation;
mod support;
