//! Numbers of the CQL numeric types as Java sees them: conversions between them with Java's
//! narrowing and widening rules (`Number.intValue()`, `BigDecimal.valueOf(double)`, ...),
//! the arithmetic of Cassandra's operators (result type from the operand types, Java
//! overflow and division semantics) and negation.
//!
//! Invariants: integer arithmetic wraps like Java's (never panics: division of the minimum
//! by -1 wraps, division by zero is an error), big-number arithmetic is bounded by
//! `terms::number::MAX_DECIMAL_DIGITS`.

use bytes::Bytes;
use meridian_cql_parser::ast::ArithmeticOp;
use meridian_types::cql_type::CqlType;
use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};

use crate::terms::number::{
    bigint_low_i64, bigint_to_f64, f64_to_i32_java, f64_to_i64_java, varint_from_bytes,
    varint_to_bytes, Decimal,
};

/// A value of a numeric type.
#[derive(Clone, Debug)]
pub enum Num {
    /// `tinyint`, `smallint`, `int`, `bigint`, `counter`.
    Int(i64),
    /// `float`.
    F32(f32),
    /// `double`.
    F64(f64),
    /// `varint`.
    Big(BigInt),
    /// `decimal`.
    Dec(Decimal),
}

/// Whether `ty` is one of the nine numeric types.
pub fn is_numeric(ty: &CqlType) -> bool {
    matches!(
        ty,
        CqlType::Tinyint
            | CqlType::Smallint
            | CqlType::Int
            | CqlType::Bigint
            | CqlType::Counter
            | CqlType::Float
            | CqlType::Double
            | CqlType::Varint
            | CqlType::Decimal
    )
}

/// The numeric types, in Cassandra's declaration order.
pub const NUMERIC_TYPES: [CqlType; 9] = [
    CqlType::Tinyint,
    CqlType::Smallint,
    CqlType::Int,
    CqlType::Bigint,
    CqlType::Float,
    CqlType::Double,
    CqlType::Decimal,
    CqlType::Varint,
    CqlType::Counter,
];

/// Decodes a numeric value; `Ok(None)` for the empty value.
pub fn decode(ty: &CqlType, bytes: &[u8]) -> Result<Option<Num>, String> {
    if bytes.is_empty() && !matches!(ty, CqlType::Varint) {
        return Ok(None);
    }
    let bad = || format!("Invalid {ty} value of {} bytes", bytes.len());
    Ok(Some(match ty {
        CqlType::Tinyint => Num::Int(i64::from(i8::from_be_bytes(
            bytes.try_into().map_err(|_| bad())?,
        ))),
        CqlType::Smallint => Num::Int(i64::from(i16::from_be_bytes(
            bytes.try_into().map_err(|_| bad())?,
        ))),
        CqlType::Int => Num::Int(i64::from(i32::from_be_bytes(
            bytes.try_into().map_err(|_| bad())?,
        ))),
        CqlType::Bigint | CqlType::Counter => {
            Num::Int(i64::from_be_bytes(bytes.try_into().map_err(|_| bad())?))
        }
        CqlType::Float => Num::F32(f32::from_be_bytes(bytes.try_into().map_err(|_| bad())?)),
        CqlType::Double => Num::F64(f64::from_be_bytes(bytes.try_into().map_err(|_| bad())?)),
        CqlType::Varint => Num::Big(varint_from_bytes(bytes)),
        CqlType::Decimal => Num::Dec(Decimal::from_bytes(bytes).ok_or_else(bad)?),
        other => return Err(format!("{other} is not a numeric type")),
    }))
}

impl Num {
    /// `Number.longValue()`.
    pub fn long_value(&self) -> i64 {
        match self {
            Num::Int(v) => *v,
            Num::F32(v) => f64_to_i64_java(f64::from(*v)),
            Num::F64(v) => f64_to_i64_java(*v),
            Num::Big(v) => bigint_low_i64(v),
            Num::Dec(d) => d.to_bigint().map(|b| bigint_low_i64(&b)).unwrap_or(0),
        }
    }

