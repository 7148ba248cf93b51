//! HTTP/1.1 on a [`TcpStream`]: one request read under limits and a deadline, one
//! response written, then the connection closes (`Connection: close`; the page
//! makes a request a second at most, so keep-alive would save nothing worth its
//! state).
//!
//! 1. [`read_request`] reads into a buffer until `httparse` finds the end of the
//!    headers. Everything read counts against [`Limits::max_header_bytes`], and
//!    `httparse` is given [`Limits::max_headers`] slots: past either the answer is
//!    431. A request line or header `httparse` refuses is 400.
//! 2. The whole request, body included, must arrive within [`Limits::deadline`] of
//!    the connection's start: every read is given the time left as the socket's
//!    read timeout, so a client that sends half a request and stalls (slowloris)
//!    is dropped when the deadline passes, and holds only its own process till then.
//! 3. A body is read only with `Content-Length` and up to [`Limits::max_body`]
//!    (413 beyond); `Transfer-Encoding` is refused (400): the API's only body is a
//!    short text. A client that sent `Expect: 100-continue` is told to go on.
//! 4. The path and query are percent-decoded here; the routes see text.

use std::io;
use std::time::{Duration, Instant};

use beamlet_runtime::net::TcpStream;

/// What one request may take.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) max_header_bytes: usize,
    pub(super) max_headers: usize,
    pub(super) max_body: usize,
    pub(super) deadline: Duration,
}

/// A request the routes can answer.
#[derive(Debug)]
pub(super) struct Request {
    pub(super) method: String,
    /// The percent-decoded path, without the query.
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) authorization: Option<String>,
    pub(super) host: Option<String>,
    pub(super) origin: Option<String>,
    /// `Expect: 100-continue`: the client waits for a go before the body.
    expect_continue: bool,
    pub(super) body: Vec<u8>,
}

impl Request {
    /// The first value of the query parameter `key`.
    pub(super) fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(super) enum ReadError {
    /// The peer closed (or reset) before a complete request: nothing to answer.
    Closed,
    /// The deadline passed first: the connection is dropped without an answer.
    TimedOut,
    /// Not HTTP/1.x as `httparse` reads it, or a path that is not UTF-8: 400.
    Malformed,
    /// A `Transfer-Encoding` body: 400.
    Chunked,
    /// More header bytes than the limit: 431.
    HeadersTooLarge,
    /// More headers than the limit: 431.
    TooManyHeaders,
    /// A body over the limit: 413.
    BodyTooLarge,
}

impl ReadError {
    /// The answer the client gets before the connection closes, if any.
    pub(super) fn response(&self) -> Option<Response> {
        let (status, what) = match self {
            ReadError::Closed | ReadError::TimedOut => return None,
            ReadError::Malformed => (400, "malformed request"),
            ReadError::Chunked => (400, "transfer-encoding is not accepted"),
            ReadError::HeadersTooLarge => (431, "request headers too large"),
            ReadError::TooManyHeaders => (431, "too many request headers"),
            ReadError::BodyTooLarge => (413, "request body too large"),
        };
        Some(Response::error(status, what))
    }
}

/// Reads one request from `stream` (see the module's steps).
pub(super) fn read_request(stream: &TcpStream, limits: &Limits) -> Result<Request, ReadError> {
    let deadline = beamlet_runtime::now() + limits.deadline;
    let mut buf = Vec::with_capacity(1024);
    let (head_len, mut req) = loop {
        read_some(stream, &mut buf, deadline, limits.max_header_bytes)?;
        if let Some(parsed) = parse_head(&buf, limits)? {
            break parsed;
        }
        if buf.len() >= limits.max_header_bytes {
            return Err(ReadError::HeadersTooLarge);
        }
    };
    let length = req.body.len();
    if length > limits.max_body {
        return Err(ReadError::BodyTooLarge);
    }
    let mut body = buf.split_off(head_len);
    if req.expect_continue && body.len() < length {
        // curl asks this for bodies over 1 KiB and would otherwise wait a second.
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    while body.len() < length {
        read_some(stream, &mut body, deadline, length)?;
    }
    body.truncate(length);
    req.body = body;
    Ok(req)
}

/// Reads what is there (at most up to `cap` bytes in `buf`), waiting no later than
/// `deadline`.
fn read_some(
    stream: &TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
    cap: usize,
) -> Result<(), ReadError> {
    let left = deadline.saturating_duration_since(beamlet_runtime::now());
    if left.is_zero() {
        return Err(ReadError::TimedOut);
    }
    stream
        .set_read_timeout(Some(left))
        .map_err(|_| ReadError::Closed)?;
    let start = buf.len();
    let room = cap.saturating_sub(start).clamp(1, 4096);
    buf.resize(start + room, 0);
    let n = match stream.read(&mut buf[start..]) {
        Ok(0) => Err(ReadError::Closed),
        Ok(n) => Ok(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            Err(ReadError::TimedOut)
        }
        Err(_) => Err(ReadError::Closed),
    };
    buf.truncate(start + *n.as_ref().unwrap_or(&0));
    n.map(|_| ())
}

/// Parses the request head in `buf`: `None` if incomplete, else its length and the
/// request (with an empty body of the announced length, to be filled).
fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(usize, Request)>, ReadError> {
    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(ReadError::TooManyHeaders),
        Err(_) => return Err(ReadError::Malformed),
    };
    if head_len > limits.max_header_bytes {
        return Err(ReadError::HeadersTooLarge);
    }
    let (method, target) = match (parsed.method, parsed.path) {
        (Some(m), Some(t)) => (m.to_string(), t),
        _ => return Err(ReadError::Malformed),
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut req = Request {
        method,
        path: percent_decode(path, false).ok_or(ReadError::Malformed)?,
        query: parse_query(query).ok_or(ReadError::Malformed)?,
        authorization: None,
        host: None,
        origin: None,
        expect_continue: false,
        body: Vec::new(),
    };
    let mut length = 0;
    for h in parsed.headers.iter() {
        let text = || std::str::from_utf8(h.value).ok().map(str::to_string);
        match h.name.to_ascii_lowercase().as_str() {
            "authorization" => req.authorization = text(),
            "host" => req.host = text(),
            "origin" => req.origin = text(),
            "expect" => req.expect_continue = h.value.eq_ignore_ascii_case(b"100-continue"),
            "transfer-encoding" => return Err(ReadError::Chunked),
            "content-length" => {
                let v = std::str::from_utf8(h.value).ok();
                length = v
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .ok_or(ReadError::Malformed)?;
            }
            _ => {}
        }
    }
    // The announced length rides in the body's length until the body is read.
    req.body = vec![0; length.min(limits.max_body + 1)];
    Ok(Some((head_len, req)))
}

/// Splits a query string into decoded `key=value` pairs (`+` is a space); `None`
/// if an escape is bad or the text is not UTF-8.
pub(super) fn parse_query(query: &str) -> Option<Vec<(String, String)>> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k, true)?, percent_decode(v, true)?))
        })
        .collect()
}

