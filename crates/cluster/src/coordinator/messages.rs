//! The coordinator's internode verbs and their postcard bodies.
//!
//! Partitions and mutations travel in the storage encoding of `types::model::codec`
//! (docs/mutation-format.md), wrapped in `Vec<u8>` fields; everything else is postcard.
//! Bodies from the network are untrusted: decoding errors are errors, never panics.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use meridian_types::model::{decode_partition, encode_partition};
use meridian_types::model::{Clustering, ClusteringComparator, Cut, Partition, Slice, TableId};
use meridian_types::token::PartitionKey;
use serde::{Deserialize, Serialize};

use crate::ids::HostId;
use crate::net::Verb;

/// Apply a mutation (body: encoded mutation). Answer: empty.
pub const VERB_MUTATION: Verb = Verb(1);
/// Apply a mutation and forward it to other replicas of this datacenter, each of which
/// acknowledges to the coordinator with [`VERB_WRITE_ACK`] (body: [`ForwardedMutation`]).
pub const VERB_MUTATION_FORWARD: Verb = Verb(2);
/// One replica acknowledges a forwarded write (one-way; body: [`WriteAck`]).
pub const VERB_WRITE_ACK: Verb = Verb(3);
/// Read one partition (body: [`ReadRequest`], answer: [`ReadResponse`]).
pub const VERB_READ: Verb = Verb(4);
/// Read partitions of a key range (body: [`RangeReadRequest`], answer: [`RangeReadResponse`]).
pub const VERB_RANGE_READ: Verb = Verb(5);
/// A replayed hint: apply a mutation (body: encoded mutation). Answer: empty.
pub const VERB_HINT: Verb = Verb(6);
/// Truncate a table (body: 16-byte table id). Answer: empty.
pub const VERB_TRUNCATE: Verb = Verb(7);
/// Verbs from this number up belong to layers above (schema exchange and others).
pub const FIRST_EXTENSION_VERB: u16 = 100;

/// A slice in transferable form.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireSlice {
    start: (Vec<Vec<u8>>, bool),
    end: (Vec<Vec<u8>>, bool),
}

fn cut_to_wire(c: &Cut) -> (Vec<Vec<u8>>, bool) {
    (c.prefix.0.iter().map(|b| b.to_vec()).collect(), c.after)
}

fn cut_from_wire(w: &(Vec<Vec<u8>>, bool)) -> Cut {
    Cut {
        prefix: Clustering(w.0.iter().map(|b| Bytes::copy_from_slice(b)).collect()),
        after: w.1,
    }
}

impl WireSlice {
    /// Slices to wire form.
    pub fn encode(slices: &[Slice]) -> Vec<WireSlice> {
        slices
            .iter()
            .map(|s| WireSlice {
                start: cut_to_wire(&s.start),
                end: cut_to_wire(&s.end),
            })
            .collect()
    }

    /// Slices from wire form.
    pub fn decode(wire: &[WireSlice]) -> Vec<Slice> {
        wire.iter()
            .map(|w| Slice {
                start: cut_from_wire(&w.start),
                end: cut_from_wire(&w.end),
            })
            .collect()
    }
}

/// A forwarded write.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ForwardedMutation {
    /// Coordinator's write id, echoed in acknowledgements.
    pub write_id: u64,
    /// Where acknowledgements go (the coordinator's internode address).
    pub reply_to: SocketAddr,
    /// Encoded mutation.
    pub mutation: Vec<u8>,
    /// Other replicas to forward to.
    pub forward_to: Vec<(HostId, SocketAddr)>,
}

/// Acknowledgement of a forwarded write by one replica.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WriteAck {
    /// The coordinator's write id.
    pub write_id: u64,
    /// The replica that applied it.
    pub replica: HostId,
    /// Whether it was applied (false: the replica failed to apply or was unreachable).
    pub applied: bool,
}

