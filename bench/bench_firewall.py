"""Content-firewall throughput: lint_message over the test corpus, in-process, against a 20,000 msgs/s goal.

Run from the repository root: `python bench/bench_firewall.py [--runs N] [--seconds S]`. Each run clears the
firewall's cache of converted Chinese numerals so repeated passes over the same corpus do not flatter it.
Reports the median of the runs with their spread, by wall clock (what a caller sees) and by process CPU time
(less disturbed by other work on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collections_app.messaging.firewall.amounts import cn_value  # noqa: E402
from collections_app.messaging.firewall.lint import lint_message  # noqa: E402
from tests.collections_app.messaging.firewall_corpus import CORPUS  # noqa: E402

GOAL_MSGS_PER_S = 20_000


def one_run(passes: int) -> tuple[float, float, int]:
    """Lint the corpus `passes` times; return wall seconds, CPU seconds and the number of messages."""
    items = [(c.text, c.audience, c.profile) for c in CORPUS]
    cn_value.cache_clear()
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(passes):
        for text, audience, profile in items:
            lint_message(text, audience=audience, profile=profile)
    return time.perf_counter() - wall_start, time.process_time() - cpu_start, passes * len(items)


def main() -> int:
    """Measure, print the figures and the ratio to the goal; exit 0 (a slow result is reported, not failed)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0, help="target length of one run")
    args = parser.parse_args()

    # Warm up (imports, compiled profiles) and size a run to about --seconds.
    wall, _, count = one_run(1)
    passes = max(1, round(args.seconds / max(wall, 1e-6)))
    one_run(passes)

    wall_rates, cpu_rates = [], []
    for _ in range(args.runs):
        wall, cpu, count = one_run(passes)
        wall_rates.append(count / wall)
        cpu_rates.append(count / cpu if cpu > 0 else float("inf"))

    wall_median = statistics.median(wall_rates)
    cpu_median = statistics.median(cpu_rates)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"corpus: {len(CORPUS)} messages, {passes} passes per run, {args.runs} runs; load average {load}")
    print(
        f"wall: median {wall_median:,.0f} msgs/s, min {min(wall_rates):,.0f}, max {max(wall_rates):,.0f} "
        f"(spread {(max(wall_rates) - min(wall_rates)) / wall_median:.0%} of median)"
    )
    print(f"cpu:  median {cpu_median:,.0f} msgs/s, min {min(cpu_rates):,.0f}, max {max(cpu_rates):,.0f}")
    print(f"firewall_msgs_per_s={wall_median:.0f} ratio_to_goal={wall_median / GOAL_MSGS_PER_S:.2f}")
    print(f"firewall_cpu_msgs_per_s={cpu_median:.0f} cpu_ratio_to_goal={cpu_median / GOAL_MSGS_PER_S:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
