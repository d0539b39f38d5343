//! The per-table manifest: which SSTables are live, at which level, the next generation
//! number, and the commit-log replay floor: records at or before it are already in the
//! table's SSTables (or predate a truncation) and must not be replayed, since compaction may
//! have purged the tombstones that shadowed them.
//!
//! The manifest is the single source of truth for the live set: a flush or compaction writes
//! its output files first, then replaces the manifest atomically (temporary file, fsync,
//! rename, directory fsync), and only then deletes its inputs. On open, SSTable files the
//! manifest does not list are leftovers of an interrupted flush or compaction and are
//! deleted, so the live set is recovered exactly after a crash at any point.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::commitlog::CommitLogPosition;
use crate::error::StorageError;

/// File name of the manifest inside a table directory.
pub const MANIFEST_FILE: &str = "MANIFEST";
const HEADER: &str = "meridian-table-manifest v1";

/// One live SSTable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    /// Generation: the SSTable's file is `<generation>.sst`.
    pub generation: u64,
    /// Leveled-compaction level (0 for other strategies).
    pub level: u32,
}

/// The content of a table manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Live SSTables.
    pub sstables: Vec<ManifestEntry>,
    /// Every generation below this was used already.
    pub next_generation: u64,
    /// Commit-log records at or before this position are flushed (or truncated) and must not
    /// be replayed into the table.
    pub replay_floor: Option<CommitLogPosition>,
}

impl Manifest {
    /// Reads the manifest of `dir`; an absent manifest is an empty table.
    pub fn load(dir: &Path) -> Result<Manifest, StorageError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) => return Err(StorageError::io("read manifest", &path, e)),
        };
        Self::parse(&text).map_err(|reason| StorageError::CorruptManifest { path, reason })
    }

    fn parse(text: &str) -> Result<Manifest, String> {
        let (body, crc_line) = text
            .trim_end_matches('\n')
            .rsplit_once('\n')
            .ok_or("missing checksum line")?;
        let crc_hex = crc_line
            .strip_prefix("crc32c ")
            .ok_or("missing checksum line")?;
        let expected = u32::from_str_radix(crc_hex, 16).map_err(|_| "bad checksum value")?;
        let actual = crc32c::crc32c(body.as_bytes());
        if expected != actual {
            return Err(format!(
                "checksum mismatch: stored {expected:08x}, computed {actual:08x}"
            ));
        }
        let mut lines = body.lines();
        if lines.next() != Some(HEADER) {
            return Err("unknown manifest header".into());
        }
        let mut m = Manifest::default();
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            let num = |i: usize| -> Result<u64, String> {
                parts
                    .get(i)
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| format!("bad line {line:?}"))
            };
            match parts.first().copied() {
                Some("next_generation") => m.next_generation = num(1)?,
                Some("replay_floor") => {
                    m.replay_floor = Some(CommitLogPosition {
                        segment_id: num(1)?,
                        offset: num(2)?,
                    })
                }
                Some("sstable") => m.sstables.push(ManifestEntry {
                    generation: num(1)?,
                    level: u32::try_from(num(2)?).map_err(|_| format!("bad level in {line:?}"))?,
                }),
                _ => return Err(format!("unknown line {line:?}")),
            }
        }
        Ok(m)
    }

    fn render(&self) -> String {
        let mut body = String::from(HEADER);
        body.push_str(&format!("\nnext_generation {}", self.next_generation));
        if let Some(p) = self.replay_floor {
            body.push_str(&format!("\nreplay_floor {} {}", p.segment_id, p.offset));
        }
        for e in &self.sstables {
            body.push_str(&format!("\nsstable {} {}", e.generation, e.level));
        }
        let crc = crc32c::crc32c(body.as_bytes());
        format!("{body}\ncrc32c {crc:08x}\n")
    }

    /// Replaces the manifest of `dir` atomically and durably.
    pub fn store(&self, dir: &Path) -> Result<(), StorageError> {
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let path = dir.join(MANIFEST_FILE);
        let mut f =
            fs::File::create(&tmp).map_err(|e| StorageError::io("create manifest", &tmp, e))?;
        f.write_all(self.render().as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| StorageError::io("write manifest", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| StorageError::io("rename manifest", &path, e))?;
        sync_dir(dir)
    }
}

/// Fsyncs a directory so that renames and unlinks in it are durable.
pub fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("sync directory", dir, e))
}

/// The path of SSTable `generation` in `dir`.
pub fn sstable_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("{generation}.sst"))
}

/// The generation of an SSTable file name (`<generation>.sst`), if it is one.
pub fn parse_sstable_name(name: &str) -> Option<u64> {
    name.strip_suffix(".sst")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest {
            sstables: vec![
                ManifestEntry {
                    generation: 3,
                    level: 0,
                },
                ManifestEntry {
                    generation: 9,
                    level: 2,
                },
            ],
            next_generation: 10,
            replay_floor: Some(CommitLogPosition {
                segment_id: 4,
                offset: 77,
            }),
        };
        m.store(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), m);
        let path = dir.path().join(MANIFEST_FILE);
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("sstable 9 2", "sstable 8 2");
        fs::write(&path, text).unwrap();
        let err = Manifest::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
    }

    #[test]
    fn missing_manifest_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Manifest::default());
    }
}
