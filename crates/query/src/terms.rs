//! CQL terms evaluated into serialized values.
//!
//! A term (literal, collection, tuple, UDT literal, bind marker, function call, type hint,
//! arithmetic) is always evaluated *for a receiver*: the column (or collection element, map
//! key, `LIMIT`, `USING TTL`...) it will be assigned to, whose type decides how a literal is
//! read and validated. The same receivers describe the bind markers in PREPARE results.
//!
//! This follows Cassandra's `Term.Raw.prepare` + `bind` in one step: the assignability test
//! (`testAssignment`), the error messages of `Constants`, `Lists`, `Sets`, `Maps`, `Tuples`,
//! `UserTypes`, `TypeCast` and `FunctionCall`, the receivers of nested markers
//! (`value(v)`, `key(m)`, `t[0]`, `u.f`, `arg0(system.fn)`, `(int)?`), and the canonical
//! serialized form of collections (set elements sorted by the element comparator without
//! duplicates, map entries sorted by key comparator, the last duplicate key winning).
//!
//! Invariants: evaluation never panics on client input (bound values are validated before
//! use); a [`TermValue::Value`] is always a valid serialized value of the receiver's type
//! (or of a type whose values are valid for it, such as `int` for `varint`).

pub mod native;
pub mod number;
pub mod temporal;

use std::cmp::Ordering;

use bytes::{BufMut, Bytes, BytesMut};
use meridian_cql_parser::ast;
use meridian_cql_protocol::Value;
use meridian_schema::{Schema, TableMetadata};
use meridian_types::cql_type::{compare, validate, CqlType};

use crate::context::{BoundValues, ExecOptions};
use crate::error::QueryError;
use crate::functions::{self, ArgInfo, ScalarFn};

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

    /// The same keyspace and table with another name and type.
    pub fn derive(&self, name: impl Into<String>, ty: CqlType) -> Receiver {
        Receiver::new(&self.keyspace, &self.table, name, ty)
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

impl TermValue {
    /// The bytes of a value, `None` for NULL and UNSET.
    pub fn bytes(&self) -> Option<&Bytes> {
        match self {
            TermValue::Value(b) => Some(b),
            _ => None,
        }
    }
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

/// How well a term fits a type (Cassandra's `AssignmentTestable.TestResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignability {
    /// The term's type is exactly the receiver's.
    Exact,
    /// The term can be read as a value of the receiver's type.
    Weak,
    /// The term cannot be assigned.
    No,
}

impl Assignability {
    /// Whether the term can be assigned at all.
    pub fn is_assignable(self) -> bool {
        self != Assignability::No
    }

    /// Cassandra's `testAll`: not assignable if any is not, exact if all are exact.
    fn all(results: impl IntoIterator<Item = Assignability>) -> Assignability {
        let mut out = Assignability::Exact;
        for r in results {
            match r {
                Assignability::No => return Assignability::No,
                Assignability::Weak => out = Assignability::Weak,
                Assignability::Exact => {}
            }
        }
        out
    }
}

fn invalid(message: impl Into<String>) -> QueryError {
    QueryError::invalid(message)
}

/// Cassandra's name of a constant's kind in error messages.
fn constant_kind(c: &ast::Constant) -> &'static str {
    match c {
        ast::Constant::String(_) => "STRING",
        ast::Constant::Integer(_) => "INTEGER",
        ast::Constant::Float(_) => "FLOAT",
        ast::Constant::Boolean(_) => "BOOLEAN",
        ast::Constant::Duration(_) => "DURATION",
        ast::Constant::Uuid(_) => "UUID",
        ast::Constant::Hex(_) => "HEX",
    }
}

/// The text of a term as Cassandra prints it in messages (`(int)?` for type hints).
pub fn term_text(term: &ast::Term) -> String {
    match term {
        ast::Term::TypeHint { ty, term } => format!("({ty}){}", term_text(term)),
        other => other.to_string(),
    }
}

/// The type a constant would have on its own (Cassandra's `getPreferedTypeFor`): `ascii` or
/// `text` for strings, the smallest of `int`/`bigint`/`varint` for integers, `double` (or
/// `decimal` when a double would lose digits) for floats, `timeuuid` for version 1 UUIDs.
pub fn constant_preferred_type(c: &ast::Constant) -> Option<CqlType> {
    Some(match c {
        ast::Constant::String(s) => {
            if s.is_ascii() {
                CqlType::Ascii
            } else {
                CqlType::Text
            }
        }
        ast::Constant::Integer(s) => {
            if s.parse::<i32>().is_ok() {
                CqlType::Int
            } else if s.parse::<i64>().is_ok() {
                CqlType::Bigint
            } else {
                CqlType::Varint
            }
        }
        ast::Constant::Float(s) => {
            let unsigned = s.strip_prefix('-').unwrap_or(s);
            if unsigned == "NaN" || unsigned == "Infinity" {
                CqlType::Double
            } else {
                let exact = number::Decimal::parse(s);
                let as_double = s.parse::<f64>().ok().and_then(number::Decimal::from_f64);
                match (exact, as_double) {
                    (Some(a), Some(b)) if a.cmp_value(&b) == Ordering::Equal => CqlType::Double,
                    _ => CqlType::Decimal,
                }
            }
        }
        ast::Constant::Boolean(_) => CqlType::Boolean,
        ast::Constant::Duration(_) => CqlType::Duration,
        ast::Constant::Uuid(s) => match native::parse_uuid(s) {
            Some(u) if u.get_version_num() == 1 => CqlType::Timeuuid,
            _ => CqlType::Uuid,
        },
        ast::Constant::Hex(_) => CqlType::Blob,
    })
}

/// Whether a value of type `other` is also a valid value of `receiver` (Cassandra's
/// `isValueCompatibleWith`): equal types, anything into `blob`, `ascii` into `text`,
/// `timestamp` and `bigint` into each other, `timeuuid` into `uuid`, fixed-size integers
/// into `varint`.
pub fn is_value_compatible(receiver: &CqlType, other: &CqlType) -> bool {
    let (r, o) = (receiver.unfrozen(), other.unfrozen());
    if r == o {
        return true;
    }
    match (r, o) {
        (CqlType::Blob, o) => !o.is_multi_cell(),
        (CqlType::Text, CqlType::Ascii)
        | (CqlType::Bigint, CqlType::Timestamp)
        | (CqlType::Timestamp, CqlType::Bigint)
        | (CqlType::Uuid, CqlType::Timeuuid)
        | (CqlType::Varint, CqlType::Int | CqlType::Bigint | CqlType::Timestamp) => true,
        (CqlType::List(a), CqlType::List(b)) | (CqlType::Set(a), CqlType::Set(b)) => {
            is_value_compatible(a, b)
        }
        (CqlType::Map(ka, va), CqlType::Map(kb, vb)) => {
            ka.unfrozen() == kb.unfrozen() && is_value_compatible(va, vb)
        }
        (CqlType::Tuple(a), CqlType::Tuple(b)) => {
            a.len() >= b.len() && a.iter().zip(b).all(|(x, y)| is_value_compatible(x, y))
        }
        _ => false,
    }
}

/// `AbstractType.testAssignment(receiver)`: exact when equal (ignoring frozenness of the
/// value's own type), weak when value-compatible.
pub fn type_assignability(receiver: &CqlType, value_type: &CqlType) -> Assignability {
    if receiver.unfrozen() == value_type.unfrozen() {
        Assignability::Exact
    } else if is_value_compatible(receiver, value_type) {
        Assignability::Weak
    } else {
        Assignability::No
    }
}

