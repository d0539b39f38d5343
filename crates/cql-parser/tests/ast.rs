//! Structural checks: the parser builds the trees Cassandra's grammar
//! implies (ambiguities resolved the same way, markers numbered in order).

use meridian_cql_parser::*;

fn parse(cql: &str) -> Statement {
    parse_statement(cql).unwrap_or_else(|e| panic!("{cql}: {e}"))
}

fn select(cql: &str) -> SelectStatement {
    match parse(cql) {
        Statement::Select(s) => s,
        other => panic!("not a select: {other:?}"),
    }
}

fn update(cql: &str) -> UpdateStatement {
    match parse(cql) {
        Statement::Update(s) => s,
        other => panic!("not an update: {other:?}"),
    }
}

fn insert_values(cql: &str) -> Vec<Term> {
    match parse(cql) {
        Statement::Insert(InsertStatement {
            values: InsertValues::Values { values, .. },
            ..
        }) => values,
        other => panic!("not an insert: {other:?}"),
    }
}

fn id(s: &str) -> Identifier {
    Identifier::new(s)
}

fn int(s: &str) -> Term {
    Term::Constant(Constant::Integer(s.to_string()))
}

#[test]
fn bind_markers_are_numbered_in_source_order() {
    let stmt = parse("UPDATE t USING TTL ? SET a = :x, m[?] = ? WHERE k = :k AND c IN ? IF v = ?");
    let markers = stmt.bind_markers();
    let names: Vec<_> = markers
        .iter()
        .map(|m| (m.index, m.name.as_ref().map(|n| n.as_str())))
        .collect();
    assert_eq!(
        names,
        vec![
            (0, None),
            (1, Some("x")),
            (2, None),
            (3, None),
            (4, Some("k")),
            (5, None),
            (6, None)
        ]
    );
    assert_eq!(stmt.bind_marker_count(), 7);

    let batch = parse(
        "BEGIN BATCH USING TIMESTAMP ? INSERT INTO t (k, v) VALUES (?, ?); DELETE FROM t WHERE k = ?; APPLY BATCH",
    );
    assert_eq!(batch.bind_marker_count(), 4);
    assert_eq!(batch.bind_markers()[3].index, 3);

    let sel = parse("SELECT f(?), :a FROM t WHERE (a, b) IN (?, ?) AND token(k) > ? ORDER BY v ANN OF ? PER PARTITION LIMIT ? LIMIT ?");
    assert_eq!(sel.bind_marker_count(), 8);
    assert_eq!(parse("INSERT INTO t JSON ?").bind_marker_count(), 1);
    assert_eq!(
        parse("CREATE TABLE t (k int PRIMARY KEY)").bind_marker_count(),
        0
    );

    // Each statement of a multi-statement string numbers from zero.
    let many =
        parse_statements("SELECT * FROM t WHERE k = ?; SELECT * FROM t WHERE k = ? AND c = ?")
            .unwrap();
    assert_eq!(many[1].bind_markers()[0].index, 0);
    assert_eq!(many[1].bind_marker_count(), 2);
}

#[test]
fn identifiers_are_case_resolved() {
    let s = select("SELECT MyCol, \"MyCol\", \"a\"\"b\" FROM MyKs.\"MyTable\"");
    let Selection::Items(items) = &s.selection else {
        panic!()
    };
    let cols: Vec<_> = items.iter().map(|i| i.selector.clone()).collect();
    assert_eq!(
        cols,
        vec![
            Selector::Column(id("mycol")),
            Selector::Column(id("MyCol")),
            Selector::Column(id("a\"b"))
        ]
    );
    assert_eq!(
        s.table,
        QualifiedName {
            keyspace: Some(id("myks")),
            name: id("MyTable")
        }
    );
    assert_eq!(
        s.to_string(),
        "SELECT mycol, \"MyCol\", \"a\"\"b\" FROM myks.\"MyTable\""
    );
}

#[test]
fn unreserved_keywords_are_identifiers() {
    let s = select(
        "SELECT key, type, ttl, writetime, count, json, values, filtering, as FROM key.type",
    );
    let Selection::Items(items) = &s.selection else {
        panic!()
    };
    assert_eq!(items.len(), 9);
    assert!(items
        .iter()
        .all(|i| matches!(i.selector, Selector::Column(_))));
    assert_eq!(
        s.table,
        QualifiedName {
            keyspace: Some(id("key")),
            name: id("type")
        }
    );
    // Reserved keywords must be quoted, and print quoted.
    let s = select("SELECT \"select\", \"FROM\" FROM \"table\"");
    assert_eq!(s.to_string(), "SELECT \"select\", \"FROM\" FROM \"table\"");
}

