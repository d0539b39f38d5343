//! The CQL abstract syntax tree.
//!
//! The tree is purely syntactic: types are named (not resolved), constants
//! keep their source text (so `varint` literals of any size survive), and no
//! schema is consulted. Semantic checks (does the column exist, do value
//! counts match, is `COMPACT STORAGE` allowed, ...) belong to the validation
//! layer.
//!
//! Invariants of trees produced by the parser:
//! - [`Identifier`]s hold the *internal* name: unquoted identifiers are
//!   lower-cased, quoted ones keep their case with `""` unescaped.
//! - Bind markers are numbered `0..n` in order of appearance in the source
//!   (see [`Statement::bind_markers`]).
//! - `Display` prints valid CQL that parses back to an equal tree.

use std::fmt;

/// A case-resolved CQL identifier (column, table, keyspace, field, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier(String);

impl Identifier {
    /// Creates an identifier from its internal (already case-resolved) name.
    pub fn new(name: impl Into<String>) -> Self {
        Identifier(name.into())
    }

    /// Creates an identifier from unquoted source text (lower-cased).
    pub fn from_unquoted(text: &str) -> Self {
        Identifier(text.to_ascii_lowercase())
    }

    /// The internal name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the identifier, returning its internal name.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for Identifier {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An optionally keyspace-qualified name (`ks.table`, `ks.type`, `ks.index`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QualifiedName {
    /// The keyspace, when given explicitly.
    pub keyspace: Option<Identifier>,
    /// The object name.
    pub name: Identifier,
}

impl QualifiedName {
    /// An unqualified name.
    pub fn unqualified(name: Identifier) -> Self {
        QualifiedName {
            keyspace: None,
            name,
        }
    }
}

/// A function name, optionally keyspace-qualified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionName {
    /// The keyspace, when given explicitly.
    pub keyspace: Option<Identifier>,
    /// The function name (lower-cased unless quoted).
    pub name: Identifier,
}

/// A bind marker: `?` or `:name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BindMarker {
    /// Position of the marker among all markers of the statement (0-based,
    /// in order of appearance).
    pub index: usize,
    /// The name of a named marker (`:name`).
    pub name: Option<Identifier>,
}

/// A literal constant, keeping its source text where the value type is only
/// known after schema resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Constant {
    /// A string (`'...'` or `$$...$$`), with `''` already unescaped.
    String(String),
    /// An integer literal, possibly negative (`-12`).
    Integer(String),
    /// A floating point literal: `1.5`, `-2e10`, `NaN`, `Infinity`, `-Infinity`.
    Float(String),
    /// `true` / `false`.
    Boolean(bool),
    /// A duration: `1h30m`, `P1DT2H`, `-5ms`.
    Duration(String),
    /// A UUID literal as written.
    Uuid(String),
    /// A blob literal `0x...` as written.
    Hex(String),
}

impl Constant {
    /// The raw text Cassandra uses for properties (`getRawText`): string
    /// content without quotes, other literals as written.
    pub fn raw_text(&self) -> String {
        match self {
            Constant::String(s)
            | Constant::Integer(s)
            | Constant::Float(s)
            | Constant::Duration(s)
            | Constant::Uuid(s)
            | Constant::Hex(s) => s.clone(),
            Constant::Boolean(b) => b.to_string(),
        }
    }
}

/// Arithmetic operators of terms and selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithmeticOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

/// A value expression (`term` in `Parser.g`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    /// A literal constant.
    Constant(Constant),
    /// `NULL`.
    Null,
    /// `?` or `:name`.
    BindMarker(BindMarker),
    /// `[a, b]`.
    List(Vec<Term>),
    /// `{a, b}`; also the empty `{}` (which may turn out to be a map).
    Set(Vec<Term>),
    /// `{k: v, ...}` with term keys.
    Map(Vec<(Term, Term)>),
    /// `{field: v, ...}` with identifier keys.
    UserType(Vec<(Identifier, Term)>),
    /// `(a, b, ...)`; a single element in parentheses is a 1-tuple.
    Tuple(Vec<Term>),
    /// `fn(args)` / `ks.fn(args)`.
    FunctionCall {
        /// Called function.
        name: FunctionName,
        /// Arguments in order.
        args: Vec<Term>,
    },
    /// `(type) term`.
    TypeHint {
        /// The hinted type.
        ty: CqlType,
        /// The hinted term.
        term: Box<Term>,
    },
    /// `CAST(term AS type)`.
    Cast {
        /// The converted term.
        term: Box<Term>,
        /// The target type.
        ty: NativeType,
    },
    /// `- term` (a separate `-` token, not a negative literal).
    Negate(Box<Term>),
    /// `left op right`.
    Binary {
        /// The operator.
        op: ArithmeticOp,
        /// Left operand.
        left: Box<Term>,
        /// Right operand.
        right: Box<Term>,
    },
}

/// Native CQL types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NativeType {
    /// `ascii`
    Ascii,
    /// `bigint`
    Bigint,
    /// `blob`
    Blob,
    /// `boolean`
    Boolean,
    /// `counter`
    Counter,
    /// `date`
    Date,
    /// `decimal`
    Decimal,
    /// `double`
    Double,
    /// `duration`
    Duration,
    /// `float`
    Float,
    /// `inet`
    Inet,
    /// `int`
    Int,
    /// `smallint`
    Smallint,
    /// `text`
    Text,
    /// `time`
    Time,
    /// `timestamp`
    Timestamp,
    /// `timeuuid`
    Timeuuid,
    /// `tinyint`
    Tinyint,
    /// `uuid`
    Uuid,
    /// `varchar` (an alias of `text`, kept as written)
    Varchar,
    /// `varint`
    Varint,
}

