//! Static analysis of `INSERT`, `UPDATE` and `DELETE` against the schema: what Cassandra's
//! `ModificationStatement.Parsed.prepare` checks, with the same messages and in the same
//! order (attributes, conditions, operations, `WHERE` restrictions, statement-level checks).
//!
//! The result ([`Analyzed`]) borrows the statement and the table; it holds every term still
//! unevaluated, so one analysis serves both PREPARE (bind-marker receivers) and execution
//! (binding values).

use meridian_cql_parser::ast;
use meridian_schema::{ColumnKind, ColumnMetadata, Schema, TableMetadata};
use meridian_types::cql_type::CqlType;

use crate::error::QueryError;
use crate::terms::Receiver;

use super::restrictions::{self, Restrictions, Source};

/// Which statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl Kind {
    /// Cassandra's `StatementType` name, used in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Insert => "INSERT",
            Kind::Update => "UPDATE",
            Kind::Delete => "DELETE",
        }
    }
}

/// A borrowed DML statement.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Dml<'a> {
    /// `INSERT`.
    Insert(&'a ast::InsertStatement),
    /// `UPDATE`.
    Update(&'a ast::UpdateStatement),
    /// `DELETE`.
    Delete(&'a ast::DeleteStatement),
}

impl<'a> Dml<'a> {
    /// The DML statement inside `statement`, or Cassandra's batch refusal.
    pub(crate) fn of(statement: &'a ast::Statement) -> Result<Dml<'a>, QueryError> {
        match statement {
            ast::Statement::Insert(s) => Ok(Dml::Insert(s)),
            ast::Statement::Update(s) => Ok(Dml::Update(s)),
            ast::Statement::Delete(s) => Ok(Dml::Delete(s)),
            other => Err(QueryError::invalid(format!(
                "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed (got {})",
                other.kind_name()
            ))),
        }
    }

    fn table(&self) -> &'a ast::QualifiedName {
        match self {
            Dml::Insert(s) => &s.table,
            Dml::Update(s) => &s.table,
            Dml::Delete(s) => &s.table,
        }
    }
}

/// What an operation does to its column.
#[derive(Clone, Debug)]
pub(crate) enum OpKind<'a> {
    /// `c = v` (also every non-key column of `INSERT`).
    Set(Source<'a>),
    /// `l[i] = v` / `m[k] = v`.
    SetElement {
        /// Index or key.
        key: &'a ast::Term,
        /// Value.
        value: &'a ast::Term,
    },
    /// `u.f = v`.
    SetField {
        /// Field position.
        index: usize,
        /// Value.
        value: &'a ast::Term,
    },
    /// `c = c + v`: list append, set union, map put.
    Add(&'a ast::Term),
    /// `c = c - v`: list/set removal by value, map removal by keys.
    Subtract(&'a ast::Term),
    /// `l = v + l`.
    Prepend(&'a ast::Term),
    /// `DELETE c`.
    DeleteColumn,
    /// `DELETE l[i]` / `DELETE s[e]` / `DELETE m[k]`.
    DeleteElement(&'a ast::Term),
    /// `DELETE u.f`.
    DeleteField(usize),
}

/// One operation of a statement on one column.
#[derive(Clone, Debug)]
pub(crate) struct Operation<'a> {
    /// The column.
    pub column: &'a ColumnMetadata,
    /// What is done.
    pub kind: OpKind<'a>,
}

impl Operation<'_> {
    /// Whether executing the operation needs the column's current value (list operations
    /// by index or by value).
    pub(crate) fn requires_read(&self) -> bool {
        matches!(self.column.ty, CqlType::List(_))
            && matches!(
                self.kind,
                OpKind::SetElement { .. } | OpKind::Subtract(_) | OpKind::DeleteElement(_)
            )
    }

    pub(crate) fn is_static(&self) -> bool {
        self.column.kind == ColumnKind::Static
    }
}

/// What an `IF` condition tests.
#[derive(Clone, Debug)]
pub(crate) enum CondTarget<'a> {
    /// The whole column.
    Column,
    /// `c[e]` of a list or map.
    Element(&'a ast::Term),
    /// `u.f` (field position).
    Field(usize),
}

/// A column condition.
#[derive(Clone, Debug)]
pub(crate) struct ColumnCondition<'a> {
    /// The column.
    pub column: &'a ColumnMetadata,
    /// What is tested.
    pub target: CondTarget<'a>,
    /// Operator and operand(s).
    pub op: &'a ast::ConditionOp,
}

/// The conditions of a statement.
#[derive(Clone, Debug)]
pub(crate) enum Conditions<'a> {
    /// None: a plain write.
    None,
    /// `IF EXISTS`.
    IfExists,
    /// `IF NOT EXISTS`.
    IfNotExists,
    /// `IF c = v AND ...`.
    Columns(Vec<ColumnCondition<'a>>),
}

impl Conditions<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Conditions::None)
    }

    fn applies_to_regular(&self) -> bool {
        match self {
            Conditions::Columns(cs) => cs.iter().any(|c| c.column.kind != ColumnKind::Static),
            _ => false,
        }
    }

    fn applies_to_static(&self) -> bool {
        match self {
            Conditions::Columns(cs) => cs.iter().any(|c| c.column.kind == ColumnKind::Static),
            _ => false,
        }
    }

    /// The columns with conditions, regular ones first then static ones (each in `IF`
    /// order), without duplicates: the columns a failed conditional statement reports.
    /// `None` for `IF [NOT] EXISTS` (which report every column).
    pub(crate) fn columns(&self) -> Option<Vec<&ColumnMetadata>> {
        match self {
            Conditions::Columns(cs) => {
                let mut out: Vec<&ColumnMetadata> = Vec::new();
                let regular = cs.iter().filter(|c| c.column.kind != ColumnKind::Static);
                let statics = cs.iter().filter(|c| c.column.kind == ColumnKind::Static);
                for c in regular.chain(statics) {
                    if !out.iter().any(|o| o.id == c.column.id) {
                        out.push(c.column);
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }
}

/// `INSERT ... JSON`: where the document comes from.
#[derive(Clone, Debug)]
pub(crate) struct JsonInsert<'a> {
    /// The document.
    pub value: &'a ast::JsonValue,
    /// `DEFAULT UNSET`.
    pub default_unset: bool,
}

/// A statement checked against its table.
#[derive(Debug)]
pub(crate) struct Analyzed<'a> {
    /// Which statement.
    pub kind: Kind,
    /// The table.
    pub table: &'a TableMetadata,
    /// `USING TIMESTAMP`.
    pub timestamp: Option<&'a ast::Term>,
    /// `USING TTL`.
    pub ttl: Option<&'a ast::Term>,
    /// Operations in statement order.
    pub ops: Vec<Operation<'a>>,
    /// The `WHERE` clause (for `INSERT`, the key columns' values).
    pub restrictions: Restrictions<'a>,
    /// `IF` conditions.
    pub conditions: Conditions<'a>,
    /// `INSERT JSON`.
    pub json: Option<JsonInsert<'a>>,
}

impl<'a> Analyzed<'a> {
    /// Whether the statement writes regular rows (the table has no clustering columns, or
    /// clustering columns are restricted).
    pub(crate) fn updates_regular_rows(&self) -> bool {
        self.table.clustering_columns().is_empty() || !self.restrictions.clustering.is_empty()
    }

    /// Whether the statement writes the static row.
    pub(crate) fn updates_static_row(&self) -> bool {
        self.ops.iter().any(Operation::is_static)
    }

    /// Operations on regular columns.
    pub(crate) fn regular_ops(&self) -> impl Iterator<Item = &Operation<'a>> {
        self.ops.iter().filter(|o| !o.is_static())
    }

    /// Operations on static columns.
    pub(crate) fn static_ops(&self) -> impl Iterator<Item = &Operation<'a>> {
        self.ops.iter().filter(|o| o.is_static())
    }

    /// Whether operations and conditions only touch static columns (Cassandra's
    /// `appliesOnlyToStaticColumns`).
    pub(crate) fn applies_only_to_static(&self) -> bool {
        applies_only_to_static(self.kind, &self.ops, &self.conditions)
    }

    /// Whether some operation reads the current row first.
    pub(crate) fn requires_read(&self) -> bool {
        self.ops.iter().any(Operation::requires_read)
    }
}

