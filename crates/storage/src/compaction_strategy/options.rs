//! The CQL `compaction = {...}` table option: parsing, validation and rendering.
//!
//! Option names, defaults and error messages follow Apache Cassandra
//! (`CompactionParams`, `AbstractCompactionStrategy.validateOptions`,
//! `SizeTieredCompactionStrategyOptions`, `LeveledCompactionStrategy.validateOptions`,
//! `TimeWindowCompactionStrategyOptions`).
//!
//! Invariants of a parsed [`CompactionStrategyConfig`]:
//! - `min_threshold`/`max_threshold` are always materialised (Cassandra adds the defaults `4`/`32`
//!   to the stored map, which is why DESCRIBE always shows them), `2 <= min <= max`.
//! - Every other option is an `Option`: `None` means "not given, Cassandra's default applies".
//!   This keeps [`CompactionStrategyConfig::to_cql_options`] identical to what Cassandra stores
//!   (only given options plus the thresholds) and lets TWCS tell whether tombstone options were
//!   given explicitly (Cassandra disables TWCS tombstone compactions otherwise).
//!
//! Deviations from Cassandra, all on malformed input: numbers are stored normalised (`'.5'` is
//! shown back as `'0.5'`), non-finite floats (`NaN`, `Infinity`) are rejected, and the
//! "not a parsable int" messages name the option where Cassandra names a default value.

use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

/// Package prefix Cassandra prepends to a class name without a dot.
pub const CASSANDRA_COMPACTION_PACKAGE: &str = "org.apache.cassandra.db.compaction";

/// Default `min_threshold`.
pub const DEFAULT_MIN_THRESHOLD: u32 = 4;
/// Default `max_threshold`.
pub const DEFAULT_MAX_THRESHOLD: u32 = 32;
/// Default `tombstone_threshold` (a float in Cassandra).
pub const DEFAULT_TOMBSTONE_THRESHOLD: f32 = 0.2;
/// Default `tombstone_compaction_interval`, seconds.
pub const DEFAULT_TOMBSTONE_COMPACTION_INTERVAL_SECS: u64 = 86_400;
/// Default `min_sstable_size`, bytes (50 MiB).
pub const DEFAULT_MIN_SSTABLE_SIZE_BYTES: u64 = 50 * 1024 * 1024;
/// Default `bucket_low`.
pub const DEFAULT_BUCKET_LOW: f64 = 0.5;
/// Default `bucket_high`.
pub const DEFAULT_BUCKET_HIGH: f64 = 1.5;
/// Default `sstable_size_in_mb`.
pub const DEFAULT_SSTABLE_SIZE_IN_MB: u32 = 160;
/// Default `fanout_size`.
pub const DEFAULT_FANOUT_SIZE: u32 = 10;
/// Default `compaction_window_size`.
pub const DEFAULT_COMPACTION_WINDOW_SIZE: u32 = 1;
/// Default `expired_sstable_check_frequency_seconds`.
pub const DEFAULT_EXPIRED_SSTABLE_CHECK_FREQUENCY_SECS: u64 = 600;
/// Number of LCS levels (L0..=L8), Cassandra's `MAX_LEVEL_COUNT`.
pub const LCS_LEVEL_COUNT: usize = 9;

const OPT_CLASS: &str = "class";
const OPT_ENABLED: &str = "enabled";
const OPT_MIN_THRESHOLD: &str = "min_threshold";
const OPT_MAX_THRESHOLD: &str = "max_threshold";
const OPT_TOMBSTONE_THRESHOLD: &str = "tombstone_threshold";
const OPT_TOMBSTONE_COMPACTION_INTERVAL: &str = "tombstone_compaction_interval";
const OPT_UNCHECKED_TOMBSTONE_COMPACTION: &str = "unchecked_tombstone_compaction";
const OPT_LOG_ALL: &str = "log_all";
const OPT_ONLY_PURGE_REPAIRED_TOMBSTONES: &str = "only_purge_repaired_tombstones";
const OPT_PROVIDE_OVERLAPPING_TOMBSTONES: &str = "provide_overlapping_tombstones";
const OPT_MIN_SSTABLE_SIZE: &str = "min_sstable_size";
const OPT_BUCKET_LOW: &str = "bucket_low";
const OPT_BUCKET_HIGH: &str = "bucket_high";
const OPT_SSTABLE_SIZE_IN_MB: &str = "sstable_size_in_mb";
const OPT_FANOUT_SIZE: &str = "fanout_size";
const OPT_SINGLE_SSTABLE_UPLEVEL: &str = "single_sstable_uplevel";
const OPT_COMPACTION_WINDOW_UNIT: &str = "compaction_window_unit";
const OPT_COMPACTION_WINDOW_SIZE: &str = "compaction_window_size";
const OPT_TIMESTAMP_RESOLUTION: &str = "timestamp_resolution";
const OPT_EXPIRED_SSTABLE_CHECK_FREQUENCY: &str = "expired_sstable_check_frequency_seconds";
const OPT_UNSAFE_AGGRESSIVE_EXPIRATION: &str = "unsafe_aggressive_sstable_expiration";

