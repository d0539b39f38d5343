//! The SSTable's partition-key bloom filter: a stable 64-bit key hash, construction (sized
//! from the expected partition count and the configured false-positive rate), and the bloom
//! section encoding.
//!
//! Invariant: the bits are addressed exactly as `docs/sstable-format.md` specifies. We feed
//! `fastbloom` our own stable [`key_hash`] (never its randomly-seeded hasher) through
//! `insert_hash` / `contains_hash`, so a filter written by one process is readable by any other.
//! fastbloom's probe sequence is part of our file format; `probe_sequence_is_pinned` below
//! re-implements the documented algorithm and fails if a fastbloom upgrade ever changes it.

use fastbloom::BloomFilter;

use super::format::{
    put_u32, put_u64, Corruption, Decoder, BLOOM_SECTION_FIXED_SIZE_BYTES, MAX_BLOOM_HASHES,
};

/// Largest bloom filter the writer will build, in bytes (caps a wildly wrong size hint).
pub(crate) const MAX_BLOOM_SIZE_BYTES: u64 = 512 << 20;
/// While the partition count is unknown the writer buffers key hashes (8 bytes each); past
/// this many it commits to a filter sized for [`BUFFERED_OVERFLOW_GROWTH`] times as many keys.
pub(crate) const MAX_BUFFERED_BLOOM_HASHES: usize = 4 << 20;
/// Growth factor applied when the hash buffer overflows (see above).
const BUFFERED_OVERFLOW_GROWTH: u64 = 4;

const SEED: u64 = 0x6d65_7269_6469_616e; // "meridian"
const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// MurmurHash3's 64-bit finalizer.
#[inline]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Stable 64-bit hash of a partition key (token and key bytes), as specified in the format doc.
#[inline]
pub(crate) fn key_hash(token: i64, key: &[u8]) -> u64 {
    let mut h = fmix64((token as u64) ^ SEED);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        h = (h ^ fmix64(u64::from_le_bytes(w)))
            .rotate_left(29)
            .wrapping_mul(MIX);
    }
    let rem = chunks.remainder();
    let mut tail = [0u8; 8];
    tail[..rem.len()].copy_from_slice(rem);
    h = (h ^ fmix64(u64::from_le_bytes(tail)))
        .rotate_left(29)
        .wrapping_mul(MIX);
    fmix64(h ^ key.len() as u64)
}

/// Builds an empty filter for `expected_items` keys at `fp_rate`, capped at
/// [`MAX_BLOOM_SIZE_BYTES`].
pub(crate) fn new_filter(expected_items: u64, fp_rate: f64) -> BloomFilter {
    let items = expected_items.max(1);
    let items_usize = usize::try_from(items).unwrap_or(usize::MAX);
    let bits = (fastbloom::optimal_size(items_usize, fp_rate) as u64).min(MAX_BLOOM_SIZE_BYTES * 8);
    let words = bits.div_ceil(64).max(1);
    let hashes =
        fastbloom::optimal_hashes((words * 64) as usize, items_usize).clamp(1, MAX_BLOOM_HASHES);
    BloomFilter::from_vec(vec![0u64; words as usize]).hashes(hashes)
}

/// Writer-side filter state.
pub(crate) enum BloomBuilder {
    /// `fp_rate >= 1.0`: no filter is written; readers treat every key as possibly present.
    Disabled,
    /// Partition count unknown: hashes are buffered and the filter is sized exactly at finish.
    Buffering { hashes: Vec<u64>, fp_rate: f64 },
    /// Filter allocated up front (from a size hint, or after the buffer overflowed).
    Filter { filter: BloomFilter, fp_rate: f64 },
}

impl BloomBuilder {
    pub(crate) fn new(fp_rate: f64, expected_items: Option<u64>) -> Self {
        if fp_rate >= 1.0 {
            return BloomBuilder::Disabled;
        }
        match expected_items {
            Some(n) => BloomBuilder::Filter {
                filter: new_filter(n, fp_rate),
                fp_rate,
            },
            None => BloomBuilder::Buffering {
                hashes: Vec::new(),
                fp_rate,
            },
        }
    }

    pub(crate) fn insert(&mut self, hash: u64) {
        match self {
            BloomBuilder::Disabled => {}
            BloomBuilder::Filter { filter, .. } => {
                filter.insert_hash(hash);
            }
            BloomBuilder::Buffering { hashes, fp_rate } => {
                hashes.push(hash);
                if hashes.len() >= MAX_BUFFERED_BLOOM_HASHES {
                    let mut filter =
                        new_filter(hashes.len() as u64 * BUFFERED_OVERFLOW_GROWTH, *fp_rate);
                    for &h in hashes.iter() {
                        filter.insert_hash(h);
                    }
                    *self = BloomBuilder::Filter {
                        filter,
                        fp_rate: *fp_rate,
                    };
                }
            }
        }
    }

