//! Which answer a request gets: the security checks first, then the endpoint.
//!
//! 1. With a token, a request without it (header or query) is 401.
//! 2. An `Origin` naming another host than the request's `Host` is 403 (a page of
//!    another site driving the developer's browser); without a token a `Host` that
//!    is not loopback is 403 (DNS rebinding).
//! 3. A known path with another method is 405 (with `Allow`); an unknown path 404.

use std::sync::Arc;

use super::http::{Request, Response};
use super::server::Shared;
use super::{actions, json, pids, sample, table, tree};

/// The single page, embedded.
const PAGE: &str = include_str!("page.html");

/// What a connection does with a request.
pub(super) enum Answer {
    /// Writes this and closes.
    Response(Response),
    /// Streams server-sent events (`GET /api/events`).
    Events,
}

/// Answers `req` (see the module's steps).
pub(super) fn route(req: &Request, shared: &Arc<Shared>) -> Answer {
    if let Err(refused) = admit(req, shared) {
        return Answer::Response(refused);
    }
    let segments: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let get = req.method == "GET";
    let post = req.method == "POST";
    let resp = match segments.as_slice() {
        [] if get => page(),
        ["api", "config"] if get => config(shared),
        ["api", "system"] if get => sample::system(shared),
        ["api", "events"] if get => return Answer::Events,
        ["api", "processes"] if get => table::processes(req),
        ["api", "tree"] if get => tree::trees(),
        ["api", "process", pid] if get => match pids::find(pid) {
            Some(pid) => table::process(pid),
            None => no_such_process(),
        },
        ["api", "process", pid, action] if post && actions::known(action) => {
            actions::act(shared, pid, action, &req.body)
        }
        []
        | ["api", "config" | "system" | "events" | "processes" | "tree"]
        | ["api", "process", _] => not_allowed("GET"),
        ["api", "process", _, action] if actions::known(action) => not_allowed("POST"),
        _ => Response::error(404, "not found"),
    };
    Answer::Response(resp)
}

fn page() -> Response {
    Response {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: PAGE.as_bytes().to_vec(),
        headers: Vec::new(),
    }
}

fn config(shared: &Shared) -> Response {
    let mut out = String::new();
    json::Object::new(&mut out)
        .bool("actions", shared.config.actions)
        .str("version", env!("CARGO_PKG_VERSION"));
    Response::json(200, out)
}

pub(super) fn no_such_process() -> Response {
    Response::error(404, "no such process")
}

fn not_allowed(allow: &str) -> Response {
    Response::error(405, "method not allowed").with_header(format!("Allow: {allow}"))
}

/// Steps 1 and 2: `Err` with the refusal.
fn admit(req: &Request, shared: &Shared) -> Result<(), Response> {
    match &shared.config.token {
        Some(token) => {
            let bearer = req
                .authorization
                .as_deref()
                .and_then(|a| a.strip_prefix("Bearer "));
            let given = bearer.or(req.param("token"));
            if !given.is_some_and(|g| same(g.trim().as_bytes(), token.as_bytes())) {
                let refusal = Response::error(401, "a valid token is required");
                return Err(refusal.with_header("WWW-Authenticate: Bearer".into()));
            }
        }
        None => {
            if req.host.as_deref().is_some_and(|h| !loopback_host(h)) {
                return Err(Response::error(403, "not a loopback host"));
            }
        }
    }
    if let Some(origin) = &req.origin {
        let host = req.host.as_deref().unwrap_or("");
        let site = origin
            .strip_prefix("http://")
            .or(origin.strip_prefix("https://"));
        if site != Some(host) {
            return Err(Response::error(403, "cross-origin request"));
        }
    }
    Ok(())
}

/// Whether a `Host` header names this machine: `localhost` or a loopback address,
/// with or without a port.
pub(super) fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Compares in time that depends on the lengths only, not on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for h in [
            "localhost",
            "LOCALHOST:4000",
            "127.0.0.1",
            "127.0.0.1:80",
            "[::1]:4000",
            "[::1]",
        ] {
            assert!(loopback_host(h), "{h}");
        }
        for h in [
            "example.com",
            "evil.localhost.example:80",
            "10.0.0.1:4000",
            "[2001:db8::1]:1",
        ] {
            assert!(!loopback_host(h), "{h}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
        assert!(!same(b"", b"x"));
    }
}
