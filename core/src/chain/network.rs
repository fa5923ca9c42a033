//! Which trust store and which proxy the chain's HTTPS calls (STS, SSO,
//! SSO-OIDC, `aws login`, web identity's STS) use, decided as botocore
//! decides them, from the captured environment and the selected profile.
//!
//! - **Trust store.** botocore's session variable `ca_bundle` is
//!   `AWS_CA_BUNDLE`, else the profile's `ca_bundle`
//!   (`configprovider.py`: `'ca_bundle': ('ca_bundle', 'AWS_CA_BUNDLE',
//!   ...)`, environment before the config file); with neither,
//!   `EndpointCreator._get_verify_value` falls back to `REQUESTS_CA_BUNDLE`.
//!   The path goes to urllib3 as `ca_certs`, which *replaces* the default
//!   roots: with a bundle, only its certificates are trusted, and so it is
//!   here. An empty or blank value (an empty variable still wins over the
//!   profile's setting) is refused, as botocore refuses it since 1.43.54
//!   (`EndpointCreator._validate_verify_value`; before, its `verify` became
//!   `''`, which turned verification off). The path is used as written,
//!   with no `~` expansion, as botocore hands it to OpenSSL.
//! - **Proxy.** botocore takes proxies from `urllib.request.getproxies()`
//!   and `proxy_bypass()` (`botocore.utils.get_environ_proxies`), and only
//!   the entry for the URL's scheme: `https_proxy` for every HTTPS call
//!   (the lower-case variable wins over `HTTPS_PROXY`, and an empty
//!   lower-case one cancels it), bypassed for hosts in `no_proxy` /
//!   `NO_PROXY`. A proxy without a scheme is `http://` (botocore's
//!   `_fix_proxy_url`). `ALL_PROXY` is not consulted, as in botocore.
//!
//! Everything is read from the environment captured on a caller's thread
//! and from the files read off the runtime's worker (`ChainContext::read`),
//! never from the process environment on the library's own threads.

use std::path::{Path, PathBuf};

use super::environment::EnvVars;
use super::files::{read_bounded, Unreadable};

/// Where a CA bundle's path came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleOrigin {
    /// An environment variable (`AWS_CA_BUNDLE` or `REQUESTS_CA_BUNDLE`).
    Variable(&'static str),
    /// The `ca_bundle` key of the named profile.
    Profile(String),
}

impl std::fmt::Display for BundleOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BundleOrigin::Variable(name) => f.write_str(name),
            BundleOrigin::Profile(profile) => {
                write!(f, "ca_bundle in profile {}", crate::types::text::escape_name(profile))
            }
        }
    }
}

/// The certificates HTTPS peers are checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustStore {
    /// The system's roots (as rustls-native-certs finds them, which honours
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR`).
    System,
    /// A PEM bundle that replaces the system's roots.
    Bundle {
        /// The file, as configured.
        path: PathBuf,
        /// Which variable or setting named it.
        origin: BundleOrigin,
    },
}

/// The proxy HTTPS calls go through.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// The proxy's URL with `http://` added when it had no scheme. It may
    /// carry a user and password: shown only through [`Proxy::display_url`].
    url: String,
    /// The variable that named it.
    pub variable: &'static str,
    /// The bypass list and the variable it came from, when one is set.
    pub no_proxy: Option<(&'static str, String)>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.display_url())
            .field("variable", &self.variable)
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl Proxy {
    /// The URL to connect through, credentials included: for the client
    /// alone, never for a message.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with any user and password replaced by `***`, fit for a
    /// message or the doctor.
    pub fn display_url(&self) -> String {
        redact_userinfo(&self.url)
    }
}

/// The trust store and proxy in effect, and the bundle's certificates as
/// read when the context was read.
#[derive(Clone)]
pub struct Network {
    /// The trust store chosen.
    pub trust: TrustStore,
    /// For a bundle: its certificates (PEM, each checked), or why the file
    /// cannot be used; empty for the system's roots. Kept as the reason and
    /// not an error so that only a source that makes HTTPS calls fails on
    /// a broken bundle (botocore builds its clients, and reads the bundle,
    /// only for those).
    pub certificates: Result<Vec<Vec<u8>>, String>,
    /// The proxy, when one applies.
    pub proxy: Option<Proxy>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A count, not the certificates: a system bundle is some 200 KB.
        let certificates = self.certificates.as_ref().map(Vec::len);
        f.debug_struct("Network")
            .field("trust", &self.trust)
            .field("certificates", &certificates)
            .field("proxy", &self.proxy)
            .finish()
    }
}