impl NativeType {
    /// The CQL spelling.
    pub fn name(self) -> &'static str {
        match self {
            NativeType::Ascii => "ascii",
            NativeType::Bigint => "bigint",
            NativeType::Blob => "blob",
            NativeType::Boolean => "boolean",
            NativeType::Counter => "counter",
            NativeType::Date => "date",
            NativeType::Decimal => "decimal",
            NativeType::Double => "double",
            NativeType::Duration => "duration",
            NativeType::Float => "float",
            NativeType::Inet => "inet",
            NativeType::Int => "int",
            NativeType::Smallint => "smallint",
            NativeType::Text => "text",
            NativeType::Time => "time",
            NativeType::Timestamp => "timestamp",
            NativeType::Timeuuid => "timeuuid",
            NativeType::Tinyint => "tinyint",
            NativeType::Uuid => "uuid",
            NativeType::Varchar => "varchar",
            NativeType::Varint => "varint",
        }
    }
}

/// A syntactic CQL type (`comparatorType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CqlType {
    /// A native type.
    Native(NativeType),
    /// `list<T>`
    List(Box<CqlType>),
    /// `set<T>`
    Set(Box<CqlType>),
    /// `map<K, V>`
    Map(Box<CqlType>, Box<CqlType>),
    /// `tuple<A, B, ...>`
    Tuple(Vec<CqlType>),
    /// `vector<T, n>`; the dimension is as written (validated later).
    Vector(Box<CqlType>, i32),
    /// `frozen<T>`
    Frozen(Box<CqlType>),
    /// A user-defined type name.
    UserDefined(QualifiedName),
    /// A custom type given by its class name string.
    Custom(String),
}

/// `writetime`, `maxwritetime` or `ttl` selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WritetimeKind {
    /// `writetime(c)`
    Writetime,
    /// `maxwritetime(c)`
    MaxWritetime,
    /// `ttl(c)`
    Ttl,
}

/// A selection expression (`unaliasedSelector`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selector {
    /// A column.
    Column(Identifier),
    /// A constant, `NULL` or bind marker.
    Term(Term),
    /// `count(*)`.
    CountRows,
    /// `writetime(c)`, `maxwritetime(c)`, `ttl(c)`; the target is a column,
    /// possibly with field/element selections.
    Writetime {
        /// Which function.
        kind: WritetimeKind,
        /// The selected column (with modifiers).
        target: Box<Selector>,
    },
    /// `CAST(selector AS type)`.
    Cast {
        /// The converted selector.
        selector: Box<Selector>,
        /// The target type.
        ty: NativeType,
    },
    /// `fn(args)`.
    Function {
        /// Called function.
        name: FunctionName,
        /// Arguments.
        args: Vec<Selector>,
    },
    /// `selector.field`.
    Field {
        /// Receiver.
        selector: Box<Selector>,
        /// Selected field.
        field: Identifier,
    },
    /// `selector[element]`.
    Element {
        /// Receiver.
        selector: Box<Selector>,
        /// Element key / index.
        element: Term,
    },
    /// `selector[from..to]` (either bound optional).
    Slice {
        /// Receiver.
        selector: Box<Selector>,
        /// Lower bound.
        from: Option<Term>,
        /// Upper bound.
        to: Option<Term>,
    },
    /// `(type) selector`.
    TypeHint {
        /// The hinted type.
        ty: CqlType,
        /// The hinted selector.
        selector: Box<Selector>,
    },
    /// `[a, b]`.
    List(Vec<Selector>),
    /// `{a, b}` and `{}`.
    Set(Vec<Selector>),
    /// `{k: v}`: a map or a UDT literal, decided with the schema.
    MapOrUdt(Vec<(Selector, Selector)>),
    /// `(a, b)`; `(a)` is a parenthesized selector.
    Tuple(Vec<Selector>),
    /// `- selector`.
    Negate(Box<Selector>),
    /// `left op right`.
    Binary {
        /// The operator.
        op: ArithmeticOp,
        /// Left operand.
        left: Box<Selector>,
        /// Right operand.
        right: Box<Selector>,
    },
}

/// A selector with an optional alias.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectItem {
    /// The selection expression.
    pub selector: Selector,
    /// `AS alias`.
    pub alias: Option<Identifier>,
}

/// The selection clause.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selection {
    /// `*`
    Wildcard,
    /// An explicit, non-empty selector list.
    Items(Vec<SelectItem>),
}

/// Comparison operators of relations and conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonOp {
    /// `=`
    Eq,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `!=`
    Neq,
}

impl ComparisonOp {
    /// The CQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            ComparisonOp::Eq => "=",
            ComparisonOp::Lt => "<",
            ComparisonOp::Lte => "<=",
            ComparisonOp::Gt => ">",
            ComparisonOp::Gte => ">=",
            ComparisonOp::Neq => "!=",
        }
    }
}

/// Values of an `IN` relation or condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InValues {
    /// `IN (a, b, ...)` (possibly empty). For multi-column relations the
    /// elements are tuples or bind markers.
    Terms(Vec<Term>),
    /// `IN ?` / `IN :name`.
    Marker(BindMarker),
}

