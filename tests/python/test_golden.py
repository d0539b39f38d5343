"""The golden `.cql`/`.result` files of tests/golden run against the node."""

import os
import sys

import pytest

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden")
sys.path.insert(0, GOLDEN)
import runner  # noqa: E402

FILES = sorted(f for f in os.listdir(GOLDEN) if f.endswith(".cql"))


@pytest.mark.parametrize("name", FILES)
def test_golden(node, session, name):
    path = os.path.join(GOLDEN, name)
    got = runner.run_file(session, path)
    with open(path[:-4] + ".result") as f:
        expected = f.read()
    assert got == expected