/// Tests whether `term` can be assigned to a receiver of type `ty` (Cassandra's
/// `testAssignment`), resolving user types in `keyspace`.
pub fn test_assignment(
    term: &ast::Term,
    ty: &CqlType,
    keyspace: &str,
    schema: &Schema,
) -> Assignability {
    let t = ty.unfrozen();
    match term {
        ast::Term::Null => {
            if t.is_counter() {
                Assignability::No
            } else {
                Assignability::Weak
            }
        }
        ast::Term::BindMarker(_) => Assignability::Weak,
        ast::Term::Constant(c) => constant_assignability(c, t),
        ast::Term::List(elements) => match t {
            CqlType::List(e) | CqlType::Vector(e, _) => {
                if elements.is_empty() {
                    Assignability::Weak
                } else {
                    Assignability::all(
                        elements
                            .iter()
                            .map(|x| test_assignment(x, e, keyspace, schema)),
                    )
                }
            }
            _ => Assignability::No,
        },
        ast::Term::Set(elements) => match t {
            CqlType::Set(e) => {
                if elements.is_empty() {
                    Assignability::Weak
                } else {
                    Assignability::all(
                        elements
                            .iter()
                            .map(|x| test_assignment(x, e, keyspace, schema)),
                    )
                }
            }
            CqlType::Map(..) if elements.is_empty() => Assignability::Weak,
            _ => Assignability::No,
        },
        ast::Term::Map(entries) => match t {
            CqlType::Map(k, v) => {
                if entries.is_empty() {
                    Assignability::Weak
                } else {
                    Assignability::all(entries.iter().flat_map(|(a, b)| {
                        [
                            test_assignment(a, k, keyspace, schema),
                            test_assignment(b, v, keyspace, schema),
                        ]
                    }))
                }
            }
            _ => Assignability::No,
        },
        ast::Term::UserType(fields) => match t {
            CqlType::Udt(udt) => {
                let all_known = fields
                    .iter()
                    .all(|(name, _)| udt.fields.iter().any(|(f, _)| f == name.as_str()));
                let all_fit = fields.iter().all(|(name, value)| {
                    udt.fields
                        .iter()
                        .find(|(f, _)| f == name.as_str())
                        .is_none_or(|(_, fty)| {
                            test_assignment(value, fty, keyspace, schema).is_assignable()
                        })
                });
                if all_known && all_fit {
                    Assignability::Weak
                } else {
                    Assignability::No
                }
            }
            _ => Assignability::No,
        },
        ast::Term::Tuple(elements) => {
            if elements.len() == 1 && !matches!(t, CqlType::Tuple(_)) {
                if let Some(only) = elements.first() {
                    return test_assignment(only, ty, keyspace, schema);
                }
            }
            match t {
                CqlType::Tuple(types) => {
                    if elements.len() > types.len() {
                        return Assignability::No;
                    }
                    let fit = elements
                        .iter()
                        .zip(types)
                        .all(|(e, et)| test_assignment(e, et, keyspace, schema).is_assignable());
                    if fit {
                        Assignability::Weak
                    } else {
                        Assignability::No
                    }
                }
                _ => Assignability::No,
            }
        }
        ast::Term::TypeHint { ty: hint, term: _ } => match resolve_type(hint, keyspace, schema) {
            Ok(hinted) => type_assignability(t, &hinted),
            Err(_) => Assignability::No,
        },
        ast::Term::FunctionCall { .. }
        | ast::Term::Cast { .. }
        | ast::Term::Negate(_)
        | ast::Term::Binary { .. } => {
            match resolve_function_term(term, Some(ty), keyspace, schema, "", "") {
                Ok(Some(f)) => {
                    if f.is_from_json() {
                        Assignability::Weak
                    } else {
                        type_assignability(t, &f.return_type)
                    }
                }
                // An unknown or unresolvable function: the error comes later, with a better
                // message.
                Ok(None) | Err(_) => Assignability::Weak,
            }
        }
    }
}

/// `Constants.Literal.testAssignment`.
fn constant_assignability(c: &ast::Constant, t: &CqlType) -> Assignability {
    if t.is_collection() || matches!(t, CqlType::Udt(_) | CqlType::Tuple(_) | CqlType::Vector(..)) {
        return Assignability::No;
    }
    if let Some(preferred) = constant_preferred_type(c) {
        if preferred == *t || (preferred == CqlType::Text && *t == CqlType::Text) {
            return Assignability::Exact;
        }
    }
    use CqlType as T;
    let weak = match c {
        ast::Constant::String(_) => matches!(
            t,
            T::Ascii | T::Text | T::Inet | T::Date | T::Time | T::Timestamp
        ),
        ast::Constant::Integer(_) => matches!(
            t,
            T::Bigint
                | T::Counter
                | T::Date
                | T::Decimal
                | T::Double
                | T::Duration
                | T::Float
                | T::Int
                | T::Smallint
                | T::Time
                | T::Timestamp
                | T::Tinyint
                | T::Varint
        ),
        ast::Constant::Uuid(_) => matches!(t, T::Uuid | T::Timeuuid),
        ast::Constant::Float(_) => matches!(t, T::Decimal | T::Double | T::Float),
        ast::Constant::Boolean(_) => matches!(t, T::Boolean),
        ast::Constant::Hex(_) => matches!(t, T::Blob),
        ast::Constant::Duration(_) => matches!(t, T::Duration),
    };
    if weak {
        Assignability::Weak
    } else {
        Assignability::No
    }
}

/// The type a term has on its own when it can be known without a receiver (Cassandra's
/// `getCompatibleTypeIfKnown`: the preferred type of constants, the hinted type, a
/// function's return type, collections of such elements).
pub fn compatible_type(term: &ast::Term, keyspace: &str, schema: &Schema) -> Option<CqlType> {
    match term {
        ast::Term::Constant(c) => constant_preferred_type(c),
        ast::Term::Null | ast::Term::BindMarker(_) => None,
        ast::Term::List(elements) => elements
            .iter()
            .find_map(|e| compatible_type(e, keyspace, schema))
            .map(|e| CqlType::List(Box::new(e.freeze()))),
        ast::Term::Set(elements) => elements
            .iter()
            .find_map(|e| compatible_type(e, keyspace, schema))
            .map(|e| CqlType::Set(Box::new(e.freeze()))),
        ast::Term::Map(entries) => {
            let k = entries
                .iter()
                .find_map(|(k, _)| compatible_type(k, keyspace, schema))?;
            let v = entries
                .iter()
                .find_map(|(_, v)| compatible_type(v, keyspace, schema))?;
            Some(CqlType::Map(Box::new(k.freeze()), Box::new(v.freeze())))
        }
        ast::Term::UserType(_) => None,
        ast::Term::Tuple(elements) => {
            if elements.len() == 1 {
                return elements
                    .first()
                    .and_then(|e| compatible_type(e, keyspace, schema));
            }
            elements
                .iter()
                .map(|e| compatible_type(e, keyspace, schema).map(CqlType::freeze))
                .collect::<Option<Vec<_>>>()
                .map(CqlType::Tuple)
        }
        ast::Term::TypeHint { ty, .. } => resolve_type(ty, keyspace, schema).ok(),
        ast::Term::FunctionCall { .. }
        | ast::Term::Cast { .. }
        | ast::Term::Negate(_)
        | ast::Term::Binary { .. } => resolve_function_term(term, None, keyspace, schema, "", "")
            .ok()
            .flatten()
            .map(|f| f.return_type),
    }
}

