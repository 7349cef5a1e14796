"""`python -m bench.load`: the HTTP load benchmark's command line."""

from __future__ import annotations

import argparse
from pathlib import Path

import bench.load
from bench.load import ALL_OPS, SIZES, run_load_benchmark
from bench.report import RESULTS, write_results


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=bench.load.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--warmup", type=float, help="seconds before each measured cell")
    parser.add_argument("--duration", type=float, help="measured seconds per cell")
    parser.add_argument("--concurrency", type=int, nargs="+")
    parser.add_argument("--ops", nargs="+", choices=ALL_OPS)
    parser.add_argument("--no-probe", dest="probe", action="store_false")
    parser.add_argument("--no-floors", dest="floors", action="store_false")
    parser.add_argument(
        "--python-driver", action="store_true", help="the Python client even where wrk is installed"
    )
    parser.add_argument(
        "--grow-to", type=int, help="entries for the last latency cells (large: 1 M; 0: skip)"
    )
    parser.add_argument("--million-s", type=float, default=20, help="seconds per grown cell")
    parser.add_argument("--analyse-s", type=float, default=15)
    parser.add_argument("--keep-log", type=Path, help="copy serve.log and postgresql.log here")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    print(write_results(run_load_benchmark(args), "load", "latest", args.out))


if __name__ == "__main__":
    main()
