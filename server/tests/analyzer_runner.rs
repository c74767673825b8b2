//! The analyzer runner against the real Cortex analyzers of tests/cortex-analyzers and a few
//! stand-in scripts (server/tests/analyzers). The real analyzers need the Python environment made by
//! `scripts/lib.sh`'s `ensure_analyzers_venv`; without it those tests say SKIP and pass.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use waggle::core::analysis::runner::{InputFile, Limits, Protocol, RunOutcome, RunSpec, run};
use serde_json::{Value, json};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn first_dir(var: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    if let Some(v) = std::env::var_os(var) {
        return Some(PathBuf::from(v));
    }
    candidates.iter().find(|p| p.is_dir()).cloned()
}

fn analyzers_dir() -> Option<PathBuf> {
    first_dir("WAGGLE_ANALYZERS_DIR", &[manifest().join("../tests/cortex-analyzers/analyzers")])
}

fn venv() -> Option<PathBuf> {
    first_dir("WAGGLE_ANALYZERS_VENV", &[manifest().join("../target/venv-analyzers")]).filter(|v| v.join("bin/python").exists())
}

/// The analyzers directory and the venv, or None after saying why the test is skipped.
fn real() -> Option<(PathBuf, PathBuf)> {
    match (analyzers_dir(), venv()) {
        (Some(a), Some(v)) => Some((a, v)),
        (a, v) => {
            // scripts/test.sh makes the venv and sets this: there, a missing part is a failure.
            assert!(std::env::var_os("WAGGLE_REQUIRE_ANALYZERS").is_none(), "the analyzers' venv is missing");
            eprintln!(
                "SKIP: needs the Cortex analyzers ({}) and their venv ({}): run \
                 `bash -c 'source scripts/lib.sh; ensure_analyzers_venv'`",
                a.map_or("missing".into(), |p| p.display().to_string()),
                v.map_or("missing".into(), |p| p.display().to_string()),
            );
            None
        }
    }
}

fn path_with(venv: Option<&Path>) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    match venv {
        Some(v) => vec![("PATH".into(), format!("{}:{path}", v.join("bin").display()))],
        None => vec![("PATH".into(), path)],
    }
}

/// What the engine sends as `config`: the platform defaults, the definition's `config`, each
/// configuration item (instance value, else its default, else `[]` for multi and null
/// otherwise), then the instance configuration.
fn engine_config(definition: &Value, instance: Value) -> Value {
    let mut c = json!({
        "check_tlp": false, "max_tlp": 2, "check_pap": false, "max_pap": 2,
        "auto_extract_artifacts": false, "proxy": {"http": null, "https": null},
        "jobCache": 10, "jobTimeout": 30,
    });
    let map = c.as_object_mut().unwrap();
    if let Some(cfg) = definition["config"].as_object() {
        map.extend(cfg.clone());
    }
    for item in definition["configurationItems"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = item["name"].as_str().unwrap().to_string();
        let value = match (instance.get(&name), item.get("defaultValue")) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) if item["multi"] == json!(true) => json!([]),
            (None, None) => Value::Null,
        };
        map.insert(name, value);
    }
    if let Some(inst) = instance.as_object() {
        map.extend(inst.clone());
    }
    c
}

struct Analyzer {
    command: PathBuf,
    cwd: PathBuf,
    definition: Value,
}

/// Reads `<analyzers>/<folder>/<definition>.json`: command relative to the analyzers directory.
fn analyzer(analyzers: &Path, folder: &str, definition: &str) -> Analyzer {
    let text =
        fs::read_to_string(analyzers.join(folder).join(format!("{definition}.json"))).unwrap();
    let definition: Value = serde_json::from_str(&text).unwrap();
    let command = analyzers.join(definition["command"].as_str().unwrap());
    let cwd = command.parent().unwrap().to_path_buf();
    Analyzer {
        command,
        cwd,
        definition,
    }
}

fn spec(
    command: PathBuf,
    cwd: PathBuf,
    input: Value,
    jobs: &Path,
    env: Vec<(String, String)>,
) -> RunSpec {
    RunSpec {
        command,
        cwd,
        protocol: Protocol::JobDirectory,
        input,
        file: None,
        timeout: Duration::from_secs(60),
        jobs_dir: jobs.to_path_buf(),
        job_id: "job1".into(),
        limits: Limits::default(),
        keep_dir: false,
        env,
    }
}

fn observable(data_type: &str, data: &str, tlp: u8, config: Value) -> Value {
    json!({"data": data, "dataType": data_type, "tlp": tlp, "pap": 2, "message": "case-1",
           "parameters": {}, "config": config})
}