/// The function a call, cast, negation or arithmetic term denotes, with its internal name
/// and its arguments.
fn function_parts(term: &ast::Term) -> Option<(ast::FunctionName, Vec<&ast::Term>)> {
    let system = |name: &str| ast::FunctionName {
        keyspace: Some(ast::Identifier::new("system")),
        name: ast::Identifier::new(name),
    };
    Some(match term {
        ast::Term::FunctionCall { name, args } => (name.clone(), args.iter().collect()),
        ast::Term::Cast { term, ty } => (
            system(&functions::cast_function_name(ty.name())),
            vec![term.as_ref()],
        ),
        ast::Term::Negate(t) => (system(functions::NEGATION_FUNCTION), vec![t.as_ref()]),
        ast::Term::Binary { op, left, right } => (
            system(functions::operation_function(*op)),
            vec![left.as_ref(), right.as_ref()],
        ),
        _ => return None,
    })
}

/// Resolves the function a term calls (`Ok(None)`: no function of that name).
fn resolve_function_term(
    term: &ast::Term,
    receiver_type: Option<&CqlType>,
    keyspace: &str,
    schema: &Schema,
    receiver_keyspace: &str,
    receiver_table: &str,
) -> Result<Option<ScalarFn>, QueryError> {
    let Some((name, args)) = function_parts(term) else {
        return Ok(None);
    };
    let infos: Vec<ArgInfo<'_>> = args.iter().map(|a| ArgInfo::Term(a)).collect();
    functions::resolve_scalar(
        &name,
        &infos,
        receiver_type,
        &functions::Scope {
            keyspace,
            schema,
            receiver_keyspace,
            receiver_table,
        },
    )
}

/// Resolves a term's function for evaluation: Cassandra's `FunctionCall.Raw.prepare` checks
/// (unknown function, return type assignable to the receiver).
fn prepare_function(
    term: &ast::Term,
    receiver: &Receiver,
    keyspace: &str,
    schema: &Schema,
) -> Result<(ScalarFn, Vec<Receiver>), QueryError> {
    let Some((name, args)) = function_parts(term) else {
        return Err(QueryError::server("not a function term"));
    };
    let resolved = resolve_function_term(
        term,
        Some(&receiver.ty),
        keyspace,
        schema,
        &receiver.keyspace,
        &receiver.table,
    );
    let f = match (resolved, term) {
        (Ok(Some(f)), _) => f,
        (Ok(None), ast::Term::Cast { term: inner, ty })
        | (Err(_), ast::Term::Cast { term: inner, ty }) => {
            return Err(invalid(format!(
                "{} cannot be cast to {}",
                term_text(inner),
                ty.name()
            )))
        }
        (Ok(None), _) => return Err(invalid(format!("Unknown function {name} called"))),
        (Err(e), _) => return Err(e),
    };
    if !f.is_from_json() && !type_assignability(&receiver.ty, &f.return_type).is_assignable() {
        return Err(if let Some(op) = f.operator_symbol() {
            invalid(format!(
                "Type error: cannot assign result of operation {op} (type {}) to {} (type {})",
                f.return_type, receiver.name, receiver.ty
            ))
        } else {
            invalid(format!(
                "Type error: cannot assign result of function {} (type {}) to {} (type {})",
                f.qualified_name(),
                f.return_type,
                receiver.name,
                receiver.ty
            ))
        });
    }
    if f.arg_types.len() != args.len() {
        return Err(invalid(format!(
            "Incorrect number of arguments specified for function {} (expected {}, found {})",
            f.signature(),
            f.arg_types.len(),
            args.len()
        )));
    }
    let arg_receivers = (0..args.len())
        .map(|i| f.arg_receiver(i, &receiver.keyspace, &receiver.table))
        .collect();
    Ok((f, arg_receivers))
}

/// Resolves a syntactic type in `keyspace` (user types from `schema`), with Cassandra's
/// checks: `Unknown type ks.name`, user types of another keyspace, `frozen<>` only around
/// collections, tuples and user types, no non-frozen collections or UDTs inside collections,
/// no counters inside collections, no durations in sets or map keys, positive vector
/// dimensions.
pub fn resolve_type(
    ty: &ast::CqlType,
    keyspace: &str,
    schema: &Schema,
) -> Result<CqlType, QueryError> {
    resolve_type_inner(ty, keyspace, schema)
}

fn resolve_type_inner(
    ty: &ast::CqlType,
    keyspace: &str,
    schema: &Schema,
) -> Result<CqlType, QueryError> {
    use ast::NativeType as N;
    Ok(match ty {
        ast::CqlType::Native(n) => match n {
            N::Ascii => CqlType::Ascii,
            N::Bigint => CqlType::Bigint,
            N::Blob => CqlType::Blob,
            N::Boolean => CqlType::Boolean,
            N::Counter => CqlType::Counter,
            N::Date => CqlType::Date,
            N::Decimal => CqlType::Decimal,
            N::Double => CqlType::Double,
            N::Duration => CqlType::Duration,
            N::Float => CqlType::Float,
            N::Inet => CqlType::Inet,
            N::Int => CqlType::Int,
            N::Smallint => CqlType::Smallint,
            N::Text | N::Varchar => CqlType::Text,
            N::Time => CqlType::Time,
            N::Timestamp => CqlType::Timestamp,
            N::Timeuuid => CqlType::Timeuuid,
            N::Tinyint => CqlType::Tinyint,
            N::Uuid => CqlType::Uuid,
            N::Varint => CqlType::Varint,
        },
        ast::CqlType::List(e) | ast::CqlType::Set(e) => {
            let element = resolve_type_inner(e, keyspace, schema)?;
            check_collection_element(&element, ty)?;
            if matches!(ty, ast::CqlType::Set(_)) && element.references_duration() {
                return Err(invalid(format!(
                    "Durations are not allowed inside sets: {ty}"
                )));
            }
            if matches!(ty, ast::CqlType::Set(_)) {
                CqlType::Set(Box::new(element))
            } else {
                CqlType::List(Box::new(element))
            }
        }
        ast::CqlType::Map(k, v) => {
            let key = resolve_type_inner(k, keyspace, schema)?;
            let value = resolve_type_inner(v, keyspace, schema)?;
            check_collection_element(&key, ty)?;
            check_collection_element(&value, ty)?;
            if key.references_duration() {
                return Err(invalid(format!(
                    "Durations are not allowed as map keys: {ty}"
                )));
            }
            CqlType::Map(Box::new(key), Box::new(value))
        }
        ast::CqlType::Tuple(types) => CqlType::Tuple(
            types
                .iter()
                .map(|t| resolve_type_inner(t, keyspace, schema).map(CqlType::freeze))
                .collect::<Result<_, _>>()?,
        ),
        ast::CqlType::Vector(e, n) => {
            if *n <= 0 {
                return Err(invalid(format!(
                    "vectors may only have positive dimensions; given {n}"
                )));
            }
            let element = resolve_type_inner(e, keyspace, schema)?;
            CqlType::Vector(Box::new(element.freeze()), *n as u32)
        }
        ast::CqlType::Frozen(inner) => {
            let resolved = resolve_type_inner(inner, keyspace, schema)?;
            match resolved {
                CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..) | CqlType::Udt(_) => {
                    CqlType::Frozen(Box::new(freeze_nested(resolved)))
                }
                CqlType::Tuple(_) | CqlType::Frozen(_) | CqlType::Vector(..) => resolved,
                other => {
                    return Err(invalid(format!(
                        "frozen<> is only allowed on collections, tuples, and user-defined types (got {other})"
                    )))
                }
            }
        }
        ast::CqlType::UserDefined(name) => {
            if let Some(ks) = &name.keyspace {
                if ks.as_str() != keyspace {
                    return Err(invalid(format!(
                        "Statement on keyspace {keyspace} cannot refer to a user type in keyspace {ks}; user types can only be used in the keyspace they are defined in"
                    )));
                }
            }
            let ut = schema
                .user_type(keyspace, name.name.as_str())
                .ok_or_else(|| invalid(format!("Unknown type {keyspace}.{}", name.name)))?;
            CqlType::Udt(ut.to_udt_type())
        }
        ast::CqlType::Custom(class) => {
            return Err(invalid(format!("Custom type {class} is not supported")))
        }
    })
}

