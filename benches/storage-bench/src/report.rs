//! Printing: the machine, the tables of figures, the ratios and the goal verdicts.
//!
//! Every ratio is computed from two figures measured in the same process run, and is
//! printed as Meridian / fjall with its direction spelled out.

use std::fmt::Write as _;

use crate::workload::RunResult;

/// Bytes in a MB as the report counts them (decimal).
pub const BYTES_PER_MB: f64 = 1e6;
/// Bytes in a GB as the report counts them (decimal).
pub const BYTES_PER_GB: f64 = 1e9;

/// Facts about the machine the run is on.
pub struct Machine {
    /// Logical CPUs available to the process.
    pub nproc: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `MemTotal` from `/proc/meminfo`, in bytes.
    pub mem_total_bytes: Option<u64>,
    /// Kernel release.
    pub kernel: String,
    /// `/proc/loadavg` when the run started.
    pub load_average: String,
}

impl Machine {
    /// Reads the facts (unknown ones are reported as such).
    pub fn detect() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let mem_total_bytes = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
            .map(|kib| kib * 1024);
        let load = read("/proc/loadavg");
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            mem_total_bytes,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            load_average: load
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// One measured write run.
pub struct WriteRow {
    /// Durability description.
    pub durability: String,
    /// `meridian` or `fjall`.
    pub engine: &'static str,
    /// The measurement.
    pub result: RunResult,
    /// Bytes of key + value per write.
    pub user_bytes_per_write: u64,
    /// Extra facts (SSTables made, retries).
    pub note: String,
}

/// One measured read run.
pub struct ReadRow {
    /// `memtable` or `sstable`.
    pub residency: &'static str,
    /// `present` or `absent`.
    pub keys: &'static str,
    /// `meridian` or `fjall`.
    pub engine: &'static str,
    /// The measurement.
    pub result: RunResult,
    /// Throughput of every repeat.
    pub note: String,
}

/// Residency facts of one loaded read dataset.
pub struct ReadSetup {
    /// `memtable` or `sstable`.
    pub residency: &'static str,
    /// `meridian` or `fjall`.
    pub engine: &'static str,
    /// Partitions loaded.
    pub loaded: u64,
    /// Where the data was when reads ran, as the engine reports it.
    pub state: String,
    /// Whether the data was where the residency says.
    pub as_intended: bool,
}

/// One write-amplification run.
pub struct WaRow {
    /// Strategy class.
    pub strategy: &'static str,
    /// Writes done.
    pub writes: u64,
    /// Key + value bytes written by the user.
    pub user_bytes: u64,
    /// The write loop.
    pub write: RunResult,
    /// Time to flush and finish every pending compaction afterwards.
    pub settle_secs: f64,
    /// Bytes written by memtable flushes.
    pub flushed_bytes: u64,
    /// Bytes written by compactions.
    pub compacted_bytes: u64,
    /// Live SSTables at the end.
    pub sstables: usize,
    /// Bytes of live SSTables at the end.
    pub live_bytes: u64,
    /// Expected distinct keys written.
    pub expected_distinct_keys: u64,
    /// Partitions in live SSTables at the end (a partition in two SSTables counts twice).
    pub sstable_partitions: u64,
}

impl WaRow {
    /// (flushed + compacted) / user bytes.
    pub fn write_amplification(&self) -> f64 {
        (self.flushed_bytes + self.compacted_bytes) as f64 / self.user_bytes.max(1) as f64
    }
}

/// The whole report.
pub struct Report {
    /// Header lines (command, machine, configuration).
    pub header: Vec<String>,
    /// Write runs in order.
    pub writes: Vec<WriteRow>,
    /// Read dataset facts.
    pub read_setups: Vec<ReadSetup>,
    /// Read runs in order.
    pub reads: Vec<ReadRow>,
    /// Write-amplification runs.
    pub write_amp: Vec<WaRow>,
    /// Notes on the write-amplification runs.
    pub write_amp_notes: Vec<String>,
    /// Closing lines.
    pub footer: Vec<String>,
}

/// The read goal: Meridian's throughput at least fjall's divided by this.
pub const READ_GOAL_FACTOR: f64 = 1.5;

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

impl Report {
    /// Renders the report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            let _ = writeln!(out, "{line}");
        }
        let mut write_verdicts: Vec<bool> = Vec::new();
        let mut read_verdicts: Vec<bool> = Vec::new();