fn file_observable(filename: &str, content_type: &str, config: Value) -> Value {
    json!({"dataType": "file", "file": filename, "filename": filename, "contentType": content_type,
           "tlp": 2, "pap": 2, "message": "case-1", "parameters": {}, "config": config})
}

/// Runs the spec, checks that the jobs directory is left empty, prints the time taken.
async fn timed(label: &str, spec: RunSpec) -> RunOutcome {
    let jobs = spec.jobs_dir.clone();
    let start = Instant::now();
    let outcome = run(spec).await;
    eprintln!("timing: {label}: {} ms", start.elapsed().as_millis());
    let left: Vec<_> = fs::read_dir(&jobs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.is_empty(),
        "{label}: job directory left behind: {left:?}"
    );
    outcome
}

fn report(outcome: RunOutcome) -> (Value, Vec<waggle::core::analysis::runner::ArtifactFile>) {
    match outcome {
        RunOutcome::Report { output, artifacts } => {
            if std::env::var_os("DUMP_REPORTS").is_some() {
                let names: Vec<_> = artifacts.iter().map(|a| (&a.name, a.bytes.len())).collect();
                eprintln!("report: {output}\nartifact files: {names:?}");
            }
            (output, artifacts)
        }
        RunOutcome::Failed { message } => panic!("expected a report, got a failure: {message}"),
    }
}

fn failure(outcome: RunOutcome) -> String {
    match outcome {
        RunOutcome::Failed { message } => message,
        RunOutcome::Report { output, .. } => panic!("expected a failure, got a report: {output}"),
    }
}

fn taxonomies(output: &Value) -> Vec<(String, String, String, String)> {
    output["summary"]["taxonomies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let s = |k: &str| match &t[k] {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            (s("level"), s("namespace"), s("predicate"), s("value"))
        })
        .collect()
}

fn fixture(name: &str) -> PathBuf {
    manifest().join("tests/analyzers").join(name)
}

// ---------------------------------------------------------------- the real analyzers

#[tokio::test]
async fn test_analyzer_reports_taxonomies_artifact_and_operation() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "TestAnalyzer", "TestAnalyzer");
    let jobs = tempfile::tempdir().unwrap();
    let config = engine_config(&a.definition, json!({}));
    assert_eq!(config["service"], "testing");
    assert_eq!(config["some_list"], json!(["item1", "item2", "item3"]));
    let input = observable("ip", "1.2.3.4", 2, config);
    let (out, files) = report(
        timed(
            "TestAnalyzer ip",
            spec(a.command, a.cwd, input, jobs.path(), path_with(Some(&venv))),
        )
        .await,
    );
    assert_eq!(out["success"], true);
    assert_eq!(out["full"]["data"], "1.2.3.4");
    assert_eq!(out["full"]["dataType"], "ip");
    assert!(
        out["full"]["unicodeTest"]
            .as_str()
            .unwrap()
            .contains("こんにちは")
    );
    let levels: Vec<_> = taxonomies(&out).into_iter().map(|t| t.0).collect();
    assert_eq!(levels, ["info", "safe", "suspicious", "malicious"]);
    assert_eq!(
        out["artifacts"],
        json!([{"dataType": "ip", "data": "8.8.8.8", "tags": ["test"]}])
    );
    assert_eq!(
        out["operations"],
        json!([{"type": "AddTagToArtifact", "tag": "test"}])
    );
    assert!(files.is_empty());
}

#[tokio::test]
async fn test_analyzer_throw_error_reports_failure_and_hides_secrets() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "TestAnalyzer", "TestAnalyzer");
    let jobs = tempfile::tempdir().unwrap();
    let config = engine_config(
        &a.definition,
        json!({"throw_error": true, "api_key": "s3cret"}),
    );
    let input = observable("domain", "example.org", 2, config);
    let (out, _) = report(
        timed(
            "TestAnalyzer throw_error",
            spec(a.command, a.cwd, input, jobs.path(), path_with(Some(&venv))),
        )
        .await,
    );
    assert_eq!(out["success"], false);
    assert!(
        out["errorMessage"]
            .as_str()
            .unwrap()
            .contains("throw_error boolean is set to True"),
        "{out}"
    );
    // cortexutils echoes the input, with config keys naming key/password/secret redacted.
    assert_eq!(out["input"]["data"], "example.org");
    assert_eq!(out["input"]["config"]["api_key"], "REMOVED");
}

