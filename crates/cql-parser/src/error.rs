//! Parse errors, displayed exactly like Cassandra's `SyntaxException`
//! messages.
//!
//! Cassandra (ANTLR 3) reports `line L:C <message> (<snippet>)` where `L` is
//! 1-based, `C` is the 0-based UTF-16 column, and the snippet shows up to ten
//! tokens (hidden whitespace/comment tokens included) before the offending
//! token and up to two after it — but only tokens the parser had already
//! fetched — with the offending token in `[brackets]`. Errors at end of input
//! report position `0:-1` and carry no snippet (ANTLR's synthetic EOF token has
//! no position). Since Cassandra overrides ANTLR's single-token recovery,
//! `extraneous input` / `missing X at Y` messages never occur; the mismatch is
//! always reported as `mismatched input`.
//!
//! Every variant corresponds to a CQL `SyntaxException` (protocol error code
//! `0x2000`).

use crate::token::{Token, TokenKind};

/// A CQL parse error. `Display` yields the exact Cassandra message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The lexer found a character that starts no token.
    #[error("line {line}:{char_position} no viable alternative at character {found}")]
    LexerNoViableAlternative {
        /// 1-based line.
        line: u32,
        /// 0-based UTF-16 column.
        char_position: i64,
        /// The character, quoted as ANTLR displays it (`'~'`, `'<EOF>'`).
        found: String,
    },
    /// The lexer expected a specific character (unterminated string,
    /// comment, quoted name, `$$`, lone `!`).
    #[error("line {line}:{char_position} mismatched character {found} expecting {expected}")]
    LexerMismatchedCharacter {
        /// 1-based line.
        line: u32,
        /// 0-based UTF-16 column.
        char_position: i64,
        /// The character found, quoted (`'<EOF>'`).
        found: String,
        /// What was expected (`'''`, `'*'`, `set null`).
        expected: String,
    },
    /// The parser could not choose any alternative at a decision point.
    #[error("line {line}:{char_position} no viable alternative at input {found}{snippet}")]
    NoViableAlternative {
        /// 1-based line (0 at end of input).
        line: u32,
        /// 0-based UTF-16 column (-1 at end of input).
        char_position: i64,
        /// The offending token text, quoted (`'FRM'`, `'<EOF>'`).
        found: String,
        /// ` (query snippet)` or empty.
        snippet: String,
    },
    /// The parser required a specific token.
    #[error("line {line}:{char_position} mismatched input {found} expecting {expected}{snippet}")]
    MismatchedInput {
        /// 1-based line (0 at end of input).
        line: u32,
        /// 0-based UTF-16 column (-1 at end of input).
        char_position: i64,
        /// The offending token text, quoted.
        found: String,
        /// The expected token name (`K_FROM`, `')'`, `EOF`, `set null`).
        expected: String,
        /// ` (query snippet)` or empty.
        snippet: String,
    },
    /// An error raised by a grammar action (Cassandra's
    /// `addRecognitionError`), e.g. bind markers in names, invalid property
    /// values, duplicate properties, incompatible column updates.
    #[error("{message}")]
    Invalid {
        /// The full message.
        message: String,
    },
    /// The input nests deeper than [`crate::MAX_NESTING_DEPTH`].
    #[error("line {line}:{char_position} input nesting exceeds the maximum depth of {limit}")]
    TooDeep {
        /// 1-based line (0 at end of input).
        line: u32,
        /// 0-based UTF-16 column.
        char_position: i64,
        /// The depth limit.
        limit: usize,
    },
}

impl ParseError {
    /// The reported line (1-based; 0 for errors at end of input), when the
    /// error has a position.
    pub fn line(&self) -> Option<u32> {
        match self {
            ParseError::LexerNoViableAlternative { line, .. }
            | ParseError::LexerMismatchedCharacter { line, .. }
            | ParseError::NoViableAlternative { line, .. }
            | ParseError::MismatchedInput { line, .. }
            | ParseError::TooDeep { line, .. } => Some(*line),
            ParseError::Invalid { .. } => None,
        }
    }

    /// The reported 0-based column in UTF-16 code units (-1 for errors at
    /// end of input), when the error has a position.
    pub fn char_position(&self) -> Option<i64> {
        match self {
            ParseError::LexerNoViableAlternative { char_position, .. }
            | ParseError::LexerMismatchedCharacter { char_position, .. }
            | ParseError::NoViableAlternative { char_position, .. }
            | ParseError::MismatchedInput { char_position, .. }
            | ParseError::TooDeep { char_position, .. } => Some(*char_position),
            ParseError::Invalid { .. } => None,
        }
    }
}

