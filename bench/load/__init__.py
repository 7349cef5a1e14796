"""HTTP load benchmark of the real `diarist serve --workers 2` on the embedded PostgreSQL.

Starts the supervisor on a fresh data dir and a free port, waits for /readyz, COPYs the bench
dataset (bench/dataset/), then for each op x concurrency cell runs a warm-up and a measured
period and records p50/p95/p99, requests/s and errors; after each cell the resident memory of
every server process. Beside each op: how many SQL statements a request costs and how long they
take inside PostgreSQL (from the server's statement log, at concurrency 1), and the SQL floor:
EXPLAIN ANALYZE of the op's main statement, as the application role with the tenant set.

The load generator is `wrk` (a C program; Debian: `apt-get install wrk`), one thread, sending
2,000 requests built per cell (random users, their tokens) in random order; without wrk, this
process drives the cells itself (asyncio + uvloop, a minimal HTTP/1.1 keep-alive client). In the
same run and on the same data, two floors are measured the same way (`_floor_apps`): a bare
ASGI hello world and a minimal psycopg handler of the newest-20 page; every cell also carries
its requests/s as a ratio to each floor at its concurrency.

    python -m bench.load                 # small: 10 users x 200 entries + a 20,000-entry user
    python -m bench.load --size large    # 100 x 1,000 + heavy user, then 1 M entries (latency)

Writes bench/results/latest.json and bench/results/load-<timestamp>.json.
"""

from bench.load._run import SIZES, Size, run_load_benchmark
from bench.load._scenarios import ALL_OPS, READ_OPS

__all__ = ["ALL_OPS", "READ_OPS", "SIZES", "Size", "run_load_benchmark"]
