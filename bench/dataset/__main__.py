"""`python -m bench.dataset`: load the dataset into a running `diarist serve`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import bench.dataset
from bench.cluster import cluster_conninfo
from bench.dataset import HEAVY_ENTRIES, DatasetSpec, load_dataset
from diarist.config import DatabaseSettings, Settings


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dataset", description=bench.dataset.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="of a running diarist serve")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--entries", type=int, default=200, help="entries per user")
    parser.add_argument("--heavy", type=int, default=HEAVY_ENTRIES, help="the heavy user's")
    parser.add_argument("--first-user", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    spec = DatasetSpec(args.users, args.entries, args.heavy, args.seed, args.first_user)
    conninfo = cluster_conninfo(args.data_dir.resolve(), DatabaseSettings().owner_role)
    users, report = load_dataset(conninfo, spec, Settings(data_dir=args.data_dir.resolve()))
    print(json.dumps(report.as_dict(), indent=2))
    for user in users[:3]:
        print(f"user {user.index} {user.id} entries={user.entries} token={user.token}")


if __name__ == "__main__":
    main()
