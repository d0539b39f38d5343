#!/usr/bin/env python3
"""Meridian's replica placement against the DataStax Python driver's.

Builds rings (tokens allocated by Meridian node by node, and random rings with uneven racks)
with the Rust example `ring_replicas` (crates/cluster/examples/ring_replicas.rs), then
rebuilds each ring in the driver (`cassandra.metadata.NetworkTopologyStrategy` /
`SimpleStrategy.make_token_replica_map`) and compares, for every vnode range, for random probe
tokens and for random partition keys (hashed by both sides), the replica sets. Token-aware
routing uses these sets, so equality means the driver routes to true replicas.

The driver lists NTS replicas grouped by datacenter and fills racks with its older (pre-3.x
Cassandra) formulation, so orders may differ; sets are compared, and order agreement is only
reported. A known driver quirk is classified separately: with vnodes its NTS may list the
same host twice when it fills "skipped" same-rack hosts (a host skipped at two of its tokens
is queued twice), which can leave its set one host short of Cassandra's; such ranges are
counted as `driver_duplicate`, not as mismatches.

Run: `.venv/bin/python crates/cluster/tests/ring_vs_driver.py` (exit 0 on agreement; prints
SKIP and exits 0 when the `cassandra` module is not importable). Also collected by pytest.
The example is built once with cargo (RING_REPLICAS_BIN=<path> uses a prebuilt one); RING_SEED changes
the random rings.
"""

import bisect
import json
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

try:
    from cassandra.metadata import Murmur3Token, NetworkTopologyStrategy, SimpleStrategy
    from cassandra.metadata import murmur3 as driver_murmur3
    from cassandra.policies import SimpleConvictionPolicy
    from cassandra.pool import Host

    DRIVER = True
except ImportError:  # pragma: no cover - depends on the environment
    DRIVER = False


def host_uuid(n):
    return str(uuid.UUID(int=n))


_BINARY = []


def ring_replicas_binary():
    """The example's executable: RING_REPLICAS_BIN, or built once with cargo."""
    if os.environ.get("RING_REPLICAS_BIN"):
        return os.environ["RING_REPLICAS_BIN"]
    if not _BINARY:
        proc = subprocess.run(
            [os.environ.get("CARGO", "cargo"), "build", "-q", "-p", "meridian-cluster",
             "--example", "ring_replicas", "--message-format=json-render-diagnostics"],
            capture_output=True, text=True, cwd=REPO, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"building ring_replicas failed:\n{proc.stderr}")
        for line in proc.stdout.splitlines():
            message = json.loads(line)
            if (message.get("reason") == "compiler-artifact"
                    and message.get("target", {}).get("name") == "ring_replicas"
                    and message.get("executable")):
                _BINARY.append(message["executable"])
        if not _BINARY:
            raise RuntimeError("cargo did not report the ring_replicas executable")
    return _BINARY[0]