#[test]
fn json_and_distinct_ambiguities() {
    let s = select("SELECT json FROM t");
    assert!(!s.json);
    assert_eq!(
        s.selection,
        Selection::Items(vec![SelectItem {
            selector: Selector::Column(id("json")),
            alias: None
        }])
    );
    let s = select("SELECT JSON json FROM t");
    assert!(s.json);
    let s = select("SELECT distinct, json FROM t");
    assert!(!s.distinct && !s.json);
    let s = select("SELECT DISTINCT distinct FROM t");
    assert!(s.distinct);
    let s = select("SELECT JSON DISTINCT a FROM t");
    assert!(s.json && s.distinct);
    // Printing quotes a leading json/distinct column so it cannot turn into
    // the keyword.
    let s = select("SELECT \"json\"[0] FROM t");
    assert!(!s.json);
    assert_eq!(s.to_string(), "SELECT \"json\"[0] FROM t");
    assert_eq!(parse(&s.to_string()), Statement::Select(s));
}

#[test]
fn collection_literals() {
    let v =
        insert_values("INSERT INTO t (a, b, c, d, e, f) VALUES ({}, {1}, {1: 2}, {x: 1}, [], (1))");
    assert_eq!(v[0], Term::Set(vec![]));
    assert_eq!(v[1], Term::Set(vec![int("1")]));
    assert_eq!(v[2], Term::Map(vec![(int("1"), int("2"))]));
    assert_eq!(v[3], Term::UserType(vec![(id("x"), int("1"))]));
    assert_eq!(v[4], Term::List(vec![]));
    assert_eq!(v[5], Term::Tuple(vec![int("1")]));
}

#[test]
fn constants_keep_their_text() {
    let v = insert_values(
        "INSERT INTO t (a) VALUES (-12, 1.5e3, NaN, -NaN, Infinity, -Infinity, TRUE, 'it''s', $$x'y$$, 0xFF, 1h30m, P1D, \
         01234567-89ab-cdef-0123-456789abcdef, 123456789012345678901234567890)",
    );
    let expected = [
        Constant::Integer("-12".into()),
        Constant::Float("1.5e3".into()),
        Constant::Float("NaN".into()),
        Constant::Float("NaN".into()),
        Constant::Float("Infinity".into()),
        Constant::Float("-Infinity".into()),
        Constant::Boolean(true),
        Constant::String("it's".into()),
        Constant::String("x'y".into()),
        Constant::Hex("0xFF".into()),
        Constant::Duration("1h30m".into()),
        Constant::Duration("P1D".into()),
        Constant::Uuid("01234567-89ab-cdef-0123-456789abcdef".into()),
        Constant::Integer("123456789012345678901234567890".into()),
    ];
    let got: Vec<_> = v.into_iter().collect();
    assert_eq!(
        got,
        expected.into_iter().map(Term::Constant).collect::<Vec<_>>()
    );
}

#[test]
fn arithmetic_precedence_and_negation() {
    let v = insert_values("INSERT INTO t (a) VALUES (1 + 2 * 3 - 4, - 5, -5, (int) ? % 2)");
    let b = |op, l, r| Term::Binary {
        op,
        left: Box::new(l),
        right: Box::new(r),
    };
    assert_eq!(
        v[0],
        b(
            ArithmeticOp::Sub,
            b(
                ArithmeticOp::Add,
                int("1"),
                b(ArithmeticOp::Mul, int("2"), int("3"))
            ),
            int("4")
        )
    );
    assert_eq!(v[1], Term::Negate(Box::new(int("5"))));
    assert_eq!(v[2], int("-5"));
    assert_eq!(
        v[3],
        b(
            ArithmeticOp::Mod,
            Term::TypeHint {
                ty: CqlType::Native(NativeType::Int),
                term: Box::new(Term::BindMarker(BindMarker {
                    index: 0,
                    name: None
                }))
            },
            int("2")
        )
    );
}

