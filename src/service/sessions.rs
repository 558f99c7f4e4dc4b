//! Sessions, in the seed design's steps: opening one (the session actor persists it, the
//! per-user cap holds), the access-token check every protected request makes, refresh
//! (extract → verify → check the session and account first → rotate last, detecting reuse →
//! new tokens), logout, ending sessions and listing them.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditKind, Outcome};
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::actors::session::user_ref;
use crate::actors::SessionMsg;
use crate::auth::tokens::AccessGrant;
use crate::auth::{sha256, AccessClaims};
use crate::domain::role::{scope_string, scopes_for};
use crate::domain::session::{NewSession, RotateOutcome, Validity};
use crate::domain::{AuthMethod, EndReason, Scope, SessionState, Tenant, User};

/// Tokens handed out by login and refresh, with whom they were issued to.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: u64,
    pub session_id: Uuid,
    pub refresh_token: String,
    /// The session's end: the refresh cookie's lifetime.
    pub refresh_expires_at: DateTime<Utc>,
    pub user: User,
    pub tenant: Tenant,
    /// The space-separated scopes the access token carries.
    pub scope: String,
    /// How the session's sign-in was made (the access token's `amr`).
    pub amr: Vec<AuthMethod>,
}

impl Core {
    /// Creates the session actor (persisted in both stores before this returns) and its
    /// tokens. The user's session cap holds at every moment: under the user's lock, the
    /// oldest sessions beyond room for this one end first, then the new one is stored; when
    /// room cannot be made (the stores failed), the login fails and no session is added.
    pub(super) async fn open_session(
        &self,
        user: User,
        tenant: Tenant,
        scopes: &BTreeSet<Scope>,
        amr: &[AuthMethod],
        meta: &RequestMeta,
    ) -> Result<IssuedTokens, ServiceError> {
        let now = Utc::now();
        let session_id = Uuid::new_v4();
        let lifetime = chrono::Duration::from_std(self.config.refresh_ttl)
            .map_err(|e| ServiceError::Unexpected(format!("REFRESH_TOKEN_TTL: {e}").into()))?;
        let expires_at = now + lifetime;
        let refresh_token = self.tokens.issue_refresh(user.id, session_id, now, expires_at)?;
        let new = NewSession {
            user_id: user.id,
            email: &user.email,
            tenant_id: tenant.id,
            roles: &user.roles,
            scope: scope_string(scopes),
            amr: amr.to_vec(),
            client_ip: meta.client_ip,
            user_agent: &meta.user_agent,
        };
        let state = SessionState::open(session_id, new, sha256(refresh_token.as_bytes()), now, lifetime);
        let (access_token, _) = self.tokens.issue_access(access_grant(&state), now)?;
        let lock = self.stores.db.lock_user(user.id).await?;
        self.make_room_for_session(user.id).await?;
        self.actors.sessions.call(&session_id, |reply| SessionMsg::Create(Box::new(state.clone()), reply)).await?;
        drop(lock);
        Ok(IssuedTokens {
            access_token,
            expires_in: self.tokens.access_ttl().as_secs(),
            session_id,
            refresh_token,
            refresh_expires_at: expires_at,
            scope: state.scope,
            amr: state.amr,
            user,
            tenant,
        })
    }

    /// Ends the user's oldest sessions so that one more stays within `MAX_SESSIONS_PER_USER`.
    /// Called under the user's lock.
    async fn make_room_for_session(&self, user_id: Uuid) -> Result<(), ServiceError> {
        let max = self.config.max_sessions_per_user as usize;
        let rows = self.stores.db.active_sessions_of(&user_ref(user_id)).await?;
        let excess = (rows.len() + 1).saturating_sub(max);
        for row in rows.iter().take(excess) {
            self.end_session(row.id, EndReason::SessionLimit, None).await?;
        }
        Ok(())
    }

    /// Ends a session through its actor; audited (with the session's tenant) when this call
    /// ended it. Answers whether it did.
    pub async fn end_session(
        &self,
        session_id: Uuid,
        reason: EndReason,
        meta: Option<&RequestMeta>,
    ) -> Result<Option<SessionState>, ServiceError> {
        let ended = self.actors.sessions.call(&session_id, |reply| SessionMsg::End(reason, reply)).await?;
        if let Some(state) = &ended {
            self.audit
                .record(AuditRecord {
                    event: AuditKind::SessionEnded,
                    outcome: Outcome::Success,
                    tenant_id: Some(state.tenant_id),
                    user_id: Some(state.user_id),
                    meta,
                    detail: json!({ "session_id": session_id, "reason": reason.as_str() }),
                })
                .await;
        }
        Ok(ended)
    }

