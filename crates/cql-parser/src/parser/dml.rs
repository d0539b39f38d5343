//! `INSERT`, `UPDATE`, `DELETE` and `BATCH`.

use super::{is_cident, is_function_name, is_ident, PResult, Parser};
use crate::ast::{
    Assignment, BatchKind, BatchStatement, ComparisonOp, Condition, ConditionOp, ConditionTarget,
    Constant, DeleteStatement, DeleteTarget, Identifier, InsertStatement, InsertValues, JsonValue,
    ModificationStatement, Term, UpdateStatement, UsingAttribute,
};
use crate::token::{Kw, TokenKind};

fn comparison_op(kind: TokenKind) -> Option<ComparisonOp> {
    Some(match kind {
        TokenKind::Eq => ComparisonOp::Eq,
        TokenKind::Lt => ComparisonOp::Lt,
        TokenKind::Lte => ComparisonOp::Lte,
        TokenKind::Gt => ComparisonOp::Gt,
        TokenKind::Gte => ComparisonOp::Gte,
        TokenKind::Neq => ComparisonOp::Neq,
        _ => return None,
    })
}

/// Cassandra's `Operation.RawUpdate.isCompatibleWith`: may `next` follow
/// `prev` on the same column in one `UPDATE`?
fn compatible(prev: &Assignment, next: &Assignment) -> bool {
    let next_is_set = matches!(next, Assignment::Set { .. });
    match prev {
        Assignment::Set { .. } => false,
        Assignment::SetField { field, .. } => match next {
            Assignment::SetField { field: other, .. } => other != field,
            _ => !next_is_set,
        },
        Assignment::SetElement { .. }
        | Assignment::Add { .. }
        | Assignment::Subtract { .. }
        | Assignment::Prepend { .. } => !next_is_set,
    }
}

