//! The flows handlers call in one step: authentication (login, two-factor, refresh, logout,
//! sessions), users, administration, tenants, orders, and the operators' health and actor
//! views. Here the actors, stores and crypto meet; HTTP does not.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod circuits;
pub mod error;
pub mod health;
pub mod mfa;
pub mod mfa_login;
pub mod operators;
pub mod orders;
pub mod sessions;
pub mod signing_keys;
pub mod tenants;
pub mod users;

use std::net::IpAddr;
use std::sync::Arc;

pub use audit::{Audit, AuditKind, AuditRecord, Outcome};
pub use error::ServiceError;

use crate::actors::cluster::ClusterView;
use crate::actors::ActorSystem;
use crate::auth::{PasswordHasher, TokenIssuer};
use crate::config::Config;
use crate::store::Stores;
use crate::telemetry::Metrics;

/// Everything a request may need, shared by every handler.
pub struct Core {
    pub config: Arc<Config>,
    pub stores: Stores,
    pub actors: Arc<ActorSystem>,
    pub tokens: Arc<TokenIssuer>,
    pub passwords: Arc<PasswordHasher>,
    pub metrics: Arc<Metrics>,
    pub audit: Audit,
    /// This node's name in the operators' view.
    pub node: String,
    /// What this node heard of every node's actors (the cluster view and its history).
    pub cluster: Arc<ClusterView>,
}

/// Who is asking, as far as the network tells.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub client_ip: IpAddr,
    pub user_agent: String,
    pub request_id: String,
}
