//! Cassandra's native CQL functions: scalar functions (time and UUID functions, blob
//! conversions, casts, arithmetic operators, JSON) resolved by name and argument types the way
//! Cassandra's `FunctionResolver` does, and aggregates for `SELECT`.
//!
//! Resolution: the candidates are the native overloads of the name (functions named with a
//! keyspace other than `system` are user functions, which do not exist here). A single
//! candidate is checked argument by argument ("Type error: ... cannot be passed as argument
//! ..."); several are filtered by the receiver type, then an exact match wins, else a single
//! weakly assignable one, else Cassandra's "none of its type signatures match" / "Ambiguous
//! call" errors. Operators are the functions `_add`, `_substract`, `_multiply`, `_divide`,
//! `_modulo` and `_negate` with Cassandra's result-type table.
//!
//! Invariants: function bodies validate their inputs and never panic; a result is a valid
//! value of the function's return type.

pub mod aggregate;
pub mod numeric;

use std::sync::atomic::{AtomicI64, Ordering as AtomicOrdering};
use std::sync::OnceLock;

use bytes::Bytes;
use meridian_cql_parser::ast;
use meridian_schema::Schema;
use meridian_types::cql_type::{validate, CqlType};

pub use aggregate::{aggregate, is_aggregate, Aggregate, CountRows};

use crate::context::ExecOptions;
use crate::error::QueryError;
use crate::terms::{self, native, temporal, Assignability, Receiver};

/// The internal name of the negation operator function.
pub const NEGATION_FUNCTION: &str = "_negate";

/// The internal name of an arithmetic operator's function.
pub fn operation_function(op: ast::ArithmeticOp) -> &'static str {
    match op {
        ast::ArithmeticOp::Add => "_add",
        ast::ArithmeticOp::Sub => "_substract",
        ast::ArithmeticOp::Mul => "_multiply",
        ast::ArithmeticOp::Div => "_divide",
        ast::ArithmeticOp::Mod => "_modulo",
    }
}

fn operator_of(name: &str) -> Option<ast::ArithmeticOp> {
    Some(match name {
        "_add" => ast::ArithmeticOp::Add,
        "_substract" => ast::ArithmeticOp::Sub,
        "_multiply" => ast::ArithmeticOp::Mul,
        "_divide" => ast::ArithmeticOp::Div,
        "_modulo" => ast::ArithmeticOp::Mod,
        _ => return None,
    })
}

fn op_symbol(op: ast::ArithmeticOp) -> char {
    match op {
        ast::ArithmeticOp::Add => '+',
        ast::ArithmeticOp::Sub => '-',
        ast::ArithmeticOp::Mul => '*',
        ast::ArithmeticOp::Div => '/',
        ast::ArithmeticOp::Mod => '%',
    }
}

/// The name of the cast function to `type_name` (`cast_as_int`, ...), as Cassandra 5's
/// `CastFcts.getFunctionName` (shown in its error messages).
pub fn cast_function_name(type_name: &str) -> String {
    let t = if type_name == "varchar" {
        "text"
    } else {
        type_name
    };
    format!("cast_as_{}", t.to_ascii_lowercase())
}

/// What is known of one argument when resolving an overload.
#[derive(Clone, Debug)]
pub enum ArgInfo<'a> {
    /// A value of a known type (a column, another function's result), with its text for
    /// error messages.
    Typed {
        /// How the argument is written (for messages).
        text: String,
        /// Its type.
        ty: CqlType,
    },
    /// A term whose type depends on its receiver (literal, collection, marker, NULL, ...).
    Term(&'a ast::Term),
}

impl ArgInfo<'_> {
    fn text(&self) -> String {
        match self {
            ArgInfo::Typed { text, .. } => text.clone(),
            ArgInfo::Term(t) => terms::term_text(t),
        }
    }

    fn is_marker(&self) -> bool {
        matches!(self, ArgInfo::Term(ast::Term::BindMarker(_)))
    }
}

/// Where a function is resolved: the statement's keyspace and schema (user types in type
/// hints), and the receiver's keyspace and table (for argument column specs).
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// Keyspace of the statement.
    pub keyspace: &'a str,
    /// The schema.
    pub schema: &'a Schema,
    /// Keyspace of the receiver (bind specs of arguments).
    pub receiver_keyspace: &'a str,
    /// Table of the receiver (bind specs of arguments).
    pub receiver_table: &'a str,
}

/// Kinds of `now`-like functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NowKind {
    Timeuuid,
    Timestamp,
    Date,
    Time,
}

/// What a scalar function does.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Body {
    Now(NowKind),
    RandomUuid,
    MinTimeuuid,
    MaxTimeuuid,
    /// `toDate` of the argument type.
    ToDate,
    /// `toTimestamp` of the argument type.
    ToTimestamp,
    /// `toUnixTimestamp` of the argument type.
    ToUnixTimestamp,
    Floor,
    /// Returns its argument (`xAsBlob`, `ascii` to `text`).
    Identity,
    /// `blobAsX`: validates the bytes as the return type.
    FromBlob,
    /// `CAST(x AS t)`.
    Cast,
    ToJson,
    FromJson,
    Operation(ast::ArithmeticOp),
    Negate,
    Math(MathFn),
}

/// Cassandra 5.0's math functions (`MathFcts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MathFn {
    Abs,
    Exp,
    Log,
    Log10,
    Round,
}

/// A resolved scalar function overload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalarFn {
    /// Name without keyspace, as registered (`totimestamp`, `to_timestamp`, `_add`, ...).
    pub name: String,
    /// Argument types of the overload.
    pub arg_types: Vec<CqlType>,
    /// Result type.
    pub return_type: CqlType,
    body: Body,
}

impl ScalarFn {
    fn new(name: &str, arg_types: Vec<CqlType>, return_type: CqlType, body: Body) -> Self {
        ScalarFn {
            name: name.to_string(),
            arg_types,
            return_type,
            body,
        }
    }

    /// `system.<name>`.
    pub fn qualified_name(&self) -> String {
        format!("system.{}", self.name)
    }

