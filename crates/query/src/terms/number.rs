//! Exact numbers with Cassandra's (that is, Java's) semantics: `varint` as a big integer,
//! `decimal` as [`Decimal`] (an unscaled big integer and a scale, like `java.math.BigDecimal`),
//! and `Double.toString` / `Float.toString` renderings of floating point values.
//!
//! Invariants: every operation is bounded — a result needing more than
//! [`MAX_DECIMAL_DIGITS`] digits (for example `1e2000000000 + 1`, which would need two billion
//! digits once aligned) is refused with an error instead of allocating; nothing here panics
//! on any input.

use std::cmp::Ordering;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};

/// Largest number of decimal digits an intermediate or final `decimal`/`varint` result may
/// have (Cassandra computes decimal arithmetic with a 10,000-digit precision).
pub const MAX_DECIMAL_DIGITS: u64 = 10_000;

/// Cassandra's smallest scale (and number of significant digits) of a decimal quotient.
const DIVISION_MIN_SCALE: i64 = 32;

/// Cassandra's largest scale of a decimal quotient.
const DIVISION_MAX_SCALE: i64 = 1000;

/// A decimal number `unscaled × 10^-scale`, with `java.math.BigDecimal` semantics (the scale
/// is part of the value's representation: `1.0` and `1.00` are different representations of
/// equal numbers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal {
    /// The unscaled value.
    pub unscaled: BigInt,
    /// Digits after the decimal point (negative: trailing zeros before it).
    pub scale: i32,
}

/// `10^n` as a big integer, refusing absurd exponents.
fn pow10(n: u64) -> Result<BigInt, String> {
    if n > MAX_DECIMAL_DIGITS * 2 {
        return Err(format!(
            "decimal value needs more than {MAX_DECIMAL_DIGITS} digits"
        ));
    }
    Ok(num_traits::pow(BigInt::from(10u8), n as usize))
}

/// Number of decimal digits of `|v|` (1 for zero), as `BigDecimal.precision()`.
pub fn digit_count(v: &BigInt) -> u64 {
    if v.is_zero() {
        return 1;
    }
    v.magnitude().to_string().len() as u64
}

/// Divides rounding half away from zero (`RoundingMode.HALF_UP`).
fn div_half_up(num: &BigInt, den: &BigInt) -> BigInt {
    let (q, r) = num.div_rem(den);
    if r.is_zero() {
        return q;
    }
    let twice = r.abs() * 2u8;
    if twice >= den.abs() {
        if (num.sign() == Sign::Minus) != (den.sign() == Sign::Minus) {
            q - 1u8
        } else {
            q + 1u8
        }
    } else {
        q
    }
}

/// Divides rounding half to even (`RoundingMode.HALF_EVEN`).
fn div_half_even(num: &BigInt, den: &BigInt) -> BigInt {
    let (q, r) = num.div_rem(den);
    if r.is_zero() {
        return q;
    }
    let twice = r.abs() * 2u8;
    let negative = (num.sign() == Sign::Minus) != (den.sign() == Sign::Minus);
    let away = match twice.cmp(&den.abs()) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => q.is_odd(),
    };
    if !away {
        q
    } else if negative {
        q - 1u8
    } else {
        q + 1u8
    }
}

impl Decimal {
    /// The decimal `unscaled × 10^-scale`.
    pub fn new(unscaled: BigInt, scale: i32) -> Self {
        Decimal { unscaled, scale }
    }

    /// An integer as a decimal of scale 0.
    pub fn from_bigint(v: BigInt) -> Self {
        Decimal::new(v, 0)
    }