/// Why a `compaction = {...}` map was rejected. `Display` gives Cassandra's message.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StrategyError {
    /// The map has no `class` entry.
    #[error("Missing sub-option 'class' for the 'compaction' option")]
    MissingClass,
    /// No compaction strategy of that (fully-qualified) class name exists.
    #[error("Unable to find compaction strategy class '{class_name}'")]
    UnknownClass {
        /// Fully-qualified class name that was looked up.
        class_name: String,
    },
    /// A Cassandra strategy Meridian does not implement (DTCS, UCS).
    #[error("Compaction strategy class '{class_name}' is not supported")]
    UnsupportedClass {
        /// Fully-qualified class name.
        class_name: String,
    },
    /// Options the chosen strategy does not know.
    #[error("Properties specified [{}] are not understood by {strategy}", .options.join(", "))]
    UnknownOptions {
        /// The unknown option names, sorted.
        options: Vec<String>,
        /// Simple class name of the strategy.
        strategy: &'static str,
    },
    /// `min_threshold`/`max_threshold` is not a non-negative integer.
    #[error("Invalid value {value} for '{option}' compaction sub-option - must be an integer")]
    NotAnInteger {
        /// Option name.
        option: &'static str,
        /// Value as given.
        value: String,
    },
    /// A threshold of 0 (Cassandra's removed way of disabling compaction).
    #[error(
        "Disabling compaction by setting compaction thresholds to 0 has been removed, set the compaction option 'enabled' to false instead."
    )]
    ZeroThreshold,
    /// `min_threshold` below 2.
    #[error("Min compaction threshold cannot be less than 2 (got {min_threshold})")]
    MinThresholdTooSmall {
        /// The given `min_threshold`.
        min_threshold: u32,
    },
    /// `min_threshold` above `max_threshold`.
    #[error(
        "Min compaction threshold (got {min_threshold}) cannot be greater than max compaction threshold (got {max_threshold})"
    )]
    MinAboveMaxThreshold {
        /// The effective `min_threshold`.
        min_threshold: u32,
        /// The effective `max_threshold`.
        max_threshold: u32,
    },
    /// A numeric option whose value does not parse.
    #[error("{value} is not a parsable int (base10) for {option}")]
    NotParsable {
        /// Option name.
        option: &'static str,
        /// Value as given.
        value: String,
    },
    /// A negative `tombstone_threshold` / `tombstone_compaction_interval`.
    #[error("{option} must be greater than 0, but was {shown}")]
    NegativeValue {
        /// Option name.
        option: &'static str,
        /// The value as Cassandra formats it (`%f` or `%d`).
        shown: String,
    },
    /// A negative `min_sstable_size`.
    #[error("min_sstable_size must be non negative: {value}")]
    NegativeMinSstableSize {
        /// The given value.
        value: i64,
    },
    /// `bucket_high <= bucket_low`.
    #[error(
        "Bucket high value ({}) is less than or equal bucket low value ({})",
        java_double(*.bucket_high),
        java_double(*.bucket_low)
    )]
    BucketHighNotAboveLow {
        /// Effective `bucket_high`.
        bucket_high: f64,
        /// Effective `bucket_low`.
        bucket_low: f64,
    },
    /// `sstable_size_in_mb` / `fanout_size` below 1.
    #[error("{option} must be larger than 0, but was {value}")]
    NotPositive {
        /// Option name.
        option: &'static str,
        /// The given value.
        value: i64,
    },
    /// `fanout_size ^ 8 * sstable_size` does not fit a signed 64-bit byte count.
    #[error(
        "At most 9223372036854775807 bytes may be in a compaction level; your maxSSTableSize must be absurdly high to compute {}",
        java_double(*.bytes)
    )]
    LevelSizeOverflow {
        /// The computed size of the last level, bytes.
        bytes: f64,
    },
    /// A boolean option that is neither `true` nor `false` (case-insensitive).
    #[error("{}", invalid_boolean_message(.option, .value))]
    InvalidBoolean {
        /// Option name.
        option: &'static str,
        /// Value as given.
        value: String,
    },
    /// A bad `provide_overlapping_tombstones` value.
    #[error(
        "Invalid value {value} for 'provide_overlapping_tombstones' compaction sub-option - must be one of the following [NONE, ROW, CELL]."
    )]
    InvalidOverlappingTombstones {
        /// The value, upper-cased as Cassandra reports it.
        value: String,
    },
    /// A bad `compaction_window_unit` / `timestamp_resolution`.
    #[error("{value} is not valid for {option}")]
    InvalidTimeUnit {
        /// Option name.
        option: &'static str,
        /// Value as given.
        value: String,
    },
    /// `compaction_window_size` below 1 (Cassandra's message says "greater than 1").
    #[error("{value} must be greater than 1 for compaction_window_size")]
    WindowSizeTooSmall {
        /// The given value.
        value: i64,
    },
    /// Negative `expired_sstable_check_frequency_seconds`.
    #[error("expired_sstable_check_frequency_seconds must not be negative, but was {value}")]
    NegativeExpiredCheckFrequency {
        /// The given value.
        value: i64,
    },
    /// `unsafe_aggressive_sstable_expiration: true` without Cassandra's startup flag.
    #[error(
        "unsafe_aggressive_sstable_expiration is requested but not allowed, restart cassandra with -Dcassandra.allow_unsafe_aggressive_sstable_expiration=true to allow it"
    )]
    UnsafeAggressiveExpirationNotAllowed,
}

fn invalid_boolean_message(option: &str, value: &str) -> String {
    match option {
        OPT_ENABLED => format!("enabled should either be 'true' or 'false', not {value}"),
        OPT_UNCHECKED_TOMBSTONE_COMPACTION => {
            format!("'{option}' should be either 'true' or 'false', not '{value}'")
        }
        OPT_UNSAFE_AGGRESSIVE_EXPIRATION => {
            format!("{option} is not 'true' or 'false' ({value})")
        }
        _ => format!("'{option}' should either be 'true' or 'false', not {value}"),
    }
}

/// Formats a double the way Java's `Double.toString` does for ordinary values:
/// `1.0`, `0.7`, `1.0E-5`, `1.6E19`.
pub(crate) fn java_double(value: f64) -> String {
    java_decimal(value, format!("{value}"), format!("{value:e}"))
}

/// Same as [`java_double`] for a Java `float`.
fn java_float(value: f32) -> String {
    java_decimal(f64::from(value), format!("{value}"), format!("{value:e}"))
}

fn java_decimal(value: f64, plain: String, scientific: String) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".to_owned()
        } else if value > 0.0 {
            "Infinity".to_owned()
        } else {
            "-Infinity".to_owned()
        };
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-3..1e7).contains(&magnitude) {
        let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        return format!("{mantissa}E{exponent}");
    }
    if plain.contains('.') {
        plain
    } else {
        format!("{plain}.0")
    }
}

/// Which of Cassandra's strategies a config selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrategyKind {
    /// `SizeTieredCompactionStrategy`.
    SizeTiered,
    /// `LeveledCompactionStrategy`.
    Leveled,
    /// `TimeWindowCompactionStrategy`.
    TimeWindow,
}

impl StrategyKind {
    /// Cassandra's simple class name, e.g. `SizeTieredCompactionStrategy`.
    pub fn simple_name(self) -> &'static str {
        match self {
            StrategyKind::SizeTiered => "SizeTieredCompactionStrategy",
            StrategyKind::Leveled => "LeveledCompactionStrategy",
            StrategyKind::TimeWindow => "TimeWindowCompactionStrategy",
        }
    }

    /// Fully-qualified class name, as stored in `system_schema.tables`.
    pub fn class_name(self) -> &'static str {
        match self {
            StrategyKind::SizeTiered => {
                "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy"
            }
            StrategyKind::Leveled => "org.apache.cassandra.db.compaction.LeveledCompactionStrategy",
            StrategyKind::TimeWindow => {
                "org.apache.cassandra.db.compaction.TimeWindowCompactionStrategy"
            }
        }
    }

    /// Resolves a `class` value: a name without a dot gets Cassandra's compaction package.
    pub fn from_class_name(name: &str) -> Result<Self, StrategyError> {
        let qualified = if name.contains('.') {
            name.to_owned()
        } else {
            format!("{CASSANDRA_COMPACTION_PACKAGE}.{name}")
        };
        for kind in [
            StrategyKind::SizeTiered,
            StrategyKind::Leveled,
            StrategyKind::TimeWindow,
        ] {
            if qualified == kind.class_name() {
                return Ok(kind);
            }
        }
        let unsupported = ["DateTieredCompactionStrategy", "UnifiedCompactionStrategy"]
            .iter()
            .any(|simple| qualified == format!("{CASSANDRA_COMPACTION_PACKAGE}.{simple}"));
        if unsupported {
            Err(StrategyError::UnsupportedClass {
                class_name: qualified,
            })
        } else {
            Err(StrategyError::UnknownClass {
                class_name: qualified,
            })
        }
    }
}

/// `provide_overlapping_tombstones`: whether compaction reads overlapping sstables' tombstones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProvideOverlappingTombstones {
    /// `NONE` (default).
    #[default]
    None,
    /// `ROW`.
    Row,
    /// `CELL`.
    Cell,
}

