//! The signed-in user's own account: the profile as the token sees it, the display name, and
//! changing the password (which ends the user's other sessions).

use serde_json::json;

use super::audit::{AuditKind, Outcome};
use super::auth::{display_name, PasswordVerdict};
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::actors::Subject;
use crate::auth::AccessClaims;
use crate::domain::{Email, EndReason, Password, Tenant, User, UserChanges, ValidationError};

/// `POST /users/me/password`, as the client sent it.
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

impl Core {
    /// The caller's account and tenant. A token outliving its account (it cannot: deleting
    /// users is not offered) would read as an ended session.
    pub async fn me(&self, claims: &AccessClaims) -> Result<(User, Tenant), ServiceError> {
        let user =
            self.stores.db.user_by_id(claims.tenant_id, claims.user_id).await?.ok_or(ServiceError::SessionRevoked)?;
        let tenant = self.stores.db.tenant_by_id(claims.tenant_id).await?.ok_or(ServiceError::SessionRevoked)?;
        Ok((user, tenant))
    }

    /// `PATCH /users/me`: only the display name is the user's own to change. Absent means
    /// unchanged; blank is refused (an admin-visible name should never be empty).
    pub async fn update_me(
        &self,
        claims: &AccessClaims,
        new_name: Option<String>,
        meta: &RequestMeta,
    ) -> Result<(User, Tenant), ServiceError> {
        let (user, tenant) = self.me(claims).await?;
        let Some(raw) = new_name else { return Ok((user, tenant)) };
        if raw.trim().is_empty() {
            return Err(ValidationError::new("display_name", "must not be blank").into());
        }
        let name = display_name(Some(&raw), &Email::parse(&user.email)?)?;
        if name == user.display_name {
            return Ok((user, tenant));
        }
        let changes = UserChanges { display_name: Some(name), ..UserChanges::default() };
        let user =
            self.stores.db.update_user(tenant.id, user.id, &changes).await?.ok_or(ServiceError::SessionRevoked)?;
        self.audit
            .record(AuditRecord {
                event: AuditKind::ProfileUpdated,
                outcome: Outcome::Success,
                tenant_id: Some(tenant.id),
                user_id: Some(user.id),
                meta: Some(meta),
                detail: json!({ "fields": ["display_name"] }),
            })
            .await;
        Ok((user, tenant))
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
        let (user, tenant) = self.me(claims).await?;
        let subject = Subject { tenant_id: tenant.id, email: user.email.clone() };
        match self.check_password(&subject, &input.current_password, Some(&user.password_hash)).await? {
            PasswordVerdict::Accepted => {}
            PasswordVerdict::Locked(lock) => return Err(lock.into()),
            PasswordVerdict::Rejected { lock } => {
                self.audit
                    .record(AuditRecord {
                        event: AuditKind::PasswordChange,
                        outcome: Outcome::Failure,
                        tenant_id: Some(tenant.id),
                        user_id: Some(user.id),
                        meta: Some(meta),
                        detail: json!({ "reason": "wrong_current_password" }),
                    })
                    .await;
                if let Some(lock) = lock {
                    return Err(lock.into());
                }
                return Err(ValidationError::new("current_password", "is not the current password").into());
            }
        }
        let changes = UserChanges {
            password_hash: Some(self.passwords.hash(new_password.expose()).await?),
            ..Default::default()
        };
        self.stores.db.update_user(tenant.id, user.id, &changes).await?.ok_or(ServiceError::SessionRevoked)?;
        let ended =
            self.end_user_sessions(user.id, EndReason::PasswordChanged, Some(claims.session_id), Some(meta)).await?;
        self.audit
            .record(AuditRecord {
                event: AuditKind::PasswordChange,
                outcome: Outcome::Success,
                tenant_id: Some(tenant.id),
                user_id: Some(user.id),
                meta: Some(meta),
                detail: json!({ "sessions_ended": ended }),
            })
            .await;
        Ok(())
    }
}