/// The receiver of a column's value: the column itself.
pub(crate) fn column_receiver(table: &TableMetadata, column: &ColumnMetadata) -> Receiver {
    Receiver::new(
        &table.keyspace,
        &table.name,
        column.name.clone(),
        column.ty.clone(),
    )
}

/// A receiver named `name` of type `ty` in `table`.
pub(crate) fn named_receiver(table: &TableMetadata, name: String, ty: CqlType) -> Receiver {
    Receiver::new(&table.keyspace, &table.name, name, ty)
}

fn applies_only_to_static(kind: Kind, ops: &[Operation<'_>], conditions: &Conditions<'_>) -> bool {
    let regular_ops = ops.iter().any(|o| !o.is_static());
    let static_ops = ops.iter().any(|o| o.is_static());
    // A DELETE without columns deletes whole rows: it applies to regular columns.
    let ops_regular = regular_ops || (kind == Kind::Delete && !static_ops);
    !ops_regular
        && !conditions.applies_to_regular()
        && (static_ops || conditions.applies_to_static())
}

/// The table a statement names, with Cassandra's errors for a missing keyspace or table.
pub(crate) fn resolve_table<'s>(
    schema: &'s Schema,
    session_keyspace: Option<&str>,
    name: &ast::QualifiedName,
) -> Result<&'s TableMetadata, QueryError> {
    let keyspace = match (&name.keyspace, session_keyspace) {
        (Some(k), _) => k.as_str(),
        (None, Some(k)) => k,
        (None, None) => {
            return Err(QueryError::invalid(
                "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename",
            ))
        }
    };
    let Some(ks) = schema.keyspace(keyspace) else {
        // Cassandra 5.0's wording (`Schema.validateTable`).
        return Err(QueryError::invalid(format!(
            "keyspace {keyspace} does not exist"
        )));
    };
    ks.tables
        .get(name.name.as_str())
        .ok_or_else(|| QueryError::invalid(format!("table {} does not exist", name.name.as_str())))
}

