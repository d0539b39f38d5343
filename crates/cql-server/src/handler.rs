//! The interface between the server and whatever executes statements.
//!
//! The server owns connections, framing, the handshake, limits and events. It passes the
//! statement-carrying requests (QUERY, PREPARE, EXECUTE, BATCH) to a [`RequestHandler`] and
//! sends back the [`ResponseMessage`] it returns. The server knows nothing about CQL
//! statements, schema or storage.
//!
//! See [`RequestHandler`] for sessions, concurrency, the authentication hook and panics.

use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use meridian_cql_protocol::wire::BytesMap;
use meridian_cql_protocol::{ProtocolVersion, Request, ResponseMessage, Startup, StreamId};

/// Frame-level facts about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The client's address.
    pub peer: SocketAddr,
    /// The connection's protocol version; the response is encoded in it.
    pub version: ProtocolVersion,
    /// The request's stream id (the response is sent on it).
    pub stream: StreamId,
    /// The client set the TRACING flag. Return a `tracing_id` in the response extras if the
    /// request was traced.
    pub tracing: bool,
    /// The request's custom payload (v4+), if any.
    pub custom_payload: Option<BytesMap>,
}

/// What a valid STARTUP leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupOutcome {
    /// Answer READY: requests may follow.
    Ready,
    /// Answer AUTHENTICATE with this authenticator class name (e.g.
    /// `org.apache.cassandra.auth.PasswordAuthenticator`); AUTH_RESPONSE must follow.
    Authenticate {
        /// The authenticator's class name.
        authenticator: String,
    },
}

/// The answer to one AUTH_RESPONSE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Send AUTH_CHALLENGE with this token; another AUTH_RESPONSE must follow.
    Challenge(Option<Bytes>),
    /// Send AUTH_SUCCESS with this final token; the connection is ready.
    Success(Option<Bytes>),
    /// Send an authentication ERROR (0x0100) with this message; the client may retry.
    Failure(String),
}

/// Executes the statements of CQL connections.
///
/// # Sessions and concurrency
///
/// Each connection gets one [`RequestHandler::Session`], created when the connection is
/// accepted and dropped when it is closed and its last request has finished. Requests of one
/// connection run **concurrently**, each in its own task, and are answered out of order, so
/// the session is shared: the handler receives `&Session`, and the server keeps it in an
/// `Arc`. Per-connection mutable state (the keyspace set by `USE`, the authenticated user)
/// therefore needs interior mutability, e.g. a `std::sync::Mutex<Option<String>>` for the
/// keyspace. Concurrent requests on one connection see a `USE` either before or after it, as
/// in Cassandra; drivers send `USE` alone and wait for its result.
///
/// # Cancellation
///
/// A `handle` future runs to completion even if its client disconnects (the answer is then
/// dropped). It is dropped unfinished only when a server shutdown's grace period runs out.
///
/// # Authentication hook
///
/// [`RequestHandler::startup`] decides, after a valid STARTUP, whether the connection is
/// ready at once (the default) or must authenticate (AUTHENTICATE with an authenticator
/// class name). [`RequestHandler::authenticate`] then answers each AUTH_RESPONSE token
/// (SASL) until it reports success or failure. No request reaches
/// [`RequestHandler::handle`] before that.
///
/// # Panics
///
/// A panic in any handler method is caught. In `handle` and `authenticate` it is answered
/// with a SERVER_ERROR on the request's stream and the connection carries on; in
/// `new_session` the connection is closed; in `startup` the STARTUP is answered with a
/// SERVER_ERROR.
pub trait RequestHandler: Send + Sync + 'static {
    /// Per-connection state (current keyspace, authenticated user, ...). Shared by the
    /// connection's concurrent requests, hence `Sync` and used through `&`.
    type Session: Send + Sync + 'static;

    /// Creates the state of a newly accepted connection.
    fn new_session(&self, peer: SocketAddr) -> Self::Session;

    /// Called after a STARTUP the server accepted (version and compression are valid).
    /// The default needs no authentication.
    fn startup(&self, session: &Self::Session, startup: &Startup) -> StartupOutcome {
        let _ = (session, startup);
        StartupOutcome::Ready
    }

    /// Answers an AUTH_RESPONSE token. Only called after [`RequestHandler::startup`] returned
    /// [`StartupOutcome::Authenticate`]; the default refuses every token.
    fn authenticate(
        &self,
        session: &Self::Session,
        token: Option<Bytes>,
    ) -> impl Future<Output = AuthOutcome> + Send {
        let _ = (session, token);
        std::future::ready(AuthOutcome::Failure(
            "Authentication is not configured on this server".to_owned(),
        ))
    }

    /// Executes a QUERY, PREPARE, EXECUTE or BATCH (only those reach the handler) and returns
    /// the response to send on `context.stream`. Errors are ERROR responses
    /// (`Response::Error`); the server adds nothing but the frame.
    fn handle(
        &self,
        session: &Self::Session,
        request: Request,
        context: RequestContext,
    ) -> impl Future<Output = ResponseMessage> + Send;
}
