//! Parser for CQL type strings, the inverse of `CqlType`'s `Display`.
//!
//! Accepts native type names case-insensitively (and `varchar` for `text`), `list<T>`,
//! `set<T>`, `map<K, V>`, `tuple<T, ...>`, `frozen<T>`, `vector<T, n>` and user-defined
//! type names, bare (lower-cased, as CQL does) or `"`-quoted (case kept, `""` escapes a
//! quote). Whitespace may appear between any two tokens. Nesting is limited to
//! [`MAX_TYPE_NESTING_DEPTH`] so hostile input cannot exhaust the stack.

use super::{CqlType, TypeError, UdtType, NATIVE_TYPES};

/// Deepest nesting of type parameters the parser accepts.
pub const MAX_TYPE_NESTING_DEPTH: usize = 64;

/// Largest vector dimension (Cassandra reads it as a positive Java `int`).
const MAX_VECTOR_DIMENSION: u32 = i32::MAX as u32;

/// Parses a CQL type such as `map<text, frozen<list<int>>>`.
///
/// `resolve_udt` maps a user-defined type name (bare names already lower-cased) to its
/// definition; a name it does not know is a [`TypeError::UnknownType`]. Keyspace-qualified
/// names (`ks.type`) are not accepted: the resolver decides which keyspace a name refers to.
pub fn parse_cql_type(
    s: &str,
    resolve_udt: &dyn Fn(&str) -> Option<UdtType>,
) -> Result<CqlType, TypeError> {
    let mut parser = Parser {
        input: s,
        pos: 0,
        resolve_udt,
    };
    let ty = parser.parse_type(0)?;
    parser.skip_whitespace();
    if parser.pos < s.len() {
        return Err(TypeError::TrailingInput {
            position: parser.pos,
        });
    }
    Ok(ty)
}

