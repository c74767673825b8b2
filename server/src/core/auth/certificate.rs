//! Signing in with an X.509 client certificate: which user a verified certificate names.
//!
//! The certificate comes verified from Waggle's own TLS ([`crate::core::tls`]), or from a
//! reverse proxy that verified it, only when the TCP peer is one of the configured trusted
//! proxies and only in the configured header: no identity header is ever believed otherwise.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::request::Parts;
use openssl::x509::X509;

pub use crate::config::CertRule;
use crate::config::CertificateLogin;
use crate::core::tls::PeerCert;

impl CertRule {
    /// The login the certificate names (lower case), if it names one.
    pub fn login(&self, cert: &PeerCert) -> Option<String> {
        let found = match self {
            Self::Email => cert.san_emails.first().cloned().or_else(|| cert.email_address.clone()),
            Self::Upn => cert.san_upns.first().cloned(),
            Self::Cn => cert.common_name.clone(),
            Self::Dn { prefix, suffix } => {
                let subject = cert.subject.as_str();
                (subject.len() >= prefix.len() + suffix.len()
                    && subject.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix))
                    && subject.get(subject.len() - suffix.len()..).is_some_and(|s| s.eq_ignore_ascii_case(suffix)))
                .then(|| subject[prefix.len()..subject.len() - suffix.len()].to_string())
                .filter(|login| !login.contains(','))
            }
        };
        found.map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty() && l.len() <= 128 && !l.contains('\0'))
    }
}

/// The verified client certificate of the request: from Waggle's TLS, or from a trusted proxy's
/// header when the request comes from that proxy.
pub fn of_request(parts: &Parts, config: &CertificateLogin) -> Option<Arc<PeerCert>> {
    if let Some(cert) = parts.extensions.get::<Arc<PeerCert>>() {
        return Some(cert.clone());
    }
    let header = config.header.as_deref()?;
    let from: IpAddr = super::client_addr(parts)?;
    if !config.trusted_proxies.contains(&from) {
        return None;
    }
    let value = parts.headers.get(header)?.to_str().ok()?;
    from_proxy_header(value)
}

/// A certificate as nginx passes it (`$ssl_client_escaped_cert`: URL-encoded PEM); a header
/// that does not hold one is ignored.
fn from_proxy_header(value: &str) -> Option<Arc<PeerCert>> {
    if value.is_empty() || value.len() > 64 * 1024 {
        return None;
    }
    let pem = percent_decode(value)?;
    let cert = X509::from_pem(pem.as_bytes()).ok()?;
    PeerCert::from_x509(&cert).ok().map(Arc::new)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert() -> PeerCert {
        PeerCert {
            subject: "emailAddress=alice@example.org,CN=Alice Martin,OU=SOC,O=Example".into(),
            issuer: "CN=Example CA".into(),
            common_name: Some("Alice Martin".into()),
            email_address: Some("alice@example.org".into()),
            san_emails: vec!["Alice.Martin@Example.org".into()],
            san_upns: vec!["amartin@corp.example".into()],
            serial: "1".into(),
            sha256: "00".into(),
            not_before: String::new(),
            not_after: String::new(),
        }
    }

    #[test]
    fn rules_name_the_holder() {
        let c = cert();
        assert_eq!(CertRule::Email.login(&c).as_deref(), Some("alice.martin@example.org"));
        assert_eq!(CertRule::Upn.login(&c).as_deref(), Some("amartin@corp.example"));
        assert_eq!(CertRule::Cn.login(&c).as_deref(), Some("alice martin"));
        let dn: CertRule = "dn:emailAddress={login},CN=Alice Martin,OU=SOC,O=Example".parse().unwrap();
        assert_eq!(dn.login(&c).as_deref(), Some("alice@example.org"));
        let other_ou: CertRule = "dn:emailAddress={login},CN=Alice Martin,OU=IT,O=Example".parse().unwrap();
        assert_eq!(other_ou.login(&c), None, "another OU does not match");
        let too_wide: CertRule = "dn:emailAddress={login},O=Example".parse().unwrap();
        assert_eq!(too_wide.login(&c), None, "{{login}} never spans an RDN separator");
        let mut no_san = cert();
        no_san.san_emails.clear();
        assert_eq!(CertRule::Email.login(&no_san).as_deref(), Some("alice@example.org"));
        no_san.san_upns.clear();
        assert_eq!(CertRule::Upn.login(&no_san), None);
    }

    #[test]
    fn rules_parse() {
        assert_eq!("email".parse::<CertRule>(), Ok(CertRule::Email));
        assert!("dn:CN=x".parse::<CertRule>().is_err());
        assert!("dn:CN={login},OU={login}".parse::<CertRule>().is_err());
        assert!("serial".parse::<CertRule>().is_err());
    }

    #[test]
    fn proxy_headers_hold_pem_or_nothing() {
        assert!(from_proxy_header("").is_none());
        assert!(from_proxy_header("CN=alice").is_none());
        assert!(from_proxy_header("%ZZ").is_none());
        assert_eq!(percent_decode("a%20b%0A").as_deref(), Some("a b\n"));
    }
}
