//! Tenant administration: users (list, create, roles, disable), their sessions and lockouts,
//! and the audit trail. Every call acts on one tenant — the admin's own, or for admins of the
//! `platform` tenant the one named by `?tenant=` — and every store call takes that tenant's
//! id, so an id from another tenant is simply not found.
//!
//! Audit rows of admin actions name the account concerned in `user_id` (like login rows do)
//! and the admin who acted in `detail.actor_id`.

use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use super::audit::{AuditKind, Outcome};
use super::auth::display_name;
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::actors::{LockoutMsg, Subject};
use crate::auth::AccessClaims;
use crate::domain::role::parse_roles;
use crate::domain::{
    Email, EndReason, LockoutState, LockoutVerdict, Password, SessionState, Tenant, User, UserChanges, ValidationError,
};
use crate::store::{AuditEvent, AuditFilter, Page};

/// `POST /admin/users`, as the client sent it.
pub struct NewUserInput {
    pub email: String,
    pub password: String,
    pub roles: Vec<String>,
    pub display_name: Option<String>,
}

/// `PATCH /admin/users/{id}`: absent fields stay as they are.
#[derive(Default)]
pub struct UserPatch {
    pub roles: Option<Vec<String>>,
    pub is_active: Option<bool>,
    pub display_name: Option<String>,
}

fn actor_detail(claims: &AccessClaims, extra: Value) -> Value {
    let mut detail = json!({ "actor_id": claims.user_id, "actor_tenant_id": claims.tenant_id });
    if let (Some(detail), Value::Object(extra)) = (detail.as_object_mut(), extra) {
        detail.extend(extra);
    }
    detail
}

/// Holds the admin role and is active: counts towards "a tenant keeps an active admin".
fn active_admin(user: &User) -> bool {
    user.is_active && user.is_admin()
}

/// Who acts as an administrator, and on which tenant: the caller's own, or (platform admins)
/// the one `?tenant=` names.
#[derive(Clone, Copy)]
pub struct Acting<'a> {
    pub claims: &'a AccessClaims,
    /// The `?tenant=` slug, if any.
    pub tenant: Option<&'a str>,
}

impl Core {
    /// The tenant an admin request acts on. `?tenant=` is honoured for admins of the
    /// `platform` tenant only; anyone else naming a tenant other than their own is refused
    /// with 403 whether or not that tenant exists, so the answer tells nothing. An unknown
    /// slug (platform admins) answers 404.
    pub async fn acting_tenant(&self, acting: Acting<'_>) -> Result<Tenant, ServiceError> {
        let own = self.stores.db.tenant_by_id(acting.claims.tenant_id).await?.ok_or(ServiceError::SessionRevoked)?;
        match acting.tenant.map(str::trim).filter(|slug| !slug.is_empty()) {
            None => Ok(own),
            Some(slug) if slug == own.slug => Ok(own),
            Some(_) if !own.is_platform() => {
                Err(ServiceError::Forbidden("only platform admins may act on another tenant".into()))
            }
            Some(slug) => self.stores.db.tenant_by_slug(slug).await?.ok_or(ServiceError::NotFound),
        }
    }

    /// The acting tenant and its user `id` (404 when it has none).
    pub(super) async fn target_user(&self, acting: Acting<'_>, id: Uuid) -> Result<(Tenant, User), ServiceError> {
        let tenant = self.acting_tenant(acting).await?;
        let user = self.stores.db.user_by_id(tenant.id, id).await?.ok_or(ServiceError::NotFound)?;
        Ok((tenant, user))
    }

    async fn record_admin(
        &self,
        event: AuditKind,
        tenant: &Tenant,
        user_id: Option<Uuid>,
        claims: &AccessClaims,
        meta: &RequestMeta,
        extra: Value,
    ) {
        self.audit
            .record(AuditRecord {
                event,
                outcome: Outcome::Success,
                tenant_id: Some(tenant.id),
                user_id,
                meta: Some(meta),
                detail: actor_detail(claims, extra),
            })
            .await;
    }

    /// `GET /admin/users`: the tenant's users, newest first.
    pub async fn admin_list_users(&self, acting: Acting<'_>, page: Page) -> Result<(Vec<User>, Tenant), ServiceError> {
        let tenant = self.acting_tenant(acting).await?;
        let users = self.stores.read.list_users(tenant.id, page).await?;
        Ok((users, tenant))
    }

