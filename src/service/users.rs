//! The signed-in user's own account: the profile as the token sees it, the display name, and
//! changing the password (which ends the user's other sessions).

use chrono::Utc;
use serde_json::json;

use super::auth::{display_name, UserView};
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::actors::{LockoutMsg, Subject};
use crate::auth::AccessClaims;
use crate::domain::{Email, EndReason, LockoutVerdict, Password, Tenant, User, ValidationError};

/// `POST /users/me/password`, as the client sent it.
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

impl Core {
    /// The caller's account and tenant. A token outliving its account (it cannot: deleting
    /// users is not offered) would read as an ended session.
    async fn caller(&self, claims: &AccessClaims) -> Result<(User, Tenant), ServiceError> {
        let user =
            self.stores.db.user_by_id(claims.tenant_id, claims.user_id).await?.ok_or(ServiceError::SessionRevoked)?;
        let tenant = self.stores.db.tenant_by_id(claims.tenant_id).await?.ok_or(ServiceError::SessionRevoked)?;
        Ok((user, tenant))
    }

    /// The view of the caller, with the scopes of the token in hand rather than all the roles
    /// could grant: a narrowed token shows what it can actually do.
    fn own_view(claims: &AccessClaims, user: &User, tenant: &Tenant) -> UserView {
        let mut view = UserView::new(user, tenant);
        view.scopes = claims.scope.split_whitespace().map(str::to_owned).collect();
        view
    }

    /// `GET /users/me`.
    pub async fn me(&self, claims: &AccessClaims) -> Result<UserView, ServiceError> {
        let (user, tenant) = self.caller(claims).await?;
        Ok(Self::own_view(claims, &user, &tenant))
    }

    /// `PATCH /users/me`: only the display name is the user's own to change. Absent means
    /// unchanged; blank is refused (an admin-visible name should never be empty).
    pub async fn update_me(
        &self,
        claims: &AccessClaims,
        new_name: Option<String>,
        meta: &RequestMeta,
    ) -> Result<UserView, ServiceError> {
        let (mut user, tenant) = self.caller(claims).await?;
        if let Some(raw) = new_name {
            if raw.trim().is_empty() {
                return Err(ValidationError::new("display_name", "must not be blank").into());
            }
            let email = Email::parse(&user.email)?;
            let name = display_name(Some(&raw), &email)?;
            if name != user.display_name {
                user.display_name = name;
                user.updated_at = Utc::now();
                self.stores.db.update_user(&user).await?;
                self.audit
                    .record(AuditRecord {
                        event: "profile_updated",
                        outcome: "success",
                        tenant_id: Some(tenant.id),
                        user_id: Some(user.id),
                        meta: Some(meta),
                        detail: json!({ "fields": ["display_name"] }),
                    })
                    .await;
            }
        }
        Ok(Self::own_view(claims, &user, &tenant))
    }

    /// `POST /users/me/password`. Wrong current passwords count towards the account's lockout
    /// like failed logins do, so a stolen access token cannot be used to guess the password;
    /// bcrypt runs on the hashing pool, never on the async workers. On success every other
    /// session of the user ends; the one making the change stays.
    pub async fn change_password(
        &self,
        claims: &AccessClaims,
        input: PasswordChange,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        if input.current_password.is_empty() {
            return Err(ValidationError::new("current_password", "is required").into());
        }
        let new_password = Password::parse_new(&input.new_password, "new_password")?;
        if input.new_password == input.current_password {
            return Err(ValidationError::new("new_password", "must differ from the current password").into());
        }
        let (mut user, tenant) = self.caller(claims).await?;
        let subject = Subject { tenant_id: tenant.id, email: user.email.clone() };
        let key = subject.key();
        let verdict = self.actors.lockouts.call(&key, |reply| LockoutMsg::Check(subject.clone(), reply)).await??;
        if let LockoutVerdict::Locked { retry_after, .. } = verdict {
            return Err(ServiceError::AccountLocked { retry_after });
        }
        let usable = input.current_password.len() <= Password::MAX_BYTES;
        let matched = usable && self.passwords.verify(&input.current_password, Some(&user.password_hash)).await?;
        if !matched {
            let verdict =
                self.actors.lockouts.call(&key, |reply| LockoutMsg::RecordFailure(subject.clone(), reply)).await??;
            self.audit
                .record(AuditRecord {
                    event: "password_change",
                    outcome: "failure",
                    tenant_id: Some(tenant.id),
                    user_id: Some(user.id),
                    meta: Some(meta),
                    detail: json!({ "reason": "wrong_current_password" }),
                })
                .await;
            if let LockoutVerdict::Locked { retry_after, .. } = verdict {
                return Err(ServiceError::AccountLocked { retry_after });
            }
            return Err(ValidationError::new("current_password", "is not the current password").into());
        }
        // Like a successful login: the failures counted so far are forgiven.
        self.actors.lockouts.call(&key, |reply| LockoutMsg::RecordSuccess(subject.clone(), reply)).await??;
        user.password_hash = self.passwords.hash(new_password.expose()).await?;
        user.updated_at = Utc::now();
        self.stores.db.update_user(&user).await?;
        let ended =
            self.end_user_sessions(user.id, EndReason::PasswordChanged, Some(claims.session_id), Some(meta)).await?;
        self.audit
            .record(AuditRecord {
                event: "password_change",
                outcome: "success",
                tenant_id: Some(tenant.id),
                user_id: Some(user.id),
                meta: Some(meta),
                detail: json!({ "sessions_ended": ended }),
            })
            .await;
        Ok(())
    }
}
