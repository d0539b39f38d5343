//! On-disk format of commit log segments: file names, the segment header and record framing.
//!
//! Everything here is pure byte manipulation; it is specified byte by byte in
//! `docs/commitlog-format.md`. All integers are little-endian. Decoders never panic on any
//! input: they return a [`HeaderDefect`] or [`RecordHeader::EndOfData`] instead.
//!
//! Segment layout: a [`SEGMENT_HEADER_LEN_BYTES`]-byte header, then records back to back, then
//! zero bytes up to the preallocated segment size. A record is a
//! [`RECORD_HEADER_LEN_BYTES`]-byte header (payload length, CRC32C of the length bytes, CRC32C
//! of the payload) followed by the payload. A record header of all zero bytes marks the end of
//! the written data: it can never be a valid header because the CRC32C of four zero bytes is
//! not zero.

/// Magic bytes opening every segment file.
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"MRDNCLOG";

/// Version of the segment format written by this code (also part of the file name).
pub const FORMAT_VERSION: u32 = 1;

/// Size of the segment header: magic (8) + version (4) + segment id (8) + CRC32C (4).
pub const SEGMENT_HEADER_LEN_BYTES: u64 = 24;

/// Size of a record header: length (4) + CRC32C of length (4) + CRC32C of payload (4).
pub const RECORD_HEADER_LEN_BYTES: u64 = 12;

/// Largest payload the framing can express (the length field is a `u32`).
pub(crate) const FORMAT_MAX_PAYLOAD_BYTES: u64 = u32::MAX as u64;

/// File name prefix of segment files.
const FILE_PREFIX: &str = "CommitLog-";
/// File name suffix of finished segment files.
const FILE_SUFFIX: &str = ".log";
/// Suffix appended to the name of a segment that is still being preallocated.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";

/// The final file name of segment `segment_id`: `CommitLog-<version>-<segment_id>.log`.
pub(crate) fn segment_file_name(segment_id: u64) -> String {
    format!("{FILE_PREFIX}{FORMAT_VERSION}-{segment_id}{FILE_SUFFIX}")
}

/// The name under which segment `segment_id` is preallocated before being renamed.
pub(crate) fn temp_segment_file_name(segment_id: u64) -> String {
    format!("{}{TEMP_SUFFIX}", segment_file_name(segment_id))
}

/// What a file name in the commit log directory denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParsedFileName {
    /// A finished segment file.
    Segment { version: u32, segment_id: u64 },
    /// A leftover of an interrupted preallocation: never contained records.
    TempSegment { version: u32, segment_id: u64 },
}

