"""What the DataStax Python driver sees of a server, dumped as text so that two servers (Meridian
and the reference Apache Cassandra) can be diffed: cluster and host metadata, the token map,
keyspace/table/column/type metadata as the driver parsed it, the CQL the driver generates from
that metadata, and the server's DESCRIBE output.

A fixed schema (SCHEMA below, in keyspace `driverview`) is created on the server first, so both
sides describe the same objects; the keyspace is dropped afterwards.

Values that differ by nature between two nodes (addresses, host ids, schema versions, the
token values themselves) are replaced by placeholders; their presence, type and count are kept.

Usage: python driver_view.py --host H --port P [--out FILE]
       python driver_view.py --diff A.txt B.txt      unified diff of two dumps; exit 1 if any
"""

import argparse
import difflib
import sys

KEYSPACE = "driverview"
SCHEMA = [
    f"CREATE KEYSPACE {KEYSPACE} WITH replication = {{'class': 'NetworkTopologyStrategy', 'dc1': 1}} AND durable_writes = true",
    f"CREATE TYPE {KEYSPACE}.addr (street text, \"Zip\" int, tags frozen<set<text>>)",
    f"CREATE TYPE {KEYSPACE}.person (name text, home frozen<addr>, phones list<text>)",
    f"CREATE TABLE {KEYSPACE}.plain (k int PRIMARY KEY, v text)",
    f"CREATE TABLE {KEYSPACE}.wide (a int, b text, c int, d timeuuid, s int static, l list<frozen<addr>>, "
    "m map<text, frozen<list<int>>>, p frozen<person>, t tuple<int, text>, PRIMARY KEY ((a, b), c, d)) "
    "WITH CLUSTERING ORDER BY (c DESC, d ASC) AND comment = 'wide' AND gc_grace_seconds = 100 "
    "AND default_time_to_live = 60 AND compaction = {'class': 'LeveledCompactionStrategy'}",
    f"CREATE TABLE {KEYSPACE}.\"Quoted\" (\"Key\" int, \"Col\" int, \"v v\" text, PRIMARY KEY (\"Key\", \"Col\"))",
    f"CREATE TABLE {KEYSPACE}.alltypes (k int PRIMARY KEY, a ascii, bi bigint, b blob, bo boolean, d date, "
    "de decimal, db double, du duration, f float, i inet, it int, si smallint, tx text, tm time, ts timestamp, "
    "tu timeuuid, ti tinyint, u uuid, vi varint, s set<int>, fm frozen<map<int, frozen<set<int>>>>)",
]
SAMPLE_KEYS = [0, 1, 42, -7, 123456]


