"""Benchmark QR decoding on synthetic phone photos of dossier labels.

    python bench/decode_bench.py [--n N] [--seed S] [--out bench/out]

Renders real labels, photographs them synthetically at 1920x1080 with one distortion per
kind (plus 4000x3000 photos: a label held close, and a small label on a cluttered desk), and runs the decoder with zbar only, ZXing-C++ only, and both. Reports, per kind and
overall, the success rate (exactly the expected codes and nothing else) and the median and
95th-percentile milliseconds per picture. Writes the table as JSON to OUT/decode.json.
The corpus is a function of the seed: the same seed gives the same pictures.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanners.decoding import decode_bytes, decode_grey, open_image  # noqa: E402
from scanners.labels import LabelInfo, render_label_png  # noqa: E402
from scanners.tokens import Keyring, sign  # noqa: E402

FRAME = (1920, 1080)
KINDS = (
    "clean",
    "small_in_large_frame",
    "rotation",
    "perspective",
    "blur",
    "heavy_jpeg",
    "dim",
    "uneven_light",
    "inverted",
    "mirrored",
    "multi",
    "no_code",
)
LARGE_FRAME = (4000, 3000)
LARGE_KINDS = ("large_photo", "large_small_label")
CONFIGS = ("zbar", "zxing", "combined")
RING = Keyring.parse("K1:bench-secret-0123456789abcdef")


@dataclass
class Sample:
    kind: str
    jpeg: bytes
    expected: frozenset[str]


def _label(rng: np.random.Generator) -> tuple[Image.Image, str]:
    year = int(rng.integers(2024, 2029))
    number = int(rng.integers(1, 9999))
    volume = int(rng.integers(1, 4))
    code = f"{year}-{number:04d}-{volume:02d}"
    token = sign(RING, code)
    info = LabelInfo(
        token=token,
        court_name="威海市环翠区人民法院",
        case_number=f"({year})鲁1002民初{number}号",
        volume=volume,
        dossier_code=code,
    )
    return Image.open(io.BytesIO(render_label_png(info))).convert("RGB"), token


def _background(rng: np.random.Generator, cluttered: bool, size: tuple[int, int] = FRAME) -> Image.Image:
    w, h = size
    # A desk: smooth low-frequency tone plus sensor noise.
    coarse = rng.uniform(90, 190, size=(9, 16, 3)).astype(np.uint8)
    base = Image.fromarray(coarse, "RGB").resize(size, Image.Resampling.BICUBIC)
    if cluttered:
        draw = ImageDraw.Draw(base)
        for _ in range(int(rng.integers(25, 45))):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            bw, bh = int(rng.integers(30, 400)), int(rng.integers(10, 300))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            if rng.random() < 0.5:
                draw.rectangle((x, y, x + bw, y + bh), fill=colour)
            else:
                draw.line((x, y, x + bw, y + bh), fill=colour, width=int(rng.integers(1, 8)))
        # Printed-looking text blocks: small dark bars, the kind of texture that fools detectors.
        for _ in range(int(rng.integers(3, 7))):
            x, y = int(rng.integers(0, w - 300)), int(rng.integers(0, h - 200))
            for line in range(int(rng.integers(4, 10))):
                length = int(rng.integers(80, 300))
                draw.rectangle((x, y + line * 18, x + length, y + line * 18 + 7), fill=(30, 30, 30))
    return _noisy(base, rng, 10)


def _noisy(image: Image.Image, rng: np.random.Generator, amplitude: int, gain: np.ndarray | None = None) -> Image.Image:
    """Add sensor noise (one grey value per pixel, uniform in +-amplitude), after a light gain."""
    arr = np.asarray(image, dtype=np.int16)
    if gain is not None:
        arr = (arr * gain[..., None]).astype(np.int16)
    arr = arr + rng.integers(-amplitude, amplitude + 1, size=(*arr.shape[:2], 1), dtype=np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def _scale_to_width(image: Image.Image, width: int) -> Image.Image:
    height = round(image.height * width / image.width)
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _paste(frame: Image.Image, label: Image.Image, rng: np.random.Generator, angle: float = 0.0,
           at: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
    mask = Image.new("L", label.size, 255)
    if angle:
        label = label.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
        mask = mask.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    if at is None:
        x = int(rng.integers(0, max(1, frame.width - label.width)))
        y = int(rng.integers(0, max(1, frame.height - label.height)))
    else:
        x, y = at
    frame.paste(label, (x, y), mask)
    return x, y, x + label.width, y + label.height


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    # Coefficients mapping output (dst) points back to input (src) points, as PIL wants.
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return list(np.linalg.solve(np.array(rows, float), np.array(rhs, float)))


def _warp(label: Image.Image, rng: np.random.Generator) -> tuple[Image.Image, Image.Image]:
    w, h = label.size
    j = lambda s: float(rng.uniform(0.15, 0.4) * s)  # noqa: E731
    # Tilt the card away from the camera: one side shrinks.
    if rng.random() < 0.5:
        dst = [(j(w) * 0.3, j(h)), (w - j(w) * 0.3, 0), (w, h), (0, h - j(h))]
    else:
        dst = [(0, 0), (w - j(w) * 0.5, j(h)), (w - j(w) * 0.3, h - j(h)), (j(w) * 0.3, h)]
    coeffs = _perspective_coeffs([(0, 0), (w, 0), (w, h), (0, h)], dst)
    warped = label.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC,
                             fillcolor=(0, 0, 0))
    mask = Image.new("L", (w, h), 255).transform((w, h), Image.Transform.PERSPECTIVE, coeffs,
                                                 Image.Resampling.BICUBIC, fillcolor=0)
    return warped, mask


def _motion_blur(image: Image.Image, length: int, angle: float) -> Image.Image:
    arr = np.asarray(image, dtype=np.float32)
    acc = np.zeros_like(arr)
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    for i in range(length):
        t = i - (length - 1) / 2
        acc += np.roll(arr, (round(t * dy), round(t * dx)), axis=(0, 1))
    return Image.fromarray(np.clip(acc / length, 0, 255).astype(np.uint8), image.mode)


def _light(frame: Image.Image, gain: np.ndarray, rng: np.random.Generator, noise: int) -> Image.Image:
    return _noisy(frame, rng, noise, gain)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def make_sample(kind: str, rng: np.random.Generator) -> Sample:
    """Return one synthetic photo of ``kind``."""
    quality = 85
    label, token = _label(rng)
    expected = {token}
    frame = _background(rng, cluttered=kind in ("small_in_large_frame", "multi", "no_code"))
    # A typical hand-held shot: the label fills about half the frame's width.
    width = int(rng.integers(500, 900))
    if kind == "clean":
        _paste(frame, _scale_to_width(label, width), rng)
    elif kind == "small_in_large_frame":
        # Label about 8% of the frame's area (about 30% of its width).
        _paste(frame, _scale_to_width(label, int(rng.integers(520, 620))), rng)
    elif kind == "rotation":
        angle = float(rng.uniform(5, 30)) * (1 if rng.random() < 0.5 else -1)
        _paste(frame, _scale_to_width(label, width), rng, angle=angle)
    elif kind == "perspective":
        warped, mask = _warp(_scale_to_width(label, width), rng)
        x = int(rng.integers(0, frame.width - warped.width))
        y = int(rng.integers(0, frame.height - warped.height))
        frame.paste(warped, (x, y), mask)
    elif kind == "blur":
        _paste(frame, _scale_to_width(label, width), rng)
        if rng.random() < 0.5:
            frame = frame.filter(ImageFilter.GaussianBlur(float(rng.uniform(3.0, 6.0))))
        else:
            frame = _motion_blur(frame, int(rng.integers(12, 24)), float(rng.uniform(0, 180)))
    elif kind == "heavy_jpeg":
        _paste(frame, _scale_to_width(label, int(rng.integers(380, 560))), rng)
        quality = int(rng.integers(15, 31))
    elif kind == "dim":
        _paste(frame, _scale_to_width(label, width), rng)
        gain = np.full((frame.height, frame.width), float(rng.uniform(0.05, 0.12)), np.float32)
        frame = _light(frame, gain, rng, noise=5)
    elif kind == "uneven_light":
        _paste(frame, _scale_to_width(label, width), rng)
        h, w = frame.height, frame.width
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle = float(rng.uniform(0, 2 * math.pi))
        ramp = (xx * math.cos(angle) + yy * math.sin(angle))
        ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
        gain = 0.04 + 1.1 * ramp
        # plus a hard shadow edge across part of the frame
        if rng.random() < 0.5:
            gain = np.where(xx > w * float(rng.uniform(0.3, 0.7)), gain * 0.3, gain)
        frame = _light(frame, gain.astype(np.float32), rng, noise=6)
    elif kind == "inverted":
        _paste(frame, _scale_to_width(ImageOps.invert(label), width), rng)
    elif kind == "mirrored":
        _paste(frame, _scale_to_width(ImageOps.mirror(label), width), rng)
    elif kind == "multi":
        count = int(rng.integers(3, 6))
        labels = [label] + [None] * (count - 1)
        tokens = [token]
        for i in range(1, count):
            labels[i], t = _label(rng)
            tokens.append(t)
        expected = set(tokens)
        # A grid of cells, one label per cell, jittered inside its cell.
        cols = 3 if count > 2 else count
        rows = math.ceil(count / cols)
        cell_w, cell_h = FRAME[0] // cols, FRAME[1] // rows
        for i, lab in enumerate(labels):
            small = _scale_to_width(lab, int(cell_w * float(rng.uniform(0.7, 0.85))))
            col, row = i % cols, i // cols
            x = col * cell_w + int(rng.integers(0, max(1, cell_w - small.width)))
            y = row * cell_h + int(rng.integers(0, max(1, cell_h - small.height)))
            _paste(frame, small, rng, angle=float(rng.uniform(-8, 8)), at=(x, y))
    elif kind == "no_code":
        # A label-sized white card with text but no QR code.
        card = Image.new("RGB", (800, 420), (250, 250, 250))
        d = ImageDraw.Draw(card)
        for line in range(8):
            d.rectangle((40, 40 + line * 45, 40 + int(rng.integers(200, 700)), 60 + line * 45), fill=(20, 20, 20))
        _paste(frame, card, rng, angle=float(rng.uniform(-20, 20)))
        expected = set()
    else:
        raise ValueError(kind)
    # Every phone photo is a little out of focus.
    frame = frame.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 1.2))))
    return Sample(kind, _jpeg(frame, quality), frozenset(expected))


def make_large_sample(kind: str, rng: np.random.Generator) -> Sample:
    """A 12-megapixel phone photo (4000 x 3000): the label held close, or small on a desk."""
    label, token = _label(rng)
    frame = _background(rng, cluttered=kind == "large_small_label", size=LARGE_FRAME)
    width = int(rng.integers(1400, 2200)) if kind == "large_photo" else int(rng.integers(750, 950))
    _paste(frame, _scale_to_width(label, width), rng, angle=float(rng.uniform(-10, 10)))
    frame = frame.filter(ImageFilter.GaussianBlur(float(rng.uniform(1.0, 2.5))))
    return Sample(kind, _jpeg(frame, 85), frozenset({token}))


def make_corpus(n: int, seed: int, large: int = 0) -> list[Sample]:
    samples = []
    for k, kind in enumerate(KINDS):
        for i in range(n):
            rng = np.random.default_rng([seed, k, i])
            samples.append(make_sample(kind, rng))
    for k, kind in enumerate(LARGE_KINDS, start=len(KINDS)):
        for i in range(large):
            samples.append(make_large_sample(kind, np.random.default_rng([seed, k, i])))
    return samples


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def score(samples: list[Sample], pipeline: str) -> dict:
    per_kind: dict[str, dict] = {}
    all_ms: list[float] = []
    ok_total = 0
    steps: dict[str, int] = {}
    for s in samples:
        start = time.perf_counter()
        if pipeline.endswith("@full"):  # the reference: every picture decoded at full size first
            texts, step = decode_grey(open_image(s.jpeg), pipeline.removesuffix("@full"))
        else:
            texts, step = decode_bytes(s.jpeg, pipeline)
        ms = (time.perf_counter() - start) * 1000
        ok = frozenset(texts) == s.expected
        entry = per_kind.setdefault(s.kind, {"n": 0, "ok": 0, "ms": [], "found": 0, "expected": 0})
        entry["n"] += 1
        entry["ok"] += ok
        entry["ms"].append(ms)
        entry["found"] += len(s.expected & set(texts))
        entry["expected"] += len(s.expected)
        all_ms.append(ms)
        ok_total += ok
        steps[step or "-"] = steps.get(step or "-", 0) + 1
    result = {"kinds": {}, "overall": {
        "n": len(samples), "success": ok_total / len(samples),
        "median_ms": statistics.median(all_ms), "p95_ms": _pct(all_ms, 0.95),
    }, "steps": steps}
    for kind, e in per_kind.items():
        result["kinds"][kind] = {
            "n": e["n"], "success": e["ok"] / e["n"],
            "codes_found": f"{e['found']}/{e['expected']}",
            "median_ms": statistics.median(e["ms"]), "p95_ms": _pct(e["ms"], 0.95),
        }
    return result


def table(results: dict[str, dict]) -> str:
    names = list(results)
    head = f"{'kind':<22}" + "".join(f"{n + ' ok%':>14}{'med ms':>8}{'p95 ms':>8}" for n in names)
    lines = [head, "-" * len(head)]
    kinds = [k for k in (*KINDS, *LARGE_KINDS) if k in results[names[0]]["kinds"]]
    for kind in [*kinds, "overall"]:
        row = f"{kind:<22}"
        for n in names:
            r = results[n]["overall"] if kind == "overall" else results[n]["kinds"][kind]
            row += f"{100 * r['success']:>14.1f}{r['median_ms']:>8.0f}{r['p95_ms']:>8.0f}"
        lines.append(row)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="pictures per kind (default 20)")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--large", type=int, default=10, help="4000 x 3000 photos per large kind (default 10)")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help="comma-separated: zbar,zxing,combined; NAME@full decodes at full size first "
                             "(the way before reduced JPEG decoding), for a side-by-side reference")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    print(f"generating {args.n} pictures x {len(KINDS)} kinds at {FRAME[0]}x{FRAME[1]} (seed {args.seed})...",
          flush=True)
    samples = make_corpus(args.n, args.seed, args.large)
    print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
    results = {}
    for name in args.configs.split(","):
        t1 = time.perf_counter()
        print(f"decoding with the {name} pipeline...", flush=True)
        results[name] = score(samples, name)
        print(f"  done in {time.perf_counter() - t1:.1f} s; overall {100 * results[name]['overall']['success']:.1f}%",
              flush=True)
    print()
    print(table(results))
    for name, r in results.items():
        print(f"\n{name}: codes found in multi: {r['kinds']['multi']['codes_found']}; "
              f"steps that found codes: {r['steps']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "frame": FRAME, "large_frame": LARGE_FRAME, "n_large_per_kind": args.large, "n_per_kind": args.n,
        "load_average": os.getloadavg()[0], "seed": args.seed, "cpus": os.cpu_count(),
        "python": platform.python_version(), "results": results,
    }
    (out / "decode.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    print(f"\nwrote {out / 'decode.json'} ({time.perf_counter() - t0:.0f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
