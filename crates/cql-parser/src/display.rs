//! `Display` implementations printing the AST back as CQL.
//!
//! Invariant: for every tree produced by the parser, parsing the printed text
//! yields an equal tree. To guarantee that, the printer
//! - quotes identifiers that are not plain lower-case words or that are
//!   keywords not allowed unquoted in their position (reserved keywords
//!   everywhere; native type names and `key`/`ttl`/... as type names;
//!   `key`/`ttl`/`writetime`/... as function names),
//! - quotes a leading `json` / `distinct` column of a selection, which the
//!   grammar would otherwise read as the `JSON` / `DISTINCT` keyword,
//! - separates tokens with spaces wherever two tokens could lex as one
//!   (`- 1` is a negation, `-1` a literal; `a - -1`; `1 .. 2`).

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;
use crate::token::Kw;

/// Where an identifier is printed; decides which keywords need quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdentContext {
    /// Columns, tables, keyspaces, fields, aliases, marker names.
    General,
    /// User-defined type names (`non_type_ident`).
    TypeName,
    /// Function names (`allowedFunctionName`).
    FunctionName,
}

fn needs_quotes(name: &str, ctx: IdentContext) -> bool {
    let bytes = name.as_bytes();
    let plain = bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
    if !plain || name == "true" || name == "false" {
        return true;
    }
    match Kw::lookup(name) {
        // `expr(` lexes as the custom-index-expression token.
        None => ctx == IdentContext::FunctionName && name == "expr",
        Some(kw) => match ctx {
            IdentContext::General => !kw.is_unreserved(),
            IdentContext::TypeName => !kw.is_type_name(),
            IdentContext::FunctionName => !kw.is_function_name(),
        },
    }
}

fn write_quoted(f: &mut Formatter<'_>, name: &str, quote: char) -> fmt::Result {
    f.write_char(quote)?;
    for c in name.chars() {
        if c == quote {
            f.write_char(quote)?;
        }
        f.write_char(c)?;
    }
    f.write_char(quote)
}

/// Writes an identifier, quoting it when needed in `ctx`.
pub(crate) fn write_ident(
    f: &mut Formatter<'_>,
    id: &Identifier,
    ctx: IdentContext,
) -> fmt::Result {
    if needs_quotes(id.as_str(), ctx) {
        write_quoted(f, id.as_str(), '"')
    } else {
        f.write_str(id.as_str())
    }
}

fn write_list<T>(
    f: &mut Formatter<'_>,
    items: &[T],
    sep: &str,
    mut each: impl FnMut(&mut Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        each(f, item)?;
    }
    Ok(())
}

fn comma<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    write_list(f, items, ", ", |f, t| write!(f, "{t}"))
}

impl Display for QualifiedName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(ks) = &self.keyspace {
            write!(f, "{ks}.")?;
        }
        write!(f, "{}", self.name)
    }
}

/// A user-defined type name (different keyword rules for the name part).
struct TypeName<'a>(&'a QualifiedName);

impl Display for TypeName<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(ks) = &self.0.keyspace {
            write!(f, "{ks}.")?;
        }
        write_ident(f, &self.0.name, IdentContext::TypeName)
    }
}

impl Display for FunctionName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(ks) = &self.keyspace {
            write!(f, "{ks}.")?;
        }
        write_ident(f, &self.name, IdentContext::FunctionName)
    }
}

impl Display for BindMarker {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, ":{name}"),
            None => f.write_str("?"),
        }
    }
}

impl Display for Constant {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Constant::String(s) => write_quoted(f, s, '\''),
            Constant::Integer(s)
            | Constant::Float(s)
            | Constant::Duration(s)
            | Constant::Uuid(s)
            | Constant::Hex(s) => f.write_str(s),
            Constant::Boolean(b) => write!(f, "{b}"),
        }
    }
}

impl Display for ArithmeticOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArithmeticOp::Add => "+",
            ArithmeticOp::Sub => "-",
            ArithmeticOp::Mul => "*",
            ArithmeticOp::Div => "/",
            ArithmeticOp::Mod => "%",
        })
    }
}

impl Display for Term {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Term::Constant(c) => write!(f, "{c}"),
            Term::Null => f.write_str("NULL"),
            Term::BindMarker(m) => write!(f, "{m}"),
            Term::List(items) => {
                f.write_str("[")?;
                comma(f, items)?;
                f.write_str("]")
            }
            Term::Set(items) => {
                f.write_str("{")?;
                comma(f, items)?;
                f.write_str("}")
            }
            Term::Map(entries) => {
                f.write_str("{")?;
                write_list(f, entries, ", ", |f, (k, v)| write!(f, "{k}: {v}"))?;
                f.write_str("}")
            }
            Term::UserType(fields) => {
                f.write_str("{")?;
                write_list(f, fields, ", ", |f, (k, v)| write!(f, "{k}: {v}"))?;
                f.write_str("}")
            }
            Term::Tuple(items) => {
                f.write_str("(")?;
                comma(f, items)?;
                f.write_str(")")
            }
            Term::FunctionCall { name, args } => {
                write!(f, "{name}(")?;
                comma(f, args)?;
                f.write_str(")")
            }
            Term::TypeHint { ty, term } => write!(f, "({ty}) {term}"),
            Term::Cast { term, ty } => write!(f, "CAST({term} AS {ty})"),
            Term::Negate(t) => write!(f, "- {t}"),
            Term::Binary { op, left, right } => write!(f, "{left} {op} {right}"),
        }
    }
}

