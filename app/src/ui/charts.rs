//! The old home of the dashboard charts, now [`crate::chart`] (and the calendar, [`crate::date`]).
// TODO(layout): remove once the server imports app::chart
pub use crate::chart::*;
pub use crate::date::{civil_from_days, days_from_civil};

#[cfg(test)]
mod tests {
    //! The paths the server uses until it imports `app::chart` (its PNG renderer, statistics,
    //! benchmark and tests): they must keep compiling.
    use crate::model::{Definition, Widget};
    use crate::ui::charts::{self, Chart, Theme};
    use plotters::prelude::*;

    #[test]
    fn server_paths_still_resolve() {
        let w = Widget { kind: "donut".into(), id: "w".into(), options: Default::default(), extra: Default::default() };
        let def = Definition::default();
        let _: Vec<(String, serde_json::Value)> = charts::requests(&w, &def, 0);
        let chart: Chart = charts::build(&w, &[]);
        let mut svg = String::new();
        let root = SVGBackend::with_string(&mut svg, (200, 100)).into_drawing_area();
        assert!(charts::draw(&root, &chart, &Theme::named("dark"), Some("t")).is_ok());
        assert_eq!(charts::days_from_civil(2024, 1, 1), 19_723);
        assert_eq!(charts::civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(crate::ui::shell::decode_component("a%20b"), "a b");
    }
}
