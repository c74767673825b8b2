//! Numbered SurrealQL migrations, applied at startup and recorded in `_migration`.
//! Starting twice is harmless; a binary older than the database's schema refuses to start.

use anyhow::Context;
use serde::Deserialize;

use super::{Store, now_millis};
use crate::vars;

/// Every migration this binary knows, in order. Numbers are never reused or edited once shipped.
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "init", include_str!("../../../migrations/0001_init.surql")),
    (2, "cases", include_str!("../../../migrations/0002_cases.surql")),
    (3, "alerts", include_str!("../../../migrations/0003_alerts.surql")),
    (4, "dashboards", include_str!("../../../migrations/0004_dashboards.surql")),
    (5, "ui_prefs", include_str!("../../../migrations/0005_ui_prefs.surql")),
    (7, "attachment_blobs", include_str!("../../../migrations/0007_attachment_blobs.surql")),
    (8, "alert_counters_by_writers", include_str!("../../../migrations/0008_alert_counters_by_writers.surql")),
    (9, "security_events", include_str!("../../../migrations/0009_security_events.surql")),
    (10, "custom_profiles", include_str!("../../../migrations/0010_custom_profiles.surql")),
    (11, "analysis", include_str!("../../../migrations/0011_analysis.surql")),
    (12, "settings", include_str!("../../../migrations/0012_settings.surql")),
    (13, "stats_snapshot", include_str!("../../../migrations/0013_stats_snapshot.surql")),
    (14, "several_instances", include_str!("../../../migrations/0014_several_instances.surql")),
    (15, "comments_pages", include_str!("../../../migrations/0015_comments_pages.surql")),
    (16, "attack_patterns", include_str!("../../../migrations/0016_attack_patterns.surql")),
    (17, "misp", include_str!("../../../migrations/0017_misp.surql")),
    (18, "report_templates", include_str!("../../../migrations/0018_report_templates.surql")),
    (19, "shared_budgets", include_str!("../../../migrations/0019_shared_budgets.surql")),
];

pub const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

#[derive(Deserialize)]
struct Applied {
    version: u32,
}

pub(super) async fn run(store: &Store) -> anyhow::Result<()> {
    store
        .db()
        .query("DEFINE TABLE IF NOT EXISTS _migration SCHEMALESS")
        .await
        .and_then(|r| r.check())
        .context("cannot create the migration table")?;
    let mut r = store.query("SELECT version FROM _migration", vars! {}).await?;
    let applied: Vec<u32> = r.rows::<Applied>(0)?.into_iter().map(|a| a.version).collect();
    if let Some(unknown) = applied.iter().filter(|v| !MIGRATIONS.iter().any(|(k, _, _)| k == *v)).max() {
        anyhow::bail!(
            "the database schema has migration {unknown}, which this Waggle binary does not know (it knows up to \
             {SCHEMA_VERSION}): the database is newer than this Waggle binary; run a newer Waggle or restore a \
             backup made for this version"
        );
    }
    // Every known migration not applied yet, in order (numbers may have been merged out of order).
    for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| !applied.contains(v)) {
        tracing::info!(version, name, "applying schema migration");
        let text = format!(
            "BEGIN TRANSACTION;\n{sql}\nCREATE type::record('_migration', $version) CONTENT {{ version: $version, name: $name, appliedAt: $at }};\nCOMMIT TRANSACTION;"
        );
        store
            .query(&text, vars! { "version" => version, "name" => name, "at" => now_millis() })
            .await
            .map_err(|e| anyhow::anyhow!("migration {version} ({name}) failed: {e:?}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Organisations that existed before migration 2 get the default observable data types,
    /// the same list new organisations get.
    #[tokio::test]
    async fn existing_organisations_get_the_default_data_types() {
        let store = Store::open("mem://", None, None).await.unwrap();
        store.query("CREATE type::record('organisation', 'old') CONTENT { name: 'old' }", vars! {}).await.unwrap();
        let sql = MIGRATIONS.iter().find(|(v, _, _)| *v == 2).map(|(_, _, s)| *s).unwrap();
        let seeding = &sql[sql.find("FOR $o").expect("the seeding loop")..];
        store.query(seeding, vars! { "at" => now_millis() }).await.unwrap();
        let mut r = store.query("SELECT VALUE name FROM data_type WHERE org = 'old' ORDER BY name", vars! {}).await.unwrap();
        let names: Vec<String> = r.rows(0).unwrap();
        let mut expected: Vec<String> = app::model::DEFAULT_DATA_TYPES.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(names, expected);
        let mut r = store.query("SELECT VALUE isAttachment FROM data_type WHERE org = 'old' AND name = 'file'", vars! {}).await.unwrap();
        assert_eq!(r.rows::<bool>(0).unwrap(), vec![true]);
    }
}
