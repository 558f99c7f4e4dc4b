//! The caller's two-factor settings (API.md §5.2): enrolment (a secret, pending), confirmation
//! with a first code (on, with ten recovery codes), turning it off (password and code), new
//! recovery codes; the one "check a code under the lockout" step they and the sign-in share;
//! and the `require_mfa` rule every authenticated request goes through.
//!
//! Passwords go through [`Core::check_password`]; wrong codes count toward the same lockout of
//! (tenant, email) as wrong passwords. The state itself is changed through the persistence
//! core ([`Persisted`]): one compare-and-set per change, so two nodes cannot both accept one
//! code.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditKind, Outcome};
use super::auth::{Lock, PasswordVerdict};
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::actors::{LockoutMsg, Persisted, Subject};
use crate::auth::AccessClaims;
use crate::domain::mfa::{parse_code, parse_recovery_code, Confirmation, TotpCheck, TotpSecret};
use crate::domain::{MfaState, Tenant, User, ValidationError};

/// A second factor as the client sent it: a TOTP code or a recovery code.
pub enum SecondFactor {
    Totp(String),
    /// Normalised (see [`parse_recovery_code`]).
    RecoveryCode(String),
}

impl SecondFactor {
    /// Exactly one of `code` and `recovery_code`, well formed; else 422 naming the field.
    pub fn parse(code: Option<String>, recovery_code: Option<String>) -> Result<Self, ValidationError> {
        match (code, recovery_code) {
            (Some(code), None) => Ok(Self::Totp(parse_code(&code, "code")?)),
            (None, Some(code)) => Ok(Self::RecoveryCode(parse_recovery_code(&code, "recovery_code")?)),
            (Some(_), Some(_)) => Err(ValidationError::new("code", "send either `code` or `recovery_code`, not both")),
            (None, None) => Err(ValidationError::new("code", "is required (or `recovery_code`)")),
        }
    }

    /// The method's name in audit rows.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Totp(_) => "totp",
            Self::RecoveryCode(_) => "recovery_code",
        }
    }
}

/// What a code did to the stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeUse {
    Accepted,
    Replayed,
    Invalid,
    /// Two-factor is not on: there is nothing to check a code against.
    NotEnabled,
}

/// What checking a code under the lockout of its (tenant, email) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CodeVerdict {
    /// Right and unused (now used); the failure count is cleared.
    Accepted,
    /// Wrong or used before, counted; `lock` when this failure locked the account.
    Rejected {
        lock: Option<Lock>,
    },
    /// Locked: refused before the code was looked at, nothing counted.
    Locked(Lock),
    NotEnabled,
}

/// What an enrolment hands out.
pub struct Enrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_uri: String,
}

impl Core {
    /// Counts a two-factor check in `tradesage_mfa_checks_total`.
    pub(super) fn count_mfa_check(&self, outcome: &str) {
        self.metrics.mfa_checks.with_label_values(&[outcome]).inc();
    }

    /// Checks `factor` against the user's two-factor state and uses it when right (the TOTP
    /// step, or the recovery code).
    async fn use_code(&self, user_id: Uuid, factor: &SecondFactor) -> Result<CodeUse, ServiceError> {
        let now = Utc::now();
        let used = Persisted::<MfaState>::new(user_id)
            .change(
                &self.actors.ctx,
                || None,
                |state| {
                    if !state.is_enabled() {
                        return (false, CodeUse::NotEnabled);
                    }
                    let outcome = match factor {
                        SecondFactor::Totp(code) => match state.accept_totp(code, now) {
                            TotpCheck::Accepted(_) => CodeUse::Accepted,
                            TotpCheck::Replayed => CodeUse::Replayed,
                            TotpCheck::Invalid => CodeUse::Invalid,
                        },
                        SecondFactor::RecoveryCode(code) if state.accept_recovery_code(code) => CodeUse::Accepted,
                        SecondFactor::RecoveryCode(_) => CodeUse::Invalid,
                    };
                    (outcome == CodeUse::Accepted, outcome)
                },
            )
            .await?;
        Ok(used.unwrap_or(CodeUse::NotEnabled))
    }

    /// The "check a code under the lockout" step: refused at once while locked; a wrong (or
    /// replayed) code counts like a wrong password; a right one clears the count.
    pub(super) async fn check_code(
        &self,
        subject: &Subject,
        user_id: Uuid,
        factor: &SecondFactor,
    ) -> Result<CodeVerdict, ServiceError> {
        let key = subject.key();
        let verdict = self.actors.lockouts.call(&key, |reply| LockoutMsg::Check(subject.clone(), reply)).await?;
        if let Some(lock) = Lock::of(verdict) {
            self.count_mfa_check("locked");
            return Ok(CodeVerdict::Locked(lock));
        }
        let used = self.use_code(user_id, factor).await?;
        match used {
            CodeUse::NotEnabled => Ok(CodeVerdict::NotEnabled),
            CodeUse::Accepted => {
                let verdict =
                    self.actors.lockouts.call(&key, |reply| LockoutMsg::RecordSuccess(subject.clone(), reply)).await?;
                self.count_mfa_check("success");
                // A lock set meanwhile (another node) still refuses.
                Ok(Lock::of(verdict).map_or(CodeVerdict::Accepted, CodeVerdict::Locked))
            }
            CodeUse::Replayed | CodeUse::Invalid => {
                self.count_mfa_check(if used == CodeUse::Replayed { "replayed" } else { "invalid" });
                let verdict =
                    self.actors.lockouts.call(&key, |reply| LockoutMsg::RecordFailure(subject.clone(), reply)).await?;
                Ok(CodeVerdict::Rejected { lock: Lock::of(verdict) })
            }
        }
    }

