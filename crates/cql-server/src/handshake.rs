//! The connection handshake as pure logic: which opcode each connection state accepts, and
//! STARTUP option validation. Messages are Cassandra's, so clients and tests written against
//! Cassandra see the same text.
//!
//! States: `Uninitialized` (only OPTIONS and STARTUP), `Authenticating` (OPTIONS and
//! AUTH_RESPONSE), `Ready` (everything but STARTUP and AUTH_RESPONSE). OPTIONS is accepted
//! in every state because drivers use it as a heartbeat.

use meridian_cql_protocol::{Compression, Opcode, Startup};

/// Where a connection is in the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandshakeState {
    /// No STARTUP accepted yet.
    Uninitialized,
    /// STARTUP answered AUTHENTICATE; waiting for AUTH_RESPONSE.
    Authenticating,
    /// READY or AUTH_SUCCESS sent.
    Ready,
}

impl HandshakeState {
    /// `Ok` if a request with `opcode` may be processed now, else the PROTOCOL_ERROR message.
    /// Response opcodes are let through: decoding rejects them with a precise message.
    pub(crate) fn check(self, opcode: Opcode) -> Result<(), String> {
        let name = opcode.name();
        match (self, opcode) {
            (_, Opcode::Options) => Ok(()),
            (HandshakeState::Uninitialized, Opcode::Startup) => Ok(()),
            (HandshakeState::Uninitialized, op) if is_request(op) => Err(format!(
                "Unexpected message {name}, expecting STARTUP or OPTIONS"
            )),
            (HandshakeState::Authenticating, Opcode::AuthResponse) => Ok(()),
            (HandshakeState::Authenticating, op) if is_request(op) => Err(format!(
                "Unexpected message {name}, expecting SASL_RESPONSE"
            )),
            (HandshakeState::Ready, Opcode::Startup) => {
                Err("Unexpected message STARTUP, the connection is already initialized".to_owned())
            }
            (HandshakeState::Ready, Opcode::AuthResponse) => Err(
                "Unexpected message AUTH_RESPONSE, the connection is already authenticated"
                    .to_owned(),
            ),
            _ => Ok(()),
        }
    }
}

fn is_request(opcode: Opcode) -> bool {
    opcode.direction() == meridian_cql_protocol::Direction::Request
}

/// Validates STARTUP's options and returns the compression to use from now on.
///
/// Like Cassandra: `CQL_VERSION` is required and must be a version ≥ 3.0.0 (drivers send
/// "3.0.0", "3.4.x" or "4.0.0"); `COMPRESSION`, if present, must name lz4 or snappy (case
/// insensitive); every other key (DRIVER_NAME, APPLICATION_NAME, NO_COMPACT, ...) is ignored.
pub(crate) fn negotiate_startup(startup: &Startup) -> Result<Option<Compression>, String> {
    let Some(cql_version) = startup.get(Startup::CQL_VERSION) else {
        return Err("Missing value CQL_VERSION in STARTUP message".to_owned());
    };
    let Some(version) = CqlVersion::parse(cql_version) else {
        return Err(format!("Invalid version value: {cql_version}"));
    };
    if version.major < 3 {
        return Err(format!(
            "CQL version {cql_version} is not supported by the binary protocol (supported version are >= 3.0.0)"
        ));
    }
    match startup.get(Startup::COMPRESSION) {
        None => Ok(None),
        Some(name) => match Compression::from_name(name) {
            Some(compression) => Ok(Some(compression)),
            None => Err(format!(
                "Unknown compression algorithm: {}",
                name.to_lowercase()
            )),
        },
    }
}

/// A `major.minor[.patch][-pre][+build]` version, as Cassandra's `CassandraVersion` parses
/// it. Only the numeric part is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct CqlVersion {
    major: u32,
    minor: u32,
    patch: u32,
}

