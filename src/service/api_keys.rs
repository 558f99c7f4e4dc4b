//! API keys (API.md §5.3): making one (shown once), listing and revoking one's own, the admins'
//! list and revocation, and the check of a presented key — the key's actor answers from
//! memory, the owner's state comes from the user cache (dropped on every node when the user
//! changes), and the scopes are the key's intersected with the owner's current ones.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::admin::Acting;
use super::audit::{AuditKind, Outcome};
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::actors::ApiKeyMsg;
use crate::auth::AccessClaims;
use crate::domain::api_key::{
    check_expiry, grant_scopes, hash_secret, parse_allowed_ips, parse_key, parse_name, NewKey, MAX_ACTIVE_KEYS,
};
use crate::domain::role::{scope_string, scopes_for};
use crate::domain::{ApiKeyState, KeyVerdict};
use crate::store::ApiKeyRow;

/// The `token_type` of the claims an API key stands for (never a JWT's).
pub const API_KEY_TOKEN_TYPE: &str = "api_key";

/// `POST /users/me/api-keys`, as the client sent it.
pub struct NewApiKeyInput {
    pub name: String,
    pub scopes: Option<Vec<String>>,
    pub allowed_ips: Option<Vec<String>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a presented key was refused: the label of the metric and the audit's `reason`.
struct Refusal {
    error: ServiceError,
    outcome: &'static str,
}

impl Refusal {
    fn invalid(outcome: &'static str) -> Self {
        Self { error: ServiceError::TokenInvalid, outcome }
    }
}

impl From<ServiceError> for Refusal {
    fn from(error: ServiceError) -> Self {
        let outcome = if matches!(error, ServiceError::Unavailable(_)) { "unavailable" } else { "invalid" };
        Self { error, outcome }
    }
}

impl Core {
    /// Makes a key for the caller; answers its state and the key itself (the only time it is
    /// ever shown). 422 for a bad field or a scope the caller does not hold; 409 past
    /// [`MAX_ACTIVE_KEYS`].
    pub async fn create_api_key(
        &self,
        claims: &AccessClaims,
        input: NewApiKeyInput,
        meta: &RequestMeta,
    ) -> Result<(ApiKeyState, String), ServiceError> {
        let now = Utc::now();
        let (user, tenant) = self.me(claims).await?;
        let owner_scopes = scopes_for(&user.roles, tenant.is_platform());
        let name = parse_name(&input.name)?;
        let scopes = grant_scopes(&owner_scopes, input.scopes.as_deref())?;
        let allowed_ips = parse_allowed_ips(input.allowed_ips.as_deref().unwrap_or_default())?;
        check_expiry(input.expires_at, now)?;
        // Counting and adding happen as one step per user (across nodes on PostgreSQL).
        let lock = self.stores.db.lock_user(user.id).await?;
        let active = self.stores.db.count_active_api_keys(tenant.id, user.id, now).await?;
        if active >= MAX_ACTIVE_KEYS {
            return Err(ServiceError::Conflict(format!("at most {MAX_ACTIVE_KEYS} active API keys; revoke one first")));
        }
        let key = NewKey::generate();
        let state = ApiKeyState::new(&key, tenant.id, user.id, name, &scopes, allowed_ips, input.expires_at, now);
        self.actors.api_keys.call(&key.id, |reply| ApiKeyMsg::Create(Box::new(state.clone()), reply)).await?;
        drop(lock);
        self.audit
            .record(AuditRecord {
                event: AuditKind::ApiKeyCreated,
                outcome: Outcome::Success,
                tenant_id: Some(tenant.id),
                user_id: Some(user.id),
                meta: Some(meta),
                detail: json!({
                    "key_id": state.id,
                    "name": state.name,
                    "scopes": state.scopes,
                    "allowed_ips": state.allowed_ips,
                    "expires_at": state.expires_at,
                }),
            })
            .await;
        Ok((state, key.key))
    }

    /// The caller's keys that are not revoked, newest first.
    pub async fn my_api_keys(&self, claims: &AccessClaims) -> Result<Vec<ApiKeyState>, ServiceError> {
        self.api_keys_of(claims.tenant_id, claims.user_id).await
    }

    /// Revokes one of the caller's keys; 404 for another's, an unknown or a revoked one.
    pub async fn revoke_my_api_key(
        &self,
        claims: &AccessClaims,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        let row = self.stores.db.api_key(id).await?;
        let row = row.filter(|r| r.tenant_id == claims.tenant_id && r.user_id == claims.user_id);
        let row = row.ok_or(ServiceError::NotFound)?;
        self.revoke_api_key(&row, claims, meta).await
    }

    /// `GET /admin/users/{id}/api-keys`: a user's keys that are not revoked.
    pub async fn admin_api_keys(&self, acting: Acting<'_>, user_id: Uuid) -> Result<Vec<ApiKeyState>, ServiceError> {
        let (tenant, user) = self.target_user(acting, user_id).await?;
        self.api_keys_of(tenant.id, user.id).await
    }

    /// `DELETE /admin/api-keys/{id}`: a key of the tenant, else 404.
    pub async fn admin_revoke_api_key(
        &self,
        acting: Acting<'_>,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        let tenant = self.acting_tenant(acting).await?;
        let row = self.stores.db.api_key(id).await?.filter(|r| r.tenant_id == tenant.id);
        let row = row.ok_or(ServiceError::NotFound)?;
        self.revoke_api_key(&row, acting.claims, meta).await
    }

