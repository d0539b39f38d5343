//! Command-line options.

use std::path::PathBuf;

use crate::error::BenchError;

/// Sections of the benchmark that can be run on their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sections {
    /// Blind-write throughput.
    pub writes: bool,
    /// Point reads.
    pub reads: bool,
    /// Write amplification.
    pub write_amp: bool,
}

/// Everything a run is parameterised by.
#[derive(Clone, Debug)]
pub struct Options {
    /// Smoke-run sizes.
    pub quick: bool,
    /// Blind writes per non-durable run (periodic / fjall default).
    pub writes: u64,
    /// Blind writes per durable run (batch / fjall SyncAll).
    pub sync_writes: u64,
    /// Writer threads of durable runs.
    pub batch_threads: usize,
    /// Value length.
    pub value_len_bytes: usize,
    /// Partitions loaded for memtable-resident reads.
    pub memtable_keys: u64,
    /// Partitions loaded for SSTable-resident reads.
    pub sstable_keys: u64,
    /// Reads per measured read run.
    pub reads: u64,
    /// User bytes (key + value) written per strategy in the write-amplification runs.
    pub wa_user_bytes: u64,
    /// Distinct keys the write-amplification runs overwrite.
    pub wa_keys: u64,
    /// Writer threads of the write-amplification runs.
    pub wa_threads: usize,
    /// Block cache size of both engines.
    pub cache_bytes: u64,
    /// Where the stores' directories are created.
    pub dir: PathBuf,
    /// Seed of keys, values and read choices.
    pub seed: u64,
    /// Which sections run.
    pub sections: Sections,
    /// Measurements per figure (fresh store per write measurement); the median is reported.
    pub repeat: usize,
    /// Which engines run (both for every comparison; one alone is for profiling).
    pub engines: Engines,
}

/// Engines a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Engines {
    /// Meridian's storage engine.
    pub meridian: bool,
    /// fjall.
    pub fjall: bool,
}

/// Bytes in a GB as the options count them (decimal).
const BYTES_PER_GB: f64 = 1e9;

/// The usage text.
pub const USAGE: &str = "\
meridian-storage-bench: Meridian's storage engine vs fjall on this machine.

USAGE:
  cargo run --release --manifest-path benches/storage-bench/Cargo.toml -- [OPTIONS]

