"""Run one submission's cells in a fresh, limited kernel (inside the grader's worker process).

``run_cells(job)`` is called in a worker process of its own (one per student, see
``grade.py``). It starts a kernel through ``_kernel`` (memory, CPU and file-size limits, the
file/process guard), in the student's own empty working directory, and feeds it the cells
one by one from memory with nbclient: the notebook with the hidden tests is never written to
disk. Each cell gets ``cell_timeout`` seconds (then the kernel is interrupted and the next
cell runs), the whole notebook ``timeout`` seconds (then the kernel is killed).

The kernel's sockets are Unix sockets under ``job["ipc_prefix"]`` when it is set (TCP on
127.0.0.1 otherwise): two kernels started at the same moment cannot pick the same port.

job: {"cells": [{"source", "kind"}], "workdir", "connection_file", "ipc_prefix",
      "cell_timeout", "timeout", "kernel_config": {...}, "env": {...}}
returns: {"cells": [{"status": "ok" | "error" | "timeout" | "not run" | "crashed",
          "ename", "evalue", "outputs"}], "kernel": "ok" | "timeout" | "crashed",
          "message": str}
"""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from time import monotonic

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from ._kernel import address_space, exhausted

__all__ = ["run_cells", "worker_main"]

TIMEOUT_ENAME = "CellTimeoutError"
_MAX_TEXT = 4000
RESPONSIVE_SECONDS = 10


def _trim_outputs(outputs):
    """Outputs kept for the feedback notebook, long streams and tracebacks shortened."""
    kept = []
    for out in outputs:
        out = dict(out)
        if out.get("output_type") == "stream" and len(out.get("text", "")) > _MAX_TEXT:
            out["text"] = out["text"][:_MAX_TEXT] + "\n... [output cut by the grader]\n"
        if out.get("output_type") == "error":
            out["traceback"] = out.get("traceback", [])[-6:]
        if "data" in out:   # keep text only: images of 20 students add up
            out["data"] = {k: v for k, v in out["data"].items() if k == "text/plain"}
            if not out["data"]:
                continue
        kept.append(out)
    return kept


def _memory_used_up(client, limit):
    """After a MemoryError: is the kernel still holding (nearly) all of its memory limit?"""
    pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
    return bool(limit and pid) and exhausted(address_space(pid), limit)


def _kernel_manager(job):
    transport, ip = ("ipc", job["ipc_prefix"]) if job.get("ipc_prefix") else ("tcp", "127.0.0.1")
    km = AsyncKernelManager(connection_file=job["connection_file"], transport=transport, ip=ip)
    km._kernel_spec = KernelSpec(   # our launcher: limits and guard before ipykernel starts
        argv=[sys.executable, "-m", "dlkit.classroom._kernel", "-f", "{connection_file}"],
        display_name="dlkit grader", language="python")
    return km


def _log_tail(log, limit=300):
    """The last line the kernel wrote to stderr (why it did not start), or ''."""
    try:
        log.flush()
        log.seek(0)
        lines = [ln.strip() for ln in log.read().decode("utf-8", "replace").splitlines()]
    except (OSError, ValueError):
        return ""
    lines = [ln for ln in lines if ln]
    return f" (the kernel wrote: {lines[-1][:limit]})" if lines else ""


