//! The API-key actor: one per key id, the single writer of that key's state on this node, like
//! a session's. Activated on a key's first use (from the cache, else the database), it holds
//! the secret's hash, the scopes, the allowed networks and the expiry, so checking a presented
//! key is a memory check. Revocation is persisted and announced; other nodes drop their copy
//! on the event, and the revoked key's actor stops.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::directory::Reply;
use super::persist::{version_in_field, ActorContext, Persistent};
use super::persistent_actor::{Held, PersistentKind, Rules};
use crate::domain::api_key::{prefix_of, SecretHash, LAST_USED_EVERY};
use crate::domain::{ApiKeyState, KeyVerdict, Scope};
use crate::store::{ApiKeyRow, Database, StoreResult};

pub const KIND: &str = "api_key";

/// What a valid key lets its caller be: whose key, and the scopes it was granted (the
/// service intersects them with the owner's current ones).
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub scopes: BTreeSet<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What an API-key actor is asked.
pub enum ApiKeyMsg {
    /// Persist a new key (both stores) and own it.
    Create(Box<ApiKeyState>, Reply<()>),
    /// The verdict on a key presented with this secret hash from this address, with what
    /// the key grants; `None`: no such key.
    Validate {
        presented: SecretHash,
        ip: IpAddr,
        reply: Reply<Option<(KeyVerdict, Arc<KeyGrant>)>>,
    },
    /// Revoke the key; answers its final state when it was not revoked until now.
    Revoke(Reply<Option<ApiKeyState>>),
    Snapshot(Reply<Option<ApiKeyState>>),
    /// Another node wrote `version`: drop an older copy.
    Invalidate(i64),
}

#[async_trait]
impl Persistent for ApiKeyState {
    const KIND: &'static str = KIND;
    type Key = Uuid;
    version_in_field!();

    fn belongs_to(&self, key: &Uuid) -> bool {
        self.id == *key
    }

    fn cache_ttl(&self, now: DateTime<Utc>) -> Duration {
        ApiKeyState::cache_ttl(self, now)
    }

    async fn read(db: &dyn Database, key: &Uuid) -> StoreResult<Option<(i64, String)>> {
        Ok(db.api_key(*key).await?.map(|row| (row.version, row.state)))
    }

    async fn read_version(db: &dyn Database, key: &Uuid) -> StoreResult<Option<i64>> {
        db.api_key_version(*key).await
    }

    async fn write(&self, db: &dyn Database, key: &Uuid, sealed: &str, expected: i64) -> StoreResult<bool> {
        let row = ApiKeyRow {
            id: *key,
            tenant_id: self.tenant_id,
            user_id: self.user_id,
            name: self.name.clone(),
            prefix: prefix_of(self.id),
            secret_hash: self.secret_hash.iter().map(|b| format!("{b:02x}")).collect(),
            scopes: self.scopes.join(" "),
            allowed_ips: self.allowed_ips.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(","),
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
            state: sealed.to_owned(),
            version: self.version,
        };
        db.save_api_key(&row, expected).await
    }
}

/// The rules of API-key actors.
pub struct ApiKeyRules;

/// The directory's kind for API keys.
pub type ApiKeyKind = PersistentKind<ApiKeyRules>;

/// What an API-key actor keeps beside its stored state.
#[derive(Default)]
pub struct ApiKeyMemory {
    /// The last valid use not yet written (see [`LAST_USED_EVERY`]).
    used: Option<DateTime<Utc>>,
    /// What the current version grants, built once per version rather than per request.
    grant: Option<(i64, Arc<KeyGrant>)>,
}

impl Held<ApiKeyRules> {
    /// The state as callers should see it: with the latest use.
    fn view(&self) -> Option<ApiKeyState> {
        let mut state = self.stored.current()?.clone();
        if let Some(used) = self.memory.used.filter(|used| state.last_used_at.is_none_or(|at| *used > at)) {
            state.last_used_at = Some(used);
        }
        Some(state)
    }

    fn grant(&mut self) -> Option<Arc<KeyGrant>> {
        let state = self.stored.current()?;
        match &self.memory.grant {
            Some((version, grant)) if *version == state.version => Some(grant.clone()),
            _ => {
                let grant = Arc::new(KeyGrant {
                    id: state.id,
                    tenant_id: state.tenant_id,
                    user_id: state.user_id,
                    scopes: state.scopes.iter().filter_map(|s| s.parse().ok()).collect(),
                    expires_at: state.expires_at,
                });
                self.memory.grant = Some((state.version, grant.clone()));
                Some(grant)
            }
        }
    }

    /// Writes the last use when the stored one is older by `at_least` (or there is none).
    async fn flush_last_used(&mut self, ctx: &ActorContext, at_least: chrono::Duration) {
        let Some(used) = self.memory.used else { return };
        let due = self
            .stored
            .current()
            .is_some_and(|k| k.revoked_at.is_none() && k.last_used_at.is_none_or(|at| used - at >= at_least));
        if !due {
            return;
        }
        let flushed = self
            .stored
            .flush(ctx, "an API key's last use", |k| {
                let newer = k.revoked_at.is_none() && k.last_used_at.is_none_or(|at| used > at);
                if newer {
                    k.last_used_at = Some(used);
                }
                newer
            })
            .await;
        if flushed {
            // Otherwise kept in memory; the next use or the passivation tries again.
            self.memory.used = None;
        }
    }
}

#[async_trait]
impl Rules for ApiKeyRules {
    type State = ApiKeyState;
    type Msg = ApiKeyMsg;
    type Memory = ApiKeyMemory;

    async fn handle(ctx: &ActorContext, message: ApiKeyMsg, held: &mut Held<Self>) {
        let now = Utc::now();
        match message {
            ApiKeyMsg::Create(new, reply) => {
                let _ = reply.send(held.stored.create(ctx, *new).await);
            }
            ApiKeyMsg::Validate { presented, ip, reply } => {
                let verdict = match held.stored.load(ctx).await {
                    Ok(Some(key)) => {
                        let verdict = key.verdict(&presented, ip, now);
                        Ok(held.grant().map(|grant| (verdict, grant)))
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                };
                let valid = matches!(verdict, Ok(Some((KeyVerdict::Valid, _))));
                if valid {
                    held.memory.used = Some(now);
                }
                let _ = reply.send(verdict);
                if valid {
                    held.flush_last_used(ctx, LAST_USED_EVERY).await;
                }
            }
            ApiKeyMsg::Revoke(reply) => {
                let revoked = held
                    .stored
                    .change(
                        ctx,
                        || None,
                        |k| {
                            let revoked = k.revoke(now);
                            (revoked, revoked)
                        },
                    )
                    .await;
                // Only the message that revoked it answers the final state (once, for the audit).
                let _ = reply.send(revoked.map(|r| if r == Some(true) { held.view() } else { None }));
            }
            ApiKeyMsg::Snapshot(reply) => {
                let loaded = held.stored.load(ctx).await.map(|_| ());
                let _ = reply.send(loaded.map(|()| held.view()));
            }
            ApiKeyMsg::Invalidate(version) => held.stored.invalidate(version),
        }
    }

    /// A revoked, expired or unknown key has nothing left to guard.
    fn is_over(held: &Held<Self>) -> bool {
        held.stored.is_missing() || held.stored.current().is_some_and(|k| !k.is_active(Utc::now()))
    }

    /// The last use is not lost with the actor.
    async fn on_stop(ctx: &ActorContext, held: &mut Held<Self>) {
        held.flush_last_used(ctx, chrono::Duration::zero()).await;
    }
}
