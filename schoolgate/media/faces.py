"""Offline face detection for uploaded photos: boxes and scores only, no face is recognised or compared.

The detector comes from face_detectors.DETECTORS (libfacedetection where its wheel runs, BlazeFace elsewhere);
this module scans a photo in the passes the detector asks for, merges what the passes found and gives boxes in
pixels of the photo as shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image, ImageOps

from schoolgate.media.face_detectors import DETECTORS, Boxes, ModelFileError, Pass, no_boxes

__all__ = [
    "FaceBox",
    "FaceDoubts",
    "ModelFileError",
    "PhotoFaces",
    "detect_faces",
    "detect_faces_in_file",
    "detector",
    "doubts",
    "smallest_findable",
]

# The smallest face we promise to find: 1 % of a 4000-pixel-wide 12 MP photo, a whole-school photo's faces.
MIN_FACE = 40
NMS_IOU = 0.3  # boxes overlapping more than this are one face (MediaPipe's weighted NMS)
# A box lying mostly inside a stronger one is a part of that face (an eye region, or a face cut by a tile edge).
CONTAINED = 0.7
# A tile whose sampled pixels all lie within this many levels of each other is flat and skipped.
UNIFORM_RANGE = 6
EDGE = 2  # a box within this many pixels of an inner tile edge is a face cut by that edge
# A face only the mirrored scan found must score this: the plain scan already had its chance, so a weak box
# seen only in the mirror image is more often a pattern than a face.
EXTRA_SCORE = 0.8
# A face narrower than this in the photo as taken is one the detector is near its limit on; so is one within
# NEAR_LIMIT times the smallest face the scan could find in that photo (the next row back may be smaller still).
SMALL_FACE = 24
NEAR_LIMIT = 1.5


@dataclass(frozen=True)
class FaceBox:
    """One detected face, in pixels of the image as given (callers pass an EXIF-transposed image)."""

    left: int
    top: int
    width: int
    height: int
    score: float
    # Found only by a second look: in the mirrored scan, or in an enlarged copy and too small to see without it.
    extra_pass: bool = False

    def as_dict(self) -> dict:
        return {"left": self.left, "top": self.top, "width": self.width, "height": self.height, "score": self.score}


@dataclass(frozen=True)
class FaceDoubts:
    """How many of a photo's faces the detector is less sure of: small, found only by a second look, low-scored.

    A face may count under more than one heading; `unsure` counts each face once.
    """

    small: int = 0
    extra_pass: int = 0
    low_score: int = 0
    unsure: int = 0

    def as_dict(self) -> dict:
        return {"small": self.small, "extra_pass": self.extra_pass, "low_score": self.low_score, "unsure": self.unsure}


@dataclass(frozen=True)
class PhotoFaces:
    """The faces in one photo file, with the size of the photo as shown (EXIF orientation applied)."""

    width: int
    height: int
    faces: list[FaceBox]


def detector(name: str | None = None):
    """The detector named (or settings.FACE_DETECTOR), else the first available one in the registry."""
    name = name or (settings.FACE_DETECTOR if settings.configured else "")  # the benchmark runs without Django
    if name:
        try:
            chosen = DETECTORS[name]
        except KeyError:
            raise ModelFileError(f"Unknown face detector {name!r}; known: {', '.join(DETECTORS)}.") from None
        if not chosen.available():
            raise ModelFileError(f"The face detector {name!r} cannot run on this machine.")
        return chosen()
    return next(candidate() for candidate in DETECTORS.values() if candidate.available())


def smallest_findable(width: int, height: int, *, using=None) -> float:
    """The narrowest face, in pixels of a `width` x `height` image, that the detector's passes can find."""
    using = using or detector()
    finest = max(p.scale for p in using.passes(width, height, min_face=MIN_FACE))
    return using.SMALLEST_FACE / finest


def doubts(faces: list[FaceBox], *, size: tuple[int, int], taken_longest: int | None = None, using=None) -> FaceDoubts:
    """What the detector was less sure of among `faces` (boxes in pixels of an image of `size`); `taken_longest`
    is the longest side of the photo as taken, when the image is a reduced copy of it."""
    using = using or detector()
    to_taken = (taken_longest or max(size)) / max(size)
    near = NEAR_LIMIT * smallest_findable(*size, using=using)
    small = {i for i, f in enumerate(faces) if f.width * to_taken < SMALL_FACE or f.width < near}
    extra = {i for i, f in enumerate(faces) if f.extra_pass}
    low = {i for i, f in enumerate(faces) if f.score < using.LOW_SCORE}
    return FaceDoubts(small=len(small), extra_pass=len(extra), low_score=len(low), unsure=len(small | extra | low))