    /// `Number.intValue()`.
    pub fn int_value(&self) -> i32 {
        match self {
            Num::F32(v) => f64_to_i32_java(f64::from(*v)),
            Num::F64(v) => f64_to_i32_java(*v),
            other => other.long_value() as i32,
        }
    }

    /// `Number.shortValue()`.
    pub fn short_value(&self) -> i16 {
        self.int_value() as i16
    }

    /// `Number.byteValue()`.
    pub fn byte_value(&self) -> i8 {
        self.int_value() as i8
    }

    /// `Number.floatValue()`.
    pub fn float_value(&self) -> f32 {
        match self {
            Num::Int(v) => *v as f32,
            Num::F32(v) => *v,
            Num::F64(v) => *v as f32,
            Num::Big(v) => v.to_f32().unwrap_or(if v < &BigInt::zero() {
                f32::NEG_INFINITY
            } else {
                f32::INFINITY
            }),
            Num::Dec(d) => d.to_string().parse::<f32>().unwrap_or(d.to_f64() as f32),
        }
    }

    /// `Number.doubleValue()`.
    pub fn double_value(&self) -> f64 {
        match self {
            Num::Int(v) => *v as f64,
            Num::F32(v) => f64::from(*v),
            Num::F64(v) => *v,
            Num::Big(v) => bigint_to_f64(v),
            Num::Dec(d) => d.to_f64(),
        }
    }

    /// The exact big integer of an integer-typed value (`toBigInteger`).
    pub fn to_bigint(&self) -> Result<BigInt, String> {
        match self {
            Num::Int(v) => Ok(BigInt::from(*v)),
            Num::Big(v) => Ok(v.clone()),
            Num::Dec(d) => d.to_bigint(),
            Num::F32(_) | Num::F64(_) => Ok(BigInt::from(self.long_value())),
        }
    }

    /// Cassandra's `toBigDecimal`: exact for integers and decimals, `BigDecimal.valueOf`
    /// for floating point values (NaN and infinities cannot be converted).
    pub fn to_decimal(&self) -> Result<Decimal, String> {
        match self {
            Num::Int(v) => Ok(Decimal::from_bigint(BigInt::from(*v))),
            Num::Big(v) => Ok(Decimal::from_bigint(v.clone())),
            Num::Dec(d) => Ok(d.clone()),
            Num::F32(_) | Num::F64(_) => {
                let d = self.double_value();
                if d.is_nan() {
                    Err("A NaN cannot be converted into a decimal".to_string())
                } else if d.is_infinite() {
                    Err("An infinite number cannot be converted into a decimal".to_string())
                } else {
                    Decimal::from_f64(d).ok_or_else(|| "Invalid decimal".to_string())
                }
            }
        }
    }
}

/// Encodes a value as type `ty`, converting with Java's `Number` rules.
pub fn encode_as(ty: &CqlType, n: &Num) -> Result<Bytes, String> {
    Ok(match ty {
        CqlType::Tinyint => Bytes::copy_from_slice(&n.byte_value().to_be_bytes()),
        CqlType::Smallint => Bytes::copy_from_slice(&n.short_value().to_be_bytes()),
        CqlType::Int => Bytes::copy_from_slice(&n.int_value().to_be_bytes()),
        CqlType::Bigint | CqlType::Counter => Bytes::copy_from_slice(&n.long_value().to_be_bytes()),
        CqlType::Float => Bytes::copy_from_slice(&n.float_value().to_be_bytes()),
        CqlType::Double => Bytes::copy_from_slice(&n.double_value().to_be_bytes()),
        CqlType::Varint => Bytes::from(varint_to_bytes(&n.to_bigint()?)),
        CqlType::Decimal => Bytes::from(n.to_decimal()?.to_bytes()),
        other => return Err(format!("{other} is not a numeric type")),
    })
}

