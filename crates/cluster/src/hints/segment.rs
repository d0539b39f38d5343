//! Sequential reading of hint segment files, shared by the scan at open and by replay.
//!
//! A [`SegmentReader`] reads one record at a time through a bounded buffer and stops at the
//! first damaged place: past a bad length the record boundaries are unknown, so the rest of
//! the segment is skipped. Whatever the bytes, reading never panics and never allocates more
//! than [`MAX_HINT_RECORD_BYTES`] for a payload.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::format::{
    decode_record_header, decode_segment_header, payload_created_at, HeaderDefect,
    RECORD_HEADER_LEN_BYTES, SEGMENT_HEADER_LEN_BYTES,
};
use crate::ids::HostId;

/// Read buffer size used while reading a segment.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Largest record (header, creation time and mutation) the store writes or reads: a length
/// field announcing more is treated as damage, which bounds the memory of a read.
pub const MAX_HINT_RECORD_BYTES: u64 = 128 * 1024 * 1024;

/// What is wrong at a damaged place of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamageKind {
    /// The segment header is unusable; no record of the segment is read.
    BadSegmentHeader(HeaderDefect),
    /// The file ends inside a record header.
    TruncatedRecordHeader {
        /// Bytes of the header present.
        available_bytes: u64,
    },
    /// The CRC32C of the record length does not match (torn, zero-filled or corrupted).
    LengthChecksumMismatch,
    /// The length announces a record larger than [`MAX_HINT_RECORD_BYTES`].
    RecordTooLarge {
        /// Payload length announced by the header.
        payload_len_bytes: u64,
    },
    /// The record payload extends past the end of the readable data.
    TruncatedPayload {
        /// Payload length announced by the header.
        payload_len_bytes: u64,
        /// Bytes present after the header.
        available_bytes: u64,
    },
    /// The CRC32C of the payload does not match.
    PayloadChecksumMismatch,
    /// The payload checksum matches but the payload is too short to hold a creation time.
    PayloadTooShort {
        /// The payload length.
        payload_len_bytes: u64,
    },
}

impl fmt::Display for DamageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DamageKind::BadSegmentHeader(defect) => write!(f, "bad segment header ({defect:?})"),
            DamageKind::TruncatedRecordHeader { available_bytes } => write!(
                f,
                "truncated record header ({available_bytes} of {RECORD_HEADER_LEN_BYTES} bytes)"
            ),
            DamageKind::LengthChecksumMismatch => f.write_str("record length checksum mismatch"),
            DamageKind::RecordTooLarge { payload_len_bytes } => write!(
                f,
                "record length {payload_len_bytes} exceeds the limit of {MAX_HINT_RECORD_BYTES}"
            ),
            DamageKind::TruncatedPayload {
                payload_len_bytes,
                available_bytes,
            } => write!(
                f,
                "truncated payload ({payload_len_bytes} bytes announced, {available_bytes} present)"
            ),
            DamageKind::PayloadChecksumMismatch => f.write_str("record payload checksum mismatch"),
            DamageKind::PayloadTooShort { payload_len_bytes } => {
                write!(
                    f,
                    "payload of {payload_len_bytes} bytes has no creation time"
                )
            }
        }
    }
}

/// A damaged place found in a segment: nothing at or after `offset` in the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentDamage {
    /// The target whose hints the segment holds.
    pub target: HostId,
    /// The segment file.
    pub path: PathBuf,
    /// Byte offset where the first unreadable record (or the header) starts.
    pub offset: u64,
    /// What is wrong.
    pub kind: DamageKind,
}

impl SegmentDamage {
    /// Logs the damage with `tracing::warn!`, naming file and offset.
    pub(crate) fn warn(&self, during: &'static str) {
        tracing::warn!(
            target_host = %self.target,
            path = %self.path.display(),
            offset = self.offset,
            "hint segment {} damaged at offset {} ({during}): {}; the rest of the segment is \
             skipped (a torn tail after a crash is expected)",
            self.path.display(),
            self.offset,
            self.kind
        );
    }
}

/// One step of reading a segment.
#[derive(Debug)]
pub(crate) enum Step {
    /// An intact record; its payload (creation time, then mutation) was appended to the
    /// caller's buffer at `payload_start`.
    Record {
        /// Offset where the record starts.
        start: u64,
        /// Offset just past the record.
        end: u64,
        /// Its creation time.
        created_at_micros: i64,
        /// Where its payload starts in the caller's buffer.
        payload_start: usize,
    },
    /// The readable data ends here.
    End,
    /// Damage at the current offset; reading is over.
    Damage(DamageKind),
}