/// One element of a `WHERE` clause.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Relation {
    /// `c op term`.
    Compare {
        /// Restricted column.
        column: Identifier,
        /// Operator.
        op: ComparisonOp,
        /// Value.
        value: Term,
    },
    /// `c LIKE term`.
    Like {
        /// Restricted column.
        column: Identifier,
        /// Pattern.
        value: Term,
    },
    /// `c IS NOT NULL`.
    IsNotNull {
        /// Restricted column.
        column: Identifier,
    },
    /// `c IN (...)` / `c IN ?`.
    In {
        /// Restricted column.
        column: Identifier,
        /// Values.
        values: InValues,
    },
    /// `c CONTAINS term` / `c CONTAINS KEY term`.
    Contains {
        /// Restricted column.
        column: Identifier,
        /// `CONTAINS KEY`.
        key: bool,
        /// Value.
        value: Term,
    },
    /// `c[key] op term`.
    MapElement {
        /// Restricted column.
        column: Identifier,
        /// Map key.
        key: Term,
        /// Operator.
        op: ComparisonOp,
        /// Value.
        value: Term,
    },
    /// `token(a, b) op term`.
    Token {
        /// Partition key columns.
        columns: Vec<Identifier>,
        /// Operator.
        op: ComparisonOp,
        /// Value.
        value: Term,
    },
    /// `(a, b) op (1, 2)` / `(a, b) op ?`.
    MultiColumnCompare {
        /// Restricted columns.
        columns: Vec<Identifier>,
        /// Operator.
        op: ComparisonOp,
        /// A tuple literal or a bind marker.
        value: Term,
    },
    /// `(a, b) IN ((1, 2), ...)` / `(a, b) IN (?, ?)` / `(a, b) IN ?`.
    MultiColumnIn {
        /// Restricted columns.
        columns: Vec<Identifier>,
        /// Values.
        values: InValues,
    },
    /// `expr(index, term)`.
    CustomIndex {
        /// The custom index.
        index: QualifiedName,
        /// The expression value.
        value: Term,
    },
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// `ASC`
    Asc,
    /// `DESC`
    Desc,
}

/// One `ORDER BY` item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ordering {
    /// Ordered column.
    pub column: Identifier,
    /// `ANN OF term` (vector search).
    pub ann_of: Option<Term>,
    /// Explicit direction; `None` when omitted (ascending).
    pub order: Option<Order>,
}

/// `SELECT` statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectStatement {
    /// `SELECT JSON`.
    pub json: bool,
    /// `SELECT DISTINCT`.
    pub distinct: bool,
    /// Selected columns.
    pub selection: Selection,
    /// Table.
    pub table: QualifiedName,
    /// `WHERE` relations (conjunction).
    pub where_clause: Vec<Relation>,
    /// `GROUP BY` selectors.
    pub group_by: Vec<Selector>,
    /// `ORDER BY` items.
    pub order_by: Vec<Ordering>,
    /// `PER PARTITION LIMIT` (integer literal or marker).
    pub per_partition_limit: Option<Term>,
    /// `LIMIT` (integer literal or marker).
    pub limit: Option<Term>,
    /// `ALLOW FILTERING`.
    pub allow_filtering: bool,
}

/// One `USING` attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UsingAttribute {
    /// `TIMESTAMP value` (integer literal or marker).
    Timestamp(Term),
    /// `TTL value` (integer literal or marker).
    Ttl(Term),
}

/// Helpers over a `USING` clause (last occurrence wins, as in Cassandra).
pub trait UsingAttributes {
    /// The effective `TIMESTAMP`.
    fn timestamp(&self) -> Option<&Term>;
    /// The effective `TTL`.
    fn ttl(&self) -> Option<&Term>;
}

impl UsingAttributes for [UsingAttribute] {
    fn timestamp(&self) -> Option<&Term> {
        self.iter().rev().find_map(|a| match a {
            UsingAttribute::Timestamp(t) => Some(t),
            UsingAttribute::Ttl(_) => None,
        })
    }

    fn ttl(&self) -> Option<&Term> {
        self.iter().rev().find_map(|a| match a {
            UsingAttribute::Ttl(t) => Some(t),
            UsingAttribute::Timestamp(_) => None,
        })
    }
}

/// The JSON document of `INSERT JSON`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JsonValue {
    /// A string literal.
    Literal(String),
    /// A bind marker.
    Marker(BindMarker),
}

/// What an `INSERT` inserts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InsertValues {
    /// `(columns) VALUES (values)`.
    Values {
        /// Column names.
        columns: Vec<Identifier>,
        /// Values (count is checked later).
        values: Vec<Term>,
    },
    /// `JSON value [DEFAULT NULL | DEFAULT UNSET]`.
    Json {
        /// The JSON document.
        value: JsonValue,
        /// `DEFAULT UNSET` (otherwise missing columns are set to null).
        default_unset: bool,
    },
}

/// `INSERT` statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InsertStatement {
    /// Table.
    pub table: QualifiedName,
    /// Inserted values.
    pub values: InsertValues,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// `USING` attributes in source order.
    pub using: Vec<UsingAttribute>,
}

/// One `SET` assignment of an `UPDATE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Assignment {
    /// `c = v`.
    Set {
        /// Column.
        column: Identifier,
        /// Value.
        value: Term,
    },
    /// `c[k] = v`.
    SetElement {
        /// Column.
        column: Identifier,
        /// Index or key.
        key: Term,
        /// Value.
        value: Term,
    },
    /// `c.field = v`.
    SetField {
        /// Column.
        column: Identifier,
        /// UDT field.
        field: Identifier,
        /// Value.
        value: Term,
    },
    /// `c = c + v`, `c += v` (and `c = c -3` lexed as `c`, `-3`).
    Add {
        /// Column.
        column: Identifier,
        /// Added value.
        value: Term,
    },
    /// `c = c - v`, `c -= v`.
    Subtract {
        /// Column.
        column: Identifier,
        /// Removed value.
        value: Term,
    },
    /// `c = v + c` (list prepend).
    Prepend {
        /// Column.
        column: Identifier,
        /// Prepended value.
        value: Term,
    },
}

