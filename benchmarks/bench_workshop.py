"""Workshop load: what one attendee costs, and how many a machine holds (not part of `make test`).

Two measurements, both printed as tables (docs/facilitator.md quotes them with the load they ran under):

``kernel``  Each lesson run in its own kernel with nbclient (no hub), as an attendee runs it. After
            every cell but the last (``lab.stop()``, so the lab is still running) the kernel's process
            tree is read with psutil: the kernel plus its children (the lab's Lambda workers, ...).
            RSS counts shared pages in every process; USS is what that tree alone holds. "stopped" is
            the kernel's RSS after ``lab.stop()``: what a finished lesson's kernel keeps until shut down.

``hub``     workshop/jupyterhub_config.py started for real (JupyterHub + configurable-http-proxy on
            loopback), N simulated attendees for N = 1, 2, 4, ...: each one is created and has its
            server started through the hub's REST API, then runs the chosen lessons one after the
            other in a kernel of its own server, through the proxy (Jupyter Server's kernels API and
            the kernel's websocket), all attendees at once. Each attendee's process tree (single-user
            server, kernel, lab workers) is sampled every second: peak RSS/USS and CPU seconds. A
            lesson passes when every code cell ran without an error (each exercise check raises on a
            wrong answer), as in nbval's run but without comparing outputs. ``--think S`` makes each
            attendee wait S seconds before each cell (a reader, not a script); rounds that would leave
            less than 4 GiB free (from the largest USS so far) are skipped.

    make bench-workshop                                     # both, N = 1, 2, 4, 8
    .venv/bin/python -m benchmarks.bench_workshop kernel --lessons 02,05
    .venv/bin/python -m benchmarks.bench_workshop hub --attendees 1,2,4,8,16 --lessons 02,05,07
    .venv/bin/python -m benchmarks.bench_workshop hub --attendees 8,16,24 --think 3   # paced attendees
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CONFIG = ROOT / "workshop" / "jupyterhub_config.py"
MB = 1024 * 1024


def lesson_paths(spec: str) -> list[Path]:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if spec == "all":
        return paths
    wanted = [item.strip() for item in spec.split(",")]
    chosen = [p for w in wanted for p in paths if p.name.startswith(f"{w}_")]
    missing = set(wanted) - {p.name[:2] for p in chosen}
    if missing:
        raise SystemExit(f"no notebook for lesson(s) {', '.join(sorted(missing))}")
    return chosen


def load_conditions() -> str:
    import psutil
    one, five, _ = os.getloadavg()
    return (f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB; load average "
            f"{one:.2f} (1 min) {five:.2f} (5 min) at start")


# --- process trees -----------------------------------------------------------------------------------
@dataclass
class TreeStats:
    peak_rss: float = 0.0
    peak_uss: float = 0.0
    cpu: dict = field(default_factory=dict)   # pid -> latest user+system seconds (children included)

    def sample(self, root) -> None:
        import psutil
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        rss = uss = 0
        for proc in procs:
            try:
                info = proc.memory_full_info()
                times = proc.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            uss += info.uss
            self.cpu[proc.pid] = times.user + times.system + times.children_user + times.children_system
        self.peak_rss = max(self.peak_rss, rss / MB)
        self.peak_uss = max(self.peak_uss, uss / MB)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


# --- kernel: one lesson, one kernel, memory with the lab running -----------------------------------
def run_kernel(spec: str) -> None:
    import nbformat
    import psutil
    from nbclient import NotebookClient

    print(f"kernel: each lesson in a fresh kernel via nbclient; {load_conditions()}")
    print(f"{'lesson':<34} {'run s':>6} {'idle RSS':>9} {'kernel RSS':>11} {'tree RSS':>9} {'tree USS':>9}"
          f" {'procs':>5} {'CPU s':>6} {'stopped':>8}  result")
    for path in lesson_paths(spec):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        code_cells = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
        errors, stats, kernel_rss, nprocs = [], TreeStats(), 0.0, 0
        started = time.perf_counter()
        with client.setup_kernel():
            kernel = psutil.Process(client.km.provisioner.process.pid)
            idle_rss = kernel.memory_info().rss / MB       # a fresh kernel, nothing run yet
            for index, cell in enumerate(nb.cells):
                if index == code_cells[-1]:          # lab.stop(): measure the running lab first
                    stats.sample(kernel)
                    kernel_rss = kernel.memory_info().rss / MB
                    nprocs = 1 + len(kernel.children(recursive=True))
                try:
                    client.execute_cell(cell, index)
                except Exception as exc:             # CellExecutionError: the lesson failed here
                    errors.append(f"cell {index}: {type(exc).__name__}")
                    break
            stopped_rss = kernel.memory_info().rss / MB    # after lab.stop(): what an idle kernel keeps
        elapsed = time.perf_counter() - started
        result = "passed" if not errors else "FAILED " + "; ".join(errors)
        print(f"{path.stem[:34]:<34} {elapsed:>6.1f} {idle_rss:>6.0f} MB {kernel_rss:>8.0f} MB {stats.peak_rss:>6.0f} MB "
              f"{stats.peak_uss:>6.0f} MB {nprocs:>5} {stats.cpu_seconds:>6.1f} {stopped_rss:>5.0f} MB  {result}", flush=True)


# --- hub: N attendees through a real JupyterHub --------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hub:
    """workshop/jupyterhub_config.py plus a service token for this script, in a throw-away folder."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="labkit-hub-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        (self.dir / "bench_config.py").write_text(
            f"load_subconfig({str(CONFIG)!r})\n"
            "c = get_config()\n"
            f"c.JupyterHub.services = [{{'name': 'bench', 'api_token': {self.token!r}}}]\n"
            "c.JupyterHub.load_roles = [{'name': 'bench', 'services': ['bench'], 'scopes': "
            "['admin:users', 'admin:servers', 'access:servers', 'read:users']}]\n")
        env = dict(os.environ, WORKSHOP_PASSWORD=secrets.token_hex(8), WORKSHOP_NOTEBOOKS=str(NOTEBOOKS),
                   WORKSHOP_HOMES=str(self.dir / "homes" / "{username}"),
                   WORKSHOP_URL=f"http://127.0.0.1:{self.port}")
        hub_bin = Path(sys.executable).parent / "jupyterhub"
        self.log = open(self.dir / "hub.log", "w")
        self.process = subprocess.Popen(
            [str(hub_bin), "-f", str(self.dir / "bench_config.py"),
             f"--JupyterHub.hub_port={free_port()}", f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}"],
            cwd=self.dir, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    async def api(self, method: str, path: str, body=None, *, hub=True, ok=(200, 201, 202, 204)):
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest
        url = f"{self.url}/hub/api{path}" if hub else f"{self.url}{path}"
        request = HTTPRequest(url, method=method, headers={"Authorization": f"token {self.token}"},
                              body=None if body is None and method == "GET" else json.dumps(body or {}),
                              allow_nonstandard_methods=True, connect_timeout=600, request_timeout=600)
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {response.code} {response.body[:300]!r}")
        return json.loads(response.body) if response.body else None

    async def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited; see {self.dir / 'hub.log'}")
            try:
                await self.api("GET", "/")
                return
            except Exception:
                await asyncio.sleep(0.5)
        raise RuntimeError(f"the hub did not come up in {timeout} s; see {self.dir / 'hub.log'}")

    def own_rss(self) -> float:
        """The hub and its proxy (not the attendees' servers), MB."""
        import psutil
        hub = psutil.Process(self.process.pid)
        procs = [hub] + [p for p in hub.children() if "configurable-http-proxy" in " ".join(p.cmdline())]
        return sum(p.memory_info().rss for p in procs) / MB

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def server_process(name: str):
    """The attendee's single-user server: the process whose environment says JUPYTERHUB_USER=name."""
    import psutil
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            if "jupyterhub-singleuser" in cmd and proc.environ().get("JUPYTERHUB_USER") == name:
                return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


async def run_cell(ws, session: str, code: str, timeout: float = 600) -> str | None:
    """Execute one cell over the kernel's websocket; the error name, or None."""
    msg_id = uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "bench", "session": session,
                   "date": "", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    reply, idle = None, False
    while reply is None or not idle:
        raw = await asyncio.wait_for(ws.read_message(), timeout)
        if raw is None:
            return "websocket closed"
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_reply":
            reply = msg["content"]
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
    return None if reply["status"] == "ok" else reply.get("ename", reply["status"])


async def attendee(hub: Hub, name: str, lessons: list[Path], stats: TreeStats, think: float = 0.0) -> dict:
    import nbformat
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    started = time.perf_counter()
    await hub.api("POST", f"/users/{name}", ok=(201, 409))
    await hub.api("POST", f"/users/{name}/server")
    while True:                                            # 202: still starting
        model = await hub.api("GET", f"/users/{name}")
        server = model.get("servers", {}).get("", {})
        if server.get("ready"):
            break
        await asyncio.sleep(0.5)
    result = {"name": name, "spawn_s": time.perf_counter() - started, "lessons": {}}
    for path in lessons:
        nb = nbformat.read(path, as_version=4)
        lesson_start = time.perf_counter()
        kernel = await hub.api("POST", f"/user/{name}/api/kernels", {"name": "python3", "path": ""}, hub=False)
        ws_url = hub.url.replace("http", "ws") + f"/user/{name}/api/kernels/{kernel['id']}/channels"
        ws = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {hub.token}"},
                                                 connect_timeout=600, request_timeout=600),
                                     max_message_size=64 * MB)
        session, failure = uuid.uuid4().hex, None
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if think:                                      # reading before running the next cell
                await asyncio.sleep(think)
            error = await run_cell(ws, session, cell.source)
            if error and "raises-exception" not in cell.metadata.get("tags", []):
                failure = f"cell {index}: {error}"
                break
        ws.close()
        await hub.api("DELETE", f"/user/{name}/api/kernels/{kernel['id']}", hub=False)
        result["lessons"][path.name[:2]] = (failure, time.perf_counter() - lesson_start)
    return result


