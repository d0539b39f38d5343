"""Every CQL type round-trips through prepared statements and literals."""

import datetime
import decimal
import ipaddress
import uuid

import pytest
from cassandra.util import Date, Duration, Time

VALUES = [
    ("ascii", "hello"),
    ("bigint", -9223372036854775808),
    ("blob", b"\x00\x01\xff"),
    ("boolean", True),
    ("date", Date(datetime.date(2024, 2, 29))),
    ("decimal", decimal.Decimal("-12345.6789")),
    ("double", 3.5e300),
    ("duration", Duration(1, 2, 3000000000)),
    ("float", 1.5),
    ("inet", "192.168.1.1"),
    ("int", -2147483648),
    ("smallint", -32768),
    ("text", "héllo wörld ✓"),
    ("time", Time(45296789000123)),
    ("timestamp", datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)),
    ("timeuuid", uuid.UUID("d2177dd0-eaa2-11de-a572-001b779c76e3")),
    ("tinyint", -128),
    ("uuid", uuid.UUID("123e4567-e89b-12d3-a456-426614174000")),
    ("varint", 123456789012345678901234567890),
    ("list<int>", [3, 1, 2]),
    ("set<text>", {"b", "a"}),
    ("map<text, int>", {"x": 1, "y": 2}),
    ("frozen<list<frozen<set<int>>>>", [{1, 2}, {3}]),
    ("tuple<int, text, boolean>", (1, "a", False)),
    ("frozen<map<int, frozen<tuple<int, text>>>>", {1: (2, "b")}),
]


@pytest.mark.parametrize("cql_type,value", VALUES, ids=[v[0] for v in VALUES])
def test_round_trip(session, keyspace, cql_type, value):
    session.execute(f"CREATE TABLE rt (k int PRIMARY KEY, v {cql_type})")
    ins = session.prepare("INSERT INTO rt (k, v) VALUES (?, ?)")
    session.execute(ins, (1, value))
    got = session.execute("SELECT v FROM rt WHERE k = 1").one().v
    if cql_type == "set<text>":
        assert set(got) == value
    elif cql_type == "frozen<list<frozen<set<int>>>>":
        assert [set(x) for x in got] == value
    elif cql_type == "inet":
        assert ipaddress.ip_address(got) == ipaddress.ip_address(value)
    elif cql_type.startswith("map") or cql_type.startswith("frozen<map"):
        assert dict(got) == value
    else:
        assert got == value
    session.execute("DROP TABLE rt")


def test_udt_round_trip(session, keyspace):
    session.execute("CREATE TYPE address (street text, zip int)")
    session.execute("CREATE TABLE people (k int PRIMARY KEY, home frozen<address>, others list<frozen<address>>)")
    session.execute("INSERT INTO people (k, home, others) VALUES (1, {street: 'Main', zip: 12345}, [{street: 'A', zip: 1}])")
    row = session.execute("SELECT home, others FROM people WHERE k = 1").one()
    assert row.home.street == "Main" and row.home.zip == 12345
    assert row.others[0].street == "A"


def test_literals_of_every_kind(session, keyspace):
    session.execute(
        "CREATE TABLE lit (k int PRIMARY KEY, a ascii, b blob, d date, t timestamp, u uuid, tu timeuuid, "
        "i inet, du duration, f float, dc decimal, vi varint, tm time)"
    )
    session.execute(
        "INSERT INTO lit (k, a, b, d, t, u, tu, i, du, f, dc, vi, tm) VALUES (1, 'x', 0xcafe, '2020-05-06', "
        "'2020-05-06 07:08:09+0000', 123e4567-e89b-12d3-a456-426614174000, now(), '::1', 1h30m, "
        "NaN, 1.25, -42, '08:00:00.5')"
    )
    row = session.execute("SELECT * FROM lit WHERE k = 1").one()
    assert row.a == "x" and row.b == b"\xca\xfe"
    assert str(row.d) == "2020-05-06"
    assert row.t == datetime.datetime(2020, 5, 6, 7, 8, 9)
    assert row.tu.version == 1
    assert row.du == Duration(0, 0, 5400 * 10**9)
    assert row.f != row.f  # NaN
    assert row.dc == decimal.Decimal("1.25") and row.vi == -42