impl ProvideOverlappingTombstones {
    /// The CQL spelling (`NONE`, `ROW`, `CELL`).
    pub fn as_cql(self) -> &'static str {
        match self {
            ProvideOverlappingTombstones::None => "NONE",
            ProvideOverlappingTombstones::Row => "ROW",
            ProvideOverlappingTombstones::Cell => "CELL",
        }
    }
}

/// `compaction_window_unit` of TWCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WindowUnit {
    /// `MINUTES`.
    Minutes,
    /// `HOURS`.
    Hours,
    /// `DAYS` (default).
    #[default]
    Days,
}

impl WindowUnit {
    /// Length of one unit, seconds.
    pub fn unit_secs(self) -> i64 {
        match self {
            WindowUnit::Minutes => 60,
            WindowUnit::Hours => 3_600,
            WindowUnit::Days => 86_400,
        }
    }

    /// The CQL spelling (Java `TimeUnit` name).
    pub fn as_cql(self) -> &'static str {
        match self {
            WindowUnit::Minutes => "MINUTES",
            WindowUnit::Hours => "HOURS",
            WindowUnit::Days => "DAYS",
        }
    }
}

/// `timestamp_resolution` of TWCS: the unit of the write timestamps in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampResolution {
    /// `SECONDS`.
    Seconds,
    /// `MILLISECONDS`.
    Milliseconds,
    /// `MICROSECONDS` (default; what CQL writes).
    #[default]
    Microseconds,
    /// `NANOSECONDS`.
    Nanoseconds,
}

impl TimestampResolution {
    /// The CQL spelling (Java `TimeUnit` name).
    pub fn as_cql(self) -> &'static str {
        match self {
            TimestampResolution::Seconds => "SECONDS",
            TimestampResolution::Milliseconds => "MILLISECONDS",
            TimestampResolution::Microseconds => "MICROSECONDS",
            TimestampResolution::Nanoseconds => "NANOSECONDS",
        }
    }

    /// Converts a raw timestamp in this resolution to whole seconds (floor).
    pub fn to_secs(self, raw: i64) -> i64 {
        match self {
            TimestampResolution::Seconds => raw,
            TimestampResolution::Milliseconds => raw.div_euclid(1_000),
            TimestampResolution::Microseconds => raw.div_euclid(1_000_000),
            TimestampResolution::Nanoseconds => raw.div_euclid(1_000_000_000),
        }
    }
}

/// Options every strategy accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonOptions {
    /// `min_threshold`: fewest sstables a size-tiered compaction merges (default 4).
    pub min_threshold: u32,
    /// `max_threshold`: most sstables a size-tiered compaction merges (default 32).
    pub max_threshold: u32,
    /// `enabled`: background compactions run (default true). Major compactions ignore it.
    pub enabled: Option<bool>,
    /// `tombstone_threshold`: droppable-tombstone ratio above which a single sstable is
    /// compacted alone (default 0.2).
    pub tombstone_threshold: Option<f32>,
    /// `tombstone_compaction_interval`, seconds: minimum sstable age before a tombstone
    /// compaction (default 86400).
    pub tombstone_compaction_interval_secs: Option<u64>,
    /// `unchecked_tombstone_compaction`: skip the overlap check of tombstone compactions
    /// (default false).
    pub unchecked_tombstone_compaction: Option<bool>,
    /// `log_all` (default false). Accepted and stored; no effect on decisions.
    pub log_all: Option<bool>,
    /// `only_purge_repaired_tombstones` (default false). Accepted and stored for the executor;
    /// Cassandra parses it leniently (anything but `true` is false).
    pub only_purge_repaired_tombstones: Option<bool>,
    /// `provide_overlapping_tombstones` (default NONE). Stored for the executor.
    pub provide_overlapping_tombstones: Option<ProvideOverlappingTombstones>,
}

impl Default for CommonOptions {
    fn default() -> Self {
        CommonOptions {
            min_threshold: DEFAULT_MIN_THRESHOLD,
            max_threshold: DEFAULT_MAX_THRESHOLD,
            enabled: None,
            tombstone_threshold: None,
            tombstone_compaction_interval_secs: None,
            unchecked_tombstone_compaction: None,
            log_all: None,
            only_purge_repaired_tombstones: None,
            provide_overlapping_tombstones: None,
        }
    }
}

impl CommonOptions {
    /// Whether background compactions run.
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// Effective `tombstone_threshold`.
    pub fn effective_tombstone_threshold(&self) -> f64 {
        f64::from(
            self.tombstone_threshold
                .unwrap_or(DEFAULT_TOMBSTONE_THRESHOLD),
        )
    }

    /// Effective `tombstone_compaction_interval`, seconds.
    pub fn effective_tombstone_compaction_interval_secs(&self) -> u64 {
        self.tombstone_compaction_interval_secs
            .unwrap_or(DEFAULT_TOMBSTONE_COMPACTION_INTERVAL_SECS)
    }

    /// Effective `unchecked_tombstone_compaction`.
    pub fn effective_unchecked_tombstone_compaction(&self) -> bool {
        self.unchecked_tombstone_compaction.unwrap_or(false)
    }

    /// `(min, max)` thresholds clamped to a usable range (`2 <= min <= max`), so that configs
    /// built by hand with invalid values still never yield single-sstable merges.
    pub(crate) fn clamped_thresholds(&self) -> (usize, usize) {
        let min = self.min_threshold.max(2) as usize;
        let max = (self.max_threshold as usize).max(min);
        (min, max)
    }
}

/// The size-tiering parameters (STCS, and STCS inside LCS L0 and the current TWCS window).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SizeTieredOptions {
    /// `min_sstable_size`, bytes: sstables below it share one bucket (default 50 MiB).
    pub min_sstable_size_bytes: Option<u64>,
    /// `bucket_low`: a sstable joins a bucket when larger than `bucket_low * average`
    /// (default 0.5).
    pub bucket_low: Option<f64>,
    /// `bucket_high`: ... and smaller than `bucket_high * average` (default 1.5).
    pub bucket_high: Option<f64>,
}

impl SizeTieredOptions {
    /// Effective `min_sstable_size`, bytes.
    pub fn effective_min_sstable_size_bytes(&self) -> u64 {
        self.min_sstable_size_bytes
            .unwrap_or(DEFAULT_MIN_SSTABLE_SIZE_BYTES)
    }

    /// Effective `bucket_low`.
    pub fn effective_bucket_low(&self) -> f64 {
        self.bucket_low.unwrap_or(DEFAULT_BUCKET_LOW)
    }

    /// Effective `bucket_high`.
    pub fn effective_bucket_high(&self) -> f64 {
        self.bucket_high.unwrap_or(DEFAULT_BUCKET_HIGH)
    }
}

/// Options of `SizeTieredCompactionStrategy`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StcsOptions {
    /// Options shared by all strategies.
    pub common: CommonOptions,
    /// Bucketing parameters.
    pub size_tiered: SizeTieredOptions,
}