    pub async fn snapshot(&self, session_id: Uuid) -> Result<Option<SessionState>, ServiceError> {
        Ok(self.actors.sessions.call(&session_id, SessionMsg::Snapshot).await?)
    }

    /// The seed's refresh steps 2–9 (step 1, extraction, is the handler's). Everything that
    /// can fail is done before the rotation, which is the last step: a failure never leaves a
    /// client whose token was spent without the new one (its retry would read as reuse).
    ///
    /// Every presentation is counted in `tradesage_refreshes_total` by its outcome.
    pub async fn refresh(&self, token: &str, meta: &RequestMeta) -> Result<IssuedTokens, ServiceError> {
        let result = self.refresh_inner(token, meta).await;
        let outcome = match &result {
            Ok(_) => "rotated",
            Err(ServiceError::TokenRotated) => "within_grace",
            Err(ServiceError::TokenReused) => "reused",
            Err(ServiceError::SessionRevoked) => "ended",
            Err(ServiceError::TokenExpired) => "expired",
            Err(ServiceError::SessionIpMismatch) => "ip_mismatch",
            Err(ServiceError::TokenInvalid | ServiceError::TokenMissing) => "invalid",
            Err(ServiceError::Unavailable(_)) => "unavailable",
            Err(_) => "error",
        };
        self.metrics.refreshes.with_label_values(&[outcome]).inc();
        result
    }

    async fn refresh_inner(&self, token: &str, meta: &RequestMeta) -> Result<IssuedTokens, ServiceError> {
        let claims = self.tokens.verify_refresh(token)?;
        let now = Utc::now();
        let state = self.snapshot(claims.session_id).await?.ok_or(ServiceError::TokenInvalid)?;
        if state.user_id != claims.user_id {
            return Err(ServiceError::TokenInvalid);
        }
        let user = self.stores.db.user_by_id(state.tenant_id, state.user_id).await?;
        let tenant = self.stores.db.tenant_by_id(state.tenant_id).await?;
        let (Some(user), Some(tenant)) = (user.filter(|u| u.is_active), tenant.filter(|t| t.is_active)) else {
            if state.is_active {
                self.end_session(state.session_id, EndReason::UserDisabled, Some(meta)).await?;
            }
            return Err(ServiceError::SessionRevoked);
        };
        // Scopes shrink at once when roles were reduced since login; they never grow beyond
        // the session's.
        let granted = scopes_for(&user.roles, tenant.is_platform());
        let scope: Vec<&str> = state.scope.split(' ').filter(|s| granted.iter().any(|g| g.as_str() == *s)).collect();
        let scope = scope.join(" ");
        let grant = AccessGrant {
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            scope: &scope,
            ..access_grant(&state)
        };
        let (access_token, _) = self.tokens.issue_access(grant, now)?;
        let expires_at = DateTime::<Utc>::from_timestamp(claims.exp, 0).ok_or(ServiceError::TokenInvalid)?;
        let new_refresh = self.tokens.issue_refresh(claims.user_id, claims.session_id, now, expires_at)?;
        let ip = self.config.session_ip_binding.then_some(meta.client_ip);
        let presented = sha256(token.as_bytes());
        let new_hash = sha256(new_refresh.as_bytes());
        let (outcome, state) = self
            .actors
            .sessions
            .call(&claims.session_id, |reply| SessionMsg::Rotate { presented, new_hash, ip, reply })
            .await?
            .ok_or(ServiceError::TokenInvalid)?;
        match outcome {
            RotateOutcome::Rotated => {}
            RotateOutcome::RotatedRecently => {
                self.metrics.refresh_reuse.with_label_values(&["within_grace"]).inc();
                return Err(ServiceError::TokenRotated);
            }
            RotateOutcome::Reused => {
                self.metrics.refresh_reuse.with_label_values(&["refused"]).inc();
                self.audit
                    .record(AuditRecord {
                        event: AuditKind::TokenReuseDetected,
                        outcome: Outcome::Failure,
                        tenant_id: Some(state.tenant_id),
                        user_id: Some(state.user_id),
                        meta: Some(meta),
                        detail: json!({ "session_id": state.session_id, "session_ended": true }),
                    })
                    .await;
                return Err(ServiceError::TokenReused);
            }
            RotateOutcome::Ended => return Err(ServiceError::SessionRevoked),
            RotateOutcome::Expired => return Err(ServiceError::TokenExpired),
            RotateOutcome::IpMismatch => return Err(ServiceError::SessionIpMismatch),
        }
        self.audit
            .record(AuditRecord {
                event: AuditKind::Refresh,
                outcome: Outcome::Success,
                tenant_id: Some(state.tenant_id),
                user_id: Some(state.user_id),
                meta: Some(meta),
                detail: json!({ "session_id": state.session_id }),
            })
            .await;
        Ok(IssuedTokens {
            access_token,
            expires_in: self.tokens.access_ttl().as_secs(),
            session_id: state.session_id,
            refresh_token: new_refresh,
            refresh_expires_at: state.expires_at,
            user,
            tenant,
            scope,
            amr: state.amr,
        })
    }