OPTIONS (defaults of a full run; --quick lowers the sizes, options given after it win):
  --quick                 smoke run (about a minute)
  --writes N              blind writes per periodic/fjall-default run     [1000000]
  --sync-writes N         blind writes per batch/fjall-SyncAll run         [100000]
  --batch-threads N       writer threads of the durable runs               [16]
  --value-bytes N         value length                                     [100]
  --memtable-keys N       partitions loaded for memtable-resident reads    [100000]
  --sstable-keys N        partitions loaded for SSTable-resident reads     [1000000]
  --reads N               reads per measured read run                      [500000]
  --repeat N              measurements per figure, median reported         [3]
  --wa-gb X               GB (1e9 bytes of key+value) written per strategy [1.5]
  --wa-keys N             key space the write-amplification runs overwrite [15000000]
  --wa-threads N          writer threads of the write-amplification runs   [2]
  --cache-mib N           block cache of BOTH engines (meridian's default; [128]
                          fjall's own default would be 32)
  --dir PATH              where the stores' temporary directories go       [$TMPDIR or /tmp]
  --seed N                seed of keys, values and read choices            [1]
  --only LIST             comma-separated subset of: writes,reads,wa       [all]
  --engines LIST          comma-separated subset of: meridian,fjall        [both]
                          (one engine alone gives no ratios: for profiling)
  --help                  this text
";

impl Options {
    fn full() -> Self {
        Options {
            quick: false,
            writes: 1_000_000,
            sync_writes: 100_000,
            batch_threads: 16,
            value_len_bytes: 100,
            memtable_keys: 100_000,
            sstable_keys: 1_000_000,
            reads: 500_000,
            wa_user_bytes: 1_500_000_000,
            wa_keys: 15_000_000,
            wa_threads: 2,
            cache_bytes: meridian_storage::engine::DEFAULT_BLOCK_CACHE_BYTES,
            dir: std::env::temp_dir(),
            seed: 1,
            sections: Sections {
                writes: true,
                reads: true,
                write_amp: true,
            },
            engines: Engines {
                meridian: true,
                fjall: true,
            },
            repeat: 3,
        }
    }

    fn apply_quick(&mut self) {
        self.quick = true;
        self.writes = 200_000;
        self.sync_writes = 20_000;
        self.memtable_keys = 50_000;
        self.sstable_keys = 200_000;
        self.reads = 100_000;
        self.wa_user_bytes = 200_000_000;
        self.wa_keys = 1_000_000;
        self.repeat = 1;
    }

    /// Parses the arguments after the program name. `Ok(None)` means `--help` was asked.
    pub fn parse(args: &[String]) -> Result<Option<Options>, BenchError> {
        let mut o = Options::full();
        // --quick sets sizes first, so explicit options override it wherever it appears.
        if args.iter().any(|a| a == "--quick") {
            o.apply_quick();
        }
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| -> Result<String, BenchError> {
                it.next()
                    .cloned()
                    .ok_or_else(|| BenchError::Usage(format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--help" | "-h" => return Ok(None),
                "--quick" => {}
                "--writes" => o.writes = count(arg, &value(arg)?)?,
                "--sync-writes" => o.sync_writes = count(arg, &value(arg)?)?,
                "--batch-threads" => o.batch_threads = threads(arg, &value(arg)?)?,
                "--value-bytes" => o.value_len_bytes = count(arg, &value(arg)?)? as usize,
                "--memtable-keys" => o.memtable_keys = count(arg, &value(arg)?)?,
                "--sstable-keys" => o.sstable_keys = count(arg, &value(arg)?)?,
                "--reads" => o.reads = count(arg, &value(arg)?)?,
                "--wa-gb" => {
                    let v = value(arg)?;
                    let gb: f64 = v
                        .parse()
                        .ok()
                        .filter(|g: &f64| g.is_finite() && *g > 0.0 && *g <= 1000.0)
                        .ok_or_else(|| {
                            BenchError::Usage(format!(
                                "{arg}: expected a number of GB in (0, 1000], got {v:?}"
                            ))
                        })?;
                    o.wa_user_bytes = (gb * BYTES_PER_GB) as u64;
                }
                "--wa-keys" => o.wa_keys = count(arg, &value(arg)?)?,
                "--repeat" => {
                    let n = count(arg, &value(arg)?)?;
                    if n > 99 {
                        return Err(BenchError::Usage(format!("{arg}: at most 99, got {n}")));
                    }
                    o.repeat = n as usize;
                }
                "--wa-threads" => o.wa_threads = threads(arg, &value(arg)?)?,
                "--cache-mib" => {
                    o.cache_bytes = count(arg, &value(arg)?)?.saturating_mul(1024 * 1024)
                }
                "--dir" => o.dir = PathBuf::from(value(arg)?),
                "--seed" => {
                    let v = value(arg)?;
                    o.seed = v.parse().map_err(|_| {
                        BenchError::Usage(format!("{arg}: expected an integer, got {v:?}"))
                    })?;
                }
                "--only" => {
                    let v = value(arg)?;
                    let mut s = Sections {
                        writes: false,
                        reads: false,
                        write_amp: false,
                    };
                    for part in v.split(',') {
                        match part.trim() {
                            "writes" => s.writes = true,
                            "reads" => s.reads = true,
                            "wa" => s.write_amp = true,
                            other => {
                                return Err(BenchError::Usage(format!(
                                    "--only: unknown section {other:?} (use writes, reads, wa)"
                                )))
                            }
                        }
                    }
                    o.sections = s;
                }
                "--engines" => {
                    let v = value(arg)?;
                    let mut e = Engines {
                        meridian: false,
                        fjall: false,
                    };
                    for part in v.split(',') {
                        match part.trim() {
                            "meridian" => e.meridian = true,
                            "fjall" => e.fjall = true,
                            other => {
                                return Err(BenchError::Usage(format!(
                                    "--engines: unknown engine {other:?} (use meridian, fjall)"
                                )))
                            }
                        }
                    }
                    o.engines = e;
                }
                other => return Err(BenchError::Usage(format!("unknown argument {other:?}"))),
            }
        }
        if o.value_len_bytes == 0 || o.value_len_bytes > 1024 * 1024 {
            return Err(BenchError::Usage(
                "--value-bytes must be between 1 and 1048576".to_owned(),
            ));
        }
        Ok(Some(o))
    }
}

/// A positive count (underscores allowed: `1_000_000`).
fn count(name: &str, v: &str) -> Result<u64, BenchError> {
    v.replace('_', "")
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| BenchError::Usage(format!("{name}: expected a positive integer, got {v:?}")))
}

/// A thread count between 1 and 1024.
fn threads(name: &str, v: &str) -> Result<usize, BenchError> {
    let n = count(name, v)?;
    if n > 1024 {
        return Err(BenchError::Usage(format!(
            "{name}: at most 1024 threads, got {n}"
        )));
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, BenchError> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Options::parse(&v)
    }

    #[test]
    fn explicit_options_override_quick_in_any_order() {
        let o = parse(&["--writes", "5", "--quick"]).unwrap().unwrap();
        assert!(o.quick);
        assert_eq!(o.writes, 5);
        assert_eq!(o.sync_writes, 20_000);
    }

    #[test]
    fn rejects_bad_values() {
        assert!(parse(&["--writes", "0"]).is_err());
        assert!(parse(&["--writes"]).is_err());
        assert!(parse(&["--wa-gb", "nan"]).is_err());
        assert!(parse(&["--only", "everything"]).is_err());
        assert!(parse(&["--engines", "rocksdb"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }

    #[test]
    fn only_selects_sections_and_help_stops() {
        let o = parse(&["--only", "reads,wa"]).unwrap().unwrap();
        assert_eq!(
            o.sections,
            Sections {
                writes: false,
                reads: true,
                write_amp: true
            }
        );
        let o = parse(&["--engines", "fjall"]).unwrap().unwrap();
        assert!(o.engines.fjall && !o.engines.meridian);
        assert!(parse(&["--help"]).unwrap().is_none());
        assert_eq!(
            parse(&["--wa-gb", "0.5"]).unwrap().unwrap().wa_user_bytes,
            500_000_000
        );
    }
}
