//! Numeric comparators that need more than a fixed-width integer comparison: `varint`
//! (arbitrary-precision two's complement), `decimal` (`i32` scale + varint unscaled value,
//! compared by numeric value like Java's `BigDecimal.compareTo`) and Java's
//! `Float.compare` / `Double.compare` orders.
//!
//! Decimal comparison never materializes `10^scale` blindly: bit-length bounds decide most
//! comparisons, and the exact multiplication only runs when the two magnitudes are within a
//! few bits of each other, which bounds its size by the operands' sizes. Operands larger
//! than [`MAX_DECIMAL_COMPARE_UNSCALED_BYTES`] are not compared numerically (the caller
//! orders them as malformed), which bounds the work per comparison.

use std::cmp::Ordering;

/// Largest unscaled value, in bytes, that `decimal` comparison handles numerically
/// (about 9,860 decimal digits). Larger decimals are ordered after all others, by bytes.
pub(super) const MAX_DECIMAL_COMPARE_UNSCALED_BYTES: usize = 4096;

/// Strips redundant sign-extension bytes from a non-empty two's complement integer.
fn minimal_twos_complement(mut v: &[u8]) -> &[u8] {
    while let [b0, b1, ..] = v {
        let redundant = (*b0 == 0x00 && b1 & 0x80 == 0) || (*b0 == 0xff && b1 & 0x80 != 0);
        if !redundant {
            break;
        }
        v = &v[1..];
    }
    v
}

/// Numeric order of two varints (big-endian two's complement). The empty value must be
/// handled by the caller; here an empty slice is treated as zero.
pub(super) fn compare_varint(a: &[u8], b: &[u8]) -> Ordering {
    let a = minimal_twos_complement(a);
    let b = minimal_twos_complement(b);
    let neg_a = a.first().is_some_and(|b0| b0 & 0x80 != 0);
    let neg_b = b.first().is_some_and(|b0| b0 & 0x80 != 0);
    match (neg_a, neg_b) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        // Same sign: a longer minimal encoding has a larger magnitude; at equal length the
        // unsigned byte order is the numeric order.
        (false, false) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        (true, true) => b.len().cmp(&a.len()).then_with(|| a.cmp(b)),
    }
}

/// Splits a decimal into `(scale, unscaled)` when it can be compared numerically: a 4-byte
/// scale followed by a non-empty unscaled value of at most
/// [`MAX_DECIMAL_COMPARE_UNSCALED_BYTES`].
pub(super) fn decimal_parts(v: &[u8]) -> Option<(i32, &[u8])> {
    let (scale, unscaled) = v.split_first_chunk::<4>()?;
    if unscaled.is_empty() || unscaled.len() > MAX_DECIMAL_COMPARE_UNSCALED_BYTES {
        return None;
    }
    Some((i32::from_be_bytes(*scale), unscaled))
}

/// Little-endian `u32` limbs of a non-negative integer, without high zero limbs.
type Limbs = Vec<u32>;

fn trim(limbs: &mut Limbs) {
    while limbs.last() == Some(&0) {
        limbs.pop();
    }
}

/// Sign (-1, 0, 1) and magnitude of a big-endian two's complement integer.
fn signed_magnitude(be: &[u8]) -> (i8, Limbs) {
    let negative = be.first().is_some_and(|b0| b0 & 0x80 != 0);
    let mut bytes = be.to_vec();
    if negative {
        for b in bytes.iter_mut() {
            *b = !*b;
        }
        for b in bytes.iter_mut().rev() {
            let (sum, overflow) = b.overflowing_add(1);
            *b = sum;
            if !overflow {
                break;
            }
        }
    }
    let mut limbs: Limbs = bytes
        .rchunks(4)
        .map(|chunk| chunk.iter().fold(0u32, |w, &b| (w << 8) | u32::from(b)))
        .collect();
    trim(&mut limbs);
    let sign = if limbs.is_empty() {
        0
    } else if negative {
        -1
    } else {
        1
    };
    (sign, limbs)
}

