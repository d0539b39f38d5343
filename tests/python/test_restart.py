"""Data and schema survive a clean restart, and in batch mode a SIGKILL."""

import os
import uuid

from conftest import MeridianNode, connect, free_port


def write_some(session, ks, n):
    session.execute(f"CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
    session.execute(f"CREATE TABLE {ks}.t (k int PRIMARY KEY, v text)")
    ins = session.prepare(f"INSERT INTO {ks}.t (k, v) VALUES (?, ?)")
    for i in range(n):
        session.execute(ins, (i, f"v{i}"))


def count(session, ks):
    return session.execute(f"SELECT count(*) FROM {ks}.t").one()[0]


def test_clean_restart_keeps_schema_and_data(workdir):
    n = MeridianNode(os.path.join(workdir, "restart-" + uuid.uuid4().hex[:6]), free_port())
    n.start()
    cluster, s = connect(n.port)
    write_some(s, "rks", 500)
    cluster.shutdown()
    assert n.stop() == 0
    n.start()
    cluster, s = connect(n.port)
    assert count(s, "rks") == 500
    cluster.shutdown()
    n.stop()


def test_sigkill_in_batch_mode_loses_nothing_acknowledged(workdir):
    n = MeridianNode(os.path.join(workdir, "kill-" + uuid.uuid4().hex[:6]), free_port(), ["--commitlog-sync", "batch"])
    n.start()
    cluster, s = connect(n.port)
    write_some(s, "kks", 300)
    cluster.shutdown()
    n.kill()
    n.start()
    cluster, s = connect(n.port)
    assert count(s, "kks") == 300
    cluster.shutdown()
    n.stop()