    /// Encodes the bloom section.
    pub(crate) fn finish(self) -> Vec<u8> {
        let (filter, fp_rate) = match self {
            BloomBuilder::Disabled => (None, 1.0),
            BloomBuilder::Filter { filter, fp_rate } => (Some(filter), fp_rate),
            BloomBuilder::Buffering { hashes, fp_rate } => {
                let mut filter = new_filter(hashes.len() as u64, fp_rate);
                for h in hashes {
                    filter.insert_hash(h);
                }
                (Some(filter), fp_rate)
            }
        };
        encode_section(filter.as_ref(), fp_rate)
    }
}

fn encode_section(filter: Option<&BloomFilter>, fp_rate: f64) -> Vec<u8> {
    let words: &[u64] = filter.map(|f| f.as_slice()).unwrap_or(&[]);
    let mut out = Vec::with_capacity(BLOOM_SECTION_FIXED_SIZE_BYTES + words.len() * 8);
    put_u32(&mut out, filter.map(|f| f.num_hashes()).unwrap_or(0));
    put_u32(&mut out, 0); // reserved
    put_u64(&mut out, fp_rate.to_bits());
    put_u64(&mut out, words.len() as u64);
    for w in words {
        put_u64(&mut out, *w);
    }
    out
}

/// Decodes the bloom section. `Ok(None)` means "no filter" (every key may be present).
pub(crate) fn decode_section(
    buf: &[u8],
    section_offset: u64,
) -> Result<(Option<BloomFilter>, f64), Corruption> {
    let mut d = Decoder::new(buf, section_offset);
    let hashes = d.u32("bloom hash count")?;
    if d.u32("bloom reserved")? != 0 {
        return Err(Corruption::new(
            section_offset + 4,
            "non-zero reserved bloom bytes",
        ));
    }
    let fp_rate = f64::from_bits(d.u64("bloom fp rate")?);
    let words_at = d.offset();
    let word_count = d.u64("bloom word count")?;
    if word_count.checked_mul(8) != Some(d.remaining() as u64) {
        return Err(Corruption::new(
            words_at,
            format!("bloom word count {word_count} does not match the section size"),
        ));
    }
    if hashes == 0 || word_count == 0 {
        if hashes != 0 || word_count != 0 {
            return Err(Corruption::new(
                section_offset,
                "bloom filter with zero hashes or zero words",
            ));
        }
        d.finish("bloom section")?;
        return Ok((None, fp_rate));
    }
    if hashes > MAX_BLOOM_HASHES {
        return Err(Corruption::new(
            section_offset,
            format!("bloom hash count {hashes} exceeds {MAX_BLOOM_HASHES}"),
        ));
    }
    let bytes = d.bytes(d.remaining(), "bloom words")?;
    let words: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            u64::from_le_bytes(w)
        })
        .collect();
    Ok((Some(BloomFilter::from_vec(words).hashes(hashes)), fp_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent implementation of the probe sequence documented in docs/sstable-format.md.
    fn documented_probe_bits(hash: u64, num_bits: u64, hashes: u32) -> Vec<u64> {
        let index = |h: u64| ((u128::from(h) * u128::from(num_bits)) >> 64) as u64;
        let mut out = vec![index(hash)];
        let mut h1 = hash;
        let h2 = hash.wrapping_mul(0x517c_c1b7_2722_0a95);
        for _ in 1..hashes {
            h1 = h1.rotate_left(5).wrapping_add(h2);
            out.push(index(h1));
        }
        out
    }

    #[test]
    fn probe_sequence_is_pinned() {
        let mut filter = new_filter(1000, 0.01);
        let num_bits = filter.num_bits() as u64;
        let k = filter.num_hashes();
        let mut expected = vec![0u64; filter.as_slice().len()];
        for i in 0..1000i64 {
            let h = key_hash(i * 7919, format!("key-{i}").as_bytes());
            filter.insert_hash(h);
            for bit in documented_probe_bits(h, num_bits, k) {
                expected[(bit >> 6) as usize] |= 1u64 << (bit & 63);
            }
        }
        assert_eq!(filter.as_slice(), &expected[..]);
    }

    #[test]
    fn key_hash_is_stable() {
        // Golden values (cross-checked against an independent implementation of the algorithm
        // in docs/sstable-format.md): changing them breaks every existing file's bloom filter.
        assert_eq!(key_hash(0, b""), 0xc1b8_516d_a6a4_8ae8);
        assert_eq!(key_hash(42, b"abcdefgh-tail"), 0x0636_6019_eb6f_55b1);
        assert_eq!(key_hash(-1, b"12345678"), 0xf8f3_6b19_ac62_7213);
        assert_ne!(key_hash(42, b"ab"), key_hash(42, b"ab\0"));
        assert_ne!(key_hash(42, b"ab"), key_hash(43, b"ab"));
    }

    #[test]
    fn section_round_trip() {
        let mut b = BloomBuilder::new(0.01, None);
        for i in 0..500i64 {
            b.insert(key_hash(i, b"k"));
        }
        let section = b.finish();
        let (filter, fp) = decode_section(&section, 0).expect("decode");
        let filter = filter.expect("filter present");
        assert_eq!(fp, 0.01);
        for i in 0..500i64 {
            assert!(filter.contains_hash(key_hash(i, b"k")));
        }
        let disabled = BloomBuilder::new(1.0, None).finish();
        assert!(decode_section(&disabled, 0).expect("decode").0.is_none());
    }
}
