//! Table metadata: [`TableMetadata`], its columns ([`ColumnMetadata`], [`ColumnKind`]) and
//! the record of dropped columns ([`DroppedColumn`]).
//!
//! Invariants of every table this crate builds (the mutation API in `ddl` maintains them):
//! column names are unique; partition key positions are `0..n` and clustering positions
//! `0..m`; `columns` is kept in Cassandra's "create order" (see
//! [`TableMetadata::columns`]); column ids are unique, below `next_column_id`, and never
//! reused, so a dropped and re-added column never sees the old column's data.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use md5::{Digest, Md5};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{ClusteringComparator, ClusteringOrder, ColumnId, TableId};

use crate::cql::qualified_name;
use crate::params::TableParams;

/// The role of a column in its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Part of the partition key, at `position` (0-based).
    PartitionKey {
        /// Position in the partition key.
        position: u32,
    },
    /// A clustering column, at `position` (0-based), sorted in `order`.
    Clustering {
        /// Position among the clustering columns.
        position: u32,
        /// Sort order.
        order: ClusteringOrder,
    },
    /// A regular column.
    Regular,
    /// A static column (one value per partition).
    Static,
}

impl ColumnKind {
    /// Cassandra's name of the kind, as stored in `system_schema.columns.kind`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ColumnKind::PartitionKey { .. } => "partition_key",
            ColumnKind::Clustering { .. } => "clustering",
            ColumnKind::Regular => "regular",
            ColumnKind::Static => "static",
        }
    }

    /// `system_schema.columns.position`: the key position, `-1` for regular and static
    /// columns.
    pub fn position(&self) -> i32 {
        match self {
            ColumnKind::PartitionKey { position } | ColumnKind::Clustering { position, .. } => {
                i32::try_from(*position).unwrap_or(i32::MAX)
            }
            ColumnKind::Regular | ColumnKind::Static => -1,
        }
    }

    /// `system_schema.columns.clustering_order`: `asc`, `desc` or `none`.
    pub fn clustering_order_str(&self) -> &'static str {
        match self {
            ColumnKind::Clustering {
                order: ClusteringOrder::Asc,
                ..
            } => "asc",
            ColumnKind::Clustering {
                order: ClusteringOrder::Desc,
                ..
            } => "desc",
            _ => "none",
        }
    }

    /// Whether the column is part of the primary key.
    pub fn is_primary_key(&self) -> bool {
        matches!(
            self,
            ColumnKind::PartitionKey { .. } | ColumnKind::Clustering { .. }
        )
    }

    /// Ordinal of the kind in Cassandra's column order (partition key, clustering, regular,
    /// static).
    fn ordinal(&self) -> u8 {
        match self {
            ColumnKind::PartitionKey { .. } => 0,
            ColumnKind::Clustering { .. } => 1,
            ColumnKind::Regular => 2,
            ColumnKind::Static => 3,
        }
    }
}

/// One column of a table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ColumnMetadata {
    /// Column name (case-sensitive, as stored).
    pub name: String,
    /// Stable identifier, never reused within the table.
    pub id: ColumnId,
    /// The column type (for clustering columns, the type without the sort order).
    pub ty: CqlType,
    /// Key role.
    pub kind: ColumnKind,
}

impl ColumnMetadata {
    /// Whether the column stores one cell per element (a non-frozen collection or UDT).
    pub fn is_complex(&self) -> bool {
        self.ty.is_multi_cell()
    }
}

/// A dropped column, kept so that data written before the drop is ignored (and so that the
/// column can only be re-added with a compatible type).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DroppedColumn {
    /// The column's type, with user-defined types replaced by tuples (Cassandra does so, so
    /// that the record outlives the types).
    pub ty: CqlType,
    /// [`ColumnKind::Regular`] or [`ColumnKind::Static`].
    pub kind: ColumnKind,
    /// When the column was dropped (`USING TIMESTAMP` or the statement time), in microseconds.
    pub dropped_at_micros: i64,
}

/// The metadata of one table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableMetadata {
    /// Keyspace name.
    pub keyspace: String,
    /// Table name.
    pub name: String,
    /// Table id (system tables: derived from the keyspace and table names).
    pub id: TableId,
    /// Columns in create order: see [`TableMetadata::columns`].
    pub columns: Vec<ColumnMetadata>,
    /// Table options.
    pub params: TableParams,
    /// Dropped columns by name.
    pub dropped_columns: BTreeMap<String, DroppedColumn>,
    /// The id the next added column gets.
    pub next_column_id: u32,
    /// Whether this is a virtual table (its rows are computed, not stored).
    pub is_virtual: bool,
}

/// Cassandra's `UUID.nameUUIDFromBytes`: the MD5 of `bytes` as a version 3 (name-based) UUID.
pub fn name_uuid_from_bytes(bytes: &[u8]) -> uuid::Uuid {
    let digest: [u8; 16] = Md5::digest(bytes).into();
    let mut b = digest;
    b[6] = (b[6] & 0x0f) | 0x30;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b)
}

/// The id Cassandra gives a system (or virtual) table: `nameUUIDFromBytes(keyspace ‖ table)`
/// over the names' UTF-8 bytes (`TableId.forSystemTable`).
pub fn system_table_id(keyspace: &str, table: &str) -> TableId {
    let mut bytes = keyspace.as_bytes().to_vec();
    bytes.extend_from_slice(table.as_bytes());
    TableId(name_uuid_from_bytes(&bytes))
}

