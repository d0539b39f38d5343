//! Errors of internode messaging: local failures ([`NetError`]) and errors a remote handler
//! returned ([`RemoteError`], carried in an error response).

use std::fmt;
use std::io;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Lane, Verb};

/// Why a message could not be sent or a request did not complete.
#[derive(Debug, Error)]
pub enum NetError {
    /// No response arrived within the request's timeout. The request may have been applied.
    #[error("{verb} to {to} timed out after {timeout_ms} ms")]
    Timeout {
        /// The destination.
        to: SocketAddr,
        /// The request's verb.
        verb: Verb,
        /// The timeout that elapsed.
        timeout_ms: u64,
    },
    /// No connection could be established; the message was never sent.
    #[error("cannot connect to {to}: {reason}")]
    ConnectionFailed {
        /// The destination.
        to: SocketAddr,
        /// What failed (connect error, timeout, malformed handshake).
        reason: String,
    },
    /// The connection closed after the request was sent and before its response arrived:
    /// the request may or may not have been applied.
    #[error("connection to {to} closed before the response arrived")]
    ConnectionClosed {
        /// The destination.
        to: SocketAddr,
    },
    /// The destination refused the connection handshake (different cluster, no common
    /// protocol version, host id conflict); the message was never sent.
    #[error("{to} refused the connection: {reason}")]
    HandshakeRejected {
        /// The destination.
        to: SocketAddr,
        /// The destination's explanation.
        reason: String,
    },
    /// The remote handler answered with an error.
    #[error("{from} failed {verb}: {error}")]
    Remote {
        /// The node that answered.
        from: SocketAddr,
        /// The request's verb.
        verb: Verb,
        /// What the handler returned.
        error: RemoteError,
    },
    /// The outbound queue of the lane to the destination is full; nothing was queued.
    #[error("{lane} queue to {to} is full: {queued_bytes} of {limit_bytes} bytes queued")]
    Overloaded {
        /// The destination.
        to: SocketAddr,
        /// The lane whose queue is full.
        lane: Lane,
        /// Bytes queued when the message was refused.
        queued_bytes: usize,
        /// The lane's limit.
        limit_bytes: usize,
    },
    /// Too many requests are awaiting responses on this node.
    #[error("too many requests awaiting responses (limit {limit})")]
    TooManyPending {
        /// The configured limit.
        limit: usize,
    },
    /// The body is larger than a frame can carry.
    #[error("message body of {size_bytes} bytes exceeds the maximum of {max_bytes} bytes")]
    MessageTooLarge {
        /// The body's size.
        size_bytes: usize,
        /// The largest body allowed.
        max_bytes: usize,
    },
    /// The peer sent something the protocol does not allow (the connection was closed).
    #[error("{peer} violated the internode protocol: {reason}")]
    Protocol {
        /// The peer.
        peer: SocketAddr,
        /// What was wrong.
        reason: String,
    },
    /// Messaging has been shut down.
    #[error("internode messaging is shut down")]
    Shutdown,
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The configured listen address.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The configuration is unusable.
    #[error("invalid internode messaging configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
}

/// The category of a [`RemoteError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RemoteErrorKind {
    /// The receiver has no handler for the verb.
    UnknownVerb,
    /// The body could not be decoded or was invalid.
    InvalidRequest,
    /// The receiver is overloaded and refused the work.
    Overloaded,
    /// The handler failed (including a panic).
    Internal,
    /// A failure defined by the module that owns the verb.
    Application(u16),
}

/// An error returned by a remote handler, sent back in an error response. The wire encoding
/// is postcard; new kinds are only ever appended.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
pub struct RemoteError {
    /// The category.
    pub kind: RemoteErrorKind,
    /// A human-readable explanation.
    pub message: String,
}

impl RemoteError {
    /// An error of `kind` with `message`.
    pub fn new(kind: RemoteErrorKind, message: impl Into<String>) -> RemoteError {
        RemoteError {
            kind,
            message: message.into(),
        }
    }

    /// The receiver does not handle `verb`.
    pub fn unknown_verb(verb: Verb) -> RemoteError {
        RemoteError::new(
            RemoteErrorKind::UnknownVerb,
            format!("no handler for {verb}"),
        )
    }

    /// The handler failed.
    pub fn internal(message: impl Into<String>) -> RemoteError {
        RemoteError::new(RemoteErrorKind::Internal, message)
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            RemoteErrorKind::UnknownVerb => write!(f, "unknown verb: {}", self.message),
            RemoteErrorKind::InvalidRequest => write!(f, "invalid request: {}", self.message),
            RemoteErrorKind::Overloaded => write!(f, "overloaded: {}", self.message),
            RemoteErrorKind::Internal => write!(f, "internal error: {}", self.message),
            RemoteErrorKind::Application(code) => {
                write!(f, "application error {code}: {}", self.message)
            }
        }
    }
}
