//! On-disk format of the hint store: file names, the segment header, record framing and the
//! replay-progress file.
//!
//! Everything here is pure byte manipulation. All integers are little-endian. Decoders never
//! panic on any input: they return a [`HeaderDefect`] or `None` instead.
//!
//! Segment file `hints-<version>-<seq>.log` (in the target's directory):
//!
//! ```text
//! header  (40 bytes): magic "MRDNHINT" (8) | version u32 (4) | target host id (16)
//!                     | segment sequence number u64 (8) | CRC32C of the previous 36 bytes (4)
//! record  (repeated): payload length u32 (4) | CRC32C of the 4 length bytes (4)
//!                     | CRC32C of the payload (4) | payload
//! payload           : created_at_micros i64 (8) | opaque encoded mutation
//! ```
//!
//! Segments are append-only and not preallocated: the file ends after the last record. A
//! record header of all zero bytes (a filesystem zero-filling after a crash) fails the length
//! checksum, because the CRC32C of four zero bytes is not zero.
//!
//! Progress file `progress` (in the target's directory), replaced atomically by rename:
//!
//! ```text
//! magic "MRDNHPRG" (8) | version u32 (4) | segment seq u64 (8) | offset u64 (8)
//! | CRC32C of the previous 28 bytes (4)
//! ```
//!
//! It is a delivery watermark: every segment whose sequence number is below `seq` is fully
//! delivered, and so is every record of segment `seq` that ends at or before `offset`.

use crate::ids::HostId;

/// Magic bytes opening every hint segment file.
const SEGMENT_MAGIC: [u8; 8] = *b"MRDNHINT";
/// Magic bytes opening the progress file.
const PROGRESS_MAGIC: [u8; 8] = *b"MRDNHPRG";

/// Version of the segment and progress formats written by this code.
pub const HINT_FORMAT_VERSION: u32 = 1;

/// Size of a segment header.
pub const SEGMENT_HEADER_LEN_BYTES: u64 = 40;
/// Size of a record header: length (4) + CRC32C of length (4) + CRC32C of payload (4).
pub const RECORD_HEADER_LEN_BYTES: u64 = 12;
/// Bytes of a record besides the mutation: the record header and the creation time.
pub const RECORD_OVERHEAD_BYTES: u64 = RECORD_HEADER_LEN_BYTES + CREATED_AT_LEN_BYTES;
/// Size of the creation time at the start of every payload.
pub(crate) const CREATED_AT_LEN_BYTES: u64 = 8;
/// Size of the progress file.
pub(crate) const PROGRESS_LEN_BYTES: usize = 32;

/// File name prefix of segment files.
const SEGMENT_PREFIX: &str = "hints-";
/// File name suffix of segment files.
const SEGMENT_SUFFIX: &str = ".log";
/// Name of the progress file inside a target directory.
pub(crate) const PROGRESS_FILE_NAME: &str = "progress";
/// Name under which a new progress file is written before being renamed.
pub(crate) const PROGRESS_TEMP_FILE_NAME: &str = "progress.tmp";
/// Name of the file locked to keep a second store out of the directory.
pub(crate) const LOCK_FILE_NAME: &str = "hints.lock";

/// The file name of segment `seq`: `hints-<version>-<seq>.log`.
pub(crate) fn segment_file_name(seq: u64) -> String {
    format!("{SEGMENT_PREFIX}{HINT_FORMAT_VERSION}-{seq}{SEGMENT_SUFFIX}")
}

/// Parses a segment file name into `(version, seq)`; `None` for any other name.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<(u32, u64)> {
    let rest = name
        .strip_prefix(SEGMENT_PREFIX)?
        .strip_suffix(SEGMENT_SUFFIX)?;
    let (version, seq) = rest.split_once('-')?;
    let version = u32::try_from(parse_decimal(version)?).ok()?;
    Some((version, parse_decimal(seq)?))
}

