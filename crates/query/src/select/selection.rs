//! The selection clause: selectors compiled against the table into expression trees that
//! produce the result columns, as Cassandra's `Selection` / `Selector` do.
//!
//! * Column names and types of the result follow Cassandra: a column's own name, the alias,
//!   `writetime(v)`, `ttl(v)`, `count`, `system.max(v)`, `cast(v as int)`, `u.f`...
//! * Without aggregates every row gives one result row. With aggregates (`count(*)`,
//!   `max(v)`, ... possibly nested in scalar functions), a group of rows gives one result
//!   row: aggregates see every row of the group, every other selector the group's first row
//!   (Cassandra's behaviour).
//! * `SELECT JSON` wraps the result row into one `[json]` text column.

use bytes::Bytes;
use meridian_cql_parser::ast::{self, Selection as AstSelection, Selector, WritetimeKind};
use meridian_schema::{ColumnKind, ColumnMetadata, TableMetadata};
use meridian_types::cql_type::{compare, CqlType};
use meridian_types::model::ColumnData;
use meridian_types::token::Token;

use super::restrictions::existing_column;
use super::row::{
    ordered_cells, serialize_list, split_collection, split_map, split_tuple, LiveData, RowView,
};
use super::Binder;
use crate::context::ExecOptions;
use crate::error::QueryError;
use crate::functions::{self, Aggregate};
use crate::result::ResultColumn;
use crate::terms::{Receiver, TermValue};

fn invalid(message: impl Into<String>) -> QueryError {
    QueryError::invalid(message)
}

/// Bound values of terms inside the selection, and who asks for them.
pub(crate) enum TermMode<'a, 'b> {
    /// PREPARE: collect the receivers of bind markers.
    Collect(&'a mut Vec<(usize, Receiver)>),
    /// Execution: evaluate terms.
    Bind(&'a Binder<'b>),
}

/// What a compiled selector computes.
#[derive(Clone, Debug)]
enum Node {
    /// A column's value.
    Column(ColumnMetadata),
    /// `writetime` / `maxwritetime` / `ttl` of a column (or of one field or element of a
    /// non-frozen UDT or collection: `path`).
    Writetime {
        column: ColumnMetadata,
        kind: WritetimeKind,
        path: Option<Bytes>,
    },
    /// `token(pk...)` of the row's own partition key.
    Token,
    /// `token(a, ...)` of other values (one per partition key column).
    TokenOf(Vec<Node>),
    /// A constant (bound term).
    Const(Option<Bytes>),
    /// A scalar function.
    Scalar {
        f: functions::ScalarFn,
        args: Vec<Node>,
    },
    /// The result of aggregate number `n` for the current group.
    Aggregate(usize),
    /// A field of a UDT value.
    Field {
        inner: Box<Node>,
        index: usize,
        arity: usize,
    },
    /// `set[e]` / `map[k]`.
    Element {
        inner: Box<Node>,
        collection: CqlType,
        key: Option<Bytes>,
    },
    /// `set[a..b]` / `map[a..b]`.
    Slice {
        inner: Box<Node>,
        collection: CqlType,
        from: Option<Bytes>,
        to: Option<Bytes>,
    },
}

/// An aggregate of the selection.
#[derive(Clone, Debug)]
struct AggSpec {
    /// Function name (for `functions::aggregate`); `None` for `count(*)`.
    name: Option<String>,
    /// The argument selector and its type.
    arg: Option<(Node, CqlType)>,
}

/// A compiled selection.
#[derive(Clone, Debug)]
pub(crate) struct Selection {
    /// The result columns (before `SELECT JSON` wrapping).
    pub columns: Vec<ResultColumn>,
    nodes: Vec<Node>,
    aggs: Vec<AggSpec>,
    /// Columns the selection reads, in order of first reference.
    pub referenced: Vec<ColumnMetadata>,
    /// `SELECT JSON`.
    pub json: bool,
    keyspace: String,
    table: String,
}

/// A compiled node with its column name and type.
struct Compiled {
    node: Node,
    name: String,
    ty: CqlType,
}

/// The column names a `*` selection or the explicit selectors reference (for the checks that
/// come before the restrictions: static-only selections, `DISTINCT`).
pub(crate) fn referenced_columns(
    table: &TableMetadata,
    selection: &AstSelection,
) -> Result<Vec<ColumnMetadata>, QueryError> {
    let mut out: Vec<ColumnMetadata> = Vec::new();
    match selection {
        AstSelection::Wildcard => {
            out.extend(table.select_order().into_iter().cloned());
        }
        AstSelection::Items(items) => {
            for item in items {
                collect_columns(table, &item.selector, &mut out)?;
            }
        }
    }
    Ok(out)
}

fn collect_columns(
    table: &TableMetadata,
    s: &Selector,
    out: &mut Vec<ColumnMetadata>,
) -> Result<(), QueryError> {
    let mut push = |c: &ColumnMetadata| {
        if !out.iter().any(|o| o.name == c.name) {
            out.push(c.clone());
        }
    };
    match s {
        Selector::Column(id) => push(existing_column(table, id)?),
        Selector::Term(_) | Selector::CountRows => {}
        Selector::Writetime { target, .. } => collect_columns(table, target, out)?,
        Selector::Cast { selector, .. }
        | Selector::Field { selector, .. }
        | Selector::Element { selector, .. }
        | Selector::Slice { selector, .. }
        | Selector::TypeHint { selector, .. }
        | Selector::Negate(selector) => collect_columns(table, selector, out)?,
        Selector::Function { args, .. }
        | Selector::List(args)
        | Selector::Set(args)
        | Selector::Tuple(args) => {
            for a in args {
                collect_columns(table, a, out)?;
            }
        }
        Selector::MapOrUdt(entries) => {
            for (k, v) in entries {
                collect_columns(table, k, out)?;
                collect_columns(table, v, out)?;
            }
        }
        Selector::Binary { left, right, .. } => {
            collect_columns(table, left, out)?;
            collect_columns(table, right, out)?;
        }
    }
    Ok(())
}

struct Compiler<'t, 'm, 'a, 'b> {
    table: &'t TableMetadata,
    mode: &'m mut TermMode<'a, 'b>,
    aggs: Vec<AggSpec>,
    referenced: Vec<ColumnMetadata>,
    schema: &'t meridian_schema::Schema,
}

impl Compiler<'_, '_, '_, '_> {
    fn reference(&mut self, c: &ColumnMetadata) {
        if !self.referenced.iter().any(|o| o.name == c.name) {
            self.referenced.push(c.clone());
        }
    }