    /// The check every protected request makes: signature and claims (or the verified-token
    /// cache), then the session actor's verdict from memory.
    pub async fn authenticate(&self, token: &str) -> Result<Arc<AccessClaims>, ServiceError> {
        let outcome = self.authenticate_inner(token).await;
        let label = match &outcome {
            Ok(_) => "valid",
            Err(ServiceError::TokenExpired) => "expired",
            Err(ServiceError::SessionRevoked) => "session_revoked",
            Err(ServiceError::Unavailable(_)) => "unavailable",
            Err(_) => "invalid",
        };
        self.metrics.token_validations.with_label_values(&[label]).inc();
        outcome
    }

    async fn authenticate_inner(&self, token: &str) -> Result<Arc<AccessClaims>, ServiceError> {
        let claims = self.tokens.verify_access(token, Utc::now())?;
        let verdict = self.actors.sessions.call(&claims.session_id, |reply| SessionMsg::Validate(None, reply)).await?;
        match verdict {
            Some(Validity::Valid) => Ok(claims),
            Some(Validity::Expired) => Err(ServiceError::TokenExpired),
            Some(Validity::IpMismatch) => Err(ServiceError::SessionIpMismatch),
            Some(Validity::Ended) | None => Err(ServiceError::SessionRevoked),
        }
    }

    /// The session a refresh token belongs to (logout by cookie).
    pub fn session_of_refresh_token(&self, token: &str) -> Result<Uuid, ServiceError> {
        Ok(self.tokens.verify_refresh(token)?.session_id)
    }

    /// Ends a session on its user's request; audited with the session's tenant.
    pub async fn logout(&self, session_id: Uuid, meta: &RequestMeta) -> Result<(), ServiceError> {
        let Some(state) = self.end_session(session_id, EndReason::Logout, Some(meta)).await? else {
            // Already over: logging out again is not an event.
            return Ok(());
        };
        self.audit
            .record(AuditRecord {
                event: AuditKind::Logout,
                outcome: Outcome::Success,
                tenant_id: Some(state.tenant_id),
                user_id: Some(state.user_id),
                meta: Some(meta),
                detail: json!({ "session_id": session_id }),
            })
            .await;
        Ok(())
    }

    /// Ends every active session of `user_id` except `keep`; returns how many ended.
    pub async fn end_user_sessions(
        &self,
        user_id: Uuid,
        reason: EndReason,
        keep: Option<Uuid>,
        meta: Option<&RequestMeta>,
    ) -> Result<usize, ServiceError> {
        let rows = self.stores.db.active_sessions_of(&user_ref(user_id)).await?;
        let mut ended = 0;
        for row in rows.iter().filter(|r| Some(r.id) != keep) {
            if self.end_session(row.id, reason, meta).await?.is_some() {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Active sessions of a user, from their actors.
    pub async fn sessions_of(&self, user_id: Uuid) -> Result<Vec<SessionState>, ServiceError> {
        // A list: from the read replica when there is one (each state then from its actor).
        let rows = self.stores.read.active_sessions_of(&user_ref(user_id)).await?;
        let now = Utc::now();
        let mut sessions = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(state) = self.snapshot(row.id).await? {
                if state.is_active && state.expires_at > now && state.user_id == user_id {
                    sessions.push(state);
                }
            }
        }
        Ok(sessions)
    }
}

/// What an access token of `state` says.
pub fn access_grant(state: &SessionState) -> AccessGrant<'_> {
    AccessGrant {
        user_id: state.user_id,
        email: &state.email,
        tenant_id: state.tenant_id,
        roles: state.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        scope: &state.scope,
        session_id: state.session_id,
        amr: &state.amr,
    }
}