impl Assignment {
    /// The assigned column.
    pub fn column(&self) -> &Identifier {
        match self {
            Assignment::Set { column, .. }
            | Assignment::SetElement { column, .. }
            | Assignment::SetField { column, .. }
            | Assignment::Add { column, .. }
            | Assignment::Subtract { column, .. }
            | Assignment::Prepend { column, .. } => column,
        }
    }
}

/// What an `IF` condition tests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConditionTarget {
    /// The whole column.
    Column,
    /// `c[element]`.
    Element(Term),
    /// `c.field`.
    Field(Identifier),
}

/// The operator and operand of an `IF` condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConditionOp {
    /// `op term`.
    Compare(ComparisonOp, Term),
    /// `IN (...)` / `IN ?`.
    In(InValues),
    /// `CONTAINS term`.
    Contains(Term),
    /// `CONTAINS KEY term`.
    ContainsKey(Term),
}

/// One lightweight-transaction condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    /// Tested column.
    pub column: Identifier,
    /// Column, element or field.
    pub target: ConditionTarget,
    /// Operator and operand.
    pub op: ConditionOp,
}

/// `UPDATE` statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UpdateStatement {
    /// Table.
    pub table: QualifiedName,
    /// `USING` attributes in source order.
    pub using: Vec<UsingAttribute>,
    /// Assignments in source order.
    pub assignments: Vec<Assignment>,
    /// `WHERE` relations.
    pub where_clause: Vec<Relation>,
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// `IF` conditions.
    pub conditions: Vec<Condition>,
}

/// One deleted item of a `DELETE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeleteTarget {
    /// A whole column.
    Column(Identifier),
    /// `c[key]`.
    Element {
        /// Column.
        column: Identifier,
        /// Index or key.
        key: Term,
    },
    /// `c.field`.
    Field {
        /// Column.
        column: Identifier,
        /// UDT field.
        field: Identifier,
    },
}

/// `DELETE` statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeleteStatement {
    /// Deleted columns (empty: the whole row/range).
    pub targets: Vec<DeleteTarget>,
    /// Table.
    pub table: QualifiedName,
    /// `USING TIMESTAMP`.
    pub timestamp: Option<Term>,
    /// `WHERE` relations.
    pub where_clause: Vec<Relation>,
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// `IF` conditions.
    pub conditions: Vec<Condition>,
}

/// Kind of batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchKind {
    /// `BEGIN BATCH`
    Logged,
    /// `BEGIN UNLOGGED BATCH`
    Unlogged,
    /// `BEGIN COUNTER BATCH`
    Counter,
}

/// A statement allowed inside a batch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModificationStatement {
    /// `INSERT`
    Insert(InsertStatement),
    /// `UPDATE`
    Update(UpdateStatement),
    /// `DELETE`
    Delete(DeleteStatement),
}

/// `BEGIN ... BATCH ... APPLY BATCH`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchStatement {
    /// Batch kind.
    pub kind: BatchKind,
    /// `USING` attributes of the batch.
    pub using: Vec<UsingAttribute>,
    /// Child statements.
    pub statements: Vec<ModificationStatement>,
}

/// `USE keyspace`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UseStatement {
    /// Keyspace.
    pub keyspace: Identifier,
}

/// `TRUNCATE [TABLE] name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TruncateStatement {
    /// Table.
    pub table: QualifiedName,
}

/// The value of a `WITH name = value` property.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PropertyValue {
    /// A constant.
    Constant(Constant),
    /// An unreserved keyword used as a value, as written.
    Keyword(String),
    /// A `{'k': 'v', ...}` map of constants, in source order.
    Map(Vec<(Constant, Constant)>),
}

/// One `name = value` property.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Property {
    /// Property name.
    pub name: Identifier,
    /// Property value.
    pub value: PropertyValue,
}

/// Finds a property by name.
pub fn find_property<'a>(properties: &'a [Property], name: &str) -> Option<&'a PropertyValue> {
    properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| &p.value)
}

/// `CREATE KEYSPACE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateKeyspaceStatement {
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Keyspace name.
    pub name: Identifier,
    /// Properties (`replication`, `durable_writes`, ...).
    pub properties: Vec<Property>,
}

/// `ALTER KEYSPACE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlterKeyspaceStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// Keyspace name.
    pub name: Identifier,
    /// Properties.
    pub properties: Vec<Property>,
}

/// `DROP KEYSPACE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DropKeyspaceStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// Keyspace name.
    pub name: Identifier,
}

/// A column mask (`MASKED WITH ...`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnMask {
    /// `MASKED WITH DEFAULT`.
    Default,
    /// `MASKED WITH fn(args)`.
    Function {
        /// Masking function.
        name: FunctionName,
        /// Extra arguments.
        args: Vec<Term>,
    },
}

/// A column definition of `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnDefinition {
    /// Column name.
    pub name: Identifier,
    /// Column type.
    pub ty: CqlType,
    /// `STATIC`.
    pub is_static: bool,
    /// `MASKED WITH ...`.
    pub mask: Option<ColumnMask>,
    /// Inline `PRIMARY KEY`.
    pub primary_key: bool,
}

/// A table-level `PRIMARY KEY (...)` clause.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrimaryKey {
    /// Partition key columns (`(a, b)` or `a`).
    pub partition_key: Vec<Identifier>,
    /// Clustering columns in order.
    pub clustering_columns: Vec<Identifier>,
}

