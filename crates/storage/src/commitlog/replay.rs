//! Replay of the segments that existed when the log was opened.
//!
//! [`Replay`] is a lazy iterator: it reads one segment at a time through a bounded buffer and
//! holds at most one record payload in memory, so replaying gigabytes of log needs a few
//! hundred KiB plus the largest record.
//!
//! Damage handling (never a panic, whatever the bytes):
//! - a record whose length checksum or payload checksum fails, that is cut short by the end
//!   of the file, or a segment whose header is unusable, ends the reading of that segment;
//!   its later bytes are skipped (record boundaries are unknown past a bad length);
//! - bytes that are not zero after the end-of-data marker are reported too (a write that
//!   reached the disk while an earlier one did not);
//! - damage after which no later segment yields a record is the *torn tail* of the log
//!   ([`Replay::truncated_tail`]); the usual result of a crash during a write. Any other
//!   damage is reported in [`Replay::corruptions`]. Both are logged with `tracing::warn!`
//!   naming file and offset. Records of later segments are still replayed.

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use super::error::CommitLogError;
use super::format::{
    decode_record_header, decode_segment_header, HeaderDefect, RecordHeader,
    RECORD_HEADER_LEN_BYTES, SEGMENT_HEADER_LEN_BYTES,
};
use super::segment::ExistingSegment;
use super::CommitLogPosition;

/// Read buffer size used while replaying a segment.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// One record read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRecord {
    /// The position just past the record: the same value `append` returned for it.
    pub position: CommitLogPosition,
    /// The record bytes, exactly as appended.
    pub payload: Vec<u8>,
}

/// What is wrong at a damaged place of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamageKind {
    /// The segment header is unusable; no record of the segment is read.
    BadSegmentHeader(HeaderDefect),
    /// The file ends inside a record header.
    TruncatedRecordHeader,
    /// The CRC32C of the record length does not match (torn or corrupted length).
    LengthChecksumMismatch,
    /// The record payload extends past the end of the file.
    TruncatedPayload {
        /// Payload length announced by the header.
        payload_len_bytes: u64,
        /// Bytes left in the file after the header.
        available_bytes: u64,
    },
    /// The CRC32C of the payload does not match.
    PayloadChecksumMismatch,
    /// After the end-of-data marker there are bytes that are not zero.
    DataAfterEndMarker {
        /// Offset of the first such byte.
        nonzero_offset: u64,
    },
}

impl fmt::Display for DamageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DamageKind::BadSegmentHeader(defect) => write!(f, "bad segment header ({defect:?})"),
            DamageKind::TruncatedRecordHeader => f.write_str("truncated record header"),
            DamageKind::LengthChecksumMismatch => f.write_str("record length checksum mismatch"),
            DamageKind::TruncatedPayload {
                payload_len_bytes,
                available_bytes,
            } => write!(
                f,
                "truncated payload ({payload_len_bytes} bytes announced, {available_bytes} present)"
            ),
            DamageKind::PayloadChecksumMismatch => f.write_str("record payload checksum mismatch"),
            DamageKind::DataAfterEndMarker { nonzero_offset } => {
                write!(
                    f,
                    "non-zero data at offset {nonzero_offset} after the end marker"
                )
            }
        }
    }
}

/// A damaged place found during replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayDamage {
    /// The segment file.
    pub path: PathBuf,
    /// Its id.
    pub segment_id: u64,
    /// Byte offset in the file where the damage starts (where the first unreadable record
    /// begins); nothing at or after it in this segment was replayed.
    pub offset: u64,
    /// What is wrong.
    pub kind: DamageKind,
}

/// Lazy iterator over every intact record of the segments present at open, in log order.
///
/// Items are `Err` only for I/O errors while reading (the iterator then ends); damage is not
/// an error but is reported through [`Replay::truncated_tail`] and [`Replay::corruptions`],
/// which are complete once the iterator has returned `None` ([`Replay::is_finished`]).
///
/// The engine must finish replaying before calling `mark_flushed_up_to` with a position past
/// the replayed segments, which would delete their files.
#[derive(Debug)]
pub struct Replay {
    remaining: VecDeque<ExistingSegment>,
    current: Option<SegmentReader>,
    /// Damage not yet followed by any replayed record: the torn tail unless a record follows.
    unclassified: Option<ReplayDamage>,
    corruptions: Vec<ReplayDamage>,
    truncated_tail: Option<ReplayDamage>,
    finished: bool,
    records_replayed: u64,
    segment_count: usize,
}