    fn term(&mut self, term: &ast::Term, ty: &CqlType) -> Result<Node, QueryError> {
        let receiver = Receiver::new(
            &self.table.keyspace,
            &self.table.name,
            "[selection]",
            ty.clone(),
        );
        match self.mode {
            TermMode::Collect(out) => {
                crate::terms::collect_bind_receivers_in(
                    term,
                    &receiver,
                    &self.table.keyspace,
                    self.schema,
                    out,
                )?;
                Ok(Node::Const(None))
            }
            TermMode::Bind(b) => match b.eval(term, "[selection]", ty)? {
                TermValue::Value(v) => Ok(Node::Const(Some(v))),
                TermValue::Null | TermValue::Unset => Ok(Node::Const(None)),
            },
        }
    }

    /// Compiles `s`; `expected` is the type a function argument position asks for.
    fn compile(
        &mut self,
        s: &Selector,
        expected: Option<&CqlType>,
        in_aggregate: bool,
    ) -> Result<Compiled, QueryError> {
        match s {
            Selector::Column(id) => {
                let c = existing_column(self.table, id)?.clone();
                self.reference(&c);
                Ok(Compiled {
                    name: c.name.clone(),
                    ty: c.ty.clone(),
                    node: Node::Column(c),
                })
            }
            Selector::Term(term) => {
                let ty = match term {
                    ast::Term::TypeHint { ty, .. } => {
                        crate::terms::resolve_type(ty, &self.table.keyspace, self.schema)?
                    }
                    _ => match expected {
                        Some(t) => t.clone(),
                        None => {
                            return Err(invalid(format!(
                                "Cannot infer type for term {} in selection clause (try using a cast to force a type)",
                                crate::terms::term_text(term)
                            )))
                        }
                    },
                };
                let node = self.term(term, &ty)?;
                Ok(Compiled {
                    name: crate::terms::term_text(term),
                    ty,
                    node,
                })
            }
            Selector::TypeHint { ty, selector } => {
                let ty = crate::terms::resolve_type(ty, &self.table.keyspace, self.schema)?;
                let inner = self.compile(selector, Some(&ty), in_aggregate)?;
                Ok(Compiled {
                    name: inner.name,
                    ty: inner.ty,
                    node: inner.node,
                })
            }
            Selector::CountRows => {
                if in_aggregate {
                    return Err(invalid(
                        "aggregate functions cannot be used as arguments of aggregate functions",
                    ));
                }
                self.aggs.push(AggSpec {
                    name: None,
                    arg: None,
                });
                Ok(Compiled {
                    name: "count".into(),
                    ty: CqlType::Bigint,
                    node: Node::Aggregate(self.aggs.len() - 1),
                })
            }
            Selector::Writetime { kind, target } => self.writetime(*kind, target),
            Selector::Cast { selector, ty } => {
                let inner = self.compile(selector, None, in_aggregate)?;
                let target = native_type(*ty);
                if inner.ty.unfrozen() == &target {
                    return Ok(Compiled {
                        name: format!("cast({} as {})", inner.name, target),
                        ty: target,
                        node: inner.node,
                    });
                }
                let fname = ast::FunctionName {
                    keyspace: Some(ast::Identifier::new("system")),
                    name: ast::Identifier::new(functions::cast_function_name(ty.name())),
                };
                let args = [functions::ArgInfo::Typed {
                    text: inner.name.clone(),
                    ty: inner.ty.clone(),
                }];
                let shown = match selector.as_ref() {
                    Selector::Column(id) => id.as_str().to_string(),
                    _ => inner.name.clone(),
                };
                let cast_error = || invalid(format!("{shown} cannot be cast to {}", ty.name()));
                // No cast function to that type: "cannot be cast"; one that takes no such
                // argument: the resolver's "none of its type signatures match" (Cassandra's
                // `Selectable.WithCast`).
                let f = functions::resolve_scalar(&fname, &args, None, &self.scope())?
                    .ok_or_else(cast_error)?;
                Ok(Compiled {
                    name: f.column_name(std::slice::from_ref(&inner.name)),
                    ty: f.return_type.clone(),
                    node: Node::Scalar {
                        f,
                        args: vec![inner.node],
                    },
                })
            }
            Selector::Function { name, args } => self.function(name, args, in_aggregate),
            Selector::Field { selector, field } => {
                let inner = self.compile(selector, None, in_aggregate)?;
                let CqlType::Udt(udt) = inner.ty.unfrozen() else {
                    return Err(invalid(format!(
                        "Invalid field selection: {} of type {} is not a user type",
                        inner.name, inner.ty
                    )));
                };
                let Some(index) = udt.fields.iter().position(|(n, _)| n == field.as_str()) else {
                    return Err(invalid(format!(
                        "{} of type {} has no field {}",
                        inner.name,
                        inner.ty,
                        field.as_str()
                    )));
                };
                let ty = udt.fields[index].1.clone();
                Ok(Compiled {
                    name: format!("{}.{}", inner.name, field.as_str()),
                    ty,
                    node: Node::Field {
                        inner: Box::new(inner.node),
                        index,
                        arity: udt.fields.len(),
                    },
                })
            }
            Selector::Element { selector, element } => {
                let inner = self.compile(selector, None, in_aggregate)?;
                let (key_ty, result_ty) = element_types(&inner, "Element", "element")?;
                let key = self.bound_key(element, &key_ty, &inner.name, "element")?;
                Ok(Compiled {
                    name: format!("{}[{}]", inner.name, crate::terms::term_text(element)),
                    ty: result_ty,
                    node: Node::Element {
                        inner: Box::new(inner.node),
                        collection: inner.ty.unfrozen().clone(),
                        key,
                    },
                })
            }
            Selector::Slice { selector, from, to } => {
                let inner = self.compile(selector, None, in_aggregate)?;
                let (key_ty, _) = element_types(&inner, "Slice", "slice")?;
                let from_v = match from {
                    Some(t) => self.bound_key(t, &key_ty, &inner.name, "slice")?,
                    None => None,
                };
                let to_v = match to {
                    Some(t) => self.bound_key(t, &key_ty, &inner.name, "slice")?,
                    None => None,
                };
                let text = |t: &Option<ast::Term>| {
                    t.as_ref().map(crate::terms::term_text).unwrap_or_default()
                };
                Ok(Compiled {
                    name: format!("{}[{}..{}]", inner.name, text(from), text(to)),
                    ty: inner.ty.clone(),
                    node: Node::Slice {
                        inner: Box::new(inner.node),
                        collection: inner.ty.unfrozen().clone(),
                        from: from_v,
                        to: to_v,
                    },
                })
            }
            Selector::Negate(inner) => self.operation(functions::NEGATION_FUNCTION, &[inner], in_aggregate),
            Selector::Binary { op, left, right } => {
                self.operation(functions::operation_function(*op), &[left, right], in_aggregate)
            }
            Selector::List(_) | Selector::Set(_) | Selector::MapOrUdt(_) | Selector::Tuple(_) => {
                Err(invalid(format!(
                    "Cannot infer type for term {s} in selection clause (try using a cast to force a type)"
                )))
            }
        }
    }

