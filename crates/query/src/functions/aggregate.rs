//! Cassandra's native aggregates (`AggregateFcts`): `count(*)`, `count(x)`, `min`, `max`
//! for every type, `sum` and `avg` for the numeric types, with Cassandra's result types and
//! arithmetic: fixed-size integer sums wrap like Java's, `avg` of integers is an integer
//! (truncated, computed without overflow), floating point sums use Kahan summation,
//! `decimal` and `varint` are exact. An aggregate over no rows gives 0 for `count`, `sum`
//! and `avg`, and null for `min` and `max`.
//!
//! Invariants: aggregates hold a bounded state (numbers, or one value for `min`/`max`) and
//! never panic on malformed input (it is an error).

use std::cmp::Ordering;

use bytes::Bytes;
use meridian_types::cql_type::{compare, CqlType};
use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};

use super::numeric::{decode, Num};
use crate::error::QueryError;
use crate::terms::number::{varint_to_bytes, Decimal};

/// An aggregate being computed over the rows of a group.
pub trait Aggregate: Send {
    /// Adds one input value (`None` = null, ignored by every aggregate but `count(*)`).
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError>;
    /// The aggregate's result so far (`None` = null).
    fn finish(&self) -> Option<Bytes>;
}

fn bad_input(e: String) -> QueryError {
    QueryError::invalid(e)
}

/// `count(*)` / `count(1)`: counts rows, whatever the value.
#[derive(Default)]
pub struct CountRows {
    count: i64,
}

impl Aggregate for CountRows {
    fn add(&mut self, _value: Option<&[u8]>) -> Result<(), QueryError> {
        self.count = self.count.saturating_add(1);
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        Some(Bytes::copy_from_slice(&self.count.to_be_bytes()))
    }
}

/// `count(x)`: counts non-null values.
#[derive(Default)]
struct Count {
    count: i64,
}

impl Aggregate for Count {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        if value.is_some() {
            self.count = self.count.saturating_add(1);
        }
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        Some(Bytes::copy_from_slice(&self.count.to_be_bytes()))
    }
}

/// `min(x)` / `max(x)` by the type's comparator.
struct Extreme {
    ty: CqlType,
    keep: Ordering,
    best: Option<Bytes>,
}

impl Aggregate for Extreme {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        let Some(v) = value else { return Ok(()) };
        let replace = match &self.best {
            None => true,
            Some(best) => compare(&self.ty, v, best) == self.keep,
        };
        if replace {
            self.best = Some(Bytes::copy_from_slice(v));
        }
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        self.best.clone()
    }
}

/// Sums of fixed-size integers, wrapping in the type's width (Java `+=` on the type).
struct IntSum {
    ty: CqlType,
    sum: i64,
}

impl IntSum {
    fn encode(ty: &CqlType, v: i64) -> Bytes {
        match ty {
            CqlType::Tinyint => Bytes::copy_from_slice(&(v as i8).to_be_bytes()),
            CqlType::Smallint => Bytes::copy_from_slice(&(v as i16).to_be_bytes()),
            CqlType::Int => Bytes::copy_from_slice(&(v as i32).to_be_bytes()),
            _ => Bytes::copy_from_slice(&v.to_be_bytes()),
        }
    }
}

impl Aggregate for IntSum {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        let Some(v) = value else { return Ok(()) };
        if let Some(n) = decode(&self.ty, v).map_err(bad_input)? {
            self.sum = match self.ty {
                CqlType::Tinyint => i64::from((self.sum as i8).wrapping_add(n.byte_value())),
                CqlType::Smallint => i64::from((self.sum as i16).wrapping_add(n.short_value())),
                CqlType::Int => i64::from((self.sum as i32).wrapping_add(n.int_value())),
                _ => self.sum.wrapping_add(n.long_value()),
            };
        }
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        Some(IntSum::encode(&self.ty, self.sum))
    }
}