impl Display for NativeType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Display for CqlType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            CqlType::Native(t) => write!(f, "{t}"),
            CqlType::List(t) => write!(f, "list<{t}>"),
            CqlType::Set(t) => write!(f, "set<{t}>"),
            CqlType::Map(k, v) => write!(f, "map<{k}, {v}>"),
            CqlType::Tuple(types) => {
                f.write_str("tuple<")?;
                comma(f, types)?;
                f.write_str(">")
            }
            CqlType::Vector(t, n) => write!(f, "vector<{t}, {n}>"),
            CqlType::Frozen(t) => write!(f, "frozen<{t}>"),
            CqlType::UserDefined(name) => write!(f, "{}", TypeName(name)),
            CqlType::Custom(class) => write_quoted(f, class, '\''),
        }
    }
}

impl Display for WritetimeKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WritetimeKind::Writetime => "writetime",
            WritetimeKind::MaxWritetime => "maxwritetime",
            WritetimeKind::Ttl => "ttl",
        })
    }
}

/// Writes a selector; `quote_leading` forces quotes on a leading bare
/// `json`/`distinct` column.
fn write_selector(f: &mut Formatter<'_>, s: &Selector, quote_leading: bool) -> fmt::Result {
    match s {
        Selector::Column(id) => {
            if quote_leading && matches!(id.as_str(), "json" | "distinct") {
                write_quoted(f, id.as_str(), '"')
            } else {
                write!(f, "{id}")
            }
        }
        Selector::Term(t) => write!(f, "{t}"),
        Selector::CountRows => f.write_str("count(*)"),
        Selector::Writetime { kind, target } => write!(f, "{kind}({target})"),
        Selector::Cast { selector, ty } => write!(f, "CAST({selector} AS {ty})"),
        Selector::Function { name, args } => {
            write!(f, "{name}(")?;
            comma(f, args)?;
            f.write_str(")")
        }
        Selector::Field { selector, field } => {
            write_selector(f, selector, quote_leading)?;
            if matches!(**selector, Selector::Term(_)) {
                f.write_str(" ")?;
            }
            write!(f, ".{field}")
        }
        Selector::Element { selector, element } => {
            write_selector(f, selector, quote_leading)?;
            write!(f, "[{element}]")
        }
        Selector::Slice { selector, from, to } => {
            write_selector(f, selector, quote_leading)?;
            f.write_str("[")?;
            if let Some(from) = from {
                write!(f, "{from} ")?;
            }
            f.write_str("..")?;
            if let Some(to) = to {
                write!(f, " {to}")?;
            }
            f.write_str("]")
        }
        Selector::TypeHint { ty, selector } => write!(f, "({ty}) {selector}"),
        Selector::List(items) => {
            f.write_str("[")?;
            comma(f, items)?;
            f.write_str("]")
        }
        Selector::Set(items) => {
            f.write_str("{")?;
            comma(f, items)?;
            f.write_str("}")
        }
        Selector::MapOrUdt(entries) => {
            f.write_str("{")?;
            write_list(f, entries, ", ", |f, (k, v)| write!(f, "{k}: {v}"))?;
            f.write_str("}")
        }
        Selector::Tuple(items) => {
            f.write_str("(")?;
            comma(f, items)?;
            f.write_str(")")
        }
        Selector::Negate(s) => write!(f, "- {s}"),
        Selector::Binary { op, left, right } => {
            write_selector(f, left, quote_leading)?;
            write!(f, " {op} {right}")
        }
    }
}

impl Display for Selector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_selector(f, self, false)
    }
}

impl Display for Selection {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Selection::Wildcard => f.write_str("*"),
            Selection::Items(items) => write_list(f, items, ", ", |f, item| {
                write_selector(f, &item.selector, true)?;
                if let Some(alias) = &item.alias {
                    write!(f, " AS {alias}")?;
                }
                Ok(())
            }),
        }
    }
}

impl Display for ComparisonOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Display for InValues {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            InValues::Terms(items) => {
                f.write_str("(")?;
                comma(f, items)?;
                f.write_str(")")
            }
            InValues::Marker(m) => write!(f, "{m}"),
        }
    }
}

fn write_columns_tuple(f: &mut Formatter<'_>, columns: &[Identifier]) -> fmt::Result {
    f.write_str("(")?;
    comma(f, columns)?;
    f.write_str(")")
}