    async fn record_mfa(
        &self,
        event: AuditKind,
        outcome: Outcome,
        user: &User,
        meta: &RequestMeta,
        detail: serde_json::Value,
    ) {
        self.audit
            .record(AuditRecord {
                event,
                outcome,
                tenant_id: Some(user.tenant_id),
                user_id: Some(user.id),
                meta: Some(meta),
                detail,
            })
            .await;
    }

    /// A password check for a two-factor setting. `first_of_two`: a code follows, so a right
    /// password does not clear the failure count yet.
    async fn settings_password(
        &self,
        event: AuditKind,
        user: &User,
        password: &str,
        first_of_two: bool,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        if password.is_empty() {
            return Err(ValidationError::new("password", "is required").into());
        }
        let subject = Subject { tenant_id: user.tenant_id, email: user.email.clone() };
        let hash = Some(user.password_hash.as_str());
        let verdict = if first_of_two {
            self.check_first_factor(&subject, password, hash).await?
        } else {
            self.check_password(&subject, password, hash).await?
        };
        match verdict {
            PasswordVerdict::Accepted => Ok(()),
            PasswordVerdict::Locked(lock) => Err(lock.into()),
            PasswordVerdict::Rejected { lock } => {
                self.record_mfa(event, Outcome::Failure, user, meta, json!({ "reason": "wrong_password" })).await;
                match lock {
                    Some(lock) => {
                        self.record_lock(lock, user.tenant_id, Some(user.id), meta).await;
                        Err(lock.into())
                    }
                    None => Err(ValidationError::new("password", "is not your password").into()),
                }
            }
        }
    }

    /// A code check for a two-factor setting; a wrong code answers 401 `mfa_invalid`.
    async fn settings_code(
        &self,
        event: AuditKind,
        user: &User,
        factor: &SecondFactor,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        let subject = Subject { tenant_id: user.tenant_id, email: user.email.clone() };
        match self.check_code(&subject, user.id, factor).await? {
            CodeVerdict::Accepted => Ok(()),
            CodeVerdict::Locked(lock) => Err(lock.into()),
            CodeVerdict::NotEnabled => Err(not_on()),
            CodeVerdict::Rejected { lock } => {
                let detail = json!({ "reason": "wrong_code", "method": factor.method() });
                self.record_mfa(event, Outcome::Failure, user, meta, detail).await;
                match lock {
                    Some(lock) => {
                        self.record_lock(lock, user.tenant_id, Some(user.id), meta).await;
                        Err(lock.into())
                    }
                    None => Err(ServiceError::MfaInvalid),
                }
            }
        }
    }

    /// `POST /users/me/mfa/totp`: a new secret, pending until a first code confirms it (an
    /// earlier pending one is replaced). Refused (409) while two-factor is on.
    pub async fn begin_totp_enrolment(
        &self,
        claims: &AccessClaims,
        password: &str,
        meta: &RequestMeta,
    ) -> Result<Enrolment, ServiceError> {
        let (user, tenant) = self.me(claims).await?;
        if user.mfa_enabled {
            return Err(already_on());
        }
        self.settings_password(AuditKind::MfaEnrolled, &user, password, false, meta).await?;
        let secret = TotpSecret::generate();
        let begun = Persisted::<MfaState>::new(user.id)
            .change(
                &self.actors.ctx,
                || Some(MfaState::new(user.id, tenant.id)),
                |state| {
                    let begun = state.begin_enrolment(secret.clone());
                    (begun, begun)
                },
            )
            .await?;
        if begun != Some(true) {
            // Turned on meanwhile (another request).
            return Err(already_on());
        }
        self.record_mfa(AuditKind::MfaEnrolled, Outcome::Success, &user, meta, json!({ "method": "totp" })).await;
        Ok(Enrolment { secret: secret.to_base32(), otpauth_uri: secret.otpauth_uri(&account_label(&user, &tenant)) })
    }

