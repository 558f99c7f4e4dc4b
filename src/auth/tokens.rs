//! ES256 access and refresh tokens: claims of API.md §3, issued with the key ring's current
//! key and checked against an allow-list (ES256 only, a known `kid`, our `iss` and `aud`, the
//! expected `token_type`). Verified access tokens are remembered until they expire so a
//! token's later requests skip the signature check.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::KeyRing;
use crate::domain::AuthMethod;

pub const ISSUER: &str = "tradesage";
pub const AUDIENCE: &str = "tradesage-api-gateway";
/// Longer input is not a token of ours; refusing it early bounds the work an attacker causes.
const MAX_TOKEN_LEN: usize = 4096;
/// How many verified access tokens are remembered at most.
const VERIFIED_CACHE_CAPACITY: usize = 200_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub user_id: Uuid,
    pub email: String,
    pub tenant_id: Uuid,
    pub roles: Vec<String>,
    pub scope: String,
    pub session_id: Uuid,
    /// How the sign-in was made (RFC 8176): `["pwd"]` or `["pwd", "otp"]`. Absent from tokens
    /// signed before it existed, which read as no method at all.
    #[serde(default)]
    pub amr: Vec<AuthMethod>,
    pub token_type: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
}

impl AccessClaims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub token_type: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
}

/// What goes into a new access token besides the standard claims.
pub struct AccessGrant<'a> {
    pub user_id: Uuid,
    pub email: &'a str,
    pub tenant_id: Uuid,
    pub roles: Vec<String>,
    pub scope: &'a str,
    pub session_id: Uuid,
    pub amr: &'a [AuthMethod],
}

/// Signs and verifies tokens.
pub struct TokenIssuer {
    keys: Arc<KeyRing>,
    access_ttl: Duration,
    validation: Validation,
    verified: DashMap<[u8; 32], Arc<AccessClaims>>,
}

impl TokenIssuer {
    pub fn new(keys: Arc<KeyRing>, access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        // One clock signs and checks; multi-node deployments keep clocks in sync (NTP).
        validation.leeway = 0;
        Self { keys, access_ttl, validation, verified: DashMap::new() }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn key_ring(&self) -> &KeyRing {
        &self.keys
    }

    /// Signs an access token; returns it with its expiry.
    pub fn issue_access(&self, grant: AccessGrant<'_>, now: DateTime<Utc>) -> Result<(String, i64), TokenError> {
        let iat = now.timestamp();
        let exp = iat + self.access_ttl.as_secs() as i64;
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: grant.user_id.to_string(),
            user_id: grant.user_id,
            email: grant.email.to_owned(),
            tenant_id: grant.tenant_id,
            roles: grant.roles,
            scope: grant.scope.to_owned(),
            session_id: grant.session_id,
            amr: grant.amr.to_vec(),
            token_type: "access".into(),
            iat,
            nbf: iat,
            exp,
            jti: Uuid::new_v4(),
        };
        Ok((self.sign(&claims)?, exp))
    }

