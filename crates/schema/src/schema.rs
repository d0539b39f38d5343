//! [`Schema`]: every keyspace (system and user) with its tables and types, lookups, the
//! schema version digest, and type resolution for DDL.
//!
//! Invariants: the system keyspaces of [`crate::system::system_keyspaces`] are always
//! present and never change through this API; user keyspaces change only through the
//! validated DDL methods (see `ddl`), so every table satisfies the invariants documented on
//! [`TableMetadata`].
//!
//! The version ([`Schema::version`]) is a digest of the user keyspaces only, like Cassandra's:
//! two nodes holding the same user schema report the same version regardless of the order in
//! which it was built.

use std::collections::BTreeMap;

use meridian_types::cql_type::{parse_cql_type, CqlType, TypeError};
use meridian_types::model::TableId;

use crate::error::SchemaError;
use crate::keyspace::{KeyspaceSchema, UserType};
use crate::persist::SchemaDto;
use crate::system::{is_system_keyspace, system_keyspaces};
use crate::table::{name_uuid_from_bytes, TableMetadata};

/// Salt mixed into the version digest, so that Meridian versions never collide with the
/// digest of an empty input.
const VERSION_SALT: &[u8] = b"meridian/schema-version/v1\0";

/// The whole schema of a node.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub(crate) keyspaces: BTreeMap<String, KeyspaceSchema>,
}

impl Default for Schema {
    fn default() -> Self {
        Schema::new()
    }
}

impl Schema {
    /// A schema holding only the system keyspaces.
    pub fn new() -> Schema {
        Schema {
            keyspaces: system_keyspaces()
                .into_iter()
                .map(|ks| (ks.metadata.name.clone(), ks))
                .collect(),
        }
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
            .filter(|ks| !is_system_keyspace(&ks.metadata.name))
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
    /// `map<text, int>`, …), with the keyspace's user-defined types. Unknown names give
    /// Cassandra's `Unknown type ks.name`.
    pub fn parse_type(&self, keyspace: &str, text: &str) -> Result<CqlType, SchemaError> {
        let types = self.keyspaces.get(keyspace).map(|ks| &ks.types);
        let resolve = |name: &str| types.and_then(|t| t.get(name)).map(UserType::to_udt_type);
        parse_cql_type(text, &resolve).map_err(|e| match e {
            TypeError::UnknownType { name } => {
                SchemaError::invalid(format!("Unknown type {keyspace}.{name}"))
            }
            other => SchemaError::invalid(other.to_string()),
        })
    }

    /// The schema version: an MD5 digest (Cassandra's algorithm for versions) of a canonical
    /// serialization of all user keyspaces and a fixed salt, as a name-based (version 3)
    /// UUID. Equal user schemas give equal versions on every node; any change to a user
    /// keyspace, table, column, type, option or dropped-column record changes it.
    pub fn version(&self) -> uuid::Uuid {
        let dto = SchemaDto::from_schema(self);
        let mut input = VERSION_SALT.to_vec();
        // Serializing plain structs, strings and numbers cannot fail.
        input.extend(serde_json::to_vec(&dto.keyspaces).unwrap_or_default());
        name_uuid_from_bytes(&input)
    }

    /// The persisted form of the user keyspaces (JSON with a format version), for
    /// [`Schema::from_persisted`].
    pub fn to_persisted(&self) -> Vec<u8> {
        serde_json::to_vec(&SchemaDto::from_schema(self)).unwrap_or_default()
    }

    /// Rebuilds a schema from [`Schema::to_persisted`] output; system keyspaces come from
    /// this build's definitions. Untrusted input: malformed data is an error, never a panic.
    pub fn from_persisted(bytes: &[u8]) -> Result<Schema, SchemaError> {
        let dto: SchemaDto = serde_json::from_slice(bytes)
            .map_err(|e| SchemaError::corrupt(format!("not a persisted schema: {e}")))?;
        dto.into_schema()
    }
}

impl serde::Serialize for Schema {
    /// Serializes the user keyspaces with a format version (system keyspaces are part of the
    /// code, not of the data).
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
