//! The server-side `DESCRIBE` statement (`describeStatement` in `Parser.g`).
//!
//! Several describe keywords (`CLUSTER`, `KEYSPACES`, `TABLES`, `TYPES`, `FUNCTIONS`,
//! `AGGREGATES`, `ONLY`, `TYPE`, `FUNCTION`, `AGGREGATE`) are unreserved, so they are also
//! valid names for the generic `DESCRIBE [ks.]name` form. Like ANTLR's prediction, the
//! choice looks at the next token: a keyword followed by `.` starts a qualified generic
//! name; `TYPE` / `FUNCTION` / `AGGREGATE` introduce their element form only when a name
//! follows, and `ONLY` only when `KEYSPACE` follows. Otherwise the keyword alternative wins
//! (it comes first in the grammar).

use super::{is_function_name, is_ident, PResult, Parser};
use crate::ast::{DescribeStatement, DescribeTarget, QualifiedName};
use crate::token::{Kw, TokenKind};

impl Parser<'_> {
    /// `describeStatement`: `(DESCRIBE | DESC) target (WITH INTERNALS)?`.
    pub(crate) fn describe_statement(&mut self) -> PResult<DescribeStatement> {
        if !self.eat_kw(Kw::Describe) {
            self.expect_kw(Kw::Desc)?;
        }
        let target = self.describe_target()?;
        let with_internals = if self.eat_kw(Kw::With) {
            self.expect_kw(Kw::Internals)?;
            true
        } else {
            false
        };
        Ok(DescribeStatement {
            target,
            with_internals,
        })
    }

    fn describe_target(&mut self) -> PResult<DescribeTarget> {
        let TokenKind::Keyword(kw) = self.la(1) else {
            return self.describe_generic();
        };
        let next = self.la(2);
        let dotted = next == TokenKind::Dot;
        let target = match kw {
            Kw::Cluster if !dotted => {
                self.advance();
                DescribeTarget::Cluster
            }
            Kw::Full => {
                self.advance();
                self.expect_kw(Kw::Schema)?;
                DescribeTarget::Schema { full: true }
            }
            Kw::Schema => {
                self.advance();
                DescribeTarget::Schema { full: false }
            }
            Kw::Keyspaces if !dotted => {
                self.advance();
                DescribeTarget::Keyspaces
            }
            Kw::Only if next == TokenKind::Keyword(Kw::Keyspace) => {
                self.advance();
                return self.describe_keyspace(true);
            }
            Kw::Keyspace => return self.describe_keyspace(false),
            Kw::Tables if !dotted => {
                self.advance();
                DescribeTarget::Tables
            }
            Kw::ColumnFamily => {
                self.advance();
                DescribeTarget::Table(self.table_name()?)
            }
            // `K_INDEX idx=columnFamilyName`.
            Kw::Index => {
                self.advance();
                DescribeTarget::Index(self.table_name()?)
            }
            Kw::Materialized => {
                self.advance();
                self.expect_kw(Kw::View)?;
                DescribeTarget::MaterializedView(self.table_name()?)
            }
            Kw::Types if !dotted => {
                self.advance();
                DescribeTarget::Types
            }
            Kw::Type if is_ident(next) => {
                self.advance();
                DescribeTarget::Type(self.user_type_name()?)
            }
            Kw::Functions if !dotted => {
                self.advance();
                DescribeTarget::Functions
            }
            Kw::Function if starts_function_name(next) => {
                self.advance();
                DescribeTarget::Function(self.function_name()?)
            }
            Kw::Aggregates if !dotted => {
                self.advance();
                DescribeTarget::Aggregates
            }
            Kw::Aggregate if starts_function_name(next) => {
                self.advance();
                DescribeTarget::Aggregate(self.function_name()?)
            }
            _ => return self.describe_generic(),
        };
        Ok(target)
    }

    /// `K_KEYSPACE (keyspaceName)?` (the `ONLY` already consumed).
    fn describe_keyspace(&mut self, only: bool) -> PResult<DescribeTarget> {
        self.expect_kw(Kw::Keyspace)?;
        let first = self.la(1);
        let name = if is_ident(first) || first == TokenKind::QMark {
            Some(self.keyspace_name()?)
        } else {
            None
        };
        Ok(DescribeTarget::Keyspace { only, name })
    }

    /// The generic `((IDENT | QUOTED_NAME | unreserved_keyword) '.')? (IDENT | QUOTED_NAME |
    /// unreserved_keyword)`.
    fn describe_generic(&mut self) -> PResult<DescribeTarget> {
        let first = self.ident()?;
        if self.eat(TokenKind::Dot) {
            let name = self.ident()?;
            return Ok(DescribeTarget::Generic(QualifiedName {
                keyspace: Some(first),
                name,
            }));
        }
        Ok(DescribeTarget::Generic(QualifiedName::unqualified(first)))
    }
}

/// Whether `kind` can start a `functionName` (`(keyspaceName '.')? allowedFunctionName`).
fn starts_function_name(kind: TokenKind) -> bool {
    is_function_name(kind) || is_ident(kind) || kind == TokenKind::QMark
}