/// Parses a target directory name: the canonical hyphenated form of a host id.
pub(crate) fn parse_target_dir_name(name: &str) -> Option<HostId> {
    let uuid = uuid::Uuid::parse_str(name).ok()?;
    let host = HostId(uuid);
    (host.to_string() == name).then_some(host)
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Encodes the header of segment `seq` of `target`.
pub(crate) fn encode_segment_header(
    target: HostId,
    seq: u64,
) -> [u8; SEGMENT_HEADER_LEN_BYTES as usize] {
    let mut out = [0u8; SEGMENT_HEADER_LEN_BYTES as usize];
    out[0..8].copy_from_slice(&SEGMENT_MAGIC);
    out[8..12].copy_from_slice(&HINT_FORMAT_VERSION.to_le_bytes());
    out[12..28].copy_from_slice(target.0.as_bytes());
    out[28..36].copy_from_slice(&seq.to_le_bytes());
    let crc = crc32c::crc32c(&out[0..36]);
    out[36..40].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Why a segment header is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderDefect {
    /// The file is shorter than a segment header.
    Truncated,
    /// The magic bytes are wrong: not a hint segment.
    BadMagic,
    /// The header CRC32C does not match its contents.
    ChecksumMismatch,
    /// The header names a format version this code cannot read.
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// The header belongs to another target than the directory it is in.
    TargetMismatch {
        /// The host id stored in the header.
        header_target: HostId,
    },
    /// The sequence number in the header differs from the one in the file name.
    SeqMismatch {
        /// The sequence number stored in the header.
        header_seq: u64,
    },
}

/// Decodes a segment header and checks it against the target and sequence number expected
/// from the file's place and name.
pub(crate) fn decode_segment_header(
    bytes: &[u8],
    expected_target: HostId,
    expected_seq: u64,
) -> Result<(), HeaderDefect> {
    let Some(header) = bytes.get(0..SEGMENT_HEADER_LEN_BYTES as usize) else {
        return Err(HeaderDefect::Truncated);
    };
    if header.get(0..8) != Some(&SEGMENT_MAGIC[..]) {
        return Err(HeaderDefect::BadMagic);
    }
    if crc32c::crc32c(header.get(0..36).unwrap_or_default()) != read_u32(header, 36) {
        return Err(HeaderDefect::ChecksumMismatch);
    }
    let version = read_u32(header, 8);
    if version != HINT_FORMAT_VERSION {
        return Err(HeaderDefect::UnsupportedVersion { version });
    }
    let mut uuid = [0u8; 16];
    if let Some(src) = header.get(12..28) {
        uuid.copy_from_slice(src);
    }
    let header_target = HostId(uuid::Uuid::from_bytes(uuid));
    if header_target != expected_target {
        return Err(HeaderDefect::TargetMismatch { header_target });
    }
    let header_seq = read_u64(header, 28);
    if header_seq != expected_seq {
        return Err(HeaderDefect::SeqMismatch { header_seq });
    }
    Ok(())
}

/// Encodes a complete record (header, creation time, mutation) into one buffer, so that it
/// is written with a single call.
///
/// The caller guarantees that the payload length fits a `u32` (enforced by the hint size
/// limit, far below 4 GiB).
pub(crate) fn encode_record(created_at_micros: i64, mutation: &[u8]) -> Vec<u8> {
    let payload_len = CREATED_AT_LEN_BYTES as usize + mutation.len();
    debug_assert!(u32::try_from(payload_len).is_ok());
    let mut out = Vec::with_capacity(RECORD_HEADER_LEN_BYTES as usize + payload_len);
    let len_bytes = (payload_len as u32).to_le_bytes();
    out.extend_from_slice(&len_bytes);
    out.extend_from_slice(&crc32c::crc32c(&len_bytes).to_le_bytes());
    let created = created_at_micros.to_le_bytes();
    let payload_crc = crc32c::crc32c_append(crc32c::crc32c(&created), mutation);
    out.extend_from_slice(&payload_crc.to_le_bytes());
    out.extend_from_slice(&created);
    out.extend_from_slice(mutation);
    out
}

/// A record header whose length checksum matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    /// Length of the payload that follows.
    pub(crate) payload_len_bytes: u32,
    /// CRC32C the payload must have.
    pub(crate) payload_crc: u32,
}

/// Decodes a record header; `None` when the length checksum does not match (a torn,
/// zero-filled or corrupted length).
pub(crate) fn decode_record_header(
    bytes: &[u8; RECORD_HEADER_LEN_BYTES as usize],
) -> Option<RecordHeader> {
    let len_bytes = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if crc32c::crc32c(&len_bytes) != read_u32(bytes, 4) {
        return None;
    }
    Some(RecordHeader {
        payload_len_bytes: u32::from_le_bytes(len_bytes),
        payload_crc: read_u32(bytes, 8),
    })
}

/// The creation time at the start of a payload; `None` if the payload is too short.
pub(crate) fn payload_created_at(payload: &[u8]) -> Option<i64> {
    let bytes = payload.get(0..CREATED_AT_LEN_BYTES as usize)?;
    Some(i64::from_le_bytes(<[u8; 8]>::try_from(bytes).ok()?))
}

/// A delivery watermark (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Progress {
    /// Segments below this sequence number are fully delivered.
    pub(crate) seq: u64,
    /// Records of segment `seq` ending at or before this offset are delivered.
    pub(crate) offset: u64,
}