    /// `POST /admin/users`.
    pub async fn admin_create_user(
        &self,
        acting: Acting<'_>,
        input: NewUserInput,
        meta: &RequestMeta,
    ) -> Result<(User, Tenant), ServiceError> {
        let tenant = self.acting_tenant(acting).await?;
        let email = Email::parse(&input.email)?;
        let password = Password::parse_new(&input.password, "password")?;
        let roles = parse_roles(&input.roles)?;
        let name = display_name(input.display_name.as_deref(), &email)?;
        let user = self.create_user(&tenant, &email, &password, name, roles).await?;
        let detail = json!({ "roles": user.roles });
        self.record_admin(AuditKind::AdminUserCreated, &tenant, Some(user.id), acting.claims, meta, detail).await;
        Ok((user, tenant))
    }

    /// `GET /admin/users/{id}`.
    pub async fn admin_get_user(&self, acting: Acting<'_>, id: Uuid) -> Result<(User, Tenant), ServiceError> {
        let (tenant, user) = self.target_user(acting, id).await?;
        Ok((user, tenant))
    }

    /// `PATCH /admin/users/{id}`: roles, active flag, display name.
    ///
    /// A tenant always keeps an active admin. Removing one's own admin role or disabling
    /// oneself, and removing the tenant's last active admin, answer **409 conflict**: the
    /// caller is allowed to manage users, but the change conflicts with the tenant's state.
    /// The last-admin rule is checked before the write and again after it (reverting when a
    /// concurrent change took the other admin away), so it holds across nodes too.
    ///
    /// Sessions carry the roles they were opened with (their tokens are minted from them), so
    /// a change of roles ends the user's sessions, as disabling does: the next sign-in gets
    /// the new scopes, and a demoted admin keeps no admin token.
    pub async fn admin_update_user(
        &self,
        acting: Acting<'_>,
        id: Uuid,
        patch: UserPatch,
        meta: &RequestMeta,
    ) -> Result<(User, Tenant), ServiceError> {
        let (tenant, before) = self.target_user(acting, id).await?;
        let mut after = before.clone();
        if let Some(roles) = &patch.roles {
            after.roles = parse_roles(roles)?;
        }
        if let Some(is_active) = patch.is_active {
            after.is_active = is_active;
        }
        if let Some(raw) = &patch.display_name {
            if raw.trim().is_empty() {
                return Err(ValidationError::new("display_name", "must not be blank").into());
            }
            after.display_name = display_name(Some(raw), &Email::parse(&before.email)?)?;
        }
        let sorted = |roles: &[crate::domain::Role]| {
            let mut roles = roles.to_vec();
            roles.sort();
            roles.dedup();
            roles
        };
        let roles_changed = sorted(&after.roles) != sorted(&before.roles);
        let disabled = before.is_active && !after.is_active;
        let loses_admin = active_admin(&before) && !active_admin(&after);
        if loses_admin && before.id == acting.claims.user_id {
            return Err(ServiceError::Conflict(
                "admins cannot remove their own admin role or disable themselves".into(),
            ));
        }
        if loses_admin && self.stores.db.count_active_admins(tenant.id).await? <= 1 {
            return Err(ServiceError::Conflict("this is the tenant's last active admin".into()));
        }
        let changes = UserChanges {
            display_name: (after.display_name != before.display_name).then(|| after.display_name.clone()),
            password_hash: None,
            roles: roles_changed.then(|| after.roles.clone()),
            is_active: (after.is_active != before.is_active).then_some(after.is_active),
        };
        if changes.display_name.is_none() && changes.roles.is_none() && changes.is_active.is_none() {
            return Ok((before, tenant));
        }
        let after = self.stores.db.update_user(tenant.id, id, &changes).await?.ok_or(ServiceError::NotFound)?;
        if loses_admin && self.stores.db.count_active_admins(tenant.id).await? < 1 {
            // Another admin lost the role meanwhile: undo ours, so one of them stays.
            let undo = UserChanges {
                roles: changes.roles.as_ref().map(|_| before.roles.clone()),
                is_active: changes.is_active.map(|_| before.is_active),
                ..UserChanges::default()
            };
            self.stores.db.update_user(tenant.id, id, &undo).await?;
            return Err(ServiceError::Conflict("this is the tenant's last active admin".into()));
        }
        let mut sessions_ended = 0;
        if disabled {
            sessions_ended = self.end_user_sessions(after.id, EndReason::UserDisabled, None, Some(meta)).await?;
        } else if roles_changed {
            sessions_ended = self.end_user_sessions(after.id, EndReason::Revoked, None, Some(meta)).await?;
        }
        let detail = json!({
            "roles": patch.roles.is_some().then(|| after.roles.clone()),
            "is_active": patch.is_active,
            "display_name_changed": changes.display_name.is_some(),
            "sessions_ended": sessions_ended,
        });
        self.record_admin(AuditKind::AdminUserUpdated, &tenant, Some(after.id), acting.claims, meta, detail).await;
        Ok((after, tenant))
    }

