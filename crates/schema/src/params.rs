//! Table options: [`TableParams`] with every Cassandra 5.0 table option and its default, the
//! parsing of `WITH name = value` properties exactly as Cassandra's `TableAttributes` does it
//! (unknown and malformed properties are syntax errors, out-of-range values configuration
//! errors, with Cassandra's messages), and the canonical forms stored in
//! `system_schema.tables` and printed by `DESCRIBE`.
//!
//! `compaction` and `compression` are kept as string maps: class names are normalized to
//! their fully qualified form and Cassandra's implied defaults are filled in, but the content
//! of strategy-specific options is validated by the storage layer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cql::{
    cql_string_literal, java_double, java_parse_double, java_parse_int, parse_property_boolean,
};
use crate::error::SchemaError;

/// The value of one `WITH name = value` property, as the parser saw it: constants (numbers,
/// booleans, strings, keywords) as their text, maps as `(key, value)` text pairs in source
/// order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionValue {
    /// A constant.
    Text(String),
    /// A `{'k': 'v', …}` map.
    Map(Vec<(String, String)>),
}

/// Largest TTL Cassandra accepts (20 years), in seconds.
pub const MAX_TTL_SECS: u32 = 630_720_000;

/// Smallest exclusive `bloom_filter_fp_chance` (Cassandra's
/// `BloomCalculations.minSupportedBloomFilterFpChance()`).
pub const MIN_BLOOM_FILTER_FP_CHANCE: f64 = 6.71e-5;

/// Package of Cassandra's compaction strategies.
pub const COMPACTION_PACKAGE: &str = "org.apache.cassandra.db.compaction";
/// Package of Cassandra's compressors.
pub const COMPRESSION_PACKAGE: &str = "org.apache.cassandra.io.compress";
/// The default compaction strategy class.
pub const SIZE_TIERED_COMPACTION: &str =
    "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy";
/// The leveled compaction strategy class (its default `bloom_filter_fp_chance` is 0.1).
pub const LEVELED_COMPACTION: &str = "org.apache.cassandra.db.compaction.LeveledCompactionStrategy";
/// The default compressor class.
pub const LZ4_COMPRESSOR: &str = "org.apache.cassandra.io.compress.LZ4Compressor";

const KNOWN_COMPACTION_STRATEGIES: [&str; 4] = [
    "SizeTieredCompactionStrategy",
    "LeveledCompactionStrategy",
    "TimeWindowCompactionStrategy",
    "UnifiedCompactionStrategy",
];
/// Strategies that take `min_threshold` / `max_threshold` (filled with 4 / 32 by default).
const THRESHOLD_COMPACTION_STRATEGIES: [&str; 3] = [
    "SizeTieredCompactionStrategy",
    "LeveledCompactionStrategy",
    "TimeWindowCompactionStrategy",
];
const KNOWN_COMPRESSORS: [&str; 5] = [
    "LZ4Compressor",
    "SnappyCompressor",
    "DeflateCompressor",
    "ZstdCompressor",
    "NoopCompressor",
];

/// Every table option name Cassandra 5.0 accepts (plus `id`, handled by `CREATE TABLE`).
pub const TABLE_OPTION_NAMES: [&str; 19] = [
    "additional_write_policy",
    "allow_auto_snapshot",
    "bloom_filter_fp_chance",
    "caching",
    "cdc",
    "comment",
    "compaction",
    "compression",
    "crc_check_chance",
    "default_time_to_live",
    "extensions",
    "gc_grace_seconds",
    "incremental_backups",
    "max_index_interval",
    "memtable",
    "memtable_flush_period_in_ms",
    "min_index_interval",
    "read_repair",
    "speculative_retry",
];

/// The `caching` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Caching {
    /// `keys`: `ALL` (true) or `NONE`.
    pub keys: bool,
    /// `rows_per_partition`: `NONE` (0), a count, or `ALL` (`i32::MAX`).
    pub rows_per_partition: u32,
}

impl Caching {
    /// `rows_per_partition` meaning `ALL`.
    pub const ALL_ROWS: u32 = i32::MAX as u32;

