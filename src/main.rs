//! The `loa` binary: argument parsing, wiring and exit codes, nothing else.
//!
//! Exit codes: 0 success, 1 runtime failure, 2 bad input or config. Logic lives in the
//! library (`loa::cli` for the one-shot commands, `loa::daemon` for `serve`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use loa::cli::{self, CliError};
use loa::cli_library;

/// Broadcast controller for ward and commune loudspeaker systems.
#[derive(Debug, Parser)]
#[command(name = "loa", version, about)]
struct Args {
    /// Config file (default: ./config/loa.toml if present, else /etc/loa/loa.toml).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon: schedule, player, amplifier and web panel.
    Serve,
    /// Check the config, database, media, output, relay, clock and disk.
    Check,
    /// Print the next times a standard cron expression fires, one RFC 3339 time per line.
    Cron {
        /// The expression, e.g. "0 6,17 * * MON-SAT".
        expr: String,
        /// Start after this instant (RFC 3339); default now.
        #[arg(long)]
        from: Option<String>,
        /// How many times to print.
        #[arg(long, default_value_t = 10)]
        count: usize,
        /// Time zone (IANA name); default the station's, or Asia/Ho_Chi_Minh.
        #[arg(long)]
        tz: Option<String>,
    },
    /// List what will play next, and what will be skipped and why.
    Next {
        /// How many occurrences to list.
        #[arg(long, default_value_t = 10)]
        count: usize,
    },
    /// Play audio files through the configured output now (loudness-normalised).
    Play {
        /// Files to play, in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Use this output instead of the configured one (e.g. "wav:/tmp/out.wav").
        #[arg(long)]
        output: Option<String>,
    },
    /// List audio output devices with stable names, and a recommendation.
    Devices,
    /// Create a panel user or reset their password (read from the terminal or stdin).
    Passwd {
        /// The login name.
        user: String,
        /// viewer, editor, approver or admin.
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// Switch the relay on, play a test tone, switch it off.
    Tone {
        /// Length of the tone.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Frequency in Hz.
        #[arg(long, default_value_t = 1000.0)]
        frequency: f64,
        /// Use this output instead of the configured one.
        #[arg(long)]
        output: Option<String>,
    },
    /// Add audio files to the clip library (each is decoded and measured, or refused).
    Add {
        /// Files to add.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Title (one file only; default: the file name).
        #[arg(long)]
        title: Option<String>,
        /// Append the clips to this playlist (created if missing).
        #[arg(long)]
        playlist: Option<String>,
    },
    /// Write the whole station (clips, playlists, campaigns, programmes) to DIR.
    Export {
        /// Target directory: DIR/station.toml and DIR/media/.
        dir: PathBuf,
    },
    /// Recreate a station exported with `loa export`; running it twice changes nothing.
    Import {
        /// Directory written by `loa export`.
        dir: PathBuf,
    },
    /// Internal: the isolated decode-and-measure worker of the ingest pipeline.
    #[command(name = "__analyse", hide = true)]
    Analyse {
        file: PathBuf,
        #[arg(long)]
        max_seconds: u64,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::init_logging();
    let config_path = args.config.unwrap_or_else(loa::config::default_path);
    let result = match args.command {
        Command::Serve => cli::serve(&config_path),
        Command::Check => cli::check(&config_path),
        Command::Cron {
            expr,
            from,
            count,
            tz,
        } => cli::cron(&config_path, &expr, from.as_deref(), count, tz.as_deref()),
        Command::Next { count } => cli::next(&config_path, count),
        Command::Play { files, output } => cli::play(&config_path, &files, output.as_deref()),
        Command::Devices => cli::devices(),
        Command::Passwd { user, role } => loa::accounts::passwd_cli(&config_path, &user, &role),
        Command::Tone {
            seconds,
            frequency,
            output,
        } => cli::tone(&config_path, seconds, frequency, output.as_deref()),
        Command::Add {
            files,
            title,
            playlist,
        } => cli_library::add(&config_path, &files, title.as_deref(), playlist.as_deref()),
        Command::Export { dir } => cli_library::export(&config_path, &dir),
        Command::Import { dir } => cli_library::import(&config_path, &dir),
        Command::Analyse { file, max_seconds } => cli_library::analyse_worker(&file, max_seconds),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ CliError::BadInput(_)) => {
            eprintln!("loa: {e}");
            ExitCode::from(2)
        }
        Err(e @ CliError::Runtime(_)) => {
            eprintln!("loa: {e}");
            ExitCode::from(1)
        }
    }
}
