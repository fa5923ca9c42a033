//! The parts of a URL that botocore's checks look at, found as Python's
//! `urllib.parse.urlparse` finds them, so that credchain refuses the same
//! values botocore refuses.

/// The scheme and the host of `url`, both lower-cased (as `urlparse`
/// returns `hostname`); `None` when `urlparse` would find no host: no
/// `//`, a scheme that is not one, or nothing between `//` and the path.
pub fn scheme_and_host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("//")?;
    let scheme = match scheme.strip_suffix(':') {
        Some(name) if is_scheme(name) => name,
        _ if scheme.is_empty() => "",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_and_port = authority.rsplit('@').next().unwrap_or("");
    let host = match host_and_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host_and_port.split(':').next().unwrap_or(""),
    };
    (!host.is_empty()).then(|| (scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

fn is_scheme(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::scheme_and_host;

    fn parts(url: &str) -> Option<(String, String)> {
        scheme_and_host(url)
    }

    #[test]
    fn hosts_are_found_as_urlparse_finds_them() {
        let found = |scheme: &str, host: &str| Some((scheme.to_owned(), host.to_owned()));
        assert_eq!(parts("http://LocalHost:8080/creds"), found("http", "localhost"));
        assert_eq!(parts("https://user:pw@[FD00:EC2::23]:80/x"), found("https", "fd00:ec2::23"));
        assert_eq!(parts("//host/path"), found("", "host"));
        for none in ["/v2/credentials", "localhost/creds", "localhost:1234", "http://", "", "1http://h", "not a url"] {
            assert_eq!(parts(none), None, "{none}");
        }
    }
}
