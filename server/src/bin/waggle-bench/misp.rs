//! MISP feed import: a feed directory of N events (the three real events of the fixture feed,
//! copied under new uuids) read into alerts by one synchronisation; then a second one that
//! finds nothing changed. Prints events/s and attributes/s.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::{Map, Value, json};
use waggle::config::{MispConfig, Settings};

#[derive(clap::Args)]
pub struct MispArgs {
    #[arg(long, default_value_t = 1000)]
    pub events: usize,
    /// The feed whose events are copied.
    #[arg(long, default_value = "fixtures/misp/feed")]
    pub fixtures: PathBuf,
}

fn uuid(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i, i)
}

pub async fn run(args: MispArgs) -> anyhow::Result<()> {
    let mut sources: Vec<Value> = Vec::new();
    for e in std::fs::read_dir(&args.fixtures)? {
        let p = e?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if name.len() == 41 && name.ends_with(".json") {
            sources.push(serde_json::from_slice(&std::fs::read(&p)?)?);
        }
    }
    anyhow::ensure!(!sources.is_empty(), "no event in {}", args.fixtures.display());
    let tmp = tempfile::tempdir()?;
    let feed = tmp.path().join("feed");
    std::fs::create_dir_all(&feed)?;
    // Empty at start: the start's poll finds nothing, the timed synchronisation everything.
    std::fs::write(feed.join("manifest.json"), "{}")?;
    let mut settings = Settings::ephemeral(tmp.path());
    settings.database = format!("surrealkv://{}", tmp.path().join("db").display());
    let mut c = MispConfig::feed("bench-feed", &feed);
    c.interval = "1d".into();
    settings.misp = vec![c.clone()];
    let running = waggle::server::start(settings).await?;
    crate::common::wait_for_startup(&running).await;

    let mut manifest = Map::new();
    let mut attributes = 0usize;
    for i in 0..args.events {
        let mut ev = sources[i % sources.len()].clone();
        let id = uuid(i + 1);
        ev["Event"]["uuid"] = json!(id);
        ev["Event"]["info"] = json!(format!("{} (copy {i})", ev["Event"]["info"].as_str().unwrap_or("")));
        attributes += ev["Event"]["Attribute"].as_array().map(Vec::len).unwrap_or(0);
        let e = &ev["Event"];
        manifest.insert(id.clone(), json!({ "Orgc": e["Orgc"], "Tag": e["Tag"], "info": e["info"], "date": e["date"], "analysis": e["analysis"], "threat_level_id": e["threat_level_id"], "timestamp": e["timestamp"] }));
        std::fs::write(feed.join(format!("{id}.json")), serde_json::to_vec(&ev)?)?;
    }
    std::fs::write(feed.join("manifest.json"), serde_json::to_vec(&Value::Object(manifest))?)?;
    println!("feed: {} events, {attributes} attributes (object attributes not counted)", args.events);

    let started = Instant::now();
    let r = waggle::domain::misp::sync_connection(&running.state, &c, false, false).await.ok_or_else(|| anyhow::anyhow!("skipped"))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "import: {} alerts created, {} observables, {} errors in {secs:.1} s: {:.0} events/s, {:.0} attributes/s",
        r.created,
        r.attributes,
        r.errors.len(),
        r.created as f64 / secs,
        r.attributes as f64 / secs
    );
    if let Some(e) = r.errors.first() {
        println!("  first error: {e}");
    }
    let started = Instant::now();
    let again = waggle::domain::misp::sync_connection(&running.state, &c, false, false).await.ok_or_else(|| anyhow::anyhow!("skipped"))?;
    println!("again, nothing changed: {} unchanged in {:.2} s", again.unchanged, started.elapsed().as_secs_f64());
    println!("RSS {} MiB", crate::common::memory().0);
    running.stop().await?;
    Ok(())
}