def dump(host, port):
    from cassandra.cluster import Cluster
    from cassandra.metadata import Murmur3Token

    cluster = Cluster([host], port=port, connect_timeout=20)
    session = cluster.connect()
    session.default_timeout = 60
    out = []
    try:
        session.execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}")
        for stmt in SCHEMA:
            session.execute(stmt)
        cluster.refresh_schema_metadata()
        meta = cluster.metadata

        out.append("== cluster")
        out.append(f"cluster_name: {meta.cluster_name}")
        out.append(f"partitioner: {meta.partitioner}")
        out.append(f"protocol_version: {cluster.protocol_version}")
        out.append(f"schema agreement: {cluster.control_connection.wait_for_schema_agreement()}")

        out.append("== hosts")
        for h in sorted(meta.all_hosts(), key=lambda h: str(h.endpoint)):
            out.append(f"host: <address> dc={h.datacenter} rack={h.rack} up={h.is_up} "
                       f"release_version={h.release_version} dse_version={h.dse_version} "
                       f"host_id={'<uuid>' if h.host_id else None}")
        local = session.execute("SELECT * FROM system.local WHERE key = 'local'").one()
        out.append("system.local columns: " + ", ".join(sorted(local._fields)))
        out.append("system.local values: " + ", ".join(
            f"{k}={getattr(local, k)!r}" for k in ("key", "cql_version", "native_protocol_version",
                                                    "partitioner", "data_center", "rack", "bootstrapped")
            if k in local._fields))
        for table in ("peers", "peers_v2"):
            try:
                rs = session.execute(f"SELECT * FROM system.{table}")
                out.append(f"system.{table} columns: " + ", ".join(rs.column_names) + f" ({len(list(rs))} rows)")
            except Exception as e:  # part of the view: which tables a server refuses
                out.append(f"system.{table}: {type(e).__name__}")

        out.append("== token map")
        tm = meta.token_map
        if tm is None:
            out.append("token map: none")
        else:
            tokens = tm.ring
            out.append(f"token type: {type(tokens[0]).__name__ if tokens else None}")
            out.append(f"tokens in ring: {len(tokens)} (values are node-specific)")
            owners = {str(h.endpoint) for h in tm.token_to_host_owner.values()}
            out.append(f"distinct owners: {len(owners)}")
            for k in SAMPLE_KEYS:
                key = k.to_bytes(4, "big", signed=True)
                token = Murmur3Token.from_key(key)
                replicas = tm.get_replicas(KEYSPACE, token)
                out.append(f"int key {k}: token {token.value}, replicas in {KEYSPACE}: {len(replicas)}")

        out.append("== keyspaces (names; system keyspaces are the server's own)")
        for name in sorted(meta.keyspaces):
            ks = meta.keyspaces[name]
            if name.startswith("system") or name == KEYSPACE:
                strategy = ks.replication_strategy
                replication = strategy.export_for_schema() if strategy is not None else None
                out.append(f"keyspace {name}: replication={replication} "
                           f"durable_writes={ks.durable_writes} virtual={ks.virtual}")
                out.extend(f"  table {name}.{t}" for t in sorted(ks.tables))
                out.extend(f"  type {name}.{t}" for t in sorted(ks.user_types))

        ks = meta.keyspaces[KEYSPACE]
        out.append(f"== {KEYSPACE}: types")
        for name in sorted(ks.user_types):
            t = ks.user_types[name]
            out.append(f"type {name}: " + ", ".join(f"{f} {ty}" for f, ty in zip(t.field_names, t.field_types)))
        out.append(f"== {KEYSPACE}: tables")
        for name in sorted(ks.tables):
            t = ks.tables[name]
            out.append(f"table {name}:")
            out.append("  partition_key: " + ", ".join(c.name for c in t.partition_key))
            out.append("  clustering_key: " + ", ".join(f"{c.name} {'DESC' if c.is_reversed else 'ASC'}"
                                                      for c in t.clustering_key))
            for c in t.columns.values():
                out.append(f"  column {c.name}: {c.cql_type} static={c.is_static} reversed={c.is_reversed}")
            out.append(f"  is_cql_compatible={t.is_cql_compatible} virtual={t.virtual} "
                       f"indexes={sorted(t.indexes)} views={sorted(t.views)} triggers={sorted(t.triggers)}")
            for opt in sorted(t.options):
                out.append(f"  option {opt} = {t.options[opt]!r}")
        out.append(f"== {KEYSPACE}: CQL generated by the driver (export_as_string)")
        out.extend(ks.export_as_string().splitlines())
        out.append(f"== {KEYSPACE}: server-side DESCRIBE KEYSPACE")
        for row in session.execute(f"DESCRIBE KEYSPACE {KEYSPACE}"):
            out.append(f"-- {row.type} {row.name}")
            out.extend(row.create_statement.splitlines())
        out.append("== server-side DESCRIBE TABLES (the driverview rows)")
        for row in session.execute("DESCRIBE TABLES"):
            if row.keyspace_name == KEYSPACE:
                out.append(f"{row.keyspace_name} {row.type} {row.name}")
        out.append("== system_schema tables the server lists")
        for row in session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'system_schema'"):
            out.append(f"system_schema.{row.table_name}")
    finally:
        try:
            session.execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}")
        finally:
            cluster.shutdown()
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host")
    ap.add_argument("--port", type=int, default=9042)
    ap.add_argument("--out")
    ap.add_argument("--diff", nargs=2, metavar=("A", "B"))
    args = ap.parse_args(argv)
    if args.diff:
        a, b = (open(p).read().splitlines(True) for p in args.diff)
        diff = list(difflib.unified_diff(a, b, args.diff[0], args.diff[1]))
        sys.stdout.writelines(diff)
        print(f"driver view: {sum(1 for l in diff if l.startswith(('-', '+')) and not l.startswith(('---', '+++')))} differing lines")
        return 1 if diff else 0
    if not args.host:
        ap.error("--host is required unless --diff is given")
    text = dump(args.host, args.port)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
