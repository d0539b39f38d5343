//! CQL terms evaluated into serialized values.
//!
//! A term (literal, collection, tuple, UDT literal, bind marker, function call, type hint,
//! arithmetic) is always evaluated *for a receiver*: the column (or collection element, map
//! key, `LIMIT`, `USING TTL`...) it will be assigned to, whose type decides how a literal is
//! read and validated. The same receivers describe the bind markers in PREPARE results.

use bytes::Bytes;
use meridian_cql_parser::ast;
use meridian_cql_protocol::Value;
use meridian_schema::Schema;
use meridian_types::cql_type::CqlType;

use crate::context::{BoundValues, ExecOptions};
use crate::error::QueryError;

/// What a term is assigned to: its name (used in error messages and in bind-marker column
/// specs, e.g. `k`, `[limit]`, `in(c)`, `value(m)`) and its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receiver {
    /// Keyspace of the statement (for column specs).
    pub keyspace: String,
    /// Table of the statement (for column specs).
    pub table: String,
    /// Name shown in errors and bind specs.
    pub name: String,
    /// Type the value must have.
    pub ty: CqlType,
}

impl Receiver {
    /// A receiver.
    pub fn new(keyspace: &str, table: &str, name: impl Into<String>, ty: CqlType) -> Self {
        Receiver {
            keyspace: keyspace.to_string(),
            table: table.to_string(),
            name: name.into(),
            ty,
        }
    }
}

/// The value of a term: a serialized value, NULL, or UNSET (a bound value the client left
/// unset: the assignment or condition is skipped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TermValue {
    /// A serialized value.
    Value(Bytes),
    /// NULL.
    Null,
    /// UNSET.
    Unset,
}

/// What evaluating a term may consult.
pub struct TermContext<'a> {
    /// The schema (user types).
    pub schema: &'a Schema,
    /// The keyspace of the statement (user types are resolved in it).
    pub keyspace: &'a str,
    /// Bound values.
    pub values: &'a BoundValues,
    /// The request options (its "now" for now(), currentTimestamp()...).
    pub options: &'a ExecOptions,
}

/// Evaluates `term` for `receiver`.
pub fn evaluate(
    term: &ast::Term,
    receiver: &Receiver,
    ctx: &TermContext<'_>,
) -> Result<TermValue, QueryError> {
    match term {
        ast::Term::Null => Ok(TermValue::Null),
        ast::Term::BindMarker(m) => match ctx.values.get(m.index)? {
            Value::Null => Ok(TermValue::Null),
            Value::Unset => Ok(TermValue::Unset),
            Value::Bytes(b) => {
                meridian_types::cql_type::validate(&receiver.ty, b)
                    .map_err(|e| QueryError::invalid(e.to_string()))?;
                Ok(TermValue::Value(b.clone()))
            }
        },
        _ => Err(QueryError::invalid(format!(
            "Term {term:?} for {} is not supported yet",
            receiver.name
        ))),
    }
}

/// Appends the receiver of every bind marker inside `term` (evaluated for `receiver`).
pub fn collect_bind_receivers(
    term: &ast::Term,
    receiver: &Receiver,
    out: &mut Vec<(usize, Receiver)>,
) -> Result<(), QueryError> {
    if let ast::Term::BindMarker(m) = term {
        out.push((m.index, receiver.clone()));
    }
    Ok(())
}

/// Resolves a syntactic type in `keyspace` (user types from `schema`).
pub fn resolve_type(
    ty: &ast::CqlType,
    keyspace: &str,
    schema: &Schema,
) -> Result<CqlType, QueryError> {
    let _ = (ty, keyspace, schema);
    Err(QueryError::invalid("type resolution is not supported yet"))
}

/// Evaluates an `int` argument such as `LIMIT` or `USING TTL`: `None` when UNSET; NULL is
/// `Invalid null value of {name}`.
pub fn evaluate_int(
    term: &ast::Term,
    name: &str,
    ctx: &TermContext<'_>,
) -> Result<Option<i32>, QueryError> {
    let receiver = Receiver::new("", "", name, CqlType::Int);
    match evaluate(term, &receiver, ctx)? {
        TermValue::Unset => Ok(None),
        TermValue::Null => Err(QueryError::invalid(format!("Invalid null value of {name}"))),
        TermValue::Value(b) => <[u8; 4]>::try_from(&b[..])
            .map(|a| Some(i32::from_be_bytes(a)))
            .map_err(|_| QueryError::invalid(format!("Invalid value of {name}"))),
    }
}

/// Evaluates a `bigint` argument such as `USING TIMESTAMP`: `None` when UNSET; NULL is
/// `Invalid null value of {name}`.
pub fn evaluate_bigint(
    term: &ast::Term,
    name: &str,
    ctx: &TermContext<'_>,
) -> Result<Option<i64>, QueryError> {
    let receiver = Receiver::new("", "", name, CqlType::Bigint);
    match evaluate(term, &receiver, ctx)? {
        TermValue::Unset => Ok(None),
        TermValue::Null => Err(QueryError::invalid(format!("Invalid null value of {name}"))),
        TermValue::Value(b) => <[u8; 8]>::try_from(&b[..])
            .map(|a| Some(i64::from_be_bytes(a)))
            .map_err(|_| QueryError::invalid(format!("Invalid value of {name}"))),
    }
}
