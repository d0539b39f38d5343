"""Golden-file runner: executes each `.cql` file against a CQL server through the Python
driver and renders every statement's outcome in a server-independent text form, compared
with (or, with --update, written to) the `.result` file beside it.

The same files run against real Apache Cassandra (the conformance work), so nothing here is
Meridian-specific: each file runs in a fresh keyspace `golden` (dropped and created by the
runner), statements end with `;` at the end of a line, `--` lines are comments.

Usage: python runner.py --port 9042 [--host 127.0.0.1] [--update] [files...]
"""

import argparse
import datetime
import decimal
import ipaddress
import os
import re
import sys
import uuid

from cassandra import (AlreadyExists, InvalidRequest,
                       Unauthorized)
from cassandra.protocol import ConfigurationException
from cassandra.cluster import Cluster
from cassandra.protocol import SyntaxException
from cassandra.query import SimpleStatement
from cassandra.util import Date, Duration, OrderedMapSerializedKey, SortedSet, Time

HERE = os.path.dirname(os.path.abspath(__file__))


def render_value(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if v in (float("inf"), float("-inf")):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    if isinstance(v, (int, decimal.Decimal)):
        return str(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, datetime.datetime):
        return v.strftime("'%Y-%m-%d %H:%M:%S.") + f"{v.microsecond // 1000:03d}Z'"
    if isinstance(v, Date):
        return f"'{v}'"
    if isinstance(v, Time):
        return f"'{v}'"
    if isinstance(v, Duration):
        return f"duration({v.months}mo{v.days}d{v.nanoseconds}ns)"
    if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return f"'{v}'"
    if isinstance(v, (dict, OrderedMapSerializedKey)):
        return "{" + ", ".join(f"{render_value(k)}: {render_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (set, frozenset, SortedSet)):
        return "{" + ", ".join(render_value(x) for x in v) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(render_value(x) for x in v) + "]"
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return "{" + ", ".join(f"{f}: {render_value(getattr(v, f))}" for f in v._fields) + "}"
    if isinstance(v, tuple):
        return "(" + ", ".join(render_value(x) for x in v) + ")"
    return repr(v)


def error_class(e):
    for cls, name in ((SyntaxException, "SyntaxError"), (AlreadyExists, "AlreadyExists"),
                      (ConfigurationException, "ConfigurationError"), (InvalidRequest, "Invalid"),
                      (Unauthorized, "Unauthorized")):
        if isinstance(e, cls):
            return name
    return type(e).__name__


def error_message(e):
    if isinstance(e, AlreadyExists):
        return f"{e.keyspace} {e.table or ''}".strip()
    text = str(e)
    # The driver formats server errors as: Error from server: code=... message="...".
    m = re.search(r'message="(.*)"', text, re.S)
    return (m.group(1) if m else text).split("\n")[0]


def split_statements(text):
    stmts, cur = [], []
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("--")):
            continue
        cur.append(line)
        text = "\n".join(cur).strip().upper()
        in_batch = text.startswith("BEGIN") and "APPLY BATCH" not in text
        if s.endswith(";") and not in_batch:
            stmts.append("\n".join(cur).strip())
            cur = []
    if cur:
        stmts.append("\n".join(cur).strip())
    return stmts


def run_file(session, path):
    session.execute("DROP KEYSPACE IF EXISTS golden")
    session.execute("CREATE KEYSPACE golden WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.set_keyspace("golden")
    out = []
    with open(path) as f:
        for stmt in split_statements(f.read()):
            out.append("> " + stmt)
            try:
                rs = session.execute(SimpleStatement(stmt.rstrip(";"), fetch_size=100))
                names = rs.column_names
                if names:
                    rows = list(rs)
                    out.append(" | ".join(names))
                    for r in rows:
                        out.append(" | ".join(render_value(x) for x in r))
                    out.append(f"({len(rows)} rows)")
                else:
                    out.append("OK")
            except Exception as e:  # every failure is part of the expected output
                out.append(f"ERROR {error_class(e)}: {error_message(e)}")
    session.execute("DROP KEYSPACE IF EXISTS golden")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9042)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args(argv)
    files = args.files or sorted(os.path.join(HERE, f) for f in os.listdir(HERE) if f.endswith(".cql"))
    cluster = Cluster([args.host], port=args.port)
    session = cluster.connect()
    failed = 0
    try:
        for path in files:
            got = run_file(session, path)
            expected_path = path[:-4] + ".result"
            if args.update:
                with open(expected_path, "w") as f:
                    f.write(got)
                print(f"updated {os.path.basename(expected_path)}")
                continue
            with open(expected_path) as f:
                expected = f.read()
            if got != expected:
                failed += 1
                import difflib
                sys.stdout.writelines(difflib.unified_diff(
                    expected.splitlines(True), got.splitlines(True), expected_path, "actual"))
    finally:
        cluster.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
