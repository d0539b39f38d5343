//! Property tests: the parser never panics on arbitrary input, and every
//! statement it accepts prints back to CQL that parses to the same tree.

mod common;

use meridian_cql_parser::{parse_statement, parse_statements, ParseError, Statement};
use proptest::prelude::*;

/// Checks `parse(display(ast)) == ast` and that printing is stable.
fn assert_round_trip(stmt: &Statement, source: &str) -> Result<(), TestCaseError> {
    let printed = stmt.to_string();
    let reparsed = parse_statement(&printed).map_err(|e| {
        TestCaseError::fail(format!("source {source:?}\nprinted {printed:?}\nerror {e}"))
    })?;
    prop_assert_eq!(&reparsed, stmt, "source {:?} printed {:?}", source, printed);
    prop_assert_eq!(reparsed.to_string(), printed);
    Ok(())
}

/// Parses with both entry points; accepted statements must round-trip and
/// errors must render.
fn check_any(src: &str) -> Result<(), TestCaseError> {
    match parse_statement(src) {
        Ok(stmt) => assert_round_trip(&stmt, src)?,
        Err(e) => check_error(&e),
    }
    match parse_statements(src) {
        Ok(stmts) => {
            for s in &stmts {
                assert_round_trip(s, src)?;
            }
        }
        Err(e) => check_error(&e),
    }
    Ok(())
}

fn check_error(e: &ParseError) {
    let msg = e.to_string();
    assert!(!msg.is_empty());
    if let (Some(line), Some(col)) = (e.line(), e.char_position()) {
        assert!((line == 0 && col == -1) || (line >= 1 && col >= 0), "{msg}");
    }
}

const VOCABULARY: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "BEGIN",
    "BATCH",
    "APPLY",
    "UNLOGGED",
    "COUNTER",
    "USING",
    "TTL",
    "TIMESTAMP",
    "IF",
    "NOT",
    "EXISTS",
    "IN",
    "CONTAINS",
    "KEY",
    "LIKE",
    "IS",
    "NULL",
    "CREATE",
    "ALTER",
    "DROP",
    "TABLE",
    "KEYSPACE",
    "TYPE",
    "INDEX",
    "MATERIALIZED",
    "VIEW",
    "WITH",
    "PRIMARY",
    "STATIC",
    "CLUSTERING",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "COMPACT",
    "STORAGE",
    "ADD",
    "RENAME",
    "TO",
    "TRUNCATE",
    "USE",
    "JSON",
    "DISTINCT",
    "AS",
    "CAST",
    "TOKEN",
    "LIMIT",
    "PER",
    "PARTITION",
    "GROUP",
    "ALLOW",
    "FILTERING",
    "DEFAULT",
    "UNSET",
    "count",
    "writetime",
    "ttl",
    "frozen",
    "list",
    "set",
    "map",
    "tuple",
    "vector",
    "int",
    "text",
    "uuid",
    "ANN",
    "OF",
    "MASKED",
    "CUSTOM",
    "ON",
    "a",
    "b",
    "k",
    "ks",
    "t",
    "v",
    "\"Q\"",
    "\"\"",
    "1",
    "-1",
    "1.5",
    "1e3",
    "NaN",
    "-Infinity",
    "'s'",
    "'it''s'",
    "$$d$$",
    "true",
    "0x0f",
    "1h",
    "P1D",
    "123e4567-e89b-12d3-a456-426614174000",
    "?",
    ":n",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<",
    ">",
    "<=",
    ">=",
    "=",
    "!=",
    ",",
    ";",
    ".",
    "..",
    "*",
    "+",
    "-",
    "/",
    "%",
    ":",
    "+=",
    "-=",
    "expr(",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (prop::sample::select(VOCABULARY), prop::bool::weighted(0.85)),
        0..40,
    )
    .prop_map(|toks| {
        let mut s = String::new();
        for (tok, space) in toks {
            s.push_str(tok);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

// ---- generators of valid CQL text ----

const IDENTS: &[&str] = &[
    "a",
    "b2",
    "col_x",
    "MixedCase",
    "key",
    "type",
    "ttl",
    "count",
    "json",
    "distinct",
    "values",
    "as",
    "map",
    "list",
    "frozen",
    "text",
    "int",
    "timestamp",
    "exists",
    "static",
    "filtering",
    "writetime",
    "cast",
    "\"Quoted\"",
    "\"with space\"",
    "\"select\"",
    "\"a\"\"b\"",
    "\"TABLE\"",
    "\"true\"",
    "\"1abc\"",
];

fn ident() -> impl Strategy<Value = String> {
    prop::sample::select(IDENTS).prop_map(str::to_string)
}

fn constant() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<i32>(), 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
        (-20i32..20).prop_map(|e| format!("2.5e{e}")),
        "[a-z' ]{0,8}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        "[a-z' ]{0,8}".prop_map(|s| format!("$${s}$$")),
        Just("true".to_string()),
        Just("FALSE".to_string()),
        Just("NaN".to_string()),
        Just("-NaN".to_string()),
        Just("Infinity".to_string()),
        Just("-Infinity".to_string()),
        Just("0xCAFE".to_string()),
        Just("1h30m".to_string()),
        Just("-2d".to_string()),
        Just("PT1H".to_string()),
        Just("50e8400-e29b-41d4-a716-446655440000".replace("50e", "550e")),
        Just("null".to_string()),
        Just("?".to_string()),
        ident().prop_map(|i| format!(":{i}")),
    ]
}

const TYPES: &[&str] = &[
    "int",
    "text",
    "bigint",
    "uuid",
    "blob",
    "frozen<address>",
    "ks.udt",
    "\"Udt\"",
];

fn cql_type() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(TYPES).prop_map(str::to_string);
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| format!("list<{t}>")),
            inner.clone().prop_map(|t| format!("set<{t}>")),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| format!("map<{k}, {v}>")),
            prop::collection::vec(inner.clone(), 1..3)
                .prop_map(|ts| format!("tuple<{}>", ts.join(", "))),
            inner.clone().prop_map(|t| format!("frozen<list<{t}>>")),
            (inner, 1u32..10).prop_map(|(t, n)| format!("vector<{t}, {n}>")),
        ]
    })
}