        if !self.writes.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "1. BLIND WRITES: each write is one partition with one row and one 100-byte cell under a random\n   16-byte key (Cassandra `INSERT INTO t (k, v)`); fjall writes the same key -> value.\n   MB = 1e6 bytes of key+value. Latency per write in microseconds."
            );
            let _ = writeln!(
                out,
                "{:<34} {:<9} {:>4} {:>9} {:>8} {:>11} {:>8} {:>9} {:>9}  note",
                "durability",
                "engine",
                "thr",
                "writes",
                "secs",
                "cells/s",
                "MB/s",
                "p50 us",
                "p99 us"
            );
            for w in &self.writes {
                let r = &w.result;
                let mb = r.ops as f64 * w.user_bytes_per_write as f64 / BYTES_PER_MB;
                let _ = writeln!(
                    out,
                    "{:<34} {:<9} {:>4} {:>9} {:>8.2} {:>11.0} {:>8.2} {:>9.1} {:>9.1}  {}",
                    w.durability,
                    w.engine,
                    r.threads,
                    r.ops,
                    r.elapsed.as_secs_f64(),
                    r.ops_per_sec(),
                    mb / r.elapsed.as_secs_f64().max(1e-9),
                    r.quantile_micros(0.5),
                    r.quantile_micros(0.99),
                    w.note
                );
            }
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "   Ratios meridian/fjall of write throughput (cells/s), same thread count: >1 means MERIDIAN IS FASTER.\n   Goal: blind writes at least as fast as fjall's (ratio >= 1.00)."
            );
            // Pairs: consecutive meridian/fjall rows with the same thread count.
            let mut i = 0;
            while i + 1 < self.writes.len() {
                let (m, f) = (&self.writes[i], &self.writes[i + 1]);
                if m.engine == "meridian"
                    && f.engine == "fjall"
                    && m.result.threads == f.result.threads
                {
                    let ratio = m.result.ops_per_sec() / f.result.ops_per_sec().max(1e-9);
                    write_verdicts.push(ratio >= 1.0);
                    let _ = writeln!(
                        out,
                        "   {:<64} thr {:>3}: {:>7.2}x  {}",
                        format!("{} vs {}", m.durability, f.durability),
                        m.result.threads,
                        ratio,
                        verdict(ratio >= 1.0)
                    );
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }

        if !self.reads.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "2. POINT READS: meridian engine.read(table, key, [Slice::ALL]) vs fjall keyspace.get(key); random keys,\n   every answer checked (present keys must return the 100-byte value, absent keys nothing).\n   Latency per read in microseconds."
            );
            for s in &self.read_setups {
                let _ = writeln!(
                    out,
                    "   dataset {:<8} {:<9} {:>9} partitions: {}{}",
                    s.residency,
                    s.engine,
                    s.loaded,
                    s.state,
                    if s.as_intended {
                        ""
                    } else {
                        "  (NOT WHERE INTENDED)"
                    }
                );
            }
            let _ = writeln!(
                out,
                "{:<9} {:<8} {:<9} {:>4} {:>9} {:>8} {:>11} {:>9} {:>9}  note",
                "residency",
                "keys",
                "engine",
                "thr",
                "reads",
                "secs",
                "reads/s",
                "p50 us",
                "p99 us"
            );
            for r in &self.reads {
                let x = &r.result;
                let _ = writeln!(
                    out,
                    "{:<9} {:<8} {:<9} {:>4} {:>9} {:>8.2} {:>11.0} {:>9.2} {:>9.2}  {}",
                    r.residency,
                    r.keys,
                    r.engine,
                    x.threads,
                    x.ops,
                    x.elapsed.as_secs_f64(),
                    x.ops_per_sec(),
                    x.quantile_micros(0.5),
                    x.quantile_micros(0.99),
                    r.note
                );
            }
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "   Ratios meridian/fjall of read throughput (reads/s): >1 means MERIDIAN IS FASTER; and of latency:\n   >1 means MERIDIAN IS SLOWER. Goal: point reads within {READ_GOAL_FACTOR}x of fjall's, judged on throughput\n   (meridian reads/s >= fjall reads/s / {READ_GOAL_FACTOR}, i.e. throughput ratio >= {:.2}).",
                1.0 / READ_GOAL_FACTOR
            );
            let mut i = 0;
            while i + 1 < self.reads.len() {
                let (m, f) = (&self.reads[i], &self.reads[i + 1]);
                if m.engine == "meridian"
                    && f.engine == "fjall"
                    && m.residency == f.residency
                    && m.keys == f.keys
                    && m.result.threads == f.result.threads
                {
                    let tput = m.result.ops_per_sec() / f.result.ops_per_sec().max(1e-9);
                    let p50 =
                        m.result.quantile_micros(0.5) / f.result.quantile_micros(0.5).max(1e-9);
                    let p99 =
                        m.result.quantile_micros(0.99) / f.result.quantile_micros(0.99).max(1e-9);
                    let pass = tput >= 1.0 / READ_GOAL_FACTOR;
                    read_verdicts.push(pass);
                    let _ = writeln!(
                        out,
                        "   {:<8} {:<8} thr {}: throughput {:>6.2}x   p50 latency {:>6.2}x   p99 latency {:>6.2}x   {}",
                        m.residency,
                        m.keys,
                        m.result.threads,
                        tput,
                        p50,
                        p99,
                        verdict(pass)
                    );
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }

        if !self.write_amp.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "3. WRITE AMPLIFICATION (meridian only): overwrites of random keys, auto_compaction on, compaction unthrottled.\n   WA = (bytes flushed + bytes compacted) / user bytes, user bytes = key+value bytes written;\n   commit-log bytes are not counted. GB = 1e9 bytes. 'settle' = final flush + finishing every pending compaction."
            );
            for n in &self.write_amp_notes {
                let _ = writeln!(out, "   {n}");
            }
            let _ = writeln!(
                out,
                "{:<30} {:>10} {:>8} {:>8} {:>10} {:>8} {:>9} {:>10} {:>6} {:>6} {:>8} {:>11}",
                "strategy",
                "writes",
                "user GB",
                "write s",
                "writes/s",
                "settle s",
                "flush GB",
                "compact GB",
                "WA",
                "ssts",
                "live GB",
                "partitions"
            );
            for w in &self.write_amp {
                let _ = writeln!(
                    out,
                    "{:<30} {:>10} {:>8.2} {:>8.1} {:>10.0} {:>8.1} {:>9.2} {:>10.2} {:>6.2} {:>6} {:>8.2} {:>11}",
                    w.strategy,
                    w.writes,
                    w.user_bytes as f64 / BYTES_PER_GB,
                    w.write.elapsed.as_secs_f64(),
                    w.write.ops_per_sec(),
                    w.settle_secs,
                    w.flushed_bytes as f64 / BYTES_PER_GB,
                    w.compacted_bytes as f64 / BYTES_PER_GB,
                    w.write_amplification(),
                    w.sstables,
                    w.live_bytes as f64 / BYTES_PER_GB,
                    w.sstable_partitions
                );
            }
            if let Some(w) = self.write_amp.first() {
                let _ = writeln!(
                    out,
                    "   (expected distinct keys written: {}; 'partitions' counts each SSTable's partitions, so > distinct keys\n    means the same key still lives in several SSTables)",
                    w.expected_distinct_keys
                );
            }
        }

        let _ = writeln!(out);
        let _ = writeln!(out, "GOALS (from the issue)");
        if !write_verdicts.is_empty() {
            let n_pass = write_verdicts.iter().filter(|p| **p).count();
            let _ = writeln!(
                out,
                "   blind writes at least as fast as fjall's:     {} ({n_pass} of {} comparisons meet it)",
                verdict(n_pass == write_verdicts.len()),
                write_verdicts.len()
            );
        }
        if !read_verdicts.is_empty() {
            let n_pass = read_verdicts.iter().filter(|p| **p).count();
            let _ = writeln!(
                out,
                "   point reads within {READ_GOAL_FACTOR}x of fjall's (throughput): {} ({n_pass} of {} comparisons meet it)",
                verdict(n_pass == read_verdicts.len()),
                read_verdicts.len()
            );
        }
        if write_verdicts.is_empty() && read_verdicts.is_empty() {
            let _ = writeln!(out, "   (no comparison ran)");
        }
        for line in &self.footer {
            let _ = writeln!(out, "{line}");
        }
        out
    }
}