    fn bound_key(
        &mut self,
        term: &ast::Term,
        ty: &CqlType,
        column: &str,
        what: &str,
    ) -> Result<Option<Bytes>, QueryError> {
        match self.term(term, ty)? {
            Node::Const(v) => {
                if v.is_none() && matches!(self.mode, TermMode::Bind(_)) {
                    return Err(invalid(format!(
                        "Invalid null value for {what} selection on {column}"
                    )));
                }
                Ok(v)
            }
            _ => Ok(None),
        }
    }

    fn writetime(
        &mut self,
        kind: WritetimeKind,
        target: &Selector,
    ) -> Result<Compiled, QueryError> {
        let kind_name = match kind {
            WritetimeKind::Writetime => "writetime",
            WritetimeKind::MaxWritetime => "maxwritetime",
            WritetimeKind::Ttl => "ttl",
        };
        let (column, path, shown) = match target {
            Selector::Column(id) => {
                let c = existing_column(self.table, id)?.clone();
                let shown = c.name.clone();
                (c, None, shown)
            }
            Selector::Field { selector, field } => {
                let Selector::Column(id) = &**selector else {
                    return Err(invalid(format!(
                        "Invalid selection: {kind_name} can only be applied to a column, a field of a user type column or an element of a collection column"
                    )));
                };
                let c = existing_column(self.table, id)?.clone();
                let index = match &c.ty {
                    CqlType::Udt(u) => u.fields.iter().position(|(n, _)| n == field.as_str()),
                    _ => None,
                }
                .ok_or_else(|| {
                    invalid(format!("{} of type {} has no field {}", c.name, c.ty, field.as_str()))
                })?;
                let path = u16::try_from(index)
                    .map(|i| Bytes::copy_from_slice(&i.to_be_bytes()))
                    .map_err(|_| invalid("field index out of range"))?;
                let shown = format!("{}.{}", c.name, field.as_str());
                (c, Some(path), shown)
            }
            _ => {
                return Err(invalid(format!(
                    "Invalid selection: {kind_name} can only be applied to a column or a field of a user type column"
                )))
            }
        };
        if column.kind.is_primary_key() {
            return Err(invalid(format!(
                "Cannot use selection function {kind_name} on PRIMARY KEY part {}",
                column.name
            )));
        }
        self.reference(&column);
        let base = match kind {
            WritetimeKind::Ttl => CqlType::Int,
            _ => CqlType::Bigint,
        };
        let multi = column.ty.is_multi_cell() && path.is_none();
        let ty = if multi && kind != WritetimeKind::MaxWritetime {
            CqlType::List(Box::new(base))
        } else {
            base
        };
        Ok(Compiled {
            name: format!("{kind_name}({shown})"),
            ty,
            node: Node::Writetime { column, kind, path },
        })
    }

