//! The API-key actor: one per key id, the single writer of that key's state on this node, like
//! a session's. Activated on a key's first use (from the cache, else the database), it holds
//! the secret's hash, the scopes, the allowed networks and the expiry, so checking a presented
//! key is a memory check. Revocation is persisted and announced; other nodes drop their copy
//! on the event, and the revoked key's actor stops.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use uuid::Uuid;

use super::directory::{Reply, VirtualKind};
use super::persist::{ActorContext, Persisted, Persistent};
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

    fn version(&self) -> i64 {
        self.version
    }

    fn set_version(&mut self, version: i64) {
        self.version = version;
    }

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

pub struct ApiKeyKind {
    pub ctx: Arc<ActorContext>,
}

impl VirtualKind for ApiKeyKind {
    type Key = Uuid;
    type Actor = ApiKeyActor;
    const KIND: &'static str = KIND;
    fn behaviour(&self) -> ApiKeyActor {
        ApiKeyActor { ctx: self.ctx.clone() }
    }
}

pub struct ApiKeyActor {
    ctx: Arc<ActorContext>,
}

pub struct ApiKeyActorState {
    key: Persisted<ApiKeyState>,
    /// The last valid use not yet written (see [`LAST_USED_EVERY`]).
    used: Option<DateTime<Utc>>,
    /// What the current version grants, built once per version rather than per request.
    grant: Option<(i64, Arc<KeyGrant>)>,
}

impl ApiKeyActorState {
    /// The state as callers should see it: with the latest use.
    fn view(&self) -> Option<ApiKeyState> {
        let mut state = self.key.current()?.clone();
        if let Some(used) = self.used.filter(|used| state.last_used_at.is_none_or(|at| *used > at)) {
            state.last_used_at = Some(used);
        }
        Some(state)
    }

    fn grant(&mut self) -> Option<Arc<KeyGrant>> {
        let state = self.key.current()?;
        match &self.grant {
            Some((version, grant)) if *version == state.version => Some(grant.clone()),
            _ => {
                let grant = Arc::new(KeyGrant {
                    id: state.id,
                    tenant_id: state.tenant_id,
                    user_id: state.user_id,
                    scopes: state.scopes.iter().filter_map(|s| s.parse().ok()).collect(),
                    expires_at: state.expires_at,
                });
                self.grant = Some((state.version, grant.clone()));
                Some(grant)
            }
        }
    }
}

impl ApiKeyActor {
    /// Writes the last use when the stored one is older by `at_least` (or there is none).
    async fn flush_last_used(&self, state: &mut ApiKeyActorState, at_least: chrono::Duration) {
        let Some(used) = state.used else { return };
        let due = state
            .key
            .current()
            .is_some_and(|k| k.revoked_at.is_none() && k.last_used_at.is_none_or(|at| used - at >= at_least));
        if !due {
            return;
        }
        let written = state
            .key
            .change(
                &self.ctx,
                || None,
                |k| {
                    let newer = k.revoked_at.is_none() && k.last_used_at.is_none_or(|at| used > at);
                    if newer {
                        k.last_used_at = Some(used);
                    }
                    (newer, ())
                },
            )
            .await;
        match written {
            Ok(_) => state.used = None,
            // Kept in memory; the next use or the passivation tries again.
            Err(e) => tracing::debug!(error = %e, "could not write an API key's last use"),
        }
    }

    /// A revoked, expired or unknown key's actor stops: nothing is left for it to guard.
    fn stop_if_over(&self, myself: &ActorRef<ApiKeyMsg>, state: &ApiKeyActorState) {
        // Drained, not stopped: a stop would drop the messages already queued behind this one
        // (their callers would see "stopped before answering" and, under load, a 503); drained,
        // each is answered from the final state and later senders find a successor.
        if state.key.is_missing() || state.key.current().is_some_and(|k| !k.is_active(Utc::now())) {
            let _ = myself.drain();
        }
    }
}

impl Actor for ApiKeyActor {
    type Msg = ApiKeyMsg;
    type State = ApiKeyActorState;
    type Arguments = Uuid;

    async fn pre_start(&self, _myself: ActorRef<ApiKeyMsg>, id: Uuid) -> Result<ApiKeyActorState, ActorProcessingErr> {
        Ok(ApiKeyActorState { key: Persisted::new(id), used: None, grant: None })
    }

    async fn handle(
        &self,
        myself: ActorRef<ApiKeyMsg>,
        message: ApiKeyMsg,
        state: &mut ApiKeyActorState,
    ) -> Result<(), ActorProcessingErr> {
        // Boxed on purpose: the task of every idle actor would otherwise reserve room for the
        // largest handling future (store and cache round trips) for its whole life.
        Box::pin(self.handle_message(myself, message, state)).await
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ApiKeyMsg>,
        state: &mut ApiKeyActorState,
    ) -> Result<(), ActorProcessingErr> {
        // Passivation or shutdown: the last use is not lost with the actor.
        Box::pin(self.flush_last_used(state, chrono::Duration::zero())).await;
        Ok(())
    }
}

impl ApiKeyActor {
    async fn handle_message(
        &self,
        myself: ActorRef<ApiKeyMsg>,
        message: ApiKeyMsg,
        state: &mut ApiKeyActorState,
    ) -> Result<(), ActorProcessingErr> {
        let started = Instant::now();
        let now = Utc::now();
        let ctx = &self.ctx;
        match message {
            ApiKeyMsg::Create(new, reply) => {
                let _ = reply.send(state.key.create(ctx, *new).await);
            }
            ApiKeyMsg::Validate { presented, ip, reply } => {
                let verdict = match state.key.load(ctx).await {
                    Ok(Some(key)) => {
                        let verdict = key.verdict(&presented, ip, now);
                        Ok(state.grant().map(|grant| (verdict, grant)))
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                };
                let valid = matches!(verdict, Ok(Some((KeyVerdict::Valid, _))));
                if valid {
                    state.used = Some(now);
                }
                let _ = reply.send(verdict);
                if valid {
                    self.flush_last_used(state, LAST_USED_EVERY).await;
                }
            }
            ApiKeyMsg::Revoke(reply) => {
                let revoked = state
                    .key
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
                let _ = reply.send(revoked.map(|r| if r == Some(true) { state.view() } else { None }));
            }
            ApiKeyMsg::Snapshot(reply) => {
                let loaded = state.key.load(ctx).await.map(|_| ());
                let _ = reply.send(loaded.map(|()| state.view()));
            }
            ApiKeyMsg::Invalidate(version) => state.key.invalidate(version),
        }
        self.stop_if_over(&myself, state);
        ctx.metrics.actor_handle.with_label_values(&[KIND]).observe(started.elapsed().as_secs_f64());
        Ok(())
    }
}
