"""Run one submission's cells in a fresh, limited kernel (inside the grader's worker process).

``run_cells(job)`` is called in a worker process of its own (one per student, see
``grade.py``). It starts a kernel through ``_kernel`` (memory, CPU and file-size limits, the
file/process guard), in the student's own empty working directory, and feeds it the cells
one by one from memory with nbclient: the notebook with the hidden tests is never written to
disk. Each cell gets ``cell_timeout`` seconds (then the kernel is interrupted and the next
cell runs), the whole notebook ``timeout`` seconds (then the kernel is killed).

job: {"cells": [{"source", "kind"}], "workdir", "connection_file", "cell_timeout",
      "timeout", "kernel_config": {...}, "env": {...}}
returns: {"cells": [{"status": "ok" | "error" | "timeout" | "not run" | "crashed",
          "ename", "evalue", "outputs"}], "kernel": "ok" | "timeout" | "crashed",
          "message": str}
"""
import asyncio
import json
import os
import subprocess
import sys
from time import monotonic

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

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


async def _run(job):
    cells = job["cells"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c["source"]) for c in cells])
    km = AsyncKernelManager(connection_file=job["connection_file"], transport="tcp")
    km._kernel_spec = KernelSpec(   # our launcher: limits and guard before ipykernel starts
        argv=[sys.executable, "-m", "dlkit.classroom._kernel", "-f", "{connection_file}"],
        display_name="dlkit grader", language="python")
    client = NotebookClient(
        nb, km=km, timeout=job["cell_timeout"], interrupt_on_timeout=True,
        error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "the cell ran longer than the "
                          f"time limit ({job['cell_timeout']} s)", "traceback": []},
        # Starting a kernel is the grader's own work, not the student's (their code has the
        # per-cell and per-notebook limits): a fresh environment on a busy 2-core machine once
        # took over 60 s to start one, which turned an honest submission into "crashed".
        allow_errors=True, startup_timeout=180, shutdown_kernel="immediate",
        resources={"metadata": {"path": job["workdir"]}})
    replies = {}
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(
        cell_index, execute_reply)
    results = [{"status": "not run", "ename": "", "evalue": "", "outputs": []} for _ in cells]
    kernel, message = "ok", ""
    env = {**os.environ, **job["env"],
           "DLKIT_GRADER_KERNEL": json.dumps(job["kernel_config"])}
    deadline = monotonic() + job["timeout"]
    try:
        async with client.async_setup_kernel(env=env, cwd=job["workdir"],
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL):
            for i, cell in enumerate(nb.cells):
                remaining = deadline - monotonic()
                if remaining <= 0:
                    kernel, message = "timeout", (f"the notebook ran longer than the time limit "
                                                  f"({job['timeout']} s); later cells not run")
                    break
                last_chance = remaining < job["cell_timeout"]
                client.timeout = max(1, int(min(job["cell_timeout"], remaining)))
                try:
                    await client.async_execute_cell(
                        cell, i, store_history=cells[i]["kind"] == "student")
                except DeadKernelError:
                    results[i]["status"] = "crashed"
                    kernel, message = "crashed", (
                        f"the kernel died in cell {i} (memory limit reached, or the code "
                        "killed its own process); later cells not run")
                    break
                except CellTimeoutError:   # not expected with interrupt_on_timeout
                    replies[i] = {"content": {"status": "error", "ename": TIMEOUT_ENAME,
                                              "evalue": "time limit"}}
                content = (replies.get(i) or {}).get("content", {})
                r = results[i]
                r["outputs"] = _trim_outputs(cell.get("outputs", []))
                if content.get("status") == "ok":
                    r["status"] = "ok"
                else:
                    r["ename"] = str(content.get("ename", "error"))
                    r["evalue"] = str(content.get("evalue", ""))
                    r["status"] = "timeout" if r["ename"] == TIMEOUT_ENAME else "error"
                    if r["status"] == "timeout" and last_chance:
                        kernel, message = "timeout", (
                            f"the notebook ran longer than the time limit ({job['timeout']} s) "
                            f"in cell {i}; later cells not run")
                        break
                    if r["status"] == "timeout" and not await _responsive(client):
                        kernel, message = "timeout", (
                            f"cell {i} ran longer than {job['cell_timeout']} s and the kernel "
                            f"did not stop when interrupted; later cells not run")
                        break
    except Exception as e:   # the kernel did not start, or died while starting
        kernel = "crashed"
        message = message or f"the kernel failed: {type(e).__name__}: {str(e)[:300]}"
    return {"cells": results, "kernel": kernel, "message": message}


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