    fn operation(
        &mut self,
        function: &str,
        args: &[&Selector],
        in_aggregate: bool,
    ) -> Result<Compiled, QueryError> {
        let fname = ast::FunctionName {
            keyspace: None,
            name: ast::Identifier::new(function),
        };
        self.scalar_call(&fname, args, in_aggregate)
    }

    fn scope(&self) -> functions::Scope<'_> {
        functions::Scope {
            keyspace: &self.table.keyspace,
            schema: self.schema,
            receiver_keyspace: &self.table.keyspace,
            receiver_table: &self.table.name,
        }
    }

    fn function(
        &mut self,
        name: &ast::FunctionName,
        args: &[Selector],
        in_aggregate: bool,
    ) -> Result<Compiled, QueryError> {
        let fname = name.name.as_str();
        let native = name
            .keyspace
            .as_ref()
            .is_none_or(|k| k.as_str() == "system");
        // count(literal) is count(*) (Cassandra special-cases it).
        if native
            && fname == "count"
            && args.len() == 1
            && matches!(&args[0], Selector::Term(ast::Term::Constant(_)))
        {
            return self.compile(&Selector::CountRows, None, in_aggregate);
        }
        if native && fname == "token" {
            return self.token(args, in_aggregate);
        }
        if native && functions::is_aggregate(fname) {
            if in_aggregate {
                return Err(invalid(
                    "aggregate functions cannot be used as arguments of aggregate functions",
                ));
            }
            if args.len() != 1 {
                return Err(invalid(format!(
                    "Invalid number of arguments in call to function system.{fname}: 1 required but {} provided",
                    args.len()
                )));
            }
            let arg = self.compile(&args[0], None, true)?;
            let (_, result_ty) = functions::aggregate(fname, &arg.ty)?;
            let display = format!("system.{fname}({})", arg.name);
            self.aggs.push(AggSpec {
                name: Some(fname.to_string()),
                arg: Some((arg.node, arg.ty)),
            });
            return Ok(Compiled {
                name: display,
                ty: result_ty,
                node: Node::Aggregate(self.aggs.len() - 1),
            });
        }
        let args: Vec<&Selector> = args.iter().collect();
        self.scalar_call(name, &args, in_aggregate)
    }