impl Replay {
    pub(crate) fn new(segments: Vec<ExistingSegment>) -> Self {
        Replay {
            segment_count: segments.len(),
            remaining: segments.into(),
            current: None,
            unclassified: None,
            corruptions: Vec::new(),
            truncated_tail: None,
            finished: false,
            records_replayed: 0,
        }
    }

    /// The damage at the end of the log (typically a write torn by a crash), once finished.
    pub fn truncated_tail(&self) -> Option<&ReplayDamage> {
        self.truncated_tail.as_ref()
    }

    /// Damage followed by intact records of later segments, once finished.
    pub fn corruptions(&self) -> &[ReplayDamage] {
        &self.corruptions
    }

    /// Whether the iterator has returned `None` (or an I/O error).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Number of records yielded so far.
    pub fn records_replayed(&self) -> u64 {
        self.records_replayed
    }

    /// Number of segment files being replayed.
    pub fn segment_count(&self) -> usize {
        self.segment_count
    }

    fn note_damage(&mut self, damage: ReplayDamage) {
        if let Some(previous) = self.unclassified.replace(damage) {
            self.classify_as_corruption(previous);
        }
    }

    fn classify_as_corruption(&mut self, damage: ReplayDamage) {
        tracing::warn!(
            path = %damage.path.display(),
            offset = damage.offset,
            "commit log corruption in the middle of the log: {}; the rest of this segment is skipped",
            damage.kind
        );
        self.corruptions.push(damage);
    }

    fn finish(&mut self) {
        self.finished = true;
        self.current = None;
        if let Some(damage) = self.unclassified.take() {
            tracing::warn!(
                path = %damage.path.display(),
                offset = damage.offset,
                "commit log ends with a torn or corrupt tail: {}; replay stops there",
                damage.kind
            );
            self.truncated_tail = Some(damage);
        }
    }
}

