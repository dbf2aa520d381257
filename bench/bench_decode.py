"""How fast other video decoders are than OpenCV's, on HD and 4K clips, for the frames scoring reads.

The clips are made here, once per run: scikit-image's astronaut (a real
photograph) moving over a slowly panning real picture (scikit-image's coffee)
with a little sensor-like noise, so that motion search and residuals have real
work to do. Codecs are those a lab meets: MPEG-4 part 2 ('mp4v', what OpenCV's
own writer makes) and H.264 (libx264 at 6 Mbit/s per megapixel, preset
veryfast, through PyAV's bundled FFmpeg when it has an H.264 encoder),
optionally H.265 (``--codecs mp4v,h264,hevc``). The bit rate and key-frame
count of each clip are printed.

Each decoder turns the frames into RGB numpy arrays (height x width x 3,
uint8), in two patterns:

- ``every``: every frame;
- ``ffreq``: every ``--ffreq``-th frame (15 by default, what scoring reads
  by default); the frames in between are decoded but not converted.

Decoders:

- ``opencv``: transforemotion's own reader (media/decoding.py: open_video and
  read_frames: ``grab()`` to skip, ``read()`` and BGR->RGB for wanted frames);
  OpenCV's FFmpeg backend decodes with as many threads as there are cores.
- ``pyav``: PyAV with ``thread_type="AUTO"`` (frame and slice threads),
  ``frame.to_ndarray(format="rgb24")`` for wanted frames.
- ``torchcodec``: torchcodec's VideoDecoder on the CPU (FFmpeg's own threads),
  frames taken in chunks of 16 through ``get_frames_in_range``; when torch
  sees a CUDA device, also ``torchcodec-cuda`` (NVDEC, NVIDIA's hardware
  decoder; frames stay on the GPU as RGB tensors, which is what a GPU
  pipeline would want). Untried here (it does not load beside CPU torch):
  either is skipped, with the reason, when torchcodec does not import or
  fails on the first clip.

Every figure is the best of ``--repeats`` runs (shared, noisy machines), the
decoders taking turns within each repeat. Each decoder's first and last wanted
frames are compared with OpenCV's (mean absolute difference in 8-bit levels),
so a decoder that returned other frames, or other colours, is caught.

    python bench/bench_decode.py
    python bench/bench_decode.py --sizes 1280x720 --frames 120 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

from transforemotion.media.decoding import open_video, read_frames  # noqa: E402

FPS = 25
# H.264 and H.265 bit rate: 5.5 Mbit/s at 1280x720, 50 at 3840x2160 (phones and camcorders record
# 1080p at 12-24 Mbit/s and 4K at 40-100; conference recordings are far lower).
MBITS_PER_MEGAPIXEL = 6.0
CHUNK = 16  # torchcodec frames per call: whole 4K clips would need gigabytes at once


# ---------------------------------------------------------------- clips

def _content(width: int, height: int, frames: int):
    """BGR frames: the astronaut moving along a Lissajous path over a panning photograph, with noise."""
    from skimage import data

    ground = cv2.resize(cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR), (width + width // 4, height),
                        interpolation=cv2.INTER_CUBIC)
    side = height * 2 // 5
    person = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (side, side),
                        interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(17)
    # Sensor-like noise, different in every frame: crops at random offsets of one larger field
    # (drawing fresh 4K noise every frame would take longer than encoding it).
    margin = 64
    lift = rng.integers(0, 7, size=(height + margin, width + margin, 3), dtype=np.uint8)
    drop = rng.integers(0, 7, size=(height + margin, width + margin, 3), dtype=np.uint8)
    for f in range(frames):
        pan = int((width // 4) * (0.5 + 0.5 * np.sin(2 * np.pi * f / 200)))
        frame = np.ascontiguousarray(ground[:, pan:pan + width])
        x = int((width - side) * (0.5 + 0.45 * np.sin(2 * np.pi * f / 90)))
        y = int((height - side) * (0.5 + 0.45 * np.sin(2 * np.pi * f / 70 + 1)))
        frame[y:y + side, x:x + side] = person
        (a, b), (c, d) = rng.integers(0, margin, size=(2, 2))
        cv2.add(frame, lift[a:a + height, b:b + width], dst=frame)  # saturating, in place
        cv2.subtract(frame, drop[c:c + height, d:d + width], dst=frame)
        yield frame


def _write_mp4v(path: str, width: int, height: int, frames: int) -> None:
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), FPS, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write 'mp4v' to {path}")
    for frame in _content(width, height, frames):
        writer.write(frame)
    writer.release()


def _av_encoder(codec: str) -> Optional[str]:
    """The first of PyAV's encoders for ``codec`` that exists, or None (no PyAV, or none bundled)."""
    try:
        import av
    except ImportError:
        return None
    names = {"h264": ("libx264", "libopenh264", "h264"), "hevc": ("libx265", "hevc")}[codec]
    for name in names:
        try:
            av.Codec(name, "w")
            return name
        except Exception:  # av raises its own error classes for a missing codec
            continue
    return None


