//! A minimal blocking HTTP/1.1 GET client over `std::net::TcpStream`, for reading a
//! node's admin API (`/v1/health`, `/v1/cluster`) from `meridian cluster`.
//!
//! Invariants: one request per connection (`Connection: close`); the whole exchange is
//! bounded by the given timeout and the response by [`MAX_RESPONSE_BYTES`]; any malformed
//! response is an error, never a panic. Bodies may be `Content-Length`-delimited, chunked,
//! or delimited by the connection closing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Largest response (head and body) accepted.
pub const MAX_RESPONSE_BYTES: usize = 8 << 20;
/// Largest response head accepted.
const MAX_HEAD_BYTES: usize = 64 << 10;

/// A response: status code and decoded body.
#[derive(Debug)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

/// Why a GET failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No connection could be made.
    #[error("connect to {addr}: {source}")]
    Connect {
        /// The server address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The exchange failed after connecting.
    #[error("talk to {addr}: {source}")]
    Io {
        /// The server address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The whole exchange took longer than allowed.
    #[error("{addr} did not answer within {timeout_ms} ms")]
    TimedOut {
        /// The server address.
        addr: SocketAddr,
        /// The limit.
        timeout_ms: u128,
    },
    /// The response exceeded [`MAX_RESPONSE_BYTES`].
    #[error("{addr} sent more than {limit_bytes} bytes")]
    TooLarge {
        /// The server address.
        addr: SocketAddr,
        /// The limit.
        limit_bytes: usize,
    },
    /// The response is not valid HTTP/1.x.
    #[error("{addr} sent a malformed HTTP response: {reason}")]
    Malformed {
        /// The server address.
        addr: SocketAddr,
        /// What is wrong.
        reason: &'static str,
    },
}

/// `GET path` on `addr`, all within `timeout`.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Response, HttpError> {
    let deadline = Instant::now() + timeout;
    let timed_out = || HttpError::TimedOut {
        addr,
        timeout_ms: timeout.as_millis(),
    };
    let io = |source| HttpError::Io { addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|source| HttpError::Connect { addr, source })?;
    let remaining = |deadline: Instant| {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    };
    stream
        .set_write_timeout(Some(remaining(deadline).ok_or_else(timed_out)?))
        .map_err(io)?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(io)?;

    let mut raw = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let left = remaining(deadline).ok_or_else(timed_out)?;
        stream.set_read_timeout(Some(left)).map_err(io)?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                if raw.len() + n > MAX_RESPONSE_BYTES {
                    return Err(HttpError::TooLarge {
                        addr,
                        limit_bytes: MAX_RESPONSE_BYTES,
                    });
                }
                raw.extend_from_slice(&chunk[..n]);
                // Stop as soon as a delimited body is complete (the server may keep the
                // connection open a little longer than that).
                if let Ok(Some(response)) = parse(&raw) {
                    return Ok(response);
                }
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return Err(timed_out());
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    match parse(&raw) {
        Ok(Some(response)) => Ok(response),
        Ok(None) => parse_until_close(&raw).map_err(|reason| HttpError::Malformed { addr, reason }),
        Err(reason) => Err(HttpError::Malformed { addr, reason }),
    }
}

/// How the body of a response is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

struct Head {
    status: u16,
    framing: Framing,
    body_start: usize,
}

/// Parses the head, if complete.
fn parse_head(raw: &[u8]) -> Result<Option<Head>, &'static str> {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if raw.len() > MAX_HEAD_BYTES {
            Err("response head too large")
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err("not an HTTP/1.x status line");
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..1000).contains(s))
        .ok_or("bad status code")?;
    let mut framing = Framing::UntilClose;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or("header line without ':'")?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            if value.eq_ignore_ascii_case("chunked") {
                framing = Framing::Chunked;
            } else {
                return Err("unsupported transfer encoding");
            }
        } else if name.eq_ignore_ascii_case("content-length")
            && !matches!(framing, Framing::Chunked)
        {
            let length = value.parse::<usize>().map_err(|_| "bad content-length")?;
            if length > MAX_RESPONSE_BYTES {
                return Err("content-length over the response limit");
            }
            framing = Framing::Length(length);
        }
    }
    Ok(Some(Head {
        status,
        framing,
        body_start: end + 4,
    }))
}

