"""Measures the kit's kernel as a front end sees it: kernel start to the first output of a notebook's first
cell (`await runtime.init({ seed: 0 })` after importing genlab), and the round trip of a trivial cell
(`const a = 1 + 1`, execute_request to execute_reply), through jupyter_client.

Wall time depends on how loaded the machine is; the kernel process's CPU time (user + system, from
/proc/PID/stat, Linux only) does not, so both are reported.

usage: JUPYTER_PATH=build/jupyter /usr/bin/python3 scripts/kernel/latency.py [--cwd notebooks]
           [--trivial 20] [--read 0]
--read S waits S seconds between the kernel's reply to kernel_info and the first cell, as a student
who reads the notebook's introduction before running it (the kernel prepares the first cell meanwhile).
Prints one JSON object: seconds (wall and CPU) to kernel_info and to the first output (wall from
sending the first cell when reading), the CPU seconds of the first cell itself, and the trivial cell's
median and range in milliseconds (wall) and its median CPU milliseconds.
"""
import argparse
import json
import os
import statistics
import time

from jupyter_client.manager import start_new_kernel

FIRST_CELL = "import { runtime, plot } from 'genlab';\nawait runtime.init({ seed: 0 });"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of process `pid` so far (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def run(kc, code, on_output=None):
    msg_id = kc.execute(code)
    while True:
        msg = kc.get_iopub_msg(timeout=300)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind in ("stream", "display_data", "error") and on_output:
            on_output(msg)
            on_output = None
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cwd", default="notebooks")
    parser.add_argument("--trivial", type=int, default=20)
    parser.add_argument("--read", type=float, default=0)
    args = parser.parse_args()
    t0 = time.monotonic()
    km, kc = start_new_kernel(kernel_name="tslab", cwd=args.cwd, startup_timeout=300)
    pid = km.provisioner.process.pid
    ready = time.monotonic() - t0
    ready_cpu = cpu_seconds(pid)
    first = {}

    def on_first(msg):
        first["t"] = time.monotonic() - t0 - args.read
        first["cpu"] = cpu_seconds(pid)

    try:
        time.sleep(args.read)
        first["sent_cpu"] = cpu_seconds(pid)
        run(kc, FIRST_CELL, on_first)
        trivial, trivial_cpu = [], []
        for i in range(args.trivial):
            t, c = time.monotonic(), cpu_seconds(pid)
            kc.execute_interactive(f"const a{i} = 1 + 1", timeout=60, output_hook=lambda m: None)
            trivial.append(1000 * (time.monotonic() - t))
            trivial_cpu.append(1000 * (cpu_seconds(pid) - c))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps({
        "read_s": args.read,
        "kernel_info_s": round(ready, 2),
        "kernel_info_cpu_s": round(ready_cpu, 2),
        "first_output_s": round(first.get("t", float("nan")), 2),
        "first_output_cpu_s": round(first.get("cpu", float("nan")), 2),
        "first_cell_cpu_s": round(first.get("cpu", float("nan")) - first["sent_cpu"], 2),
        "trivial_ms_median": round(statistics.median(trivial), 1),
        "trivial_ms_range": [round(min(trivial), 1), round(max(trivial), 1)],
        "trivial_cpu_ms_median": round(statistics.median(trivial_cpu), 1),
    }))


if __name__ == "__main__":
    main()
