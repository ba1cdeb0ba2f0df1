"""The C labelling (``_fastimage.components``) against its pure-Python reference
(``frames.components_py``): the same components, runs, boxes, pixel counts and order, on random
masks, on shapes that merge labels late, and on the masks of generated scanned pages."""

import functools
import random

import pytest

PIL = pytest.importorskip("PIL", reason="Pillow is a dependency of the project: pip install -e .")
from PIL import Image, ImageDraw  # noqa: E402

from bmnn_guard.scanner.content import frames, images  # noqa: E402

fast = pytest.importorskip("bmnn_guard.scanner.content._fastimage",
                           reason="the C labelling is not built: python setup.py build_ext --inplace")
from . import stamps as S  # noqa: E402  (needs Pillow)


def as_tuples(comps):
    return [(c.runs, c.x0, c.y0, c.x1, c.y1, c.pixels) for c in comps]


def same(mask, min_pixels=1):
    """C and Python agree on ``mask``, both through the C function itself and through the wrapper
    that builds ``Comp`` objects from it; returns the Python answer."""
    ref = as_tuples(frames.components_py(mask, min_pixels))
    w, h = mask.size
    assert fast.components(mask.tobytes(), w, h, min_pixels) == ref
    assert as_tuples(frames.components(mask, min_pixels)) == ref
    return ref


def mask_of(w, h, data):
    return Image.frombytes("L", (w, h), bytes(data))


def random_mask(rnd, w, h, density):
    values = (255, 255, 255, 1, 128)  # _INK is any non-zero byte, not only 255
    return mask_of(w, h, (rnd.choice(values) if rnd.random() < density else 0 for _ in range(w * h)))


def test_the_wrapper_uses_the_c_function():
    assert frames._c_components is fast.components


@pytest.mark.parametrize("seed", range(8))
def test_random_masks(seed):
    rnd = random.Random(seed)
    sizes = [(1, 1), (1, 2), (2, 1), (1, 37), (37, 1), (1, 200), (200, 1), (7, 3), (8, 8), (9, 5),
             (15, 4), (16, 16), (17, 9), (24, 24), (31, 2), (33, 33), (64, 7), (3, 64)]
    for i in range(50):
        w, h = sizes[i] if i < len(sizes) else (rnd.randint(1, 70), rnd.randint(1, 70))
        density = rnd.choice((0.0, 0.02, 0.1, 0.3, 0.45, 0.5, 0.55, 0.7, 0.9, 0.98, 1.0))
        mask = random_mask(rnd, w, h, density)
        for mp in (1, rnd.choice((0, -3, 2, 4, 8, 25))):
            same(mask, mp)


@pytest.mark.parametrize("seed", range(4))
def test_random_rectangles_and_lines(seed):
    """Larger components (boxes, frames, strokes) on sparse masks, as on a page."""
    rnd = random.Random(100 + seed)
    for _ in range(25):
        w, h = rnd.randint(20, 300), rnd.randint(20, 300)
        img = Image.new("L", (w, h), 0)
        d = ImageDraw.Draw(img)
        for _ in range(rnd.randint(0, 30)):
            x0, y0 = rnd.randrange(w), rnd.randrange(h)
            x1, y1 = min(w - 1, x0 + rnd.randint(0, 60)), min(h - 1, y0 + rnd.randint(0, 40))
            kind = rnd.randrange(3)
            if kind == 0:
                d.rectangle((x0, y0, x1, y1), outline=255, width=rnd.randint(1, 3))
            elif kind == 1:
                d.line((x0, y0, rnd.randrange(w), rnd.randrange(h)), fill=255, width=rnd.randint(1, 2))
            else:
                d.ellipse((x0, y0, x1, y1), fill=rnd.choice((255, 7)))
        for mp in (1, 8):
            same(img, mp)


def test_empty_and_full():
    for w, h in ((1, 1), (1, 50), (50, 1), (13, 11), (64, 64)):
        assert same(mask_of(w, h, bytes(w * h))) == []
        full = same(mask_of(w, h, b"\xff" * (w * h)))
        assert full == [([(y, 0, w) for y in range(h)], 0, 0, w, h, w * h)]
        assert same(mask_of(w, h, b"\xff" * (w * h)), w * h + 1) == []
    assert fast.components(b"", 0, 0, 1) == fast.components(b"", 0, 9, 1) == fast.components(b"", 9, 0, 1) == []