/// The column `name` of `table`, or Cassandra's `Undefined column name` error.
pub(crate) fn existing_column<'t>(
    table: &'t TableMetadata,
    name: &ast::Identifier,
) -> Result<&'t ColumnMetadata, QueryError> {
    table.column(name.as_str()).ok_or_else(|| {
        QueryError::invalid(format!(
            "Undefined column name {} in table {}",
            meridian_types::value::cql_identifier(name.as_str()),
            table.qualified_name()
        ))
    })
}

/// Analyzes a DML statement.
pub(crate) fn analyze<'a>(
    schema: &'a Schema,
    session_keyspace: Option<&str>,
    dml: Dml<'a>,
) -> Result<Analyzed<'a>, QueryError> {
    let table = resolve_table(schema, session_keyspace, dml.table())?;
    check_writable(table)?;
    match dml {
        Dml::Insert(s) => analyze_insert(table, s),
        Dml::Update(s) => analyze_update(table, s),
        Dml::Delete(s) => analyze_delete(table, s),
    }
}

/// Meridian computes the tables of the system keyspaces; they take no writes.
fn check_writable(table: &TableMetadata) -> Result<(), QueryError> {
    if table.is_virtual {
        return Err(QueryError::invalid(format!(
            "Modification is not supported by table {}",
            table.qualified_name()
        )));
    }
    if table.is_system() {
        return Err(QueryError::Unauthorized(format!(
            "{} keyspace is not user-modifiable.",
            table.keyspace
        )));
    }
    Ok(())
}

fn using_attrs(using: &[ast::UsingAttribute]) -> (Option<&ast::Term>, Option<&ast::Term>) {
    use ast::UsingAttributes;
    (using.timestamp(), using.ttl())
}

