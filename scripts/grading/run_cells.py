"""Executes a notebook cell by cell through Jupyter (nbclient) for the grader, so that one bad cell costs
only itself:

- an error in a cell is recorded in its outputs and execution goes on (allow-errors semantics);
- a cell that runs past the per-cell limit (an infinite loop) gets an error output `CellTimeout`; its kernel
  is killed, a new one is started, the cells before it are replayed silently, and execution goes on after it;
- a kernel that dies gets `KernelDied` the same way;
- past the per-submission limit (counted from the first kernel's start), the cell running gets
  `SubmissionTimeout` and the remaining cells get `NotRun`.

With --stop-on-error (the notebook runner) it stops at the first failing cell instead, leaving the cells after
it unexecuted, so that the executed copy shows where and why the notebook broke.

For the grader (which runs it inside a sandbox, with the student's kernel beside it):
- --max-output-bytes N keeps at most N bytes of cell outputs in the executed copy; the rest is dropped and
  each cell that lost output says how much, in a note;
- --bundle-fd FD writes, at the end, one JSON object {"notebook", "output", "output_truncated"} to that file
  descriptor: the executed notebook and the text of --output-file (what the kernel recorded for the grader,
  at most --max-record-bytes);
- --die-with-parent PID stops the runner and its kernel when the process PID that started it dies.

usage: run_cells.py IN.ipynb OUT.ipynb --kernel tslab --cwd DIR --cell-timeout S --total-timeout S [--pid-file F] [--stop-on-error]
                    [--max-output-bytes N] [--output-file F --max-record-bytes N --bundle-fd FD] [--die-with-parent PID]

Run it with Debian's /usr/bin/python3 (nbclient, nbformat, jupyter_client) and JUPYTER_PATH pointing at the
kernelspec. The kernel's process group is killed on every exit path, including SIGTERM.
"""
import argparse
import copy
import ctypes
import json
import re
import os
import signal
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync


async def _cleanup(km):
    await ensure_async(km.cleanup_resources())


def error_output(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ERROR_LINE = re.compile(r"^((?:[A-Za-z_$][\w$]*)?(?:Error|Exception)):\s?(.*)$")
COMPILE_LINE = re.compile(r"^\d+:\d+ - ")


def tslab_error(cell):
    """The error output for a cell that tslab reported as failed. tslab sends no error message, only the
    compiler diagnostics or the stack trace on stderr, so the error is read from there."""
    text = ANSI.sub("", "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"))
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    compile_lines = [line for line in lines if COMPILE_LINE.match(line)]
    if compile_lines:
        return error_output("CompileError", "; ".join(compile_lines))
    for line in lines:
        m = ERROR_LINE.match(line.strip())
        if m:
            return error_output(m.group(1), m.group(2).strip())
    return error_output(
        "Error", lines[-1] if lines else "the kernel reported that the cell failed but sent no error message"
    )


SIGNAL_HINTS = {
    signal.SIGKILL: "the system's out-of-memory killer sends it when memory runs out (or something else killed the kernel)",
    signal.SIGABRT: "Node aborts so when its JavaScript heap is full, or on a fatal internal error",
    signal.SIGSEGV: "a crash in native code",
}


def exit_description(returncode):
    """How a kernel process ended, for the KernelDied message: 'it was killed by signal 9 (SIGKILL: ...)'."""
    if returncode is None:
        return "it ended for a reason the runner could not learn"
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"it was killed by signal {-returncode}"
        hint = SIGNAL_HINTS.get(sig)
        return f"it was killed by signal {-returncode} ({sig.name}{': ' + hint if hint else ''})"
    return f"it exited with status {returncode}"


