//! Hand-written CQL lexer following Cassandra's `Lexer.g`.
//!
//! The lexer produces every token, including hidden-channel whitespace and
//! comments (Cassandra's error snippets count them), and ends the stream with
//! an `Eof` token. Token selection is longest-match with ties broken by the
//! rule order of `Lexer.g` (keywords, then literals, then `IDENT`).
//!
//! On the first lexical error the lexer stops: it appends a `LexError`
//! placeholder (which no grammar rule matches) and an `Eof` token, and
//! records the error. The parser reports the lexer error as soon as it
//! fetches the placeholder, which reproduces the order in which ANTLR reports
//! lexer and parser errors.
//!
//! Invariants: tokens are contiguous and cover the source up to the error
//! point; `line`/`col` follow ANTLR (1-based lines split on `\n` only,
//! 0-based columns in UTF-16 code units). The lexer never panics and runs in
//! time linear in the input length.

use crate::token::{Kw, Token, TokenKind};

/// A lexical error, positioned like ANTLR's lexer exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub line: u32,
    pub col: u32,
    pub kind: LexErrorKind,
}

/// The ANTLR lexer exception kinds Cassandra can report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LexErrorKind {
    /// `no viable alternative at character 'c'`; `None` is `<EOF>`.
    NoViableAlt { found: Option<char> },
    /// `mismatched character 'c' expecting 'e'`.
    MismatchedChar { found: Option<char>, expected: char },
    /// `mismatched character 'c' expecting set null`.
    MismatchedSet { found: Option<char> },
}

/// Result of lexing a whole query.
#[derive(Debug)]
pub(crate) struct Lexed {
    /// All tokens, hidden ones included, ending with `Eof`.
    pub tokens: Vec<Token>,
    /// The first lexical error, if any; then `tokens` ends with
    /// `LexError`, `Eof`.
    pub error: Option<LexError>,
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    col: u32,
    tokens: Vec<Token>,
}

/// Outcome of scanning one token.
enum Scan {
    Token(TokenKind),
    Error(LexError),
}

/// Tokenizes `src` completely (see module docs).
pub(crate) fn lex(src: &str) -> Lexed {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        line: 1,
        col: 0,
        // Rough guess: one token every 4 bytes; capped so huge inputs do not
        // over-reserve up front.
        tokens: Vec::with_capacity((src.len() / 4 + 2).min(4096)),
    };
    let mut error = None;
    while lx.pos < lx.bytes.len() {
        let (start, line, col) = (lx.pos, lx.line, lx.col);
        match lx.scan() {
            Scan::Token(kind) => lx.tokens.push(Token {
                kind,
                start,
                end: lx.pos,
                line,
                col,
            }),
            Scan::Error(e) => {
                lx.tokens.push(Token {
                    kind: TokenKind::LexError,
                    start,
                    end: start,
                    line,
                    col,
                });
                error = Some(e);
                break;
            }
        }
    }
    let end = lx.bytes.len();
    lx.tokens.push(Token {
        kind: TokenKind::Eof,
        start: end,
        end,
        line: lx.line,
        col: lx.col,
    });
    Lexed {
        tokens: lx.tokens,
        error,
    }
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

