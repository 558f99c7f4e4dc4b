//! `GET /openapi.json` describes every route the router serves, no more, and each operation the
//! way its handler is written.
//!
//! The list of routes is not written down here: it is read from the router's source,
//! `src/http/mod.rs` (`.route("…", get(…).post(…))`, `.nest("…", …)` of a `let` binding or of a
//! function of the file), so adding a route without documenting it fails
//! `the_document_has_exactly_the_routes_of_the_router`. What each handler takes (a JSON body, a
//! query string, a path id, an access token, a scope) is read from its source too and compared
//! with the operation. Then every documented operation is requested from a running server to
//! prove it is really routed (the parser cannot drift from the router unnoticed), and real
//! answers are checked against their documented schemas.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp, PASSWORD};

const METHODS: [&str; 8] = ["get", "post", "put", "patch", "delete", "head", "options", "trace"];

/// Operations not held to "declares a problem+json 4xx": they answer no 4xx of their own
/// (`/health/detailed` answers 200 or 503 with its report) or are operators' plumbing.
const NO_PROBLEM_4XX: [&str; 5] =
    ["/health", "/health/detailed", "/metrics", "/.well-known/jwks.json", "/openapi.json"];

// ---------------------------------------------------------------------------------------------
// Reading the router's source.

fn source(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Skips a string literal starting at `i` (the opening quote); returns the index after it.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    panic!("unterminated string literal")
}