fn analyze_conditions<'a>(
    table: &'a TableMetadata,
    if_exists: bool,
    if_not_exists: bool,
    conditions: &'a [ast::Condition],
    timestamp: Option<&ast::Term>,
) -> Result<Conditions<'a>, QueryError> {
    let out = if if_exists {
        Conditions::IfExists
    } else if if_not_exists {
        Conditions::IfNotExists
    } else if conditions.is_empty() {
        Conditions::None
    } else {
        if timestamp.is_some() {
            return Err(QueryError::invalid(
                "Cannot provide custom timestamp for conditional updates",
            ));
        }
        let mut out = Vec::with_capacity(conditions.len());
        for c in conditions {
            let column = existing_column(table, &c.column)?;
            out.push(analyze_condition(column, c)?);
            if column.kind.is_primary_key() {
                return Err(QueryError::invalid(format!(
                    "PRIMARY KEY column '{}' cannot have IF conditions",
                    column.name
                )));
            }
        }
        Conditions::Columns(out)
    };
    if !out.is_empty() {
        if table.is_counter() {
            return Err(QueryError::invalid(
                "Conditional updates are not supported on counter tables",
            ));
        }
        if timestamp.is_some() {
            return Err(QueryError::invalid(
                "Cannot provide custom timestamp for conditional updates",
            ));
        }
    }
    Ok(out)
}

fn is_slice(op: &ast::ConditionOp) -> bool {
    matches!(
        op,
        ast::ConditionOp::Compare(
            ast::ComparisonOp::Lt
                | ast::ComparisonOp::Lte
                | ast::ComparisonOp::Gt
                | ast::ComparisonOp::Gte,
            _
        )
    )
}

fn validate_duration_slice(ty: &CqlType, op: &ast::ConditionOp) -> Result<(), QueryError> {
    if !(ty.references_duration() && is_slice(op)) {
        return Ok(());
    }
    let ast::ConditionOp::Compare(cmp, _) = op else {
        return Ok(());
    };
    let msg = if ty.is_collection() {
        "Slice conditions are not supported on collections containing durations".to_string()
    } else if matches!(ty.unfrozen(), CqlType::Tuple(_)) {
        "Slice conditions are not supported on tuples containing durations".to_string()
    } else if matches!(ty.unfrozen(), CqlType::Udt(_)) {
        "Slice conditions are not supported on UDTs containing durations".to_string()
    } else {
        format!(
            "Slice conditions ( {} ) are not supported on durations",
            cmp.symbol()
        )
    };
    Err(QueryError::invalid(msg))
}

/// The type a condition's operand is read as, for CONTAINS / CONTAINS KEY checks.
fn check_contains(op: &ast::ConditionOp, ty: &CqlType, name: &str) -> Result<(), QueryError> {
    match op {
        ast::ConditionOp::ContainsKey(_) if !matches!(ty.unfrozen(), CqlType::Map(..)) => Err(
            QueryError::invalid(format!("Cannot use CONTAINS KEY on non-map column {name}")),
        ),
        ast::ConditionOp::Contains(_) if !ty.is_collection() => Err(QueryError::invalid(format!(
            "Cannot use CONTAINS on non-collection column {name}"
        ))),
        _ => Ok(()),
    }
}

