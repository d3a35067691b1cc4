"""`make bench` runs every benchmark and prints its medians and ratios."""
import importlib
import sys

MODULES = ["bench_lab", "bench_cold_start", "bench_srp", "bench_tokens", "bench_lambda", "bench_node_verify"]


def main() -> int:
    for name in MODULES:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            print(f"[{name}] skipped: {exc}")
            continue
        print(f"\n== {name} ==", flush=True)
        if hasattr(module, "main"):      # modules with a printing entry point
            module.main([])
        else:
            module.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
