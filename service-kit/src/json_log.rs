//! `LOG_FORMAT=json`: one JSON object per line, in the shape tracing-subscriber's JSON format
//! with flattened events and the current span gives (`timestamp`, `level`, the event's fields,
//! `target`, `span` with the span's fields and `name`), written straight into the line.
//!
//! tracing-subscriber's own JSON format serialises through `serde_json` into an adaptor that
//! validates each fragment as UTF-8, keeps a span's fields as a JSON document and parses it back
//! for every line: 80,000 instructions per request line, a fifth of a `GET /api/todos`. Here a
//! span's fields are rendered once, as the members of an object, and copied into each line.

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::timestamp::Timestamp;

/// Formats each event as one JSON line.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLines;

/// Renders a span's fields as `"name":value` members, kept in the span until it closes.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonFields;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        writer.write_str("{\"timestamp\":\"")?;
        writer.write_str(Timestamp::now().rfc3339().as_str())?;
        writer.write_str("\",\"level\":\"")?;
        writer.write_str(meta.level().as_str())?;
        writer.write_char('"')?;
        write_members(&mut writer, false, event)?;
        writer.write_str(",\"target\":")?;
        write_string(&mut writer, meta.target())?;
        // The event's own parent when it names one, else the current span.
        if let Some(span) = ctx.parent_span() {
            writer.write_str(",\"span\":{")?;
            let extensions = span.extensions();
            if let Some(fields) = extensions
                .get::<FormattedFields<N>>()
                .filter(|f| !f.is_empty())
            {
                writer.write_str(fields)?;
                writer.write_char(',')?;
            }
            writer.write_str("\"name\":")?;
            write_string(&mut writer, span.name())?;
            writer.write_char('}')?;
        }
        writer.write_str("}\n")
    }
}

impl<'writer> FormatFields<'writer> for JsonFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        write_members(&mut writer, true, fields)
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let first = current.is_empty();
        write_members(&mut current.as_writer(), first, fields)
    }
}

/// Writes `fields` as JSON members, with a comma before the first unless it is `first`.
fn write_members<W: Write>(out: &mut W, first: bool, fields: impl RecordFields) -> fmt::Result {
    let mut members = Members {
        out,
        first,
        result: Ok(()),
    };
    fields.record(&mut members);
    members.result
}

/// Writes each field it visits as a JSON member, a comma before all but the first.
struct Members<'a, W: Write> {
    out: &'a mut W,
    first: bool,
    result: fmt::Result,
}

impl<W: Write> Members<'_, W> {
    fn member(&mut self, field: &Field, value: impl FnOnce(&mut W) -> fmt::Result) {
        // `log` records bridged into events carry their origin as fields: not part of the line.
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        self.result = (|| {
            if !std::mem::take(&mut self.first) {
                self.out.write_char(',')?;
            }
            write_string(self.out, field.name())?;
            self.out.write_char(':')?;
            value(self.out)
        })();
    }
}

impl<W: Write> Visit for Members<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |out| write_string(out, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |out| {
            out.write_str(if value { "true" } else { "false" })
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity: those go as strings, `"NaN"` or `"inf"`.
        if value.is_finite() {
            self.member(field, |out| write!(out, "{value}"));
        } else {
            self.member(field, |out| write_string(out, &value.to_string()));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.member(field, |out| {
            out.write_char('"')?;
            write!(Escaped(out), "{value}")?;
            out.write_char('"')
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, |out| {
            out.write_char('"')?;
            write!(Escaped(out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

/// `text` as a JSON string.
fn write_string<W: Write + ?Sized>(out: &mut W, text: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(text)?;
    out.write_char('"')
}

/// Escapes what JSON requires inside a string (RFC 8259 §7): quotes, backslashes and control
/// characters; everything else is copied in runs.
struct Escaped<'a, W: Write + ?Sized>(&'a mut W);

impl<W: Write + ?Sized> Write for Escaped<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut run_start = 0;
        for (at, byte) in text.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x00..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&text[run_start..at])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            run_start = at + 1;
        }
        self.0.write_str(&text[run_start..])
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};
    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Lines {
            self.clone()
        }
    }

    /// The lines `log` writes under this format, parsed.
    fn logged(log: impl FnOnce()) -> Vec<Value> {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(JsonLines)
                .fmt_fields(JsonFields)
                .with_writer(lines.clone()),
        );
        tracing::subscriber::with_default(subscriber, log);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    #[test]
    fn a_line_has_the_event_its_target_and_the_current_spans_fields() {
        let lines = logged(|| {
            let span = tracing::info_span!(
                "request",
                request_id = "r-1",
                route = %"/api/todos",
                user_id = tracing::field::Empty
            );
            let _entered = span.enter();
            span.record("user_id", "u-7");
            tracing::info!(
                status = 200u16,
                latency_ms = 1.5,
                ok = true,
                "request completed"
            );
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "request completed");
        assert_eq!(line["status"], 200);
        assert_eq!(line["latency_ms"], 1.5);
        assert_eq!(line["ok"], true);
        assert_eq!(line["target"], module_path!());
        assert_eq!(
            line["span"],
            json!({"request_id": "r-1", "route": "/api/todos", "user_id": "u-7", "name": "request"})
        );
        let stamp = line["timestamp"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{stamp}"
        );
    }

    #[test]
    fn text_of_any_kind_stays_valid_json() {
        let nasty = "quote \" backslash \\ newline \n tab \t bell \u{7} unicode é ✓";
        let lines = logged(|| {
            let span = tracing::info_span!("outer", note = nasty);
            let _entered = span.enter();
            tracing::warn!(
                text = nasty,
                debugged = ?nasty,
                infinite = f64::INFINITY,
                big = u64::MAX,
                negative = -3i64,
                "{nasty}"
            );
            tracing::error!(error = &std::io::Error::other(nasty) as &dyn std::error::Error);
        });
        assert_eq!(lines.len(), 2);
        let line = &lines[0];
        assert_eq!(line["text"], nasty);
        assert_eq!(line["message"], nasty);
        assert_eq!(line["debugged"], format!("{nasty:?}"));
        assert_eq!(line["infinite"], "inf");
        assert_eq!(line["big"], u64::MAX);
        assert_eq!(line["negative"], -3);
        assert_eq!(line["span"]["note"], nasty);
        assert_eq!(lines[1]["error"], nasty);
        assert_eq!(lines[1]["level"], "ERROR");
    }

    #[test]
    fn an_event_given_a_parent_span_carries_that_spans_fields() {
        let lines = logged(|| {
            let parent = tracing::info_span!("request", request_id = "r-2");
            let other = tracing::info_span!("other", note = "not this one");
            let _entered = other.enter();
            tracing::info!(parent: &parent, "request completed");
        });
        assert_eq!(
            lines[0]["span"],
            json!({"request_id": "r-2", "name": "request"})
        );
    }

    #[test]
    fn an_event_outside_any_span_has_no_span_member() {
        let lines = logged(|| tracing::info!("alone"));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].get("span").is_none(), "{}", lines[0]);
        assert_eq!(lines[0]["message"], "alone");
    }
}