fn analyze_condition<'a>(
    column: &'a ColumnMetadata,
    c: &'a ast::Condition,
) -> Result<ColumnCondition<'a>, QueryError> {
    if column.ty.is_counter() {
        return Err(QueryError::invalid(
            "Conditions on counters are not supported",
        ));
    }
    let target = match &c.target {
        ast::ConditionTarget::Column => {
            validate_duration_slice(&column.ty, &c.op)?;
            check_contains(&c.op, &column.ty, &column.name)?;
            CondTarget::Column
        }
        ast::ConditionTarget::Element(e) => {
            let value_ty = match column.ty.unfrozen() {
                CqlType::List(v) => v.as_ref().clone(),
                CqlType::Map(_, v) => v.as_ref().clone(),
                CqlType::Set(_) => {
                    return Err(QueryError::invalid(format!(
                        "Invalid element access syntax for set column {}",
                        column.name
                    )))
                }
                _ => {
                    return Err(QueryError::invalid(format!(
                        "Invalid element access syntax for non-collection column {}",
                        column.name
                    )))
                }
            };
            validate_duration_slice(&value_ty, &c.op)?;
            check_contains(&c.op, &value_ty, &format!("value({})", column.name))?;
            CondTarget::Element(e)
        }
        ast::ConditionTarget::Field(f) => {
            let CqlType::Udt(u) = column.ty.unfrozen() else {
                return Err(QueryError::invalid(format!(
                    "Invalid field selection: {} of type {} is not a user type",
                    column.name, column.ty
                )));
            };
            let Some(index) = u.fields.iter().position(|(n, _)| n == f.as_str()) else {
                return Err(QueryError::invalid(format!(
                    "Unknown field {} for column {}",
                    meridian_types::value::cql_identifier(f.as_str()),
                    column.name
                )));
            };
            let field_ty = &u.fields[index].1;
            validate_duration_slice(field_ty, &c.op)?;
            check_contains(&c.op, field_ty, &format!("{}.{}", column.name, f.as_str()))?;
            CondTarget::Field(index)
        }
    };
    Ok(ColumnCondition {
        column,
        target,
        op: &c.op,
    })
}

fn analyze_insert<'a>(
    table: &'a TableMetadata,
    s: &'a ast::InsertStatement,
) -> Result<Analyzed<'a>, QueryError> {
    let (timestamp, ttl) = using_attrs(&s.using);
    let conditions = analyze_conditions(table, false, s.if_not_exists, &[], timestamp)?;
    if table.is_counter() {
        return Err(QueryError::invalid(
            "INSERT statements are not allowed on counter tables, use UPDATE instead",
        ));
    }
    let mut ops = Vec::new();
    let mut key_values: Vec<(&ColumnMetadata, Source<'a>)> = Vec::new();
    let mut json = None;
    match &s.values {
        ast::InsertValues::Values { columns, values } => {
            if columns.is_empty() {
                return Err(QueryError::invalid("No columns provided to INSERT"));
            }
            if columns.len() != values.len() {
                return Err(QueryError::invalid("Unmatched column names/values"));
            }
            for (i, c) in columns.iter().enumerate() {
                if columns[..i].contains(c) {
                    return Err(QueryError::invalid("The column names contains duplicates"));
                }
            }
            for (name, value) in columns.iter().zip(values) {
                let column = existing_column(table, name)?;
                if column.kind.is_primary_key() {
                    key_values.push((column, Source::Term(value)));
                } else {
                    ops.push(Operation {
                        column,
                        kind: OpKind::Set(Source::Term(value)),
                    });
                }
            }
        }
        ast::InsertValues::Json {
            value,
            default_unset,
        } => {
            json = Some(JsonInsert {
                value,
                default_unset: *default_unset,
            });
            for column in table.columns() {
                if column.kind.is_primary_key() {
                    key_values.push((column, Source::Json(column)));
                } else {
                    ops.push(Operation {
                        column,
                        kind: OpKind::Set(Source::Json(column)),
                    });
                }
            }
        }
    }
    let has_clustering_set = key_values
        .iter()
        .any(|(c, _)| matches!(c.kind, ColumnKind::Clustering { .. }));
    let static_only =
        !has_clustering_set && applies_only_to_static(Kind::Insert, &ops, &conditions);
    let restrictions = restrictions::from_insert(table, key_values, static_only)?;
    Ok(Analyzed {
        kind: Kind::Insert,
        table,
        timestamp,
        ttl,
        ops,
        restrictions,
        conditions,
        json,
    })
}

