//! `SELECT`, selectors and `WHERE` clauses.

use super::terms::{binding_power, can_start_simple_term};
use super::{is_cident, is_constant, is_function_name, is_ident, PResult, Parser};
use crate::ast::{
    ComparisonOp, InValues, Order, Ordering, QualifiedName, Relation, SelectItem, SelectStatement,
    Selection, Selector, Term, WritetimeKind,
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

/// Whether a token can start a `selectionGroupWithoutField`.
fn can_start_selection_group(kind: TokenKind) -> bool {
    is_ident(kind)
        || is_function_name(kind)
        || is_constant(kind)
        || matches!(
            kind,
            TokenKind::Keyword(Kw::Null | Kw::Token)
                | TokenKind::QMark
                | TokenKind::Colon
                | TokenKind::LParen
                | TokenKind::LBracket
                | TokenKind::LBrace
        )
}

/// Tokens that may follow a column selector anywhere in the grammar (selection lists,
/// `GROUP BY`, function arguments, collection and tuple selectors, `CAST`, arithmetic and
/// field or element modifiers): ANTLR predicts the column alternative only on one of these.
fn can_follow_column_selector(kind: TokenKind) -> bool {
    binding_power(kind).is_some()
        || matches!(
            kind,
            TokenKind::Comma
                | TokenKind::RParen
                | TokenKind::RBracket
                | TokenKind::RBrace
                | TokenKind::Colon
                | TokenKind::Dot
                | TokenKind::LBracket
                | TokenKind::LParen
                | TokenKind::Semicolon
                | TokenKind::Eof
                | TokenKind::Keyword(
                    Kw::From | Kw::As | Kw::Order | Kw::Per | Kw::Limit | Kw::Allow
                )
        )
}

/// Whether the upcoming tokens start a `selectionGroupWithoutField`.
fn at_selection_group_start(p: &mut Parser<'_>) -> bool {
    match p.la(1) {
        TokenKind::Colon => {
            is_ident(p.la(2)) && !matches!(p.la(3), TokenKind::LParen | TokenKind::Dot)
        }
        kind => can_start_selection_group(kind),
    }
}

impl Parser<'_> {
    /// `selectStatement`.
    pub(crate) fn select_statement(&mut self) -> PResult<SelectStatement> {
        self.expect_kw(Kw::Select)?;
        // `json` is also a valid column name: `(K_JSON selectClause)=>`.
        let json = self.at_kw(Kw::Json)
            && self.speculate(|p| {
                p.advance();
                p.select_clause().map(|_| ())
            });
        if json {
            self.advance();
        }
        let (distinct, selection) = self.select_clause()?;
        self.expect_kw(Kw::From)?;
        let table = self.table_name()?;
        let where_clause = if self.eat_kw(Kw::Where) {
            self.where_clause()?
        } else {
            Vec::new()
        };
        let mut group_by = Vec::new();
        if self.eat_kw(Kw::Group) {
            self.expect_kw(Kw::By)?;
            group_by.push(self.unaliased_selector()?);
            while self.eat(TokenKind::Comma) {
                group_by.push(self.unaliased_selector()?);
            }
        }
        let mut order_by = Vec::new();
        if self.eat_kw(Kw::Order) {
            self.expect_kw(Kw::By)?;
            order_by.push(self.ordering()?);
            while self.eat(TokenKind::Comma) {
                order_by.push(self.ordering()?);
            }
        }
        let mut per_partition_limit = None;
        if self.eat_kw(Kw::Per) {
            self.expect_kw(Kw::Partition)?;
            self.expect_kw(Kw::Limit)?;
            per_partition_limit = Some(self.int_value()?);
        }
        let limit = if self.eat_kw(Kw::Limit) {
            Some(self.int_value()?)
        } else {
            None
        };
        let allow_filtering = if self.eat_kw(Kw::Allow) {
            self.expect_kw(Kw::Filtering)?;
            true
        } else {
            false
        };
        Ok(SelectStatement {
            json,
            distinct,
            selection,
            table,
            where_clause,
            group_by,
            order_by,
            per_partition_limit,
            limit,
            allow_filtering,
        })
    }

    /// `selectClause`: `(K_DISTINCT selectors)=> K_DISTINCT selectors | selectors`.
    fn select_clause(&mut self) -> PResult<(bool, Selection)> {
        let distinct = self.at_kw(Kw::Distinct)
            && self.speculate(|p| {
                p.advance();
                p.selectors().map(|_| ())
            });
        if distinct {
            self.advance();
        }
        Ok((distinct, self.selectors()?))
    }

    /// `selectors`: `selector (',' selector)* | '*'`.
    pub(crate) fn selectors(&mut self) -> PResult<Selection> {
        if self.eat(TokenKind::Star) {
            return Ok(Selection::Wildcard);
        }
        let mut items = vec![self.select_item()?];
        while self.eat(TokenKind::Comma) {
            items.push(self.select_item()?);
        }
        Ok(Selection::Items(items))
    }

    fn select_item(&mut self) -> PResult<SelectItem> {
        let selector = self.unaliased_selector()?;
        let alias = if self.eat_kw(Kw::As) {
            Some(self.ident()?)
        } else {
            None
        };
        Ok(SelectItem { selector, alias })
    }

    /// `unaliasedSelector`: arithmetic over selection groups.
    pub(crate) fn unaliased_selector(&mut self) -> PResult<Selector> {
        self.selector_bp(0)
    }

    /// Pratt loop; operators count against the nesting limit (see
    /// `term_bp`).
    fn selector_bp(&mut self, min_bp: u8) -> PResult<Selector> {
        let depth = self.depth;
        let result = self.selector_bp_inner(min_bp);
        self.depth = depth;
        result
    }

    fn selector_bp_inner(&mut self, min_bp: u8) -> PResult<Selector> {
        let mut lhs = self.selection_group()?;
        while let Some((op, lbp, rbp)) = binding_power(self.la(1)) {
            if lbp < min_bp {
                break;
            }
            self.enter()?;
            self.advance();
            let rhs = self.selector_bp(rbp)?;
            lhs = Selector::Binary {
                op,
                left: Box::new(lhs),
                right: Box::new(rhs),
            };
        }
        Ok(lhs)
    }

    /// `selectionGroup`: negation, or a group with field/element modifiers.
    fn selection_group(&mut self) -> PResult<Selector> {
        if self.at(TokenKind::Minus) {
            self.enter()?;
            self.advance();
            let result = self
                .selection_group()
                .map(|s| Selector::Negate(Box::new(s)));
            self.leave();
            return result;
        }
        let base = self.selection_group_without_field()?;
        self.selector_modifiers(base)
    }

    /// `selectorModifier`: `.field` and `[element]` / `[from..to]` chains.
    fn selector_modifiers(&mut self, mut s: Selector) -> PResult<Selector> {
        loop {
            if self.eat(TokenKind::Dot) {
                let field = self.ident()?;
                s = Selector::Field {
                    selector: Box::new(s),
                    field,
                };
            } else if self.eat(TokenKind::LBracket) {
                s = self.collection_sub_selection(s)?;
                self.expect(TokenKind::RBracket)?;
            } else {
                return Ok(s);
            }
        }
    }

    /// `collectionSubSelection` (after `[`).
    fn collection_sub_selection(&mut self, s: Selector) -> PResult<Selector> {
        if self.eat(TokenKind::Range) {
            let to = self.term()?;
            return Ok(Selector::Slice {
                selector: Box::new(s),
                from: None,
                to: Some(to),
            });
        }
        let from = self.term()?;
        if !self.eat(TokenKind::Range) {
            return Ok(Selector::Element {
                selector: Box::new(s),
                element: from,
            });
        }
        let k = self.la(1);
        let to = if can_start_simple_term(k) || k == TokenKind::Minus {
            Some(self.term()?)
        } else {
            None
        };
        Ok(Selector::Slice {
            selector: Box::new(s),
            from: Some(from),
            to,
        })
    }

    /// `selectionGroupWithoutField`.
    fn selection_group_without_field(&mut self) -> PResult<Selector> {
        self.enter()?;
        let result = match self.la(1) {
            TokenKind::LParen => {
                if self.looks_like_selection_type_hint() {
                    self.selection_type_hint()
                } else {
                    self.selection_tuple()
                }
            }
            TokenKind::LBracket => self.selection_list(),
            TokenKind::LBrace => self.selection_map_or_set(),
            _ => self.simple_unaliased_selector(),
        };
        self.leave();
        result
    }

    /// The `(selectionTypeHint)=>` predicate. Like ANTLR it parses the whole
    /// hinted group; hint checks nested inside that speculation look at the
    /// tokens after `)` only, which keeps the cost linear (times the nesting
    /// limit) instead of exponential in the number of nested hints. Those
    /// tokens must start a selection group, and a `[` must not hold a range
    /// at its top level: `[0..]` is no list, so in `(int) (a)[0..]` the `(a)`
    /// is a nested selector with a slice modifier, not a hint of type `a`
    /// (as ANTLR's full predicate finds).
    fn looks_like_selection_type_hint(&mut self) -> bool {
        if self.hint_speculation > 0 {
            return self.looks_like_type_hint(|p| {
                at_selection_group_start(p)
                    && !(p.la(1) == TokenKind::LBracket && p.bracket_holds_range())
            });
        }
        self.hint_speculation += 1;
        let ok = self.speculate(|p| {
            p.advance();
            p.comparator_type()?;
            p.expect(TokenKind::RParen)?;
            p.selection_group_without_field().map(|_| ())
        });
        self.hint_speculation -= 1;
        ok
    }

    /// Whether the `[` at the current token holds a `..` outside nested brackets,
    /// parentheses and braces (scanning to its closing `]`).
    fn bracket_holds_range(&mut self) -> bool {
        let mut depth = 0usize;
        let mut k = 1;
        loop {
            match self.la(k) {
                TokenKind::LBracket | TokenKind::LParen | TokenKind::LBrace => depth += 1,
                TokenKind::RBracket | TokenKind::RParen | TokenKind::RBrace => {
                    depth -= 1;
                    if depth == 0 {
                        return false;
                    }
                }
                TokenKind::Range if depth == 1 => return true,
                TokenKind::Eof => return false,
                _ => {}
            }
            k += 1;
        }
    }

    /// `'(' comparatorType ')' selectionGroupWithoutField`.
    fn selection_type_hint(&mut self) -> PResult<Selector> {
        self.expect(TokenKind::LParen)?;
        let ty = self.comparator_type()?;
        self.expect(TokenKind::RParen)?;
        let selector = self.selection_group_without_field()?;
        Ok(Selector::TypeHint {
            ty,
            selector: Box::new(selector),
        })
    }

    /// Comma-separated selectors up to (not including) `close`.
    fn selector_list(&mut self, close: TokenKind, allow_empty: bool) -> PResult<Vec<Selector>> {
        let mut items = Vec::new();
        if allow_empty && self.at(close) {
            return Ok(items);
        }
        items.push(self.unaliased_selector()?);
        while self.eat(TokenKind::Comma) {
            items.push(self.unaliased_selector()?);
        }
        Ok(items)
    }

    /// `selectionTupleOrNestedSelector`.
    fn selection_tuple(&mut self) -> PResult<Selector> {
        self.expect(TokenKind::LParen)?;
        let items = self.selector_list(TokenKind::RParen, false)?;
        self.expect(TokenKind::RParen)?;
        Ok(Selector::Tuple(items))
    }

    /// `selectionList`.
    fn selection_list(&mut self) -> PResult<Selector> {
        self.expect(TokenKind::LBracket)?;
        let items = self.selector_list(TokenKind::RBracket, true)?;
        self.expect(TokenKind::RBracket)?;
        Ok(Selector::List(items))
    }

    /// `selectionMapOrSet`.
    fn selection_map_or_set(&mut self) -> PResult<Selector> {
        self.expect(TokenKind::LBrace)?;
        if self.eat(TokenKind::RBrace) {
            return Ok(Selector::Set(Vec::new()));
        }
        let first = self.unaliased_selector()?;
        let result = if self.eat(TokenKind::Colon) {
            let mut entries = vec![(first, self.unaliased_selector()?)];
            while self.eat(TokenKind::Comma) {
                let k = self.unaliased_selector()?;
                self.expect(TokenKind::Colon)?;
                entries.push((k, self.unaliased_selector()?));
            }
            Selector::MapOrUdt(entries)
        } else {
            let mut items = vec![first];
            while self.eat(TokenKind::Comma) {
                items.push(self.unaliased_selector()?);
            }
            Selector::Set(items)
        };
        self.expect(TokenKind::RBrace)?;
        Ok(result)
    }

    /// `simpleUnaliasedSelector`: column, literal or function selection.
    fn simple_unaliased_selector(&mut self) -> PResult<Selector> {
        let kind = self.la(1);
        // ANTLR's prediction looks past the first token only when that token can start a
        // column or function selection: otherwise it fails without fetching more.
        let named = is_ident(kind)
            || is_function_name(kind)
            || matches!(
                kind,
                TokenKind::Keyword(
                    Kw::Count | Kw::Writetime | Kw::Maxwritetime | Kw::Ttl | Kw::Cast
                )
            );
        if !named {
            return self.literal_selector();
        }
        let paren_next = self.la(2) == TokenKind::LParen;
        match kind {
            TokenKind::Keyword(Kw::Count) if paren_next && self.la(3) == TokenKind::Star => {
                return self.count_rows();
            }
            TokenKind::Keyword(k @ (Kw::Writetime | Kw::Maxwritetime | Kw::Ttl)) if paren_next => {
                return self.writetime_selector(k);
            }
            TokenKind::Keyword(Kw::Cast) if paren_next => return self.cast_selector(),
            _ => {}
        }
        let qualified_fn = is_ident(kind)
            && self.la(2) == TokenKind::Dot
            && is_function_name(self.la(3))
            && self.la(4) == TokenKind::LParen;
        if (is_function_name(kind) && paren_next) || qualified_fn {
            return self.function_selector();
        }
        if is_ident(kind) {
            // The column alternative is predicted on the token after the name, which must
            // be one that can follow a selector somewhere in the grammar.
            if !can_follow_column_selector(self.la(2)) {
                return Err(self.no_viable_at(2));
            }
            return Ok(Selector::Column(self.ident()?));
        }
        self.literal_selector()
    }

    /// `count(*)`.
    fn count_rows(&mut self) -> PResult<Selector> {
        self.expect_kw(Kw::Count)?;
        self.expect(TokenKind::LParen)?;
        self.expect(TokenKind::Star)?;
        self.expect(TokenKind::RParen)?;
        Ok(Selector::CountRows)
    }

    /// `writetime(c...)`, `maxwritetime(c...)`, `ttl(c...)`.
    fn writetime_selector(&mut self, kw: Kw) -> PResult<Selector> {
        self.advance();
        self.expect(TokenKind::LParen)?;
        let column = self.ident()?;
        let target = self.selector_modifiers(Selector::Column(column))?;
        self.expect(TokenKind::RParen)?;
        let kind = match kw {
            Kw::Writetime => WritetimeKind::Writetime,
            Kw::Maxwritetime => WritetimeKind::MaxWritetime,
            _ => WritetimeKind::Ttl,
        };
        Ok(Selector::Writetime {
            kind,
            target: Box::new(target),
        })
    }

    /// `CAST(selector AS native_type)`.
    fn cast_selector(&mut self) -> PResult<Selector> {
        self.expect_kw(Kw::Cast)?;
        self.expect(TokenKind::LParen)?;
        let selector = self.unaliased_selector()?;
        self.expect_kw(Kw::As)?;
        let ty = self.native_type()?;
        self.expect(TokenKind::RParen)?;
        Ok(Selector::Cast {
            selector: Box::new(selector),
            ty,
        })
    }

    /// `functionName selectionFunctionArgs`.
    fn function_selector(&mut self) -> PResult<Selector> {
        let name = self.function_name()?;
        self.expect(TokenKind::LParen)?;
        let args = self.selector_list(TokenKind::RParen, true)?;
        self.expect(TokenKind::RParen)?;
        Ok(Selector::Function { name, args })
    }

    /// `selectionLiteral`: constant, `NULL` or bind marker.
    fn literal_selector(&mut self) -> PResult<Selector> {
        match self.la(1) {
            k if is_constant(k) => Ok(Selector::Term(Term::Constant(self.constant()?))),
            TokenKind::Keyword(Kw::Null) => {
                self.advance();
                Ok(Selector::Term(Term::Null))
            }
            TokenKind::QMark | TokenKind::Colon => {
                Ok(Selector::Term(Term::BindMarker(self.marker()?)))
            }
            _ => Err(self.no_viable()),
        }
    }

    /// `orderByClause`.
    fn ordering(&mut self) -> PResult<Ordering> {
        let column = self.cident()?;
        let ann_of = if self.eat_kw(Kw::Ann) {
            self.expect_kw(Kw::Of)?;
            Some(self.term()?)
        } else {
            None
        };
        let order = if self.eat_kw(Kw::Asc) {
            Some(Order::Asc)
        } else if self.eat_kw(Kw::Desc) {
            Some(Order::Desc)
        } else {
            None
        };
        Ok(Ordering {
            column,
            ann_of,
            order,
        })
    }

    /// `whereClause`: relations joined by `AND`.
    pub(crate) fn where_clause(&mut self) -> PResult<Vec<Relation>> {
        let mut out = vec![self.relation_or_expression()?];
        while self.eat_kw(Kw::And) {
            out.push(self.relation_or_expression()?);
        }
        Ok(out)
    }

    fn relation_or_expression(&mut self) -> PResult<Relation> {
        if self.eat(TokenKind::ExprParen) {
            let name = self.object_name("index")?;
            self.expect(TokenKind::Comma)?;
            let value = self.term()?;
            self.expect(TokenKind::RParen)?;
            return Ok(Relation::CustomIndex {
                index: QualifiedName::unqualified(name),
                value,
            });
        }
        self.relation()
    }

    /// `relation`.
    fn relation(&mut self) -> PResult<Relation> {
        self.enter()?;
        let result = self.relation_inner();
        self.leave();
        result
    }

    fn relation_inner(&mut self) -> PResult<Relation> {
        let kind = self.la(1);
        match kind {
            TokenKind::Keyword(Kw::Token) => {
                self.advance();
                let columns = self.tuple_of_identifiers()?;
                let op = self.comparison_op()?;
                let value = self.term()?;
                Ok(Relation::Token { columns, op, value })
            }
            TokenKind::LParen => {
                if is_cident(self.la(2))
                    && matches!(self.la(3), TokenKind::Comma | TokenKind::RParen)
                {
                    self.multi_column_relation()
                } else {
                    self.advance();
                    let inner = self.relation()?;
                    self.expect(TokenKind::RParen)?;
                    Ok(inner)
                }
            }
            k if is_cident(k) => {
                let decision = self.pos;
                let column = self.cident()?;
                if self.eat(TokenKind::LBracket) {
                    let key = self.term()?;
                    self.expect(TokenKind::RBracket)?;
                    let op = self.comparison_op()?;
                    let value = self.term()?;
                    return Ok(Relation::MapElement {
                        column,
                        key,
                        op,
                        value,
                    });
                }
                self.single_column_relation(column, decision)
            }
            _ => Err(self.no_viable()),
        }
    }

    fn comparison_op(&mut self) -> PResult<ComparisonOp> {
        match comparison_op(self.la(1)) {
            Some(op) => {
                self.advance();
                Ok(op)
            }
            None => Err(self.no_viable()),
        }
    }

    fn single_column_relation(
        &mut self,
        column: crate::ast::Identifier,
        decision: usize,
    ) -> PResult<Relation> {
        let kind = self.la(1);
        if let Some(op) = comparison_op(kind) {
            self.advance();
            let value = self.term()?;
            return Ok(Relation::Compare { column, op, value });
        }
        match kind {
            TokenKind::Keyword(Kw::Like) => {
                self.advance();
                let value = self.term()?;
                Ok(Relation::Like { column, value })
            }
            TokenKind::Keyword(Kw::Is) => {
                self.advance();
                self.expect_kw(Kw::Not)?;
                self.expect_kw(Kw::Null)?;
                Ok(Relation::IsNotNull { column })
            }
            TokenKind::Keyword(Kw::In) => {
                self.advance();
                let values = self.single_column_in_values()?;
                Ok(Relation::In { column, values })
            }
            TokenKind::Keyword(Kw::Contains) => {
                self.advance();
                let key = self.at_kw(Kw::Key) && self.la(2) != TokenKind::Dot;
                if key {
                    self.advance();
                }
                let value = self.term()?;
                Ok(Relation::Contains { column, key, value })
            }
            _ => Err(self.no_viable_from(decision)),
        }
    }

    /// `singleColumnInValues`: `'(' terms? ')' | inMarker`.
    pub(crate) fn single_column_in_values(&mut self) -> PResult<InValues> {
        match self.la(1) {
            TokenKind::LParen => {
                self.advance();
                let mut items = Vec::new();
                if !self.at(TokenKind::RParen) {
                    items.push(self.term()?);
                    while self.eat(TokenKind::Comma) {
                        items.push(self.term()?);
                    }
                }
                self.expect(TokenKind::RParen)?;
                Ok(InValues::Terms(items))
            }
            TokenKind::QMark | TokenKind::Colon => Ok(InValues::Marker(self.marker()?)),
            _ => Err(self.no_viable()),
        }
    }

    /// `tupleOfIdentifiers`.
    fn tuple_of_identifiers(&mut self) -> PResult<Vec<crate::ast::Identifier>> {
        self.expect(TokenKind::LParen)?;
        let mut ids = vec![self.cident()?];
        while self.eat(TokenKind::Comma) {
            ids.push(self.cident()?);
        }
        self.expect(TokenKind::RParen)?;
        Ok(ids)
    }

    fn multi_column_relation(&mut self) -> PResult<Relation> {
        let columns = self.tuple_of_identifiers()?;
        if self.eat_kw(Kw::In) {
            let values = match self.la(1) {
                TokenKind::LParen => match self.la(2) {
                    TokenKind::RParen => {
                        self.advance();
                        self.advance();
                        InValues::Terms(Vec::new())
                    }
                    TokenKind::LParen => {
                        self.advance();
                        let mut items = vec![self.tuple_literal()?];
                        while self.eat(TokenKind::Comma) {
                            items.push(self.tuple_literal()?);
                        }
                        self.expect(TokenKind::RParen)?;
                        InValues::Terms(items)
                    }
                    TokenKind::QMark | TokenKind::Colon => {
                        self.advance();
                        let mut items = vec![Term::BindMarker(self.marker()?)];
                        while self.eat(TokenKind::Comma) {
                            items.push(Term::BindMarker(self.marker()?));
                        }
                        self.expect(TokenKind::RParen)?;
                        InValues::Terms(items)
                    }
                    _ => return Err(self.no_viable_at(2)),
                },
                TokenKind::QMark | TokenKind::Colon => InValues::Marker(self.marker()?),
                _ => return Err(self.no_viable()),
            };
            return Ok(Relation::MultiColumnIn { columns, values });
        }
        if let Some(op) = comparison_op(self.la(1)) {
            self.advance();
            let value = match self.la(1) {
                TokenKind::LParen => self.tuple_literal()?,
                TokenKind::QMark | TokenKind::Colon => Term::BindMarker(self.marker()?),
                _ => return Err(self.no_viable()),
            };
            return Ok(Relation::MultiColumnCompare { columns, op, value });
        }
        Err(self.no_viable())
    }
}
