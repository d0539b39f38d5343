//! Server-side `DESCRIBE`: the `CREATE` statements of keyspaces, tables and types exactly as
//! Cassandra 5.0 prints them (its `toCqlString` / `CqlBuilder` output), and the result rows of
//! the `DESCRIBE` statements (`keyspace_name`, `type`, `name`[, `create_statement`]).
//!
//! The output is valid CQL that recreates the schema: identifiers are quoted only when
//! needed, types use Cassandra's canonical spelling, options are printed in full.
//! With `with_internals` (`DESCRIBE … WITH INTERNALS`), tables also print their id and their
//! dropped columns (as a `DROP … USING TIMESTAMP` plus, when re-added, an `ADD`).

use std::cmp::Ordering;

use crate::cql::{quote_identifier, quote_type_name, type_to_cql};
use crate::error::SchemaError;
use crate::keyspace::{KeyspaceSchema, UserType};
use crate::schema::Schema;
use crate::system::is_system_keyspace;
use crate::table::{ColumnKind, TableMetadata};
use meridian_types::model::ClusteringOrder;

/// The kind of element a `DESCRIBE` row is about (the `type` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElementType {
    /// `keyspace`.
    Keyspace,
    /// `type`.
    Type,
    /// `table`.
    Table,
}

impl ElementType {
    /// The value of the `type` column.
    pub fn as_str(&self) -> &'static str {
        match self {
            ElementType::Keyspace => "keyspace",
            ElementType::Type => "type",
            ElementType::Table => "table",
        }
    }
}

/// One `DESCRIBE` result row. Listings (`DESCRIBE KEYSPACES`, `TABLES`, `TYPES`) use the
/// first three columns only; element descriptions add `create_statement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeRow {
    /// `keyspace_name`, quoted if needed.
    pub keyspace_name: String,
    /// `type`.
    pub element_type: ElementType,
    /// `name`, quoted if needed.
    pub name: String,
    /// `create_statement`.
    pub create_statement: String,
}

/// Java's `String.CASE_INSENSITIVE_ORDER` (Cassandra's `SchemaElement.NAME_COMPARATOR`).
fn name_order(a: &str, b: &str) -> Ordering {
    let lower = |s: &str| s.chars().flat_map(char::to_lowercase).collect::<String>();
    lower(a).cmp(&lower(b))
}

/// `CREATE KEYSPACE …;` (or the commented-out structure of a virtual keyspace).
pub fn create_keyspace_statement(ks: &KeyspaceSchema, if_not_exists: bool) -> String {
    let name = quote_identifier(ks.name());
    if ks.is_virtual() {
        return format!(
            "/*\nWarning: Keyspace {name} is a virtual keyspace and cannot be recreated with CQL.\n\
             Structure, for reference:\nVIRTUAL KEYSPACE {name};\n*/"
        );
    }
    format!(
        "CREATE KEYSPACE {}{name} WITH replication = {}  AND durable_writes = {};",
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        ks.metadata.replication.to_cql(),
        ks.metadata.durable_writes
    )
}

/// `CREATE TYPE ks.name (\n    field type,\n    …\n);`
pub fn create_type_statement(t: &UserType, if_not_exists: bool) -> String {
    let fields: Vec<String> = t
        .fields
        .iter()
        .map(|(name, ty)| format!("    {} {}", quote_identifier(name), type_to_cql(ty)))
        .collect();
    format!(
        "CREATE TYPE {}{}.{} (\n{}\n);",
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        quote_identifier(&t.keyspace),
        quote_type_name(&t.name),
        fields.join(",\n")
    )
}

fn column_definition(
    name: &str,
    ty: &meridian_types::cql_type::CqlType,
    kind: ColumnKind,
) -> String {
    let mut s = format!("{} {}", quote_identifier(name), type_to_cql(ty));
    if kind == ColumnKind::Static {
        s.push_str(" static");
    }
    s
}