/// A single-partition read.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReadRequest {
    /// The table.
    pub table: [u8; 16],
    /// The partition key bytes.
    pub key: Vec<u8>,
    /// What to read.
    pub slices: Vec<WireSlice>,
    /// Answer with a digest only.
    pub digest_only: bool,
}

/// The answer to a [`ReadRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ReadResponse {
    /// The partition (encoded; empty vector: no data).
    Data(Option<Vec<u8>>),
    /// The digest of the partition.
    Digest([u8; 16]),
}

/// A range read: partitions with keys in (start, end], at most `max_partitions`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RangeReadRequest {
    /// The table.
    pub table: [u8; 16],
    /// Lower bound.
    pub start: WireKeyBound,
    /// Upper bound.
    pub end: WireKeyBound,
    /// Most partitions to return.
    pub max_partitions: u32,
    /// Most bytes (encoded) to return, at least one partition.
    pub max_bytes: u32,
}

/// A partition-key bound in transferable form.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum WireKeyBound {
    /// Unbounded.
    Unbounded,
    /// Included: token and key bytes.
    Included(i64, Vec<u8>),
    /// Excluded: token and key bytes.
    Excluded(i64, Vec<u8>),
}

impl WireKeyBound {
    /// From a key bound.
    pub fn encode(b: &std::ops::Bound<PartitionKey>) -> WireKeyBound {
        use std::ops::Bound;
        match b {
            Bound::Unbounded => WireKeyBound::Unbounded,
            Bound::Included(k) => WireKeyBound::Included(k.token().0, k.key().to_vec()),
            Bound::Excluded(k) => WireKeyBound::Excluded(k.token().0, k.key().to_vec()),
        }
    }

    /// To a key bound.
    pub fn decode(&self) -> std::ops::Bound<PartitionKey> {
        use meridian_types::token::Token;
        use std::ops::Bound;
        match self {
            WireKeyBound::Unbounded => Bound::Unbounded,
            WireKeyBound::Included(t, k) => Bound::Included(PartitionKey::from_parts(
                Token(*t),
                Bytes::copy_from_slice(k),
            )),
            WireKeyBound::Excluded(t, k) => Bound::Excluded(PartitionKey::from_parts(
                Token(*t),
                Bytes::copy_from_slice(k),
            )),
        }
    }
}

/// The answer to a [`RangeReadRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RangeReadResponse {
    /// Partitions in key order: key bytes and encoded partition.
    pub partitions: Vec<(Vec<u8>, Vec<u8>)>,
    /// Whether the replica stopped because of a limit (more may follow the last key).
    pub truncated: bool,
}

/// Encodes a partition in the storage encoding.
pub fn partition_bytes(p: &Partition) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode_partition(&mut buf, p);
    buf.to_vec()
}

/// Decodes a partition received from a peer.
pub fn partition_from_bytes(bytes: &[u8], cmp: &ClusteringComparator) -> Result<Partition, String> {
    decode_partition(Bytes::copy_from_slice(bytes), cmp).map_err(|e| e.to_string())
}

/// The digest of a partition as a replica reports it (MD5 of its storage encoding, which
/// is canonical: equal partitions encode equally).
pub fn digest_of(p: Option<&Partition>) -> [u8; 16] {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    if let Some(p) = p {
        if !p.is_empty() {
            h.update(partition_bytes(p));
        }
    }
    h.finalize().into()
}

/// Encodes a postcard body.
pub fn to_body<T: Serialize>(value: &T) -> Bytes {
    // Serializing plain data into a growable vector cannot fail.
    Bytes::from(postcard::to_stdvec(value).unwrap_or_default())
}

/// Decodes a postcard body.
pub fn from_body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| format!("malformed message body: {e}"))
}

/// A table id from its wire form.
pub fn table_id(bytes: [u8; 16]) -> TableId {
    TableId(uuid::Uuid::from_bytes(bytes))
}
