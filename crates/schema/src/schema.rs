//! [`Schema`]: every keyspace (system and user) with its tables and types, lookups, the
//! schema version digest, and type resolution for DDL.
//!
//! Invariants: the system keyspaces of [`crate::system::system_keyspaces`] are always
//! present and never change through this API; user keyspaces change only through the
//! validated DDL methods (see `ddl`), so every table satisfies the invariants documented on
//! [`TableMetadata`].
//!
//! The version ([`Schema::version`]) is a digest of the distributed keyspaces (user keyspaces
//! and the replicated system keyspaces; like Cassandra's, it leaves out the node-local system
//! keyspaces): two nodes holding the same schema report the same version regardless of the
//! order in which it was built. It is cached and recomputed after every applied change.

use std::collections::BTreeMap;

use meridian_types::cql_type::{parse_cql_type, CqlType, TypeError};
use meridian_types::model::TableId;

use crate::error::SchemaError;
use crate::keyspace::{KeyspaceSchema, UserType};
use crate::persist::SchemaDto;
use crate::system::{is_builtin_keyspace, system_keyspaces, REPLICATED_SYSTEM_KEYSPACES};
use crate::table::{name_uuid_from_bytes, TableMetadata};

/// Salt mixed into the version digest, so that Meridian versions never collide with the
/// digest of an empty input.
const VERSION_SALT: &[u8] = b"meridian/schema-version/v1\0";

/// The whole schema of a node.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub(crate) keyspaces: BTreeMap<String, KeyspaceSchema>,
    /// [`Schema::version`], recomputed after every applied change.
    version: uuid::Uuid,
}

impl Default for Schema {
    fn default() -> Self {
        Schema::new()
    }
}

impl Schema {
    /// A schema holding only the system keyspaces.
    pub fn new() -> Schema {
        let mut schema = Schema {
            keyspaces: system_keyspaces()
                .into_iter()
                .map(|ks| (ks.metadata.name.clone(), ks))
                .collect(),
            version: uuid::Uuid::nil(),
        };
        schema.refresh_version();
        schema
    }

    /// All keyspaces (system, virtual and user) by name.
    pub fn keyspaces(&self) -> &BTreeMap<String, KeyspaceSchema> {
        &self.keyspaces
    }

    /// The keyspace `name`.
    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceSchema> {
        self.keyspaces.get(name)
    }

    /// User (non-system) keyspaces in name order.
    pub fn user_keyspaces(&self) -> impl Iterator<Item = &KeyspaceSchema> {
        self.keyspaces
            .values()
            .filter(|ks| !is_builtin_keyspace(&ks.metadata.name))
    }

    /// The keyspaces that are replicated schema: user keyspaces and the replicated system
    /// keyspaces (`system_auth`, `system_distributed`, `system_traces`, whose replication
    /// and table options users may alter). These are persisted and digested into the
    /// version; the local (`system`, `system_schema`) and virtual keyspaces are part of the
    /// code.
    pub fn distributed_keyspaces(&self) -> impl Iterator<Item = &KeyspaceSchema> {
        self.keyspaces.values().filter(|ks| {
            let name = ks.metadata.name.as_str();
            !is_builtin_keyspace(name) || REPLICATED_SYSTEM_KEYSPACES.contains(&name)
        })
    }

    /// The table `keyspace.table`.
    pub fn table(&self, keyspace: &str, table: &str) -> Option<&TableMetadata> {
        self.keyspaces.get(keyspace)?.tables.get(table)
    }

    /// The table with id `id`.
    pub fn table_by_id(&self, id: TableId) -> Option<&TableMetadata> {
        self.keyspaces
            .values()
            .flat_map(|ks| ks.tables.values())
            .find(|t| t.id == id)
    }

    /// The user-defined type `keyspace.name`.
    pub fn user_type(&self, keyspace: &str, name: &str) -> Option<&UserType> {
        self.keyspaces.get(keyspace)?.types.get(name)
    }

    /// Resolves a CQL type written in a statement on `keyspace` (`frozen<address>`,
    /// `map<text, ks.point>`, …), with the keyspace's user-defined types. UDT names may be
    /// qualified with the statement's keyspace only (Cassandra refuses other keyspaces);
    /// unknown names give Cassandra's `Unknown type ks.name`.
    pub fn parse_type(&self, keyspace: &str, text: &str) -> Result<CqlType, SchemaError> {
        let text = strip_keyspace_qualifiers(text, keyspace)?;
        let types = self.keyspaces.get(keyspace).map(|ks| &ks.types);
        let resolve = |name: &str| types.and_then(|t| t.get(name)).map(UserType::to_udt_type);
        parse_cql_type(&text, &resolve).map_err(|e| match e {
            TypeError::UnknownType { name } => {
                SchemaError::invalid(format!("Unknown type {keyspace}.{name}"))
            }
            other => SchemaError::invalid(other.to_string()),
        })
    }

