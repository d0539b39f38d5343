//! EVENT bodies (§4.2.6) and the schema change description shared with the
//! `Schema_change` RESULT (§4.2.5.5).
//!
//! In v3 the FUNCTION and AGGREGATE targets do not exist; like Cassandra, a change to one is
//! reported to a v3 client as `UPDATED KEYSPACE <keyspace>`.

use std::net::SocketAddr;

use bytes::BytesMut;

use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;
use crate::wire::{self, Reader};

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire string.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value for a wire string (exact, upper case).
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            fn read(reader: &mut Reader) -> Result<Self, DecodeError> {
                let value = reader.read_string()?;
                Self::from_name(&value).ok_or(DecodeError::UnknownName { what: $what, value })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named_enum!(
    /// Event types a connection can REGISTER for.
    EventType, "event type" {
        /// `TOPOLOGY_CHANGE`.
        TopologyChange => "TOPOLOGY_CHANGE",
        /// `STATUS_CHANGE`.
        StatusChange => "STATUS_CHANGE",
        /// `SCHEMA_CHANGE`.
        SchemaChange => "SCHEMA_CHANGE",
    }
);

named_enum!(
    /// Kind of a TOPOLOGY_CHANGE.
    TopologyChangeType, "topology change type" {
        /// `NEW_NODE`.
        NewNode => "NEW_NODE",
        /// `REMOVED_NODE`.
        RemovedNode => "REMOVED_NODE",
        /// `MOVED_NODE` (sent by Cassandra, handled by drivers, absent from the v4 text).
        MovedNode => "MOVED_NODE",
    }
);

named_enum!(
    /// Kind of a STATUS_CHANGE.
    StatusChangeType, "status change type" {
        /// `UP`.
        Up => "UP",
        /// `DOWN`.
        Down => "DOWN",
    }
);

named_enum!(
    /// Kind of a schema change.
    SchemaChangeType, "schema change type" {
        /// `CREATED`.
        Created => "CREATED",
        /// `UPDATED`.
        Updated => "UPDATED",
        /// `DROPPED`.
        Dropped => "DROPPED",
    }
);

/// What a schema change applies to, with its `<options>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SchemaChangeTarget {
    /// `KEYSPACE`: the keyspace.
    Keyspace {
        /// Keyspace name.
        keyspace: String,
    },
    /// `TABLE` (also index and view changes): keyspace and table.
    Table {
        /// Keyspace name.
        keyspace: String,
        /// Table name.
        table: String,
    },
    /// `TYPE`: keyspace and user type.
    Type {
        /// Keyspace name.
        keyspace: String,
        /// Type name.
        type_name: String,
    },
    /// `FUNCTION` (v4+): keyspace, name and argument types.
    Function {
        /// Keyspace name.
        keyspace: String,
        /// Function name.
        name: String,
        /// CQL argument types.
        arg_types: Vec<String>,
    },
    /// `AGGREGATE` (v4+): keyspace, name and argument types.
    Aggregate {
        /// Keyspace name.
        keyspace: String,
        /// Aggregate name.
        name: String,
        /// CQL argument types.
        arg_types: Vec<String>,
    },
}

impl SchemaChangeTarget {
    /// The `<target>` string.
    pub fn name(&self) -> &'static str {
        match self {
            SchemaChangeTarget::Keyspace { .. } => "KEYSPACE",
            SchemaChangeTarget::Table { .. } => "TABLE",
            SchemaChangeTarget::Type { .. } => "TYPE",
            SchemaChangeTarget::Function { .. } => "FUNCTION",
            SchemaChangeTarget::Aggregate { .. } => "AGGREGATE",
        }
    }

    /// The keyspace the change is in.
    pub fn keyspace(&self) -> &str {
        match self {
            SchemaChangeTarget::Keyspace { keyspace }
            | SchemaChangeTarget::Table { keyspace, .. }
            | SchemaChangeTarget::Type { keyspace, .. }
            | SchemaChangeTarget::Function { keyspace, .. }
            | SchemaChangeTarget::Aggregate { keyspace, .. } => keyspace,
        }
    }
}

/// `<change_type><target><options>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemaChange {
    /// Created, updated or dropped.
    pub change_type: SchemaChangeType,
    /// What changed.
    pub target: SchemaChangeTarget,
}

