//! A user's two-factor state as a [`Persistent`] state. It has no actor of its own: it changes
//! rarely (enrolment, a code used) and each change is one compare-and-set, so the service
//! changes it through [`Persisted`](super::Persisted) directly and gets the persistence core's
//! sealing, version check and retry (two nodes accepting the same code: one wins, the other
//! reloads and finds the step used).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::persist::{version_in_field, Persistent};
use crate::domain::MfaState;
use crate::store::{Database, MfaWrite, StoreResult};

/// The kind name: cache keys `mfa:<user id>` and cross-node events.
pub const KIND: &str = "mfa";
/// How long the cache keeps a copy (activation checks it against the database's version).
const CACHE_TTL: Duration = Duration::from_secs(600);

#[async_trait]
impl Persistent for MfaState {
    const KIND: &'static str = KIND;
    type Key = Uuid;
    version_in_field!();

    fn belongs_to(&self, key: &Uuid) -> bool {
        self.user_id == *key
    }

    fn cache_ttl(&self, _now: DateTime<Utc>) -> Duration {
        CACHE_TTL
    }

    async fn read(db: &dyn Database, key: &Uuid) -> StoreResult<Option<(i64, String)>> {
        db.user_mfa(*key).await
    }

    async fn read_version(db: &dyn Database, key: &Uuid) -> StoreResult<Option<i64>> {
        db.user_mfa_version(*key).await
    }

    async fn write(&self, db: &dyn Database, key: &Uuid, sealed: &str, expected: i64) -> StoreResult<bool> {
        let write = MfaWrite {
            tenant_id: self.tenant_id,
            user_id: *key,
            sealed,
            version: self.version,
            enabled: self.is_enabled(),
        };
        db.save_user_mfa(&write, expected).await
    }
}