#[test]
fn update_operations() {
    let u = update(
        "UPDATE t SET c = c + 1, d = d - 2, e = e -3, l = [1] + l, f += 4, g -= 5, m['k'] = 'v', u.f = 1, s = {1} WHERE k = 0",
    );
    use Assignment::*;
    assert_eq!(
        u.assignments,
        vec![
            Add {
                column: id("c"),
                value: int("1")
            },
            Subtract {
                column: id("d"),
                value: int("2")
            },
            Add {
                column: id("e"),
                value: int("-3")
            },
            Prepend {
                column: id("l"),
                value: Term::List(vec![int("1")])
            },
            Add {
                column: id("f"),
                value: int("4")
            },
            Subtract {
                column: id("g"),
                value: int("5")
            },
            SetElement {
                column: id("m"),
                key: Term::Constant(Constant::String("k".into())),
                value: Term::Constant(Constant::String("v".into()))
            },
            SetField {
                column: id("u"),
                field: id("f"),
                value: int("1")
            },
            Set {
                column: id("s"),
                value: Term::Set(vec![int("1")])
            },
        ]
    );
}

#[test]
fn conditions() {
    let u = update("UPDATE t SET v = 1 WHERE k = 0 IF EXISTS");
    assert!(u.if_exists && u.conditions.is_empty());
    let u = update("UPDATE t SET v = 1 WHERE k = 0 IF exists = 1 AND m[1] IN (1, 2) AND u.f > 3 AND s CONTAINS KEY 4");
    assert!(!u.if_exists);
    assert_eq!(u.conditions.len(), 4);
    assert_eq!(u.conditions[0].column, id("exists"));
    assert_eq!(u.conditions[1].target, ConditionTarget::Element(int("1")));
    assert_eq!(u.conditions[2].target, ConditionTarget::Field(id("f")));
    assert_eq!(u.conditions[3].op, ConditionOp::ContainsKey(int("4")));
}

#[test]
fn relations() {
    let s = select(
        "SELECT * FROM t WHERE token(a, b) > token(?) AND (c, d) >= (1, 2) AND (c, d) IN ((1, 2)) AND e IN ? \
         AND m['k'] = 1 AND l CONTAINS 3 AND n LIKE 'a%' AND o IS NOT NULL AND expr(idx, 'q')",
    );
    assert!(
        matches!(&s.where_clause[0], Relation::Token { columns, op: ComparisonOp::Gt, .. } if columns.len() == 2)
    );
    assert!(matches!(
        &s.where_clause[1],
        Relation::MultiColumnCompare {
            value: Term::Tuple(_),
            ..
        }
    ));
    assert!(
        matches!(&s.where_clause[2], Relation::MultiColumnIn { values: InValues::Terms(t), .. } if t.len() == 1)
    );
    assert!(matches!(
        &s.where_clause[3],
        Relation::In {
            values: InValues::Marker(_),
            ..
        }
    ));
    assert!(matches!(&s.where_clause[4], Relation::MapElement { .. }));
    assert!(matches!(
        &s.where_clause[5],
        Relation::Contains { key: false, .. }
    ));
    assert!(matches!(&s.where_clause[6], Relation::Like { .. }));
    assert!(matches!(&s.where_clause[7], Relation::IsNotNull { .. }));
    assert!(matches!(&s.where_clause[8], Relation::CustomIndex { .. }));
    // A parenthesized relation is not a tuple of one column.
    let s = select("SELECT * FROM t WHERE (a) = (1) AND (b = 2)");
    assert!(matches!(
        &s.where_clause[0],
        Relation::MultiColumnCompare { .. }
    ));
    assert!(matches!(&s.where_clause[1], Relation::Compare { .. }));
}