    /// `POST /admin/users/{id}/unlock`: clears the lockout of that account's email, even a
    /// permanent one.
    pub async fn admin_unlock_user(
        &self,
        acting: Acting<'_>,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        let (tenant, user) = self.target_user(acting, id).await?;
        self.lift_lockout(&tenant, &user.email).await?;
        self.record_admin(AuditKind::AdminUnlock, &tenant, Some(user.id), acting.claims, meta, json!({})).await;
        Ok(())
    }

    /// `DELETE /admin/users/{id}/mfa`: turns the user's two-factor off (a lost device); its
    /// secret and recovery codes are forgotten. Audited when there was something to turn off.
    pub async fn admin_reset_mfa(&self, acting: Acting<'_>, id: Uuid, meta: &RequestMeta) -> Result<(), ServiceError> {
        let (tenant, user) = self.target_user(acting, id).await?;
        if self.forget_mfa(user.id).await? {
            let detail = json!({ "was_enabled": user.mfa_enabled });
            self.record_admin(AuditKind::AdminMfaReset, &tenant, Some(user.id), acting.claims, meta, detail).await;
        }
        Ok(())
    }

    /// Lifts the lockout of `email` in `tenant`, a permanent one included, through its lockout
    /// actor (the admin unlock and `tradesage user unlock` both come here); answers the
    /// verdict as it stood before.
    pub async fn lift_lockout(&self, tenant: &Tenant, email: &str) -> Result<LockoutVerdict, ServiceError> {
        let subject = Subject { tenant_id: tenant.id, email: email.to_owned() };
        let key = subject.key();
        let before = self.actors.lockouts.call(&key, LockoutMsg::Snapshot).await?;
        let verdict = before.map_or(LockoutVerdict::Open, |state| state.verdict(Utc::now()));
        self.actors.lockouts.call(&key, |reply| LockoutMsg::Unlock(subject.clone(), reply)).await?;
        Ok(verdict)
    }

    /// `GET /admin/users/{id}/sessions`: the user's live sessions.
    pub async fn admin_user_sessions(&self, acting: Acting<'_>, id: Uuid) -> Result<Vec<SessionState>, ServiceError> {
        let (_, user) = self.target_user(acting, id).await?;
        self.sessions_of(user.id).await
    }

    /// `DELETE /admin/sessions/{id}`: a live session of the tenant, else 404.
    pub async fn admin_end_session(
        &self,
        acting: Acting<'_>,
        session_id: Uuid,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        let tenant = self.acting_tenant(acting).await?;
        let state = self
            .snapshot(session_id)
            .await?
            .filter(|s| s.tenant_id == tenant.id && s.is_active && s.expires_at > Utc::now())
            .ok_or(ServiceError::NotFound)?;
        self.end_session(state.session_id, EndReason::Revoked, Some(meta)).await?;
        self.record_admin(
            AuditKind::AdminSessionEnded,
            &tenant,
            Some(state.user_id),
            acting.claims,
            meta,
            json!({ "session_id": state.session_id }),
        )
        .await;
        Ok(())
    }

    /// `GET /admin/lockouts`: the tenant's current locks, read through their actors (the
    /// stored state is encrypted; the actor holds the newest version).
    pub async fn admin_lockouts(&self, acting: Acting<'_>) -> Result<Vec<(Option<Uuid>, LockoutState)>, ServiceError> {
        let tenant = self.acting_tenant(acting).await?;
        let now = Utc::now();
        let rows = self.stores.read.current_lockouts(Some(tenant.id), now).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(state) = self.actors.lockouts.call(&row.key, LockoutMsg::Snapshot).await? else { continue };
            if state.tenant_id != tenant.id || state.verdict(now) == LockoutVerdict::Open {
                continue;
            }
            let user_id = self.stores.db.user_by_email(tenant.id, &state.email).await?.map(|u| u.id);
            items.push((user_id, state));
        }
        Ok(items)
    }

    /// `GET /admin/audit`: the tenant's audit events, newest first, as `filter` selects.
    pub async fn admin_audit(
        &self,
        acting: Acting<'_>,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Vec<AuditEvent>, ServiceError> {
        let tenant = self.acting_tenant(acting).await?;
        Ok(self.stores.read.list_audit(Some(tenant.id), &filter, page).await?)
    }
}
