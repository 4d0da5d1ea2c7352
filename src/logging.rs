//! Log output: what the `loa` binary writes to stderr, on a terminal and under journald.
//!
//! On a terminal the stock `tracing-subscriber` format (time, coloured level). Under
//! systemd (`JOURNAL_STREAM` set) each event is one line that starts with its syslog
//! priority in the `<N>` form journald reads from a service's stderr (`SyslogLevelPrefix=`,
//! on by default): so `journalctl -u loa -p warning` lists the warnings and errors, which
//! it does not when every line arrives at the stream's default priority (info). No time
//! (journald stamps each line), no colour codes, and a line break inside a message is
//! written as `\n` so that an event never splits into entries of which only the first
//! carries the priority. This module only formats; it decides nothing about what is logged.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Logs to stderr; `RUST_LOG` overrides the default `info` level. Under journald (the
/// `JOURNAL_STREAM` variable systemd sets for a service) it uses [`JournalFormat`].
pub fn init() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        let _ = builder
            .with_ansi(false)
            .event_format(JournalFormat)
            .try_init();
    } else {
        let _ = builder.try_init();
    }
}

/// The syslog priority journald files an event of this level under (`journalctl -p`).
pub fn syslog_priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// One event per line: `<4>WARN message key=value`, as journald wants it from stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct JournalFormat;

impl<S, N> FormatEvent<S, N> for JournalFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: format::Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = *event.metadata().level();
        let mut line = String::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                line.push_str(span.name());
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    line.push('{');
                    line.push_str(fields);
                    line.push('}');
                }
                line.push_str(": ");
            }
        }
        ctx.field_format()
            .format_fields(format::Writer::new(&mut line), event)?;
        let line = line.replace('\r', "\\r").replace('\n', "\\n");
        writeln!(writer, "<{}>{level} {line}", syslog_priority(level))
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer that keeps everything written, for reading back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn journal_lines(emit: impl FnOnce()) -> String {
        let out = Captured::default();
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_max_level(Level::TRACE)
            .with_ansi(false)
            .event_format(JournalFormat)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn each_level_carries_its_syslog_priority() {
        let text = journal_lines(|| {
            tracing::error!("phát thất bại");
            tracing::warn!(output = "null", "không có loa");
            tracing::info!("loa is running");
            tracing::debug!("chi tiết");
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "<3>ERROR phát thất bại",
                "<4>WARN không có loa output=\"null\"",
                "<6>INFO loa is running",
                "<7>DEBUG chi tiết",
            ]
        );
    }

    #[test]
    fn a_multi_line_message_stays_one_journal_entry() {
        let text = journal_lines(|| {
            tracing::warn!(
                error = %"Tổng đài 111\nLuôn lắng nghe",
                "bản tin\r\nbị lỗi"
            );
        });
        assert_eq!(text.lines().count(), 1, "{text:?}");
        assert!(text.starts_with("<4>WARN bản tin\\r\\nbị lỗi"), "{text:?}");
        assert!(text.contains("Tổng đài 111\\nLuôn lắng nghe"), "{text:?}");
        assert!(!text.contains('\u{1b}'), "colour codes in {text:?}");
    }

    #[test]
    fn span_names_lead_the_line() {
        let text = journal_lines(|| {
            let span = tracing::info_span!("broadcast", occurrence = 7);
            let _entered = span.enter();
            tracing::info!("played");
        });
        assert_eq!(text, "<6>INFO broadcast{occurrence=7}: played\n");
    }
}