/// Freezes every multi-cell type nested in a frozen type.
fn freeze_nested(ty: CqlType) -> CqlType {
    match ty {
        CqlType::List(e) => CqlType::List(Box::new(freeze_nested(*e).freeze())),
        CqlType::Set(e) => CqlType::Set(Box::new(freeze_nested(*e).freeze())),
        CqlType::Map(k, v) => CqlType::Map(
            Box::new(freeze_nested(*k).freeze()),
            Box::new(freeze_nested(*v).freeze()),
        ),
        CqlType::Udt(mut u) => {
            u.fields = u
                .fields
                .into_iter()
                .map(|(n, t)| (n, freeze_nested(t).freeze()))
                .collect();
            CqlType::Udt(u)
        }
        other => other,
    }
}

fn check_collection_element(element: &CqlType, whole: &ast::CqlType) -> Result<(), QueryError> {
    match element {
        CqlType::Counter => Err(invalid(format!(
            "Counters are not allowed inside collections: {whole}"
        ))),
        CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..) => Err(invalid(format!(
            "Non-frozen collections are not allowed inside collections: {whole}"
        ))),
        CqlType::Udt(_) => Err(invalid(format!(
            "Non-frozen UDTs are not allowed inside collections: {whole}"
        ))),
        _ => Ok(()),
    }
}

/// Writes a collection count then length-prefixed elements.
fn pack(elements: &[Bytes]) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i32(i32::try_from(elements.len()).unwrap_or(i32::MAX));
    for e in elements {
        buf.put_i32(i32::try_from(e.len()).unwrap_or(i32::MAX));
        buf.put_slice(e);
    }
    buf.freeze()
}

/// Writes length-prefixed fields, `-1` for null (tuples and UDT values).
fn pack_fields(fields: &[Option<Bytes>]) -> Bytes {
    let mut buf = BytesMut::new();
    for f in fields {
        match f {
            Some(b) => {
                buf.put_i32(i32::try_from(b.len()).unwrap_or(i32::MAX));
                buf.put_slice(b);
            }
            None => buf.put_i32(-1),
        }
    }
    buf.freeze()
}

/// Sorts set elements by the element comparator and removes duplicates (the first of equal
/// elements is kept, as Java's `TreeSet`).
fn sort_set(element_type: &CqlType, mut elements: Vec<Bytes>) -> Vec<Bytes> {
    elements.sort_by(|a, b| compare(element_type, a, b));
    elements.dedup_by(|b, a| compare(element_type, a, b) == Ordering::Equal);
    elements
}

/// Sorts map entries by key and keeps the last value of equal keys (Java's `TreeMap.put`).
fn sort_map(key_type: &CqlType, entries: Vec<(Bytes, Bytes)>) -> Vec<(Bytes, Bytes)> {
    let mut out: Vec<(Bytes, Bytes)> = Vec::with_capacity(entries.len());
    let mut indexed: Vec<(usize, (Bytes, Bytes))> = entries.into_iter().enumerate().collect();
    // Stable sort by key, then by position so the last duplicate comes last.
    indexed.sort_by(|(ia, (a, _)), (ib, (b, _))| compare(key_type, a, b).then(ia.cmp(ib)));
    for (_, (k, v)) in indexed {
        match out.last_mut() {
            Some((lk, lv)) if compare(key_type, lk, &k) == Ordering::Equal => *lv = v,
            _ => out.push((k, v)),
        }
    }
    out
}

fn pack_map(entries: &[(Bytes, Bytes)]) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i32(i32::try_from(entries.len()).unwrap_or(i32::MAX));
    for (k, v) in entries {
        buf.put_i32(i32::try_from(k.len()).unwrap_or(i32::MAX));
        buf.put_slice(k);
        buf.put_i32(i32::try_from(v.len()).unwrap_or(i32::MAX));
        buf.put_slice(v);
    }
    buf.freeze()
}

/// A cursor over a serialized value already checked by `validate`.
struct Unpack<'a> {
    rest: &'a [u8],
}

impl<'a> Unpack<'a> {
    fn i32(&mut self) -> Option<i32> {
        let (head, tail) = self.rest.split_first_chunk::<4>()?;
        self.rest = tail;
        Some(i32::from_be_bytes(*head))
    }

    /// A length-prefixed element; `Some(None)` for a negative length (null).
    fn element(&mut self) -> Option<Option<&'a [u8]>> {
        let len = self.i32()?;
        if len < 0 {
            return Some(None);
        }
        let len = len as usize;
        if self.rest.len() < len {
            return None;
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Some(Some(head))
    }
}

/// Rewrites a validated serialized value in Cassandra's canonical form: set elements sorted
/// and deduplicated, map entries sorted by key (last duplicate winning), recursively. Values
/// that do not decode are returned unchanged (validation has already accepted them).
pub fn normalize(ty: &CqlType, bytes: &Bytes) -> Bytes {
    normalize_inner(ty, bytes, 0).unwrap_or_else(|| bytes.clone())
}

/// Deepest nesting [`normalize`] rewrites.
const MAX_NORMALIZE_DEPTH: usize = 64;

fn normalize_inner(ty: &CqlType, bytes: &[u8], depth: usize) -> Option<Bytes> {
    if depth > MAX_NORMALIZE_DEPTH {
        return None;
    }
    let nested = |t: &CqlType, b: &[u8]| -> Option<Bytes> { normalize_inner(t, b, depth + 1) };
    match ty {
        CqlType::Frozen(inner) => normalize_inner(inner, bytes, depth + 1),
        CqlType::List(e) | CqlType::Set(e) => {
            let mut r = Unpack { rest: bytes };
            let n = r.i32()?;
            let mut elements = Vec::with_capacity((n.max(0) as usize).min(bytes.len() / 4));
            for _ in 0..n {
                elements.push(nested(e, r.element()??)?);
            }
            if !r.rest.is_empty() {
                return None;
            }
            if matches!(ty, CqlType::Set(_)) {
                elements = sort_set(e, elements);
            }
            Some(pack(&elements))
        }
        CqlType::Map(k, v) => {
            let mut r = Unpack { rest: bytes };
            let n = r.i32()?;
            let mut entries = Vec::with_capacity((n.max(0) as usize).min(bytes.len() / 8));
            for _ in 0..n {
                let key = nested(k, r.element()??)?;
                let value = nested(v, r.element()??)?;
                entries.push((key, value));
            }
            if !r.rest.is_empty() {
                return None;
            }
            Some(pack_map(&sort_map(k, entries)))
        }
        CqlType::Tuple(types) => {
            let mut r = Unpack { rest: bytes };
            let mut fields = Vec::with_capacity(types.len());
            for t in types {
                if r.rest.is_empty() {
                    break;
                }
                fields.push(match r.element()? {
                    Some(b) => Some(nested(t, b)?),
                    None => None,
                });
            }
            Some(pack_fields(&fields))
        }
        CqlType::Udt(u) => {
            let mut r = Unpack { rest: bytes };
            let mut fields = Vec::with_capacity(u.fields.len());
            for (_, t) in &u.fields {
                if r.rest.is_empty() {
                    break;
                }
                fields.push(match r.element()? {
                    Some(b) => Some(nested(t, b)?),
                    None => None,
                });
            }
            Some(pack_fields(&fields))
        }
        _ => Some(Bytes::copy_from_slice(bytes)),
    }
}

