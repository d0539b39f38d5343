//! Merging the schemas of two nodes, so that DDL run on any node converges on every node.
//!
//! # Model
//!
//! Every schema element carries the schema-clock timestamp of its changes (see
//! [`crate::schema::Schema::observe_time`] for the clock), and drops leave tombstones
//! ([`Tombstones`]). [`Schema::merge`] combines two schemas element by element, keeping the
//! newest version of each; it is commutative, associative and idempotent (property-tested),
//! so nodes that exchange their schemas in any order, any number of times, end up with
//! equal schemas. Ties between different versions with equal timestamps are broken by
//! comparing their serialized forms, so the outcome never depends on which node merges.
//!
//! - **Keyspace options** (replication, `durable_writes`): last write wins by the time of the
//!   last `CREATE`/`ALTER KEYSPACE`. Keyspaces created concurrently on two nodes are one
//!   keyspace: the tables and types created in either stay.
//! - **Tables**: a table's identity is its id. Two nodes creating the same table name
//!   concurrently with different ids converge on the later `CREATE` (creation timestamp,
//!   then id); the other table is gone everywhere, and the data written to it is unreachable
//!   (its storage is dropped), as in Cassandra. Within one table (same id) the parts merge
//!   separately: options by the time they were last set; regular and static columns one by
//!   one by the time they were added (so concurrent `ADD`s of different columns both stay);
//!   dropped columns are gone for good (by column id); the primary key column names (which
//!   `RENAME` changes) as one value, last write wins; dropped-column records (by name) keep
//!   the latest drop time.
//! - **Columns with the same name** added concurrently (different types, so different ids,
//!   see below): the later addition wins; the other column and the data written to it are
//!   unreachable. A column can never take the name of a primary key column, nor a name a
//!   key column had when the column was added.
//! - **User types**: last write wins on the whole definition (fields are positional, so two
//!   concurrent `ADD`s to one type cannot both be kept). A table or type that uses a type
//!   keeps it alive even if it was dropped concurrently. Should concurrent `ALTER TYPE`s make
//!   two types refer to each other, the newest of the cycle loses its fields from the first
//!   one that closes the cycle.
//! - **Drops**: a tombstone `(name, drop time)` removes what was *created* at or before the
//!   drop time, and loses to a newer creation, so re-creating after a drop works. A dropped
//!   keyspace, table or type stays dropped even if another node altered it concurrently
//!   (after the drop, by the clock); a keyspace drop removes everything created in the
//!   keyspace before it; a table or type created in the keyspace after the drop (on a node
//!   that had not seen it) survives and keeps the keyspace alive with its last options.
//!
//! Column ids: an added column's id is derived from the table id, the column's name, type
//! and kind, and the time the name was last dropped ([`ADDED_COLUMN_ID_MIN`]..
//! [`ADDED_COLUMN_ID_END`], avoiding every id the table uses or used), so two nodes adding
//! the same column concurrently give it the same id, and different columns get different
//! ids: data written on one node is never read as another column's on another node.
//!
//! Tombstones (and dropped column ids, and old primary key names) are kept for
//! [`SCHEMA_TOMBSTONE_RETENTION_MICROS`] past the newest timestamp of the schema, then pruned
//! when schemas are merged. Like Cassandra's `gc_grace_seconds`, a node that missed a drop
//! and comes back after longer than that can bring the dropped element back.
//!
//! Merging does not re-validate DDL rules (a merged table is structurally valid, see
//! [`TableMetadata`], but for example two concurrently created types may hold fields that
//! only make sense together). Tables that reuse one id under two names (`WITH id = …` on two
//! nodes) cannot both be kept and make merging fail.

use std::collections::{BTreeMap, BTreeSet};

use md5::{Digest, Md5};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{ColumnId, TableId};

use crate::ddl::{ChangeTarget, ChangeType, SchemaChangeEvent};
use crate::error::SchemaError;
use crate::keyspace::{KeyspaceMetadata, KeyspaceSchema};
use crate::persist::{
    referenced_type_names, ColumnDto, DroppedColumnIdDto, DroppedDto, DtoMode, HiddenKeyspaceDto,
    HiddenTypeDto, KeyspaceDto, KeyspaceTombstoneDto, KindDto, SchemaDto, TableDto, TableStampsDto,
    TableTombstoneDto, TombstonesDto, TypeDto, TypeTombstoneDto, FORMAT_VERSION,
};
use crate::schema::Schema;
use crate::table::{ColumnKind, TableMetadata};

/// How long tombstones, dropped column ids and old primary key names are kept past the
/// newest timestamp of the schema: 7 days, in microseconds.
pub const SCHEMA_TOMBSTONE_RETENTION_MICROS: i64 = 7 * 24 * 60 * 60 * 1_000_000;

/// Smallest id an added column gets (columns given at `CREATE TABLE` are numbered from 0).
pub const ADDED_COLUMN_ID_MIN: u32 = 1 << 14;

/// Ids of added columns are below this bound (they fit a 3-byte varint in the data).
pub const ADDED_COLUMN_ID_END: u32 = 1 << 21;

