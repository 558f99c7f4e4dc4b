//! Tenants, managed by the admins of the `platform` tenant (scope `tenants:manage`): list,
//! create, read, rename, open or close self sign-up, disable.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditKind, Outcome};
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::auth::AccessClaims;
use crate::domain::{EndReason, Tenant, TenantSlug, ValidationError};
use crate::store::{Page, StoreError};

/// `POST /tenants`, as the client sent it.
pub struct NewTenantInput {
    pub slug: String,
    pub name: String,
    pub allow_self_signup: Option<bool>,
    pub require_mfa: Option<bool>,
}

/// `PATCH /tenants/{id}`: absent fields stay as they are.
#[derive(Default)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub allow_self_signup: Option<bool>,
    pub is_active: Option<bool>,
    /// Its users must turn on two-factor sign-in before they may do anything else.
    pub require_mfa: Option<bool>,
}

/// A tenant's display name: trimmed, 1–100 characters, no control character but a tab.
fn tenant_name(raw: &str) -> Result<String, ValidationError> {
    use crate::domain::text::{plain, Tabs};
    let name = plain("name", raw, Tabs::Allowed)?.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ValidationError::new("name", "must be 1–100 characters"));
    }
    Ok(name.to_owned())
}

impl Core {
    async fn record_tenant(
        &self,
        event: AuditKind,
        claims: &AccessClaims,
        tenant: &Tenant,
        meta: &RequestMeta,
        detail: serde_json::Value,
    ) {
        // Recorded in the acting platform admin's tenant: that is where tenant management is
        // reviewed.
        self.audit
            .record(AuditRecord {
                event,
                outcome: Outcome::Success,
                tenant_id: Some(claims.tenant_id),
                user_id: Some(claims.user_id),
                meta: Some(meta),
                detail: json!({ "tenant_id": tenant.id, "slug": tenant.slug, "changes": detail }),
            })
            .await;
    }

    /// `GET /tenants`: every tenant, newest first.
    pub async fn list_tenants(&self, page: Page) -> Result<Vec<Tenant>, ServiceError> {
        Ok(self.stores.read.list_tenants(page).await?)
    }

    /// `POST /tenants`; a slug in use answers 409.
    pub async fn create_tenant(
        &self,
        claims: &AccessClaims,
        input: NewTenantInput,
        meta: &RequestMeta,
    ) -> Result<Tenant, ServiceError> {
        let slug = TenantSlug::parse(&input.slug)?;
        let name = tenant_name(&input.name)?;
        let conflict = || ServiceError::Conflict("a tenant with this slug already exists".into());
        if self.stores.db.tenant_by_slug(slug.as_str()).await?.is_some() {
            return Err(conflict());
        }
        let tenant = Tenant {
            id: Uuid::now_v7(),
            slug: slug.as_str().to_owned(),
            name,
            allow_self_signup: input.allow_self_signup.unwrap_or(false),
            require_mfa: input.require_mfa.unwrap_or(false),
            is_active: true,
            created_at: Utc::now(),
        };
        match self.stores.db.insert_tenant(&tenant).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(conflict()),
            Err(e) => return Err(e.into()),
        }
        self.record_tenant(
            AuditKind::TenantCreated,
            claims,
            &tenant,
            meta,
            json!({ "allow_self_signup": tenant.allow_self_signup, "require_mfa": tenant.require_mfa }),
        )
        .await;
        Ok(tenant)
    }

    /// `GET /tenants/{id}`.
    pub async fn get_tenant(&self, id: Uuid) -> Result<Tenant, ServiceError> {
        self.stores.db.tenant_by_id(id).await?.ok_or(ServiceError::NotFound)
    }

    /// `PATCH /tenants/{id}`. Disabling a tenant refuses its users' logins (login checks the
    /// tenant) and ends their live sessions now. The `platform` tenant can be neither disabled
    /// (409: it would shut every operator out) nor opened to self sign-up (422).
    pub async fn update_tenant(
        &self,
        claims: &AccessClaims,
        id: Uuid,
        patch: TenantPatch,
        meta: &RequestMeta,
    ) -> Result<Tenant, ServiceError> {
        let before = self.get_tenant(id).await?;
        let mut after = before.clone();
        if let Some(name) = &patch.name {
            after.name = tenant_name(name)?;
        }
        if let Some(allow) = patch.allow_self_signup {
            if allow && before.is_platform() {
                return Err(
                    ValidationError::new("allow_self_signup", "the platform tenant never allows self sign-up").into()
                );
            }
            after.allow_self_signup = allow;
        }
        if let Some(require_mfa) = patch.require_mfa {
            after.require_mfa = require_mfa;
        }
        if let Some(is_active) = patch.is_active {
            if !is_active && before.is_platform() {
                return Err(ServiceError::Conflict("the platform tenant cannot be disabled".into()));
            }
            after.is_active = is_active;
        }
        if after.name == before.name
            && after.allow_self_signup == before.allow_self_signup
            && after.is_active == before.is_active
            && after.require_mfa == before.require_mfa
        {
            return Ok(before);
        }
        self.stores.db.update_tenant(&after).await?;
        let sessions_ended =
            if before.is_active && !after.is_active { self.end_tenant_sessions(&after, meta).await? } else { 0 };
        let changes = json!({
            "name": patch.name.is_some().then(|| after.name.clone()),
            "allow_self_signup": patch.allow_self_signup,
            "is_active": patch.is_active,
            "require_mfa": patch.require_mfa,
            "sessions_ended": sessions_ended,
        });
        self.record_tenant(AuditKind::TenantUpdated, claims, &after, meta, changes).await;
        Ok(after)
    }

    /// Ends every live session of the tenant's users, walking the users page by page.
    async fn end_tenant_sessions(&self, tenant: &Tenant, meta: &RequestMeta) -> Result<usize, ServiceError> {
        let mut ended = 0;
        let mut page = Page { limit: 200, before: None };
        loop {
            let users = self.stores.db.list_users(tenant.id, page).await?;
            for user in &users {
                ended += self.end_user_sessions(user.id, EndReason::Revoked, None, Some(meta)).await?;
            }
            match users.last() {
                Some(last) if users.len() as i64 == page.limit => page.before = Some(last.id),
                _ => return Ok(ended),
            }
        }
    }
}