impl Display for Relation {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Relation::Compare { column, op, value } => write!(f, "{column} {op} {value}"),
            Relation::Like { column, value } => write!(f, "{column} LIKE {value}"),
            Relation::IsNotNull { column } => write!(f, "{column} IS NOT NULL"),
            Relation::In { column, values } => write!(f, "{column} IN {values}"),
            Relation::Contains { column, key, value } => {
                let key = if *key { " KEY" } else { "" };
                write!(f, "{column} CONTAINS{key} {value}")
            }
            Relation::MapElement {
                column,
                key,
                op,
                value,
            } => write!(f, "{column}[{key}] {op} {value}"),
            Relation::Token { columns, op, value } => {
                f.write_str("token")?;
                write_columns_tuple(f, columns)?;
                write!(f, " {op} {value}")
            }
            Relation::MultiColumnCompare { columns, op, value } => {
                write_columns_tuple(f, columns)?;
                write!(f, " {op} {value}")
            }
            Relation::MultiColumnIn { columns, values } => {
                write_columns_tuple(f, columns)?;
                write!(f, " IN {values}")
            }
            Relation::CustomIndex { index, value } => write!(f, "expr({}, {value})", index.name),
        }
    }
}

fn write_where(f: &mut Formatter<'_>, relations: &[Relation]) -> fmt::Result {
    if !relations.is_empty() {
        f.write_str(" WHERE ")?;
        write_list(f, relations, " AND ", |f, r| write!(f, "{r}"))?;
    }
    Ok(())
}

impl Display for Order {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        })
    }
}

impl Display for Ordering {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.column)?;
        if let Some(t) = &self.ann_of {
            write!(f, " ANN OF {t}")?;
        }
        if let Some(o) = self.order {
            write!(f, " {o}")?;
        }
        Ok(())
    }
}

impl Display for SelectStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        if self.json {
            f.write_str("JSON ")?;
        }
        if self.distinct {
            f.write_str("DISTINCT ")?;
        }
        write!(f, "{} FROM {}", self.selection, self.table)?;
        write_where(f, &self.where_clause)?;
        if !self.group_by.is_empty() {
            f.write_str(" GROUP BY ")?;
            comma(f, &self.group_by)?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            comma(f, &self.order_by)?;
        }
        if let Some(l) = &self.per_partition_limit {
            write!(f, " PER PARTITION LIMIT {l}")?;
        }
        if let Some(l) = &self.limit {
            write!(f, " LIMIT {l}")?;
        }
        if self.allow_filtering {
            f.write_str(" ALLOW FILTERING")?;
        }
        Ok(())
    }
}

impl Display for UsingAttribute {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            UsingAttribute::Timestamp(t) => write!(f, "TIMESTAMP {t}"),
            UsingAttribute::Ttl(t) => write!(f, "TTL {t}"),
        }
    }
}

fn write_using(f: &mut Formatter<'_>, using: &[UsingAttribute]) -> fmt::Result {
    if !using.is_empty() {
        f.write_str(" USING ")?;
        write_list(f, using, " AND ", |f, a| write!(f, "{a}"))?;
    }
    Ok(())
}

impl Display for InsertStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "INSERT INTO {}", self.table)?;
        match &self.values {
            InsertValues::Values { columns, values } => {
                f.write_str(" ")?;
                write_columns_tuple(f, columns)?;
                f.write_str(" VALUES (")?;
                comma(f, values)?;
                f.write_str(")")?;
            }
            InsertValues::Json {
                value,
                default_unset,
            } => {
                f.write_str(" JSON ")?;
                match value {
                    JsonValue::Literal(s) => write_quoted(f, s, '\'')?,
                    JsonValue::Marker(m) => write!(f, "{m}")?,
                }
                if *default_unset {
                    f.write_str(" DEFAULT UNSET")?;
                }
            }
        }
        if self.if_not_exists {
            f.write_str(" IF NOT EXISTS")?;
        }
        write_using(f, &self.using)
    }
}

impl Display for Assignment {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Assignment::Set { column, value } => write!(f, "{column} = {value}"),
            Assignment::SetElement { column, key, value } => write!(f, "{column}[{key}] = {value}"),
            Assignment::SetField {
                column,
                field,
                value,
            } => write!(f, "{column}.{field} = {value}"),
            Assignment::Add { column, value } => write!(f, "{column} = {column} + {value}"),
            Assignment::Subtract { column, value } => write!(f, "{column} = {column} - {value}"),
            Assignment::Prepend { column, value } => write!(f, "{column} = {value} + {column}"),
        }
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.column)?;
        match &self.target {
            ConditionTarget::Column => {}
            ConditionTarget::Element(t) => write!(f, "[{t}]")?,
            ConditionTarget::Field(field) => write!(f, ".{field}")?,
        }
        match &self.op {
            ConditionOp::Compare(op, t) => write!(f, " {op} {t}"),
            ConditionOp::In(values) => write!(f, " IN {values}"),
            ConditionOp::Contains(t) => write!(f, " CONTAINS {t}"),
            ConditionOp::ContainsKey(t) => write!(f, " CONTAINS KEY {t}"),
        }
    }
}

fn write_if(f: &mut Formatter<'_>, if_exists: bool, conditions: &[Condition]) -> fmt::Result {
    if if_exists {
        f.write_str(" IF EXISTS")?;
    } else if !conditions.is_empty() {
        f.write_str(" IF ")?;
        write_list(f, conditions, " AND ", |f, c| write!(f, "{c}"))?;
    }
    Ok(())
}

impl Display for UpdateStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "UPDATE {}", self.table)?;
        write_using(f, &self.using)?;
        f.write_str(" SET ")?;
        comma(f, &self.assignments)?;
        write_where(f, &self.where_clause)?;
        write_if(f, self.if_exists, &self.conditions)
    }
}

