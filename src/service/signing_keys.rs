//! Signing keys kept in the database (API.md §5.4), when `JWT_PRIVATE_KEY_PATH` is not set: the
//! first node to start creates one; every node signs with the current one and verifies with
//! every published one; automatic rotation (`SIGNING_KEY_ROTATION`, `SIGNING_KEY_PREPUBLISH`)
//! publishes a successor before it signs and keeps a retired key published until the last
//! token it signed has expired. `tradesage keys rotate` ([`rotate_now`]) makes a new key sign
//! at once.
//!
//! Every change runs under the store's cluster-wide key lock (one node at a time) as a plan over
//! the stored keys ([`plan_due`], [`plan_rotate_now`]), so the decision is made on what is
//! stored, not on what a node believed. A node that changed the keys says so on the events
//! channel; every node also re-reads them every [`CHECK_EVERY`], so a lost event delays a
//! node by at most that — and at once (at most once a second) when a token names a `kid` it
//! does not know, so another node's new key is learnt from its first token. Keys switch by the clock (`activates_at`, `retires_at`), not by the
//! message: every node changes key at the same moment.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use p256::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use p256::PublicKey;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::Core;
use crate::auth::keys::{new_key, parse_private, thumbprint, KeyRing, NewKey, RingKey};
use crate::auth::StateCipher;
use crate::config::Config;
use crate::store::cache::ChangeEvent;
use crate::store::signing_keys::{KeyChanges, SigningKeyRow};
use crate::store::{Cache, Database};

/// The kind of the events that say the signing keys changed.
pub const KIND: &str = "signing_key";
/// How often every node re-reads the keys (and rotates them when due), events or not.
/// Under 5 s, so a node that missed the event of a `keys rotate` still follows within 5 s.
pub const CHECK_EVERY: Duration = Duration::from_secs(4);

/// How far a key that signs at once is published (and, when no key signed, activated) in the
/// past: a node whose clock lags this much behind still finds it published, rather than a
/// token of a key it does not know yet.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::seconds(60);

/// After a check for a token of an unknown `kid`, the next such check waits this long.
const UNKNOWN_KID_PAUSE: Duration = Duration::from_secs(1);

/// When keys change, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// How long a key signs before its successor takes over; `None`: no automatic rotation.
    pub rotation: Option<Duration>,
    /// How long a successor is published before it signs.
    pub prepublish: Duration,
    /// How long a retired key stays published: the longest a token it signed lives (access and
    /// refresh tokens alike), plus [`CHECK_EVERY`] for the nodes that follow a `keys rotate`
    /// late.
    pub grace: Duration,
}

impl Schedule {
    pub fn from_config(config: &Config) -> Self {
        Self {
            rotation: config.signing_key_rotation,
            prepublish: config.signing_key_prepublish,
            grace: config.access_ttl.max(config.refresh_ttl) + CHECK_EVERY,
        }
    }
}

