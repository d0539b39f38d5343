//! Identifiers shared by the cluster modules.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A node's permanent identity (Cassandra's `host_id`): chosen at first start, kept in the
/// data directory, and unchanged by restarts or address changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HostId(pub uuid::Uuid);

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