impl Display for DeleteTarget {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DeleteTarget::Column(c) => write!(f, "{c}"),
            DeleteTarget::Element { column, key } => write!(f, "{column}[{key}]"),
            DeleteTarget::Field { column, field } => write!(f, "{column}.{field}"),
        }
    }
}

impl Display for DeleteStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("DELETE ")?;
        if !self.targets.is_empty() {
            comma(f, &self.targets)?;
            f.write_str(" ")?;
        }
        write!(f, "FROM {}", self.table)?;
        if let Some(ts) = &self.timestamp {
            write!(f, " USING TIMESTAMP {ts}")?;
        }
        write_where(f, &self.where_clause)?;
        write_if(f, self.if_exists, &self.conditions)
    }
}

impl Display for ModificationStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ModificationStatement::Insert(s) => write!(f, "{s}"),
            ModificationStatement::Update(s) => write!(f, "{s}"),
            ModificationStatement::Delete(s) => write!(f, "{s}"),
        }
    }
}

impl Display for BatchStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            BatchKind::Logged => "BEGIN BATCH",
            BatchKind::Unlogged => "BEGIN UNLOGGED BATCH",
            BatchKind::Counter => "BEGIN COUNTER BATCH",
        })?;
        write_using(f, &self.using)?;
        for s in &self.statements {
            write!(f, " {s};")?;
        }
        f.write_str(" APPLY BATCH")
    }
}

impl Display for PropertyValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PropertyValue::Constant(c) => write!(f, "{c}"),
            PropertyValue::Keyword(k) => f.write_str(k),
            PropertyValue::Map(entries) => {
                f.write_str("{")?;
                write_list(f, entries, ", ", |f, (k, v)| write!(f, "{k}: {v}"))?;
                f.write_str("}")
            }
        }
    }
}

impl Display for Property {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.name, self.value)
    }
}

fn write_properties(f: &mut Formatter<'_>, props: &[Property]) -> fmt::Result {
    write_list(f, props, " AND ", |f, p| write!(f, "{p}"))
}

fn write_if_not_exists(f: &mut Formatter<'_>, yes: bool) -> fmt::Result {
    if yes {
        f.write_str("IF NOT EXISTS ")?;
    }
    Ok(())
}

fn write_if_exists(f: &mut Formatter<'_>, yes: bool) -> fmt::Result {
    if yes {
        f.write_str("IF EXISTS ")?;
    }
    Ok(())
}

impl Display for ColumnMask {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ColumnMask::Default => f.write_str("MASKED WITH DEFAULT"),
            ColumnMask::Function { name, args } => {
                write!(f, "MASKED WITH {name}(")?;
                comma(f, args)?;
                f.write_str(")")
            }
        }
    }
}

impl Display for ColumnDefinition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.ty)?;
        if self.is_static {
            f.write_str(" STATIC")?;
        }
        if let Some(m) = &self.mask {
            write!(f, " {m}")?;
        }
        if self.primary_key {
            f.write_str(" PRIMARY KEY")?;
        }
        Ok(())
    }
}

impl Display for PrimaryKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("PRIMARY KEY (")?;
        if self.partition_key.len() == 1 {
            comma(f, &self.partition_key)?;
        } else {
            write_columns_tuple(f, &self.partition_key)?;
        }
        for c in &self.clustering_columns {
            write!(f, ", {c}")?;
        }
        f.write_str(")")
    }
}

impl Display for TableOption {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TableOption::Property(p) => write!(f, "{p}"),
            TableOption::CompactStorage => f.write_str("COMPACT STORAGE"),
            TableOption::ClusteringOrder(items) => {
                f.write_str("CLUSTERING ORDER BY (")?;
                write_list(f, items, ", ", |f, c| write!(f, "{} {}", c.column, c.order))?;
                f.write_str(")")
            }
        }
    }
}

fn write_table_options(f: &mut Formatter<'_>, options: &[TableOption]) -> fmt::Result {
    if !options.is_empty() {
        f.write_str(" WITH ")?;
        write_list(f, options, " AND ", |f, o| write!(f, "{o}"))?;
    }
    Ok(())
}

impl Display for CreateTableStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("CREATE TABLE ")?;
        write_if_not_exists(f, self.if_not_exists)?;
        write!(f, "{} (", self.name)?;
        comma(f, &self.columns)?;
        if !self.columns.is_empty() && !self.primary_keys.is_empty() {
            f.write_str(", ")?;
        }
        comma(f, &self.primary_keys)?;
        f.write_str(")")?;
        write_table_options(f, &self.options)
    }
}

impl Display for AddedColumn {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.ty)?;
        if self.is_static {
            f.write_str(" STATIC")?;
        }
        if let Some(m) = &self.mask {
            write!(f, " {m}")?;
        }
        Ok(())
    }
}

fn write_renames(f: &mut Formatter<'_>, renames: &[(Identifier, Identifier)]) -> fmt::Result {
    write_list(f, renames, " AND ", |f, (a, b)| write!(f, "{a} TO {b}"))
}