fn span(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

fn after(at: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    at.checked_add_signed(span(duration)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The key that signs at `now`: the latest activated that has not retired.
fn signer(rows: &[SigningKeyRow], now: DateTime<Utc>) -> Option<&SigningKeyRow> {
    rows.iter()
        .filter(|k| k.activates_at <= now && k.retires_at.is_none_or(|at| at > now))
        .filter(|k| k.expires_at.is_none_or(|at| at > now))
        .max_by_key(|k| k.activates_at)
}

/// Whether [`plan_due`] would change anything: no key signs, or a rotation is due.
pub fn change_due(rows: &[SigningKeyRow], now: DateTime<Utc>, schedule: &Schedule) -> bool {
    let Some(current) = signer(rows, now) else { return true };
    let Some(rotation) = schedule.rotation else { return false };
    let has_successor = rows.iter().any(|k| k.activates_at > current.activates_at);
    !has_successor && now >= after(current.activates_at, rotation) - span(schedule.prepublish)
}

/// Keeps a key signing and rotates when due: with no key signing, `first` (for an empty table)
/// or `fresh` signs from `now`; when the signing key has signed for `rotation` less
/// `prepublish` and has no successor, `fresh` is published now to sign `prepublish` later (or
/// when the rotation period ends, if later) and the current key retires then.
pub fn plan_due(
    rows: &[SigningKeyRow],
    now: DateTime<Utc>,
    schedule: &Schedule,
    first: &SigningKeyRow,
    fresh: &SigningKeyRow,
) -> KeyChanges {
    let mut changes = KeyChanges::default();
    if !change_due(rows, now, schedule) {
        return changes;
    }
    let Some(current) = signer(rows, now) else {
        let mut key = if rows.is_empty() { first.clone() } else { fresh.clone() };
        (key.created_at, key.publish_at, key.activates_at) = (now, now - CLOCK_SLACK, now - CLOCK_SLACK);
        changes.insert.push(key);
        return changes;
    };
    let rotation = schedule.rotation.unwrap_or(Duration::MAX);
    let activates_at = after(now, schedule.prepublish).max(after(current.activates_at, rotation));
    let mut successor = fresh.clone();
    (successor.created_at, successor.publish_at, successor.activates_at) = (now, now, activates_at);
    let mut retiring = current.clone();
    retiring.retires_at = Some(activates_at);
    retiring.expires_at = Some(after(activates_at, schedule.grace));
    retiring.version += 1;
    changes.insert.push(successor);
    changes.update.push(retiring);
    changes
}

/// `keys rotate`: `fresh` signs from `now` (published a little earlier, [`CLOCK_SLACK`]);
/// every key still signing or waiting to sign retires now.
/// A key that signed stays published for the grace; one that never signed (a successor not
/// active yet) leaves JWKS at once.
pub fn plan_rotate_now(
    rows: &[SigningKeyRow],
    now: DateTime<Utc>,
    schedule: &Schedule,
    fresh: &SigningKeyRow,
) -> KeyChanges {
    let mut changes = KeyChanges::default();
    for row in rows.iter().filter(|k| k.retires_at.is_none_or(|at| at > now) && k.expires_at.is_none_or(|at| at > now))
    {
        let mut retiring = row.clone();
        let signed = row.activates_at <= now;
        retiring.retires_at = Some(now);
        retiring.expires_at = Some(if signed { after(now, schedule.grace) } else { now });
        retiring.version += 1;
        changes.update.push(retiring);
    }
    let mut key = fresh.clone();
    (key.created_at, key.publish_at, key.activates_at) = (now, now - CLOCK_SLACK, now);
    changes.insert.push(key);
    changes
}

/// A stored row for `key`, its private half sealed with the first session encryption key.
pub fn row_for(key: &NewKey, cipher: &StateCipher, now: DateTime<Utc>) -> SigningKeyRow {
    SigningKeyRow {
        kid: key.kid.clone(),
        public_pem: key.public_pem.clone(),
        private_sealed: cipher.encrypt(key.private_pem.as_bytes()),
        created_at: now,
        publish_at: now,
        activates_at: now,
        retires_at: None,
        expires_at: None,
        version: 1,
    }
}

/// The key an earlier version generated into the data directory (`jwt-private.pem`), so the
/// tokens it signed keep verifying once the keys move into the database.
fn key_file_of_earlier_version(config: &Config) -> Option<NewKey> {
    let path = config.data_dir.join("jwt-private.pem");
    if !path.exists() {
        return None;
    }
    let loaded = crate::auth::files::read_private(&path).map_err(crate::auth::keys::KeyError).and_then(|pem| {
        let secret = parse_private(&pem)?;
        let public = secret.public_key();
        let error = |e: &dyn std::fmt::Display| crate::auth::keys::KeyError(e.to_string());
        Ok(NewKey {
            kid: thumbprint(&public),
            private_pem: secret.to_pkcs8_pem(LineEnding::LF).map_err(|e| error(&e))?,
            public_pem: public.to_public_key_pem(LineEnding::LF).map_err(|e| error(&e))?,
            secret,
        })
    });
    match loaded {
        Ok(key) => Some(key),
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "the key file of an earlier version is not imported");
            None
        }
    }
}

/// The ring's keys from the stored rows, and what is wrong with rows that do not load (a
/// private half that no configured session encryption key opens verifies, but cannot sign).
pub fn ring_keys(rows: &[SigningKeyRow], cipher: &StateCipher) -> (Vec<RingKey>, Vec<String>) {
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    for row in rows {
        let Ok(public) = PublicKey::from_public_key_pem(&row.public_pem) else {
            problems.push(format!("stored signing key {} has no readable public key", row.kid));
            continue;
        };
        if thumbprint(&public) != row.kid {
            problems.push(format!("stored signing key {} does not match its public key", row.kid));
            continue;
        }
        let secret = cipher.decrypt(&row.private_sealed).ok().and_then(|pem| parse_private(&pem).ok());
        if secret.is_none() && row.retires_at.is_none_or(|at| at > Utc::now()) {
            problems.push(format!(
                "stored signing key {} does not unseal with SESSION_ENCRYPTION_KEYS (the same keys on every node?)",
                row.kid
            ));
        }
        let key =
            RingKey::new(public, secret.as_ref(), row.publish_at, row.activates_at, row.retires_at, row.expires_at);
        match key {
            Ok(key) => keys.push(key),
            Err(e) => problems.push(format!("stored signing key {}: {e}", row.kid)),
        }
    }
    (keys, problems)
}

/// Makes sure a key signs (the first node to start creates it; a key file of an earlier
/// version becomes the first key) and rotates when due. True when it changed the keys.
async fn keep_signing(db: &dyn Database, cipher: &StateCipher, config: &Config) -> anyhow::Result<bool> {
    let schedule = Schedule::from_config(config);
    let now = Utc::now();
    let fresh = row_for(&new_key()?, cipher, now);
    let first = key_file_of_earlier_version(config).map(|key| row_for(&key, cipher, now)).unwrap_or(fresh.clone());
    let changes =
        db.change_signing_keys(&|rows| plan_due(rows, now, &schedule, &first, &fresh)).await.context("signing keys")?;
    if changes.insert.iter().any(|k| k.kid == first.kid && first.kid != fresh.kid) {
        tracing::info!(kid = %first.kid, "the key file of the data directory is now the first signing key in the database");
    }
    Ok(!changes.is_empty())
}

/// The key ring of a node without key files: the keys in the database, creating the first.
pub async fn load_ring(db: &dyn Database, cipher: &StateCipher, config: &Config) -> anyhow::Result<KeyRing> {
    keep_signing(db, cipher, config).await?;
    let rows = db.signing_keys().await.context("reading the signing keys")?;
    let (keys, problems) = ring_keys(&rows, cipher);
    let ring = KeyRing::from_database(keys).map_err(|e| {
        anyhow::anyhow!("{e}: no stored signing key unseals with SESSION_ENCRYPTION_KEYS ({})", problems.join("; "))
    })?;
    ring.set_problem((!problems.is_empty()).then(|| problems.join("; ")));
    Ok(ring)
}

/// Tells every node that the signing keys changed.
pub async fn announce(cache: &dyn Cache, node_id: Uuid, kid: &str) {
    let message = ChangeEvent { node_id, kind: KIND.into(), id: kid.into(), version: 0 }.render();
    if let Err(e) = cache.publish(&message).await {
        tracing::warn!(error = %e, "could not announce the new signing key; nodes follow at their next check");
    }
}

/// `tradesage keys rotate` without key files: a new key signs at once on every node (within
/// [`CHECK_EVERY`]); the keys it replaces stay published until their tokens have expired.
/// Returns the new key's `kid`.
pub async fn rotate_now(
    db: &dyn Database,
    cache: &dyn Cache,
    cipher: &StateCipher,
    config: &Config,
) -> anyhow::Result<String> {
    let schedule = Schedule::from_config(config);
    let now = Utc::now();
    let fresh = row_for(&new_key()?, cipher, now);
    db.change_signing_keys(&|rows| plan_rotate_now(rows, now, &schedule, &fresh)).await.context("signing keys")?;
    announce(cache, Uuid::new_v4(), &fresh.kid).await;
    Ok(fresh.kid)
}

/// One check of a node: rotates when due (under the lock), then installs the stored keys when
/// they changed since `seen`. Returns the stored keys now.
pub async fn check(core: &Core, seen: &[SigningKeyRow]) -> anyhow::Result<Vec<SigningKeyRow>> {
    let db = core.stores.db.as_ref();
    let cipher = &core.actors.ctx.cipher;
    let mut rows = db.signing_keys().await.context("reading the signing keys")?;
    if change_due(&rows, Utc::now(), &Schedule::from_config(&core.config))
        && keep_signing(db, cipher, &core.config).await?
    {
        rows = db.signing_keys().await.context("reading the signing keys")?;
        announce(core.stores.cache.as_ref(), core.actors.ctx.node_id, "-").await;
        tracing::info!("signing keys rotated");
    }
    let ring = core.tokens.key_ring();
    if rows != seen {
        let (keys, problems) = ring_keys(&rows, cipher);
        ring.install(keys).map_err(|e| anyhow::anyhow!("{e}; keeping the last good keys"))?;
        ring.set_problem((!problems.is_empty()).then(|| problems.join("; ")));
    }
    Ok(rows)
}

/// Starts what keeps a node's keys current until aborted at shutdown: with keys in the
/// database, a check every [`CHECK_EVERY`] and at once when another node announces a change;
/// with key files, the watcher that re-reads them.
pub fn start(core: &Arc<Core>) -> Vec<JoinHandle<()>> {
    if !core.tokens.key_ring().is_database() {
        return vec![watch_files(core.clone())];
    }
    let wake = Arc::new(tokio::sync::Notify::new());
    let mut events = core.stores.cache.subscribe();
    let node_id = core.actors.ctx.node_id;
    let listener_wake = wake.clone();
    let listener = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(message) => {
                    let ours = ChangeEvent::parse(&message).is_some_and(|e| e.kind == KIND && e.node_id != node_id);
                    if ours {
                        listener_wake.notify_one();
                    }
                }
                // Missed events may have held ours: check now.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => listener_wake.notify_one(),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let core = core.clone();
    let checker = tokio::spawn(async move {
        let mut seen: Vec<SigningKeyRow> = Vec::new();
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let unknown_kid = tokio::select! {
                _ = tick.tick() => false,
                () = wake.notified() => false,
                () = core.tokens.key_ring().unknown_kid() => true,
            };
            match check(&core, &seen).await {
                Ok(rows) => seen = rows,
                Err(e) => {
                    tracing::warn!(error = %e, "could not check the signing keys; the next check retries");
                    core.tokens.key_ring().set_problem(Some(format!("the signing keys could not be checked: {e:#}")));
                    // Re-install whatever is read next time, clearing the problem.
                    seen.clear();
                }
            }
            if unknown_kid {
                // Anyone can send a token with a made-up kid: at most one such check a second.
                tokio::time::sleep(UNKNOWN_KID_PAUSE).await;
            }
        }
    });
    vec![listener, checker]
}

