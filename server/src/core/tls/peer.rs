//! What a handler can read of the verified client certificate.

use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::x509::{X509NameRef, X509Ref};
use serde::Serialize;

/// The client certificate of the connection, verified during the handshake (chain to a
/// configured CA, validity dates, CRLs, clientAuth purpose). Every request of the connection
/// carries it as an `Arc<PeerCert>` extension; read it with
/// `Option<Extension<Arc<PeerCert>>>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeerCert {
    /// Subject DN, RFC 4514 string form (most specific RDN first), e.g.
    /// `emailAddress=alice@example.org,CN=Alice,O=Example`.
    pub subject: String,
    /// Issuer DN, same form.
    pub issuer: String,
    /// The subject's (last) commonName.
    pub common_name: Option<String>,
    /// The subject's (last) emailAddress attribute (PKCS#9, deprecated but common).
    pub email_address: Option<String>,
    /// subjectAltName rfc822Name entries.
    pub san_emails: Vec<String>,
    /// subjectAltName otherName entries of type Microsoft UPN (1.3.6.1.4.1.311.20.2.3).
    pub san_upns: Vec<String>,
    /// Serial number, upper-case hexadecimal without leading zeros.
    pub serial: String,
    /// SHA-256 of the DER certificate, lower-case hexadecimal without separators.
    pub sha256: String,
    /// Validity, as OpenSSL prints it (`Jan  2 03:04:05 2026 GMT`).
    pub not_before: String,
    pub not_after: String,
}

impl PeerCert {
    pub fn from_x509(cert: &X509Ref) -> Result<Self, ErrorStack> {
        let subject = cert.subject_name();
        let mut san_emails = Vec::new();
        if let Some(sans) = cert.subject_alt_names() {
            san_emails.extend(sans.iter().filter_map(|n| n.email()).map(str::to_owned));
        }
        // The openssl crate reads no otherName: take it from the DER.
        let der = cert.to_der()?;
        let san_upns = der::subject_alt_name(&der).map(der::upns).unwrap_or_default();
        Ok(Self {
            subject: dn_string(subject),
            issuer: dn_string(cert.issuer_name()),
            common_name: last_entry(subject, Nid::COMMONNAME),
            email_address: last_entry(subject, Nid::PKCS9_EMAILADDRESS),
            san_emails,
            san_upns,
            serial: cert.serial_number().to_bn()?.to_hex_str()?.to_string(),
            sha256: hex::encode(cert.digest(MessageDigest::sha256())?),
            not_before: cert.not_before().to_string(),
            not_after: cert.not_after().to_string(),
        })
    }
}

fn last_entry(name: &X509NameRef, nid: Nid) -> Option<String> {
    name.entries_by_nid(nid).last().and_then(|e| e.data().to_string().ok())
}

/// RFC 4514 string of a DN: RDNs in reverse order, `,`-separated, values escaped. (The openssl
/// crate does not expose multi-valued RDNs; each attribute is printed as its own RDN.)
fn dn_string(name: &X509NameRef) -> String {
    let entries: Vec<_> = name.entries().collect();
    let mut out = String::new();
    for e in entries.iter().rev() {
        if !out.is_empty() {
            out.push(',');
        }
        let obj = e.object();
        match obj.nid().short_name() {
            Ok(sn) if obj.nid() != Nid::UNDEF => out.push_str(sn),
            _ => out.push_str(&obj.to_string()),
        }
        out.push('=');
        match e.data().to_string() {
            Ok(v) => escape_dn_value(&v, &mut out),
            Err(_) => out.push_str("#?"),
        }
    }
    out
}

fn escape_dn_value(v: &str, out: &mut String) {
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
}

/// Just enough DER to find the subjectAltName otherNames, in safe code.
mod der {
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    const BOOLEAN: u8 = 0x01;
    const OCTET_STRING: u8 = 0x04;
    const UTF8_STRING: u8 = 0x0c;
    /// [3] EXPLICIT, constructed: the extensions of a TBSCertificate.
    const EXTENSIONS: u8 = 0xa3;
    /// [0] constructed: otherName in GeneralName; also the [0] EXPLICIT around its value.
    const CTX0: u8 = 0xa0;
    /// 2.5.29.17
    const SAN_OID: &[u8] = &[0x55, 0x1d, 0x11];
    /// 1.3.6.1.4.1.311.20.2.3
    const UPN_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x14, 0x02, 0x03];

    /// One TLV: (tag, content, rest). Low tag numbers and definite lengths only (DER).
    fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let (bytes, r) = rest.split_at_checked(n)?;
            rest = r;
            bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let (content, rest) = rest.split_at_checked(len)?;
        Some((tag, content, rest))
    }

    fn iter(mut input: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
        std::iter::from_fn(move || {
            let (tag, content, rest) = tlv(input)?;
            input = rest;
            Some((tag, content))
        })
    }

    /// The content of the subjectAltName extension (the GeneralNames SEQUENCE), if any.
    pub(super) fn subject_alt_name(cert: &[u8]) -> Option<&[u8]> {
        let (SEQUENCE, cert, _) = tlv(cert)? else { return None };
        let (SEQUENCE, tbs, _) = tlv(cert)? else { return None };
        let (_, exts) = iter(tbs).find(|(tag, _)| *tag == EXTENSIONS)?;
        let (SEQUENCE, exts, _) = tlv(exts)? else { return None };
        for (tag, ext) in iter(exts) {
            if tag != SEQUENCE {
                continue;
            }
            let mut fields = iter(ext);
            if fields.next() != Some((OID, SAN_OID)) {
                continue;
            }
            let (mut tag, mut value) = fields.next()?;
            if tag == BOOLEAN {
                (tag, value) = fields.next()?;
            }
            if tag != OCTET_STRING {
                return None;
            }
            let (SEQUENCE, names, _) = tlv(value)? else { return None };
            return Some(names);
        }
        None
    }

    /// The UPN otherNames of a GeneralNames content.
    pub(super) fn upns(names: &[u8]) -> Vec<String> {
        iter(names)
            .filter(|(tag, _)| *tag == CTX0)
            .filter_map(|(_, other)| {
                let mut fields = iter(other);
                if fields.next()? != (OID, UPN_OID) {
                    return None;
                }
                let (CTX0, explicit) = fields.next()? else { return None };
                let (UTF8_STRING, s, _) = tlv(explicit)? else { return None };
                String::from_utf8(s.to_vec()).ok()
            })
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn upn_from_general_names() {
            // [0] { OID 1.3.6.1.4.1.311.20.2.3, [0] { UTF8String "a@b" } }, then rfc822Name "x@y"
            let mut other = vec![OID, UPN_OID.len() as u8];
            other.extend_from_slice(UPN_OID);
            other.extend_from_slice(&[CTX0, 5, UTF8_STRING, 3, b'a', b'@', b'b']);
            let mut names = vec![CTX0, other.len() as u8];
            names.extend_from_slice(&other);
            names.extend_from_slice(&[0x81, 3, b'x', b'@', b'y']);
            assert_eq!(upns(&names), vec!["a@b".to_string()]);
            assert!(upns(&[0x30, 0x05]).is_empty()); // truncated: nothing, no panic
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_rfc4514_specials() {
        let mut s = String::new();
        escape_dn_value(" a,b+c ", &mut s);
        assert_eq!(s, "\\ a\\,b\\+c\\ ");
    }
}
