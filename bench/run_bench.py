"""Benchmark the build on synthetic corpora of N articles (``make bench``). A tool, not a test.

For each N (default 1,000 and 10,000) it writes a synthetic corpus (``synth.py``: real paragraphs,
recombined and perturbed) into a temporary root — never into this repository's raw/ — builds it,
and reports per stage (ingest, extract = lines + extract, tables, validate, publish): seconds,
articles/s, MB/s of raw text, and peak RSS of the build process (reset at each stage) and of its
extraction workers. Then, on the built corpus:

- incremental: register one more article (``register.add_articles``) and rebuild with the cache,
  ``--repeats`` times (default 3; the median rebuild is reported);
- validation cost by check: pandera, foreign keys, provenance, frictionless (CSV), Parquet re-read;
- ``--bulk-add N``: ``make add FILE=folder/`` of N loose files into an empty repository;
- ``--profile``: a cProfile of a serial build, time grouped by module (who owns the hot spot);
- bench_dates.py / bench_numbers.py (written beside this file) when they exist.

Each N runs in its own process, so peak memory is that N's alone. Results: a table on stdout and
``bench/out/bench.json``.

    python bench/run_bench.py                         # N = 1,000 and 10,000
    python bench/run_bench.py --sizes 1000 10000 100000 --jobs 2 --bulk-add 10000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
MB = 1024 * 1024
EXTRACTION_SAMPLE = 2000  # articles extracted alone, in one process ("extraction alone")


# --- memory ----------------------------------------------------------------------------------

def _status_kb(pid: str | int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM); Linux ≥ 4.0. False where it is not supported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _child_pids() -> list[str]:
    pids: list[str] = []
    for task in Path("/proc/self/task").glob("*"):
        try:
            pids += (task / "children").read_text().split()
        except OSError:
            pass
    return pids


def _pss_kb(pid: str) -> int:
    """Proportional set size: pages shared with the parent after fork count once, not per worker."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return _status_kb(pid, "VmRSS")