#[tokio::test]
async fn test_analyzer_refuses_a_tlp_above_max_tlp() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "TestAnalyzer", "TestAnalyzer");
    let jobs = tempfile::tempdir().unwrap();
    let config = engine_config(&a.definition, json!({"check_tlp": true, "max_tlp": 1}));
    let input = observable("ip", "1.2.3.4", 3, config);
    let (out, _) = report(
        timed(
            "TestAnalyzer tlp",
            spec(a.command, a.cwd, input, jobs.path(), path_with(Some(&venv))),
        )
        .await,
    );
    assert_eq!(out["success"], false);
    assert_eq!(out["errorMessage"], "TLP is higher than allowed.");
}

#[tokio::test]
async fn validate_observable_flags_a_double_extension() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "ValidateObservable", "ValidateObservable");
    let jobs = tempfile::tempdir().unwrap();
    let input = observable(
        "filename",
        "invoice.pdf.exe",
        2,
        engine_config(&a.definition, json!({})),
    );
    let (out, _) = report(
        timed(
            "ValidateObservable filename",
            spec(a.command, a.cwd, input, jobs.path(), path_with(Some(&venv))),
        )
        .await,
    );
    assert_eq!(out["success"], true, "{out}");
    let t = taxonomies(&out);
    assert!(t.iter().any(|t| t.0 == "suspicious"), "{t:?} / {out}");
}

#[tokio::test]
async fn eml_parser_returns_the_attachment_as_a_file_artifact() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "EmlParser", "EmlParser");
    let work = tempfile::tempdir().unwrap();
    let jobs = tempfile::tempdir().unwrap();
    let eml = work.path().join("message.eml");
    let made = std::process::Command::new(venv.join("bin/python"))
        .arg(fixture("make_eml.py"))
        .arg(&eml)
        .arg("invoice.exe")
        .status()
        .unwrap();
    assert!(made.success());
    let config = engine_config(&a.definition, json!({"auto_extract_artifacts": true}));
    assert_eq!(config["email_visualisation"], false);
    let mut s = spec(
        a.command,
        a.cwd,
        file_observable("message.eml", "message/rfc822", config),
        jobs.path(),
        path_with(Some(&venv)),
    );
    s.file = Some(InputFile {
        source: eml,
        name: "message.eml".into(),
    });
    let (out, files) = report(timed("EmlParser eml", s).await);
    assert_eq!(out["success"], true, "{out}");
    assert_eq!(out["full"]["headers"]["subject"], json!(["Your invoice"]));
    let payload = b"MZ\x90\x00fake executable payload".to_vec();
    // parse.py writes the attachment under its own name; build_artifact adds a tmpXXXX copy
    // that output.json's file artifact names.
    let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
    assert!(
        files
            .iter()
            .any(|f| f.name == "invoice.exe" && f.bytes == payload),
        "{names:?}"
    );
    let file_artifact = out["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["dataType"] == "file")
        .unwrap_or_else(|| panic!("no file artifact in {}", out["artifacts"]));
    assert_eq!(file_artifact["filename"], "invoice.exe");
    let stored = file_artifact["file"].as_str().unwrap();
    assert!(
        files.iter().any(|f| f.name == stored && f.bytes == payload),
        "{stored} not in {names:?}"
    );
    let kinds: Vec<_> = out["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["dataType"].as_str().unwrap())
        .collect();
    for kind in ["url", "ip", "mail", "domain", "hash", "filename", "file"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let t = taxonomies(&out);
    assert!(
        t.contains(&(
            "info".into(),
            "EmlParser".into(),
            "Attachments".into(),
            "1".into()
        )),
        "{t:?}"
    );
}

#[tokio::test]
async fn eml_parser_without_auto_extract_still_leaves_the_attachment() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "EmlParser", "EmlParser");
    let work = tempfile::tempdir().unwrap();
    let jobs = tempfile::tempdir().unwrap();
    let eml = work.path().join("m.eml");
    let made = std::process::Command::new(venv.join("bin/python"))
        .arg(fixture("make_eml.py"))
        .arg(&eml)
        .arg("a.bin")
        .status()
        .unwrap();
    assert!(made.success());
    let config = engine_config(&a.definition, json!({}));
    let mut s = spec(
        a.command,
        a.cwd,
        file_observable("../m.eml", "message/rfc822", config),
        jobs.path(),
        path_with(Some(&venv)),
    );
    s.file = Some(InputFile {
        source: eml,
        name: "../m.eml".into(),
    }); // sanitised to .._m.eml
    let (out, files) = report(timed("EmlParser eml, no auto extract", s).await);
    assert_eq!(out["success"], true, "{out}");
    assert_eq!(out["artifacts"], json!([]));
    assert_eq!(
        files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["a.bin"]
    );
}