impl<'a> Lexer<'a> {
    fn peek(&self, off: usize) -> Option<u8> {
        self.bytes.get(self.pos + off).copied()
    }

    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    /// Consumes one character, maintaining line/column.
    fn bump(&mut self) {
        if let Some(c) = self.peek_char() {
            self.pos += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.col = 0;
            } else {
                self.col += c.len_utf16() as u32;
            }
        }
    }

    /// Consumes `n` ASCII bytes (no newlines among them).
    fn bump_ascii(&mut self, n: usize) {
        self.pos += n;
        self.col += n as u32;
    }

    /// Consumes `len` bytes known to contain no newline and to end on a
    /// character boundary.
    fn advance_same_line(&mut self, len: usize) {
        let s = self.src.get(self.pos..self.pos + len).unwrap_or("");
        let units = if s.is_ascii() {
            s.len()
        } else {
            s.encode_utf16().count()
        };
        self.col += units as u32;
        self.pos += len;
    }

    fn error_here(&self, kind: LexErrorKind) -> Scan {
        Scan::Error(LexError {
            line: self.line,
            col: self.col,
            kind,
        })
    }

    fn scan(&mut self) -> Scan {
        let Some(b) = self.peek(0) else {
            return self.error_here(LexErrorKind::NoViableAlt { found: None });
        };
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                while matches!(self.peek(0), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                    self.bump();
                }
                Scan::Token(TokenKind::Whitespace)
            }
            b'-' if self.peek(1) == Some(b'-') => self.line_comment(),
            b'/' if self.peek(1) == Some(b'/') => self.line_comment(),
            b'/' if self.peek(1) == Some(b'*') => self.block_comment(),
            b'\'' => self.string_literal(),
            b'$' => self.dollar_string(),
            b'"' => self.quoted_name(),
            b'0'..=b'9' | b'-' => self.number_like(),
            b'A'..=b'Z' | b'a'..=b'z' => self.word_like(),
            _ => self.punctuation(b),
        }
    }

    fn line_comment(&mut self) -> Scan {
        self.bump_ascii(2);
        loop {
            match self.peek(0) {
                Some(b'\n') | Some(b'\r') => {
                    self.bump();
                    return Scan::Token(TokenKind::Comment);
                }
                Some(_) => self.bump(),
                None => return self.error_here(LexErrorKind::MismatchedSet { found: None }),
            }
        }
    }

    fn block_comment(&mut self) -> Scan {
        self.bump_ascii(2);
        loop {
            match self.peek(0) {
                Some(b'*') if self.peek(1) == Some(b'/') => {
                    self.bump_ascii(2);
                    return Scan::Token(TokenKind::Comment);
                }
                Some(_) => self.bump(),
                None => {
                    return self.error_here(LexErrorKind::MismatchedChar {
                        found: None,
                        expected: '*',
                    })
                }
            }
        }
    }

    fn string_literal(&mut self) -> Scan {
        self.bump_ascii(1);
        loop {
            match self.peek(0) {
                Some(b'\'') if self.peek(1) == Some(b'\'') => self.bump_ascii(2),
                Some(b'\'') => {
                    self.bump_ascii(1);
                    return Scan::Token(TokenKind::StringLiteral);
                }
                Some(_) => self.bump(),
                None => {
                    return self.error_here(LexErrorKind::MismatchedChar {
                        found: None,
                        expected: '\'',
                    })
                }
            }
        }
    }

    /// `$$ ... $$` strings: content runs to the first `$$`, while at least two
    /// characters remain (as in `Lexer.g`'s gated predicate).
    fn dollar_string(&mut self) -> Scan {
        self.bump_ascii(1);
        if self.peek(0) != Some(b'$') {
            return self.error_here(LexErrorKind::MismatchedChar {
                found: self.peek_char(),
                expected: '$',
            });
        }
        self.bump_ascii(1);
        loop {
            if self.peek(0) == Some(b'$') && self.peek(1) == Some(b'$') {
                break;
            }
            let mut rest = self.src.get(self.pos..).unwrap_or("").chars();
            let first = rest.next();
            let remaining_two = match first {
                None => false,
                Some(c) => rest.next().is_some() || c.len_utf16() >= 2,
            };
            if !remaining_two {
                break;
            }
            self.bump();
        }
        for _ in 0..2 {
            if self.peek(0) == Some(b'$') {
                self.bump_ascii(1);
            } else {
                return self.error_here(LexErrorKind::MismatchedChar {
                    found: self.peek_char(),
                    expected: '$',
                });
            }
        }
        Scan::Token(TokenKind::StringLiteral)
    }

    fn quoted_name(&mut self) -> Scan {
        self.bump_ascii(1);
        let mut empty = true;
        loop {
            match self.peek(0) {
                Some(b'"') if self.peek(1) == Some(b'"') => {
                    // An escaped quote (longest match: `"""a"` is a quoted
                    // name, `""` alone is EMPTY_QUOTED_NAME).
                    self.bump_ascii(2);
                    empty = false;
                }
                Some(b'"') => {
                    self.bump_ascii(1);
                    return Scan::Token(if empty {
                        TokenKind::EmptyQuotedName
                    } else {
                        TokenKind::QuotedName
                    });
                }
                Some(_) => {
                    self.bump();
                    empty = false;
                }
                None => {
                    return self.error_here(LexErrorKind::MismatchedChar {
                        found: None,
                        expected: '"',
                    })
                }
            }
        }
    }

    fn punctuation(&mut self, b: u8) -> Scan {
        let two = |kind| (2usize, kind);
        let one = |kind| (1usize, kind);
        let next = self.peek(1);
        let (len, kind) = match b {
            b'(' => one(TokenKind::LParen),
            b')' => one(TokenKind::RParen),
            b',' => one(TokenKind::Comma),
            b';' => one(TokenKind::Semicolon),
            b'.' if next == Some(b'.') => two(TokenKind::Range),
            b'.' => one(TokenKind::Dot),
            b'*' => one(TokenKind::Star),
            b'=' => one(TokenKind::Eq),
            b'<' if next == Some(b'=') => two(TokenKind::Lte),
            b'<' => one(TokenKind::Lt),
            b'>' if next == Some(b'=') => two(TokenKind::Gte),
            b'>' => one(TokenKind::Gt),
            b'!' if next == Some(b'=') => two(TokenKind::Neq),
            b'!' => {
                self.bump_ascii(1);
                return self.error_here(LexErrorKind::MismatchedChar {
                    found: self.peek_char(),
                    expected: '=',
                });
            }
            b'[' => one(TokenKind::LBracket),
            b']' => one(TokenKind::RBracket),
            b'{' => one(TokenKind::LBrace),
            b'}' => one(TokenKind::RBrace),
            b':' => one(TokenKind::Colon),
            b'+' if next == Some(b'=') => two(TokenKind::PlusEq),
            b'+' => one(TokenKind::Plus),
            b'/' => one(TokenKind::Slash),
            b'%' => one(TokenKind::Percent),
            b'?' => one(TokenKind::QMark),
            _ => {
                return self.error_here(LexErrorKind::NoViableAlt {
                    found: self.peek_char(),
                })
            }
        };
        self.bump_ascii(len);
        Scan::Token(kind)
    }

    /// Tokens starting with a digit or `-`.
    fn number_like(&mut self) -> Scan {
        let rest = &self.bytes[self.pos..];
        let mut best: (usize, TokenKind) = (0, TokenKind::Minus);
        let mut consider = |len: usize, kind: TokenKind| {
            if len > best.0 {
                best = (len, kind);
            }
        };
        if rest[0] == b'-' {
            consider(1, TokenKind::Minus);
            if rest.get(1) == Some(&b'=') {
                consider(2, TokenKind::MinusEq);
            }
            if let Some(word_len) = word_len(&rest[1..]) {
                let word = &self.src[self.pos + 1..self.pos + 1 + word_len];
                if word.len() >= 3 && word[..3].eq_ignore_ascii_case("nan") {
                    consider(4, TokenKind::Keyword(Kw::NegativeNan));
                }
                if word.len() >= 8 && word[..8].eq_ignore_ascii_case("infinity") {
                    consider(9, TokenKind::Keyword(Kw::NegativeInfinity));
                }
            }
            if rest.get(1) == Some(&b'P') {
                if let Some(n) = iso_duration_len(&rest[1..]) {
                    consider(n + 1, TokenKind::Duration);
                }
            }
        }
        let neg = usize::from(rest[0] == b'-');
        let digits = rest[neg..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            let int_len = neg + digits;
            // INTEGER / FLOAT (see the FLOAT rule of Lexer.g).
            let after = &rest[int_len..];
            if after.starts_with(b"...") {
                consider(int_len + 1, TokenKind::Float);
            } else if after.starts_with(b"..") {
                consider(int_len, TokenKind::Integer);
            } else {
                let mut len = int_len;
                let mut is_float = false;
                if rest.get(len) == Some(&b'.') {
                    len += 1;
                    len += rest[len..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                    is_float = true;
                }
                if let Some(exp) = exponent_len(&rest[len..]) {
                    len += exp;
                    is_float = true;
                }
                consider(
                    len,
                    if is_float {
                        TokenKind::Float
                    } else {
                        TokenKind::Integer
                    },
                );
            }
            // Numeric durations: DIGIT+ UNIT (DIGIT+ UNIT)*.
            let dur = numeric_duration_len(&rest[neg..]);
            if dur > 0 {
                consider(neg + dur, TokenKind::Duration);
            }
            if neg == 0 {
                if rest[0] == b'0' && matches!(rest.get(1), Some(b'x' | b'X')) {
                    let hex = rest[2..].iter().take_while(|b| is_hex(**b)).count();
                    consider(2 + hex, TokenKind::HexNumber);
                }
                if is_uuid(rest) {
                    consider(36, TokenKind::Uuid);
                }
            }
        }
        let (len, kind) = best;
        self.advance_same_line(len);
        Scan::Token(kind)
    }

    /// Tokens starting with an ASCII letter.
    fn word_like(&mut self) -> Scan {
        let rest = &self.bytes[self.pos..];
        let wlen = word_len(rest).unwrap_or(1);
        let word = &self.src[self.pos..self.pos + wlen];
        let mut best = (
            wlen,
            match Kw::lookup(word) {
                Some(kw) => TokenKind::Keyword(kw),
                None if word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false") => {
                    TokenKind::Boolean
                }
                None => TokenKind::Ident,
            },
        );
        if rest[0] == b'P' {
            if let Some(n) = iso_duration_len(rest) {
                if n >= best.0 {
                    best = (n, TokenKind::Duration);
                }
            }
        }
        if word == "expr" && rest.get(4) == Some(&b'(') {
            best = (5, TokenKind::ExprParen);
        }
        if is_hex(rest[0]) && is_uuid(rest) && 36 > best.0 {
            best = (36, TokenKind::Uuid);
        }
        self.bump_ascii(best.0);
        Scan::Token(best.1)
    }
}

