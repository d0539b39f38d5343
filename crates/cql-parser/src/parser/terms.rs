//! Terms (Pratt-parsed arithmetic over `simpleTerm`), constants, bind
//! markers, types and `WITH` properties.

use super::{is_constant, is_function_name, is_ident, string_literal_value, Fail, PResult, Parser};
use crate::ast::{
    ArithmeticOp, BindMarker, Constant, CqlType, FunctionName, Identifier, NativeType, Property,
    PropertyValue, Term,
};
use crate::error::ParseError;
use crate::token::{Kw, TokenKind};

/// Binding powers (left, right) of arithmetic operators.
pub(crate) fn binding_power(kind: TokenKind) -> Option<(ArithmeticOp, u8, u8)> {
    Some(match kind {
        TokenKind::Plus => (ArithmeticOp::Add, 1, 2),
        TokenKind::Minus => (ArithmeticOp::Sub, 1, 2),
        TokenKind::Star => (ArithmeticOp::Mul, 3, 4),
        TokenKind::Slash => (ArithmeticOp::Div, 3, 4),
        TokenKind::Percent => (ArithmeticOp::Mod, 3, 4),
        _ => return None,
    })
}

/// Tokens that may follow a `comparatorType` anywhere in the grammar; used to
/// reproduce ANTLR's two-token decision on keyword type names.
fn can_follow_type(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::Comma
            | TokenKind::Gt
            | TokenKind::RParen
            | TokenKind::Semicolon
            | TokenKind::Eof
            | TokenKind::Keyword(
                Kw::Static | Kw::Masked | Kw::Primary | Kw::Language | Kw::Finalfunc | Kw::Initcond
            )
    )
}

/// Whether a token can start a `simpleTerm`.
pub(crate) fn can_start_simple_term(kind: TokenKind) -> bool {
    is_constant(kind)
        || is_function_name(kind)
        || is_ident(kind)
        || matches!(
            kind,
            TokenKind::Keyword(Kw::Null | Kw::Token | Kw::Count)
                | TokenKind::QMark
                | TokenKind::Colon
                | TokenKind::LBracket
                | TokenKind::LBrace
                | TokenKind::LParen
        )
}

/// Whether the upcoming tokens start a `simpleTerm` (identifiers only as
/// function calls, which need `(` or a `ks.` qualifier next).
fn at_simple_term_start(p: &mut Parser<'_>) -> bool {
    let kind = p.la(1);
    if is_constant(kind)
        || matches!(
            kind,
            TokenKind::Keyword(Kw::Null)
                | TokenKind::QMark
                | TokenKind::LBracket
                | TokenKind::LBrace
                | TokenKind::LParen
        )
    {
        return true;
    }
    let next = p.la(2);
    if kind == TokenKind::Colon {
        // A named marker; `: f(` / `: ks.` is a map value after a key.
        return is_ident(next) && !matches!(p.la(3), TokenKind::LParen | TokenKind::Dot);
    }
    (next == TokenKind::LParen && (is_function_name(kind) || kind == TokenKind::Keyword(Kw::Cast)))
        || (next == TokenKind::Dot && is_ident(kind))
}