/// The number of bytes Cassandra uses to rank a numeric type in operations.
fn size(ty: &CqlType) -> u32 {
    match ty {
        CqlType::Tinyint => 1,
        CqlType::Smallint => 2,
        CqlType::Int | CqlType::Float => 4,
        CqlType::Bigint | CqlType::Counter | CqlType::Double => 8,
        _ => u32::MAX,
    }
}

/// The result type of an arithmetic operation between two numeric types
/// (`OperationFcts.returnType`).
pub fn operation_return_type(left: &CqlType, right: &CqlType) -> CqlType {
    let floating = |t: &CqlType| matches!(t, CqlType::Float | CqlType::Double | CqlType::Decimal);
    let s = size(left).max(size(right));
    if floating(left) || floating(right) {
        match s {
            4 => CqlType::Float,
            8 => CqlType::Double,
            _ => CqlType::Decimal,
        }
    } else {
        match s {
            1 => CqlType::Tinyint,
            2 => CqlType::Smallint,
            4 => CqlType::Int,
            8 => CqlType::Bigint,
            _ => CqlType::Varint,
        }
    }
}

const DIVIDE_BY_ZERO: &str = "/ by zero";

/// Java `int` arithmetic (operands already converted).
fn int_op(op: ArithmeticOp, a: i32, b: i32) -> Result<i32, String> {
    Ok(match op {
        ArithmeticOp::Add => a.wrapping_add(b),
        ArithmeticOp::Sub => a.wrapping_sub(b),
        ArithmeticOp::Mul => a.wrapping_mul(b),
        ArithmeticOp::Div if b == 0 => return Err(DIVIDE_BY_ZERO.to_string()),
        ArithmeticOp::Div => a.wrapping_div(b),
        ArithmeticOp::Mod if b == 0 => return Err(DIVIDE_BY_ZERO.to_string()),
        ArithmeticOp::Mod => a.wrapping_rem(b),
    })
}

/// Java `long` arithmetic.
fn long_op(op: ArithmeticOp, a: i64, b: i64) -> Result<i64, String> {
    Ok(match op {
        ArithmeticOp::Add => a.wrapping_add(b),
        ArithmeticOp::Sub => a.wrapping_sub(b),
        ArithmeticOp::Mul => a.wrapping_mul(b),
        ArithmeticOp::Div if b == 0 => return Err(DIVIDE_BY_ZERO.to_string()),
        ArithmeticOp::Div => a.wrapping_div(b),
        ArithmeticOp::Mod if b == 0 => return Err(DIVIDE_BY_ZERO.to_string()),
        ArithmeticOp::Mod => a.wrapping_rem(b),
    })
}