    /// The option as Cassandra's map: `{'keys': 'ALL', 'rows_per_partition': 'NONE'}`.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let rows = match self.rows_per_partition {
            0 => "NONE".to_string(),
            Self::ALL_ROWS => "ALL".to_string(),
            n => n.to_string(),
        };
        BTreeMap::from([
            (
                "keys".to_string(),
                if self.keys { "ALL" } else { "NONE" }.to_string(),
            ),
            ("rows_per_partition".to_string(), rows),
        ])
    }

    /// Cassandra's `CachingParams.fromMap` (a missing `keys` means `NONE`).
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Caching, SchemaError> {
        let mut rest = map.clone();
        let keys = match rest.remove("keys") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("ALL") => true,
            Some(v) if v.eq_ignore_ascii_case("NONE") => false,
            Some(v) => {
                return Err(SchemaError::config(format!(
                    "Invalid value '{v}' for caching sub-option 'keys': only 'ALL' and 'NONE' are allowed"
                )))
            }
        };
        let rows_per_partition = match rest.remove("rows_per_partition") {
            None => 0,
            Some(v) if v.eq_ignore_ascii_case("ALL") => Self::ALL_ROWS,
            Some(v) if v.eq_ignore_ascii_case("NONE") => 0,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && n <= Self::ALL_ROWS => n,
                _ => {
                    return Err(SchemaError::config(format!(
                        "Invalid value '{v}' for caching sub-option 'rows_per_partition': only 'ALL', 'NONE', and integer values are allowed"
                    )))
                }
            },
        };
        if !rest.is_empty() {
            let names: Vec<&str> = rest.keys().map(String::as_str).collect();
            return Err(SchemaError::config(format!(
                "Invalid caching sub-options [{}]: only 'keys' and 'rows_per_partition' are allowed",
                names.join(", ")
            )));
        }
        Ok(Caching {
            keys,
            rows_per_partition,
        })
    }
}

impl Default for Caching {
    fn default() -> Self {
        Caching {
            keys: true,
            rows_per_partition: 0,
        }
    }
}

/// `speculative_retry` / `additional_write_policy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SpeculativeRetry {
    /// `99p`: after the given latency percentile.
    Percentile(f64),
    /// `50ms`: after a fixed delay.
    Fixed {
        /// Delay in milliseconds.
        delay_ms: u64,
    },
    /// `ALWAYS`.
    Always,
    /// `NEVER` (also written `NONE`).
    Never,
    /// `MIN(99p,50ms)` / `MAX(…)`: the smaller or larger of a percentile and a delay.
    Hybrid {
        /// `MIN` (true) or `MAX`.
        min: bool,
        /// The percentile.
        percentile: f64,
        /// The delay in milliseconds.
        delay_ms: u64,
    },
}

impl Default for SpeculativeRetry {
    fn default() -> Self {
        SpeculativeRetry::Percentile(99.0)
    }
}

/// Cassandra prints percentiles with `DecimalFormat("#.####")`.
fn format_percentile(p: f64) -> String {
    let rounded = (p * 10_000.0).round() / 10_000.0;
    let s = format!("{rounded:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}p")
}

impl std::fmt::Display for SpeculativeRetry {
    /// Cassandra's canonical spelling (`99p`, `50ms`, `ALWAYS`, `NEVER`, `MIN(99p,50ms)`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpeculativeRetry::Percentile(p) => f.write_str(&format_percentile(*p)),
            SpeculativeRetry::Fixed { delay_ms } => write!(f, "{delay_ms}ms"),
            SpeculativeRetry::Always => f.write_str("ALWAYS"),
            SpeculativeRetry::Never => f.write_str("NEVER"),
            SpeculativeRetry::Hybrid {
                min,
                percentile,
                delay_ms,
            } => write!(
                f,
                "{}({},{delay_ms}ms)",
                if *min { "MIN" } else { "MAX" },
                format_percentile(*percentile)
            ),
        }
    }
}

impl SpeculativeRetry {
    /// Cassandra's `SpeculativeRetryPolicy.fromString` (case-insensitive); `option` names the
    /// property in error messages.
    pub fn parse(s: &str, option: &str) -> Result<SpeculativeRetry, SchemaError> {
        let invalid = || SchemaError::config(format!("Invalid value {s} for option '{option}'"));
        let upper = s.trim().to_ascii_uppercase();
        match upper.as_str() {
            "ALWAYS" => return Ok(SpeculativeRetry::Always),
            "NEVER" | "NONE" => return Ok(SpeculativeRetry::Never),
            _ => {}
        }
        if let Some(args) = upper
            .strip_prefix("MIN(")
            .map(|a| (true, a))
            .or_else(|| upper.strip_prefix("MAX(").map(|a| (false, a)))
        {
            let (min, args) = args;
            let inner = args.strip_suffix(')').ok_or_else(invalid)?;
            let (a, b) = inner.split_once(',').ok_or_else(invalid)?;
            let a = Self::parse_simple(a.trim(), s, option)?;
            let b = Self::parse_simple(b.trim(), s, option)?;
            return match (a, b) {
                (SpeculativeRetry::Percentile(p), SpeculativeRetry::Fixed { delay_ms })
                | (SpeculativeRetry::Fixed { delay_ms }, SpeculativeRetry::Percentile(p)) => {
                    Ok(SpeculativeRetry::Hybrid {
                        min,
                        percentile: p,
                        delay_ms,
                    })
                }
                _ => Err(invalid()),
            };
        }
        Self::parse_simple(&upper, s, option)
    }

