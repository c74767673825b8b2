//! The `surreal` command, as SurrealDB ships it (`surreal start ...`).
#![recursion_limit = "256"]
fn main() -> std::process::ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