/// `CREATE TABLE ks.t (…) WITH …;` as Cassandra 5.0 prints it. With `with_internals`, the
/// table id and the dropped columns are included.
pub fn create_table_statement(
    t: &TableMetadata,
    with_internals: bool,
    if_not_exists: bool,
) -> String {
    let qn = t.qualified_name();
    let mut out = String::new();
    let keyword = if t.is_virtual {
        out.push_str(&format!(
            "/*\nWarning: Table {qn} is a virtual table and cannot be recreated with CQL.\nStructure, for reference:\n"
        ));
        "VIRTUAL"
    } else {
        "CREATE"
    };
    out.push_str(keyword);
    out.push_str(" TABLE ");
    if if_not_exists {
        out.push_str("IF NOT EXISTS ");
    }
    out.push_str(&qn);
    out.push_str(" (\n");

    let pk = t.partition_key_columns();
    let ck = t.clustering_columns();
    let single_key = pk.len() == 1 && ck.is_empty();
    let include_dropped = with_internals && !t.dropped_columns.is_empty();
    let columns: Vec<_> = t
        .columns
        .iter()
        .filter(|c| !(include_dropped && t.dropped_columns.contains_key(&c.name)))
        .collect();
    for (i, c) in columns.iter().enumerate() {
        out.push_str("    ");
        out.push_str(&column_definition(&c.name, &c.ty, c.kind));
        if single_key && matches!(c.kind, ColumnKind::PartitionKey { .. }) {
            out.push_str(" PRIMARY KEY");
        }
        if !single_key || include_dropped || i + 1 < columns.len() {
            out.push(',');
        }
        out.push('\n');
    }
    if include_dropped {
        let count = t.dropped_columns.len();
        for (i, (name, d)) in t.dropped_columns.iter().enumerate() {
            out.push_str("    ");
            out.push_str(&column_definition(name, &d.ty, d.kind));
            if !single_key || i + 1 < count {
                out.push(',');
            }
            out.push('\n');
        }
    }
    if !single_key {
        let names = |cols: &[&crate::table::ColumnMetadata]| {
            cols.iter()
                .map(|c| quote_identifier(&c.name).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let partition = if pk.len() > 1 {
            format!("({})", names(&pk))
        } else {
            names(&pk)
        };
        let clustering = if ck.is_empty() {
            String::new()
        } else {
            format!(", {}", names(&ck))
        };
        out.push_str(&format!("    PRIMARY KEY ({partition}{clustering})\n"));
    }
    out.push_str(") WITH ");

    let mut options = Vec::new();
    if with_internals {
        options.push(format!("ID = {}", t.id.0));
    }
    if !ck.is_empty() {
        let orders: Vec<String> = ck
            .iter()
            .map(|c| {
                let order = match c.kind {
                    ColumnKind::Clustering {
                        order: ClusteringOrder::Desc,
                        ..
                    } => "DESC",
                    _ => "ASC",
                };
                format!("{} {order}", quote_identifier(&c.name))
            })
            .collect();
        options.push(format!("CLUSTERING ORDER BY ({})", orders.join(", ")));
    }
    if t.is_virtual {
        options.push(format!(
            "comment = {}",
            crate::cql::cql_string_literal(&t.params.comment)
        ));
    } else {
        options.extend(t.params.to_cql_lines(true));
    }
    out.push_str(&options.join("\n    AND "));
    out.push(';');
    if t.is_virtual {
        out.push_str("\n*/");
    }
    if include_dropped {
        for (name, d) in &t.dropped_columns {
            out.push_str(&format!(
                "\nALTER TABLE {qn} DROP {} USING TIMESTAMP {};",
                quote_identifier(name),
                d.dropped_at_micros
            ));
            if let Some(c) = t.column(name) {
                out.push_str(&format!(
                    "\nALTER TABLE {qn} ADD {};",
                    column_definition(&c.name, &c.ty, c.kind)
                ));
            }
        }
    }
    out
}

fn keyspace_row(ks: &KeyspaceSchema) -> DescribeRow {
    DescribeRow {
        keyspace_name: quote_identifier(ks.name()).into_owned(),
        element_type: ElementType::Keyspace,
        name: quote_identifier(ks.name()).into_owned(),
        create_statement: create_keyspace_statement(ks, false),
    }
}

fn type_row(t: &UserType) -> DescribeRow {
    DescribeRow {
        keyspace_name: quote_identifier(&t.keyspace).into_owned(),
        element_type: ElementType::Type,
        name: quote_identifier(&t.name).into_owned(),
        create_statement: create_type_statement(t, false),
    }
}

fn table_row(t: &TableMetadata, with_internals: bool) -> DescribeRow {
    DescribeRow {
        keyspace_name: quote_identifier(&t.keyspace).into_owned(),
        element_type: ElementType::Table,
        name: quote_identifier(&t.name).into_owned(),
        create_statement: create_table_statement(t, with_internals, false),
    }
}

fn find_keyspace<'a>(
    schema: &'a Schema,
    keyspace: &str,
) -> Result<&'a KeyspaceSchema, SchemaError> {
    schema
        .keyspace(keyspace)
        .ok_or_else(|| SchemaError::invalid(format!("'{keyspace}' not found in keyspaces")))
}

