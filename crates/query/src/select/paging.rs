//! The paging state of `SELECT`: where the previous page stopped, as an opaque, versioned
//! blob handed to the client and sent back with the next request.
//!
//! Layout (all integers big-endian):
//!
//! | field | size |
//! |---|---|
//! | magic `MRPS` | 4 |
//! | format version (1) | 1 |
//! | table id | 16 |
//! | flags: bit 0 = clustering present, bit 1 = partition done | 1 |
//! | partition key length, key | 4 + n |
//! | clustering component count, then per component length and bytes | 2 + (4 + n)* |
//! | rows (or groups) still allowed by `LIMIT` | 4 |
//! | rows (or groups) still allowed in the current partition by `PER PARTITION LIMIT` | 4 |
//!
//! The state names the last row returned (its partition key and clustering; no clustering
//! when it was a partition's static-only row or when the whole partition is done), so the
//! next page starts strictly after it: no row is skipped or returned twice as long as the
//! data does not change. A state that does not decode exactly, belongs to another table or
//! does not fit the table's key shape is an `InvalidRequest`, never a panic.

use bytes::{BufMut, Bytes, BytesMut};
use meridian_types::model::{Clustering, TableId};

use crate::error::QueryError;

/// Magic bytes opening every paging state.
const MAGIC: &[u8; 4] = b"MRPS";
/// Current format version.
const FORMAT_VERSION: u8 = 1;
/// Largest paging state accepted, in bytes (keys are at most 64 KiB per component).
pub(crate) const MAX_PAGING_STATE_BYTES: usize = 4 * 1024 * 1024;
/// Value of the limit counters meaning "no limit".
pub(crate) const UNLIMITED: u32 = u32::MAX;

const FLAG_CLUSTERING: u8 = 0x01;
const FLAG_PARTITION_DONE: u8 = 0x02;

/// Where a paged `SELECT` resumes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PagingState {
    /// Serialized partition key of the last row returned.
    pub partition_key: Bytes,
    /// Clustering of the last row returned; `None` when it was a static-only row.
    pub clustering: Option<Clustering>,
    /// Whether nothing more of that partition is to be returned.
    pub partition_done: bool,
    /// Rows (groups for `GROUP BY`) still allowed by `LIMIT`; [`UNLIMITED`] for none.
    pub remaining: u32,
    /// Rows (groups) still allowed in that partition by `PER PARTITION LIMIT`.
    pub remaining_in_partition: u32,
}