    fn parse_simple(
        upper: &str,
        original: &str,
        option: &str,
    ) -> Result<SpeculativeRetry, SchemaError> {
        let invalid =
            || SchemaError::config(format!("Invalid value {original} for option '{option}'"));
        let number = |n: &str| {
            (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
                .then(|| n.parse::<f64>().ok())
                .flatten()
        };
        if let Some(n) = upper
            .strip_suffix("PERCENTILE")
            .or_else(|| upper.strip_suffix('P'))
        {
            let p = number(n).ok_or_else(invalid)?;
            if !(p > 0.0 && p < 100.0) {
                return Err(SchemaError::config(format!(
                    "Invalid value {original} for PERCENTILE option '{option}': must be between (0.0 and 100.0)"
                )));
            }
            return Ok(SpeculativeRetry::Percentile(p));
        }
        if let Some(n) = upper.strip_suffix("MS") {
            let ms = number(n).ok_or_else(invalid)?;
            return Ok(SpeculativeRetry::Fixed {
                delay_ms: ms.trunc() as u64,
            });
        }
        Err(invalid())
    }
}

/// `read_repair`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReadRepair {
    /// `BLOCKING` (the default): monotonic quorum reads.
    #[default]
    Blocking,
    /// `NONE`.
    None,
}

impl std::fmt::Display for ReadRepair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReadRepair::Blocking => "BLOCKING",
            ReadRepair::None => "NONE",
        })
    }
}

/// All options of a table, with Cassandra 5.0's defaults ([`TableParams::default`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableParams {
    /// `additional_write_policy` (default `99p`).
    pub additional_write_policy: SpeculativeRetry,
    /// `allow_auto_snapshot` (default true).
    pub allow_auto_snapshot: bool,
    /// `bloom_filter_fp_chance` (default 0.01; 0.1 with leveled compaction).
    pub bloom_filter_fp_chance: f64,
    /// `caching` (default keys `ALL`, rows `NONE`).
    pub caching: Caching,
    /// `cdc` (default false).
    pub cdc: bool,
    /// `comment` (default empty).
    pub comment: String,
    /// `compaction`, with its `class` fully qualified (default size-tiered, thresholds 4/32).
    pub compaction: BTreeMap<String, String>,
    /// `compression` (default LZ4, 16 KiB chunks; `{'enabled': 'false'}` when disabled).
    pub compression: BTreeMap<String, String>,
    /// `crc_check_chance` (default 1.0).
    pub crc_check_chance: f64,
    /// `default_time_to_live` in seconds (default 0: none).
    pub default_time_to_live_secs: u32,
    /// `extensions` (default empty; Cassandra ignores the option in CQL).
    pub extensions: BTreeMap<String, Vec<u8>>,
    /// `gc_grace_seconds` (default 864000, ten days).
    pub gc_grace_seconds: u32,
    /// `incremental_backups` (default true).
    pub incremental_backups: bool,
    /// `max_index_interval` (default 2048).
    pub max_index_interval: u32,
    /// `memtable` configuration name (default `default`).
    pub memtable: String,
    /// `memtable_flush_period_in_ms` (default 0: never).
    pub memtable_flush_period_ms: u32,
    /// `min_index_interval` (default 128).
    pub min_index_interval: u32,
    /// `read_repair` (default `BLOCKING`).
    pub read_repair: ReadRepair,
    /// `speculative_retry` (default `99p`).
    pub speculative_retry: SpeculativeRetry,
}

/// The default `compaction` map.
pub fn default_compaction() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("class".to_string(), SIZE_TIERED_COMPACTION.to_string()),
        ("max_threshold".to_string(), "32".to_string()),
        ("min_threshold".to_string(), "4".to_string()),
    ])
}

/// The default `compression` map.
pub fn default_compression() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("chunk_length_in_kb".to_string(), "16".to_string()),
        ("class".to_string(), LZ4_COMPRESSOR.to_string()),
    ])
}

impl Default for TableParams {
    fn default() -> Self {
        TableParams {
            additional_write_policy: SpeculativeRetry::default(),
            allow_auto_snapshot: true,
            bloom_filter_fp_chance: 0.01,
            caching: Caching::default(),
            cdc: false,
            comment: String::new(),
            compaction: default_compaction(),
            compression: default_compression(),
            crc_check_chance: 1.0,
            default_time_to_live_secs: 0,
            extensions: BTreeMap::new(),
            gc_grace_seconds: 864_000,
            incremental_backups: true,
            max_index_interval: 2048,
            memtable: "default".into(),
            memtable_flush_period_ms: 0,
            min_index_interval: 128,
            read_repair: ReadRepair::Blocking,
            speculative_retry: SpeculativeRetry::default(),
        }
    }
}