/// Validates a bound value for a receiver (Cassandra's message on failure) and returns it in
/// canonical form.
pub fn validate_bound(ty: &CqlType, bytes: &Bytes) -> Result<Bytes, QueryError> {
    validate(ty, bytes).map_err(|e| invalid(e.to_string()))?;
    Ok(normalize(ty, bytes))
}

/// Whether a term contains a bind marker.
fn contains_marker(term: &ast::Term) -> bool {
    match term {
        ast::Term::BindMarker(_) => true,
        ast::Term::Constant(_) | ast::Term::Null => false,
        ast::Term::List(xs) | ast::Term::Set(xs) | ast::Term::Tuple(xs) => {
            xs.iter().any(contains_marker)
        }
        ast::Term::Map(entries) => entries
            .iter()
            .any(|(k, v)| contains_marker(k) || contains_marker(v)),
        ast::Term::UserType(fields) => fields.iter().any(|(_, v)| contains_marker(v)),
        ast::Term::FunctionCall { args, .. } => args.iter().any(contains_marker),
        ast::Term::TypeHint { term, .. } | ast::Term::Cast { term, .. } => contains_marker(term),
        ast::Term::Negate(t) => contains_marker(t),
        ast::Term::Binary { left, right, .. } => contains_marker(left) || contains_marker(right),
    }
}

/// Parses a constant for a receiver (after the assignability test).
fn constant_value(c: &ast::Constant, ty: &CqlType) -> Result<Bytes, QueryError> {
    match c {
        ast::Constant::Hex(text) => {
            let digits = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .unwrap_or(text);
            native::parse_hex(digits)
                .map(Bytes::from)
                .ok_or_else(|| invalid(format!("cannot parse '{digits}' as hex bytes")))
        }
        other => native::from_string(ty, &other.raw_text()).map_err(invalid),
    }
}

/// Evaluates `term` for `receiver`.
pub fn evaluate(
    term: &ast::Term,
    receiver: &Receiver,
    ctx: &TermContext<'_>,
) -> Result<TermValue, QueryError> {
    evaluate_depth(term, receiver, ctx, 0)
}

/// Deepest term nesting evaluated (the parser bounds nesting too; this is a second guard).
const MAX_TERM_DEPTH: usize = 256;

fn evaluate_depth(
    term: &ast::Term,
    receiver: &Receiver,
    ctx: &TermContext<'_>,
    depth: usize,
) -> Result<TermValue, QueryError> {
    if depth > MAX_TERM_DEPTH {
        return Err(invalid("Term nesting is too deep"));
    }
    let ty = receiver.ty.unfrozen();
    match term {
        ast::Term::Null => {
            if ty.is_counter() {
                return Err(invalid(
                    "Invalid null value for counter increment/decrement",
                ));
            }
            Ok(TermValue::Null)
        }
        ast::Term::BindMarker(m) => match ctx.values.get(m.index)? {
            Value::Null => Ok(TermValue::Null),
            Value::Unset => Ok(TermValue::Unset),
            Value::Bytes(b) => Ok(TermValue::Value(validate_bound(&receiver.ty, b)?)),
        },
        ast::Term::Constant(c) => {
            if !constant_assignability(c, ty).is_assignable() {
                return Err(invalid(format!(
                    "Invalid {} constant ({}) for \"{}\" of type {}",
                    constant_kind(c),
                    c.raw_text(),
                    receiver.name,
                    receiver.ty
                )));
            }
            Ok(TermValue::Value(constant_value(c, ty)?))
        }
        ast::Term::List(elements) => match ty {
            CqlType::Vector(element_type, dimension) => {
                evaluate_vector(elements, element_type, *dimension, receiver, ctx, depth)
            }
            CqlType::List(element_type) => {
                let values =
                    list_or_set_elements(elements, element_type, "list", receiver, ctx, depth)?;
                Ok(match values {
                    Some(v) => TermValue::Value(pack(&v)),
                    None => TermValue::Unset,
                })
            }
            other => Err(invalid(format!(
                "Unexpected receiver type '{other}'; only list and vector are expected"
            ))),
        },
        ast::Term::Set(elements) => match ty {
            CqlType::Map(..) if elements.is_empty() => Ok(TermValue::Value(pack_map(&[]))),
            CqlType::Set(element_type) => {
                let values =
                    list_or_set_elements(elements, element_type, "set", receiver, ctx, depth)?;
                Ok(match values {
                    Some(v) => TermValue::Value(pack(&sort_set(element_type, v))),
                    None => TermValue::Unset,
                })
            }
            _ => Err(invalid(format!(
                "Invalid set literal for {} of type {}",
                receiver.name, receiver.ty
            ))),
        },
        ast::Term::Map(entries) => {
            let CqlType::Map(key_type, value_type) = ty else {
                return Err(invalid(format!(
                    "Invalid map literal for {} of type {}",
                    receiver.name, receiver.ty
                )));
            };
            for (k, v) in entries {
                if !test_assignment(k, key_type, ctx.keyspace, ctx.schema).is_assignable() {
                    return Err(invalid(format!(
                        "Invalid map literal for {}: key {} is not of type {}",
                        receiver.name,
                        term_text(k),
                        key_type
                    )));
                }
                if !test_assignment(v, value_type, ctx.keyspace, ctx.schema).is_assignable() {
                    return Err(invalid(format!(
                        "Invalid map literal for {}: value {} is not of type {}",
                        receiver.name,
                        term_text(v),
                        value_type
                    )));
                }
            }
            let key_spec = receiver.derive(format!("key({})", receiver.name), (**key_type).clone());
            let value_spec =
                receiver.derive(format!("value({})", receiver.name), (**value_type).clone());
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                if contains_marker(k) || contains_marker(v) {
                    return Err(invalid(format!(
                        "Invalid map literal for {}: bind variables are not supported inside collection literals",
                        receiver.name
                    )));
                }
                let key = evaluate_depth(k, &key_spec, ctx, depth + 1)?;
                let value = evaluate_depth(v, &value_spec, ctx, depth + 1)?;
                match (key, value) {
                    (TermValue::Unset, _) | (_, TermValue::Unset) => return Ok(TermValue::Unset),
                    (TermValue::Value(k), TermValue::Value(v)) => out.push((k, v)),
                    _ => return Err(invalid("null is not supported inside collections")),
                }
            }
            Ok(TermValue::Value(pack_map(&sort_map(key_type, out))))
        }
        ast::Term::UserType(fields) => evaluate_udt(fields, receiver, ctx, depth),
        ast::Term::Tuple(elements) => {
            if elements.len() == 1 && !matches!(ty, CqlType::Tuple(_)) {
                if let Some(only) = elements.first() {
                    return evaluate_depth(only, receiver, ctx, depth + 1);
                }
            }
            evaluate_tuple(elements, receiver, ctx, depth)
        }
        ast::Term::TypeHint {
            ty: hint,
            term: inner,
        } => {
            let hinted = resolve_type(hint, ctx.keyspace, ctx.schema)?;
            if !test_assignment(inner, &hinted, ctx.keyspace, ctx.schema).is_assignable() {
                return Err(invalid(format!(
                    "Cannot cast value {} to type {hint}",
                    term_text(inner)
                )));
            }
            if !type_assignability(ty, &hinted).is_assignable() {
                return Err(invalid(format!(
                    "Cannot assign value {} to {} of type {}",
                    term_text(term),
                    receiver.name,
                    receiver.ty
                )));
            }
            let spec = receiver.derive(term_text(term), hinted);
            evaluate_depth(inner, &spec, ctx, depth + 1)
        }
        ast::Term::FunctionCall { name, args } if is_token_function(name) => {
            evaluate_token(args, receiver, ctx, depth)
        }
        ast::Term::FunctionCall { .. }
        | ast::Term::Cast { .. }
        | ast::Term::Negate(_)
        | ast::Term::Binary { .. } => evaluate_function(term, receiver, ctx, depth),
    }
}

