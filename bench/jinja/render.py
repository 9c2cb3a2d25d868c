"""Times Jinja2 rendering the corpus's invoice template, the peer of
BenchmarkRender/impl=cws, and prints a Go benchmark line that benchstat
compares with it: BenchmarkRender/impl=jinja2-<cpus> N T ns/op.

Run by `make bench` with the Jinja2 the Makefile installs (3.1.6):
    python3 bench/jinja/render.py services/templates/testdata/jinja-conformance.json
"""
import json
import os
import sys
import time

import jinja2


def main():
    cases = json.load(open(sys.argv[1]))
    case = next(c for c in cases if c["name"] == "invoice")
    env = jinja2.Environment(loader=jinja2.DictLoader(case["templates"]), autoescape=case["autoescape"])
    template = env.get_template(case["template"])
    context = case["context"]
    assert template.render(context) == case["expect"]["output"]
    # Go's testing runs a benchmark for about a second: so does this.
    n = 1
    while True:
        start = time.perf_counter_ns()
        for _ in range(n):
            template.render(context)
        elapsed = time.perf_counter_ns() - start
        if elapsed >= 1_000_000_000 or n >= 100_000_000:
            break
        n = max(n * 2, int(n * 1.2e9 / max(elapsed, 1)))
    cpus = os.cpu_count() or 1
    print(f"BenchmarkRender/impl=jinja2-{cpus} \t{n}\t{elapsed / n:.1f} ns/op")


if __name__ == "__main__":
    main()
