//! Tradesage: the authentication and session server of a trading platform.
//!
//! Layout (dependencies point one way: `http → service → actors → store`; everyone may use
//! `domain` and `auth`):
//!
//! - [`config`]: the environment, parsed once into a validated [`config::Config`].
//! - [`domain`]: plain types — users, tenants, roles and scopes, session and lockout state.
//! - [`auth`]: ES256 tokens and the key ring, bcrypt off the async runtime, Fernet cipher.
//! - [`store`]: the durable database (PostgreSQL or SQLite) and the cache (Redis or
//!   in-process), behind traits, with a circuit breaker in front of the cache.
//! - [`actors`]: the supervision tree; every live session and every lockout counter is a
//!   virtual actor that owns its encrypted state and persists it write-through.
//! - [`service`]: the flows (login, refresh, admin actions) that handlers call in one step.
//! - [`http`]: the axum router, middleware, extractors and problem+json errors.
//! - [`app`]: builds all of the above from a `Config` and serves it.
//! - [`allocator`]: idle worker threads give their cached free memory back.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::await_holding_lock)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod actors;
pub mod allocator;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod service;
pub mod store;
pub mod telemetry;