fn keyspace_elements(
    ks: &KeyspaceSchema,
    only_keyspace: bool,
    with_internals: bool,
) -> Vec<DescribeRow> {
    let mut rows = vec![keyspace_row(ks)];
    if !only_keyspace {
        rows.extend(ks.types_in_dependency_order().into_iter().map(type_row));
        let mut tables: Vec<&TableMetadata> = ks.tables.values().collect();
        tables.sort_by(|a, b| name_order(&a.name, &b.name));
        rows.extend(tables.into_iter().map(|t| table_row(t, with_internals)));
    }
    rows
}

/// `DESCRIBE [ONLY] KEYSPACE ks`: the keyspace, its types (dependencies first) and its
/// tables (by name).
pub fn describe_keyspace_rows(
    schema: &Schema,
    keyspace: &str,
    only_keyspace: bool,
    with_internals: bool,
) -> Result<Vec<DescribeRow>, SchemaError> {
    Ok(keyspace_elements(
        find_keyspace(schema, keyspace)?,
        only_keyspace,
        with_internals,
    ))
}

/// `DESCRIBE KEYSPACE ks` as one text (statements separated by blank lines).
pub fn describe_keyspace(
    schema: &Schema,
    keyspace: &str,
    with_internals: bool,
) -> Result<String, SchemaError> {
    Ok(join(&describe_keyspace_rows(
        schema,
        keyspace,
        false,
        with_internals,
    )?))
}

/// `DESCRIBE TABLE ks.t`.
pub fn describe_table_rows(
    schema: &Schema,
    keyspace: &str,
    table: &str,
    with_internals: bool,
) -> Result<Vec<DescribeRow>, SchemaError> {
    let ks = find_keyspace(schema, keyspace)?;
    let t = ks.tables.get(table).ok_or_else(|| {
        SchemaError::invalid(format!(
            "Table '{table}' not found in keyspace '{keyspace}'"
        ))
    })?;
    Ok(vec![table_row(t, with_internals)])
}

/// `DESCRIBE TABLE ks.t` as text.
pub fn describe_table(
    schema: &Schema,
    keyspace: &str,
    table: &str,
    with_internals: bool,
) -> Result<String, SchemaError> {
    Ok(join(&describe_table_rows(
        schema,
        keyspace,
        table,
        with_internals,
    )?))
}

/// `DESCRIBE TYPE ks.t`.
pub fn describe_type_rows(
    schema: &Schema,
    keyspace: &str,
    name: &str,
) -> Result<Vec<DescribeRow>, SchemaError> {
    let ks = find_keyspace(schema, keyspace)?;
    let t = ks.types.get(name).ok_or_else(|| {
        SchemaError::invalid(format!(
            "User defined type '{name}' not found in '{keyspace}'"
        ))
    })?;
    Ok(vec![type_row(t)])
}

/// `DESCRIBE TYPE ks.t` as text.
pub fn describe_type(schema: &Schema, keyspace: &str, name: &str) -> Result<String, SchemaError> {
    Ok(join(&describe_type_rows(schema, keyspace, name)?))
}