/// One `CLUSTERING ORDER BY` item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusteringOrder {
    /// Clustering column.
    pub column: Identifier,
    /// Direction.
    pub order: Order,
}

/// One `WITH` option of a table or view.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TableOption {
    /// `name = value`.
    Property(Property),
    /// `COMPACT STORAGE` (rejected by the validation layer).
    CompactStorage,
    /// `CLUSTERING ORDER BY (c DESC, ...)`.
    ClusteringOrder(Vec<ClusteringOrder>),
}

/// `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateTableStatement {
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Table name.
    pub name: QualifiedName,
    /// Column definitions in order.
    pub columns: Vec<ColumnDefinition>,
    /// Table-level `PRIMARY KEY` clauses (normally one; inline keys are on
    /// the column definitions).
    pub primary_keys: Vec<PrimaryKey>,
    /// `WITH` options in order.
    pub options: Vec<TableOption>,
}

/// A column added by `ALTER TABLE ... ADD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddedColumn {
    /// Column name.
    pub name: Identifier,
    /// Column type.
    pub ty: CqlType,
    /// `STATIC`.
    pub is_static: bool,
    /// `MASKED WITH ...`.
    pub mask: Option<ColumnMask>,
}

/// What an `ALTER TABLE` does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AlterTableAction {
    /// `ALTER c TYPE t` (rejected by the validation layer).
    AlterColumnType {
        /// Column.
        column: Identifier,
        /// New type.
        ty: CqlType,
    },
    /// `ALTER [IF EXISTS] c MASKED WITH ...` / `... DROP MASKED`.
    AlterColumnMask {
        /// `IF EXISTS`.
        if_exists: bool,
        /// Column.
        column: Identifier,
        /// New mask, `None` for `DROP MASKED`.
        mask: Option<ColumnMask>,
    },
    /// `ADD [IF NOT EXISTS] c t` / `ADD (c t, ...)`.
    Add {
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Added columns.
        columns: Vec<AddedColumn>,
    },
    /// `DROP [IF EXISTS] c` / `DROP (c, ...)` `[USING TIMESTAMP n]`.
    Drop {
        /// `IF EXISTS`.
        if_exists: bool,
        /// Dropped columns.
        columns: Vec<Identifier>,
        /// `USING TIMESTAMP`.
        timestamp: Option<i64>,
    },
    /// `RENAME [IF EXISTS] a TO b AND ...`.
    Rename {
        /// `IF EXISTS`.
        if_exists: bool,
        /// `(from, to)` pairs.
        renames: Vec<(Identifier, Identifier)>,
    },
    /// `DROP COMPACT STORAGE`.
    DropCompactStorage,
    /// `WITH properties`.
    With(Vec<Property>),
}

/// `ALTER TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlterTableStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// Table.
    pub name: QualifiedName,
    /// The alteration.
    pub action: AlterTableAction,
}

/// `DROP TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DropTableStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// Table.
    pub name: QualifiedName,
}

/// A field of a user-defined type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldDefinition {
    /// Field name.
    pub name: Identifier,
    /// Field type.
    pub ty: CqlType,
}

/// `CREATE TYPE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateTypeStatement {
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Type name.
    pub name: QualifiedName,
    /// Fields in order.
    pub fields: Vec<FieldDefinition>,
}

/// What an `ALTER TYPE` does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AlterTypeAction {
    /// `ALTER f TYPE t` (rejected by the validation layer).
    AlterFieldType {
        /// Field.
        field: Identifier,
        /// New type.
        ty: CqlType,
    },
    /// `ADD [IF NOT EXISTS] f t`.
    Add {
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// New field.
        field: FieldDefinition,
    },
    /// `RENAME [IF EXISTS] a TO b AND ...`.
    Rename {
        /// `IF EXISTS`.
        if_exists: bool,
        /// `(from, to)` pairs.
        renames: Vec<(Identifier, Identifier)>,
    },
}

/// `ALTER TYPE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlterTypeStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// Type name.
    pub name: QualifiedName,
    /// The alteration.
    pub action: AlterTypeAction,
}

/// `DROP TYPE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DropTypeStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// Type name.
    pub name: QualifiedName,
}

/// A permission of `GRANT` / `REVOKE` / `LIST` (`permission`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// `CREATE`
    Create,
    /// `ALTER`
    Alter,
    /// `DROP`
    Drop,
    /// `SELECT`
    Select,
    /// `MODIFY`
    Modify,
    /// `AUTHORIZE`
    Authorize,
    /// `DESCRIBE`
    Describe,
    /// `EXECUTE`
    Execute,
    /// `UNMASK`
    Unmask,
    /// `SELECT_MASKED`
    SelectMasked,
}

impl Permission {
    /// The keyword, upper case (Cassandra's `Permission` name).
    pub fn name(self) -> &'static str {
        match self {
            Permission::Create => "CREATE",
            Permission::Alter => "ALTER",
            Permission::Drop => "DROP",
            Permission::Select => "SELECT",
            Permission::Modify => "MODIFY",
            Permission::Authorize => "AUTHORIZE",
            Permission::Describe => "DESCRIBE",
            Permission::Execute => "EXECUTE",
            Permission::Unmask => "UNMASK",
            Permission::SelectMasked => "SELECT_MASKED",
        }
    }
}

/// `permissionOrAll`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Permissions {
    /// `ALL [PERMISSIONS]`
    All,
    /// `p [PERMISSION], ...`, in source order.
    Listed(Vec<Permission>),
}

