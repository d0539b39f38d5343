//! The hot paths allocate nothing: decoding an EXECUTE frame out of a connection buffer and
//! writing a small Rows result into a reserved output buffer.
//!
//! Counting allocations needs a `GlobalAlloc`, whose trait is `unsafe`; this test binary is
//! the only place in the crate that uses `unsafe`, and it only forwards to `System`.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::{Bytes, BytesMut};
use meridian_cql_protocol::*;

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every method forwards to the system allocator unchanged; the thread-local counter
// has a const initializer and no destructor, so touching it never allocates or re-enters.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

fn execute_frame(stream: i16) -> BytesMut {
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
        .unwrap(),
        skip_metadata: true,
        page_size: Some(5000),
        paging_state: None,
        serial_consistency: Some(Consistency::Serial),
        default_timestamp_micros: Some(1_700_000_000_000_000),
    };
    let mut buf = BytesMut::new();
    RequestMessage::new(Request::Execute(Execute {
        id: PreparedId(Bytes::from_static(&[7; 16])),
        params,
    }))
    .encode_frame(
        &mut buf,
        ProtocolVersion::V4,
        StreamId(stream),
        None,
        &FrameLimits::default(),
    )
    .unwrap();
    buf
}

#[test]
fn hot_paths_do_not_allocate() {
    let limits = FrameLimits::default();
    let mut read_buf = BytesMut::with_capacity(64 * 1024);
    for stream in 0..100 {
        read_buf.extend_from_slice(&execute_frame(stream));
    }
    // The first split turns the read buffer into a shared one (one allocation, once per
    // buffer, not per frame).
    let first = decode_frame(&mut read_buf, &limits).unwrap().unwrap();
    drop(decode_request(&first, None, &limits).unwrap());

    let mut value_bytes = 0;
    let decoding = allocations_during(|| {
        for _ in 1..100 {
            let frame = decode_frame(&mut read_buf, &limits).unwrap().unwrap();
            let message = decode_request(&frame, None, &limits).unwrap();
            let Request::Execute(execute) = message.request else {
                panic!("not an EXECUTE")
            };
            for (_, value) in execute.params.values.iter() {
                if let Value::Bytes(b) = value {
                    value_bytes += b.len();
                }
            }
        }
    });
    assert_eq!(decoding, 0, "EXECUTE decoding allocated");
    assert_eq!(value_bytes, 99 * 19);

    let metadata = RowsMetadata::new(vec![
        ColumnSpec::new("ks", "users", "id", ColumnTypeSpec::Int),
        ColumnSpec::new("ks", "users", "name", ColumnTypeSpec::Varchar),
        ColumnSpec::new("ks", "users", "score", ColumnTypeSpec::Bigint),
    ]);
    let mut out = BytesMut::with_capacity(64 * 1024);
    let encoding = allocations_during(|| {
        for stream in 0..100 {
            let builder = begin_response_frame(
                &mut out,
                ProtocolVersion::V4,
                StreamId(stream),
                Opcode::Result,
                &ResponseExtras::default(),
            )
            .unwrap();
            let mut rows = RowsWriter::begin(&mut out, &metadata, ProtocolVersion::V4).unwrap();
            for i in 0..3 {
                rows.write_int(i).unwrap();
                rows.write_text("a user name").unwrap();
                rows.write_cell_with(|b| b.extend_from_slice(&i64::from(i).to_be_bytes()))
                    .unwrap();
            }
            rows.finish().unwrap();
            builder.finish(&mut out, None, &limits).unwrap();
        }
    });
    assert_eq!(encoding, 0, "Rows encoding allocated");

    // The output is 100 valid RESULT frames.
    for stream in 0..100 {
        let frame = decode_frame(&mut out, &limits).unwrap().unwrap();
        assert_eq!(frame.header.stream, StreamId(stream));
        let response = decode_response(&frame, None, &limits).unwrap();
        let Response::Result(ResultBody::Rows(rows)) = response.response else {
            panic!("not rows")
        };
        assert_eq!(rows.rows_count(), 3);
        assert_eq!(rows.metadata, metadata);
    }
}
