//! Low-level readers for the serialized forms used by CQL values: big-endian `i32` length
//! prefixes (collections, tuples, UDTs) and Cassandra's variable-length integers (`vint`,
//! used by `duration` and by vectors of variable-length elements).
//!
//! Every reader takes the remaining input as `&mut &[u8]`, advances it on success and
//! returns `None` when the input is too short; nothing here panics.

/// Reads a big-endian `i32`.
pub(super) fn read_i32(rest: &mut &[u8]) -> Option<i32> {
    let (head, tail) = rest.split_first_chunk::<4>()?;
    *rest = tail;
    Some(i32::from_be_bytes(*head))
}

/// Takes `len` bytes.
pub(super) fn read_bytes<'a>(rest: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    if rest.len() < len {
        return None;
    }
    let (head, tail) = rest.split_at(len);
    *rest = tail;
    Some(head)
}

/// Result of reading one `i32`-length-prefixed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prefixed<'a> {
    /// A present value (possibly empty).
    Value(&'a [u8]),
    /// A negative length: the null value.
    Null,
}

/// Reads an `i32` length then that many bytes; a negative length is a null.
pub(super) fn read_prefixed<'a>(rest: &mut &'a [u8]) -> Option<Prefixed<'a>> {
    let len = read_i32(rest)?;
    match usize::try_from(len) {
        Ok(len) => read_bytes(rest, len).map(Prefixed::Value),
        Err(_) => Some(Prefixed::Null),
    }
}

/// Reads Cassandra's unsigned vint: the number of leading one bits of the first byte is the
/// number of extra bytes; the value is big-endian. Non-minimal encodings are accepted, as
/// Cassandra's decoder accepts them.
pub(super) fn read_unsigned_vint(rest: &mut &[u8]) -> Option<u64> {
    let (&first, mut tail) = rest.split_first()?;
    let extra = first.leading_ones() as usize;
    let extra_bytes = read_bytes(&mut tail, extra)?;
    let mut value = u64::from(first) & (0xffu64 >> extra);
    for &b in extra_bytes {
        value = (value << 8) | u64::from(b);
    }
    *rest = tail;
    Some(value)
}

/// Reads Cassandra's signed vint (zig-zag encoded unsigned vint).
pub(super) fn read_signed_vint(rest: &mut &[u8]) -> Option<i64> {
    let n = read_unsigned_vint(rest)?;
    Some(((n >> 1) as i64) ^ -((n & 1) as i64))
}

#[cfg(test)]
pub(super) mod test_support {
    //! Encoders used by tests to build well-formed values.

    /// Cassandra's unsigned vint encoding.
    pub fn unsigned_vint(value: u64) -> Vec<u8> {
        let bits = 64 - value.leading_zeros() as usize;
        // Extra bytes needed so that 7 - extra + 8 * extra >= bits.
        let extra = bits.saturating_sub(7).div_ceil(7).min(8);
        let mut out = Vec::with_capacity(extra + 1);
        if extra == 8 {
            out.push(0xff);
            out.extend_from_slice(&value.to_be_bytes());
            return out;
        }
        let be = value.to_be_bytes();
        let first_mask = !(0xffu8 >> extra);
        let first_value = if extra == 0 {
            value as u8
        } else {
            (value >> (8 * extra)) as u8
        };
        out.push(first_mask | first_value);
        out.extend_from_slice(&be[8 - extra..]);
        out
    }

    /// Cassandra's signed (zig-zag) vint encoding.
    pub fn signed_vint(value: i64) -> Vec<u8> {
        unsigned_vint(((value << 1) ^ (value >> 63)) as u64)
    }

    /// An `i32`-length-prefixed value (`None` = null).
    pub fn prefixed(value: Option<&[u8]>) -> Vec<u8> {
        match value {
            None => (-1i32).to_be_bytes().to_vec(),
            Some(v) => {
                let mut out = (v.len() as i32).to_be_bytes().to_vec();
                out.extend_from_slice(v);
                out
            }
        }
    }

    /// A list or set: element count then prefixed elements.
    pub fn collection(elements: &[&[u8]]) -> Vec<u8> {
        let mut out = (elements.len() as i32).to_be_bytes().to_vec();
        for e in elements {
            out.extend(prefixed(Some(e)));
        }
        out
    }

    /// A map: entry count then prefixed key, value pairs.
    pub fn map(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = (entries.len() as i32).to_be_bytes().to_vec();
        for (k, v) in entries {
            out.extend(prefixed(Some(k)));
            out.extend(prefixed(Some(v)));
        }
        out
    }

    /// A tuple or UDT value from its fields (`None` = null field).
    pub fn tuple(fields: &[Option<&[u8]>]) -> Vec<u8> {
        fields.iter().flat_map(|f| prefixed(*f)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vint_known_encodings() {
        assert_eq!(unsigned_vint(0), vec![0]);
        assert_eq!(unsigned_vint(127), vec![0x7f]);
        assert_eq!(unsigned_vint(128), vec![0x80, 0x80]);
        assert_eq!(unsigned_vint(16383), vec![0xbf, 0xff]);
        assert_eq!(unsigned_vint(16384), vec![0xc0, 0x40, 0x00]);
        assert_eq!(unsigned_vint(u64::MAX), {
            let mut v = vec![0xff];
            v.extend_from_slice(&[0xff; 8]);
            v
        });
        assert_eq!(signed_vint(-1), vec![1]);
        assert_eq!(signed_vint(1), vec![2]);
        // Non-minimal encodings decode too.
        assert_eq!(read_unsigned_vint(&mut &[0x80, 0x05][..]), Some(5));
        assert_eq!(read_unsigned_vint(&mut &[0xc0, 0x00][..]), None);
        assert_eq!(read_unsigned_vint(&mut &[][..]), None);
    }

    #[test]
    fn prefixed_reads() {
        let bytes = [0, 0, 0, 2, 9, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 5, 1];
        let mut rest = &bytes[..];
        assert_eq!(read_prefixed(&mut rest), Some(Prefixed::Value(&[9, 8])));
        assert_eq!(read_prefixed(&mut rest), Some(Prefixed::Null));
        assert_eq!(read_prefixed(&mut rest), None);
    }

    proptest! {
        #[test]
        fn vint_roundtrip(v in any::<u64>(), s in any::<i64>()) {
            let enc = unsigned_vint(v);
            let mut rest = &enc[..];
            prop_assert_eq!(read_unsigned_vint(&mut rest), Some(v));
            prop_assert!(rest.is_empty());
            let enc = signed_vint(s);
            let mut rest = &enc[..];
            prop_assert_eq!(read_signed_vint(&mut rest), Some(s));
            prop_assert!(rest.is_empty());
        }

        #[test]
        fn vint_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..12)) {
            let mut rest = &bytes[..];
            let _ = read_signed_vint(&mut rest);
        }
    }
}
