"""Bad statements get Cassandra's error codes and precise messages, and the node keeps
serving."""

import pytest
from cassandra import AlreadyExists, InvalidRequest
from cassandra.protocol import ConfigurationException
from cassandra.protocol import SyntaxException


@pytest.mark.parametrize(
    "statement,error,fragment",
    [
        ("SELEC * FROM t", SyntaxException, "line 1:0"),
        ("SELECT * FROM nosuchtable", InvalidRequest, "nosuchtable"),
        ("SELECT nosuchcol FROM e", InvalidRequest, "nosuchcol"),
        ("INSERT INTO e (k, v) VALUES ('a', 1)", InvalidRequest, "int"),
        ("INSERT INTO e (v) VALUES (1)", InvalidRequest, "k"),
        ("SELECT * FROM e WHERE v = 1", InvalidRequest, "ALLOW FILTERING"),
        ("CREATE TABLE e (k int PRIMARY KEY)", AlreadyExists, "e"),
        ("CREATE KEYSPACE bad WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 'x'}", ConfigurationException, "x"),
        ("USE nosuchkeyspace", InvalidRequest, "nosuchkeyspace"),
        ("UPDATE e SET k = 1 WHERE k = 2", InvalidRequest, "PRIMARY KEY"),
    ],
)
def test_error_codes(session, keyspace, statement, error, fragment):
    session.execute("CREATE TABLE IF NOT EXISTS e (k int PRIMARY KEY, v int)")
    with pytest.raises(error) as e:
        session.execute(statement)
    assert fragment in str(e.value)
    # The node keeps serving.
    assert session.execute("SELECT release_version FROM system.local").one()


def test_oversized_value_is_refused(session, keyspace):
    session.execute("CREATE TABLE big (k text PRIMARY KEY, v blob)")
    with pytest.raises(InvalidRequest):
        session.execute("INSERT INTO big (k, v) VALUES (%s, 0x00)", ("x" * 70000,))