def _write_av(path: str, encoder: str, width: int, height: int, frames: int) -> None:
    import av

    with av.open(path, "w") as container:
        stream = container.add_stream(encoder, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # A camera's rate, not a streaming one: decoding cost grows with the bits to entropy-decode.
        stream.bit_rate = int(MBITS_PER_MEGAPIXEL * 1e6 * width * height / 1e6)
        if encoder == "libx264":
            stream.options = {"preset": "veryfast"}
        elif encoder == "libx265":
            stream.options = {"preset": "veryfast", "x265-params": "log-level=error"}
        for frame in _content(width, height, frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _key_frames(path: str) -> str:
    try:
        import av
    except ImportError:
        return "?"
    with av.open(path) as container:
        return str(sum(1 for p in container.demux(video=0) if p.size and p.is_keyframe))


def make_clips(folder: str, sizes: List[Tuple[int, int]], codecs: List[str], frames: int):
    """[(label, path)] for every size and codec that can be written here; a note for each that cannot."""
    made, notes = [], []
    for width, height in sizes:
        for codec in codecs:
            label = f"{width}x{height} {codec}"
            path = os.path.join(folder, f"{width}x{height}-{codec}-{frames}.mp4")
            start = time.perf_counter()
            verb = "made"
            if os.path.exists(path):  # made by an earlier run with --keep: 4K H.264 takes minutes to encode
                verb = "reused"
            elif codec == "mp4v":
                _write_mp4v(path, width, height, frames)
            else:
                encoder = _av_encoder(codec)
                if encoder is None:
                    notes.append(f"{label}: skipped, no {codec} encoder here (PyAV missing or without one)")
                    continue
                _write_av(path, encoder, width, height, frames)
            mb = os.path.getsize(path) / 1e6
            print(f"{verb} {label}: {frames} frames, {_key_frames(path)} key frames, {mb:.1f} MB "
                  f"({mb * 8 / (frames / FPS):.1f} Mbit/s) in {time.perf_counter() - start:.0f} s", flush=True)
            made.append((label, path))
    return made, notes


# ---------------------------------------------------------------- decoders
# Each takes (path, step) and returns (frames returned, first wanted frame, last wanted frame).

def decode_opencv(path: str, step: int):
    capture, total, _ = open_video(path)
    try:
        count, first, last = 0, None, None
        for _, frame in read_frames(capture, range(0, total, step)):
            if frame is None:
                break
            count += 1
            first = frame if first is None else first
            last = frame
        return count, first, last
    finally:
        capture.release()


def decode_pyav(path: str, step: int):
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count, first, last = 0, None, None
        for index, frame in enumerate(container.decode(stream)):
            if index % step:
                continue
            rgb = frame.to_ndarray(format="rgb24")
            count += 1
            first = rgb if first is None else first
            last = rgb
        return count, first, last


def _torchcodec(device: str) -> Callable:
    def decode(path: str, step: int):
        from torchcodec.decoders import VideoDecoder

        options = {"num_ffmpeg_threads": 0} if device == "cpu" else {}
        decoder = VideoDecoder(path, device=device, dimension_order="NHWC", **options)
        total = len(decoder)
        count, first, last = 0, None, None
        for start in range(0, total, CHUNK * step):
            batch = decoder.get_frames_in_range(start, min(start + CHUNK * step, total), step).data
            if device == "cpu":
                batch = batch.numpy()
            count += len(batch)
            first = batch[0] if first is None else first
            last = batch[-1]
        if device != "cpu":
            import torch

            torch.cuda.synchronize()
            first, last = first.cpu().numpy(), last.cpu().numpy()
        return count, first, last
    return decode


def available_decoders():
    """{name: decoder} for those that work here, and {name: why not} for the others."""
    decoders: Dict[str, Callable] = {"opencv": decode_opencv}
    missing: Dict[str, str] = {}
    try:
        import av  # noqa: F401
        decoders["pyav"] = decode_pyav
    except ImportError as exc:
        missing["pyav"] = f"does not import ({exc}); pip install av"
    try:
        import torch
        import torchcodec.decoders  # noqa: F401
        decoders["torchcodec"] = _torchcodec("cpu")
        if torch.cuda.is_available():
            decoders["torchcodec-cuda"] = _torchcodec("cuda")
        else:
            missing["torchcodec-cuda (NVDEC)"] = "torch sees no CUDA device"
    except Exception as exc:  # torchcodec raises OSError/RuntimeError when its FFmpeg or torch libraries are absent
        missing["torchcodec"] = "does not import: " + _causes(exc)
    return decoders, missing


def _causes(exc: BaseException) -> str:
    """An exception and what caused it, on one line (torchcodec's own message hides the missing library)."""
    parts = []
    while exc is not None and len(parts) < 4:
        parts.append(f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ''}")
        exc = exc.__cause__ or exc.__context__
    return " <- ".join(parts)


# ---------------------------------------------------------------- report

def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parts = [f"{usable} usable CPU cores of {os.cpu_count()} ({model})", f"{platform.system()} {platform.machine()}",
             f"Python {platform.python_version()}", f"numpy {np.__version__}", f"OpenCV {cv2.__version__}"]
    try:
        import av
        parts.append(f"PyAV {av.__version__} (libavcodec {'.'.join(map(str, av.library_versions['libavcodec']))})")
    except ImportError:
        pass
    try:
        import torch
        parts.append(f"torch {torch.__version__}" + (f", CUDA {torch.cuda.get_device_name(0)}"
                                                     if torch.cuda.is_available() else ", no CUDA device"))
    except ImportError:
        pass
    try:
        import torchcodec
        parts.append(f"torchcodec {torchcodec.__version__}")
    except Exception:
        pass
    return "; ".join(parts)


def opencv_threads(path: str) -> int:
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    try:
        return int(capture.get(cv2.CAP_PROP_N_THREADS))
    finally:
        capture.release()


def _difference(a: Optional[np.ndarray], b: Optional[np.ndarray]) -> float:
    if a is None or b is None or a.shape != b.shape:
        return float("inf")
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def bench_clip(label: str, path: str, decoders: Dict[str, Callable], ffreq: int, repeats: int):
    """Rows of (clip, pattern, decoder, frames returned, video frames/s, RGB frames/s, wall ratio, CPU ratio,
    difference from OpenCV, same count as OpenCV)."""
    capture, total, _ = open_video(path)
    capture.release()
    rows = []
    for pattern, step in (("every", 1), (f"ffreq={ffreq}", ffreq)):
        wall = {name: float("inf") for name in decoders}
        cpu = dict(wall)
        results = {}
        for _ in range(repeats):
            for name, decode in decoders.items():
                # CPU time (all of this process's threads) is the work done, which other users of a
                # shared machine barely change; wall time also shows what threads win.
                start, start_cpu = time.perf_counter(), time.process_time()
                results[name] = decode(path, step)
                cpu[name] = min(cpu[name], time.process_time() - start_cpu)
                wall[name] = min(wall[name], time.perf_counter() - start)
        count, first, last = results["opencv"]
        for name in decoders:
            got, f, l = results[name]
            agree = max(_difference(f, first), _difference(l, last))
            rows.append((label, pattern, name, got, total / wall[name], got / wall[name],
                         wall["opencv"] / wall[name], cpu["opencv"] / cpu[name], agree, got == count))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1280x720,3840x2160")
    parser.add_argument("--codecs", default="mp4v,h264", help="any of mp4v, h264, hevc")
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--ffreq", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", help="write the clips to this folder and keep them (a later run reuses them)")
    args = parser.parse_args(argv)
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",")]
    codecs = [c.strip() for c in args.codecs.split(",")]
    unknown = sorted(set(codecs) - {"mp4v", "h264", "hevc"})
    if unknown:
        parser.error(f"unknown codec(s) {unknown}; use mp4v, h264 or hevc")

    folder = args.keep or tempfile.mkdtemp(prefix="transforemotion-bench-decode-")
    os.makedirs(folder, exist_ok=True)
    try:
        decoders, missing = available_decoders()
        print(f"machine: {machine()}", flush=True)
        clips, notes = make_clips(folder, sizes, codecs, args.frames)
        if clips:
            print(f"OpenCV's FFmpeg backend decodes with {opencv_threads(clips[0][1])} threads")
            for name, decode in list(decoders.items()):  # first calls load libraries and codecs: not timed
                try:
                    decode(clips[0][1], args.ffreq)
                except Exception as exc:  # a decoder that imports but cannot decode here is reported, not fatal
                    if name == "opencv":
                        raise
                    missing[name] = "fails: " + _causes(exc)
                    del decoders[name]
        for name, why in list(missing.items()) + [("clip", n) for n in notes]:
            print(f"not measured: {name}: {why}")
        print(f"\nbest of {args.repeats}. video frames/s: frames of the clip got through per second of wall time "
              "(all are decoded); RGB/s: frames returned as RGB arrays per second; x OpenCV: OpenCV's time / this "
              "decoder's, in wall time and in CPU time (all threads)\n")
        print("| clip | reads | decoder | video frames/s | RGB/s | x OpenCV, wall | x OpenCV, CPU | "
              "differs from OpenCV (mean of 8-bit levels) |")
        print("|---|---|---|---|---|---|---|---|")
        for label, path in clips:
            for row in bench_clip(label, path, decoders, args.ffreq, args.repeats):
                clip, pattern, name, got, rate, wanted, ratio, cpu_ratio, agree, same = row
                flag = "" if same else f" (returned {got} frames, OpenCV another count)"
                print(f"| {clip} | {pattern} | {name} | {rate:.1f} | {wanted:.1f} | {ratio:.2f} | {cpu_ratio:.2f} | "
                      f"{agree:.2f}{flag} |", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