fn analyze_assignment<'a>(
    column: &'a ColumnMetadata,
    a: &'a ast::Assignment,
) -> Result<Operation<'a>, QueryError> {
    let name = &column.name;
    let ty = &column.ty;
    let kind = match a {
        ast::Assignment::Set { value, .. } => {
            if ty.is_counter() {
                return Err(QueryError::invalid(format!(
                    "Cannot set the value of counter column {name} (counters can only be incremented/decremented, not set)"
                )));
            }
            OpKind::Set(Source::Term(value))
        }
        ast::Assignment::SetElement { key, value, .. } => {
            let text = format!("{name}[{key}] = {value}");
            if !ty.is_collection() {
                return Err(QueryError::invalid(format!(
                    "Invalid operation ({text}) for non collection column {name}"
                )));
            }
            if !ty.is_multi_cell() {
                return Err(QueryError::invalid(format!(
                    "Invalid operation ({text}) for frozen collection column {name}"
                )));
            }
            if matches!(ty, CqlType::Set(_)) {
                return Err(QueryError::invalid(format!(
                    "Invalid operation ({text}) for set column {name}"
                )));
            }
            OpKind::SetElement { key, value }
        }
        ast::Assignment::SetField { field, value, .. } => {
            let text = format!("{name}.{} = {value}", field.as_str());
            let CqlType::Udt(u) = ty.unfrozen() else {
                return Err(QueryError::invalid(format!(
                    "Invalid operation ({text}) for non-UDT column {name}"
                )));
            };
            if !ty.is_multi_cell() {
                return Err(QueryError::invalid(format!(
                    "Invalid operation ({text}) for frozen UDT column {name}"
                )));
            }
            let Some(index) = u.fields.iter().position(|(n, _)| n == field.as_str()) else {
                return Err(QueryError::invalid(format!(
                    "UDT column {name} does not have a field named {}",
                    field.as_str()
                )));
            };
            OpKind::SetField { index, value }
        }
        ast::Assignment::Add { value, .. } => {
            let text = format!("{name} = {name} + {value}");
            if !ty.is_collection() {
                if matches!(ty.unfrozen(), CqlType::Tuple(_)) {
                    return Err(QueryError::invalid(format!(
                        "Invalid operation ({text}) for tuple column {name}"
                    )));
                }
                if !ty.is_counter() {
                    return Err(QueryError::invalid(format!(
                        "Invalid operation ({text}) for non counter column {name}"
                    )));
                }
                return Err(counters_unsupported(&text));
            }
            if !ty.is_multi_cell() {
                return Err(QueryError::invalid(format!(
                    "Invalid operation ({text}) for frozen collection column {name}"
                )));
            }
            OpKind::Add(value)
        }
        ast::Assignment::Subtract { value, .. } => {
            let text = format!("{name} = {name} - {value}");
            if !ty.is_collection() {
                if !ty.is_counter() {
                    return Err(QueryError::invalid(format!(
                        "Invalid operation ({text}) for non counter column {name}"
                    )));
                }
                return Err(counters_unsupported(&text));
            }
            if !ty.is_multi_cell() {
                return Err(QueryError::invalid(format!(
                    "Invalid operation ({text}) for frozen collection column {name}"
                )));
            }
            OpKind::Subtract(value)
        }
        ast::Assignment::Prepend { value, .. } => {
            // Cassandra prints prepends as "c = v - c".
            let text = format!("{name} = {value} - {name}");
            if !matches!(ty.unfrozen(), CqlType::List(_)) {
                return Err(QueryError::invalid(format!(
                    "Invalid operation ({text}) for non list column {name}"
                )));
            }
            if !ty.is_multi_cell() {
                return Err(QueryError::invalid(format!(
                    "Invalid operation ({text}) for frozen list column {name}"
                )));
            }
            OpKind::Prepend(value)
        }
    };
    Ok(Operation { column, kind })
}

fn counters_unsupported(text: &str) -> QueryError {
    QueryError::invalid(format!(
        "Counter updates ({text}) are not supported by this node yet"
    ))
}