/// Whether a call is the native `token()` (`token` or `system.token`).
fn is_token_function(name: &ast::FunctionName) -> bool {
    name.name.as_str() == "token"
        && name
            .keyspace
            .as_ref()
            .is_none_or(|k| k.as_str() == "system")
}

/// `token()` takes one argument per partition key column.
pub(crate) fn check_token_arity(required: usize, provided: usize) -> Result<(), QueryError> {
    if required == provided {
        return Ok(());
    }
    Err(invalid(format!(
        "Invalid number of arguments in call to function system.token: {required} required but {provided} provided"
    )))
}

/// `token(a, b, ...)` as a term (as in `WHERE token(k) > token(1)`): the Murmur3 token of the
/// partition key made of the arguments, evaluated for the receiver's table's partition key
/// columns.
fn evaluate_token(
    args: &[ast::Term],
    receiver: &Receiver,
    ctx: &TermContext<'_>,
    depth: usize,
) -> Result<TermValue, QueryError> {
    let table = ctx
        .schema
        .table(&receiver.keyspace, &receiver.table)
        .ok_or_else(|| {
            invalid("The token() function can only be used on a table's partition key")
        })?;
    let pk = table.partition_key_columns();
    check_token_arity(pk.len(), args.len())?;
    let mut parts: Vec<Bytes> = Vec::with_capacity(pk.len());
    for (arg, col) in args.iter().zip(pk) {
        let spec = receiver.derive(col.name.clone(), col.ty.clone());
        match evaluate_depth(arg, &spec, ctx, depth + 1)? {
            TermValue::Value(b) => parts.push(b),
            TermValue::Null => {
                return Err(invalid(format!(
                    "Invalid null value for partition key part {}",
                    col.name
                )))
            }
            TermValue::Unset => return Ok(TermValue::Unset),
        }
    }
    let key: Vec<u8> = if parts.len() == 1 {
        parts[0].to_vec()
    } else {
        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_ref()).collect();
        meridian_types::token::composite_partition_key(&refs)
            .map_err(|e| invalid(format!("Invalid partition key: {e}")))?
    };
    let token = meridian_types::token::murmur3_token(&key);
    Ok(TermValue::Value(Bytes::copy_from_slice(
        &token.0.to_be_bytes(),
    )))
}

/// The elements of a list or set literal for `receiver`: each must be assignable to the element
/// type (Cassandra's "Invalid list/set literal" otherwise), then they are evaluated.
fn list_or_set_elements(
    elements: &[ast::Term],
    element_type: &CqlType,
    kind: &str,
    receiver: &Receiver,
    ctx: &TermContext<'_>,
    depth: usize,
) -> Result<Option<Vec<Bytes>>, QueryError> {
    let spec = receiver.derive(format!("value({})", receiver.name), element_type.clone());
    for e in elements {
        if !test_assignment(e, element_type, ctx.keyspace, ctx.schema).is_assignable() {
            return Err(invalid(format!(
                "Invalid {kind} literal for {}: value {} is not of type {}",
                receiver.name,
                term_text(e),
                element_type
            )));
        }
    }
    collection_elements(elements, &spec, kind, receiver, ctx, depth)
}

/// Evaluates list or set elements: no bind markers, no nulls; `None` when one is UNSET.
fn collection_elements(
    elements: &[ast::Term],
    spec: &Receiver,
    kind: &str,
    receiver: &Receiver,
    ctx: &TermContext<'_>,
    depth: usize,
) -> Result<Option<Vec<Bytes>>, QueryError> {
    let mut values = Vec::with_capacity(elements.len());
    for e in elements {
        if contains_marker(e) {
            return Err(invalid(format!(
                "Invalid {kind} literal for {}: bind variables are not supported inside collection literals",
                receiver.name
            )));
        }
        match evaluate_depth(e, spec, ctx, depth + 1)? {
            TermValue::Value(b) => values.push(b),
            TermValue::Null => return Err(invalid("null is not supported inside collections")),
            TermValue::Unset => return Ok(None),
        }
    }
    Ok(Some(values))
}

fn evaluate_vector(
    elements: &[ast::Term],
    element_type: &CqlType,
    dimension: u32,
    receiver: &Receiver,
    ctx: &TermContext<'_>,
    depth: usize,
) -> Result<TermValue, QueryError> {
    if elements.len() != dimension as usize {
        return Err(invalid(format!(
            "Invalid vector literal for {} of type {}; expected {} elements, but given {}",
            receiver.name,
            receiver.ty,
            dimension,
            elements.len()
        )));
    }
    let spec = receiver.derive(format!("value({})", receiver.name), element_type.clone());
    let mut buf = BytesMut::new();
    let fixed = element_type.value_length_if_fixed();
    for e in elements {
        if !test_assignment(e, element_type, ctx.keyspace, ctx.schema).is_assignable() {
            return Err(invalid(format!(
                "Invalid vector literal for {}: value {} is not of type {}",
                receiver.name,
                term_text(e),
                element_type
            )));
        }
        match evaluate_depth(e, &spec, ctx, depth + 1)? {
            TermValue::Value(b) => {
                if fixed.is_some() {
                    buf.put_slice(&b);
                } else {
                    put_unsigned_vint(&mut buf, b.len() as u64);
                    buf.put_slice(&b);
                }
            }
            TermValue::Null => return Err(invalid("null is not supported inside vectors")),
            TermValue::Unset => return Ok(TermValue::Unset),
        }
    }
    let bytes = buf.freeze();
    validate(&receiver.ty, &bytes).map_err(|e| invalid(e.to_string()))?;
    Ok(TermValue::Value(bytes))
}

/// Appends Cassandra's unsigned vint encoding of `value` (the length prefix of vector
/// elements without a fixed size).
pub(crate) fn put_unsigned_vint(buf: &mut BytesMut, value: u64) {
    let bits = 64 - value.leading_zeros() as usize;
    let extra = bits.saturating_sub(7).div_ceil(7).min(8);
    if extra == 8 {
        buf.put_u8(0xff);
        buf.put_u64(value);
        return;
    }
    let first_mask = !(0xffu8 >> extra);
    let first = if extra == 0 {
        value as u8
    } else {
        (value >> (8 * extra)) as u8
    };
    buf.put_u8(first_mask | first);
    let be = value.to_be_bytes();
    buf.put_slice(&be[8 - extra..]);
}

