//! [`Schema`]: every keyspace (system and user) with its tables and types, lookups, the
//! schema version digest, and type resolution for DDL.
//!
//! Invariants: the system keyspaces of [`crate::system::system_keyspaces`] are always
//! present and never change through this API; user keyspaces change only through the
//! validated DDL methods (see `ddl`) and through [`Schema::merge`] (see `merge`), so every
//! table satisfies the invariants documented on [`TableMetadata`].
//!
//! The version ([`Schema::version`]) is a digest of the visible distributed keyspaces (user
//! keyspaces and the replicated system keyspaces; like Cassandra's, it leaves out the
//! node-local system keyspaces): two nodes holding the same schema report the same version
//! regardless of the order in which it was built. Change timestamps and tombstones do not
//! take part: they are bookkeeping for merging, invisible to clients, and any difference in
//! them that could ever change what clients see shows up as a visible difference first
//! (see [`crate::merge`]). It is cached and recomputed after every applied change.
//!
//! Schema changes are stamped with a schema clock: the larger of the latest time the caller
//! reported ([`Schema::observe_time`]) and one more than the newest timestamp in the schema,
//! so stamps strictly increase on a node (across restarts too, since they are persisted) and
//! every change is newer than everything the node has seen, including merged remote changes.
use std::collections::BTreeMap;
use std::sync::OnceLock;

use meridian_types::cql_type::{parse_cql_type, CqlType, TypeError};
use meridian_types::model::TableId;

use crate::error::SchemaError;
use crate::keyspace::{KeyspaceSchema, UserType};
use crate::merge::Tombstones;
use crate::persist::{DtoMode, SchemaDto};
use crate::system::{is_builtin_keyspace, system_keyspaces, REPLICATED_SYSTEM_KEYSPACES};
use crate::table::{name_uuid_from_bytes, TableMetadata};

/// Salt mixed into the version digest, so that Meridian versions never collide with the
/// digest of an empty input.
const VERSION_SALT: &[u8] = b"meridian/schema-version/v1\0";

/// The whole schema of a node.
///
/// Equality compares the content: keyspaces (with their change timestamps) and tombstones;
/// not the caller's clock ([`Schema::observe_time`]).
#[derive(Clone, Debug)]
pub struct Schema {
    pub(crate) keyspaces: BTreeMap<String, KeyspaceSchema>,
    /// Dropped keyspaces, tables and types (see [`crate::merge`]).
    pub(crate) tombstones: Tombstones,
    /// [`Schema::version`], recomputed after every applied change.
    version: uuid::Uuid,
    /// [`Schema::last_change_micros`], recomputed with the version.
    last_change_micros: i64,
    /// The latest time the caller reported ([`Schema::observe_time`]); not content.
    clock_micros: i64,
}

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        self.keyspaces == other.keyspaces && self.tombstones == other.tombstones
    }
}

impl Default for Schema {
    fn default() -> Self {
        Schema::new()
    }
}

impl Schema {
    /// A schema holding only the system keyspaces.
    pub fn new() -> Schema {
        // Built once: the system keyspaces are fixed, and loading and merging start here.
        static EMPTY: OnceLock<Schema> = OnceLock::new();
        EMPTY.get_or_init(Schema::build_empty).clone()
    }

    fn build_empty() -> Schema {
        let mut schema = Schema {
            keyspaces: system_keyspaces()
                .into_iter()
                .map(|ks| (ks.metadata.name.clone(), ks))
                .collect(),
            tombstones: Tombstones::default(),
            version: uuid::Uuid::nil(),
            last_change_micros: 0,
            clock_micros: 0,
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
    /// Change timestamps and tombstones are left out: two nodes report the same version
    /// exactly when clients see the same schema on both. Merging ([`Schema::merge`]) is
    /// what reconciles the bookkeeping; nodes whose versions are equal have nothing visible to
    /// reconcile, and a difference in bookkeeping alone never changes what a node shows
    /// until it meets a schema that does differ visibly (and so has another version).
    ///
    /// The version is cached: reading it is free.
    pub fn version(&self) -> uuid::Uuid {
        self.version
    }

    /// Recomputes the cached version and newest timestamp (after any change).
    pub(crate) fn refresh_version(&mut self) {
        let dto = SchemaDto::from_schema(self, DtoMode::Digest);
        let mut input = VERSION_SALT.to_vec();
        // Serializing plain structs, strings and numbers cannot fail.
        input.extend(serde_json::to_vec(&dto.keyspaces).unwrap_or_default());
        self.version = name_uuid_from_bytes(&input);
        self.last_change_micros = crate::merge::newest_timestamp(self);
    }

    /// The tombstones of dropped keyspaces, tables and types.
    pub fn tombstones(&self) -> &Tombstones {
        &self.tombstones
    }

    /// The newest change timestamp in the schema (keyspaces, tables, columns, types and
    /// tombstones), in microseconds; 0 for a schema without any.
    pub fn last_change_micros(&self) -> i64 {
        self.last_change_micros
    }

    /// Reports the current wall-clock time (microseconds since the epoch). The next schema
    /// change through this value is stamped with the larger of the latest reported time and
    /// one more than [`Schema::last_change_micros`]. Not part of the content: it does not
    /// take part in equality, persistence or the version. Without any report, stamps count
    /// up from the newest timestamp (a logical clock).
    pub fn observe_time(&mut self, now_micros: i64) {
        self.clock_micros = self.clock_micros.max(now_micros);
    }

    /// The timestamp the next schema change gets (see [`Schema::observe_time`]).
    pub(crate) fn next_change_micros(&self) -> i64 {
        self.clock_micros
            .max(self.last_change_micros.saturating_add(1))
    }

    /// The latest time reported with [`Schema::observe_time`] (0: none).
    pub(crate) fn observed_time(&self) -> i64 {
        self.clock_micros
    }

    /// The persisted form of the distributed keyspaces with their change timestamps and the
    /// tombstones (JSON with a format version), for [`Schema::from_persisted`]. This is also
    /// what nodes exchange to converge (see [`Schema::merge`]).
    pub fn to_persisted(&self) -> Vec<u8> {
        serde_json::to_vec(&SchemaDto::from_schema(self, DtoMode::Persisted)).unwrap_or_default()
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
        SchemaDto::from_schema(self, DtoMode::Persisted).serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Schema {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let dto = SchemaDto::deserialize(deserializer)?;
        dto.into_schema().map_err(serde::de::Error::custom)
    }
}
