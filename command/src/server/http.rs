//! The little HTTP/1.1 the container-credentials protocol needs: a request
//! head read within fixed bounds, and a response with a known length.
//!
//! Written here rather than taken from an HTTP server crate because every
//! bound is part of the server's security (head size, header count, no
//! request bodies, an idle limit) and each must be testable on its own.

use std::fmt::Write as _;

/// The largest request head accepted, request line and headers together.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// The most header lines accepted in one request.
pub const MAX_HEADERS: usize = 64;

/// A request head that passed the bounds.
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    /// The method, as sent (`GET`).
    pub method: String,
    /// The request target, as sent (`/credentials/name`).
    pub target: String,
    /// The header lines, names as sent, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Whether the client keeps the connection open after the response.
    pub keep_alive: bool,
}

impl Head {
    /// The value of the first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether the request announces a body, which this server never reads
    /// (`Content-Length` was checked to be digits when parsed).
    pub fn has_body(&self) -> bool {
        let length = self.header("content-length").map(|v| v.bytes().any(|b| b != b'0'));
        length.unwrap_or(false) || self.header("transfer-encoding").is_some()
    }
}

/// Why a request head was refused; each maps to one status.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Refusal {
    /// Not HTTP/1.x, or a line that does not parse: 400.
    Malformed,
    /// More than [`MAX_HEAD_BYTES`] or [`MAX_HEADERS`]: 431.
    TooLarge,
}

/// Where the head in `buffer` ends (just past its blank line), if it is
/// complete. A head ended by bare line feeds counts as ended too, so that it
/// is refused as malformed at once rather than left to the idle limit.
pub fn head_end(buffer: &[u8]) -> Option<usize> {
    let crlf = buffer.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4);
    let bare = buffer.windows(2).position(|w| w == b"\n\n").map(|at| at + 2);
    match (crlf, bare) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Parses a complete head (the bytes up to and including its blank line).
pub fn parse_head(head: &[u8]) -> Result<Head, Refusal> {
    if head.len() > MAX_HEAD_BYTES {
        return Err(Refusal::TooLarge);
    }
    let text = std::str::from_utf8(head).map_err(|_| Refusal::Malformed)?;
    let mut lines = text.split("\r\n");
    let (method, target, version) = parse_request_line(lines.next().unwrap_or_default())?;
    let mut headers = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        if headers.len() == MAX_HEADERS {
            return Err(Refusal::TooLarge);
        }
        let (name, value) = line.split_once(':').ok_or(Refusal::Malformed)?;
        if name.is_empty() || name.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(Refusal::Malformed);
        }
        let value = value.trim();
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(Refusal::Malformed);
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    check_framing_headers(&headers)?;
    let connection =
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("connection")).map(|(_, v)| v.to_ascii_lowercase());
    let keep_alive = match connection.as_deref() {
        Some(v) if v.contains("close") => false,
        Some(v) if v.contains("keep-alive") => true,
        _ => version == "HTTP/1.1",
    };
    Ok(Head { method: method.to_owned(), target: target.to_owned(), headers, keep_alive })
}

/// The headers whose repetition or bad value lets two parties read one
/// request differently (request smuggling, a second `Host`): at most one
/// `Host` and one `Content-Length`, and that one digits only.
fn check_framing_headers(headers: &[(String, String)]) -> Result<(), Refusal> {
    let count = |wanted: &str| headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(wanted)).count();
    if count("host") > 1 || count("content-length") > 1 {
        return Err(Refusal::Malformed);
    }
    let length = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length"));
    if length.is_some_and(|(_, v)| v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Refusal::Malformed);
    }
    Ok(())
}

fn parse_request_line(line: &str) -> Result<(&str, &str, &str), Refusal> {
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    let method_ok = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    if !method_ok || !target.starts_with('/') || !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Err(Refusal::Malformed);
    }
    Ok((method, target, version))
}

/// The reason phrase of the statuses this server sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// A complete response with a JSON body (omitted for `HEAD`, its length
/// still announced). Responses are never cached by anything in between.
pub fn response(status: u16, body: &[u8], keep_alive: bool, head_only: bool) -> Vec<u8> {
    let mut head = String::with_capacity(160);
    let _ = write!(
        head,
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: {}\r\n\r\n",
        reason(status),
        body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    let mut out = head.into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_get_parses_with_its_headers_and_keeps_the_connection() {
        let head =
            parse_head(b"GET /credentials/x HTTP/1.1\r\nHost: 127.0.0.1:9\r\nAuthorization:  abc \r\n\r\n").unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/credentials/x");
        assert_eq!(head.header("host"), Some("127.0.0.1:9"));
        assert_eq!(head.header("AUTHORIZATION"), Some("abc"));
        assert!(head.keep_alive);
        assert!(!head.has_body());
    }

    #[test]
    fn connection_close_and_http_1_0_end_the_connection() {
        assert!(!parse_head(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap().keep_alive);
        assert!(!parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
        assert!(parse_head(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap().keep_alive);
    }

    #[test]
    fn a_body_is_announced_by_its_length_or_its_encoding() {
        assert!(parse_head(b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").unwrap().has_body());
        assert!(parse_head(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap().has_body());
        assert!(!parse_head(b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").unwrap().has_body());
        assert!(!parse_head(b"GET / HTTP/1.1\r\nContent-Length: 000\r\n\r\n").unwrap().has_body());
    }

    #[test]
    fn malformed_heads_are_refused() {
        for head in [
            &b"GET /\r\n\r\n"[..],
            b"GET / HTTP/2\r\n\r\n",
            b"get / HTTP/1.1\r\n\r\n",
            b"GET x HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET / HTTP/1.1\r\nbad name: v\r\n\r\n",
            b"GET / HTTP/1.1\r\n\xff: v\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 126\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
            b"GET / HTTP/1.1\nHost: a\n\n",
        ] {
            assert_eq!(parse_head(head), Err(Refusal::Malformed), "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn heads_past_the_bounds_are_too_large() {
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(parse_head(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()), Err(Refusal::TooLarge));
        let enough: String = (0..MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert!(parse_head(format!("GET / HTTP/1.1\r\n{enough}\r\n").as_bytes()).is_ok());
        let long = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(parse_head(long.as_bytes()), Err(Refusal::TooLarge));
    }

    #[test]
    fn the_head_ends_after_the_blank_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nnext"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: a\n\n"), Some(24));
    }

    #[test]
    fn a_response_announces_its_length_and_omits_the_body_for_head() {
        let full = String::from_utf8(response(404, b"{}", true, false)).unwrap();
        assert!(full.starts_with("HTTP/1.1 404 Not Found\r\n"), "{full}");
        assert!(full.contains("Content-Length: 2\r\n") && full.contains("Connection: keep-alive\r\n"), "{full}");
        assert!(full.ends_with("\r\n\r\n{}"), "{full}");
        let head_only = String::from_utf8(response(200, b"{}", false, true)).unwrap();
        assert!(head_only.contains("Content-Length: 2\r\n") && head_only.ends_with("Connection: close\r\n\r\n"));
    }
}
