"""Offline face detection for uploaded photos: BlazeFace full-range, run whole-image and in tiles, no recognition."""

from __future__ import annotations

import functools
import hashlib
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# MediaPipe's BlazeFace full-range model (Apache-2.0), taken unchanged from PyPI's mediapipe==0.10.21 wheel
# (mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite); see models_data/NOTICE.
MODEL_PATH = Path(__file__).resolve().parent / "models_data" / "face_detection_full_range_sparse.tflite"
MODEL_SHA256 = "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1"

INPUT_SIZE = 192  # the model's square RGB input, values scaled to [-1, 1]
GRID = 48  # one anchor per cell of a 48x48 grid (stride 4): 2,304 anchors
MIN_SCORE = 0.6  # MediaPipe's threshold for this model
NMS_IOU = 0.3  # boxes overlapping more than this are one face (MediaPipe's weighted NMS)
# A box lying mostly inside a stronger one is a part of that face (an eye region, or a face cut by a tile edge).
CONTAINED = 0.7

# Tiling: the whole-image pass only finds faces larger than ~1/12 of the longest side, so small faces in
# class photos are found in 192-pixel tiles of a copy scaled so that the smallest face we promise to find
# (MIN_FACE pixels in the photo, 1 % of a 4000-pixel-wide 12 MP photo) becomes TILE_FACE pixels. Measured on
# bench/faces.py's class photos: faces of 16-24 model pixels are found 72 % of the time, 20-30 pixels 96 %,
# 24-36 pixels 99 %. Tiles overlap by the largest face a tile finds well, so every face lies whole in one tile.
MIN_FACE = 40
TILE_FACE = 20
TILE_OVERLAP = 40
# Faces between what tiles find and what the whole-image pass finds come from a middle pass: the photo
# scaled to this longest side and tiled the same way.
MIDDLE_SIDE = 640
# Boxes narrower than this in the model's input are mostly texture (flag stars, foliage): measured recall of
# real faces below ~12 input pixels is near zero, so such boxes are dropped rather than reported.
MIN_INPUT_FACE = 13
# A tile whose sampled pixels all lie within this many levels of each other is flat and skipped.
UNIFORM_RANGE = 6


@dataclass(frozen=True)
class FaceBox:
    """One detected face, in pixels of the image as given (callers pass an EXIF-transposed image)."""

    left: int
    top: int
    width: int
    height: int
    score: float

    def as_dict(self) -> dict:
        return {"left": self.left, "top": self.top, "width": self.width, "height": self.height, "score": self.score}


class ModelFileError(RuntimeError):
    """The shipped model file is missing or is not the file the detector was written for."""


@functools.cache
def _anchors() -> np.ndarray:
    """Anchor centres (x, y) in [0, 1], row-major over the grid, as MediaPipe's SSD anchor calculator makes them."""
    centres = (np.arange(GRID, dtype=np.float32) + 0.5) / GRID
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


@functools.cache
def _verified_model_bytes() -> bytes:
    try:
        data = MODEL_PATH.read_bytes()
    except OSError as error:
        raise ModelFileError(f"Face model file not found at {MODEL_PATH}: {error}") from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise ModelFileError(f"Face model file {MODEL_PATH} has sha256 {digest}, expected {MODEL_SHA256}.")
    return data


_local = threading.local()


def _interpreter():
    """This thread's interpreter (a TFLite interpreter is not thread-safe), loaded on first use."""
    interpreter = getattr(_local, "interpreter", None)
    if interpreter is None:
        from ai_edge_litert.interpreter import Interpreter  # imported late: loading it costs ~100 ms

        # One thread: uploads are handled by several workers at once, each with its own interpreter.
        interpreter = Interpreter(model_content=_verified_model_bytes(), num_threads=1)
        interpreter.allocate_tensors()
        outputs = {tuple(d["shape"])[-1]: d["index"] for d in interpreter.get_output_details()}
        _local.interpreter = interpreter
        _local.input_index = interpreter.get_input_details()[0]["index"]
        _local.boxes_index, _local.scores_index = outputs[16], outputs[1]
    return interpreter


