"""Run every benchmark in bench/ (each a script) and print its figures and ratios."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Run each `bench/bench_*.py` from the repository root; exit non-zero if any failed to run."""
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    only = set(sys.argv[1:])
    failed = []
    for script in scripts:
        if only and script.stem not in only:
            continue
        print(f"== {script.stem}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=os.environ.copy(), check=False)  # noqa: S603
        print(f"== {script.stem} finished in {time.monotonic() - started:.0f} s (exit {result.returncode})", flush=True)
        if result.returncode != 0:
            failed.append(script.stem)
    if failed:
        print("benchmarks that failed to run: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