/// Options of `LeveledCompactionStrategy`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LcsOptions {
    /// Options shared by all strategies (thresholds are accepted but LCS, like Cassandra,
    /// uses a fixed 4..32 for its L0 size-tiering).
    pub common: CommonOptions,
    /// Bucketing parameters of the size-tiered fallback in L0.
    pub size_tiered: SizeTieredOptions,
    /// `sstable_size_in_mb`: target sstable size, MiB (default 160).
    pub sstable_size_in_mb: Option<u32>,
    /// `fanout_size`: size ratio between consecutive levels (default 10).
    pub fanout_size: Option<u32>,
    /// `single_sstable_uplevel`: promote a lone sstable by changing its level instead of
    /// rewriting it (default false). Parsed leniently, as Cassandra does.
    pub single_sstable_uplevel: Option<bool>,
}

impl LcsOptions {
    /// Effective target sstable size, bytes (at least 1 MiB even for hand-built configs).
    pub fn sstable_size_bytes(&self) -> u64 {
        u64::from(
            self.sstable_size_in_mb
                .unwrap_or(DEFAULT_SSTABLE_SIZE_IN_MB)
                .max(1),
        ) * 1024
            * 1024
    }

    /// Effective fanout (at least 1).
    pub fn effective_fanout_size(&self) -> u32 {
        self.fanout_size.unwrap_or(DEFAULT_FANOUT_SIZE).max(1)
    }

    /// Effective `single_sstable_uplevel`.
    pub fn effective_single_sstable_uplevel(&self) -> bool {
        self.single_sstable_uplevel.unwrap_or(false)
    }

    /// Capacity of `level` in bytes: `4 * sstable_size` for L0, else
    /// `fanout^level * sstable_size` (as a float, like Cassandra's `maxBytesForLevel`).
    pub fn max_bytes_for_level(&self, level: u32) -> f64 {
        let sstable_size = self.sstable_size_bytes() as f64;
        if level == 0 {
            4.0 * sstable_size
        } else {
            f64::from(self.effective_fanout_size()).powf(f64::from(level)) * sstable_size
        }
    }
}

/// Options of `TimeWindowCompactionStrategy`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TwcsOptions {
    /// Options shared by all strategies. TWCS only runs tombstone compactions when
    /// `tombstone_threshold` or `tombstone_compaction_interval` was given explicitly.
    pub common: CommonOptions,
    /// Bucketing parameters of the size-tiering inside the current window.
    pub size_tiered: SizeTieredOptions,
    /// `compaction_window_unit` (default DAYS).
    pub compaction_window_unit: Option<WindowUnit>,
    /// `compaction_window_size`, in units (default 1).
    pub compaction_window_size: Option<u32>,
    /// `timestamp_resolution` (default MICROSECONDS).
    pub timestamp_resolution: Option<TimestampResolution>,
    /// `expired_sstable_check_frequency_seconds` (default 600).
    pub expired_sstable_check_frequency_secs: Option<u64>,
    /// `unsafe_aggressive_sstable_expiration`: ignore overlaps when looking for fully expired
    /// sstables. Parsing rejects `true` as Cassandra does without its startup flag; a config
    /// built by hand with `Some(true)` is honoured.
    pub unsafe_aggressive_sstable_expiration: Option<bool>,
}

impl TwcsOptions {
    /// Window length, seconds (at least one unit even for hand-built configs).
    pub fn window_secs(&self) -> i64 {
        let size = i64::from(
            self.compaction_window_size
                .unwrap_or(DEFAULT_COMPACTION_WINDOW_SIZE)
                .max(1),
        );
        self.compaction_window_unit
            .unwrap_or_default()
            .unit_secs()
            .saturating_mul(size)
    }

    /// Effective timestamp resolution.
    pub fn effective_timestamp_resolution(&self) -> TimestampResolution {
        self.timestamp_resolution.unwrap_or_default()
    }

    /// Effective expired-sstable check period, seconds.
    pub fn effective_expired_check_frequency_secs(&self) -> u64 {
        self.expired_sstable_check_frequency_secs
            .unwrap_or(DEFAULT_EXPIRED_SSTABLE_CHECK_FREQUENCY_SECS)
    }

    /// Whether tombstone compactions run (Cassandra: only when a tombstone option is given).
    pub fn tombstone_compactions_enabled(&self) -> bool {
        self.common.tombstone_threshold.is_some()
            || self.common.tombstone_compaction_interval_secs.is_some()
    }
}

/// A table's compaction strategy with its options.
#[derive(Debug, Clone, PartialEq)]
pub enum CompactionStrategyConfig {
    /// `SizeTieredCompactionStrategy`.
    SizeTiered(StcsOptions),
    /// `LeveledCompactionStrategy`.
    Leveled(LcsOptions),
    /// `TimeWindowCompactionStrategy`.
    TimeWindow(TwcsOptions),
}

impl Default for CompactionStrategyConfig {
    /// Size-tiered with all defaults (Cassandra's default before 5.0's UCS).
    fn default() -> Self {
        CompactionStrategyConfig::SizeTiered(StcsOptions::default())
    }
}

/// Reads options out of a map, remembering which keys were consumed.
struct OptionReader<'a> {
    remaining: BTreeMap<&'a str, &'a str>,
}

impl<'a> OptionReader<'a> {
    fn take(&mut self, key: &str) -> Option<&'a str> {
        self.remaining.remove(key)
    }

    fn strict_bool(&mut self, key: &'static str) -> Result<Option<bool>, StrategyError> {
        match self.take(key) {
            None => Ok(None),
            Some(value) if value.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(value) if value.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(value) => Err(StrategyError::InvalidBoolean {
                option: key,
                value: value.to_owned(),
            }),
        }
    }

    /// Java `Boolean.parseBoolean`: `true` (any case) is true, anything else false.
    fn lenient_bool(&mut self, key: &str) -> Option<bool> {
        self.take(key)
            .map(|value| value.eq_ignore_ascii_case("true"))
    }

    fn long(&mut self, key: &'static str) -> Result<Option<i64>, StrategyError> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => value
                .parse::<i64>()
                .map(Some)
                .map_err(|_| StrategyError::NotParsable {
                    option: key,
                    value: value.to_owned(),
                }),
        }
    }

    fn int(&mut self, key: &'static str) -> Result<Option<i64>, StrategyError> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => value
                .parse::<i32>()
                .map(|v| Some(i64::from(v)))
                .map_err(|_| StrategyError::NotParsable {
                    option: key,
                    value: value.to_owned(),
                }),
        }
    }

    fn float(&mut self, key: &'static str) -> Result<Option<f64>, StrategyError> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => {
                parse_java_float(value)
                    .map(Some)
                    .ok_or_else(|| StrategyError::NotParsable {
                        option: key,
                        value: value.to_owned(),
                    })
            }
        }
    }
}