impl Display for AlterTableStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("ALTER TABLE ")?;
        write_if_exists(f, self.if_exists)?;
        write!(f, "{} ", self.name)?;
        match &self.action {
            AlterTableAction::AlterColumnType { column, ty } => {
                write!(f, "ALTER {column} TYPE {ty}")
            }
            AlterTableAction::AlterColumnMask {
                if_exists,
                column,
                mask,
            } => {
                f.write_str("ALTER ")?;
                write_if_exists(f, *if_exists)?;
                match mask {
                    Some(m) => write!(f, "{column} {m}"),
                    None => write!(f, "{column} DROP MASKED"),
                }
            }
            AlterTableAction::Add {
                if_not_exists,
                columns,
            } => {
                f.write_str("ADD ")?;
                write_if_not_exists(f, *if_not_exists)?;
                if columns.len() == 1 {
                    comma(f, columns)
                } else {
                    f.write_str("(")?;
                    comma(f, columns)?;
                    f.write_str(")")
                }
            }
            AlterTableAction::Drop {
                if_exists,
                columns,
                timestamp,
            } => {
                f.write_str("DROP ")?;
                write_if_exists(f, *if_exists)?;
                if columns.len() == 1 {
                    comma(f, columns)?;
                } else {
                    write_columns_tuple(f, columns)?;
                }
                if let Some(ts) = timestamp {
                    write!(f, " USING TIMESTAMP {ts}")?;
                }
                Ok(())
            }
            AlterTableAction::Rename { if_exists, renames } => {
                f.write_str("RENAME ")?;
                write_if_exists(f, *if_exists)?;
                write_renames(f, renames)
            }
            AlterTableAction::DropCompactStorage => f.write_str("DROP COMPACT STORAGE"),
            AlterTableAction::With(props) => {
                f.write_str("WITH ")?;
                write_properties(f, props)
            }
        }
    }
}

impl Display for FieldDefinition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.ty)
    }
}

impl Display for IndexTarget {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            IndexTarget::Column(c) => write!(f, "{c}"),
            IndexTarget::Values(c) => write!(f, "VALUES({c})"),
            IndexTarget::Keys(c) => write!(f, "KEYS({c})"),
            IndexTarget::Entries(c) => write!(f, "ENTRIES({c})"),
            IndexTarget::Full(c) => write!(f, "FULL({c})"),
        }
    }
}

/// A role name: an identifier, or `''` for the empty name (only a string literal can be empty).
struct RoleName<'a>(&'a Identifier);

impl Display for RoleName<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0.as_str().is_empty() {
            f.write_str("''")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// A user name: always a string literal (user names keep their case; quoted names are refused).
struct UserName<'a>(&'a str);

impl Display for UserName<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_quoted(f, self.0, '\'')
    }
}

fn write_string_set(f: &mut Formatter<'_>, values: &[String]) -> fmt::Result {
    f.write_str("{")?;
    write_list(f, values, ", ", |f, v| write_quoted(f, v, '\''))?;
    f.write_str("}")
}

impl Display for RoleOption {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            RoleOption::Password(p) => {
                f.write_str("PASSWORD = ")?;
                write_quoted(f, p, '\'')
            }
            RoleOption::HashedPassword(p) => {
                f.write_str("HASHED PASSWORD = ")?;
                write_quoted(f, p, '\'')
            }
            RoleOption::Options(entries) => {
                f.write_str("OPTIONS = {")?;
                write_list(f, entries, ", ", |f, (k, v)| write!(f, "{k}: {v}"))?;
                f.write_str("}")
            }
            RoleOption::Superuser(b) => write!(f, "SUPERUSER = {b}"),
            RoleOption::Login(b) => write!(f, "LOGIN = {b}"),
            RoleOption::AccessToAllDatacenters => f.write_str("ACCESS TO ALL DATACENTERS"),
            RoleOption::AccessToDatacenters(dcs) => {
                f.write_str("ACCESS TO DATACENTERS ")?;
                write_string_set(f, dcs)
            }
            RoleOption::AccessFromAllCidrs => f.write_str("ACCESS FROM ALL CIDRS"),
            RoleOption::AccessFromCidrs(groups) => {
                f.write_str("ACCESS FROM CIDRS ")?;
                write_string_set(f, groups)
            }
        }
    }
}

fn write_role_options(f: &mut Formatter<'_>, options: &[RoleOption]) -> fmt::Result {
    if !options.is_empty() {
        f.write_str(" WITH ")?;
        write_list(f, options, " AND ", |f, o| write!(f, "{o}"))?;
    }
    Ok(())
}

fn write_user_options(
    f: &mut Formatter<'_>,
    password: &Option<UserPassword>,
    superuser: Option<bool>,
) -> fmt::Result {
    match password {
        Some(UserPassword::Plain(p)) => {
            f.write_str(" WITH PASSWORD ")?;
            write_quoted(f, p, '\'')?;
        }
        Some(UserPassword::Hashed(p)) => {
            f.write_str(" WITH HASHED PASSWORD ")?;
            write_quoted(f, p, '\'')?;
        }
        None => {}
    }
    match superuser {
        Some(true) => f.write_str(" SUPERUSER"),
        Some(false) => f.write_str(" NOSUPERUSER"),
        None => Ok(()),
    }
}