#[test]
fn selectors() {
    let s = select("SELECT count(*), count(1), writetime(m['a']), CAST(a AS text), ks.f(b), u.f[1..2], (int) c FROM t");
    let Selection::Items(items) = &s.selection else {
        panic!()
    };
    assert_eq!(items[0].selector, Selector::CountRows);
    assert!(
        matches!(&items[1].selector, Selector::Function { name, args } if name.name.as_str() == "count" && args.len() == 1)
    );
    assert!(
        matches!(&items[2].selector, Selector::Writetime { kind: WritetimeKind::Writetime, target } if matches!(**target, Selector::Element { .. }))
    );
    assert!(matches!(
        &items[3].selector,
        Selector::Cast {
            ty: NativeType::Text,
            ..
        }
    ));
    assert!(
        matches!(&items[4].selector, Selector::Function { name, .. } if name.keyspace == Some(id("ks")))
    );
    assert!(matches!(
        &items[5].selector,
        Selector::Slice {
            from: Some(_),
            to: Some(_),
            ..
        }
    ));
    assert!(matches!(&items[6].selector, Selector::TypeHint { .. }));
    // `(a)` is a parenthesized selector, `(a) b` a type hint.
    let s = select("SELECT (a), (a) b FROM t");
    let Selection::Items(items) = &s.selection else {
        panic!()
    };
    assert_eq!(
        items[0].selector,
        Selector::Tuple(vec![Selector::Column(id("a"))])
    );
    assert!(matches!(
        &items[1].selector,
        Selector::TypeHint {
            ty: CqlType::UserDefined(_),
            ..
        }
    ));
}

#[test]
fn types() {
    let Statement::CreateTable(t) =
        parse("CREATE TABLE t (k int PRIMARY KEY, a frozen<map<text, list<int>>>, b vector<float, 5>, c ks.\"Udt\", d tuple<int, text>)")
    else {
        panic!()
    };
    assert_eq!(
        t.columns[1].ty,
        CqlType::Frozen(Box::new(CqlType::Map(
            Box::new(CqlType::Native(NativeType::Text)),
            Box::new(CqlType::List(Box::new(CqlType::Native(NativeType::Int))))
        )))
    );
    assert_eq!(
        t.columns[2].ty,
        CqlType::Vector(Box::new(CqlType::Native(NativeType::Float)), 5)
    );
    assert_eq!(
        t.columns[3].ty,
        CqlType::UserDefined(QualifiedName {
            keyspace: Some(id("ks")),
            name: id("Udt")
        })
    );
    assert!(t.columns[0].primary_key);
}

#[test]
fn table_definition() {
    let Statement::CreateTable(t) = parse(
        "CREATE TABLE IF NOT EXISTS ks.t (a int, b int, c text, s int STATIC, PRIMARY KEY ((a, b), c)) \
         WITH CLUSTERING ORDER BY (c DESC) AND compaction = {'class': 'LeveledCompactionStrategy'} AND COMPACT STORAGE",
    ) else {
        panic!()
    };
    assert!(t.if_not_exists);
    assert_eq!(
        t.primary_keys,
        vec![PrimaryKey {
            partition_key: vec![id("a"), id("b")],
            clustering_columns: vec![id("c")]
        }]
    );
    assert!(t.columns[3].is_static);
    assert_eq!(
        t.options[0],
        TableOption::ClusteringOrder(vec![ClusteringOrder {
            column: id("c"),
            order: Order::Desc
        }])
    );
    assert_eq!(
        t.options[1],
        TableOption::Property(Property {
            name: id("compaction"),
            value: PropertyValue::Map(vec![(
                Constant::String("class".into()),
                Constant::String("LeveledCompactionStrategy".into())
            )])
        })
    );
    assert_eq!(t.options[2], TableOption::CompactStorage);
}

#[test]
fn keyspace_properties() {
    let Statement::CreateKeyspace(k) = parse(
        "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3} AND durable_writes = false",
    ) else {
        panic!()
    };
    let Some(PropertyValue::Map(repl)) = find_property(&k.properties, "replication") else {
        panic!()
    };
    assert_eq!(repl.len(), 2);
    assert_eq!(repl[1].1.raw_text(), "3");
    assert_eq!(
        find_property(&k.properties, "durable_writes"),
        Some(&PropertyValue::Constant(Constant::Boolean(false)))
    );
}

#[test]
fn using_attributes() {
    let Statement::Insert(i) =
        parse("INSERT INTO t (k) VALUES (1) USING TTL 5 AND TIMESTAMP 10 AND TTL 7")
    else {
        panic!()
    };
    assert_eq!(i.using.ttl(), Some(&int("7")));
    assert_eq!(i.using.timestamp(), Some(&int("10")));
}

#[test]
fn statement_kinds() {
    assert_eq!(parse("TRUNCATE t").kind_name(), "TRUNCATE");
    assert_eq!(parse("CREATE INDEX ON t (v)").kind_name(), "CREATE INDEX");
    assert_eq!(
        parse("DROP MATERIALIZED VIEW v").kind_name(),
        "DROP MATERIALIZED VIEW"
    );
}
