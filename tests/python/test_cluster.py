"""A real two-region cluster (east and west, three racks each, six processes on
127.0.0.31-36) driven by the Python driver: discovery, token-aware routing, schema
agreement, Unavailable when a datacenter loses its quorum, a whole region going dark,
hinted handoff; and a one-datacenter cluster without hints for read repair.

Nodes are managed with `meridian cluster` (up/stop/start/down), as a developer would.
"""

import json
import os
import subprocess
import time
import uuid

import pytest
from cassandra import ConsistencyLevel, Unavailable
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import (DCAwareRoundRobinPolicy, TokenAwarePolicy,
                                WhiteListRoundRobinPolicy)
from cassandra.query import SimpleStatement

from conftest import BINARY

FIRST = "127.0.0.31"
ADDRS = {f"east-{i}": f"127.0.0.{30 + i}" for i in (1, 2, 3)}
ADDRS.update({f"west-{i}": f"127.0.0.{33 + i}" for i in (1, 2, 3)})
RR_FIRST = "127.0.0.41"  # the read-repair cluster: 127.0.0.41-43
CLI_TIMEOUT = 240


def cli(*args):
    r = subprocess.run([BINARY, "cluster", *map(str, args)], capture_output=True, text=True,
                       timeout=CLI_TIMEOUT)
    if r.returncode != 0:
        raise AssertionError(f"meridian cluster {' '.join(map(str, args))} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    d = tmp_path_factory.mktemp("two-regions")
    try:
        cli("up", "--dir", d, "--dc", "east=3", "--dc", "west=3", "--racks", "3",
            "--first-address", FIRST)
        yield d
    finally:
        subprocess.run([BINARY, "cluster", "down", "--dir", str(d), "--destroy"],
                       capture_output=True, timeout=CLI_TIMEOUT)


def connect(local_dc, remote_hosts=0, contact=FIRST):
    policy = TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=local_dc,
                                                      used_hosts_per_remote_dc=remote_hosts))
    profile = ExecutionProfile(load_balancing_policy=policy, request_timeout=30)
    c = Cluster([contact], port=9042, protocol_version=4, connect_timeout=15,
                execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    return c, c.connect()


def pinned(addr):
    """A session whose every request is coordinated by the node at `addr`."""
    profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([addr]),
                               request_timeout=30)
    c = Cluster([addr], port=9042, protocol_version=4, connect_timeout=15,
                execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    return c, c.connect()


def stmt(query, cl):
    return SimpleStatement(query, consistency_level=cl)


def eventually(check, timeout=30, interval=0.25, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def status(d):
    return json.loads(cli("status", "--dir", d, "--json"))


def create_keyspace(session, name, replication):
    session.execute(f"CREATE KEYSPACE {name} WITH replication = {replication}")


def test_discovery_sees_both_regions_with_their_racks(ring):
    c, s = connect("east")
    try:
        hosts = c.metadata.all_hosts()
        assert len(hosts) == 6, hosts
        by_dc = {}
        for h in hosts:
            by_dc.setdefault(h.datacenter, set()).add(h.rack)
        assert by_dc == {"east": {"rack1", "rack2", "rack3"}, "west": {"rack1", "rack2", "rack3"}}
        assert sorted(h.address for h in hosts) == sorted(ADDRS.values())
        peers = list(s.execute("SELECT peer, data_center, rack, host_id, tokens FROM system.peers"))
        assert len(peers) == 5
        assert all(len(p.tokens) == 16 for p in peers)
    finally:
        c.shutdown()


def test_schema_agreement_after_ddl_on_different_nodes(ring):
    c1, s1 = pinned(ADDRS["east-1"])
    c2, s2 = pinned(ADDRS["west-2"])
    try:
        create_keyspace(s1, "agree", "{'class': 'NetworkTopologyStrategy', 'east': 3, 'west': 3}")
        s2.execute("CREATE TABLE agree.t (k int PRIMARY KEY, v text)")
        s1.execute("CREATE TABLE agree.u (k int PRIMARY KEY, v text)")

        def versions():
            out = set()
            for addr in ADDRS.values():
                c, s = pinned(addr)
                try:
                    out.add(s.execute("SELECT schema_version FROM system.local").one().schema_version)
                finally:
                    c.shutdown()
            return out

        eventually(lambda: len(versions()) == 1, what="one schema version on all six nodes")
        # Both tables usable from either side.
        s1.execute(stmt("INSERT INTO agree.t (k, v) VALUES (1, 'a')", ConsistencyLevel.ALL))
        s2.execute(stmt("INSERT INTO agree.u (k, v) VALUES (1, 'b')", ConsistencyLevel.ALL))
        assert s2.execute(stmt("SELECT v FROM agree.t WHERE k = 1", ConsistencyLevel.ALL)).one().v == "a"
        assert s1.execute(stmt("SELECT v FROM agree.u WHERE k = 1", ConsistencyLevel.ALL)).one().v == "b"
    finally:
        c1.shutdown()
        c2.shutdown()


def test_token_aware_routing_targets_true_replicas(ring):
    c, s = connect("east")
    try:
        create_keyspace(s, "routing", "{'class': 'NetworkTopologyStrategy', 'east': 1, 'west': 1}")
        s.execute("CREATE TABLE routing.t (k int PRIMARY KEY, v int)")
        c.refresh_schema_metadata()
        ps = s.prepare("INSERT INTO routing.t (k, v) VALUES (?, ?)")
        mismatches = []
        for k in range(40):
            bound = ps.bind((k, k))
            driver = {str(h.host_id) for h in c.metadata.get_replicas("routing", bound.routing_key)}
            token = c.metadata.token_map.token_class.from_key(bound.routing_key).value
            ours = set(json.loads(admin_get(FIRST, f"/v1/replicas?keyspace=routing&token={token}")))
            if driver != ours:
                mismatches.append((k, token, driver, ours))
        assert not mismatches, mismatches
    finally:
        c.shutdown()


def admin_get(addr, path, port=7280):
    import urllib.request
    with urllib.request.urlopen(f"http://{addr}:{port}{path}", timeout=10) as r:
        return r.read().decode()


def test_unavailable_when_a_datacenter_loses_its_quorum(ring):
    c, s = connect("east")
    create_keyspace(s, "quorum", "{'class': 'NetworkTopologyStrategy', 'east': 3, 'west': 3}")
    s.execute("CREATE TABLE quorum.t (k int PRIMARY KEY, v int)")
    c.shutdown()
    cli("stop", "--dir", ring, "--node", "east-2", "--kill")
    cli("stop", "--dir", ring, "--node", "east-3", "--kill")
    try:
        ce, se = pinned(ADDRS["east-1"])
        cw, sw = pinned(ADDRS["west-1"])
        try:
            caught = {}

            def unavailable():
                try:
                    se.execute(stmt("INSERT INTO quorum.t (k, v) VALUES (1, 1)", ConsistencyLevel.LOCAL_QUORUM))
                except Unavailable as e:
                    caught["e"] = e
                    return True
                except NoHostAvailable as e:
                    # The driver retried on the next host (there is none in this session).
                    inner = [x for x in e.errors.values() if isinstance(x, Unavailable)]
                    if inner:
                        caught["e"] = inner[0]
                        return True
                    raise
                return False

            eventually(unavailable, what="east-1 to see its peers down")
            e = caught["e"]
            assert (e.required_replicas, e.alive_replicas) == (2, 1)
            assert e.consistency == ConsistencyLevel.LOCAL_QUORUM
            # West keeps serving LOCAL_QUORUM.
            sw.execute(stmt("INSERT INTO quorum.t (k, v) VALUES (2, 2)", ConsistencyLevel.LOCAL_QUORUM))
            row = sw.execute(stmt("SELECT v FROM quorum.t WHERE k = 2", ConsistencyLevel.LOCAL_QUORUM)).one()
            assert row.v == 2
            # And east-1 still serves what needs only itself.
            se.execute(stmt("INSERT INTO quorum.t (k, v) VALUES (3, 3)", ConsistencyLevel.LOCAL_ONE))
        finally:
            ce.shutdown()
            cw.shutdown()
    finally:
        cli("start", "--dir", ring, "--node", "east-2")
        cli("start", "--dir", ring, "--node", "east-3")


def test_a_region_goes_dark_and_the_client_carries_on(ring):
    c, s = connect("east", remote_hosts=3)
    try:
        create_keyspace(s, "dark", "{'class': 'NetworkTopologyStrategy', 'east': 3, 'west': 3}")
        s.execute("CREATE TABLE dark.t (k int PRIMARY KEY, v text)")
        ins = s.prepare("INSERT INTO dark.t (k, v) VALUES (?, ?)")
        ins.consistency_level = ConsistencyLevel.EACH_QUORUM
        for k in range(200):
            s.execute(ins, (k, f"v{k}"))
        cli("stop", "--dir", ring, "--dc", "east", "--kill")
        try:
            sel = s.prepare("SELECT v FROM dark.t WHERE k = ?")
            sel.consistency_level = ConsistencyLevel.LOCAL_QUORUM
            missing = []

            def read_all():
                missing.clear()
                for k in range(200):
                    row = s.execute(sel, (k,)).one()
                    if row is None or row.v != f"v{k}":
                        missing.append(k)
                return not missing

            # The driver fails over to west once east's connections are gone.
            eventually(read_all, timeout=60, what="every EACH_QUORUM write readable in west")
            ins2 = s.prepare("INSERT INTO dark.t (k, v) VALUES (?, ?)")
            ins2.consistency_level = ConsistencyLevel.LOCAL_QUORUM
            for k in range(200, 220):
                s.execute(ins2, (k, "after"))
            assert s.execute(sel, (219,)).one().v == "after"
        finally:
            cli("start", "--dir", ring, "--dc", "east")
    finally:
        c.shutdown()


def test_hints_replay_when_a_node_returns(ring):
    c, s = pinned(ADDRS["east-1"])
    try:
        create_keyspace(s, "hinted", "{'class': 'NetworkTopologyStrategy', 'east': 3, 'west': 3}")
        s.execute("CREATE TABLE hinted.t (k int PRIMARY KEY, v text)")
        cli("stop", "--dir", ring, "--node", "west-3")
        try:
            def west3_down():
                st = {n["name"]: n for n in status(ring)["nodes"]}
                return not st["west-3"]["up"]

            eventually(west3_down, what="west-3 seen down")
            ins = s.prepare("INSERT INTO hinted.t (k, v) VALUES (?, ?)")
            ins.consistency_level = ConsistencyLevel.LOCAL_QUORUM
            for k in range(100):
                s.execute(ins, (k, f"h{k}"))
            # The backlog is visible in a virtual table and in the admin API.
            west3 = {n["name"]: n for n in status(ring)["nodes"]}["west-3"]["host_id"]

            def backlog():
                rows = {str(r.host_id): r for r in s.execute("SELECT * FROM system_views.pending_hints")}
                row = rows.get(west3)
                return row is not None and row.total_hints == 100 and row.dc == "west" and row.status == "DOWN"

            eventually(backlog, what="100 hints for west-3 in system_views.pending_hints")
            api = {h["target"]: h for h in json.loads(admin_get(ADDRS["east-1"], "/v1/hints"))}
            assert api[west3]["hints"] == 100
        finally:
            cli("start", "--dir", ring, "--node", "west-3")
        # West-3 reads its own replica at ONE: every row must arrive by hint replay alone.
        c3, s3 = pinned(ADDRS["west-3"])
        try:
            sel = s3.prepare("SELECT v FROM hinted.t WHERE k = ?")
            sel.consistency_level = ConsistencyLevel.ONE

            def complete():
                return all(s3.execute(sel, (k,)).one() is not None for k in range(100))

            eventually(complete, timeout=60, what="hints replayed to west-3")
            eventually(lambda: not list(s.execute("SELECT * FROM system_views.pending_hints")),
                       what="the hint backlog to drain")
        finally:
            c3.shutdown()
    finally:
        c.shutdown()


@pytest.fixture(scope="module")
def no_hints_ring(tmp_path_factory):
    d = tmp_path_factory.mktemp("no-hints")
    try:
        cli("up", "--dir", d, "--dc", "dc1=3", "--racks", "3", "--first-address", RR_FIRST,
            "--", "--hinted-handoff-enabled", "false")
        yield d
    finally:
        subprocess.run([BINARY, "cluster", "down", "--dir", str(d), "--destroy"],
                       capture_output=True, timeout=CLI_TIMEOUT)


def test_read_repair_fixes_a_stale_replica(no_hints_ring):
    a1, a2, a3 = (f"127.0.0.{41 + i}" for i in range(3))
    c, s = pinned(a1)
    try:
        create_keyspace(s, "rr", "{'class': 'NetworkTopologyStrategy', 'dc1': 3}")
        s.execute("CREATE TABLE rr.t (k int PRIMARY KEY, v text)")
        s.execute(stmt("INSERT INTO rr.t (k, v) VALUES (1, 'old')", ConsistencyLevel.ALL))
        cli("stop", "--dir", no_hints_ring, "--node", "dc1-3")
        try:
            def written():
                s.execute(stmt("INSERT INTO rr.t (k, v) VALUES (1, 'new')", ConsistencyLevel.QUORUM))
                return True

            eventually(written, what="a QUORUM write without dc1-3")
        finally:
            cli("start", "--dir", no_hints_ring, "--node", "dc1-3")
        c3, s3 = pinned(a3)
        try:
            one = stmt("SELECT v FROM rr.t WHERE k = 1", ConsistencyLevel.ONE)
            assert s3.execute(one).one().v == "old", "dc1-3 should be stale (no hints)"
            row = s.execute(stmt("SELECT v FROM rr.t WHERE k = 1", ConsistencyLevel.ALL)).one()
            assert row.v == "new"
            assert s3.execute(one).one().v == "new", "read repair did not fix dc1-3"
        finally:
            c3.shutdown()
    finally:
        c.shutdown()


def test_a_restarted_node_alone_never_acts_as_the_whole_cluster(no_hints_ring):
    """Regression: after a full restart, a node that has not heard from its peers yet must
    still know them (from its peers file) and refuse QUORUM, not write locally alone."""
    cli("stop", "--dir", no_hints_ring)
    cli("start", "--dir", no_hints_ring, "--node", "dc1-1")
    try:
        c, s = pinned(RR_FIRST)
        try:
            peers = list(s.execute("SELECT peer FROM system.peers"))
            assert len(peers) == 2, peers
            with pytest.raises((Unavailable, NoHostAvailable)):
                s.execute(stmt("INSERT INTO rr.t (k, v) VALUES (2, 'x')", ConsistencyLevel.QUORUM))
            s.execute(stmt("INSERT INTO rr.t (k, v) VALUES (2, 'y')", ConsistencyLevel.ONE))
        finally:
            c.shutdown()
    finally:
        cli("start", "--dir", no_hints_ring)
