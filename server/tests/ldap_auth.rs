//! LDAP authentication against a real OpenLDAP slapd (see `slapd`), no mocks. Each test starts
//! its own slapd on free ports in its own temp dir, so they run in parallel.

mod slapd;

use std::time::{Duration, Instant};

use slapd::{ADMINS, ANALYSTS, ClosedPort, DAVE_DN, Options, SVC_DN, Slapd};
use waggle::core::auth::ldap::{LdapError, authenticate, test_connection};

macro_rules! slapd {
    ($opts:expr) => {
        match Slapd::start($opts) {
            Some(s) => s,
            None => return,
        }
    };
    () => {
        slapd!(Options::default())
    };
}

const INJECTIONS: &[&str] = &["*", "admin)(|(uid=*", "alice)(uid=*", "alice)(|(uid=*))", "*)(objectClass=*", "al*", "\\2a", "alice\\"];

/// The login scenarios, run against both directory flavours.
async fn scenarios(s: &Slapd) {
    let cfg = s.config();

    let alice = authenticate(&cfg, "alice", "alice-pw").await.expect("alice logs in");
    assert_eq!(alice.dn, "uid=alice,ou=people,dc=example,dc=org");
    assert_eq!(alice.login, "alice");
    assert_eq!(alice.name.as_deref(), Some("Alice Analyst"));
    assert_eq!(alice.email.as_deref(), Some("alice@example.org"));
    assert_eq!(alice.groups, vec![ANALYSTS.to_string()]);

    let bob = authenticate(&cfg, "bob", "bob-pw").await.expect("bob logs in");
    assert_eq!(bob.groups, vec![ADMINS.to_string()]);
    let carol = authenticate(&cfg, "carol", "carol-pw").await.expect("carol logs in");
    assert!(carol.groups.is_empty());
    // The directory's spelling of the login comes back (uid matching is case-insensitive).
    assert_eq!(authenticate(&cfg, "ALICE", "alice-pw").await.unwrap().login, "alice");

    // Wrong passwords, including another user's and near misses.
    for pw in ["wrong", "bob-pw", "alice-pw ", "ALICE-PW", "alice-p"] {
        assert_eq!(authenticate(&cfg, "alice", pw).await, Err(LdapError::BadCredentials), "{pw:?}");
    }
    // Empty, blank, NUL: refused (on the bind_anon_dn directory "" would otherwise bind!).
    for pw in ["", " ", "   \t", "\0", "alice-pw\0", "\0alice-pw"] {
        assert_eq!(authenticate(&cfg, "alice", pw).await, Err(LdapError::BadCredentials), "{pw:?}");
    }
    // Filter injection: escaped, so they match no entry.
    for login in INJECTIONS {
        for pw in ["alice-pw", "x"] {
            let r = authenticate(&cfg, login, pw).await;
            assert_eq!(r, Err(LdapError::UnknownUser), "{login:?}");
            assert!(r.unwrap_err().is_credentials_failure());
        }
    }
    // Logins refused outright.
    for login in ["", "  ", "alice\0", &"a".repeat(257)] {
        assert_eq!(authenticate(&cfg, login, "alice-pw").await, Err(LdapError::BadCredentials), "{login:?}");
    }
    assert_eq!(authenticate(&cfg, "mallory", "x").await, Err(LdapError::UnknownUser));
    assert_eq!(authenticate(&cfg, "dup", "dup-pw").await, Err(LdapError::Ambiguous));
    assert_eq!(LdapError::Ambiguous.public_message(), LdapError::BadCredentials.public_message());
    assert_eq!(LdapError::UnknownUser.public_message(), LdapError::BadCredentials.public_message());
    // The service account is not an inetOrgPerson: the filter keeps it out.
    assert_eq!(authenticate(&cfg, "svc-waggle", "svc-secret").await, Err(LdapError::UnknownUser));
}

#[tokio::test]
async fn default_directory() {
    let s = slapd!();
    scenarios(&s).await;
}