    /// `token(a, ...)`: the token of the partition key made of the arguments, one per
    /// partition key column and of its type (`token(5)` as well as `token(k)`). The table's own
    /// partition key columns read the row's token directly.
    fn token(&mut self, args: &[Selector], in_aggregate: bool) -> Result<Compiled, QueryError> {
        let pk = self.table.partition_key_columns();
        crate::terms::check_token_arity(pk.len(), args.len())?;
        let own_key = args
            .iter()
            .zip(&pk)
            .all(|(a, c)| matches!(a, Selector::Column(id) if id.as_str() == c.name));
        if own_key {
            for c in &pk {
                self.reference(c);
            }
            return Ok(Compiled {
                name: format!(
                    "system.token({})",
                    pk.iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                ty: CqlType::Bigint,
                node: Node::Token,
            });
        }
        let mut nodes = Vec::with_capacity(args.len());
        let mut names = Vec::with_capacity(args.len());
        for (i, (arg, column)) in args.iter().zip(&pk).enumerate() {
            let type_error = |shown: &str| {
                invalid(format!(
                    "Type error: {shown} cannot be passed as argument {i} of function system.token of type {}",
                    column.ty
                ))
            };
            if let Selector::Term(term) = arg {
                let fits = crate::terms::test_assignment(
                    term,
                    &column.ty,
                    &self.table.keyspace,
                    self.schema,
                );
                if !fits.is_assignable() {
                    return Err(type_error(&crate::terms::term_text(term)));
                }
            }
            let compiled = self.compile(arg, Some(&column.ty), in_aggregate)?;
            if compiled.ty.unfrozen() != column.ty.unfrozen() {
                return Err(type_error(&compiled.name));
            }
            names.push(compiled.name);
            nodes.push(compiled.node);
        }
        Ok(Compiled {
            name: format!("system.token({})", names.join(", ")),
            ty: CqlType::Bigint,
            node: Node::TokenOf(nodes),
        })
    }

    /// A scalar function call: arguments of known type are compiled first, terms are then
    /// typed by the overload the arguments resolve to.
    fn scalar_call(
        &mut self,
        name: &ast::FunctionName,
        args: &[&Selector],
        in_aggregate: bool,
    ) -> Result<Compiled, QueryError> {
        let mut compiled: Vec<Option<Compiled>> = Vec::with_capacity(args.len());
        for a in args {
            if matches!(a, Selector::Term(_)) {
                compiled.push(None);
            } else {
                compiled.push(Some(self.compile(a, None, in_aggregate)?));
            }
        }
        let infos: Vec<functions::ArgInfo<'_>> = args
            .iter()
            .zip(&compiled)
            .map(|(a, c)| match (a, c) {
                (_, Some(c)) => functions::ArgInfo::Typed {
                    text: c.name.clone(),
                    ty: c.ty.clone(),
                },
                (Selector::Term(t), None) => functions::ArgInfo::Term(t),
                // Every non-term argument was compiled above.
                (_, None) => functions::ArgInfo::Typed {
                    text: String::new(),
                    ty: CqlType::Blob,
                },
            })
            .collect();
        let f = functions::resolve_scalar(name, &infos, None, &self.scope())?
            .ok_or_else(|| invalid(format!("Unknown function '{name}'")))?;
        drop(infos);
        let mut nodes = Vec::with_capacity(args.len());
        let mut names = Vec::with_capacity(args.len());
        for (i, (a, c)) in args.iter().zip(compiled).enumerate() {
            let c = match c {
                Some(c) => c,
                None => {
                    let ty = f.arg_types.get(i).cloned().ok_or_else(|| {
                        invalid(format!(
                            "Invalid number of arguments in call to function {}",
                            f.qualified_name()
                        ))
                    })?;
                    self.compile(a, Some(&ty), in_aggregate)?
                }
            };
            names.push(c.name);
            nodes.push(c.node);
        }
        Ok(Compiled {
            name: f.column_name(&names),
            ty: f.return_type.clone(),
            node: Node::Scalar { f, args: nodes },
        })
    }
}

fn native_type(ty: ast::NativeType) -> CqlType {
    use ast::NativeType as N;
    match ty {
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
    }
}

/// The key type and result type of element selection on a compiled selector.
fn element_types(
    inner: &Compiled,
    kind: &str,
    lower: &str,
) -> Result<(CqlType, CqlType), QueryError> {
    match inner.ty.unfrozen() {
        CqlType::Set(e) => Ok(((**e).clone(), (**e).clone())),
        CqlType::Map(k, v) => Ok(((**k).clone(), (**v).clone())),
        CqlType::List(_) => Err(invalid(format!(
            "{kind} selection is only allowed on sets and maps, but {} is a list",
            inner.name
        ))),
        other => Err(invalid(format!(
            "Invalid {lower} selection: {} is of type {} is not a collection",
            inner.name, other
        ))),
    }
}

impl Selection {
    /// Compiles the selection of `stmt` for `table`.
    pub fn compile(
        table: &TableMetadata,
        schema: &meridian_schema::Schema,
        stmt: &ast::SelectStatement,
        mode: &mut TermMode<'_, '_>,
    ) -> Result<Selection, QueryError> {
        let mut compiler = Compiler {
            table,
            mode,
            aggs: Vec::new(),
            referenced: Vec::new(),
            schema,
        };
        let mut columns = Vec::new();
        let mut nodes = Vec::new();
        match &stmt.selection {
            AstSelection::Wildcard => {
                for c in table.select_order() {
                    compiler.reference(c);
                    columns.push(ResultColumn::new(
                        &table.keyspace,
                        &table.name,
                        c.name.clone(),
                        c.ty.clone(),
                    ));
                    nodes.push(Node::Column(c.clone()));
                }
            }
            AstSelection::Items(items) => {
                for item in items {
                    let c = compiler.compile(&item.selector, None, false)?;
                    let name = item
                        .alias
                        .as_ref()
                        .map(|a| a.as_str().to_string())
                        .unwrap_or(c.name);
                    columns.push(ResultColumn::new(&table.keyspace, &table.name, name, c.ty));
                    nodes.push(c.node);
                }
            }
        }
        let aggs = compiler.aggs;
        let referenced = compiler.referenced;
        Ok(Selection {
            columns,
            nodes,
            aggs,
            referenced,
            json: stmt.json,
            keyspace: table.keyspace.clone(),
            table: table.name.clone(),
        })
    }

