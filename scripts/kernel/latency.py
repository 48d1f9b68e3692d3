"""Measures the kit's kernel as a front end sees it: kernel start to the first output of a notebook's first
cell (`await runtime.init({ seed: 0 })` after importing genlab), and the round trip of a trivial cell
(`const a = 1 + 1`, execute_request to execute_reply), through jupyter_client.

usage: JUPYTER_PATH=build/jupyter /usr/bin/python3 scripts/kernel/latency.py [--cwd notebooks] [--trivial 20]
Prints one JSON object: seconds to kernel_info, seconds to the first output, and the trivial cell's
median and range in milliseconds.
"""
import argparse
import json
import statistics
import time

from jupyter_client.manager import start_new_kernel

FIRST_CELL = "import { runtime, plot } from 'genlab';\nawait runtime.init({ seed: 0 });"


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
    args = parser.parse_args()
    t0 = time.monotonic()
    km, kc = start_new_kernel(kernel_name="tslab", cwd=args.cwd, startup_timeout=300)
    ready = time.monotonic() - t0
    first = {}
    try:
        run(kc, FIRST_CELL, lambda msg: first.setdefault("t", time.monotonic() - t0))
        trivial = []
        for i in range(args.trivial):
            t = time.monotonic()
            kc.execute_interactive(f"const a{i} = 1 + 1", timeout=60, output_hook=lambda m: None)
            trivial.append(1000 * (time.monotonic() - t))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps({
        "kernel_info_s": round(ready, 2),
        "first_output_s": round(first.get("t", float("nan")), 2),
        "trivial_ms_median": round(statistics.median(trivial), 1),
        "trivial_ms_range": [round(min(trivial), 1), round(max(trivial), 1)],
    }))


if __name__ == "__main__":
    main()