/// Sequential reader of one segment file.
#[derive(Debug)]
pub(crate) struct SegmentReader {
    path: PathBuf,
    reader: BufReader<File>,
    /// Offset of the next unread byte.
    offset: u64,
    /// Offset where reading stops (the end of the file, or of its known-valid prefix).
    end: u64,
    /// Whether a damage step has been returned (later calls return it again).
    damaged: Option<DamageKind>,
}

impl SegmentReader {
    /// Opens segment `seq` of `target` at `path`, checks its header and positions the reader
    /// at `start` (a record boundary, at least the header length). Reading stops at
    /// `end_limit` if given, else at the end of the file. `Ok(Err(_))` if the header is bad.
    pub(crate) fn open(
        path: &Path,
        target: HostId,
        seq: u64,
        start: u64,
        end_limit: Option<u64>,
    ) -> io::Result<Result<Self, DamageKind>> {
        let file = File::open(path)?;
        let file_len_bytes = file.metadata()?.len();
        let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
        let mut header = [0u8; SEGMENT_HEADER_LEN_BYTES as usize];
        let read = read_full(&mut reader, &mut header)?;
        if let Err(defect) =
            decode_segment_header(header.get(..read).unwrap_or_default(), target, seq)
        {
            return Ok(Err(DamageKind::BadSegmentHeader(defect)));
        }
        let start = start.max(SEGMENT_HEADER_LEN_BYTES);
        if start > SEGMENT_HEADER_LEN_BYTES {
            reader.seek(SeekFrom::Start(start))?;
        }
        Ok(Ok(SegmentReader {
            path: path.to_path_buf(),
            reader,
            offset: start,
            end: end_limit.unwrap_or(file_len_bytes),
            damaged: None,
        }))
    }

    /// Offset of the next unread byte: just past the last record returned.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The file being read.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next record, appending its payload (creation time and mutation) to `out`;
    /// `out` is left as it was unless a record is returned.
    pub(crate) fn next_record(&mut self, out: &mut Vec<u8>) -> io::Result<Step> {
        if let Some(kind) = self.damaged {
            return Ok(Step::Damage(kind));
        }
        let step = self.read_step(out)?;
        if let Step::Damage(kind) = step {
            self.damaged = Some(kind);
        }
        Ok(step)
    }

    fn read_step(&mut self, out: &mut Vec<u8>) -> io::Result<Step> {
        if self.offset >= self.end {
            return Ok(Step::End);
        }
        let remaining = self.end - self.offset;
        let mut header = [0u8; RECORD_HEADER_LEN_BYTES as usize];
        let want = header
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let read = read_full(&mut self.reader, &mut header[..want])?;
        if read < header.len() {
            return Ok(Step::Damage(DamageKind::TruncatedRecordHeader {
                available_bytes: read as u64,
            }));
        }
        let Some(decoded) = decode_record_header(&header) else {
            return Ok(Step::Damage(DamageKind::LengthChecksumMismatch));
        };
        let payload_len_bytes = u64::from(decoded.payload_len_bytes);
        if payload_len_bytes + RECORD_HEADER_LEN_BYTES > MAX_HINT_RECORD_BYTES {
            return Ok(Step::Damage(DamageKind::RecordTooLarge {
                payload_len_bytes,
            }));
        }
        let available_bytes = remaining - RECORD_HEADER_LEN_BYTES;
        if payload_len_bytes > available_bytes {
            return Ok(Step::Damage(DamageKind::TruncatedPayload {
                payload_len_bytes,
                available_bytes,
            }));
        }
        // Bounded by MAX_HINT_RECORD_BYTES and by the readable bytes, both checked above.
        let payload_start = out.len();
        let read = (&mut self.reader)
            .take(payload_len_bytes)
            .read_to_end(out)?;
        if (read as u64) < payload_len_bytes {
            // The file is shorter than the limit we were given (it shrank, or the limit is
            // stale).
            out.truncate(payload_start);
            return Ok(Step::Damage(DamageKind::TruncatedPayload {
                payload_len_bytes,
                available_bytes: read as u64,
            }));
        }
        let payload = out.get(payload_start..).unwrap_or_default();
        if crc32c::crc32c(payload) != decoded.payload_crc {
            out.truncate(payload_start);
            return Ok(Step::Damage(DamageKind::PayloadChecksumMismatch));
        }
        let Some(created_at_micros) = payload_created_at(payload) else {
            out.truncate(payload_start);
            return Ok(Step::Damage(DamageKind::PayloadTooShort {
                payload_len_bytes,
            }));
        };
        let start = self.offset;
        self.offset += RECORD_HEADER_LEN_BYTES + payload_len_bytes;
        Ok(Step::Record {
            start,
            end: self.offset,
            created_at_micros,
            payload_start,
        })
    }
}

/// Reads until `buf` is full or end of file; returns the number of bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