/// The change timestamps of one table (microseconds of the schema clock; 0: unknown).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TableStamps {
    /// When the table (this id) was created.
    pub created_micros: i64,
    /// When its options were last set.
    pub params_micros: i64,
    /// When its primary key columns were last renamed (or created).
    pub key_names_micros: i64,
    /// When each regular or static column was added, by column id.
    pub columns: BTreeMap<ColumnId, i64>,
    /// Columns dropped from the table, by id: they never come back.
    pub dropped_column_ids: BTreeMap<ColumnId, DroppedColumnId>,
    /// Names that primary key columns had after a rename, with the latest time they had
    /// them: a regular column added concurrently under such a name loses to the key column.
    pub key_name_history: BTreeMap<String, i64>,
}

impl TableStamps {
    /// The newest timestamp of the table: its last change.
    pub fn last_change_micros(&self) -> i64 {
        let columns = self.columns.values().copied();
        let dropped = self
            .dropped_column_ids
            .values()
            .flat_map(|d| [d.added_micros, d.dropped_micros]);
        let history = self.key_name_history.values().copied();
        [
            self.created_micros,
            self.params_micros,
            self.key_names_micros,
        ]
        .into_iter()
        .chain(columns)
        .chain(dropped)
        .chain(history)
        .max()
        .unwrap_or(0)
    }
}

/// A column dropped from a table (its id is never used again).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DroppedColumnId {
    /// The column's name when it was dropped.
    pub name: String,
    /// When the column had been added.
    pub added_micros: i64,
    /// When it was dropped (schema clock, not the `USING TIMESTAMP` of the statement).
    pub dropped_micros: i64,
}

/// Dropped keyspaces, tables and types.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tombstones {
    /// Dropped keyspaces by name.
    pub keyspaces: BTreeMap<String, KeyspaceTombstone>,
    /// Dropped tables by `(keyspace, table)`.
    pub tables: BTreeMap<(String, String), TableTombstone>,
    /// Dropped (or hidden) types by `(keyspace, type)`.
    pub types: BTreeMap<(String, String), TypeTombstone>,
}

/// A dropped keyspace.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyspaceTombstone {
    /// When it was last dropped: every version of the keyspace, and every table and type
    /// created in it, at or before this time is gone.
    pub dropped_micros: i64,
    /// Its last options while the keyspace is not visible (kept because a table created
    /// concurrently with the drop brings the keyspace back with them).
    pub hidden: Option<HiddenKeyspace>,
}

/// The last options of a dropped keyspace.
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenKeyspace {
    /// Name and options.
    pub metadata: KeyspaceMetadata,
    /// When the keyspace was created.
    pub created_micros: i64,
    /// When the options were set.
    pub timestamp_micros: i64,
}

/// A dropped table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableTombstone {
    /// The id of the table that was dropped (every table of that name created at or before
    /// the drop is gone, whatever its id).
    pub id: TableId,
    /// When it was dropped.
    pub dropped_micros: i64,
}

/// A dropped type, or a type hidden by the drop of its keyspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeTombstone {
    /// When the type was last dropped (`None`: only its keyspace was).
    pub dropped_micros: Option<i64>,
    /// Its last definition while the type is not visible (kept because a table created
    /// concurrently with the drop that uses it brings it back).
    pub hidden: Option<HiddenType>,
}

/// The last definition of a type that is not visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiddenType {
    /// Field names and types as CQL text (resolved only if the type comes back).
    pub fields: Vec<(String, String)>,
    /// When the type was created.
    pub created_micros: i64,
    /// When the definition was set.
    pub timestamp_micros: i64,
}

/// What a merge changed, for the caller to update storage and tell clients.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// Whether the schema changed at all (including timestamps and tombstones): persist it.
    pub changed: bool,
    /// `SCHEMA_CHANGE` events for what clients see changed, in an order a client can apply
    /// them: keyspaces created or updated, types created, types updated, tables replaced by
    /// another of the same name (dropped), tables created, tables updated, tables dropped,
    /// types dropped, keyspaces dropped.
    pub events: Vec<SchemaChangeEvent>,
    /// Tables (by id) that exist now and did not before: their storage must be created.
    pub created_tables: Vec<TableId>,
    /// Tables present before and after whose definition changed.
    pub altered_tables: Vec<TableId>,
    /// Tables that existed before and no longer do: their storage goes.
    pub dropped_tables: Vec<TableId>,
}

impl Schema {
    /// The merge of two schemas (see the module documentation): the newest version of every
    /// element of either. Commutative, associative and idempotent; the node-local system
    /// keyspaces and the clock are `self`'s.
    ///
    /// Fails only if the two schemas use one table id for tables of different names.
    pub fn merge(&self, other: &Schema) -> Result<Schema, SchemaError> {
        let mut state = State::from_dto(SchemaDto::from_schema(self, DtoMode::Persisted));
        state.join(State::from_dto(SchemaDto::from_schema(
            other,
            DtoMode::Persisted,
        )));
        let newest = self.last_change_micros().max(other.last_change_micros());
        let horizon = newest.saturating_sub(SCHEMA_TOMBSTONE_RETENTION_MICROS);
        let mut merged = state.render(horizon).into_schema()?;
        merged.observe_time(self.observed_time());
        Ok(merged)
    }