impl Parser<'_> {
    /// `constant`.
    pub(crate) fn constant(&mut self) -> PResult<Constant> {
        let tok = self.lt(1);
        let raw = self.text(&tok);
        let c = match tok.kind {
            TokenKind::StringLiteral => Constant::String(string_literal_value(raw)),
            TokenKind::Integer => Constant::Integer(raw.to_string()),
            TokenKind::Float => Constant::Float(raw.to_string()),
            TokenKind::Boolean => Constant::Boolean(raw.eq_ignore_ascii_case("true")),
            TokenKind::Duration => Constant::Duration(raw.to_string()),
            TokenKind::Uuid => Constant::Uuid(raw.to_string()),
            TokenKind::HexNumber => Constant::Hex(raw.to_string()),
            TokenKind::Keyword(Kw::PositiveNan | Kw::NegativeNan) => {
                Constant::Float("NaN".to_string())
            }
            TokenKind::Keyword(Kw::PositiveInfinity) => Constant::Float("Infinity".to_string()),
            TokenKind::Keyword(Kw::NegativeInfinity) => Constant::Float("-Infinity".to_string()),
            _ => return Err(self.no_viable()),
        };
        self.advance();
        Ok(c)
    }

    /// `marker`: `?` or `:name`.
    pub(crate) fn marker(&mut self) -> PResult<BindMarker> {
        match self.la(1) {
            TokenKind::QMark => {
                self.advance();
                Ok(self.new_marker(None))
            }
            TokenKind::Colon => {
                self.advance();
                let name = self.ident()?;
                Ok(self.new_marker(Some(name)))
            }
            _ => Err(self.no_viable()),
        }
    }

    /// `intValue`: an integer literal or a bind marker.
    pub(crate) fn int_value(&mut self) -> PResult<Term> {
        match self.la(1) {
            TokenKind::Integer => Ok(Term::Constant(self.constant()?)),
            TokenKind::QMark | TokenKind::Colon => Ok(Term::BindMarker(self.marker()?)),
            _ => Err(self.no_viable()),
        }
    }

    /// `term`.
    pub(crate) fn term(&mut self) -> PResult<Term> {
        self.term_bp(0, false)
    }

    /// A term that stops before a trailing `+ column` (the list-prepend form
    /// `c = value + c` of `normalColumnOperation`).
    pub(crate) fn term_before_prepend(&mut self) -> PResult<Term> {
        self.term_bp(0, true)
    }

    /// Pratt loop. Every operator deepens the (left-leaning) tree by one
    /// level, so operators count against the nesting limit too: the AST
    /// depth, which `Drop`, `Display` and comparisons recurse over, stays
    /// bounded.
    fn term_bp(&mut self, min_bp: u8, prepend_stop: bool) -> PResult<Term> {
        let depth = self.depth;
        let result = self.term_bp_inner(min_bp, prepend_stop);
        self.depth = depth;
        result
    }

    fn term_bp_inner(&mut self, min_bp: u8, prepend_stop: bool) -> PResult<Term> {
        let mut lhs = self.term_group()?;
        while let Some((op, lbp, rbp)) = binding_power(self.la(1)) {
            if lbp < min_bp {
                break;
            }
            if prepend_stop
                && op == ArithmeticOp::Add
                && super::is_cident(self.la(2))
                && !matches!(self.la(3), TokenKind::LParen | TokenKind::Dot)
            {
                break;
            }
            self.enter()?;
            self.advance();
            let rhs = self.term_bp(rbp, false)?;
            lhs = Term::Binary {
                op,
                left: Box::new(lhs),
                right: Box::new(rhs),
            };
        }
        Ok(lhs)
    }

    /// `termGroup`: `'-' simpleTerm | simpleTerm`.
    fn term_group(&mut self) -> PResult<Term> {
        if self.eat(TokenKind::Minus) {
            return Ok(Term::Negate(Box::new(self.simple_term()?)));
        }
        self.simple_term()
    }

    /// `simpleTerm`.
    pub(crate) fn simple_term(&mut self) -> PResult<Term> {
        self.enter()?;
        let result = self.simple_term_inner();
        self.leave();
        result
    }

    fn simple_term_inner(&mut self) -> PResult<Term> {
        let kind = self.la(1);
        match kind {
            k if is_constant(k) => Ok(Term::Constant(self.constant()?)),
            TokenKind::Keyword(Kw::Null) => {
                self.advance();
                Ok(Term::Null)
            }
            TokenKind::QMark | TokenKind::Colon => Ok(Term::BindMarker(self.marker()?)),
            TokenKind::LBracket => self.list_literal(),
            TokenKind::LBrace => self.collection_literal(),
            TokenKind::LParen => {
                if self.looks_like_type_hint(at_simple_term_start) {
                    self.type_hint_term()
                } else {
                    self.tuple_literal()
                }
            }
            TokenKind::Keyword(Kw::Cast) if self.la(2) == TokenKind::LParen => self.cast_term(),
            k if is_function_name(k) || (is_ident(k) && self.la(2) == TokenKind::Dot) => {
                self.function_call()
            }
            _ => Err(self.no_viable()),
        }
    }

    /// `'(' comparatorType ')' simpleTerm`.
    fn type_hint_term(&mut self) -> PResult<Term> {
        self.expect(TokenKind::LParen)?;
        let ty = self.comparator_type()?;
        self.expect(TokenKind::RParen)?;
        let term = self.simple_term()?;
        Ok(Term::TypeHint {
            ty,
            term: Box::new(term),
        })
    }

    /// `CAST '(' simpleTerm AS native_type ')'`.
    fn cast_term(&mut self) -> PResult<Term> {
        self.expect_kw(Kw::Cast)?;
        self.expect(TokenKind::LParen)?;
        let term = self.simple_term()?;
        self.expect_kw(Kw::As)?;
        let ty = self.native_type()?;
        self.expect(TokenKind::RParen)?;
        Ok(Term::Cast {
            term: Box::new(term),
            ty,
        })
    }

    /// Decides whether `(` starts a type hint: `'(' comparatorType ')'`
    /// followed by something `can_start` accepts.
    pub(crate) fn looks_like_type_hint(&mut self, can_start: fn(&mut Parser<'_>) -> bool) -> bool {
        self.speculate(|p| {
            p.advance();
            p.comparator_type()?;
            p.expect(TokenKind::RParen)?;
            if can_start(p) {
                Ok(())
            } else {
                Err(p.no_viable())
            }
        })
    }

    /// `function`: `functionName '(' functionArgs? ')'`.
    fn function_call(&mut self) -> PResult<Term> {
        let name = self.function_name()?;
        self.expect(TokenKind::LParen)?;
        let mut args = Vec::new();
        if !self.at(TokenKind::RParen) {
            args.push(self.term()?);
            while self.eat(TokenKind::Comma) {
                args.push(self.term()?);
            }
        }
        self.expect(TokenKind::RParen)?;
        Ok(Term::FunctionCall { name, args })
    }

    /// `functionName`: `(keyspaceName '.')? allowedFunctionName`.
    pub(crate) fn function_name(&mut self) -> PResult<FunctionName> {
        let keyspace = if is_ident(self.la(1)) && self.la(2) == TokenKind::Dot {
            let ks = self.keyspace_name()?;
            self.advance();
            Some(ks)
        } else {
            None
        };
        let name = self.allowed_function_name()?;
        Ok(FunctionName { keyspace, name })
    }

    /// `allowedFunctionName`.
    pub(crate) fn allowed_function_name(&mut self) -> PResult<Identifier> {
        let tok = self.lt(1);
        if is_function_name(tok.kind) {
            self.advance();
            Ok(self.ident_of(&tok))
        } else {
            Err(self.no_viable())
        }
    }

    /// `listLiteral`.
    fn list_literal(&mut self) -> PResult<Term> {
        self.expect(TokenKind::LBracket)?;
        let mut items = Vec::new();
        if !self.at(TokenKind::RBracket) {
            items.push(self.term()?);
            while self.eat(TokenKind::Comma) {
                items.push(self.term()?);
            }
        }
        self.expect(TokenKind::RBracket)?;
        Ok(Term::List(items))
    }

    /// `collectionLiteral` (sets and maps) or `usertypeLiteral`, at `{`.
    fn collection_literal(&mut self) -> PResult<Term> {
        if self.la(2) == TokenKind::RBrace {
            // `{}` is a set literal until the receiver type is known.
            self.advance();
            self.advance();
            return Ok(Term::Set(Vec::new()));
        }
        if is_ident(self.la(2)) && self.la(3) == TokenKind::Colon {
            return self.user_type_literal();
        }
        self.map_or_set_literal()
    }

    /// `usertypeLiteral`: `'{' fident ':' term (',' fident ':' term)* '}'`.
    fn user_type_literal(&mut self) -> PResult<Term> {
        self.expect(TokenKind::LBrace)?;
        let mut fields = Vec::new();
        loop {
            let field = self.ident()?;
            self.expect(TokenKind::Colon)?;
            let value = self.term()?;
            fields.push((field, value));
            if !self.eat(TokenKind::Comma) {
                break;
            }
        }
        self.expect(TokenKind::RBrace)?;
        Ok(Term::UserType(fields))
    }

    /// `'{' term (mapLiteral | setLiteral) '}'`.
    fn map_or_set_literal(&mut self) -> PResult<Term> {
        self.expect(TokenKind::LBrace)?;
        let first = self.term()?;
        let result = if self.eat(TokenKind::Colon) {
            self.map_entries(first)?
        } else {
            let mut items = vec![first];
            while self.eat(TokenKind::Comma) {
                items.push(self.term()?);
            }
            Term::Set(items)
        };
        self.expect(TokenKind::RBrace)?;
        Ok(result)
    }

    /// The rest of a map literal after `first :`.
    fn map_entries(&mut self, first: Term) -> PResult<Term> {
        let value = self.term()?;
        let mut entries = vec![(first, value)];
        while self.eat(TokenKind::Comma) {
            let k = self.term()?;
            self.expect(TokenKind::Colon)?;
            let v = self.term()?;
            entries.push((k, v));
        }
        Ok(Term::Map(entries))
    }

    /// `tupleLiteral`: `'(' term (',' term)* ')'`.
    pub(crate) fn tuple_literal(&mut self) -> PResult<Term> {
        self.expect(TokenKind::LParen)?;
        let mut items = vec![self.term()?];
        while self.eat(TokenKind::Comma) {
            items.push(self.term()?);
        }
        self.expect(TokenKind::RParen)?;
        Ok(Term::Tuple(items))
    }

    /// `native_type`.
    pub(crate) fn native_type(&mut self) -> PResult<NativeType> {
        match self.la(1) {
            TokenKind::Keyword(k) => match k.native_type() {
                Some(t) => {
                    self.advance();
                    Ok(t)
                }
                None => Err(self.no_viable()),
            },
            _ => Err(self.no_viable()),
        }
    }

    /// `comparatorType`.
    pub(crate) fn comparator_type(&mut self) -> PResult<CqlType> {
        self.enter()?;
        let result = self.comparator_type_inner();
        self.leave();
        result
    }

    fn comparator_type_inner(&mut self) -> PResult<CqlType> {
        let kind = self.la(1);
        let next = self.la(2);
        match kind {
            TokenKind::Keyword(k) if k.native_type().is_some() => {
                if next == TokenKind::Dot {
                    return Ok(CqlType::UserDefined(self.user_type_name()?));
                }
                if !can_follow_type(next) {
                    return Err(self.no_viable_at(2));
                }
                Ok(CqlType::Native(self.native_type()?))
            }
            TokenKind::Keyword(Kw::Set) => {
                self.advance();
                self.expect(TokenKind::Lt)?;
                let t = self.comparator_type()?;
                self.expect(TokenKind::Gt)?;
                Ok(CqlType::Set(Box::new(t)))
            }
            TokenKind::Keyword(k @ (Kw::Map | Kw::List | Kw::Tuple | Kw::Vector | Kw::Frozen)) => {
                if next == TokenKind::Lt {
                    self.advance();
                    self.advance();
                    self.parametrized_type(k)
                } else if next == TokenKind::Dot || can_follow_type(next) {
                    Ok(CqlType::UserDefined(self.user_type_name()?))
                } else {
                    Err(self.no_viable_at(2))
                }
            }
            TokenKind::StringLiteral => {
                let tok = self.advance();
                Ok(CqlType::Custom(string_literal_value(self.text(&tok))))
            }
            k if is_ident(k) => Ok(CqlType::UserDefined(self.user_type_name()?)),
            _ => Err(self.no_viable()),
        }
    }

    /// The part after `kw <` of a collection, tuple, vector or frozen type.
    fn parametrized_type(&mut self, kw: Kw) -> PResult<CqlType> {
        let first = self.comparator_type()?;
        let ty = match kw {
            Kw::Map => {
                self.expect(TokenKind::Comma)?;
                let value = self.comparator_type()?;
                CqlType::Map(Box::new(first), Box::new(value))
            }
            Kw::List => CqlType::List(Box::new(first)),
            Kw::Tuple => {
                let mut types = vec![first];
                while self.eat(TokenKind::Comma) {
                    types.push(self.comparator_type()?);
                }
                CqlType::Tuple(types)
            }
            Kw::Vector => {
                self.expect(TokenKind::Comma)?;
                let tok = self.expect(TokenKind::Integer)?;
                let text = self.text(&tok);
                let Ok(dimension) = text.parse::<i32>() else {
                    return Err(Fail::Ready(Box::new(ParseError::Invalid {
                        message: format!("Invalid vector dimension: {text}"),
                    })));
                };
                CqlType::Vector(Box::new(first), dimension)
            }
            _ => {
                if matches!(first, CqlType::Native(_) | CqlType::Custom(_)) {
                    self.recognition_error(format!(
                        "frozen<> is only allowed on collections, tuples, and user-defined types (got {first})"
                    ));
                }
                CqlType::Frozen(Box::new(first))
            }
        };
        self.expect(TokenKind::Gt)?;
        Ok(ty)
    }

    /// `properties`: `property (AND property)*`, appended to `out`.
    pub(crate) fn properties(&mut self, out: &mut Vec<Property>) -> PResult<()> {
        loop {
            let prop = self.property()?;
            if out.iter().any(|p| p.name == prop.name) {
                self.duplicate_property(&prop.name);
            }
            out.push(prop);
            if !self.eat_kw(Kw::And) {
                return Ok(());
            }
        }
    }

    /// Reports `PropertyDefinitions.addProperty`'s duplicate error.
    pub(crate) fn duplicate_property(&mut self, name: &Identifier) {
        self.recognition_error(format!(
            "Multiple definition for property '{}'",
            name.as_str()
        ));
    }

    /// `property`: `noncol_ident '=' (propertyValue | fullMapLiteral)`.
    pub(crate) fn property(&mut self) -> PResult<Property> {
        if !is_ident(self.la(1)) {
            return Err(self.no_viable());
        }
        if self.la(2) != TokenKind::Eq {
            return Err(self.no_viable_at(2));
        }
        let value_kind = self.la(3);
        let is_map = value_kind == TokenKind::LBrace;
        let is_simple = is_constant(value_kind)
            || matches!(value_kind, TokenKind::Keyword(k) if k.is_unreserved());
        if !is_map && !is_simple {
            return Err(self.no_viable_at(3));
        }
        let name = self.ident()?;
        self.expect(TokenKind::Eq)?;
        let value = if is_map {
            self.property_map()?
        } else if is_constant(value_kind) {
            PropertyValue::Constant(self.constant()?)
        } else {
            let tok = self.advance();
            PropertyValue::Keyword(self.text(&tok).to_string())
        };
        Ok(Property { name, value })
    }

    /// `fullMapLiteral`: `'{' (term ':' term (',' term ':' term)*)? '}'`.
    pub(crate) fn full_map_literal(&mut self) -> PResult<Vec<(Term, Term)>> {
        self.expect(TokenKind::LBrace)?;
        let mut entries = Vec::new();
        if !self.at(TokenKind::RBrace) {
            loop {
                let k = self.term()?;
                self.expect(TokenKind::Colon)?;
                let v = self.term()?;
                entries.push((k, v));
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(TokenKind::RBrace)?;
        Ok(entries)
    }

    /// `fullMapLiteral`, converted like Cassandra's `convertPropertyMap`.
    fn property_map(&mut self) -> PResult<PropertyValue> {
        let raw = self.full_map_literal()?;
        let mut entries: Vec<(Constant, Constant)> = Vec::with_capacity(raw.len());
        for (k, v) in raw {
            let key = match k {
                Term::Constant(c) => c,
                other => {
                    let mut msg = format!("Invalid property name: {other}");
                    if matches!(other, Term::BindMarker(_)) {
                        msg.push_str(" (bind variables are not supported in DDL queries)");
                    }
                    self.recognition_error(msg);
                    break;
                }
            };
            let value = match v {
                Term::Constant(c) => c,
                other => {
                    let mut msg = format!("Invalid property value: {other} for property: {key}");
                    if matches!(other, Term::BindMarker(_)) {
                        msg.push_str(" (bind variables are not supported in DDL queries)");
                    }
                    self.recognition_error(msg);
                    break;
                }
            };
            if entries.iter().any(|(k, _)| k.raw_text() == key.raw_text()) {
                self.recognition_error(format!(
                    "Multiple definition for property {}",
                    key.raw_text()
                ));
            }
            entries.push((key, value));
        }
        Ok(PropertyValue::Map(entries))
    }
}