fn evaluate_tuple(
    elements: &[ast::Term],
    receiver: &Receiver,
    ctx: &TermContext<'_>,
    depth: usize,
) -> Result<TermValue, QueryError> {
    let CqlType::Tuple(types) = receiver.ty.unfrozen() else {
        return Err(invalid(format!(
            "Invalid tuple type literal for {} of type {}",
            receiver.name, receiver.ty
        )));
    };
    // Cassandra's `Tuples.Literal.validateAssignableTo`: the components given are checked in
    // order, then a literal with too many components is refused; missing trailing components
    // are null.
    for (i, (e, t)) in elements.iter().zip(types).enumerate() {
        if !test_assignment(e, t, ctx.keyspace, ctx.schema).is_assignable() {
            return Err(invalid(format!(
                "Invalid tuple literal for {}: component {i} is not of type {t}",
                receiver.name
            )));
        }
    }
    if elements.len() > types.len() {
        let ty = receiver.ty.unfrozen().to_string();
        return Err(invalid(format!(
            "Invalid tuple literal for {}: too many elements. Type frozen<{ty}> expects {} but got {}",
            receiver.name,
            types.len(),
            elements.len()
        )));
    }
    let mut fields = Vec::with_capacity(types.len());
    for (i, (e, t)) in elements.iter().zip(types).enumerate() {
        let spec = receiver.derive(format!("{}[{i}]", receiver.name), t.clone());
        match evaluate_depth(e, &spec, ctx, depth + 1)? {
            TermValue::Value(b) => fields.push(Some(b)),
            TermValue::Null => fields.push(None),
            TermValue::Unset => {
                return Err(invalid(format!(
                    "Invalid unset value for tuple field number {i}"
                )))
            }
        }
    }
    Ok(TermValue::Value(pack_fields(&fields)))
}

fn evaluate_udt(
    fields: &[(ast::Identifier, ast::Term)],
    receiver: &Receiver,
    ctx: &TermContext<'_>,
    depth: usize,
) -> Result<TermValue, QueryError> {
    let CqlType::Udt(udt) = receiver.ty.unfrozen() else {
        return Err(invalid(format!(
            "Invalid user type literal for {} of type {}",
            receiver.name, receiver.ty
        )));
    };
    // The last occurrence of a field wins.
    let lookup = |name: &str| {
        fields
            .iter()
            .rev()
            .find(|(f, _)| f.as_str() == name)
            .map(|(_, t)| t)
    };
    for (name, fty) in &udt.fields {
        if let Some(value) = lookup(name) {
            if !test_assignment(value, fty, ctx.keyspace, ctx.schema).is_assignable() {
                return Err(invalid(format!(
                    "Invalid user type literal for {}: field {name} is not of type {fty}",
                    receiver.name
                )));
            }
        }
    }
    let mut values = Vec::with_capacity(udt.fields.len());
    for (name, fty) in &udt.fields {
        let Some(value) = lookup(name) else {
            values.push(None);
            continue;
        };
        let spec = receiver.derive(format!("{}.{name}", receiver.name), fty.clone());
        match evaluate_depth(value, &spec, ctx, depth + 1)? {
            TermValue::Value(b) => values.push(Some(b)),
            TermValue::Null => values.push(None),
            TermValue::Unset => {
                return Err(invalid(format!(
                    "Invalid unset value for field '{name}' of user defined type {}",
                    udt.name
                )))
            }
        }
    }
    if let Some((unknown, _)) = fields
        .iter()
        .find(|(f, _)| !udt.fields.iter().any(|(n, _)| n == f.as_str()))
    {
        return Err(invalid(format!(
            "Unknown field '{}' in value of user defined type {}",
            unknown.as_str(),
            udt.name
        )));
    }
    Ok(TermValue::Value(pack_fields(&values)))
}

fn evaluate_function(
    term: &ast::Term,
    receiver: &Receiver,
    ctx: &TermContext<'_>,
    depth: usize,
) -> Result<TermValue, QueryError> {
    let (f, arg_receivers) = prepare_function(term, receiver, ctx.keyspace, ctx.schema)?;
    let args = function_parts(term).map(|(_, a)| a).unwrap_or_default();
    if f.is_from_json() {
        // fromJson returns a value of the receiver's type.
        let arg = args
            .first()
            .ok_or_else(|| invalid("fromJson() requires an argument"))?;
        let spec = arg_receivers
            .first()
            .cloned()
            .unwrap_or_else(|| receiver.derive("arg0(system.fromjson)", CqlType::Text));
        return match evaluate_depth(arg, &spec, ctx, depth + 1)? {
            TermValue::Unset => Err(invalid(format!(
                "Invalid unset value for argument in call to function {}",
                f.name
            ))),
            TermValue::Null => Ok(TermValue::Null),
            TermValue::Value(text) => {
                let out = f.call(&[Some(text)], ctx.options)?;
                Ok(match out {
                    Some(b) => TermValue::Value(normalize(&receiver.ty, &b)),
                    None => TermValue::Null,
                })
            }
        };
    }
    let mut values = Vec::with_capacity(args.len());
    for (arg, spec) in args.iter().zip(&arg_receivers) {
        match evaluate_depth(arg, spec, ctx, depth + 1)? {
            TermValue::Unset => {
                return Err(invalid(format!(
                    "Invalid unset value for argument in call to function {}",
                    f.name
                )))
            }
            TermValue::Null => values.push(None),
            TermValue::Value(b) => values.push(Some(b)),
        }
    }
    match f.call(&values, ctx.options)? {
        Some(b) => Ok(TermValue::Value(normalize(&f.return_type, &b))),
        None => Ok(TermValue::Null),
    }
}

/// A schema with only the system keyspaces, built once (for resolutions that need no user
/// types).
pub(crate) fn empty_schema() -> &'static Schema {
    static EMPTY: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Schema::new)
}

/// Appends the receiver of every bind marker inside `term` (evaluated for `receiver`), the
/// way Cassandra describes them in PREPARE results. User types named in type hints are
/// resolved in the receiver's keyspace against an empty schema; use
/// [`collect_bind_receivers_in`] when the term may name user types.
pub fn collect_bind_receivers(
    term: &ast::Term,
    receiver: &Receiver,
    out: &mut Vec<(usize, Receiver)>,
) -> Result<(), QueryError> {
    let keyspace = receiver.keyspace.clone();
    collect_bind_receivers_in(term, receiver, &keyspace, empty_schema(), out)
}

/// The receivers of the bind markers in a `token()` restriction's value (`receiver` is the
/// restriction's bigint token): the arguments of a `token(...)` call there are values of
/// `table`'s partition key columns, named `arg{i}(system.token)` as Cassandra names them.
pub fn collect_token_bound_receivers(
    term: &ast::Term,
    table: &TableMetadata,
    receiver: &Receiver,
    out: &mut Vec<(usize, Receiver)>,
) -> Result<(), QueryError> {
    match term {
        ast::Term::FunctionCall { name, args } if is_token_function(name) => {
            let pk = table.partition_key_columns();
            check_token_arity(pk.len(), args.len())?;
            for (i, (arg, column)) in args.iter().zip(pk).enumerate() {
                let spec = receiver.derive(format!("arg{i}(system.token)"), column.ty.clone());
                collect_bind_receivers(arg, &spec, out)?;
            }
            Ok(())
        }
        _ => collect_bind_receivers(term, receiver, out),
    }
}

/// [`collect_bind_receivers`] with the statement's keyspace and schema (for user types in
/// type hints and function resolution).
pub fn collect_bind_receivers_in(
    term: &ast::Term,
    receiver: &Receiver,
    keyspace: &str,
    schema: &Schema,
    out: &mut Vec<(usize, Receiver)>,
) -> Result<(), QueryError> {
    collect_depth(term, receiver, keyspace, schema, out, 0)
}

