//! Segment files: preallocation of new segments and listing of existing ones.
//!
//! A new segment is written in full under a temporary name (header, then zeros up to the
//! segment size), fsynced, renamed to its final name and the directory fsynced. Hence:
//! - every file with a final segment name has a complete, durable header and its full size;
//! - running out of disk space shows up here, before any record is written, and leaves no
//!   final-named file behind (the temporary is removed);
//! - writes of records into the segment overwrite already allocated blocks, so they do not
//!   hit `ENOSPC` on filesystems that overwrite in place (not guaranteed on copy-on-write
//!   filesystems such as btrfs or ZFS).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::CommitLogError;
use super::fault::{FaultInjector, InjectedFault};
use super::format::{
    encode_segment_header, parse_file_name, segment_file_name, temp_segment_file_name,
    ParsedFileName, FORMAT_VERSION, SEGMENT_HEADER_LEN_BYTES,
};

/// Size of the chunks of zeros written when preallocating.
const ZERO_CHUNK_BYTES: usize = 64 * 1024;
static ZEROS: [u8; ZERO_CHUNK_BYTES] = [0; ZERO_CHUNK_BYTES];

/// A freshly preallocated, durable, empty segment.
#[derive(Debug)]
pub(crate) struct PreparedSegment {
    pub(crate) segment_id: u64,
    pub(crate) path: PathBuf,
    pub(crate) file: Arc<File>,
    pub(crate) size_bytes: u64,
}

/// A segment preallocation failure: the file concerned and the error.
#[derive(Debug)]
pub(crate) struct AllocationError {
    pub(crate) path: PathBuf,
    pub(crate) source: io::Error,
}

/// Creates segment `segment_id` of `size_bytes` bytes in `dir` (see the module docs).
pub(crate) fn create_segment(
    dir: &Path,
    segment_id: u64,
    size_bytes: u64,
    faults: &FaultInjector,
) -> Result<PreparedSegment, AllocationError> {
    let temp_path = dir.join(temp_segment_file_name(segment_id));
    let final_path = dir.join(segment_file_name(segment_id));
    let result = (|| -> io::Result<File> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&temp_path)?;
        faults.check(InjectedFault::Allocate)?;
        file.write_all_at(&encode_segment_header(segment_id), 0)?;
        let mut offset = SEGMENT_HEADER_LEN_BYTES;
        while offset < size_bytes {
            let chunk = (size_bytes - offset).min(ZERO_CHUNK_BYTES as u64) as usize;
            file.write_all_at(&ZEROS[..chunk], offset)?;
            offset += chunk as u64;
        }
        file.sync_all()?;
        fs::rename(&temp_path, &final_path)?;
        Ok(file)
    })();
    let file = match result {
        Ok(file) => file,
        Err(source) => {
            // Best effort: a leftover temporary is also removed by the next open.
            let _ = fs::remove_file(&temp_path);
            return Err(AllocationError {
                path: temp_path,
                source,
            });
        }
    };
    if let Err(source) = sync_dir(dir) {
        return Err(AllocationError {
            path: dir.to_path_buf(),
            source,
        });
    }
    Ok(PreparedSegment {
        segment_id,
        path: final_path,
        file: Arc::new(file),
        size_bytes,
    })
}

/// fsyncs a directory so that entries created or renamed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A segment file found in the directory at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExistingSegment {
    pub(crate) segment_id: u64,
    pub(crate) path: PathBuf,
    pub(crate) size_bytes: u64,
}

/// Lists the segments in `dir` in id order, removing leftover temporaries of interrupted
/// preallocations. Segments of another format version are an error (never silently ignored:
/// they may hold unflushed data).
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<ExistingSegment>, CommitLogError> {
    let entries = fs::read_dir(dir).map_err(|e| CommitLogError::io("listing directory", dir, e))?;
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| CommitLogError::io("listing directory", dir, e))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        match parse_file_name(&name) {
            Some(ParsedFileName::TempSegment { .. }) => {
                tracing::info!(path = %path.display(), "removing interrupted segment preallocation");
                fs::remove_file(&path)
                    .map_err(|e| CommitLogError::io("removing temporary segment", &path, e))?;
            }
            Some(ParsedFileName::Segment { version, .. }) if version != FORMAT_VERSION => {
                return Err(CommitLogError::UnsupportedVersion { path, version });
            }
            Some(ParsedFileName::Segment { segment_id, .. }) => {
                let size_bytes = entry
                    .metadata()
                    .map_err(|e| CommitLogError::io("reading metadata of", &path, e))?
                    .len();
                segments.push(ExistingSegment {
                    segment_id,
                    path,
                    size_bytes,
                });
            }
            None => {}
        }
    }
    segments.sort_by_key(|s| s.segment_id);
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commitlog::format::decode_segment_header;

    #[test]
    fn created_segment_is_preallocated_with_header_and_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let faults = FaultInjector::default();
        let seg = create_segment(dir.path(), 7, 4096 + 100, &faults).unwrap();
        assert_eq!(seg.path, dir.path().join(segment_file_name(7)));
        let bytes = fs::read(&seg.path).unwrap();
        assert_eq!(bytes.len(), 4196);
        decode_segment_header(&bytes, 7).unwrap();
        assert!(bytes[SEGMENT_HEADER_LEN_BYTES as usize..]
            .iter()
            .all(|&b| b == 0));
        let listed = list_segments(dir.path()).unwrap();
        assert_eq!(
            listed,
            vec![ExistingSegment {
                segment_id: 7,
                path: seg.path.clone(),
                size_bytes: 4196
            }]
        );
    }

    #[test]
    fn failed_allocation_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let faults = FaultInjector::default();
        faults.arm(InjectedFault::Allocate, 1);
        let err = create_segment(dir.path(), 1, 4096, &faults).unwrap_err();
        assert_eq!(err.source.kind(), io::ErrorKind::StorageFull);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn listing_removes_temporaries_and_rejects_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(temp_segment_file_name(3)), b"x").unwrap();
        fs::write(dir.path().join("unrelated.txt"), b"x").unwrap();
        fs::write(dir.path().join(segment_file_name(5)), b"x").unwrap();
        fs::write(dir.path().join(segment_file_name(2)), b"x").unwrap();
        let ids: Vec<u64> = list_segments(dir.path())
            .unwrap()
            .iter()
            .map(|s| s.segment_id)
            .collect();
        assert_eq!(ids, vec![2, 5]);
        assert!(!dir.path().join(temp_segment_file_name(3)).exists());
        fs::write(dir.path().join("CommitLog-99-1.log"), b"x").unwrap();
        assert!(matches!(
            list_segments(dir.path()),
            Err(CommitLogError::UnsupportedVersion { version: 99, .. })
        ));
    }
}