class CappedClient(NotebookClient):
    """A NotebookClient that keeps at most `max_output_bytes` of outputs in all (None: no limit), besides a
    small allowance per cell so that every cell's error still shows, and no outputs while `discard` is set
    (cells replayed after a restart)."""

    PER_CELL_ALLOWANCE = 8192

    def __init__(self, *args, max_output_bytes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_output_bytes = max_output_bytes
        self.kept_bytes = 0
        self.cell_bytes = {}
        self.dropped_bytes = {}
        self.discard = False

    def output(self, outs, msg, display_id, cell_index):
        if self.discard:
            return None
        if self.max_output_bytes is None:
            return super().output(outs, msg, display_id, cell_index)
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str))
        in_cell = self.cell_bytes.get(cell_index, 0)
        if in_cell + size <= self.PER_CELL_ALLOWANCE:
            self.cell_bytes[cell_index] = in_cell + size
            return super().output(outs, msg, display_id, cell_index)
        room = self.max_output_bytes - self.kept_bytes
        if size <= room:
            self.kept_bytes += size
            return super().output(outs, msg, display_id, cell_index)
        room = max(room, self.PER_CELL_ALLOWANCE - in_cell)
        if msg.get("msg_type") in ("stream", "error") and room > 200:
            # Keep the beginning of a long text or error.
            msg = copy.copy(msg)
            if msg["msg_type"] == "stream":
                msg["content"] = dict(content, text=str(content.get("text", ""))[: room - 200])
            else:
                msg["content"] = dict(content, evalue=str(content.get("evalue", ""))[: room - 200], traceback=[])
            self.kept_bytes = min(self.max_output_bytes, self.kept_bytes + room)
            self.cell_bytes[cell_index] = self.PER_CELL_ALLOWANCE
            self.dropped_bytes[cell_index] = self.dropped_bytes.get(cell_index, 0) + size - room + 200
            return super().output(outs, msg, display_id, cell_index)
        self.dropped_bytes[cell_index] = self.dropped_bytes.get(cell_index, 0) + size
        return None


def megabytes(n):
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