    /// This schema in the canonical form of a merge result: what is not visible any more
    /// (see the module documentation) hidden, old tombstones pruned, the version refreshed.
    /// Equal to `self.merge(self)`.
    pub(crate) fn normalized(&self) -> Result<Schema, SchemaError> {
        let state = State::from_dto(SchemaDto::from_schema(self, DtoMode::Persisted));
        // Computed afresh: DDL calls this on a copy whose cached timestamp is not updated.
        let horizon = newest_timestamp(self).saturating_sub(SCHEMA_TOMBSTONE_RETENTION_MICROS);
        let mut normalized = state.render(horizon).into_schema()?;
        normalized.observe_time(self.observed_time());
        Ok(normalized)
    }

    /// Whether [`Schema::normalized`] could change this schema built by DDL: only tombstones
    /// hide anything (DDL validation keeps columns and types free of the conflicts merging
    /// resolves), and only tombstones and dropped column ids or key names older than the
    /// retention are pruned.
    pub(crate) fn may_hide_or_prune(&self) -> bool {
        if !self.tombstones.keyspaces.is_empty()
            || !self.tombstones.tables.is_empty()
            || !self.tombstones.types.is_empty()
        {
            return true;
        }
        let horizon = newest_timestamp(self).saturating_sub(SCHEMA_TOMBSTONE_RETENTION_MICROS);
        self.distributed_keyspaces()
            .flat_map(|ks| ks.table_stamps.values())
            .any(|s| {
                s.dropped_column_ids
                    .values()
                    .any(|d| d.dropped_micros < horizon)
                    || s.key_name_history.values().any(|ts| *ts < horizon)
            })
    }

    /// Merges `other` into this schema ([`Schema::merge`]) and reports what changed. On error
    /// the schema is left unchanged.
    pub fn merge_from(&mut self, other: &Schema) -> Result<MergeOutcome, SchemaError> {
        let merged = self.merge(other)?;
        let outcome = MergeOutcome::between(self, &merged);
        *self = merged;
        Ok(outcome)
    }
}

impl MergeOutcome {
    /// What changed from `before` to `after` (distributed keyspaces only).
    pub fn between(before: &Schema, after: &Schema) -> MergeOutcome {
        let stored = |s: &Schema| -> BTreeMap<TableId, TableMetadata> {
            s.distributed_keyspaces()
                .flat_map(|ks| ks.tables.values())
                .filter(|t| !t.is_virtual)
                .map(|t| (t.id, t.clone()))
                .collect()
        };
        let (old, new) = (stored(before), stored(after));
        let created_tables = new.keys().filter(|id| !old.contains_key(id)).copied();
        let dropped_tables = old.keys().filter(|id| !new.contains_key(id)).copied();
        let altered_tables = new
            .iter()
            .filter(|(id, t)| old.get(id).is_some_and(|o| o != *t))
            .map(|(id, _)| *id);
        MergeOutcome {
            changed: before != after,
            events: events_between(before, after),
            created_tables: created_tables.collect(),
            altered_tables: altered_tables.collect(),
            dropped_tables: dropped_tables.collect(),
        }
    }
}

/// The `SCHEMA_CHANGE` events that take a client from `before` to `after`.
fn events_between(before: &Schema, after: &Schema) -> Vec<SchemaChangeEvent> {
    let event = |change, target, keyspace: &str, name: Option<&str>| SchemaChangeEvent {
        change,
        target,
        keyspace: keyspace.to_string(),
        name: name.map(str::to_string),
    };
    let (mut keyspaces, mut types_created, mut types_updated) = (vec![], vec![], vec![]);
    let (mut tables_created, mut tables_updated, mut tables_dropped) = (vec![], vec![], vec![]);
    // Tables replaced by another of the same name (another id): dropped before the new one
    // is announced, so that a client applying the events in order ends with the new table.
    let mut tables_replaced = vec![];
    let (mut types_dropped, mut keyspaces_dropped) = (vec![], vec![]);
    let old: BTreeMap<&str, &KeyspaceSchema> = before
        .distributed_keyspaces()
        .map(|k| (k.name(), k))
        .collect();
    let new: BTreeMap<&str, &KeyspaceSchema> = after
        .distributed_keyspaces()
        .map(|k| (k.name(), k))
        .collect();
    for (name, ks) in &new {
        let previous = old.get(name);
        match previous {
            None => keyspaces.push(event(
                ChangeType::Created,
                ChangeTarget::Keyspace,
                name,
                None,
            )),
            Some(p) if p.metadata != ks.metadata => keyspaces.push(event(
                ChangeType::Updated,
                ChangeTarget::Keyspace,
                name,
                None,
            )),
            Some(_) => {}
        }
        for t in ks.types_in_dependency_order() {
            match previous.and_then(|p| p.types.get(&t.name)) {
                None => types_created.push(event(
                    ChangeType::Created,
                    ChangeTarget::Type,
                    name,
                    Some(&t.name),
                )),
                Some(p) if p.fields != t.fields => types_updated.push(event(
                    ChangeType::Updated,
                    ChangeTarget::Type,
                    name,
                    Some(&t.name),
                )),
                Some(_) => {}
            }
        }
        for t in ks.tables.values() {
            let created = event(
                ChangeType::Created,
                ChangeTarget::Table,
                name,
                Some(&t.name),
            );
            match previous.and_then(|p| p.tables.get(&t.name)) {
                None => tables_created.push(created),
                Some(p) if p.id != t.id => {
                    tables_replaced.push(event(
                        ChangeType::Dropped,
                        ChangeTarget::Table,
                        name,
                        Some(&t.name),
                    ));
                    tables_created.push(created);
                }
                Some(p) if p != t => tables_updated.push(event(
                    ChangeType::Updated,
                    ChangeTarget::Table,
                    name,
                    Some(&t.name),
                )),
                Some(_) => {}
            }
        }
        if let Some(p) = previous {
            for t in p.tables.keys().filter(|t| !ks.tables.contains_key(*t)) {
                tables_dropped.push(event(
                    ChangeType::Dropped,
                    ChangeTarget::Table,
                    name,
                    Some(t),
                ));
            }
            for t in p.types.keys().filter(|t| !ks.types.contains_key(*t)) {
                types_dropped.push(event(
                    ChangeType::Dropped,
                    ChangeTarget::Type,
                    name,
                    Some(t),
                ));
            }
        }
    }
    for name in old.keys().filter(|k| !new.contains_key(*k)) {
        keyspaces_dropped.push(event(
            ChangeType::Dropped,
            ChangeTarget::Keyspace,
            name,
            None,
        ));
    }
    [
        keyspaces,
        types_created,
        types_updated,
        tables_replaced,
        tables_created,
        tables_updated,
        tables_dropped,
        types_dropped,
        keyspaces_dropped,
    ]
    .concat()
}

