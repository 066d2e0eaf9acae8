//! TLS for the registry and connector sockets (rustls with the ring provider): trust anchors
//! from a PEM file, or an insecure mode for tests that accepts any certificate.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
    StreamOwned,
};

use crate::deadline::Timed;
use crate::error::{Error, Result};

/// A TLS stream over TCP whose socket keeps the exchange's deadline.
pub(crate) type TlsStream = StreamOwned<ClientConnection, Timed>;

/// Builds the client configuration from `--tls-ca FILE` or the insecure switch.
pub fn config(ca: Option<&Path>, insecure: bool, endpoint: &str) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(crypto::ring::default_provider());
    let fail = |reason: String| Error::Tls {
        endpoint: endpoint.into(),
        reason,
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(e.to_string()))?;
    if insecure {
        let verifier = Arc::new(AcceptAny(provider));
        return Ok(Arc::new(
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth(),
        ));
    }
    let ca = ca.ok_or_else(|| {
        fail(
            "no trust anchor: pass --tls-ca FILE (PEM of the JVM's certificate or of its CA)"
                .into(),
        )
    })?;
    let roots = load_roots(ca).map_err(fail)?;
    Ok(Arc::new(
        builder.with_root_certificates(roots).with_no_client_auth(),
    ))
}

fn load_roots(path: &Path) -> Result<RootCertStore, String> {
    let shown = path.display();
    let mut roots = RootCertStore::empty();
    let certs =
        CertificateDer::pem_file_iter(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("{shown} is not a PEM certificate file: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("{shown}: unusable certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "{shown} holds no PEM certificate (export one with `keytool -exportcert -rfc`)"
        ));
    }
    Ok(roots)
}

/// Runs the handshake now, so that a plain server (which closes on our hello) is told apart
/// from a certificate problem before any JRMP byte is sent. The socket's deadline bounds the
/// whole handshake.
pub(crate) fn connect(tcp: Timed, host: &str, config: Arc<ClientConfig>) -> io::Result<TlsStream> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

// The verifier behind `--tls-insecure`: any certificate, but signatures are still checked.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
