"""Fixtures: a real `meridian` node started from the built binary on a free port, a Python
driver session connected to it, and a cqlsh runner. The node and its data directory are
removed after the session, even when tests fail."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
from cassandra.cluster import Cluster

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("MERIDIAN_BIN", os.path.join(ROOT, "target", "debug", "meridian"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortTaken(RuntimeError):
    pass


class MeridianNode:
    def __init__(self, data_dir, port, extra_args=()):
        self.data_dir = data_dir
        self.port = port
        self.extra_args = list(extra_args)
        # Internode (TCP + gossip UDP) and admin ports: free ones, kept across restarts.
        self.storage_port = free_port()
        self.admin_port = free_port()
        self.proc = None
        self.started = False
        self.log_path = os.path.join(os.path.dirname(os.path.abspath(data_dir)), f"meridian-{port}.log")

    def start(self, timeout=30):
        # A port found free can be taken by another connection before the node binds it; on
        # the first start (nobody holds these ports yet) such a node is started on new ones.
        for attempt in range(3):
            try:
                return self._start(timeout)
            except PortTaken:
                if self.started or attempt == 2:
                    raise
                self.port, self.storage_port, self.admin_port = free_port(), free_port(), free_port()

    def _start(self, timeout):
        log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BINARY, "start", "--data-dir", self.data_dir, "--cql-port", str(self.port),
             "--storage-port", str(self.storage_port), "--admin-port", str(self.admin_port)]
            + self.extra_args,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode()
            if "Meridian is ready" in line:
                self.started = True
                return
            if self.proc.poll() is not None:
                with open(self.log_path, "rb") as f:
                    f.seek(log_start)
                    if b"Address already in use" in f.read():
                        raise PortTaken(self.log_path)
                raise RuntimeError(f"meridian exited with {self.proc.returncode}; see {self.log_path}")
        raise RuntimeError("meridian did not become ready in time")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        return self.stop(signal.SIGKILL)


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="meridian-pytest-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def node(workdir):
    n = MeridianNode(os.path.join(workdir, "data"), free_port())
    n.start()
    yield n
    n.stop()


def connect(port, **kwargs):
    cluster = Cluster(["127.0.0.1"], port=port, connect_timeout=10, **kwargs)
    return cluster, cluster.connect()


@pytest.fixture(scope="session")
def cluster_session(node):
    cluster, session = connect(node.port)
    yield session
    cluster.shutdown()


@pytest.fixture
def session(cluster_session):
    return cluster_session


@pytest.fixture
def keyspace(session):
    name = "ks_" + uuid.uuid4().hex[:12]
    session.execute(
        f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    )
    session.set_keyspace(name)
    yield name
    session.execute(f"DROP KEYSPACE IF EXISTS {name}")


def run_cqlsh(port, statements, timeout=60):
    """Runs cqlsh (from the test virtual environment) against the node; returns
    (exit code, stdout, stderr)."""
    cqlsh = os.path.join(os.path.dirname(sys.executable), "cqlsh")
    p = subprocess.run(
        [cqlsh, "127.0.0.1", str(port), "-e", statements],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, CQLSH_NO_BUNDLED="TRUE"),
    )
    return p.returncode, p.stdout, p.stderr
