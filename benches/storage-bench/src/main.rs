//! Benchmark of Meridian's storage engine against fjall, in one process run on this
//! machine: blind-write throughput (periodic and batch commit log vs fjall's default and
//! per-write `SyncAll` journal), point-read throughput and latency (memtable- and
//! SSTable-resident, present and absent keys) and the write amplification of size-tiered
//! and leveled compaction. See README.md for the command and what each figure means.
//!
//! Every store is opened fresh in its own temporary directory, measured, stopped and
//! removed before the next one starts, so runs do not share background work.

mod args;
mod error;
mod keys;
mod report;
mod store;
mod workload;

use std::path::Path;
use std::time::Instant;

use args::{Options, USAGE};
use error::BenchError;
use keys::{KeySpace, ValuePool, KEY_LEN_BYTES};
use report::{Machine, ReadRow, ReadSetup, Report, WaRow, WriteRow, BYTES_PER_GB};
use store::{FjallStore, FjallSync, KvStore, MeridianStore, MeridianSync, Strategy};
use workload::{run_reads, run_writes, ReadKeys, ReadSpec, RunResult, WriteKeys, WriteSpec};

/// Writer threads used to load read datasets (not measured).
const LOAD_THREADS: usize = 2;
/// Writer thread counts of the non-durable write comparison.
const PERIODIC_THREADS: [usize; 2] = [1, 2];
/// Reader thread counts.
const READ_THREADS: [usize; 2] = [1, 2];
/// Share of `--reads` done, unmeasured, to warm caches before each dataset's read runs.
const WARMUP_DIVISOR: u64 = 5;

/// The allocator the `meridian` binary ships with, so that the engine is measured as it runs in
/// a node. Both engines share it (one process). With glibc's malloc instead, Meridian's
/// single-writer blind writes were 0.92x of fjall's (README.md, "Allocator").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match Options::parse(&args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    match run(&options, &args) {
        Ok(report) => print!("{}", report.render()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

fn fjall_version() -> &'static str {
    let lock = include_str!("../Cargo.lock");
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"fjall\"" {
            if let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = \"")) {
                return v.trim_end_matches('"');
            }
        }
    }
    "unknown"
}

/// The git commit of the storage crate built into this binary, and whether the work tree
/// had uncommitted changes to tracked files under `crates/storage` or `crates/types` when
/// the run started.
fn meridian_source() -> String {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        None => "unknown (no git)".to_owned(),
        Some(head) => {
            let dirty = git(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "crates/storage",
                "crates/types",
            ])
            .is_some_and(|s| !s.is_empty());
            format!(
                "git {head}{}",
                if dirty {
                    " plus uncommitted changes to crates/storage or crates/types"
                } else {
                    ", clean"
                }
            )
        }
    }
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

fn tempdir(base: &Path, what: &str) -> Result<tempfile::TempDir, BenchError> {
    tempfile::Builder::new()
        .prefix(&format!("storage-bench-{what}-"))
        .tempdir_in(base)
        .map_err(|source| BenchError::Io {
            action: "create a temporary directory",
            source,
        })
}

fn progress(line: &str) {
    eprintln!("[{}] {line}", chrono_secs());
}

/// Seconds since the benchmark started, for progress lines.
fn chrono_secs() -> String {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    format!(
        "{:7.1}s",
        START.get_or_init(Instant::now).elapsed().as_secs_f64()
    )
}

