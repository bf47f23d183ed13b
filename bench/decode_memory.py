"""Peak memory of one web process while 8 clients upload worst-case photos at once.

    .venv/bin/python bench/decode_memory.py [--clients 8] [--rounds 3]

One gunicorn worker (gthread, 8 threads, as `ancillary serve` runs on SQLite) serves a
fresh SQLite database. Each round, every client posts the same picture to
/api/v1/scans/decode at the same moment: a 7000 x 7000 transparent PNG of 0.9 MB (the
decompression bomb that took a worker from 551 MB to 1.5 GB), the largest PNG still
decoded (4000 x 4000, transparent, noisy), and a 50-megapixel JPEG photo. Reports the
worker's resident memory before, its peak (VmHWM) after each kind, and the answers.
Writes bench/out/decode_memory.json.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, write_json  # noqa: E402
from scan_throughput import BIN, ROOT, env_for, prepare  # noqa: E402


def pictures() -> dict[str, bytes]:
    rng = np.random.default_rng(13)
    out = {}
    bomb = io.BytesIO()
    Image.new("RGBA", (7000, 7000), (255, 255, 255, 0)).save(bomb, format="PNG")
    out["png_7000_rgba_bomb"] = bomb.getvalue()
    # Below the 20 MB upload limit, so they reach the decoder: some noise on a gradient.
    ramp = np.linspace(40, 200, 4000, dtype=np.float32)
    noisy = (ramp[None, :, None] + rng.integers(0, 2, size=(4000, 4000, 4))).astype(np.uint8)
    png = io.BytesIO()
    Image.fromarray(noisy, "RGBA").save(png, format="PNG")
    out["png_4000_rgba_noise"] = png.getvalue()
    ramp = np.linspace(60, 190, 8160, dtype=np.float32)
    grain = rng.integers(-6, 7, size=(6120, 8160, 1))
    photo = Image.fromarray(np.clip(ramp[None, :, None] + grain, 0, 255).astype(np.uint8).repeat(3, 2), "RGB")
    jpeg = io.BytesIO()
    photo.save(jpeg, format="JPEG", quality=80)
    out["jpeg_50mp"] = jpeg.getvalue()
    return out


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    sys.exit("no gunicorn worker")


def memory_mb(pid: int) -> dict:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {key: round(int(status[key].split()[0]) / 1024, 1) for key in ("VmRSS", "VmHWM")}


def burst(base: str, token: str, data: bytes, clients: int) -> dict:
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client():
        barrier.wait()
        response = requests.post(f"{base}/api/v1/scans/decode", headers={"Authorization": f"Bearer {token}"},
                                  files={"image": ("photo", data)}, timeout=120)
        with lock:
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    return {"statuses": {str(k): v for k, v in sorted(statuses.items())},
            "seconds": round(time.perf_counter() - began, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp(prefix='decode-memory-')}/bench.sqlite3"
    tokens, _ = prepare(url, 1)
    uploads = pictures()
    port = free_port()
    server = subprocess.Popen(
        [BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "8",
         "--worker-class", "gthread", "--log-level", "warning", "--timeout", "120", "wsgi:app"],
        cwd=ROOT, env=env_for(url))
    base = f"http://127.0.0.1:{port}"
    results = {"clients": args.clients, "rounds": args.rounds, "server": "gunicorn gthread 1x8, SQLite",
               "load_average": os.getloadavg()[0], "uploads_kb": {k: len(v) // 1024 for k, v in uploads.items()},
               "kinds": {}}
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        pid = worker_pid(server.pid)
        requests.get(f"{base}/api/v1/scans/mine", headers={"Authorization": f"Bearer {tokens[0]}"})
        results["before"] = memory_mb(pid)
        print(f"worker {pid} before: {results['before']}")
        for kind, data in uploads.items():
            answers = [burst(base, tokens[0], data, args.clients) for _ in range(args.rounds)]
            results["kinds"][kind] = {"answers": answers, "memory_after": memory_mb(pid)}
            print(f"{kind} ({len(data) // 1024} KB) x {args.clients} at once, {args.rounds} rounds: "
                  f"{answers[-1]['statuses']}; worker {results['kinds'][kind]['memory_after']}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"written to {write_json('decode_memory', results)}")


if __name__ == "__main__":
    main()