/// `allow bind_anon_dn`: a DN with an empty password binds (anonymously), as on AD.
#[tokio::test]
async fn directory_allowing_unauthenticated_binds() {
    let s = slapd!(Options { allow_bind_anon_dn: true });

    // Proof that the directory would accept it: a raw simple bind as alice with "" succeeds.
    let (conn, mut raw) = ldap3::LdapConnAsync::new(&s.url()).await.unwrap();
    ldap3::drive!(conn);
    let res = raw.simple_bind("uid=alice,ou=people,dc=example,dc=org", "").await.unwrap();
    assert_eq!(res.rc, 0, "this directory accepts unauthenticated binds: {res}");
    raw.unbind().await.unwrap();

    scenarios(&s).await;
}

#[tokio::test]
async fn rejected_passwords_never_reach_the_network() {
    let closed = ClosedPort::new();
    let mut cfg = {
        let s = slapd!();
        s.config()
    };
    cfg.urls = vec![closed.url()];
    // With a valid password the closed port shows: unreachable...
    assert!(matches!(authenticate(&cfg, "alice", "alice-pw").await, Err(LdapError::Unreachable(_))));
    // ... but these are refused before any connect.
    for pw in ["", " ", "\t\n", "alice-pw\0"] {
        assert_eq!(authenticate(&cfg, "alice", pw).await, Err(LdapError::BadCredentials), "{pw:?}");
    }
    assert_eq!(authenticate(&cfg, "", "alice-pw").await, Err(LdapError::BadCredentials));
    assert_eq!(authenticate(&cfg, "a\0b", "alice-pw").await, Err(LdapError::BadCredentials));
}