fn analyze_update<'a>(
    table: &'a TableMetadata,
    s: &'a ast::UpdateStatement,
) -> Result<Analyzed<'a>, QueryError> {
    let (timestamp, ttl) = using_attrs(&s.using);
    let conditions = analyze_conditions(table, s.if_exists, false, &s.conditions, timestamp)?;
    let mut ops = Vec::with_capacity(s.assignments.len());
    for a in &s.assignments {
        let column = existing_column(table, a.column())?;
        if column.kind.is_primary_key() {
            return Err(QueryError::invalid(format!(
                "PRIMARY KEY part {} found in SET part",
                column.name
            )));
        }
        ops.push(analyze_assignment(column, a)?);
    }
    let static_only = applies_only_to_static(Kind::Update, &ops, &conditions);
    let restrictions = restrictions::from_where(table, Kind::Update, &s.where_clause, static_only)?;
    Ok(Analyzed {
        kind: Kind::Update,
        table,
        timestamp,
        ttl,
        ops,
        restrictions,
        conditions,
        json: None,
    })
}

fn analyze_deletion<'a>(
    column: &'a ColumnMetadata,
    target: &'a ast::DeleteTarget,
) -> Result<Operation<'a>, QueryError> {
    let name = &column.name;
    let ty = &column.ty;
    let kind = match target {
        ast::DeleteTarget::Column(_) => OpKind::DeleteColumn,
        ast::DeleteTarget::Element { key, .. } => {
            if !ty.is_collection() {
                return Err(QueryError::invalid(format!(
                    "Invalid deletion operation for non collection column {name}"
                )));
            }
            if !ty.is_multi_cell() {
                return Err(QueryError::invalid(format!(
                    "Invalid deletion operation for frozen collection column {name}"
                )));
            }
            OpKind::DeleteElement(key)
        }
        ast::DeleteTarget::Field { field, .. } => {
            let CqlType::Udt(u) = ty.unfrozen() else {
                return Err(QueryError::invalid(format!(
                    "Invalid field deletion operation for non-UDT column {name}"
                )));
            };
            if !ty.is_multi_cell() {
                return Err(QueryError::invalid(format!(
                    "Frozen UDT column {name} does not support field deletions"
                )));
            }
            let Some(index) = u.fields.iter().position(|(n, _)| n == field.as_str()) else {
                return Err(QueryError::invalid(format!(
                    "UDT column {name} does not have a field named {}",
                    field.as_str()
                )));
            };
            OpKind::DeleteField(index)
        }
    };
    Ok(Operation { column, kind })
}

fn analyze_delete<'a>(
    table: &'a TableMetadata,
    s: &'a ast::DeleteStatement,
) -> Result<Analyzed<'a>, QueryError> {
    let timestamp = s.timestamp.as_ref();
    let conditions = analyze_conditions(table, s.if_exists, false, &s.conditions, timestamp)?;
    let mut ops = Vec::with_capacity(s.targets.len());
    for t in &s.targets {
        let name = match t {
            ast::DeleteTarget::Column(c)
            | ast::DeleteTarget::Element { column: c, .. }
            | ast::DeleteTarget::Field { column: c, .. } => c,
        };
        let column = existing_column(table, name)?;
        if column.kind.is_primary_key() {
            return Err(QueryError::invalid(format!(
                "Invalid identifier {} for deletion (should not be a PRIMARY KEY part)",
                column.name
            )));
        }
        ops.push(analyze_deletion(column, t)?);
    }
    let static_only = applies_only_to_static(Kind::Delete, &ops, &conditions);
    let restrictions = restrictions::from_where(table, Kind::Delete, &s.where_clause, static_only)?;
    let analyzed = Analyzed {
        kind: Kind::Delete,
        table,
        timestamp,
        ttl: None,
        ops,
        restrictions,
        conditions,
        json: None,
    };
    if !analyzed.conditions.is_empty() && !analyzed.restrictions.all_key_columns_by_equality(table)
    {
        let ops_regular =
            analyzed.regular_ops().next().is_some() || analyzed.static_ops().next().is_none();
        if ops_regular {
            return Err(QueryError::invalid(
                "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to delete non static columns",
            ));
        }
        if analyzed.conditions.applies_to_regular() {
            return Err(QueryError::invalid(
                "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to use IF condition on non static columns",
            ));
        }
    }
    Ok(analyzed)
}