/// The index of the bracket closing the one at `open`.
fn closing(text: &str, open: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i += text[i..].find('\n').unwrap_or(text.len() - i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced brackets from byte {open}")
}

/// Splits `text` at `separator` bytes that are outside brackets and string literals.
fn split_top(text: &str, separator: u8) -> Vec<&str> {
    let bytes = text.as_bytes();
    let (mut parts, mut start, mut i) = (Vec::new(), 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i += text[i..].find('\n').unwrap_or(text.len() - i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                i = closing(text, i) + 1;
                continue;
            }
            b if b == separator => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(text[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The calls of a method chain: `a(x).b(y)` → `[("a", "x"), ("b", "y")]`; what comes before
/// the first call (`Router::new`) is returned as the head's name.
fn calls(chain: &str) -> Vec<(String, String)> {
    let bytes = chain.as_bytes();
    let (mut out, mut name_start, mut i) = (Vec::new(), 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'(' => {
                let end = closing(chain, i);
                let name = chain[name_start..i].trim().trim_start_matches('.').trim();
                out.push((name.to_owned(), chain[i + 1..end].to_owned()));
                i = end + 1;
                name_start = i;
                continue;
            }
            b'"' => panic!("unexpected string literal in method chain `{chain}`"),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i += chain[i..].find('\n').unwrap_or(chain.len() - i);
                name_start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    assert!(chain[name_start..].trim().is_empty(), "unparsed tail `{}` in `{chain}`", &chain[name_start..]);
    out
}

fn string_literal(text: &str) -> String {
    let text = text.trim();
    assert!(text.starts_with('"') && text.ends_with('"') && text.len() >= 2, "expected a string literal: {text}");
    text[1..text.len() - 1].to_owned()
}

/// The body of `fn name(…) … { … }` in `src`.
fn fn_body<'a>(src: &'a str, name: &str) -> Option<&'a str> {
    let start = src.find(&format!("fn {name}("))?;
    let open = start + src[start..].find('{')?;
    Some(&src[open + 1..closing(src, open)])
}

/// The signature and the body of handler `module::name` in `src/http/<module>.rs`.
fn handler_source(handler: &str) -> (String, String) {
    let (module, name) = handler.split_once("::").unwrap_or_else(|| panic!("handler `{handler}` is not module::fn"));
    let src = source(&format!("src/http/{module}.rs"));
    let start = src.find(&format!("pub async fn {name}(")).unwrap_or_else(|| panic!("no `pub async fn {handler}`"));
    let open = start + src[start..].find('{').unwrap();
    (src[start..open].to_owned(), src[open + 1..closing(&src, open)].to_owned())
}

/// A route as the router registers it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    method: String,
    path: String,
    /// `module::fn`, as written in the router.
    handler: String,
}

/// Handlers of `mod.rs` itself that only answer 404/405: a route to one of them is a
/// catch-all, not an operation.
const FALLBACKS: [&str; 2] = ["route_not_found", "method_not_allowed"];

#[derive(Default)]
struct Table {
    routes: Vec<Route>,
    catch_alls: Vec<String>,
}

struct RouterSource {
    src: String,
}

impl RouterSource {
    /// The routes of the router built by `fn name` of the file, under `prefix`: those of every
    /// `Router::new()` chain of the function that is not itself nested into another.
    fn routes_of_fn(&self, name: &str, prefix: &str, out: &mut Table) {
        let body = fn_body(&self.src, name).unwrap_or_else(|| panic!("no `fn {name}` in src/http/mod.rs"));
        let mut bindings = BTreeMap::new();
        let mut chains = Vec::new();
        for statement in split_top(body, b';') {
            let (binding, expr) = match statement.strip_prefix("let ") {
                Some(rest) => {
                    let (name, expr) = rest.split_once('=').expect("let with a value");
                    (Some(name.trim().trim_start_matches("mut ").to_owned()), expr.trim())
                }
                None => (None, statement),
            };
            if expr.contains("Router::new()") {
                if let Some(binding) = &binding {
                    bindings.insert(binding.clone(), expr.to_owned());
                }
                chains.push((binding, expr.to_owned()));
            }
        }
        let nested: BTreeSet<String> = chains
            .iter()
            .flat_map(|(_, chain)| calls(chain))
            .filter_map(|(call, args)| match call.as_str() {
                "nest" => Some(split_top(&args, b',')[1].to_owned()),
                "merge" => Some(args.trim().to_owned()),
                _ => None,
            })
            .collect();
        for (binding, chain) in &chains {
            if binding.as_ref().is_none_or(|b| !nested.contains(b)) {
                self.routes_of_chain(chain, prefix, &bindings, out);
            }
        }
    }

    fn routes_of_chain(&self, chain: &str, prefix: &str, bindings: &BTreeMap<String, String>, out: &mut Table) {
        for (call, args) in calls(chain) {
            match call.as_str() {
                "Router::new"
                | "layer"
                | "fallback"
                | "fallback_service"
                | "method_not_allowed_fallback"
                | "with_state" => {}
                "route" => {
                    let args = split_top(&args, b',');
                    assert_eq!(args.len(), 2, "route({args:?})");
                    let path = format!("{prefix}{}", string_literal(args[0]));
                    let chain = calls(args[1]);
                    if let [(method, handler)] = &chain[..] {
                        let method = method.rsplit("::").next().unwrap_or_default();
                        if FALLBACKS.contains(&handler.trim()) && ["any", "get"].contains(&method) {
                            // A catch-all answering "no such route": not an operation.
                            out.catch_alls.push(path);
                            continue;
                        }
                    }
                    for (method, handler) in chain {
                        assert!(METHODS.contains(&method.as_str()), "`{method}` on {path}: teach this test about it");
                        out.routes.push(Route { method, path: path.clone(), handler: handler.trim().to_owned() });
                    }
                }
                "nest" | "merge" => {
                    let args = split_top(&args, b',');
                    let (path, target) = match call.as_str() {
                        "nest" => (format!("{prefix}{}", string_literal(args[0])), args[1]),
                        _ => (prefix.to_owned(), args[0]),
                    };
                    if let Some(chain) = bindings.get(target) {
                        self.routes_of_chain(chain, &path, bindings, out);
                    } else if let Some((function, _)) = target.split_once('(') {
                        self.routes_of_fn(function.trim(), &path, out);
                    } else {
                        panic!("cannot follow `.nest(\"{path}\", {target})`");
                    }
                }
                other => panic!("the router uses `.{other}(…)`, which this test cannot read yet: teach it"),
            }
        }
    }
}

/// The routes of `fn router` in `src`.
fn read_table(src: &str) -> Table {
    let parser = RouterSource { src: src.to_owned() };
    let mut table = Table::default();
    parser.routes_of_fn("router", "", &mut table);
    table
}

/// Every route of `router()` in `src/http/mod.rs`.
fn router_routes() -> Vec<Route> {
    let src = source("src/http/mod.rs");
    let table = read_table(&src);
    let routes = table.routes;
    assert!(routes.len() >= 30, "the parser found only {} routes: {routes:?}", routes.len());
    // Every `.route(` of the file was reached (none hides in a router the parser did not follow).
    let registered = src.matches(".route(").count();
    let distinct: BTreeSet<&str> =
        routes.iter().map(|r| r.path.as_str()).chain(table.catch_alls.iter().map(String::as_str)).collect();
    assert_eq!(distinct.len(), registered, "paths read from src/http/mod.rs vs its `.route(` calls: {distinct:?}");
    routes
}

// ---------------------------------------------------------------------------------------------
// Reading the document.

async fn document(app: &TestApp) -> Value {
    let response = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    response.json().await.unwrap()
}

/// Every `(method, path)` operation of the document.
fn operations(doc: &Value) -> BTreeMap<(String, String), &Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                out.insert((method.clone(), path.clone()), operation);
            }
        }
    }
    out
}