/// Averages of fixed-size integers: a `long` sum that switches to a big integer on overflow,
/// then truncating division (Cassandra's `AvgAggregate`).
struct IntAvg {
    ty: CqlType,
    sum: i64,
    big: Option<BigInt>,
    count: i64,
}

impl Aggregate for IntAvg {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        let Some(v) = value else { return Ok(()) };
        let Some(n) = decode(&self.ty, v).map_err(bad_input)? else {
            return Ok(());
        };
        self.count += 1;
        let x = n.long_value();
        match &mut self.big {
            Some(big) => *big += x,
            None => match self.sum.checked_add(x) {
                Some(s) => self.sum = s,
                None => self.big = Some(BigInt::from(self.sum) + x),
            },
        }
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        let avg = if self.count == 0 {
            0
        } else {
            match &self.big {
                Some(big) => (big / self.count).to_i64().unwrap_or(0),
                None => self.sum / self.count,
            }
        };
        Some(IntSum::encode(&self.ty, avg))
    }
}

/// Kahan summation in doubles (Cassandra's `FloatSumAggregate`).
#[derive(Default)]
struct Kahan {
    sum: f64,
    compensation: f64,
    simple: f64,
}

impl Kahan {
    fn add(&mut self, x: f64) {
        self.simple += x;
        let tmp = x - self.compensation;
        let rounded = self.sum + tmp;
        self.compensation = (rounded - self.sum) - tmp;
        self.sum = rounded;
    }

    fn total(&self) -> f64 {
        let tmp = self.sum + self.compensation;
        if tmp.is_nan() && self.simple.is_infinite() {
            self.simple
        } else {
            tmp
        }
    }
}

fn encode_float(ty: &CqlType, v: f64) -> Bytes {
    if *ty == CqlType::Float {
        Bytes::copy_from_slice(&(v as f32).to_be_bytes())
    } else {
        Bytes::copy_from_slice(&v.to_be_bytes())
    }
}

/// `sum` of `float`/`double`.
struct FloatSum {
    ty: CqlType,
    kahan: Kahan,
}

impl Aggregate for FloatSum {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        let Some(v) = value else { return Ok(()) };
        if let Some(n) = decode(&self.ty, v).map_err(bad_input)? {
            self.kahan.add(n.double_value());
        }
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        Some(encode_float(&self.ty, self.kahan.total()))
    }
}

/// `avg` of `float`/`double`: Kahan sum, switching to an exact decimal sum when the double
/// sum overflows (Cassandra's `FloatAvgAggregate`).
struct FloatAvg {
    ty: CqlType,
    kahan: Kahan,
    big: Option<Decimal>,
    count: i64,
}

impl Aggregate for FloatAvg {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        let Some(v) = value else { return Ok(()) };
        let Some(n) = decode(&self.ty, v).map_err(bad_input)? else {
            return Ok(());
        };
        self.count += 1;
        let x = n.double_value();
        if let Some(big) = &mut self.big {
            if let Some(d) = Decimal::from_f64(x) {
                *big = big.add(&d).map_err(bad_input)?;
            }
            return Ok(());
        }
        let previous = self.kahan.sum;
        self.kahan.add(x);
        if self.kahan.sum.is_infinite() && !x.is_infinite() {
            if let (Some(a), Some(b)) = (Decimal::from_f64(previous), Decimal::from_f64(x)) {
                self.big = Some(a.add(&b).map_err(bad_input)?);
            }
        }
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        if self.count == 0 {
            return Some(encode_float(&self.ty, 0.0));
        }
        let avg = match &self.big {
            Some(big) => {
                let count = Decimal::from_bigint(BigInt::from(self.count));
                big.divide_to_scale(&count, big.scale, true)
                    .map(|d| d.to_f64())
                    .unwrap_or(f64::NAN)
            }
            None => self.kahan.total() / self.count as f64,
        };
        Some(encode_float(&self.ty, avg))
    }
}

/// `sum` of `varint` (exact).
struct VarintSum {
    sum: BigInt,
}