/// The newest change timestamp anywhere in `schema` (0 when there is none).
pub(crate) fn newest_timestamp(schema: &Schema) -> i64 {
    let mut newest = 0i64;
    for ks in schema.distributed_keyspaces() {
        newest = newest.max(ks.timestamp_micros);
        for t in ks.types.values() {
            newest = newest.max(t.timestamp_micros);
        }
        for s in ks.table_stamps.values() {
            newest = newest.max(s.last_change_micros());
        }
    }
    let t = schema.tombstones();
    for k in t.keyspaces.values() {
        newest = newest.max(k.dropped_micros);
        if let Some(h) = &k.hidden {
            newest = newest.max(h.timestamp_micros);
        }
    }
    for d in t.tables.values() {
        newest = newest.max(d.dropped_micros);
    }
    for d in t.types.values() {
        newest = newest.max(d.dropped_micros.unwrap_or(0));
        if let Some(h) = &d.hidden {
            newest = newest.max(h.timestamp_micros);
        }
    }
    newest
}

/// The id of a column added to `table`: derived from the table id, the column's name, type
/// and kind, and when the name was last dropped, so that nodes adding the same column
/// concurrently agree on it; never an id the table uses or used (`stamps` lists the dropped
/// ones). `None` when no id is left.
pub(crate) fn added_column_id(
    table: &TableMetadata,
    stamps: &TableStamps,
    name: &str,
    ty: &CqlType,
    kind: ColumnKind,
) -> Option<ColumnId> {
    let mut seed = table.id.0.as_bytes().to_vec();
    for part in [name, "\0", &ty.to_string(), "\0", kind.as_str(), "\0"] {
        seed.extend_from_slice(part.as_bytes());
    }
    if let Some(d) = table.dropped_columns.get(name) {
        seed.extend_from_slice(&d.dropped_at_micros.to_be_bytes());
    }
    let taken = |id: u32| {
        table.columns.iter().any(|c| c.id.0 == id)
            || stamps.dropped_column_ids.contains_key(&ColumnId(id))
    };
    let span = ADDED_COLUMN_ID_END - ADDED_COLUMN_ID_MIN;
    for attempt in 0..span {
        let mut input = seed.clone();
        input.extend_from_slice(&attempt.to_be_bytes());
        let digest: [u8; 16] = Md5::digest(&input).into();
        let value = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        let id = ADDED_COLUMN_ID_MIN + value % span;
        if !taken(id) {
            return Some(ColumnId(id));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// The merge lattice
// ---------------------------------------------------------------------------------------

/// Whether something stamped `ts` is gone under a drop at `dropped` (drops win ties).
fn shadowed(ts: i64, dropped: Option<i64>) -> bool {
    dropped.is_some_and(|d| ts <= d)
}

/// Keeps the larger of `slot` and `value` in `slot`.
fn keep_max<T: Ord>(slot: &mut Option<T>, value: T) {
    match slot {
        Some(current) if *current >= value => {}
        _ => *slot = Some(value),
    }
}

/// Inserts `value` under `key`, keeping the larger by `order` when the key is taken.
fn insert_max<K: Ord, V, O: Ord>(
    map: &mut BTreeMap<K, V>,
    key: K,
    value: V,
    order: impl Fn(&V) -> O,
) {
    match map.get(&key) {
        Some(current) if order(current) >= order(&value) => {}
        _ => {
            map.insert(key, value);
        }
    }
}

/// Every version of everything a set of schemas holds, in the persisted (name-based) form:
/// the join of the schemas' states. Rendering it ([`State::render`]) decides what is
/// visible and gives the merged schema.
#[derive(Default)]
struct State {
    keyspaces: BTreeMap<String, KeyspaceState>,
}

#[derive(Default)]
struct KeyspaceState {
    /// The newest keyspace options (visible or hidden).
    register: Option<HiddenKeyspaceDto>,
    /// The latest keyspace drop.
    dropped: Option<i64>,
    /// The newest version of each table by name.
    tables: BTreeMap<String, TableDto>,
    table_tombstones: BTreeMap<String, TableTombstoneDto>,
    /// The newest definition of each type (visible or hidden).
    types: BTreeMap<String, TypeDto>,
    type_dropped: BTreeMap<String, i64>,
}

/// The join of two versions of a type: the latest creation, and the latest definition
/// (timestamp, then fields).
fn join_types(a: TypeDto, b: TypeDto) -> TypeDto {
    let created_micros = a.created_micros.max(b.created_micros);
    let latest = if (a.timestamp_micros, &a.fields) >= (b.timestamp_micros, &b.fields) {
        a
    } else {
        b
    };
    TypeDto {
        created_micros,
        ..latest
    }
}

/// The join of two versions of a keyspace's options: the latest creation, and the latest
/// options (timestamp, then content).
fn join_keyspace_options(a: HiddenKeyspaceDto, b: HiddenKeyspaceDto) -> HiddenKeyspaceDto {
    let created_micros = a.created_micros.max(b.created_micros);
    let key = |k: &HiddenKeyspaceDto| (k.timestamp_micros, k.replication.clone(), k.durable_writes);
    let latest = if key(&a) >= key(&b) { a } else { b };
    HiddenKeyspaceDto {
        created_micros,
        ..latest
    }
}

fn join_option<T>(slot: &mut Option<T>, value: T, join: impl Fn(T, T) -> T) {
    *slot = Some(match slot.take() {
        Some(current) => join(current, value),
        None => value,
    });
}

fn join_type_into(types: &mut BTreeMap<String, TypeDto>, t: TypeDto) {
    let joined = match types.remove(&t.name) {
        Some(current) => join_types(current, t),
        None => t,
    };
    types.insert(joined.name.clone(), joined);
}

impl State {
    fn from_dto(dto: SchemaDto) -> State {
        let mut state = State::default();
        for ks in dto.keyspaces {
            let entry = state.keyspaces.entry(ks.name.clone()).or_default();
            let mut one = KeyspaceState {
                register: Some(HiddenKeyspaceDto {
                    created_micros: ks.created_micros,
                    timestamp_micros: ks.timestamp_micros,
                    replication: ks.replication,
                    durable_writes: ks.durable_writes,
                }),
                ..KeyspaceState::default()
            };
            one.tables = ks.tables.into_iter().map(|t| (t.name.clone(), t)).collect();
            one.types = ks.types.into_iter().map(|t| (t.name.clone(), t)).collect();
            entry.join(one);
        }
        let TombstonesDto {
            keyspaces,
            tables,
            types,
        } = dto.tombstones;
        for k in keyspaces {
            let entry = state.keyspaces.entry(k.name).or_default();
            keep_max(&mut entry.dropped, k.dropped_micros);
            if let Some(h) = k.hidden {
                join_option(&mut entry.register, h, join_keyspace_options);
            }
        }
        for t in tables {
            let entry = state.keyspaces.entry(t.keyspace.clone()).or_default();
            insert_max(&mut entry.table_tombstones, t.name.clone(), t, |t| {
                (t.dropped_micros, t.id.clone())
            });
        }
        for t in types {
            let entry = state.keyspaces.entry(t.keyspace).or_default();
            if let Some(d) = t.dropped_micros {
                insert_max(&mut entry.type_dropped, t.name.clone(), d, |d| *d);
            }
            if let Some(h) = t.hidden {
                let ty = TypeDto {
                    name: t.name.clone(),
                    fields: h.fields,
                    created_micros: h.created_micros,
                    timestamp_micros: h.timestamp_micros,
                };
                join_type_into(&mut entry.types, ty);
            }
        }
        state
    }

    fn join(&mut self, other: State) {
        for (name, ks) in other.keyspaces {
            self.keyspaces.entry(name).or_default().join(ks);
        }
    }

    /// The merged schema: what is visible, with everything still needed kept as tombstones,
    /// and what was dropped before `horizon` forgotten.
    fn render(self, horizon: i64) -> SchemaDto {
        let mut dto = SchemaDto {
            format_version: FORMAT_VERSION,
            keyspaces: Vec::new(),
            tombstones: TombstonesDto::default(),
        };
        for (name, ks) in self.keyspaces {
            ks.render(&name, horizon, &mut dto);
        }
        dto
    }
}

impl KeyspaceState {
    fn join(&mut self, other: KeyspaceState) {
        if let Some(r) = other.register {
            join_option(&mut self.register, r, join_keyspace_options);
        }
        if let Some(d) = other.dropped {
            keep_max(&mut self.dropped, d);
        }
        for (name, table) in other.tables {
            let joined = match self.tables.remove(&name) {
                Some(mine) => join_tables(mine, table),
                None => table,
            };
            self.tables.insert(name, joined);
        }
        for (name, t) in other.table_tombstones {
            insert_max(&mut self.table_tombstones, name, t, |t| {
                (t.dropped_micros, t.id.clone())
            });
        }
        for t in other.types.into_values() {
            join_type_into(&mut self.types, t);
        }
        for (name, d) in other.type_dropped {
            insert_max(&mut self.type_dropped, name, d, |d| *d);
        }
    }

    fn render(mut self, name: &str, horizon: i64, out: &mut SchemaDto) {
        let dropped = self.dropped;
        // Tables created at or before their drop (or their keyspace's) are gone for good.
        let table_tombstones = &self.table_tombstones;
        self.tables.retain(|table, t| {
            let created = t.stamps.as_ref().map_or(0, |s| s.created_micros);
            let drop = table_tombstones.get(table).map(|d| d.dropped_micros);
            !shadowed(created, dropped.max(drop))
        });
        break_type_cycles(&mut self.types);
        // Defensive (never the case for schemas built by DDL and merges): what refers to a
        // type that no version defines cannot be kept.
        loop {
            let known: BTreeSet<String> = self.types.keys().cloned().collect();
            let broken: Vec<String> = self
                .types
                .iter()
                .filter(|(_, t)| !type_refs(t).is_subset(&known))
                .map(|(n, _)| n.clone())
                .collect();
            if broken.is_empty() {
                break;
            }
            for n in broken {
                self.types.remove(&n);
            }
        }
        let known: BTreeSet<String> = self.types.keys().cloned().collect();
        self.tables.retain(|_, t| table_refs(t).is_subset(&known));

        // Visible types: those created after their drops, and every type a visible table or
        // visible type uses.
        let type_dropped = &self.type_dropped;
        let mut visible_types: BTreeSet<String> = self
            .types
            .values()
            .filter(|t| {
                let drop = type_dropped.get(&t.name).copied();
                !shadowed(t.created_micros, dropped.max(drop))
            })
            .map(|t| t.name.clone())
            .collect();
        let mut pending: Vec<String> = self
            .tables
            .values()
            .flat_map(table_refs)
            .chain(visible_types.iter().cloned())
            .collect();
        while let Some(n) = pending.pop() {
            if let Some(t) = self.types.get(&n) {
                visible_types.insert(n.clone());
                pending.extend(
                    type_refs(t)
                        .into_iter()
                        .filter(|r| !visible_types.contains(r)),
                );
            }
        }
        let visible = match &self.register {
            Some(r) => {
                !shadowed(r.created_micros, dropped)
                    || !self.tables.is_empty()
                    || !visible_types.is_empty()
            }
            None => false,
        };
        if !visible {
            self.tables.clear();
            visible_types.clear();
        }

        // Forget drops older than the horizon, and what only they kept hidden.
        let dropped = dropped.filter(|d| *d >= horizon);
        if !visible && dropped.is_none() {
            self.register = None;
        }
        self.type_dropped.retain(|_, d| *d >= horizon);
        self.table_tombstones
            .retain(|_, d| d.dropped_micros >= horizon);
        let type_dropped = &self.type_dropped;
        self.types.retain(|n, t| {
            visible_types.contains(n)
                || shadowed(t.created_micros, dropped.max(type_dropped.get(n).copied()))
        });
        for t in self.tables.values_mut() {
            if let Some(s) = &mut t.stamps {
                s.dropped_column_ids.retain(|d| d.dropped_micros >= horizon);
                s.key_name_history.retain(|(_, ts)| *ts >= horizon);
                if *s == TableStampsDto::default() {
                    t.stamps = None;
                }
            }
        }

        if let Some(d) = dropped {
            out.tombstones.keyspaces.push(KeyspaceTombstoneDto {
                name: name.to_string(),
                dropped_micros: d,
                hidden: if visible { None } else { self.register.clone() },
            });
        }
        for (table, t) in &self.table_tombstones {
            out.tombstones.tables.push(TableTombstoneDto {
                keyspace: name.to_string(),
                name: table.clone(),
                ..t.clone()
            });
        }
        let type_names: BTreeSet<&String> =
            self.types.keys().chain(self.type_dropped.keys()).collect();
        for t in type_names {
            let hidden = self
                .types
                .get(t)
                .filter(|_| !visible_types.contains(t))
                .map(|ty| HiddenTypeDto {
                    fields: ty.fields.clone(),
                    created_micros: ty.created_micros,
                    timestamp_micros: ty.timestamp_micros,
                });
            let dropped_micros = self.type_dropped.get(t).copied();
            if dropped_micros.is_some() || hidden.is_some() {
                out.tombstones.types.push(TypeTombstoneDto {
                    keyspace: name.to_string(),
                    name: t.clone(),
                    dropped_micros,
                    hidden,
                });
            }
        }
        if let (true, Some(register)) = (visible, self.register) {
            let types = dependency_order(&self.types, &visible_types);
            out.keyspaces.push(KeyspaceDto {
                name: name.to_string(),
                replication: register.replication,
                durable_writes: register.durable_writes,
                types,
                tables: self.tables.into_values().collect(),
                created_micros: register.created_micros,
                timestamp_micros: register.timestamp_micros,
            });
        }
    }
}

/// The type names a type's fields use.
fn type_refs(t: &TypeDto) -> BTreeSet<String> {
    t.fields
        .iter()
        .flat_map(|(_, ty)| referenced_type_names(ty))
        .collect()
}

/// The type names a table's columns use.
fn table_refs(t: &TableDto) -> BTreeSet<String> {
    t.columns
        .iter()
        .flat_map(|c| referenced_type_names(&c.ty))
        .collect()
}

/// Makes the type graph acyclic: while some types refer to each other in a cycle, the
/// newest of them (timestamp, then name) loses its fields from the first one that refers to
/// a type of the cycle. Each round costs one graph search and removes at least one field;
/// only concurrent `ALTER TYPE`s make cycles, so there are few rounds.
fn break_type_cycles(types: &mut BTreeMap<String, TypeDto>) {
    let edges_of = |t: &TypeDto, types: &BTreeMap<String, TypeDto>| -> Vec<String> {
        type_refs(t)
            .into_iter()
            .filter(|r| types.contains_key(r))
            .collect()
    };
    let mut edges: BTreeMap<String, Vec<String>> = types
        .iter()
        .map(|(n, t)| (n.clone(), edges_of(t, types)))
        .collect();
    while let Some(cycle) = find_cycle(&edges) {
        let victim = cycle
            .iter()
            .filter_map(|n| types.get(n))
            .max_by(|a, b| (a.timestamp_micros, &a.name).cmp(&(b.timestamp_micros, &b.name)))
            .map(|t| t.name.clone());
        let Some(victim) = victim else {
            return;
        };
        let members: BTreeSet<&String> = cycle.iter().collect();
        let Some(t) = types.get_mut(&victim) else {
            return;
        };
        let cut = t.fields.iter().position(|(_, ty)| {
            referenced_type_names(ty)
                .iter()
                .any(|r| members.contains(r))
        });
        match cut {
            Some(i) => t.fields.truncate(i),
            // Cannot happen (the victim is on the cycle); stop rather than loop.
            None => return,
        }
        let t = t.clone();
        edges.insert(victim, edges_of(&t, types));
    }
}

/// One cycle of a directed graph (its nodes), if any. Iterative depth-first search, so
/// untrusted input cannot exhaust the stack.
fn find_cycle(edges: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Active,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for start in edges.keys() {
        if marks.contains_key(start.as_str()) {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        marks.insert(start.as_str(), Mark::Active);
        while let Some((node, next)) = stack.last_mut() {
            let node_name: &str = node;
            let out = edges.get(node_name).map(Vec::as_slice).unwrap_or_default();
            match out.get(*next) {
                Some(target) => {
                    *next += 1;
                    match marks.get(target.as_str()) {
                        Some(Mark::Active) => {
                            let from = stack.iter().position(|(n, _)| *n == target.as_str())?;
                            let cycle = stack
                                .get(from..)?
                                .iter()
                                .map(|(n, _)| n.to_string())
                                .collect();
                            return Some(cycle);
                        }
                        Some(Mark::Done) => {}
                        None => {
                            marks.insert(target.as_str(), Mark::Active);
                            stack.push((target.as_str(), 0));
                        }
                    }
                }
                None => {
                    marks.insert(node_name, Mark::Done);
                    stack.pop();
                }
            }
        }
    }
    None
}

/// The `visible` types in an order where every type comes after the types it uses (the
/// graph is acyclic); among ready types, by name.
fn dependency_order(types: &BTreeMap<String, TypeDto>, visible: &BTreeSet<String>) -> Vec<TypeDto> {
    let mut remaining: BTreeMap<&String, BTreeSet<String>> = types
        .iter()
        .filter(|(n, _)| visible.contains(*n))
        .map(|(n, t)| (n, type_refs(t)))
        .collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let ready = remaining
            .iter()
            .find(|(_, deps)| deps.iter().all(|d| done.contains(d)))
            .map(|(n, _)| (*n).clone())
            // The graph is acyclic, so something is always ready; take the first otherwise
            // (loading will report it).
            .or_else(|| remaining.keys().next().map(|n| (*n).clone()));
        let Some(ready) = ready else {
            break;
        };
        remaining.remove(&ready);
        if let Some(t) = types.get(&ready) {
            out.push(t.clone());
        }
        done.insert(ready);
    }
    out
}

fn is_key(kind: KindDto) -> bool {
    matches!(
        kind,
        KindDto::PartitionKey { .. } | KindDto::Clustering { .. }
    )
}

/// A regular or static column version with the time it was added.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ColumnVersion {
    added_micros: i64,
    column: ColumnDto,
}

/// The merge of two versions of a table. Different ids: the later creation wins. Same id:
/// the parts merge one by one (see the module documentation).
fn join_tables(a: TableDto, b: TableDto) -> TableDto {
    let sa = a.stamps.clone().unwrap_or_default();
    let sb = b.stamps.clone().unwrap_or_default();
    if a.id != b.id {
        return if (sa.created_micros, &a.id) >= (sb.created_micros, &b.id) {
            a
        } else {
            b
        };
    }
    // Primary key names: one value, last write wins.
    let keys = |t: &TableDto| -> Vec<ColumnDto> {
        let mut k: Vec<ColumnDto> = t
            .columns
            .iter()
            .filter(|c| is_key(c.kind))
            .cloned()
            .collect();
        k.sort_by_key(|c| c.id);
        k
    };
    let naming = |k: &[ColumnDto]| -> Vec<(u32, String)> {
        k.iter().map(|c| (c.id, c.name.clone())).collect()
    };
    let (ka, kb) = (keys(&a), keys(&b));
    let (key_names_micros, key_columns) =
        if (sa.key_names_micros, naming(&ka)) >= (sb.key_names_micros, naming(&kb)) {
            (sa.key_names_micros, ka)
        } else {
            (sb.key_names_micros, kb)
        };
    let key_ids: BTreeSet<u32> = key_columns.iter().map(|c| c.id).collect();
    let key_names: BTreeSet<&str> = key_columns.iter().map(|c| c.name.as_str()).collect();
    let mut history: BTreeMap<String, i64> = BTreeMap::new();
    for (n, ts) in sa.key_name_history.iter().chain(&sb.key_name_history) {
        insert_max(&mut history, n.clone(), *ts, |t| *t);
    }
    // Regular and static columns, by id.
    let mut versions: BTreeMap<u32, ColumnVersion> = BTreeMap::new();
    for (t, s) in [(&a, &sa), (&b, &sb)] {
        let added: BTreeMap<u32, i64> = s.columns.iter().copied().collect();
        for c in t.columns.iter().filter(|c| !is_key(c.kind)) {
            if key_ids.contains(&c.id) {
                continue;
            }
            let version = ColumnVersion {
                added_micros: added.get(&c.id).copied().unwrap_or(0),
                column: c.clone(),
            };
            insert_max(&mut versions, c.id, version, Clone::clone);
        }
    }
    let mut dropped_ids: BTreeMap<u32, DroppedColumnIdDto> = BTreeMap::new();
    for d in sa.dropped_column_ids.iter().chain(&sb.dropped_column_ids) {
        insert_max(&mut dropped_ids, d.id, d.clone(), |d| {
            (d.dropped_micros, d.added_micros, d.name.clone())
        });
    }
    versions.retain(|id, _| !dropped_ids.contains_key(id));
    // A column loses to a key column of its name, to a name a key column had when it was
    // added, and to a later column of its name (live or dropped).
    // The latest (added, id) of each name among live and dropped columns.
    let mut latest: BTreeMap<&str, (i64, u32)> = BTreeMap::new();
    let entries = versions
        .iter()
        .map(|(id, v)| (v.column.name.as_str(), (v.added_micros, *id)))
        .chain(
            dropped_ids
                .iter()
                .map(|(id, d)| (d.name.as_str(), (d.added_micros, *id))),
        );
    for (name, stamp) in entries {
        insert_max(&mut latest, name, stamp, |s| *s);
    }
    let live: Vec<(u32, ColumnVersion)> = versions
        .iter()
        .filter(|(id, v)| {
            let name = v.column.name.as_str();
            let beaten = key_names.contains(name)
                || history.get(name).is_some_and(|h| *h >= v.added_micros)
                || latest.get(name) != Some(&(v.added_micros, **id));
            !beaten
        })
        .map(|(id, v)| (*id, v.clone()))
        .collect();
    // Dropped-column records: the latest drop of each name.
    let mut records: BTreeMap<String, DroppedDto> = BTreeMap::new();
    for d in a.dropped_columns.iter().chain(&b.dropped_columns) {
        insert_max(&mut records, d.name.clone(), d.clone(), |d| {
            (d.dropped_at_micros, d.ty.clone(), d.kind)
        });
    }
    let params_order = |p: &crate::params::TableParams| serde_json::to_vec(p).unwrap_or_default();
    let (params_micros, params) = if (sa.params_micros, params_order(&a.params))
        >= (sb.params_micros, params_order(&b.params))
    {
        (sa.params_micros, a.params)
    } else {
        (sb.params_micros, b.params)
    };
    let stamps = TableStampsDto {
        created_micros: sa.created_micros.max(sb.created_micros),
        params_micros,
        key_names_micros,
        columns: live
            .iter()
            .filter(|(_, v)| v.added_micros != 0)
            .map(|(id, v)| (*id, v.added_micros))
            .collect(),
        dropped_column_ids: dropped_ids.into_values().collect(),
        key_name_history: history.into_iter().collect(),
    };
    let mut columns = key_columns;
    columns.extend(live.into_iter().map(|(_, v)| v.column));
    TableDto {
        name: a.name,
        id: a.id,
        columns,
        params,
        dropped_columns: records.into_values().collect(),
        next_column_id: a.next_column_id.max(b.next_column_id),
        stamps: Some(stamps).filter(|s| *s != TableStampsDto::default()),
    }
}

#[cfg(test)]
mod tests;
