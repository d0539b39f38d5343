//! Frame body compression (native protocol v4 §5): LZ4 and Snappy.
//!
//! * LZ4 uses Cassandra's layout: a 4-byte big-endian uncompressed length, then one raw LZ4
//!   block (not the LZ4 frame format, and not `lz4_flex`'s little-endian size prefix).
//! * Snappy is the raw Snappy format (not the framed/streaming one).
//!
//! Decompression is bounded: the uncompressed size announced in the body is checked against
//! the caller's limit before any buffer is allocated, and the output must have exactly that
//! size. Corrupt input yields a [`DecodeError`], never a panic.

use std::fmt;

use crate::error::{DecodeError, EncodeError};

/// A negotiated body compression algorithm (the STARTUP `COMPRESSION` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// `"lz4"`.
    Lz4,
    /// `"snappy"`.
    Snappy,
}

impl Compression {
    /// The algorithms this codec implements, in the order a server should advertise them.
    pub const ALL: [Compression; 2] = [Compression::Lz4, Compression::Snappy];

    /// The name used in STARTUP and SUPPORTED (`"lz4"`, `"snappy"`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Lz4 => "lz4",
            Compression::Snappy => "snappy",
        }
    }

    /// Parses a STARTUP `COMPRESSION` value. Cassandra lower-cases it first, so this is
    /// case-insensitive. `None` for an unknown algorithm.
    pub fn from_name(name: &str) -> Option<Compression> {
        Compression::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// Compresses `body`, returning the bytes to put after the frame header.
    pub fn compress(self, body: &[u8]) -> Result<Vec<u8>, EncodeError> {
        match self {
            Compression::Lz4 => {
                let uncompressed_len =
                    u32::try_from(body.len()).map_err(|_| EncodeError::TooLong {
                        what: "lz4 body",
                        length: body.len(),
                        max: u32::MAX as usize,
                    })?;
                let mut out =
                    Vec::with_capacity(4 + lz4_flex::block::get_maximum_output_size(body.len()));
                out.extend_from_slice(&uncompressed_len.to_be_bytes());
                out.extend_from_slice(&lz4_flex::block::compress(body));
                Ok(out)
            }
            Compression::Snappy => {
                snap::raw::Encoder::new()
                    .compress_vec(body)
                    .map_err(|e| EncodeError::Compression {
                        algorithm: "snappy",
                        detail: e.to_string(),
                    })
            }
        }
    }

    /// Decompresses a body, refusing output larger than `max_uncompressed_bytes`.
    pub fn decompress(
        self,
        body: &[u8],
        max_uncompressed_bytes: usize,
    ) -> Result<Vec<u8>, DecodeError> {
        match self {
            Compression::Lz4 => {
                let (prefix, block) = match body.split_first_chunk::<4>() {
                    Some(split) => split,
                    None => {
                        return Err(DecodeError::CorruptCompressedBody {
                            algorithm: "lz4",
                            detail: format!(
                                "body of {} bytes is shorter than the 4-byte length prefix",
                                body.len()
                            ),
                        })
                    }
                };
                let uncompressed_len = u32::from_be_bytes(*prefix);
                let len = usize::try_from(uncompressed_len).unwrap_or(usize::MAX);
                if len > max_uncompressed_bytes {
                    return Err(DecodeError::DecompressedTooLarge {
                        uncompressed_bytes: u64::from(uncompressed_len),
                        max_bytes: max_uncompressed_bytes,
                    });
                }
                let mut out = vec![0u8; len];
                let written = lz4_flex::block::decompress_into(block, &mut out).map_err(|e| {
                    DecodeError::CorruptCompressedBody {
                        algorithm: "lz4",
                        detail: e.to_string(),
                    }
                })?;
                if written != len {
                    return Err(DecodeError::CorruptCompressedBody {
                        algorithm: "lz4",
                        detail: format!(
                            "block decompressed to {written} bytes, the prefix announced {len}"
                        ),
                    });
                }
                Ok(out)
            }
            Compression::Snappy => {
                let corrupt = |e: snap::Error| DecodeError::CorruptCompressedBody {
                    algorithm: "snappy",
                    detail: e.to_string(),
                };
                let len = snap::raw::decompress_len(body).map_err(corrupt)?;
                if len > max_uncompressed_bytes {
                    return Err(DecodeError::DecompressedTooLarge {
                        uncompressed_bytes: u64::try_from(len).unwrap_or(u64::MAX),
                        max_bytes: max_uncompressed_bytes,
                    });
                }
                let mut out = vec![0u8; len];
                let written = snap::raw::Decoder::new()
                    .decompress(body, &mut out)
                    .map_err(corrupt)?;
                out.truncate(written);
                Ok(out)
            }
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Compression::from_name("lz4"), Some(Compression::Lz4));
        assert_eq!(Compression::from_name("LZ4"), Some(Compression::Lz4));
        assert_eq!(Compression::from_name("snappy"), Some(Compression::Snappy));
        assert_eq!(Compression::from_name("zstd"), None);
    }

    #[test]
    fn lz4_layout_is_big_endian_length_then_block() {
        let body = b"hello hello hello hello hello";
        let compressed = Compression::Lz4.compress(body).unwrap();
        assert_eq!(&compressed[..4], &(body.len() as u32).to_be_bytes());
        assert_eq!(
            lz4_flex::block::decompress(&compressed[4..], body.len()).unwrap(),
            body
        );
        assert_eq!(
            Compression::Lz4.decompress(&compressed, 1024).unwrap(),
            body
        );
    }

    #[test]
    fn round_trips_including_empty() {
        for c in Compression::ALL {
            for body in [&b""[..], b"x", &[7u8; 10_000][..]] {
                let compressed = c.compress(body).unwrap();
                assert_eq!(c.decompress(&compressed, 1 << 20).unwrap(), body, "{c}");
            }
        }
    }

    #[test]
    fn bounded_and_corrupt_input_rejected() {
        let body = vec![1u8; 4096];
        for c in Compression::ALL {
            let compressed = c.compress(&body).unwrap();
            assert!(matches!(
                c.decompress(&compressed, 4095),
                Err(DecodeError::DecompressedTooLarge {
                    uncompressed_bytes: 4096,
                    max_bytes: 4095
                })
            ));
            // Truncations of a valid body are errors, never panics.
            for cut in 0..compressed.len() {
                assert!(
                    c.decompress(&compressed[..cut], 1 << 20).is_err(),
                    "{c} cut {cut}"
                );
            }
        }
        // A huge announced LZ4 length is refused before allocating.
        assert!(matches!(
            Compression::Lz4.decompress(&[0xFF, 0xFF, 0xFF, 0xFF, 0], 1 << 20),
            Err(DecodeError::DecompressedTooLarge { .. })
        ));
        // A length prefix that does not match the block is corrupt.
        let mut wrong = Compression::Lz4.compress(b"abcdefgh").unwrap();
        wrong[3] = 9;
        assert!(matches!(
            Compression::Lz4.decompress(&wrong, 1024),
            Err(DecodeError::CorruptCompressedBody {
                algorithm: "lz4",
                ..
            })
        ));
        assert!(matches!(
            Compression::Snappy.decompress(&[0xFF, 0xFF, 0xFF], 1024),
            Err(DecodeError::CorruptCompressedBody {
                algorithm: "snappy",
                ..
            })
        ));
    }
}