/// Java `Double.parseDouble` for ordinary decimal input: surrounding whitespace and a
/// trailing `f`/`d` suffix are allowed. Non-finite values are refused.
fn parse_java_float(raw: &str) -> Option<f64> {
    let trimmed = raw.trim();
    let body = trimmed
        .strip_suffix(['f', 'F', 'd', 'D'])
        .unwrap_or(trimmed);
    let looks_numeric = !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !looks_numeric {
        return None;
    }
    body.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `min_threshold`/`max_threshold`: digits only (Commons `StringUtils.isNumeric`), then int.
fn threshold(value: Option<&str>, option: &'static str) -> Result<Option<u32>, StrategyError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let not_integer = || StrategyError::NotAnInteger {
        option,
        value: value.to_owned(),
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_integer());
    }
    value
        .parse::<i32>()
        .map_err(|_| not_integer())
        .map(|v| Some(v.unsigned_abs()))
}

impl CompactionStrategyConfig {
    /// Which strategy this is.
    pub fn kind(&self) -> StrategyKind {
        match self {
            CompactionStrategyConfig::SizeTiered(_) => StrategyKind::SizeTiered,
            CompactionStrategyConfig::Leveled(_) => StrategyKind::Leveled,
            CompactionStrategyConfig::TimeWindow(_) => StrategyKind::TimeWindow,
        }
    }

    /// The options every strategy has.
    pub fn common(&self) -> &CommonOptions {
        match self {
            CompactionStrategyConfig::SizeTiered(o) => &o.common,
            CompactionStrategyConfig::Leveled(o) => &o.common,
            CompactionStrategyConfig::TimeWindow(o) => &o.common,
        }
    }

    /// The size-tiering parameters every strategy carries.
    pub fn size_tiered(&self) -> &SizeTieredOptions {
        match self {
            CompactionStrategyConfig::SizeTiered(o) => &o.size_tiered,
            CompactionStrategyConfig::Leveled(o) => &o.size_tiered,
            CompactionStrategyConfig::TimeWindow(o) => &o.size_tiered,
        }
    }

    /// Parses and validates a CQL `compaction = {...}` map, in Cassandra's order: class,
    /// `provide_overlapping_tombstones`, common options, strategy options, unknown options,
    /// thresholds.
    pub fn from_cql_options(options: &BTreeMap<String, String>) -> Result<Self, StrategyError> {
        let class = options.get(OPT_CLASS).ok_or(StrategyError::MissingClass)?;
        let kind = StrategyKind::from_class_name(class)?;
        let mut reader = OptionReader {
            remaining: options
                .iter()
                .filter(|(k, _)| k.as_str() != OPT_CLASS)
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
        };

        let provide_overlapping_tombstones = match reader.take(OPT_PROVIDE_OVERLAPPING_TOMBSTONES) {
            None => None,
            Some(value) => Some(match value.to_uppercase().as_str() {
                "NONE" => ProvideOverlappingTombstones::None,
                "ROW" => ProvideOverlappingTombstones::Row,
                "CELL" => ProvideOverlappingTombstones::Cell,
                upper => {
                    return Err(StrategyError::InvalidOverlappingTombstones {
                        value: upper.to_owned(),
                    })
                }
            }),
        };
        // The thresholds are validated last (CompactionParams.validate); keep them for then.
        let min_threshold_raw = reader.take(OPT_MIN_THRESHOLD);
        let max_threshold_raw = reader.take(OPT_MAX_THRESHOLD);

        let mut common = parse_common(&mut reader)?;
        common.provide_overlapping_tombstones = provide_overlapping_tombstones;

        let config = match kind {
            StrategyKind::SizeTiered => {
                let size_tiered = parse_size_tiered(&mut reader)?;
                CompactionStrategyConfig::SizeTiered(StcsOptions {
                    common,
                    size_tiered,
                })
            }
            StrategyKind::Leveled => {
                CompactionStrategyConfig::Leveled(parse_leveled(&mut reader, common)?)
            }
            StrategyKind::TimeWindow => {
                CompactionStrategyConfig::TimeWindow(parse_time_window(&mut reader, common)?)
            }
        };

        if !reader.remaining.is_empty() {
            return Err(StrategyError::UnknownOptions {
                options: reader.remaining.keys().map(|k| (*k).to_owned()).collect(),
                strategy: kind.simple_name(),
            });
        }

        let min_threshold = threshold(min_threshold_raw, OPT_MIN_THRESHOLD)?;
        let max_threshold = threshold(max_threshold_raw, OPT_MAX_THRESHOLD)?;
        let min_threshold = min_threshold.unwrap_or(DEFAULT_MIN_THRESHOLD);
        let max_threshold = max_threshold.unwrap_or(DEFAULT_MAX_THRESHOLD);
        if min_threshold == 0 || max_threshold == 0 {
            return Err(StrategyError::ZeroThreshold);
        }
        if min_threshold < 2 {
            return Err(StrategyError::MinThresholdTooSmall { min_threshold });
        }
        if min_threshold > max_threshold {
            return Err(StrategyError::MinAboveMaxThreshold {
                min_threshold,
                max_threshold,
            });
        }
        let mut config = config;
        let common = match &mut config {
            CompactionStrategyConfig::SizeTiered(o) => &mut o.common,
            CompactionStrategyConfig::Leveled(o) => &mut o.common,
            CompactionStrategyConfig::TimeWindow(o) => &mut o.common,
        };
        common.min_threshold = min_threshold;
        common.max_threshold = max_threshold;
        Ok(config)
    }

    /// The map Cassandra stores and DESCRIBE shows: the fully-qualified `class`, both
    /// thresholds, and every other option that was given (normalised).
    pub fn to_cql_options(&self) -> BTreeMap<String, String> {
        self.render(false)
    }

    /// Like [`Self::to_cql_options`] but with every option of the strategy present, defaults
    /// filled in.
    pub fn effective_cql_options(&self) -> BTreeMap<String, String> {
        self.render(true)
    }

    fn render(&self, with_defaults: bool) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert(OPT_CLASS.to_owned(), self.kind().class_name().to_owned());
        let mut put = |key: &str, given: Option<String>, default: String| {
            if let Some(value) = given {
                out.insert(key.to_owned(), value);
            } else if with_defaults {
                out.insert(key.to_owned(), default);
            }
        };

        let common = self.common();
        put(
            OPT_MIN_THRESHOLD,
            Some(common.min_threshold.to_string()),
            String::new(),
        );
        put(
            OPT_MAX_THRESHOLD,
            Some(common.max_threshold.to_string()),
            String::new(),
        );
        put(
            OPT_ENABLED,
            common.enabled.map(|b| b.to_string()),
            "true".to_owned(),
        );
        put(
            OPT_TOMBSTONE_THRESHOLD,
            common.tombstone_threshold.map(java_float),
            java_float(DEFAULT_TOMBSTONE_THRESHOLD),
        );
        put(
            OPT_TOMBSTONE_COMPACTION_INTERVAL,
            common
                .tombstone_compaction_interval_secs
                .map(|v| v.to_string()),
            DEFAULT_TOMBSTONE_COMPACTION_INTERVAL_SECS.to_string(),
        );
        put(
            OPT_UNCHECKED_TOMBSTONE_COMPACTION,
            common.unchecked_tombstone_compaction.map(|b| b.to_string()),
            "false".to_owned(),
        );
        put(
            OPT_LOG_ALL,
            common.log_all.map(|b| b.to_string()),
            "false".to_owned(),
        );
        put(
            OPT_ONLY_PURGE_REPAIRED_TOMBSTONES,
            common.only_purge_repaired_tombstones.map(|b| b.to_string()),
            "false".to_owned(),
        );
        put(
            OPT_PROVIDE_OVERLAPPING_TOMBSTONES,
            common
                .provide_overlapping_tombstones
                .map(|v| v.as_cql().to_owned()),
            ProvideOverlappingTombstones::None.as_cql().to_owned(),
        );