/// Performs `left op right` in the result type `ret` as Cassandra's `NumberType`
/// implementations do.
pub fn arithmetic(
    op: ArithmeticOp,
    ret: &CqlType,
    left: &Num,
    right: &Num,
) -> Result<Bytes, String> {
    let b = |v: &[u8]| Bytes::copy_from_slice(v);
    Ok(match ret {
        CqlType::Tinyint => b(&(int_op(
            op,
            i32::from(left.byte_value()),
            i32::from(right.byte_value()),
        )? as i8)
            .to_be_bytes()),
        CqlType::Smallint => b(&(int_op(
            op,
            i32::from(left.short_value()),
            i32::from(right.short_value()),
        )? as i16)
            .to_be_bytes()),
        CqlType::Int => b(&int_op(op, left.int_value(), right.int_value())?.to_be_bytes()),
        CqlType::Bigint | CqlType::Counter => {
            b(&long_op(op, left.long_value(), right.long_value())?.to_be_bytes())
        }
        CqlType::Float => {
            let (x, y) = (left.float_value(), right.float_value());
            let v = match op {
                ArithmeticOp::Add => x + y,
                ArithmeticOp::Sub => x - y,
                ArithmeticOp::Mul => x * y,
                ArithmeticOp::Div => x / y,
                ArithmeticOp::Mod => x % y,
            };
            b(&v.to_be_bytes())
        }
        CqlType::Double => {
            let (x, y) = (left.double_value(), right.double_value());
            let v = match op {
                ArithmeticOp::Add => x + y,
                ArithmeticOp::Sub => x - y,
                ArithmeticOp::Mul => x * y,
                ArithmeticOp::Div => x / y,
                ArithmeticOp::Mod => x % y,
            };
            b(&v.to_be_bytes())
        }
        CqlType::Varint => {
            let (x, y) = (left.to_bigint()?, right.to_bigint()?);
            let v = match op {
                ArithmeticOp::Add => x + y,
                ArithmeticOp::Sub => x - y,
                ArithmeticOp::Mul => {
                    if x.bits() + y.bits() > 40_000 {
                        return Err("varint result is too large".to_string());
                    }
                    x * y
                }
                ArithmeticOp::Div | ArithmeticOp::Mod if y.is_zero() => {
                    return Err("BigInteger divide by zero".to_string())
                }
                ArithmeticOp::Div => x / y,
                ArithmeticOp::Mod => x % y,
            };
            Bytes::from(varint_to_bytes(&v))
        }
        CqlType::Decimal => {
            let (x, y) = (left.to_decimal()?, right.to_decimal()?);
            let v = match op {
                ArithmeticOp::Add => x.add(&y)?,
                ArithmeticOp::Sub => x.sub(&y)?,
                ArithmeticOp::Mul => x.mul(&y)?,
                ArithmeticOp::Div => x.div(&y)?,
                ArithmeticOp::Mod => x.rem(&y)?,
            };
            Bytes::from(v.to_bytes())
        }
        other => return Err(format!("{other} is not a numeric type")),
    })
}

/// `-value` in type `ty` (Java negation: the minimum value of a fixed-size type wraps).
pub fn negate(ty: &CqlType, n: &Num) -> Result<Bytes, String> {
    let b = |v: &[u8]| Bytes::copy_from_slice(v);
    Ok(match ty {
        CqlType::Tinyint => b(&(i32::from(n.byte_value()).wrapping_neg() as i8).to_be_bytes()),
        CqlType::Smallint => b(&(i32::from(n.short_value()).wrapping_neg() as i16).to_be_bytes()),
        CqlType::Int => b(&n.int_value().wrapping_neg().to_be_bytes()),
        CqlType::Bigint | CqlType::Counter => b(&n.long_value().wrapping_neg().to_be_bytes()),
        CqlType::Float => b(&(-n.float_value()).to_be_bytes()),
        CqlType::Double => b(&(-n.double_value()).to_be_bytes()),
        CqlType::Varint => Bytes::from(varint_to_bytes(&-n.to_bigint()?)),
        CqlType::Decimal => Bytes::from(n.to_decimal()?.neg().to_bytes()),
        other => return Err(format!("{other} is not a numeric type")),
    })
}

