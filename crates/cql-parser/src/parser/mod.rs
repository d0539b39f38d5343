//! Recursive-descent CQL parser (Pratt parsing for arithmetic).
//!
//! The parser mirrors the rules of Cassandra's `Parser.g` one function per
//! rule, so that errors surface at the same token and with the same kind as
//! in Cassandra:
//! - a failed choice between alternatives is a *no viable alternative*
//!   error at the token where the choice failed; when the choice needed more
//!   than one token of lookahead, the snippet highlights the token where the
//!   decision started, like ANTLR's DFA-based prediction does;
//! - a required token that is missing is a *mismatched input ... expecting*
//!   error.
//!
//! The token stream models ANTLR's `CommonTokenStream`: it records the
//! furthest token fetched (peeking and consuming both fetch), which bounds the
//! error snippet and decides whether a lexer error is reported before a
//! parser error. Grammar-action errors (`addRecognitionError`) are recorded
//! and parsing continues; the first recorded error wins.
//!
//! Safety: no recursion is unbounded — every recursive rule goes through
//! [`Parser::nested`], which fails with [`ParseError::TooDeep`] beyond
//! [`MAX_NESTING_DEPTH`]. Syntactic predicates (`SELECT JSON`, `DISTINCT`,
//! type hints) are implemented by bounded speculation that restores the
//! position and bind-marker counter, so parsing time stays linear.

mod dcl;
mod ddl;
mod describe;
mod dml;
mod select;
mod terms;

use crate::ast::{BindMarker, Identifier, QualifiedName, Statement};
use crate::error::{antlr_text, char_display, snippet, token_display, ParseError};
use crate::lexer::{lex, LexError, LexErrorKind};
use crate::token::{Kw, Token, TokenKind};

/// Maximum nesting depth of terms, selectors, types and relations (each
/// bracket, type parameter, type hint, negation or function call is one
/// level). Deeper input is refused with [`ParseError::TooDeep`]. The bound
/// keeps the parser within ~256 KiB of stack in release builds and ~1.5 MiB
/// in unoptimized builds, below the 2 MiB default of spawned threads.
pub const MAX_NESTING_DEPTH: usize = 128;

/// An internal parse failure; converted to a [`ParseError`] lazily so that
/// failed speculation costs nothing.
#[derive(Debug)]
pub(crate) enum Fail {
    /// No viable alternative: `offending` and `decision` are positions in the
    /// on-channel stream; `fetched` is the furthest token index fetched.
    NoViable {
        offending: usize,
        decision: usize,
        fetched: usize,
    },
    /// Mismatched input at `offending`, expecting `expected`.
    Mismatch {
        offending: usize,
        expected: &'static str,
        fetched: usize,
    },
    /// A fully built error.
    Ready(Box<ParseError>),
    /// An exception thrown by a grammar action: it escapes the parser at
    /// once and wins over errors recorded earlier.
    Thrown(Box<ParseError>),
}

pub(crate) type PResult<T> = Result<T, Fail>;

/// Parser state over one query string.
pub(crate) struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    /// Indices into `tokens` of on-channel tokens; the last one is `Eof`.
    chan: Vec<usize>,
    /// Current position in `chan`.
    pos: usize,
    /// Highest index into `tokens` fetched so far.
    fetched: usize,
    lex_error: Option<LexError>,
    /// Index into `tokens` of the `LexError` placeholder, or `usize::MAX`.
    lex_error_index: usize,
    /// The first error reported by a grammar action or the lexer.
    pending: Option<ParseError>,
    speculating: u32,
    /// Nesting of full selection type-hint predicates (see
    /// `looks_like_selection_type_hint`).
    hint_speculation: u32,
    depth: usize,
    /// Bind markers allocated so far in the current statement.
    markers: usize,
}

/// Unescapes a `STRING_LITERAL` token's source text.
pub(crate) fn string_literal_value(raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix("$$").and_then(|s| s.strip_suffix("$$")) {
        return inner.to_string();
    }
    let inner = raw
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(raw);
    inner.replace("''", "'")
}