impl Display for Permissions {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Permissions::All => f.write_str("ALL PERMISSIONS"),
            Permissions::Listed(ps) => write_list(f, ps, ", ", |f, p| f.write_str(p.name())),
        }
    }
}

fn write_types(f: &mut Formatter<'_>, types: &[CqlType]) -> fmt::Result {
    f.write_str("(")?;
    comma(f, types)?;
    f.write_str(")")
}

impl Display for Resource {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Resource::AllKeyspaces => f.write_str("ALL KEYSPACES"),
            Resource::Keyspace(ks) => write!(f, "KEYSPACE {ks}"),
            Resource::Table(t) => write!(f, "TABLE {t}"),
            Resource::AllTablesInKeyspace(ks) => write!(f, "ALL TABLES IN KEYSPACE {ks}"),
            Resource::AllRoles => f.write_str("ALL ROLES"),
            Resource::Role(r) => write!(f, "ROLE {}", RoleName(r)),
            Resource::AllFunctions => f.write_str("ALL FUNCTIONS"),
            Resource::AllFunctionsInKeyspace(ks) => write!(f, "ALL FUNCTIONS IN KEYSPACE {ks}"),
            Resource::Function { name, arguments } => {
                write!(f, "FUNCTION {name}")?;
                write_types(f, arguments)
            }
            Resource::AllMbeans => f.write_str("ALL MBEANS"),
            Resource::Mbean(name) => {
                f.write_str("MBEAN ")?;
                write_quoted(f, name, '\'')
            }
            Resource::Mbeans(pattern) => {
                f.write_str("MBEANS ")?;
                write_quoted(f, pattern, '\'')
            }
        }
    }
}

fn write_of_recursive(
    f: &mut Formatter<'_>,
    of: &Option<Identifier>,
    recursive: bool,
) -> fmt::Result {
    if let Some(r) = of {
        write!(f, " OF {}", RoleName(r))?;
    }
    if !recursive {
        f.write_str(" NORECURSIVE")?;
    }
    Ok(())
}

impl Display for AccessControlStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use AccessControlStatement as A;
        match self {
            A::CreateRole {
                if_not_exists,
                name,
                options,
            } => {
                f.write_str("CREATE ROLE ")?;
                write_if_not_exists(f, *if_not_exists)?;
                write!(f, "{}", RoleName(name))?;
                write_role_options(f, options)
            }
            A::AlterRole {
                if_exists,
                name,
                options,
            } => {
                f.write_str("ALTER ROLE ")?;
                write_if_exists(f, *if_exists)?;
                write!(f, "{}", RoleName(name))?;
                write_role_options(f, options)
            }
            A::DropRole { if_exists, name } => {
                f.write_str("DROP ROLE ")?;
                write_if_exists(f, *if_exists)?;
                write!(f, "{}", RoleName(name))
            }
            A::ListRoles { of, recursive } => {
                f.write_str("LIST ROLES")?;
                write_of_recursive(f, of, *recursive)
            }
            A::CreateUser {
                if_not_exists,
                name,
                password,
                superuser,
            } => {
                f.write_str("CREATE USER ")?;
                write_if_not_exists(f, *if_not_exists)?;
                write!(f, "{}", UserName(name))?;
                write_user_options(f, password, *superuser)
            }
            A::AlterUser {
                if_exists,
                name,
                password,
                superuser,
            } => {
                f.write_str("ALTER USER ")?;
                write_if_exists(f, *if_exists)?;
                write!(f, "{}", UserName(name))?;
                write_user_options(f, password, *superuser)
            }
            A::DropUser { if_exists, name } => {
                f.write_str("DROP USER ")?;
                write_if_exists(f, *if_exists)?;
                write!(f, "{}", UserName(name))
            }
            A::ListUsers => f.write_str("LIST USERS"),
            A::GrantPermissions {
                permissions,
                resource,
                role,
            } => write!(f, "GRANT {permissions} ON {resource} TO {}", RoleName(role)),
            A::RevokePermissions {
                permissions,
                resource,
                role,
            } => write!(
                f,
                "REVOKE {permissions} ON {resource} FROM {}",
                RoleName(role)
            ),
            A::ListPermissions {
                permissions,
                resource,
                of,
                recursive,
            } => {
                write!(f, "LIST {permissions}")?;
                if let Some(r) = resource {
                    write!(f, " ON {r}")?;
                }
                write_of_recursive(f, of, *recursive)
            }
            A::GrantRole { role, grantee } => {
                write!(f, "GRANT {} TO {}", RoleName(role), RoleName(grantee))
            }
            A::RevokeRole { role, revokee } => {
                write!(f, "REVOKE {} FROM {}", RoleName(role), RoleName(revokee))
            }
            A::AddIdentity {
                if_not_exists,
                identity,
                role,
            } => {
                f.write_str("ADD IDENTITY ")?;
                write_if_not_exists(f, *if_not_exists)?;
                write!(f, "{} TO ROLE {}", UserName(identity), UserName(role))
            }
            A::DropIdentity {
                if_exists,
                identity,
            } => {
                f.write_str("DROP IDENTITY ")?;
                write_if_exists(f, *if_exists)?;
                write!(f, "{}", UserName(identity))
            }
        }
    }
}

