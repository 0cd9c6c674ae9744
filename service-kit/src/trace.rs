//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): a request continues its caller's
//! trace (`traceparent`, `tracestate`) or starts one; the trace id is a field of the request's
//! span, so every log line of the request carries it; calls made on the request's behalf carry
//! it on. With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the spans are also exported
//! ([`crate::telemetry`]); without it, none are recorded and the context is only passed on.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::HeaderMap;
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Whether spans go to an OTLP collector (set once, at start).
static EXPORTING: AtomicBool = AtomicBool::new(false);

pub(crate) fn set_exporting() {
    EXPORTING.store(true, Ordering::Relaxed);
}

/// A request's place in a trace, read from its headers before its span exists. Without export
/// the trace id is known at once, so the span is created with it: a field recorded later would
/// make the JSON log format parse and re-serialise the span's fields on every request.
pub(crate) struct RequestTrace {
    parent: Context,
    /// The request's own context when nothing is exported.
    local: Option<Context>,
}

/// The trace a request continues: its caller's `traceparent` when valid, else a new one.
pub(crate) fn request_trace(headers: &HeaderMap) -> RequestTrace {
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    let local = (!EXPORTING.load(Ordering::Relaxed)).then(|| child_of(&parent));
    RequestTrace { parent, local }
}

impl RequestTrace {
    /// The trace id, when it is known before the span (nothing is exported).
    pub(crate) fn trace_id(&self) -> Option<TraceId> {
        self.local
            .as_ref()
            .map(|context| context.span().span_context().trace_id())
    }

    /// The context the request's `span` runs in. When exporting, the exporting layer gives the
    /// span its own id under the caller's trace, and the trace id is recorded on it now.
    pub(crate) fn attach(self, span: &tracing::Span) -> Context {
        if let Some(context) = self.local {
            return context;
        }
        let _ = span.set_parent(self.parent);
        let context = span.context();
        span.record(
            "trace_id",
            tracing::field::display(context.span().span_context().trace_id()),
        );
        context
    }
}

/// A span context under `parent`'s trace (or a new trace) with a fresh span id, recorded
/// nowhere: the context requests carry on when nothing is exported.
fn child_of(parent: &Context) -> Context {
    let ids = RandomIdGenerator::default();
    let parent_span = parent.span();
    let parent = parent_span.span_context();
    let (trace_id, flags, state) = if parent.is_valid() {
        (
            parent.trace_id(),
            parent.trace_flags(),
            parent.trace_state().clone(),
        )
    } else {
        (
            ids.new_trace_id(),
            TraceFlags::NOT_SAMPLED,
            TraceState::default(),
        )
    };
    Context::new().with_remote_span_context(SpanContext::new(
        trace_id,
        ids.new_span_id(),
        flags,
        false,
        state,
    ))
}

/// Adds `traceparent` (and `tracestate`) of the current trace to an outgoing request's headers;
/// nothing outside a trace.
pub fn inject_current(headers: &mut HeaderMap) {
    TraceContextPropagator::new().inject_context(&Context::current(), &mut HeaderInjector(headers));
}

/// The trace of the work under way, carried to another task (a queue's worker): what runs with
/// it logs under the same span and passes the same trace on.
#[derive(Debug, Clone)]
pub struct Carried {
    span: tracing::Span,
    context: Context,
}

impl Carried {
    /// The current span and trace.
    pub fn current() -> Self {
        Carried {
            span: tracing::Span::current(),
            context: Context::current(),
        }
    }

    /// Runs `work` inside the carried span and trace.
    pub fn run<F: Future>(self, work: F) -> impl Future<Output = F::Output> {
        work.with_context(self.context).instrument(self.span)
    }
}

/// Runs a request's handling inside its span and trace context.
pub(crate) fn in_request<F: Future>(
    work: F,
    span: tracing::Span,
    context: Context,
) -> impl Future<Output = F::Output> {
    work.with_context(context).instrument(span)
}