/// Cassandra's column order within a kind: simple columns before complex ones, then by name
/// (unsigned UTF-8 bytes); key columns by position.
fn create_order(a: &ColumnMetadata, b: &ColumnMetadata) -> Ordering {
    let key = |c: &ColumnMetadata| -> (u8, i64, bool) {
        // Statics come before regulars in the column list (Cassandra's
        // RegularAndStaticColumns iterates statics first).
        let rank = match c.kind {
            ColumnKind::Static => 2,
            ColumnKind::Regular => 3,
            other => other.ordinal(),
        };
        (rank, i64::from(c.kind.position()), c.is_complex())
    };
    key(a).cmp(&key(b)).then_with(|| a.name.cmp(&b.name))
}

impl TableMetadata {
    /// `keyspace.name`, quoted where needed (Cassandra's `TableMetadata.toString()`).
    pub fn qualified_name(&self) -> String {
        qualified_name(&self.keyspace, &self.name)
    }

    /// The columns in Cassandra's create order: partition key columns by position, clustering
    /// columns by position, then static columns, then regular columns — within each of the
    /// last two, simple columns by name, then complex (non-frozen collection or UDT) columns
    /// by name. This is the order of `DESCRIBE`.
    pub fn columns(&self) -> &[ColumnMetadata] {
        &self.columns
    }

    /// Restores the create order of `columns` (after adding or renaming columns).
    pub(crate) fn sort_columns(&mut self) {
        self.columns.sort_by(create_order);
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnMetadata> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column with id `id`.
    pub fn column_by_id(&self, id: ColumnId) -> Option<&ColumnMetadata> {
        self.columns.iter().find(|c| c.id == id)
    }

    /// Partition key columns, by position.
    pub fn partition_key_columns(&self) -> Vec<&ColumnMetadata> {
        let mut cols: Vec<&ColumnMetadata> = self
            .columns
            .iter()
            .filter(|c| matches!(c.kind, ColumnKind::PartitionKey { .. }))
            .collect();
        cols.sort_by_key(|c| c.kind.position());
        cols
    }

    /// Clustering columns, by position.
    pub fn clustering_columns(&self) -> Vec<&ColumnMetadata> {
        let mut cols: Vec<&ColumnMetadata> = self
            .columns
            .iter()
            .filter(|c| matches!(c.kind, ColumnKind::Clustering { .. }))
            .collect();
        cols.sort_by_key(|c| c.kind.position());
        cols
    }

    /// Static columns, by name.
    pub fn static_columns(&self) -> Vec<&ColumnMetadata> {
        let mut cols: Vec<&ColumnMetadata> = self
            .columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Static)
            .collect();
        cols.sort_by(|a, b| a.name.cmp(&b.name));
        cols
    }

    /// Regular columns, by name.
    pub fn regular_columns(&self) -> Vec<&ColumnMetadata> {
        let mut cols: Vec<&ColumnMetadata> = self
            .columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Regular)
            .collect();
        cols.sort_by(|a, b| a.name.cmp(&b.name));
        cols
    }

    /// The columns in the order of `SELECT *`: partition key, clustering, then static
    /// columns by name, then regular columns by name.
    pub fn select_order(&self) -> Vec<&ColumnMetadata> {
        let mut cols = self.partition_key_columns();
        cols.extend(self.clustering_columns());
        cols.extend(self.static_columns());
        cols.extend(self.regular_columns());
        cols
    }

    /// The comparator of this table's clusterings.
    pub fn clustering_comparator(&self) -> ClusteringComparator {
        ClusteringComparator::new(
            self.clustering_columns()
                .into_iter()
                .map(|c| match c.kind {
                    ColumnKind::Clustering { order, .. } => (c.ty.clone(), order),
                    _ => (c.ty.clone(), ClusteringOrder::Asc),
                })
                .collect(),
        )
    }

    /// Whether this is a counter table (its non-key columns are counters).
    pub fn is_counter(&self) -> bool {
        self.columns
            .iter()
            .any(|c| !c.kind.is_primary_key() && c.ty.is_counter())
    }

    /// `system_schema.tables.flags`: `compound`, plus `counter` for counter tables.
    pub fn flags(&self) -> Vec<&'static str> {
        if self.is_counter() {
            vec!["compound", "counter"]
        } else {
            vec!["compound"]
        }
    }

    /// Whether the table belongs to one of Cassandra's system keyspaces.
    pub fn is_system(&self) -> bool {
        crate::system::is_builtin_keyspace(&self.keyspace)
    }

    /// Whether any column (or UDT inside a column) refers to the user type `name`.
    pub fn references_user_type(&self, name: &str) -> bool {
        self.columns
            .iter()
            .any(|c| crate::keyspace::type_references(&c.ty, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_uuids_match_java() {
        // Java: UUID.nameUUIDFromBytes(new byte[0]) = d41d8cd9-8f00-3204-a980-0998ecf8427e
        assert_eq!(
            name_uuid_from_bytes(b"").to_string(),
            "d41d8cd9-8f00-3204-a980-0998ecf8427e"
        );
        let id = system_table_id("system", "local");
        assert_eq!(id.0.get_version_num(), 3);
        assert_eq!(id, system_table_id("system", "local"));
        assert_ne!(id, system_table_id("system", "peers"));
    }

    #[test]
    fn column_kinds() {
        let k = ColumnKind::Clustering {
            position: 1,
            order: ClusteringOrder::Desc,
        };
        assert_eq!(k.as_str(), "clustering");
        assert_eq!(k.position(), 1);
        assert_eq!(k.clustering_order_str(), "desc");
        assert_eq!(ColumnKind::Regular.position(), -1);
        assert_eq!(ColumnKind::Static.clustering_order_str(), "none");
    }
}
