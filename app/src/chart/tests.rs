//! The chart pipeline end to end: requests, building, hit-testing, drill-down, export, drawing.

use plotters::style::RGBColor;
use serde_json::{Map, json};

use super::draw::{axis_max, donut_geometry, nice_max, plot_rect};
use super::*;
use crate::date::DAY_MS as DAY;
use crate::model::{Definition, Widget, WidgetOptions};

fn donut() -> Widget {
    Widget {
        kind: "donut".into(),
        id: "w".into(),
        options: WidgetOptions { entity: Some("alert".into()), field: Some("status".into()), query: Some(json!({})), ..Default::default() },
        extra: Map::new(),
    }
}

#[test]
fn requests_apply_the_period() {
    let mut def = Definition::default();
    def.period = "last7Days".into();
    let r = requests(&donut(), &def, 100 * DAY);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, "alert");
    assert_eq!(r[0].1["query"], json!({"_between": {"_field": "createdAt", "_from": 93 * DAY, "_to": null}}));
    assert_eq!(r[0].1["stats"][0]["_field"], "status");
    def.period = "all".into();
    assert_eq!(requests(&donut(), &def, 0)[0].1["query"], json!({}));
    def.period = "custom".into();
    def.custom_period.from_date = Some(json!("2024-01-01"));
    def.custom_period.to_date = Some(json!("2024-01-31"));
    let q = &requests(&donut(), &def, 0)[0].1["query"]["_between"];
    assert_eq!(q["_from"], 1_704_067_200_000i64);
    assert_eq!(q["_to"], 1_704_067_200_000i64 + 31 * DAY);
}

#[test]
fn donut_data_hits_links_and_csv() {
    let chart = build(&donut(), &[json!({"New": {"count": 3}, "Ignored": {"count": 1}, "count": 4})]);
    let Chart::Donut { slices, total } = &chart else { panic!("{chart:?}") };
    assert_eq!(*total, 4.0);
    assert_eq!(slices[0].0, "New");
    // The first slice starts at 12 o'clock, clockwise: a point right of centre is in it.
    let (cx, cy, r) = donut_geometry(480, 300, 0);
    assert_eq!(hit(&chart, 480, 300, cx + r * 3 / 4, cy).map(|h| h.key), Some("New".into()));
    assert_eq!(hit(&chart, 480, 300, cx - r * 3 / 4, cy - 5).map(|h| h.key), Some("Ignored".into()));
    assert_eq!(hit(&chart, 480, 300, cx, cy), None, "the hole");
    let (url, q) = drill_down(&donut(), &Definition::default(), 0, &Hit { key: "New".into(), time: None }).unwrap();
    assert_eq!(q, json!({"_field": "status", "_value": "New"}));
    assert!(url.starts_with("/alerts?q=%7B"), "{url}");
    assert_eq!(csv(&chart, true), "value;label;count\nNew;New;3\nIgnored;Ignored;1\n");
    let svg = svg(&chart, 480, 300, &Theme::light(), Some("Alerts"));
    assert!(svg.starts_with("<svg") && svg.contains("Alerts") && svg.contains("New"), "{svg}");
}

