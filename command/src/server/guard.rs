//! Who may ask: the bearer token every SDK sends from
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, and the `Host` a browser
//! cannot forge to a loopback name (DNS rebinding).

use std::fmt;
use std::net::IpAddr;

use zeroize::Zeroizing;

use credchain_core::{Error, ErrorCode, Result};

/// The shared secret, 256 random bits as 64 lower-case hex digits; zeroed on
/// drop and never printed.
pub struct Token(Zeroizing<String>);

impl Token {
    /// A fresh token from the kernel's random source.
    pub fn generate() -> Result<Token> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        fill_random(&mut bytes[..])?;
        let mut hex = Zeroizing::new(String::with_capacity(64));
        for byte in bytes.iter() {
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
        }
        Ok(Token(hex))
    }

    /// The token's text, for writing its file.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is exactly the token, in time that does not
    /// depend on where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), presented.as_bytes())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(redacted)")
    }
}

fn fill_random(buffer: &mut [u8]) -> Result<()> {
    credchain_core::platform::fill_random(buffer)
        .map_err(|error| Error::new(ErrorCode::Internal, format!("reading random bytes for the token failed: {error}")))
}

/// Compares every byte whatever the first difference; only the lengths
/// (not secret: the token's is fixed) decide early.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// Whether a `Host` header names this machine's loopback: `127.0.0.1`,
/// `localhost` or `[::1]`, with or without a port. With `also` (a listen
/// address beyond loopback that the operator allowed explicitly), that
/// address too.
pub fn host_allowed(host: &str, also: Option<IpAddr>) -> bool {
    let name = strip_port(host.trim());
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let literal = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    match literal.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() && is_canonical_loopback(ip) || Some(ip) == also,
        Err(_) => false,
    }
}

/// `127.0.0.1` and `::1` only: other 127/8 addresses are loopback too, but
/// no SDK sends them and nothing needs them.
fn is_canonical_loopback(ip: IpAddr) -> bool {
    ip == IpAddr::from([127, 0, 0, 1]) || ip == IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
}

/// The name part of `name[:port]` or `[v6][:port]`; `""` (allowed nowhere)
/// when what follows the name is not a valid port.
fn strip_port(host: &str) -> &str {
    let (name, rest) = match host.find(']') {
        Some(end) if host.starts_with('[') => host.split_at(end + 1),
        _ => match host.rsplit_once(':') {
            Some((name, _)) if !name.contains(':') => (name, &host[name.len()..]),
            _ => (host, ""),
        },
    };
    let port_ok = match rest.strip_prefix(':') {
        Some(port) => port.parse::<u16>().is_ok(),
        None => rest.is_empty(),
    };
    if port_ok {
        name
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_64_hex_digits_and_new_each_time() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a.expose(), b.expose());
        assert_eq!(format!("{a:?}"), "Token(redacted)");
    }

    #[test]
    fn only_the_exact_token_matches() {
        let token = Token::generate().unwrap();
        let exact = token.expose().to_owned();
        assert!(token.matches(&exact));
        let mut one_byte = exact.clone().into_bytes();
        one_byte[31] = if one_byte[31] == b'0' { b'1' } else { b'0' };
        assert!(!token.matches(std::str::from_utf8(&one_byte).unwrap()));
        assert!(!token.matches(&exact[..63]));
        assert!(!token.matches(&format!("{exact}0")));
        assert!(!token.matches(""));
    }

    #[test]
    fn loopback_hosts_pass_with_or_without_a_port() {
        for host in ["127.0.0.1", "127.0.0.1:8080", "localhost", "LOCALHOST:1", "[::1]", "[::1]:9911"] {
            assert!(host_allowed(host, None), "{host}");
        }
    }

    #[test]
    fn foreign_and_rebinding_hosts_are_refused() {
        for host in [
            "evil.example",
            "127.0.0.1.nip.io",
            "localhost.evil.example",
            "10.0.0.1:80",
            "",
            "127.0.0.2",
            "[::1].evil.example",
            "[::1]evil.example:80",
            "localhost:99999999999",
            "localhost:",
            "localhost:8a",
        ] {
            assert!(!host_allowed(host, None), "{host}");
        }
        let allowed = "10.1.2.3".parse().ok();
        assert!(host_allowed("10.1.2.3:9911", allowed));
        assert!(!host_allowed("10.1.2.4:9911", allowed));
    }
}
