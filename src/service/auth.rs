//! Sign-up and sign-in, in the seed design's login steps: credentials → lockout → session
//! actor → tokens (or, with two-factor on, a pending sign-in: see `mfa_login`); and the one
//! "check a password under the lockout" step that login, the password change and the
//! two-factor settings share. Sessions themselves (refresh, logout, listing) are in `sessions`.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditKind, Outcome};
use super::sessions::IssuedTokens;
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::actors::{LockoutMsg, Subject};
use crate::domain::role::{narrow_scopes, scopes_for};
use crate::domain::tenant::DEFAULT_SLUG;
use crate::domain::{AuthMethod, Email, LockoutVerdict, Password, Role, Tenant, TokenDelivery, User, ValidationError};

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
    /// Where the refresh token goes, now or (two-factor on) once the code is right.
    pub delivery: TokenDelivery,
}

/// What a login answers: a session's tokens, or — two-factor on — a pending sign-in that a
/// code finishes (`POST /auth/mfa/verify`).
#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(Box<IssuedTokens>),
    MfaRequired(PendingSignIn),
}

/// A pending two-factor sign-in, as the client gets it.
#[derive(Debug)]
pub struct PendingSignIn {
    /// Opaque and random; the server keeps only its hash.
    pub mfa_token: String,
    /// Seconds it stays open.
    pub expires_in: u64,
}

/// What checking a password under the lockout of its (tenant, email) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordVerdict {
    /// The right password, and the account is not locked: the failure count is cleared
    /// (not yet by [`Core::check_first_factor`]: a code is still to come).
    Accepted,
    /// A wrong password (or no such account), counted; `lock` when this failure locked it.
    Rejected { lock: Option<Lock> },
    /// Locked: refused before the password was looked at, nothing counted.
    Locked(Lock),
}

/// A lock in force: its ladder step (1-based) and how long it lasts (`None`: permanent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock {
    pub step: u32,
    pub retry_after: Option<std::time::Duration>,
}

impl Lock {
    pub(super) fn of(verdict: LockoutVerdict) -> Option<Self> {
        match verdict {
            LockoutVerdict::Locked { step, retry_after } => Some(Lock { step, retry_after }),
            LockoutVerdict::Open => None,
        }
    }
}

impl From<Lock> for ServiceError {
    fn from(lock: Lock) -> Self {
        ServiceError::AccountLocked { retry_after: lock.retry_after }
    }
}