    /// Cassandra's `Function.toString()`: `system.totimestamp : (timeuuid) -> timestamp`.
    pub fn signature(&self) -> String {
        let args = self
            .arg_types
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{} : ({args}) -> {}",
            self.qualified_name(),
            self.return_type
        )
    }

    /// Whether this is `fromJson` (whose result type is its receiver's).
    pub fn is_from_json(&self) -> bool {
        self.body == Body::FromJson
    }

    /// The operator symbol of an operator function.
    pub fn operator_symbol(&self) -> Option<char> {
        match self.body {
            Body::Operation(op) => Some(op_symbol(op)),
            _ => None,
        }
    }

    /// Whether two calls with equal arguments give equal results (false for `now()`,
    /// `uuid()`, ...).
    pub fn is_pure(&self) -> bool {
        !matches!(self.body, Body::Now(_) | Body::RandomUuid)
    }

    /// The receiver of argument `i` (Cassandra's `arg0(system.fn)` bind spec).
    pub fn arg_receiver(&self, i: usize, keyspace: &str, table: &str) -> Receiver {
        Receiver::new(
            keyspace,
            table,
            format!("arg{i}({})", self.qualified_name().to_lowercase()),
            self.arg_types.get(i).cloned().unwrap_or(CqlType::Blob),
        )
    }

    /// The result column name of a call with arguments named `args`
    /// (`system.totimestamp(v)`, `cast(v as int)`, `a + b`, `-a`).
    pub fn column_name(&self, args: &[String]) -> String {
        match &self.body {
            Body::Cast => format!(
                "cast({} as {})",
                args.first().map(String::as_str).unwrap_or(""),
                self.return_type
            ),
            Body::Operation(op) => format!(
                "{} {} {}",
                args.first().map(String::as_str).unwrap_or(""),
                op_symbol(*op),
                args.get(1).map(String::as_str).unwrap_or("")
            ),
            Body::Negate => format!("-{}", args.first().map(String::as_str).unwrap_or("")),
            _ => format!("{}({})", self.qualified_name(), args.join(", ")),
        }
    }

    /// Calls the function (`None` arguments are nulls).
    pub fn call(
        &self,
        args: &[Option<Bytes>],
        options: &ExecOptions,
    ) -> Result<Option<Bytes>, QueryError> {
        if args.len() != self.arg_types.len() {
            return Err(QueryError::invalid(format!(
                "Invalid number of arguments in call to function {}: {} required but {} provided",
                self.qualified_name(),
                self.arg_types.len(),
                args.len()
            )));
        }
        let result = self.execute(args, options)?;
        if let Some(r) = &result {
            if validate(&self.return_type, r).is_err() {
                return Err(QueryError::server(format!(
                    "Return of function {} (0x{}) is not a valid value for its declared return type {}",
                    self.signature(),
                    native::to_hex(r),
                    self.return_type
                )));
            }
        }
        Ok(result)
    }

    fn failure(&self, message: String) -> QueryError {
        QueryError::FunctionFailure {
            keyspace: "system".to_string(),
            function: self.name.clone(),
            arg_types: self.arg_types.iter().map(|t| t.to_string()).collect(),
            message,
        }
    }

    fn execute(
        &self,
        args: &[Option<Bytes>],
        options: &ExecOptions,
    ) -> Result<Option<Bytes>, QueryError> {
        let arg = |i: usize| {
            args.get(i)
                .and_then(|a| a.as_ref())
                .filter(|b| !b.is_empty())
        };
        let arg_type = |i: usize| self.arg_types.get(i).cloned().unwrap_or(CqlType::Blob);
        let b = |v: &[u8]| Ok(Some(Bytes::copy_from_slice(v)));
        match &self.body {
            Body::Now(kind) => match kind {
                NowKind::Timeuuid => b(next_timeuuid(options.now_micros).as_bytes()),
                NowKind::Timestamp => b(&options.now_micros.div_euclid(1000).to_be_bytes()),
                NowKind::Date => {
                    let d = temporal::date_from_millis(options.now_micros.div_euclid(1000))
                        .map_err(QueryError::invalid)?;
                    b(&d.to_be_bytes())
                }
                NowKind::Time => {
                    let nanos = options.now_micros.rem_euclid(86_400_000_000) * 1000;
                    b(&nanos.to_be_bytes())
                }
            },
            Body::RandomUuid => b(uuid::Uuid::new_v4().as_bytes()),
            Body::MinTimeuuid | Body::MaxTimeuuid => {
                let Some(v) = arg(0) else { return Ok(None) };
                let millis = read_i64(v).map_err(|e| self.failure(e))?;
                let u = if self.body == Body::MinTimeuuid {
                    timeuuid_at(millis.wrapping_mul(10_000), MIN_CLOCK_SEQ_AND_NODE)
                } else {
                    timeuuid_at(
                        millis.wrapping_add(1).wrapping_mul(10_000).wrapping_sub(1),
                        MAX_CLOCK_SEQ_AND_NODE,
                    )
                };
                b(u.as_bytes())
            }
            Body::ToDate | Body::ToTimestamp | Body::ToUnixTimestamp => {
                let Some(v) = arg(0) else { return Ok(None) };
                let millis = temporal_millis(&arg_type(0), v).map_err(|e| self.failure(e))?;
                match self.body {
                    Body::ToDate => {
                        let d = temporal::date_from_millis(millis).map_err(QueryError::invalid)?;
                        b(&d.to_be_bytes())
                    }
                    _ => b(&millis.to_be_bytes()),
                }
            }
            Body::Floor => self.floor(args),
            Body::Identity => Ok(args.first().cloned().flatten()),
            Body::FromBlob => {
                let Some(v) = args.first().cloned().flatten() else {
                    return Ok(None);
                };
                if validate(&self.return_type, &v).is_err() {
                    return Err(QueryError::invalid(format!(
                        "In call to function {}, value 0x{} is not a valid binary representation for type {}",
                        self.qualified_name(),
                        native::to_hex(&v),
                        self.return_type
                    )));
                }
                Ok(Some(v))
            }
            Body::Cast => {
                let Some(v) = arg(0) else { return Ok(None) };
                cast_value(&arg_type(0), &self.return_type, v)
                    .map(Some)
                    .map_err(|e| self.failure(e))
            }
            Body::ToJson => {
                let v = args.first().and_then(|a| a.as_deref());
                let text = crate::json::to_json(&arg_type(0), v)?;
                Ok(Some(Bytes::from(text.into_bytes())))
            }
            Body::FromJson => {
                let Some(v) = args.first().cloned().flatten() else {
                    return Ok(None);
                };
                let text = std::str::from_utf8(&v)
                    .map_err(|_| QueryError::invalid("fromJson() argument is not valid UTF-8"))?;
                crate::json::from_json_function(&self.return_type, &self.qualified_name(), text)
            }
            Body::Operation(op) => {
                let (Some(l), Some(r)) = (
                    args.first().cloned().flatten(),
                    args.get(1).cloned().flatten(),
                ) else {
                    return Ok(None);
                };
                self.operation(*op, &l, &r).map(Some).map_err(|e| {
                    self.failure(format!(
                        "the operation '{} {} {}' failed: {e}",
                        arg_type(0),
                        op_symbol(*op),
                        arg_type(1)
                    ))
                })
            }
            Body::Negate => {
                let Some(v) = arg(0) else { return Ok(None) };
                let t = arg_type(0);
                let n = numeric::decode(&t, v).map_err(|e| self.failure(e))?;
                match n {
                    None => Ok(None),
                    Some(n) => numeric::negate(&t, &n)
                        .map(Some)
                        .map_err(|e| self.failure(e)),
                }
            }
            Body::Math(m) => {
                let Some(v) = arg(0) else { return Ok(None) };
                let t = arg_type(0);
                match numeric::decode(&t, v).map_err(|e| self.failure(e))? {
                    None => Ok(None),
                    Some(n) => math(*m, &t, &n).map(Some).map_err(|e| self.failure(e)),
                }
            }
        }
    }

    fn operation(&self, op: ast::ArithmeticOp, l: &[u8], r: &[u8]) -> Result<Bytes, String> {
        let (lt, rt) = (
            self.arg_types.first().cloned().unwrap_or(CqlType::Blob),
            self.arg_types.get(1).cloned().unwrap_or(CqlType::Blob),
        );
        if numeric::is_numeric(&lt) && numeric::is_numeric(&rt) {
            let (Some(a), Some(b)) = (numeric::decode(&lt, l)?, numeric::decode(&rt, r)?) else {
                return Err("empty numeric value".to_string());
            };
            return numeric::arithmetic(op, &self.return_type, &a, &b);
        }
        if matches!(lt, CqlType::Timestamp | CqlType::Date) && rt == CqlType::Duration {
            let d = read_duration(r)?;
            let sign = if op == ast::ArithmeticOp::Sub { -1 } else { 1 };
            if lt == CqlType::Timestamp {
                if d.nanos % 1_000_000 != 0 {
                    return Err(format!(
                        "The duration must have a millisecond precision. Was: {}",
                        temporal::format_duration(&d)
                    ));
                }
                let millis = read_i64(l)?;
                let out = temporal::add_duration_to_millis(millis, &d, sign)?;
                return Ok(Bytes::copy_from_slice(&out.to_be_bytes()));
            }
            if d.nanos != 0 {
                return Err(format!(
                    "The duration must have a day precision. Was: {}",
                    temporal::format_duration(&d)
                ));
            }
            let raw = u32::from_be_bytes(l.try_into().map_err(|_| "invalid date".to_string())?);
            let millis = temporal::millis_from_date(raw);
            let out = temporal::add_duration_to_millis(millis, &d, sign)?;
            let date = temporal::date_from_millis(out)?;
            return Ok(Bytes::copy_from_slice(&date.to_be_bytes()));
        }
        // String concatenation.
        let mut out = Vec::with_capacity(l.len() + r.len());
        out.extend_from_slice(l);
        out.extend_from_slice(r);
        Ok(Bytes::from(out))
    }

    fn floor(&self, args: &[Option<Bytes>]) -> Result<Option<Bytes>, QueryError> {
        let (Some(time), Some(duration)) = (
            args.first().cloned().flatten(),
            args.get(1).cloned().flatten(),
        ) else {
            return Ok(None);
        };
        let t = self
            .arg_types
            .first()
            .cloned()
            .unwrap_or(CqlType::Timestamp);
        let d = read_duration(&duration).map_err(|e| self.failure(e))?;
        if d.months < 0 || d.days < 0 || d.nanos < 0 {
            return Err(QueryError::invalid(
                "Negative durations are not supported by the floor function",
            ));
        }
        if t == CqlType::Time {
            if d.months != 0 || d.days != 0 {
                return Err(QueryError::invalid(format!(
                    "For time values, the floor can only be computed for durations smaller that a day. Was: {}",
                    temporal::format_duration(&d)
                )));
            }
            let nanos = read_i64(&time).map_err(|e| self.failure(e))?;
            let out = if d.nanos == 0 {
                nanos
            } else {
                nanos - nanos % d.nanos
            };
            return Ok(Some(Bytes::copy_from_slice(&out.to_be_bytes())));
        }
        if t == CqlType::Date && d.nanos != 0 {
            return Err(QueryError::invalid(format!(
                "The floor on date values cannot be computed for the {} duration as precision is below 1 day",
                temporal::format_duration(&d)
            )));
        }
        if d.nanos % 1_000_000 != 0 {
            return Err(QueryError::invalid(format!(
                "The floor cannot be computed for the {} duration as precision is below 1 millisecond",
                temporal::format_duration(&d)
            )));
        }
        let millis = temporal_millis(&t, &time).map_err(|e| self.failure(e))?;
        let start = match args.get(2).cloned().flatten() {
            Some(s) => temporal_millis(&t, &s).map_err(|e| self.failure(e))?,
            None => 0,
        };
        if start > millis {
            return Err(QueryError::invalid(
                "The floor function starting time is greater than the provided time",
            ));
        }
        let floor = floor_millis(millis, &d, start).map_err(|e| self.failure(e))?;
        if self.return_type == CqlType::Date {
            let date = temporal::date_from_millis(floor).map_err(QueryError::invalid)?;
            return Ok(Some(Bytes::copy_from_slice(&date.to_be_bytes())));
        }
        Ok(Some(Bytes::copy_from_slice(&floor.to_be_bytes())))
    }
}

