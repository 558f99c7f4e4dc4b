//! What the API answers: view types built from the domain (`From`), deriving their OpenAPI
//! schema (`ToSchema`), so `/openapi.json` describes the very types that are serialised.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::actors::{ActorsSnapshot, KindSnapshot, SupervisorSnapshot};
use crate::domain::role::scopes_for;
use crate::domain::{LockoutState, Role, SessionState, Tenant, User};
use crate::service::auth::PendingSignIn;
use crate::store::AuditEvent;

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub tenant: TenantRef,
    pub roles: Vec<Role>,
    /// What the caller's token can do (for one's own account), or what the roles grant.
    pub scopes: Vec<String>,
    pub is_active: bool,
    /// Two-factor sign-in is on.
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// The tenant a user belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantRef {
    pub id: Uuid,
    #[schema(example = "acme")]
    pub slug: String,
    #[schema(example = "Acme Corp")]
    pub name: String,
    /// The tenant's users must turn on two-factor sign-in; until they do, every endpoint but
    /// `GET /users/me`, the two-factor settings, refresh and logout answers 403
    /// `mfa_enrollment_required`.
    pub require_mfa: bool,
}

impl UserView {
    /// `user` of `tenant`, with every scope its roles grant.
    pub fn new(user: &User, tenant: &Tenant) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            tenant: TenantRef {
                id: tenant.id,
                slug: tenant.slug.clone(),
                name: tenant.name.clone(),
                require_mfa: tenant.require_mfa,
            },
            roles: user.roles.clone(),
            scopes: scopes_for(&user.roles, tenant.is_platform()).iter().map(|s| s.as_str().to_owned()).collect(),
            is_active: user.is_active,
            mfa_enabled: user.mfa_enabled,
            created_at: user.created_at,
        }
    }

    /// The scopes a token actually carries (login may narrow them), not all the roles grant.
    pub fn with_scope(mut self, scope: &str) -> Self {
        self.scopes = scope.split_whitespace().map(str::to_owned).collect();
        self
    }
}

/// A tenant.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Tenant)]
pub struct TenantView {
    pub id: Uuid,
    #[schema(example = "acme")]
    pub slug: String,
    #[schema(example = "Acme Corp")]
    pub name: String,
    pub allow_self_signup: bool,
    /// Its users must turn on two-factor sign-in before they may do anything else.
    pub require_mfa: bool,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id,
            slug: t.slug.clone(),
            name: t.name.clone(),
            allow_self_signup: t.allow_self_signup,
            require_mfa: t.require_mfa,
            is_active: t.is_active,
            created_at: t.created_at,
        }
    }
}

/// A started two-factor enrolment: the secret, pending until its first code confirms it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaEnrolmentView {
    /// The shared secret, unpadded base32, for typing into an authenticator app.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    pub secret: String,
    /// The same secret as an `otpauth://totp/…` URI, for a QR code.
    #[schema(
        example = "otpauth://totp/Tradesage:ada%40example.com%20%28default%29?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Tradesage"
    )]
    pub otpauth_uri: String,
}

/// Ten one-time recovery codes, shown this once (the server keeps only their hashes).
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesView {
    #[schema(example = json!(["7K3M-Q9TZ-4WXB-2HRC"]), min_items = 10, max_items = 10)]
    pub recovery_codes: Vec<String>,
}

/// A second factor a pending sign-in takes.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMethod {
    /// `code`: the 6 digits of an authenticator app.
    Totp,
    /// `recovery_code`: one of the ten recovery codes.
    RecoveryCode,
}

/// The login answer of a user with two-factor on: no tokens yet; `POST /api/v1/auth/mfa/verify`
/// with `mfa_token` and a code finishes the sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaRequiredView {
    /// Always `true`.
    pub mfa_required: bool,
    /// Opaque (not a JWT); single-use; spent by its fifth wrong code.
    pub mfa_token: String,
    /// Seconds the `mfa_token` stays valid (300).
    #[schema(example = 300)]
    pub expires_in: u64,
    pub methods: Vec<MfaMethod>,
}

impl From<&PendingSignIn> for MfaRequiredView {
    fn from(pending: &PendingSignIn) -> Self {
        Self {
            mfa_required: true,
            mfa_token: pending.mfa_token.clone(),
            expires_in: pending.expires_in,
            methods: vec![MfaMethod::Totp, MfaMethod::RecoveryCode],
        }
    }
}

/// A session as its user (or an admin) sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub session_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[schema(example = "203.0.113.7")]
    pub client_ip: String,
    pub user_agent: String,
    /// Whether this is the session of the token making the request.
    pub current: bool,
}