/// Decodes `%XX` escapes (and `+` as a space if `plus`); `None` if an escape is
/// bad or the result is not UTF-8.
pub(super) fn percent_decode(s: &str, plus: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A response to write.
#[derive(Debug)]
pub(super) struct Response {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) body: Vec<u8>,
    /// Further header lines, each `Name: value`.
    pub(super) headers: Vec<String>,
}

impl Response {
    /// A JSON answer.
    pub(super) fn json(status: u16, body: String) -> Response {
        Response {
            status,
            content_type: "application/json",
            body: body.into_bytes(),
            headers: Vec::new(),
        }
    }

    /// A JSON `{"error": what}` answer.
    pub(super) fn error(status: u16, what: &str) -> Response {
        Response::json(status, super::json::error(what))
    }

    /// The same response with the header line `line` added.
    pub(super) fn with_header(mut self, line: String) -> Response {
        self.headers.push(line);
        self
    }
}

/// The reason phrase of the statuses the server gives.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

/// The status line and headers of `status` with `content_type`; `length` is the
/// body's, or `None` for a stream (server-sent events), which has none.
pub(super) fn head(status: u16, content_type: &str, length: Option<usize>) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nCache-Control: no-store\r\n\
         X-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        reason(status)
    );
    if let Some(n) = length {
        head.push_str(&format!("Content-Length: {n}\r\n"));
    }
    head
}

/// Writes `resp` whole to `stream`.
pub(super) fn write_response(stream: &TcpStream, resp: &Response) -> io::Result<()> {
    let mut out = head(resp.status, resp.content_type, Some(resp.body.len())).into_bytes();
    for line in &resp.headers {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&resp.body);
    stream.write_all(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_header_bytes: 256,
        max_headers: 4,
        max_body: 8,
        deadline: Duration::from_secs(1),
    };

    #[test]
    fn queries_split_and_decode() {
        let q = parse_query("sort=memory&filter=a+b%21&&flag").unwrap();
        let want = [("sort", "memory"), ("filter", "a b!"), ("flag", "")];
        let want: Vec<_> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(q, want);
        assert_eq!(parse_query("").unwrap(), vec![]);
        assert_eq!(parse_query("x=%zz"), None, "a bad escape");
        assert_eq!(parse_query("x=%ff"), None, "not UTF-8");
        assert_eq!(parse_query("x=%4"), None, "a cut escape");
    }

    #[test]
    fn paths_decode_but_keep_plus() {
        assert_eq!(
            percent_decode("/api/process/%3C1.2.3%3E", false).unwrap(),
            "/api/process/<1.2.3>"
        );
        assert_eq!(percent_decode("/a+b", false).unwrap(), "/a+b");
        assert_eq!(percent_decode("%C3%A9", false).unwrap(), "é");
    }

    #[test]
    fn heads_parse_with_their_limits() {
        let raw = b"POST /api/x?token=t HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
        let (n, req) = parse_head(raw, &LIMITS).unwrap().unwrap();
        assert_eq!(&raw[n..], b"abc");
        assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/api/x"));
        assert_eq!(req.param("token"), Some("t"));
        assert_eq!(req.host.as_deref(), Some("h"));
        assert_eq!(req.body.len(), 3, "the announced length");

        assert!(
            parse_head(b"GET / HTTP/1.1\r\nHost:", &LIMITS)
                .unwrap()
                .is_none()
        );
        let bad = parse_head(b"GET\x01/ HTTP/1.1\r\n\r\n", &LIMITS);
        assert!(matches!(bad, Err(ReadError::Malformed)));
        let many = b"GET / HTTP/1.1\r\na: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\ne: 1\r\n\r\n";
        assert!(matches!(
            parse_head(many, &LIMITS),
            Err(ReadError::TooManyHeaders)
        ));
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(
            parse_head(chunked, &LIMITS),
            Err(ReadError::Chunked)
        ));
        let length = b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n";
        assert!(matches!(
            parse_head(length, &LIMITS),
            Err(ReadError::Malformed)
        ));
    }

    #[test]
    fn heads_carry_the_status_and_length() {
        let h = head(404, "application/json", Some(2));
        assert!(h.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(h.contains("Content-Length: 2\r\n"));
        assert!(h.contains("Cache-Control: no-store\r\n"));
        assert!(!head(200, "text/event-stream", None).contains("Content-Length"));
    }
}