/// A display name: trimmed, the email's local part when absent, at most 100 characters.
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
            mfa_enabled: false,
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

    pub async fn register(&self, input: RegisterInput, meta: &RequestMeta) -> Result<(User, Tenant), ServiceError> {
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
                event: AuditKind::Register,
                outcome: Outcome::Success,
                tenant_id: Some(tenant.id),
                user_id: Some(user.id),
                meta: Some(meta),
                detail: json!({}),
            })
            .await;
        Ok((user, tenant))
    }

    /// Checks `password` against `hash` (`None`: no such account — the same bcrypt time is
    /// spent, so timing tells nothing) under the lockout of `subject`. A password longer than
    /// bcrypt reads is refused, never truncated, and counted like any wrong one.
    pub async fn check_password(
        &self,
        subject: &Subject,
        password: &str,
        hash: Option<&str>,
    ) -> Result<PasswordVerdict, ServiceError> {
        self.check_password_under_lockout(subject, password, hash, true).await
    }

    /// [`check_password`](Self::check_password) as the first of two factors: a right password
    /// leaves the failure count alone, which only the second factor's success clears. Were it
    /// cleared here, someone holding the password could try four codes, sign in again (count
    /// back to zero), try four more, and never be locked out.
    pub async fn check_first_factor(
        &self,
        subject: &Subject,
        password: &str,
        hash: Option<&str>,
    ) -> Result<PasswordVerdict, ServiceError> {
        self.check_password_under_lockout(subject, password, hash, false).await
    }

    async fn check_password_under_lockout(
        &self,
        subject: &Subject,
        password: &str,
        hash: Option<&str>,
        clear_on_success: bool,
    ) -> Result<PasswordVerdict, ServiceError> {
        let key = subject.key();
        let verdict = self.actors.lockouts.call(&key, |reply| LockoutMsg::Check(subject.clone(), reply)).await?;
        if let Some(lock) = Lock::of(verdict) {
            return Ok(PasswordVerdict::Locked(lock));
        }
        let usable = password.len() <= Password::MAX_BYTES;
        let candidate = if usable { password } else { "" };
        let matched = self.passwords.verify(candidate, hash).await? && usable && hash.is_some();
        if !matched {
            let verdict =
                self.actors.lockouts.call(&key, |reply| LockoutMsg::RecordFailure(subject.clone(), reply)).await?;
            return Ok(PasswordVerdict::Rejected { lock: Lock::of(verdict) });
        }
        if !clear_on_success {
            return Ok(PasswordVerdict::Accepted);
        }
        let verdict =
            self.actors.lockouts.call(&key, |reply| LockoutMsg::RecordSuccess(subject.clone(), reply)).await?;
        // A lock set meanwhile (another node) still refuses.
        Ok(Lock::of(verdict).map_or(PasswordVerdict::Accepted, PasswordVerdict::Locked))
    }

    async fn login_failed(&self, reason: &str, tenant_id: Option<Uuid>, user_id: Option<Uuid>, meta: &RequestMeta) {
        self.audit
            .record(AuditRecord {
                event: AuditKind::Login,
                outcome: Outcome::Failure,
                tenant_id,
                user_id,
                meta: Some(meta),
                detail: json!({ "reason": reason }),
            })
            .await;
    }

    /// Audits a lock that a failed password or code just set.
    pub(super) async fn record_lock(&self, lock: Lock, tenant_id: Uuid, user_id: Option<Uuid>, meta: &RequestMeta) {
        self.audit
            .record(AuditRecord {
                event: AuditKind::Lockout,
                outcome: Outcome::Failure,
                tenant_id: Some(tenant_id),
                user_id,
                meta: Some(meta),
                detail: json!({
                    "step": lock.step,
                    "permanent": lock.retry_after.is_none(),
                    "retry_after_s": lock.retry_after.map(|d| d.as_secs()),
                }),
            })
            .await;
    }

    /// Signs in; every attempt that reaches here is counted in `tradesage_login_attempts_total`
    /// by its outcome, refused input included.
    pub async fn login(&self, input: LoginInput, meta: &RequestMeta) -> Result<LoginOutcome, ServiceError> {
        let result = self.login_inner(input, meta).await;
        let outcome = match &result {
            Ok(LoginOutcome::SignedIn(_)) => "success",
            Ok(LoginOutcome::MfaRequired(_)) => "mfa_required",
            Err(ServiceError::InvalidCredentials) => "invalid_credentials",
            Err(ServiceError::AccountLocked { .. }) => "locked",
            Err(ServiceError::AccountDisabled) => "account_disabled",
            Err(ServiceError::Validation(_)) => "invalid_request",
            Err(ServiceError::Unavailable(_)) => "unavailable",
            Err(_) => "error",
        };
        self.metrics.logins.with_label_values(&[outcome]).inc();
        result
    }

    async fn login_inner(&self, input: LoginInput, meta: &RequestMeta) -> Result<LoginOutcome, ServiceError> {
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
        let user = self.stores.db.user_by_email(tenant.id, email.as_str()).await?;
        let user_id = user.as_ref().map(|u| u.id);
        let hash = user.as_ref().map(|u| u.password_hash.as_str());
        let second_factor = user.as_ref().is_some_and(|u| u.mfa_enabled);
        let verdict = if second_factor {
            self.check_first_factor(&subject, &input.password, hash).await?
        } else {
            self.check_password(&subject, &input.password, hash).await?
        };
        let user = match verdict {
            PasswordVerdict::Accepted => user.ok_or(ServiceError::InvalidCredentials)?,
            PasswordVerdict::Locked(lock) => {
                self.login_failed("locked", Some(tenant.id), user_id, meta).await;
                return Err(lock.into());
            }
            PasswordVerdict::Rejected { lock } => {
                self.login_failed("invalid_credentials", Some(tenant.id), user_id, meta).await;
                let Some(lock) = lock else { return Err(ServiceError::InvalidCredentials) };
                self.record_lock(lock, tenant.id, user_id, meta).await;
                return Err(lock.into());
            }
        };
        if !user.is_active || !tenant.is_active {
            self.login_failed("account_disabled", Some(tenant.id), Some(user.id), meta).await;
            return Err(ServiceError::AccountDisabled);
        }
        let granted = scopes_for(&user.roles, tenant.is_platform());
        let scopes = narrow_scopes(&granted, input.scope.as_deref())?;
        if user.mfa_enabled {
            let pending = self.begin_second_factor(&user, input.scope, input.delivery).await?;
            return Ok(LoginOutcome::MfaRequired(pending));
        }
        let issued = self.open_session(user, tenant, &scopes, &[AuthMethod::Pwd], meta).await?;
        self.signed_in(&issued, meta).await;
        Ok(LoginOutcome::SignedIn(Box::new(issued)))
    }

    /// Audits a sign-in that opened a session (after the password, or after the second step).
    pub(super) async fn signed_in(&self, issued: &IssuedTokens, meta: &RequestMeta) {
        self.audit
            .record(AuditRecord {
                event: AuditKind::Login,
                outcome: Outcome::Success,
                tenant_id: Some(issued.tenant.id),
                user_id: Some(issued.user.id),
                meta: Some(meta),
                detail: json!({ "session_id": issued.session_id, "amr": issued.amr }),
            })
            .await;
    }
}