/// Whether this is `CREATE TABLE` (new parameters) or `ALTER TABLE … WITH` (changes to
/// existing ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionsMode {
    /// `CREATE TABLE`: `id` is accepted (and returned by [`TableParams::apply_options`]),
    /// an omitted `bloom_filter_fp_chance` follows the compaction strategy.
    Create,
    /// `ALTER TABLE … WITH`: `id` is refused.
    Alter,
}

fn text<'a>(name: &str, value: &'a OptionValue) -> Result<&'a str, SchemaError> {
    match value {
        OptionValue::Text(s) => Ok(s),
        OptionValue::Map(_) => Err(SchemaError::syntax(format!(
            "Invalid value for property '{name}'. It should be a string"
        ))),
    }
}

fn map(name: &str, value: &OptionValue) -> Result<BTreeMap<String, String>, SchemaError> {
    match value {
        OptionValue::Map(entries) => Ok(entries.iter().cloned().collect()),
        OptionValue::Text(_) => Err(SchemaError::syntax(format!(
            "Invalid value for property '{name}'. It should be a map."
        ))),
    }
}

fn boolean(name: &str, value: &OptionValue) -> Result<bool, SchemaError> {
    let s = text(name, value)?;
    parse_property_boolean(s).ok_or_else(|| {
        SchemaError::syntax(format!(
            "Invalid boolean value {s} for '{name}'. Positive values can be '1', 'true' or 'yes'. \
             Negative values can be '0', 'false' or 'no'."
        ))
    })
}

fn int(name: &str, value: &OptionValue) -> Result<i32, SchemaError> {
    let s = text(name, value)?;
    java_parse_int(s)
        .ok_or_else(|| SchemaError::syntax(format!("Invalid integer value {s} for '{name}'")))
}

fn double(name: &str, value: &OptionValue) -> Result<f64, SchemaError> {
    let s = text(name, value)?;
    java_parse_double(s)
        .ok_or_else(|| SchemaError::syntax(format!("Invalid double value {s} for '{name}'")))
}

/// A non-negative integer option, with Cassandra's range message.
fn non_negative(name: &str, v: i32) -> Result<u32, SchemaError> {
    u32::try_from(v).map_err(|_| {
        SchemaError::config(format!(
            "{name} must be greater than or equal to 0 (got {v})"
        ))
    })
}

/// Checks a user-supplied property list for duplicates and unknown names, the way
/// Cassandra's `PropertyDefinitions` does (both are syntax errors).
pub fn check_property_names(
    properties: &[(String, OptionValue)],
    valid: &[&str],
) -> Result<(), SchemaError> {
    for (i, (name, _)) in properties.iter().enumerate() {
        if properties[..i].iter().any(|(n, _)| n == name) {
            return Err(SchemaError::syntax(format!(
                "Multiple definition for property '{name}'"
            )));
        }
    }
    if let Some((name, _)) = properties
        .iter()
        .find(|(n, _)| !valid.contains(&n.as_str()))
    {
        return Err(SchemaError::syntax(format!("Unknown property '{name}'")));
    }
    Ok(())
}

