//! Fuzz target: `parse_statements` on arbitrary UTF-8 must never panic, and
//! every accepted statement must print back to CQL that parses to the same
//! tree.
//!
//! Run with `cargo +nightly fuzz run parse` from `crates/cql-parser`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use meridian_cql_parser::{parse_statement, parse_statements};

fuzz_target!(|data: &[u8]| {
    let Ok(cql) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_statement(cql).map_err(|e| e.to_string());
    if let Ok(statements) = parse_statements(cql) {
        for statement in statements {
            let printed = statement.to_string();
            match parse_statement(&printed) {
                Ok(again) => assert_eq!(again, statement, "round trip changed {printed:?}"),
                Err(e) => panic!("printed CQL does not parse: {printed:?}: {e}"),
            }
        }
    }
});
