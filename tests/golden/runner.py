"""Golden-file runner: executes each `.cql` file against a CQL server through the Python
driver and renders every statement's outcome in a server-independent text form, compared
with (or, with --update, written to) the `.result` file beside it.

The same files run against real Apache Cassandra (tests/conformance reuses this module), so
nothing here is Meridian-specific: each file runs in a fresh keyspace `golden` (dropped and
created by the runner), statements end with `;` at the end of a line, `--` lines are comments.

Directives are comments of the form `--@name argument` placed right before a statement; they
change how that one statement runs (files without them run exactly as before):
  --@sleep SECONDS     wait before running the statement (TTL expiry)
  --@page_size N       run with fetch size N, page by page; the output gets a line
                       `(pages: a, b, ...)` with the row count of every page the server sent
  --@bind VALUES       PREPARE the statement, then EXECUTE it with VALUES, a Python expression
                       (a tuple/list for positional markers, a dict for named ones) that may use
                       UNSET (the protocol's unset value), UUID, Decimal, date, datetime, time,
                       ip and Duration

Usage: python runner.py --port 9042 [--host 127.0.0.1] [--update] [files...]
"""

import argparse
import datetime
import decimal
import ipaddress
import os
import re
import sys
import time
import uuid

from cassandra import (AlreadyExists, InvalidRequest,
                       Unauthorized)
from cassandra.protocol import ConfigurationException
from cassandra.cluster import Cluster
from cassandra.protocol import SyntaxException
from cassandra.query import UNSET_VALUE, SimpleStatement
from cassandra.util import Date, Duration, OrderedMapSerializedKey, SortedSet, Time

HERE = os.path.dirname(os.path.abspath(__file__))


def render_value(v, normalize=None):
    """Renders a driver value as text. `normalize`, if given, is called first on the value
    (and on every element of a collection, tuple or UDT); a string it returns replaces the
    rendering of that value, None keeps the normal rendering."""
    if normalize is not None:
        replaced = normalize(v)
        if replaced is not None:
            return replaced
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
    def r(x):
        return render_value(x, normalize)

    if isinstance(v, (dict, OrderedMapSerializedKey)):
        return "{" + ", ".join(f"{r(k)}: {r(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (set, frozenset, SortedSet)):
        return "{" + ", ".join(r(x) for x in v) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(r(x) for x in v) + "]"
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return "{" + ", ".join(f"{f}: {r(getattr(v, f))}" for f in v._fields) + "}"
    if isinstance(v, tuple):
        return "(" + ", ".join(r(x) for x in v) + ")"
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


DIRECTIVE = re.compile(r"^--@([a-z_]+)(?:\s+(.*?))?\s*$")
KNOWN_DIRECTIVES = ("sleep", "page_size", "bind")


def split_cases(text):
    """Splits a file into (directives, statement) pairs; directives is a dict of the
    `--@name argument` lines that came right before the statement."""
    cases, cur, directives = [], [], {}
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("--")):
            m = DIRECTIVE.match(s)
            if m:
                if m.group(1) not in KNOWN_DIRECTIVES:
                    raise ValueError(f"unknown directive {s!r}")
                directives[m.group(1)] = m.group(2) or ""
            continue
        cur.append(line)
        text = "\n".join(cur).strip().upper()
        in_batch = text.startswith("BEGIN") and "APPLY BATCH" not in text
        if s.endswith(";") and not in_batch:
            cases.append((directives, "\n".join(cur).strip()))
            cur, directives = [], {}
    if cur:
        cases.append((directives, "\n".join(cur).strip()))
    return cases


def split_statements(text):
    return [stmt for _, stmt in split_cases(text)]


BIND_NAMES = {
    "UNSET": UNSET_VALUE, "UUID": uuid.UUID, "Decimal": decimal.Decimal, "date": datetime.date,
    "datetime": datetime.datetime, "time": datetime.time, "ip": ipaddress.ip_address,
    "Duration": Duration, "True": True, "False": False, "None": None,
}


def bind_values(expr):
    """Evaluates a `--@bind` expression (repository-controlled test input) with only the
    names of BIND_NAMES in scope."""
    return eval(expr, {"__builtins__": {}}, dict(BIND_NAMES))  # noqa: S307


def run_case(session, directives, stmt, normalize=None):
    """Runs one statement and returns its rendered output lines (without the `> ` line).
    `normalize(value, column)` may replace the rendering of a value (see render_value)."""
    out = []
    if "sleep" in directives:
        time.sleep(float(directives["sleep"]))
    page_size = int(directives["page_size"]) if "page_size" in directives else None
    try:
        if "bind" in directives:
            prepared = session.prepare(stmt.rstrip(";"))
            prepared.fetch_size = page_size or 100
            rs = session.execute(prepared, bind_values(directives["bind"]))
        else:
            rs = session.execute(SimpleStatement(stmt.rstrip(";"), fetch_size=page_size or 100))
        names = rs.column_names
        if names:
            pages = [list(rs.current_rows)]
            while rs.has_more_pages:
                rs.fetch_next_page()
                pages.append(list(rs.current_rows))
            rows = [r for page in pages for r in page]
            out.append(" | ".join(names))
            for r in rows:
                if normalize is None:
                    out.append(" | ".join(render_value(x) for x in r))
                else:
                    out.append(" | ".join(render_value(x, lambda v, c=c: normalize(v, c))
                                          for c, x in zip(names, r)))
            out.append(f"({len(rows)} rows)")
            if page_size is not None:
                out.append("(pages: " + ", ".join(str(len(p)) for p in pages) + ")")
        else:
            out.append("OK")
    except Exception as e:  # every failure is part of the expected output
        out.append(f"ERROR {error_class(e)}: {error_message(e)}")
    return out


def run_file(session, path, keyspace="golden", normalize=None):
    """Runs every statement of a `.cql` file in a fresh keyspace and returns the rendered
    output (the `.result` format)."""
    session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")
    session.execute(f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
    session.set_keyspace(keyspace)
    out = []
    with open(path) as f:
        for directives, stmt in split_cases(f.read()):
            out.append("> " + stmt)
            out.extend(run_case(session, directives, stmt, normalize))
    session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")
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
