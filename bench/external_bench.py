"""Benchmark the external-link engine against local servers.

Starts HOSTS servers on 127.0.0.1 (one port each, in a separate process so that
the servers do not compete with the checker for the GIL), each answering every
request after DELAY seconds, then checks HOSTS x PER_HOST_URLS distinct URLs with
jobs=16, per_host=4, allow_private=True and no cache, REPEAT times.

    .venv/bin/python bench/external_bench.py [--repeat 5]

With 5 hosts x 4 connections = 20 slots but 16 workers, the floor is
1000 x 50 ms / 16 = 3.1 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

from handbook_lint.external.scheduler import check_urls
from handbook_lint.external.settings import ExternalSettings


def serve(hosts: int, delay: float, conn: Connection) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    servers = [Server(("127.0.0.1", 0), Handler) for _ in range(hosts)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send([server.server_address[1] for server in servers])
    conn.recv()  # until the benchmark is done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--per-host-urls", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--per-host", type=int, default=4)
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=serve, args=(args.hosts, args.delay, child), daemon=True)
    proc.start()
    try:
        ports: list[int] = parent.recv()
        settings = ExternalSettings(jobs=args.jobs, per_host=args.per_host, allow_private=True)
        # interleave nothing: URLs grouped by host, the harder order for a scheduler
        urls = [
            f"http://127.0.0.1:{port}/page/{i}" for port in ports for i in range(args.per_host_urls)
        ]
        floor = len(urls) * args.delay / min(args.jobs, args.hosts * args.per_host)
        print(
            f"{len(urls)} URLs on {len(ports)} hosts, {args.delay * 1000:.0f} ms each, "
            f"jobs={args.jobs}, per_host={args.per_host} (floor {floor:.2f} s)"
        )
        times = []
        for n in range(1, args.repeat + 1):
            start = time.perf_counter()
            results = check_urls(urls, settings, None)
            elapsed = time.perf_counter() - start
            bad = [r for r in results.values() if r.status != "ok"]
            assert len(results) == len(urls) and not bad, bad[:3]
            times.append(elapsed)
            print(f"run {n}: {elapsed:.2f} s")
        print(f"median: {statistics.median(times):.2f} s")
    finally:
        parent.send("stop")
        proc.join(5)


if __name__ == "__main__":
    main()