impl SchemaChange {
    /// Appends the body (without the event type string).
    pub fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        if version < ProtocolVersion::V4 {
            if let SchemaChangeTarget::Function { keyspace, .. }
            | SchemaChangeTarget::Aggregate { keyspace, .. } = &self.target
            {
                wire::write_string(dst, SchemaChangeType::Updated.name())?;
                wire::write_string(dst, "KEYSPACE")?;
                return wire::write_string(dst, keyspace);
            }
        }
        wire::write_string(dst, self.change_type.name())?;
        wire::write_string(dst, self.target.name())?;
        match &self.target {
            SchemaChangeTarget::Keyspace { keyspace } => wire::write_string(dst, keyspace),
            SchemaChangeTarget::Table {
                keyspace,
                table: name,
            }
            | SchemaChangeTarget::Type {
                keyspace,
                type_name: name,
            } => {
                wire::write_string(dst, keyspace)?;
                wire::write_string(dst, name)
            }
            SchemaChangeTarget::Function {
                keyspace,
                name,
                arg_types,
            }
            | SchemaChangeTarget::Aggregate {
                keyspace,
                name,
                arg_types,
            } => {
                wire::write_string(dst, keyspace)?;
                wire::write_string(dst, name)?;
                wire::write_string_list(dst, arg_types)
            }
        }
    }

    /// Reads the body (without the event type string).
    pub fn decode(reader: &mut Reader) -> Result<Self, DecodeError> {
        let change_type = SchemaChangeType::read(reader)?;
        let target_name = reader.read_string()?;
        let target = match target_name.as_str() {
            "KEYSPACE" => SchemaChangeTarget::Keyspace {
                keyspace: reader.read_string()?,
            },
            "TABLE" => SchemaChangeTarget::Table {
                keyspace: reader.read_string()?,
                table: reader.read_string()?,
            },
            "TYPE" => SchemaChangeTarget::Type {
                keyspace: reader.read_string()?,
                type_name: reader.read_string()?,
            },
            "FUNCTION" => SchemaChangeTarget::Function {
                keyspace: reader.read_string()?,
                name: reader.read_string()?,
                arg_types: reader.read_string_list()?,
            },
            "AGGREGATE" => SchemaChangeTarget::Aggregate {
                keyspace: reader.read_string()?,
                name: reader.read_string()?,
                arg_types: reader.read_string_list()?,
            },
            _ => {
                return Err(DecodeError::UnknownName {
                    what: "schema change target",
                    value: target_name,
                })
            }
        };
        Ok(SchemaChange {
            change_type,
            target,
        })
    }
}

/// A server-pushed event (sent on stream -1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// `TOPOLOGY_CHANGE`: a node joined, left or moved.
    TopologyChange {
        /// What happened.
        change: TopologyChangeType,
        /// The node's native-protocol address (rpc address and port).
        address: SocketAddr,
    },
    /// `STATUS_CHANGE`: a node went up or down.
    StatusChange {
        /// What happened.
        change: StatusChangeType,
        /// The node's native-protocol address.
        address: SocketAddr,
    },
    /// `SCHEMA_CHANGE`.
    SchemaChange(SchemaChange),
}

impl Event {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        match self {
            Event::TopologyChange { .. } => EventType::TopologyChange,
            Event::StatusChange { .. } => EventType::StatusChange,
            Event::SchemaChange(_) => EventType::SchemaChange,
        }
    }

    /// Appends the EVENT body.
    pub fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        wire::write_string(dst, self.event_type().name())?;
        match self {
            Event::TopologyChange { change, address } => {
                wire::write_string(dst, change.name())?;
                wire::write_inet(dst, *address);
                Ok(())
            }
            Event::StatusChange { change, address } => {
                wire::write_string(dst, change.name())?;
                wire::write_inet(dst, *address);
                Ok(())
            }
            Event::SchemaChange(change) => change.encode(dst, version),
        }
    }

    /// Reads an EVENT body.
    pub fn decode(reader: &mut Reader) -> Result<Self, DecodeError> {
        Ok(match EventType::read(reader)? {
            EventType::TopologyChange => Event::TopologyChange {
                change: TopologyChangeType::read(reader)?,
                address: reader.read_inet()?,
            },
            EventType::StatusChange => Event::StatusChange {
                change: StatusChangeType::read(reader)?,
                address: reader.read_inet()?,
            },
            EventType::SchemaChange => Event::SchemaChange(SchemaChange::decode(reader)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn status_change_golden_bytes() {
        let event = Event::StatusChange {
            change: StatusChangeType::Up,
            address: "127.0.0.2:9042".parse().unwrap(),
        };
        let mut buf = BytesMut::new();
        event.encode(&mut buf, ProtocolVersion::V4).unwrap();
        let mut expected = vec![0, 13];
        expected.extend_from_slice(b"STATUS_CHANGE");
        expected.extend_from_slice(&[0, 2, b'U', b'P', 4, 127, 0, 0, 2, 0, 0, 0x23, 0x52]);
        assert_eq!(&buf[..], &expected[..]);
        assert_eq!(Event::decode(&mut Reader::new(buf.freeze())), Ok(event));
    }

    #[test]
    fn function_change_downgraded_for_v3() {
        let change = SchemaChange {
            change_type: SchemaChangeType::Created,
            target: SchemaChangeTarget::Function {
                keyspace: "ks".into(),
                name: "f".into(),
                arg_types: vec!["int".into()],
            },
        };
        let mut v4 = BytesMut::new();
        change.encode(&mut v4, ProtocolVersion::V4).unwrap();
        assert_eq!(
            SchemaChange::decode(&mut Reader::new(v4.freeze())),
            Ok(change.clone())
        );
        let mut v3 = BytesMut::new();
        change.encode(&mut v3, ProtocolVersion::V3).unwrap();
        assert_eq!(
            SchemaChange::decode(&mut Reader::new(v3.freeze())),
            Ok(SchemaChange {
                change_type: SchemaChangeType::Updated,
                target: SchemaChangeTarget::Keyspace {
                    keyspace: "ks".into()
                },
            })
        );
    }

    #[test]
    fn unknown_names_rejected() {
        let mut buf = BytesMut::new();
        wire::write_string(&mut buf, "SCHEMA_CHANGE").unwrap();
        wire::write_string(&mut buf, "CREATED").unwrap();
        wire::write_string(&mut buf, "INDEX").unwrap();
        assert!(matches!(
            Event::decode(&mut Reader::new(buf.freeze())),
            Err(DecodeError::UnknownName {
                what: "schema change target",
                ..
            })
        ));
        assert!(Event::decode(&mut Reader::new(Bytes::from_static(&[0, 1, b'X']))).is_err());
    }
}