/// `DESCRIBE [FULL] SCHEMA`: every keyspace (without `full`, only user keyspaces) by name,
/// each with its types and tables.
pub fn describe_schema_rows(schema: &Schema, full: bool, with_internals: bool) -> Vec<DescribeRow> {
    let mut keyspaces: Vec<&KeyspaceSchema> = schema
        .keyspaces()
        .values()
        .filter(|ks| full || !is_system_keyspace(ks.name()))
        .collect();
    keyspaces.sort_by(|a, b| name_order(a.name(), b.name()));
    keyspaces
        .into_iter()
        .flat_map(|ks| keyspace_elements(ks, false, with_internals))
        .collect()
}

/// `DESCRIBE [FULL] SCHEMA` as text.
pub fn describe_schema(schema: &Schema, full: bool, with_internals: bool) -> String {
    join(&describe_schema_rows(schema, full, with_internals))
}

/// `DESCRIBE KEYSPACES`: one row per keyspace (`create_statement` is empty; only the first
/// three columns are returned by this statement).
pub fn describe_keyspaces(schema: &Schema) -> Vec<DescribeRow> {
    let mut keyspaces: Vec<&KeyspaceSchema> = schema.keyspaces().values().collect();
    keyspaces.sort_by(|a, b| name_order(a.name(), b.name()));
    keyspaces
        .into_iter()
        .map(|ks| DescribeRow {
            create_statement: String::new(),
            ..keyspace_row(ks)
        })
        .collect()
}

/// `DESCRIBE TABLES` / `DESCRIBE TYPES`: the elements of the current keyspace, or of every
/// keyspace (by name) when there is none (`create_statement` is empty).
pub fn describe_listing(
    schema: &Schema,
    current_keyspace: Option<&str>,
    element_type: ElementType,
) -> Result<Vec<DescribeRow>, SchemaError> {
    let keyspaces: Vec<&KeyspaceSchema> = match current_keyspace {
        Some(k) => vec![find_keyspace(schema, k)?],
        None => {
            let mut all: Vec<&KeyspaceSchema> = schema.keyspaces().values().collect();
            all.sort_by(|a, b| name_order(a.name(), b.name()));
            all
        }
    };
    let mut rows = Vec::new();
    for ks in keyspaces {
        let mut names: Vec<&str> = match element_type {
            ElementType::Table => ks.tables.keys().map(String::as_str).collect(),
            ElementType::Type => ks.types.keys().map(String::as_str).collect(),
            ElementType::Keyspace => vec![ks.name()],
        };
        names.sort_by(|a, b| name_order(a, b));
        rows.extend(names.into_iter().map(|n| DescribeRow {
            keyspace_name: quote_identifier(ks.name()).into_owned(),
            element_type,
            name: quote_identifier(n).into_owned(),
            create_statement: String::new(),
        }));
    }
    Ok(rows)
}

/// The generic `DESCRIBE [ks.]name`: a keyspace named `name` (when no keyspace is given),
/// else a table of `keyspace` (or of the current keyspace).
pub fn describe_generic(
    schema: &Schema,
    keyspace: Option<&str>,
    name: &str,
    current_keyspace: Option<&str>,
    with_internals: bool,
) -> Result<Vec<DescribeRow>, SchemaError> {
    let ks_name = match keyspace {
        Some(k) => k,
        None => {
            if schema.keyspace(name).is_some() {
                return describe_keyspace_rows(schema, name, false, with_internals);
            }
            current_keyspace.unwrap_or(name)
        }
    };
    let ks = find_keyspace(schema, ks_name)?;
    if ks.tables.contains_key(name) {
        return describe_table_rows(schema, ks_name, name, with_internals);
    }
    Err(SchemaError::invalid(format!(
        "'{name}' not found in keyspace '{ks_name}'"
    )))
}

/// Statements separated by blank lines.
fn join(rows: &[DescribeRow]) -> String {
    rows.iter()
        .map(|r| r.create_statement.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}
