"""Differential fuzzing of micrograd, the long run: the checks of ``tests/test_fuzz.py`` on many
more (and longer) random programs.

    python scripts/fuzz.py --programs 10000              # every 10th program also under jit
    python scripts/fuzz.py --programs 200 --jit-every 1  # everything under jit too
    python scripts/fuzz.py --only 1234                   # re-run (and print) program seed 1234

Program ``i`` is generated from seed ``--seed + i``, so any failure is reproduced by ``--only``.
Each failure is printed (the check that disagreed and the program as Python source, ready to
become a test in ``tests/test_regressions.py``) and the run goes on; the summary at the end
counts programs, programs under jit, vmap and second-order checks, rejected programs (whose
NumPy reference is not finite) and failures. Exit status 1 if anything failed.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

import fuzzing  # noqa: E402  (tests/fuzzing.py: the generator and the checks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=10000, help="how many random programs to check")
    parser.add_argument("--seed", type=int, default=0, help="program i is generated from seed + i")
    parser.add_argument("--jit-every", type=int, default=10,
                        help="check every Nth program under mg.jit too (each compiles with Numba, ~0.5 s; 0: never)")
    parser.add_argument("--second-order-every", type=int, default=3,
                        help="check second derivatives of every Nth program (0: never)")
    parser.add_argument("--max-ops", type=int, default=10, help="operations per program, at most")
    parser.add_argument("--only", type=int, default=None, help="check the one program of this seed, printing it")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)

    if args.only is not None:
        program = fuzzing.generate(fuzzing.RandomChooser(args.only), max_ops=args.max_ops)
        print(program.report())
        fuzzing.check(program, jit=True, second_order=True)
        print("all checks agree")
        return 0

    start = time.perf_counter()
    failures: list[tuple[int, str]] = []
    second = 0
    for i in range(args.programs):
        seed = args.seed + i
        program = fuzzing.generate(fuzzing.RandomChooser(seed), max_ops=args.max_ops)
        jit = bool(args.jit_every) and i % args.jit_every == 0
        second_order = bool(args.second_order_every) and i % args.second_order_every == 0
        try:
            ran = fuzzing.check(program, jit=jit, second_order=second_order)
            second += ran and second_order
        except Exception as e:  # a Mismatch, or micrograd raising where NumPy did not
            detail = str(e) if isinstance(e, fuzzing.Mismatch) else (
                f"{type(e).__name__}: {e}\n{''.join(traceback.format_exc(limit=-4))}\n{program.report()}")
            failures.append((seed, detail))
            print(f"\n=== FAILURE: program seed {seed} (python scripts/fuzz.py --only {seed})\n{detail}", flush=True)
        if not args.quiet and (i + 1) % 250 == 0:
            print(f"{i + 1} programs, {fuzzing.COUNTS.jit} under jit, {len(failures)} failures, "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    counts = fuzzing.COUNTS
    ops = collections.Counter(counts.ops)
    print(f"\nprograms generated: {args.programs} (seeds {args.seed}..{args.seed + args.programs - 1}, "
          f"up to {args.max_ops} operations)")
    print(f"checked: {counts.programs}; rejected (NumPy reference not finite): {counts.rejected}")
    print(f"under jit: {counts.jit}; vmap checks: {counts.vmap}; second-order checks: {second}")
    print(f"operations: {sum(ops.values())} in all; " + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())))
    print(f"failures: {len(failures)}" + (f" (seeds {[s for s, _ in failures]})" if failures else ""))
    print(f"time: {time.perf_counter() - start:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