struct Parser<'a> {
    input: &'a str,
    /// Byte offset of the next unread character.
    pos: usize,
    resolve_udt: &'a dyn Fn(&str) -> Option<UdtType>,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_whitespace(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
    }

    fn expect(&mut self, wanted: char, expected: &'static str) -> Result<(), TypeError> {
        self.skip_whitespace();
        match self.peek() {
            Some(c) if c == wanted => {
                self.pos += c.len_utf8();
                Ok(())
            }
            Some(found) => Err(TypeError::UnexpectedChar {
                position: self.pos,
                found,
                expected,
            }),
            None => Err(TypeError::UnexpectedEnd { expected }),
        }
    }

    /// A bare identifier: a letter followed by letters, digits and underscores.
    fn identifier(&mut self) -> Result<&str, TypeError> {
        const EXPECTED: &str = "a type name";
        self.skip_whitespace();
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() => {}
            Some(found) => {
                return Err(TypeError::UnexpectedChar {
                    position: start,
                    found,
                    expected: EXPECTED,
                })
            }
            None => return Err(TypeError::UnexpectedEnd { expected: EXPECTED }),
        }
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest().len());
        self.pos += len;
        Ok(self.input.get(start..self.pos).unwrap_or(""))
    }

    /// A `"`-quoted identifier (the opening quote is next); `""` stands for one quote.
    fn quoted_identifier(&mut self) -> Result<String, TypeError> {
        let start = self.pos;
        self.pos += 1;
        let mut name = String::new();
        loop {
            let rest = self.rest();
            let Some(quote) = rest.find('"') else {
                return Err(TypeError::UnterminatedQuotedIdentifier { position: start });
            };
            name.push_str(rest.get(..quote).unwrap_or(""));
            self.pos += quote + 1;
            if self.peek() == Some('"') {
                name.push('"');
                self.pos += 1;
            } else {
                return Ok(name);
            }
        }
    }

    fn parse_vector_dimension(&mut self) -> Result<u32, TypeError> {
        self.skip_whitespace();
        let len = self
            .rest()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest().len());
        if len == 0 {
            return match self.peek() {
                Some(found) => Err(TypeError::UnexpectedChar {
                    position: self.pos,
                    found,
                    expected: "a vector dimension",
                }),
                None => Err(TypeError::UnexpectedEnd {
                    expected: "a vector dimension",
                }),
            };
        }
        let text = self.rest().get(..len).unwrap_or("").to_string();
        self.pos += len;
        match text.parse::<u32>() {
            Ok(n) if (1..=MAX_VECTOR_DIMENSION).contains(&n) => Ok(n),
            _ => Err(TypeError::InvalidVectorDimension { text }),
        }
    }

    fn resolve(&self, name: &str) -> Result<CqlType, TypeError> {
        (self.resolve_udt)(name)
            .map(CqlType::Udt)
            .ok_or_else(|| TypeError::UnknownType {
                name: name.to_string(),
            })
    }

    fn parse_type(&mut self, depth: usize) -> Result<CqlType, TypeError> {
        if depth >= MAX_TYPE_NESTING_DEPTH {
            return Err(TypeError::NestingTooDeep {
                max_depth: MAX_TYPE_NESTING_DEPTH,
            });
        }
        self.skip_whitespace();
        if self.peek() == Some('"') {
            let name = self.quoted_identifier()?;
            return self.resolve(&name);
        }
        let name = self.identifier()?.to_ascii_lowercase();
        if let Some((_, native)) = NATIVE_TYPES.iter().find(|(n, _)| *n == name) {
            return Ok(native.clone());
        }
        let ty = match name.as_str() {
            "varchar" => CqlType::Text,
            "list" | "set" => {
                self.expect('<', "'<'")?;
                let element = Box::new(self.parse_type(depth + 1)?);
                self.expect('>', "'>'")?;
                if name == "list" {
                    CqlType::List(element)
                } else {
                    CqlType::Set(element)
                }
            }
            "map" => {
                self.expect('<', "'<'")?;
                let key = Box::new(self.parse_type(depth + 1)?);
                self.expect(',', "','")?;
                let value = Box::new(self.parse_type(depth + 1)?);
                self.expect('>', "'>'")?;
                CqlType::Map(key, value)
            }
            "tuple" => {
                self.expect('<', "'<'")?;
                let mut types = vec![self.parse_type(depth + 1)?];
                loop {
                    self.skip_whitespace();
                    if self.peek() == Some(',') {
                        self.pos += 1;
                        types.push(self.parse_type(depth + 1)?);
                    } else {
                        self.expect('>', "',' or '>'")?;
                        break;
                    }
                }
                CqlType::Tuple(types)
            }
            "frozen" => {
                self.expect('<', "'<'")?;
                let inner = self.parse_type(depth + 1)?;
                self.expect('>', "'>'")?;
                match inner {
                    CqlType::List(_)
                    | CqlType::Set(_)
                    | CqlType::Map(..)
                    | CqlType::Tuple(_)
                    | CqlType::Udt(_)
                    | CqlType::Vector(..)
                    | CqlType::Frozen(_) => CqlType::Frozen(Box::new(inner)),
                    other => {
                        return Err(TypeError::InvalidFrozen {
                            inner: other.to_string(),
                        })
                    }
                }
            }
            "vector" => {
                self.expect('<', "'<'")?;
                let element = Box::new(self.parse_type(depth + 1)?);
                self.expect(',', "','")?;
                let dimension = self.parse_vector_dimension()?;
                self.expect('>', "'>'")?;
                CqlType::Vector(element, dimension)
            }
            _ => self.resolve(&name)?,
        };
        Ok(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn registry() -> Vec<UdtType> {
        ["addr", "MyType", "list", "with space", "quo\"te", "t1"]
            .iter()
            .enumerate()
            .map(|(i, name)| UdtType {
                keyspace: "ks".into(),
                name: (*name).into(),
                fields: vec![("f".into(), CqlType::Int), (format!("g{i}"), CqlType::Text)],
            })
            .collect()
    }

    fn resolver(name: &str) -> Option<UdtType> {
        registry().into_iter().find(|u| u.name == name)
    }

    fn parse(s: &str) -> Result<CqlType, TypeError> {
        parse_cql_type(s, &resolver)
    }

    #[test]
    fn parses_nested_types_with_whitespace_and_case() {
        let expected = CqlType::Map(
            Box::new(CqlType::Text),
            Box::new(CqlType::Frozen(Box::new(CqlType::List(Box::new(
                CqlType::Int,
            ))))),
        );
        assert_eq!(parse("map<text, frozen<list<int>>>"), Ok(expected.clone()));
        assert_eq!(
            parse("  MAP < VarChar ,FROZEN<List< INT >> >  "),
            Ok(expected)
        );
        assert_eq!(
            parse("tuple<int,\"MyType\", addr>"),
            Ok(CqlType::Tuple(vec![
                CqlType::Int,
                CqlType::Udt(resolver("MyType").expect("registered")),
                CqlType::Udt(resolver("addr").expect("registered")),
            ]))
        );
        assert_eq!(
            parse("vector<float, 1536>"),
            Ok(CqlType::Vector(Box::new(CqlType::Float), 1536))
        );
        assert_eq!(
            parse("\"quo\"\"te\""),
            Ok(CqlType::Udt(resolver("quo\"te").expect("registered")))
        );
        // Bare UDT names are lower-cased like every bare CQL identifier.
        assert_eq!(
            parse("ADDR"),
            Ok(CqlType::Udt(resolver("addr").expect("registered")))
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            parse("mytype"),
            Err(TypeError::UnknownType {
                name: "mytype".into()
            })
        );
        assert_eq!(
            parse("list<int"),
            Err(TypeError::UnexpectedEnd { expected: "'>'" })
        );
        assert_eq!(
            parse("list<int>>"),
            Err(TypeError::TrailingInput { position: 9 })
        );
        assert_eq!(
            parse("map<int>"),
            Err(TypeError::UnexpectedChar {
                position: 7,
                found: '>',
                expected: "','"
            })
        );
        assert_eq!(
            parse("frozen<int>"),
            Err(TypeError::InvalidFrozen {
                inner: "int".into()
            })
        );
        assert_eq!(
            parse("vector<float, 0>"),
            Err(TypeError::InvalidVectorDimension { text: "0".into() })
        );
        assert_eq!(
            parse("vector<float, 99999999999>"),
            Err(TypeError::InvalidVectorDimension {
                text: "99999999999".into()
            })
        );
        assert_eq!(
            parse("\"open"),
            Err(TypeError::UnterminatedQuotedIdentifier { position: 0 })
        );
        assert_eq!(
            parse(""),
            Err(TypeError::UnexpectedEnd {
                expected: "a type name"
            })
        );
        assert!(parse("tuple<>").is_err());
        let deep = "list<".repeat(MAX_TYPE_NESTING_DEPTH + 1) + "int";
        assert_eq!(
            parse(&deep),
            Err(TypeError::NestingTooDeep {
                max_depth: MAX_TYPE_NESTING_DEPTH
            })
        );
    }

    fn leaf() -> impl Strategy<Value = CqlType> {
        let natives: Vec<CqlType> = NATIVE_TYPES.iter().map(|(_, t)| t.clone()).collect();
        prop_oneof![
            4 => proptest::sample::select(natives),
            1 => proptest::sample::select(registry()).prop_map(CqlType::Udt),
        ]
    }

    fn any_type() -> impl Strategy<Value = CqlType> {
        leaf().prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|t| CqlType::List(Box::new(t))),
                inner.clone().prop_map(|t| CqlType::Set(Box::new(t))),
                (inner.clone(), inner.clone())
                    .prop_map(|(k, v)| CqlType::Map(Box::new(k), Box::new(v))),
                proptest::collection::vec(inner.clone(), 1..4).prop_map(CqlType::Tuple),
                (inner.clone(), 1u32..5000).prop_map(|(t, n)| CqlType::Vector(Box::new(t), n)),
                (0..4usize, inner.clone(), inner).prop_map(|(kind, a, b)| {
                    let wrapped = match kind {
                        0 => CqlType::List(Box::new(a)),
                        1 => CqlType::Set(Box::new(a)),
                        2 => CqlType::Map(Box::new(a), Box::new(b)),
                        _ => CqlType::Tuple(vec![a, b]),
                    };
                    CqlType::Frozen(Box::new(wrapped))
                }),
                proptest::sample::select(registry())
                    .prop_map(|u| CqlType::Frozen(Box::new(CqlType::Udt(u)))),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn display_then_parse_roundtrips(ty in any_type()) {
            let printed = ty.to_string();
            prop_assert_eq!(parse(&printed), Ok(ty.clone()), "printed as {}", printed);
            let spaced = printed.replace('<', " < ").replace(',', " , ").replace('>', " > ");
            prop_assert_eq!(parse(&spaced), Ok(ty), "printed as {}", spaced);
        }

        #[test]
        fn parse_never_panics(s in "[a-zA-Z<>,\" 0-9]{0,40}") {
            let _ = parse(&s);
        }
    }
}