fn run(o: &Options, args: &[String]) -> Result<Report, BenchError> {
    chrono_secs();
    let started = Instant::now();
    let machine = Machine::detect();
    let quoted: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
    let command = format!(
        "cargo run --release --manifest-path benches/storage-bench/Cargo.toml --{}{}",
        if quoted.is_empty() { "" } else { " " },
        quoted.join(" ")
    );
    let user_bytes_per_write = (KEY_LEN_BYTES + o.value_len_bytes) as u64;
    let header = vec![
        format!(
            "=== Meridian storage engine vs fjall {} ({} run) ===",
            fjall_version(),
            if o.quick { "--quick smoke" } else { "full" }
        ),
        format!("command: {command}"),
        format!(
            "machine: nproc={}, CPU model \"{}\", RAM {}, kernel {}, load average at start {}",
            machine.nproc,
            machine.cpu_model,
            machine
                .mem_total_bytes
                .map_or("unknown".to_owned(), |b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)),
            machine.kernel,
            machine.load_average
        ),
        format!("meridian source: {}", meridian_source()),
        format!("data directories under: {}", o.dir.display()),
        format!(
            "every figure is the median (by throughput) of {} measurement(s), meridian and fjall alternating;\n         each write measurement on a fresh store",
            o.repeat
        ),
        format!(
            "meridian: EngineConfig::new defaults ({}),\n          block cache {} MiB, auto_compaction on, compaction throttle off, SizeTieredCompactionStrategy unless stated;\n          periodic = commitlog_sync periodic 10 s; batch = group commit, no extra window",
            MeridianStore::describe_defaults(),
            o.cache_bytes >> 20
        ),
        format!(
            "fjall:    Database/Keyspace defaults (64 MiB memtable, 4 KiB data blocks, leveled compaction, lz4 on deeper levels),\n          block cache {} MiB (same as meridian's);\n          default = insert() as shipped (journal flushed to the OS per write, no fsync);\n          SyncAll = one-item WriteBatch with durability(Some(PersistMode::SyncAll)) per write",
            o.cache_bytes >> 20
        ),
    ];
    let mut report = Report {
        header,
        writes: Vec::new(),
        read_setups: Vec::new(),
        reads: Vec::new(),
        write_amp: Vec::new(),
        write_amp_notes: Vec::new(),
        footer: Vec::new(),
    };
    let values = ValuePool::new(o.seed, o.value_len_bytes);
    if o.sections.writes {
        write_section(o, &values, user_bytes_per_write, &mut report)?;
    }
    if o.sections.reads {
        read_section(o, &values, &mut report)?;
    }
    if o.sections.write_amp && o.engines.meridian {
        write_amp_section(o, &values, user_bytes_per_write, &mut report)?;
    }
    progress("done");
    report.footer.push(format!(
        "run time: {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    report.footer.push(format!(
        "load average at end: {} (other processes on this machine share its {} cores)",
        Machine::detect().load_average,
        machine.nproc
    ));
    Ok(report)
}

fn write_section(
    o: &Options,
    values: &ValuePool,
    user_bytes_per_write: u64,
    report: &mut Report,
) -> Result<(), BenchError> {
    let mut configs: Vec<(bool, usize, u64)> = PERIODIC_THREADS
        .iter()
        .map(|t| (false, *t, o.writes))
        .collect();
    configs.push((true, o.batch_threads, o.sync_writes));
    for (durable, threads, count) in configs {
        // Alternate the engines repeat by repeat, so that both see the same machine load.
        let mut meridian_runs = Vec::new();
        let mut fjall_runs = Vec::new();
        for repeat in 0..o.repeat {
            if o.engines.meridian {
                meridian_runs.push(meridian_write_run(
                    o, values, durable, threads, count, repeat,
                )?);
            }
            if o.engines.fjall {
                fjall_runs.push(fjall_write_run(o, values, durable, threads, count, repeat)?);
            }
        }
        for (runs, engine, label) in [
            (
                meridian_runs,
                "meridian",
                if durable {
                    "meridian batch (group commit)"
                } else {
                    "meridian periodic (10 s)"
                },
            ),
            (
                fjall_runs,
                "fjall",
                if durable {
                    "fjall SyncAll per write"
                } else {
                    "fjall default (buffered journal)"
                },
            ),
        ] {
            if runs.is_empty() {
                continue;
            }
            let (result, all) = median_run(runs);
            let mut note = all;
            if let Some(n) = &result.1 {
                note = format!("{note}; {n}");
            }
            report.writes.push(WriteRow {
                durability: label.to_owned(),
                engine,
                result: result.0,
                user_bytes_per_write,
                note,
            });
        }
    }
    Ok(())
}