impl SessionView {
    /// `state`, marked `current` when it is the session `current` names.
    pub fn new(state: &SessionState, current: Option<Uuid>) -> Self {
        SessionView {
            session_id: state.session_id,
            created_at: state.created_at,
            last_seen_at: state.last_seen_at,
            expires_at: state.expires_at,
            client_ip: state.client_ip.to_string(),
            user_agent: state.user_agent.clone(),
            current: Some(state.session_id) == current,
        }
    }
}

/// A current lockout, kept per (tenant, email) whether or not the account exists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LockoutView {
    /// The account of that email in the tenant, if there is one: lockouts are kept for
    /// unknown emails too, so that they do not tell which accounts exist.
    pub user_id: Option<Uuid>,
    pub email: String,
    /// Failed sign-ins since the last lock ended.
    pub failures: u32,
    /// The step of the lockout ladder reached.
    pub step: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub permanent: bool,
}

impl LockoutView {
    /// The lockout `state`, of the account `user_id` when one has its email.
    pub fn new(user_id: Option<Uuid>, state: &LockoutState) -> Self {
        Self {
            user_id,
            email: state.email.clone(),
            failures: state.failures,
            step: state.step,
            locked_until: if state.permanent { None } else { state.locked_until },
            permanent: state.permanent,
        }
    }
}

/// One line of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditEventView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub tenant_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    /// What happened.
    #[schema(example = "login")]
    pub event: String,
    /// `success` or `failure`.
    #[schema(example = "success")]
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// Event-specific facts.
    #[schema(value_type = Object)]
    pub detail: Value,
}

impl From<&AuditEvent> for AuditEventView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id,
            at: e.at,
            tenant_id: e.tenant_id,
            user_id: e.user_id,
            event: e.event.clone(),
            outcome: e.outcome.clone(),
            ip: e.ip.clone(),
            user_agent: e.user_agent.clone(),
            request_id: e.request_id.clone(),
            detail: e.detail.clone(),
        }
    }
}

/// The actor system's supervision tree on one node.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorsView {
    pub node: String,
    pub uptime_s: u64,
    pub kinds: Vec<ActorKindView>,
    pub supervisors: Vec<SupervisorView>,
}

/// The actors of one kind (`session`, `lockout`, `mfa_challenge`, `api_key`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActorKind)]
pub struct ActorKindView {
    #[schema(example = "session")]
    pub kind: String,
    pub live: i64,
    pub activations: u64,
    pub passivations: u64,
    pub restarts: u64,
    pub failures: u64,
    pub mailbox_depth: i64,
    pub handle_time_ms: Quantiles,
}

/// Message handling time quantiles, in milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct Quantiles {
    pub p50: f64,
    pub p99: f64,
}

/// One supervisor (a shard of a kind).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Supervisor)]
pub struct SupervisorView {
    #[schema(example = "session-shard-0")]
    pub name: String,
    pub kind: String,
    pub children: u64,
    pub restarts: u64,
    pub failures: u64,
}

impl From<&KindSnapshot> for ActorKindView {
    fn from(k: &KindSnapshot) -> Self {
        Self {
            kind: k.kind.clone(),
            live: k.live,
            activations: k.activations,
            passivations: k.passivations,
            restarts: k.restarts,
            failures: k.failures,
            mailbox_depth: k.mailbox_depth,
            handle_time_ms: Quantiles { p50: k.handle_p50_ms, p99: k.handle_p99_ms },
        }
    }
}

impl From<&SupervisorSnapshot> for SupervisorView {
    fn from(s: &SupervisorSnapshot) -> Self {
        Self {
            name: s.name.clone(),
            kind: s.kind.clone(),
            children: s.children,
            restarts: s.restarts,
            failures: s.failures,
        }
    }
}

impl From<&ActorsSnapshot> for ActorsView {
    fn from(s: &ActorsSnapshot) -> Self {
        Self {
            node: s.node.clone(),
            uptime_s: s.uptime_s,
            kinds: s.kinds.iter().map(ActorKindView::from).collect(),
            supervisors: s.supervisors.iter().map(SupervisorView::from).collect(),
        }
    }
}

/// A JSON Web Key Set (RFC 7517), as `/.well-known/jwks.json` serves it.
#[derive(Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// A P-256 public key, `kid` being its RFC 7638 thumbprint.
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "EC")]
    pub kty: String,
    #[schema(example = "P-256")]
    pub crv: String,
    pub x: String,
    pub y: String,
    pub kid: String,
    #[schema(example = "ES256")]
    pub alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: String,
}