def detect_faces(image: Image.Image, *, using=None) -> list[FaceBox]:
    """Face boxes in `image` (already EXIF-transposed), strongest first."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return _detect(rgb, min_face=MIN_FACE, using=using or detector())


def detect_faces_in_file(source, *, using=None) -> PhotoFaces:
    """Faces in a photo file or file object, decoding a JPEG at reduced size: what an upload costs end to end.

    A 12 MP JPEG takes ~190 ms to decode in full but ~60 ms at half size (libjpeg scales while decoding), and no
    pass looks at more than a fraction of the full resolution. Boxes are in pixels of the full-size photo as
    shown. A truncated or corrupt file raises, as `images.open_as_shown` does.
    """
    from schoolgate.media.images import truncated_images_refused

    using = using or detector()
    with truncated_images_refused(), Image.open(source) as opened:
        full = opened.size
        finest = max(p.scale for p in using.passes(*full, min_face=MIN_FACE))
        # draft() picks the smallest JPEG scale (1/2, 1/4, 1/8) no smaller than asked; other formats ignore it.
        opened.draft("RGB", (math.ceil(full[0] * finest), math.ceil(full[1] * finest)))
        reduced = ImageOps.exif_transpose(opened)
        reduced.load()
        factor = full[0] / opened.size[0]
    shown = (round(reduced.width * factor), round(reduced.height * factor))
    rgb = reduced if reduced.mode == "RGB" else reduced.convert("RGB")
    faces = _detect(rgb, min_face=MIN_FACE / factor, using=using)
    if factor == 1:
        return PhotoFaces(width=shown[0], height=shown[1], faces=faces)
    return PhotoFaces(width=shown[0], height=shown[1], faces=[_scaled(face, factor, shown) for face in faces])


def _scaled(face: FaceBox, factor: float, size: tuple[int, int]) -> FaceBox:
    left, top = round(face.left * factor), round(face.top * factor)
    right = min(size[0], round((face.left + face.width) * factor))
    bottom = min(size[1], round((face.top + face.height) * factor))
    return FaceBox(
        left=left, top=top, width=right - left, height=bottom - top, score=face.score, extra_pass=face.extra_pass
    )


def _detect(rgb: Image.Image, *, min_face: float, using) -> list[FaceBox]:
    """Face boxes in an RGB image, finding faces down to `min_face` pixels wide: every pass the detector asks for,
    largest scale first (a mirrored pass beside its plain one), then weighted non-max suppression across the
    passes and boxes clipped to the image."""
    width, height = rgb.size
    found = []
    source = rgb
    # Each copy is made from the previous one: shrinking 12 MP once costs ~40 ms, the rest little.
    for scan in sorted(using.passes(width, height, min_face=min_face), key=lambda p: (-p.scale, p.mirror)):
        size = (max(1, round(width * scan.scale)), max(1, round(height * scan.scale)))
        if size != source.size:
            source = source.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        pixels = np.asarray(source)
        boxes, scores = _scan(pixels[:, ::-1] if scan.mirror else pixels, scan, using)
        if scan.mirror:  # back from the mirror image: x becomes the photo's width less x
            mirrored_width = np.float32(size[0] / scan.scale)
            boxes = np.stack([mirrored_width - boxes[:, 2], boxes[:, 1], mirrored_width - boxes[:, 0], boxes[:, 3]], 1)
        keep = boxes[:, 2] - boxes[:, 0] >= scan.min_kept
        mirrored = np.full(len(scores), scan.mirror)
        # A second look: the mirror image, or an enlarged copy showing a face too small for the detector as it is.
        extra = mirrored | ((boxes[:, 2] - boxes[:, 0] < using.SMALLEST_FACE) & (scan.scale > 1))
        found.append((boxes[keep], scores[keep], mirrored[keep], extra[keep]))
    boxes, scores, mirrored, extra = (np.concatenate([f[k] for f in found]) for k in range(4))
    if not len(scores):
        return []
    results = []
    for (x1, y1, x2, y2), score, extra_pass in _merge(boxes, scores, mirrored=mirrored, extra=extra):
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
                    extra_pass=extra_pass,
                )
            )
    return results


def _scan(pixels: np.ndarray, scan: Pass, using) -> Boxes:
    """Faces in `pixels` (the photo scaled by `scan.scale`), tile by tile; boxes in pixels of the photo."""
    height, width = pixels.shape[:2]
    found = _scan_region(pixels, (0, 0, width, height), scan.tile, scan, using)
    boxes = np.concatenate([b for b, _ in found]) / np.float32(scan.scale)
    return boxes, np.concatenate([s for _, s in found])


def _scan_region(pixels: np.ndarray, region, tile: int, scan: Pass, using) -> list[Boxes]:
    """Boxes (in pixels of `pixels`) from overlapping `tile`-pixel squares covering `region`; a tile the detector
    found too crowded to finish is scanned again in half-size tiles."""
    height, width = pixels.shape[:2]
    x0, y0, region_width, region_height = region
    found = [no_boxes()]
    for dx, dy in _squares((region_width, region_height), tile=tile, overlap=scan.overlap):
        x, y = x0 + dx, y0 + dy
        square = pixels[y : min(y + tile, y0 + region_height), x : min(x + tile, x0 + region_width)]
        if _is_uniform(square):
            continue
        result = using.detect_tile(square, upscale=scan.scale)
        smaller = max(tile // 2, 2 * scan.overlap + 16)
        if result.crowded and scan.split_crowded and smaller < tile:
            found += _scan_region(pixels, (x, y, square.shape[1], square.shape[0]), smaller, scan, using)
            continue
        boxes, scores = result.boxes, result.scores
        keep = boxes[:, 2] - boxes[:, 0] >= scan.min_box
        if scan.drop_cut:
            keep &= ~_touches_inner_edge(boxes, x, y, square.shape[1], square.shape[0], width, height)
        found.append((boxes[keep] + np.array([x, y, x, y], np.float32), scores[keep]))
    return found


def _touches_inner_edge(boxes: np.ndarray, x: int, y: int, tile_width: int, tile_height: int, width, height):
    """Which boxes reach an edge of the tile that is not an edge of the image: faces cut in two by the tiling."""
    return (
        ((x > 0) & (boxes[:, 0] <= EDGE))
        | ((y > 0) & (boxes[:, 1] <= EDGE))
        | ((x + tile_width < width) & (boxes[:, 2] >= tile_width - EDGE))
        | ((y + tile_height < height) & (boxes[:, 3] >= tile_height - EDGE))
    )


def _squares(size: tuple[int, int], *, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Top-left corners of `tile`-pixel squares covering an area of `size`, overlapping by at least `overlap`."""
    width, height = size

    def starts(length: int) -> list[int]:
        if length <= tile:
            return [0]
        count = -(-(length - overlap) // (tile - overlap))
        step = (length - tile) / (count - 1)
        return [round(i * step) for i in range(count)]

    return [(x, y) for y in starts(height) for x in starts(width)]


def _is_uniform(tile: np.ndarray) -> bool:
    """A tile with (nearly) no detail, such as sky or a blank wall: no face can be in it, so no model is run."""
    sample = tile[::4, ::4]  # a sparse sample is enough to tell flat from textured and costs microseconds
    return int(sample.max()) - int(sample.min()) <= UNIFORM_RANGE


def _merge(
    boxes: np.ndarray, scores: np.ndarray, *, mirrored: np.ndarray, extra: np.ndarray
) -> list[tuple[np.ndarray, float, bool]]:
    """MediaPipe's weighted non-max suppression, plus dropping boxes lying mostly inside a stronger face. A face
    only the mirrored scan saw needs EXTRA_SCORE; each face says whether only second-look boxes (`extra`) made it."""
    order = np.argsort(-scores)
    boxes, scores, mirrored, extra = boxes[order], scores[order], mirrored[order], extra[order]
    # All pairs at once (a class photo gives ~700-1,300 boxes: a few MB); row by row only for a huge count.
    pairs = _overlaps(boxes, boxes) if len(scores) <= 3000 else None
    alive = np.ones(len(scores), bool)
    faces = []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        iou, inside = (pairs[0][i], pairs[1][i]) if pairs else (row[0] for row in _overlaps(boxes[i : i + 1], boxes))
        group = alive & (iou > NMS_IOU)
        if mirrored[group].all() and scores[i] < EXTRA_SCORE:
            alive &= ~group  # not a face: it must not hide a weaker box lying inside it either
            continue
        weights = scores[group][:, np.newaxis]
        faces.append(((boxes[group] * weights).sum(axis=0) / weights.sum(), float(scores[i]), bool(extra[group].all())))
        alive &= ~(group | (inside > CONTAINED))
    return faces


def _overlaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every pair of boxes from `a` and `b`: intersection over union, and intersection over the smaller box."""
    top_left = np.maximum(a[:, np.newaxis, :2], b[np.newaxis, :, :2])
    bottom_right = np.minimum(a[:, np.newaxis, 2:], b[np.newaxis, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)[:, np.newaxis]
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)[np.newaxis, :]
    iou = inter / np.maximum(area_a + area_b - inter, 1e-6)
    inside = inter / np.maximum(np.minimum(area_a, area_b), 1e-6)
    return iou, inside