#[tokio::test]
async fn yara_matches_a_local_rule() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "Yara", "Yara");
    let work = tempfile::tempdir().unwrap();
    let jobs = tempfile::tempdir().unwrap();
    let rules = work.path().join("rules");
    fs::create_dir(&rules).unwrap();
    fs::write(
        rules.join("waggle.yar"),
        "rule WaggleMarker { meta: author = \"waggle\" strings: $a = \"WAGGLE-TEST-MARKER\" condition: $a }\n\
         rule NeverMatches { strings: $b = \"no such string anywhere 0xdeadbeef\" condition: $b }\n",
    )
    .unwrap();
    let sample = work.path().join("sample.bin");
    fs::write(&sample, b"some bytes WAGGLE-TEST-MARKER more bytes").unwrap();
    // `rules` is multi-valued: a list (a bare string works too; null makes it fail).
    let config = engine_config(&a.definition, json!({"rules": [rules.to_str().unwrap()]}));
    assert_eq!(config["github_urls"], json!([]));
    assert_eq!(config["files_limit"], 400);
    let mut s = spec(
        a.command,
        a.cwd,
        file_observable("sample.bin", "application/octet-stream", config),
        jobs.path(),
        path_with(Some(&venv)),
    );
    s.file = Some(InputFile {
        source: sample,
        name: "sample.bin".into(),
    });
    let (out, _) = report(timed("Yara file", s).await);
    assert_eq!(out["success"], true, "{out}");
    assert_eq!(out["full"]["results"][0]["rule"], "WaggleMarker");
    assert_eq!(
        out["full"]["results"][0]["strings"][0]["matched"],
        "WAGGLE-TEST-MARKER"
    );
    assert_eq!(
        taxonomies(&out),
        [(
            "malicious".into(),
            "Yara".into(),
            "Match".into(),
            "1/2 rule(s)".into()
        )]
    );
}

#[tokio::test]
async fn yara_without_rules_fails_when_rules_is_null() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "Yara", "Yara");
    let work = tempfile::tempdir().unwrap();
    let jobs = tempfile::tempdir().unwrap();
    let sample = work.path().join("sample.bin");
    fs::write(&sample, b"x").unwrap();
    let config = engine_config(&a.definition, json!({"rules": null}));
    let mut s = spec(
        a.command,
        a.cwd,
        file_observable("sample.bin", "application/octet-stream", config),
        jobs.path(),
        path_with(Some(&venv)),
    );
    s.file = Some(InputFile {
        source: sample,
        name: "sample.bin".into(),
    });
    let (out, _) = report(timed("Yara rules null", s).await);
    assert_eq!(out["success"], false);
    assert_eq!(out["errorMessage"], "No paths for rules provided.");
}