async def sampler(names: list[str], stats: dict[str, TreeStats], stop: asyncio.Event, low: list) -> None:
    import psutil
    roots: dict = {}
    while not stop.is_set():
        low[0] = min(low[0], psutil.virtual_memory().available / 2**30)
        for name in names:
            if name not in roots:
                proc = await asyncio.to_thread(server_process, name)
                if proc is None:
                    continue
                roots[name] = proc
            await asyncio.to_thread(stats[name].sample, roots[name])
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass


async def one_round(hub: Hub, n: int, lessons: list[Path], round_no: int, think: float) -> float:
    import psutil
    names = [f"attendee-{round_no}-{i:02d}" for i in range(n)]
    stats = {name: TreeStats() for name in names}
    stop = asyncio.Event()
    one, _, _ = os.getloadavg()
    psutil.cpu_percent()
    low = [psutil.virtual_memory().available / 2**30]
    watch = asyncio.create_task(sampler(names, stats, stop, low))
    started = time.perf_counter()
    results = await asyncio.gather(*(attendee(hub, name, lessons, stats[name], think) for name in names),
                                   return_exceptions=True)
    wall = time.perf_counter() - started
    machine_cpu = psutil.cpu_percent()
    stop.set()
    await watch
    available = low[0]                                     # the machine's lowest free memory in the round
    hub_rss = hub.own_rss()
    for name in names:                                     # stop their servers before the next round
        await hub.api("DELETE", f"/users/{name}/server", ok=(202, 204, 400, 404))
    failures, lesson_times, spawns = [], [], []
    for item in results:
        if isinstance(item, BaseException):
            failures.append(f"{type(item).__name__}: {item}")
            continue
        spawns.append(item["spawn_s"])
        for number, (failure, seconds) in item["lessons"].items():
            lesson_times.append(seconds)
            if failure:
                failures.append(f"{item['name']} lesson {number}: {failure}")
    rss = [stats[name].peak_rss for name in names]
    uss = [stats[name].peak_uss for name in names]
    cpu = [stats[name].cpu_seconds for name in names]
    passed = sum(1 for item in results if not isinstance(item, BaseException)
                 for failure, _ in item["lessons"].values() if not failure)
    total = n * len(lessons)
    print(f"{n:>3} {wall:>7.0f} {statistics.median(spawns) if spawns else 0:>6.1f} "
          f"{statistics.median(lesson_times) if lesson_times else 0:>7.1f} {max(lesson_times, default=0):>6.1f} "
          f"{statistics.mean(rss):>8.0f} {max(rss):>7.0f} {statistics.mean(uss):>8.0f} {statistics.mean(cpu):>6.1f} "
          f"{machine_cpu:>5.0f}% {available:>6.1f} {one:>5.2f} {hub_rss:>6.0f}  {passed}/{total} passed", flush=True)
    for failure in failures:
        print(f"      {failure}")
    return max(uss, default=0.0)