fn collect_depth(
    term: &ast::Term,
    receiver: &Receiver,
    keyspace: &str,
    schema: &Schema,
    out: &mut Vec<(usize, Receiver)>,
    depth: usize,
) -> Result<(), QueryError> {
    if depth > MAX_TERM_DEPTH {
        return Err(invalid("Term nesting is too deep"));
    }
    let ty = receiver.ty.unfrozen();
    match term {
        ast::Term::BindMarker(m) => out.push((m.index, receiver.clone())),
        ast::Term::Constant(_) | ast::Term::Null => {}
        ast::Term::List(elements) | ast::Term::Set(elements) => {
            let (kind, element_type) = match (term, ty) {
                (ast::Term::List(_), CqlType::Vector(e, _)) => ("vector", Some(e)),
                (ast::Term::List(_), CqlType::List(e)) => ("list", Some(e)),
                (ast::Term::Set(_), CqlType::Set(e)) => ("set", Some(e)),
                (ast::Term::List(_), _) => ("list", None),
                _ => ("set", None),
            };
            if let Some(element_type) = element_type {
                let spec = receiver.derive(
                    format!("value({})", receiver.name),
                    (**element_type).clone(),
                );
                for e in elements {
                    if kind != "vector" && contains_marker(e) {
                        return Err(invalid(format!(
                            "Invalid {kind} literal for {}: bind variables are not supported inside collection literals",
                            receiver.name
                        )));
                    }
                    collect_depth(e, &spec, keyspace, schema, out, depth + 1)?;
                }
            }
        }
        ast::Term::Map(entries) => {
            if entries
                .iter()
                .any(|(k, v)| contains_marker(k) || contains_marker(v))
            {
                return Err(invalid(format!(
                    "Invalid map literal for {}: bind variables are not supported inside collection literals",
                    receiver.name
                )));
            }
        }
        ast::Term::UserType(fields) => {
            if let CqlType::Udt(udt) = ty {
                for (name, value) in fields {
                    if let Some((_, fty)) = udt.fields.iter().find(|(f, _)| f == name.as_str()) {
                        let spec = receiver
                            .derive(format!("{}.{}", receiver.name, name.as_str()), fty.clone());
                        collect_depth(value, &spec, keyspace, schema, out, depth + 1)?;
                    }
                }
            }
        }
        ast::Term::Tuple(elements) => {
            if elements.len() == 1 && !matches!(ty, CqlType::Tuple(_)) {
                if let Some(only) = elements.first() {
                    return collect_depth(only, receiver, keyspace, schema, out, depth + 1);
                }
            }
            if let CqlType::Tuple(types) = ty {
                for (i, (e, t)) in elements.iter().zip(types).enumerate() {
                    let spec = receiver.derive(format!("{}[{i}]", receiver.name), t.clone());
                    collect_depth(e, &spec, keyspace, schema, out, depth + 1)?;
                }
            }
        }
        ast::Term::TypeHint {
            ty: hint,
            term: inner,
        } => {
            let hinted = resolve_type(hint, keyspace, schema)?;
            let spec = receiver.derive(term_text(term), hinted);
            collect_depth(inner, &spec, keyspace, schema, out, depth + 1)?;
        }
        ast::Term::FunctionCall { .. }
        | ast::Term::Cast { .. }
        | ast::Term::Negate(_)
        | ast::Term::Binary { .. } => {
            if !contains_marker(term) {
                return Ok(());
            }
            let (f, arg_receivers) = prepare_function(term, receiver, keyspace, schema)?;
            let args = function_parts(term).map(|(_, a)| a).unwrap_or_default();
            for (i, arg) in args.iter().enumerate() {
                let spec = if f.is_from_json() {
                    receiver.derive(format!("arg{i}(system.{})", f.name), CqlType::Text)
                } else {
                    arg_receivers
                        .get(i)
                        .cloned()
                        .ok_or_else(|| QueryError::server("missing argument receiver"))?
                };
                collect_depth(arg, &spec, keyspace, schema, out, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// Evaluates a bound-or-literal argument of an integer type (such as `LIMIT`), returning
/// `Ok(None)` when UNSET; NULL is `Invalid null value of {name}` (the receiver name without
/// brackets, underscores as spaces: `[per_partition_limit]` gives `per partition limit`).
pub fn evaluate_int(
    term: &ast::Term,
    name: &str,
    ctx: &TermContext<'_>,
) -> Result<Option<i32>, QueryError> {
    let receiver = Receiver::new(ctx.keyspace, "", name, CqlType::Int);
    match evaluate(term, &receiver, ctx)? {
        TermValue::Unset => Ok(None),
        TermValue::Null => Err(invalid(format!(
            "Invalid null value of {}",
            display_name(name)
        ))),
        TermValue::Value(b) => <[u8; 4]>::try_from(&b[..])
            .map(|a| Some(i32::from_be_bytes(a)))
            .map_err(|_| invalid(format!("Invalid {} value", display_name(name)))),
    }
}

/// [`evaluate_int`] for `bigint` arguments such as `USING TIMESTAMP`.
pub fn evaluate_bigint(
    term: &ast::Term,
    name: &str,
    ctx: &TermContext<'_>,
) -> Result<Option<i64>, QueryError> {
    let receiver = Receiver::new(ctx.keyspace, "", name, CqlType::Bigint);
    match evaluate(term, &receiver, ctx)? {
        TermValue::Unset => Ok(None),
        TermValue::Null => Err(invalid(format!(
            "Invalid null value of {}",
            display_name(name)
        ))),
        TermValue::Value(b) => <[u8; 8]>::try_from(&b[..])
            .map(|a| Some(i64::from_be_bytes(a)))
            .map_err(|_| invalid(format!("Invalid {} value", display_name(name)))),
    }
}

/// Largest TTL Cassandra accepts (20 years), in seconds.
pub const MAX_TTL_SECS: i32 = 630_720_000;

/// Evaluates `USING TTL` as Cassandra's `Attributes.getTimeToLive`: `Ok(None)` when UNSET
/// (use the table's default), 0 for NULL, errors for negative or too large values.
pub fn evaluate_ttl(term: &ast::Term, ctx: &TermContext<'_>) -> Result<Option<i32>, QueryError> {
    let receiver = Receiver::new(ctx.keyspace, "", "[ttl]", CqlType::Int);
    let ttl = match evaluate(term, &receiver, ctx)? {
        TermValue::Unset => return Ok(None),
        TermValue::Null => return Ok(Some(0)),
        TermValue::Value(b) => match <[u8; 4]>::try_from(&b[..]) {
            Ok(a) => i32::from_be_bytes(a),
            Err(_) => return Err(invalid("Invalid timestamp value: empty ttl")),
        },
    };
    if ttl < 0 {
        return Err(invalid(format!(
            "A TTL must be greater or equal to 0, but was {ttl}"
        )));
    }
    if ttl > MAX_TTL_SECS {
        return Err(invalid(format!(
            "ttl is too large. requested ({ttl}) maximum ({MAX_TTL_SECS})"
        )));
    }
    Ok(Some(ttl))
}

/// Evaluates `USING TIMESTAMP` (microseconds): `Ok(None)` when UNSET (use the default),
/// `Invalid null value of timestamp` for NULL.
pub fn evaluate_timestamp(
    term: &ast::Term,
    ctx: &TermContext<'_>,
) -> Result<Option<i64>, QueryError> {
    evaluate_bigint(term, "[timestamp]", ctx)
}

fn display_name(name: &str) -> String {
    name.trim_start_matches('[')
        .trim_end_matches(']')
        .replace('_', " ")
}