fn utc_now_for_firehol() -> String {
    // FireHOL writes `# Source File Date: Tue Jul 14 10:00:00 UTC 2026`; the zone is needed
    // (the analyzer subtracts it from an aware datetime).
    let out = std::process::Command::new("date")
        .args(["-u", "+%a %b %e %H:%M:%S UTC %Y"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn firehol_finds_an_ip_in_a_netset() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "FireHOLBlocklists", "FireHOLBlocklists");
    let work = tempfile::tempdir().unwrap();
    let jobs = tempfile::tempdir().unwrap();
    let lists = work.path().join("blocklists");
    fs::create_dir(&lists).unwrap();
    let date = utc_now_for_firehol();
    fs::write(
        lists.join("firehol_level1.netset"),
        format!("#\n# firehol_level1\n#\n# A test list of bad networks\n#\n# Source File Date: {date}\n#\n203.0.113.0/24\n198.51.100.0/24\n"),
    )
    .unwrap();
    fs::write(
        lists.join("spamhaus_drop.netset"),
        format!("# Source File Date: {date}\n192.0.2.0/24\n"),
    )
    .unwrap();
    fs::write(
        lists.join("bad_hosts.ipset"),
        format!("# Source File Date: {date}\n203.0.113.9\n"),
    )
    .unwrap();
    let config = engine_config(
        &a.definition,
        json!({"blocklistpath": lists.to_str().unwrap()}),
    );
    let input = observable("ip", "203.0.113.9", 2, config.clone());
    let (out, _) = report(
        timed(
            "FireHOL hit",
            spec(
                a.command.clone(),
                a.cwd.clone(),
                input,
                jobs.path(),
                path_with(Some(&venv)),
            ),
        )
        .await,
    );
    assert_eq!(out["success"], true, "{out}");
    assert_eq!(out["full"]["count"], 2);
    let mut hits: Vec<_> = out["full"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["list"].as_str().unwrap().to_string())
        .collect();
    hits.sort();
    assert_eq!(hits, ["bad_hosts", "firehol_level1"]);
    assert_eq!(
        taxonomies(&out),
        [(
            "suspicious".into(),
            "Firehol".into(),
            "Blocklists".into(),
            "2 hits".into()
        )]
    );

    let input = observable("ip", "10.1.2.3", 2, config);
    let (out, _) = report(
        timed(
            "FireHOL miss",
            spec(a.command, a.cwd, input, jobs.path(), path_with(Some(&venv))),
        )
        .await,
    );
    assert_eq!(out["full"]["count"], 0, "{out}");
    assert_eq!(
        taxonomies(&out),
        [(
            "safe".into(),
            "Firehol".into(),
            "Blocklists".into(),
            "0 hit".into()
        )]
    );
}

#[tokio::test]
async fn test_analyzer_over_stdio_like_cortex_2() {
    let Some((dir, venv)) = real() else { return };
    let a = analyzer(&dir, "TestAnalyzer", "TestAnalyzer");
    let jobs = tempfile::tempdir().unwrap();
    let input = observable(
        "fqdn",
        "www.example.org",
        2,
        engine_config(&a.definition, json!({})),
    );
    let mut s = spec(a.command, a.cwd, input, jobs.path(), path_with(Some(&venv)));
    s.protocol = Protocol::Stdio;
    let (out, _) = report(timed("TestAnalyzer stdio", s).await);
    assert_eq!(out["success"], true);
    assert_eq!(out["full"]["data"], "www.example.org");
    assert_eq!(out["operations"][0]["type"], "AddTagToArtifact");
}

// ---------------------------------------------------------------- the runner itself

#[tokio::test]
async fn stdio_protocol_with_a_file() {
    let jobs = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("x");
    fs::write(&src, "file body").unwrap();
    let input = json!({"dataType": "file", "filename": "notes.txt", "tlp": 2, "config": {}});
    let mut s = spec(
        fixture("stdio_echo.py"),
        fixture(""),
        input,
        jobs.path(),
        path_with(venv().as_deref()),
    );
    s.protocol = Protocol::Stdio;
    s.file = Some(InputFile {
        source: src,
        name: "notes.txt".into(),
    });
    let (out, files) = report(timed("stdio script", s).await);
    assert_eq!(out["full"]["argv"], json!([]));
    assert_eq!(out["full"]["echo"]["filename"], "notes.txt");
    assert!(
        out["full"]["echo"]["file"]
            .as_str()
            .unwrap()
            .ends_with("/input/notes.txt")
    );
    assert_eq!(out["full"]["file_content"], "file body");
    assert!(files.is_empty());
}

#[tokio::test]
async fn a_hanging_analyzer_and_its_child_are_killed_at_the_timeout() {
    let jobs = tempfile::tempdir().unwrap();
    let mut s = spec(
        fixture("hang.sh"),
        fixture(""),
        json!({"dataType": "ip", "data": "1.2.3.4"}),
        jobs.path(),
        path_with(None),
    );
    s.timeout = Duration::from_secs(1);
    let start = Instant::now();
    let message = failure(timed("hang, 1 s timeout", s).await);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(message.starts_with("Timeout after 1 s"), "{message}");
    let pid: i32 = message
        .split("child=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no child pid in {message:?}"));
    // Dead: gone, or a zombie waiting for its new parent to reap it.
    let alive = |pid: i32| {
        (unsafe { libc::kill(pid, 0) }) == 0
            && fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.rsplit(") ").next().is_some_and(|r| !r.starts_with('Z')))
                .unwrap_or(false)
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!alive(pid), "background child {pid} survived");
}

fn modes(mode: &str, jobs: &Path) -> RunSpec {
    let mut env = path_with(None);
    env.push(("MODE".into(), mode.into()));
    spec(
        fixture("modes.sh"),
        fixture(""),
        json!({"dataType": "ip", "data": "1.2.3.4", "config": {}}),
        jobs,
        env,
    )
}