/// Length of `LETTER (LETTER | DIGIT | '_')*` at the start of `s`.
fn word_len(s: &[u8]) -> Option<usize> {
    if !s.first()?.is_ascii_alphabetic() {
        return None;
    }
    Some(
        s.iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count(),
    )
}

/// Length of `E ('+'|'-')? DIGIT+` at the start of `s`.
fn exponent_len(s: &[u8]) -> Option<usize> {
    if !matches!(s.first(), Some(b'e' | b'E')) {
        return None;
    }
    let mut len = 1;
    if matches!(s.get(1), Some(b'+' | b'-')) {
        len += 1;
    }
    let digits = s[len..].iter().take_while(|b| b.is_ascii_digit()).count();
    (digits > 0).then_some(len + digits)
}

fn is_uuid(s: &[u8]) -> bool {
    if s.len() < 36 {
        return false;
    }
    s[..36].iter().enumerate().all(|(i, b)| match i {
        8 | 13 | 18 | 23 => *b == b'-',
        _ => is_hex(*b),
    })
}

/// Length of a duration unit (case-insensitive `y mo w d h m s ms us µs ns`).
fn duration_unit_len(s: &[u8]) -> usize {
    let lower = |i: usize| s.get(i).map(|b| b.to_ascii_lowercase());
    match (lower(0), lower(1)) {
        (Some(b'm'), Some(b'o' | b's')) => 2,
        (Some(b'u' | b'n'), Some(b's')) => 2,
        // U+00B5 MICRO SIGN is 0xC2 0xB5 in UTF-8.
        (Some(0xC2), _) if s.get(1) == Some(&0xB5) && matches!(s.get(2), Some(b's' | b'S')) => 3,
        (Some(b'y' | b'w' | b'd' | b'h' | b'm' | b's'), _) => 1,
        _ => 0,
    }
}