fn bit_len(limbs: &Limbs) -> u64 {
    match limbs.last() {
        None => 0,
        Some(top) => (limbs.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
    }
}

fn cmp_magnitude(a: &Limbs, b: &Limbs) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

fn mul_small(limbs: &mut Limbs, factor: u32) {
    let mut carry = 0u64;
    for limb in limbs.iter_mut() {
        let product = u64::from(*limb) * u64::from(factor) + carry;
        *limb = product as u32;
        carry = product >> 32;
    }
    if carry > 0 {
        limbs.push(carry as u32);
    }
}

fn mul_pow10(limbs: &mut Limbs, mut exponent: u64) {
    while exponent >= 9 {
        mul_small(limbs, 1_000_000_000);
        exponent -= 9;
    }
    // exponent < 9 here, so 10^exponent fits in a u32.
    mul_small(limbs, 10u32.pow(exponent as u32));
}

/// Order of `x` against `y * 10^k` for non-zero magnitudes.
fn cmp_with_scaled(x: &Limbs, y: &Limbs, k: u64) -> Ordering {
    let bx = bit_len(x);
    let by = bit_len(y);
    // 3.321928 < log2(10) < 3.321929.
    let low_bits = k.saturating_mul(3_321_928) / 1_000_000;
    let high_bits = k.saturating_mul(3_321_929).div_ceil(1_000_000);
    // y * 10^k >= 2^(by - 1 + low_bits) and x < 2^bx.
    if by - 1 + low_bits >= bx {
        return Ordering::Less;
    }
    // y * 10^k < 2^(by + high_bits) and x >= 2^(bx - 1).
    if by + high_bits < bx {
        return Ordering::Greater;
    }
    // Here 3.32 * k < bx - by + 2, so the product is at most a few bits longer than x.
    let mut scaled = y.clone();
    mul_pow10(&mut scaled, k);
    cmp_magnitude(x, &scaled)
}

/// Numeric order of two decimals given as `(scale, unscaled)`: value = unscaled * 10^-scale.
/// `1.0` and `1.00` are equal, as with `BigDecimal.compareTo`.
pub(super) fn compare_decimal(a: (i32, &[u8]), b: (i32, &[u8])) -> Ordering {
    let (sign_a, mag_a) = signed_magnitude(a.1);
    let (sign_b, mag_b) = signed_magnitude(b.1);
    if sign_a != sign_b || sign_a == 0 {
        return sign_a.cmp(&sign_b);
    }
    let scale_diff = i64::from(a.0) - i64::from(b.0);
    let magnitude_order = match scale_diff.cmp(&0) {
        Ordering::Equal => cmp_magnitude(&mag_a, &mag_b),
        // a has more fractional digits: compare mag_a with mag_b * 10^diff.
        Ordering::Greater => cmp_with_scaled(&mag_a, &mag_b, scale_diff.unsigned_abs()),
        Ordering::Less => cmp_with_scaled(&mag_b, &mag_a, scale_diff.unsigned_abs()).reverse(),
    };
    if sign_a < 0 {
        magnitude_order.reverse()
    } else {
        magnitude_order
    }
}

/// Java's `Float.compare`: numeric, with `-0.0 < 0.0` and every NaN equal to every other
/// NaN and greater than everything else.
pub(super) fn java_float_cmp(a: f32, b: f32) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.total_cmp(&b),
    }
}