impl Parser<'_> {
    /// `usingClause`: `USING objective (AND objective)*`.
    fn using_clause(&mut self) -> PResult<Vec<UsingAttribute>> {
        let mut out = Vec::new();
        if !self.eat_kw(Kw::Using) {
            return Ok(out);
        }
        loop {
            match self.la(1) {
                TokenKind::Keyword(Kw::Timestamp) => {
                    self.advance();
                    out.push(UsingAttribute::Timestamp(self.int_value()?));
                }
                TokenKind::Keyword(Kw::Ttl) => {
                    self.advance();
                    out.push(UsingAttribute::Ttl(self.int_value()?));
                }
                _ => return Err(self.no_viable()),
            }
            if !self.eat_kw(Kw::And) {
                return Ok(out);
            }
        }
    }

    /// `insertStatement`.
    pub(crate) fn insert_statement(&mut self) -> PResult<InsertStatement> {
        self.expect_kw(Kw::Insert)?;
        self.expect_kw(Kw::Into)?;
        let table = self.table_name()?;
        let values = match self.la(1) {
            TokenKind::LParen => {
                self.advance();
                let mut columns = vec![self.cident()?];
                while self.eat(TokenKind::Comma) {
                    columns.push(self.cident()?);
                }
                self.expect(TokenKind::RParen)?;
                self.expect_kw(Kw::Values)?;
                self.expect(TokenKind::LParen)?;
                let mut values = vec![self.term()?];
                while self.eat(TokenKind::Comma) {
                    values.push(self.term()?);
                }
                self.expect(TokenKind::RParen)?;
                InsertValues::Values { columns, values }
            }
            TokenKind::Keyword(Kw::Json) => {
                self.advance();
                let tok = self.lt(1);
                let value = match tok.kind {
                    TokenKind::StringLiteral => {
                        self.advance();
                        JsonValue::Literal(super::string_literal_value(self.text(&tok)))
                    }
                    TokenKind::QMark | TokenKind::Colon => JsonValue::Marker(self.marker()?),
                    _ => return Err(self.no_viable()),
                };
                let mut default_unset = false;
                if self.eat_kw(Kw::Default) {
                    match self.la(1) {
                        TokenKind::Keyword(Kw::Null) => {
                            self.advance();
                        }
                        TokenKind::Keyword(Kw::Unset) => {
                            self.advance();
                            default_unset = true;
                        }
                        _ => return Err(self.no_viable()),
                    }
                }
                InsertValues::Json {
                    value,
                    default_unset,
                }
            }
            _ => return Err(self.no_viable()),
        };
        let if_not_exists = if self.eat_kw(Kw::If) {
            self.expect_kw(Kw::Not)?;
            self.expect_kw(Kw::Exists)?;
            true
        } else {
            false
        };
        let using = self.using_clause()?;
        Ok(InsertStatement {
            table,
            values,
            if_not_exists,
            using,
        })
    }

    /// `updateStatement`.
    pub(crate) fn update_statement(&mut self) -> PResult<UpdateStatement> {
        self.expect_kw(Kw::Update)?;
        let table = self.table_name()?;
        let using = self.using_clause()?;
        self.expect_kw(Kw::Set)?;
        let mut assignments: Vec<Assignment> = Vec::new();
        loop {
            let op = self.column_operation()?;
            if let Some(prev) = assignments
                .iter()
                .find(|p| p.column() == op.column() && !compatible(p, &op))
            {
                let msg = format!(
                    "Multiple incompatible setting of column {}",
                    prev.column().as_str()
                );
                self.recognition_error(msg);
            }
            assignments.push(op);
            if !self.eat(TokenKind::Comma) {
                break;
            }
        }
        self.expect_kw(Kw::Where)?;
        let where_clause = self.where_clause()?;
        let (if_exists, conditions) = self.if_clause()?;
        Ok(UpdateStatement {
            table,
            using,
            assignments,
            where_clause,
            if_exists,
            conditions,
        })
    }

    /// `columnOperation`.
    fn column_operation(&mut self) -> PResult<Assignment> {
        let column = self.cident()?;
        match self.la(1) {
            TokenKind::Eq => {
                self.advance();
                self.normal_column_operation(column)
            }
            TokenKind::PlusEq => {
                self.advance();
                Ok(Assignment::Add {
                    column,
                    value: self.term()?,
                })
            }
            TokenKind::MinusEq => {
                self.advance();
                Ok(Assignment::Subtract {
                    column,
                    value: self.term()?,
                })
            }
            TokenKind::LBracket => {
                self.advance();
                let key = self.term()?;
                self.expect(TokenKind::RBracket)?;
                self.expect(TokenKind::Eq)?;
                Ok(Assignment::SetElement {
                    column,
                    key,
                    value: self.term()?,
                })
            }
            TokenKind::Dot => {
                self.advance();
                let field = self.ident()?;
                self.expect(TokenKind::Eq)?;
                Ok(Assignment::SetField {
                    column,
                    field,
                    value: self.term()?,
                })
            }
            _ => Err(self.no_viable()),
        }
    }

    /// `normalColumnOperation` (after `key =`).
    fn normal_column_operation(&mut self, key: Identifier) -> PResult<Assignment> {
        let first = self.la(1);
        let second = self.la(2);
        let term_start = matches!(second, TokenKind::LParen | TokenKind::Dot)
            && (is_function_name(first)
                || is_ident(first)
                || first == TokenKind::Keyword(Kw::Cast));
        if is_cident(first) && !term_start {
            match second {
                TokenKind::Plus | TokenKind::Minus => {
                    let other = self.cident()?;
                    let sign = self.advance();
                    let plus = sign.kind == TokenKind::Plus;
                    let value = self.term()?;
                    if other != key {
                        let sig = if plus { "+" } else { "-" };
                        self.recognition_error(format!(
                            "Only expressions of the form X = X {sig}<value> are supported."
                        ));
                    }
                    return Ok(if plus {
                        Assignment::Add { column: key, value }
                    } else {
                        Assignment::Subtract { column: key, value }
                    });
                }
                TokenKind::Integer => {
                    let other = self.cident()?;
                    let tok = self.advance();
                    let text = self.text(&tok).to_string();
                    if other != key {
                        let sig = if text.starts_with('-') { '-' } else { '+' };
                        self.recognition_error(format!(
                            "Only expressions of the form X = X {sig} <value> are supported."
                        ));
                    }
                    return Ok(Assignment::Add {
                        column: key,
                        value: Term::Constant(Constant::Integer(text)),
                    });
                }
                _ => return Err(self.no_viable_at(2)),
            }
        }
        let value = self.term_before_prepend()?;
        if self.eat(TokenKind::Plus) {
            let other = self.cident()?;
            if other != key {
                self.recognition_error(
                    "Only expressions of the form X = <value> + X are supported.".to_string(),
                );
            }
            return Ok(Assignment::Prepend { column: key, value });
        }
        Ok(Assignment::Set { column: key, value })
    }

    /// `(IF (EXISTS | updateConditions))?`.
    fn if_clause(&mut self) -> PResult<(bool, Vec<Condition>)> {
        if !self.eat_kw(Kw::If) {
            return Ok((false, Vec::new()));
        }
        // `exists` is also a column name: ANTLR decides on the next token, which must either
        // continue a condition or end the statement (alone or in a batch).
        if self.at_kw(Kw::Exists) {
            let next = self.la(2);
            let continues_condition = matches!(
                next,
                TokenKind::Eq
                    | TokenKind::Lt
                    | TokenKind::Lte
                    | TokenKind::Gt
                    | TokenKind::Gte
                    | TokenKind::Neq
                    | TokenKind::LBracket
                    | TokenKind::Dot
                    | TokenKind::Keyword(Kw::In | Kw::Contains)
            );
            let ends_statement = matches!(
                next,
                TokenKind::Eof
                    | TokenKind::Semicolon
                    | TokenKind::Keyword(Kw::Apply | Kw::Insert | Kw::Update | Kw::Delete)
            );
            if ends_statement {
                self.advance();
                return Ok((true, Vec::new()));
            }
            if !continues_condition {
                return Err(self.no_viable_at(2));
            }
        }
        let mut conditions = vec![self.column_condition()?];
        while self.eat_kw(Kw::And) {
            conditions.push(self.column_condition()?);
        }
        Ok((false, conditions))
    }

    /// `relationType term | IN singleColumnInValues` of element and field
    /// conditions.
    fn compare_or_in(&mut self) -> PResult<ConditionOp> {
        if let Some(op) = comparison_op(self.la(1)) {
            self.advance();
            return Ok(ConditionOp::Compare(op, self.term()?));
        }
        if self.eat_kw(Kw::In) {
            return Ok(ConditionOp::In(self.single_column_in_values()?));
        }
        Err(self.no_viable())
    }

    /// `columnCondition`.
    fn column_condition(&mut self) -> PResult<Condition> {
        let column = self.cident()?;
        let kind = self.la(1);
        if comparison_op(kind).is_some() || kind == TokenKind::Keyword(Kw::In) {
            let op = self.compare_or_in()?;
            return Ok(Condition {
                column,
                target: ConditionTarget::Column,
                op,
            });
        }
        match kind {
            TokenKind::Keyword(Kw::Contains) => {
                self.advance();
                let key = self.at_kw(Kw::Key) && self.la(2) != TokenKind::Dot;
                if key {
                    self.advance();
                }
                let value = self.term()?;
                let op = if key {
                    ConditionOp::ContainsKey(value)
                } else {
                    ConditionOp::Contains(value)
                };
                Ok(Condition {
                    column,
                    target: ConditionTarget::Column,
                    op,
                })
            }
            TokenKind::LBracket => {
                self.advance();
                let element = self.term()?;
                self.expect(TokenKind::RBracket)?;
                let op = self.compare_or_in()?;
                Ok(Condition {
                    column,
                    target: ConditionTarget::Element(element),
                    op,
                })
            }
            TokenKind::Dot => {
                self.advance();
                let field = self.ident()?;
                let op = self.compare_or_in()?;
                Ok(Condition {
                    column,
                    target: ConditionTarget::Field(field),
                    op,
                })
            }
            _ => Err(self.no_viable()),
        }
    }

    /// `deleteStatement`.
    pub(crate) fn delete_statement(&mut self) -> PResult<DeleteStatement> {
        self.expect_kw(Kw::Delete)?;
        let mut targets = Vec::new();
        if is_cident(self.la(1)) {
            targets.push(self.delete_op()?);
            while self.eat(TokenKind::Comma) {
                targets.push(self.delete_op()?);
            }
        }
        self.expect_kw(Kw::From)?;
        let table = self.table_name()?;
        let timestamp = if self.eat_kw(Kw::Using) {
            self.expect_kw(Kw::Timestamp)?;
            Some(self.int_value()?)
        } else {
            None
        };
        self.expect_kw(Kw::Where)?;
        let where_clause = self.where_clause()?;
        let (if_exists, conditions) = self.if_clause()?;
        Ok(DeleteStatement {
            targets,
            table,
            timestamp,
            where_clause,
            if_exists,
            conditions,
        })
    }

    /// `deleteOp`: `c | c[term] | c.field`.
    fn delete_op(&mut self) -> PResult<DeleteTarget> {
        if !is_cident(self.la(1)) {
            return Err(self.no_viable());
        }
        match self.la(2) {
            TokenKind::LBracket => {
                let column = self.cident()?;
                self.advance();
                let key = self.term()?;
                self.expect(TokenKind::RBracket)?;
                Ok(DeleteTarget::Element { column, key })
            }
            TokenKind::Dot => {
                let column = self.cident()?;
                self.advance();
                let field = self.ident()?;
                Ok(DeleteTarget::Field { column, field })
            }
            TokenKind::Comma | TokenKind::Keyword(Kw::From) => {
                Ok(DeleteTarget::Column(self.cident()?))
            }
            _ => Err(self.no_viable_at(2)),
        }
    }

    /// `batchStatement`.
    pub(crate) fn batch_statement(&mut self) -> PResult<BatchStatement> {
        self.expect_kw(Kw::Begin)?;
        let kind = if self.eat_kw(Kw::Unlogged) {
            BatchKind::Unlogged
        } else if self.eat_kw(Kw::Counter) {
            BatchKind::Counter
        } else {
            BatchKind::Logged
        };
        self.expect_kw(Kw::Batch)?;
        let using = self.using_clause()?;
        let mut statements = Vec::new();
        loop {
            let child = match self.la(1) {
                TokenKind::Keyword(Kw::Insert) => {
                    ModificationStatement::Insert(self.insert_statement()?)
                }
                TokenKind::Keyword(Kw::Update) => {
                    ModificationStatement::Update(self.update_statement()?)
                }
                TokenKind::Keyword(Kw::Delete) => {
                    ModificationStatement::Delete(self.delete_statement()?)
                }
                _ => break,
            };
            statements.push(child);
            self.eat(TokenKind::Semicolon);
        }
        self.expect_kw(Kw::Apply)?;
        self.expect_kw(Kw::Batch)?;
        Ok(BatchStatement {
            kind,
            using,
            statements,
        })
    }
}