/// Cassandra's `CompactionParams.fromMap`, reduced to normalization: the class is required and
/// fully qualified, and strategies that take thresholds get `min_threshold` 4 and
/// `max_threshold` 32 unless given.
pub fn normalize_compaction(
    map: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, SchemaError> {
    let mut out = map.clone();
    let class = out.remove("class").ok_or_else(|| {
        SchemaError::config("Missing sub-option 'class' for the 'compaction' option.")
    })?;
    let short = class
        .strip_prefix(COMPACTION_PACKAGE)
        .and_then(|s| s.strip_prefix('.'))
        .unwrap_or(&class);
    if !KNOWN_COMPACTION_STRATEGIES.contains(&short) {
        let full = if class.contains('.') {
            class.clone()
        } else {
            format!("{COMPACTION_PACKAGE}.{class}")
        };
        return Err(SchemaError::config(format!(
            "Unable to find compaction strategy class '{full}'"
        )));
    }
    if THRESHOLD_COMPACTION_STRATEGIES.contains(&short) {
        out.entry("min_threshold".into())
            .or_insert_with(|| "4".into());
        out.entry("max_threshold".into())
            .or_insert_with(|| "32".into());
    }
    out.insert("class".into(), format!("{COMPACTION_PACKAGE}.{short}"));
    Ok(out)
}

/// Cassandra's `CompressionParams.fromMap(…).asMap()`: `{'enabled': 'false'}` when disabled;
/// otherwise a fully qualified `class` and a power-of-two `chunk_length_in_kb` (default 16).
pub fn normalize_compression(
    map: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, SchemaError> {
    let mut out = map.clone();
    let enabled = match out.remove("enabled") {
        None => true,
        Some(v) => v.eq_ignore_ascii_case("true"),
    };
    if !enabled {
        if !out.is_empty() {
            return Err(SchemaError::config(
                "If the 'enabled' option is set to false no other options must be specified",
            ));
        }
        return Ok(BTreeMap::from([(
            "enabled".to_string(),
            "false".to_string(),
        )]));
    }
    if out.is_empty() {
        // `compression = {}` disables compression too.
        return Ok(BTreeMap::from([(
            "enabled".to_string(),
            "false".to_string(),
        )]));
    }
    let class = out
        .remove("class")
        .or_else(|| out.remove("sstable_compression"));
    let class = class.ok_or_else(|| {
        SchemaError::config("Missing sub-option 'class' for the 'compression' option.")
    })?;
    let short = class
        .strip_prefix(COMPRESSION_PACKAGE)
        .and_then(|s| s.strip_prefix('.'))
        .unwrap_or(&class);
    if !KNOWN_COMPRESSORS.contains(&short) {
        let full = if class.contains('.') {
            class.clone()
        } else {
            format!("{COMPRESSION_PACKAGE}.{class}")
        };
        return Err(SchemaError::config(format!(
            "Could not create Compression for type {full}"
        )));
    }
    let chunk = out
        .remove("chunk_length_in_kb")
        .or_else(|| out.remove("chunk_length_kb"))
        .unwrap_or_else(|| "16".into());
    let chunk_kb = java_parse_int(&chunk).ok_or_else(|| {
        SchemaError::config(format!(
            "Invalid value {chunk} for sub-option 'chunk_length_in_kb'"
        ))
    })?;
    if chunk_kb <= 0 {
        return Err(SchemaError::config(
            "Invalid negative or null chunk_length_in_kb",
        ));
    }
    if !(chunk_kb as u32).is_power_of_two() {
        return Err(SchemaError::config(
            "chunk_length_in_kb must be a power of 2",
        ));
    }
    out.insert("class".into(), format!("{COMPRESSION_PACKAGE}.{short}"));
    out.insert("chunk_length_in_kb".into(), chunk_kb.to_string());
    Ok(out)
}

impl TableParams {
    /// Applies `WITH` properties (already checked by [`check_property_names`] or not: this
    /// checks again), then validates the result. On `CREATE` it returns the `id` property,
    /// if any, unparsed.
    pub fn apply_options(
        &mut self,
        properties: &[(String, OptionValue)],
        mode: OptionsMode,
    ) -> Result<Option<String>, SchemaError> {
        let mut valid: Vec<&str> = TABLE_OPTION_NAMES.to_vec();
        valid.push("id");
        check_property_names(properties, &valid)?;
        let mut id = None;
        let mut bloom_given = false;
        for (name, value) in properties {
            match name.as_str() {
                "id" => match mode {
                    OptionsMode::Create => id = Some(text(name, value)?.to_string()),
                    OptionsMode::Alter => {
                        return Err(SchemaError::config("Cannot alter table id."))
                    }
                },
                "additional_write_policy" => {
                    self.additional_write_policy =
                        SpeculativeRetry::parse(text(name, value)?, name)?
                }
                "allow_auto_snapshot" => self.allow_auto_snapshot = boolean(name, value)?,
                "bloom_filter_fp_chance" => {
                    self.bloom_filter_fp_chance = double(name, value)?;
                    bloom_given = true;
                }
                "caching" => self.caching = Caching::from_map(&map(name, value)?)?,
                "cdc" => self.cdc = boolean(name, value)?,
                "comment" => self.comment = text(name, value)?.to_string(),
                "compaction" => self.compaction = normalize_compaction(&map(name, value)?)?,
                "compression" => self.compression = normalize_compression(&map(name, value)?)?,
                "crc_check_chance" => self.crc_check_chance = double(name, value)?,
                "default_time_to_live" => {
                    let v = int(name, value)?;
                    let v = non_negative(name, v)?;
                    if v > MAX_TTL_SECS {
                        return Err(SchemaError::config(format!(
                            "default_time_to_live must be less than or equal to {MAX_TTL_SECS} (got {v})"
                        )));
                    }
                    self.default_time_to_live_secs = v;
                }
                // Cassandra's TableAttributes ignores `extensions`.
                "extensions" => {}
                "gc_grace_seconds" => {
                    self.gc_grace_seconds = non_negative(name, int(name, value)?)?
                }
                "incremental_backups" => self.incremental_backups = boolean(name, value)?,
                "max_index_interval" => {
                    let v = int(name, value)?;
                    self.max_index_interval = u32::try_from(v).unwrap_or(0);
                    if v < 0 {
                        return Err(SchemaError::config(format!(
                            "max_index_interval must be greater than or equal to min_index_interval ({}) (got {v})",
                            self.min_index_interval
                        )));
                    }
                }
                "memtable" => {
                    let v = text(name, value)?;
                    if v != "default" {
                        return Err(SchemaError::config(format!(
                            "Memtable configuration \"{v}\" not found."
                        )));
                    }
                    self.memtable = v.to_string();
                }
                "memtable_flush_period_in_ms" => {
                    self.memtable_flush_period_ms = non_negative(name, int(name, value)?)?
                }
                "min_index_interval" => {
                    let v = int(name, value)?;
                    if v < 1 {
                        return Err(SchemaError::config(format!(
                            "min_index_interval must be greater than or equal to 1 (got {v})"
                        )));
                    }
                    self.min_index_interval = v as u32;
                }
                "read_repair" => {
                    let v = text(name, value)?;
                    self.read_repair = match v.to_ascii_uppercase().as_str() {
                        "BLOCKING" => ReadRepair::Blocking,
                        "NONE" => ReadRepair::None,
                        other => {
                            return Err(SchemaError::config(format!(
                                "No enum constant org.apache.cassandra.service.reads.repair.ReadRepairStrategy.{other}"
                            )))
                        }
                    };
                }
                "speculative_retry" => {
                    self.speculative_retry = SpeculativeRetry::parse(text(name, value)?, name)?
                }
                other => return Err(SchemaError::syntax(format!("Unknown property '{other}'"))),
            }
        }
        if mode == OptionsMode::Create && !bloom_given {
            self.bloom_filter_fp_chance = self.default_bloom_filter_fp_chance();
        }
        self.validate()?;
        Ok(id)
    }

    /// The `bloom_filter_fp_chance` Cassandra picks when none is given: 0.1 for leveled
    /// compaction, 0.01 otherwise.
    pub fn default_bloom_filter_fp_chance(&self) -> f64 {
        if self.compaction.get("class").map(String::as_str) == Some(LEVELED_COMPACTION) {
            0.1
        } else {
            0.01
        }
    }

    /// Cassandra's `TableParams.validate` range checks.
    pub fn validate(&self) -> Result<(), SchemaError> {
        let bloom = self.bloom_filter_fp_chance;
        if bloom.is_nan() || bloom <= MIN_BLOOM_FILTER_FP_CHANCE || bloom > 1.0 {
            return Err(SchemaError::config(format!(
                "bloom_filter_fp_chance must be larger than {} and less than or equal to 1.0 (got {})",
                java_double(MIN_BLOOM_FILTER_FP_CHANCE),
                java_double(bloom)
            )));
        }
        let crc = self.crc_check_chance;
        if crc.is_nan() || !(0.0..=1.0).contains(&crc) {
            return Err(SchemaError::config(format!(
                "crc_check_chance must be larger than or equal to 0 and smaller than or equal to 1.0 (got {})",
                java_double(crc)
            )));
        }
        if self.max_index_interval < self.min_index_interval {
            return Err(SchemaError::config(format!(
                "max_index_interval must be greater than or equal to min_index_interval ({}) (got {})",
                self.min_index_interval, self.max_index_interval
            )));
        }
        Ok(())
    }

    /// The options of `DESCRIBE`'s `WITH` clause, one `name = value` entry per option, in
    /// Cassandra 5.0's order: alphabetical, except `memtable`, which Cassandra prints before
    /// `crc_check_chance`. `default_time_to_live` is left out for views.
    pub fn to_cql_lines(&self, include_default_ttl: bool) -> Vec<String> {
        let mut lines = vec![
            format!(
                "additional_write_policy = {}",
                cql_string_literal(&self.additional_write_policy.to_string())
            ),
            format!("allow_auto_snapshot = {}", self.allow_auto_snapshot),
            format!(
                "bloom_filter_fp_chance = {}",
                java_double(self.bloom_filter_fp_chance)
            ),
            format!("caching = {}", cql_map(&self.caching.to_map())),
            format!("cdc = {}", self.cdc),
            format!("comment = {}", cql_string_literal(&self.comment)),
            format!("compaction = {}", cql_map(&self.compaction)),
            format!("compression = {}", cql_map(&self.compression)),
            format!("memtable = {}", cql_string_literal(&self.memtable)),
            format!("crc_check_chance = {}", java_double(self.crc_check_chance)),
        ];
        if include_default_ttl {
            lines.push(format!(
                "default_time_to_live = {}",
                self.default_time_to_live_secs
            ));
        }
        let extensions: Vec<String> = self
            .extensions
            .iter()
            .map(|(k, v)| {
                let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
                format!("{}: 0x{hex}", cql_string_literal(k))
            })
            .collect();
        lines.push(format!("extensions = {{{}}}", extensions.join(", ")));
        lines.extend([
            format!("gc_grace_seconds = {}", self.gc_grace_seconds),
            format!("incremental_backups = {}", self.incremental_backups),
            format!("max_index_interval = {}", self.max_index_interval),
            format!(
                "memtable_flush_period_in_ms = {}",
                self.memtable_flush_period_ms
            ),
            format!("min_index_interval = {}", self.min_index_interval),
            format!(
                "read_repair = {}",
                cql_string_literal(&self.read_repair.to_string())
            ),
            format!(
                "speculative_retry = {}",
                cql_string_literal(&self.speculative_retry.to_string())
            ),
        ]);
        lines
    }
}

/// A string map as Cassandra's `CqlBuilder` prints it: `{'k': 'v', …}` in key order.
pub fn cql_map(map: &BTreeMap<String, String>) -> String {
    let entries: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}: {}", cql_string_literal(k), cql_string_literal(v)))
        .collect();
    format!("{{{}}}", entries.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn t(v: &str) -> OptionValue {
        OptionValue::Text(v.into())
    }

    fn m(entries: &[(&str, &str)]) -> OptionValue {
        OptionValue::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn apply(props: &[(&str, OptionValue)]) -> Result<TableParams, SchemaError> {
        let props: Vec<(String, OptionValue)> = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let mut p = TableParams::default();
        p.apply_options(&props, OptionsMode::Create)?;
        Ok(p)
    }

    fn err(props: &[(&str, OptionValue)]) -> (String, ErrorKind) {
        let e = apply(props).expect_err("should fail");
        (e.to_string(), e.kind())
    }

    #[test]
    fn defaults_print_like_cassandra() {
        let lines = TableParams::default().to_cql_lines(true);
        assert_eq!(
            lines,
            vec![
                "additional_write_policy = '99p'",
                "allow_auto_snapshot = true",
                "bloom_filter_fp_chance = 0.01",
                "caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'}",
                "cdc = false",
                "comment = ''",
                "compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4'}",
                "compression = {'chunk_length_in_kb': '16', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}",
                "memtable = 'default'",
                "crc_check_chance = 1.0",
                "default_time_to_live = 0",
                "extensions = {}",
                "gc_grace_seconds = 864000",
                "incremental_backups = true",
                "max_index_interval = 2048",
                "memtable_flush_period_in_ms = 0",
                "min_index_interval = 128",
                "read_repair = 'BLOCKING'",
                "speculative_retry = '99p'",
            ]
        );
    }

    #[test]
    fn options_are_parsed() {
        let p = apply(&[
            ("comment", t("it's")),
            ("gc_grace_seconds", t("3600")),
            (
                "caching",
                m(&[("keys", "none"), ("rows_per_partition", "10")]),
            ),
            ("compaction", m(&[("class", "LeveledCompactionStrategy")])),
            (
                "compression",
                m(&[("class", "ZstdCompressor"), ("chunk_length_in_kb", "64")]),
            ),
            ("speculative_retry", t("min(99.5p, 20ms)")),
            ("read_repair", t("none")),
            ("cdc", t("yes")),
        ])
        .expect("valid");
        assert_eq!(p.comment, "it's");
        assert_eq!(p.gc_grace_seconds, 3600);
        assert_eq!(
            p.caching,
            Caching {
                keys: false,
                rows_per_partition: 10
            }
        );
        assert_eq!(
            p.compaction.get("class").map(String::as_str),
            Some(LEVELED_COMPACTION)
        );
        assert_eq!(
            p.compaction.get("max_threshold").map(String::as_str),
            Some("32")
        );
        // Leveled compaction changes the default bloom filter chance.
        assert_eq!(p.bloom_filter_fp_chance, 0.1);
        assert_eq!(
            p.compression.get("class").map(String::as_str),
            Some("org.apache.cassandra.io.compress.ZstdCompressor")
        );
        assert_eq!(p.speculative_retry.to_string(), "MIN(99.5p,20ms)");
        assert_eq!(p.read_repair, ReadRepair::None);
        assert!(p.cdc);
        let off = apply(&[("compression", m(&[("enabled", "false")]))]).expect("valid");
        assert_eq!(
            off.compression,
            BTreeMap::from([("enabled".into(), "false".into())])
        );
    }

    #[test]
    fn option_errors_follow_cassandra() {
        assert_eq!(
            err(&[("foo", t("1"))]),
            ("Unknown property 'foo'".into(), ErrorKind::Syntax)
        );
        assert_eq!(
            err(&[("comment", t("a")), ("comment", t("b"))]).0,
            "Multiple definition for property 'comment'"
        );
        assert_eq!(
            err(&[("gc_grace_seconds", t("abc"))]),
            (
                "Invalid integer value abc for 'gc_grace_seconds'".into(),
                ErrorKind::Syntax
            )
        );
        assert_eq!(
            err(&[("gc_grace_seconds", t("-1"))]),
            (
                "gc_grace_seconds must be greater than or equal to 0 (got -1)".into(),
                ErrorKind::Config
            )
        );
        assert_eq!(
            err(&[("bloom_filter_fp_chance", t("1.1"))]).0,
            "bloom_filter_fp_chance must be larger than 6.71E-5 and less than or equal to 1.0 (got 1.1)"
        );
        assert_eq!(
            err(&[("bloom_filter_fp_chance", t("0.0000001"))]).0,
            "bloom_filter_fp_chance must be larger than 6.71E-5 and less than or equal to 1.0 (got 1.0E-7)"
        );
        assert_eq!(
            err(&[("crc_check_chance", t("2"))]).0,
            "crc_check_chance must be larger than or equal to 0 and smaller than or equal to 1.0 (got 2.0)"
        );
        assert_eq!(
            err(&[("comment", m(&[]))]),
            (
                "Invalid value for property 'comment'. It should be a string".into(),
                ErrorKind::Syntax
            )
        );
        assert_eq!(
            err(&[("caching", t("ALL"))]).0,
            "Invalid value for property 'caching'. It should be a map."
        );
        assert_eq!(
            err(&[("caching", m(&[("keys", "some")]))]).0,
            "Invalid value 'some' for caching sub-option 'keys': only 'ALL' and 'NONE' are allowed"
        );
        assert_eq!(
            err(&[("caching", m(&[("rows", "1")]))]).0,
            "Invalid caching sub-options [rows]: only 'keys' and 'rows_per_partition' are allowed"
        );
        assert_eq!(
            err(&[("min_index_interval", t("256")), ("max_index_interval", t("128"))]).0,
            "max_index_interval must be greater than or equal to min_index_interval (256) (got 128)"
        );
        assert_eq!(
            err(&[("default_time_to_live", t("630720001"))]).0,
            "default_time_to_live must be less than or equal to 630720000 (got 630720001)"
        );
        assert_eq!(
            err(&[("speculative_retry", t("sometimes"))]).0,
            "Invalid value sometimes for option 'speculative_retry'"
        );
        assert_eq!(
            err(&[("speculative_retry", t("100p"))]).0,
            "Invalid value 100p for PERCENTILE option 'speculative_retry': must be between (0.0 and 100.0)"
        );
        assert_eq!(
            err(&[("compaction", m(&[("min_threshold", "2")]))]).0,
            "Missing sub-option 'class' for the 'compaction' option."
        );
        assert_eq!(
            err(&[("compaction", m(&[("class", "DateTieredCompactionStrategy")]))]).0,
            "Unable to find compaction strategy class 'org.apache.cassandra.db.compaction.DateTieredCompactionStrategy'"
        );
        assert_eq!(
            err(&[(
                "compression",
                m(&[("class", "LZ4Compressor"), ("chunk_length_in_kb", "3")])
            )])
            .0,
            "chunk_length_in_kb must be a power of 2"
        );
        assert_eq!(
            err(&[("cdc", t("maybe"))]).0,
            "Invalid boolean value maybe for 'cdc'. Positive values can be '1', 'true' or 'yes'. Negative values can be '0', 'false' or 'no'."
        );
        let mut p = TableParams::default();
        let e = p
            .apply_options(&[("id".into(), t("x"))], OptionsMode::Alter)
            .expect_err("id cannot be altered");
        assert_eq!(e.to_string(), "Cannot alter table id.");
    }

    #[test]
    fn speculative_retry_forms() {
        for (input, canonical) in [
            ("99p", "99p"),
            ("99PERCENTILE", "99p"),
            ("99.95p", "99.95p"),
            ("50ms", "50ms"),
            ("50MS", "50ms"),
            ("ALWAYS", "ALWAYS"),
            ("none", "NEVER"),
            ("max(50ms, 90p)", "MAX(90p,50ms)"),
        ] {
            assert_eq!(
                SpeculativeRetry::parse(input, "speculative_retry").map(|s| s.to_string()),
                Ok(canonical.to_string()),
                "{input}"
            );
        }
    }
}