/// Java's `Double.compare` (see [`java_float_cmp`]).
pub(super) fn java_double_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.total_cmp(&b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn varint(v: i128) -> Vec<u8> {
        minimal_twos_complement(&v.to_be_bytes()).to_vec()
    }

    fn padded(v: i128, extra: usize) -> Vec<u8> {
        let fill = if v < 0 { 0xff } else { 0x00 };
        let mut out = vec![fill; extra];
        out.extend(varint(v));
        out
    }

    fn decimal(unscaled: i128, scale: i32) -> (i32, Vec<u8>) {
        (scale, varint(unscaled))
    }

    #[test]
    fn varint_encodings() {
        assert_eq!(varint(0), vec![0]);
        assert_eq!(varint(-1), vec![0xff]);
        assert_eq!(varint(127), vec![0x7f]);
        assert_eq!(varint(128), vec![0x00, 0x80]);
        assert_eq!(varint(-128), vec![0x80]);
        assert_eq!(varint(-129), vec![0xff, 0x7f]);
    }

    #[test]
    fn decimal_examples() {
        let cmp = |a: (i32, Vec<u8>), b: (i32, Vec<u8>)| compare_decimal((a.0, &a.1), (b.0, &b.1));
        // 1.0 == 1.00 < 1.01
        assert_eq!(cmp(decimal(10, 1), decimal(100, 2)), Ordering::Equal);
        assert_eq!(cmp(decimal(100, 2), decimal(101, 2)), Ordering::Less);
        // 0 at any scale is 0.
        assert_eq!(cmp(decimal(0, 5), decimal(0, -7)), Ordering::Equal);
        assert_eq!(cmp(decimal(-1, 0), decimal(0, 0)), Ordering::Less);
        // -1.5 < -1.4
        assert_eq!(cmp(decimal(-15, 1), decimal(-14, 1)), Ordering::Less);
        // 1e10 (scale -10) > 9999999999
        assert_eq!(
            cmp(decimal(1, -10), decimal(9_999_999_999, 0)),
            Ordering::Greater
        );
        assert_eq!(
            cmp(decimal(1, -10), decimal(10_000_000_000, 0)),
            Ordering::Equal
        );
        // Extreme scales are decided by the bounds without huge allocations.
        assert_eq!(
            cmp(decimal(1, i32::MIN), decimal(i128::MAX, i32::MAX)),
            Ordering::Greater
        );
        assert_eq!(
            cmp(decimal(-1, i32::MIN), decimal(-1, i32::MAX)),
            Ordering::Less
        );
    }

    #[test]
    fn float_order_is_java_order() {
        assert_eq!(java_float_cmp(-0.0, 0.0), Ordering::Less);
        assert_eq!(java_float_cmp(f32::NAN, f32::INFINITY), Ordering::Greater);
        assert_eq!(
            java_float_cmp(f32::from_bits(0xffc0_0001), f32::NAN),
            Ordering::Equal
        );
        assert_eq!(java_double_cmp(-1.0, f64::NEG_INFINITY), Ordering::Greater);
        assert_eq!(java_double_cmp(f64::NAN, f64::NAN), Ordering::Equal);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn varint_order_matches_integers(a in any::<i64>(), b in any::<i64>(), pa in 0usize..3, pb in 0usize..3) {
            let (ea, eb) = (padded(a.into(), pa), padded(b.into(), pb));
            prop_assert_eq!(compare_varint(&ea, &eb), a.cmp(&b));
        }

        #[test]
        fn decimal_order_matches_exact_rationals(
            ua in -1_000_000i64..1_000_000, sa in -6i32..6,
            ub in -1_000_000i64..1_000_000, sb in -6i32..6,
        ) {
            // Compare ua * 10^-sa with ub * 10^-sb exactly in i128 by scaling to a common scale.
            let common = sa.max(sb);
            let va = i128::from(ua) * 10i128.pow((common - sa) as u32);
            let vb = i128::from(ub) * 10i128.pow((common - sb) as u32);
            let (ea, eb) = (decimal(ua.into(), sa), decimal(ub.into(), sb));
            prop_assert_eq!(compare_decimal((ea.0, &ea.1), (eb.0, &eb.1)), va.cmp(&vb));
        }

        #[test]
        fn decimal_close_magnitudes_with_large_scale_gap(k in 0u32..60, delta in -2i128..=2, neg in any::<bool>()) {
            // x = 10^k + delta at scale k vs 1 at scale 0: compares like delta vs 0.
            let x = 10i128.pow(k.min(37)) + delta;
            let k = k.min(37);
            let sign = if neg { -1 } else { 1 };
            let a = decimal(sign * x, k as i32);
            let b = decimal(sign, 0);
            let expected = if neg { 0.cmp(&delta) } else { delta.cmp(&0) };
            prop_assert_eq!(compare_decimal((a.0, &a.1), (b.0, &b.1)), expected);
        }
    }
}