/// The run of median throughput among `runs` (with its note), and every run's throughput
/// as text.
fn median_run<N>(mut runs: Vec<(RunResult, N)>) -> ((RunResult, N), String) {
    let all: Vec<String> = runs
        .iter()
        .map(|(r, _)| format!("{:.0}", r.ops_per_sec()))
        .collect();
    runs.sort_by(|a, b| a.0.ops_per_sec().total_cmp(&b.0.ops_per_sec()));
    let mid = runs.len() / 2;
    let text = if all.len() > 1 {
        format!("median of {} runs: {} ops/s", all.len(), all.join(" / "))
    } else {
        "1 run".to_owned()
    };
    (runs.swap_remove(mid), text)
}

fn meridian_write_run(
    o: &Options,
    values: &ValuePool,
    durable: bool,
    threads: usize,
    count: u64,
    repeat: usize,
) -> Result<(RunResult, Option<String>), BenchError> {
    let keys = KeySpace::new(o.seed.wrapping_add(repeat as u64));
    let dir = tempdir(&o.dir, "meridian-writes")?;
    let sync = if durable {
        MeridianSync::Batch
    } else {
        MeridianSync::Periodic
    };
    progress(&format!(
        "writes: meridian {sync:?}, {threads} thread(s), {count} writes (run {})",
        repeat + 1
    ));
    let m = MeridianStore::open(dir.path(), sync, Strategy::SizeTiered, o.cache_bytes)?;
    let spec = WriteSpec {
        keys,
        write_keys: WriteKeys::Distinct,
        values,
        count,
        threads,
        seed: o.seed,
    };
    let r = run_writes(&m, &spec, None)?;
    let stats = m.stats()?;
    let (flushed, compacted) = m.engine().bytes_written();
    let mut note = format!(
        "median run ended with {} sstables, {} partitions in memtables, {:.0} MB flushed, {:.0} MB compacted",
        stats.sstable_count,
        stats.memtable_partitions,
        flushed as f64 / 1e6,
        compacted as f64 / 1e6
    );
    if r.overload_retries > 0 {
        note.push_str(&format!(
            ", {} writes retried after Overloaded",
            r.overload_retries
        ));
    }
    progress(&format!("  {:.0} writes/s; {note}", r.ops_per_sec()));
    m.shutdown()?;
    Ok((r, Some(note)))
}

fn fjall_write_run(
    o: &Options,
    values: &ValuePool,
    durable: bool,
    threads: usize,
    count: u64,
    repeat: usize,
) -> Result<(RunResult, Option<String>), BenchError> {
    let keys = KeySpace::new(o.seed.wrapping_add(repeat as u64));
    let dir = tempdir(&o.dir, "fjall-writes")?;
    let sync = if durable {
        FjallSync::SyncAll
    } else {
        FjallSync::Default
    };
    progress(&format!(
        "writes: fjall {sync:?}, {threads} thread(s), {count} writes (run {})",
        repeat + 1
    ));
    let f = FjallStore::open(dir.path(), sync, o.cache_bytes)?;
    let spec = WriteSpec {
        keys,
        write_keys: WriteKeys::Distinct,
        values,
        count,
        threads,
        seed: o.seed,
    };
    let r = run_writes(&f, &spec, None)?;
    let note = format!("median run ended with {} tables", f.table_count());
    progress(&format!("  {:.0} writes/s; {note}", r.ops_per_sec()));
    drop(f);
    Ok((r, Some(note)))
}

/// A store loaded for reads, with what the report says about its residency.
enum Loaded {
    Meridian(MeridianStore),
    Fjall(FjallStore),
}

impl Loaded {
    fn store(&self) -> &dyn KvStore {
        match self {
            Loaded::Meridian(m) => m,
            Loaded::Fjall(f) => f,
        }
    }
}

