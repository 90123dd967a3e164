"""Weak scaling of data-parallel training over MPI: images per second of the MNIST MLP
(784-128-128-10) and CNN (examples/mnist_cnn.py) training steps on 1 and 2 processes, with the
same batch per process, and what the cost model projects for more processes on a network.

    python benchmarks/distributed.py                    # both models, 1 and 2 processes
    python benchmarks/distributed.py --models mlp --batch 128 --rounds 9
    python benchmarks/distributed.py --quick            # a smoke test

Every process runs one BLAS thread (``OPENBLAS_NUM_THREADS=1``, and one Numba thread), so that N
processes on N cores compete only for memory and caches. Weak scaling: each process trains on
``--batch`` images per step (64 by default), so 2 processes do twice the work of one per step;
``efficiency = throughput(2) / (2 * throughput(1))``. The step is the jitted forward, backward,
gradient average (one allreduce of every gradient packed into one buffer) and Adam update
(``mg.optim.make_train_step`` with ``micrograd.distributed.DistributedOptimizer``), timed after
its kernels are compiled; a round is ``--steps`` steps between two barriers, and the table gives
the best round (the median in brackets), ranks' times taken as the slowest rank's, over
``--repeat`` jobs per process count, run alternately so that a busy spell of a shared machine
hits both counts alike. Besides the
whole step, each job times the step without the gradient average (the compute alone, which
shows what sharing the machine costs) and the gradient allreduce alone.

The processes are launched with the ``mpiexec`` beside this Python (the mpich wheel's) or on PATH;
``--worker`` is what they run. ``python benchmarks/run.py`` runs this script as its case (r).
"""
from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if __package__ in (None, ""):  # run as a script: benchmark this checkout's micrograd
    sys.path.insert(0, REPO)

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
NETWORK_BYTES_PER_S = 10e9 / 8  # 10 Gbit/s
NETWORK_LATENCY_S = 20e-6  # one message's latency over TCP on 10 Gbit/s Ethernet (typically 10-50 us)
PROJECTED = (8, 32, 128)
EFFICIENCY_TARGET = 0.8


# --- the worker: one rank of a job ----------------------------------------------------------------

def build(name: str, key):
    """The model of examples/mnist.py ("mlp") or examples/mnist_cnn.py ("cnn")."""
    if name == "mlp":
        return runpy.run_path(os.path.join(REPO, "examples", "mnist.py"), run_name="mnist")["build_model"](key)
    return runpy.run_path(os.path.join(REPO, "examples", "mnist_cnn.py"), run_name="mnist_cnn")["build_model"](key)


def worker(args) -> None:
    import numpy as np

    import micrograd as mg
    from micrograd import distributed as dist

    rank, size = dist.rank(), dist.size()
    model = dist.broadcast_parameters(build(args.model, mg.random.key(0)))
    shape = (args.batch, 784) if args.model == "mlp" else (args.batch, 1, 28, 28)
    rng = np.random.default_rng(rank)
    images, labels = rng.random(shape, dtype=np.float32), rng.integers(0, 10, args.batch)
    loss_function = mg.CrossEntropyLoss()

    def loss(m, x, y):
        return loss_function(m(x), y)

    averaged = dist.DistributedOptimizer(mg.Adam(learning_rate=1e-4))
    steps = {"step": mg.optim.make_train_step(loss, averaged),
             "compute": mg.optim.make_train_step(loss, mg.Adam(learning_rate=1e-4))}  # without the average
    states = {name: averaged.init(model) for name in steps}
    models = {name: model for name in steps}
    for name, step in steps.items():  # compile, then warm up
        models[name], states[name], _ = step(models[name], states[name], images, labels)
        step.wait()
        mg.wait_for_compiles()
        for _ in range(3):
            models[name], states[name], _ = step(models[name], states[name], images, labels)
    dist.assert_replicated(models["step"])  # (what the average is for)

    grads = mg.grad(loss)(model, images, labels)
    n_params = sum(int(np.size(g)) for g in mg.tree.leaves(grads))
    n_bytes = sum(int(np.asarray(g).nbytes) for g in mg.tree.leaves(grads))
    times: dict[str, list[float]] = {"step": [], "compute": [], "allreduce": []}
    for _ in range(args.rounds):
        for name, step in steps.items():
            dist.barrier()
            start = time.perf_counter()
            for _ in range(args.steps):
                models[name], states[name], _ = step(models[name], states[name], images, labels)
            elapsed = time.perf_counter() - start
            times[name].append(float(dist.allreduce(np.array(elapsed), "max")) / args.steps)
        dist.barrier()
        start = time.perf_counter()
        for _ in range(args.steps):
            dist.average_gradients(grads)
        times["allreduce"].append(float(dist.allreduce(np.array(time.perf_counter() - start), "max")) / args.steps)
    if rank == 0:
        print(json.dumps({"model": args.model, "processes": size, "batch": args.batch, "params": n_params,
                          "bytes": n_bytes, **{k: v for k, v in times.items()}}))


# --- the launcher ---------------------------------------------------------------------------------

def mpiexec() -> str | None:
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


def run_job(model: str, processes: int, args, one_thread: bool = True) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "PMIX_", "HYDRA_", "OMPI_"))}
    if one_thread:
        env.update(ONE_THREAD)
    else:  # the libraries' own choice: as many threads as cores
        for k in ONE_THREAD:
            env.pop(k, None)
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--model", model, "--batch", str(args.batch),
               "--steps", str(args.steps_for(model)), "--rounds", str(args.rounds)]
    if processes > 1:
        launcher = mpiexec()
        if launcher is None:
            raise SystemExit('no mpiexec found: pip install -e ".[distributed]" brings mpi4py and the mpich wheel')
        command = [launcher, "-n", str(processes)] + command
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ring_allreduce_seconds(n_bytes: int, processes: int, bandwidth: float = NETWORK_BYTES_PER_S,
                           latency: float = NETWORK_LATENCY_S) -> float:
    """A ring allreduce (reduce-scatter, then allgather): ``2 (p - 1)`` steps, each sending
    ``1/p`` of the buffer to the next process, so ``2 (p - 1) / p`` of the buffer per process in
    all, whatever ``p``, and ``2 (p - 1)`` message latencies."""
    return 2 * (processes - 1) / processes * n_bytes / bandwidth + 2 * (processes - 1) * latency


