//! Logs and traces. `RUST_LOG` filters, `LOG_FORMAT` picks pretty or JSON lines, written to
//! stderr by a thread of their own (a slow terminal or log shipper never stalls a request). With
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, spans are also
//! exported over OTLP/HTTP; unset, no span is recorded for export at all.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::settings::LogFormat;

/// Keeps the log writer and the span exporter running; dropping it flushes both. Hold it until
/// the process ends.
#[must_use = "dropping it stops the log writer"]
pub struct Telemetry {
    _log_writer: Option<crate::log_writer::FlushOnDrop>,
    tracer: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Nothing to keep running: logging is someone else's (or off).
    fn inactive() -> Self {
        Telemetry {
            _log_writer: None,
            tracer: None,
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(tracer) = self.tracer.take() {
            let _ = tracer.shutdown();
        }
    }
}

/// Installs the global subscriber once; later calls (tests start many apps) change nothing.
/// `service` names the process in exported spans unless `OTEL_SERVICE_NAME` does.
pub fn init(format: LogFormat, service: &'static str) -> Telemetry {
    // Tests start many apps in one process: only the first installs, so the others start no
    // writer thread and no exporter only to drop them.
    if tracing::dispatcher::has_been_set() {
        return Telemetry::inactive();
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = match crate::log_writer::stderr() {
        Ok(started) => started,
        Err(error) => {
            eprintln!("cannot start the log writer thread: {error}");
            return Telemetry::inactive();
        }
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Json => fmt
            .event_format(crate::json_log::JsonLines)
            .fmt_fields(crate::json_log::JsonFields)
            .boxed(),
        LogFormat::Pretty => fmt.compact().boxed(),
    };
    let tracer = otlp_tracer(service);
    // Spans are exported down to info whatever RUST_LOG says: quieter logs must not cost the
    // traces.
    let export = tracer.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(service))
            .with_filter(LevelFilter::INFO)
    });
    let installed = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(export)
        .try_init()
        .is_ok();
    if !installed {
        return Telemetry::inactive();
    }
    if tracer.is_some() {
        crate::trace::set_exporting();
        tracing::info!("exporting spans over OTLP/HTTP");
    }
    Telemetry {
        _log_writer: Some(guard),
        tracer,
    }
}

/// The span exporter, when an OTLP endpoint is configured.
fn otlp_tracer(service: &'static str) -> Option<SdkTracerProvider> {
    let configured = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    if !configured {
        return None;
    }
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(error) => {
            // The subscriber is not installed yet: stderr is the only way to say it.
            eprintln!("OTLP span export is off: {error}");
            return None;
        }
    };
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service);
    }
    Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build(),
    )
}