fn term() -> impl Strategy<Value = String> {
    constant().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(inner.clone(), 1..3)
                .prop_map(|v| format!("{{{}}}", v.join(", "))),
            prop::collection::vec((inner.clone(), inner.clone()), 1..3).prop_map(|v| format!(
                "{{{}}}",
                v.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            prop::collection::vec((ident(), inner.clone()), 1..3).prop_map(|v| format!(
                "{{{}}}",
                v.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| format!("({})", v.join(", "))),
            (
                prop::sample::select(&["now", "f", "ks.g", "token", "count", "\"Fn\""][..]),
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(f, v)| format!("{f}({})", v.join(", "))),
            // Type hints, casts and negation apply to a simple term.
            (cql_type(), inner.clone()).prop_map(|(t, v)| format!("({t}) ({v})")),
            (
                inner.clone(),
                prop::sample::select(&["+", "-", "*", "/", "%"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|v| format!("- ({v})")),
            inner.prop_map(|v| format!("CAST(({v}) AS text)")),
        ]
    })
}

fn selector() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        ident(),
        constant(),
        Just("count(*)".to_string()),
        ident().prop_map(|c| format!("writetime({c})")),
        ident().prop_map(|c| format!("ttl({c})")),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("f({})", v.join(", "))),
            (inner.clone(), ident()).prop_map(|(s, f)| format!("{s} .{f}")),
            (inner.clone(), constant()).prop_map(|(s, e)| format!("{s}[{e}]")),
            (inner.clone(), constant()).prop_map(|(s, e)| format!("{s}[{e}..]")),
            (
                inner.clone(),
                prop::sample::select(&["+", "-", "*"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|s| format!("- {s}")),
            inner.clone().prop_map(|s| format!("({s})")),
            inner.clone().prop_map(|s| format!("(int) ({s})")),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(", "))),
            // A parenthesized selector before `AS` would read as a type hint.
            inner.prop_map(|s| if s.ends_with(')') {
                format!("CAST({s} + 1 AS int)")
            } else {
                format!("CAST({s} AS int)")
            }),
        ]
    })
}

fn relation() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            ident(),
            prop::sample::select(&["=", "<", "<=", ">", ">=", "!="][..]),
            term()
        )
            .prop_map(|(c, op, t)| format!("{c} {op} {t}")),
        (ident(), prop::collection::vec(term(), 0..3))
            .prop_map(|(c, v)| format!("{c} IN ({})", v.join(", "))),
        ident().prop_map(|c| format!("{c} IN ?")),
        (ident(), term()).prop_map(|(c, t)| format!("{c} CONTAINS KEY {t}")),
        (ident(), term()).prop_map(|(c, t)| format!("{c} CONTAINS {t}")),
        (ident(), term(), term()).prop_map(|(c, k, t)| format!("{c}[{k}] = {t}")),
        (prop::collection::vec(ident(), 1..3), term())
            .prop_map(|(c, t)| format!("token({}) > {t}", c.join(", "))),
        (prop::collection::vec(ident(), 1..3), term())
            .prop_map(|(c, t)| format!("({}) >= ({t})", c.join(", "))),
        ident().prop_map(|c| format!("{c} IS NOT NULL")),
    ]
}

