//! Token kinds and the CQL keyword table.
//!
//! The keyword set mirrors Apache Cassandra's `Lexer.g`: every keyword is
//! matched case-insensitively and only when it is the whole word (so
//! `selection` is an identifier, not `SELECT` + `ion`). Each keyword belongs to
//! one [`KwClass`] which decides where it may double as an identifier, exactly
//! like the `basic_unreserved_keyword` / `unreserved_function_keyword` /
//! `unreserved_keyword` rules of `Parser.g`.

use crate::ast::NativeType;

/// How a keyword may be used as an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KwClass {
    /// Never usable as an unquoted identifier.
    Reserved,
    /// `basic_unreserved_keyword`: usable everywhere an identifier is.
    Basic,
    /// Native type names: usable as identifiers and function names, but not
    /// as user-defined type names.
    Native,
    /// `ttl`, `count`, `writetime`, `maxwritetime`, `key`, `cast`, `json`,
    /// `distinct`: usable as column/keyspace/table names only.
    Special,
}

macro_rules! keywords {
    ($( $variant:ident = $antlr:literal, $class:ident, [$($spelling:literal),+]; )*) => {
        /// A CQL keyword token.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Kw { $($variant,)* }

        impl Kw {
            /// The ANTLR token name Cassandra prints in `expecting ...`.
            pub(crate) fn antlr_name(self) -> &'static str {
                match self { $(Kw::$variant => $antlr,)* }
            }

            /// Identifier class of this keyword.
            pub(crate) fn class(self) -> KwClass {
                match self { $(Kw::$variant => KwClass::$class,)* }
            }

            /// Looks up an already lower-cased word.
            fn from_lower(word: &str) -> Option<Kw> {
                match word {
                    $($($spelling)|+ => Some(Kw::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

keywords! {
    Select = "K_SELECT", Reserved, ["select"];
    From = "K_FROM", Reserved, ["from"];
    As = "K_AS", Basic, ["as"];
    Where = "K_WHERE", Reserved, ["where"];
    And = "K_AND", Reserved, ["and"];
    Key = "K_KEY", Special, ["key"];
    Keys = "K_KEYS", Basic, ["keys"];
    Entries = "K_ENTRIES", Reserved, ["entries"];
    Full = "K_FULL", Reserved, ["full"];
    Insert = "K_INSERT", Reserved, ["insert"];
    Update = "K_UPDATE", Reserved, ["update"];
    With = "K_WITH", Reserved, ["with"];
    Limit = "K_LIMIT", Reserved, ["limit"];
    Per = "K_PER", Basic, ["per"];
    Partition = "K_PARTITION", Basic, ["partition"];
    Using = "K_USING", Reserved, ["using"];
    Use = "K_USE", Reserved, ["use"];
    Distinct = "K_DISTINCT", Special, ["distinct"];
    Count = "K_COUNT", Special, ["count"];
    Set = "K_SET", Reserved, ["set"];
    Begin = "K_BEGIN", Reserved, ["begin"];
    Unlogged = "K_UNLOGGED", Reserved, ["unlogged"];
    Batch = "K_BATCH", Reserved, ["batch"];
    Apply = "K_APPLY", Reserved, ["apply"];
    Truncate = "K_TRUNCATE", Reserved, ["truncate"];
    Delete = "K_DELETE", Reserved, ["delete"];
    In = "K_IN", Reserved, ["in"];
    Create = "K_CREATE", Reserved, ["create"];
    Schema = "K_SCHEMA", Reserved, ["schema"];
    Keyspace = "K_KEYSPACE", Reserved, ["keyspace"];
    Keyspaces = "K_KEYSPACES", Basic, ["keyspaces"];
    ColumnFamily = "K_COLUMNFAMILY", Reserved, ["columnfamily", "table"];
    Tables = "K_TABLES", Basic, ["columnfamilies", "tables"];
    Materialized = "K_MATERIALIZED", Reserved, ["materialized"];
    View = "K_VIEW", Reserved, ["view"];
    Index = "K_INDEX", Reserved, ["index"];
    Custom = "K_CUSTOM", Basic, ["custom"];
    On = "K_ON", Reserved, ["on"];
    To = "K_TO", Reserved, ["to"];
    Drop = "K_DROP", Reserved, ["drop"];
    Primary = "K_PRIMARY", Reserved, ["primary"];
    Into = "K_INTO", Reserved, ["into"];
    Values = "K_VALUES", Basic, ["values"];
    Timestamp = "K_TIMESTAMP", Native, ["timestamp"];
    Ttl = "K_TTL", Special, ["ttl"];
    Cast = "K_CAST", Special, ["cast"];
    Alter = "K_ALTER", Reserved, ["alter"];
    Rename = "K_RENAME", Reserved, ["rename"];
    Add = "K_ADD", Reserved, ["add"];
    Type = "K_TYPE", Basic, ["type"];
    Types = "K_TYPES", Basic, ["types"];
    Compact = "K_COMPACT", Basic, ["compact"];
    Storage = "K_STORAGE", Basic, ["storage"];
    Order = "K_ORDER", Reserved, ["order"];
    By = "K_BY", Reserved, ["by"];
    Asc = "K_ASC", Reserved, ["asc"];
    Desc = "K_DESC", Reserved, ["desc"];
    Allow = "K_ALLOW", Reserved, ["allow"];
    Filtering = "K_FILTERING", Basic, ["filtering"];
    If = "K_IF", Reserved, ["if"];
    Is = "K_IS", Reserved, ["is"];
    Contains = "K_CONTAINS", Basic, ["contains"];
    Between = "K_BETWEEN", Basic, ["between"];
    Group = "K_GROUP", Basic, ["group"];
    Cluster = "K_CLUSTER", Basic, ["cluster"];
    Internals = "K_INTERNALS", Basic, ["internals"];
    Only = "K_ONLY", Basic, ["only"];
    Grant = "K_GRANT", Reserved, ["grant"];
    All = "K_ALL", Basic, ["all"];
    Permission = "K_PERMISSION", Basic, ["permission"];
    Permissions = "K_PERMISSIONS", Basic, ["permissions"];
    Of = "K_OF", Reserved, ["of"];
    Revoke = "K_REVOKE", Reserved, ["revoke"];
    Modify = "K_MODIFY", Reserved, ["modify"];
    Authorize = "K_AUTHORIZE", Reserved, ["authorize"];
    Describe = "K_DESCRIBE", Reserved, ["describe"];
    Execute = "K_EXECUTE", Reserved, ["execute"];
    Norecursive = "K_NORECURSIVE", Reserved, ["norecursive"];
    Mbean = "K_MBEAN", Basic, ["mbean"];
    Mbeans = "K_MBEANS", Basic, ["mbeans"];
    User = "K_USER", Basic, ["user"];
    Users = "K_USERS", Basic, ["users"];
    Role = "K_ROLE", Basic, ["role"];
    Roles = "K_ROLES", Basic, ["roles"];
    Superusers = "K_SUPERUSERS", Basic, ["superusers"];
    Superuser = "K_SUPERUSER", Basic, ["superuser"];
    Nosuperuser = "K_NOSUPERUSER", Basic, ["nosuperuser"];
    Generated = "K_GENERATED", Basic, ["generated"];
    Password = "K_PASSWORD", Basic, ["password"];
    Hashed = "K_HASHED", Basic, ["hashed"];
    Login = "K_LOGIN", Basic, ["login"];
    Nologin = "K_NOLOGIN", Basic, ["nologin"];
    Options = "K_OPTIONS", Basic, ["options"];
    Access = "K_ACCESS", Basic, ["access"];
    Datacenters = "K_DATACENTERS", Basic, ["datacenters"];
    Cidrs = "K_CIDRS", Basic, ["cidrs"];
    Identity = "K_IDENTITY", Basic, ["identity"];
    Clustering = "K_CLUSTERING", Basic, ["clustering"];
    Ascii = "K_ASCII", Native, ["ascii"];
    Bigint = "K_BIGINT", Native, ["bigint"];
    Blob = "K_BLOB", Native, ["blob"];
    Boolean = "K_BOOLEAN", Native, ["boolean"];
    Counter = "K_COUNTER", Native, ["counter"];
    Decimal = "K_DECIMAL", Native, ["decimal"];
    Double = "K_DOUBLE", Native, ["double"];
    Duration = "K_DURATION", Native, ["duration"];
    Float = "K_FLOAT", Native, ["float"];
    Inet = "K_INET", Native, ["inet"];
    Int = "K_INT", Native, ["int"];
    Smallint = "K_SMALLINT", Native, ["smallint"];
    Tinyint = "K_TINYINT", Native, ["tinyint"];
    Text = "K_TEXT", Native, ["text"];
    Uuid = "K_UUID", Native, ["uuid"];
    Varchar = "K_VARCHAR", Native, ["varchar"];
    Varint = "K_VARINT", Native, ["varint"];
    Timeuuid = "K_TIMEUUID", Native, ["timeuuid"];
    Token = "K_TOKEN", Reserved, ["token"];
    Writetime = "K_WRITETIME", Special, ["writetime"];
    Maxwritetime = "K_MAXWRITETIME", Special, ["maxwritetime"];
    Date = "K_DATE", Native, ["date"];
    Time = "K_TIME", Native, ["time"];
    Null = "K_NULL", Reserved, ["null"];
    Not = "K_NOT", Reserved, ["not"];
    Exists = "K_EXISTS", Basic, ["exists"];
    Map = "K_MAP", Basic, ["map"];
    List = "K_LIST", Basic, ["list"];
    PositiveNan = "K_POSITIVE_NAN", Reserved, ["nan"];
    NegativeNan = "K_NEGATIVE_NAN", Reserved, ["-nan"];
    PositiveInfinity = "K_POSITIVE_INFINITY", Reserved, ["infinity"];
    NegativeInfinity = "K_NEGATIVE_INFINITY", Reserved, ["-infinity"];
    Tuple = "K_TUPLE", Basic, ["tuple"];
    Trigger = "K_TRIGGER", Basic, ["trigger"];
    Static = "K_STATIC", Basic, ["static"];
    Frozen = "K_FROZEN", Basic, ["frozen"];
    Function = "K_FUNCTION", Basic, ["function"];
    Functions = "K_FUNCTIONS", Basic, ["functions"];
    Aggregate = "K_AGGREGATE", Basic, ["aggregate"];
    Aggregates = "K_AGGREGATES", Basic, ["aggregates"];
    Sfunc = "K_SFUNC", Basic, ["sfunc"];
    Stype = "K_STYPE", Basic, ["stype"];
    Finalfunc = "K_FINALFUNC", Basic, ["finalfunc"];
    Initcond = "K_INITCOND", Basic, ["initcond"];
    Returns = "K_RETURNS", Basic, ["returns"];
    Called = "K_CALLED", Basic, ["called"];
    Input = "K_INPUT", Basic, ["input"];
    Language = "K_LANGUAGE", Basic, ["language"];
    Or = "K_OR", Reserved, ["or"];
    Replace = "K_REPLACE", Basic, ["replace"];
    Json = "K_JSON", Special, ["json"];
    Default = "K_DEFAULT", Basic, ["default"];
    Unset = "K_UNSET", Basic, ["unset"];
    Like = "K_LIKE", Basic, ["like"];
    Masked = "K_MASKED", Basic, ["masked"];
    Unmask = "K_UNMASK", Basic, ["unmask"];
    SelectMasked = "K_SELECT_MASKED", Basic, ["select_masked"];
    Vector = "K_VECTOR", Basic, ["vector"];
    Ann = "K_ANN", Basic, ["ann"];
}

/// Longest keyword spelling, used to bound the lower-casing buffer.
const MAX_KEYWORD_LEN_BYTES: usize = 16;

impl Kw {
    /// Looks up a word made of ASCII letters, digits and `_`
    /// case-insensitively. The `-nan` / `-infinity` spellings are handled by
    /// the lexer and are never returned for plain words.
    pub(crate) fn lookup(word: &str) -> Option<Kw> {
        let bytes = word.as_bytes();
        if bytes.len() > MAX_KEYWORD_LEN_BYTES {
            return None;
        }
        let mut buf = [0u8; MAX_KEYWORD_LEN_BYTES];
        for (dst, src) in buf.iter_mut().zip(bytes) {
            *dst = src.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&buf[..bytes.len()]).ok()?;
        match Kw::from_lower(lower) {
            Some(Kw::NegativeNan | Kw::NegativeInfinity) => None,
            other => other,
        }
    }

    /// Whether the keyword may be used where `ident` / `cident` /
    /// `noncol_ident` / `fident` / `sident` are expected.
    pub(crate) fn is_unreserved(self) -> bool {
        self.class() != KwClass::Reserved
    }

    /// Whether the keyword may be used as an unqualified function name
    /// (`allowedFunctionName`): unreserved function keywords plus `token`
    /// and `count`.
    pub(crate) fn is_function_name(self) -> bool {
        matches!(self.class(), KwClass::Basic | KwClass::Native)
            || matches!(self, Kw::Token | Kw::Count)
    }

    /// Whether the keyword may be used as a user-defined type name
    /// (`non_type_ident`): basic unreserved keywords plus `key`.
    pub(crate) fn is_type_name(self) -> bool {
        self.class() == KwClass::Basic || self == Kw::Key
    }

    /// The native type this keyword names, if any.
    pub(crate) fn native_type(self) -> Option<NativeType> {
        Some(match self {
            Kw::Ascii => NativeType::Ascii,
            Kw::Bigint => NativeType::Bigint,
            Kw::Blob => NativeType::Blob,
            Kw::Boolean => NativeType::Boolean,
            Kw::Counter => NativeType::Counter,
            Kw::Decimal => NativeType::Decimal,
            Kw::Double => NativeType::Double,
            Kw::Duration => NativeType::Duration,
            Kw::Float => NativeType::Float,
            Kw::Inet => NativeType::Inet,
            Kw::Int => NativeType::Int,
            Kw::Smallint => NativeType::Smallint,
            Kw::Text => NativeType::Text,
            Kw::Timestamp => NativeType::Timestamp,
            Kw::Tinyint => NativeType::Tinyint,
            Kw::Uuid => NativeType::Uuid,
            Kw::Varchar => NativeType::Varchar,
            Kw::Varint => NativeType::Varint,
            Kw::Timeuuid => NativeType::Timeuuid,
            Kw::Date => NativeType::Date,
            Kw::Time => NativeType::Time,
            _ => return None,
        })
    }
}

/// Kind of a lexical token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TokenKind {
    Keyword(Kw),
    Ident,
    QuotedName,
    EmptyQuotedName,
    StringLiteral,
    Integer,
    Float,
    Boolean,
    Duration,
    Uuid,
    HexNumber,
    QMark,
    Range,
    LParen,
    RParen,
    Comma,
    Semicolon,
    Dot,
    Star,
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
    Neq,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Colon,
    Plus,
    Minus,
    Slash,
    Percent,
    PlusEq,
    MinusEq,
    /// The literal `expr(` token of custom index expressions.
    ExprParen,
    /// Whitespace (hidden channel).
    Whitespace,
    /// `--` / `//` / `/* */` comments (hidden channel).
    Comment,
    /// Placeholder for the point where the lexer failed; never matched.
    LexError,
    Eof,
}

impl TokenKind {
    /// Whether the token is on ANTLR's hidden channel.
    pub(crate) fn is_hidden(self) -> bool {
        matches!(self, TokenKind::Whitespace | TokenKind::Comment)
    }

    /// The ANTLR token name Cassandra prints in `expecting ...`.
    pub(crate) fn antlr_name(self) -> &'static str {
        match self {
            TokenKind::Keyword(k) => k.antlr_name(),
            TokenKind::Ident => "IDENT",
            TokenKind::QuotedName => "QUOTED_NAME",
            TokenKind::EmptyQuotedName => "EMPTY_QUOTED_NAME",
            TokenKind::StringLiteral => "STRING_LITERAL",
            TokenKind::Integer => "INTEGER",
            TokenKind::Float => "FLOAT",
            TokenKind::Boolean => "BOOLEAN",
            TokenKind::Duration => "DURATION",
            TokenKind::Uuid => "UUID",
            TokenKind::HexNumber => "HEXNUMBER",
            TokenKind::QMark => "QMARK",
            TokenKind::Range => "RANGE",
            TokenKind::LParen => "'('",
            TokenKind::RParen => "')'",
            TokenKind::Comma => "','",
            TokenKind::Semicolon => "';'",
            TokenKind::Dot => "'.'",
            TokenKind::Star => "'*'",
            TokenKind::Eq => "'='",
            TokenKind::Lt => "'<'",
            TokenKind::Lte => "'<='",
            TokenKind::Gt => "'>'",
            TokenKind::Gte => "'>='",
            TokenKind::Neq => "'!='",
            TokenKind::LBracket => "'['",
            TokenKind::RBracket => "']'",
            TokenKind::LBrace => "'{'",
            TokenKind::RBrace => "'}'",
            TokenKind::Colon => "':'",
            TokenKind::Plus => "'+'",
            TokenKind::Minus => "'-'",
            TokenKind::Slash => "'/'",
            TokenKind::Percent => "'%'",
            TokenKind::PlusEq => "'+='",
            TokenKind::MinusEq => "'-='",
            TokenKind::ExprParen => "'expr('",
            TokenKind::Whitespace => "WS",
            TokenKind::Comment => "COMMENT",
            TokenKind::LexError => "<invalid>",
            TokenKind::Eof => "EOF",
        }
    }
}

/// One lexical token. Positions follow ANTLR: `line` is 1-based and `col` is
/// the 0-based offset in UTF-16 code units from the start of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// Byte offset of the first byte in the source.
    pub start: usize,
    /// Byte offset one past the last byte in the source.
    pub end: usize,
    pub line: u32,
    pub col: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_lookup_is_case_insensitive_and_whole_word() {
        assert_eq!(Kw::lookup("SeLeCt"), Some(Kw::Select));
        assert_eq!(Kw::lookup("TABLE"), Some(Kw::ColumnFamily));
        assert_eq!(Kw::lookup("columnfamilies"), Some(Kw::Tables));
        assert_eq!(Kw::lookup("selection"), None);
        assert_eq!(Kw::lookup("-nan"), None);
        assert_eq!(Kw::lookup("a_very_long_identifier_name"), None);
    }

    #[test]
    fn keyword_classes_match_cassandra() {
        assert!(!Kw::Select.is_unreserved());
        assert!(Kw::Key.is_unreserved());
        assert!(!Kw::Key.is_function_name());
        assert!(Kw::Key.is_type_name());
        assert!(Kw::Int.is_function_name());
        assert!(!Kw::Int.is_type_name());
        assert!(Kw::Token.is_function_name());
        assert!(!Kw::Token.is_unreserved());
        assert!(Kw::Count.is_function_name());
        assert!(!Kw::Ttl.is_function_name());
    }
}