#[tokio::test]
async fn an_output_json_over_the_cap_fails() {
    let jobs = tempfile::tempdir().unwrap();
    let mut s = modes("big-report", jobs.path());
    s.limits.max_report_bytes = 1 << 20;
    let message = failure(timed("big output.json", s).await);
    assert!(
        message.contains("output.json exceeds 1048576 bytes"),
        "{message}"
    );
}

#[tokio::test]
async fn a_noisy_analyzer_never_blocks_and_its_output_is_capped() {
    let jobs = tempfile::tempdir().unwrap();
    let mut s = modes("noisy", jobs.path());
    s.limits.max_capture_bytes = 1024;
    let (out, _) = report(timed("5 MB stdout + stderr", s).await);
    assert_eq!(out["success"], true);
}

#[tokio::test]
async fn no_output_fails_with_stderr_stdout_and_exit_status() {
    let jobs = tempfile::tempdir().unwrap();
    let message = failure(timed("no output", modes("fail", jobs.path())).await);
    assert!(
        message.starts_with("the analyzer produced no output (exit status 3)"),
        "{message}"
    );
    assert!(
        message.contains("boom: no config") && message.contains("something on stdout"),
        "{message}"
    );

    let message = failure(run(modes("empty", jobs.path())).await);
    assert!(
        message.contains("empty output.json") && message.contains("nothing to say"),
        "{message}"
    );
    let message = failure(run(modes("invalid", jobs.path())).await);
    assert!(
        message.starts_with("invalid JSON in output.json"),
        "{message}"
    );
    let message = failure(run(modes("symlink-report", jobs.path())).await);
    assert!(
        message.contains("output.json is not a regular file"),
        "{message}"
    );
}

#[tokio::test]
async fn only_regular_files_in_output_are_artifacts() {
    let jobs = tempfile::tempdir().unwrap();
    let (_, files) = report(timed("artifacts", modes("files", jobs.path())).await);
    let got: Vec<_> = files
        .iter()
        .map(|f| (f.name.as_str(), f.bytes.as_slice()))
        .collect();
    assert_eq!(got, [("a.txt", &b"A"[..]), ("b.bin", &b"BB"[..])]);

    let mut s = modes("many", jobs.path());
    s.limits.max_artifacts = 3;
    assert!(failure(run(s).await).contains("more than 3 artifact files"));
    let mut s = modes("files", jobs.path());
    s.limits.max_artifact_bytes = 1;
    assert!(failure(run(s).await).contains("artifact file \"b.bin\" exceeds 1 bytes"));
    let mut s = modes("files", jobs.path());
    s.limits.max_artifacts_total_bytes = 2;
    assert!(failure(run(s).await).contains("exceed 2 bytes in total"));
    assert_eq!(fs::read_dir(jobs.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_descendant_that_leaves_the_group_does_not_hold_the_run() {
    let jobs = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let (out, _) = report(timed("escaped descendant", modes("escape", jobs.path())).await);
    let pid = out["full"]["pid"].as_i64().unwrap() as i32;
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn the_job_directory_is_kept_on_request_and_laid_out_like_cortex() {
    let jobs = tempfile::tempdir().unwrap().keep();
    let nested = jobs.join("a/b");
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("s");
    fs::write(&src, "abc").unwrap();
    let mut s = modes("files", &nested);
    s.keep_dir = true;
    s.job_id = "Job/../42".into();
    s.file = Some(InputFile {
        source: src,
        name: "input.json".into(),
    });
    report(run(s).await);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&nested).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let kept: Vec<_> = fs::read_dir(&nested)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(kept.len(), 1);
    let name = kept[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("Job____42-") && name.len() > "Job____42-".len(),
        "{name}"
    );
    let input: Value =
        serde_json::from_slice(&fs::read(kept[0].join("input/input.json")).unwrap()).unwrap();
    assert_eq!(input["file"], "file_input.json");
    assert_eq!(
        fs::read_to_string(kept[0].join("input/file_input.json")).unwrap(),
        "abc"
    );
    assert!(kept[0].join("output/a.txt").is_file());
    fs::remove_dir_all(&jobs).unwrap();
}

#[tokio::test]
async fn a_missing_program_fails_cleanly() {
    let jobs = tempfile::tempdir().unwrap();
    let s = spec(
        PathBuf::from("/nonexistent/analyzer.py"),
        fixture(""),
        json!({}),
        jobs.path(),
        vec![],
    );
    let message = failure(timed("missing program", s).await);
    assert!(
        message.starts_with("cannot start analyzer /nonexistent/analyzer.py"),
        "{message}"
    );
}