/// A resource permissions are granted on (`resource`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `ALL KEYSPACES`
    AllKeyspaces,
    /// `KEYSPACE ks`
    Keyspace(Identifier),
    /// `[TABLE] [ks.]t`
    Table(QualifiedName),
    /// `ALL TABLES IN KEYSPACE ks`
    AllTablesInKeyspace(Identifier),
    /// `ALL ROLES`
    AllRoles,
    /// `ROLE r`
    Role(Identifier),
    /// `ALL FUNCTIONS`
    AllFunctions,
    /// `ALL FUNCTIONS IN KEYSPACE ks`
    AllFunctionsInKeyspace(Identifier),
    /// `FUNCTION [ks.]f(types)`
    Function {
        /// Function name.
        name: FunctionName,
        /// Argument types.
        arguments: Vec<CqlType>,
    },
    /// `ALL MBEANS`
    AllMbeans,
    /// `MBEAN 'name'`
    Mbean(String),
    /// `MBEANS 'pattern'`
    Mbeans(String),
}

/// An option of `CREATE ROLE` / `ALTER ROLE` (`roleOption`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RoleOption {
    /// `PASSWORD = '...'`
    Password(String),
    /// `HASHED PASSWORD = '...'`
    HashedPassword(String),
    /// `OPTIONS = {...}`
    Options(Vec<(Term, Term)>),
    /// `SUPERUSER = bool`
    Superuser(bool),
    /// `LOGIN = bool`
    Login(bool),
    /// `ACCESS TO ALL DATACENTERS`
    AccessToAllDatacenters,
    /// `ACCESS TO DATACENTERS {'dc', ...}`
    AccessToDatacenters(Vec<String>),
    /// `ACCESS FROM ALL CIDRS`
    AccessFromAllCidrs,
    /// `ACCESS FROM CIDRS {'group', ...}`
    AccessFromCidrs(Vec<String>),
}

/// The password of `CREATE USER` / `ALTER USER` (`userPassword`, no `=`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserPassword {
    /// `PASSWORD '...'`
    Plain(String),
    /// `HASHED PASSWORD '...'`
    Hashed(String),
}

/// Role, user and permission management. Role names are [`Identifier`]s (an unquoted name
/// lower-cased; a quoted name or string literal as written); user names keep their case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccessControlStatement {
    /// `CREATE ROLE [IF NOT EXISTS] r [WITH option AND ...]`
    CreateRole {
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Role.
        name: Identifier,
        /// Options in source order.
        options: Vec<RoleOption>,
    },
    /// `ALTER ROLE [IF EXISTS] r [WITH option AND ...]`
    AlterRole {
        /// `IF EXISTS`.
        if_exists: bool,
        /// Role.
        name: Identifier,
        /// Options in source order.
        options: Vec<RoleOption>,
    },
    /// `DROP ROLE [IF EXISTS] r`
    DropRole {
        /// `IF EXISTS`.
        if_exists: bool,
        /// Role.
        name: Identifier,
    },
    /// `LIST ROLES [OF r] [NORECURSIVE]`
    ListRoles {
        /// `OF r`.
        of: Option<Identifier>,
        /// Without `NORECURSIVE`.
        recursive: bool,
    },
    /// `CREATE USER [IF NOT EXISTS] u [WITH password] [SUPERUSER|NOSUPERUSER]`
    CreateUser {
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// User name (case kept).
        name: String,
        /// Password.
        password: Option<UserPassword>,
        /// `SUPERUSER` / `NOSUPERUSER`.
        superuser: Option<bool>,
    },
    /// `ALTER USER [IF EXISTS] u [WITH password] [SUPERUSER|NOSUPERUSER]`
    AlterUser {
        /// `IF EXISTS`.
        if_exists: bool,
        /// User name (case kept).
        name: String,
        /// Password.
        password: Option<UserPassword>,
        /// `SUPERUSER` / `NOSUPERUSER`.
        superuser: Option<bool>,
    },
    /// `DROP USER [IF EXISTS] u`
    DropUser {
        /// `IF EXISTS`.
        if_exists: bool,
        /// User name (case kept).
        name: String,
    },
    /// `LIST USERS`
    ListUsers,
    /// `GRANT permissions ON resource TO r`
    GrantPermissions {
        /// Permissions.
        permissions: Permissions,
        /// Resource.
        resource: Resource,
        /// Grantee.
        role: Identifier,
    },
    /// `REVOKE permissions ON resource FROM r`
    RevokePermissions {
        /// Permissions.
        permissions: Permissions,
        /// Resource.
        resource: Resource,
        /// Revokee.
        role: Identifier,
    },
    /// `LIST permissions [ON resource] [OF r] [NORECURSIVE]`
    ListPermissions {
        /// Permissions.
        permissions: Permissions,
        /// Resource.
        resource: Option<Resource>,
        /// `OF r`.
        of: Option<Identifier>,
        /// Without `NORECURSIVE`.
        recursive: bool,
    },
    /// `GRANT role TO grantee`
    GrantRole {
        /// Role granted.
        role: Identifier,
        /// Grantee.
        grantee: Identifier,
    },
    /// `REVOKE role FROM revokee`
    RevokeRole {
        /// Role revoked.
        role: Identifier,
        /// Revokee.
        revokee: Identifier,
    },
    /// `ADD IDENTITY [IF NOT EXISTS] identity TO ROLE role` (names as written).
    AddIdentity {
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Identity.
        identity: String,
        /// Role.
        role: String,
    },
    /// `DROP IDENTITY [IF EXISTS] identity`.
    DropIdentity {
        /// `IF EXISTS`.
        if_exists: bool,
        /// Identity.
        identity: String,
    },
}