        let size_tiered = self.size_tiered();
        put(
            OPT_MIN_SSTABLE_SIZE,
            size_tiered.min_sstable_size_bytes.map(|v| v.to_string()),
            DEFAULT_MIN_SSTABLE_SIZE_BYTES.to_string(),
        );
        put(
            OPT_BUCKET_LOW,
            size_tiered.bucket_low.map(java_double),
            java_double(DEFAULT_BUCKET_LOW),
        );
        put(
            OPT_BUCKET_HIGH,
            size_tiered.bucket_high.map(java_double),
            java_double(DEFAULT_BUCKET_HIGH),
        );

        match self {
            CompactionStrategyConfig::SizeTiered(_) => {}
            CompactionStrategyConfig::Leveled(o) => {
                put(
                    OPT_SSTABLE_SIZE_IN_MB,
                    o.sstable_size_in_mb.map(|v| v.to_string()),
                    DEFAULT_SSTABLE_SIZE_IN_MB.to_string(),
                );
                put(
                    OPT_FANOUT_SIZE,
                    o.fanout_size.map(|v| v.to_string()),
                    DEFAULT_FANOUT_SIZE.to_string(),
                );
                put(
                    OPT_SINGLE_SSTABLE_UPLEVEL,
                    o.single_sstable_uplevel.map(|b| b.to_string()),
                    "false".to_owned(),
                );
            }
            CompactionStrategyConfig::TimeWindow(o) => {
                put(
                    OPT_COMPACTION_WINDOW_UNIT,
                    o.compaction_window_unit.map(|u| u.as_cql().to_owned()),
                    WindowUnit::default().as_cql().to_owned(),
                );
                put(
                    OPT_COMPACTION_WINDOW_SIZE,
                    o.compaction_window_size.map(|v| v.to_string()),
                    DEFAULT_COMPACTION_WINDOW_SIZE.to_string(),
                );
                put(
                    OPT_TIMESTAMP_RESOLUTION,
                    o.timestamp_resolution.map(|r| r.as_cql().to_owned()),
                    TimestampResolution::default().as_cql().to_owned(),
                );
                put(
                    OPT_EXPIRED_SSTABLE_CHECK_FREQUENCY,
                    o.expired_sstable_check_frequency_secs
                        .map(|v| v.to_string()),
                    DEFAULT_EXPIRED_SSTABLE_CHECK_FREQUENCY_SECS.to_string(),
                );
                put(
                    OPT_UNSAFE_AGGRESSIVE_EXPIRATION,
                    o.unsafe_aggressive_sstable_expiration
                        .map(|b| b.to_string()),
                    "false".to_owned(),
                );
            }
        }
        out
    }
}

impl fmt::Display for CompactionStrategyConfig {
    /// CQL map literal of [`CompactionStrategyConfig::to_cql_options`], as in DESCRIBE:
    /// `{'class': '...', 'max_threshold': '32', 'min_threshold': '4'}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (key, value)) in self.to_cql_options().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(
                f,
                "'{}': '{}'",
                key.replace('\'', "''"),
                value.replace('\'', "''")
            )?;
        }
        f.write_str("}")
    }
}

/// `AbstractCompactionStrategy.validateOptions`, minus the thresholds and
/// `provide_overlapping_tombstones`, which the caller handles.
fn parse_common(reader: &mut OptionReader<'_>) -> Result<CommonOptions, StrategyError> {
    let tombstone_threshold = match reader.take(OPT_TOMBSTONE_THRESHOLD) {
        None => None,
        Some(raw) => {
            let value = parse_java_float(raw)
                .map(|v| v as f32)
                .filter(|v| v.is_finite())
                .ok_or_else(|| StrategyError::NotParsable {
                    option: OPT_TOMBSTONE_THRESHOLD,
                    value: raw.to_owned(),
                })?;
            if value < 0.0 {
                return Err(StrategyError::NegativeValue {
                    option: OPT_TOMBSTONE_THRESHOLD,
                    shown: format!("{:.6}", f64::from(value)),
                });
            }
            Some(value)
        }
    };
    let tombstone_compaction_interval_secs = match reader.long(OPT_TOMBSTONE_COMPACTION_INTERVAL)? {
        None => None,
        Some(value) if value < 0 => {
            return Err(StrategyError::NegativeValue {
                option: OPT_TOMBSTONE_COMPACTION_INTERVAL,
                shown: value.to_string(),
            })
        }
        Some(value) => Some(value.unsigned_abs()),
    };
    let unchecked_tombstone_compaction = reader.strict_bool(OPT_UNCHECKED_TOMBSTONE_COMPACTION)?;
    let log_all = reader.strict_bool(OPT_LOG_ALL)?;
    let enabled = reader.strict_bool(OPT_ENABLED)?;
    let only_purge_repaired_tombstones = reader.lenient_bool(OPT_ONLY_PURGE_REPAIRED_TOMBSTONES);
    Ok(CommonOptions {
        min_threshold: DEFAULT_MIN_THRESHOLD,
        max_threshold: DEFAULT_MAX_THRESHOLD,
        enabled,
        tombstone_threshold,
        tombstone_compaction_interval_secs,
        unchecked_tombstone_compaction,
        log_all,
        only_purge_repaired_tombstones,
        provide_overlapping_tombstones: None,
    })
}

/// `SizeTieredCompactionStrategyOptions.validateOptions`.
fn parse_size_tiered(reader: &mut OptionReader<'_>) -> Result<SizeTieredOptions, StrategyError> {
    let min_sstable_size_bytes = match reader.long(OPT_MIN_SSTABLE_SIZE)? {
        None => None,
        Some(value) if value < 0 => {
            return Err(StrategyError::NegativeMinSstableSize { value });
        }
        Some(value) => Some(value.unsigned_abs()),
    };
    let bucket_low = reader.float(OPT_BUCKET_LOW)?;
    let bucket_high = reader.float(OPT_BUCKET_HIGH)?;
    let options = SizeTieredOptions {
        min_sstable_size_bytes,
        bucket_low,
        bucket_high,
    };
    let (low, high) = (
        options.effective_bucket_low(),
        options.effective_bucket_high(),
    );
    if high <= low {
        return Err(StrategyError::BucketHighNotAboveLow {
            bucket_high: high,
            bucket_low: low,
        });
    }
    Ok(options)
}