impl Aggregate for VarintSum {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        if let Some(v) = value {
            if let Some(n) = decode(&CqlType::Varint, v).map_err(bad_input)? {
                self.sum += n.to_bigint().map_err(bad_input)?;
            }
        }
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        Some(Bytes::from(varint_to_bytes(&self.sum)))
    }
}

/// `avg` of `varint`: exact sum, truncating division.
struct VarintAvg {
    sum: BigInt,
    count: i64,
}

impl Aggregate for VarintAvg {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        if let Some(v) = value {
            if let Some(n) = decode(&CqlType::Varint, v).map_err(bad_input)? {
                self.sum += n.to_bigint().map_err(bad_input)?;
                self.count += 1;
            }
        }
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        let avg = if self.count == 0 {
            BigInt::zero()
        } else {
            &self.sum / self.count
        };
        Some(Bytes::from(varint_to_bytes(&avg)))
    }
}

/// `sum` of `decimal` (exact).
struct DecimalSum {
    sum: Decimal,
}

impl Aggregate for DecimalSum {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        if let Some(v) = value {
            if let Some(Num::Dec(d)) = decode(&CqlType::Decimal, v).map_err(bad_input)? {
                self.sum = self.sum.add(&d).map_err(bad_input)?;
            }
        }
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        Some(Bytes::from(self.sum.to_bytes()))
    }
}

/// `avg` of `decimal`: Cassandra's running average
/// `avg += (value - avg) / count` rounded half-even at the scale of `value - avg`.
struct DecimalAvg {
    avg: Decimal,
    count: i64,
}

impl Aggregate for DecimalAvg {
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError> {
        let Some(v) = value else { return Ok(()) };
        let Some(Num::Dec(d)) = decode(&CqlType::Decimal, v).map_err(bad_input)? else {
            return Ok(());
        };
        self.count += 1;
        let delta = d.sub(&self.avg).map_err(bad_input)?;
        let count = Decimal::from_bigint(BigInt::from(self.count));
        let step = delta
            .divide_to_scale(&count, delta.scale, true)
            .map_err(bad_input)?;
        self.avg = self.avg.add(&step).map_err(bad_input)?;
        Ok(())
    }

    fn finish(&self) -> Option<Bytes> {
        Some(Bytes::from(self.avg.to_bytes()))
    }
}

/// Whether `name` is a native aggregate.
pub fn is_aggregate(name: &str) -> bool {
    matches!(name, "count" | "min" | "max" | "sum" | "avg" | "countrows")
}

