//! The integration tests: one binary, a module per area. Every test that talks to the server
//! runs twice — on the embedded backends (SQLite + in-process cache) and on PostgreSQL + Redis
//! — each time with its own database and its own Redis key space (see `helpers`).

mod helpers;

mod account_integrity;
mod actors;
mod admin;
mod api_keys;
mod audit;
mod auth;
mod config;
mod envelope;
mod forwarded;
mod gateway;
mod health;
mod hostile;
mod key_ring;
mod keys;
mod limits;
mod lockout;
mod mfa;
mod openapi;
mod operations;
mod operators;
mod orders;
mod proxy;
mod read_replica;
mod redis_ha;
mod redis_procs;
mod scale_out;
mod session_integrity;
mod store_contract;
mod tenants;
mod users;
