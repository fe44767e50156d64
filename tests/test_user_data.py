"""Users' own images: folders of image files, numpy arrays, tfds names (tfgen.user_data)."""

import sys

import numpy as np
import pytest
from PIL import Image

from tfgen import data, models


def write_folder(root, shape=(6, 5), mode="L", classes=("a", "b", "c"), per_class=4, seed=0):
    """PNG files with known pixels; returns {path: array} of what was written."""
    rng = np.random.default_rng(seed)
    written = {}
    for label, name in enumerate(classes or [None]):
        folder = root / name if name else root
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            channels = (3,) if mode == "RGB" else ()
            pixels = rng.integers(0, 256, size=(*shape, *channels), dtype=np.uint8)
            path = folder / f"{i}.png"
            Image.fromarray(pixels, mode).save(path)
            written[path] = (pixels.reshape(*shape, -1), label)
    return written


def test_folder_with_class_folders_gives_pixels_labels_and_a_held_out_split(tmp_path):
    written = write_folder(tmp_path)
    x, y, names = data.directory_arrays(tmp_path, split="all")
    assert names == ["a", "b", "c"] and x.shape == (12, 6, 5, 1) and x.dtype == np.uint8
    expected = sorted((label, pixels.tobytes()) for pixels, label in written.values())
    assert sorted(zip(y.tolist(), (im.tobytes() for im in x), strict=True)) == expected
    train = data.directory_arrays(tmp_path, split="train", test_fraction=0.25, seed=3)
    test = data.directory_arrays(tmp_path, split="test", test_fraction=0.25, seed=3)
    assert len(train[0]) == 9 and len(test[0]) == 3
    both = sorted(im.tobytes() for im in np.concatenate([train[0], test[0]]))
    assert both == sorted(im.tobytes() for im in x)  # disjoint, and together everything
    other = data.directory_arrays(tmp_path, split="test", test_fraction=0.25, seed=4)
    again = data.directory_arrays(tmp_path, split="test", test_fraction=0.25, seed=3)
    assert np.array_equal(again[0], test[0]) and not np.array_equal(other[0], test[0])


def test_rgb_folder_without_classes_and_resizing(tmp_path):
    write_folder(tmp_path, shape=(4, 4), mode="RGB", classes=None, per_class=5)
    ds = data.from_directory(tmp_path, "train", color_mode="rgb", test_fraction=0.2, batch_size=8)
    batch = next(iter(ds)).numpy()
    assert batch.shape == (4, 4, 4, 3) and batch.dtype == np.float32
    assert 0.0 <= batch.min() and batch.max() <= 1.0
    x, y, _ = data.directory_arrays(tmp_path, image_size=(8, 6))  # colour_mode auto: RGB here
    assert x.shape == (5, 8, 6, 3) and y is None
    assert data.directory_arrays(tmp_path, color_mode="grayscale")[0].shape == (5, 4, 4, 1)
    with pytest.raises(ValueError, match="^labels must be False"):
        data.from_directory(tmp_path, labels=True, batch_size=2)


@pytest.mark.parametrize(
    "setup, kwargs, match",
    [
        ("mixed sizes", {}, "^path must be images of one size"),
        ("broken file", {}, "^path holds broken.png, which is not a readable image"),
        ("empty", {}, "^path must be a folder holding"),
        ("ok", {"color_mode": "cmyk"}, "^color_mode must be one of"),
        ("ok", {"image_size": (8,)}, r"^image_size must be \(height, width\)"),
        ("ok", {"split": "valid"}, "^split must be one of"),
        ("ok", {"test_fraction": 1.0, "split": "test"}, "^test_fraction must be"),
        ("ok", {"test_fraction": 0.01, "split": "test"}, "^test_fraction must be a fraction"),
    ],
)
def test_bad_folders_and_options_name_the_argument(tmp_path, setup, kwargs, match):
    if setup != "empty":
        write_folder(tmp_path, classes=None, per_class=3)
    if setup == "mixed sizes":
        Image.new("L", (9, 9)).save(tmp_path / "big.png")
    if setup == "broken file":
        (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=match):
        data.directory_arrays(tmp_path, **kwargs)


