//! CQL lexer and parser for Meridian.
//!
//! Parses Cassandra Query Language text into a syntactic AST ([`ast`]),
//! following Apache Cassandra 5.0's `Lexer.g` / `Parser.g`: the same
//! keywords (reserved and unreserved), literal forms, statement grammar and —
//! as far as a hand-written parser can reproduce ANTLR — the same
//! `SyntaxException` messages (see [`ParseError`]).
//!
//! ```
//! use meridian_cql_parser::{parse_statement, Statement};
//!
//! let stmt = parse_statement("SELECT a, b FROM ks.t WHERE k = ? LIMIT 10").unwrap();
//! assert!(matches!(stmt, Statement::Select(_)));
//! assert_eq!(stmt.bind_marker_count(), 1);
//! assert_eq!(stmt.to_string(), "SELECT a, b FROM ks.t WHERE k = ? LIMIT 10");
//!
//! let err = parse_statement("SELECT * FRM t").unwrap_err();
//! assert_eq!(err.to_string(), "line 1:9 mismatched input 'FRM' expecting K_FROM (SELECT * [FRM]...)");
//! ```
//!
//! Guarantees: parsing never panics, uses time and memory linear in the
//! input, and refuses nesting deeper than [`MAX_NESTING_DEPTH`] instead of
//! overflowing the stack. The parser performs no I/O and consults no schema.

pub mod ast;
mod display;
mod error;
mod lexer;
mod parser;
mod token;
mod visit;

pub use ast::*;
pub use error::ParseError;
pub use parser::MAX_NESTING_DEPTH;

/// Parses exactly one CQL statement, optionally followed by `;`s.
///
/// Bind markers are numbered from 0 in order of appearance.
pub fn parse_statement(cql: &str) -> Result<Statement, ParseError> {
    let mut p = parser::Parser::new(cql);
    let result = p.parse_single();
    p.finish(result)
}

/// Parses a sequence of statements separated by `;` (empty statements and a
/// trailing `;` are allowed; empty input yields an empty list).
///
/// Each statement numbers its bind markers from 0.
pub fn parse_statements(cql: &str) -> Result<Vec<Statement>, ParseError> {
    let mut p = parser::Parser::new(cql);
    let result = p.parse_many();
    p.finish(result)
}