/// `LeveledCompactionStrategy.validateOptions`.
fn parse_leveled(
    reader: &mut OptionReader<'_>,
    common: CommonOptions,
) -> Result<LcsOptions, StrategyError> {
    let sstable_size_in_mb = match reader.int(OPT_SSTABLE_SIZE_IN_MB)? {
        None => None,
        Some(value) if value < 1 => {
            return Err(StrategyError::NotPositive {
                option: OPT_SSTABLE_SIZE_IN_MB,
                value,
            })
        }
        Some(value) => Some(u32::try_from(value).unwrap_or(u32::MAX)),
    };
    let fanout_size = match reader.int(OPT_FANOUT_SIZE)? {
        None => None,
        Some(value) if value < 1 => {
            return Err(StrategyError::NotPositive {
                option: OPT_FANOUT_SIZE,
                value,
            })
        }
        Some(value) => Some(u32::try_from(value).unwrap_or(u32::MAX)),
    };
    // Unknown in Cassandra's validator; parsed with Boolean.parseBoolean by the strategy.
    let single_sstable_uplevel = reader.lenient_bool(OPT_SINGLE_SSTABLE_UPLEVEL);
    let size_tiered = parse_size_tiered(reader)?;
    let options = LcsOptions {
        common,
        size_tiered,
        sstable_size_in_mb,
        fanout_size,
        single_sstable_uplevel,
    };
    // CASSANDRA-20570: the last level's capacity must fit a Java long.
    let last_level = (LCS_LEVEL_COUNT - 1) as u32;
    let bytes = options.max_bytes_for_level(last_level);
    if bytes > i64::MAX as f64 {
        return Err(StrategyError::LevelSizeOverflow { bytes });
    }
    Ok(options)
}