/// Encodes the progress file.
pub(crate) fn encode_progress(progress: Progress) -> [u8; PROGRESS_LEN_BYTES] {
    let mut out = [0u8; PROGRESS_LEN_BYTES];
    out[0..8].copy_from_slice(&PROGRESS_MAGIC);
    out[8..12].copy_from_slice(&HINT_FORMAT_VERSION.to_le_bytes());
    out[12..20].copy_from_slice(&progress.seq.to_le_bytes());
    out[20..28].copy_from_slice(&progress.offset.to_le_bytes());
    let crc = crc32c::crc32c(&out[0..28]);
    out[28..32].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes the progress file; `None` if it is damaged or of another version.
pub(crate) fn decode_progress(bytes: &[u8]) -> Option<Progress> {
    if bytes.len() != PROGRESS_LEN_BYTES || bytes.get(0..8) != Some(&PROGRESS_MAGIC[..]) {
        return None;
    }
    if crc32c::crc32c(bytes.get(0..28)?) != read_u32(bytes, 28)
        || read_u32(bytes, 8) != HINT_FORMAT_VERSION
    {
        return None;
    }
    Some(Progress {
        seq: read_u64(bytes, 12),
        offset: read_u64(bytes, 20),
    })
}

/// Reads a little-endian `u32` at `at` (0 if the slice is too short).
fn read_u32(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_le_bytes)
}

/// Reads a little-endian `u64` at `at` (0 if the slice is too short).
fn read_u64(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(n: u128) -> HostId {
        HostId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn segment_names_round_trip_and_reject_others() {
        let name = segment_file_name(1234);
        assert_eq!(name, "hints-1-1234.log");
        assert_eq!(parse_segment_file_name(&name), Some((1, 1234)));
        for bad in [
            "hints-1-.log",
            "hints--5.log",
            "hints-1-5.log.tmp",
            "hints-1-+5.log",
            "hints-1-5",
            "Hints-1-5.log",
            "hints-99999999999-5.log",
            "hints-1-99999999999999999999999.log",
            "progress",
        ] {
            assert_eq!(parse_segment_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn target_dir_names_are_canonical_host_ids() {
        let h = host(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(parse_target_dir_name(&h.to_string()), Some(h));
        assert_eq!(parse_target_dir_name(&h.to_string().to_uppercase()), None);
        assert_eq!(parse_target_dir_name(&h.0.simple().to_string()), None);
        assert_eq!(parse_target_dir_name("hints.lock"), None);
    }

    #[test]
    fn segment_header_round_trip_and_defects() {
        let h = host(7);
        let header = encode_segment_header(h, 42);
        assert_eq!(&header[0..8], b"MRDNHINT");
        assert_eq!(decode_segment_header(&header, h, 42), Ok(()));
        assert_eq!(
            decode_segment_header(&header, h, 43),
            Err(HeaderDefect::SeqMismatch { header_seq: 42 })
        );
        assert_eq!(
            decode_segment_header(&header, host(8), 42),
            Err(HeaderDefect::TargetMismatch { header_target: h })
        );
        assert_eq!(
            decode_segment_header(&header[..39], h, 42),
            Err(HeaderDefect::Truncated)
        );
        let mut bad = header;
        bad[3] ^= 1;
        assert_eq!(
            decode_segment_header(&bad, h, 42),
            Err(HeaderDefect::BadMagic)
        );
        for byte in 8..40 {
            let mut bad = header;
            bad[byte] ^= 0x10;
            assert_eq!(
                decode_segment_header(&bad, h, 42),
                Err(HeaderDefect::ChecksumMismatch),
                "flip in byte {byte}"
            );
        }
    }

    #[test]
    fn record_round_trip_and_length_bit_flips() {
        let record = encode_record(-5, b"mutation");
        assert_eq!(record.len() as u64, RECORD_OVERHEAD_BYTES + 8);
        let header: [u8; 12] = record[0..12].try_into().unwrap();
        let decoded = decode_record_header(&header).unwrap();
        assert_eq!(decoded.payload_len_bytes, 16);
        assert_eq!(decoded.payload_crc, crc32c::crc32c(&record[12..]));
        assert_eq!(payload_created_at(&record[12..]), Some(-5));
        assert_eq!(&record[20..], b"mutation");
        for bit in 0..64 {
            let mut bad = header;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(decode_record_header(&bad), None, "bit {bit}");
        }
        assert_eq!(decode_record_header(&[0; 12]), None);
        assert_eq!(payload_created_at(&[1, 2, 3]), None);
    }

    #[test]
    fn progress_round_trip_and_damage() {
        let p = Progress {
            seq: 9,
            offset: 1234,
        };
        let bytes = encode_progress(p);
        assert_eq!(decode_progress(&bytes), Some(p));
        assert_eq!(decode_progress(&bytes[..31]), None);
        for byte in 0..PROGRESS_LEN_BYTES {
            let mut bad = bytes;
            bad[byte] ^= 0x01;
            assert_eq!(decode_progress(&bad), None, "flip in byte {byte}");
        }
    }
}