    /// Whether the selection aggregates rows.
    pub fn is_aggregate(&self) -> bool {
        !self.aggs.is_empty()
    }

    /// The columns of the result as sent (one `[json]` column for `SELECT JSON`).
    pub fn output_columns(&self) -> Vec<ResultColumn> {
        if self.json {
            vec![ResultColumn::new(
                &self.keyspace,
                &self.table,
                "[json]",
                CqlType::Text,
            )]
        } else {
            self.columns.clone()
        }
    }

    /// The result row for `row` (non-aggregate selections).
    pub fn row(
        &self,
        row: &RowView<'_>,
        options: &ExecOptions,
    ) -> Result<Vec<Option<Bytes>>, QueryError> {
        let ctx = EvalCtx { options, aggs: &[] };
        let mut out = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            out.push(ctx.eval(n, Some(row))?);
        }
        self.finish_row(out)
    }

    /// Wraps a result row into JSON when asked.
    fn finish_row(&self, values: Vec<Option<Bytes>>) -> Result<Vec<Option<Bytes>>, QueryError> {
        if !self.json {
            return Ok(values);
        }
        let columns: Vec<(String, CqlType, Option<Bytes>)> = self
            .columns
            .iter()
            .zip(values)
            .map(|(c, v)| (c.name.clone(), c.ty.clone(), v))
            .collect();
        let s = crate::json::row_to_json(&columns)?;
        Ok(vec![Some(Bytes::from(s))])
    }

    /// A fresh aggregation state for one group.
    pub fn new_group(&self) -> Result<GroupState, QueryError> {
        let mut aggs: Vec<Box<dyn Aggregate>> = Vec::with_capacity(self.aggs.len());
        for spec in &self.aggs {
            aggs.push(match (&spec.name, &spec.arg) {
                (Some(name), Some((_, ty))) => functions::aggregate(name, ty)?.0,
                _ => Box::new(functions::CountRows::default()),
            });
        }
        Ok(GroupState {
            aggs,
            first: None,
            rows: 0,
        })
    }