impl CqlVersion {
    fn parse(text: &str) -> Option<CqlVersion> {
        let numeric_end = text.find(['-', '+']).unwrap_or(text.len());
        let (numeric, suffix) = text.split_at(numeric_end);
        let suffix_ok = suffix
            .chars()
            .skip(1)
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' || c == '+')
            && suffix.len() != 1;
        if !suffix_ok {
            return None;
        }
        let mut parts = numeric.split('.');
        let number = |part: Option<&str>| -> Option<u32> {
            let part = part?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = match parts.next() {
            None => 0,
            some => number(some)?,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(CqlVersion {
            major,
            minor,
            patch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn startup(options: &[(&str, &str)]) -> Startup {
        Startup {
            options: options
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn versions_parse_like_cassandra() {
        let v = |s| CqlVersion::parse(s);
        assert_eq!(
            v("3.4.7"),
            Some(CqlVersion {
                major: 3,
                minor: 4,
                patch: 7
            })
        );
        assert_eq!(v("3.0").map(|v| v.patch), Some(0));
        assert_eq!(v("4.0.0").map(|v| v.major), Some(4));
        assert_eq!(v("3.0.0-beta1").map(|v| v.major), Some(3));
        assert_eq!(v("3.4.7+build.5").map(|v| v.minor), Some(4));
        for bad in [
            "", "3", "a.b.c", "3..0", "3.0.0.0", "3.0.0-", "-1.0", "3.0 ", "3.x",
        ] {
            assert_eq!(v(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn startup_accepts_driver_versions_and_compressions() {
        for cql in ["3.0.0", "3.4.7", "4.0.0", "3.0"] {
            assert_eq!(
                negotiate_startup(&startup(&[("CQL_VERSION", cql)])),
                Ok(None)
            );
        }
        assert_eq!(
            negotiate_startup(&startup(&[
                ("CQL_VERSION", "3.0.0"),
                ("COMPRESSION", "LZ4"),
                ("DRIVER_NAME", "x")
            ])),
            Ok(Some(Compression::Lz4))
        );
        assert_eq!(
            negotiate_startup(&startup(&[
                ("CQL_VERSION", "4.0.0"),
                ("COMPRESSION", "snappy")
            ])),
            Ok(Some(Compression::Snappy))
        );
    }

    #[test]
    fn startup_errors_use_cassandra_messages() {
        assert_eq!(
            negotiate_startup(&startup(&[])),
            Err("Missing value CQL_VERSION in STARTUP message".to_owned())
        );
        assert_eq!(
            negotiate_startup(&startup(&[("CQL_VERSION", "2.0.0")])),
            Err("CQL version 2.0.0 is not supported by the binary protocol (supported version are >= 3.0.0)".to_owned())
        );
        assert_eq!(
            negotiate_startup(&startup(&[("CQL_VERSION", "three")])),
            Err("Invalid version value: three".to_owned())
        );
        assert_eq!(
            negotiate_startup(&startup(&[
                ("CQL_VERSION", "3.0.0"),
                ("COMPRESSION", "ZSTD")
            ])),
            Err("Unknown compression algorithm: zstd".to_owned())
        );
    }

    #[test]
    fn state_machine_matches_cassandra() {
        use HandshakeState::*;
        assert_eq!(Uninitialized.check(Opcode::Options), Ok(()));
        assert_eq!(Uninitialized.check(Opcode::Startup), Ok(()));
        assert_eq!(
            Uninitialized.check(Opcode::Query),
            Err("Unexpected message QUERY, expecting STARTUP or OPTIONS".to_owned())
        );
        assert!(Uninitialized.check(Opcode::Register).is_err());
        assert!(Uninitialized.check(Opcode::AuthResponse).is_err());
        assert_eq!(Authenticating.check(Opcode::AuthResponse), Ok(()));
        assert_eq!(Authenticating.check(Opcode::Options), Ok(()));
        assert_eq!(
            Authenticating.check(Opcode::Execute),
            Err("Unexpected message EXECUTE, expecting SASL_RESPONSE".to_owned())
        );
        assert_eq!(
            Ready.check(Opcode::Startup),
            Err("Unexpected message STARTUP, the connection is already initialized".to_owned())
        );
        assert!(Ready.check(Opcode::AuthResponse).is_err());
        for op in [
            Opcode::Query,
            Opcode::Prepare,
            Opcode::Execute,
            Opcode::Batch,
            Opcode::Register,
        ] {
            assert_eq!(Ready.check(op), Ok(()));
        }
        // Response opcodes are left to the decoder.
        assert_eq!(Uninitialized.check(Opcode::Result), Ok(()));
    }
}
