//! One test binary for the crate: the verifier's rejections, the key cache against a JWKS server
//! the test controls, the axum extractor, and properties of the verifier.

// Tests fail loudly by design: unwrap, expect and panic are how a test says "this must hold".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod cache;
mod extractor;
mod feed;
mod helpers;
mod properties;
mod rejections;