/// The response if `raw` holds a complete one whose body is delimited in-band.
fn parse(raw: &[u8]) -> Result<Option<Response>, &'static str> {
    let Some(head) = parse_head(raw)? else {
        return Ok(None);
    };
    let body = raw.get(head.body_start..).unwrap_or_default();
    // Informational and no-content statuses carry no body.
    if head.status < 200 || head.status == 204 || head.status == 304 {
        return Ok(Some(Response {
            status: head.status,
            body: Vec::new(),
        }));
    }
    match head.framing {
        Framing::Length(n) => Ok(body.get(..n).map(|b| Response {
            status: head.status,
            body: b.to_vec(),
        })),
        Framing::Chunked => Ok(dechunk(body)?.map(|b| Response {
            status: head.status,
            body: b,
        })),
        Framing::UntilClose => Ok(None),
    }
}

/// The response once the server has closed the connection.
fn parse_until_close(raw: &[u8]) -> Result<Response, &'static str> {
    let head = parse_head(raw)?.ok_or("connection closed before the end of the head")?;
    match head.framing {
        Framing::UntilClose => Ok(Response {
            status: head.status,
            body: raw.get(head.body_start..).unwrap_or_default().to_vec(),
        }),
        Framing::Length(_) | Framing::Chunked => {
            Err("connection closed before the end of the body")
        }
    }
}

/// Decodes a chunked body; `None` while incomplete.
fn dechunk(mut data: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") else {
            return if data.len() > 1024 {
                Err("chunk size line too long")
            } else {
                Ok(None)
            };
        };
        let line = std::str::from_utf8(&data[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        if size > MAX_RESPONSE_BYTES {
            return Err("chunk over the response limit");
        }
        data = &data[line_end + 2..];
        if size == 0 {
            // Trailers are not used by the admin API; the final CRLF may still be in flight.
            return Ok(Some(out));
        }
        let Some(chunk) = data.get(..size) else {
            return Ok(None);
        };
        out.extend_from_slice(chunk);
        match data.get(size..size + 2) {
            None => return Ok(None),
            Some(b"\r\n") => data = &data[size + 2..],
            Some(_) => return Err("chunk not followed by CRLF"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Serves `reply` to one connection after reading the request head.
    fn one_shot(reply: &'static [u8], close: bool) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    return;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            s.write_all(reply).unwrap();
            if !close {
                std::thread::sleep(Duration::from_secs(3));
            }
        });
        addr
    }

    const T: Duration = Duration::from_secs(2);

    #[test]
    fn content_length_body_is_read_without_waiting_for_close() {
        let addr = one_shot(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
        let r = get(addr, "/v1/health", T).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
    }

    #[test]
    fn chunked_and_close_delimited_bodies() {
        let addr = one_shot(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            true,
        );
        assert_eq!(get(addr, "/", T).unwrap().body, b"abcde");
        let addr = one_shot(b"HTTP/1.0 503 Busy\r\n\r\nlater", true);
        let r = get(addr, "/", T).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (503, &b"later"[..]));
    }

    #[test]
    fn malformed_truncated_and_slow_responses_are_errors() {
        let addr = one_shot(b"SSH-2.0-OpenSSH\r\n\r\n", true);
        assert!(matches!(
            get(addr, "/", T),
            Err(HttpError::Malformed { .. })
        ));
        let addr = one_shot(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true);
        assert!(matches!(
            get(addr, "/", T),
            Err(HttpError::Malformed { .. })
        ));
        let addr = one_shot(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", false);
        let err = get(addr, "/", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, HttpError::TimedOut { .. }), "{err}");
        let addr = one_shot(
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
            true,
        );
        assert!(matches!(
            get(addr, "/", T),
            Err(HttpError::Malformed { .. })
        ));
    }

    #[test]
    fn refused_connection_is_a_connect_error() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(matches!(get(addr, "/", T), Err(HttpError::Connect { .. })));
    }

    #[test]
    fn dechunk_never_panics_on_garbage() {
        for input in [
            &b"zz\r\n"[..],
            b"5\r\nab",
            b"2\r\nabXY",
            b"\r\n",
            b"ffffffffffffffffffff\r\n",
        ] {
            let _ = dechunk(input);
        }
        assert_eq!(dechunk(b"2\r\nab").unwrap(), None);
        assert!(dechunk(b"2\r\nabXY").is_err());
    }
}