#[test]
fn stacked_bars() {
    let mut w = donut();
    w.kind = "bar".into();
    w.options.field = Some("severity".into());
    w.options.date_field = Some("createdAt".into());
    let t = 1_704_067_200_000i64;
    let answer = json!({
        t.to_string(): {"createdAt": {"2": {"count": 2}, "3": {"count": 1}}},
        (t + 7 * DAY).to_string(): {"createdAt": {"2": {"count": 4}}},
    });
    let chart = build(&w, &[answer]);
    let Chart::Bars { times, series, .. } = &chart else { panic!() };
    assert_eq!(times, &vec![t, t + 7 * DAY]);
    assert_eq!(series[0].label, "Medium");
    assert_eq!(series[0].values, vec![2.0, 4.0]);
    assert_eq!(series[1].values, vec![1.0, 0.0]);
    assert_eq!(csv(&chart, true), "date;Medium;High\n2024-01-01;2;1\n2024-01-08;4;0\n");
    // Bottom of the second bar: severity 2 in the second week.
    let (x0, _, x1, y1) = plot_rect(480, 300, 0, 1);
    let x = x0 + (x1 - x0) * 3 / 4;
    assert_eq!(hit(&chart, 480, 300, x, y1 - 2), Some(Hit { key: "2".into(), time: Some(t + 7 * DAY) }));
    let (_, q) = drill_down(&w, &Definition::default(), 0, &Hit { key: "2".into(), time: Some(t) }).unwrap();
    assert_eq!(q["_and"][0], json!({"_field": "severity", "_value": 2}));
    assert_eq!(q["_and"][1]["_between"]["_to"], t + 7 * DAY);
}

#[test]
fn numbers_and_labels() {
    assert_eq!(format_number(1234567.0), "1,234,567");
    assert_eq!(format_number(-1000.0), "-1,000");
    assert_eq!(format_number(2.5), "2.50");
    assert_eq!(time_label(1_704_067_200_000, "1M"), "2024-01");
    assert_eq!(nice_max(7.0), 8.0);
    assert_eq!(nice_max(9.0), 12.0);
    assert_eq!(nice_max(130.0), 200.0);
    assert_eq!(nice_max(0.3), 0.4);
    let counts = |values: Vec<f64>| vec![Series { key: "k".into(), label: "k".into(), color: RGBColor(0, 0, 0), kind: "bar".into(), values }];
    for (max, axis) in [(1.0, 4.0), (6.0, 8.0), (10.0, 12.0), (100.0, 100.0), (130.0, 200.0)] {
        assert_eq!(axis_max(max, &counts(vec![max])), axis, "{max}");
    }
    assert_eq!(axis_max(0.3, &counts(vec![0.3])), 0.4);
    assert_eq!(style_of(&donut(), "tlp", "2", 0).0, "AMBER");
}

#[test]
fn csv_neutralises_formulas() {
    let mut w = donut();
    w.kind = "line".into();
    w.options.series = Some(vec![crate::model::Series { label: Some("=HYPERLINK(\"http://evil\";\"x\")".into()), ..Default::default() }]);
    let t = 1_704_067_200_000i64;
    let chart = build(&w, &[json!({t.to_string(): {"createdAt": {"agg_1": 3}}})]);
    let out = csv(&chart, true);
    assert_eq!(out, "date;\"'=HYPERLINK(\"\"http://evil\"\";\"\"x\"\")\"\n2024-01-01;3\n");
    let donut = Chart::Donut { slices: vec![("+cmd".into(), "@SUM(A1)".into(), -2.0, RGBColor(0, 0, 0))], total: -2.0 };
    assert_eq!(csv(&donut, true), "value;label;count\n'+cmd;'@SUM(A1);-2\n");
    let counter = Chart::Counter { items: vec![("-1+1".into(), 4.0)] };
    assert_eq!(csv(&counter, false), "label;value\n'-1+1;4\n");
}

#[test]
fn drill_down_buckets() {
    let mut w = donut();
    w.kind = "bar".into();
    w.options.entity = Some("case".into());
    let t = 1_704_067_200_000i64; // 2024-01-01
    for (interval, end) in [("1M", t + 31 * DAY), ("1y", t + 366 * DAY), ("1w", t + 7 * DAY), ("3d", t + 3 * DAY), ("6h", t + 6 * 3_600_000), ("é", t + DAY)] {
        w.options.interval = Some(interval.into());
        let (url, q) = drill_down(&w, &Definition::default(), 0, &Hit { key: "Open".into(), time: Some(t) }).unwrap();
        assert!(url.starts_with("/cases?q=%7B"), "{url}");
        assert_eq!(q["_and"][1]["_between"]["_to"], end, "{interval}");
    }
}