impl Iterator for Replay {
    type Item = Result<ReplayRecord, CommitLogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return None;
            }
            let reader = match self.current.as_mut() {
                Some(reader) => reader,
                None => {
                    let Some(segment) = self.remaining.pop_front() else {
                        self.finish();
                        return None;
                    };
                    match SegmentReader::open(&segment) {
                        Ok(Ok(reader)) => self.current.insert(reader),
                        Ok(Err(damage)) => {
                            self.note_damage(damage);
                            continue;
                        }
                        Err(e) => {
                            self.finished = true;
                            return Some(Err(e));
                        }
                    }
                }
            };
            match reader.next_step() {
                Ok(Step::Record(record)) => {
                    if let Some(damage) = self.unclassified.take() {
                        self.classify_as_corruption(damage);
                    }
                    self.records_replayed += 1;
                    return Some(Ok(record));
                }
                Ok(Step::End) => self.current = None,
                Ok(Step::Damage(damage)) => {
                    self.current = None;
                    self.note_damage(damage);
                }
                Err(e) => {
                    self.finished = true;
                    self.current = None;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Outcome of reading at the current offset of a segment.
enum Step {
    Record(ReplayRecord),
    End,
    Damage(ReplayDamage),
}

/// Sequential reader of one segment file.
#[derive(Debug)]
struct SegmentReader {
    segment_id: u64,
    path: PathBuf,
    reader: BufReader<File>,
    /// Offset of the next unread byte.
    offset: u64,
    file_len_bytes: u64,
}

impl SegmentReader {
    /// Opens a segment and checks its header; `Ok(Err(_))` if the header is damaged.
    fn open(segment: &ExistingSegment) -> Result<Result<Self, ReplayDamage>, CommitLogError> {
        let path = segment.path.clone();
        let io_err = |e| CommitLogError::io("replaying segment", &segment.path, e);
        let file = File::open(&path).map_err(io_err)?;
        let file_len_bytes = file.metadata().map_err(io_err)?.len();
        let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
        let mut header = [0u8; SEGMENT_HEADER_LEN_BYTES as usize];
        let read = read_full(&mut reader, &mut header).map_err(io_err)?;
        if let Err(defect) = decode_segment_header(&header[..read], segment.segment_id) {
            return Ok(Err(ReplayDamage {
                path,
                segment_id: segment.segment_id,
                offset: 0,
                kind: DamageKind::BadSegmentHeader(defect),
            }));
        }
        Ok(Ok(SegmentReader {
            segment_id: segment.segment_id,
            path,
            reader,
            offset: SEGMENT_HEADER_LEN_BYTES,
            file_len_bytes,
        }))
    }

    fn damage(&self, kind: DamageKind) -> Step {
        Step::Damage(ReplayDamage {
            path: self.path.clone(),
            segment_id: self.segment_id,
            offset: self.offset,
            kind,
        })
    }

    fn io_error(&self, e: io::Error) -> CommitLogError {
        CommitLogError::io("replaying segment", &self.path, e)
    }

    fn next_step(&mut self) -> Result<Step, CommitLogError> {
        let mut header = [0u8; RECORD_HEADER_LEN_BYTES as usize];
        let read = read_full(&mut self.reader, &mut header).map_err(|e| self.io_error(e))?;
        if read == 0 {
            return Ok(Step::End);
        }
        if read < header.len() {
            // Fewer zero bytes than a header at the end of the file: the padding of a full
            // segment. Anything else is a header cut short.
            if header[..read].iter().all(|&b| b == 0) {
                return Ok(Step::End);
            }
            return Ok(self.damage(DamageKind::TruncatedRecordHeader));
        }
        let (payload_len_bytes, payload_crc) = match decode_record_header(&header) {
            Err(()) => return Ok(self.damage(DamageKind::LengthChecksumMismatch)),
            Ok(RecordHeader::EndOfData) => {
                return match self.find_nonzero(self.offset + RECORD_HEADER_LEN_BYTES)? {
                    Some(nonzero_offset) => {
                        Ok(self.damage(DamageKind::DataAfterEndMarker { nonzero_offset }))
                    }
                    None => Ok(Step::End),
                };
            }
            Ok(RecordHeader::Record {
                payload_len_bytes,
                payload_crc,
            }) => (u64::from(payload_len_bytes), payload_crc),
        };
        let available_bytes = self
            .file_len_bytes
            .saturating_sub(self.offset + RECORD_HEADER_LEN_BYTES);
        if payload_len_bytes > available_bytes {
            return Ok(self.damage(DamageKind::TruncatedPayload {
                payload_len_bytes,
                available_bytes,
            }));
        }
        // Bounded by the file length checked above.
        let mut payload = vec![0u8; payload_len_bytes as usize];
        let read = read_full(&mut self.reader, &mut payload).map_err(|e| self.io_error(e))?;
        if (read as u64) < payload_len_bytes {
            // The file shrank while being read.
            return Ok(self.damage(DamageKind::TruncatedPayload {
                payload_len_bytes,
                available_bytes: read as u64,
            }));
        }
        if crc32c::crc32c(&payload) != payload_crc {
            return Ok(self.damage(DamageKind::PayloadChecksumMismatch));
        }
        self.offset += RECORD_HEADER_LEN_BYTES + payload_len_bytes;
        Ok(Step::Record(ReplayRecord {
            position: CommitLogPosition {
                segment_id: self.segment_id,
                offset: self.offset,
            },
            payload,
        }))
    }

    /// Scans the rest of the file (starting at file offset `start`) for a non-zero byte.
    fn find_nonzero(&mut self, start: u64) -> Result<Option<u64>, CommitLogError> {
        let mut offset = start;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_error(e)),
            };
            if buf.is_empty() {
                return Ok(None);
            }
            if let Some(i) = buf.iter().position(|&b| b != 0) {
                return Ok(Some(offset + i as u64));
            }
            let len = buf.len();
            offset += len as u64;
            self.reader.consume(len);
        }
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
