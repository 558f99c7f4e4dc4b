//! API keys for the `key_read` workload: one key per worker, made with the worker's session
//! (`POST /api/v1/users/me/api-keys`). A holder user that already has the cap of keys (runs
//! before this one left theirs) has its `bench-` keys revoked first.

use anyhow::{bail, Context};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const KEYS: &str = "/api/v1/users/me/api-keys";

/// A fresh API key of the session holding `access`, named after worker `w`.
pub async fn key_for(client: &Client, base: &str, access: &str, w: usize) -> anyhow::Result<String> {
    for attempt in 0..2 {
        let response = client
            .post(format!("{base}{KEYS}"))
            .bearer_auth(access)
            .json(&json!({ "name": format!("bench-{w}") }))
            .send()
            .await
            .context("create an API key")?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        match status {
            StatusCode::CREATED => {
                return body["key"].as_str().map(str::to_owned).context("the key answer has no `key`");
            }
            StatusCode::CONFLICT if attempt == 0 => revoke_bench_keys(client, base, access).await?,
            StatusCode::NOT_FOUND => bail!("POST {KEYS} answered 404: this server has no API keys"),
            other => bail!("POST {KEYS}: unexpected {other}: {body}"),
        }
    }
    bail!("POST {KEYS}: still at the cap of keys after revoking the bench keys")
}

/// Revokes the keys a previous run left (named `bench-…`).
async fn revoke_bench_keys(client: &Client, base: &str, access: &str) -> anyhow::Result<()> {
    let listed: Value = client.get(format!("{base}{KEYS}")).bearer_auth(access).send().await?.json().await?;
    let items = listed["items"].as_array().cloned().unwrap_or_default();
    for item in items.iter().filter(|k| k["name"].as_str().is_some_and(|n| n.starts_with("bench-"))) {
        let Some(id) = item["id"].as_str() else { continue };
        client.delete(format!("{base}{KEYS}/{id}")).bearer_auth(access).send().await?;
    }
    Ok(())
}