    /// The schema version: an MD5 digest (Cassandra's algorithm for versions) of a canonical
    /// serialization of the distributed keyspaces ([`Schema::distributed_keyspaces`]: user
    /// keyspaces plus the replicated system keyspaces, as in Cassandra, whose digest leaves
    /// out only the local system keyspaces) and a fixed salt, as a name-based (version 3)
    /// UUID. Equal schemas give equal versions on every node whatever the order they were
    /// built in; any change to a keyspace, table, column, type, option or dropped-column
    /// record changes it.
    ///
    /// The version is cached: reading it is free.
    pub fn version(&self) -> uuid::Uuid {
        self.version
    }

    /// Recomputes the cached version (after any change to the keyspaces).
    pub(crate) fn refresh_version(&mut self) {
        let dto = SchemaDto::from_schema(self);
        let mut input = VERSION_SALT.to_vec();
        // Serializing plain structs, strings and numbers cannot fail.
        input.extend(serde_json::to_vec(&dto.keyspaces).unwrap_or_default());
        self.version = name_uuid_from_bytes(&input);
    }

    /// The persisted form of the distributed keyspaces (JSON with a format version), for
    /// [`Schema::from_persisted`].
    pub fn to_persisted(&self) -> Vec<u8> {
        serde_json::to_vec(&SchemaDto::from_schema(self)).unwrap_or_default()
    }

    /// Rebuilds a schema from [`Schema::to_persisted`] output; local system and virtual
    /// keyspaces come from this build's definitions, persisted replicated system keyspaces
    /// replace the built-in ones. Untrusted input: malformed data is an error, never a panic.
    pub fn from_persisted(bytes: &[u8]) -> Result<Schema, SchemaError> {
        let dto: SchemaDto = serde_json::from_slice(bytes)
            .map_err(|e| SchemaError::corrupt(format!("not a persisted schema: {e}")))?;
        dto.into_schema()
    }
}

/// One identifier of a type string: its case-resolved name and where it ends.
fn identifier_at(chars: &[char], start: usize) -> Option<(String, usize)> {
    match chars.get(start)? {
        '"' => {
            let mut name = String::new();
            let mut i = start + 1;
            loop {
                match chars.get(i)? {
                    '"' if chars.get(i + 1) == Some(&'"') => {
                        name.push('"');
                        i += 2;
                    }
                    '"' => return Some((name, i + 1)),
                    c => {
                        name.push(*c);
                        i += 1;
                    }
                }
            }
        }
        c if c.is_ascii_alphabetic() => {
            let mut end = start;
            while chars
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                end += 1;
            }
            let name: String = chars.get(start..end)?.iter().collect();
            Some((name.to_ascii_lowercase(), end))
        }
        _ => None,
    }
}

/// Removes `keyspace.` qualifiers from UDT names in a type string, refusing qualifiers that
/// name another keyspace (user types can only be used in their own keyspace).
fn strip_keyspace_qualifiers(text: &str, keyspace: &str) -> Result<String, SchemaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let Some((name, end)) = identifier_at(&chars, i) else {
            if let Some(c) = chars.get(i) {
                out.push(*c);
            }
            i += 1;
            continue;
        };
        let mut dot = end;
        while chars.get(dot).is_some_and(|c| c.is_whitespace()) {
            dot += 1;
        }
        if chars.get(dot) == Some(&'.') {
            if name != keyspace {
                return Err(SchemaError::invalid(format!(
                    "Statement on keyspace {keyspace} cannot refer to a user type in keyspace {name}; user types can only be used in the keyspace they are defined in"
                )));
            }
            i = dot + 1;
            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            continue;
        }
        out.extend(chars.get(i..end).unwrap_or_default());
        i = end;
    }
    Ok(out)
}

impl serde::Serialize for Schema {
    /// Serializes the distributed keyspaces with a format version (local system and virtual
    /// keyspaces are part of the code, not of the data).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SchemaDto::from_schema(self).serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Schema {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let dto = SchemaDto::deserialize(deserializer)?;
        dto.into_schema().map_err(serde::de::Error::custom)
    }
}