    /// `POST /users/me/mfa/totp/confirm`: the first code of the pending secret turns
    /// two-factor on; answers the ten recovery codes, shown this once. A wrong code here is
    /// not counted toward the lockout: the secret was just handed to this very caller, so
    /// guessing its codes would win nothing.
    pub async fn confirm_totp(
        &self,
        claims: &AccessClaims,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Vec<String>, ServiceError> {
        let code = parse_code(code, "code")?;
        let (user, _) = self.me(claims).await?;
        let now = Utc::now();
        let confirmed = Persisted::<MfaState>::new(user.id)
            .change(
                &self.actors.ctx,
                || None,
                |state| match state.confirm(&code, now) {
                    Confirmation::Enabled(codes) => (true, Confirmation::Enabled(codes)),
                    other => (false, other),
                },
            )
            .await?;
        match confirmed.unwrap_or(Confirmation::NothingPending) {
            Confirmation::Enabled(codes) => {
                self.count_mfa_check("success");
                self.record_mfa(AuditKind::MfaConfirmed, Outcome::Success, &user, meta, json!({ "method": "totp" }))
                    .await;
                Ok(codes)
            }
            Confirmation::NothingPending => Err(ServiceError::Conflict(
                "no two-factor enrolment is pending: start one with POST /api/v1/users/me/mfa/totp".into(),
            )),
            Confirmation::Rejected(check) => {
                self.count_mfa_check(if check == TotpCheck::Replayed { "replayed" } else { "invalid" });
                let detail = json!({ "reason": "wrong_code", "method": "totp" });
                self.record_mfa(AuditKind::MfaConfirmed, Outcome::Failure, &user, meta, detail).await;
                Err(ServiceError::MfaInvalid)
            }
        }
    }

    /// `DELETE /users/me/mfa`: the password and a code (or a recovery code) turn two-factor
    /// off; its secret and recovery codes are forgotten.
    pub async fn disable_mfa(
        &self,
        claims: &AccessClaims,
        password: &str,
        factor: &SecondFactor,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        let (user, _) = self.me(claims).await?;
        if !user.mfa_enabled {
            return Err(not_on());
        }
        self.settings_password(AuditKind::MfaDisabled, &user, password, true, meta).await?;
        self.settings_code(AuditKind::MfaDisabled, &user, factor, meta).await?;
        self.forget_mfa(user.id).await?;
        let detail = json!({ "method": factor.method() });
        self.record_mfa(AuditKind::MfaDisabled, Outcome::Success, &user, meta, detail).await;
        Ok(())
    }

    /// `POST /users/me/mfa/recovery-codes`: a code (or a recovery code) buys a new set; the
    /// old set stops working.
    pub async fn renew_recovery_codes(
        &self,
        claims: &AccessClaims,
        factor: &SecondFactor,
        meta: &RequestMeta,
    ) -> Result<Vec<String>, ServiceError> {
        let (user, _) = self.me(claims).await?;
        if !user.mfa_enabled {
            return Err(not_on());
        }
        self.settings_code(AuditKind::MfaRecoveryCodesRenewed, &user, factor, meta).await?;
        let renewed = Persisted::<MfaState>::new(user.id)
            .change(
                &self.actors.ctx,
                || None,
                |state| {
                    if !state.is_enabled() {
                        return (false, None);
                    }
                    (true, Some(state.renew_recovery_codes()))
                },
            )
            .await?;
        let codes = renewed.flatten().ok_or_else(not_on)?;
        let detail = json!({ "method": factor.method() });
        self.record_mfa(AuditKind::MfaRecoveryCodesRenewed, Outcome::Success, &user, meta, detail).await;
        Ok(codes)
    }

    /// Turns a user's two-factor off and forgets its secrets; answers whether there was
    /// anything to forget.
    pub(super) async fn forget_mfa(&self, user_id: Uuid) -> Result<bool, ServiceError> {
        let forgotten = Persisted::<MfaState>::new(user_id)
            .change(
                &self.actors.ctx,
                || None,
                |state| {
                    let changed = state.disable();
                    (changed, changed)
                },
            )
            .await?;
        Ok(forgotten == Some(true))
    }

    /// The `require_mfa` rule: a user of a tenant that requires two-factor, who has not turned
    /// it on, may do nothing but that (the HTTP layer lets through the few routes it takes).
    /// Costs two lookups that the database decorator serves from memory.
    pub async fn require_mfa_enrolment(&self, claims: &AccessClaims) -> Result<(), ServiceError> {
        let tenant = self.stores.db.tenant_by_id(claims.tenant_id).await?.ok_or(ServiceError::SessionRevoked)?;
        if !tenant.require_mfa {
            return Ok(());
        }
        let user =
            self.stores.db.user_by_id(claims.tenant_id, claims.user_id).await?.ok_or(ServiceError::SessionRevoked)?;
        if user.mfa_enabled {
            Ok(())
        } else {
            Err(ServiceError::MfaEnrollmentRequired)
        }
    }
}

/// The account an authenticator app lists: the email, and the tenant it belongs to.
fn account_label(user: &User, tenant: &Tenant) -> String {
    format!("{} ({})", user.email, tenant.slug)
}

fn already_on() -> ServiceError {
    ServiceError::Conflict("two-factor sign-in is already on; turn it off first".into())
}

fn not_on() -> ServiceError {
    ServiceError::Conflict("two-factor sign-in is not on".into())
}