/// The signatures Cassandra lists for an aggregate in "none of its type signatures match".
fn known_signatures(name: &str) -> String {
    use super::numeric::NUMERIC_TYPES;
    NUMERIC_TYPES
        .iter()
        .map(|t| format!("system.{name} : ({t}) -> {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A new aggregate `name` over values of type `arg_type`, with its result type. `count(*)`
/// is [`CountRows`] (name `countrows`, any argument type).
pub fn aggregate(
    name: &str,
    arg_type: &CqlType,
) -> Result<(Box<dyn Aggregate>, CqlType), QueryError> {
    let ty = match arg_type.unfrozen() {
        t if t.is_multi_cell() => arg_type.clone().freeze(),
        _ => arg_type.clone(),
    };
    let numeric = super::numeric::is_numeric(ty.unfrozen());
    let base = ty.unfrozen().clone();
    Ok(match name {
        "countrows" => (Box::new(CountRows::default()), CqlType::Bigint),
        "count" => (Box::new(Count::default()), CqlType::Bigint),
        "min" | "max" => (
            Box::new(Extreme {
                ty: ty.clone(),
                keep: if name == "min" {
                    Ordering::Less
                } else {
                    Ordering::Greater
                },
                best: None,
            }),
            ty,
        ),
        "sum" | "avg" if numeric => {
            let agg: Box<dyn Aggregate> = match (&base, name) {
                (
                    CqlType::Tinyint | CqlType::Smallint | CqlType::Int | CqlType::Bigint | CqlType::Counter,
                    "sum",
                ) => Box::new(IntSum { ty: base.clone(), sum: 0 }),
                (
                    CqlType::Tinyint | CqlType::Smallint | CqlType::Int | CqlType::Bigint | CqlType::Counter,
                    _,
                ) => Box::new(IntAvg {
                    ty: base.clone(),
                    sum: 0,
                    big: None,
                    count: 0,
                }),
                (CqlType::Float | CqlType::Double, "sum") => Box::new(FloatSum {
                    ty: base.clone(),
                    kahan: Kahan::default(),
                }),
                (CqlType::Float | CqlType::Double, _) => Box::new(FloatAvg {
                    ty: base.clone(),
                    kahan: Kahan::default(),
                    big: None,
                    count: 0,
                }),
                (CqlType::Varint, "sum") => Box::new(VarintSum { sum: BigInt::zero() }),
                (CqlType::Varint, _) => Box::new(VarintAvg {
                    sum: BigInt::zero(),
                    count: 0,
                }),
                (_, "sum") => Box::new(DecimalSum {
                    sum: Decimal::from_bigint(BigInt::zero()),
                }),
                _ => Box::new(DecimalAvg {
                    avg: Decimal::from_bigint(BigInt::zero()),
                    count: 0,
                }),
            };
            (agg, base)
        }
        "sum" | "avg" => {
            return Err(QueryError::invalid(format!(
                "Invalid call to function {name}, none of its type signatures match (known type signatures: {})",
                known_signatures(name)
            )))
        }
        other => return Err(QueryError::invalid(format!("Unknown function '{other}'"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, ty: CqlType, values: &[Option<Vec<u8>>]) -> (Option<Bytes>, CqlType) {
        let (mut agg, ret) = match aggregate(name, &ty) {
            Ok(x) => x,
            Err(e) => panic!("{name}({ty}): {e}"),
        };
        for v in values {
            if let Err(e) = agg.add(v.as_deref()) {
                panic!("{name}({ty}): {e}");
            }
        }
        (agg.finish(), ret)
    }

    fn ints(values: &[i32]) -> Vec<Option<Vec<u8>>> {
        values
            .iter()
            .map(|v| Some(v.to_be_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn counts() {
        let mut values = ints(&[1, 2]);
        values.push(None);
        assert_eq!(
            run("count", CqlType::Int, &values).0,
            Some(Bytes::copy_from_slice(&2i64.to_be_bytes()))
        );
        assert_eq!(
            run("countrows", CqlType::Int, &values).0,
            Some(Bytes::copy_from_slice(&3i64.to_be_bytes()))
        );
        assert_eq!(
            run("count", CqlType::Int, &[]).0,
            Some(Bytes::copy_from_slice(&0i64.to_be_bytes()))
        );
    }

    #[test]
    fn min_max_use_the_comparator() {
        let values = ints(&[5, -3, 9]);
        assert_eq!(
            run("min", CqlType::Int, &values),
            (
                Some(Bytes::copy_from_slice(&(-3i32).to_be_bytes())),
                CqlType::Int
            )
        );
        assert_eq!(
            run("max", CqlType::Int, &values).0,
            Some(Bytes::copy_from_slice(&9i32.to_be_bytes()))
        );
        assert_eq!(run("max", CqlType::Int, &[]).0, None);
        let texts = vec![Some(b"b".to_vec()), Some(b"ab".to_vec())];
        assert_eq!(
            run("min", CqlType::Text, &texts).0,
            Some(Bytes::from_static(b"ab"))
        );
    }

    #[test]
    fn integer_sum_and_avg() {
        let values = ints(&[i32::MAX, 1]);
        assert_eq!(
            run("sum", CqlType::Int, &values).0,
            Some(Bytes::copy_from_slice(&i32::MIN.to_be_bytes()))
        );
        // avg does not overflow: (MAX + 1) / 2.
        assert_eq!(
            run("avg", CqlType::Int, &values).0,
            Some(Bytes::copy_from_slice(&(1i32 << 30).to_be_bytes()))
        );
        assert_eq!(
            run("avg", CqlType::Int, &ints(&[1, 2])).0,
            Some(Bytes::copy_from_slice(&1i32.to_be_bytes()))
        );
        assert_eq!(
            run("avg", CqlType::Int, &ints(&[-1, -2])).0,
            Some(Bytes::copy_from_slice(&(-1i32).to_be_bytes()))
        );
        assert_eq!(
            run("avg", CqlType::Int, &[]).0,
            Some(Bytes::copy_from_slice(&0i32.to_be_bytes()))
        );
        let big = vec![
            Some(i64::MAX.to_be_bytes().to_vec()),
            Some(i64::MAX.to_be_bytes().to_vec()),
        ];
        assert_eq!(
            run("avg", CqlType::Bigint, &big).0,
            Some(Bytes::copy_from_slice(&i64::MAX.to_be_bytes()))
        );
        let tiny = vec![Some(vec![100u8]), Some(vec![100u8])];
        assert_eq!(
            run("sum", CqlType::Tinyint, &tiny).0,
            Some(Bytes::copy_from_slice(&[200u8]))
        );
    }

    #[test]
    fn floating_and_exact_sums() {
        let doubles: Vec<Option<Vec<u8>>> = [0.1f64, 0.2, 0.3]
            .iter()
            .map(|v| Some(v.to_be_bytes().to_vec()))
            .collect();
        let (sum, ty) = run("sum", CqlType::Double, &doubles);
        assert_eq!(ty, CqlType::Double);
        assert_eq!(sum, Some(Bytes::copy_from_slice(&0.6f64.to_be_bytes())));
        let huge: Vec<Option<Vec<u8>>> = [f64::MAX, f64::MAX]
            .iter()
            .map(|v| Some(v.to_be_bytes().to_vec()))
            .collect();
        assert_eq!(
            run("avg", CqlType::Double, &huge).0,
            Some(Bytes::copy_from_slice(&f64::MAX.to_be_bytes()))
        );
        let dec = |s: &str| Decimal::parse(s).map(|d| d.to_bytes());
        let decimals = vec![dec("1.5"), dec("2.25"), dec("3")];
        let (sum, _) = run("sum", CqlType::Decimal, &decimals);
        assert_eq!(
            sum.and_then(|b| Decimal::from_bytes(&b))
                .map(|d| d.to_string()),
            Some("6.75".into())
        );
        // Cassandra's running average rounds at the operands' scale: avg(1, 2) is 1.
        let (avg, _) = run("avg", CqlType::Decimal, &[dec("1"), dec("2")]);
        assert_eq!(
            avg.and_then(|b| Decimal::from_bytes(&b))
                .map(|d| d.to_string()),
            Some("1".into())
        );
        let (avg, _) = run("avg", CqlType::Decimal, &[dec("1.0"), dec("2.0")]);
        assert_eq!(
            avg.and_then(|b| Decimal::from_bytes(&b))
                .map(|d| d.to_string()),
            Some("1.5".into())
        );
        let varints = vec![Some(vec![0x7f]), Some(vec![0x7f])];
        assert_eq!(
            run("sum", CqlType::Varint, &varints).0,
            Some(Bytes::copy_from_slice(&[0x00, 0xfe]))
        );
        assert_eq!(
            run("avg", CqlType::Varint, &varints).0,
            Some(Bytes::copy_from_slice(&[0x7f]))
        );
    }

    #[test]
    fn unsupported_types_are_reported() {
        let err = aggregate("sum", &CqlType::Text)
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|m| m.starts_with(
            "Invalid call to function sum, none of its type signatures match (known type signatures: system.sum : (tinyint) -> tinyint"
        )));
        assert!(aggregate("median", &CqlType::Int).is_err());
    }
}