#[tokio::test]
async fn directory_down_is_unreachable_never_a_login() {
    let mut s = slapd!();
    let cfg = s.config();
    authenticate(&cfg, "alice", "alice-pw").await.expect("up");
    s.stop();
    let t = Instant::now();
    match authenticate(&cfg, "alice", "alice-pw").await {
        Err(LdapError::Unreachable(m)) => {
            assert!(m.contains(&s.url()) && m.contains("refused"), "{m}");
            assert!(!m.contains("alice-pw"));
            eprintln!("down: {}", LdapError::Unreachable(m));
        }
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(matches!(test_connection(&cfg).await, Err(LdapError::Unreachable(_))));
}

#[tokio::test]
async fn failover_to_the_next_url() {
    let s = slapd!();
    let closed = ClosedPort::new();
    let mut cfg = s.config();
    cfg.urls = vec![closed.url(), s.url()];
    let id = authenticate(&cfg, "alice", "alice-pw").await.expect("second URL used");
    assert_eq!(id.groups, vec![ANALYSTS.to_string()]);
    assert_eq!(authenticate(&cfg, "alice", "nope").await, Err(LdapError::BadCredentials));
    let report = test_connection(&cfg).await.unwrap();
    assert!(report.contains(&format!("connected to {}", s.url())) && report.contains(&format!("skipped {}", closed.url())), "{report}");

    // Both down: the message names both.
    let closed2 = ClosedPort::new();
    cfg.urls = vec![closed.url(), closed2.url()];
    match authenticate(&cfg, "alice", "alice-pw").await {
        Err(LdapError::Unreachable(m)) => assert!(m.contains(&closed.url()) && m.contains(&closed2.url()), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// A server that accepts TCP connections and never answers: operation timeout, then failover.
#[tokio::test]
async fn hung_server_times_out_and_fails_over() {
    let s = slapd!();
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hung_url = format!("ldap://{}", hung.local_addr().unwrap());
    let keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = hung.accept().await {
            held.push(sock);
        }
    });
    let mut cfg = s.config();
    cfg.timeout_secs = 1;
    cfg.urls = vec![hung_url.clone()];
    let t = Instant::now();
    match authenticate(&cfg, "alice", "alice-pw").await {
        Err(LdapError::Unreachable(m)) => assert!(m.contains("timed out after 1s") && m.contains(&hung_url), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    cfg.urls = vec![hung_url, s.url()];
    authenticate(&cfg, "alice", "alice-pw").await.expect("failover after the timeout");
    keep.abort();
}

#[tokio::test]
async fn starttls_and_ldaps_with_the_right_ca() {
    let s = slapd!();
    let mut cfg = s.config();
    cfg.ca_file = Some(s.ca_file.clone());

    cfg.starttls = true;
    let id = authenticate(&cfg, "alice", "alice-pw").await.expect("StartTLS");
    assert_eq!(id.groups, vec![ANALYSTS.to_string()]);
    assert_eq!(authenticate(&cfg, "alice", "bad").await, Err(LdapError::BadCredentials));
    assert!(test_connection(&cfg).await.unwrap().contains("(StartTLS)"));

    cfg.starttls = false;
    cfg.urls = vec![s.ldaps_url()];
    authenticate(&cfg, "bob", "bob-pw").await.expect("LDAPS");
    let report = test_connection(&cfg).await.unwrap();
    assert!(report.contains("(LDAPS)") && !report.contains("WARNING"), "{report}");

    // localhost is in the certificate too.
    cfg.urls = vec![format!("ldaps://localhost:{}", s.ldaps_port)];
    authenticate(&cfg, "bob", "bob-pw").await.expect("LDAPS by name");
}

#[tokio::test]
async fn tls_with_a_wrong_or_missing_ca_fails() {
    let s = slapd!();
    let base = s.config();
    for (starttls, url) in [(true, s.url()), (false, s.ldaps_url())] {
        for ca in [Some(s.wrong_ca_file.clone()), None] {
            let mut cfg = base.clone();
            cfg.starttls = starttls;
            cfg.urls = vec![url.clone()];
            cfg.ca_file = ca.clone();
            match authenticate(&cfg, "alice", "alice-pw").await {
                Err(LdapError::Unreachable(m)) => assert!(m.contains("TLS handshake failed"), "{m}"),
                other => panic!("{url} starttls={starttls} ca={ca:?}: {other:?}"),
            }
        }
    }
    // A CA file that is not a certificate is a configuration error, found before connecting.
    let mut cfg = base.clone();
    cfg.ca_file = Some(s.dir().join("slapd.conf"));
    cfg.starttls = true;
    assert!(matches!(authenticate(&cfg, "alice", "alice-pw").await, Err(LdapError::Config(m)) if m.contains("no PEM certificate")));
    cfg.ca_file = Some(s.dir().join("missing.pem"));
    assert!(matches!(authenticate(&cfg, "alice", "alice-pw").await, Err(LdapError::Config(m)) if m.contains("cannot read ca_file")));
}

#[tokio::test]
async fn anonymous_search_mode() {
    let s = slapd!();
    let mut cfg = s.config();
    cfg.bind_dn = None;
    cfg.bind_password = None;
    let id = authenticate(&cfg, "alice", "alice-pw").await.expect("anonymous search, then user bind");
    assert_eq!(id.groups, vec![ANALYSTS.to_string()]);
    assert_eq!(authenticate(&cfg, "alice", "nope").await, Err(LdapError::BadCredentials));
    assert_eq!(authenticate(&cfg, "alice", "").await, Err(LdapError::BadCredentials));
    assert!(test_connection(&cfg).await.unwrap().contains("searching anonymously"));
}

/// Groups from a search (`member={dn}`), with a DN that needs RFC 4514 and RFC 4515 escaping.
#[tokio::test]
async fn group_search_mode() {
    let s = slapd!();
    let mut cfg = s.config();
    cfg.group_attribute = None;
    cfg.group_base = Some("ou=groups,dc=example,dc=org".into());
    cfg.group_filter = Some("(&(objectClass=groupOfNames)(member={dn}))".into());

    let dave = authenticate(&cfg, "dave", "dave-pw").await.expect("dave");
    // The server spells the escaped comma its own way (\2C); it is the same DN.
    assert_eq!(dave.dn.replace(r"\2C", r"\,"), DAVE_DN);
    assert_eq!(dave.name.as_deref(), Some("Ext, Dave (contractor)"));
    assert_eq!(dave.groups, vec![ANALYSTS.to_string()]);
    assert_eq!(authenticate(&cfg, "bob", "bob-pw").await.unwrap().groups, vec![ADMINS.to_string()]);
    assert!(authenticate(&cfg, "carol", "carol-pw").await.unwrap().groups.is_empty());
    assert_eq!(authenticate(&cfg, "dave", "x").await, Err(LdapError::BadCredentials));

    // Both sources at once: no duplicates.
    cfg.group_attribute = Some("memberOf".into());
    assert_eq!(authenticate(&cfg, "dave", "dave-pw").await.unwrap().groups, vec![ANALYSTS.to_string()]);
    assert!(test_connection(&cfg).await.unwrap().contains("group base ou=groups,dc=example,dc=org found"));

    // Anonymous search mode re-binds anonymously for the group search.
    cfg.bind_dn = None;
    cfg.bind_password = None;
    assert_eq!(authenticate(&cfg, "alice", "alice-pw").await.unwrap().groups, vec![ANALYSTS.to_string()]);
}

#[tokio::test]
async fn test_connection_reports() {
    let s = slapd!();
    let cfg = s.config();
    let report = test_connection(&cfg).await.expect("works");
    eprintln!("report: {report}");
    assert!(report.contains(&format!("connected to {}", s.url())), "{report}");
    assert!(report.contains(&format!("bound as {SVC_DN}")), "{report}");
    assert!(report.contains("base dc=example,dc=org found"), "{report}");
    // alice, bob, carol, dave, dup, dup.
    assert!(report.contains("6 entries match the user filter"), "{report}");
    assert!(report.contains("WARNING: the connection is not encrypted"), "{report}");

    let mut bad = cfg.clone();
    bad.bind_password = Some("wrong-service-password".into());
    match test_connection(&bad).await {
        Err(e @ LdapError::Config(_)) => {
            let m = e.to_string();
            eprintln!("wrong bind password: {m}");
            assert!(m.contains("service account bind") && m.contains("invalidCredentials"), "{m}");
            assert!(!m.contains("wrong-service-password"));
        }
        other => panic!("{other:?}"),
    }
    // The same for a login: not the user's fault, not BadCredentials.
    assert!(matches!(authenticate(&bad, "alice", "alice-pw").await, Err(LdapError::Config(_))));

    let mut bad = cfg.clone();
    bad.base_dn = "dc=nowhere,dc=org".into();
    assert!(matches!(test_connection(&bad).await, Err(LdapError::Config(m)) if m.contains("does not exist")));
    let mut bad = cfg.clone();
    bad.user_filter = "(uid={login}".into();
    assert!(matches!(test_connection(&bad).await, Err(LdapError::Config(m)) if m.contains("invalid LDAP filter")));
    assert!(matches!(authenticate(&bad, "alice", "alice-pw").await, Err(LdapError::Config(_))));
    let mut bad = cfg.clone();
    bad.user_filter = "(uid=nobody{login}x)".into();
    assert!(test_connection(&bad).await.unwrap().contains("no entry matches the user filter"));
}

/// One `LdapDirectory` (TLS connector built once) serving concurrent logins over LDAPS.
#[tokio::test]
async fn concurrent_logins_on_one_directory() {
    let s = slapd!();
    let mut cfg = s.config();
    cfg.urls = vec![s.ldaps_url()];
    cfg.ca_file = Some(s.ca_file.clone());
    let dir = waggle::core::auth::ldap::LdapDirectory::new(cfg).await.unwrap();
    let tries = (0..30).map(|i| {
        let dir = dir.clone();
        async move {
            let (login, pw, ok) = match i % 3 {
                0 => ("alice", "alice-pw", true),
                1 => ("bob", "bob-pw", true),
                _ => ("alice", "bob-pw", false),
            };
            (i, login, ok, dir.authenticate(login, pw).await)
        }
    });
    let handles: Vec<_> = tries.map(tokio::spawn).collect();
    for h in handles {
        let (i, login, ok, r) = h.await.unwrap();
        match r {
            Ok(id) => assert!(ok && id.login == login, "#{i} {login}: {id:?}"),
            Err(e) => assert!(!ok && e == LdapError::BadCredentials, "#{i} {login}: {e:?}"),
        }
    }
    // Debug of the directory redacts the service password too.
    assert!(!format!("{dir:?}").contains(slapd::SVC_PW));
}