/// Length of `DIGIT+ UNIT (DIGIT+ UNIT)*` at the start of `s`, or 0.
fn numeric_duration_len(s: &[u8]) -> usize {
    let mut len = 0;
    loop {
        let digits = s[len..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return len;
        }
        let unit = duration_unit_len(&s[len + digits..]);
        if unit == 0 {
            return len;
        }
        len += digits + unit;
    }
}

/// Length of `DIGIT+ c` at the start of `s`.
fn digits_then(s: &[u8], c: u8) -> Option<usize> {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    (digits > 0 && s.get(digits) == Some(&c)).then_some(digits + 1)
}

/// Longest chain of optional `DIGIT+ designator` parts, in order.
fn designators(s: &[u8], order: &[u8]) -> usize {
    let mut len = 0;
    for &d in order {
        if let Some(n) = digits_then(&s[len..], d) {
            len += n;
        }
    }
    len
}

/// ISO 8601 time designators: `T` followed by H/M/S parts (at least one).
fn iso_time_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'T') {
        return None;
    }
    let rest = &s[1..];
    // The first part decides which designators may follow.
    let first_h = digits_then(rest, b'H');
    let first_m = digits_then(rest, b'M');
    let first_s = digits_then(rest, b'S');
    let n = if let Some(n) = first_h {
        n + designators(&rest[n..], b"MS")
    } else if let Some(n) = first_m {
        n + designators(&rest[n..], b"S")
    } else {
        first_s?
    };
    Some(1 + n)
}