    /// Parses Java's `new BigDecimal(String)` syntax: an optional sign, digits with an
    /// optional decimal point (at least one digit overall), an optional exponent.
    pub fn parse(text: &str) -> Option<Decimal> {
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if let Some(&c) = bytes.first() {
            if c == b'-' || c == b'+' {
                negative = c == b'-';
                i = 1;
            }
        }
        let mut digits = String::new();
        let mut fraction_digits: i64 = 0;
        let mut seen_point = false;
        while let Some(&c) = bytes.get(i) {
            match c {
                b'0'..=b'9' => {
                    digits.push(c as char);
                    if seen_point {
                        fraction_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if digits.is_empty() || digits.len() as u64 > MAX_DECIMAL_DIGITS {
            return None;
        }
        let mut exponent: i64 = 0;
        if let Some(&c) = bytes.get(i) {
            if c != b'e' && c != b'E' {
                return None;
            }
            let rest = text.get(i + 1..)?;
            let rest = match rest.strip_prefix('+') {
                Some(r) if r.starts_with('-') => return None,
                Some(r) => r,
                None => rest,
            };
            if rest.is_empty() || rest.len() > 12 || rest == "-" {
                return None;
            }
            let unsigned = rest.strip_prefix('-').unwrap_or(rest);
            if !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            exponent = rest.parse().ok()?;
        }
        let scale = i32::try_from(fraction_digits - exponent).ok()?;
        let mut unscaled: BigInt = digits.parse().ok()?;
        if negative {
            unscaled = -unscaled;
        }
        Some(Decimal::new(unscaled, scale))
    }

    /// Decodes Cassandra's serialized form: a 4-byte scale then a varint unscaled value.
    pub fn from_bytes(bytes: &[u8]) -> Option<Decimal> {
        let (scale, rest) = bytes.split_first_chunk::<4>()?;
        if rest.is_empty() {
            return None;
        }
        Some(Decimal::new(
            BigInt::from_signed_bytes_be(rest),
            i32::from_be_bytes(*scale),
        ))
    }

    /// The serialized form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.scale.to_be_bytes().to_vec();
        out.extend(self.unscaled.to_signed_bytes_be());
        out
    }

    /// `BigDecimal.valueOf(double)`: the decimal whose text is `Double.toString(v)`; `None`
    /// for NaN and infinities.
    pub fn from_f64(v: f64) -> Option<Decimal> {
        if !v.is_finite() {
            return None;
        }
        Decimal::parse(&java_double_to_string(v))
    }

    /// The nearest `double` (`BigDecimal.doubleValue()`).
    pub fn to_f64(&self) -> f64 {
        let s = self.to_string();
        s.parse::<f64>().unwrap_or(if self.unscaled.is_negative() {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        })
    }

    /// The integer part, truncated toward zero (`BigDecimal.toBigInteger()`); `Err` when it
    /// would be too large to build.
    pub fn to_bigint(&self) -> Result<BigInt, String> {
        if self.scale <= 0 {
            Ok(&self.unscaled * pow10(u64::from(self.scale.unsigned_abs()))?)
        } else {
            let digits = digit_count(&self.unscaled);
            if u64::from(self.scale.unsigned_abs()) > digits {
                return Ok(BigInt::zero());
            }
            Ok(&self.unscaled / pow10(u64::from(self.scale.unsigned_abs()))?)
        }
    }

    /// `BigDecimal.precision()`.
    pub fn precision(&self) -> i64 {
        digit_count(&self.unscaled) as i64
    }

    /// The same value with scale `scale` (which must not lose digits: `scale >= self.scale`).
    fn rescale_up(&self, scale: i32) -> Result<BigInt, String> {
        let diff = i64::from(scale) - i64::from(self.scale);
        if diff < 0 {
            return Err("internal: rescale would lose digits".to_string());
        }
        if diff as u64 + digit_count(&self.unscaled) > MAX_DECIMAL_DIGITS {
            return Err(format!(
                "decimal value needs more than {MAX_DECIMAL_DIGITS} digits"
            ));
        }
        Ok(&self.unscaled * pow10(diff as u64)?)
    }

    /// `this + other` (exact; the scale is the larger of the two).
    pub fn add(&self, other: &Decimal) -> Result<Decimal, String> {
        let scale = self.scale.max(other.scale);
        Ok(Decimal::new(
            self.rescale_up(scale)? + other.rescale_up(scale)?,
            scale,
        ))
    }

    /// `this - other`.
    pub fn sub(&self, other: &Decimal) -> Result<Decimal, String> {
        self.add(&other.neg())
    }

    /// `-this`.
    pub fn neg(&self) -> Decimal {
        Decimal::new(-self.unscaled.clone(), self.scale)
    }

    /// `this × other` (exact; the scales add up).
    pub fn mul(&self, other: &Decimal) -> Result<Decimal, String> {
        let scale = i32::try_from(i64::from(self.scale) + i64::from(other.scale))
            .map_err(|_| "Underflow".to_string())?;
        if digit_count(&self.unscaled) + digit_count(&other.unscaled) > MAX_DECIMAL_DIGITS {
            return Err(format!(
                "decimal value needs more than {MAX_DECIMAL_DIGITS} digits"
            ));
        }
        Ok(Decimal::new(&self.unscaled * &other.unscaled, scale))
    }

    /// `this / other` rounded half-up at `scale` (`BigDecimal.divide(other, scale, HALF_UP)`
    /// or `HALF_EVEN` when `half_even`).
    pub fn divide_to_scale(
        &self,
        other: &Decimal,
        scale: i32,
        half_even: bool,
    ) -> Result<Decimal, String> {
        if other.unscaled.is_zero() {
            return Err(if self.unscaled.is_zero() {
                "Division undefined".to_string()
            } else {
                "Division by zero".to_string()
            });
        }
        // result = self.u × 10^(scale - self.s + other.s) / other.u
        let e = i64::from(scale) - i64::from(self.scale) + i64::from(other.scale);
        let (num, den) = if e >= 0 {
            if e as u64 + digit_count(&self.unscaled) > MAX_DECIMAL_DIGITS * 2 {
                return Err(format!(
                    "decimal value needs more than {MAX_DECIMAL_DIGITS} digits"
                ));
            }
            (&self.unscaled * pow10(e as u64)?, other.unscaled.clone())
        } else {
            let shift = e.unsigned_abs();
            if shift > MAX_DECIMAL_DIGITS * 2 {
                // The divisor dwarfs the dividend: the quotient rounds to zero.
                return Ok(Decimal::new(BigInt::zero(), scale));
            }
            (self.unscaled.clone(), &other.unscaled * pow10(shift)?)
        };
        let q = if half_even {
            div_half_even(&num, &den)
        } else {
            div_half_up(&num, &den)
        };
        Ok(Decimal::new(q, scale))
    }

    /// Cassandra's decimal division (`DecimalType.divide`): at least 32 significant digits,
    /// a scale between 32 and 1000 (and no less than the operands'), rounded half-up, then
    /// trailing zeros stripped.
    pub fn div(&self, other: &Decimal) -> Result<Decimal, String> {
        let first_digit = (self.precision() - i64::from(self.scale))
            - (other.precision() - i64::from(other.scale));
        let scale = (DIVISION_MIN_SCALE - first_digit)
            .max(i64::from(self.scale))
            .max(i64::from(other.scale))
            .clamp(DIVISION_MIN_SCALE, DIVISION_MAX_SCALE);
        let scale = i32::try_from(scale).map_err(|_| "Underflow".to_string())?;
        Ok(self
            .divide_to_scale(other, scale, false)?
            .strip_trailing_zeros())
    }

    /// `BigDecimal.remainder(other)`: `this - this.divideToIntegralValue(other) × other`.
    pub fn rem(&self, other: &Decimal) -> Result<Decimal, String> {
        if other.unscaled.is_zero() {
            return Err(if self.unscaled.is_zero() {
                "Division undefined".to_string()
            } else {
                "Division by zero".to_string()
            });
        }
        // Integral quotient, truncated toward zero.
        let scale = self.scale.max(other.scale);
        let a = self.rescale_up(scale)?;
        let b = other.rescale_up(scale)?;
        let qi = &a / &b;
        // Its representation at the preferred scale (this.scale - other.scale).
        let preferred = i64::from(self.scale) - i64::from(other.scale);
        let q = if preferred >= 0 {
            let p = i32::try_from(preferred).map_err(|_| "Overflow".to_string())?;
            Decimal::new(qi * pow10(preferred as u64)?, p)
        } else {
            let mut v = qi;
            let mut s: i64 = 0;
            while s > preferred && !v.is_zero() && (&v % 10u8).is_zero() {
                v /= 10u8;
                s -= 1;
            }
            if v.is_zero() {
                s = preferred;
            }
            Decimal::new(v, i32::try_from(s).map_err(|_| "Overflow".to_string())?)
        };
        self.sub(&q.mul(other)?)
    }

    /// The value without trailing zeros in its unscaled part (`stripTrailingZeros`).
    pub fn strip_trailing_zeros(&self) -> Decimal {
        if self.unscaled.is_zero() {
            return Decimal::new(BigInt::zero(), 0);
        }
        let mut v = self.unscaled.clone();
        let mut scale = i64::from(self.scale);
        while (&v % 10u8).is_zero() && scale > i64::from(i32::MIN) {
            v /= 10u8;
            scale -= 1;
        }
        Decimal::new(v, scale as i32)
    }

    /// Numeric comparison (`compareTo`: `1.0` equals `1.00`).
    pub fn cmp_value(&self, other: &Decimal) -> Ordering {
        let (sa, sb) = (self.unscaled.sign(), other.unscaled.sign());
        if sa != sb || sa == Sign::NoSign {
            return sa.cmp(&sb);
        }
        // Same non-zero sign: compare magnitudes via their adjusted exponents first.
        let ea = self.precision() - i64::from(self.scale);
        let eb = other.precision() - i64::from(other.scale);
        let by_magnitude = if ea != eb {
            ea.cmp(&eb)
        } else {
            let scale = self.scale.max(other.scale);
            match (self.rescale_up(scale), other.rescale_up(scale)) {
                (Ok(a), Ok(b)) => a.abs().cmp(&b.abs()),
                _ => Ordering::Equal,
            }
        };
        if sa == Sign::Minus {
            by_magnitude.reverse()
        } else {
            by_magnitude
        }
    }

    /// `BigDecimal.toPlainString()`: no exponent.
    pub fn to_plain_string(&self) -> String {
        let negative = self.unscaled.is_negative();
        let coefficient = self.unscaled.magnitude().to_string();
        let mut out = String::new();
        if negative {
            out.push('-');
        }
        if self.scale <= 0 {
            out.push_str(&coefficient);
            if !self.unscaled.is_zero() {
                out.extend(std::iter::repeat_n('0', self.scale.unsigned_abs() as usize));
            }
            return out;
        }
        let scale = self.scale as usize;
        if coefficient.len() > scale {
            let (int, frac) = coefficient.split_at(coefficient.len() - scale);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', scale - coefficient.len()));
            out.push_str(&coefficient);
        }
        out
    }
}

impl std::fmt::Display for Decimal {
    /// `BigDecimal.toString()`: plain notation when the scale is non-negative and the
    /// adjusted exponent is at least -6, scientific notation (`1.23E+5`) otherwise.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let coefficient = self.unscaled.magnitude().to_string();
        let adjusted = -i64::from(self.scale) + (coefficient.len() as i64 - 1);
        if self.scale >= 0 && adjusted >= -6 {
            return f.write_str(&self.to_plain_string());
        }
        if self.unscaled.is_negative() {
            f.write_str("-")?;
        }
        let (first, rest) = coefficient.split_at(1);
        f.write_str(first)?;
        if !rest.is_empty() {
            write!(f, ".{rest}")?;
        }
        if adjusted >= 0 {
            write!(f, "E+{adjusted}")
        } else {
            write!(f, "E{adjusted}")
        }
    }
}

/// A big integer from its serialized `varint` form (empty: zero).
pub fn varint_from_bytes(bytes: &[u8]) -> BigInt {
    BigInt::from_signed_bytes_be(bytes)
}

/// The serialized `varint` form (minimal two's complement, as `BigInteger.toByteArray`).
pub fn varint_to_bytes(v: &BigInt) -> Vec<u8> {
    v.to_signed_bytes_be()
}

/// Parses Java's `new BigInteger(String)`: optional sign then decimal digits.
pub fn parse_bigint(text: &str) -> Option<BigInt> {
    let digits = text
        .strip_prefix('-')
        .or_else(|| text.strip_prefix('+'))
        .unwrap_or(text);
    if digits.is_empty()
        || digits.len() as u64 > MAX_DECIMAL_DIGITS
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let magnitude: BigInt = digits.parse().ok()?;
    Some(if text.starts_with('-') {
        -magnitude
    } else {
        magnitude
    })
}

/// The low 64 bits of `v` as a signed integer (`BigInteger.longValue()`).
pub fn bigint_low_i64(v: &BigInt) -> i64 {
    let bytes = v.to_signed_bytes_le();
    let mut buf = [if v.is_negative() { 0xffu8 } else { 0 }; 8];
    for (slot, b) in buf.iter_mut().zip(bytes.iter()) {
        *slot = *b;
    }
    i64::from_le_bytes(buf)
}

/// `BigInteger.doubleValue()`.
pub fn bigint_to_f64(v: &BigInt) -> f64 {
    v.to_f64().unwrap_or(if v.is_negative() {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    })
}

/// Java's `(long) d` conversion: truncation toward zero, saturating, NaN to 0.
pub fn f64_to_i64_java(d: f64) -> i64 {
    if d.is_nan() {
        0
    } else {
        d as i64
    }
}

/// Java's `(int) d` conversion.
pub fn f64_to_i32_java(d: f64) -> i32 {
    if d.is_nan() {
        0
    } else {
        d as i32
    }
}

/// The shortest digits and decimal exponent of a finite non-zero value as printed by
/// Rust's `{:e}` (which round-trips, like Java's `Double.toString`): `1.25e-3` gives
/// `("125", -3)`.
fn shortest_digits(sci: &str) -> (String, i32) {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits, exp)
}

/// Java's formatting of a finite non-zero value from its shortest digits.
fn java_float_format(negative: bool, sci: &str) -> String {
    let (digits, exp) = shortest_digits(sci);
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if (-3..7).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() > int_len {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            } else {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// Java's `Double.toString(v)`: `1.0`, `0.001`, `1.0E7`, `1.0E-4`, `NaN`, `Infinity`.
pub fn java_double_to_string(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    java_float_format(v < 0.0, &format!("{:e}", v.abs()))
}

/// Java's `Float.toString(v)`.
pub fn java_float_to_string(v: f32) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    java_float_format(v < 0.0, &format!("{:e}", v.abs()))
}

/// Parses Java's `Double.valueOf(String)` syntax (decimal forms, `NaN`, `Infinity`, optional
/// sign, surrounding whitespace, optional `d`/`f` suffix).
pub fn parse_java_double(text: &str) -> Option<f64> {
    let t = text.trim();
    let t = t
        .strip_suffix(['d', 'D', 'f', 'F'])
        .filter(|s| !s.is_empty() && !s.ends_with(['e', 'E']))
        .unwrap_or(t);
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    match unsigned {
        "NaN" => return Some(f64::NAN),
        "Infinity" => {
            return Some(if t.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        _ => {}
    }
    let valid = !unsigned.is_empty()
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && unsigned.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Parses Java's `Float.valueOf(String)`.
pub fn parse_java_float(text: &str) -> Option<f32> {
    let d = parse_java_double(text)?;
    if d.is_nan() {
        return Some(f32::NAN);
    }
    // Parse again as f32 directly to get correct single rounding.
    let t = text.trim();
    let t = t
        .strip_suffix(['d', 'D', 'f', 'F'])
        .filter(|s| !s.is_empty() && !s.ends_with(['e', 'E']))
        .unwrap_or(t);
    if d.is_infinite() {
        return Some(d as f32);
    }
    t.parse::<f32>().ok().or(Some(d as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|| panic!("bad decimal {s}"))
    }

    #[test]
    fn decimal_parse_and_display_follow_java() {
        let cases = [
            ("1.5", "1.5"),
            ("-0.005", "-0.005"),
            ("1e3", "1E+3"),
            ("1.23E-10", "1.23E-10"),
            ("123.456e2", "12345.6"),
            ("0.0000001", "1E-7"),
            ("0.000001", "0.000001"),
            ("-1.0", "-1.0"),
            ("+7", "7"),
            ("0e5", "0E+5"),
            (".5", "0.5"),
            ("5.", "5"),
        ];
        for (input, expected) in cases {
            assert_eq!(d(input).to_string(), expected, "{input}");
        }
        for bad in ["", "-", "1e", "e5", "1.2.3", "abc", "1e+-5", "NaN", "1_0"] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
        assert!(Decimal::parse("1e99999999999").is_none());
    }

    #[test]
    fn decimal_bytes_round_trip() {
        let v = d("-123.4500");
        let bytes = v.to_bytes();
        assert_eq!(&bytes[..4], &[0, 0, 0, 4]);
        assert_eq!(Decimal::from_bytes(&bytes), Some(v));
        assert_eq!(Decimal::from_bytes(&[0, 0, 0]), None);
    }

    #[test]
    fn decimal_arithmetic() {
        assert_eq!(
            d("1.5").add(&d("2.25")).map(|v| v.to_string()),
            Ok("3.75".into())
        );
        assert_eq!(
            d("1.5").sub(&d("2.25")).map(|v| v.to_string()),
            Ok("-0.75".into())
        );
        assert_eq!(
            d("1.5").mul(&d("2.25")).map(|v| v.to_string()),
            Ok("3.375".into())
        );
        assert_eq!(
            d("1").div(&d("3")).map(|v| v.to_string()),
            Ok("0.33333333333333333333333333333333".into())
        );
        assert_eq!(
            d("10").div(&d("4")).map(|v| v.to_string()),
            Ok("2.5".into())
        );
        assert_eq!(
            d("7.5").rem(&d("2")).map(|v| v.to_string()),
            Ok("1.5".into())
        );
        assert_eq!(d("-7").rem(&d("2")).map(|v| v.to_string()), Ok("-1".into()));
        assert!(d("1").div(&d("0")).is_err());
        assert!(d("1e2000000000").add(&d("1")).is_err());
        assert_eq!(d("1.0").cmp_value(&d("1.00")), Ordering::Equal);
        assert_eq!(d("-2").cmp_value(&d("1e-9")), Ordering::Less);
        assert_eq!(d("12e3").cmp_value(&d("11999.99")), Ordering::Greater);
        assert_eq!(
            d("3")
                .divide_to_scale(&d("2"), 0, true)
                .map(|v| v.to_string()),
            Ok("2".into())
        );
        assert_eq!(
            d("5")
                .divide_to_scale(&d("2"), 0, true)
                .map(|v| v.to_string()),
            Ok("2".into())
        );
        assert_eq!(d("1.99").to_bigint(), Ok(BigInt::from(1)));
        assert_eq!(d("-1.99").to_bigint(), Ok(BigInt::from(-1)));
        assert_eq!(d("12E+2").to_bigint(), Ok(BigInt::from(1200)));
    }

    #[test]
    fn java_float_strings() {
        let cases: [(f64, &str); 10] = [
            (1.0, "1.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (123.456, "123.456"),
            (-1.5e-10, "-1.5E-10"),
            (1e21, "1.0E21"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, expected) in cases {
            assert_eq!(java_double_to_string(v), expected);
        }
        assert_eq!(java_float_to_string(1.1), "1.1");
        assert_eq!(java_float_to_string(1.0e10), "1.0E10");
        assert_eq!(java_double_to_string(-0.0), "-0.0");
        assert_eq!(parse_java_double("1.5d"), Some(1.5));
        assert_eq!(parse_java_double(" -Infinity "), Some(f64::NEG_INFINITY));
        assert_eq!(parse_java_double("abc"), None);
        assert_eq!(parse_java_double("inf"), None);
        assert_eq!(parse_java_float("1.1"), Some(1.1f32));
    }

    #[test]
    fn bigint_helpers() {
        assert_eq!(parse_bigint("-12"), Some(BigInt::from(-12)));
        assert_eq!(parse_bigint("1.0"), None);
        assert_eq!(varint_to_bytes(&BigInt::from(128)), vec![0, 128]);
        assert_eq!(varint_from_bytes(&[0xff]), BigInt::from(-1));
        assert_eq!(bigint_low_i64(&(BigInt::from(u64::MAX) + 2u8)), 1);
        assert_eq!(bigint_low_i64(&BigInt::from(-5)), -5);
        assert_eq!(f64_to_i32_java(f64::NAN), 0);
        assert_eq!(f64_to_i32_java(1e20), i32::MAX);
    }
}