def test_checkerboard_joins_diagonally():
    for w, h in ((2, 2), (9, 9), (16, 5), (33, 17), (1, 9), (9, 1)):
        mask = mask_of(w, h, (255 if (x + y) % 2 == 0 else 0 for y in range(h) for x in range(w)))
        comps = same(mask)
        if w > 1 and h > 1:
            assert len(comps) == 1 and comps[0][5] == sum((x + y) % 2 == 0 for y in range(h) for x in range(w))
    # pixels two apart on the diagonal do not touch
    sparse = same(mask_of(9, 9, (255 if x % 2 == 0 and y % 2 == 0 else 0 for y in range(9) for x in range(9))))
    assert len(sparse) == 25


def test_runs_touching_at_a_corner_only():
    # row 0: [0, 2); row 1: [2, 4) touches at the corner (prev.b == cur.a): one component
    assert len(same(mask_of(4, 2, b"\xff\xff\x00\x00" b"\x00\x00\xff\xff"))) == 1
    # row 1 [3, 4): one column further, apart
    assert len(same(mask_of(4, 2, b"\xff\xff\x00\x00" b"\x00\x00\x00\xff"))) == 2
    # and the other way round (prev.a == cur.b)
    assert len(same(mask_of(4, 2, b"\x00\x00\xff\xff" b"\xff\xff\x00\x00"))) == 1
    assert len(same(mask_of(4, 2, b"\x00\x00\x00\xff" b"\xff\xff\x00\x00"))) == 2


def test_u_shapes_comb_and_spiral_merge_late():
    # a U: two arms met only on the last row; a comb: many teeth joined by the bottom bar
    u = Image.new("L", (30, 40), 0)
    d = ImageDraw.Draw(u)
    d.rectangle((2, 0, 4, 39), fill=255)
    d.rectangle((25, 0, 27, 39), fill=255)
    d.line((2, 39, 27, 39), fill=255)
    d.rectangle((10, 5, 12, 7), fill=255)  # first met after the U's first run, before the join
    comps = same(u)
    assert len(comps) == 2 and comps[0][1:5] == (2, 0, 28, 40)
    comb = Image.new("L", (61, 20), 0)
    d = ImageDraw.Draw(comb)
    for x in range(0, 61, 2):
        d.line((x, 0, x, 18), fill=255)
    d.line((0, 19, 60, 19), fill=255)
    assert len(same(comb)) == 1
    # inverted U's: arms that split (labels never merge again) and nested U's
    nested = Image.new("L", (50, 50), 0)
    d = ImageDraw.Draw(nested)
    for k in range(0, 20, 4):
        d.rectangle((k, k, 49 - k, 49 - k), outline=255)
        d.rectangle((k, k, 49 - k, k + 1), fill=0)  # open at the top: closed only at the bottom
    same(nested)
    for size in (10, 31, 64, 101):
        spiral = Image.new("L", (size, size), 0)
        d = ImageDraw.Draw(spiral)
        x0, y0, x1, y1 = 0, 0, size - 1, size - 1
        while x1 - x0 >= 2 and y1 - y0 >= 2:
            d.line((x0, y0, x1, y0), fill=255)
            d.line((x1, y0, x1, y1), fill=255)
            d.line((x1, y1, x0, y1), fill=255)
            d.line((x0, y1, x0, y0 + 2), fill=255)
            x0, y0, x1, y1 = x0 + 2, y0 + 2, x1 - 2, y1 - 2
            d.line((x0 - 2, y0, x0, y0), fill=255)
        assert len(same(spiral)) == 1
        # the spiral turned: its labels merge in another order
        same(spiral.rotate(90)), same(spiral.rotate(180)), same(spiral.transpose(Image.FLIP_LEFT_RIGHT))


def test_order_is_the_first_run_met():
    # the component on the right starts on row 0, the one on the left on row 1: right first
    mask = mask_of(10, 3, b"\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00"
                          b"\xff\x00\x00\x00\x00\x00\x00\xff\x00\x00"
                          b"\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00")
    comps = same(mask)
    assert [c[1:] for c in comps] == [(7, 0, 9, 2, 3), (0, 1, 3, 3, 4)]


def test_min_pixels_extremes():
    rnd = random.Random(7)
    mask = random_mask(rnd, 40, 40, 0.3)
    w, h = mask.size
    everything = same(mask, 1)
    assert fast.components(mask.tobytes(), w, h, -(10 ** 30)) == everything == same(mask, 0)
    assert fast.components(mask.tobytes(), w, h, 10 ** 30) == []
    assert fast.components(mask.tobytes(), w, h, True) == everything  # an int
    assert fast.components(data=mask.tobytes(), width=w, height=h, min_pixels=1) == everything