/// `TimeWindowCompactionStrategyOptions.validateOptions` (which ends with the STCS options).
fn parse_time_window(
    reader: &mut OptionReader<'_>,
    common: CommonOptions,
) -> Result<TwcsOptions, StrategyError> {
    let timestamp_resolution = match reader.take(OPT_TIMESTAMP_RESOLUTION) {
        None => None,
        Some(value) => Some(match value {
            "SECONDS" => TimestampResolution::Seconds,
            "MILLISECONDS" => TimestampResolution::Milliseconds,
            "MICROSECONDS" => TimestampResolution::Microseconds,
            "NANOSECONDS" => TimestampResolution::Nanoseconds,
            _ => {
                return Err(StrategyError::InvalidTimeUnit {
                    option: OPT_TIMESTAMP_RESOLUTION,
                    value: value.to_owned(),
                })
            }
        }),
    };
    let compaction_window_unit = match reader.take(OPT_COMPACTION_WINDOW_UNIT) {
        None => None,
        Some(value) => Some(match value {
            "MINUTES" => WindowUnit::Minutes,
            "HOURS" => WindowUnit::Hours,
            "DAYS" => WindowUnit::Days,
            _ => {
                return Err(StrategyError::InvalidTimeUnit {
                    option: OPT_COMPACTION_WINDOW_UNIT,
                    value: value.to_owned(),
                })
            }
        }),
    };
    let compaction_window_size = match reader.int(OPT_COMPACTION_WINDOW_SIZE)? {
        None => None,
        Some(value) if value < 1 => return Err(StrategyError::WindowSizeTooSmall { value }),
        Some(value) => Some(u32::try_from(value).unwrap_or(u32::MAX)),
    };
    let expired_sstable_check_frequency_secs =
        match reader.long(OPT_EXPIRED_SSTABLE_CHECK_FREQUENCY)? {
            None => None,
            Some(value) if value < 0 => {
                return Err(StrategyError::NegativeExpiredCheckFrequency { value })
            }
            Some(value) => Some(value.unsigned_abs()),
        };
    let unsafe_aggressive_sstable_expiration =
        match reader.strict_bool(OPT_UNSAFE_AGGRESSIVE_EXPIRATION)? {
            Some(true) => return Err(StrategyError::UnsafeAggressiveExpirationNotAllowed),
            other => other,
        };
    let size_tiered = parse_size_tiered(reader)?;
    Ok(TwcsOptions {
        common,
        size_tiered,
        compaction_window_unit,
        compaction_window_size,
        timestamp_resolution,
        expired_sstable_check_frequency_secs,
        unsafe_aggressive_sstable_expiration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        match CompactionStrategyConfig::from_cql_options(&map(pairs)) {
            Ok(config) => panic!("expected an error, got {config:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn short_and_qualified_class_names() {
        let short = CompactionStrategyConfig::from_cql_options(&map(&[(
            "class",
            "LeveledCompactionStrategy",
        )]))
        .unwrap();
        let long = CompactionStrategyConfig::from_cql_options(&map(&[(
            "class",
            "org.apache.cassandra.db.compaction.LeveledCompactionStrategy",
        )]))
        .unwrap();
        assert_eq!(short, long);
        assert_eq!(short.kind(), StrategyKind::Leveled);
        assert_eq!(
            error(&[("class", "FooStrategy")]),
            "Unable to find compaction strategy class 'org.apache.cassandra.db.compaction.FooStrategy'"
        );
        assert_eq!(
            error(&[("class", "com.example.Foo")]),
            "Unable to find compaction strategy class 'com.example.Foo'"
        );
        assert_eq!(
            error(&[("min_threshold", "4")]),
            "Missing sub-option 'class' for the 'compaction' option"
        );
        assert!(matches!(
            CompactionStrategyConfig::from_cql_options(&map(&[(
                "class",
                "UnifiedCompactionStrategy"
            )])),
            Err(StrategyError::UnsupportedClass { .. })
        ));
    }

    #[test]
    fn default_stcs_renders_like_cassandra_describe() {
        let config = CompactionStrategyConfig::from_cql_options(&map(&[(
            "class",
            "SizeTieredCompactionStrategy",
        )]))
        .unwrap();
        assert_eq!(config, CompactionStrategyConfig::default());
        assert_eq!(
            config.to_cql_options(),
            map(&[
                (
                    "class",
                    "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy"
                ),
                ("max_threshold", "32"),
                ("min_threshold", "4"),
            ])
        );
        assert_eq!(
            config.to_string(),
            "{'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4'}"
        );
        let effective = config.effective_cql_options();
        assert_eq!(effective["bucket_low"], "0.5");
        assert_eq!(effective["bucket_high"], "1.5");
        assert_eq!(effective["min_sstable_size"], "52428800");
        assert_eq!(effective["tombstone_threshold"], "0.2");
        assert_eq!(effective["tombstone_compaction_interval"], "86400");
        assert_eq!(effective["unchecked_tombstone_compaction"], "false");
        assert_eq!(effective["enabled"], "true");
    }

    #[test]
    fn lcs_shows_given_options_and_thresholds() {
        let config = CompactionStrategyConfig::from_cql_options(&map(&[
            ("class", "LeveledCompactionStrategy"),
            ("sstable_size_in_mb", "1"),
        ]))
        .unwrap();
        assert_eq!(
            config.to_string(),
            "{'class': 'org.apache.cassandra.db.compaction.LeveledCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4', 'sstable_size_in_mb': '1'}"
        );
        let CompactionStrategyConfig::Leveled(lcs) = &config else {
            panic!("not leveled");
        };
        assert_eq!(lcs.sstable_size_bytes(), 1024 * 1024);
        assert_eq!(lcs.effective_fanout_size(), 10);
        assert_eq!(
            CompactionStrategyConfig::from_cql_options(&config.effective_cql_options())
                .unwrap()
                .effective_cql_options(),
            config.effective_cql_options()
        );
    }

    #[test]
    fn twcs_options_parse_and_render() {
        let config = CompactionStrategyConfig::from_cql_options(&map(&[
            ("class", "TimeWindowCompactionStrategy"),
            ("compaction_window_unit", "HOURS"),
            ("compaction_window_size", "6"),
            ("bucket_low", ".25"),
        ]))
        .unwrap();
        let CompactionStrategyConfig::TimeWindow(twcs) = &config else {
            panic!("not twcs");
        };
        assert_eq!(twcs.window_secs(), 6 * 3600);
        assert!(!twcs.tombstone_compactions_enabled());
        assert_eq!(config.to_cql_options()["bucket_low"], "0.25");
        assert_eq!(config.to_cql_options()["compaction_window_unit"], "HOURS");
        assert_eq!(
            CompactionStrategyConfig::from_cql_options(&config.to_cql_options()).unwrap(),
            config
        );
    }

    #[test]
    fn cassandra_error_messages() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("class", "SizeTieredCompactionStrategy"), ("abc", "-54.54")],
                "Properties specified [abc] are not understood by SizeTieredCompactionStrategy",
            ),
            (
                &[("class", "LeveledCompactionStrategy"), ("compaction_window_size", "4")],
                "Properties specified [compaction_window_size] are not understood by LeveledCompactionStrategy",
            ),
            (
                &[("class", "TimeWindowCompactionStrategy"), ("dog", "3"), ("cat", "1")],
                "Properties specified [cat, dog] are not understood by TimeWindowCompactionStrategy",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("tombstone_threshold", "-0.4")],
                "tombstone_threshold must be greater than 0, but was -0.400000",
            ),
            (
                &[("class", "LeveledCompactionStrategy"), ("tombstone_compaction_interval", "-7")],
                "tombstone_compaction_interval must be greater than 0, but was -7",
            ),
            (
                &[("class", "LeveledCompactionStrategy"), ("unchecked_tombstone_compaction", "maybe")],
                "'unchecked_tombstone_compaction' should be either 'true' or 'false', not 'maybe'",
            ),
            (
                &[("class", "LeveledCompactionStrategy"), ("enabled", "certainly")],
                "enabled should either be 'true' or 'false', not certainly",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("log_all", "x")],
                "'log_all' should either be 'true' or 'false', not x",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("min_sstable_size", "-1")],
                "min_sstable_size must be non negative: -1",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("bucket_high", "0.4")],
                "Bucket high value (0.4) is less than or equal bucket low value (0.5)",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("bucket_low", "1.5")],
                "Bucket high value (1.5) is less than or equal bucket low value (1.5)",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("bucket_low", "abc")],
                "abc is not a parsable int (base10) for bucket_low",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("min_threshold", "1")],
                "Min compaction threshold cannot be less than 2 (got 1)",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("min_threshold", "-1")],
                "Invalid value -1 for 'min_threshold' compaction sub-option - must be an integer",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("max_threshold", "0")],
                "Disabling compaction by setting compaction thresholds to 0 has been removed, set the compaction option 'enabled' to false instead.",
            ),
            (
                &[("class", "TimeWindowCompactionStrategy"), ("max_threshold", "1")],
                "Min compaction threshold (got 4) cannot be greater than max compaction threshold (got 1)",
            ),
            (
                &[("class", "LeveledCompactionStrategy"), ("sstable_size_in_mb", "-5")],
                "sstable_size_in_mb must be larger than 0, but was -5",
            ),
            (
                &[("class", "LeveledCompactionStrategy"), ("fanout_size", "0")],
                "fanout_size must be larger than 0, but was 0",
            ),
            (
                &[("class", "LeveledCompactionStrategy"), ("fanout_size", "1000")],
                "At most 9223372036854775807 bytes may be in a compaction level; your maxSSTableSize must be absurdly high to compute 1.6777215999999998E32",
            ),
            (
                &[("class", "TimeWindowCompactionStrategy"), ("compaction_window_unit", "SECONDS")],
                "SECONDS is not valid for compaction_window_unit",
            ),
            (
                &[("class", "TimeWindowCompactionStrategy"), ("compaction_window_unit", "days")],
                "days is not valid for compaction_window_unit",
            ),
            (
                &[("class", "TimeWindowCompactionStrategy"), ("compaction_window_size", "-8")],
                "-8 must be greater than 1 for compaction_window_size",
            ),
            (
                &[("class", "TimeWindowCompactionStrategy"), ("timestamp_resolution", "MINUTES")],
                "MINUTES is not valid for timestamp_resolution",
            ),
            (
                &[("class", "TimeWindowCompactionStrategy"), ("expired_sstable_check_frequency_seconds", "-1")],
                "expired_sstable_check_frequency_seconds must not be negative, but was -1",
            ),
            (
                &[("class", "TimeWindowCompactionStrategy"), ("unsafe_aggressive_sstable_expiration", "yes")],
                "unsafe_aggressive_sstable_expiration is not 'true' or 'false' (yes)",
            ),
            (
                &[("class", "SizeTieredCompactionStrategy"), ("provide_overlapping_tombstones", "some")],
                "Invalid value SOME for 'provide_overlapping_tombstones' compaction sub-option - must be one of the following [NONE, ROW, CELL].",
            ),
        ];
        for (options, expected) in cases {
            assert_eq!(&error(options), expected, "options {options:?}");
        }
    }

    #[test]
    fn accepted_spellings() {
        let config = CompactionStrategyConfig::from_cql_options(&map(&[
            ("class", "SizeTieredCompactionStrategy"),
            ("enabled", "FALSE"),
            ("tombstone_threshold", " 0.3 "),
            ("provide_overlapping_tombstones", "row"),
            ("only_purge_repaired_tombstones", "whatever"),
            ("min_threshold", "2"),
            ("max_threshold", "2"),
        ]))
        .unwrap();
        let common = config.common();
        assert!(!common.is_enabled());
        assert_eq!(common.tombstone_threshold, Some(0.3));
        assert_eq!(
            common.provide_overlapping_tombstones,
            Some(ProvideOverlappingTombstones::Row)
        );
        assert_eq!(common.only_purge_repaired_tombstones, Some(false));
        assert_eq!((common.min_threshold, common.max_threshold), (2, 2));
        let shown = config.to_cql_options();
        assert_eq!(shown["tombstone_threshold"], "0.3");
        assert_eq!(shown["enabled"], "false");
        assert_eq!(shown["provide_overlapping_tombstones"], "ROW");
    }

    #[test]
    fn java_number_formatting() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.7), "0.7");
        assert_eq!(java_double(1e-5), "1.0E-5");
        assert_eq!(java_double(1.6e19), "1.6E19");
        assert_eq!(java_double(1_234_567.0), "1234567.0");
        assert_eq!(java_float(0.2), "0.2");
        assert_eq!(parse_java_float("1.5d"), Some(1.5));
        assert_eq!(parse_java_float("NaN"), None);
        assert_eq!(parse_java_float("inf"), None);
        assert_eq!(parse_java_float(""), None);
    }
}