/// ANTLR's `getCharErrorDisplay`: the character in quotes, `<EOF>` at end.
pub(crate) fn char_display(c: Option<char>) -> String {
    match c {
        None => "'<EOF>'".to_string(),
        Some('\n') => "'\\n'".to_string(),
        Some('\t') => "'\\t'".to_string(),
        Some('\r') => "'\\r'".to_string(),
        Some(c) => format!("'{c}'"),
    }
}

/// ANTLR's `getTokenErrorDisplay` of a token text.
pub(crate) fn token_display(text: &str) -> String {
    let escaped = text
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t");
    format!("'{escaped}'")
}

/// ANTLR's `getText()` of a token: string literals and quoted names are
/// unescaped without their quotes, EOF is `<EOF>`, others are the source text.
pub(crate) fn antlr_text(src: &str, tok: &Token) -> String {
    let raw = src.get(tok.start..tok.end).unwrap_or("");
    match tok.kind {
        TokenKind::Eof => "<EOF>".to_string(),
        TokenKind::StringLiteral => crate::parser::string_literal_value(raw),
        TokenKind::QuotedName => crate::parser::quoted_name_value(raw),
        _ => raw.to_string(),
    }
}

/// Offset of the first snippet token before the offending one.
const SNIPPET_TOKENS_BEFORE: usize = 10;
/// Offset of the last snippet token after the offending one.
const SNIPPET_TOKENS_AFTER: usize = 2;

/// Builds Cassandra's ` (...snippet...)` suffix (ErrorCollector).
///
/// `index` is the token-stream index of the parser's current token when the
/// error was reported, `fetched` the highest token index fetched so far.
/// Returns an empty string when Cassandra would print no snippet.
pub(crate) fn snippet(src: &str, tokens: &[Token], index: usize, fetched: usize) -> String {
    let last = fetched.min(tokens.len().saturating_sub(1));
    let from_i = index.saturating_sub(SNIPPET_TOKENS_BEFORE);
    let to_i = (index + SNIPPET_TOKENS_AFTER).min(last);
    let off_i = index.min(last);
    let (Some(from), Some(to), Some(off)) =
        (tokens.get(from_i), tokens.get(to_i), tokens.get(off_i))
    else {
        return String::new();
    };
    // ANTLR's EOF token has no position: no snippet.
    if [from, to, off]
        .iter()
        .any(|t| matches!(t.kind, TokenKind::Eof | TokenKind::LexError))
    {
        return String::new();
    }
    // Java's String.split("\n") drops trailing empty strings.
    let mut lines: Vec<Vec<u16>> = src
        .split('\n')
        .map(|l| l.encode_utf16().collect())
        .collect();
    while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let text_len = |t: &Token| antlr_text(src, t).encode_utf16().count();
    let line_idx = |t: &Token| (t.line as usize).saturating_sub(1);
    let n_lines = lines.len();
    let include_start = from.line == 1 && from.col == 0;
    let to_end = to.col as usize + text_len(to);
    let include_end =
        to.line as usize == n_lines && lines.last().is_some_and(|l| to_end == l.len());

    let (fl, tl, ol) = (line_idx(from), line_idx(to), line_idx(off));
    if fl >= n_lines || tl >= n_lines || ol >= n_lines || fl > tl {
        return String::new();
    }
    // Truncate the last line after the `to` token.
    if to_end < lines[tl].len() {
        lines[tl].truncate(to_end);
    }
    // Bracket the offending token.
    {
        let line = &mut lines[ol];
        let close = (off.col as usize + text_len(off)).min(line.len());
        line.insert(close, u16::from(b']'));
        let open = (off.col as usize).min(line.len());
        line.insert(open, u16::from(b'['));
    }
    // Cut the first line before the `from` token.
    let from_col = (from.col as usize).min(lines[fl].len());
    lines[fl].drain(..from_col);

    let mut out: Vec<u16> = Vec::new();
    out.extend(" (".encode_utf16());
    if !include_start {
        out.extend("...".encode_utf16());
    }
    for line in &lines[fl..=tl] {
        out.extend_from_slice(line);
    }
    if !include_end {
        out.extend("...".encode_utf16());
    }
    out.push(u16::from(b')'));
    String::from_utf16_lossy(&out)
}
