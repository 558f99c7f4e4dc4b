//! The audit trail: every security event as one structured log line and one stored row. The
//! kinds of event and their outcomes are closed enums, so a filter, a dashboard or a document
//! can only name events the server really writes.

use std::sync::Arc;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::RequestMeta;
use crate::store::{AuditEvent, Database};

/// Declares the kinds of audit event with their wire names, once.
macro_rules! audit_kinds {
    ($($(#[$doc:meta])* $kind:ident = $name:literal,)+) => {
        /// What happened: the `event` of an audit row.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum AuditKind {
            $($(#[$doc])* $kind,)+
        }

        impl AuditKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [AuditKind] = &[$(AuditKind::$kind,)+];

            /// The wire name (`event` in rows, filters and logs).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditKind::$kind => $name,)+
                }
            }

            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|kind| kind.as_str() == name)
            }
        }
    };
}

audit_kinds! {
    /// A self sign-up.
    Register = "register",
    /// A sign-in attempt; a failure's `detail.reason` says why.
    Login = "login",
    /// A failed sign-in reached the threshold and locked the account (`detail.step`).
    Lockout = "lockout",
    Refresh = "refresh",
    /// A spent refresh token came back after the grace window; its session was ended.
    TokenReuseDetected = "token_reuse_detected",
    /// A session ended (`detail.reason`: logout, revoked, token_reuse, session_limit, …).
    SessionEnded = "session_ended",
    Logout = "logout",
    ProfileUpdated = "profile_updated",
    PasswordChange = "password_change",
    AdminUserCreated = "admin_user_created",
    AdminUserUpdated = "admin_user_updated",
    AdminUnlock = "admin_unlock",
    AdminSessionEnded = "admin_session_ended",
    AdminOrderCancelled = "admin_order_cancelled",
    TenantCreated = "tenant_created",
    TenantUpdated = "tenant_updated",
    /// Two-factor enrolment began: a secret was handed out, pending its first code.
    MfaEnrolled = "mfa_enrolled",
    /// A first code confirmed the enrolment: two-factor is on.
    MfaConfirmed = "mfa_confirmed",
    /// The user turned two-factor off (password and code).
    MfaDisabled = "mfa_disabled",
    /// The user replaced the recovery codes.
    MfaRecoveryCodesRenewed = "mfa_recovery_codes_renewed",
    /// An admin turned a user's two-factor off (`detail.actor_id`).
    AdminMfaReset = "admin_mfa_reset",
    /// The second step of a sign-in; a failure's `detail.reason` says why.
    MfaVerify = "mfa_verify",
    /// A user made an API key (`detail.key_id`, `name`, `scopes`, `allowed_ips`, `expires_at`).
    ApiKeyCreated = "api_key_created",
    /// An API key was revoked by its owner or an admin (`detail.key_id`, `detail.actor_id`).
    ApiKeyRevoked = "api_key_revoked",
    /// A known API key was refused (`detail.reason`: wrong_secret, revoked, expired,
    /// ip_not_allowed, owner_disabled).
    ApiKeyRefused = "api_key_refused",
}

/// How it went: the `outcome` of an audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Outcome::Success, Outcome::Failure].into_iter().find(|o| o.as_str() == name)
    }
}

/// Records audit events. Rows go through one writer task that commits whatever has queued up
/// meanwhile in one transaction (group commit): under load a commit, and its fsync, is shared
/// by many requests, yet each request still waits until its own row is stored, so an
/// acknowledged request never loses its audit row.
#[derive(Clone)]
pub struct Audit {
    db: Arc<dyn Database>,
    queue: mpsc::Sender<Pending>,
}

/// The most rows one commit takes; more wait for the next.
const MAX_BATCH: usize = 256;

/// A row waiting for the writer, and who to tell once it is stored (or given up on).
struct Pending {
    event: AuditEvent,
    stored: oneshot::Sender<()>,
}

/// One event to record.
pub struct AuditRecord<'a> {
    pub event: AuditKind,
    pub outcome: Outcome,
    /// The tenant the event concerns, so that tenant's admins see it; `None` only when no
    /// tenant is known (a sign-in to a tenant that does not exist).
    pub tenant_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub meta: Option<&'a RequestMeta>,
    /// Extra facts; never a password, token or cookie.
    pub detail: Value,
}

impl Audit {
    /// Starts the writer task (so this needs a Tokio runtime); it ends with the last clone.
    pub fn new(db: Arc<dyn Database>) -> Self {
        let (queue, pending) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(db.clone(), pending));
        Self { db, queue }
    }

    /// Logs and stores `record`. A failed store write is logged, never returned: the request
    /// it describes has already happened.
    pub async fn record(&self, record: AuditRecord<'_>) {
        let event = AuditEvent {
            id: Uuid::now_v7(),
            at: Utc::now(),
            tenant_id: record.tenant_id,
            user_id: record.user_id,
            event: record.event.as_str().to_owned(),
            outcome: record.outcome.as_str().to_owned(),
            ip: record.meta.map(|m| m.client_ip.to_string()),
            user_agent: record.meta.map(|m| m.user_agent.clone()),
            request_id: record.meta.map(|m| m.request_id.clone()),
            detail: record.detail,
        };
        tracing::info!(
            target: "audit",
            event = %event.event,
            outcome = %event.outcome,
            tenant_id = %event.tenant_id.map(|id| id.to_string()).unwrap_or_default(),
            user_id = %event.user_id.map(|id| id.to_string()).unwrap_or_default(),
            ip = event.ip.as_deref().unwrap_or(""),
            request_id = event.request_id.as_deref().unwrap_or(""),
            detail = %event.detail,
            "audit"
        );
        let (stored, done) = oneshot::channel();
        match self.queue.send(Pending { event, stored }).await {
            // Told either way: stored, or given up on and logged by the writer.
            Ok(()) => {
                let _ = done.await;
            }
            // The writer is gone (shutting down): store it here.
            Err(mpsc::error::SendError(pending)) => store(&*self.db, std::slice::from_ref(&pending.event)).await,
        }
    }
}

/// The writer: takes every row that has queued up (up to [`MAX_BATCH`]), commits them
/// together, then releases their requests.
async fn write_batches(db: Arc<dyn Database>, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (events, waiting): (Vec<AuditEvent>, Vec<oneshot::Sender<()>>) =
            batch.drain(..).map(|pending| (pending.event, pending.stored)).unzip();
        store(&*db, &events).await;
        for request in waiting {
            let _ = request.send(());
        }
    }
}

/// Stores `events` in one commit. Should that fail, each is tried alone, so one row the
/// database refuses cannot take its batch-mates down with it; a row that still fails is
/// logged, never returned: the request it describes has already happened.
async fn store(db: &dyn Database, events: &[AuditEvent]) {
    if events.len() > 1 && db.insert_audit(events).await.is_ok() {
        return;
    }
    for event in events {
        if let Err(e) = db.insert_audit(std::slice::from_ref(event)).await {
            tracing::error!(error = %e, event = %event.event, "audit row could not be stored");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_the_serde_names_and_parse_back() {
        for kind in AuditKind::ALL {
            let serde_name = serde_json::to_value(kind).unwrap();
            assert_eq!(serde_name, kind.as_str());
            assert_eq!(AuditKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(AuditKind::parse("login_succeeded"), None);
        assert_eq!(Outcome::parse("failure"), Some(Outcome::Failure));
        assert_eq!(Outcome::parse("locked"), None);
    }
}