def rust_ring(lines):
    """Runs the example on the description and returns its JSON."""
    proc = subprocess.run([ring_replicas_binary()], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ring_replicas failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def driver_map(nodes, strategy_line):
    """The driver's replica map {token value: [host_id, ...]} for a strategy line."""
    hosts = {}
    owner = {}
    for i, n in enumerate(nodes):
        h = Host(f"127.{i // 65536}.{i // 256 % 256}.{i % 256 + 1}", SimpleConvictionPolicy,
                 datacenter=n["datacenter"], rack=n["rack"], host_id=n["host_id"])
        hosts[n["host_id"]] = h
        for t in n["tokens"]:
            owner[Murmur3Token(t)] = h
    ring = sorted(owner)
    words = strategy_line.split()
    cls, opts = words[2], dict(w.split("=", 1) for w in words[3:])
    if cls.endswith("NetworkTopologyStrategy"):
        strategy = NetworkTopologyStrategy(opts)
    else:
        strategy = SimpleStrategy(opts)
    replica_map = strategy.make_token_replica_map(owner, ring)
    values = [t.value for t in ring]
    by_value = {t.value: [h.host_id for h in replica_map[t]] for t in ring}
    return values, by_value


def driver_lookup(values, by_value, token):
    """The driver's TokenMap.get_replicas: first ring token >= token, wrapping."""
    point = bisect.bisect_left(values, token)
    return by_value[values[point if point < len(values) else 0]]


class Tally:
    def __init__(self):
        self.checked = 0
        self.same_order = 0
        self.driver_duplicate = 0
        self.mismatches = []

    def compare(self, what, rust, driver):
        self.checked += 1
        if rust == driver:
            self.same_order += 1
        if set(rust) == set(driver):
            return
        if len(set(driver)) < len(driver) and set(driver) <= set(rust):
            self.driver_duplicate += 1
            return
        self.mismatches.append((what, rust, driver))


def check_scenario(name, lines, tally, rng):
    probes = [rng.randrange(-(2**63), 2**63) for _ in range(200)]
    keys = [rng.randbytes(rng.randrange(1, 40)) for _ in range(200)] if driver_murmur3 else []
    strategy_lines = [line for line in lines if line.startswith("strategy ")]
    result = rust_ring(lines + [f"probe {p}" for p in probes] + [f"key {k.hex()}" for k in keys])
    for line in strategy_lines:
        sname = line.split()[1]
        values, by_value = driver_map(result["nodes"], line)
        ours = result["strategies"][sname]
        assert [r[0] for r in ours["ranges"]] == values, f"{name}/{sname}: ring tokens differ"
        for end, replicas in ours["ranges"]:
            tally.compare(f"{name}/{sname} range ending {end}", replicas, by_value[end])
        for token, replicas in ours["probes"]:
            tally.compare(f"{name}/{sname} probe {token}", replicas,
                          driver_lookup(values, by_value, token))
        for key, (token, replicas) in zip(keys, ours["keys"]):
            driver_token = Murmur3Token.from_key(key).value
            if driver_token != token:
                tally.mismatches.append((f"{name} key {key.hex()} token", token, driver_token))
                continue
            tally.compare(f"{name}/{sname} key {key.hex()}", replicas,
                          driver_lookup(values, by_value, token))
    return result


def allocated_scenarios():
    """Nodes joining one by one with allocated tokens (as `meridian cluster up` does)."""
    out = []
    for per_dc, racks in [(3, 3), (6, 3), (4, 3), (5, 1), (2, 2)]:
        lines = []
        n = 0
        for i in range(per_dc):
            for dc in ("east", "west"):
                n += 1
                lines.append(f"join {host_uuid(n)} {dc} rack{i % racks + 1} 16 3")
        lines += [
            "strategy nts33 NetworkTopologyStrategy east=3 west=3",
            "strategy nts21 NetworkTopologyStrategy east=2 west=1",
            "strategy nts5 NetworkTopologyStrategy east=5 west=2",
            "strategy nts9 NetworkTopologyStrategy east=9",
            "strategy simple3 SimpleStrategy replication_factor=3",
            "strategy simple1 SimpleStrategy replication_factor=1",
        ]
        out.append((f"allocated-{per_dc}x2-{racks}racks", lines))
    return out


def random_scenarios(rng, count):
    out = []
    for s in range(count):
        dcs = [f"dc{d}" for d in range(rng.randint(1, 3))]
        lines = []
        used = set()
        for n in range(1, rng.randint(2, 12) + 1):
            dc = rng.choice(dcs)
            rack = f"r{rng.randint(1, 4)}"
            tokens = []
            for _ in range(rng.randint(1, 8)):
                t = rng.randrange(-(2**63) + 1, 2**63)
                if t not in used:
                    used.add(t)
                    tokens.append(t)
            lines.append(f"node {host_uuid(n)} {dc} {rack} {','.join(map(str, tokens))}")
        for k in range(3):
            factors = " ".join(f"{dc}={rng.randint(0, 5)}" for dc in dcs)
            if all(f.endswith("=0") for f in factors.split()):
                factors = f"{dcs[0]}=1"
            lines.append(f"strategy nts{k} NetworkTopologyStrategy {factors}")
        lines.append(f"strategy simple SimpleStrategy replication_factor={rng.randint(1, 5)}")
        out.append((f"random-{s}", lines))
    return out


def run():
    rng = random.Random(int(os.environ.get("RING_SEED", "20261129")))
    tally = Tally()
    scenarios = allocated_scenarios() + random_scenarios(rng, 40)
    for name, lines in scenarios:
        result = check_scenario(name, lines, tally, rng)
        if name.startswith("allocated-"):
            own = result["strategies"]["nts33"]["ownership"]
            for dc in ("east", "west"):
                vals = [own[n["host_id"]] for n in result["nodes"] if n["datacenter"] == dc]
                mean = sum(vals) / len(vals)
                worst = max(abs(v - mean) / mean for v in vals)
                print(f"{name} {dc}: effective ownership (RF 3) "
                      f"{' '.join(f'{v:.3f}' for v in vals)}, worst {worst:.1%} from mean")
    print(f"scenarios={len(scenarios)} compared={tally.checked} "
          f"same_order={tally.same_order} driver_duplicate={tally.driver_duplicate} "
          f"mismatches={len(tally.mismatches)}")
    for what, rust, driver in tally.mismatches[:20]:
        print(f"MISMATCH {what}: meridian={rust} driver={driver}")
    return not tally.mismatches


def test_ring_matches_driver():
    if not DRIVER:
        import pytest

        pytest.skip("cassandra-driver is not installed")
    assert run()


if __name__ == "__main__":
    if not DRIVER:
        print("SKIP: the cassandra module (cassandra-driver) is not importable")
        sys.exit(0)
    sys.exit(0 if run() else 1)