    /// Feeds a row of the group.
    pub fn add_to_group(
        &self,
        group: &mut GroupState,
        row: &RowView<'_>,
        options: &ExecOptions,
    ) -> Result<(), QueryError> {
        let ctx = EvalCtx { options, aggs: &[] };
        for (spec, agg) in self.aggs.iter().zip(group.aggs.iter_mut()) {
            match &spec.arg {
                Some((node, _)) => {
                    let v = ctx.eval(node, Some(row))?;
                    agg.add(v.as_deref())?;
                }
                None => agg.add(None)?,
            }
        }
        if group.first.is_none() {
            group.first = Some(FirstRow {
                partition: LiveData {
                    key: row.partition.key.clone(),
                    pk_values: row.partition.pk_values.clone(),
                    static_row: row.partition.static_row.clone(),
                    rows: row.row.cloned().into_iter().collect(),
                },
                has_row: row.row.is_some(),
            });
        }
        group.rows += 1;
        Ok(())
    }

    /// The result row of a finished group (`None` when a grouped query saw no row).
    pub fn group_row(
        &self,
        group: &GroupState,
        options: &ExecOptions,
    ) -> Result<Vec<Option<Bytes>>, QueryError> {
        let results: Vec<Option<Bytes>> = group.aggs.iter().map(|a| a.finish()).collect();
        let ctx = EvalCtx {
            options,
            aggs: &results,
        };
        let first = group.first.as_ref().map(|f| RowView {
            partition: &f.partition,
            row: if f.has_row {
                f.partition.rows.first()
            } else {
                None
            },
        });
        let mut out = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            out.push(ctx.eval(n, first.as_ref())?);
        }
        self.finish_row(out)
    }
}

/// The first row of a group, kept for the group's non-aggregate selectors.
struct FirstRow {
    partition: LiveData,
    has_row: bool,
}

/// The aggregation state of one group.
pub(crate) struct GroupState {
    aggs: Vec<Box<dyn Aggregate>>,
    first: Option<FirstRow>,
    /// Rows fed so far.
    pub rows: u64,
}

struct EvalCtx<'a> {
    options: &'a ExecOptions,
    aggs: &'a [Option<Bytes>],
}

impl EvalCtx<'_> {
    fn eval(&self, node: &Node, row: Option<&RowView<'_>>) -> Result<Option<Bytes>, QueryError> {
        Ok(match node {
            Node::Column(c) => row.and_then(|r| r.value(c)),
            Node::Writetime { column, kind, path } => match row {
                None => None,
                Some(r) => {
                    writetime_value(r, column, *kind, path.as_ref(), self.options.now_secs())
                }
            },
            Node::Token => row.map(|r| token_bytes(r.token())),
            Node::TokenOf(args) => {
                let mut parts = Vec::with_capacity(args.len());
                for a in args {
                    match self.eval(a, row)? {
                        Some(v) => parts.push(v),
                        None => return Ok(None),
                    }
                }
                let key = match parts.as_slice() {
                    [only] => only.to_vec(),
                    _ => {
                        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_ref()).collect();
                        meridian_types::token::composite_partition_key(&refs)
                            .map_err(|e| invalid(format!("Invalid partition key: {e}")))?
                    }
                };
                Some(token_bytes(meridian_types::token::murmur3_token(&key)))
            }
            Node::Const(v) => v.clone(),
            Node::Aggregate(i) => self.aggs.get(*i).cloned().flatten(),
            Node::Scalar { f, args } => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a, row)?);
                }
                f.call(&values, self.options)?
            }
            Node::Field {
                inner,
                index,
                arity,
            } => {
                let Some(v) = self.eval(inner, row)? else {
                    return Ok(None);
                };
                split_tuple(&v, *arity)
                    .and_then(|mut fields| fields.get_mut(*index).and_then(Option::take))
            }
            Node::Element {
                inner,
                collection,
                key,
            } => {
                let (Some(v), Some(key)) = (self.eval(inner, row)?, key) else {
                    return Ok(None);
                };
                element_of(collection, &v, key)
            }
            Node::Slice {
                inner,
                collection,
                from,
                to,
            } => {
                let Some(v) = self.eval(inner, row)? else {
                    return Ok(None);
                };
                slice_of(collection, &v, from.as_ref(), to.as_ref())
            }
        })
    }
}