impl Network {
    /// Decides the trust store and proxy for `profile`, whose `ca_bundle`
    /// setting is `profile_bundle`, and reads the bundle (a bounded read:
    /// call it off the runtime's worker).
    pub fn read(env: &EnvVars, profile: &str, profile_bundle: Option<&str>) -> Network {
        let trust = choose_trust_store(env, profile, profile_bundle);
        let certificates = match &trust {
            TrustStore::System => Ok(Vec::new()),
            TrustStore::Bundle { path, origin } if path.to_string_lossy().trim().is_empty() => Err(format!(
                "the CA bundle setting {origin} is empty: name a bundle file, or unset it for the system's roots"
            )),
            TrustStore::Bundle { path, origin } => {
                load_bundle(path).map_err(|why| format!("the CA bundle {} (from {origin}) {why}", path.display()))
            }
        };
        Network { trust, certificates, proxy: choose_proxy(env) }
    }
}

/// `AWS_CA_BUNDLE`, then the profile's `ca_bundle`, then
/// `REQUESTS_CA_BUNDLE`, then the system's roots (botocore's order; a set
/// but empty value is chosen, and refused when read, see the module docs).
pub fn choose_trust_store(env: &EnvVars, profile: &str, profile_bundle: Option<&str>) -> TrustStore {
    let bundle = |path: &str, origin| TrustStore::Bundle { path: PathBuf::from(path), origin };
    if let Some(path) = env.get("AWS_CA_BUNDLE") {
        return bundle(path, BundleOrigin::Variable("AWS_CA_BUNDLE"));
    }
    if let Some(path) = profile_bundle {
        return bundle(path, BundleOrigin::Profile(profile.to_owned()));
    }
    if let Some(path) = env.get("REQUESTS_CA_BUNDLE") {
        return bundle(path, BundleOrigin::Variable("REQUESTS_CA_BUNDLE"));
    }
    TrustStore::System
}

/// The HTTPS proxy from `https_proxy` / `HTTPS_PROXY` with its bypass list,
/// as urllib's `getproxies_environment` reads them.
pub fn choose_proxy(env: &EnvVars) -> Option<Proxy> {
    let (variable, value) = lower_case_first(env, "https_proxy", "HTTPS_PROXY")?;
    let no_proxy = lower_case_first(env, "no_proxy", "NO_PROXY").map(|(name, value)| (name, value.to_owned()));
    Some(Proxy { url: with_scheme(value.trim()), variable, no_proxy })
}

/// urllib's rule: a set lower-case variable decides (an empty one means
/// none, even when the upper-case one is set); else the upper-case one when
/// it is not empty.
fn lower_case_first<'a>(env: &'a EnvVars, lower: &'static str, upper: &'static str) -> Option<(&'static str, &'a str)> {
    match env.get(lower) {
        Some("") => None,
        Some(value) => Some((lower, value)),
        None => env.non_empty(upper).map(|value| (upper, value)),
    }
}

/// botocore's `_fix_proxy_url`: `http://` unless the URL names a scheme.
fn with_scheme(url: &str) -> String {
    if url.starts_with("http:") || url.starts_with("https:") {
        url.to_owned()
    } else if let Some(rest) = url.strip_prefix("//") {
        format!("http://{rest}")
    } else {
        format!("http://{url}")
    }
}

/// `scheme://user:password@host:port/...` → `scheme://***@host:port/...`.
fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

/// Reads a PEM bundle and keeps each certificate that can serve as a trust
/// anchor, checked now: the HTTP client would panic on a malformed one.
/// The error says what is wrong with the file, for a message that names it.
fn load_bundle(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    let bytes = match read_bounded(path) {
        Ok(bytes) => bytes,
        Err(Unreadable::Missing) => {
            return Err(match std::fs::symlink_metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist".to_owned(),
                _ => "cannot be opened (permission denied?)".to_owned(),
            })
        }
        Err(Unreadable::Refused(why) | Unreadable::Exhausted(why)) => return Err(why),
    };
    let mut certificates = Vec::new();
    for (index, parsed) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let der = parsed.map_err(|e| format!("is not a valid PEM file (certificate {}: {e})", index + 1))?;
        // The same check as rustls's `RootCertStore::add`, which the client
        // runs on every certificate it is given.
        let mut probe = rustls::RootCertStore::empty();
        probe.add(der.clone()).map_err(|e| format!("holds a certificate that cannot be used ({}: {e})", index + 1))?;
        certificates.push(to_pem(&der));
    }
    if certificates.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned());
    }
    Ok(certificates)
}