fn write_or_replace(f: &mut Formatter<'_>, yes: bool) -> fmt::Result {
    if yes {
        f.write_str("OR REPLACE ")?;
    }
    Ok(())
}

impl Display for CreateFunctionStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("CREATE ")?;
        write_or_replace(f, self.or_replace)?;
        f.write_str("FUNCTION ")?;
        write_if_not_exists(f, self.if_not_exists)?;
        write!(f, "{}(", self.name)?;
        write_list(f, &self.arguments, ", ", |f, (n, t)| write!(f, "{n} {t}"))?;
        f.write_str(") ")?;
        f.write_str(if self.called_on_null_input {
            "CALLED"
        } else {
            "RETURNS NULL"
        })?;
        write!(f, " ON NULL INPUT RETURNS {} LANGUAGE ", self.return_type)?;
        write_ident(
            f,
            &Identifier::new(self.language.clone()),
            IdentContext::General,
        )?;
        f.write_str(" AS ")?;
        write_quoted(f, &self.body, '\'')
    }
}

impl Display for CreateAggregateStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("CREATE ")?;
        write_or_replace(f, self.or_replace)?;
        f.write_str("AGGREGATE ")?;
        write_if_not_exists(f, self.if_not_exists)?;
        write!(f, "{}", self.name)?;
        write_types(f, &self.arguments)?;
        f.write_str(" SFUNC ")?;
        write_ident(f, &self.state_function, IdentContext::FunctionName)?;
        write!(f, " STYPE {}", self.state_type)?;
        if let Some(ff) = &self.final_function {
            f.write_str(" FINALFUNC ")?;
            write_ident(f, ff, IdentContext::FunctionName)?;
        }
        if let Some(t) = &self.initial_condition {
            write!(f, " INITCOND {t}")?;
        }
        Ok(())
    }
}

impl Display for DropFunctionStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(if self.aggregate {
            "DROP AGGREGATE "
        } else {
            "DROP FUNCTION "
        })?;
        write_if_exists(f, self.if_exists)?;
        write!(f, "{}", self.name)?;
        if let Some(args) = &self.arguments {
            write_types(f, args)?;
        }
        Ok(())
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::AccessControl(s) => write!(f, "{s}"),
            Statement::CreateFunction(s) => write!(f, "{s}"),
            Statement::CreateAggregate(s) => write!(f, "{s}"),
            Statement::DropFunction(s) => write!(f, "{s}"),
            Statement::CreateTrigger(s) => {
                f.write_str("CREATE TRIGGER ")?;
                write_if_not_exists(f, s.if_not_exists)?;
                write!(f, "{} ON {} USING ", s.name, s.table)?;
                write_quoted(f, &s.class, '\'')
            }
            Statement::DropTrigger(s) => {
                f.write_str("DROP TRIGGER ")?;
                write_if_exists(f, s.if_exists)?;
                write!(f, "{} ON {}", s.name, s.table)
            }
            Statement::Select(s) => write!(f, "{s}"),
            Statement::Insert(s) => write!(f, "{s}"),
            Statement::Update(s) => write!(f, "{s}"),
            Statement::Delete(s) => write!(f, "{s}"),
            Statement::Batch(s) => write!(f, "{s}"),
            Statement::Use(s) => write!(f, "USE {}", s.keyspace),
            Statement::Truncate(s) => write!(f, "TRUNCATE TABLE {}", s.table),
            Statement::CreateKeyspace(s) => {
                f.write_str("CREATE KEYSPACE ")?;
                write_if_not_exists(f, s.if_not_exists)?;
                write!(f, "{} WITH ", s.name)?;
                write_properties(f, &s.properties)
            }
            Statement::AlterKeyspace(s) => {
                f.write_str("ALTER KEYSPACE ")?;
                write_if_exists(f, s.if_exists)?;
                write!(f, "{} WITH ", s.name)?;
                write_properties(f, &s.properties)
            }
            Statement::DropKeyspace(s) => {
                f.write_str("DROP KEYSPACE ")?;
                write_if_exists(f, s.if_exists)?;
                write!(f, "{}", s.name)
            }
            Statement::CreateTable(s) => write!(f, "{s}"),
            Statement::AlterTable(s) => write!(f, "{s}"),
            Statement::DropTable(s) => {
                f.write_str("DROP TABLE ")?;
                write_if_exists(f, s.if_exists)?;
                write!(f, "{}", s.name)
            }
            Statement::CreateType(s) => {
                f.write_str("CREATE TYPE ")?;
                write_if_not_exists(f, s.if_not_exists)?;
                write!(f, "{} (", TypeName(&s.name))?;
                comma(f, &s.fields)?;
                f.write_str(")")
            }
            Statement::AlterType(s) => {
                f.write_str("ALTER TYPE ")?;
                write_if_exists(f, s.if_exists)?;
                write!(f, "{} ", TypeName(&s.name))?;
                match &s.action {
                    AlterTypeAction::AlterFieldType { field, ty } => {
                        write!(f, "ALTER {field} TYPE {ty}")
                    }
                    AlterTypeAction::Add {
                        if_not_exists,
                        field,
                    } => {
                        f.write_str("ADD ")?;
                        write_if_not_exists(f, *if_not_exists)?;
                        write!(f, "{field}")
                    }
                    AlterTypeAction::Rename { if_exists, renames } => {
                        f.write_str("RENAME ")?;
                        write_if_exists(f, *if_exists)?;
                        write_renames(f, renames)
                    }
                }
            }
            Statement::DropType(s) => {
                f.write_str("DROP TYPE ")?;
                write_if_exists(f, s.if_exists)?;
                write!(f, "{}", TypeName(&s.name))
            }
            Statement::CreateIndex(s) => {
                f.write_str("CREATE ")?;
                if s.custom {
                    f.write_str("CUSTOM ")?;
                }
                f.write_str("INDEX ")?;
                write_if_not_exists(f, s.if_not_exists)?;
                if let Some(name) = &s.name {
                    write!(f, "{name} ")?;
                }
                write!(f, "ON {} (", s.table)?;
                comma(f, &s.targets)?;
                f.write_str(")")?;
                if let Some(class) = &s.using {
                    f.write_str(" USING ")?;
                    write_quoted(f, class, '\'')?;
                }
                if !s.properties.is_empty() {
                    f.write_str(" WITH ")?;
                    write_properties(f, &s.properties)?;
                }
                Ok(())
            }
            Statement::DropIndex(s) => {
                f.write_str("DROP INDEX ")?;
                write_if_exists(f, s.if_exists)?;
                write!(f, "{}", s.name)
            }
            Statement::CreateMaterializedView(s) => {
                f.write_str("CREATE MATERIALIZED VIEW ")?;
                write_if_not_exists(f, s.if_not_exists)?;
                write!(
                    f,
                    "{} AS SELECT {} FROM {}",
                    s.name, s.selection, s.base_table
                )?;
                write_where(f, &s.where_clause)?;
                write!(f, " {}", s.primary_key)?;
                write_table_options(f, &s.options)
            }
            Statement::AlterMaterializedView(s) => {
                f.write_str("ALTER MATERIALIZED VIEW ")?;
                write_if_exists(f, s.if_exists)?;
                write!(f, "{} WITH ", s.name)?;
                write_properties(f, &s.properties)
            }
            Statement::DropMaterializedView(s) => {
                f.write_str("DROP MATERIALIZED VIEW ")?;
                write_if_exists(f, s.if_exists)?;
                write!(f, "{}", s.name)
            }
            Statement::Describe(s) => write!(f, "{s}"),
        }
    }
}

