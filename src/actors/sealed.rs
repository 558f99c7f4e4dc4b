//! Every family of records sealed with the session encryption keys ([`FAMILIES`]), resealing
//! them under the first key while the server runs (`tradesage keys reseal`), and counting those
//! still sealed under an older one (the janitor, for the `tradesage_sealed_records_stale`
//! gauge), so an operator knows when an old key can leave `SESSION_ENCRYPTION_KEYS`.
//!
//! A reseal writes by compare-and-set on the record's version and bumps it, so it never
//! overwrites a live actor's newer write: a live actor that then writes loses its own
//! compare-and-set, reloads and applies its change to the resealed state (the persistence
//! core's retry). The cache's copy of a resealed record is dropped; the next activation reads
//! the database and mirrors the new seal.

use crate::auth::StateCipher;
use crate::store::sealed::{IdKind, RecordId, SealedFamily, SealedRecord};
use crate::store::{Cache, Database, StoreResult};

/// The sealed families. A new family of sealed records is one more entry here.
pub const FAMILIES: &[SealedFamily] = &[
    SealedFamily {
        name: "sessions",
        table: "sessions",
        id: "id",
        id_kind: IdKind::Uuid,
        sealed: "state",
        version: "version",
        cache_kind: Some(super::session::KIND),
    },
    SealedFamily {
        name: "lockouts",
        table: "lockouts",
        id: "key",
        id_kind: IdKind::Text,
        sealed: "state",
        version: "version",
        cache_kind: Some(super::lockout::KIND),
    },
    SealedFamily {
        name: "mfa_secrets",
        table: "users",
        id: "id",
        id_kind: IdKind::Uuid,
        sealed: "mfa_state",
        version: "mfa_version",
        cache_kind: Some(super::mfa_state::KIND),
    },
    SealedFamily {
        name: "mfa_challenges",
        table: "mfa_challenges",
        id: "key",
        id_kind: IdKind::Text,
        sealed: "state",
        version: "version",
        cache_kind: Some(super::mfa_challenge::KIND),
    },
    SealedFamily {
        name: "signing_keys",
        table: "signing_keys",
        id: "kid",
        id_kind: IdKind::Text,
        sealed: "private_sealed",
        version: "version",
        cache_kind: None,
    },
    SealedFamily {
        name: "api_keys",
        table: "api_keys",
        id: "id",
        id_kind: IdKind::Uuid,
        sealed: "state",
        version: "version",
        cache_kind: Some(super::api_key::KIND),
    },
];

/// Records read per statement.
pub const BATCH: i64 = 500;
/// How many times a record that live writers keep changing is tried.
const ATTEMPTS: usize = 3;

/// What a reseal did in one family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealCount {
    pub family: &'static str,
    /// Sealed again under the first key.
    pub resealed: u64,
    /// Already under the first key.
    pub current: u64,
    /// Opened by no configured key (left as they are).
    pub unreadable: u64,
    /// Changed by live writers at every attempt (run the reseal again).
    pub contended: u64,
}

/// Seals every record of every family under the first key, `batch` records at a time.
pub async fn reseal(
    db: &dyn Database,
    cache: &dyn Cache,
    cipher: &StateCipher,
    batch: i64,
) -> StoreResult<Vec<ResealCount>> {
    let mut counts = Vec::new();
    for family in FAMILIES {
        let mut count = ResealCount { family: family.name, ..ResealCount::default() };
        let mut after: Option<RecordId> = None;
        loop {
            let records = db.sealed_batch(family, after.as_ref(), batch).await?;
            for record in &records {
                reseal_one(db, cache, cipher, family, record.clone(), &mut count).await?;
            }
            match records.last() {
                Some(last) if records.len() as i64 >= batch => after = Some(last.id.clone()),
                _ => break,
            }
        }
        tracing::info!(
            family = family.name,
            resealed = count.resealed,
            current = count.current,
            unreadable = count.unreadable,
            contended = count.contended,
            "resealed"
        );
        counts.push(count);
    }
    Ok(counts)
}

async fn reseal_one(
    db: &dyn Database,
    cache: &dyn Cache,
    cipher: &StateCipher,
    family: &SealedFamily,
    mut record: SealedRecord,
    count: &mut ResealCount,
) -> StoreResult<()> {
    for _ in 0..ATTEMPTS {
        let sealed = match cipher.reseal(&record.sealed) {
            Err(_) => {
                count.unreadable += 1;
                return Ok(());
            }
            Ok(None) => {
                count.current += 1;
                return Ok(());
            }
            Ok(Some(sealed)) => sealed,
        };
        if db.replace_sealed(family, &record, &sealed).await? {
            if let Some(kind) = family.cache_kind {
                if let Err(e) = cache.delete(&format!("{kind}:{}", record.id)).await {
                    // The copy is older than the database's version: activations skip it.
                    tracing::debug!(error = %e, family = family.name, "could not drop a cached copy");
                }
            }
            count.resealed += 1;
            return Ok(());
        }
        // A live writer changed it first: take what it wrote (perhaps under the first key).
        match db.sealed_record(family, &record.id).await? {
            Some(now) => record = now,
            None => return Ok(()),
        }
    }
    count.contended += 1;
    Ok(())
}

/// How many records of each family are not sealed under the first key. With a single key
/// configured every readable record is, and nothing is read.
pub async fn count_stale(db: &dyn Database, cipher: &StateCipher) -> StoreResult<Vec<(&'static str, u64)>> {
    let mut counts = Vec::new();
    for family in FAMILIES {
        let mut stale = 0;
        if cipher.key_count() > 1 {
            let mut after: Option<RecordId> = None;
            loop {
                let records = db.sealed_batch(family, after.as_ref(), BATCH).await?;
                stale += records.iter().filter(|r| !cipher.is_current(&r.sealed)).count() as u64;
                match records.last() {
                    Some(last) if records.len() as i64 >= BATCH => after = Some(last.id.clone()),
                    _ => break,
                }
            }
        }
        counts.push((family.name, stale));
    }
    Ok(counts)
}