def test_arrays_uint8_and_float_agree_and_match_the_named_loader():
    x, y = data.load_arrays("digits", "train")
    for binarize in (None, "static", "dynamic"):
        options = dict(batch_size=100, binarize=binarize, labels=True, seed=5)
        named = [b for b in data.load("digits", "train", **options).take(3)]
        mine = [b for b in data.from_arrays(x, y, **options).take(3)]
        for (a, la), (b, lb) in zip(named, mine, strict=True):
            assert np.array_equal(a, b) and np.array_equal(la, lb)
    xt, _ = data.load_arrays("digits", "test")
    test = next(iter(data.load("digits", "test", batch_size=360, binarize="dynamic")))
    as_float = next(iter(data.from_arrays(xt / 255.0, split="test", batch_size=360)))
    assert np.allclose(as_float * 255.0, xt, atol=1e-3)
    same = next(iter(data.from_arrays(xt, split="test", batch_size=360, binarize="dynamic")))
    assert np.array_equal(test, same)  # the test split's one fixed binarization


@pytest.mark.parametrize(
    "x, match",
    [
        (np.full([2, 4, 4, 1], 1.5, np.float32), r"got floats in \[1.5, 1.5\]"),
        (np.full([2, 4, 4, 1], np.nan, np.float32), "finite floats"),
        (np.full([2, 4, 4, 1], 3, np.int64), "got dtype int64"),
        (np.zeros([4, 4, 1], np.uint8), r"got shape \[4, 4, 1\]"),
    ],
)
def test_arrays_outside_the_stated_range_are_refused(x, match):
    with pytest.raises(ValueError, match="^x must be .*" + match):
        data.from_arrays(x, batch_size=2)


def test_tfds_names_are_refused_in_one_line_without_tfds(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import fails
    data._tfds_cached.cache_clear()
    with pytest.raises(
        ValueError, match=r"^name must be a tensorflow-datasets name .*tfds:cifar10"
    ):
        data.load("tfds:cifar10", batch_size=8)


@pytest.mark.slow
def test_a_model_trains_on_a_folder_of_pngs(tmp_path):
    write_folder(tmp_path, shape=(8, 8), classes=("x", "y"), per_class=16)
    ds = data.from_directory(tmp_path, batch_size=8, binarize="dynamic", test_fraction=0.25)
    model = models.NADE(event_shape=(8, 8, 1), hidden_units=16, seed=0)
    model.compile(optimizer="adam")
    history = model.fit(ds, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    test = data.from_directory(tmp_path, "test", batch_size=8, binarize="dynamic")
    assert np.isfinite(model.evaluate(test, verbose=0, return_dict=True)["loss"])


@pytest.mark.slow
def test_cli_trains_a_preset_on_a_folder_and_samples_from_it(tmp_path):
    import json

    from zoo import cli

    folder = tmp_path / "pngs"
    write_folder(folder, shape=(8, 8), classes=("x", "y"), per_class=20)
    work = tmp_path / "run"
    argv = ["train", "nade_fast_binarized_fashion_mnist", "--dataset", str(folder)]
    assert cli.main([*argv, "--epochs", "1", "--workdir", str(work)]) == 0
    run = json.loads((work / "run.json").read_text())
    assert run["train"]["dataset"] == str(folder)  # the source is recorded
    assert (work / "curves.png").stat().st_size > 0  # written after every epoch
    out = tmp_path / "grid.png"
    assert cli.main(["sample", str(work), "--num-samples", "4", "--out", str(out)]) == 0
    grid = np.asarray(Image.open(out))
    assert 16 <= grid.shape[0] < 2 * 28  # a 2x2 grid of 8x8 samples, not of 28x28 ones
    assert cli.main(["train", "nade_fast_binarized_fashion_mnist", "--dataset", "no/such"]) == 2