def report(results: list[dict], args) -> list[str]:
    ms = lambda s: f"{s * 1e3:.3f} ms"  # noqa: E731
    lines = [f"weak scaling: {args.batch} images per process per step; best round of {args.rounds * args.repeat} "
             f"in {args.repeat} job(s) (median in brackets), the slowest rank's time",
             f"{'model':<6} {'procs':>5} {'threads':>7} {'step':>20} {'compute alone':>21} {'allreduce alone':>21} "
             f"{'images/s':>10} {'efficiency':>10}"]
    by_model: dict[str, list[dict]] = {}
    for r in results:
        by_model.setdefault(r["model"], []).append(r)
    for model, runs in by_model.items():
        base = args.batch / min(next(r for r in runs if r["processes"] == 1 and r["threads"] == "1 each")["step"])
        for r in runs:
            p = r["processes"]
            throughput = p * args.batch / min(r["step"])
            efficiency = f"{100 * throughput / (p * base):9.1f}%" if r["threads"] == "1 each" else "-"
            cells = [f"{ms(min(r[k]))} ({ms(statistics.median(r[k]))})" if p > 1 or k != "allreduce" else "-"
                     for k in ("step", "compute", "allreduce")]
            lines.append(f"{model:<6} {p:>5} {r['threads']:>7} {cells[0]:>20} {cells[1]:>21} {cells[2]:>21} "
                         f"{throughput:>10.0f} {efficiency:>10}")
    for model, runs in by_model.items():
        base = args.batch / min(next(r for r in runs if r["processes"] == 1 and r["threads"] == "1 each")["step"])
        two = next((r for r in runs if r["processes"] == 2 and r["threads"] == "1 each"), None)
        if two is not None:
            efficiency = 2 * args.batch / min(two["step"]) / (2 * base)
            lines.append(f"target: {model} weak-scaling efficiency at 2 processes >= {EFFICIENCY_TARGET:.0%}: "
                         f"{efficiency:.1%}, {'met' if efficiency >= EFFICIENCY_TARGET else 'MISSED'}")
    lines += ["", f"cost model: ring allreduce of the float32 gradients at {NETWORK_BYTES_PER_S * 8 / 1e9:g} Gbit/s "
                  f"and {NETWORK_LATENCY_S * 1e6:g} us per message, not overlapped with compute; the compute time is "
                  "the measured one-process step",
              f"{'model':<6} {'params':>8} {'bytes/step':>11} {'compute':>10} "
              + " ".join(f"{f'T({p})':>9} {f'E({p})':>6}" for p in PROJECTED)]
    for model, runs in by_model.items():
        r = next(r for r in runs if r["processes"] == 1 and r["threads"] == "1 each")
        compute = min(r["step"])
        cells = []
        for p in PROJECTED:
            t = ring_allreduce_seconds(r["bytes"], p)
            cells.append(f"{ms(t):>9} {100 * compute / (compute + t):>5.0f}%")
        lines.append(f"{model:<6} {r['params']:>8} {r['bytes']:>11} {ms(compute):>10} " + " ".join(cells))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,cnn", help="comma-separated: mlp, cnn")
    parser.add_argument("--batch", type=int, default=64, help="images per process per step")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=None, help="steps per round (default: 200 MLP, 15 CNN)")
    parser.add_argument("--processes", default="1,2", help="comma-separated process counts")
    parser.add_argument("--repeat", type=int, default=3, help="jobs per process count, alternating (default 3)")
    parser.add_argument("--no-threads-too", dest="threads_too", action="store_false",
                        help="skip the reference job of one process with the libraries' default threads")
    parser.add_argument("--quick", action="store_true", help="2 rounds of a few steps")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if args.quick:
        args.rounds, args.repeat = 2, 1
    args.steps_for = lambda model: args.steps or ((20 if args.quick else 200) if model == "mlp" else
                                                  (3 if args.quick else 15))
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"machine: {os.cpu_count()} logical cores, load average {load:.2f} before; one BLAS and one Numba thread "
          f"per process; MPI: {mpiexec()}", flush=True)
    # the counts of processes with one thread each, and one process with all threads (for reference:
    # what the cores give without MPI)
    variants = [(p, True) for p in map(int, args.processes.split(","))] + ([(1, False)] if args.threads_too else [])
    results = []
    for model in args.models.split(","):
        jobs: dict[tuple, dict] = {}
        for _ in range(args.repeat):  # the jobs alternate, so that a busy spell of the machine hits them alike
            for p, one_thread in variants:
                result = run_job(model, p, args, one_thread)
                result["threads"] = "1 each" if one_thread else "all"
                if (p, one_thread) in jobs:
                    for key in ("step", "compute", "allreduce"):
                        jobs[p, one_thread][key] += result[key]
                else:
                    jobs[p, one_thread] = result
                print(f"  {model} on {p} process(es), {result['threads']} thread(s): best step "
                      f"{min(result['step']) * 1e3:.3f} ms", flush=True)
        results += jobs.values()
    print("\n".join(report(results, args)))
    try:
        print(f"load average {os.getloadavg()[0]:.2f} after")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