/// Keywords that introduce a `DESCRIBE` form when they come first; a generic
/// `DESCRIBE name` spelled like one of them is printed quoted so that it stays generic.
const DESCRIBE_KEYWORDS: [Kw; 10] = [
    Kw::Cluster,
    Kw::Keyspaces,
    Kw::Tables,
    Kw::Types,
    Kw::Functions,
    Kw::Aggregates,
    Kw::Only,
    Kw::Type,
    Kw::Function,
    Kw::Aggregate,
];

/// Writes the first identifier of a generic `DESCRIBE` name.
fn write_describe_first(f: &mut Formatter<'_>, id: &Identifier) -> fmt::Result {
    if Kw::lookup(id.as_str()).is_some_and(|kw| DESCRIBE_KEYWORDS.contains(&kw)) {
        write_quoted(f, id.as_str(), '"')
    } else {
        write_ident(f, id, IdentContext::General)
    }
}

impl Display for DescribeTarget {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DescribeTarget::Cluster => f.write_str("CLUSTER"),
            DescribeTarget::Schema { full } => {
                f.write_str(if *full { "FULL SCHEMA" } else { "SCHEMA" })
            }
            DescribeTarget::Keyspaces => f.write_str("KEYSPACES"),
            DescribeTarget::Keyspace { only, name } => {
                if *only {
                    f.write_str("ONLY ")?;
                }
                f.write_str("KEYSPACE")?;
                match name {
                    Some(name) => write!(f, " {name}"),
                    None => Ok(()),
                }
            }
            DescribeTarget::Tables => f.write_str("TABLES"),
            DescribeTarget::Table(name) => write!(f, "TABLE {name}"),
            DescribeTarget::Index(name) => write!(f, "INDEX {name}"),
            DescribeTarget::MaterializedView(name) => write!(f, "MATERIALIZED VIEW {name}"),
            DescribeTarget::Types => f.write_str("TYPES"),
            DescribeTarget::Type(name) => write!(f, "TYPE {}", TypeName(name)),
            DescribeTarget::Functions => f.write_str("FUNCTIONS"),
            DescribeTarget::Function(name) => write!(f, "FUNCTION {name}"),
            DescribeTarget::Aggregates => f.write_str("AGGREGATES"),
            DescribeTarget::Aggregate(name) => write!(f, "AGGREGATE {name}"),
            DescribeTarget::Generic(name) => match &name.keyspace {
                Some(ks) => {
                    write_describe_first(f, ks)?;
                    write!(f, ".{}", name.name)
                }
                None => write_describe_first(f, &name.name),
            },
        }
    }
}

impl Display for DescribeStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "DESCRIBE {}", self.target)?;
        if self.with_internals {
            f.write_str(" WITH INTERNALS")?;
        }
        Ok(())
    }
}
