"""Wildcard matching time against the length of the text, beside a linear scan of the same text.

Not a pytest test (pytest collects test_*.py only). Run:

    python tests/benchmarks/bench_policy_match.py [--max-kib 64] [--repeat 5] [--old]

For each text length n (1k, 2k, 4k, ... characters) it times, best of --repeat:
  scan      `text.find("-prod")` over n dashes: one linear pass in C, the baseline
  dashes    glob_match("*-*-*-prod", n dashes): the pattern that took the old regex cubic time
            (now settled at once: the last segment cannot match the end)
  middle    glob_match("*-prod-*", n dashes): a middle segment searched through the whole text
  question  glob_match("*a?a?-*", "abab..."): a segment with `?`, searched with a regex of
            literals and `.` (no quantifier: nothing to backtrack), which fails at each place
  worst     glob_match("*" + "a?" * 64 + "b*", n times "a"): the slowest kind of pattern, a long
            `?` segment whose first 128 characters match everywhere: linear in n, times 128
  arn       ArnLike "arn:aws:iam::*:role/*-prod-*" against an ARN whose last part is n dashes
  evaluate  the whole decision: a key policy with StringLike {"kms:EncryptionContext:env":
            ["*-*-*-prod", "*-prod-*"]} and a request whose context value is n dashes
`x prev` is the time over the time at half the length: about 2 for linear time (less at small
sizes, where fixed costs dominate), 8 for cubic. `/ scan` is the time over the baseline's. --old
also times the regex translation kmscli used before (1k and 2k only: 64k would take days).
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kmscli.policy import Principal, Request, evaluate, parse_key_policy  # noqa: E402
from kmscli.policy.matching import arn_match, glob_match  # noqa: E402

A = "111122223333"
ALICE = Principal.parse(f"arn:aws:iam::{A}:user/alice")
KEY_ARN = f"arn:aws:kms:us-west-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
POLICY = parse_key_policy(
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    f'"Principal": {{"AWS": "{ALICE.arn}"}}, "Action": "kms:Encrypt", "Resource": "*", '
    '"Condition": {"StringLike": {"kms:EncryptionContext:env": ["*-*-*-prod", "*-prod-*"]}}}]}'
)

WORST = "*" + "a?" * 64 + "b*"


def best(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def cases(n: int) -> dict[str, Callable[[], object]]:
    text = "-" * n
    alternating = "ab" * (n // 2)
    all_a = "a" * n
    arn = f"arn:aws:iam::{A}:role/{text}"

    def decide() -> bool:
        request = Request(ALICE, "kms:Encrypt", KEY_ARN, A, encryption_context={"env": text})
        return evaluate(request, key_policy=POLICY, identity_policies=[]).allowed

    return {
        "scan": lambda: text.find("-prod"),
        "dashes": lambda: glob_match("*-*-*-prod", text),
        "middle": lambda: glob_match("*-prod-*", text),
        "question": lambda: glob_match("*a?a?-*", alternating),
        "worst": lambda: glob_match(WORST, all_a),
        "arn": lambda: arn_match("arn:aws:iam::*:role/*-prod-*", arn),
        "evaluate": decide,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-kib", type=int, default=64, help="largest text, in k characters")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--old", action="store_true", help="also time the old regex (1k, 2k)")
    args = parser.parse_args()

    sizes = []
    size = 1024
    while size <= args.max_kib * 1024:
        sizes.append(size)
        size *= 2
    names = list(cases(1))
    previous: dict[str, float] = {}
    print(f"{'chars':>7} " + " ".join(f"{name:>22}" for name in names))
    print(f"{'':>7} " + " ".join(f"{'us x prev / scan':>22}" for _ in names))
    for n in sizes:
        timings = {name: best(args.repeat, action) for name, action in cases(n).items()}
        cells = []
        for name in names:
            took = timings[name]
            growth = f"{took / previous[name]:5.1f}" if name in previous else "    -"
            ratio = took / timings["scan"]
            cells.append(f"{took * 1e6:9.1f} {growth:>6} {ratio:5.1f}")
        print(f"{n:>7} " + " ".join(f"{cell:>22}" for cell in cells))
        previous = timings
    if args.old:
        old = re.compile(".*-.*-.*-prod", re.DOTALL)
        for n in (1024, 2048):
            took = best(1, functools.partial(old.fullmatch, "-" * n))
            print(f"old regex, {n} dashes: {took:.2f} s")


if __name__ == "__main__":
    main()