@functools.lru_cache(maxsize=None)
def low_page(level, dpi, variant=None, **kw):
    img = S.page(level, dpi=dpi, **dict(kw))
    if variant:
        img = S.variant(img, variant)
    return img.reduce(images.reduction(img.size))  # as PilRaster.low() does for an RGB page


PAGES = [("TỐI MẬT", 300, None, {}), (None, 300, None, {}), ("MẬT", 200, None, {}),
         (None, 200, None, {"red_signature": True, "margin_note": True}),
         ("TUYỆT MẬT", 200, None, {"stamp_angle": 8.0, "urgency": "KHẨN"}),
         ("TỐI MẬT", 200, "photocopy", {}), ("MẬT", 200, "perspective", {})]


@pytest.mark.parametrize("level,dpi,variant,kw", PAGES)
def test_page_masks(level, dpi, variant, kw, monkeypatch):
    low = low_page(level, dpi, variant, **kw)
    W, H = low.size
    red = frames.red_mask(low, reduced=True)
    bw, bh = round(W * frames.TOP_LEFT[0]), round(H * frames.TOP_LEFT[1])
    dark = frames.dark_mask(low.crop((0, 0, bw, bh)))
    for mask in (red, dark, frames.dark_mask(low)):
        for mp in (1, 8):
            same(mask, mp)
    got = frames.candidates(low)
    monkeypatch.setattr(frames, "_c_components", None)  # the whole search in pure Python
    assert frames.candidates(low) == got
    if level is not None and variant is None:
        assert got  # a stamp page gives a candidate, so the comparison saw one


def test_stamp_crop_at_full_resolution(monkeypatch):
    """``examine`` labels a crop at full resolution (and turned ones): same box either way."""
    img = S.page("TỐI MẬT", dpi=300)
    low = img.reduce(images.reduction(img.size))
    (box, red), *_ = frames.candidates(low)
    k = img.width / low.width
    crop = img.crop((int((box[0] - 2) * k), int((box[1] - 2) * k), int((box[2] + 2) * k), int((box[3] + 2) * k)))
    same(frames.red_mask(crop) if red else frames.dark_mask(crop), 4)
    found = frames.examine(crop, red)
    monkeypatch.setattr(frames, "_c_components", None)
    ref = frames.examine(crop, red)
    assert found is not None and ref is not None and found.borders == ref.borders
    assert found.letters.tobytes() == ref.letters.tobytes()


def test_many_components_filtered():
    """A million lone pixels, all filtered out: the labelling copes, nothing is built."""
    w = h = 2000
    row = bytes(255 if x % 2 == 0 else 0 for x in range(w))
    data = b"".join(row if y % 2 == 0 else bytes(w) for y in range(h))
    assert fast.components(data, w, h, 2) == []
    comps = fast.components(data[: w * 4], w, 4, 1)
    assert len(comps) == 2 * (w // 2) and comps[0] == ([(0, 0, 1)], 0, 0, 1, 1, 1)


def test_argument_errors():
    ok = bytes(12)
    with pytest.raises(ValueError, match="12 bytes"):
        fast.components(ok, 5, 2, 1)
    with pytest.raises(ValueError, match="width and height|width"):
        fast.components(ok, -4, -3, 1)
    with pytest.raises(ValueError, match="height"):
        fast.components(ok, 4, -3, 1)
    with pytest.raises(ValueError, match="too large"):
        fast.components(ok, 2 ** 40, 1, 1)
    with pytest.raises(ValueError, match="too large"):
        fast.components(ok, 10 ** 30, 1, 1)
    with pytest.raises(ValueError, match="must be >= 0"):
        fast.components(ok, -(10 ** 30), 1, 1)
    with pytest.raises(ValueError):
        fast.components(ok, 2 ** 31 - 1, 2 ** 31 - 1, 1)  # the product does not wrap round
    for data in ("x" * 12, [0] * 12, None, 12):
        with pytest.raises(TypeError):
            fast.components(data, 4, 3, 1)
    for args in ((ok, 4.0, 3, 1), (ok, 4, "3", 1), (ok, 4, 3, 1.5), (ok, 4, 3, None), (ok, 4, 3), (ok,)):
        with pytest.raises(TypeError):
            fast.components(*args)
    # any contiguous bytes-like object is read (bytes is what Pillow's tobytes gives)
    assert fast.components(bytearray(b"\xff" * 12), 4, 3, 1) == fast.components(memoryview(b"\xff" * 12), 4, 3, 1)