/// Length of an ISO 8601 duration starting with `P` (the optional leading
/// `-` is handled by the caller).
fn iso_duration_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'P') {
        return None;
    }
    let body = &s[1..];
    let mut best: Option<usize> = None;
    let mut consider = |n: usize| {
        if best.is_none_or(|b| n > b) {
            best = Some(n);
        }
    };
    // Alternative format: PYYYY-MM-DDThh:mm:ss
    let alt = b"dddd-dd-ddTdd:dd:dd";
    if body.len() >= alt.len()
        && alt.iter().zip(body).all(|(p, b)| {
            if *p == b'd' {
                b.is_ascii_digit()
            } else {
                p == b
            }
        })
    {
        consider(1 + alt.len());
    }
    if let Some(t) = iso_time_len(body) {
        consider(1 + t);
    }
    if let Some(w) = digits_then(body, b'W') {
        consider(1 + w);
    }
    // Period designators, optionally followed by time designators.
    let period = if let Some(y) = digits_then(body, b'Y') {
        Some(y + designators(&body[y..], b"MD"))
    } else if let Some(m) = digits_then(body, b'M') {
        Some(m + designators(&body[m..], b"D"))
    } else {
        digits_then(body, b'D')
    };
    if let Some(p) = period {
        let t = iso_time_len(&body[p..]).unwrap_or(0);
        consider(1 + p + t);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokenKind, &str)> {
        let lexed = lex(src);
        lexed
            .tokens
            .iter()
            .filter(|t| !t.kind.is_hidden() && t.kind != TokenKind::Eof)
            .map(|t| (t.kind, &src[t.start..t.end]))
            .collect()
    }

    #[test]
    fn numbers_and_durations() {
        use TokenKind::*;
        assert_eq!(kinds("12"), vec![(Integer, "12")]);
        assert_eq!(kinds("-12"), vec![(Integer, "-12")]);
        assert_eq!(kinds("1.5"), vec![(Float, "1.5")]);
        assert_eq!(
            kinds("1e10 -2.5E-3 1."),
            vec![(Float, "1e10"), (Float, "-2.5E-3"), (Float, "1.")]
        );
        assert_eq!(
            kinds("1..3"),
            vec![(Integer, "1"), (Range, ".."), (Integer, "3")]
        );
        assert_eq!(
            kinds("1...3"),
            vec![(Float, "1."), (Range, ".."), (Integer, "3")]
        );
        assert_eq!(kinds("1h30m"), vec![(Duration, "1h30m")]);
        assert_eq!(kinds("12mo1d"), vec![(Duration, "12mo1d")]);
        assert_eq!(kinds("3µs"), vec![(Duration, "3µs")]);
        assert_eq!(kinds("-5ms"), vec![(Duration, "-5ms")]);
        assert_eq!(kinds("1WHERE"), vec![(Duration, "1W"), (Ident, "HERE")]);
        assert_eq!(kinds("P1DT2H"), vec![(Duration, "P1DT2H")]);
        assert_eq!(kinds("-PT5M"), vec![(Duration, "-PT5M")]);
        assert_eq!(kinds("P2W"), vec![(Duration, "P2W")]);
        assert_eq!(
            kinds("P0001-02-03T04:05:06"),
            vec![(Duration, "P0001-02-03T04:05:06")]
        );
        assert_eq!(kinds("P1Dx"), vec![(Ident, "P1Dx")]);
        assert_eq!(
            kinds("0xCAFE 0x"),
            vec![(HexNumber, "0xCAFE"), (HexNumber, "0x")]
        );
        assert_eq!(
            kinds("123e4567-e89b-12d3-a456-426614174000"),
            vec![(Uuid, "123e4567-e89b-12d3-a456-426614174000")]
        );
        assert_eq!(
            kinds("deadbeef-e89b-12d3-a456-426614174000"),
            vec![(Uuid, "deadbeef-e89b-12d3-a456-426614174000")]
        );
    }

    #[test]
    fn special_floats_and_minus() {
        use TokenKind::*;
        assert_eq!(
            kinds("NaN -NaN"),
            vec![
                (Keyword(Kw::PositiveNan), "NaN"),
                (Keyword(Kw::NegativeNan), "-NaN")
            ]
        );
        assert_eq!(
            kinds("-Infinity infinity"),
            vec![
                (Keyword(Kw::NegativeInfinity), "-Infinity"),
                (Keyword(Kw::PositiveInfinity), "infinity")
            ]
        );
        assert_eq!(kinds("a-1"), vec![(Ident, "a"), (Integer, "-1")]);
        assert_eq!(
            kinds("a - 1"),
            vec![(Ident, "a"), (Minus, "-"), (Integer, "1")]
        );
        assert_eq!(
            kinds("c -= 1"),
            vec![(Ident, "c"), (MinusEq, "-="), (Integer, "1")]
        );
    }

    #[test]
    fn strings_and_names() {
        use TokenKind::*;
        assert_eq!(kinds("'it''s'"), vec![(StringLiteral, "'it''s'")]);
        assert_eq!(kinds("$$a'b$$"), vec![(StringLiteral, "$$a'b$$")]);
        assert_eq!(kinds("\"Ab\"\"c\""), vec![(QuotedName, "\"Ab\"\"c\"")]);
        assert_eq!(kinds("\"\""), vec![(EmptyQuotedName, "\"\"")]);
        assert_eq!(kinds("\"\"\"\""), vec![(QuotedName, "\"\"\"\"")]);
        assert_eq!(kinds("expr(x"), vec![(ExprParen, "expr("), (Ident, "x")]);
        assert_eq!(
            kinds("TRUE false"),
            vec![(Boolean, "TRUE"), (Boolean, "false")]
        );
    }

    #[test]
    fn comments_are_hidden() {
        use TokenKind::*;
        assert_eq!(
            kinds("a -- x\nb // y\n c /* z */ d"),
            vec![(Ident, "a"), (Ident, "b"), (Ident, "c"), (Ident, "d")]
        );
    }

    #[test]
    fn errors() {
        let e = lex("SELECT 'abc").error.unwrap();
        assert_eq!((e.line, e.col), (1, 11));
        assert_eq!(
            e.kind,
            LexErrorKind::MismatchedChar {
                found: None,
                expected: '\''
            }
        );
        let e = lex("a ~").error.unwrap();
        assert_eq!(e.kind, LexErrorKind::NoViableAlt { found: Some('~') });
        let e = lex("-- no newline").error.unwrap();
        assert_eq!(e.kind, LexErrorKind::MismatchedSet { found: None });
        let e = lex("x $;").error.unwrap();
        assert_eq!(
            (e.col, e.kind),
            (
                3,
                LexErrorKind::MismatchedChar {
                    found: Some(';'),
                    expected: '$'
                }
            )
        );
    }

    #[test]
    fn positions_are_utf16() {
        let lexed = lex("'😀' x\n  y");
        let toks: Vec<_> = lexed
            .tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Ident)
            .collect();
        assert_eq!((toks[0].line, toks[0].col), (1, 5));
        assert_eq!((toks[1].line, toks[1].col), (2, 2));
    }
}
