//! Build script: makes the release binary follow the web app it embeds (`src/http/web.rs`).
//!
//! rust-embed reads `web/dist` at compile time, but cargo only knows about the files that
//! existed then: a binary built before `npm run build` (as `scripts/test` does on a clean
//! clone) would not be rebuilt once the app appears. Watching the folder fixes that. A missing
//! folder would make cargo rerun this script on every build, so an empty one stands in for it
//! until the app is built (`web/dist` is ignored by git).

fn main() {
    let dist = std::path::Path::new("web/dist");
    if !dist.exists() {
        if let Err(e) = std::fs::create_dir_all(dist) {
            println!("cargo:warning=cannot create web/dist ({e}); the binary will carry no web app");
        }
    }
    println!("cargo:rerun-if-changed=web/dist");
    println!("cargo:rerun-if-changed=build.rs");
}