fn token_bytes(t: Token) -> Bytes {
    Bytes::copy_from_slice(&t.0.to_be_bytes())
}

fn writetime_value(
    row: &RowView<'_>,
    column: &ColumnMetadata,
    kind: WritetimeKind,
    path: Option<&Bytes>,
    now_secs: i64,
) -> Option<Bytes> {
    let values: Vec<Option<i64>> = match path {
        Some(p) => match row.column_data(column) {
            Some(ColumnData::Complex(c)) => ordered_cells(&column.ty, c)
                .into_iter()
                .filter(|(path, _)| *path == p)
                .map(|(_, cell)| match kind {
                    WritetimeKind::Ttl => match cell.state {
                        meridian_types::model::CellState::Expiring {
                            local_expiration_time_secs,
                            ..
                        } => {
                            let r = local_expiration_time_secs.saturating_sub(now_secs);
                            (r >= 0).then_some(r)
                        }
                        _ => None,
                    },
                    _ => Some(cell.timestamp_micros),
                })
                .collect(),
            // A frozen UDT's fields share its cell.
            _ => match kind {
                WritetimeKind::Ttl => row.ttls(column, now_secs),
                _ => row.writetimes(column),
            },
        },
        None => match kind {
            WritetimeKind::Ttl => row.ttls(column, now_secs),
            _ => row.writetimes(column),
        },
    };
    let encode = |v: i64| -> Bytes {
        match kind {
            WritetimeKind::Ttl => {
                Bytes::copy_from_slice(&(v.clamp(0, i64::from(i32::MAX)) as i32).to_be_bytes())
            }
            _ => Bytes::copy_from_slice(&v.to_be_bytes()),
        }
    };
    let multi = column.ty.is_multi_cell() && path.is_none();
    if kind == WritetimeKind::MaxWritetime {
        return values.iter().flatten().max().map(|v| encode(*v));
    }
    if multi {
        if values.is_empty() {
            return None;
        }
        let elements: Vec<Option<Bytes>> = values.iter().map(|v| v.map(encode)).collect();
        return Some(serialize_list(&elements));
    }
    values.first().copied().flatten().map(encode)
}

fn element_of(collection: &CqlType, value: &[u8], key: &[u8]) -> Option<Bytes> {
    match collection {
        CqlType::Set(e) => split_collection(value)?
            .into_iter()
            .flatten()
            .find(|x| compare(e, x, key).is_eq()),
        CqlType::Map(k, _) => split_map(value)?
            .into_iter()
            .find(|(x, _)| compare(k, x, key).is_eq())
            .and_then(|(_, v)| v),
        _ => None,
    }
}

fn slice_of(
    collection: &CqlType,
    value: &[u8],
    from: Option<&Bytes>,
    to: Option<&Bytes>,
) -> Option<Bytes> {
    let in_range = |ty: &CqlType, x: &[u8]| {
        from.is_none_or(|f| compare(ty, x, f).is_ge())
            && to.is_none_or(|t| compare(ty, x, t).is_le())
    };
    match collection {
        CqlType::Set(e) => {
            let kept: Vec<Option<Bytes>> = split_collection(value)?
                .into_iter()
                .flatten()
                .filter(|x| in_range(e, x))
                .map(Some)
                .collect();
            Some(serialize_list(&kept))
        }
        CqlType::Map(k, _) => {
            let kept: Vec<(Bytes, Option<Bytes>)> = split_map(value)?
                .into_iter()
                .filter(|(x, _)| in_range(k, x))
                .collect();
            let mut out = bytes::BytesMut::new();
            bytes::BufMut::put_i32(&mut out, i32::try_from(kept.len()).unwrap_or(i32::MAX));
            for (k, v) in &kept {
                super::row::put_value(&mut out, Some(k));
                super::row::put_value(&mut out, v.as_ref());
            }
            Some(out.freeze())
        }
        _ => None,
    }
}

/// Whether the selection references only partition key and static columns, at least one
/// static (Cassandra's `selectOnlyStaticColumns`).
pub(crate) fn selects_only_static(
    table: &TableMetadata,
    selection: &AstSelection,
    referenced: &[ColumnMetadata],
) -> bool {
    if matches!(selection, AstSelection::Wildcard) || table.static_columns().is_empty() {
        return false;
    }
    referenced.iter().any(|c| c.kind == ColumnKind::Static)
        && referenced
            .iter()
            .all(|c| matches!(c.kind, ColumnKind::Static | ColumnKind::PartitionKey { .. }))
}
