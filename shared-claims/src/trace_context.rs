//! W3C Trace Context on the verifier's calls to the issuer: a call made while handling a
//! request (a key fetched for an unknown `kid`) carries that request's trace; a call made in
//! the background (the scheduled refresh, the feed's connection) starts a trace of its own, so
//! that the issuer's log lines for it can still be found by one id.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use opentelemetry::Context;
use opentelemetry::trace::{SpanId, TraceContextExt, TraceFlags, TraceId};

/// The trace an outgoing call belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outgoing {
    pub(crate) trace_id: TraceId,
    parent_id: SpanId,
    flags: TraceFlags,
}

impl Outgoing {
    /// The current trace, or a new one outside any.
    pub(crate) fn current_or_new() -> Outgoing {
        let context = Context::current();
        let span = context.span();
        let current = span.span_context();
        if current.is_valid() {
            return Outgoing {
                trace_id: current.trace_id(),
                parent_id: current.span_id(),
                flags: current.trace_flags(),
            };
        }
        let mut bytes = [0u8; 24];
        // Without randomness the call still goes out, under an id of zeros that no one reads.
        let _ = SystemRandom::new().fill(&mut bytes);
        let (trace, span) = bytes.split_at(16);
        Outgoing {
            trace_id: TraceId::from_bytes(trace.try_into().unwrap_or_default()),
            parent_id: SpanId::from_bytes(span.try_into().unwrap_or_default()),
            flags: TraceFlags::NOT_SAMPLED,
        }
    }

    /// The `traceparent` header's value (version 00).
    pub(crate) fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id,
            self.parent_id,
            self.flags.to_u8()
        )
    }
}
