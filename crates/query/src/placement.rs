//! Where tables live in the cluster: the schema's replication settings turned into the
//! coordinator's [`Placement`]s.

use std::sync::{Arc, Weak};

use meridian_cluster::coordinator::{Placement, PlacementResolver};
use meridian_cluster::ring::ReplicationStrategy;
use meridian_schema::{Replication, Schema};
use meridian_types::model::TableId;

use crate::context::Node;

/// The replication strategy of a schema replication setting.
pub fn strategy_of(replication: &Replication) -> ReplicationStrategy {
    match replication {
        Replication::Simple { replication_factor } => ReplicationStrategy::Simple {
            replication_factor: *replication_factor as usize,
        },
        Replication::NetworkTopology { datacenters } => ReplicationStrategy::NetworkTopology {
            datacenters: datacenters
                .iter()
                .map(|(dc, rf)| (dc.clone(), *rf as usize))
                .collect(),
        },
        Replication::Local => ReplicationStrategy::Local,
    }
}

/// The placement of a table in `schema`.
pub fn placement_of(schema: &Schema, table: TableId) -> Option<Placement> {
    let t = schema.table_by_id(table)?;
    let ks = schema.keyspace(&t.keyspace)?;
    Some(Placement {
        keyspace: Arc::from(t.keyspace.as_str()),
        strategy: strategy_of(&ks.metadata.replication),
    })
}

/// Resolves placements from a node's current schema.
pub struct SchemaPlacement(pub Weak<Node>);

impl PlacementResolver for SchemaPlacement {
    fn placement(&self, table: TableId) -> Option<Placement> {
        let node = self.0.upgrade()?;
        let schema = node.schema();
        placement_of(&schema, table)
    }
}