/// Java's `Math.round(double)`: half up, saturating to the `long` range, NaN to 0.
fn java_round(x: f64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    let f = x.floor();
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    r as i64
}

/// A math function on a number of type `ty`, with Cassandra's per-type results: `abs` keeps
/// the type (the minimum of a fixed-size type stays itself, as Java's `Math.abs`), `exp`,
/// `log` and `log10` compute in doubles then convert back to the type, `round` rounds half
/// up to an integral value of the same type.
fn math(m: MathFn, ty: &CqlType, n: &numeric::Num) -> Result<Bytes, String> {
    use numeric::Num;
    match m {
        MathFn::Abs => match n {
            Num::Int(v) => numeric::encode_as(
                ty,
                &Num::Int(match ty {
                    CqlType::Tinyint => i64::from((*v as i8).wrapping_abs()),
                    CqlType::Smallint => i64::from((*v as i16).wrapping_abs()),
                    CqlType::Int => i64::from((*v as i32).wrapping_abs()),
                    _ => v.wrapping_abs(),
                }),
            ),
            Num::F32(v) => Ok(Bytes::copy_from_slice(&v.abs().to_be_bytes())),
            Num::F64(v) => Ok(Bytes::copy_from_slice(&v.abs().to_be_bytes())),
            Num::Big(v) => numeric::encode_as(ty, &Num::Big(num_traits::Signed::abs(v))),
            Num::Dec(d) => {
                let abs = if num_traits::Signed::is_negative(&d.unscaled) {
                    d.neg()
                } else {
                    d.clone()
                };
                Ok(Bytes::from(abs.to_bytes()))
            }
        },
        MathFn::Exp | MathFn::Log | MathFn::Log10 => {
            let x = n.double_value();
            let r = match m {
                MathFn::Exp => x.exp(),
                MathFn::Log => x.ln(),
                _ => x.log10(),
            };
            match ty {
                CqlType::Decimal => crate::terms::number::Decimal::from_f64(r)
                    .map(|d| Bytes::from(d.to_bytes()))
                    .ok_or_else(|| format!("Infinite or NaN result {r}")),
                CqlType::Varint => {
                    numeric::encode_as(ty, &Num::Int(crate::terms::number::f64_to_i64_java(r)))
                }
                _ => numeric::encode_as(ty, &Num::F64(r)),
            }
        }
        MathFn::Round => match (ty, n) {
            (CqlType::Float, Num::F32(v)) => {
                let r = if v.is_nan() {
                    0
                } else {
                    java_round(f64::from(*v)).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
                };
                Ok(Bytes::copy_from_slice(&(r as f32).to_be_bytes()))
            }
            (CqlType::Double, Num::F64(v)) => Ok(Bytes::copy_from_slice(
                &(java_round(*v) as f64).to_be_bytes(),
            )),
            (CqlType::Decimal, Num::Dec(d)) => {
                let one = crate::terms::number::Decimal::from_bigint(num_bigint::BigInt::from(1));
                let rounded = d.divide_to_scale(&one, 0, false)?;
                Ok(Bytes::from(rounded.to_bytes()))
            }
            _ => numeric::encode_as(ty, n),
        },
    }
}