/// Follows a local `$ref`.
fn resolve<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {reference}"));
        node = doc.pointer(pointer).unwrap_or_else(|| panic!("$ref {reference} leads nowhere"));
    }
    node
}

fn responses<'a>(doc: &'a Value, operation: &'a Value) -> BTreeMap<u16, &'a Value> {
    operation["responses"]
        .as_object()
        .expect("responses")
        .iter()
        .map(|(status, response)| (status.parse().expect("numeric status"), resolve(doc, response)))
        .collect()
}

fn security_names(operation: &Value) -> BTreeSet<String> {
    operation["security"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r.as_object().unwrap().keys().cloned())
        .collect()
}

/// `value` against `schema`: object keys are documented, required ones present, and JSON
/// types and enums match; recursing into properties and items.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(branches) = schema.get("oneOf").or(schema.get("anyOf")).and_then(Value::as_array) {
        return match branches.iter().find(|branch| check(doc, branch, value, at).is_ok()) {
            Some(_) => Ok(()),
            None => Err(format!("{at}: {value} fits no branch of {schema}")),
        };
    }
    if let Some(kinds) = schema.get("type") {
        let kinds: Vec<&str> = match kinds {
            Value::String(kind) => vec![kind.as_str()],
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
            other => return Err(format!("{at}: odd type {other}")),
        };
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_f64() => "number",
            Value::Number(_) => "integer",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !(kinds.contains(&kind) || (kind == "integer" && kinds.contains(&"number"))) {
            return Err(format!("{at}: {value} is {kind}, the document says {kinds:?}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    match value {
        Value::Object(fields) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return Ok(()) };
            for (key, field) in fields {
                let property = properties.get(key).ok_or_else(|| format!("{at}.{key} is not documented"))?;
                check(doc, property, field, &format!("{at}.{key}"))?;
            }
            for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                let required = required.as_str().unwrap_or_default();
                if !fields.contains_key(required) {
                    return Err(format!("{at}.{required} is documented as required but missing"));
                }
            }
            Ok(())
        }
        Value::Array(items) => match schema.get("items") {
            Some(item_schema) => {
                items.iter().enumerate().try_for_each(|(i, item)| check(doc, item_schema, item, &format!("{at}[{i}]")))
            }
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

fn assert_fits(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if let Err(error) = check(doc, schema, value, at) {
        panic!("{error}");
    }
}

/// The schema of the `status` answer of `method path`, for `content_type`.
fn answer_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16, content_type: &str) -> &'a Value {
    let operation = &doc["paths"][path][method];
    let response = responses(doc, operation).remove(&status).unwrap_or_else(|| panic!("{method} {path}: no {status}"));
    let schema = &response["content"][content_type]["schema"];
    assert!(schema.is_object(), "{method} {path} {status}: no {content_type} schema");
    schema
}