/// Cassandra's numeric casts (`CastFcts`): Java `Number` conversions, with the decimal
/// conversion exact for integers, `BigDecimal.valueOf(double)` for floating point values,
/// and the varint conversion through `longValue()`.
pub fn cast(to: &CqlType, n: &Num) -> Result<Bytes, String> {
    match (to, n) {
        (CqlType::Decimal, Num::F32(_) | Num::F64(_)) => {
            let d = n.double_value();
            Decimal::from_f64(d)
                .map(|v| Bytes::from(v.to_bytes()))
                .ok_or_else(|| format!("Character N is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark. (value {d})"))
        }
        (CqlType::Decimal, Num::Int(v)) => Ok(Bytes::from(
            Decimal::from_bigint(BigInt::from(*v)).to_bytes(),
        )),
        (CqlType::Varint, _) => Ok(Bytes::from(varint_to_bytes(&BigInt::from(n.long_value())))),
        _ => encode_as(to, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i32) -> Num {
        Num::Int(i64::from(v))
    }

    #[test]
    fn return_types_follow_the_table() {
        use CqlType::*;
        let cases = [
            (Tinyint, Tinyint, Tinyint),
            (Tinyint, Int, Int),
            (Int, Bigint, Bigint),
            (Counter, Int, Bigint),
            (Int, Float, Float),
            (Bigint, Float, Double),
            (Float, Varint, Decimal),
            (Varint, Int, Varint),
            (Double, Decimal, Decimal),
        ];
        for (l, r, expected) in cases {
            assert_eq!(operation_return_type(&l, &r), expected, "{l} {r}");
            assert_eq!(operation_return_type(&r, &l), expected, "{r} {l}");
        }
    }

    #[test]
    fn java_integer_semantics() {
        let max = arithmetic(ArithmeticOp::Add, &CqlType::Int, &int(i32::MAX), &int(1));
        assert_eq!(max, Ok(Bytes::copy_from_slice(&i32::MIN.to_be_bytes())));
        assert_eq!(
            arithmetic(ArithmeticOp::Div, &CqlType::Int, &int(1), &int(0)),
            Err("/ by zero".into())
        );
        assert_eq!(
            arithmetic(ArithmeticOp::Div, &CqlType::Int, &int(i32::MIN), &int(-1)),
            Ok(Bytes::copy_from_slice(&i32::MIN.to_be_bytes()))
        );
        assert_eq!(
            arithmetic(ArithmeticOp::Mod, &CqlType::Int, &int(-7), &int(2)),
            Ok(Bytes::copy_from_slice(&(-1i32).to_be_bytes()))
        );
        assert_eq!(
            arithmetic(ArithmeticOp::Add, &CqlType::Tinyint, &int(127), &int(1)),
            Ok(Bytes::copy_from_slice(&[0x80]))
        );
        assert_eq!(
            arithmetic(
                ArithmeticOp::Div,
                &CqlType::Varint,
                &Num::Big(BigInt::from(1)),
                &int(0)
            ),
            Err("BigInteger divide by zero".into())
        );
        assert_eq!(
            negate(&CqlType::Int, &int(i32::MIN)),
            Ok(Bytes::copy_from_slice(&i32::MIN.to_be_bytes()))
        );
    }

    #[test]
    fn casts_follow_java() {
        assert_eq!(
            cast(&CqlType::Int, &Num::F64(3.9)),
            Ok(Bytes::copy_from_slice(&3i32.to_be_bytes()))
        );
        assert_eq!(
            cast(&CqlType::Int, &Num::F64(f64::NAN)),
            Ok(Bytes::copy_from_slice(&0i32.to_be_bytes()))
        );
        assert_eq!(
            cast(&CqlType::Tinyint, &int(300)),
            Ok(Bytes::copy_from_slice(&[44]))
        );
        let dec = |b: Result<Bytes, String>| {
            b.ok()
                .and_then(|b| Decimal::from_bytes(&b))
                .map(|d| d.to_string())
        };
        assert_eq!(
            dec(cast(&CqlType::Decimal, &Num::F32(1.1))),
            Some("1.100000023841858".into())
        );
        assert_eq!(dec(cast(&CqlType::Decimal, &int(5))), Some("5".into()));
        assert!(cast(&CqlType::Decimal, &Num::F64(f64::NAN)).is_err());
        let d = Decimal::parse("12.7").map(Num::Dec);
        assert_eq!(
            d.as_ref().map(|d| cast(&CqlType::Varint, d)),
            Some(Ok(Bytes::copy_from_slice(&[12])))
        );
        assert!(decode(&CqlType::Int, &[1, 2]).is_err());
        assert!(matches!(decode(&CqlType::Int, &[]), Ok(None)));
    }
}