fn statement() -> impl Strategy<Value = String> {
    let select = (
        prop::sample::select(&["", "JSON ", "DISTINCT ", "JSON DISTINCT "][..]),
        prop::collection::vec((selector(), prop::option::of(ident())), 1..4),
        ident(),
        prop::collection::vec(relation(), 0..3),
        prop::option::of((ident(), prop::sample::select(&["", " ASC", " DESC"][..]))),
        prop::option::of(1u32..100),
        any::<bool>(),
    )
        .prop_map(|(mode, sels, table, rels, order, limit, filtering)| {
            let sels: Vec<String> = sels
                .into_iter()
                .map(|(s, alias)| match alias {
                    // `(x) AS a` reads as a type hint `(x)` on a column named
                    // `as`, in Cassandra too.
                    Some(a) if !s.ends_with(')') => format!("{s} AS {a}"),
                    _ => s,
                })
                .collect();
            let mut sels = sels;
            // A leading `json` / `distinct` column reads as the keyword whenever a
            // selection can follow it (ANTLR's `(K_JSON selectClause)=>` predicate:
            // `SELECT json * a` is `SELECT JSON *` and fails at `a`, in Cassandra too):
            // write such a column quoted.
            for word in ["json", "distinct"] {
                let first = &sels[0];
                let leads = first.len() >= word.len()
                    && first[..word.len()].eq_ignore_ascii_case(word)
                    && !first[word.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
                if leads {
                    sels[0] = format!("\"{word}\"{}", &first[word.len()..]);
                }
            }
            let mut q = format!("SELECT {mode}{} FROM ks.{table}", sels.join(", "));
            if !rels.is_empty() {
                q.push_str(&format!(" WHERE {}", rels.join(" AND ")));
            }
            if let Some((c, dir)) = order {
                q.push_str(&format!(" ORDER BY {c}{dir}"));
            }
            if let Some(l) = limit {
                q.push_str(&format!(" LIMIT {l}"));
            }
            if filtering {
                q.push_str(" ALLOW FILTERING");
            }
            q
        });
    let insert = (
        ident(),
        prop::collection::vec((ident(), term()), 1..4),
        any::<bool>(),
    )
        .prop_map(|(t, cols, ine)| {
            let (c, v): (Vec<_>, Vec<_>) = cols.into_iter().unzip();
            let ine = if ine { " IF NOT EXISTS" } else { "" };
            format!(
                "INSERT INTO {t} ({}) VALUES ({}){ine} USING TTL ? AND TIMESTAMP 5",
                c.join(", "),
                v.join(", ")
            )
        });
    let update = (
        ident(),
        prop::collection::vec((ident(), term(), 0u8..5), 1..4),
        relation(),
    )
        .prop_map(|(t, ops, rel)| {
            let ops: Vec<String> = ops
                .into_iter()
                .map(|(c, v, kind)| match kind {
                    0 => format!("{c} = {v}"),
                    1 => format!("{c} = {c} + {v}"),
                    2 => format!("{c}[{v}] = {v}"),
                    3 => format!("{c} -= {v}"),
                    _ => format!("{c}.f = {v}"),
                })
                .collect();
            format!("UPDATE {t} SET {} WHERE {rel}", ops.join(", "))
        });
    let create =
        (ident(), prop::collection::vec((ident(), cql_type()), 1..4)).prop_map(|(t, cols)| {
            let cols: Vec<String> = cols
                .into_iter()
                .map(|(c, ty)| format!("{c} {ty}"))
                .collect();
            format!(
                "CREATE TABLE IF NOT EXISTS {t} ({}, PRIMARY KEY (k)) WITH comment = 'x'",
                cols.join(", ")
            )
        });
    prop_oneof![select, insert, update, create]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(src in any::<String>()) {
        check_any(&src)?;
    }

    #[test]
    fn ascii_noise_never_panics(src in "[ -~\\n\\t]{0,80}") {
        check_any(&src)?;
    }

    #[test]
    fn token_soups_never_panic(src in token_soup()) {
        check_any(&src)?;
    }

    #[test]
    fn generated_statements_parse_and_round_trip(src in statement()) {
        match parse_statement(&src) {
            Ok(stmt) => assert_round_trip(&stmt, &src)?,
            // Generated text may hit grammar-action checks (e.g. a repeated
            // column in UPDATE); anything else is a generator or parser bug.
            Err(ParseError::Invalid { .. }) => {}
            Err(e) => return Err(TestCaseError::fail(format!("{src}\n{e}"))),
        }
    }

    #[test]
    fn mutated_corpus_never_panics(
        idx in 0..common::VALID.len(),
        cut_start in 0usize..400,
        cut_len in 0usize..8,
        insert in prop::sample::select(VOCABULARY),
    ) {
        let src = common::VALID[idx];
        let mut chars: Vec<char> = src.chars().collect();
        let start = cut_start.min(chars.len());
        let end = (start + cut_len).min(chars.len());
        chars.splice(start..end, format!(" {insert} ").chars());
        let mutated: String = chars.into_iter().collect();
        check_any(&mutated)?;
    }
}