    /// Revokes through the key's actor (persisted, then announced so every node drops its
    /// copy); audited once, by whoever revoked it.
    async fn revoke_api_key(&self, row: &ApiKeyRow, by: &AccessClaims, meta: &RequestMeta) -> Result<(), ServiceError> {
        let revoked = self.actors.api_keys.call(&row.id, ApiKeyMsg::Revoke).await?;
        let Some(state) = revoked else { return Err(ServiceError::NotFound) };
        self.audit
            .record(AuditRecord {
                event: AuditKind::ApiKeyRevoked,
                outcome: Outcome::Success,
                tenant_id: Some(state.tenant_id),
                user_id: Some(state.user_id),
                meta: Some(meta),
                detail: json!({ "key_id": state.id, "actor_id": by.user_id, "actor_tenant_id": by.tenant_id }),
            })
            .await;
        Ok(())
    }

    /// A user's keys that are not revoked: the live actor's view where one runs (it knows the
    /// latest use), else the stored state.
    async fn api_keys_of(&self, tenant_id: Uuid, user_id: Uuid) -> Result<Vec<ApiKeyState>, ServiceError> {
        let rows = self.stores.db.api_keys_of(tenant_id, user_id).await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let live = match self.actors.api_keys.live(&row.id) {
                Some(_) => self.actors.api_keys.call(&row.id, ApiKeyMsg::Snapshot).await?,
                None => None,
            };
            let state = live.or_else(|| {
                let mut state = self.actors.ctx.open::<ApiKeyState>(&row.state)?;
                state.version = row.version;
                Some(state)
            });
            match state {
                Some(state) if state.revoked_at.is_none() => keys.push(state),
                Some(_) => {}
                None => tracing::warn!(key_id = %row.id, "a stored API key does not open; left out of the list"),
            }
        }
        Ok(keys)
    }

    /// The check of `Authorization: Bearer tsk_…`: the claims the key stands for, with the
    /// key's scopes that its owner still holds. 401 `token_invalid` for an unknown, revoked
    /// or expired key, a wrong secret or a disabled owner; 403 `ip_not_allowed`.
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
        meta: &RequestMeta,
    ) -> Result<Arc<AccessClaims>, ServiceError> {
        let outcome = self.authenticate_api_key_inner(presented, meta).await;
        let label = match &outcome {
            Ok(_) => "valid",
            Err(refusal) => refusal.outcome,
        };
        self.metrics.api_key_requests.with_label_values(&[label]).inc();
        outcome.map_err(|refusal| refusal.error)
    }

    async fn authenticate_api_key_inner(
        &self,
        presented: &str,
        meta: &RequestMeta,
    ) -> Result<Arc<AccessClaims>, Refusal> {
        let (id, secret) = parse_key(presented).ok_or(Refusal::invalid("invalid"))?;
        let hash = hash_secret(secret);
        let ip = meta.client_ip;
        let answer = self
            .actors
            .api_keys
            .call(&id, |reply| ApiKeyMsg::Validate { presented: hash, ip, reply })
            .await
            .map_err(ServiceError::from)?;
        let (verdict, grant) = answer.ok_or(Refusal::invalid("invalid"))?;
        let refused = |reason: &'static str| self.refused(grant.tenant_id, grant.user_id, id, reason, meta);
        match verdict {
            KeyVerdict::Valid => {}
            KeyVerdict::IpNotAllowed => {
                refused(verdict.as_str()).await;
                return Err(Refusal { error: ServiceError::IpNotAllowed, outcome: "ip_not_allowed" });
            }
            KeyVerdict::WrongSecret => {
                refused(verdict.as_str()).await;
                return Err(Refusal::invalid("invalid"));
            }
            KeyVerdict::Revoked | KeyVerdict::Expired => {
                refused(verdict.as_str()).await;
                return Err(Refusal::invalid(verdict.as_str()));
            }
        }
        // The owner as it is now: from the user cache, which every node empties of a user the
        // moment the user changes (roles, disabling), so this is no store round trip once warm.
        let db = &self.stores.db;
        let user = db.user_by_id(grant.tenant_id, grant.user_id).await.map_err(ServiceError::from)?;
        let tenant = db.tenant_by_id(grant.tenant_id).await.map_err(ServiceError::from)?;
        let (Some(user), Some(tenant)) = (user.filter(|u| u.is_active), tenant.filter(|t| t.is_active)) else {
            refused("owner_disabled").await;
            return Err(Refusal::invalid("owner_disabled"));
        };
        let owner_now = scopes_for(&user.roles, tenant.is_platform());
        let scopes = grant.scopes.intersection(&owner_now).copied().collect();
        let now = Utc::now().timestamp();
        Ok(Arc::new(AccessClaims {
            iss: crate::auth::tokens::ISSUER.into(),
            aud: crate::auth::tokens::AUDIENCE.into(),
            sub: user.id.to_string(),
            user_id: user.id,
            email: user.email,
            tenant_id: tenant.id,
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            scope: scope_string(&scopes),
            // A key is no session; its id stands where a token has the session's.
            session_id: grant.id,
            amr: Vec::new(),
            token_type: API_KEY_TOKEN_TYPE.into(),
            iat: now,
            nbf: now,
            exp: grant.expires_at.map_or(now + self.tokens.access_ttl().as_secs() as i64, |at| at.timestamp()),
            jti: grant.id,
        }))
    }

    async fn refused(&self, tenant_id: Uuid, user_id: Uuid, key_id: Uuid, reason: &str, meta: &RequestMeta) {
        self.audit
            .record(AuditRecord {
                event: AuditKind::ApiKeyRefused,
                outcome: Outcome::Failure,
                tenant_id: Some(tenant_id),
                user_id: Some(user_id),
                meta: Some(meta),
                detail: json!({ "key_id": key_id, "reason": reason }),
            })
            .await;
    }
}
