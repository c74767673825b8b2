//! A real SurrealDB server for the tests that need one (several Waggle processes on one
//! database, the crash test on `ws://`): the `surreal` binary built from crates.io by
//! `scripts/lib.sh` (`ensure_surreal_server`, tools/surreal-server), named by the
//! `WAGGLE_TEST_SURREAL` environment variable. `scripts/test-ws.sh` sets it and runs these
//! tests; without it they say so and pass without running (the normal suite does not build
//! SurrealDB's server: ~20 minutes).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `surreal` binary, when the run provides one.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("WAGGLE_TEST_SURREAL").map(PathBuf::from)?;
    assert!(path.is_file(), "WAGGLE_TEST_SURREAL={} is not a file", path.display());
    Some(path)
}

/// `surreal start` on a free port of 127.0.0.1 with its data in `dir` (surrealkv); stopped
/// when dropped.
pub struct SurrealServer {
    child: Child,
    pub url: String,
}

impl Drop for SurrealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl SurrealServer {
    pub async fn start(binary: &Path, dir: &Path) -> SurrealServer {
        let port = free_port();
        let child = Command::new(binary)
            .args(["start", "--bind", &format!("127.0.0.1:{port}"), "--user", "root", "--pass", "root", "--log", "warn"])
            .arg(format!("surrealkv://{}", dir.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("surreal starts");
        let server = SurrealServer { child, url: format!("ws://127.0.0.1:{port}") };
        let c = reqwest::Client::new();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if c.get(format!("http://127.0.0.1:{port}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the SurrealDB server did not come up");
    }

}

/// The `waggle serve` options that put a Waggle on the server at `url`.
pub fn waggle_args(url: &str) -> Vec<String> {
    ["--database", url, "--database-user", "root", "--database-password", "root"].map(String::from).to_vec()
}
