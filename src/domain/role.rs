//! Roles and the scopes they grant: the one table that every guard and token is built from.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// `Display` and `FromStr` of an enum by the names its `as_str` gives (one of `ALL`); an
/// unknown name is a validation error on `field`.
macro_rules! by_name {
    ($enum:ident, $field:literal, $unknown:literal) => {
        impl fmt::Display for $enum {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $enum {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $enum::ALL
                    .into_iter()
                    .find(|named| named.as_str() == s)
                    .ok_or_else(|| ValidationError::new($field, format!(concat!($unknown, " `{}`"), s)))
            }
        }
    };
}

/// A role a user holds within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Trader,
    Viewer,
    ApiUser,
}

/// A permission carried in an access token's `scope` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    UsersManage,
    SessionsManage,
    AuditRead,
    OrdersRead,
    OrdersWrite,
    /// Cancelling other users' orders of the tenant (admins), so that an admin who narrows a
    /// sign-in to trading scopes trades with a trader's powers only.
    OrdersManage,
    TenantsManage,
    ActorsRead,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::UsersManage,
        Scope::SessionsManage,
        Scope::AuditRead,
        Scope::OrdersRead,
        Scope::OrdersWrite,
        Scope::OrdersManage,
        Scope::TenantsManage,
        Scope::ActorsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::UsersManage => "users:manage",
            Scope::SessionsManage => "sessions:manage",
            Scope::AuditRead => "audit:read",
            Scope::OrdersRead => "orders:read",
            Scope::OrdersWrite => "orders:write",
            Scope::OrdersManage => "orders:manage",
            Scope::TenantsManage => "tenants:manage",
            Scope::ActorsRead => "actors:read",
        }
    }
}

by_name!(Scope, "scope", "unknown scope");

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Trader, Role::Viewer, Role::ApiUser];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Trader => "trader",
            Role::Viewer => "viewer",
            Role::ApiUser => "api_user",
        }
    }

    /// The role → scopes table of API.md §4. Platform admins get more: see [`scopes_for`].
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            Role::Admin => &[
                Scope::UsersManage,
                Scope::SessionsManage,
                Scope::AuditRead,
                Scope::OrdersRead,
                Scope::OrdersWrite,
                Scope::OrdersManage,
            ],
            Role::Trader | Role::ApiUser => &[Scope::OrdersRead, Scope::OrdersWrite],
            Role::Viewer => &[Scope::OrdersRead],
        }
    }
}

by_name!(Role, "roles", "unknown role");

/// The scopes a user with `roles` holds; admins of the `platform` tenant also manage tenants
/// and watch the actor system, which spans every tenant.
pub fn scopes_for(roles: &[Role], is_platform_tenant: bool) -> BTreeSet<Scope> {
    let mut scopes: BTreeSet<Scope> = roles.iter().flat_map(|r| r.scopes().iter().copied()).collect();
    if is_platform_tenant && roles.contains(&Role::Admin) {
        scopes.insert(Scope::TenantsManage);
        scopes.insert(Scope::ActorsRead);
    }
    scopes
}

/// Narrows `granted` to the space-separated `requested` subset; asking for a scope one does
/// not hold is an error rather than a silent drop, so clients learn of it.
pub fn narrow_scopes(granted: &BTreeSet<Scope>, requested: Option<&str>) -> Result<BTreeSet<Scope>, ValidationError> {
    let Some(requested) = requested.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(granted.clone());
    };
    let mut narrowed = BTreeSet::new();
    for word in requested.split_whitespace() {
        let scope: Scope = word.parse()?;
        if !granted.contains(&scope) {
            return Err(ValidationError::new("scope", format!("`{word}` is not granted to this user")));
        }
        narrowed.insert(scope);
    }
    Ok(narrowed)
}

/// Space-separated form used in the `scope` claim.
pub fn scope_string(scopes: &BTreeSet<Scope>) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// Parses a stored or requested role list, refusing an empty one.
pub fn parse_roles<S: AsRef<str>>(raw: &[S]) -> Result<Vec<Role>, ValidationError> {
    let mut roles: Vec<Role> = raw.iter().map(|r| r.as_ref().parse()).collect::<Result<_, _>>()?;
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(ValidationError::new("roles", "must name at least one role"));
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_only_read_orders() {
        let scopes = scopes_for(&[Role::Viewer], false);
        assert_eq!(scope_string(&scopes), "orders:read");
    }

    #[test]
    fn only_platform_admins_manage_tenants_and_read_actors() {
        assert!(!scopes_for(&[Role::Admin], false).contains(&Scope::TenantsManage));
        let platform = scopes_for(&[Role::Admin], true);
        assert!(platform.contains(&Scope::TenantsManage) && platform.contains(&Scope::ActorsRead));
        assert!(!scopes_for(&[Role::Trader], true).contains(&Scope::ActorsRead));
    }

    #[test]
    fn admins_manage_orders_and_traders_do_not() {
        assert!(scopes_for(&[Role::Admin], false).contains(&Scope::OrdersManage));
        for role in [Role::Trader, Role::Viewer, Role::ApiUser] {
            assert!(!scopes_for(&[role], true).contains(&Scope::OrdersManage), "{role}");
        }
        assert_eq!("orders:manage".parse::<Scope>().unwrap(), Scope::OrdersManage);
    }

    #[test]
    fn narrowing_keeps_a_subset_and_refuses_more() {
        let granted = scopes_for(&[Role::Trader], false);
        let narrowed = narrow_scopes(&granted, Some("orders:read")).unwrap();
        assert_eq!(scope_string(&narrowed), "orders:read");
        assert!(narrow_scopes(&granted, Some("users:manage")).is_err());
        assert!(narrow_scopes(&granted, Some("nonsense")).is_err());
    }

    #[test]
    fn role_lists_are_deduplicated_and_never_empty() {
        assert_eq!(parse_roles(&["viewer", "viewer"]).unwrap(), vec![Role::Viewer]);
        assert!(parse_roles::<&str>(&[]).is_err());
        assert!(parse_roles(&["root"]).is_err());
    }
}
