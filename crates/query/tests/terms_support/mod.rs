//! Shared helpers of the `terms_*` integration tests: parsing a term, a schema with user
//! types, evaluating a term for a receiver with bound values.

#![allow(dead_code)]

use bytes::Bytes;
use meridian_cql_parser::ast;
use meridian_cql_protocol::Value;
use meridian_query::context::{BoundValues, ExecOptions};
use meridian_query::terms::{self, Receiver, TermContext, TermValue};
use meridian_schema::{ClusterTopology, CreateKeyspace, CreateType, OptionValue, Schema};
use meridian_types::cql_type::{CqlType, UdtType};
use meridian_types::value::CqlValue;

/// Parses `text` as the single value of an `INSERT`.
pub fn term(text: &str) -> ast::Term {
    let cql = format!("INSERT INTO t (v) VALUES ({text})");
    match meridian_cql_parser::parse_statement(&cql) {
        Ok(ast::Statement::Insert(ins)) => match ins.values {
            ast::InsertValues::Values { mut values, .. } if values.len() == 1 => values.remove(0),
            other => panic!("unexpected insert values {other:?}"),
        },
        other => panic!("{cql}: {other:?}"),
    }
}

/// Parses a CQL type (as written in a `CREATE TABLE`).
pub fn ast_type(text: &str) -> ast::CqlType {
    let cql = format!("CREATE TABLE t (k {text} PRIMARY KEY)");
    match meridian_cql_parser::parse_statement(&cql) {
        Ok(ast::Statement::CreateTable(ct)) => ct.columns[0].ty.clone(),
        other => panic!("{cql}: {other:?}"),
    }
}

/// The `address` user type of keyspace `ks`.
pub fn address_type() -> UdtType {
    UdtType {
        keyspace: "ks".into(),
        name: "address".into(),
        fields: vec![
            ("street".into(), CqlType::Text),
            ("zip".into(), CqlType::Int),
            (
                "Tags".into(),
                CqlType::Frozen(Box::new(CqlType::Set(Box::new(CqlType::Text)))),
            ),
        ],
    }
}

/// A schema with keyspace `ks` and its user type `address`.
pub fn schema() -> Schema {
    let mut schema = Schema::new();
    let ks = CreateKeyspace {
        name: "ks".into(),
        if_not_exists: false,
        properties: vec![(
            "replication".into(),
            OptionValue::Map(vec![
                ("class".into(), "SimpleStrategy".into()),
                ("replication_factor".into(), "1".into()),
            ]),
        )],
    };
    schema
        .create_keyspace(&ks, &ClusterTopology::default())
        .expect("create keyspace");
    let address = address_type();
    schema
        .create_type(&CreateType {
            keyspace: "ks".into(),
            name: address.name.clone(),
            if_not_exists: false,
            fields: address.fields.clone(),
        })
        .expect("create type");
    schema
}

/// A receiver named `v` of type `ty` in `ks.t`.
pub fn receiver(ty: CqlType) -> Receiver {
    Receiver::new("ks", "t", "v", ty)
}

/// Evaluates `text` for a receiver `v` of type `ty`, with bound values.
pub fn eval_with(text: &str, ty: &CqlType, values: Vec<Value>) -> Result<TermValue, String> {
    let schema = schema();
    let bound = BoundValues { values };
    let mut options = ExecOptions::new();
    options.now_micros = 1_704_103_200_000_000; // 2024-01-01 10:00:00 UTC
    let ctx = TermContext {
        schema: &schema,
        keyspace: "ks",
        values: &bound,
        options: &options,
    };
    terms::evaluate(&term(text), &receiver(ty.clone()), &ctx).map_err(|e| e.to_string())
}

/// Evaluates `text` for a receiver of type `ty` (no bound values).
pub fn eval(text: &str, ty: &CqlType) -> Result<TermValue, String> {
    eval_with(text, ty, Vec::new())
}

/// The bytes of a successfully evaluated non-null term.
pub fn value(text: &str, ty: &CqlType) -> Bytes {
    match eval(text, ty) {
        Ok(TermValue::Value(b)) => b,
        other => panic!("{text} for {ty}: {other:?}"),
    }
}

/// The message of a failed evaluation.
pub fn error(text: &str, ty: &CqlType) -> String {
    match eval(text, ty) {
        Err(e) => e,
        Ok(v) => panic!("{text} for {ty}: expected an error, got {v:?}"),
    }
}

/// The serialized form of a value.
pub fn bytes(v: CqlValue) -> Bytes {
    v.to_bytes()
}

/// `frozen<t>`.
pub fn frozen(t: CqlType) -> CqlType {
    CqlType::Frozen(Box::new(t))
}

/// `list<t>`.
pub fn list(t: CqlType) -> CqlType {
    CqlType::List(Box::new(t))
}

/// `set<t>`.
pub fn set(t: CqlType) -> CqlType {
    CqlType::Set(Box::new(t))
}

/// `map<k, v>`.
pub fn map(k: CqlType, v: CqlType) -> CqlType {
    CqlType::Map(Box::new(k), Box::new(v))
}
