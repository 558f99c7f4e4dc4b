//! Authentication flows, in the seed design's steps: register; login (credentials → lockout →
//! session actor → tokens); refresh (extract → verify → session actor rotates, detecting
//! reuse → new tokens); the access-token check every protected request makes; logout and the
//! caller's sessions.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::actors::session::user_ref;
use crate::actors::{LockoutMsg, SessionMsg, Subject};
use crate::auth::tokens::AccessGrant;
use crate::auth::{sha256, AccessClaims};
use crate::domain::role::{narrow_scopes, scope_string, scopes_for};
use crate::domain::session::{RotateOutcome, Validity};
use crate::domain::tenant::DEFAULT_SLUG;
use crate::domain::{
    Email, EndReason, LockoutVerdict, Password, Role, Scope, SessionState, Tenant, User, ValidationError,
};

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub tenant: TenantRef,
    pub roles: Vec<Role>,
    pub scopes: Vec<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenantRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

impl UserView {
    /// The scopes a token actually carries (login may narrow them), not all the role grants.
    pub fn with_scope(mut self, scope: &str) -> Self {
        self.scopes = scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        self
    }

    pub fn new(user: &User, tenant: &Tenant) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            tenant: TenantRef { id: tenant.id, slug: tenant.slug.clone(), name: tenant.name.clone() },
            roles: user.roles.clone(),
            scopes: scopes_for(&user.roles, tenant.is_platform()).iter().map(|s| s.as_str().to_owned()).collect(),
            is_active: user.is_active,
            created_at: user.created_at,
        }
    }
}

/// Tokens handed out by login and refresh.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: u64,
    pub session_id: Uuid,
    pub refresh_token: String,
    /// The session's end: the refresh cookie's lifetime.
    pub refresh_expires_at: DateTime<Utc>,
    pub user: UserView,
}

pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
    pub tenant: Option<String>,
}

pub struct LoginInput {
    pub email: String,
    pub password: String,
    pub tenant: Option<String>,
    pub scope: Option<String>,
}

pub fn display_name(raw: Option<&str>, email: &Email) -> Result<String, ValidationError> {
    use crate::domain::text::{plain, Tabs};
    let raw = raw.map(|r| plain("display_name", r, Tabs::Allowed)).transpose()?;
    let name =
        raw.map(str::trim).filter(|n| !n.is_empty()).unwrap_or_else(|| email.as_str().split('@').next().unwrap_or(""));
    if name.chars().count() > 100 {
        return Err(ValidationError::new("display_name", "must be at most 100 characters"));
    }
    Ok(name.to_owned())
}

impl Core {
    pub async fn tenant_by_slug(&self, slug: Option<&str>) -> Result<Option<Tenant>, ServiceError> {
        Ok(self.stores.db.tenant_by_slug(slug.unwrap_or(DEFAULT_SLUG)).await?)
    }