/// `CREATE [OR REPLACE] FUNCTION`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateFunctionStatement {
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Function name.
    pub name: FunctionName,
    /// Argument names and types.
    pub arguments: Vec<(Identifier, CqlType)>,
    /// `CALLED ON NULL INPUT` (else `RETURNS NULL ON NULL INPUT`).
    pub called_on_null_input: bool,
    /// Return type.
    pub return_type: CqlType,
    /// Language, lower-cased.
    pub language: String,
    /// Body (the string literal's value).
    pub body: String,
}

/// `CREATE [OR REPLACE] AGGREGATE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateAggregateStatement {
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Aggregate name.
    pub name: FunctionName,
    /// Argument types.
    pub arguments: Vec<CqlType>,
    /// `SFUNC`.
    pub state_function: Identifier,
    /// `STYPE`.
    pub state_type: CqlType,
    /// `FINALFUNC`.
    pub final_function: Option<Identifier>,
    /// `INITCOND`.
    pub initial_condition: Option<Term>,
}

/// `DROP FUNCTION` / `DROP AGGREGATE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DropFunctionStatement {
    /// `DROP AGGREGATE` (else `DROP FUNCTION`).
    pub aggregate: bool,
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// Name.
    pub name: FunctionName,
    /// Argument types, when given (`f()` is `Some(vec![])`).
    pub arguments: Option<Vec<CqlType>>,
}

/// `CREATE TRIGGER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateTriggerStatement {
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Trigger name.
    pub name: Identifier,
    /// Table.
    pub table: QualifiedName,
    /// Trigger class (the string literal's value).
    pub class: String,
}

/// `DROP TRIGGER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DropTriggerStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// Trigger name.
    pub name: Identifier,
    /// Table.
    pub table: QualifiedName,
}

/// What a secondary index indexes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexTarget {
    /// `c` (values for collections).
    Column(Identifier),
    /// `VALUES(c)`.
    Values(Identifier),
    /// `KEYS(c)`.
    Keys(Identifier),
    /// `ENTRIES(c)`.
    Entries(Identifier),
    /// `FULL(c)`.
    Full(Identifier),
}

/// `CREATE [CUSTOM] INDEX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateIndexStatement {
    /// `CUSTOM`.
    pub custom: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Index name, if given.
    pub name: Option<Identifier>,
    /// Indexed table.
    pub table: QualifiedName,
    /// Indexed targets.
    pub targets: Vec<IndexTarget>,
    /// `USING 'class'`.
    pub using: Option<String>,
    /// `WITH` properties.
    pub properties: Vec<Property>,
}

/// `DROP INDEX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DropIndexStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// Index name.
    pub name: QualifiedName,
}

/// `CREATE MATERIALIZED VIEW`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateMaterializedViewStatement {
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// View name.
    pub name: QualifiedName,
    /// Selected columns.
    pub selection: Selection,
    /// Base table.
    pub base_table: QualifiedName,
    /// `WHERE` relations.
    pub where_clause: Vec<Relation>,
    /// The view's primary key.
    pub primary_key: PrimaryKey,
    /// `WITH` options.
    pub options: Vec<TableOption>,
}

/// `ALTER MATERIALIZED VIEW`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlterMaterializedViewStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// View name.
    pub name: QualifiedName,
    /// Properties.
    pub properties: Vec<Property>,
}

/// `DROP MATERIALIZED VIEW`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DropMaterializedViewStatement {
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// View name.
    pub name: QualifiedName,
}

/// What a `DESCRIBE` statement describes (`describeStatement` in `Parser.g`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DescribeTarget {
    /// `DESCRIBE CLUSTER`.
    Cluster,
    /// `DESCRIBE [FULL] SCHEMA`; `full` includes the system keyspaces.
    Schema {
        /// `FULL`.
        full: bool,
    },
    /// `DESCRIBE KEYSPACES`.
    Keyspaces,
    /// `DESCRIBE [ONLY] KEYSPACE [ks]`; no name means the session's keyspace.
    Keyspace {
        /// `ONLY`: the keyspace definition alone, without its elements.
        only: bool,
        /// The keyspace.
        name: Option<Identifier>,
    },
    /// `DESCRIBE TABLES`.
    Tables,
    /// `DESCRIBE TABLE [ks.]t`.
    Table(QualifiedName),
    /// `DESCRIBE INDEX [ks.]i`.
    Index(QualifiedName),
    /// `DESCRIBE MATERIALIZED VIEW [ks.]v`.
    MaterializedView(QualifiedName),
    /// `DESCRIBE TYPES`.
    Types,
    /// `DESCRIBE TYPE [ks.]t`.
    Type(QualifiedName),
    /// `DESCRIBE FUNCTIONS`.
    Functions,
    /// `DESCRIBE FUNCTION [ks.]f`.
    Function(FunctionName),
    /// `DESCRIBE AGGREGATES`.
    Aggregates,
    /// `DESCRIBE AGGREGATE [ks.]a`.
    Aggregate(FunctionName),
    /// `DESCRIBE [ks.]name`: a keyspace, or a table, index or view (looked up in this
    /// order).
    Generic(QualifiedName),
}

/// `DESCRIBE` / `DESC` (server-side, Cassandra 4.0+).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DescribeStatement {
    /// What is described.
    pub target: DescribeTarget,
    /// `WITH INTERNALS`.
    pub with_internals: bool,
}