async def run_hub(attendees: list[int], spec: str, think: float = 0.0) -> None:
    import psutil
    if shutil.which("configurable-http-proxy") is None:
        raise SystemExit("configurable-http-proxy is not on PATH: npm install -g configurable-http-proxy")
    from tornado.httpclient import AsyncHTTPClient
    # Tornado's client queues requests beyond 10 at a time (and times them out there): one per attendee.
    AsyncHTTPClient.configure(None, max_clients=max(attendees) * 2 + 10)
    lessons = lesson_paths(spec)
    hub = Hub()
    try:
        await hub.wait_ready()
        print(f"hub: workshop/jupyterhub_config.py, lessons {', '.join(p.name[:2] for p in lessons)} one after "
              f"the other per attendee, {think:g} s before each cell; {load_conditions()}")
        print("  N  wall s spawn s lesson s  max s  RSS avg RSS max  USS avg  CPU s  mach.  min free load1 hub MB")
        print("                   (median)          (MB per attendee, peak)   /att.   CPU    GiB")
        peak = 0.0
        for round_no, n in enumerate(attendees):
            free = psutil.virtual_memory().available / 2**30
            if peak and n * peak / 1024 > free - 4:        # keep 4 GiB for the machine and its other users
                print(f"{n:>3}  skipped: {n} x {peak:.0f} MB (USS) would leave less than 4 GiB of {free:.1f} GiB free")
                continue
            peak = max(peak, await one_round(hub, n, lessons, round_no, think))
    finally:
        hub.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=["kernel", "hub", "both"], default="both")
    parser.add_argument("--lessons", default=None,
                        help="comma-separated lesson numbers or 'all' (kernel: all; hub: 02,05,07)")
    parser.add_argument("--attendees", default="1,2,4,8", help="hub: comma-separated N (default 1,2,4,8)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="hub: seconds each attendee waits before each cell (default 0: back to back)")
    args = parser.parse_args(argv)
    if args.mode in ("kernel", "both"):
        run_kernel(args.lessons or "all")
    if args.mode in ("hub", "both"):
        asyncio.run(run_hub([int(n) for n in args.attendees.split(",")], args.lessons or "02,05,07", args.think))
    return 0


if __name__ == "__main__":
    sys.exit(main())