/// One certificate as PEM text, for the client's trust store.
fn to_pem(der: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = Vec::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            encoded.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i)) as usize & 63] } else { b'=' });
        }
    }
    let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
    for line in encoded.chunks(64) {
        pem.extend_from_slice(line);
        pem.push(b'\n');
    }
    pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::environment::Environment;
    use crate::chain::testing::Scratch;

    fn env(vars: &[(&'static str, &str)]) -> EnvVars {
        Environment::of(vars).vars
    }

    fn bundle(path: &str, origin: BundleOrigin) -> TrustStore {
        TrustStore::Bundle { path: PathBuf::from(path), origin }
    }

    #[test]
    fn aws_ca_bundle_wins_over_the_profile_which_wins_over_requests_ca_bundle() {
        let all = env(&[("AWS_CA_BUNDLE", "/a.pem"), ("REQUESTS_CA_BUNDLE", "/r.pem")]);
        assert_eq!(
            choose_trust_store(&all, "dev", Some("/p.pem")),
            bundle("/a.pem", BundleOrigin::Variable("AWS_CA_BUNDLE"))
        );
        let no_env = env(&[("REQUESTS_CA_BUNDLE", "/r.pem")]);
        assert_eq!(
            choose_trust_store(&no_env, "dev", Some("/p.pem")),
            bundle("/p.pem", BundleOrigin::Profile("dev".into()))
        );
        assert_eq!(
            choose_trust_store(&no_env, "dev", None),
            bundle("/r.pem", BundleOrigin::Variable("REQUESTS_CA_BUNDLE"))
        );
        assert_eq!(choose_trust_store(&env(&[]), "dev", None), TrustStore::System);
    }

    #[test]
    fn an_empty_ca_bundle_is_refused_and_never_turns_verification_off() {
        // An empty variable still wins over the profile's setting.
        assert_eq!(
            choose_trust_store(&env(&[("AWS_CA_BUNDLE", "")]), "dev", Some("/p.pem")),
            bundle("", BundleOrigin::Variable("AWS_CA_BUNDLE"))
        );
        let refused = |vars: &[(&'static str, &str)], profile_bundle: Option<&str>| {
            Network::read(&env(vars), "dev", profile_bundle).certificates.unwrap_err()
        };
        assert_eq!(
            refused(&[("AWS_CA_BUNDLE", "")], Some("/p.pem")),
            "the CA bundle setting AWS_CA_BUNDLE is empty: name a bundle file, or unset it for the system's roots"
        );
        assert_eq!(
            refused(&[], Some("  ")),
            "the CA bundle setting ca_bundle in profile dev is empty: name a bundle file, or unset it for the \
             system's roots"
        );
        assert!(refused(&[("REQUESTS_CA_BUNDLE", " ")], None).starts_with("the CA bundle setting REQUESTS_CA_BUNDLE"));
    }

    #[test]
    fn the_lower_case_proxy_variable_wins_and_an_empty_one_cancels() {
        let both = env(&[("https_proxy", "http://lower:1"), ("HTTPS_PROXY", "http://upper:2")]);
        let proxy = choose_proxy(&both).unwrap();
        assert_eq!((proxy.url(), proxy.variable), ("http://lower:1", "https_proxy"));
        assert_eq!(choose_proxy(&env(&[("https_proxy", ""), ("HTTPS_PROXY", "http://upper:2")])), None);
        let upper = choose_proxy(&env(&[("HTTPS_PROXY", "http://upper:2"), ("NO_PROXY", "a.example")])).unwrap();
        assert_eq!((upper.url(), upper.variable), ("http://upper:2", "HTTPS_PROXY"));
        assert_eq!(upper.no_proxy, Some(("NO_PROXY", "a.example".to_owned())));
        assert_eq!(choose_proxy(&env(&[("HTTP_PROXY", "http://h:1"), ("ALL_PROXY", "http://a:1")])), None);
    }

    #[test]
    fn a_proxy_without_a_scheme_is_plain_http_as_in_botocore() {
        assert_eq!(choose_proxy(&env(&[("HTTPS_PROXY", "proxy:3128")])).unwrap().url(), "http://proxy:3128");
        assert_eq!(choose_proxy(&env(&[("HTTPS_PROXY", "//proxy:3128")])).unwrap().url(), "http://proxy:3128");
        assert_eq!(choose_proxy(&env(&[("HTTPS_PROXY", "https://p:1")])).unwrap().url(), "https://p:1");
    }

    #[test]
    fn proxy_credentials_never_show() {
        let proxy = choose_proxy(&env(&[("HTTPS_PROXY", "http://user:s3cret@proxy:3128/x@y")])).unwrap();
        assert_eq!(proxy.display_url(), "http://***@proxy:3128/x@y");
        assert!(!format!("{proxy:?}").contains("s3cret"));
        assert_eq!(redact_userinfo("http://proxy:3128"), "http://proxy:3128");
    }

    #[test]
    fn pem_encoding_round_trips() {
        use rustls_pki_types::pem::PemObject;
        for len in [0usize, 1, 2, 3, 47, 48, 49, 100] {
            let der: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let pem = to_pem(&der);
            let back = rustls_pki_types::CertificateDer::from_pem_slice(&pem).unwrap();
            assert_eq!(back.as_ref(), der.as_slice(), "length {len}");
        }
    }

    /// A throw-away self-signed CA certificate (public: its key was never
    /// kept), valid until 2126.
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBqTCCAU+gAwIBAgIUEKUShdg0wSSYbBjK+02Sh++72YUwCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWY3JlZGNoYWluIHVuaXQtdGVzdCBDQTAgFw0yNjExMjYxNjU4
NDJaGA8yMTI2MTEwMjE2NTg0MlowITEfMB0GA1UEAwwWY3JlZGNoYWluIHVuaXQt
dGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBraJmxxZyRhU4T3VhIw
a8NInLtIOJKHJ1GVLeXc7tJ3WxLRXAPZ1iBJKlrkMFmMgHz/o3gTZgnV12H1fQ/E
tkCjYzBhMB0GA1UdDgQWBBQ7hM01oFSyBg206xPSLeDi57kjEzAfBgNVHSMEGDAW
gBQ7hM01oFSyBg206xPSLeDi57kjEzAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB
/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiBN+gK64XZkvlofa1XTpWSaZBqfndg1
q1eBi6JYrAuaAAIhAKhy686TgiXhF403gzqilqzMjoqvYY5trjlyMrhIeBdB
-----END CERTIFICATE-----
";

    #[test]
    fn a_bundle_keeps_its_certificates_and_skips_other_pem_sections() {
        let scratch = Scratch::new();
        let text = format!(
            "# corporate roots\n{TEST_CA}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{TEST_CA}"
        );
        let path = scratch.write("ca.pem", &text).display().to_string();
        let network = Network::read(&env(&[("AWS_CA_BUNDLE", &path)]), "default", None);
        let certificates = network.certificates.unwrap();
        assert_eq!(certificates.len(), 2);
        // Re-encoded, each is the file's certificate byte for byte.
        assert_eq!(String::from_utf8(certificates[0].clone()).unwrap(), TEST_CA);
    }

    #[test]
    fn a_missing_bundle_names_the_file_and_the_variable() {
        let scratch = Scratch::new();
        let path = scratch.path("missing.pem");
        let network = Network::read(&env(&[("AWS_CA_BUNDLE", &path)]), "default", None);
        assert_eq!(network.certificates, Err(format!("the CA bundle {path} (from AWS_CA_BUNDLE) does not exist")));
    }

    #[test]
    fn a_bundle_without_certificates_names_the_file_and_the_profile_setting() {
        let scratch = Scratch::new();
        let path = scratch.write("empty.pem", "not a certificate\n").display().to_string();
        let network = Network::read(&env(&[]), "dev", Some(&path));
        assert_eq!(
            network.certificates,
            Err(format!(
                "the CA bundle {path} (from ca_bundle in profile dev) holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            ))
        );
    }

    #[test]
    fn a_bundle_with_a_broken_certificate_is_refused_not_a_panic() {
        let scratch = Scratch::new();
        let path = scratch
            .write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .display()
            .to_string();
        let network = Network::read(&env(&[("REQUESTS_CA_BUNDLE", &path)]), "default", None);
        let why = network.certificates.unwrap_err();
        assert!(
            why.starts_with(&format!(
                "the CA bundle {path} (from REQUESTS_CA_BUNDLE) holds a certificate that cannot be used (1: "
            )),
            "{why}"
        );
    }

    #[test]
    fn a_directory_as_bundle_is_refused() {
        let scratch = Scratch::new();
        let path = scratch.dir().display().to_string();
        let network = Network::read(&env(&[("AWS_CA_BUNDLE", &path)]), "default", None);
        assert_eq!(
            network.certificates,
            Err(format!("the CA bundle {path} (from AWS_CA_BUNDLE) is not a regular file (it is a directory)"))
        );
    }
}