fn invalid() -> QueryError {
    QueryError::invalid("Invalid value for the paging state")
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl PagingState {
    /// Serializes the state for `table`.
    pub fn encode(&self, table: TableId) -> Bytes {
        let mut out = BytesMut::new();
        out.put_slice(MAGIC);
        out.put_u8(FORMAT_VERSION);
        out.put_slice(table.0.as_bytes());
        let mut flags = 0;
        if self.clustering.is_some() {
            flags |= FLAG_CLUSTERING;
        }
        if self.partition_done {
            flags |= FLAG_PARTITION_DONE;
        }
        out.put_u8(flags);
        out.put_u32(len_u32(self.partition_key.len()));
        out.put_slice(&self.partition_key);
        if let Some(c) = &self.clustering {
            out.put_u16(u16::try_from(c.len()).unwrap_or(u16::MAX));
            for component in &c.0 {
                out.put_u32(len_u32(component.len()));
                out.put_slice(component);
            }
        }
        out.put_u32(self.remaining);
        out.put_u32(self.remaining_in_partition);
        out.freeze()
    }

    /// Decodes a client-supplied state for `table`, whose clusterings have
    /// `clustering_columns` components.
    pub fn decode(
        bytes: &[u8],
        table: TableId,
        clustering_columns: usize,
    ) -> Result<PagingState, QueryError> {
        if bytes.len() > MAX_PAGING_STATE_BYTES {
            return Err(invalid());
        }
        let mut r = Cursor { rest: bytes };
        if r.take(4)? != MAGIC || r.u8()? != FORMAT_VERSION {
            return Err(invalid());
        }
        if r.take(16)? != table.0.as_bytes() {
            return Err(invalid());
        }
        let flags = r.u8()?;
        if flags & !(FLAG_CLUSTERING | FLAG_PARTITION_DONE) != 0 {
            return Err(invalid());
        }
        let key_len = r.u32()? as usize;
        let partition_key = Bytes::copy_from_slice(r.take(key_len)?);
        let clustering = if flags & FLAG_CLUSTERING != 0 {
            let count = usize::from(r.u16()?);
            if count != clustering_columns {
                return Err(invalid());
            }
            let mut components = Vec::with_capacity(count);
            for _ in 0..count {
                let len = r.u32()? as usize;
                components.push(Bytes::copy_from_slice(r.take(len)?));
            }
            Some(Clustering(components))
        } else {
            None
        };
        let remaining = r.u32()?;
        let remaining_in_partition = r.u32()?;
        if !r.rest.is_empty() || partition_key.is_empty() {
            return Err(invalid());
        }
        Ok(PagingState {
            partition_key,
            clustering,
            partition_done: flags & FLAG_PARTITION_DONE != 0,
            remaining,
            remaining_in_partition,
        })
    }
}

struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], QueryError> {
        if self.rest.len() < n {
            return Err(invalid());
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, QueryError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, QueryError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, QueryError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table() -> TableId {
        TableId(uuid::Uuid::from_u128(0x1234))
    }

    #[test]
    fn round_trips() {
        let states = [
            PagingState {
                partition_key: Bytes::from_static(b"k"),
                clustering: Some(Clustering(vec![Bytes::from_static(b"a"), Bytes::new()])),
                partition_done: false,
                remaining: 7,
                remaining_in_partition: UNLIMITED,
            },
            PagingState {
                partition_key: Bytes::from_static(b"\x00\x01"),
                clustering: None,
                partition_done: true,
                remaining: UNLIMITED,
                remaining_in_partition: 0,
            },
        ];
        for s in states {
            let n = s.clustering.as_ref().map_or(2, |c| c.len());
            let bytes = s.encode(table());
            assert_eq!(PagingState::decode(&bytes, table(), n).expect("decodes"), s);
        }
    }

    #[test]
    fn rejects_foreign_or_malformed_states() {
        let s = PagingState {
            partition_key: Bytes::from_static(b"k"),
            clustering: Some(Clustering(vec![Bytes::from_static(b"a")])),
            partition_done: false,
            remaining: 1,
            remaining_in_partition: 1,
        };
        let bytes = s.encode(table());
        let other = TableId(uuid::Uuid::from_u128(9));
        assert!(PagingState::decode(&bytes, other, 1).is_err());
        assert!(PagingState::decode(&bytes, table(), 2).is_err());
        for cut in 0..bytes.len() {
            assert!(PagingState::decode(&bytes[..cut], table(), 1).is_err());
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(PagingState::decode(&longer, table(), 1).is_err());
        let err = PagingState::decode(b"garbage", table(), 1).unwrap_err();
        assert_eq!(err.to_string(), "Invalid value for the paging state");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = PagingState::decode(&bytes, table(), 1);
        }

        #[test]
        fn mutated_states_never_panic(pos in 0usize..64, byte in any::<u8>()) {
            let s = PagingState {
                partition_key: Bytes::from_static(b"key"),
                clustering: Some(Clustering(vec![Bytes::from_static(b"c")])),
                partition_done: false,
                remaining: 3,
                remaining_in_partition: 2,
            };
            let mut bytes = s.encode(table()).to_vec();
            let i = pos % bytes.len();
            bytes[i] = byte;
            let _ = PagingState::decode(&bytes, table(), 1);
        }
    }
}