def _detect_square(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces in one 192x192 RGB uint8 array: boxes (x1, y1, x2, y2) in [0, 1] of the square, and scores."""
    interpreter = _interpreter()
    batch = (pixels.astype(np.float32) * (1 / 127.5) - 1.0)[np.newaxis]
    interpreter.set_tensor(_local.input_index, batch)
    interpreter.invoke()
    logits = interpreter.get_tensor(_local.scores_index)[0, :, 0]
    keep = logits > _MIN_LOGIT
    if not keep.any():
        return np.empty((0, 4), np.float32), np.empty(0, np.float32)
    raw = interpreter.get_tensor(_local.boxes_index)[0, keep, :4] / INPUT_SIZE
    centres = _anchors()[keep] + raw[:, :2]
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centres - half, centres + half], axis=1)
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits[keep], -100, 100)))
    return boxes, scores


_MIN_LOGIT = float(np.log(MIN_SCORE / (1 - MIN_SCORE)))


def _squares(size: tuple[int, int], *, overlap: int) -> list[tuple[int, int]]:
    """Top-left corners of 192-pixel tiles covering an image of `size`, overlapping by at least `overlap`."""
    width, height = size

    def starts(length: int) -> list[int]:
        if length <= INPUT_SIZE:
            return [0]
        count = -(-(length - overlap) // (INPUT_SIZE - overlap))
        step = (length - INPUT_SIZE) / (count - 1)
        return [round(i * step) for i in range(count)]

    return [(x, y) for y in starts(height) for x in starts(width)]


def _detect_tiled(scaled: Image.Image, *, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Faces in `scaled` (the photo resized by `scale`), cut into overlapping tiles; boxes in pixels of the photo."""
    size = scaled.size
    pixels = np.asarray(scaled)
    # Pad to at least one tile: the model's input is a fixed square and padding is what MediaPipe does too.
    pad_h, pad_w = max(0, INPUT_SIZE - size[1]), max(0, INPUT_SIZE - size[0])
    if pad_h or pad_w:
        pixels = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)))
    all_boxes, all_scores = [], []
    for x, y in _squares(size, overlap=TILE_OVERLAP):
        tile = pixels[y : y + INPUT_SIZE, x : x + INPUT_SIZE]
        if _is_uniform(tile):
            continue
        boxes, scores = _detect_square(tile)
        boxes = boxes * INPUT_SIZE
        keep = boxes[:, 2] - boxes[:, 0] >= MIN_INPUT_FACE
        if keep.any():
            offset = np.array([x, y, x, y], np.float32)
            all_boxes.append((boxes[keep] + offset) / np.float32(scale))
            all_scores.append(scores[keep])
    if not all_scores:
        return np.empty((0, 4), np.float32), np.empty(0, np.float32)
    return np.concatenate(all_boxes), np.concatenate(all_scores)


def _is_uniform(tile: np.ndarray) -> bool:
    """A tile with (nearly) no detail, such as sky or a blank wall: no face can be in it, so the model is not run."""
    sample = tile[::4, ::4]  # a 48x48 sample is enough to tell flat from textured and costs ~20 us
    return int(sample.max()) - int(sample.min()) <= UNIFORM_RANGE


