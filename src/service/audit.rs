//! The audit trail: every security event as one structured log line and one stored row.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use uuid::Uuid;

use super::RequestMeta;
use crate::store::{AuditEvent, Database};

/// Records audit events.
#[derive(Clone)]
pub struct Audit {
    db: Arc<dyn Database>,
}

/// One event to record.
pub struct AuditRecord<'a> {
    pub event: &'a str,
    pub outcome: &'a str,
    pub tenant_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub meta: Option<&'a RequestMeta>,
    /// Extra facts; never a password, token or cookie.
    pub detail: Value,
}

impl Audit {
    pub fn new(db: Arc<dyn Database>) -> Self {
        Self { db }
    }

    /// Logs and stores `record`. A failed store write is logged, never returned: the request
    /// it describes has already happened.
    pub async fn record(&self, record: AuditRecord<'_>) {
        let event = AuditEvent {
            id: Uuid::now_v7(),
            at: Utc::now(),
            tenant_id: record.tenant_id,
            user_id: record.user_id,
            event: record.event.to_owned(),
            outcome: record.outcome.to_owned(),
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
        if let Err(e) = self.db.insert_audit(&event).await {
            tracing::error!(error = %e, event = %event.event, "audit row could not be stored");
        }
    }
}
