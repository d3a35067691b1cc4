"""Execute course notebooks in place, the way their committed outputs are made.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python tools/run_notebook.py notebooks/00_welcome.ipynb [more.ipynb ...]
    .venv/bin/python tools/run_notebook.py --timeout 120 notebooks/03_*.ipynb
    .venv/bin/python tools/run_notebook.py --clean-only notebooks/04_mfa.ipynb   # no execution

Then check that the outputs are reproducible (run it twice; both must pass)::

    .venv/bin/python -m pytest notebooks/00_welcome.ipynb --nbval \\
        --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider

What it does, per notebook:

1. runs every cell with nbclient in a fresh ``python3`` kernel of this interpreter's environment
   (the .venv kernel), with the notebook's folder as the working directory, as nbval does;
   a cell that raises stops the run (exit status 1, nothing written) unless it carries the
   ``raises-exception`` tag;
2. merges consecutive prints into one stream output (the kernel splits them at random) and
   strips volatile metadata so that a re-run changes only what really changed: per-cell
   ``execution`` timings, ``ExecuteTime``, ``collapsed``/``scrolled``, ``jupyter`` view state,
   ``widgets``; keeps cell ``tags``; sets the kernelspec to ``python3``; keeps ``language_info``
   without its patch-level ``version``;
3. writes the notebook back (nbformat 4, cell ids kept) and prints its run time.

Like nbval, it does not fix ``PYTHONHASHSEED``: notebooks must not print sets of strings (their
order changes from run to run); print ``sorted(...)``.
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_CELL_METADATA_DROP = ("execution", "ExecuteTime", "collapsed", "scrolled", "jupyter", "trusted",
                       "editable", "deletable", "heading_collapsed", "hidden")


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same stream (the kernel splits prints at random)."""
    merged: list = []
    for output in outputs:
        if (output.get("output_type") == "stream" and merged
                and merged[-1].get("output_type") == "stream" and merged[-1].get("name") == output.get("name")):
            merged[-1]["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def clean_metadata(nb) -> None:
    """Strip volatile notebook and cell metadata from ``nb`` (in place)."""
    for cell in nb.cells:
        for key in _CELL_METADATA_DROP:
            cell.metadata.pop(key, None)
        if "tags" in cell.metadata and not cell.metadata["tags"]:
            del cell.metadata["tags"]
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop("execution", None)
    meta = nb.metadata
    for key in ("widgets", "toc", "varInspector", "celltoolbar", "papermill", "vscode"):
        meta.pop(key, None)
    meta["kernelspec"] = nbformat.NotebookNode(copy.deepcopy(KERNELSPEC))
    info = meta.get("language_info")
    if info is not None:
        info.pop("version", None)


def run_notebook(path: Path, *, timeout: int = 60, execute: bool = True) -> float:
    """Execute ``path`` in place (unless ``execute`` is False) and clean it; return seconds taken."""
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    if execute:
        nb.metadata["kernelspec"] = nbformat.NotebookNode(copy.deepcopy(KERNELSPEC))
        client = NotebookClient(nb, kernel_name="python3", timeout=timeout, allow_errors=False,
                                record_timing=False,
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        client.execute()
    elapsed = time.perf_counter() - started
    clean_metadata(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/run_notebook.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    parser.add_argument("--clean-only", action="store_true",
                        help="only strip volatile metadata, do not execute")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            seconds = run_notebook(path, timeout=args.timeout, execute=not args.clean_only)
        except Exception as err:   # CellExecutionError, timeouts: report, keep going
            print(f"FAILED {path}: {type(err).__name__}: {err}", file=sys.stderr)
            status = 1
            continue
        print(f"{'cleaned' if args.clean_only else 'ran'} {path} in {seconds:.1f} s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