class WorkerMemory:
    """Samples the summed PSS of this process's children (extraction workers) every 50 ms."""

    def __init__(self):
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in _child_pids()))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _live_children_cpu_seconds() -> float:
    """CPU time so far of the children still running (the extraction pool lives for the whole build)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _child_pids():
        try:
            after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(after_name[11]) + int(after_name[12])  # fields 14 and 15: utime, stime
        except (OSError, ValueError, IndexError):
            pass
    return total / ticks


def _cpu_seconds() -> float:
    """CPU time of this process and of its children: finished ones (``os.times``) and running ones.

    Robust to a busy machine where wall time is not: articles per CPU second = articles/s per core.
    """
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system + _live_children_cpu_seconds()


class StageMeter:
    """The observer ``pipeline.build`` calls: seconds and peak memory of each stage."""

    def __init__(self):
        self.stages: dict[str, dict] = {}

    @contextmanager
    def __call__(self, name: str):
        reset_peak_rss()
        with WorkerMemory() as workers:
            start, cpu = time.perf_counter(), _cpu_seconds()
            yield
            seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
        # A stage that runs batch by batch (extract, tables) adds up its times and keeps its peak.
        before = self.stages.get(name, {"seconds": 0.0, "cpu_seconds": 0.0, "peak_rss_mb": 0.0, "workers_peak_pss_mb": 0.0})
        self.stages[name] = {
            "seconds": before["seconds"] + seconds,
            "cpu_seconds": before["cpu_seconds"] + cpu,
            "peak_rss_mb": max(before["peak_rss_mb"], _status_kb("self", "VmHWM") / 1024),
            "workers_peak_pss_mb": max(before["workers_peak_pss_mb"], workers.peak_kb / 1024),
        }


# --- one corpus size (runs in its own process) -------------------------------------------------

def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def validation_breakdown(frames, texts, root: Path) -> dict[str, float]:
    """Seconds of each check, run one by one on the built tables and the written CSVs."""
    from coalition_news import validate

    out = {}
    _, out["pandera"] = _timed(lambda: [validate.check_schema(t, df) for t, df in frames.items()])
    _, out["foreign_keys"] = _timed(validate.check_foreign_keys, frames)
    _, out["provenance"] = _timed(validate.check_provenance, frames, texts)
    _, out["parquet_vs_csv"] = _timed(validate.check_written, root / "data")
    _, out["frictionless_csv"] = _timed(validate.frictionless_validate, root)
    return out


def profile_build(root: Path, top: int = 25) -> dict:
    """cProfile of a serial, uncached build: own time grouped by module, and the top functions."""
    from coalition_news.pipeline import BuildOptions, build

    profiler = cProfile.Profile()
    profiler.enable()
    build(root, BuildOptions(jobs=1, cache=False))
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_module: dict[str, float] = defaultdict(float)
    functions = []
    for (path, line, func), (_, _, tottime, cumtime, callers) in stats.stats.items():
        module = _module_of(path)
        functions.append((tottime, cumtime, f"{module}:{func}:{line}"))
        if module == "builtins" and callers:
            # A regex search or str.join is the time of the module that called it.
            for (caller_path, _, _), (_, _, caller_tt, _) in callers.items():
                by_module[_module_of(caller_path)] += caller_tt
        else:
            by_module[module] += tottime
    functions.sort(reverse=True)
    return {
        "own_seconds_by_module": dict(sorted(by_module.items(), key=lambda kv: -kv[1])[:top]),
        "top_functions_by_own_time": [{"own_s": round(t, 3), "cum_s": round(c, 3), "where": w} for t, c, w in functions[:top]],
    }


def extraction_per_core(articles: list) -> dict:
    """``extract_article`` alone, in this process, over ``articles`` (with their texts): articles
    per CPU-second, the issue's "extraction per core". The build's extract stage counts more: its
    workers also table each block, and the CPU of whatever overlaps the stage."""
    from coalition_news.extract import extract_article, forget_text_memos, warm_up

    warm_up()
    forget_text_memos()  # no line of the build's first block is remembered
    start = time.process_time()
    for article in articles:
        extract_article(article)
    cpu = time.process_time() - start
    return {"articles": len(articles), "cpu_seconds": round(cpu, 3), "articles_per_cpu_second": len(articles) / cpu}


def _module_of(path: str) -> str:
    """``…/build/extract/quotes.py`` → ``coalition_news.extract.quotes``; a library → its package."""
    p = Path(path)
    parts = p.parts
    if p.suffix == ".py" and "coalition_news" in parts:  # the benchmark's snapshot of the package
        return ".".join(parts[parts.index("coalition_news"):])[: -len(".py")]
    if p.suffix == ".py" and "build" in parts and str(HERE.parent) in path:
        return ".".join(["coalition_news", *parts[parts.index("build") + 1:]])[: -len(".py")]
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if path.startswith("<") or path == "~":
        return "builtins"
    return "python:" + p.stem


def run_one(n: int, jobs: int | None, workdir: Path, profile: bool, verify: bool, seeds: str = "all",
            repeats: int = 3, engine: str = "processes", partitioned: bool = False) -> dict:
    import synth
    from coalition_news.ingest import read_raw
    from coalition_news.pipeline import BuildOptions, build, worker_count
    from coalition_news.register import add_articles

    root = workdir / f"n{n}"
    seed_dirs = synth.SEED_DIRS[:1] if seeds == "raw" else synth.SEED_DIRS
    raw_bytes, gen_s = _timed(synth.write_corpus, root, n, 0, seed_dirs)
    import coalition_news

    result = {"n": n, "jobs": worker_count(jobs), "raw_mb": raw_bytes / MB, "generate_seconds": gen_s, "seeds": seeds,
              "engine": engine, "partitioned": partitioned, "package": str(Path(coalition_news.__file__).parent)}

    from coalition_news.cache import extractor_fingerprint

    cache_log = _capture_log("coalition_news.pipeline")
    fingerprint = extractor_fingerprint()
    meter = StageMeter()
    options = BuildOptions(jobs=jobs, cache=True, engine=engine, partitioned=partitioned)
    rows, total = _timed(build, root, options, meter)
    result["stages"] = _rates(meter.stages, n, raw_bytes)
    result["build_seconds"] = total
    result["peak_rss_mb"] = max(s["peak_rss_mb"] for s in meter.stages.values())
    result["rows"] = rows
    import pyarrow as pa

    result["arrow_pool"] = pa.default_memory_pool().backend_name  # the build's allocator (``memory``)

    articles = read_raw(root / "raw")  # with their texts: for extraction alone, and the checks alone below
    result["extraction_per_core"] = extraction_per_core(articles[:EXTRACTION_SAMPLE])

    from coalition_news.validate import read_parquet_typed

    frames = {t: read_parquet_typed(t, root / "data" / "parquet" / f"{t}.parquet") for t in rows}
    texts = {a.article_id: a.text for a in articles}
    del articles
    result["validation_seconds"] = validation_breakdown(frames, texts, root)
    del frames, texts

    # Incremental: one more article into the built corpus, rebuilt with the cache; ``repeats`` times
    # (one run on a shared machine can be off by half), reported by the median rebuild.
    extra = workdir / "extra"
    extra.mkdir(exist_ok=True)
    runs = []
    for k in range(repeats):
        (extra / "new.txt").write_bytes(next(iter(synth.synthetic_texts(1, seed=n + 1 + k))))
        _, add_s = _timed(add_articles, root / "raw", extra / "new.txt")
        inc = StageMeter()
        _, inc_total = _timed(build, root, options, inc)
        runs.append({"add_one_seconds": add_s, "rebuild_seconds": inc_total, "cache": [m for m in cache_log if m.startswith("extract:")][-1:],
                     "stages": {k: round(v["seconds"], 3) for k, v in inc.stages.items()}})
    median = sorted(runs, key=lambda r: r["rebuild_seconds"])[len(runs) // 2]
    result["incremental"] = {**median, "add_one_seconds": sorted(r["add_one_seconds"] for r in runs)[len(runs) // 2],
                             "rebuilds": [round(r["rebuild_seconds"], 3) for r in runs],
                             "extractor_changed_meanwhile": extractor_fingerprint() != fingerprint}
    if verify:
        result["incremental"]["identical_to_clean_build"] = _same_as_clean_build(root)
    if profile:
        result["profile"] = profile_build(root)
    shutil.rmtree(root, ignore_errors=True)
    return result


def _capture_log(name: str) -> list[str]:
    """Messages of logger ``name`` (INFO and up), appended to the returned list as they come."""
    import logging

    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.addHandler(Keep())
    return messages


def _same_as_clean_build(root: Path) -> bool:
    from coalition_news.pipeline import BuildOptions, build

    incremental = {p.relative_to(root / "data"): p.read_bytes() for p in (root / "data").rglob("*") if p.is_file()}
    clean = root.with_name(root.name + "-clean")
    shutil.copytree(root / "raw", clean / "raw")
    build(clean, BuildOptions(cache=False))
    fresh = {p.relative_to(clean / "data"): p.read_bytes() for p in (clean / "data").rglob("*") if p.is_file()}
    shutil.rmtree(clean, ignore_errors=True)
    return incremental == fresh


def _rates(stages: dict[str, dict], n: int, raw_bytes: int) -> dict[str, dict]:
    """Rates of each stage, in the pipeline's order (a build enters them in another: it writes the
    files to a staging folder before the validate stage, and checks and swaps them in after it)."""
    from coalition_news.pipeline import STAGES

    order = {name: i for i, name in enumerate(STAGES)}
    return {
        name: {**s, "articles_per_s": n / s["seconds"] if s["seconds"] else None,
               "mb_per_s": raw_bytes / MB / s["seconds"] if s["seconds"] else None}
        for name, s in sorted(stages.items(), key=lambda item: order.get(item[0], len(order)))
    }


def bulk_add(n: int, workdir: Path) -> dict:
    """``make add FILE=folder/`` of ``n`` new files into an empty repository, timed."""
    import synth
    from coalition_news.manifest import write_manifest
    from coalition_news.register import add_articles

    folder, root = workdir / "incoming", workdir / "bulk"
    raw_bytes, gen_s = _timed(synth.write_folder, folder, n, 7)
    (root / "raw").mkdir(parents=True)
    write_manifest(root / "raw", [])
    reset_peak_rss()
    entries, seconds = _timed(add_articles, root / "raw", folder)
    assert len(entries) == n
    result = {"n": n, "seconds": seconds, "articles_per_s": n / seconds, "mb_per_s": raw_bytes / MB / seconds,
              "peak_rss_mb": _status_kb("self", "VmHWM") / 1024}
    # The same, with each publication date given (no date search in the text).
    shutil.rmtree(root)
    (root / "raw").mkdir(parents=True)
    write_manifest(root / "raw", [])
    _, result["seconds_with_date"] = _timed(add_articles, root / "raw", folder, date="2020-01-01")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    return result


# --- side by side: helpers' benchmarks ---------------------------------------------------------

def neighbour_bench(script: str, timeout: int = 600) -> dict | None:
    """Run bench/<script> when it exists; keep its output (and its last JSON line, if any)."""
    path = HERE / script
    if not path.is_file():
        return None
    try:
        proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=timeout, cwd=HERE.parent)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    out = {"returncode": proc.returncode, "stdout": proc.stdout[-4000:], "stderr": proc.stderr[-1000:]}
    for line in reversed(proc.stdout.splitlines()):
        try:
            out["json"] = json.loads(line)
            break
        except ValueError:
            continue
    return out


# --- report ---------------------------------------------------------------------------------------

def format_table(results: list[dict]) -> str:
    head = (f"{'N':>7} {'stage':<11} {'seconds':>8} {'articles/s':>11} {'MB/s':>7} {'CPU s':>7} {'art/CPU-s':>9} "
            f"{'peak RSS MB':>11} {'workers PSS MB':>14}")
    lines = [head, "-" * len(head)]
    for r in results:
        for name, s in r["stages"].items():
            per_cpu = r["n"] / s["cpu_seconds"] if s["cpu_seconds"] else float("nan")
            lines.append(f"{r['n']:>7} {name:<11} {s['seconds']:>8.2f} {s['articles_per_s']:>11,.0f} {s['mb_per_s']:>7.2f} "
                         f"{s['cpu_seconds']:>7.2f} {per_cpu:>9,.0f} {s['peak_rss_mb']:>11.0f} {s['workers_peak_pss_mb']:>14.0f}")
        per_core = r["n"] / r["stages"]["extract"]["cpu_seconds"]
        lines.append(f"{r['n']:>7} {'TOTAL':<11} {r['build_seconds']:>8.2f} {r['n'] / r['build_seconds']:>11,.0f} "
                     f"{r['raw_mb'] / r['build_seconds']:>7.2f} {'':>7} {'':>9} {r['peak_rss_mb']:>11.0f}   "
                     f"(raw {r['raw_mb']:.1f} MB, {r['jobs']} jobs{' on Dask' if r.get('engine') == 'dask' else ''}, Arrow on {r.get('arrow_pool', '?')}; extract stage {per_core:,.1f} articles per CPU-second)")
        if "extraction_per_core" in r:
            alone = r["extraction_per_core"]
            lines.append(f"{'':>7} extraction alone (extract_article, one process, {alone['articles']:,} articles): "
                         f"{alone['articles_per_cpu_second']:,.0f} articles per CPU-second")
        v, inc = r["validation_seconds"], r["incremental"]
        lines.append(f"{'':>7} checks: " + ", ".join(f"{k} {t:.2f}s" for k, t in v.items())
                     + f"; pandera/frictionless = {v['pandera'] / v['frictionless_csv']:.2f}")
        lines.append(f"{'':>7} incremental (+1 article, cached; median of {len(inc.get('rebuilds', [0]))}): add {inc['add_one_seconds']:.2f}s, "
                     f"rebuild {inc['rebuild_seconds']:.2f}s (runs: {', '.join(f'{t:.2f}' for t in inc.get('rebuilds', []))}) "
                     + str(inc["stages"]) + f" [{'; '.join(inc['cache'])}"
                     + ("; the extractor changed during the run]" if inc["extractor_changed_meanwhile"] else "]")
                     + (f", identical to clean: {inc['identical_to_clean_build']}" if "identical_to_clean_build" in inc else ""))
        lines.append(f"{'':>7} rows: " + ", ".join(f"{t} {c:,}" for t, c in r["rows"].items()))
    return "\n".join(lines)


def snapshot_code(dest: Path) -> Path:
    """A frozen copy of the package (and the schemas it reads) for the whole run.

    Edits to the checkout while the benchmark runs would otherwise mix two extractors in one run
    (and invalidate the cache between the build and the incremental rebuild).
    """
    repo = HERE.parent
    shutil.copytree(repo / "build", dest / "coalition_news", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo / "schemas", dest / "schemas")
    shutil.copy2(repo / "datapackage.yaml", dest / "datapackage.yaml")
    return dest


def _exit_with_parent() -> None:
    """A size's process ends when the driver does (killed, timed out), instead of running on alone."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                for pid in _child_pids():  # extraction workers would otherwise linger
                    try:
                        os.kill(int(pid), 9)
                    except OSError:
                        pass
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--jobs", type=int, default=None, help="extraction processes (default: every core)")
    parser.add_argument("--bulk-add", type=int, default=0, metavar="N", help="also time registering N loose files")
    parser.add_argument("--profile", action="store_true", help="cProfile a serial build of the largest size")
    parser.add_argument("--verify", action="store_true", help="check the incremental build equals a clean one")
    parser.add_argument("--engine", choices=("processes", "dask"), default="processes",
                        help="extract in the build's processes or on a Dask LocalCluster (--jobs workers)")
    parser.add_argument("--partitioned", action="store_true", help="also write data-partitioned/ (its own stage in the table)")
    parser.add_argument("--repeats", type=int, default=3, help="incremental rebuilds (+1 article each) per size; the median is reported")
    parser.add_argument("--no-neighbours", action="store_true", help="skip bench_dates.py / bench_numbers.py")
    parser.add_argument("--out", type=Path, default=OUT / "bench.json")
    parser.add_argument("--seeds", choices=("all", "raw"), default="raw",
                        help="paragraphs from raw/ only (default) or also from ../shared/corpus (all: more varied text)")
    parser.add_argument("--live-code", action="store_true",
                        help="run the checkout's code as it changes, not a snapshot taken at the start")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per size (default 3600)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size, JSON on stdout
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:
        _exit_with_parent()
        print(json.dumps(run_one(args.one, args.jobs, args.workdir, args.profile, args.verify, args.seeds, args.repeats,
                                 args.engine, args.partitioned)))
        return 0

    report: dict = {"python": sys.version.split()[0], "cores": os.cpu_count(), "sizes": []}
    with tempfile.TemporaryDirectory(prefix="coalition-bench-") as tmp:
        env = dict(os.environ)
        if not args.live_code:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(snapshot_code(Path(tmp) / "code")), env.get("PYTHONPATH")]))
        for n in args.sizes:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(n), "--workdir", tmp]
            cmd += (["--jobs", str(args.jobs)] if args.jobs else []) + (["--verify"] if args.verify else [])
            cmd += ["--profile"] if args.profile and n == max(args.sizes) else []
            cmd += ["--seeds", args.seeds, "--repeats", str(args.repeats), "--engine", args.engine]
            cmd += ["--partitioned"] if args.partitioned else []
            print(f"N = {n:,} …", file=sys.stderr, flush=True)
            try:
                proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=args.timeout, env=env)
            except subprocess.TimeoutExpired:
                print(f"N = {n:,}: gave up after {args.timeout} s", file=sys.stderr)
                return 2
            if proc.returncode != 0:
                print(f"N = {n:,}: the benchmark failed (exit {proc.returncode})", file=sys.stderr)
                return proc.returncode
            report["sizes"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(format_table(report["sizes"][-1:]), flush=True)
        if args.bulk_add:
            report["bulk_add"] = bulk_add(args.bulk_add, Path(tmp))
            b = report["bulk_add"]
            print(f"bulk add of {b['n']:,} files: {b['seconds']:.2f}s ({b['articles_per_s']:,.0f} articles/s, "
                  f"{b['mb_per_s']:.2f} MB/s, peak {b['peak_rss_mb']:.0f} MB); with DATE given: {b['seconds_with_date']:.2f}s")
    if not args.no_neighbours:
        for script in ("bench_dates.py", "bench_numbers.py"):
            result = neighbour_bench(script)
            if result is not None:
                report[script.removesuffix(".py")] = result
                print(f"\n--- {script} ---\n{result.get('stdout', result.get('error', '')).strip()}")
    largest = report["sizes"][-1] if report["sizes"] else None
    if largest and "profile" in largest:
        print(f"\n--- profile of a serial build, N = {largest['n']:,}: own seconds by module ---")
        for module, seconds in largest["profile"]["own_seconds_by_module"].items():
            print(f"{seconds:8.2f}  {module}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