fn load_for_reads(
    o: &Options,
    values: &ValuePool,
    dir: &Path,
    engine: &'static str,
    residency: &'static str,
    count: u64,
) -> Result<(Loaded, ReadSetup), BenchError> {
    let keys = KeySpace::new(o.seed);
    let loaded = if engine == "meridian" {
        Loaded::Meridian(MeridianStore::open(
            dir,
            MeridianSync::Periodic,
            Strategy::SizeTiered,
            o.cache_bytes,
        )?)
    } else {
        Loaded::Fjall(FjallStore::open(dir, FjallSync::Default, o.cache_bytes)?)
    };
    progress(&format!(
        "reads: loading {count} partitions into {engine} ({residency})"
    ));
    let spec = WriteSpec {
        keys,
        write_keys: WriteKeys::Distinct,
        values,
        count,
        threads: LOAD_THREADS,
        seed: o.seed,
    };
    run_writes(loaded.store(), &spec, None)?;
    let sstable = residency == "sstable";
    let (state, as_intended) = match &loaded {
        Loaded::Meridian(m) => {
            if sstable {
                m.flush_and_compact()?;
            }
            let s = m.stats()?;
            let state = format!(
                "{} in memtables, {} sstable(s) holding {} partitions ({:.1} MB on disk)",
                s.memtable_partitions,
                s.sstable_count,
                s.sstable_partitions,
                s.live_disk_bytes as f64 / 1e6
            );
            let ok = if sstable {
                s.memtable_partitions == 0 && s.sstable_count > 0
            } else {
                s.sstable_count == 0 && s.memtable_partitions as u64 == count
            };
            (state, ok)
        }
        Loaded::Fjall(f) => {
            if sstable {
                f.flush_and_compact()?;
            } else {
                f.persist()?;
            }
            let tables = f.table_count();
            let state = format!(
                "{tables} table(s) on disk ({:.1} MB)",
                f.disk_space() as f64 / 1e6
            );
            let ok = if sstable { tables > 0 } else { tables == 0 };
            (state, ok)
        }
    };
    progress(&format!("  {state}"));
    Ok((
        loaded,
        ReadSetup {
            residency,
            engine,
            loaded: count,
            state,
            as_intended,
        },
    ))
}

