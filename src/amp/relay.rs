//! Relay drivers: the hardware side of amplifier control.
//!
//! A [`Relay`] switches the amplifier's mains on or off and nothing else. Three kinds exist:
//! a line on a Linux GPIO character device ([`GpioRelay`]), a pair of shell commands for
//! USB relays and other hardware ([`CommandRelay`]), and no relay at all ([`NoRelay`]).
//! [`open`] builds one from the [`RelaySpec`] that the config module produces. This module
//! does not decide when to switch, keep time or enforce the maximum on time: that is the
//! [`Amplifier`](super::Amplifier)'s job.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use gpiocdev::line::Value;

use super::AmpError;

/// Something that switches the amplifier on or off.
///
/// Implementations never panic on hardware trouble: every failure is an [`AmpError`].
pub trait Relay: Send {
    /// Switches the relay on (`true`) or off (`false`).
    fn set(&mut self, on: bool) -> Result<(), AmpError>;

    /// Says in a few words what this relay is, for logs and the panel.
    fn description(&self) -> String;
}

/// Which relay to use, as validated by the config module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelaySpec {
    /// No relay: switching only produces events.
    None,
    /// One line of a GPIO character device, requested as an output and held by the process.
    Gpio {
        /// The chip's character device, e.g. `/dev/gpiochip0`.
        chip: PathBuf,
        /// The line offset on that chip.
        line: u32,
        /// Whether "on" drives the line low, as on most cheap relay boards.
        active_low: bool,
    },
    /// Shell commands run through `sh -c`, e.g. for a USB relay.
    Command {
        /// The command that switches the amplifier on.
        on: String,
        /// The command that switches the amplifier off.
        off: String,
        /// How long either command may run before it is killed and counted as failed.
        timeout: Duration,
    },
}

/// Opens the relay that `spec` describes; for GPIO the line is requested with "off" as its
/// initial value.
pub fn open(spec: &RelaySpec) -> Result<Box<dyn Relay>, AmpError> {
    Ok(match spec {
        RelaySpec::None => Box::new(NoRelay),
        RelaySpec::Gpio {
            chip,
            line,
            active_low,
        } => Box::new(GpioRelay::open(chip, *line, *active_low)?),
        RelaySpec::Command { on, off, timeout } => {
            Box::new(CommandRelay::new(on.clone(), off.clone(), *timeout)?)
        }
    })
}

/// The relay kind for a box with no relay: every switch succeeds and touches nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRelay;

/// A GPIO line held as an output for the life of the value.
#[derive(Debug)]
pub struct GpioRelay {
    chip: PathBuf,
    line: u32,
    active_low: bool,
    request: gpiocdev::Request,
}

/// A relay driven by two shell commands.
#[derive(Debug, Clone)]
pub struct CommandRelay {
    on: String,
    off: String,
    timeout: Duration,
}

/// The consumer label the kernel shows for the requested line (`gpioinfo`).
const GPIO_CONSUMER: &str = "loa-amplifier";

/// How much of a failing command's stderr is kept in the error.
const STDERR_LIMIT: usize = 2048;

impl Relay for NoRelay {
    fn set(&mut self, _on: bool) -> Result<(), AmpError> {
        Ok(())
    }

    fn description(&self) -> String {
        "no relay (switching is only logged)".to_owned()
    }
}

impl GpioRelay {
    /// Requests `line` on `chip` as an output whose initial value is "off".
    pub fn open(chip: &Path, line: u32, active_low: bool) -> Result<Self, AmpError> {
        let mut builder = gpiocdev::Request::builder();
        builder
            .on_chip(chip)
            .with_consumer(GPIO_CONSUMER)
            .with_line(line)
            .as_output(Value::Inactive);
        if active_low {
            builder.as_active_low();
        }
        let request = builder.request().map_err(|source| AmpError::GpioOpen {
            chip: chip.to_owned(),
            line,
            source,
        })?;
        Ok(Self {
            chip: chip.to_owned(),
            line,
            active_low,
            request,
        })
    }
}

impl Relay for GpioRelay {
    fn set(&mut self, on: bool) -> Result<(), AmpError> {
        let value = if on { Value::Active } else { Value::Inactive };
        self.request
            .set_lone_value(value)
            .map_err(|source| AmpError::GpioSet {
                chip: self.chip.clone(),
                line: self.line,
                state: on_off(on),
                source,
            })
    }

    fn description(&self) -> String {
        let level = if self.active_low {
            "active low"
        } else {
            "active high"
        };
        format!(
            "gpio line {} on {} ({level})",
            self.line,
            self.chip.display()
        )
    }
}

impl CommandRelay {
    /// Builds a command relay; both commands must be non-empty and the timeout non-zero.
    pub fn new(on: String, off: String, timeout: Duration) -> Result<Self, AmpError> {
        for (which, command) in [("on", &on), ("off", &off)] {
            if command.trim().is_empty() {
                return Err(AmpError::CommandEmpty { which });
            }
        }
        if timeout.is_zero() {
            return Err(AmpError::CommandZeroTimeout);
        }
        Ok(Self { on, off, timeout })
    }
}

impl Relay for CommandRelay {
    fn set(&mut self, on: bool) -> Result<(), AmpError> {
        let command = if on { &self.on } else { &self.off };
        run_command(command, self.timeout)
    }

    fn description(&self) -> String {
        format!("command relay (on: `{}`, off: `{}`)", self.on, self.off)
    }
}

/// Names a relay state for messages.
pub(super) fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// Runs `command` through `sh -c` in its own process group, killing the whole group if it
/// outlives `timeout`; a non-zero exit is an error carrying the command's stderr.
fn run_command(command: &str, timeout: Duration) -> Result<(), AmpError> {
    let deadline = Instant::now() + timeout;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| AmpError::CommandSpawn {
            command: command.to_owned(),
            source: Arc::new(source),
        })?;
    let stderr = child.stderr.take().map(collect_stderr);
    let mut nap = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(source) => {
                kill_group(&mut child);
                return Err(AmpError::CommandWait {
                    command: command.to_owned(),
                    source: Arc::new(source),
                });
            }
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(&mut child);
            return Err(AmpError::CommandTimeout {
                command: command.to_owned(),
                timeout,
            });
        }
        thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    if status.success() {
        return Ok(());
    }
    // A background process the command started may keep stderr open; wait only briefly.
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    let stderr = stderr
        .and_then(|rx| rx.recv_timeout(wait).ok())
        .unwrap_or_default();
    Err(AmpError::CommandFailed {
        command: command.to_owned(),
        status: status.to_string(),
        stderr,
    })
}

/// Reads a child's stderr on a helper thread, keeping the first [`STDERR_LIMIT`] bytes and
/// draining the rest so the child never blocks on a full pipe.
fn collect_stderr(mut pipe: std::process::ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    // If the thread cannot start, the receiver simply yields nothing.
    let _ = thread::Builder::new()
        .name("loa-amp-stderr".to_owned())
        .spawn(move || {
            let mut kept = Vec::new();
            let mut chunk = [0u8; 1024];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = STDERR_LIMIT.saturating_sub(kept.len());
                        kept.extend_from_slice(&chunk[..n.min(room)]);
                    }
                }
            }
            let _ = tx.send(String::from_utf8_lossy(&kept).trim().to_owned());
        });
    rx
}

/// Kills the child's process group (the shell and anything it started) and reaps the shell.
fn kill_group(child: &mut std::process::Child) {
    let pid = rustix::process::Pid::from_child(child);
    if rustix::process::kill_process_group(pid, rustix::process::Signal::KILL).is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
}
