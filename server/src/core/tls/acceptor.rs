//! Building the `SslAcceptor` from the configured files.

use std::path::{Path, PathBuf};

use openssl::error::ErrorStack;
use openssl::ssl::{
    AlpnError, SslAcceptor, SslAcceptorBuilder, SslFiletype, SslMethod, SslVerifyMode, select_next_proto,
};
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509ExtendedKeyUsage, X509Name, X509PurposeId, X509VerifyResult};

use super::{ClientAuth, TlsConfig};

/// ALPN, in wire format: h2 first, then HTTP/1.1.
const ALPN: &[u8] = b"\x02h2\x08http/1.1";

/// Why the TLS configuration cannot be (re)built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{what} {path}: {source}")]
    Read { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{what} {path}: {source}")]
    Parse { what: &'static str, path: PathBuf, source: ErrorStack },
    #[error("{what} {path}: no certificate in the file")]
    Empty { what: &'static str, path: PathBuf },
    #[error("TLS configuration: {0}")]
    Config(String),
    #[error("OpenSSL: {0}")]
    Ssl(#[from] ErrorStack),
}

fn parse_err(what: &'static str, path: &Path) -> impl FnOnce(ErrorStack) -> TlsError {
    let path = path.to_path_buf();
    move |source| TlsError::Parse { what, path, source }
}

/// Build an acceptor: Mozilla "intermediate" profile (TLS 1.2 and 1.3), ALPN h2 + http/1.1,
/// and, unless client auth is off, client-certificate verification with CRLs and the
/// clientAuth purpose.
pub fn build_acceptor(config: &TlsConfig) -> Result<SslAcceptor, TlsError> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    b.set_certificate_chain_file(&config.cert_chain)
        .map_err(parse_err("server certificate chain", &config.cert_chain))?;
    b.set_private_key_file(&config.key, SslFiletype::PEM).map_err(parse_err("server key", &config.key))?;
    b.check_private_key().map_err(|e| TlsError::Config(format!("the key does not match the certificate: {e}")))?;
    b.set_alpn_select_callback(|_, client| select_next_proto(ALPN, client).ok_or(AlpnError::NOACK));
    // Without a session id context, OpenSSL refuses to resume a session of a verified client
    // ("session id context uninitialized") and the handshake fails.
    b.set_session_id_context(b"waggle")?;

    match config.client_auth {
        ClientAuth::Off => b.set_verify(SslVerifyMode::NONE),
        mode => client_verification(&mut b, config, mode)?,
    }
    Ok(b.build())
}

fn client_verification(b: &mut SslAcceptorBuilder, config: &TlsConfig, mode: ClientAuth) -> Result<(), TlsError> {
    let ca_path = config
        .client_ca
        .as_deref()
        .ok_or_else(|| TlsError::Config("client certificates are enabled but no client CA file is set".into()))?;
    let pem = std::fs::read(ca_path).map_err(|source| TlsError::Read {
        what: "client CA file",
        path: ca_path.to_path_buf(),
        source,
    })?;
    let cas = X509::stack_from_pem(&pem).map_err(parse_err("client CA file", ca_path))?;
    if cas.is_empty() {
        return Err(TlsError::Empty { what: "client CA file", path: ca_path.to_path_buf() });
    }

    // A store of its own for verifying clients (SSL_CTX_set1_verify_cert_store): the context's
    // default store stays for building the server's own chain.
    let mut store = X509StoreBuilder::new()?;
    for ca in &cas {
        store.add_cert(ca.clone())?;
    }
    if !config.crls.is_empty() {
        let lookup = store.add_lookup(X509Lookup::file())?;
        for crl in &config.crls {
            // X509_load_crl_file: every CRL of the PEM file goes into the store; fails on an
            // unreadable or empty file.
            lookup.load_crl_file(crl, SslFiletype::PEM).map_err(parse_err("CRL file", crl))?;
        }
        store.set_flags(X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL)?;
    }
    b.set_verify_cert_store(store.build())?;

    // The leaf (and every CA, by OpenSSL's rules) must be fit for TLS client authentication:
    // an extendedKeyUsage without clientAuth is refused ("unsupported certificate purpose").
    b.verify_param_mut().set_purpose(X509PurposeId::SSL_CLIENT)?;
    b.set_verify_depth(config.verify_depth);

    // The CA names sent in the CertificateRequest: browsers offer only certificates issued by
    // one of them.
    let mut names = Stack::<X509Name>::new()?;
    for ca in &cas {
        names.push(ca.subject_name().to_owned()?)?;
    }
    b.set_client_ca_list(names);

    let mut verify = SslVerifyMode::PEER;
    if mode == ClientAuth::Required {
        verify |= SslVerifyMode::FAIL_IF_NO_PEER_CERT;
    }
    // The purpose check above accepts a leaf without any extendedKeyUsage (no EKU = any use).
    // Strict mode also requires the leaf to list clientAuth.
    let strict_eku = config.require_eku_client_auth;
    b.set_verify_callback(verify, move |preverified, ctx| {
        if !preverified {
            return false; // OpenSSL's verdict (expired, revoked, unknown CA...) stands
        }
        if strict_eku && ctx.error_depth() == 0 {
            let client_auth = ctx
                .current_cert()
                .and_then(|leaf| leaf.extended_key_usage())
                .is_some_and(|eku| eku.contains(X509ExtendedKeyUsage::SSL_CLIENT));
            if !client_auth {
                // Reported as "application verification failure" (X509_V_ERR_APPLICATION_VERIFICATION).
                ctx.set_error(X509VerifyResult::APPLICATION_VERIFICATION);
                return false;
            }
        }
        true
    });
    Ok(())
}
