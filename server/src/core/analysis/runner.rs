//! Runs one Cortex analyzer process for one job, the way Cortex 3 does (job directory) or the
//! way Cortex 2 did (input JSON on stdin, report on stdout).
//!
//! Knows nothing about databases or HTTP: a [`RunSpec`] goes in, a [`RunOutcome`] comes out.
//!
//! Job directory protocol: `<jobs_dir>/<job_id>-<random>/` holds `input/input.json`, the file of
//! a file observable as `input/<name>` and an empty `output/`. The program runs as
//! `<command> <job dir>` (no shell) in `cwd`, in a process group of its own that is killed as a
//! whole when it exits or times out. Then `output/output.json` is the report and the other regular
//! files directly in `output/` are file artifacts. The directory is removed afterwards unless
//! `keep_dir`.
//!
//! The analyzer gets a small environment: `PASSED_ENV` taken from ours (never the server's
//! secrets), then `RunSpec::env`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the analyzer gets its input and gives its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Cortex 3: `<command> <job dir>`, report in `output/output.json`, file artifacts in `output/`.
    JobDirectory,
    /// Cortex 2: `<command>` with the input JSON on stdin and the report on stdout. A file
    /// observable is still copied into the job directory; `file` is then its absolute path.
    Stdio,
}

/// The file of a file observable.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Where the file is now (copied, never moved or linked: the analyzer may write to it).
    pub source: PathBuf,
    /// Its name in `input/`; sanitised with [`safe_file_name`].
    pub name: String,
}

/// Caps on what one run may produce.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes of stdout and of stderr kept, each (the rest is read and dropped).
    pub max_capture_bytes: usize,
    /// Bytes of `output.json` (or of stdout with [`Protocol::Stdio`]).
    pub max_report_bytes: u64,
    /// Number of artifact files in `output/`.
    pub max_artifacts: usize,
    /// Bytes of one artifact file.
    pub max_artifact_bytes: u64,
    /// Bytes of all artifact files together.
    pub max_artifacts_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_capture_bytes: 1 << 20,
            max_report_bytes: 16 << 20,
            max_artifacts: 100,
            max_artifact_bytes: 64 << 20,
            max_artifacts_total_bytes: 256 << 20,
        }
    }
}

/// One analyzer run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Absolute path of the analyzer program (validated by the caller).
    pub command: PathBuf,
    /// Working directory: the analyzer's directory.
    pub cwd: PathBuf,
    pub protocol: Protocol,
    /// The input.json document. For a file observable the runner sets `file` itself (the
    /// sanitised name, or the absolute path with [`Protocol::Stdio`]); the caller sets `filename`.
    pub input: Value,
    pub file: Option<InputFile>,
    pub timeout: Duration,
    /// Parent of the job directories; created with mode 0700 if missing.
    pub jobs_dir: PathBuf,
    pub job_id: String,
    pub limits: Limits,
    /// Leave the job directory in place (for debugging).
    pub keep_dir: bool,
    /// Extra environment, applied after `PASSED_ENV` (e.g. `PATH` with a venv first).
    pub env: Vec<(String, String)>,
}

/// A regular file found directly in `output/` (not `output.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// The report, parsed. It may itself say `"success": false`: the caller decides.
    Report {
        output: Value,
        artifacts: Vec<ArtifactFile>,
    },
    /// No usable report: could not start, timeout, no/empty/invalid output, a cap exceeded.
    Failed { message: String },
}

/// Variables passed from the server's environment to analyzers; nothing else is.
pub const PASSED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// How long stdout/stderr may still be read after the process group is dead (a process that
/// left the group may hold the pipes open).
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the killed leader to be reaped.
const REAP_GRACE: Duration = Duration::from_secs(5);
/// Bytes of stdout/stderr quoted in a failure message, each.
const TAIL_BYTES: usize = 4096;

/// Runs one analyzer job to its end. Never panics on what the process or the file system do.
/// How much lower than the server's analyzer processes are scheduled (`nice`).
const ANALYZER_NICENESS: libc::c_int = 10;