    /// Creates a user in a tenant (registration, admin creation, CLI).
    pub async fn create_user(
        &self,
        tenant: &Tenant,
        email: &Email,
        password: &Password,
        display_name: String,
        roles: Vec<Role>,
    ) -> Result<User, ServiceError> {
        let now = Utc::now();
        let user = User {
            id: Uuid::now_v7(),
            tenant_id: tenant.id,
            email: email.as_str().to_owned(),
            display_name,
            password_hash: self.passwords.hash(password.expose()).await?,
            roles,
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        match self.stores.db.insert_user(&user).await {
            Ok(()) => Ok(user),
            Err(crate::store::StoreError::Conflict(_)) => {
                Err(ServiceError::Conflict("an account with this email already exists in this tenant".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn register(&self, input: RegisterInput, meta: &RequestMeta) -> Result<UserView, ServiceError> {
        let email = Email::parse(&input.email)?;
        let password = Password::parse_new(&input.password, "password")?;
        let name = display_name(input.display_name.as_deref(), &email)?;
        let tenant = self
            .tenant_by_slug(input.tenant.as_deref())
            .await?
            .filter(|t| t.is_active && t.allow_self_signup)
            .ok_or_else(|| ValidationError::new("tenant", "no tenant with this slug accepts sign-ups"))?;
        let user = self.create_user(&tenant, &email, &password, name, vec![Role::Viewer]).await?;
        self.audit
            .record(AuditRecord {
                event: "register",
                outcome: "success",
                tenant_id: Some(tenant.id),
                user_id: Some(user.id),
                meta: Some(meta),
                detail: json!({}),
            })
            .await;
        Ok(UserView::new(&user, &tenant))
    }

    async fn login_failed(&self, reason: &str, tenant_id: Option<Uuid>, user_id: Option<Uuid>, meta: &RequestMeta) {
        self.metrics.logins.with_label_values(&[reason]).inc();
        self.audit
            .record(AuditRecord {
                event: "login",
                outcome: "failure",
                tenant_id,
                user_id,
                meta: Some(meta),
                detail: json!({ "reason": reason }),
            })
            .await;
    }

    fn locked(verdict: LockoutVerdict) -> Option<ServiceError> {
        match verdict {
            LockoutVerdict::Locked { retry_after, .. } => Some(ServiceError::AccountLocked { retry_after }),
            LockoutVerdict::Open => None,
        }
    }

    pub async fn login(&self, input: LoginInput, meta: &RequestMeta) -> Result<IssuedTokens, ServiceError> {
        let email = Email::parse(&input.email)?;
        if input.password.is_empty() {
            return Err(ValidationError::new("password", "is required").into());
        }
        let Some(tenant) = self.tenant_by_slug(input.tenant.as_deref()).await? else {
            // No such tenant: spend the same bcrypt time as a wrong password would.
            self.passwords.verify(&input.password, None).await?;
            self.login_failed("invalid_credentials", None, None, meta).await;
            return Err(ServiceError::InvalidCredentials);
        };
        let subject = Subject { tenant_id: tenant.id, email: email.as_str().to_owned() };
        let key = subject.key();
        let verdict = self.actors.lockouts.call(&key, |reply| LockoutMsg::Check(subject.clone(), reply)).await??;
        if let Some(locked) = Self::locked(verdict) {
            self.login_failed("locked", Some(tenant.id), None, meta).await;
            return Err(locked);
        }
        let user = self.stores.db.user_by_email(tenant.id, email.as_str()).await?;
        // Longer than bcrypt reads: refused, never truncated, and counted like any wrong password.
        let usable = input.password.len() <= Password::MAX_BYTES;
        let candidate = if usable { input.password.as_str() } else { "" };
        let matched =
            self.passwords.verify(candidate, user.as_ref().map(|u| u.password_hash.as_str())).await? && usable;
        let user_id = user.as_ref().map(|u| u.id);
        let Some(user) = user.filter(|_| matched) else {
            let verdict =
                self.actors.lockouts.call(&key, |reply| LockoutMsg::RecordFailure(subject.clone(), reply)).await??;
            self.login_failed("invalid_credentials", Some(tenant.id), user_id, meta).await;
            if let Some(locked @ ServiceError::AccountLocked { .. }) = Self::locked(verdict) {
                if let LockoutVerdict::Locked { step, retry_after } = verdict {
                    self.audit
                        .record(AuditRecord {
                            event: "lockout",
                            outcome: "locked",
                            tenant_id: Some(tenant.id),
                            user_id,
                            meta: Some(meta),
                            detail: json!({ "step": step, "permanent": retry_after.is_none(), "retry_after_s": retry_after.map(|d| d.as_secs()) }),
                        })
                        .await;
                }
                return Err(locked);
            }
            return Err(ServiceError::InvalidCredentials);
        };
        let verdict =
            self.actors.lockouts.call(&key, |reply| LockoutMsg::RecordSuccess(subject.clone(), reply)).await??;
        if let Some(locked) = Self::locked(verdict) {
            self.login_failed("locked", Some(tenant.id), Some(user.id), meta).await;
            return Err(locked);
        }
        if !user.is_active || !tenant.is_active {
            self.login_failed("account_disabled", Some(tenant.id), Some(user.id), meta).await;
            return Err(ServiceError::AccountDisabled);
        }
        let granted = scopes_for(&user.roles, tenant.is_platform());
        let scopes = narrow_scopes(&granted, input.scope.as_deref())?;
        let issued = self.open_session(&user, &tenant, &scopes, meta).await?;
        self.metrics.logins.with_label_values(&["success"]).inc();
        self.audit
            .record(AuditRecord {
                event: "login",
                outcome: "success",
                tenant_id: Some(tenant.id),
                user_id: Some(user.id),
                meta: Some(meta),
                detail: json!({ "session_id": issued.session_id }),
            })
            .await;
        self.enforce_session_cap(user.id, issued.session_id).await;
        Ok(issued)
    }

    /// Creates the session actor (persisted in both stores before this returns) and its tokens.
    async fn open_session(
        &self,
        user: &User,
        tenant: &Tenant,
        scopes: &BTreeSet<Scope>,
        meta: &RequestMeta,
    ) -> Result<IssuedTokens, ServiceError> {
        let now = Utc::now();
        let session_id = Uuid::new_v4();
        let lifetime =
            chrono::Duration::from_std(self.config.refresh_ttl).map_err(|e| ServiceError::Unexpected(e.to_string()))?;
        let expires_at = now + lifetime;
        let refresh_token = self.tokens.issue_refresh(user.id, session_id, now, expires_at)?;
        let scope = scope_string(scopes);
        let state = SessionState {
            session_id,
            user_id: user.id,
            email: user.email.clone(),
            tenant_id: tenant.id,
            roles: user.roles.clone(),
            scope,
            client_ip: meta.client_ip,
            user_agent: meta.user_agent.chars().take(512).collect(),
            refresh_hash: sha256(refresh_token.as_bytes()),
            previous_hash: None,
            rotated_at: None,
            created_at: now,
            last_seen_at: now,
            expires_at,
            version: 1,
            is_active: true,
            end_reason: None,
        };
        let (access_token, _) = self.tokens.issue_access(access_grant(&state), now)?;
        let created =
            self.actors.sessions.call(&session_id, |reply| SessionMsg::Create(Box::new(state.clone()), reply)).await?;
        created?;
        Ok(IssuedTokens {
            access_token,
            expires_in: self.tokens.access_ttl().as_secs(),
            session_id,
            refresh_token,
            refresh_expires_at: expires_at,
            user: UserView::new(user, tenant).with_scope(&state.scope),
        })
    }

    /// Ends the user's oldest sessions beyond `MAX_SESSIONS_PER_USER`.
    async fn enforce_session_cap(&self, user_id: Uuid, keep: Uuid) {
        let max = self.config.max_sessions_per_user as usize;
        let Ok(rows) = self.stores.db.active_sessions_of(&user_ref(user_id)).await else { return };
        if rows.len() <= max {
            return;
        }
        let excess = rows.len() - max;
        for row in rows.iter().filter(|r| r.id != keep).take(excess) {
            self.end_session(row.id, EndReason::SessionLimit, None).await.ok();
        }
    }

    /// Ends a session through its actor; audited.
    pub async fn end_session(
        &self,
        session_id: Uuid,
        reason: EndReason,
        meta: Option<&RequestMeta>,
    ) -> Result<bool, ServiceError> {
        let ended = self.actors.sessions.call(&session_id, |reply| SessionMsg::End(reason, reply)).await??;
        if let Some(state) = &ended {
            self.audit
                .record(AuditRecord {
                    event: "session_ended",
                    outcome: "success",
                    tenant_id: Some(state.tenant_id),
                    user_id: Some(state.user_id),
                    meta,
                    detail: json!({ "session_id": session_id, "reason": reason.as_str() }),
                })
                .await;
        }
        Ok(ended.is_some())
    }

    pub async fn snapshot(&self, session_id: Uuid) -> Result<Option<SessionState>, ServiceError> {
        Ok(self.actors.sessions.call(&session_id, SessionMsg::Snapshot).await??)
    }

    /// The seed's refresh steps 2–9 (step 1, extraction, is the handler's).
    pub async fn refresh(&self, token: &str, meta: &RequestMeta) -> Result<IssuedTokens, ServiceError> {
        let claims = self.tokens.verify_refresh(token)?;
        let now = Utc::now();
        let expires_at = DateTime::<Utc>::from_timestamp(claims.exp, 0).ok_or(ServiceError::TokenInvalid)?;
        let new_refresh = self.tokens.issue_refresh(claims.user_id, claims.session_id, now, expires_at)?;
        let ip = self.config.session_ip_binding.then_some(meta.client_ip);
        let presented = sha256(token.as_bytes());
        let new_hash = sha256(new_refresh.as_bytes());
        let outcome = self
            .actors
            .sessions
            .call(&claims.session_id, |reply| SessionMsg::Rotate { presented, new_hash, ip, reply })
            .await??
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
                        event: "token_reuse_detected",
                        outcome: "session_ended",
                        tenant_id: None,
                        user_id: Some(claims.user_id),
                        meta: Some(meta),
                        detail: json!({ "session_id": claims.session_id }),
                    })
                    .await;
                return Err(ServiceError::TokenReused);
            }
            RotateOutcome::Ended => return Err(ServiceError::SessionRevoked),
            RotateOutcome::Expired => return Err(ServiceError::TokenExpired),
            RotateOutcome::IpMismatch => return Err(ServiceError::SessionIpMismatch),
        }
        let state = self.snapshot(claims.session_id).await?.ok_or(ServiceError::SessionRevoked)?;
        // Re-read the account: a disabled user or tenant gets no new tokens, and scopes shrink
        // at once when roles were reduced since login (they never grow beyond the session's).
        let user = self.stores.db.user_by_id(state.tenant_id, state.user_id).await?;
        let tenant = self.stores.db.tenant_by_id(state.tenant_id).await?;
        let (Some(user), Some(tenant)) = (user.filter(|u| u.is_active), tenant.filter(|t| t.is_active)) else {
            self.end_session(state.session_id, EndReason::UserDisabled, Some(meta)).await?;
            return Err(ServiceError::SessionRevoked);
        };
        let granted = scopes_for(&user.roles, tenant.is_platform());
        let scope: Vec<&str> = state.scope.split(' ').filter(|s| granted.iter().any(|g| g.as_str() == *s)).collect();
        let scope = scope.join(" ");
        let grant = AccessGrant {
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            scope: &scope,
            ..access_grant(&state)
        };
        let (access_token, _) = self.tokens.issue_access(grant, now)?;
        self.audit
            .record(AuditRecord {
                event: "refresh",
                outcome: "success",
                tenant_id: Some(state.tenant_id),
                user_id: Some(state.user_id),
                meta: Some(meta),
                detail: json!({ "session_id": state.session_id }),
            })
            .await;
        let user = UserView::new(&user, &tenant).with_scope(&scope);
        Ok(IssuedTokens {
            access_token,
            expires_in: self.tokens.access_ttl().as_secs(),
            session_id: state.session_id,
            refresh_token: new_refresh,
            refresh_expires_at: state.expires_at,
            user,
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
        let verdict =
            self.actors.sessions.call(&claims.session_id, |reply| SessionMsg::Validate(None, reply)).await??;
        match verdict {
            Some(Validity::Valid) => Ok(claims),
            Some(Validity::Expired) => Err(ServiceError::TokenExpired),
            Some(Validity::IpMismatch) => Err(ServiceError::SessionIpMismatch),
            Some(Validity::Ended) | None => Err(ServiceError::SessionRevoked),
        }
    }

    /// Ends the session a refresh token belongs to (logout by cookie).
    pub async fn session_of_refresh_token(&self, token: &str) -> Result<Uuid, ServiceError> {
        Ok(self.tokens.verify_refresh(token)?.session_id)
    }

    pub async fn logout(
        &self,
        session_id: Uuid,
        user_id: Option<Uuid>,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        self.end_session(session_id, EndReason::Logout, Some(meta)).await?;
        self.audit
            .record(AuditRecord {
                event: "logout",
                outcome: "success",
                tenant_id: None,
                user_id,
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
            if self.end_session(row.id, reason, meta).await? {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Active sessions of a user, from their actors.
    pub async fn sessions_of(&self, user_id: Uuid) -> Result<Vec<SessionState>, ServiceError> {
        let rows = self.stores.db.active_sessions_of(&user_ref(user_id)).await?;
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

pub fn access_grant(state: &SessionState) -> AccessGrant<'_> {
    AccessGrant {
        user_id: state.user_id,
        email: &state.email,
        tenant_id: state.tenant_id,
        roles: state.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        scope: &state.scope,
        session_id: state.session_id,
    }
}
