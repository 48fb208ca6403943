"""Play N seeded soak scenarios and count which promises how many of them broke.

    python benchmarks/soak.py 200            # seeds 0..199
    python benchmarks/soak.py 200 --from 1000 --lag 5

Each scenario (tests/sync/soaking.py) mixes overlapping runs, late plans, people editing
pages and Jira, and 429/503/dropped answers, then lets the faults clear and reruns until a
run writes nothing. The promises: no duplicate issue, no key in a wrong row, every
person's value kept on both sides, reruns that settle, no crash. Prints one line per
promise with the number of scenarios that broke it and their seeds (replay one with
``python benchmarks/soak.py 1 --from SEED -v``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "sync"))

from soaking import PROMISES, play


def main() -> None:
    """Parse the arguments, play the scenarios, print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", type=int, nargs="?", default=200)
    parser.add_argument("--from", dest="first", type=int, default=0, help="first seed")
    parser.add_argument("--lag", type=float, default=0.0, help="Jira search lag, seconds")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each story")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # runs under faults warn a lot; the counts are the point
    started = time.perf_counter()
    broke: dict[str, list[int]] = {promise: [] for promise in PROMISES}
    failed = 0
    for seed in range(args.first, args.first + args.scenarios):
        broken, story = play(seed, lag=args.lag)
        failed += bool(broken)
        for promise in broken:
            broke[promise].append(seed)
        if args.verbose:
            print(f"seed {seed}:", *story, sep="\n  ")
            for promise, details in broken.items():
                print(f"  BROKEN {promise}:", *details, sep="\n    ")
    took = time.perf_counter() - started
    print(f"{args.scenarios} scenarios in {took:.0f} s; {failed} broke at least one promise")
    for promise, seeds in broke.items():
        shown = ", ".join(map(str, seeds[:20])) + (" ..." if len(seeds) > 20 else "")
        print(f"  {promise:<10} {len(seeds):>4}  {shown}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