pub async fn run(spec: RunSpec) -> RunOutcome {
    let started = std::time::Instant::now();
    let (job, command) = (spec.job_id.clone(), spec.command.clone());
    let outcome = run_inner(spec).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match &outcome {
        RunOutcome::Report { artifacts, .. } => tracing::debug!(
            %job, command = %command.display(), artifacts = artifacts.len(), elapsed_ms, "analyzer run ended with a report"),
        RunOutcome::Failed { message } => tracing::debug!(
            %job, command = %command.display(), elapsed_ms, %message, "analyzer run failed"),
    }
    outcome
}

async fn run_inner(spec: RunSpec) -> RunOutcome {
    let RunSpec {
        command,
        cwd,
        protocol,
        mut input,
        file,
        timeout,
        jobs_dir,
        job_id,
        limits,
        keep_dir,
        env,
    } = spec;

    // 1. The job directory (blocking file system work off the async threads).
    let prepared = tokio::task::spawn_blocking(move || {
        let dir = JobDir::create(&jobs_dir, &job_id, keep_dir)?;
        let bytes = prepare(&dir.path, protocol, &mut input, file.as_ref())?;
        Ok::<_, String>((dir, bytes))
    })
    .await;
    let (mut dir, input_bytes) = match prepared {
        Ok(Ok(p)) => p,
        Ok(Err(message)) => return failed(message),
        Err(e) => return failed(format!("preparing the job directory failed: {e}")),
    };

    // 2. The process, in a process group of its own.
    let mut cmd = Command::new(&command);
    if protocol == Protocol::JobDirectory {
        cmd.arg(&dir.path);
    }
    cmd.current_dir(&cwd)
        .env_clear()
        .envs(
            PASSED_ENV
                .iter()
                .filter_map(|k| std::env::var_os(k).map(|v| (*k, v))),
        )
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(if protocol == Protocol::Stdio {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    // Analyzers yield the CPU to the server: its API stays responsive while jobs drain.
    // SAFETY: `nice` is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::nice(ANALYZER_NICENESS);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let message = format!("cannot start analyzer {}: {e}", command.display());
            dir.remove().await;
            return failed(message);
        }
    };
    // Declared after `child`, so dropped (group killed) before it on every early return.
    let mut group = GroupKiller(child.id().and_then(|p| libc::pid_t::try_from(p).ok()));

    let (stop_tx, stop_rx) = watch::channel(false);
    let stdout_cap = match protocol {
        Protocol::Stdio => usize::try_from(limits.max_report_bytes).unwrap_or(usize::MAX),
        Protocol::JobDirectory => limits.max_capture_bytes,
    };
    let stdout = child
        .stdout
        .take()
        .map(|p| tokio::spawn(capture(p, stdout_cap, stop_rx.clone())));
    let stderr = child
        .stderr
        .take()
        .map(|p| tokio::spawn(capture(p, limits.max_capture_bytes, stop_rx)));
    let writer = child.stdin.take().map(|mut stdin| {
        tokio::spawn(async move {
            // The analyzer may not read it all; a broken pipe is its business.
            let _ = stdin.write_all(&input_bytes).await;
            let _ = stdin.shutdown().await;
        })
    });

    // 3. Wait for the end, or the timeout. The leader is not reaped before the group is killed,
    //    so its pid (the group id) cannot have been reused by then.
    let deadline = tokio::time::Instant::now() + timeout;
    let exited = match group.0 {
        Some(pid) => tokio::time::timeout_at(deadline, wait_exited_unreaped(pid)).await,
        None => Ok(Err(io::Error::other("no pid"))),
    };
    let timed_out = match exited {
        Ok(Ok(())) => false,
        Err(_) => true,
        // waitid failed (should not happen): fall back to reaping first.
        Ok(Err(_)) => tokio::time::timeout_at(deadline, child.wait())
            .await
            .is_err(),
    };
    group.kill();
    let status = match tokio::time::timeout(REAP_GRACE, child.wait()).await {
        Ok(Ok(s)) => Some(s),
        _ => None,
    };
    group.0 = None;
    if let Some(w) = writer {
        w.abort();
    }

    // 4. What it printed: pipes reach EOF now that the group is dead, unless something escaped.
    let (out, err) = drain(stdout, stderr, stop_tx).await;

    let outcome = match timed_out {
        true => failed(with_output(
            &format!("Timeout after {}", human(timeout)),
            None,
            &out,
            &err,
        )),
        false => match protocol {
            Protocol::Stdio => stdio_report(&out, &err, status, &limits),
            Protocol::JobDirectory => {
                let path = dir.path.clone();
                let lim = limits.clone();
                match tokio::task::spawn_blocking(move || collect(&path, &lim)).await {
                    Ok(Ok((output, artifacts))) => RunOutcome::Report { output, artifacts },
                    Ok(Err(reason)) => failed(with_output(&reason, status, &out, &err)),
                    Err(e) => failed(format!("reading the analyzer output failed: {e}")),
                }
            }
        },
    };
    dir.remove().await;
    outcome
}

