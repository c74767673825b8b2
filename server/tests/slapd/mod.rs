//! A throwaway OpenLDAP `slapd` for integration tests: own config (slapd.conf, `-f`), mdb
//! database and TLS certificates (openssl CLI) in a temp dir, listening on 127.0.0.1 with free
//! ports (plain/StartTLS and LDAPS), loaded with [`DATA_LDIF`] through `ldapadd` so that the
//! memberof overlay fills `memberOf`. Killed, and its directory removed, on drop.
//!
//! Needs Debian's `slapd` and `ldap-utils` (`apt-get install -y slapd ldap-utils`; the packaged
//! system instance is not used) and `openssl`. `SLAPD=/path/to/slapd` overrides the binary;
//! `WAGGLE_SKIP_SLAPD_TESTS=1` makes [`Slapd::start`] return `None` (tests then pass vacuously,
//! saying so on stderr) instead of failing when slapd is missing.
#![allow(dead_code)]

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use waggle::core::auth::ldap::LdapConfig;

pub const SUFFIX: &str = "dc=example,dc=org";
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=org";
pub const ROOT_PW: &str = "admin-secret";
pub const SVC_DN: &str = "cn=svc-waggle,ou=services,dc=example,dc=org";
pub const SVC_PW: &str = "svc-secret";
pub const ANALYSTS: &str = "cn=soc-analysts,ou=groups,dc=example,dc=org";
pub const ADMINS: &str = "cn=soc-admins,ou=groups,dc=example,dc=org";
/// Dave's DN needs escaping both as a DN (the `\,`) and in a filter (`\`, `(`, `)`).
pub const DAVE_DN: &str = r"cn=Ext\, Dave (contractor),ou=contractors,dc=example,dc=org";

/// The directory: alice (soc-analysts), bob (soc-admins), carol (no group), dave (soc-analysts,
/// awkward DN), two entries with uid=dup, a service account. Passwords are `<uid>-pw`.
pub const DATA_LDIF: &str = include_str!("directory.ldif");

/// slapd.conf; `{dir}` is the temp dir, `{allow}` an optional `allow bind_anon_dn` line (the
/// browser test end2end/tests/authentication.test.mjs starts a slapd from the same two files).
pub const SLAPD_CONF: &str = include_str!("slapd.conf");

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `allow bind_anon_dn`: a DN with an empty password binds anonymously (like AD).
    pub allow_bind_anon_dn: bool,
}

pub struct Slapd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// ldap:// (StartTLS available).
    pub port: u16,
    pub ldaps_port: u16,
    /// The CA that signed the server certificate (for 127.0.0.1 and localhost).
    pub ca_file: PathBuf,
    /// An unrelated CA.
    pub wrong_ca_file: PathBuf,
    /// Keeps the ports taken once slapd is stopped, so no other test's server gets them.
    held: Vec<ClosedPort>,
}

impl Slapd {
    /// Starts a loaded slapd, or `None` when `WAGGLE_SKIP_SLAPD_TESTS` is set and slapd is
    /// missing. Panics with the reason otherwise.
    pub fn start(opts: Options) -> Option<Slapd> {
        let Some(bin) = slapd_binary() else {
            if std::env::var_os("WAGGLE_SKIP_SLAPD_TESTS").is_some() {
                eprintln!("slapd not found: skipping (WAGGLE_SKIP_SLAPD_TESTS)");
                return None;
            }
            panic!("slapd not found: apt-get install -y slapd ldap-utils (or set SLAPD=/path/to/slapd)");
        };
        let dir = tempfile::Builder::new().prefix("waggle-slapd-").tempdir().expect("temp dir");
        let d = &dir.path().to_path_buf();
        std::fs::create_dir(d.join("db")).unwrap();
        make_certificates(d);
        let conf = SLAPD_CONF
            .replace("{dir}", d.to_str().unwrap())
            .replace("{allow}", if opts.allow_bind_anon_dn { "allow bind_anon_dn" } else { "" });
        std::fs::write(d.join("slapd.conf"), conf).unwrap();

        // Free ports can be taken by someone else before slapd binds them: retry.
        let mut last = String::new();
        for _ in 0..5 {
            let (port, ldaps_port) = (free_port(), free_port());
            let log = std::fs::File::create(d.join("slapd.log")).unwrap();
            let mut cmd = Command::new(&bin);
            cmd.arg("-f")
                .arg(d.join("slapd.conf"))
                .arg("-h")
                .arg(format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{ldaps_port}/"))
                .args(["-d", "0"]) // stay in the foreground
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log);
            // If the test process dies without unwinding, take slapd with it.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = cmd.spawn().expect("spawn slapd");
            match wait_ready(&mut child, d, port, ldaps_port) {
                Ok(()) => {
                    let s = Slapd {
                        ca_file: d.join("ca.crt"),
                        wrong_ca_file: d.join("wrong-ca.crt"),
                        dir,
                        child: Some(child),
                        port,
                        ldaps_port,
                        held: Vec::new(),
                    };
                    s.load(DATA_LDIF);
                    return Some(s);
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last = e;
                }
            }
        }
        panic!("slapd did not start: {last}");
    }

