//! Sealed records, family by family, for `tradesage keys reseal` and the count of records
//! still sealed under an older key: a [`SealedFamily`] says where a family's rows are, and
//! [`SealedStore`] pages through them in id order and replaces one sealed value by
//! compare-and-set on its version, on PostgreSQL and SQLite alike.

use async_trait::async_trait;
use uuid::Uuid;

use super::cached::CachedDatabase;
use super::sql::{PostgresStore, SqliteStore};
use super::sql_error::db_error;
use super::StoreResult;

/// Where one family of sealed records lives. Names are compile-time constants of this crate,
/// never input, so they are written into the SQL as they are.
#[derive(Debug, Clone, Copy)]
pub struct SealedFamily {
    /// The family's name in counts and metrics.
    pub name: &'static str,
    pub table: &'static str,
    /// The primary key column.
    pub id: &'static str,
    pub id_kind: IdKind,
    /// The column holding the Fernet token (rows where it is NULL hold nothing sealed).
    pub sealed: &'static str,
    /// The column ordering writes; a reseal writes where it is unchanged and bumps it.
    pub version: &'static str,
    /// The kind whose cache entries (`<kind>:<id>`) copy these records, if any.
    pub cache_kind: Option<&'static str>,
}

/// The type of a family's primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uuid,
    Text,
}

/// A record's primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordId {
    Uuid(Uuid),
    Text(String),
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordId::Uuid(id) => id.fmt(f),
            RecordId::Text(id) => f.write_str(id),
        }
    }
}

/// One sealed value with its version.
#[derive(Debug, Clone)]
pub struct SealedRecord {
    pub id: RecordId,
    pub version: i64,
    pub sealed: String,
}

/// The sealed-records part of the [`Database`](super::Database).
#[async_trait]
pub trait SealedStore: Send + Sync {
    /// Up to `limit` records of `family` after `after` in id order (`None`: from the first).
    async fn sealed_batch(
        &self,
        family: &SealedFamily,
        after: Option<&RecordId>,
        limit: i64,
    ) -> StoreResult<Vec<SealedRecord>>;
    /// One record as stored now.
    async fn sealed_record(&self, family: &SealedFamily, id: &RecordId) -> StoreResult<Option<SealedRecord>>;
    /// Writes `sealed` over `record` where its version is still `record.version`, at the next
    /// version; false when a live writer changed it first.
    async fn replace_sealed(&self, family: &SealedFamily, record: &SealedRecord, sealed: &str) -> StoreResult<bool>;
}

fn select(f: &SealedFamily, condition: &str) -> String {
    format!(
        "SELECT {id}, {version}, {sealed} FROM {table} WHERE {sealed} IS NOT NULL{condition} ORDER BY {id} LIMIT $2",
        id = f.id,
        version = f.version,
        sealed = f.sealed,
        table = f.table,
    )
}

macro_rules! sql_sealed_store {
    ($store:ty) => {
        #[async_trait]
        impl SealedStore for $store {
            async fn sealed_batch(&self, f: &SealedFamily, after: Option<&RecordId>, limit: i64) -> StoreResult<Vec<SealedRecord>> {
                let sql = match after {
                    Some(_) => select(f, &format!(" AND {} > $1", f.id)),
                    // `$1 IS NULL` keeps the placeholders numbered alike in both statements.
                    None => select(f, " AND $1 IS NULL"),
                };
                match f.id_kind {
                    IdKind::Uuid => {
                        let after = match after { Some(RecordId::Uuid(id)) => Some(*id), _ => None };
                        let rows = sqlx::query_as::<_, (Uuid, i64, String)>(&sql).bind(after).bind(limit)
                            .fetch_all(&self.pool).await.map_err(db_error)?;
                        Ok(rows.into_iter().map(|(id, version, sealed)| SealedRecord { id: RecordId::Uuid(id), version, sealed }).collect())
                    }
                    IdKind::Text => {
                        let after = match after { Some(RecordId::Text(id)) => Some(id.clone()), _ => None };
                        let rows = sqlx::query_as::<_, (String, i64, String)>(&sql).bind(after).bind(limit)
                            .fetch_all(&self.pool).await.map_err(db_error)?;
                        Ok(rows.into_iter().map(|(id, version, sealed)| SealedRecord { id: RecordId::Text(id), version, sealed }).collect())
                    }
                }
            }

            async fn sealed_record(&self, f: &SealedFamily, id: &RecordId) -> StoreResult<Option<SealedRecord>> {
                let sql = format!(
                    "SELECT {version}, {sealed} FROM {table} WHERE {id} = $1 AND {sealed} IS NOT NULL",
                    version = f.version, sealed = f.sealed, table = f.table, id = f.id,
                );
                let query = sqlx::query_as::<_, (i64, String)>(&sql);
                let row = match id {
                    RecordId::Uuid(value) => query.bind(*value).fetch_optional(&self.pool).await,
                    RecordId::Text(value) => query.bind(value.as_str()).fetch_optional(&self.pool).await,
                }
                .map_err(db_error)?;
                Ok(row.map(|(version, sealed)| SealedRecord { id: id.clone(), version, sealed }))
            }

            async fn replace_sealed(&self, f: &SealedFamily, record: &SealedRecord, sealed: &str) -> StoreResult<bool> {
                let sql = format!(
                    "UPDATE {table} SET {sealed} = $1, {version} = {version} + 1 WHERE {id} = $2 AND {version} = $3",
                    table = f.table, sealed = f.sealed, version = f.version, id = f.id,
                );
                let query = sqlx::query(&sql).bind(sealed);
                let query = match &record.id {
                    RecordId::Uuid(value) => query.bind(*value),
                    RecordId::Text(value) => query.bind(value.as_str()),
                };
                query.bind(record.version).execute(&self.pool).await.map(|r| r.rows_affected() == 1).map_err(db_error)
            }
        }
    };
}

sql_sealed_store!(PostgresStore);
sql_sealed_store!(SqliteStore);

#[async_trait]
impl SealedStore for CachedDatabase {
    async fn sealed_batch(
        &self,
        family: &SealedFamily,
        after: Option<&RecordId>,
        limit: i64,
    ) -> StoreResult<Vec<SealedRecord>> {
        self.inner().sealed_batch(family, after, limit).await
    }
    async fn sealed_record(&self, family: &SealedFamily, id: &RecordId) -> StoreResult<Option<SealedRecord>> {
        self.inner().sealed_record(family, id).await
    }
    async fn replace_sealed(&self, family: &SealedFamily, record: &SealedRecord, sealed: &str) -> StoreResult<bool> {
        self.inner().replace_sealed(family, record, sealed).await
    }
}