/// A parsed CQL statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Statement {
    /// `SELECT`
    Select(SelectStatement),
    /// `INSERT`
    Insert(InsertStatement),
    /// `UPDATE`
    Update(UpdateStatement),
    /// `DELETE`
    Delete(DeleteStatement),
    /// `BEGIN ... APPLY BATCH`
    Batch(BatchStatement),
    /// `USE`
    Use(UseStatement),
    /// `TRUNCATE`
    Truncate(TruncateStatement),
    /// `CREATE KEYSPACE`
    CreateKeyspace(CreateKeyspaceStatement),
    /// `ALTER KEYSPACE`
    AlterKeyspace(AlterKeyspaceStatement),
    /// `DROP KEYSPACE`
    DropKeyspace(DropKeyspaceStatement),
    /// `CREATE TABLE`
    CreateTable(CreateTableStatement),
    /// `ALTER TABLE`
    AlterTable(AlterTableStatement),
    /// `DROP TABLE`
    DropTable(DropTableStatement),
    /// `CREATE TYPE`
    CreateType(CreateTypeStatement),
    /// `ALTER TYPE`
    AlterType(AlterTypeStatement),
    /// `DROP TYPE`
    DropType(DropTypeStatement),
    /// `CREATE INDEX`
    CreateIndex(CreateIndexStatement),
    /// `DROP INDEX`
    DropIndex(DropIndexStatement),
    /// `CREATE MATERIALIZED VIEW`
    CreateMaterializedView(CreateMaterializedViewStatement),
    /// `ALTER MATERIALIZED VIEW`
    AlterMaterializedView(AlterMaterializedViewStatement),
    /// `DROP MATERIALIZED VIEW`
    DropMaterializedView(DropMaterializedViewStatement),
    /// `DESCRIBE` / `DESC`
    Describe(DescribeStatement),
    /// Roles, users and permissions.
    AccessControl(AccessControlStatement),
    /// `CREATE FUNCTION`
    CreateFunction(CreateFunctionStatement),
    /// `CREATE AGGREGATE`
    CreateAggregate(CreateAggregateStatement),
    /// `DROP FUNCTION` / `DROP AGGREGATE`
    DropFunction(DropFunctionStatement),
    /// `CREATE TRIGGER`
    CreateTrigger(CreateTriggerStatement),
    /// `DROP TRIGGER`
    DropTrigger(DropTriggerStatement),
}

impl Statement {
    /// All bind markers of the statement, ordered by index.
    pub fn bind_markers(&self) -> Vec<&BindMarker> {
        let mut out = Vec::new();
        crate::visit::collect_statement_markers(self, &mut out);
        out.sort_by_key(|m| m.index);
        out
    }

    /// Number of bind markers (values a prepared execution must bind).
    pub fn bind_marker_count(&self) -> usize {
        self.bind_markers().len()
    }

    /// A short upper-case name of the statement kind (`"SELECT"`,
    /// `"CREATE TABLE"`, ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Statement::Select(_) => "SELECT",
            Statement::Insert(_) => "INSERT",
            Statement::Update(_) => "UPDATE",
            Statement::Delete(_) => "DELETE",
            Statement::Batch(_) => "BATCH",
            Statement::Use(_) => "USE",
            Statement::Truncate(_) => "TRUNCATE",
            Statement::CreateKeyspace(_) => "CREATE KEYSPACE",
            Statement::AlterKeyspace(_) => "ALTER KEYSPACE",
            Statement::DropKeyspace(_) => "DROP KEYSPACE",
            Statement::CreateTable(_) => "CREATE TABLE",
            Statement::AlterTable(_) => "ALTER TABLE",
            Statement::DropTable(_) => "DROP TABLE",
            Statement::CreateType(_) => "CREATE TYPE",
            Statement::AlterType(_) => "ALTER TYPE",
            Statement::DropType(_) => "DROP TYPE",
            Statement::CreateIndex(_) => "CREATE INDEX",
            Statement::DropIndex(_) => "DROP INDEX",
            Statement::CreateMaterializedView(_) => "CREATE MATERIALIZED VIEW",
            Statement::AlterMaterializedView(_) => "ALTER MATERIALIZED VIEW",
            Statement::DropMaterializedView(_) => "DROP MATERIALIZED VIEW",
            Statement::Describe(_) => "DESCRIBE",
            Statement::AccessControl(a) => match a {
                AccessControlStatement::CreateRole { .. } => "CREATE ROLE",
                AccessControlStatement::AlterRole { .. } => "ALTER ROLE",
                AccessControlStatement::DropRole { .. } => "DROP ROLE",
                AccessControlStatement::ListRoles { .. } => "LIST ROLES",
                AccessControlStatement::CreateUser { .. } => "CREATE USER",
                AccessControlStatement::AlterUser { .. } => "ALTER USER",
                AccessControlStatement::DropUser { .. } => "DROP USER",
                AccessControlStatement::ListUsers => "LIST USERS",
                AccessControlStatement::GrantPermissions { .. } => "GRANT",
                AccessControlStatement::RevokePermissions { .. } => "REVOKE",
                AccessControlStatement::ListPermissions { .. } => "LIST PERMISSIONS",
                AccessControlStatement::GrantRole { .. } => "GRANT ROLE",
                AccessControlStatement::RevokeRole { .. } => "REVOKE ROLE",
                AccessControlStatement::AddIdentity { .. } => "ADD IDENTITY",
                AccessControlStatement::DropIdentity { .. } => "DROP IDENTITY",
            },
            Statement::CreateFunction(_) => "CREATE FUNCTION",
            Statement::CreateAggregate(_) => "CREATE AGGREGATE",
            Statement::DropFunction(d) if d.aggregate => "DROP AGGREGATE",
            Statement::DropFunction(_) => "DROP FUNCTION",
            Statement::CreateTrigger(_) => "CREATE TRIGGER",
            Statement::DropTrigger(_) => "DROP TRIGGER",
        }
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::display::write_ident(f, self, crate::display::IdentContext::General)
    }
}
