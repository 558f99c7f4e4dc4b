/**
 * The API's types, generated from the server's /openapi.json by openapi-typescript.
 * Do not edit: regenerate with `scripts/e2e.sh --update-api-types` (from the repository root),
 * or `npm run api:types` against a running server. scripts/e2e.sh fails when this file is stale.
 */
export interface paths {
    "/.well-known/jwks.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The public keys that verify access and refresh tokens (current and still-valid previous). */
        get: operations["jwks"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/actors": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The supervision tree of the actor system (scope `actors:read`, or `METRICS_TOKEN`): this
         *     node's, or with `scope=cluster` every live node's.
         */
        get: operations["admin_actors"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/actors/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The actors' history per node and kind, one point each 10 s (scope `actors:read`, or
         *     `METRICS_TOKEN`). Each node answers from the reports it heard: a node that stopped
         *     reporting keeps its past points, marked `reporting: false`.
         */
        get: operations["admin_actors_history"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revokes an API key of a user of the tenant (scope `users:manage`). */
        delete: operations["admin_revoke_api_key"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The tenant's audit events, newest first, filtered by name, user, outcome, client address
         *     and time (scope `audit:read`).
         */
        get: operations["admin_audit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/lockouts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Current lockouts of the tenant, known emails or not (scope `users:manage`; one page). */
        get: operations["admin_lockouts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Ends a session of a user of the tenant (scope `sessions:manage`). */
        delete: operations["admin_end_session"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The users of the tenant, newest first (scope `users:manage`). */
        get: operations["list_users"];
        put?: never;
        /** Creates a user in the tenant (scope `users:manage`). */
        post: operations["create_user"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One user of the tenant (scope `users:manage`). */
        get: operations["get_user"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Changes a user's roles, active flag or display name (scope `users:manage`); disabling
         *     ends the user's sessions. The tenant's last active admin cannot be demoted or disabled.
         */
        patch: operations["update_user"];
        trace?: never;
    };
    "/api/v1/admin/users/{id}/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user's API keys that are not revoked (scope `users:manage`; one page). */
        get: operations["admin_user_api_keys"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users/{id}/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Turns a user's two-factor off, for a lost device (scope `users:manage`); audited. */
        delete: operations["admin_reset_mfa"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users/{id}/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user's active sessions (scope `sessions:manage`; one page: `next_cursor` is null). */
        get: operations["admin_user_sessions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users/{id}/unlock": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Lifts the lockout of a user's email, permanent or not (scope `users:manage`). */
        post: operations["unlock_user"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Signs in: answers an access token and starts a session whose refresh token goes into a
         *     cookie (default) or the body (`token_delivery: "body"`). For a user with two-factor on, a
         *     right password answers `mfa_required` and an `mfa_token` instead, and no tokens:
         *     `POST /api/v1/auth/mfa/verify` finishes the sign-in.
         */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Ends the caller's session (by access token, or by refresh cookie) and clears the cookie. */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/logout-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Ends every session of the caller. */
        post: operations["logout_all"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/mfa/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The second step of a two-factor sign-in: the login's `mfa_token` and a code (or a recovery
         *     code) answer the login's tokens, delivered as asked at login. The token is single-use,
         *     lives 5 minutes and is spent by its fifth wrong code; wrong codes count toward the lockout.
         */
        post: operations["verify_mfa"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Spends a refresh token (the `refresh_token` cookie, else `Authorization: Bearer`) for a new
         *     access token and a new refresh token, delivered the way the old one came.
         */
        post: operations["refresh"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/register": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Self sign-up in a tenant that allows it; the new user gets the role `viewer`. */
        post: operations["register"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's active sessions (one page: `next_cursor` is always null). */
        get: operations["own_sessions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Ends one of the caller's own sessions. */
        delete: operations["end_own_session"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/orders": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tenant's orders, newest first (scope `orders:read`). */
        get: operations["list_orders"];
        put?: never;
        /** Places a limit order (scope `orders:write`). */
        post: operations["place_order"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/orders/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Cancels an open order (scope `orders:write`; someone else's order also needs
         *     `orders:manage`, which admins hold).
         */
        delete: operations["cancel_order"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tenants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** All tenants, newest first (scope `tenants:manage`). */
        get: operations["list_tenants"];
        put?: never;
        /** Creates a tenant (scope `tenants:manage`). */
        post: operations["create_tenant"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tenants/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One tenant (scope `tenants:manage`). */
        get: operations["get_tenant"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Renames, opens or closes sign-up, requires two-factor sign-in or not, disables or
         *     re-enables a tenant (scope `tenants:manage`).
         */
        patch: operations["update_tenant"];
        trace?: never;
    };
    "/api/v1/users/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's own account. */
        get: operations["get_me"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Changes the caller's display name. */
        patch: operations["update_me"];
        trace?: never;
    };
    "/api/v1/users/me/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's API keys that are not revoked, newest first (one page: `next_cursor` is null). */
        get: operations["list_api_keys"];
        put?: never;
        /** Makes an API key for the caller; the answer is the only time the key is shown. */
        post: operations["create_api_key"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revokes one of the caller's API keys: refused on every node within a second. */
        delete: operations["revoke_api_key"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Turns two-factor off: needs the password and a code (or a recovery code). Wrong ones
         *     count toward the lockout.
         */
        delete: operations["disable_mfa"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/mfa/recovery-codes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replaces the recovery codes (the old set stops working); needs a code (or a recovery code). */
        post: operations["renew_recovery_codes"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/mfa/totp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Starts enrolling an authenticator app: answers a new secret (pending until a first code
         *     confirms it). Refused (409) while two-factor is on.
         */
        post: operations["begin_totp_enrolment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/mfa/totp/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirms the enrolment with the app's first code: two-factor is on. Answers ten recovery
         *     codes, shown this once.
         */
        post: operations["confirm_totp_enrolment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Changes the caller's password; the caller's other sessions end. */
        post: operations["change_password"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: answers without touching any dependency. */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/detailed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness: each dependency with its status, latency and backend; 503 when one is down.
         *     The rules of each check are in `service::health`.
         */
        get: operations["health_detailed"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics. Open unless `METRICS_TOKEN` is set; then it needs that token, or an
         *     access token with `actors:read`, as a bearer token.
         */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document. */
        get: operations["openapi_json"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description The actors of one kind (`session`, `lockout`, `mfa_challenge`, `api_key`). */
        ActorKind: {
            /** Format: int64 */
            activations: number;
            /** Format: int64 */
            failures: number;
            handle_time_ms: components["schemas"]["Quantiles"];
            /** @example session */
            kind: string;
            /** Format: int64 */
            live: number;
            /** Format: int64 */
            mailbox_depth: number;
            /** Format: int64 */
            passivations: number;
            /** Format: int64 */
            restarts: number;
        };
        /**
         * @description The answer of `GET /api/v1/admin/actors`: one node's actor system (`scope=node`), or every
         *     live node's (`scope=cluster`).
         */
        ActorsAnswer: components["schemas"]["ActorsView"] | components["schemas"]["ClusterActorsView"];
        /** @description The actors' recent past, per node and kind, as the answering node heard it. */
        ActorsHistoryView: {
            /**
             * Format: int32
             * @description The minutes covered.
             */
            minutes: number;
            /** @description Every node heard in the last 15 minutes, by name, reporting or not. */
            nodes: components["schemas"]["NodeHistoryView"][];
            /**
             * Format: int64
             * @description Seconds between points (10).
             */
            step_s: number;
        };
        /**
         * @description One step (10 s) of one kind on one node. Counters (`activations`, `passivations`,
         *     `restarts`, `failures`) are deltas over the interval, not totals since the node started
         *     (divide by `interval_s` for a rate); gauges (`live`, `mailbox_depth`) are their value at
         *     the end of the interval.
         */
        ActorsPoint: {
            /** Format: int64 */
            activations: number;
            /** Format: int64 */
            failures: number;
            /**
             * Format: double
             * @description Seconds the deltas cover: about 10, more after a gap in the node's reports.
             */
            interval_s: number;
            /** Format: int64 */
            live: number;
            /** Format: int64 */
            mailbox_depth: number;
            /**
             * Format: double
             * @description The 99th percentile of the handle time of the messages handled in this interval (not
             *     since start), in ms; null when none was.
             */
            p99_ms?: number | null;
            /** Format: int64 */
            passivations: number;
            /** Format: int64 */
            restarts: number;
            /**
             * Format: date-time
             * @description The end of the step (a multiple of 10 s).
             */
            t: string;
        };
        /**
         * @description Which actor systems `GET /api/v1/admin/actors` shows.
         * @enum {string}
         */
        ActorsScope: "node" | "cluster";
        /** @description The actor system's supervision tree on one node. */
        ActorsView: {
            kinds: components["schemas"]["ActorKind"][];
            node: string;
            supervisors: components["schemas"]["Supervisor"][];
            /** Format: int64 */
            uptime_s: number;
        };
        /** @description An API key as its owner (or an admin) sees it; the key itself is never shown again. */
        ApiKeyView: {
            /**
             * @example [
             *       "203.0.113.0/24"
             *     ]
             */
            allowed_ips: string[];
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            expires_at?: string | null;
            /** Format: uuid */
            id: string;
            /**
             * Format: date-time
             * @description Written at most once a minute.
             */
            last_used_at?: string | null;
            name: string;
            /**
             * @description What the key starts with (`tsk_` and its id), to recognise it.
             * @example tsk_0192f0c4a1b27c3d9e8f001122334455
             */
            prefix: string;
            /**
             * @example [
             *       "orders:read",
             *       "orders:write"
             *     ]
             */
            scopes: string[];
        };
        /** @description One line of the audit trail. */
        AuditEvent: {
            /** Format: date-time */
            at: string;
            /** @description Event-specific facts. */
            detail: Record<string, never>;
            /**
             * @description What happened.
             * @example login
             */
            event: string;
            /** Format: uuid */
            id: string;
            ip?: string | null;
            /**
             * @description `success` or `failure`.
             * @example success
             */
            outcome: string;
            request_id?: string | null;
            /** Format: uuid */
            tenant_id?: string | null;
            user_agent?: string | null;
            /** Format: uuid */
            user_id?: string | null;
        };
        /** @description One check of `/health/detailed`. */
        Check: {
            /** @description `postgres` or `sqlite` for the database, `redis` or `memory` for the cache. */
            backend?: string | null;
            /**
             * @description What was found: why the check is not `ok`, and a figure or two (live actors, verifying
             *     keys).
             */
            detail?: string | null;
            /** Format: double */
            latency_ms: number;
            status: components["schemas"]["Status"];
        };
        /**
         * @description The checks. `actors` is degraded for a minute after a supervisor escalated a failure to the
         *     root, or while 1,000 or more messages wait for the actors of one kind; `keys` is degraded
         *     when no key signs, when the only signing key retires within an hour, or when the key files
         *     changed on disk and do not load.
         */
        Checks: {
            actors: components["schemas"]["Check"];
            cache: components["schemas"]["Check"];
            database: components["schemas"]["Check"];
            keys: components["schemas"]["Check"];
        };
        /**
         * @description Every live node's actor system: each node publishes its snapshot every 2 s; a node not
         *     heard for 10 s is left out.
         */
        ClusterActorsView: {
            /** @description The node that answered (its own entry is fresh, the others' at most 2 s old). */
            node: string;
            /** @description One entry per live node, by name, in the shape of the single-node answer. */
            nodes: components["schemas"]["ActorsView"][];
        };
        /** @description A current code, or an unused recovery code */
        CodeBody: {
            /**
             * @description The 6 digits the authenticator app shows; or send `recovery_code` instead.
             * @example 123456
             */
            code?: string | null;
            /**
             * @description One of the recovery codes (used up by this); instead of `code`.
             * @example 7K3M-Q9TZ-4WXB-2HRC
             */
            recovery_code?: string | null;
        };
        /** @description The first code of the pending secret */
        ConfirmBody: {
            /**
             * @description The 6 digits the authenticator app shows.
             * @example 123456
             */
            code: string;
        };
        /** @description The answer of `/health/detailed`. */
        DetailedHealth: {
            checks: components["schemas"]["Checks"];
            /** @description The worst of the checks. */
            status: components["schemas"]["Status"];
        };
        /** @description The password, and a current code or (device lost) an unused recovery code */
        DisableBody: {
            /**
             * @description The 6 digits the authenticator app shows; or send `recovery_code` instead.
             * @example 123456
             */
            code?: string | null;
            /** Format: password */
            password: string;
            /**
             * @description One of the recovery codes (used up by this); instead of `code`.
             * @example 7K3M-Q9TZ-4WXB-2HRC
             */
            recovery_code?: string | null;
        };
        /** @description The caller's password */
        EnrolBody: {
            /** Format: password */
            password: string;
        };
        /** @description The answer of `/health`. */
        Health: {
            /** @example ok */
            status: string;
        };
        /** @description A P-256 public key, `kid` being its RFC 7638 thumbprint. */
        Jwk: {
            /** @example ES256 */
            alg: string;
            /** @example P-256 */
            crv: string;
            kid: string;
            /** @example EC */
            kty: string;
            /** @example sig */
            use: string;
            x: string;
            y: string;
        };
        /** @description A JSON Web Key Set (RFC 7517), as `/.well-known/jwks.json` serves it. */
        Jwks: {
            keys: components["schemas"]["Jwk"][];
        };
        /** @description One kind's points on one node, oldest first. */
        KindHistoryView: {
            /** @example session */
            kind: string;
            points: components["schemas"]["ActorsPoint"][];
        };
        /** @description The shape of every list answer. */
        Listing_ApiKeyView: {
            items: {
                /**
                 * @example [
                 *       "203.0.113.0/24"
                 *     ]
                 */
                allowed_ips: string[];
                /** Format: date-time */
                created_at: string;
                /** Format: date-time */
                expires_at?: string | null;
                /** Format: uuid */
                id: string;
                /**
                 * Format: date-time
                 * @description Written at most once a minute.
                 */
                last_used_at?: string | null;
                name: string;
                /**
                 * @description What the key starts with (`tsk_` and its id), to recognise it.
                 * @example tsk_0192f0c4a1b27c3d9e8f001122334455
                 */
                prefix: string;
                /**
                 * @example [
                 *       "orders:read",
                 *       "orders:write"
                 *     ]
                 */
                scopes: string[];
            }[];
            /**
             * Format: uuid
             * @description Pass as `cursor` for the next page; null on the last page.
             */
            next_cursor?: string | null;
        };
        /** @description The shape of every list answer. */
        Listing_AuditEvent: {
            items: {
                /** Format: date-time */
                at: string;
                /** @description Event-specific facts. */
                detail: Record<string, never>;
                /**
                 * @description What happened.
                 * @example login
                 */
                event: string;
                /** Format: uuid */
                id: string;
                ip?: string | null;
                /**
                 * @description `success` or `failure`.
                 * @example success
                 */
                outcome: string;
                request_id?: string | null;
                /** Format: uuid */
                tenant_id?: string | null;
                user_agent?: string | null;
                /** Format: uuid */
                user_id?: string | null;
            }[];
            /**
             * Format: uuid
             * @description Pass as `cursor` for the next page; null on the last page.
             */
            next_cursor?: string | null;
        };
        /** @description The shape of every list answer. */
        Listing_LockoutView: {
            items: {
                email: string;
                /**
                 * Format: int32
                 * @description Failed sign-ins since the last lock ended.
                 */
                failures: number;
                /** Format: date-time */
                locked_until?: string | null;
                permanent: boolean;
                /**
                 * Format: int32
                 * @description The step of the lockout ladder reached.
                 */
                step: number;
                /**
                 * Format: uuid
                 * @description The account of that email in the tenant, if there is one: lockouts are kept for
                 *     unknown emails too, so that they do not tell which accounts exist.
                 */
                user_id?: string | null;
            }[];
            /**
             * Format: uuid
             * @description Pass as `cursor` for the next page; null on the last page.
             */
            next_cursor?: string | null;
        };
        /** @description The shape of every list answer. */
        Listing_Order: {
            items: {
                /** Format: date-time */
                created_at: string;
                /** Format: uuid */
                id: string;
                /** @example 187.25 */
                limit_price: string;
                /** @example 10 */
                quantity: string;
                side: components["schemas"]["OrderSide"];
                status: components["schemas"]["OrderStatus"];
                symbol: string;
                /** Format: uuid */
                user_id: string;
            }[];
            /**
             * Format: uuid
             * @description Pass as `cursor` for the next page; null on the last page.
             */
            next_cursor?: string | null;
        };
        /** @description The shape of every list answer. */
        Listing_SessionView: {
            items: {
                /** @example 203.0.113.7 */
                client_ip: string;
                /** Format: date-time */
                created_at: string;
                /** @description Whether this is the session of the token making the request. */
                current: boolean;
                /** Format: date-time */
                expires_at: string;
                /** Format: date-time */
                last_seen_at: string;
                /** Format: uuid */
                session_id: string;
                user_agent: string;
            }[];
            /**
             * Format: uuid
             * @description Pass as `cursor` for the next page; null on the last page.
             */
            next_cursor?: string | null;
        };
        /** @description The shape of every list answer. */
        Listing_Tenant: {
            items: {
                allow_self_signup: boolean;
                /** Format: date-time */
                created_at: string;
                /** Format: uuid */
                id: string;
                is_active: boolean;
                /** @example Acme Corp */
                name: string;
                /** @description Its users must turn on two-factor sign-in before they may do anything else. */
                require_mfa: boolean;
                /** @example acme */
                slug: string;
            }[];
            /**
             * Format: uuid
             * @description Pass as `cursor` for the next page; null on the last page.
             */
            next_cursor?: string | null;
        };
        /** @description The shape of every list answer. */
        Listing_UserView: {
            items: {
                /** Format: date-time */
                created_at: string;
                display_name: string;
                email: string;
                /** Format: uuid */
                id: string;
                is_active: boolean;
                /** @description Two-factor sign-in is on. */
                mfa_enabled: boolean;
                roles: components["schemas"]["Role"][];
                /** @description What the caller's token can do (for one's own account), or what the roles grant. */
                scopes: string[];
                tenant: components["schemas"]["TenantRef"];
            }[];
            /**
             * Format: uuid
             * @description Pass as `cursor` for the next page; null on the last page.
             */
            next_cursor?: string | null;
        };
        /** @description A current lockout, kept per (tenant, email) whether or not the account exists. */
        LockoutView: {
            email: string;
            /**
             * Format: int32
             * @description Failed sign-ins since the last lock ended.
             */
            failures: number;
            /** Format: date-time */
            locked_until?: string | null;
            permanent: boolean;
            /**
             * Format: int32
             * @description The step of the lockout ladder reached.
             */
            step: number;
            /**
             * Format: uuid
             * @description The account of that email in the tenant, if there is one: lockouts are kept for
             *     unknown emails too, so that they do not tell which accounts exist.
             */
            user_id?: string | null;
        };
        /** @description The answer of login: the tokens, or — two-factor on — what the second step needs. */
        LoginAnswer: components["schemas"]["TokenAnswer"] | components["schemas"]["MfaRequiredView"];
        LoginBody: {
            /**
             * Format: email
             * @example ada@example.com
             */
            email: string;
            /** Format: password */
            password: string;
            /**
             * @description Space-separated subset of the user's scopes to narrow the access token to.
             * @example orders:read
             */
            scope?: string | null;
            /**
             * @description Tenant slug; `default` when left out, `platform` for platform admins.
             * @example default
             */
            tenant?: string | null;
            token_delivery?: components["schemas"]["TokenDelivery"];
        };
        /** @description A started two-factor enrolment: the secret, pending until its first code confirms it. */
        MfaEnrolmentView: {
            /**
             * @description The same secret as an `otpauth://totp/…` URI, for a QR code.
             * @example otpauth://totp/Tradesage:ada%40example.com%20%28default%29?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Tradesage
             */
            otpauth_uri: string;
            /**
             * @description The shared secret, unpadded base32, for typing into an authenticator app.
             * @example JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
             */
            secret: string;
        };
        /**
         * @description A second factor a pending sign-in takes.
         * @enum {string}
         */
        MfaMethod: "totp" | "recovery_code";
        /**
         * @description The login answer of a user with two-factor on: no tokens yet; `POST /api/v1/auth/mfa/verify`
         *     with `mfa_token` and a code finishes the sign-in.
         */
        MfaRequiredView: {
            /**
             * Format: int64
             * @description Seconds the `mfa_token` stays valid (300).
             * @example 300
             */
            expires_in: number;
            methods: components["schemas"]["MfaMethod"][];
            /** @description Always `true`. */
            mfa_required: boolean;
            /** @description Opaque (not a JWT); single-use; spent by its fifth wrong code. */
            mfa_token: string;
        };
        /** @description `POST /users/me/api-keys`. */
        NewApiKeyBody: {
            /**
             * @description Networks the key may be used from: CIDRs or single addresses (at most 32); any when
             *     left out or empty.
             * @example [
             *       "203.0.113.0/24"
             *     ]
             */
            allowed_ips?: string[] | null;
            /**
             * Format: date-time
             * @description When the key stops working (RFC 3339, in the future); never when left out.
             */
            expires_at?: string | null;
            /**
             * @description 1–100 characters, to tell keys apart.
             * @example trading bot
             */
            name: string;
            /**
             * @description A subset of the caller's scopes; the caller's own when left out.
             * @example [
             *       "orders:read"
             *     ]
             */
            scopes?: string[] | null;
        };
        /** @description A new API key, with the key itself: shown in this answer only. */
        NewApiKeyView: {
            allowed_ips: string[];
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            expires_at?: string | null;
            /** Format: uuid */
            id: string;
            /**
             * @description The key: `Authorization: Bearer <key>`. Keep it now; the server keeps only a hash.
             * @example tsk_0192f0c4a1b27c3d9e8f001122334455_q3Jt…
             */
            key: string;
            /** Format: date-time */
            last_used_at?: string | null;
            name: string;
            /** @example tsk_0192f0c4a1b27c3d9e8f001122334455 */
            prefix: string;
            scopes: string[];
        };
        NewOrderBody: {
            /**
             * @description A decimal greater than zero, as a string or a JSON number (kept exactly as written)
             * @example 187.25
             */
            limit_price: string | number;
            /**
             * @description A decimal greater than zero, as a string or a JSON number (kept exactly as written)
             * @example 187.25
             */
            quantity: string | number;
            side: components["schemas"]["OrderSide"];
            /**
             * @description 1–12 characters of `A-Z`, `0-9` and `.`.
             * @example AAPL
             */
            symbol: string;
        };
        NewTenantBody: {
            /** @description Whether anyone may register in this tenant; `false` by default. */
            allow_self_signup?: boolean | null;
            /**
             * @description 1–100 characters.
             * @example Acme Corp
             */
            name: string;
            /** @description Whether its users must turn on two-factor sign-in; `false` by default. */
            require_mfa?: boolean | null;
            /**
             * @description 2–32 characters of `a-z`, `0-9` and `-`; unique.
             * @example acme
             */
            slug: string;
        };
        NewUserBody: {
            display_name?: string | null;
            /**
             * Format: email
             * @example ada@example.com
             */
            email: string;
            /**
             * Format: password
             * @description 8–72 bytes, not in the common-password list.
             */
            password: string;
            roles: components["schemas"]["Role"][];
        };
        /** @description One node's points. */
        NodeHistoryView: {
            kinds: components["schemas"]["KindHistoryView"][];
            /**
             * Format: date-time
             * @description When its latest report was taken.
             */
            last_report_at: string;
            node: string;
            /**
             * @description False once the node has not been heard for 10 s (stopped, or cut off): its past
             *     points stay until they are 15 minutes old.
             */
            reporting: boolean;
        };
        Order: {
            /** Format: date-time */
            created_at: string;
            /** Format: uuid */
            id: string;
            /** @example 187.25 */
            limit_price: string;
            /** @example 10 */
            quantity: string;
            side: components["schemas"]["OrderSide"];
            status: components["schemas"]["OrderStatus"];
            symbol: string;
            /** Format: uuid */
            user_id: string;
        };
        /** @enum {string} */
        OrderSide: "buy" | "sell";
        /** @enum {string} */
        OrderStatus: "open" | "cancelled";
        /** @description The current password and the new one */
        PasswordBody: {
            /** Format: password */
            current_password: string;
            /**
             * Format: password
             * @description 8–72 bytes, not in the common-password list, not the current password.
             */
            new_password: string;
        };
        /** @description An error, as `application/problem+json` (RFC 9457). */
        Problem: {
            /**
             * @description Stable, for programs: `validation_failed`, `invalid_credentials`, `account_locked`,
             *     `account_disabled`, `token_missing`, `token_invalid`, `token_expired`, `token_rotated`,
             *     `token_reused`, `session_revoked`, `session_ip_mismatch`, `forbidden`, `not_found`,
             *     `conflict`, `rate_limited`, `payload_too_large`, `unavailable`, `mfa_invalid`,
             *     `mfa_enrollment_required`, `ip_not_allowed` (and `internal` for 500).
             * @example validation_failed
             */
            code: string;
            /**
             * @description What went wrong, for people.
             * @example email: is not a valid email address
             */
            detail: string;
            /**
             * @description The request field at fault (`validation_failed` answers of a field rule only).
             * @example email
             */
            field?: string;
            /**
             * Format: int32
             * @description The HTTP status code.
             * @example 422
             */
            status: number;
            /** @example Validation failed */
            title: string;
            /**
             * Format: uri
             * @description `https://tradesage.dev/problems/<code>`.
             * @example https://tradesage.dev/problems/validation_failed
             */
            type: string;
        };
        ProfilePatch: {
            /** @description At most 100 characters, not blank. */
            display_name?: string | null;
        };
        /** @description Message handling time quantiles, in milliseconds. */
        Quantiles: {
            /** Format: double */
            p50: number;
            /** Format: double */
            p99: number;
        };
        /** @description Ten one-time recovery codes, shown this once (the server keeps only their hashes). */
        RecoveryCodesView: {
            /**
             * @example [
             *       "7K3M-Q9TZ-4WXB-2HRC"
             *     ]
             */
            recovery_codes: string[];
        };
        RegisterBody: {
            /** @description At most 100 characters; defaults to the email's local part. */
            display_name?: string | null;
            /**
             * Format: email
             * @description Trimmed; compared case-insensitively; unique within the tenant.
             * @example ada@example.com
             */
            email: string;
            /**
             * Format: password
             * @description 8–72 bytes, not in the common-password list.
             */
            password: string;
            /**
             * @description Tenant slug; `default` when left out. The tenant must allow self sign-up.
             * @example default
             */
            tenant?: string | null;
        };
        /**
         * @description A role a user holds within its tenant.
         * @enum {string}
         */
        Role: "admin" | "trader" | "viewer" | "api_user";
        /** @description A session as its user (or an admin) sees it. */
        SessionView: {
            /** @example 203.0.113.7 */
            client_ip: string;
            /** Format: date-time */
            created_at: string;
            /** @description Whether this is the session of the token making the request. */
            current: boolean;
            /** Format: date-time */
            expires_at: string;
            /** Format: date-time */
            last_seen_at: string;
            /** Format: uuid */
            session_id: string;
            user_agent: string;
        };
        /**
         * @description The state of one dependency; the overall status is the worst of them.
         * @enum {string}
         */
        Status: "ok" | "degraded" | "down";
        /** @description One supervisor (a shard of a kind). */
        Supervisor: {
            /** Format: int64 */
            children: number;
            /** Format: int64 */
            failures: number;
            kind: string;
            /** @example session-shard-0 */
            name: string;
            /** Format: int64 */
            restarts: number;
        };
        /** @description A tenant. */
        Tenant: {
            allow_self_signup: boolean;
            /** Format: date-time */
            created_at: string;
            /** Format: uuid */
            id: string;
            is_active: boolean;
            /** @example Acme Corp */
            name: string;
            /** @description Its users must turn on two-factor sign-in before they may do anything else. */
            require_mfa: boolean;
            /** @example acme */
            slug: string;
        };
        TenantPatchBody: {
            /** @description Never `true` for the `platform` tenant (422). */
            allow_self_signup?: boolean | null;
            /**
             * @description `false` refuses the tenant's logins and ends its sessions; the `platform` tenant
             *     cannot be disabled (409).
             */
            is_active?: boolean | null;
            name?: string | null;
            /**
             * @description `true`: its users without two-factor sign-in may only turn it on (every other endpoint
             *     but `GET /users/me`, refresh and logout answers 403 `mfa_enrollment_required`).
             */
            require_mfa?: boolean | null;
        };
        /** @description The tenant a user belongs to. */
        TenantRef: {
            /** Format: uuid */
            id: string;
            /** @example Acme Corp */
            name: string;
            /**
             * @description The tenant's users must turn on two-factor sign-in; until they do, every endpoint but
             *     `GET /users/me`, the two-factor settings, refresh and logout answers 403
             *     `mfa_enrollment_required`.
             */
            require_mfa: boolean;
            /** @example acme */
            slug: string;
        };
        /** @description The answer of login (two-factor off), refresh and the second step of a two-factor sign-in. */
        TokenAnswer: {
            /** @description ES256 JWT for `Authorization: Bearer`. */
            access_token: string;
            /**
             * Format: int64
             * @description Seconds until the access token expires.
             */
            expires_in: number;
            /**
             * @description Only with `token_delivery: "body"` (or a refresh authenticated by bearer token);
             *     otherwise the token is in the `refresh_token` cookie.
             */
            refresh_token?: string;
            /** Format: uuid */
            session_id: string;
            /** @example Bearer */
            token_type: string;
            user: components["schemas"]["UserView"];
        };
        /**
         * @description Where login (and, after it, refresh) puts the refresh token: an `HttpOnly` cookie
         *     (`cookie`, the default) or the answer's body (`body`, for API clients).
         * @enum {string}
         */
        TokenDelivery: "cookie" | "body";
        UserPatchBody: {
            display_name?: string | null;
            /** @description `false` disables the account and ends its sessions. */
            is_active?: boolean | null;
            roles?: components["schemas"]["Role"][] | null;
        };
        /** @description A user as the API shows it. */
        UserView: {
            /** Format: date-time */
            created_at: string;
            display_name: string;
            email: string;
            /** Format: uuid */
            id: string;
            is_active: boolean;
            /** @description Two-factor sign-in is on. */
            mfa_enabled: boolean;
            roles: components["schemas"]["Role"][];
            /** @description What the caller's token can do (for one's own account), or what the roles grant. */
            scopes: string[];
            tenant: components["schemas"]["TenantRef"];
        };
        /** @description The login's `mfa_token` and a code, or a recovery code */
        VerifyBody: {
            /**
             * @description The 6 digits the authenticator app shows; or send `recovery_code` instead.
             * @example 123456
             */
            code?: string | null;
            /** @description From the login answer (`mfa_required: true`). */
            mfa_token: string;
            /**
             * @description One of the recovery codes (used up by this); instead of `code`.
             * @example 7K3M-Q9TZ-4WXB-2HRC
             */
            recovery_code?: string | null;
        };
    };
    responses: {
        /** @description Malformed request: bad JSON syntax, query string or path (`validation_failed`). */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "validation_failed",
                 *       "detail": "malformed JSON: expected value at line 1 column 1",
                 *       "status": 400,
                 *       "title": "Malformed request",
                 *       "type": "https://tradesage.dev/problems/validation_failed"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `conflict`: the request clashes with the resource's current state. */
        Conflict: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "conflict",
                 *       "detail": "an account with this email already exists in this tenant",
                 *       "status": 409,
                 *       "title": "Conflict",
                 *       "type": "https://tradesage.dev/problems/conflict"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Refused: `forbidden` (a scope is missing, another tenant's data, or a cookie-authenticated write without a trusted `Origin` or `X-Requested-With`), `account_disabled`, or `mfa_enrollment_required` (the tenant requires two-factor sign-in and the caller has not turned it on: only `GET /users/me`, the two-factor settings, refresh and logout are open until then), or `ip_not_allowed` (an API key presented from an address outside its `allowed_ips`). */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "forbidden",
                 *       "detail": "this needs the `users:manage` scope",
                 *       "status": 403,
                 *       "title": "Forbidden",
                 *       "type": "https://tradesage.dev/problems/forbidden"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `account_locked`: too many failed sign-ins. Every attempt is refused until the lock ends. */
        Locked: {
            headers: {
                /** @description Seconds until the lock ends; absent when the lock is permanent */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "account_locked",
                 *       "detail": "too many failed sign-ins; try again in 60 s",
                 *       "status": 423,
                 *       "title": "Account locked",
                 *       "type": "https://tradesage.dev/problems/account_locked"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `not_found`: no such resource (or one the caller may not see). */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "not_found",
                 *       "detail": "no such resource",
                 *       "status": 404,
                 *       "title": "Not found",
                 *       "type": "https://tradesage.dev/problems/not_found"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `payload_too_large`: the body is larger than 1 MiB. */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "payload_too_large",
                 *       "detail": "the body must be at most 1 MiB",
                 *       "status": 413,
                 *       "title": "Payload too large",
                 *       "type": "https://tradesage.dev/problems/payload_too_large"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `rate_limited`: too many requests from this client IP or user. */
        TooManyRequests: {
            headers: {
                /** @description Requests allowed per window */
                "RateLimit-Limit"?: number;
                /** @description Requests left in the window */
                "RateLimit-Remaining"?: number;
                /** @description Seconds until the window is full again */
                "RateLimit-Reset"?: number;
                /** @description Seconds until a request would be allowed */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "rate_limited",
                 *       "detail": "slow down; see Retry-After",
                 *       "status": 429,
                 *       "title": "Too many requests",
                 *       "type": "https://tradesage.dev/problems/rate_limited"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Not authenticated: `invalid_credentials`, `token_missing`, `token_invalid`, `token_expired`, `token_rotated`, `token_reused`, `session_revoked`, `session_ip_mismatch` or (a wrong or reused two-factor code) `mfa_invalid`. An API key that is unknown, revoked or expired, or whose owner is disabled, answers `token_invalid`. */
        Unauthorized: {
            headers: {
                /** @description `Bearer error="invalid_token", error_description="<code>"` */
                "WWW-Authenticate"?: string;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "token_missing",
                 *       "detail": "no token was presented",
                 *       "status": 401,
                 *       "title": "Authentication required",
                 *       "type": "https://tradesage.dev/problems/token_missing"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `unavailable`: a dependency is down or the request timed out; retry after `Retry-After`. */
        Unavailable: {
            headers: {
                /** @description Seconds */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "unavailable",
                 *       "detail": "a dependency is unavailable; retry shortly",
                 *       "status": 503,
                 *       "title": "Service unavailable",
                 *       "type": "https://tradesage.dev/problems/unavailable"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `validation_failed`: the body was not sent as `Content-Type: application/json`. */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "validation_failed",
                 *       "detail": "send Content-Type: application/json",
                 *       "status": 415,
                 *       "title": "Unsupported media type",
                 *       "type": "https://tradesage.dev/problems/validation_failed"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `validation_failed`: a field is missing, of the wrong type or breaks a rule; `field` names it. */
        ValidationFailed: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "validation_failed",
                 *       "detail": "email: is not a valid email address",
                 *       "field": "email",
                 *       "status": 422,
                 *       "title": "Validation failed",
                 *       "type": "https://tradesage.dev/problems/validation_failed"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    jwks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description JSON Web Key Set */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Jwks"];
                };
            };
        };
    };
    admin_actors: {
        parameters: {
            query?: {
                /**
                 * @description `node` (the default): this node's actor system. `cluster`: `{node, nodes}`, every live
                 *     node's — each node publishes its snapshot every 2 s; one not heard for 10 s is left out.
                 */
                scope?: components["schemas"]["ActorsScope"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The actor system of this node (`scope=node`) or of every live node (`scope=cluster`) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ActorsAnswer"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    admin_actors_history: {
        parameters: {
            query?: {
                /** @description How far back, 1–15 minutes; 15 by default. */
                minutes?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Points per node and kind, oldest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ActorsHistoryView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    admin_revoke_api_key: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path: {
                /** @description API key id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    admin_audit: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
                /** @description Only events of this name (at most 64 characters), e.g. `login` or `token_reuse_detected`. */
                event?: string;
                /** @description Only events about this user. */
                user_id?: string;
                /**
                 * @description `success`, or `failure`: every outcome that is not a success (a wrong password, a
                 *     lock, a session ended for token reuse).
                 */
                outcome?: string;
                /**
                 * @description Only events from this client address (IPv4-mapped IPv6 is matched as IPv4).
                 * @example 203.0.113.7
                 */
                ip?: string;
                /**
                 * @description Only events at or after this time (RFC 3339).
                 * @example 2025-01-31T00:00:00Z
                 */
                since?: string;
                /**
                 * @description Only events at or before this time (RFC 3339).
                 * @example 2025-02-01T00:00:00Z
                 */
                until?: string;
                /** @description Page size, 1–200; 50 by default. */
                limit?: number;
                /** @description The `next_cursor` of the previous page. */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of audit events */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Listing_AuditEvent"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    admin_lockouts: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Current lockouts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Listing_LockoutView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    admin_end_session: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path: {
                /** @description Session id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Session ended */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    list_users: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
                /** @description Page size, 1–200; 50 by default. */
                limit?: number;
                /** @description The `next_cursor` of the previous page. */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of users */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Listing_UserView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    create_user: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewUserBody"];
            };
        };
        responses: {
            /** @description The new user */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    get_user: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path: {
                /** @description User id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    update_user: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path: {
                /** @description User id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UserPatchBody"];
            };
        };
        responses: {
            /** @description The updated user */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    admin_user_api_keys: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path: {
                /** @description User id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user's keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Listing_ApiKeyView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    admin_reset_mfa: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path: {
                /** @description User id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Two-factor is off for that user */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    admin_user_sessions: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path: {
                /** @description User id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user's active sessions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Listing_SessionView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    unlock_user: {
        parameters: {
            query?: {
                /** @description Slug of the tenant to act on (platform admins only); the caller's own by default. */
                tenant?: string;
            };
            header?: never;
            path: {
                /** @description User id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Unlocked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginBody"];
            };
        };
        responses: {
            /** @description Signed in; with `token_delivery: cookie` the refresh token is in `Set-Cookie: refresh_token=…; HttpOnly; SameSite=Strict; Path=/api/v1/auth`. Or, two-factor on: `mfa_required` and no tokens */
            200: {
                headers: {
                    /** @description The refresh token cookie (cookie delivery only) */
                    "Set-Cookie"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LoginAnswer"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            423: components["responses"]["Locked"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Session ended; the refresh cookie is cleared */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    logout_all: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description All of the caller's sessions ended; the refresh cookie is cleared */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    verify_mfa: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["VerifyBody"];
            };
        };
        responses: {
            /** @description Signed in; with `token_delivery: cookie` at login the refresh token is in `Set-Cookie: refresh_token=…; HttpOnly; SameSite=Strict; Path=/api/v1/auth` */
            200: {
                headers: {
                    /** @description The refresh token cookie (cookie delivery only) */
                    "Set-Cookie"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenAnswer"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            423: components["responses"]["Locked"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    refresh: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description New tokens; a cookie-borne refresh token is replaced by a new cookie */
            200: {
                headers: {
                    /** @description The new refresh token cookie (cookie delivery only) */
                    "Set-Cookie"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenAnswer"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    register: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RegisterBody"];
            };
        };
        responses: {
            /** @description The new user */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"];
                };
            };
            400: components["responses"]["BadRequest"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    own_sessions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller's active sessions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Listing_SessionView"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    end_own_session: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Session ended */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    list_orders: {
        parameters: {
            query?: {
                /** @description Only orders in this status. */
                status?: components["schemas"]["OrderStatus"];
                /** @description Page size, 1–200; 50 by default. */
                limit?: number;
                /** @description The `next_cursor` of the previous page. */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of orders */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Listing_Order"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    place_order: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewOrderBody"];
            };
        };
        responses: {
            /** @description The new open order */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Order"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    cancel_order: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Order id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The cancelled order (`status: cancelled`) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Order"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    list_tenants: {
        parameters: {
            query?: {
                /** @description Page size, 1–200; 50 by default. */
                limit?: number;
                /** @description The `next_cursor` of the previous page. */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of tenants */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Listing_Tenant"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    create_tenant: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewTenantBody"];
            };
        };
        responses: {
            /** @description The new tenant */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    get_tenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Tenant id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The tenant */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    update_tenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Tenant id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TenantPatchBody"];
            };
        };
        responses: {
            /** @description The updated tenant */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    get_me: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"];
                };
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    update_me: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ProfilePatch"];
            };
        };
        responses: {
            /** @description The updated caller */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    list_api_keys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller's keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Listing_ApiKeyView"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    create_api_key: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewApiKeyBody"];
            };
        };
        responses: {
            /** @description The key, shown this once */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NewApiKeyView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    revoke_api_key: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description API key id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    disable_mfa: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DisableBody"];
            };
        };
        responses: {
            /** @description Two-factor is off */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            423: components["responses"]["Locked"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    renew_recovery_codes: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CodeBody"];
            };
        };
        responses: {
            /** @description The new recovery codes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RecoveryCodesView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            423: components["responses"]["Locked"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    begin_totp_enrolment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EnrolBody"];
            };
        };
        responses: {
            /** @description The secret, pending its first code */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MfaEnrolmentView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            423: components["responses"]["Locked"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    confirm_totp_enrolment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ConfirmBody"];
            };
        };
        responses: {
            /** @description Two-factor is on; the recovery codes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RecoveryCodesView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    change_password: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PasswordBody"];
            };
        };
        responses: {
            /** @description Password changed; the caller's other sessions ended */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            423: components["responses"]["Locked"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["Unavailable"];
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The server is up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok"
                     *     }
                     */
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    health_detailed: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every check `ok` or `degraded` */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DetailedHealth"];
                };
            };
            /** @description A check is `down` */
            503: {
                headers: {
                    /** @description Seconds */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DetailedHealth"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition format */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain; version=0.0.4; charset=utf-8": string;
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            503: components["responses"]["Unavailable"];
        };
    };
    openapi_json: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3 description of this API */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
        };
    };
}
