//! A corpus of valid CQL (mostly taken from the Cassandra documentation and
//! test suites): every statement must parse, and printing the AST must give
//! CQL that parses back to an equal AST (and prints identically).

mod common;

use common::VALID;
use meridian_cql_parser::{parse_statement, parse_statements, Statement};

fn roundtrip(stmt: &Statement, source: &str) {
    let printed = stmt.to_string();
    let reparsed = parse_statement(&printed).unwrap_or_else(|e| {
        panic!("reparse failed for {source:?}\nprinted: {printed}\nerror: {e}")
    });
    assert_eq!(
        &reparsed, stmt,
        "round trip changed the AST\nsource:  {source}\nprinted: {printed}"
    );
    assert_eq!(
        reparsed.to_string(),
        printed,
        "printing is not stable for {source:?}"
    );
}

#[test]
fn corpus_parses_and_round_trips() {
    for src in VALID {
        let stmt = parse_statement(src).unwrap_or_else(|e| panic!("failed to parse {src:?}: {e}"));
        roundtrip(&stmt, src);
    }
}

#[test]
fn corpus_parses_as_one_multi_statement_string() {
    let joined = VALID
        .iter()
        .map(|s| s.trim_end_matches(';'))
        .collect::<Vec<_>>()
        .join(";\n");
    let stmts = parse_statements(&joined).unwrap();
    assert_eq!(stmts.len(), VALID.len());
    for (stmt, src) in stmts.iter().zip(VALID) {
        assert_eq!(stmt, &parse_statement(src).unwrap(), "{src}");
    }
}

/// Swaps the case of every purely alphabetic word (keywords and unquoted
/// identifiers, both case-insensitive); words touching digits (UUIDs, hex,
/// durations) are left alone.
fn swap_word_case(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_alphabetic() || chars[j] == '_') {
                j += 1;
            }
            let touches_digit = j < chars.len() && chars[j].is_ascii_alphanumeric();
            for c in &chars[i..j] {
                let swapped = if touches_digit {
                    *c
                } else if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                };
                out.push(swapped);
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn keywords_and_unquoted_identifiers_are_case_insensitive() {
    let mut checked = 0;
    for src in VALID {
        // Quoted content is case-sensitive, and keyword property values
        // keep their spelling (as in Cassandra).
        if src.contains('\'') || src.contains('"') || src.contains('$') || src.contains("= ALL") {
            continue;
        }
        let original = parse_statement(src).unwrap();
        let swapped = swap_word_case(src);
        let other = parse_statement(&swapped).unwrap_or_else(|e| panic!("{swapped}: {e}"));
        assert_eq!(original, other, "{src}");
        checked += 1;
    }
    assert!(checked > 100, "only {checked} statements checked");
}