fn read_section(o: &Options, values: &ValuePool, report: &mut Report) -> Result<(), BenchError> {
    let keys = KeySpace::new(o.seed);
    for (residency, count) in [("memtable", o.memtable_keys), ("sstable", o.sstable_keys)] {
        // Load both engines first, so that each measured pair runs back to back.
        let mut dirs = Vec::new();
        let mut stores: Vec<(Loaded, &'static str)> = Vec::new();
        for (enabled, name) in [(o.engines.meridian, "meridian"), (o.engines.fjall, "fjall")] {
            if !enabled {
                continue;
            }
            let dir = tempdir(&o.dir, &format!("{name}-reads"))?;
            let (loaded, setup) = load_for_reads(o, values, dir.path(), name, residency, count)?;
            report.read_setups.push(setup);
            stores.push((loaded, name));
            dirs.push(dir);
        }
        for (s, _) in &stores {
            let warmup = ReadSpec {
                keys,
                loaded: count,
                read_keys: ReadKeys::Present,
                value_len_bytes: o.value_len_bytes,
                count: (o.reads / WARMUP_DIVISOR).max(1),
                threads: LOAD_THREADS,
                seed: o.seed ^ 0xaaaa,
            };
            run_reads(s.store(), &warmup)?;
        }
        for (read_keys, label) in [(ReadKeys::Present, "present"), (ReadKeys::Absent, "absent")] {
            for threads in READ_THREADS {
                let mut runs: Vec<Vec<(RunResult, ())>> =
                    stores.iter().map(|_| Vec::new()).collect();
                for repeat in 0..o.repeat {
                    for ((s, name), runs) in stores.iter().zip(runs.iter_mut()) {
                        progress(&format!(
                            "reads: {residency} {label} {name} {threads} thread(s) (run {})",
                            repeat + 1
                        ));
                        let spec = ReadSpec {
                            keys,
                            loaded: count,
                            read_keys,
                            value_len_bytes: o.value_len_bytes,
                            count: o.reads,
                            threads,
                            seed: o.seed.wrapping_add((threads + 10 * repeat) as u64),
                        };
                        let r = run_reads(s.store(), &spec)?;
                        progress(&format!(
                            "  {:.0} reads/s, p50 {:.2} us, p99 {:.2} us",
                            r.ops_per_sec(),
                            r.quantile_micros(0.5),
                            r.quantile_micros(0.99)
                        ));
                        runs.push((r, ()));
                    }
                }
                for ((_, name), runs) in stores.iter().zip(runs) {
                    let ((result, ()), all) = median_run(runs);
                    report.reads.push(ReadRow {
                        residency,
                        keys: label,
                        engine: name,
                        result,
                        note: all,
                    });
                }
            }
        }
        for (s, _) in &stores {
            if let Loaded::Meridian(m) = s {
                m.shutdown()?;
            }
        }
        drop(stores);
        drop(dirs);
    }
    Ok(())
}

fn write_amp_section(
    o: &Options,
    values: &ValuePool,
    user_bytes_per_write: u64,
    report: &mut Report,
) -> Result<(), BenchError> {
    let keys = KeySpace::new(o.seed ^ 0x5a5a);
    let writes = (o.wa_user_bytes / user_bytes_per_write).max(1);
    let expected_distinct =
        (o.wa_keys as f64 * (1.0 - (-(writes as f64) / o.wa_keys as f64).exp())).round() as u64;
    report.write_amp_notes.push(format!(
        "{writes} writes of {user_bytes_per_write} bytes (key+value) per strategy, keys uniform over {} keys, {} writer thread(s), commitlog periodic",
        o.wa_keys, o.wa_threads
    ));
    for strategy in [Strategy::SizeTiered, Strategy::Leveled] {
        let dir = tempdir(&o.dir, "meridian-wa")?;
        let m = MeridianStore::open(dir.path(), MeridianSync::Periodic, strategy, o.cache_bytes)?;
        progress(&format!(
            "write amplification: {}, {writes} writes ({:.2} GB user bytes)",
            strategy.class(),
            (writes * user_bytes_per_write) as f64 / BYTES_PER_GB
        ));
        let started = Instant::now();
        let engine = m.engine().clone();
        let tick = move |n: u64| {
            let (fl, co) = engine.bytes_written();
            progress(&format!(
                "  {n} writes in {:.1}s, {:.2} GB flushed, {:.2} GB compacted so far",
                started.elapsed().as_secs_f64(),
                fl as f64 / BYTES_PER_GB,
                co as f64 / BYTES_PER_GB
            ));
        };
        let spec = WriteSpec {
            keys,
            write_keys: WriteKeys::Uniform {
                key_space: o.wa_keys,
            },
            values,
            count: writes,
            threads: o.wa_threads,
            seed: o.seed,
        };
        let w = run_writes(&m, &spec, Some(&tick))?;
        progress(&format!(
            "  writes done at {:.0} writes/s; settling (flush + pending compactions)",
            w.ops_per_sec()
        ));
        let settle_started = Instant::now();
        let tasks = m.settle()?;
        let settle_secs = settle_started.elapsed().as_secs_f64();
        let (flushed_bytes, compacted_bytes) = m.engine().bytes_written();
        let stats = m.stats()?;
        progress(&format!(
            "  settled in {settle_secs:.1}s ({tasks} compaction task(s) left after the background thread stopped)"
        ));
        report.write_amp.push(WaRow {
            strategy: strategy.class(),
            writes,
            user_bytes: writes * user_bytes_per_write,
            write: w,
            settle_secs,
            flushed_bytes,
            compacted_bytes,
            sstables: stats.sstable_count,
            live_bytes: stats.live_disk_bytes,
            expected_distinct_keys: expected_distinct,
            sstable_partitions: stats.sstable_partitions,
        });
        drop(m);
        drop(dir);
    }
    Ok(())
}
