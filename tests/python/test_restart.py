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


def test_unprepared_after_restart_is_reprepared_by_the_driver(workdir):
    """The node forgets prepared statements on restart; EXECUTE of an unknown id gets
    Unprepared (0x2500) with the id echoed, and the driver re-prepares and retries."""
    import time
    from cassandra.cluster import Cluster
    n = MeridianNode(os.path.join(workdir, "unprep-" + uuid.uuid4().hex[:6]), free_port())
    n.start()
    cluster = Cluster(["127.0.0.1"], port=n.port, reprepare_on_up=False, prepare_on_all_hosts=False)
    s = cluster.connect()
    s.execute("CREATE KEYSPACE up WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    s.execute("CREATE TABLE up.t (k int PRIMARY KEY, v int)")
    ins = s.prepare("INSERT INTO up.t (k, v) VALUES (?, ?)")
    s.execute(ins, (1, 1))
    n.stop()
    n.start()
    deadline = time.time() + 20
    while True:
        try:
            s.execute(ins, (2, 2))
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    assert s.execute("SELECT v FROM up.t WHERE k = 2").one().v == 2
    cluster.shutdown()
    n.stop()