/// Unescapes a `QUOTED_NAME` token's source text.
pub(crate) fn quoted_name_value(raw: &str) -> String {
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw);
    inner.replace("\"\"", "\"")
}

/// `IDENT | QUOTED_NAME | unreserved_keyword`.
pub(crate) fn is_ident(kind: TokenKind) -> bool {
    match kind {
        TokenKind::Ident | TokenKind::QuotedName => true,
        TokenKind::Keyword(k) => k.is_unreserved(),
        _ => false,
    }
}

/// `cident`: an identifier or the empty quoted name `""`.
pub(crate) fn is_cident(kind: TokenKind) -> bool {
    kind == TokenKind::EmptyQuotedName || is_ident(kind)
}

/// `allowedFunctionName`.
pub(crate) fn is_function_name(kind: TokenKind) -> bool {
    match kind {
        TokenKind::Ident | TokenKind::QuotedName => true,
        TokenKind::Keyword(k) => k.is_function_name(),
        _ => false,
    }
}

/// `constant`.
pub(crate) fn is_constant(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::StringLiteral
            | TokenKind::Integer
            | TokenKind::Float
            | TokenKind::Boolean
            | TokenKind::Duration
            | TokenKind::Uuid
            | TokenKind::HexNumber
            | TokenKind::Keyword(
                Kw::PositiveNan | Kw::NegativeNan | Kw::PositiveInfinity | Kw::NegativeInfinity
            )
    )
}