/// Parses a directory entry name; `None` for names that are not commit log files.
pub(crate) fn parse_file_name(name: &str) -> Option<ParsedFileName> {
    let rest = name.strip_prefix(FILE_PREFIX)?;
    let (rest, temp) = match rest.strip_suffix(TEMP_SUFFIX) {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let rest = rest.strip_suffix(FILE_SUFFIX)?;
    let (version, id) = rest.split_once('-')?;
    let version = parse_decimal_u32(version)?;
    let segment_id = parse_decimal_u64(id)?;
    Some(if temp {
        ParsedFileName::TempSegment {
            version,
            segment_id,
        }
    } else {
        ParsedFileName::Segment {
            version,
            segment_id,
        }
    })
}

fn parse_decimal_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_decimal_u32(s: &str) -> Option<u32> {
    u32::try_from(parse_decimal_u64(s)?).ok()
}

/// Encodes the header of segment `segment_id`.
pub(crate) fn encode_segment_header(segment_id: u64) -> [u8; SEGMENT_HEADER_LEN_BYTES as usize] {
    let mut out = [0u8; SEGMENT_HEADER_LEN_BYTES as usize];
    out[0..8].copy_from_slice(&SEGMENT_MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[12..20].copy_from_slice(&segment_id.to_le_bytes());
    let crc = crc32c::crc32c(&out[0..20]);
    out[20..24].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Why a segment header is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderDefect {
    /// The file is shorter than a segment header.
    Truncated,
    /// The magic bytes are wrong: not a commit log segment.
    BadMagic,
    /// The header CRC32C does not match its contents.
    ChecksumMismatch,
    /// The header names a format version this code cannot read.
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// The segment id in the header differs from the one in the file name.
    SegmentIdMismatch {
        /// The id stored in the header.
        header_segment_id: u64,
    },
}

/// Decodes a segment header and checks it against the id from the file name.
pub(crate) fn decode_segment_header(
    bytes: &[u8],
    expected_segment_id: u64,
) -> Result<(), HeaderDefect> {
    let Some(header) = bytes.get(0..SEGMENT_HEADER_LEN_BYTES as usize) else {
        return Err(HeaderDefect::Truncated);
    };
    if header[0..8] != SEGMENT_MAGIC {
        return Err(HeaderDefect::BadMagic);
    }
    let stored_crc = read_u32(header, 20);
    if crc32c::crc32c(&header[0..20]) != stored_crc {
        return Err(HeaderDefect::ChecksumMismatch);
    }
    let version = read_u32(header, 8);
    if version != FORMAT_VERSION {
        return Err(HeaderDefect::UnsupportedVersion { version });
    }
    let header_segment_id = read_u64(header, 12);
    if header_segment_id != expected_segment_id {
        return Err(HeaderDefect::SegmentIdMismatch { header_segment_id });
    }
    Ok(())
}

/// Encodes the header of a record carrying `payload`.
///
/// The caller guarantees `payload.len() <= FORMAT_MAX_PAYLOAD_BYTES` (enforced by the
/// configuration limit on record size).
pub(crate) fn encode_record_header(payload: &[u8]) -> [u8; RECORD_HEADER_LEN_BYTES as usize] {
    debug_assert!(payload.len() as u64 <= FORMAT_MAX_PAYLOAD_BYTES);
    let len_bytes = (payload.len() as u32).to_le_bytes();
    let mut out = [0u8; RECORD_HEADER_LEN_BYTES as usize];
    out[0..4].copy_from_slice(&len_bytes);
    out[4..8].copy_from_slice(&crc32c::crc32c(&len_bytes).to_le_bytes());
    out[8..12].copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out
}

/// A decoded record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordHeader {
    /// All twelve bytes are zero: no record was ever written here.
    EndOfData,
    /// A record of `payload_len_bytes` bytes whose payload must have CRC32C `payload_crc`.
    Record {
        payload_len_bytes: u32,
        payload_crc: u32,
    },
}

/// Decodes a record header; `Err(())` when the length checksum does not match (a torn or
/// corrupted length).
pub(crate) fn decode_record_header(
    bytes: &[u8; RECORD_HEADER_LEN_BYTES as usize],
) -> Result<RecordHeader, ()> {
    if bytes.iter().all(|&b| b == 0) {
        return Ok(RecordHeader::EndOfData);
    }
    let len_bytes = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if crc32c::crc32c(&len_bytes) != read_u32(bytes, 4) {
        return Err(());
    }
    Ok(RecordHeader::Record {
        payload_len_bytes: u32::from_le_bytes(len_bytes),
        payload_crc: read_u32(bytes, 8),
    })
}

/// Reads a little-endian `u32` at `at`; callers pass slices known to be long enough, and a
/// short slice yields 0 rather than a panic.
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

    #[test]
    fn crc_values_match_the_format_document() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        // The end-of-data marker relies on this being non-zero.
        assert_eq!(crc32c::crc32c(&[0, 0, 0, 0]), 0x4867_4BC7);
    }

    #[test]
    fn segment_header_bytes_match_the_format_document() {
        let header = encode_segment_header(0x0102_0304_0506_0708);
        assert_eq!(&header[0..8], b"MRDNCLOG");
        assert_eq!(header[8..12], [1, 0, 0, 0]);
        assert_eq!(header[12..20], [8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(header[20..24], crc32c::crc32c(&header[0..20]).to_le_bytes());
        let record = encode_record_header(b"abc");
        assert_eq!(record[0..4], [3, 0, 0, 0]);
        assert_eq!(record[4..8], crc32c::crc32c(&[3, 0, 0, 0]).to_le_bytes());
        assert_eq!(record[8..12], crc32c::crc32c(b"abc").to_le_bytes());
    }

    #[test]
    fn file_names_round_trip() {
        let name = segment_file_name(1_234_567);
        assert_eq!(name, format!("CommitLog-{FORMAT_VERSION}-1234567.log"));
        assert_eq!(
            parse_file_name(&name),
            Some(ParsedFileName::Segment {
                version: FORMAT_VERSION,
                segment_id: 1_234_567
            })
        );
        assert_eq!(
            parse_file_name(&temp_segment_file_name(9)),
            Some(ParsedFileName::TempSegment {
                version: FORMAT_VERSION,
                segment_id: 9
            })
        );
        for bad in [
            "CommitLog-1-.log",
            "CommitLog--5.log",
            "CommitLog-1-5.log.bak",
            "CommitLog-1-+5.log",
            "CommitLog-1-5",
            "commitlog-1-5.log",
            "CommitLog-99999999999-5.log",
            "CommitLog-1-99999999999999999999999.log",
            "CommitLog.lock",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn segment_header_round_trip_and_defects() {
        let header = encode_segment_header(42);
        assert_eq!(decode_segment_header(&header, 42), Ok(()));
        assert_eq!(
            decode_segment_header(&header, 43),
            Err(HeaderDefect::SegmentIdMismatch {
                header_segment_id: 42
            })
        );
        assert_eq!(
            decode_segment_header(&header[..10], 42),
            Err(HeaderDefect::Truncated)
        );
        let mut bad = header;
        bad[0] ^= 1;
        assert_eq!(decode_segment_header(&bad, 42), Err(HeaderDefect::BadMagic));
        for byte in 8..24 {
            let mut bad = header;
            bad[byte] ^= 0x10;
            assert_eq!(
                decode_segment_header(&bad, 42),
                Err(HeaderDefect::ChecksumMismatch),
                "flip in byte {byte}"
            );
        }
    }

    #[test]
    fn record_header_round_trip_and_bit_flips() {
        let payload = b"hello commit log";
        let header = encode_record_header(payload);
        let decoded = decode_record_header(&header);
        assert_eq!(
            decoded,
            Ok(RecordHeader::Record {
                payload_len_bytes: payload.len() as u32,
                payload_crc: crc32c::crc32c(payload)
            })
        );
        for bit in 0..64 {
            let mut bad = header;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(decode_record_header(&bad), Err(()), "bit {bit}");
        }
        assert_eq!(decode_record_header(&[0; 12]), Ok(RecordHeader::EndOfData));
        // An empty payload is a valid record, distinct from the end marker.
        assert!(matches!(
            decode_record_header(&encode_record_header(b"")),
            Ok(RecordHeader::Record {
                payload_len_bytes: 0,
                ..
            })
        ));
    }
}
