//! The one CSV writer of the exports (observables, dashboard charts): fields quoted when they
//! hold the separator, a quote or a line break, and text that a spreadsheet would run as a
//! formula (`=`, `+`, `-`, `@`, tab, carriage return first) prefixed with `'` (OWASP's
//! advice against CSV injection). Numbers, negative ones included, are written as they are.

/// A CSV document being written, with its separator (`,` or `;`).
pub struct Csv {
    sep: char,
    out: String,
}

impl Csv {
    pub fn new(sep: char) -> Self {
        Csv { sep, out: String::new() }
    }

    /// Append a line of fields.
    pub fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) -> &mut Self {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.out.push(self.sep);
            }
            self.out.push_str(&field(f.as_ref(), self.sep));
        }
        self.out.push('\n');
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// One field, neutralised and quoted as needed for a file separated by `sep`.
pub fn field(s: &str, sep: char) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(s) { format!("'{s}") } else { s.to_string() };
    if s.contains([sep, '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// A plain number (`-12`, `+3.5`, `1e3`): safe to leave as it is.
fn is_number(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')) && s.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(field("a,b", ','), "\"a,b\"");
        assert_eq!(field("a,b", ';'), "a,b");
        assert_eq!(field("a;b", ';'), "\"a;b\"");
        assert_eq!(field("say \"hi\"", ','), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines", ';'), "\"two\nlines\"");
        assert_eq!(field("plain", ','), "plain");
    }

    #[test]
    fn formulas_are_neutralised_numbers_are_not() {
        assert_eq!(field("=cmd()", ','), "'=cmd()");
        assert_eq!(field("+1+cmd", ','), "'+1+cmd");
        assert_eq!(field("-2+3", ','), "'-2+3");
        assert_eq!(field("@SUM(A1)", ','), "'@SUM(A1)");
        assert_eq!(field("\t=x", ','), "'\t=x");
        assert_eq!(field("=HYPERLINK(\"http://x\";\"y\")", ';'), "\"'=HYPERLINK(\"\"http://x\"\";\"\"y\"\")\"");
        assert_eq!(field("-1000", ','), "-1000");
        assert_eq!(field("-2.5e3", ','), "-2.5e3");
        assert_eq!(field("2024-01-01", ','), "2024-01-01");
    }

    #[test]
    fn rows() {
        let mut csv = Csv::new(';');
        csv.row(["a", "b;c"]).row(["=1+1", "-1"]);
        assert_eq!(csv.finish(), "a;\"b;c\"\n'=1+1;-1\n");
    }
}