/// Cassandra's `Duration.floorTimestamp`.
fn floor_millis(millis: i64, d: &temporal::Duration, start: i64) -> Result<i64, String> {
    if d.months == 0 {
        let duration_millis = i64::from(d.days) * temporal::MILLIS_PER_DAY + d.nanos / 1_000_000;
        if duration_millis == 0 {
            return Ok(millis);
        }
        let delta = (millis - start) % duration_millis;
        return Ok(millis - delta);
    }
    // Months: estimate the number of whole durations from the month difference, then step
    // back until the floor is not after the time.
    let (sy, sm, _) = temporal::civil_from_days(start.div_euclid(temporal::MILLIS_PER_DAY));
    let (ty, tm, _) = temporal::civil_from_days(millis.div_euclid(temporal::MILLIS_PER_DAY));
    let months_between = (ty - sy) * 12 + i64::from(tm) - i64::from(sm);
    let mut multiplier = (months_between / i64::from(d.months)).max(0);
    loop {
        let scaled = temporal::Duration {
            months: i32::try_from(multiplier * i64::from(d.months)).map_err(|_| "overflow")?,
            days: i32::try_from(multiplier * i64::from(d.days)).map_err(|_| "overflow")?,
            nanos: multiplier.checked_mul(d.nanos).ok_or("overflow")?,
        };
        let floor = temporal::add_duration_to_millis(start, &scaled, 1)?;
        if floor <= millis || multiplier == 0 {
            return Ok(floor);
        }
        multiplier -= 1;
    }
}

fn read_i64(v: &[u8]) -> Result<i64, String> {
    v.try_into()
        .map(i64::from_be_bytes)
        .map_err(|_| format!("Expected 8 bytes but got {}", v.len()))
}