    /// Adds LDIF as the rootdn, online (so that overlays such as memberof run).
    pub fn load(&self, ldif: &str) {
        let mut child = Command::new("ldapadd")
            .args(["-x", "-H", &self.url(), "-D", ROOT_DN, "-w", ROOT_PW])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ldapadd (apt-get install -y ldap-utils)");
        child.stdin.take().unwrap().write_all(ldif.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "ldapadd failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The usual configuration: plain ldap://, service account, memberOf.
    pub fn config(&self) -> LdapConfig {
        LdapConfig {
            urls: vec![self.url()],
            starttls: false,
            ca_file: None,
            bind_dn: Some(SVC_DN.into()),
            bind_password: Some(SVC_PW.into()),
            base_dn: SUFFIX.into(),
            user_filter: "(&(objectClass=inetOrgPerson)(uid={login}))".into(),
            login_attribute: "uid".into(),
            name_attribute: "cn".into(),
            mail_attribute: "mail".into(),
            group_attribute: Some("memberOf".into()),
            group_base: None,
            group_filter: None,
            timeout_secs: 5,
        }
    }

    /// Kills slapd ("the directory is down"); its ports stay reserved (nothing listens).
    pub fn stop(&mut self) {
        self.stop_process();
        for p in [self.port, self.ldaps_port] {
            if let Some(c) = ClosedPort::hold(p) {
                self.held.push(c);
            }
        }
    }

    fn stop_process(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_ready(child: &mut Child, dir: &Path, port: u16, ldaps_port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let up = |p| TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, p)), Duration::from_millis(200)).is_ok();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.join("slapd.log")).unwrap_or_default();
            return Err(format!("slapd exited ({status}): {log}"));
        }
        if up(port) && up(ldaps_port) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("slapd did not listen within 15 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop_process();
    }
}

/// A TCP port on 127.0.0.1 that is bound but not listening: connecting is refused, and nobody
/// else can take it while this lives.
pub struct ClosedPort {
    _sock: tokio::net::TcpSocket,
    pub port: u16,
}

impl ClosedPort {
    pub fn new() -> ClosedPort {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        let port = sock.local_addr().unwrap().port();
        ClosedPort { _sock: sock, port }
    }

    fn hold(port: u16) -> Option<ClosedPort> {
        let sock = tokio::net::TcpSocket::new_v4().ok()?;
        sock.set_reuseaddr(true).ok()?;
        sock.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).ok()?;
        Some(ClosedPort { _sock: sock, port })
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

fn slapd_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SLAPD") {
        return Some(PathBuf::from(p));
    }
    ["/usr/sbin/slapd", "/usr/local/libexec/slapd", "/usr/libexec/slapd"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// ca.crt/ca.key, server.crt/server.key (SAN IP:127.0.0.1, DNS:localhost) signed by it, and an
/// unrelated wrong-ca.crt. EC P-256 keys: fast to make.
fn make_certificates(d: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(d).output().expect("openssl CLI");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    for (name, cn) in [("ca", "Waggle Test CA"), ("wrong-ca", "Unrelated CA")] {
        let (key, crt, subj) = (format!("{name}.key"), format!("{name}.crt"), format!("/CN={cn}"));
        let mut args = vec!["req", "-x509", "-days", "2", "-subj", &subj, "-keyout", &key, "-out", &crt];
        args.extend(ec);
        openssl(&args);
    }
    let mut args = vec!["req", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr"];
    args.extend(ec);
    openssl(&args);
    std::fs::write(
        d.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509", "-req", "-days", "2", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-extfile",
        "server.ext", "-out", "server.crt",
    ]);
}