async fn assert_answer_fits(doc: &Value, method: &str, path: &str, response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let schema = answer_schema(doc, method, path, status, &content_type);
    assert_fits(doc, schema, &body, &format!("{method} {path} {status}"));
    body
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn the_route_reader_follows_nests_bindings_and_method_chains() {
    let src = r#"
        fn api(core: AppState) -> Router<AppState> {
            let auth = Router::new()
                .route("/login", post(auth::login))
                // a comment (with brackets
                .route("/sessions/{id}", delete(auth::end_session));
            Router::new()
                .nest("/auth", auth)
                .route("/things", get(things::list).post(things::create))
                .fallback(route_not_found)
                .layer(axum::middleware::from_fn_with_state(core, middleware::limit_ip))
        }
        pub fn router(core: AppState) -> Router {
            let spa = ServeDir::new(&web).fallback(ServeFile::new(web.join("index.html")));
            let ops = Router::new().route("/metrics", get(ops::metrics)).layer(limit(core.clone()));
            let routes = Router::new()
                .route("/health", get(ops::health))
                .merge(ops)
                .nest("/api/v1", api(core.clone()))
                .route("/api/{*rest}", axum::routing::any(route_not_found))
                .fallback_service(spa);
            with_pipeline(routes, core)
        }
    "#;
    let table = read_table(src);
    let found: Vec<(&str, &str, &str)> =
        table.routes.iter().map(|r| (r.method.as_str(), r.path.as_str(), r.handler.as_str())).collect();
    assert_eq!(
        found,
        [
            ("get", "/health", "ops::health"),
            ("get", "/metrics", "ops::metrics"),
            ("post", "/api/v1/auth/login", "auth::login"),
            ("delete", "/api/v1/auth/sessions/{id}", "auth::end_session"),
            ("get", "/api/v1/things", "things::list"),
            ("post", "/api/v1/things", "things::create"),
        ]
    );
    assert_eq!(table.catch_alls, ["/api/{*rest}"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_has_exactly_the_routes_of_the_router() {
    let app = spawn_app(Backend::Embedded).await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "OpenAPI 3");
    assert_eq!(doc["info"]["title"], "Tradesage");
    let routed: BTreeSet<(String, String)> = router_routes().into_iter().map(|r| (r.method, r.path)).collect();
    let documented: BTreeSet<(String, String)> = operations(&doc).into_keys().collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from /openapi.json (add #[utoipa::path] and list them in ApiDoc): {undocumented:?}"
    );
    assert!(unrouted.is_empty(), "operations of /openapi.json the router does not serve: {unrouted:?}");
    assert!(routed.contains(&("get".to_owned(), "/openapi.json".to_owned())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_declares_its_problem_json_errors() {
    let app = spawn_app(Backend::Embedded).await;
    let doc = document(&app).await;
    for ((method, path), operation) in operations(&doc) {
        if NO_PROBLEM_4XX.contains(&path.as_str()) {
            continue;
        }
        let problems: Vec<u16> = responses(&doc, operation)
            .into_iter()
            .filter(|(status, response)| {
                (400..500).contains(status) && response["content"]["application/problem+json"]["schema"].is_object()
            })
            .map(|(status, _)| status)
            .collect();
        assert!(!problems.is_empty(), "{method} {path} declares no application/problem+json 4xx answer");
        // Every error answer of the API is problem+json, whatever its status.
        for (status, response) in responses(&doc, operation) {
            if status >= 400 {
                let content = response["content"].as_object().expect("error content");
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/problem+json"],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    resolve(&doc, &content["application/problem+json"]["schema"]),
                    resolve(&doc, &json!({"$ref": "#/components/schemas/Problem"})),
                    "{method} {path} {status}"
                );
            }
        }
    }
    let problem = &doc["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail", "code"] {
        assert!(problem["required"].as_array().unwrap().contains(&json!(field)), "Problem.{field}");
    }
    assert!(problem["properties"]["field"].is_object(), "Problem.field");
}

/// Each operation agrees with what its handler takes: a JSON body (and the 400/413/415/422 that
/// come with one), a query string, path ids, an access token, a scope guard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_matches_its_handler() {
    let app = spawn_app(Backend::Embedded).await;
    let doc = document(&app).await;
    let schemes = doc["components"]["securitySchemes"].as_object().expect("security schemes");
    let mut operation_ids = BTreeSet::new();
    for route in router_routes() {
        let what = format!("{} {} ({})", route.method, route.path, route.handler);
        let operation = &doc["paths"][&route.path][&route.method];
        assert!(operation.is_object(), "{what} is not documented");
        assert!(
            operation_ids.insert(operation["operationId"].as_str().unwrap().to_owned()),
            "{what}: duplicate operationId"
        );
        assert!(operation["summary"].as_str().is_some_and(|s| !s.is_empty()), "{what}: no summary");
        let statuses: BTreeSet<u16> = responses(&doc, operation).into_keys().collect();
        assert!(statuses.iter().any(|s| (200..300).contains(s)), "{what}: no success answer");
        let (signature, body) = handler_source(&route.handler);

        let takes_json = signature.contains("ApiJson<");
        let request_body = &operation["requestBody"];
        assert_eq!(
            request_body.is_object(),
            takes_json,
            "{what}: requestBody documented iff the handler takes ApiJson"
        );
        if takes_json {
            assert_eq!(request_body["required"], true, "{what}");
            assert!(request_body["content"]["application/json"]["schema"].is_object(), "{what}: body schema");
            for status in [400, 413, 415, 422] {
                assert!(statuses.contains(&status), "{what}: takes a JSON body but does not declare {status}");
            }
        }

        let parameters: Vec<&Value> =
            operation["parameters"].as_array().into_iter().flatten().map(|p| resolve(&doc, p)).collect();
        let query = parameters.iter().filter(|p| p["in"] == "query").count();
        assert_eq!(
            query > 0,
            signature.contains("ApiQuery<"),
            "{what}: query parameters iff the handler takes ApiQuery"
        );
        let templated: BTreeSet<String> =
            route.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}').map(str::to_owned)).collect();
        let in_path: BTreeSet<String> = parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .inspect(|p| assert_eq!(p["required"], true, "{what}: path parameters are required"))
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(in_path, templated, "{what}: path parameters");
        assert_eq!(!templated.is_empty(), signature.contains("Path("), "{what}: path ids iff the handler takes Path");

        let security = security_names(operation);
        for name in &security {
            assert!(schemes.contains_key(name), "{what}: unknown security scheme {name}");
        }
        let authenticates =
            signature.contains("AuthUser") || body.contains("authenticate(") || body.contains("operator_allowed(");
        if authenticates {
            assert!(security.contains("bearer"), "{what}: authenticates but declares no bearer security");
            assert!(statuses.contains(&401), "{what}: authenticates but does not declare 401");
        }
        if body.contains(".require(") {
            assert!(statuses.contains(&403), "{what}: checks a scope but does not declare 403");
        }
        if route.path.starts_with("/api/v1/") {
            assert!(statuses.contains(&429), "{what}: every /api/v1 route is rate limited");
        }
    }
}

/// Every `$ref` of the document leads somewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_resolves() {
    fn walk<'a>(node: &'a Value, out: &mut Vec<&'a str>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    out.push(reference);
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let app = spawn_app(Backend::Embedded).await;
    let doc = document(&app).await;
    let mut references = Vec::new();
    walk(&doc, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {reference}"));
        assert!(doc.pointer(pointer).is_some(), "$ref {reference} leads nowhere");
    }
}

// Each documented operation, requested anonymously with made-up ids, reaches a handler: it is
// answered neither 405 nor by a fallback (the API's "no such route", the web app's pages).
both!(every_documented_operation_is_routed, |app: TestApp| async move {
    let doc = document(&app).await;
    for (method, path) in operations(&doc).into_keys() {
        let url = app.url(&path.replace("{id}", &Uuid::now_v7().to_string()));
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app.new_client().request(method.clone(), &url).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let text = response.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path} is not routed: {text}");
        assert!(!content_type.starts_with("text/html"), "{method} {path} fell through to the web app");
        if status == 404 {
            assert!(content_type.starts_with("application/problem+json"), "{method} {path}: bare 404");
            assert!(!text.contains("no such route"), "{method} {path} is not routed: {text}");
        }
    }
});

// Real answers fit the schemas the document gives them.
both!(answers_fit_their_documented_schemas, |app: TestApp| async move {
    let doc = document(&app).await;
    let (_, login) = app.signed_in_user().await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let login_schema = answer_schema(&doc, "post", "/api/v1/auth/login", 200, "application/json");
    assert_fits(&doc, login_schema, &login, "login");
    for path in ["/api/v1/users/me", "/api/v1/auth/sessions", "/api/v1/orders"] {
        assert_answer_fits(&doc, "get", path, app.get_with(path, &token).await).await;
    }
    for path in ["/health", "/health/detailed", "/.well-known/jwks.json"] {
        assert_answer_fits(&doc, "get", path, app.client.get(app.url(path)).send().await.unwrap()).await;
    }
    // Errors: a viewer may not place orders (403), a missing token (401), a bad body (422).
    let order = json!({"symbol": "AAPL", "side": "buy", "quantity": "1", "limit_price": "187.25"});
    let refused = app.client.post(app.url("/api/v1/orders")).bearer_auth(&token).json(&order).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_answer_fits(&doc, "post", "/api/v1/orders", refused).await;
    let anonymous = app.new_client().get(app.url("/api/v1/users/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_answer_fits(&doc, "get", "/api/v1/users/me", anonymous).await;
    // Two-factor: the enrolment, the recovery codes, the login's `mfa_required` answer and the
    // second step's tokens (the code is computed from the secret the enrolment answered).
    let post = |path: &'static str, body: Value| app.client.post(app.url(path)).bearer_auth(&token).json(&body).send();
    let enrolment = assert_answer_fits(
        &doc,
        "post",
        "/api/v1/users/me/mfa/totp",
        post("/api/v1/users/me/mfa/totp", json!({"password": PASSWORD})).await.unwrap(),
    )
    .await;
    let secret = totp_rs::Secret::Encoded(enrolment["secret"].as_str().unwrap().to_owned()).to_bytes().unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, String::new()).unwrap();
    let confirm = post("/api/v1/users/me/mfa/totp/confirm", json!({"code": totp.generate_current().unwrap()}));
    assert_answer_fits(&doc, "post", "/api/v1/users/me/mfa/totp/confirm", confirm.await.unwrap()).await;
    let email = login["user"]["email"].as_str().unwrap();
    let pending = app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD})).await;
    let pending = assert_answer_fits(&doc, "post", "/api/v1/auth/login", pending).await;
    let code = totp.generate(totp.next_step_current().unwrap());
    let verified = app.post("/api/v1/auth/mfa/verify", json!({"mfa_token": pending["mfa_token"], "code": code})).await;
    assert_eq!(verified.status(), 200);
    assert_answer_fits(&doc, "post", "/api/v1/auth/mfa/verify", verified).await;
    let invalid = app.post("/api/v1/auth/register", json!({"email": "not-an-email", "password": 5})).await;
    assert_eq!(invalid.status(), 422);
    let problem = assert_answer_fits(&doc, "post", "/api/v1/auth/register", invalid).await;
    assert!(problem["field"].is_string(), "{problem}");
});