def _merge(boxes: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted non-max suppression, plus dropping boxes lying mostly inside a stronger face."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    areas = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    alive = np.ones(len(scores), bool)
    faces = []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        top_left = np.maximum(boxes[i, :2], boxes[:, :2])
        bottom_right = np.minimum(boxes[i, 2:], boxes[:, 2:])
        inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
        iou = inter / np.maximum(areas[i] + areas - inter, 1e-6)
        inside = inter / np.maximum(np.minimum(areas[i], areas), 1e-6)
        group = alive & (iou > NMS_IOU)
        weights = scores[group][:, np.newaxis]
        faces.append(((boxes[group] * weights).sum(axis=0) / weights.sum(), float(scores[i])))
        alive &= ~(group | (inside > CONTAINED))
    return faces


@dataclass(frozen=True)
class PhotoFaces:
    """The faces in one photo file, with the size of the photo as shown (EXIF orientation applied)."""

    width: int
    height: int
    faces: list[FaceBox]


def detect_faces(image: Image.Image) -> list[FaceBox]:
    """Face boxes in `image` (already EXIF-transposed), strongest first; no face is recognised or compared."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return _detect(rgb, min_face=MIN_FACE)


def detect_faces_in_file(source) -> PhotoFaces:
    """Faces in a photo file or file object, decoding a JPEG at reduced size: what an upload costs end to end.

    A 12 MP JPEG takes ~190 ms to decode in full but ~60 ms at half size (libjpeg scales while decoding), and the
    detector never looks at more than TILE_FACE / MIN_FACE of the full resolution. Boxes are in pixels of the
    full-size photo as shown. A truncated or corrupt file raises, as `images.open_as_shown` does.
    """
    from schoolgate.media.images import truncated_images_refused

    with truncated_images_refused(), Image.open(source) as opened:
        full = opened.size
        fine = min(1.0, TILE_FACE / MIN_FACE)
        # draft() picks the smallest JPEG scale (1/2, 1/4, 1/8) no smaller than asked; other formats ignore it.
        opened.draft("RGB", (math.ceil(full[0] * fine), math.ceil(full[1] * fine)))
        reduced = ImageOps.exif_transpose(opened)
        reduced.load()
        factor = full[0] / opened.size[0]
    shown = (round(reduced.width * factor), round(reduced.height * factor))
    rgb = reduced if reduced.mode == "RGB" else reduced.convert("RGB")
    faces = _detect(rgb, min_face=MIN_FACE / factor)
    if factor == 1:
        return PhotoFaces(width=shown[0], height=shown[1], faces=faces)
    return PhotoFaces(width=shown[0], height=shown[1], faces=[_scaled(face, factor, shown) for face in faces])


def _scaled(face: FaceBox, factor: float, size: tuple[int, int]) -> FaceBox:
    left, top = round(face.left * factor), round(face.top * factor)
    right = min(size[0], round((face.left + face.width) * factor))
    bottom = min(size[1], round((face.top + face.height) * factor))
    return FaceBox(left=left, top=top, width=right - left, height=bottom - top, score=face.score)


def _detect(rgb: Image.Image, *, min_face: float) -> list[FaceBox]:
    """Face boxes in an RGB image, finding faces down to `min_face` pixels wide.

    1. The whole image, letterboxed to the model's 192x192 input: large faces.
    2. A copy scaled to MIDDLE_SIDE, in 192-pixel tiles: medium faces.
    3. A copy scaled so a `min_face`-pixel face becomes TILE_FACE pixels, in tiles: small faces in class photos.
    4. Weighted non-max suppression across all passes, boxes clipped to the image.
    """
    width, height = rgb.size
    longest = max(width, height)
    passes = [INPUT_SIZE / longest]
    if longest > MIDDLE_SIDE * 1.2:
        passes.append(MIDDLE_SIDE / longest)
    fine = min(1.0, TILE_FACE / min_face)
    if longest * fine > MIDDLE_SIDE * 1.2 or len(passes) == 1:
        passes.append(fine if longest * fine > INPUT_SIZE else passes[0])
    found = []
    source, source_scale = rgb, 1.0
    # Largest scale first, each copy made from the previous one: shrinking 12 MP once costs ~40 ms, the rest little.
    for scale in sorted(set(passes), reverse=True):
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size != source.size:
            source = source.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        source_scale = scale
        found.append(_detect_tiled(source, scale=source_scale))
    boxes = np.concatenate([b for b, _ in found])
    scores = np.concatenate([s for _, s in found])
    if not len(scores):
        return []
    results = []
    for (x1, y1, x2, y2), score in _merge(boxes, scores):
        x1, y1 = max(0.0, float(x1)), max(0.0, float(y1))
        x2, y2 = min(float(width), float(x2)), min(float(height), float(y2))
        if x2 - x1 >= 1 and y2 - y1 >= 1:
            left, top = int(round(x1)), int(round(y1))
            results.append(
                FaceBox(
                    left=left,
                    top=top,
                    width=int(round(x2)) - left,
                    height=int(round(y2)) - top,
                    score=round(score, 4),
                )
            )
    return results
