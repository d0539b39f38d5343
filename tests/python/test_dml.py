"""Writes, every kind of delete, TTL expiry, batches, conditional statements, paging."""

import time

import pytest
from cassandra import InvalidRequest
from cassandra.query import BatchStatement, BatchType, SimpleStatement


def rows(session, q, *args):
    return [tuple(r) for r in session.execute(q, args)]


def test_every_kind_of_delete(session, keyspace):
    session.execute("CREATE TABLE d (k int, c int, v int, w int, s int static, l list<int>, m map<int, text>, PRIMARY KEY (k, c))")
    ins = session.prepare("INSERT INTO d (k, c, v, w, l, m) VALUES (?, ?, ?, ?, ?, ?)")
    for c in range(10):
        session.execute(ins, (1, c, c, c, [1, 2, 3], {1: "a", 2: "b"}))
    session.execute("UPDATE d SET s = 5 WHERE k = 1")
    session.execute("DELETE v FROM d WHERE k = 1 AND c = 0")                 # a cell
    session.execute("DELETE FROM d WHERE k = 1 AND c = 1")                    # a row
    session.execute("DELETE FROM d WHERE k = 1 AND c >= 5 AND c < 8")         # a range
    session.execute("DELETE m[1] FROM d WHERE k = 1 AND c = 2")               # a map element
    session.execute("DELETE l[0] FROM d WHERE k = 1 AND c = 3")               # a list element
    session.execute("DELETE s FROM d WHERE k = 1")                            # a static column
    got = rows(session, "SELECT c, v, w, s, l, m FROM d WHERE k = 1")
    assert [r[0] for r in got] == [0, 2, 3, 4, 8, 9]
    assert got[0][1] is None and got[0][2] == 0
    assert got[1][5] == {2: "b"}
    assert got[2][4] == [2, 3]
    assert all(r[3] is None for r in got)
    session.execute("DELETE FROM d WHERE k = 1")                              # a partition
    assert rows(session, "SELECT * FROM d WHERE k = 1") == []


def test_collections_updates(session, keyspace):
    session.execute("CREATE TABLE col (k int PRIMARY KEY, l list<int>, s set<int>, m map<text, int>)")
    session.execute("INSERT INTO col (k, l, s, m) VALUES (1, [1], {1}, {'a': 1})")
    session.execute("UPDATE col SET l = l + [2], s = s + {3, 2}, m['b'] = 2 WHERE k = 1")
    session.execute("UPDATE col SET l = [0] + l WHERE k = 1")
    session.execute("UPDATE col SET l[1] = 10, s = s - {1}, m = m - {'a'} WHERE k = 1")
    r = session.execute("SELECT l, s, m FROM col WHERE k = 1").one()
    assert r.l == [0, 10, 2]
    assert set(r.s) == {2, 3}
    assert dict(r.m) == {"b": 2}


def test_ttl_expiry_and_writetime(session, keyspace):
    session.execute("CREATE TABLE ttl (k int PRIMARY KEY, v int, w int)")
    session.execute("INSERT INTO ttl (k, v) VALUES (1, 1) USING TTL 2 AND TIMESTAMP 1000")
    session.execute("UPDATE ttl SET w = 2 WHERE k = 1")
    r = session.execute("SELECT v, w, ttl(v), writetime(v) FROM ttl WHERE k = 1").one()
    assert r.v == 1 and r.w == 2 and 0 < r[2] <= 2 and r[3] == 1000
    time.sleep(3.2)
    r = session.execute("SELECT v, w FROM ttl WHERE k = 1").one()
    assert r.v is None and r.w == 2
    session.execute("CREATE TABLE dttl (k int PRIMARY KEY, v int) WITH default_time_to_live = 1")
    session.execute("INSERT INTO dttl (k, v) VALUES (1, 1)")
    time.sleep(2.2)
    assert rows(session, "SELECT * FROM dttl") == []