// The operators' answers fit their schemas too: one node, the cluster, the history, a bad query.
both!(
    operator_answers_fit_their_documented_schemas,
    [("METRICS_TOKEN", "openapi-operator-token")],
    |app: TestApp| async move {
        let doc = document(&app).await;
        let token = "openapi-operator-token";
        for query in ["", "?scope=node", "?scope=cluster"] {
            let response = app.get_with(&format!("/api/v1/admin/actors{query}"), token).await;
            assert_eq!(response.status(), 200, "{query}");
            let body = assert_answer_fits(&doc, "get", "/api/v1/admin/actors", response).await;
            assert_eq!(body["nodes"].is_array(), query.ends_with("cluster"), "{query}: {body}");
        }
        let history = app.get_with("/api/v1/admin/actors/history?minutes=5", token).await;
        assert_eq!(history.status(), 200);
        assert_answer_fits(&doc, "get", "/api/v1/admin/actors/history", history).await;
        let bad = app.get_with("/api/v1/admin/actors/history?minutes=99", token).await;
        assert_eq!(bad.status(), 422);
        assert_answer_fits(&doc, "get", "/api/v1/admin/actors/history", bad).await;
        let health = app.client.get(app.url("/health/detailed")).send().await.unwrap();
        let body = assert_answer_fits(&doc, "get", "/health/detailed", health).await;
        assert!(body["checks"]["keys"]["detail"].is_string(), "{body}");
    }
);
