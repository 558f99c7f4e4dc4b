//! List paging shared by every list endpoint: `?limit=&cursor=` in, `{items, next_cursor}` out,
//! and a query-string extractor whose rejections are problem+json answers.
//!
//! Cursors are the last id of the previous page. Ids are UUIDv7, so they sort by creation
//! time; a page is "newest first, strictly older than the cursor", and items created while a
//! client pages through never shift or repeat what it has not read yet.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::bad_query;
use super::error::ApiError;
use crate::domain::text::{plain, Tabs};
use crate::store::Page;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// `?limit=&cursor=`, kept as text so that a bad value answers 422 naming its field rather
/// than a bare 400. An empty value means "not given".
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1–200; 50 by default.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<Uuid>)]
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// What the client asked for.
    limit: i64,
    before: Option<Uuid>,
}

impl ListQuery {
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let limit = match given(&self.limit) {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| bad_query("limit", "must be a whole number from 1 to 200"))?,
        };
        let before = match given(&self.cursor) {
            None => None,
            Some(raw) => Some(
                raw.parse::<Uuid>().map_err(|_| bad_query("cursor", "must be the next_cursor of a previous page"))?,
            ),
        };
        Ok(PageRequest { limit, before })
    }
}

impl PageRequest {
    /// What to ask the store for: one item more than the client wants, to learn whether
    /// another page follows without a second query.
    pub fn store_page(&self) -> Page {
        Page { limit: self.limit + 1, before: self.before }
    }

    /// Cuts `items` (fetched with [`store_page`](Self::store_page)) to the page and answers
    /// `{items, next_cursor}`; `next_cursor` is null on the last page.
    pub fn answer<T: Serialize>(&self, mut items: Vec<T>, id: impl Fn(&T) -> Uuid) -> Response {
        let wanted = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let next_cursor = if items.len() > wanted {
            items.truncate(wanted);
            items.last().map(id)
        } else {
            None
        };
        Json(Listing { items, next_cursor }).into_response()
    }
}

/// Answers `items` as the one and only page (`next_cursor` null), for the lists that are
/// short by nature: a user's sessions and API keys, the current lockouts.
pub fn one_page<T: Serialize>(items: impl IntoIterator<Item = T>) -> Response {
    Json(Listing { items: items.into_iter().collect(), next_cursor: None }).into_response()
}

/// The shape of every list answer.
#[derive(Serialize, ToSchema)]
pub struct Listing<T: Serialize> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<Uuid>,
}

/// The query parameters the API reads: the names a 422 can point at.
const QUERY_FIELDS: [&str; 12] =
    ["limit", "cursor", "tenant", "event", "user_id", "outcome", "ip", "since", "until", "status", "scope", "minutes"];

/// A query string; a malformed one answers 400 problem+json, and a parameter (name or value)
/// with a control character 422 naming it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri) {
            for (name, value) in &pairs {
                let field = QUERY_FIELDS.into_iter().find(|f| f == name).unwrap_or("query");
                plain(field, name, Tabs::Refused)?;
                plain(field, value, Tabs::Refused)?;
            }
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<&str>, cursor: Option<&str>) -> ListQuery {
        ListQuery { limit: limit.map(str::to_owned), cursor: cursor.map(str::to_owned) }
    }

    #[test]
    fn limits_default_to_fifty_and_stay_within_one_to_two_hundred() {
        assert_eq!(query(None, None).page().unwrap().store_page().limit, DEFAULT_LIMIT + 1);
        assert_eq!(query(Some(""), None).page().unwrap().store_page().limit, DEFAULT_LIMIT + 1);
        assert_eq!(query(Some("200"), None).page().unwrap().store_page().limit, 201);
        for bad in ["0", "201", "-1", "abc", "1.5"] {
            assert!(query(Some(bad), None).page().is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_must_be_ids() {
        let id = Uuid::now_v7();
        assert_eq!(query(None, Some(&id.to_string())).page().unwrap().store_page().before, Some(id));
        assert!(query(None, Some("nope")).page().is_err());
    }
}