fn read_duration(v: &[u8]) -> Result<temporal::Duration, String> {
    match meridian_types::value::CqlValue::deserialize(&CqlType::Duration, v) {
        Ok(meridian_types::value::CqlValue::Duration {
            months,
            days,
            nanos,
        }) => Ok(temporal::Duration {
            months,
            days,
            nanos,
        }),
        Ok(_) => Err("invalid duration".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// 100-ns intervals between 1582-10-15 (the UUID epoch) and 1970-01-01.
const UUID_EPOCH_OFFSET: i64 = 0x01B2_1DD2_1381_4000;

/// The clock sequence and node of `minTimeuuid`.
const MIN_CLOCK_SEQ_AND_NODE: u64 = 0x8080_8080_8080_8080;

/// The clock sequence and node of `maxTimeuuid`.
const MAX_CLOCK_SEQ_AND_NODE: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// A version 1 UUID from 100-ns ticks since the Unix epoch and its low 64 bits.
fn timeuuid_at(unix_ticks: i64, clock_seq_and_node: u64) -> uuid::Uuid {
    let ticks = unix_ticks.wrapping_add(UUID_EPOCH_OFFSET) as u64;
    let msb = ((ticks & 0xffff_ffff) << 32)
        | (((ticks >> 32) & 0xffff) << 16)
        | 0x1000
        | ((ticks >> 48) & 0x0fff);
    uuid::Uuid::from_u64_pair(msb, clock_seq_and_node)
}

/// Unix milliseconds of a version 1 UUID's timestamp.
pub fn timeuuid_unix_millis(bytes: &[u8]) -> Result<i64, String> {
    let b: [u8; 16] = bytes
        .try_into()
        .map_err(|_| format!("UUID should be 16 or 0 bytes ({})", bytes.len()))?;
    let ticks = (u64::from(b[6] & 0x0f) << 56)
        | (u64::from(b[7]) << 48)
        | (u64::from(b[4]) << 40)
        | (u64::from(b[5]) << 32)
        | u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    Ok((ticks as i64 - UUID_EPOCH_OFFSET) / 10_000)
}

/// Milliseconds since the epoch of a timestamp, date or timeuuid value.
fn temporal_millis(ty: &CqlType, v: &[u8]) -> Result<i64, String> {
    match ty {
        CqlType::Timestamp | CqlType::Bigint => read_i64(v),
        CqlType::Date => Ok(temporal::millis_from_date(u32::from_be_bytes(
            v.try_into().map_err(|_| "invalid date".to_string())?,
        ))),
        CqlType::Timeuuid => timeuuid_unix_millis(v),
        other => Err(format!("{other} is not a temporal type")),
    }
}

/// Process-wide state of `now()`: the last 100-ns tick handed out, and random low bits.
static LAST_TIMEUUID_TICKS: AtomicI64 = AtomicI64::new(0);
static CLOCK_SEQ_AND_NODE: OnceLock<u64> = OnceLock::new();

/// A new, unique, time-ordered version 1 UUID at `now_micros` (ticks increase strictly
/// across calls, as Cassandra's `TimeUUID.Generator`).
pub fn next_timeuuid(now_micros: i64) -> uuid::Uuid {
    let ticks = now_micros.saturating_mul(10);
    let mut last = LAST_TIMEUUID_TICKS.load(AtomicOrdering::Relaxed);
    let chosen = loop {
        let next = ticks.max(last.saturating_add(1));
        match LAST_TIMEUUID_TICKS.compare_exchange_weak(
            last,
            next,
            AtomicOrdering::AcqRel,
            AtomicOrdering::Relaxed,
        ) {
            Ok(_) => break next,
            Err(actual) => last = actual,
        }
    };
    let low = *CLOCK_SEQ_AND_NODE.get_or_init(|| {
        let random = uuid::Uuid::new_v4().as_u64_pair().1;
        // RFC 4122 variant bits; multicast bit set on the random node.
        (random & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000 | 0x0000_0100_0000_0000
    });
    timeuuid_at(chosen, low)
}

/// Converts a value for `CAST(x AS to)`.
fn cast_value(from: &CqlType, to: &CqlType, v: &[u8]) -> Result<Bytes, String> {
    if matches!(to, CqlType::Text | CqlType::Ascii) {
        return native::to_text(from, v).map(|s| Bytes::from(s.into_bytes()));
    }
    if numeric::is_numeric(from) {
        return match numeric::decode(from, v)? {
            Some(n) => numeric::cast(to, &n),
            None => Ok(Bytes::new()),
        };
    }
    let millis = temporal_millis(from, v)?;
    match to {
        CqlType::Date => Ok(Bytes::copy_from_slice(
            &temporal::date_from_millis(millis)?.to_be_bytes(),
        )),
        CqlType::Timestamp => Ok(Bytes::copy_from_slice(&millis.to_be_bytes())),
        other => Err(format!("cannot cast {from} to {other}")),
    }
}

/// Every native type with the name Cassandra uses in `xAsBlob` / `blobAsX`.
const BLOB_CONVERSION_TYPES: [(&str, CqlType); 19] = [
    ("ascii", CqlType::Ascii),
    ("bigint", CqlType::Bigint),
    ("boolean", CqlType::Boolean),
    ("counter", CqlType::Counter),
    ("date", CqlType::Date),
    ("decimal", CqlType::Decimal),
    ("double", CqlType::Double),
    ("duration", CqlType::Duration),
    ("float", CqlType::Float),
    ("inet", CqlType::Inet),
    ("int", CqlType::Int),
    ("smallint", CqlType::Smallint),
    ("text", CqlType::Text),
    ("time", CqlType::Time),
    ("timestamp", CqlType::Timestamp),
    ("timeuuid", CqlType::Timeuuid),
    ("tinyint", CqlType::Tinyint),
    ("uuid", CqlType::Uuid),
    ("varint", CqlType::Varint),
];

/// The cast functions from each source type, as Cassandra's `CastFcts` declares them.
fn cast_overloads(to: &CqlType) -> Vec<CqlType> {
    use CqlType as T;
    let mut from = Vec::new();
    let numeric_targets = [
        T::Tinyint,
        T::Smallint,
        T::Int,
        T::Bigint,
        T::Float,
        T::Double,
        T::Decimal,
        T::Varint,
    ];
    if numeric_targets.contains(to) {
        from.extend(numeric::NUMERIC_TYPES.iter().filter(|t| *t != to).cloned());
    }
    if matches!(to, T::Ascii | T::Text) {
        from.extend(numeric::NUMERIC_TYPES.iter().cloned());
        from.extend([
            T::Inet,
            T::Boolean,
            T::Timeuuid,
            T::Timestamp,
            T::Date,
            T::Time,
            T::Uuid,
        ]);
        if *to == T::Text {
            from.push(T::Ascii);
        }
    }
    match to {
        T::Date => from.extend([T::Timeuuid, T::Timestamp]),
        T::Timestamp => from.extend([T::Timeuuid, T::Date]),
        _ => {}
    }
    from
}

/// The native overloads of a function name (factories such as `tojson`/`fromjson` are
/// handled by the resolver).
fn native_overloads(name: &str) -> Vec<ScalarFn> {
    use CqlType as T;
    let f = |args: Vec<CqlType>, ret: CqlType, body: Body| ScalarFn::new(name, args, ret, body);
    match name {
        "now" | "current_timeuuid" | "currenttimeuuid" => {
            vec![f(vec![], T::Timeuuid, Body::Now(NowKind::Timeuuid))]
        }
        "current_timestamp" | "currenttimestamp" => {
            vec![f(vec![], T::Timestamp, Body::Now(NowKind::Timestamp))]
        }
        "current_date" | "currentdate" => vec![f(vec![], T::Date, Body::Now(NowKind::Date))],
        "current_time" | "currenttime" => vec![f(vec![], T::Time, Body::Now(NowKind::Time))],
        "uuid" => vec![f(vec![], T::Uuid, Body::RandomUuid)],
        "min_timeuuid" | "mintimeuuid" => {
            vec![f(vec![T::Timestamp], T::Timeuuid, Body::MinTimeuuid)]
        }
        "max_timeuuid" | "maxtimeuuid" => {
            vec![f(vec![T::Timestamp], T::Timeuuid, Body::MaxTimeuuid)]
        }
        "to_date" | "todate" => vec![
            f(vec![T::Timeuuid], T::Date, Body::ToDate),
            f(vec![T::Timestamp], T::Date, Body::ToDate),
        ],
        "to_timestamp" | "totimestamp" => vec![
            f(vec![T::Timeuuid], T::Timestamp, Body::ToTimestamp),
            f(vec![T::Date], T::Timestamp, Body::ToTimestamp),
        ],
        "to_unix_timestamp" | "tounixtimestamp" => vec![
            f(vec![T::Timeuuid], T::Bigint, Body::ToUnixTimestamp),
            f(vec![T::Timestamp], T::Bigint, Body::ToUnixTimestamp),
            f(vec![T::Date], T::Bigint, Body::ToUnixTimestamp),
        ],
        "dateof" => vec![f(vec![T::Timeuuid], T::Timestamp, Body::ToTimestamp)],
        "unixtimestampof" => vec![f(vec![T::Timeuuid], T::Bigint, Body::ToUnixTimestamp)],
        "floor" => vec![
            f(vec![T::Timestamp, T::Duration], T::Timestamp, Body::Floor),
            f(
                vec![T::Timestamp, T::Duration, T::Timestamp],
                T::Timestamp,
                Body::Floor,
            ),
            f(vec![T::Timeuuid, T::Duration], T::Timestamp, Body::Floor),
            f(
                vec![T::Timeuuid, T::Duration, T::Timestamp],
                T::Timestamp,
                Body::Floor,
            ),
            f(vec![T::Date, T::Duration], T::Date, Body::Floor),
            f(vec![T::Date, T::Duration, T::Date], T::Date, Body::Floor),
            f(vec![T::Time, T::Duration], T::Time, Body::Floor),
        ],
        "varcharasblob" => vec![f(vec![T::Text], T::Blob, Body::Identity)],
        "blobasvarchar" => vec![f(vec![T::Blob], T::Text, Body::FromBlob)],
        NEGATION_FUNCTION => numeric::NUMERIC_TYPES
            .iter()
            .map(|t| f(vec![t.clone()], t.clone(), Body::Negate))
            .collect(),
        "abs" | "exp" | "log" | "log10" | "round" => {
            let m = match name {
                "abs" => MathFn::Abs,
                "exp" => MathFn::Exp,
                "log" => MathFn::Log,
                "log10" => MathFn::Log10,
                _ => MathFn::Round,
            };
            numeric::NUMERIC_TYPES
                .iter()
                .map(|t| f(vec![t.clone()], t.clone(), Body::Math(m)))
                .collect()
        }
        _ => {
            if let Some(op) = operator_of(name) {
                let mut out = Vec::new();
                for l in &numeric::NUMERIC_TYPES {
                    for r in &numeric::NUMERIC_TYPES {
                        out.push(f(
                            vec![l.clone(), r.clone()],
                            numeric::operation_return_type(l, r),
                            Body::Operation(op),
                        ));
                    }
                }
                if matches!(op, ast::ArithmeticOp::Add | ast::ArithmeticOp::Sub) {
                    for t in [T::Timestamp, T::Date] {
                        out.push(f(vec![t.clone(), T::Duration], t, Body::Operation(op)));
                    }
                }
                if op == ast::ArithmeticOp::Add {
                    out.push(f(vec![T::Text, T::Text], T::Text, Body::Operation(op)));
                    out.push(f(vec![T::Ascii, T::Ascii], T::Ascii, Body::Operation(op)));
                    out.push(f(vec![T::Ascii, T::Text], T::Text, Body::Operation(op)));
                    out.push(f(vec![T::Text, T::Ascii], T::Text, Body::Operation(op)));
                }
                return out;
            }
            if let Some(target) = name.strip_prefix("cast_as_") {
                let to = BLOB_CONVERSION_TYPES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(target))
                    .map(|(_, t)| t.clone());
                return match to {
                    Some(to) => cast_overloads(&to)
                        .into_iter()
                        .map(|from| {
                            let body = if from == T::Ascii && to == T::Text {
                                Body::Identity
                            } else {
                                Body::Cast
                            };
                            f(vec![from], to.clone(), body)
                        })
                        .collect(),
                    None => Vec::new(),
                };
            }
            if let Some(t) = name.strip_suffix("asblob") {
                if let Some((_, ty)) = BLOB_CONVERSION_TYPES.iter().find(|(n, _)| *n == t) {
                    return vec![f(vec![ty.clone()], T::Blob, Body::Identity)];
                }
            }
            if let Some(t) = name.strip_prefix("blobas") {
                if let Some((_, ty)) = BLOB_CONVERSION_TYPES.iter().find(|(n, _)| *n == t) {
                    return vec![f(vec![T::Blob], ty.clone(), Body::FromBlob)];
                }
            }
            Vec::new()
        }
    }
}

/// Whether a native scalar function called `name` exists (any overload).
pub fn exists(name: &str) -> bool {
    matches!(name, "tojson" | "to_json" | "fromjson" | "from_json")
        || !native_overloads(name).is_empty()
}

/// How an argument fits a parameter type.
fn arg_assignability(arg: &ArgInfo<'_>, expected: &CqlType, scope: &Scope<'_>) -> Assignability {
    match arg {
        ArgInfo::Typed { ty, .. } => terms::type_assignability(expected, ty),
        ArgInfo::Term(t) => terms::test_assignment(t, expected, scope.keyspace, scope.schema),
    }
}

/// Resolves a scalar function call: `Ok(None)` when no function has that name (the caller
/// reports "Unknown function ..."), errors for calls no overload accepts.
pub fn resolve_scalar(
    name: &ast::FunctionName,
    args: &[ArgInfo<'_>],
    receiver_type: Option<&CqlType>,
    scope: &Scope<'_>,
) -> Result<Option<ScalarFn>, QueryError> {
    if let Some(ks) = &name.keyspace {
        if ks.as_str() != "system" {
            return Ok(None);
        }
    }
    let bare = name.name.as_str();
    let display_name = name.to_string();
    // Factories.
    if matches!(bare, "tojson" | "to_json") {
        if args.len() != 1 {
            return Err(QueryError::invalid(format!(
                "{bare}() only accepts one argument (got {})",
                args.len()
            )));
        }
        let ty = match &args[0] {
            ArgInfo::Typed { ty, .. } => ty.clone(),
            ArgInfo::Term(t) => terms::compatible_type(t, scope.keyspace, scope.schema)
                .ok_or_else(|| {
                    QueryError::invalid(format!(
                        "Cannot infer type of argument {} in call to function system.{bare}: use type casts to disambiguate",
                        terms::term_text(t)
                    ))
                })?,
        };
        return Ok(Some(ScalarFn::new(
            bare,
            vec![ty],
            CqlType::Text,
            Body::ToJson,
        )));
    }
    if matches!(bare, "fromjson" | "from_json") {
        let Some(receiver) = receiver_type else {
            return Err(QueryError::invalid(format!(
                "{bare}() cannot be used in the selection clause of a SELECT statement"
            )));
        };
        let f = ScalarFn::new(bare, vec![CqlType::Text], receiver.clone(), Body::FromJson);
        validate_types(&f, args, scope)?;
        return Ok(Some(f));
    }
    let candidates = native_overloads(bare);
    if candidates.is_empty() {
        return Ok(None);
    }
    if candidates.len() == 1 {
        let f = candidates
            .into_iter()
            .next()
            .ok_or_else(|| QueryError::server("no candidate"))?;
        validate_types(&f, args, scope)?;
        return Ok(Some(f));
    }
    let is_operation = operator_of(bare).is_some();
    let mut compatibles: Vec<ScalarFn> = Vec::new();
    for f in &candidates {
        if let Some(receiver) = receiver_type {
            if !terms::type_assignability(receiver, &f.return_type).is_assignable() {
                continue;
            }
        }
        if f.arg_types.len() != args.len() {
            continue;
        }
        let result = matches_arguments(f, args, scope);
        match result {
            Assignability::Exact => return Ok(Some(f.clone())),
            Assignability::Weak => compatibles.push(f.clone()),
            Assignability::No => {}
        }
    }
    let format = |fs: &[ScalarFn]| {
        fs.iter()
            .map(ScalarFn::signature)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match compatibles.len() {
        0 => {
            if let (true, Some(a), Some(b)) = (is_operation, args.first(), args.get(1)) {
                let op = operator_of(bare).map(op_symbol).unwrap_or('?');
                return Err(QueryError::invalid(format!(
                    "the '{op}' operation is not supported between {} and {}",
                    a.text(),
                    b.text()
                )));
            }
            Err(QueryError::invalid(format!(
                "Invalid call to function {display_name}, none of its type signatures match (known type signatures: {})",
                format(&candidates)
            )))
        }
        1 => Ok(compatibles.pop()),
        _ => {
            if is_operation {
                if let Some(receiver) = receiver_type {
                    if !args.iter().any(ArgInfo::is_marker) {
                        if let Some(f) = compatibles
                            .iter()
                            .find(|f| f.arg_types.iter().all(|t| t == receiver.unfrozen()))
                        {
                            return Ok(Some(f.clone()));
                        }
                    }
                }
                let op = operator_of(bare).map(op_symbol).unwrap_or('?');
                let text = |i: usize| args.get(i).map(ArgInfo::text).unwrap_or_default();
                return Err(QueryError::invalid(format!(
                    "Ambiguous '{op}' operation with args {} and {}: use type hint to disambiguate, example '(int) ?'",
                    text(0),
                    text(1)
                )));
            }
            if bare == NEGATION_FUNCTION {
                return Err(QueryError::invalid(
                    "Ambiguous negation: use type casts to disambiguate",
                ));
            }
            Err(QueryError::invalid(format!(
                "Ambiguous call to function {display_name} (can be matched by following signatures: {}): use type casts to disambiguate",
                format(&compatibles)
            )))
        }
    }
}

fn matches_arguments(f: &ScalarFn, args: &[ArgInfo<'_>], scope: &Scope<'_>) -> Assignability {
    let mut result = Assignability::Exact;
    for (arg, expected) in args.iter().zip(&f.arg_types) {
        match arg_assignability(arg, expected, scope) {
            Assignability::No => return Assignability::No,
            Assignability::Weak => result = Assignability::Weak,
            Assignability::Exact => {}
        }
    }
    result
}

/// Cassandra's `validateTypes` for a single candidate.
fn validate_types(f: &ScalarFn, args: &[ArgInfo<'_>], scope: &Scope<'_>) -> Result<(), QueryError> {
    if args.len() != f.arg_types.len() {
        return Err(QueryError::invalid(format!(
            "Invalid number of arguments in call to function {}: {} required but {} provided",
            f.qualified_name(),
            f.arg_types.len(),
            args.len()
        )));
    }
    for (i, (arg, expected)) in args.iter().zip(&f.arg_types).enumerate() {
        if !arg_assignability(arg, expected, scope).is_assignable() {
            return Err(QueryError::invalid(format!(
                "Type error: {} cannot be passed as argument {i} of function {} of type {expected}",
                arg.text(),
                f.qualified_name()
            )));
        }
    }
    Ok(())
}

/// Resolves scalar function `name` (optionally `system.`-qualified, lower-case) for
/// arguments of types `arg_types` (`None`: a value whose type is not known, such as a bind
/// marker, which fits any parameter). Unknown names give Cassandra's
/// `Unknown function '<name>'`.
pub fn scalar(name: &str, arg_types: &[Option<CqlType>]) -> Result<ScalarFn, QueryError> {
    let (keyspace, bare) = match name.split_once('.') {
        Some((ks, n)) => (Some(ast::Identifier::new(ks)), n),
        None => (None, name),
    };
    let fname = ast::FunctionName {
        keyspace,
        name: ast::Identifier::new(bare),
    };
    let marker = ast::Term::BindMarker(ast::BindMarker {
        index: 0,
        name: None,
    });
    let args: Vec<ArgInfo<'_>> = arg_types
        .iter()
        .map(|t| match t {
            Some(ty) => ArgInfo::Typed {
                text: ty.to_string(),
                ty: ty.clone(),
            },
            None => ArgInfo::Term(&marker),
        })
        .collect();
    let scope = Scope {
        keyspace: "",
        schema: terms::empty_schema(),
        receiver_keyspace: "",
        receiver_table: "",
    };
    resolve_scalar(&fname, &args, None, &scope)?
        .ok_or_else(|| QueryError::invalid(format!("Unknown function '{name}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(ty: CqlType) -> Option<CqlType> {
        Some(ty)
    }

    fn opts() -> ExecOptions {
        let mut o = ExecOptions::new();
        o.now_micros = 1_704_103_200_000_000; // 2024-01-01 10:00:00 UTC
        o
    }

    #[test]
    fn resolution_by_argument_types() {
        let f = scalar("totimestamp", &[typed(CqlType::Date)]);
        assert_eq!(
            f.as_ref().map(|f| f.return_type.clone()),
            Ok(CqlType::Timestamp)
        );
        assert_eq!(
            f.map(|f| f.signature()),
            Ok("system.totimestamp : (date) -> timestamp".to_string())
        );
        let err = scalar("tounixtimestamp", &[typed(CqlType::Text)])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err,
            Some("Invalid call to function tounixtimestamp, none of its type signatures match (known type signatures: system.tounixtimestamp : (timeuuid) -> bigint, system.tounixtimestamp : (timestamp) -> bigint, system.tounixtimestamp : (date) -> bigint)".to_string())
        );
        let err = scalar("totimestamp", &[None]).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.starts_with("Ambiguous call to function totimestamp")));
        assert_eq!(
            scalar("foo", &[]).err().map(|e| e.to_string()),
            Some("Unknown function 'foo'".to_string())
        );
        assert_eq!(
            scalar("now", &[typed(CqlType::Int)]).err().map(|e| e.to_string()),
            Some("Invalid number of arguments in call to function system.now: 0 required but 1 provided".to_string())
        );
        assert_eq!(
            scalar("mintimeuuid", &[typed(CqlType::Text)]).err().map(|e| e.to_string()),
            Some("Type error: text cannot be passed as argument 0 of function system.mintimeuuid of type timestamp".to_string())
        );
        // blob accepts any value.
        assert!(scalar("blobasint", &[typed(CqlType::Int)]).is_ok());
        assert!(scalar("ks.now", &[]).is_err());
        assert!(scalar("system.now", &[]).is_ok());
    }

    #[test]
    fn operators_follow_the_return_type_table() {
        let add = scalar("_add", &[typed(CqlType::Int), typed(CqlType::Bigint)]);
        assert_eq!(add.map(|f| f.return_type), Ok(CqlType::Bigint));
        let sub = scalar(
            "_substract",
            &[typed(CqlType::Timestamp), typed(CqlType::Duration)],
        );
        assert_eq!(sub.map(|f| f.return_type), Ok(CqlType::Timestamp));
        let err = scalar("_add", &[typed(CqlType::Boolean), typed(CqlType::Int)]).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("the '+' operation is not supported between boolean and int".to_string())
        );
        let concat = scalar("_add", &[typed(CqlType::Text), typed(CqlType::Ascii)]);
        assert_eq!(concat.map(|f| f.return_type), Ok(CqlType::Text));
    }

    #[test]
    fn time_functions() {
        let o = opts();
        let now_ts = scalar("currenttimestamp", &[]).and_then(|f| f.call(&[], &o));
        assert_eq!(
            now_ts,
            Ok(Some(Bytes::copy_from_slice(
                &1_704_103_200_000i64.to_be_bytes()
            )))
        );
        let date = scalar("current_date", &[]).and_then(|f| f.call(&[], &o));
        assert_eq!(
            date,
            Ok(Some(Bytes::copy_from_slice(
                &((1u32 << 31) + 19_723).to_be_bytes()
            )))
        );
        let time = scalar("currenttime", &[]).and_then(|f| f.call(&[], &o));
        assert_eq!(
            time,
            Ok(Some(Bytes::copy_from_slice(
                &36_000_000_000_000i64.to_be_bytes()
            )))
        );
        // now() is unique and time-ordered, and converts back to its time.
        let now = scalar("now", &[]);
        let a = now.clone().and_then(|f| f.call(&[], &o));
        let b = now.and_then(|f| f.call(&[], &o));
        assert_ne!(a, b);
        let a = a.ok().flatten().unwrap_or_default();
        assert_eq!(a[6] >> 4, 1);
        assert_eq!(timeuuid_unix_millis(&a), Ok(1_704_103_200_000));
        let min = scalar("mintimeuuid", &[typed(CqlType::Timestamp)])
            .and_then(|f| f.call(&[Some(Bytes::copy_from_slice(&1_000i64.to_be_bytes()))], &o))
            .ok()
            .flatten()
            .unwrap_or_default();
        let max = scalar("maxtimeuuid", &[typed(CqlType::Timestamp)])
            .and_then(|f| f.call(&[Some(Bytes::copy_from_slice(&1_000i64.to_be_bytes()))], &o))
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(timeuuid_unix_millis(&min), Ok(1_000));
        assert_eq!(timeuuid_unix_millis(&max), Ok(1_000));
        assert_eq!(
            meridian_types::cql_type::compare(&CqlType::Timeuuid, &min, &max),
            std::cmp::Ordering::Less
        );
        let to_date = scalar("todate", &[typed(CqlType::Timestamp)])
            .and_then(|f| f.call(&[Some(Bytes::copy_from_slice(&(-1i64).to_be_bytes()))], &o));
        assert_eq!(
            to_date,
            Ok(Some(Bytes::copy_from_slice(
                &((1u32 << 31) - 1).to_be_bytes()
            )))
        );
        let null = scalar("todate", &[typed(CqlType::Timestamp)]).and_then(|f| f.call(&[None], &o));
        assert_eq!(null, Ok(None));
    }

    #[test]
    fn blob_conversions_and_casts() {
        let o = opts();
        let bad = scalar("blobasint", &[typed(CqlType::Blob)])
            .and_then(|f| f.call(&[Some(Bytes::from_static(&[1, 2]))], &o));
        assert_eq!(
            bad.err().map(|e| e.to_string()),
            Some("In call to function system.blobasint, value 0x0102 is not a valid binary representation for type int".to_string())
        );
        let good = scalar("intasblob", &[typed(CqlType::Int)])
            .and_then(|f| f.call(&[Some(Bytes::from_static(&[0, 0, 0, 1]))], &o));
        assert_eq!(good, Ok(Some(Bytes::from_static(&[0, 0, 0, 1]))));
        let cast = scalar(&cast_function_name("text"), &[typed(CqlType::Double)])
            .and_then(|f| f.call(&[Some(Bytes::copy_from_slice(&1e10f64.to_be_bytes()))], &o));
        assert_eq!(cast, Ok(Some(Bytes::from_static(b"1.0E10"))));
        let cast = scalar(&cast_function_name("int"), &[typed(CqlType::Double)]);
        assert_eq!(
            cast.as_ref().map(|f| f.column_name(&["v".into()])),
            Ok("cast(v as int)".to_string())
        );
        let cast =
            cast.and_then(|f| f.call(&[Some(Bytes::copy_from_slice(&3.9f64.to_be_bytes()))], &o));
        assert_eq!(cast, Ok(Some(Bytes::copy_from_slice(&3i32.to_be_bytes()))));
        assert!(scalar(&cast_function_name("inet"), &[typed(CqlType::Int)]).is_err());
        let ts = scalar(&cast_function_name("timestamp"), &[typed(CqlType::Date)]).and_then(|f| {
            f.call(
                &[Some(Bytes::copy_from_slice(&(1u32 << 31).to_be_bytes()))],
                &o,
            )
        });
        assert_eq!(ts, Ok(Some(Bytes::copy_from_slice(&0i64.to_be_bytes()))));
    }

    #[test]
    fn operations_execute_with_cassandra_errors() {
        let o = opts();
        let div = scalar("_divide", &[typed(CqlType::Int), typed(CqlType::Int)]);
        let err = div.and_then(|f| {
            f.call(
                &[
                    Some(Bytes::from_static(&[0, 0, 0, 1])),
                    Some(Bytes::from_static(&[0, 0, 0, 0])),
                ],
                &o,
            )
        });
        assert_eq!(
            err.err().map(|e| e.to_string()),
            Some("the operation 'int / int' failed: / by zero".to_string())
        );
        let day = temporal::parse_duration("1d").ok();
        let day = day.map(|d| {
            meridian_types::value::CqlValue::Duration {
                months: d.months,
                days: d.days,
                nanos: d.nanos,
            }
            .to_bytes()
        });
        let add = scalar("_add", &[typed(CqlType::Date), typed(CqlType::Duration)]).and_then(|f| {
            f.call(
                &[
                    Some(Bytes::copy_from_slice(&(1u32 << 31).to_be_bytes())),
                    day.clone(),
                ],
                &o,
            )
        });
        assert_eq!(
            add,
            Ok(Some(Bytes::copy_from_slice(
                &((1u32 << 31) + 1).to_be_bytes()
            )))
        );
        let hour = temporal::parse_duration("1h").ok().map(|d| {
            meridian_types::value::CqlValue::Duration {
                months: d.months,
                days: d.days,
                nanos: d.nanos,
            }
            .to_bytes()
        });
        let bad = scalar("_add", &[typed(CqlType::Date), typed(CqlType::Duration)]).and_then(|f| {
            f.call(
                &[
                    Some(Bytes::copy_from_slice(&(1u32 << 31).to_be_bytes())),
                    hour,
                ],
                &o,
            )
        });
        assert_eq!(
            bad.err().map(|e| e.to_string()),
            Some("the operation 'date + duration' failed: The duration must have a day precision. Was: 1h".to_string())
        );
        let concat = scalar("_add", &[typed(CqlType::Text), typed(CqlType::Text)]).and_then(|f| {
            f.call(
                &[
                    Some(Bytes::from_static(b"ab")),
                    Some(Bytes::from_static(b"cd")),
                ],
                &o,
            )
        });
        assert_eq!(concat, Ok(Some(Bytes::from_static(b"abcd"))));
        let null = scalar("_add", &[typed(CqlType::Int), typed(CqlType::Int)])
            .and_then(|f| f.call(&[None, Some(Bytes::from_static(&[0, 0, 0, 1]))], &o));
        assert_eq!(null, Ok(None));
    }

    #[test]
    fn math_functions() {
        let o = opts();
        let call = |name: &str, ty: CqlType, v: Bytes| {
            scalar(name, &[Some(ty)]).and_then(|f| f.call(&[Some(v)], &o))
        };
        let int = |v: i32| Bytes::copy_from_slice(&v.to_be_bytes());
        let double = |v: f64| Bytes::copy_from_slice(&v.to_be_bytes());
        assert_eq!(call("abs", CqlType::Int, int(-5)), Ok(Some(int(5))));
        assert_eq!(
            call("abs", CqlType::Int, int(i32::MIN)),
            Ok(Some(int(i32::MIN)))
        );
        assert_eq!(
            call("round", CqlType::Double, double(-2.5)),
            Ok(Some(double(-2.0)))
        );
        assert_eq!(
            call("round", CqlType::Double, double(2.5)),
            Ok(Some(double(3.0)))
        );
        assert_eq!(call("exp", CqlType::Int, int(1)), Ok(Some(int(2))));
        assert_eq!(
            call("log10", CqlType::Double, double(1000.0)),
            Ok(Some(double(3.0)))
        );
        let dec = |s: &str| {
            Bytes::from(
                crate::terms::number::Decimal::parse(s)
                    .map(|d| d.to_bytes())
                    .unwrap_or_default(),
            )
        };
        assert_eq!(
            call("round", CqlType::Decimal, dec("2.5")),
            Ok(Some(dec("3")))
        );
        assert_eq!(
            call("abs", CqlType::Decimal, dec("-2.50")),
            Ok(Some(dec("2.50")))
        );
        // An integer literal resolves to the int overload.
        let lit = ast::Term::Constant(ast::Constant::Integer("-3".into()));
        let schema = Schema::new();
        let scope = Scope {
            keyspace: "",
            schema: &schema,
            receiver_keyspace: "",
            receiver_table: "",
        };
        let name = ast::FunctionName {
            keyspace: None,
            name: ast::Identifier::new("abs"),
        };
        let f = resolve_scalar(&name, &[ArgInfo::Term(&lit)], None, &scope);
        assert_eq!(f.ok().flatten().map(|f| f.return_type), Some(CqlType::Int));
    }

    #[test]
    fn floor_function() {
        let o = opts();
        let five_minutes = temporal::parse_duration("5m").ok().map(|d| {
            meridian_types::value::CqlValue::Duration {
                months: d.months,
                days: d.days,
                nanos: d.nanos,
            }
            .to_bytes()
        });
        let t = 1_704_103_432_123i64; // 10:03:52.123
        let floor = scalar(
            "floor",
            &[typed(CqlType::Timestamp), typed(CqlType::Duration)],
        )
        .and_then(|f| {
            f.call(
                &[Some(Bytes::copy_from_slice(&t.to_be_bytes())), five_minutes],
                &o,
            )
        });
        assert_eq!(
            floor,
            Ok(Some(Bytes::copy_from_slice(
                &1_704_103_200_000i64.to_be_bytes()
            )))
        );
        let month = temporal::parse_duration("1mo").ok().map(|d| {
            meridian_types::value::CqlValue::Duration {
                months: d.months,
                days: d.days,
                nanos: d.nanos,
            }
            .to_bytes()
        });
        let floor = scalar(
            "floor",
            &[typed(CqlType::Timestamp), typed(CqlType::Duration)],
        )
        .and_then(|f| f.call(&[Some(Bytes::copy_from_slice(&t.to_be_bytes())), month], &o));
        let jan1 = temporal::days_from_civil(2024, 1, 1) * temporal::MILLIS_PER_DAY;
        assert_eq!(floor, Ok(Some(Bytes::copy_from_slice(&jan1.to_be_bytes()))));
    }
}
