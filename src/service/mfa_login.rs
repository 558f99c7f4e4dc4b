//! The second step of a two-factor sign-in: the password step opens a pending sign-in (an
//! actor of kind `mfa_challenge`, persisted, so any node can take the code), and
//! `POST /auth/mfa/verify` finishes it with a TOTP code or a recovery code — once — and
//! opens the session with `amr: ["pwd", "otp"]`.

use chrono::Utc;
use serde_json::json;

use super::audit::{AuditKind, Outcome};
use super::auth::PendingSignIn;
use super::mfa::{CodeVerdict, SecondFactor};
use super::sessions::IssuedTokens;
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::actors::{ChallengeMsg, Subject};
use crate::domain::challenge::{self, MfaChallenge, NewChallenge, CHALLENGE_TTL_SECONDS};
use crate::domain::role::{narrow_scopes, scopes_for};
use crate::domain::{AuthMethod, TokenDelivery, User};

/// `POST /auth/mfa/verify`, as the client sent it.
pub struct VerifyInput {
    pub mfa_token: String,
    pub factor: SecondFactor,
}

impl Core {
    /// Opens the pending sign-in of `user`, whose password was right; answers its token.
    pub(super) async fn begin_second_factor(
        &self,
        user: &User,
        scope: Option<String>,
        delivery: TokenDelivery,
    ) -> Result<PendingSignIn, ServiceError> {
        let token = challenge::new_token();
        let new = NewChallenge { user_id: user.id, tenant_id: user.tenant_id, email: &user.email, scope, delivery };
        let pending = MfaChallenge::open(&token, new, Utc::now())
            .ok_or_else(|| ServiceError::Unexpected("a fresh mfa_token has no key".into()))?;
        let key = pending.key.clone();
        self.actors.challenges.call(&key, |reply| ChallengeMsg::Create(Box::new(pending.clone()), reply)).await?;
        Ok(PendingSignIn { mfa_token: token, expires_in: CHALLENGE_TTL_SECONDS as u64 })
    }

    async fn record_verify(
        &self,
        pending: &MfaChallenge,
        outcome: Outcome,
        meta: &RequestMeta,
        detail: serde_json::Value,
    ) {
        self.audit
            .record(AuditRecord {
                event: AuditKind::MfaVerify,
                outcome,
                tenant_id: Some(pending.tenant_id),
                user_id: Some(pending.user_id),
                meta: Some(meta),
                detail,
            })
            .await;
    }

    /// Finishes a pending sign-in: answers the session's tokens and where the refresh token
    /// goes (as asked at login). An unknown, expired, used or spent `mfa_token` answers 401
    /// `token_invalid`; a wrong code 401 `mfa_invalid` (the fifth spends the token), counted
    /// toward the lockout like a wrong password (a lock answers 423).
    pub async fn verify_mfa(
        &self,
        input: VerifyInput,
        meta: &RequestMeta,
    ) -> Result<(IssuedTokens, TokenDelivery), ServiceError> {
        let pending = match challenge::key_of(&input.mfa_token) {
            Some(key) => self.actors.challenges.call(&key, ChallengeMsg::Open).await?,
            None => None,
        };
        let Some(pending) = pending else {
            self.count_mfa_check("expired");
            return Err(ServiceError::TokenInvalid);
        };
        let method = input.factor.method();
        let user = self.stores.db.user_by_id(pending.tenant_id, pending.user_id).await?;
        let tenant = self.stores.db.tenant_by_id(pending.tenant_id).await?;
        let (Some(user), Some(tenant)) = (user.filter(|u| u.is_active), tenant.filter(|t| t.is_active)) else {
            self.spend(&pending).await?;
            self.record_verify(
                &pending,
                Outcome::Failure,
                meta,
                json!({ "method": method, "reason": "account_disabled" }),
            )
            .await;
            return Err(ServiceError::AccountDisabled);
        };
        let subject = Subject { tenant_id: pending.tenant_id, email: pending.email.clone() };
        match self.check_code(&subject, user.id, &input.factor).await? {
            CodeVerdict::Accepted => {}
            CodeVerdict::Locked(lock) => {
                let detail = json!({ "method": method, "reason": "locked" });
                self.record_verify(&pending, Outcome::Failure, meta, detail).await;
                return Err(lock.into());
            }
            CodeVerdict::NotEnabled => {
                // Turned off since the password step (an admin reset): this sign-in is void.
                self.spend(&pending).await?;
                let detail = json!({ "method": method, "reason": "mfa_off" });
                self.record_verify(&pending, Outcome::Failure, meta, detail).await;
                return Err(ServiceError::TokenInvalid);
            }
            CodeVerdict::Rejected { lock } => {
                let counted = self
                    .actors
                    .challenges
                    .call(&pending.key, ChallengeMsg::WrongCode)
                    .await?
                    .unwrap_or(pending.clone());
                let detail = json!({
                    "method": method,
                    "reason": "wrong_code",
                    "wrong_codes": counted.wrong_codes,
                    "spent": counted.spent,
                });
                self.record_verify(&pending, Outcome::Failure, meta, detail).await;
                if let Some(lock) = lock {
                    self.record_lock(lock, pending.tenant_id, Some(pending.user_id), meta).await;
                    return Err(lock.into());
                }
                return Err(ServiceError::MfaInvalid);
            }
        }
        // Of two right codes racing on one token, one opens a session.
        if !self.spend(&pending).await? {
            self.count_mfa_check("expired");
            return Err(ServiceError::TokenInvalid);
        }
        let granted = scopes_for(&user.roles, tenant.is_platform());
        let scopes = narrow_scopes(&granted, pending.scope.as_deref())?;
        let issued = self.open_session(user, tenant, &scopes, &[AuthMethod::Pwd, AuthMethod::Otp], meta).await?;
        self.record_verify(
            &pending,
            Outcome::Success,
            meta,
            json!({ "method": method, "session_id": issued.session_id }),
        )
        .await;
        self.signed_in(&issued, meta).await;
        Ok((issued, pending.delivery))
    }

    /// Uses up a pending sign-in; answers whether this call did.
    async fn spend(&self, pending: &MfaChallenge) -> Result<bool, ServiceError> {
        Ok(self.actors.challenges.call(&pending.key, ChallengeMsg::Spend).await?)
    }
}