class Runner:
    def __init__(self, nb, args):
        self.nb = nb
        self.args = args
        self.deadline = None
        self.client = CappedClient(
            nb,
            kernel_name=args.kernel,
            timeout=max(1, int(args.cell_timeout)),
            allow_errors=True,
            startup_timeout=120,
            resources={"metadata": {"path": args.cwd}},
            max_output_bytes=args.max_output_bytes,
        )
        self.client.reset_execution_trackers()
        self.client.on_cell_executed = self.on_executed
        self.status = None
        self.pid = None
        self.exit = None

    def on_executed(self, cell, cell_index, execute_reply):
        self.status = (execute_reply or {}).get("content", {}).get("status")

    def start(self):
        client = self.client
        client.km = client.create_kernel_manager()
        client.start_new_kernel()
        provisioner = getattr(client.km, "provisioner", None)
        self.pid = getattr(provisioner, "pid", None) or getattr(getattr(client.km, "kernel", None), "pid", None)
        if self.args.pid_file and self.pid:
            with open(self.args.pid_file, "w") as f:
                f.write(str(self.pid))
        client.start_new_kernel_client()

    def stop(self):
        client = self.client
        try:
            if client.kc is not None:
                client.kc.stop_channels()
        except Exception:
            pass
        if self.pid:
            # The kernel runs in its own session (jupyter_client starts it so): kill its whole group.
            for kill in (lambda: os.killpg(self.pid, signal.SIGKILL), lambda: os.kill(self.pid, signal.SIGKILL)):
                try:
                    kill()
                except (ProcessLookupError, PermissionError):
                    pass
        try:
            if client.km is not None:
                run_sync(_cleanup)(client.km)
        except Exception:
            pass
        client.kc = None
        client.km = None
        self.pid = None

    def remaining(self):
        return self.deadline - time.monotonic()

    def execute(self, cell, index):
        """Runs one cell; returns None, or the name of the failure that killed the kernel."""
        limit = min(self.args.cell_timeout, self.remaining())
        if limit <= 0:
            return "NotRun"
        self.client.timeout = max(1, int(limit))
        try:
            for attempt in range(5):
                self.status = None
                cell.outputs = []
                self.client.execute_cell(cell, index)
                if self.status != "abort":
                    break
                # tslab aborts requests that arrive within 200 ms after a failed cell: wait and resend.
                time.sleep(0.3)
            if self.status == "error" and not any(o.get("output_type") == "error" for o in cell.outputs):
                cell.outputs.append(tslab_error(cell))
                time.sleep(0.3)
            self.note_dropped(cell, index)
            return None
        except CellTimeoutError:
            return "CellTimeout" if limit >= self.args.cell_timeout else "SubmissionTimeout"
        except DeadKernelError:
            process = getattr(getattr(self.client.km, "provisioner", None), "process", None)
            self.exit = exit_description(process.poll() if process is not None else None)
            return "KernelDied"

    def note_dropped(self, cell, index):
        dropped = self.client.dropped_bytes.pop(index, 0)
        if dropped:
            note = (
                f"[output truncated: {megabytes(dropped)} of this cell's output not kept; the grader keeps "
                f"{megabytes(self.args.max_output_bytes)} of output per notebook]\n"
            )
            cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=note))

    def restart(self, upto, skipped):
        """A fresh kernel with cells 0..upto-1 replayed silently (except the skipped ones); False if that fails."""
        self.stop()
        if self.remaining() <= 0:
            return False
        self.start()
        self.client.discard = True
        try:
            for j in range(upto):
                cell = self.nb.cells[j]
                if cell.cell_type != "code" or j in skipped:
                    continue
                replay = copy.deepcopy(cell)
                failure = self.execute(replay, j)
                # nbclient puts the cell it ran into the notebook: keep the original with its outputs.
                self.nb.cells[j] = cell
                if failure is not None:
                    print(f"run_cells: replaying cell {j + 1} after a restart failed: {failure}", file=sys.stderr)
                    return False
        finally:
            self.client.discard = False
        return True

    def run(self):
        messages = {
            "CellTimeout": lambda: (
                f"the cell did not finish within {self.args.cell_timeout:g} s (an infinite loop?); the kernel was stopped"
                + ("" if self.args.stop_on_error else " and the cells before this one were run again in a new kernel")
            ),
            "SubmissionTimeout": lambda: f"the submission's time limit of {self.args.total_timeout:g} s ran out in this cell",
            "KernelDied": lambda: f"the kernel died in this cell: {self.exit}"
            + ("" if self.args.stop_on_error else "; the cells before it were run again in a new kernel"),
            "NotRun": lambda: "not run: the submission's time limit ran out earlier, or the kernel could not be restarted",
        }
        skipped = set()
        self.start()
        # The submission's time limit counts from the moment its first kernel is ready.
        self.deadline = time.monotonic() + self.args.total_timeout
        alive = True
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            cell.execution_count = None
            failure = self.execute(cell, index) if alive else "NotRun"
            if failure is None:
                if self.args.stop_on_error and any(o.get("output_type") == "error" for o in cell.outputs):
                    break
                continue
            cell.outputs = [error_output(failure, messages[failure]())]
            if self.args.stop_on_error:
                break
            skipped.add(index)
            if failure in ("CellTimeout", "KernelDied") and alive:
                alive = self.restart(index, skipped)
            elif failure != "NotRun":
                alive = False
        self.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--kernel", default="tslab")
    parser.add_argument("--cwd", required=True)
    parser.add_argument("--cell-timeout", type=float, default=120)
    parser.add_argument("--total-timeout", type=float, default=900)
    parser.add_argument("--pid-file")
    parser.add_argument("--stop-on-error", action="store_true")
    parser.add_argument("--max-output-bytes", type=int)
    parser.add_argument("--output-file")
    parser.add_argument("--max-record-bytes", type=int, default=64 * 1024 * 1024)
    parser.add_argument("--bundle-fd", type=int)
    parser.add_argument("--die-with-parent", type=int, metavar="PID")
    args = parser.parse_args()

    if args.die_with_parent is not None:
        die_with_parent(args.die_with_parent)
    nb = nbformat.read(args.input, as_version=4)
    runner = Runner(nb, args)

    def on_term(signum, frame):
        runner.stop()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        runner.run()
    finally:
        runner.stop()
    nbformat.write(nb, args.output)
    if args.bundle_fd is not None:
        write_bundle(nb, args)


def die_with_parent(parent):
    """SIGTERM when the parent dies (Linux), so that a killed grader leaves no runner or kernel behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    if os.getppid() != parent:
        sys.exit("run_cells: the process that started it is gone")


def write_bundle(nb, args):
    record, truncated = b"", False
    if args.output_file and os.path.exists(args.output_file):
        with open(args.output_file, "rb") as f:
            record = f.read(args.max_record_bytes + 1)
        truncated = len(record) > args.max_record_bytes
        record = record[: args.max_record_bytes]
    bundle = {"notebook": nb, "output": record.decode("utf-8", "replace"), "output_truncated": truncated}
    with os.fdopen(args.bundle_fd, "w", encoding="utf-8") as f:
        json.dump(bundle, f)


if __name__ == "__main__":
    main()