def test_batches(session, keyspace):
    session.execute("CREATE TABLE b (k int, c int, v text, PRIMARY KEY (k, c))")
    session.execute(
        "BEGIN BATCH USING TIMESTAMP 100 "
        "INSERT INTO b (k, c, v) VALUES (1, 1, 'a'); "
        "INSERT INTO b (k, c, v) VALUES (2, 1, 'b'); "
        "UPDATE b SET v = 'c' WHERE k = 1 AND c = 2; "
        "APPLY BATCH"
    )
    assert rows(session, "SELECT writetime(v) FROM b WHERE k = 1 AND c = 1") == [(100,)]
    ins = session.prepare("INSERT INTO b (k, c, v) VALUES (?, ?, ?)")
    for kind in (BatchType.LOGGED, BatchType.UNLOGGED):
        batch = BatchStatement(batch_type=kind)
        for c in range(10, 20):
            batch.add(ins, (3, c, str(c)))
        batch.add(SimpleStatement("DELETE FROM b WHERE k = 3 AND c = 10"))
        session.execute(batch)
    assert len(rows(session, "SELECT * FROM b WHERE k = 3")) == 9


def test_conditional_statements(session, keyspace):
    session.execute("CREATE TABLE lwt (k int PRIMARY KEY, v int, w text)")
    r = session.execute("INSERT INTO lwt (k, v, w) VALUES (1, 1, 'x') IF NOT EXISTS").one()
    assert r[0] is True
    r = session.execute("INSERT INTO lwt (k, v, w) VALUES (1, 2, 'y') IF NOT EXISTS").one()
    assert r[0] is False and r.v == 1 and r.w == "x"
    r = session.execute("UPDATE lwt SET v = 3 WHERE k = 1 IF v = 2").one()
    assert r[0] is False and r.v == 1
    r = session.execute("UPDATE lwt SET v = 3 WHERE k = 1 IF v = 1").one()
    assert r[0] is True
    r = session.execute("DELETE FROM lwt WHERE k = 2 IF EXISTS").one()
    assert r[0] is False
    r = session.execute("DELETE FROM lwt WHERE k = 1 IF EXISTS").one()
    assert r[0] is True
    assert rows(session, "SELECT * FROM lwt") == []


def test_paging_through_ten_thousand_rows(session, keyspace):
    session.execute("CREATE TABLE p (k int, c int, v text, PRIMARY KEY (k, c))")
    ins = session.prepare("INSERT INTO p (k, c, v) VALUES (?, ?, ?)")
    from cassandra.concurrent import execute_concurrent_with_args
    args = [(k, c, f"{k}-{c}") for k in range(20) for c in range(600)]
    execute_concurrent_with_args(session, ins, args, concurrency=64)
    for fetch in (1000, 777, 5000):
        stmt = SimpleStatement("SELECT k, c FROM p", fetch_size=fetch)
        seen = [(r.k, r.c) for r in session.execute(stmt)]
        assert len(seen) == 12000 and len(set(seen)) == 12000
    # within one partition, reversed
    stmt = SimpleStatement("SELECT c FROM p WHERE k = 3 ORDER BY c DESC", fetch_size=77)
    assert [r.c for r in session.execute(stmt)] == list(range(599, -1, -1))
    # IN across partitions with a page boundary inside
    stmt = SimpleStatement("SELECT k, c FROM p WHERE k IN (1, 2) AND c < 100", fetch_size=30)
    assert len(list(session.execute(stmt))) == 200
    assert session.execute("SELECT count(*) FROM p").one()[0] == 12000


def test_named_markers_json_and_udt_fields(session, keyspace):
    session.execute("CREATE TYPE addr (street text, zip int)")
    session.execute("CREATE TABLE nm (k int, c int, v text, a addr, PRIMARY KEY (k, c))")
    session.execute('INSERT INTO nm JSON \'{"k": 1, "c": 2, "v": "j", "a": {"street": "x", "zip": 5}}\'')
    session.execute("UPDATE nm SET a.zip = 6 WHERE k = 1 AND c = 2")
    p = session.prepare("SELECT v, a FROM nm WHERE k = :kk AND c = :cc")
    assert p.routing_key_indexes == [0]
    r = session.execute(p, {"kk": 1, "cc": 2}).one()
    assert r.v == "j" and r.a.zip == 6 and r.a.street == "x"
    assert session.execute("SELECT JSON k, v FROM nm").one()[0] == '{"k": 1, "v": "j"}'

