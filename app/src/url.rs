//! URL query strings: percent-encoding of components and `k=v&k=v` pairs. The lists' filters
//! live in their URLs (`/cases?status=Open&tag=apt`); dashboards link to them with a v0 query
//! (`/alerts?q=<json>`), which the server's v0 API decodes the same way.

/// Percent-encode a URL component (unreserved characters and `/` stay as they are).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decode what [`encode_component`] made (and browsers' `+` for spaces); a stray `%` stays.
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `(key, decoded value)` pairs of a query string, with or without its `?`, in order
/// (a key may repeat: `tag=a&tag=b`).
pub fn query_pairs(qs: &str) -> impl Iterator<Item = (&str, String)> {
    qs.strip_prefix('?').unwrap_or(qs).split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k, decode_component(v))
    })
}

/// A query string (without `?`) of `(key, value)` pairs, values encoded.
pub fn query_string<'a, V: AsRef<str>>(pairs: impl IntoIterator<Item = (&'a str, V)>) -> String {
    pairs.into_iter().map(|(k, v)| format!("{k}={}", encode_component(v.as_ref()))).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trip() {
        let s = "/cases?q=a b&x=ü%";
        assert_eq!(decode_component(&encode_component(s)), s);
        assert_eq!(encode_component("{\"_id\":1}"), "%7B%22_id%22%3A1%7D");
        assert_eq!(decode_component("a+b%2"), "a b%2");
        assert_eq!(decode_component("100%zz"), "100%zz");
    }

    #[test]
    fn pairs() {
        let got: Vec<(&str, String)> = query_pairs("?tag=a%20b&tag=c&flag&&x=").collect();
        assert_eq!(got, vec![("tag", "a b".into()), ("tag", "c".into()), ("flag", String::new()), ("x", String::new())]);
        assert_eq!(query_string([("tag", "a b"), ("q", "{}")]), "tag=a%20b&q=%7B%7D");
        assert_eq!(query_string(Vec::<(&str, String)>::new()), "");
    }
}