    /// Signs a refresh token that never outlives its session.
    pub fn issue_refresh(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
        session_expires_at: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let claims = RefreshClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.to_string(),
            user_id,
            session_id,
            token_type: "refresh".into(),
            iat: now.timestamp(),
            exp: session_expires_at.timestamp(),
            jti: Uuid::new_v4(),
        };
        self.sign(&claims)
    }

    /// A JWS in compact form, as `jsonwebtoken::encode` writes it (base64url of the header's
    /// and the claims' JSON, then of the fixed-size `r‖s` signature), but signed with the key
    /// pair the ring parsed once instead of one parsed again for every token.
    fn sign<T: Serialize>(&self, claims: &T) -> Result<String, TokenError> {
        let keys = self.keys.keys();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(keys.signing_kid.clone());
        let header = serde_json::to_vec(&header).map_err(|_| TokenError::Invalid)?;
        let claims = serde_json::to_vec(claims).map_err(|_| TokenError::Invalid)?;
        // base64 of both parts and of the 64-byte signature, plus the two dots: one allocation.
        let mut token = String::with_capacity((header.len() + claims.len() + 64) * 4 / 3 + 8);
        URL_SAFE_NO_PAD.encode_string(header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let signature = keys.signing.sign(&SystemRandom::new(), token.as_bytes()).map_err(|_| TokenError::Invalid)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        Ok(token)
    }

    /// Verifies an access token, from the cache of verified tokens when it was seen before.
    pub fn verify_access(&self, token: &str, now: DateTime<Utc>) -> Result<Arc<AccessClaims>, TokenError> {
        let fingerprint = super::sha256(token.as_bytes());
        if let Some(claims) = self.verified.get(&fingerprint) {
            return if claims.exp > now.timestamp() { Ok(claims.clone()) } else { Err(TokenError::Expired) };
        }
        let claims: AccessClaims = self.verify(token)?;
        if claims.token_type != "access" {
            return Err(TokenError::Invalid);
        }
        let claims = Arc::new(claims);
        if self.verified.len() < VERIFIED_CACHE_CAPACITY {
            self.verified.insert(fingerprint, claims.clone());
        }
        Ok(claims)
    }

    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError> {
        let claims: RefreshClaims = self.verify(token)?;
        if claims.token_type != "refresh" {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }

    /// Drops expired entries from the verified-token cache; the janitor calls this.
    pub fn purge_expired(&self, now: DateTime<Utc>) -> usize {
        let before = self.verified.len();
        self.verified.retain(|_, claims| claims.exp > now.timestamp());
        before - self.verified.len()
    }

    fn verify<T: serde::de::DeserializeOwned>(&self, token: &str) -> Result<T, TokenError> {
        if token.len() > MAX_TOKEN_LEN || token.split('.').count() != 3 {
            return Err(TokenError::Invalid);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::ES256 {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let keys = self.keys.keys();
        let Some(key) = keys.find(&kid) else {
            // Perhaps another node's new key, not read here yet: look sooner than the next check.
            self.keys.note_unknown_kid();
            return Err(TokenError::Invalid);
        };
        jsonwebtoken::decode::<T>(token, &key.decoding, &self.validation).map(|data| data.claims).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::{new_key, RingKey};
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn a_signed_token_is_a_compact_es256_jws_that_an_independent_verifier_accepts() {
        let key = new_key().unwrap();
        let now = Utc::now();
        let ring_key = RingKey::new(key.secret.public_key(), Some(&key.secret), now, now, None, None).unwrap();
        let issuer =
            TokenIssuer::new(Arc::new(KeyRing::from_database(vec![ring_key]).unwrap()), Duration::from_secs(900));
        let (user_id, session_id) = (Uuid::new_v4(), Uuid::new_v4());
        let token = issuer.issue_refresh(user_id, session_id, now, now + chrono::Duration::days(30)).unwrap();

        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({"typ": "JWT", "alg": "ES256", "kid": key.kid}));
        // The p256 crate, not aws-lc, checks the fixed-size r‖s signature over "header.claims".
        let signature = p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        let verifying = p256::ecdsa::VerifyingKey::from(key.secret.public_key());
        verifying.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).unwrap();
        let mut forged = signature.to_bytes();
        forged[40] ^= 1;
        let forged = p256::ecdsa::Signature::from_slice(&forged).unwrap();
        assert!(verifying.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &forged).is_err());

        let claims = issuer.verify_refresh(&token).unwrap();
        assert_eq!((claims.user_id, claims.session_id), (user_id, session_id));
        // And this server's own verifier refuses the token with that bit of its signature flipped.
        let forged_token = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(forged.to_bytes()));
        assert!(matches!(issuer.verify_refresh(&forged_token), Err(TokenError::Invalid)));
    }
}