/// Key files: every 5 s, re-reads them when they changed on disk (`keys rotate`).
fn watch_files(core: Arc<Core>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(CHECK_EVERY);
        loop {
            interval.tick().await;
            match core.tokens.key_ring().refresh() {
                Ok(true) => tracing::info!("JWT keys changed on disk (a rotation)"),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, "JWT keys changed on disk but could not be loaded; keeping the old ones")
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rotation every 1,000 s, successors published 100 s ahead, retired keys kept 50 s.
    fn every_1000_s() -> Schedule {
        Schedule {
            rotation: Some(Duration::from_secs(1_000)),
            prepublish: Duration::from_secs(100),
            grace: Duration::from_secs(50),
        }
    }

    fn row(kid: &str, activates: i64, retires: Option<i64>, t0: DateTime<Utc>) -> SigningKeyRow {
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        SigningKeyRow {
            kid: kid.into(),
            public_pem: String::new(),
            private_sealed: String::new(),
            created_at: at(activates),
            publish_at: at(activates),
            activates_at: at(activates),
            retires_at: retires.map(at),
            expires_at: retires.map(|r| at(r + 100)),
            version: 1,
        }
    }

    #[test]
    fn a_rotation_publishes_the_successor_prepublish_before_the_period_ends_and_retires_the_key_then() {
        let (t0, schedule) = (Utc::now(), every_1000_s());
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        let (first, fresh) = (row("first", 0, None, t0), row("fresh", 0, None, t0));
        let empty = plan_due(&[], at(5), &schedule, &first, &fresh);
        assert_eq!(empty.insert[0].kid, "first", "an empty table takes the first key");
        assert!(empty.insert[0].activates_at < at(5), "signing at once, even on a lagging clock");
        let current = row("current", 0, None, t0);
        assert!(plan_due(std::slice::from_ref(&current), at(899), &schedule, &first, &fresh).is_empty());
        let due = plan_due(std::slice::from_ref(&current), at(900), &schedule, &first, &fresh);
        let (successor, retiring) = (&due.insert[0], &due.update[0]);
        assert_eq!(
            (successor.kid.as_str(), successor.publish_at, successor.activates_at),
            ("fresh", at(900), at(1_000))
        );
        assert_eq!((retiring.retires_at, retiring.expires_at, retiring.version), (Some(at(1_000)), Some(at(1_050)), 2));
        // Overdue (the cluster was down): the successor is still published a full prepublish ahead.
        let late = plan_due(std::slice::from_ref(&current), at(5_000), &schedule, &first, &fresh);
        assert_eq!(late.insert[0].activates_at, at(5_100));
        // A successor already waiting: nothing to do, on any node.
        let rows = [retiring.clone(), successor.clone()];
        assert!(
            !change_due(&rows, at(950), &schedule) && plan_due(&rows, at(950), &schedule, &first, &fresh).is_empty()
        );
        let off = Schedule { rotation: None, ..schedule };
        assert!(!change_due(std::slice::from_ref(&current), at(99_999), &off));
    }

    #[test]
    fn keys_rotate_signs_at_once_and_retires_the_signing_key_and_a_waiting_successor() {
        let (t0, schedule) = (Utc::now(), every_1000_s());
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        let rows = [row("old", -500, Some(-400), t0), row("current", 0, Some(100), t0), row("waiting", 100, None, t0)];
        let changes = plan_rotate_now(&rows, at(10), &schedule, &row("new", 0, None, t0));
        assert_eq!(changes.insert[0].activates_at, at(10));
        let updates: Vec<_> = changes.update.iter().map(|r| (r.kid.as_str(), r.retires_at, r.expires_at)).collect();
        assert_eq!(updates, [("current", Some(at(10)), Some(at(60))), ("waiting", Some(at(10)), Some(at(10)))]);
    }
}
