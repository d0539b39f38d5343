//! The server-side `DESCRIBE` statement: every form of Cassandra 5.0's `describeStatement`,
//! how unreserved describe keywords double as generic names, and printing.

use meridian_cql_parser::{
    parse_statement, DescribeStatement, DescribeTarget, FunctionName, Identifier, QualifiedName,
    Statement,
};

fn describe(cql: &str) -> DescribeStatement {
    match parse_statement(cql) {
        Ok(Statement::Describe(d)) => d,
        other => panic!("{cql:?} is not a DESCRIBE: {other:?}"),
    }
}

fn target(cql: &str) -> DescribeTarget {
    let d = describe(cql);
    assert!(!d.with_internals, "{cql}");
    d.target
}

fn id(s: &str) -> Identifier {
    Identifier::new(s)
}

fn qualified(ks: Option<&str>, name: &str) -> QualifiedName {
    QualifiedName {
        keyspace: ks.map(id),
        name: id(name),
    }
}

#[test]
fn listing_and_cluster_forms() {
    assert_eq!(target("DESCRIBE CLUSTER"), DescribeTarget::Cluster);
    assert_eq!(target("desc keyspaces"), DescribeTarget::Keyspaces);
    assert_eq!(target("DESC TABLES"), DescribeTarget::Tables);
    assert_eq!(target("DESC COLUMNFAMILIES"), DescribeTarget::Tables);
    assert_eq!(target("DESC TYPES"), DescribeTarget::Types);
    assert_eq!(target("DESC FUNCTIONS"), DescribeTarget::Functions);
    assert_eq!(target("DESC AGGREGATES;"), DescribeTarget::Aggregates);
    assert_eq!(
        target("DESC SCHEMA"),
        DescribeTarget::Schema { full: false }
    );
    assert_eq!(
        target("DESC FULL SCHEMA"),
        DescribeTarget::Schema { full: true }
    );
}

#[test]
fn keyspace_forms() {
    assert_eq!(
        target("DESCRIBE KEYSPACE"),
        DescribeTarget::Keyspace {
            only: false,
            name: None
        }
    );
    assert_eq!(
        target("DESCRIBE KEYSPACE Ks"),
        DescribeTarget::Keyspace {
            only: false,
            name: Some(id("ks"))
        }
    );
    assert_eq!(
        target("DESCRIBE ONLY KEYSPACE \"Ks\""),
        DescribeTarget::Keyspace {
            only: true,
            name: Some(id("Ks"))
        }
    );
    let d = describe("DESC KEYSPACE WITH INTERNALS");
    assert!(d.with_internals);
    assert_eq!(
        d.target,
        DescribeTarget::Keyspace {
            only: false,
            name: None
        }
    );
}

#[test]
fn element_forms() {
    assert_eq!(
        target("DESCRIBE TABLE ks.T"),
        DescribeTarget::Table(qualified(Some("ks"), "t"))
    );
    assert_eq!(
        target("DESCRIBE COLUMNFAMILY t"),
        DescribeTarget::Table(qualified(None, "t"))
    );
    assert_eq!(
        target("DESCRIBE INDEX ks.i"),
        DescribeTarget::Index(qualified(Some("ks"), "i"))
    );
    assert_eq!(
        target("DESCRIBE MATERIALIZED VIEW \"V\""),
        DescribeTarget::MaterializedView(qualified(None, "V"))
    );
    assert_eq!(
        target("DESCRIBE TYPE ks.address"),
        DescribeTarget::Type(qualified(Some("ks"), "address"))
    );
    assert_eq!(
        target("DESCRIBE FUNCTION ks.MyFn"),
        DescribeTarget::Function(FunctionName {
            keyspace: Some(id("ks")),
            name: id("myfn")
        })
    );
    assert_eq!(
        target("DESCRIBE AGGREGATE agg"),
        DescribeTarget::Aggregate(FunctionName {
            keyspace: None,
            name: id("agg")
        })
    );
}

#[test]
fn generic_names() {
    assert_eq!(
        target("DESCRIBE Something"),
        DescribeTarget::Generic(qualified(None, "something"))
    );
    assert_eq!(
        target("DESCRIBE ks.\"T\""),
        DescribeTarget::Generic(qualified(Some("ks"), "T"))
    );
    // Unreserved keywords are names where no describe form applies.
    assert_eq!(
        target("DESCRIBE cluster.t"),
        DescribeTarget::Generic(qualified(Some("cluster"), "t"))
    );
    assert_eq!(
        target("DESCRIBE tables.types"),
        DescribeTarget::Generic(qualified(Some("tables"), "types"))
    );
    assert_eq!(
        target("DESCRIBE type"),
        DescribeTarget::Generic(qualified(None, "type"))
    );
    assert_eq!(
        target("DESCRIBE function"),
        DescribeTarget::Generic(qualified(None, "function"))
    );
    assert_eq!(
        target("DESCRIBE only"),
        DescribeTarget::Generic(qualified(None, "only"))
    );
    assert_eq!(
        target("DESCRIBE \"cluster\""),
        DescribeTarget::Generic(qualified(None, "cluster"))
    );
    assert_eq!(
        target("DESCRIBE ttl"),
        DescribeTarget::Generic(qualified(None, "ttl"))
    );
    let d = describe("DESC type WITH INTERNALS");
    assert!(d.with_internals);
    assert_eq!(d.target, DescribeTarget::Generic(qualified(None, "type")));
}

#[test]
fn printing_round_trips() {
    for (source, printed) in [
        ("desc cluster", "DESCRIBE CLUSTER"),
        (
            "desc full schema with internals",
            "DESCRIBE FULL SCHEMA WITH INTERNALS",
        ),
        ("desc only keyspace", "DESCRIBE ONLY KEYSPACE"),
        ("desc keyspace \"Ks\"", "DESCRIBE KEYSPACE \"Ks\""),
        ("desc table ks.t", "DESCRIBE TABLE ks.t"),
        ("desc type \"Addr\"", "DESCRIBE TYPE \"Addr\""),
        ("desc type list", "DESCRIBE TYPE list"),
        ("desc function ks.f", "DESCRIBE FUNCTION ks.f"),
        ("desc \"cluster\"", "DESCRIBE \"cluster\""),
        ("desc \"type\"", "DESCRIBE \"type\""),
        ("desc \"keyspaces\".t", "DESCRIBE \"keyspaces\".t"),
        ("desc ks.\"select\"", "DESCRIBE ks.\"select\""),
    ] {
        let stmt = parse_statement(source).unwrap();
        assert_eq!(stmt.to_string(), printed, "{source}");
        assert_eq!(parse_statement(printed).unwrap(), stmt, "{printed}");
    }
    // A generic name built by hand that collides with a describe keyword stays generic.
    for word in [
        "cluster",
        "keyspaces",
        "tables",
        "types",
        "functions",
        "aggregates",
        "only",
        "type",
        "function",
        "aggregate",
    ] {
        let stmt = Statement::Describe(DescribeStatement {
            target: DescribeTarget::Generic(qualified(None, word)),
            with_internals: false,
        });
        assert_eq!(parse_statement(&stmt.to_string()).unwrap(), stmt, "{word}");
    }
}

#[test]
fn describe_has_no_bind_markers_and_a_kind() {
    let stmt = parse_statement("DESCRIBE TABLES").unwrap();
    assert_eq!(stmt.bind_marker_count(), 0);
    assert_eq!(stmt.kind_name(), "DESCRIBE");
}
