"""Tokenizer/lexer/parser speed on a 5,000-line script: per-line median and p99.

Run: .venv/bin/python tests/bench/bench_syntax.py
Prints times and their ratio to the 1 ms per edited line goal, all measured in this run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from syntax.lexer import RewrapLexer  # noqa: E402
from syntax.parser import parse  # noqa: E402
from syntax.tokens import tokenize  # noqa: E402

GOAL_S = 1e-3
LINES = 5000

TEMPLATES = [
    "-- rotate key {i}",
    "ALTER BACKUP LATEST IN 's3://bucket-{i}/coll?AWS_ACCESS_KEY_ID=AKIA{i}&AWS_SECRET_ACCESS_KEY=sk{i}'",
    "  ADD NEW_KMS = ('aws:///arn:aws:kms:us-east-1:1:key/new{i}?REGION=us-east-1', $1)",
    "  WITH OLD_KMS = 'gs:///projects/p/locations/l/keyRings/r/cryptoKeys/k{i}?CREDENTIALS=abc';",
    "SHOW BACKUP FROM '2024/01/{i}-120000.00' IN 'nodelocal://1/c' WITH check_files, kms = 'testkms:///k';",
    "SHOW BACKUPS IN 'azure-blob://c/p?AZURE_ACCOUNT_NAME=a&AZURE_ACCOUNT_KEY=k{i}'; /* note {i} */",
]


def script() -> list[str]:
    whole = LINES - LINES % len(TEMPLATES)  # end on a complete statement, pad with comments
    return [TEMPLATES[i % len(TEMPLATES)].format(i=i) for i in range(whole)] + [
        f"-- end {i}" for i in range(LINES - whole)
    ]


def per_line(fn, lines: list[str], repeats: int = 3) -> list[float]:
    """Per line, the best of `repeats` runs (timeit's habit: drops scheduler noise from
    other processes sharing the cores, which otherwise dominates the p99)."""
    out = []
    for line in lines:
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(line)
            best = min(best, time.perf_counter() - t0)
        out.append(best)
    return out


def p99(xs: list[float]) -> float:
    return sorted(xs)[int(len(xs) * 0.99) - 1]


def main() -> None:
    lines = script()
    text = "\n".join(lines)
    lexer = RewrapLexer()
    for line in lines[:200]:  # warm up regex caches
        tokenize(line, split_uris=True)

    rows = [
        ("tokenize(line)", per_line(tokenize, lines)),
        ("tokenize(line, split_uris)", per_line(lambda s: tokenize(s, split_uris=True), lines)),
        ("RewrapLexer line", per_line(lambda s: list(lexer.get_tokens_unprocessed(s)), lines)),
    ]
    t0 = time.perf_counter()
    tokenize(text)
    whole_tok = time.perf_counter() - t0
    t0 = time.perf_counter()
    stmts = parse(text)
    whole_parse = time.perf_counter() - t0

    print(f"script: {LINES} lines, {len(text):,} chars, {len(stmts)} statements")
    print(f"{'what':32} {'median us':>10} {'p99 us':>10} {'median/goal':>12} {'p99/goal':>10}")
    for name, xs in rows:
        med, hi = statistics.median(xs), p99(xs)
        print(f"{name:32} {med * 1e6:10.1f} {hi * 1e6:10.1f} {med / GOAL_S:12.4f} {hi / GOAL_S:10.4f}")
    for name, total in (("tokenize(whole script)", whole_tok), ("parse(whole script)", whole_parse)):
        per = total / LINES
        print(f"{name:32} {per * 1e6:10.1f} {'-':>10} {per / GOAL_S:12.4f} {'-':>10}   (total {total * 1e3:.1f} ms)")
    base = statistics.median(rows[0][1])
    print("ratios to tokenize(line) median: " + ", ".join(
        f"{name} {statistics.median(xs) / base:.2f}x" for name, xs in rows[1:]
    ))


if __name__ == "__main__":
    main()