async def _run(job, attempts=2):
    cells = job["cells"]
    results = [{"status": "not run", "ename": "", "evalue": "", "outputs": []} for _ in cells]
    kernel, message = "ok", ""
    env = {**os.environ, **job["env"],
           "DLKIT_GRADER_KERNEL": json.dumps(job["kernel_config"])}
    limit = job["kernel_config"].get("memory")
    replies = {}
    for attempt in range(attempts):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c["source"])
                                             for c in cells])
        client = NotebookClient(
            nb, km=_kernel_manager(job), timeout=job["cell_timeout"],
            interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "the cell ran longer than the "
                              f"time limit ({job['cell_timeout']} s)", "traceback": []},
            # Starting a kernel is the grader's own work, not the student's (their code has the
            # per-cell and per-notebook limits): a fresh environment on a busy 2-core machine
            # once took over 60 s to start one, which turned an honest submission into
            # "crashed". For the same reason a kernel that dies before it answers (no student
            # code has run yet) is started once more.
            allow_errors=True, startup_timeout=180, shutdown_kernel="immediate",
            resources={"metadata": {"path": job["workdir"]}})
        client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(
            cell_index, execute_reply)
        deadline = monotonic() + job["timeout"]
        started = False
        with tempfile.TemporaryFile(dir=os.path.dirname(job["connection_file"])) as log:
            try:
                async with client.async_setup_kernel(env=env, cwd=job["workdir"],
                                                     stdout=subprocess.DEVNULL, stderr=log):
                    started = True
                    kernel, message = await _run_cells(client, nb, cells, results, replies,
                                                       job, deadline, limit)
            except Exception as e:   # the kernel did not start, or died while starting
                if not started and attempt + 1 < attempts:
                    continue
                kernel = "crashed"
                message = message or (f"the kernel failed: {type(e).__name__}: {str(e)[:300]}"
                                      + ("" if started else _log_tail(log)))
        break
    return {"cells": results, "kernel": kernel, "message": message}


async def _run_cells(client, nb, cells, results, replies, job, deadline, limit):
    """Feed the cells to a started kernel; fills ``results``; returns (kernel, message)."""
    for i, cell in enumerate(nb.cells):
        remaining = deadline - monotonic()
        if remaining <= 0:
            return "timeout", (f"the notebook ran longer than the time limit "
                               f"({job['timeout']} s); later cells not run")
        last_chance = remaining < job["cell_timeout"]
        client.timeout = max(1, int(min(job["cell_timeout"], remaining)))
        try:
            await client.async_execute_cell(cell, i, store_history=cells[i]["kind"] == "student")
        except DeadKernelError:
            results[i]["status"] = "crashed"
            return "crashed", (f"the kernel died in cell {i} (memory limit reached, or the code "
                               "killed its own process); later cells not run")
        except CellTimeoutError:   # not expected with interrupt_on_timeout
            replies[i] = {"content": {"status": "error", "ename": TIMEOUT_ENAME,
                                      "evalue": "time limit"}}
        content = (replies.get(i) or {}).get("content", {})
        r = results[i]
        r["outputs"] = _trim_outputs(cell.get("outputs", []))
        if content.get("status") == "ok":
            r["status"] = "ok"
            continue
        r["ename"] = str(content.get("ename", "error"))
        r["evalue"] = str(content.get("evalue", ""))
        r["status"] = "timeout" if r["ename"] == TIMEOUT_ENAME else "error"
        if r["status"] == "timeout" and last_chance:
            return "timeout", (f"the notebook ran longer than the time limit ({job['timeout']} s) "
                               f"in cell {i}; later cells not run")
        if r["status"] == "timeout" and not await _responsive(client):
            return "timeout", (f"cell {i} ran longer than {job['cell_timeout']} s and the kernel "
                               f"did not stop when interrupted; later cells not run")
        if r["ename"] == "MemoryError" and _memory_used_up(client, limit):
            return "crashed", (f"cell {i} ran out of memory (limit {limit / 2 ** 20:.0f} MiB) and "
                               "still held it, so the kernel was stopped; later cells not run")
    return "ok", ""


async def _responsive(client, seconds=RESPONSIVE_SECONDS):
    """After an interrupt: does the kernel answer within ``seconds``? (A kernel that swallows
    KeyboardInterrupt, or hangs in C, would otherwise cost a cell time limit per later cell.)"""
    saved, client.timeout = client.timeout, seconds
    try:
        return await client.async_wait_for_reply(client.kc.kernel_info()) is not None
    finally:
        client.timeout = saved


def run_cells(job):
    """Execute job["cells"] in a new limited kernel; see the module docstring."""
    return asyncio.run(_run(job))


def worker_main(job, conn):
    """Entry point of a worker process: run, send the result through ``conn``, exit."""
    try:
        result = run_cells(job)
    except BaseException as e:   # report, never hang the grader
        result = {"cells": [], "kernel": "crashed",
                  "message": f"grader worker failed: {type(e).__name__}: {e}"}
    conn.send(result)
    conn.close()