impl<'s> Parser<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        let lexed = lex(src);
        let tokens = lexed.tokens;
        let chan: Vec<usize> = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.kind.is_hidden())
            .map(|(i, _)| i)
            .collect();
        let lex_error_index = tokens
            .iter()
            .position(|t| t.kind == TokenKind::LexError)
            .unwrap_or(usize::MAX);
        let mut p = Parser {
            src,
            tokens,
            chan,
            pos: 0,
            fetched: 0,
            lex_error: lexed.error,
            lex_error_index,
            pending: None,
            speculating: 0,
            hint_speculation: 0,
            depth: 0,
            markers: 0,
        };
        let first = p.chan.first().copied().unwrap_or(0);
        p.touch(first);
        p
    }

    // ----------------------------------------------------------------------
    // Token stream
    // ----------------------------------------------------------------------

    fn touch(&mut self, idx: usize) {
        self.fetched = self.fetched.max(idx);
        if idx >= self.lex_error_index {
            // Reported once, when the lexer first reaches the bad input.
            self.lex_error_index = usize::MAX;
            if self.pending.is_none() {
                if let Some(e) = &self.lex_error {
                    self.pending = Some(lex_error_to_parse_error(e));
                }
            }
        }
    }

    fn chan_index(&self, pos: usize) -> usize {
        let last = self.chan.len().saturating_sub(1);
        self.chan.get(pos.min(last)).copied().unwrap_or(0)
    }

    /// The `k`-th upcoming on-channel token (`k >= 1`), fetching it.
    pub(crate) fn lt(&mut self, k: usize) -> Token {
        let idx = self.chan_index(self.pos + k.saturating_sub(1));
        self.touch(idx);
        self.tokens.get(idx).copied().unwrap_or(Token {
            kind: TokenKind::Eof,
            start: self.src.len(),
            end: self.src.len(),
            line: 0,
            col: 0,
        })
    }

    /// Kind of the `k`-th upcoming token.
    pub(crate) fn la(&mut self, k: usize) -> TokenKind {
        self.lt(k).kind
    }

    /// Consumes the current token and fetches the next on-channel one.
    pub(crate) fn advance(&mut self) -> Token {
        let tok = self.lt(1);
        if self.pos + 1 < self.chan.len() {
            self.pos += 1;
        }
        let idx = self.chan_index(self.pos);
        self.touch(idx);
        tok
    }

    pub(crate) fn text(&self, tok: &Token) -> &'s str {
        self.src.get(tok.start..tok.end).unwrap_or("")
    }

    pub(crate) fn at(&mut self, kind: TokenKind) -> bool {
        self.la(1) == kind
    }

    pub(crate) fn at_kw(&mut self, kw: Kw) -> bool {
        self.la(1) == TokenKind::Keyword(kw)
    }

    /// Consumes the token if it has the given kind.
    pub(crate) fn eat(&mut self, kind: TokenKind) -> bool {
        if self.at(kind) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn eat_kw(&mut self, kw: Kw) -> bool {
        self.eat(TokenKind::Keyword(kw))
    }

    /// Matches a required token.
    pub(crate) fn expect(&mut self, kind: TokenKind) -> PResult<Token> {
        if self.at(kind) {
            Ok(self.advance())
        } else {
            Err(self.mismatch(kind.antlr_name()))
        }
    }

    pub(crate) fn expect_kw(&mut self, kw: Kw) -> PResult<Token> {
        self.expect(TokenKind::Keyword(kw))
    }

    // ----------------------------------------------------------------------
    // Errors
    // ----------------------------------------------------------------------

    /// Mismatched input at the current token.
    pub(crate) fn mismatch(&mut self, expected: &'static str) -> Fail {
        self.lt(1);
        Fail::Mismatch {
            offending: self.pos,
            expected,
            fetched: self.fetched,
        }
    }

    /// No viable alternative at the current token.
    pub(crate) fn no_viable(&mut self) -> Fail {
        self.lt(1);
        Fail::NoViable {
            offending: self.pos,
            decision: self.pos,
            fetched: self.fetched,
        }
    }

    /// No viable alternative at the `k`-th upcoming token for a decision that
    /// started at the current token (multi-token lookahead).
    pub(crate) fn no_viable_at(&mut self, k: usize) -> Fail {
        self.lt(k);
        let offending = (self.pos + k.saturating_sub(1)).min(self.chan.len().saturating_sub(1));
        Fail::NoViable {
            offending,
            decision: self.pos,
            fetched: self.fetched,
        }
    }

    /// No viable alternative at the current token for a decision that
    /// started at an earlier stream position.
    pub(crate) fn no_viable_from(&mut self, decision: usize) -> Fail {
        self.lt(1);
        Fail::NoViable {
            offending: self.pos,
            decision,
            fetched: self.fetched,
        }
    }

    /// Records a grammar-action error (`addRecognitionError`); parsing goes on.
    pub(crate) fn recognition_error(&mut self, message: String) {
        if self.speculating == 0 && self.pending.is_none() {
            self.pending = Some(ParseError::Invalid { message });
        }
    }

    /// Position of the current token for position-only errors.
    fn here(&mut self) -> (u32, i64) {
        let tok = self.lt(1);
        token_position(&tok)
    }

    fn build(&self, fail: Fail) -> ParseError {
        match fail {
            Fail::Ready(e) | Fail::Thrown(e) => *e,
            Fail::NoViable {
                offending,
                decision,
                fetched,
            } => {
                let tok = self.tokens[self.chan_index(offending)];
                let (line, char_position) = token_position(&tok);
                ParseError::NoViableAlternative {
                    line,
                    char_position,
                    found: token_display(&antlr_text(self.src, &tok)),
                    snippet: snippet(self.src, &self.tokens, self.chan_index(decision), fetched),
                }
            }
            Fail::Mismatch {
                offending,
                expected,
                fetched,
            } => {
                let idx = self.chan_index(offending);
                let tok = self.tokens[idx];
                let (line, char_position) = token_position(&tok);
                ParseError::MismatchedInput {
                    line,
                    char_position,
                    found: token_display(&antlr_text(self.src, &tok)),
                    expected: expected.to_string(),
                    snippet: snippet(self.src, &self.tokens, idx, fetched),
                }
            }
        }
    }

    /// Converts a parse outcome into the public result: the first recorded
    /// error (grammar action or lexer) wins over a later syntax failure.
    pub(crate) fn finish<T>(&mut self, result: PResult<T>) -> Result<T, ParseError> {
        if let Err(Fail::Thrown(e)) = result {
            return Err(*e);
        }
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        result.map_err(|f| self.build(f))
    }

    // ----------------------------------------------------------------------
    // Recursion and speculation
    // ----------------------------------------------------------------------

    /// Enters one nesting level of a recursive rule; every successful call
    /// must be paired with [`Parser::leave`]. (Explicit pairs instead of a
    /// closure keep debug-build stack frames small.)
    pub(crate) fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_NESTING_DEPTH {
            let (line, char_position) = self.here();
            return Err(Fail::Ready(Box::new(ParseError::TooDeep {
                line,
                char_position,
                limit: MAX_NESTING_DEPTH,
            })));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves a nesting level entered with [`Parser::enter`].
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Runs `f` as a syntactic predicate: reports whether it succeeds and
    /// restores the position and bind-marker counter either way.
    pub(crate) fn speculate(&mut self, f: impl FnOnce(&mut Self) -> PResult<()>) -> bool {
        let (pos, markers, depth) = (self.pos, self.markers, self.depth);
        self.speculating += 1;
        let ok = f(self).is_ok();
        self.speculating -= 1;
        self.pos = pos;
        self.markers = markers;
        self.depth = depth;
        ok
    }

    pub(crate) fn new_marker(&mut self, name: Option<Identifier>) -> BindMarker {
        let index = self.markers;
        self.markers += 1;
        BindMarker { index, name }
    }

    // ----------------------------------------------------------------------
    // Identifiers and names
    // ----------------------------------------------------------------------

    /// Builds the identifier of an identifier-like token.
    pub(crate) fn ident_of(&self, tok: &Token) -> Identifier {
        let raw = self.text(tok);
        match tok.kind {
            TokenKind::QuotedName => Identifier::new(quoted_name_value(raw)),
            TokenKind::EmptyQuotedName => Identifier::new(""),
            _ => Identifier::from_unquoted(raw),
        }
    }

    /// `ident` / `noncol_ident` / `fident` / `sident`.
    pub(crate) fn ident(&mut self) -> PResult<Identifier> {
        let tok = self.lt(1);
        if is_ident(tok.kind) {
            self.advance();
            Ok(self.ident_of(&tok))
        } else {
            Err(self.no_viable())
        }
    }

    /// `cident`: an identifier or `""`.
    pub(crate) fn cident(&mut self) -> PResult<Identifier> {
        let tok = self.lt(1);
        if is_cident(tok.kind) {
            self.advance();
            Ok(self.ident_of(&tok))
        } else {
            Err(self.no_viable())
        }
    }

    /// `ksName` / `cfName` / `idxName`: an identifier; a bind marker is a
    /// recognition error.
    fn object_name(&mut self, what: &str) -> PResult<Identifier> {
        if self.at(TokenKind::QMark) {
            self.advance();
            self.recognition_error(format!("Bind variables cannot be used for {what} names"));
            return Ok(Identifier::new("?"));
        }
        self.ident()
    }

    /// `keyspaceName`.
    pub(crate) fn keyspace_name(&mut self) -> PResult<Identifier> {
        self.object_name("keyspace")
    }

    /// `(ksName '.')? name` where `name` is a table (`cfName`) or index name.
    fn qualified(&mut self, what: &str) -> PResult<QualifiedName> {
        let first = self.la(1);
        if (is_ident(first) || first == TokenKind::QMark) && self.la(2) == TokenKind::Dot {
            let keyspace = self.object_name("keyspace")?;
            self.advance();
            let name = self.object_name(what)?;
            return Ok(QualifiedName {
                keyspace: Some(keyspace),
                name,
            });
        }
        let name = self.object_name(what)?;
        Ok(QualifiedName {
            keyspace: None,
            name,
        })
    }

    /// `columnFamilyName`.
    pub(crate) fn table_name(&mut self) -> PResult<QualifiedName> {
        self.qualified("table")
    }

    /// `indexName`.
    pub(crate) fn index_name(&mut self) -> PResult<QualifiedName> {
        self.qualified("index")
    }

    /// `non_type_ident`: a user type name.
    pub(crate) fn non_type_ident(&mut self) -> PResult<Identifier> {
        let tok = self.lt(1);
        match tok.kind {
            TokenKind::Ident => {
                let raw = self.text(&tok);
                if RESERVED_TYPE_NAMES.contains(&raw) {
                    self.recognition_error(format!("Invalid (reserved) user type name {raw}"));
                }
                self.advance();
                Ok(self.ident_of(&tok))
            }
            TokenKind::QuotedName => {
                self.advance();
                Ok(self.ident_of(&tok))
            }
            TokenKind::Keyword(k) if k.is_type_name() => {
                self.advance();
                Ok(self.ident_of(&tok))
            }
            _ => Err(self.no_viable()),
        }
    }

    /// `userTypeName`: `(noncol_ident '.')? non_type_ident`.
    pub(crate) fn user_type_name(&mut self) -> PResult<QualifiedName> {
        if is_ident(self.la(1)) && self.la(2) == TokenKind::Dot {
            let keyspace = self.ident()?;
            self.advance();
            let name = self.non_type_ident()?;
            return Ok(QualifiedName {
                keyspace: Some(keyspace),
                name,
            });
        }
        Ok(QualifiedName::unqualified(self.non_type_ident()?))
    }

    // ----------------------------------------------------------------------
    // Entry points
    // ----------------------------------------------------------------------

    /// `query: cqlStatement (';')* EOF`.
    pub(crate) fn parse_single(&mut self) -> PResult<Statement> {
        let stmt = self.cql_statement()?;
        while self.eat(TokenKind::Semicolon) {}
        self.expect(TokenKind::Eof)?;
        Ok(stmt)
    }

    /// Statements separated by `;` (empty statements are skipped).
    pub(crate) fn parse_many(&mut self) -> PResult<Vec<Statement>> {
        let mut out = Vec::new();
        loop {
            while self.eat(TokenKind::Semicolon) {}
            if self.at(TokenKind::Eof) {
                return Ok(out);
            }
            self.markers = 0;
            out.push(self.cql_statement()?);
            if !self.at(TokenKind::Semicolon) {
                self.expect(TokenKind::Eof)?;
                return Ok(out);
            }
        }
    }

    /// `cqlStatement`.
    fn cql_statement(&mut self) -> PResult<Statement> {
        use Kw::*;
        let TokenKind::Keyword(first) = self.la(1) else {
            return Err(self.no_viable());
        };
        match first {
            Select => Ok(Statement::Select(self.select_statement()?)),
            Insert => Ok(Statement::Insert(self.insert_statement()?)),
            Update => Ok(Statement::Update(self.update_statement()?)),
            Begin => Ok(Statement::Batch(self.batch_statement()?)),
            Delete => Ok(Statement::Delete(self.delete_statement()?)),
            Use => {
                self.advance();
                let keyspace = self.keyspace_name()?;
                Ok(Statement::Use(crate::ast::UseStatement { keyspace }))
            }
            Truncate => {
                self.advance();
                self.eat_kw(ColumnFamily);
                let table = self.table_name()?;
                Ok(Statement::Truncate(crate::ast::TruncateStatement { table }))
            }
            Create => match self.la(2) {
                TokenKind::Keyword(Keyspace | Schema) => {
                    Ok(Statement::CreateKeyspace(self.create_keyspace()?))
                }
                TokenKind::Keyword(ColumnFamily) => {
                    Ok(Statement::CreateTable(self.create_table()?))
                }
                TokenKind::Keyword(Index | Custom) => {
                    Ok(Statement::CreateIndex(self.create_index()?))
                }
                TokenKind::Keyword(Type) => Ok(Statement::CreateType(self.create_type()?)),
                TokenKind::Keyword(Materialized) => {
                    Ok(Statement::CreateMaterializedView(self.create_view()?))
                }
                TokenKind::Keyword(Function) => {
                    Ok(Statement::CreateFunction(self.create_function()?))
                }
                TokenKind::Keyword(Aggregate) => {
                    Ok(Statement::CreateAggregate(self.create_aggregate()?))
                }
                TokenKind::Keyword(Or) => match self.la(4) {
                    TokenKind::Keyword(Aggregate) => {
                        Ok(Statement::CreateAggregate(self.create_aggregate()?))
                    }
                    _ => Ok(Statement::CreateFunction(self.create_function()?)),
                },
                TokenKind::Keyword(User | Role) => {
                    Ok(Statement::AccessControl(self.create_role_or_user()?))
                }
                TokenKind::Keyword(Trigger) => Ok(Statement::CreateTrigger(self.create_trigger()?)),
                _ => Err(self.no_viable_at(2)),
            },
            Alter => match self.la(2) {
                TokenKind::Keyword(Keyspace | Schema) => {
                    Ok(Statement::AlterKeyspace(self.alter_keyspace()?))
                }
                TokenKind::Keyword(ColumnFamily) => Ok(Statement::AlterTable(self.alter_table()?)),
                TokenKind::Keyword(Type) => Ok(Statement::AlterType(self.alter_type()?)),
                TokenKind::Keyword(Materialized) => {
                    Ok(Statement::AlterMaterializedView(self.alter_view()?))
                }
                TokenKind::Keyword(User | Role) => {
                    Ok(Statement::AccessControl(self.alter_role_or_user()?))
                }
                _ => Err(self.no_viable_at(2)),
            },
            Drop => match self.la(2) {
                TokenKind::Keyword(Keyspace | Schema) => {
                    Ok(Statement::DropKeyspace(self.drop_keyspace()?))
                }
                TokenKind::Keyword(ColumnFamily) => Ok(Statement::DropTable(self.drop_table()?)),
                TokenKind::Keyword(Index) => Ok(Statement::DropIndex(self.drop_index()?)),
                TokenKind::Keyword(Type) => Ok(Statement::DropType(self.drop_type()?)),
                TokenKind::Keyword(Materialized) => {
                    Ok(Statement::DropMaterializedView(self.drop_view()?))
                }
                TokenKind::Keyword(Function | Aggregate) => {
                    Ok(Statement::DropFunction(self.drop_function()?))
                }
                TokenKind::Keyword(User | Role) => {
                    Ok(Statement::AccessControl(self.drop_role_or_user()?))
                }
                TokenKind::Keyword(Trigger) => Ok(Statement::DropTrigger(self.drop_trigger()?)),
                TokenKind::Keyword(Identity) => Ok(Statement::AccessControl(self.drop_identity()?)),
                _ => Err(self.no_viable_at(2)),
            },
            Grant => Ok(Statement::AccessControl(self.grant_or_revoke(true)?)),
            Revoke => Ok(Statement::AccessControl(self.grant_or_revoke(false)?)),
            List => Ok(Statement::AccessControl(self.list_statement()?)),
            Describe | Desc => Ok(Statement::Describe(self.describe_statement()?)),
            Add if self.la(2) == TokenKind::Keyword(Identity) => {
                Ok(Statement::AccessControl(self.add_identity()?))
            }
            _ => Err(self.no_viable()),
        }
    }
}

/// Type names reserved for future use (`Parser.g` `reservedTypeNames`).
const RESERVED_TYPE_NAMES: [&str; 7] = [
    "byte",
    "complex",
    "enum",
    "date",
    "interval",
    "macaddr",
    "bitstring",
];

/// ANTLR's position of a token; the EOF token has none (`0:-1`).
fn token_position(tok: &Token) -> (u32, i64) {
    match tok.kind {
        TokenKind::Eof => (0, -1),
        _ => (tok.line, i64::from(tok.col)),
    }
}

fn lex_error_to_parse_error(e: &LexError) -> ParseError {
    let (line, char_position) = (e.line, i64::from(e.col));
    match &e.kind {
        LexErrorKind::NoViableAlt { found } => ParseError::LexerNoViableAlternative {
            line,
            char_position,
            found: char_display(*found),
        },
        LexErrorKind::MismatchedChar { found, expected } => ParseError::LexerMismatchedCharacter {
            line,
            char_position,
            found: char_display(*found),
            expected: char_display(Some(*expected)),
        },
        LexErrorKind::MismatchedSet { found } => ParseError::LexerMismatchedCharacter {
            line,
            char_position,
            found: char_display(*found),
            expected: "set null".to_string(),
        },
    }
}