fn failed(message: String) -> RunOutcome {
    RunOutcome::Failed { message }
}

fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

/// A job id made safe as a directory name prefix.
fn safe_job_id(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() { "job".into() } else { s }
}

/// The name under which a file observable is put in `input/`: no path separator, no NUL or
/// control character, not `.`/`..`, not `input.json`, at most 200 bytes.
pub fn safe_file_name(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        let c = if c == '/' || c == '\\' || c.is_control() {
            '_'
        } else {
            c
        };
        if s.len() + c.len_utf8() > 200 {
            break;
        }
        s.push(c);
    }
    if s.is_empty() {
        "file".into()
    } else if s.chars().all(|c| c == '.') {
        s.replace('.', "_")
    } else if s == "input.json" {
        "file_input.json".into()
    } else {
        s
    }
}

/// The job directory; removed when dropped (a cancelled run) or by [`JobDir::remove`].
struct JobDir {
    path: PathBuf,
    keep: bool,
    removed: bool,
}

impl JobDir {
    fn create(jobs_dir: &Path, job_id: &str, keep: bool) -> Result<JobDir, String> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(jobs_dir)
            .map_err(|e| {
                format!(
                    "cannot create the jobs directory {}: {e}",
                    jobs_dir.display()
                )
            })?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{}-", safe_job_id(job_id)))
            .rand_bytes(10)
            .tempdir_in(jobs_dir)
            .map_err(|e| {
                format!(
                    "cannot create a job directory in {}: {e}",
                    jobs_dir.display()
                )
            })?;
        Ok(JobDir {
            path: tmp.keep(),
            keep,
            removed: false,
        })
    }

    async fn remove(&mut self) {
        if self.keep || self.removed {
            if self.keep {
                tracing::info!(dir = %self.path.display(), "job directory kept");
            }
            return;
        }
        self.removed = true;
        let path = self.path.clone();
        let _ = tokio::task::spawn_blocking(move || remove_tree(&path)).await;
    }
}

impl Drop for JobDir {
    fn drop(&mut self) {
        if !self.keep && !self.removed {
            remove_tree(&self.path);
        }
    }
}

