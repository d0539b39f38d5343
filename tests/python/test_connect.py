"""Connecting real clients: the Python driver's control connection, system tables, schema
metadata, token map, and cqlsh."""

from conftest import connect, run_cqlsh


def test_system_local_has_what_drivers_read(session):
    row = session.execute("SELECT * FROM system.local WHERE key = 'local'").one()
    assert row.key == "local"
    assert row.cluster_name == "Test Cluster"
    assert row.release_version.startswith("5.")
    assert row.partitioner == "org.apache.cassandra.dht.Murmur3Partitioner"
    assert row.data_center == "dc1"
    assert row.rack == "rack1"
    assert row.host_id is not None
    assert row.schema_version is not None
    assert len(row.tokens) == 16
    tokens = [int(t) for t in row.tokens]  # decimal strings, as drivers parse them
    assert all(-(2**63) < t < 2**63 for t in tokens) and len(set(tokens)) == 16


def test_peers_are_empty_on_a_single_node(session):
    assert list(session.execute("SELECT * FROM system.peers")) == []
    assert list(session.execute("SELECT peer, host_id, rpc_address, schema_version FROM system.peers")) == []


def test_driver_metadata_sees_keyspaces_tables_and_token_map(session, keyspace):
    session.execute("CREATE TABLE t (k int, c text, v list<int>, s int static, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)")
    cluster = session.cluster
    cluster.refresh_schema_metadata()
    ks = cluster.metadata.keyspaces[keyspace]
    t = ks.tables["t"]
    assert [c.name for c in t.partition_key] == ["k"]
    assert [c.name for c in t.clustering_key] == ["c"]
    assert t.columns["v"].cql_type == "list<int>"
    assert t.columns["s"].is_static
    assert t.clustering_key[0].is_reversed
    assert "system" in cluster.metadata.keyspaces
    assert "system_schema" in cluster.metadata.keyspaces
    # The token map routes to this node.
    hosts = cluster.metadata.get_replicas(keyspace, b"\x00\x00\x00\x01")
    assert len(hosts) == 1


def test_cqlsh_connects_creates_inserts_selects_and_describes(node):
    code, out, err = run_cqlsh(
        node.port,
        "CREATE KEYSPACE IF NOT EXISTS cqlsh_ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};"
        "CREATE TABLE IF NOT EXISTS cqlsh_ks.t (k int PRIMARY KEY, v text);"
        "INSERT INTO cqlsh_ks.t (k, v) VALUES (1, 'one');"
        "SELECT * FROM cqlsh_ks.t;"
        "DESCRIBE TABLE cqlsh_ks.t;",
    )
    assert code == 0, err
    assert "one" in out
    assert "(1 rows)" in out
    assert "CREATE TABLE cqlsh_ks.t" in out
    assert "PRIMARY KEY" in out


def test_cqlsh_reports_errors(node):
    code, out, err = run_cqlsh(node.port, "SELECT * FROM nosuchks.t;")
    assert code != 0
    assert "nosuchks" in (out + err)


def test_schema_agreement_after_ddl(session, keyspace):
    f = session.execute_async("CREATE TABLE agree (k int PRIMARY KEY)")
    f.result()
    assert f.is_schema_agreed


def test_driver_with_lz4_compression(node):
    """LZ4 (the lz4 package is installed with the test requirements) is negotiated and used."""
    import lz4  # noqa: F401  (fails the test if the requirement is missing)
    cluster, s = connect(node.port, compression="lz4")
    try:
        assert s.execute("SELECT release_version FROM system.local").one()[0].startswith("5.")
        assert cluster.control_connection._connection.compressor is not None  # negotiated
    finally:
        cluster.shutdown()
