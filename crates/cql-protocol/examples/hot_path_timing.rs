//! Times the two hot paths; run with
//! `cargo run --release -p meridian-cql-protocol --example hot_path_timing`.
//!
//! * decoding one EXECUTE frame (3 values, paging, serial consistency, timestamp) out of a
//!   connection buffer and iterating its values;
//! * writing a Rows RESULT frame (3 columns, 3 rows) into an output buffer.

use std::hint::black_box;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use meridian_cql_protocol::*;

const FRAMES_PER_BATCH: usize = 10_000;
const BATCHES: usize = 20;

fn main() {
    let limits = FrameLimits::default();
    let params = QueryParameters {
        consistency: Consistency::LocalQuorum,
        values: QueryValues::positional(
            &[
                Value::Bytes(Bytes::from_static(&[0, 0, 0, 42])),
                Value::Bytes(Bytes::from_static(b"some text value")),
                Value::Null,
            ],
            ProtocolVersion::V4,
        )
        .expect("encodable values"),
        skip_metadata: true,
        page_size: Some(5000),
        paging_state: None,
        serial_consistency: Some(Consistency::Serial),
        default_timestamp_micros: Some(1_700_000_000_000_000),
    };
    let mut one = BytesMut::new();
    RequestMessage::new(Request::Execute(Execute {
        id: PreparedId(Bytes::from_static(&[7; 16])),
        params,
    }))
    .encode_frame(&mut one, ProtocolVersion::V4, StreamId(1), None, &limits)
    .expect("encodable frame");
    let mut input = BytesMut::with_capacity(one.len() * FRAMES_PER_BATCH);
    for _ in 0..FRAMES_PER_BATCH {
        input.extend_from_slice(&one);
    }

    let mut best_decode_ns = f64::MAX;
    for _ in 0..BATCHES {
        let mut buf = input.clone();
        let start = Instant::now();
        let mut total = 0usize;
        while let Some(frame) = decode_frame(&mut buf, &limits).expect("valid frame") {
            let message = decode_request(&frame, None, &limits).expect("valid body");
            if let Request::Execute(execute) = message.request {
                for (_, value) in execute.params.values.iter() {
                    if let Value::Bytes(b) = value {
                        total += b.len();
                    }
                }
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / FRAMES_PER_BATCH as f64;
        black_box(total);
        best_decode_ns = best_decode_ns.min(ns);
    }

    let metadata = RowsMetadata::new(vec![
        ColumnSpec::new("ks", "users", "id", ColumnTypeSpec::Int),
        ColumnSpec::new("ks", "users", "name", ColumnTypeSpec::Varchar),
        ColumnSpec::new("ks", "users", "score", ColumnTypeSpec::Bigint),
    ]);
    let mut out = BytesMut::with_capacity(256 * FRAMES_PER_BATCH);
    let mut best_encode_ns = f64::MAX;
    for _ in 0..BATCHES {
        out.clear();
        let start = Instant::now();
        for stream in 0..FRAMES_PER_BATCH {
            let builder = begin_response_frame(
                &mut out,
                ProtocolVersion::V4,
                StreamId((stream % 32768) as i16),
                Opcode::Result,
                &ResponseExtras::default(),
            )
            .expect("header");
            let mut rows =
                RowsWriter::begin(&mut out, &metadata, ProtocolVersion::V4).expect("metadata");
            for i in 0..3 {
                rows.write_int(i).expect("cell");
                rows.write_text("a user name").expect("cell");
                rows.write_bigint(i64::from(i) * 1000).expect("cell");
            }
            rows.finish().expect("rows");
            builder.finish(&mut out, None, &limits).expect("frame");
        }
        let ns = start.elapsed().as_nanos() as f64 / FRAMES_PER_BATCH as f64;
        black_box(&out);
        best_encode_ns = best_encode_ns.min(ns);
    }

    println!("decode EXECUTE frame: {best_decode_ns:.0} ns/frame");
    println!("encode 3x3 ROWS frame: {best_encode_ns:.0} ns/frame");
}