fn remove_tree(path: &Path) {
    match fs::remove_dir_all(path) {
        Ok(()) => return,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(_) => {}
    }
    // The analyzer may have made some directory read-only: give them back to us, then retry.
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        if fs::symlink_metadata(&p)
            .map(|m| m.is_dir())
            .unwrap_or(false)
        {
            let _ = fs::set_permissions(&p, fs::Permissions::from_mode(0o700));
            if let Ok(entries) = fs::read_dir(&p) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    if let Err(e) = fs::remove_dir_all(path) {
        tracing::warn!(dir = %path.display(), error = %e, "cannot remove the job directory");
    }
}

/// Lays out `input/` and `output/`; returns the input document's bytes.
fn prepare(
    dir: &Path,
    protocol: Protocol,
    input: &mut Value,
    file: Option<&InputFile>,
) -> Result<Vec<u8>, String> {
    let in_dir = dir.join("input");
    let out_dir = dir.join("output");
    for d in [&in_dir, &out_dir] {
        fs::DirBuilder::new()
            .mode(0o700)
            .create(d)
            .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    if let Some(f) = file {
        let name = safe_file_name(&f.name);
        let target = in_dir.join(&name);
        fs::copy(&f.source, &target).map_err(|e| {
            format!(
                "cannot copy the observable file {}: {e}",
                f.source.display()
            )
        })?;
        let obj = input
            .as_object_mut()
            .ok_or("the input document is not a JSON object")?;
        let value = match protocol {
            Protocol::JobDirectory => name,
            Protocol::Stdio => target.to_string_lossy().into_owned(),
        };
        obj.insert("file".into(), Value::String(value));
    }
    if !input.is_object() {
        return Err("the input document is not a JSON object".into());
    }
    let bytes =
        serde_json::to_vec(input).map_err(|e| format!("cannot serialise the input: {e}"))?;
    let path = in_dir.join("input.json");
    let mut f =
        File::create_new(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(&bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(bytes)
}

/// SIGKILLs a process group (never group 0 or 1).
struct GroupKiller(Option<libc::pid_t>);

impl GroupKiller {
    fn kill(&self) {
        if let Some(pgid) = self.0
            && pgid > 1
        {
            // SAFETY: plain syscall; ESRCH (group already gone) is fine.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Resolves when the child has exited, without reaping it (waitid WNOWAIT), so that its pid
/// stays reserved while the group is killed. Polls: 2 ms doubling to 50 ms.
async fn wait_exited_unreaped(pid: libc::pid_t) -> io::Result<()> {
    let mut delay = Duration::from_millis(2);
    loop {
        // The siginfo_t (not Send) lives only in this block, never across an await.
        let exited = {
            // SAFETY: siginfo_t is plain data; waitid only writes into it.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT | libc::WNOHANG) };
            if r == -1 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            // SAFETY: filled in by waitid (zero when the child has not exited yet).
            (unsafe { info.si_pid() }) != 0
        };
        if exited {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(50));
    }
}

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    /// Bytes read and dropped past the cap.
    dropped: u64,
}

/// Reads a pipe to its end (or until told to stop), keeping at most `cap` bytes.
async fn capture<R: AsyncRead + Unpin>(
    mut pipe: R,
    cap: usize,
    mut stop: watch::Receiver<bool>,
) -> Captured {
    let mut c = Captured::default();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            r = pipe.read(&mut chunk) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let keep = n.min(cap.saturating_sub(c.bytes.len()));
                    c.bytes.extend_from_slice(&chunk[..keep]);
                    c.dropped += (n - keep) as u64;
                }
            },
        }
    }
    c
}

async fn drain(
    mut stdout: Option<JoinHandle<Captured>>,
    mut stderr: Option<JoinHandle<Captured>>,
    stop: watch::Sender<bool>,
) -> (Captured, Captured) {
    let (mut out, mut err) = (None, None);
    let waited = tokio::time::timeout(DRAIN_GRACE, async {
        if let Some(h) = stdout.as_mut() {
            out = Some(h.await.unwrap_or_default());
        }
        if let Some(h) = stderr.as_mut() {
            err = Some(h.await.unwrap_or_default());
        }
    })
    .await;
    if waited.is_err() {
        tracing::warn!(
            "a descendant of an analyzer left its process group and holds its stdout/stderr open"
        );
        // The readers stop at once and hand back what they have.
        let _ = stop.send(true);
        if let (None, Some(h)) = (&out, stdout.as_mut()) {
            out = Some(h.await.unwrap_or_default());
        }
        if let (None, Some(h)) = (&err, stderr.as_mut()) {
            err = Some(h.await.unwrap_or_default());
        }
    }
    (out.unwrap_or_default(), err.unwrap_or_default())
}

/// `reason (exit status N)` followed by the tails of stderr and stdout.
fn with_output(reason: &str, status: Option<ExitStatus>, out: &Captured, err: &Captured) -> String {
    let mut m = reason.to_string();
    if let Some(s) = status {
        match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
            (Some(code), _) => m.push_str(&format!(" (exit status {code})")),
            (None, Some(sig)) => m.push_str(&format!(" (killed by signal {sig})")),
            _ => {}
        }
    }
    for (label, c) in [("stderr", err), ("stdout", out)] {
        let text = String::from_utf8_lossy(&c.bytes);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let skipped = text.len() > TAIL_BYTES || c.dropped > 0;
        let mut start = text.len().saturating_sub(TAIL_BYTES);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        m.push_str(&format!(
            "\n{label}:{}\n{}",
            if skipped { " [...]" } else { "" },
            &text[start..]
        ));
    }
    m
}

fn stdio_report(
    out: &Captured,
    err: &Captured,
    status: Option<ExitStatus>,
    limits: &Limits,
) -> RunOutcome {
    if out.dropped > 0 {
        return failed(format!(
            "the report on stdout exceeds {} bytes",
            limits.max_report_bytes
        ));
    }
    if out.bytes.iter().all(u8::is_ascii_whitespace) {
        return failed(with_output(
            "the analyzer printed no report",
            status,
            out,
            err,
        ));
    }
    match serde_json::from_slice::<Value>(&out.bytes) {
        Ok(v) if v.is_object() => RunOutcome::Report {
            output: v,
            artifacts: Vec::new(),
        },
        Ok(_) => failed(with_output(
            "the report on stdout is not a JSON object",
            status,
            out,
            err,
        )),
        Err(e) => failed(with_output(
            &format!("invalid JSON report on stdout: {e}"),
            status,
            out,
            err,
        )),
    }
}

/// Opens a file found in the job directory: never through a symlink, never blocking on a FIFO;
/// it must be a regular file of at most `cap` bytes. Returns its bytes.
fn read_capped(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>, String> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot open {what}: {e}"))?;
    let md = f
        .metadata()
        .map_err(|e| format!("cannot stat {what}: {e}"))?;
    if !md.is_file() {
        return Err(format!("{what} is not a regular file"));
    }
    if md.len() > cap {
        return Err(format!("{what} exceeds {cap} bytes ({} bytes)", md.len()));
    }
    let mut bytes = Vec::with_capacity(md.len() as usize);
    f.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > cap {
        return Err(format!("{what} exceeds {cap} bytes"));
    }
    Ok(bytes)
}

/// Reads `output/output.json` and the artifact files of a finished job.
fn collect(dir: &Path, limits: &Limits) -> Result<(Value, Vec<ArtifactFile>), String> {
    let out_dir = dir.join("output");
    if !fs::symlink_metadata(&out_dir)
        .map(|m| m.is_dir())
        .unwrap_or(false)
    {
        return Err("the analyzer produced no output (output/ is gone)".into());
    }
    let report = out_dir.join("output.json");
    let bytes = match fs::symlink_metadata(&report) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err("the analyzer produced no output".into());
        }
        Err(e) => return Err(format!("cannot stat output.json: {e}")),
        Ok(m) if !m.is_file() => return Err("output.json is not a regular file".into()),
        Ok(_) => read_capped(&report, limits.max_report_bytes, "output.json")?,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the analyzer produced an empty output.json".into());
    }
    let output: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("invalid JSON in output.json: {e}"))?;
    if !output.is_object() {
        return Err("output.json is not a JSON object".into());
    }

    let mut artifacts = Vec::new();
    let mut total: u64 = 0;
    let entries = fs::read_dir(&out_dir).map_err(|e| format!("cannot list output/: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list output/: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "output.json" {
            continue;
        }
        // file_type does not follow symlinks: links, directories, FIFOs... are skipped.
        match entry.file_type() {
            Ok(t) if t.is_file() => {}
            _ => continue,
        }
        if artifacts.len() >= limits.max_artifacts {
            return Err(format!(
                "the analyzer produced more than {} artifact files",
                limits.max_artifacts
            ));
        }
        let bytes = read_capped(
            &entry.path(),
            limits.max_artifact_bytes,
            &format!("artifact file {name:?}"),
        )?;
        total = total.saturating_add(bytes.len() as u64);
        if total > limits.max_artifacts_total_bytes {
            return Err(format!(
                "the artifact files exceed {} bytes in total",
                limits.max_artifacts_total_bytes
            ));
        }
        artifacts.push(ArtifactFile { name, bytes });
    }
    artifacts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((output, artifacts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_file_name("invoice.pdf"), "invoice.pdf");
        assert_eq!(safe_file_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe_file_name(".."), "__");
        assert_eq!(safe_file_name(""), "file");
        assert_eq!(safe_file_name("input.json"), "file_input.json");
        assert_eq!(safe_file_name("a\\b\0c\nd"), "a_b_c_d");
        assert!(safe_file_name(&"é".repeat(300)).len() <= 200);
        assert_eq!(safe_job_id("../x y"), "___x_y");
        assert_eq!(safe_job_id(""), "job");
    }
}
