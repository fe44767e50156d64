"""tfgen.data on the real offline files (Debian's Fashion-MNIST, scikit-learn's digits)."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tfgen import data

HAVE_FASHION = os.path.isdir(data.DEBIAN_DIRS["fashion_mnist"]) or bool(
    os.environ.get("TFGEN_DATA_DIR")
)
needs_fashion = pytest.mark.skipif(
    not HAVE_FASHION and not os.environ.get("CI"),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist); required in CI",
)


@needs_fashion
def test_fashion_mnist_real_files():
    x, y = data.load_arrays("fashion_mnist", "train")
    assert x.shape == (60000, 28, 28, 1) and x.dtype == np.uint8
    assert y.shape == (60000,) and set(np.unique(y)) == set(range(10))
    assert np.bincount(y).tolist() == [6000] * 10  # the published class balance
    xt, yt = data.load_arrays("fashion_mnist", "test")
    assert xt.shape == (10000, 28, 28, 1) and np.bincount(yt).tolist() == [1000] * 10
    assert 70 < x.mean() < 80  # published mean intensity of the training images: 72.94
    ds = data.load("fashion_mnist", "test", batch_size=1000, binarize="static", labels=True)
    bx, by = next(iter(ds))
    assert bx.shape == (1000, 28, 28, 1) and bx.dtype == tf.float32 and by.dtype == tf.int32
    np.testing.assert_array_equal(bx.numpy(), (xt[:1000] / 255.0 > 0.5).astype(np.float32))
    np.testing.assert_array_equal(by.numpy(), yt[:1000])


def test_digits_split_and_scaling():
    x, y = data.load_arrays("digits", "train")
    xt, yt = data.load_arrays("digits", "test")
    assert x.shape == (1437, 8, 8, 1) and xt.shape == (360, 8, 8, 1)
    assert x.max() == 255 and x.min() == 0 and set(np.unique(y)) == set(range(10))
    assert data.event_shape("digits") == (8, 8, 1) and data.num_classes("digits") == 10


def test_unbatched_elements_and_scale():
    ds = data.load("digits", "test", scale=(-1.0, 1.0))
    x = next(iter(ds))
    assert x.shape == (8, 8, 1)
    xs = np.stack([e.numpy() for e in ds])
    raw, _ = data.load_arrays("digits", "test")
    np.testing.assert_allclose(xs, raw / 255.0 * 2 - 1, atol=1e-6)


def test_shuffle_is_seeded_and_reshuffles_each_epoch():
    def labels_of(ds):
        return np.concatenate([y.numpy() for _, y in ds])

    a = data.load("digits", "train", batch_size=100, labels=True, seed=3)
    b = data.load("digits", "train", batch_size=100, labels=True, seed=3)
    first, second = labels_of(a), labels_of(a)
    np.testing.assert_array_equal(first, labels_of(b))  # same seed, same order
    assert not np.array_equal(first, second)  # a new order every epoch
    assert sorted(first.tolist()) == sorted(data.load_arrays("digits", "train")[1].tolist())
    test = data.load("digits", "test", batch_size=100, labels=True)
    np.testing.assert_array_equal(labels_of(test), data.load_arrays("digits", "test")[1])


def test_static_binarization_thresholds_at_half():
    x = np.concatenate(
        [b.numpy() for b in data.load("digits", "test", batch_size=64, binarize="static")]
    )
    raw, _ = data.load_arrays("digits", "test")
    np.testing.assert_array_equal(x, (raw / 255.0 > 0.5).astype(np.float32))


def test_dynamic_binarization_resamples_train_and_fixes_test():
    raw, _ = data.load_arrays("digits", "train")
    train = data.load("digits", "train", batch_size=1437, binarize="dynamic", shuffle=False, seed=0)
    e1, e2 = next(iter(train)).numpy(), next(iter(train)).numpy()
    assert set(np.unique(e1)) == {0.0, 1.0}
    assert not np.array_equal(e1, e2)  # resampled every epoch
    # unbiased: the mean of the binary images matches the mean intensity
    assert abs(e1.mean() - raw.mean() / 255) < 0.01
    again = data.load("digits", "train", batch_size=1437, binarize="dynamic", shuffle=False, seed=0)
    np.testing.assert_array_equal(next(iter(again)).numpy(), e1)  # reproducible from the seed
    t64 = np.concatenate(
        [b.numpy() for b in data.load("digits", "test", batch_size=64, binarize="dynamic")]
    )
    t7 = np.concatenate(
        [b.numpy() for b in data.load("digits", "test", batch_size=7, binarize="dynamic")]
    )
    np.testing.assert_array_equal(t64, t7)  # one fixed sample, whatever the batching
    t64b = np.concatenate(
        [b.numpy() for b in data.load("digits", "test", batch_size=64, binarize="dynamic")]
    )
    np.testing.assert_array_equal(t64, t64b)


def test_synthetic_is_deterministic_with_four_classes():
    x, y = data.load_arrays("synthetic", "train")
    x2, _ = data.load_arrays("synthetic", "train")
    assert x.shape == (512, 8, 8, 1) and set(np.unique(y)) == {0, 1, 2, 3}
    np.testing.assert_array_equal(x, x2)


@pytest.mark.parametrize(
    "kwargs, arg",
    [
        ({"name": "cifar"}, "name"),
        ({"name": "digits", "split": "valid"}, "split"),
        ({"name": "digits", "binarize": "otsu"}, "binarize"),
        ({"name": "digits", "batch_size": 0}, "batch_size"),
        ({"name": "digits", "scale": (1, -1)}, "scale"),
    ],
)
def test_bad_arguments_name_the_argument_and_choices(kwargs, arg):
    with pytest.raises(ValueError, match=f"^{arg}"):
        data.load(**kwargs)


def test_missing_dataset_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("TFGEN_DATA_DIR", str(tmp_path))
    monkeypatch.setitem(data.DEBIAN_DIRS, "mnist", str(tmp_path / "absent"))
    monkeypatch.setattr(data, "_load_tfds", lambda name, split: None)
    data._load_arrays_cached.cache_clear()
    with pytest.raises(data.DatasetNotFoundError, match="TFGEN_DATA_DIR"):
        data.load_arrays("mnist", "train")


def test_idx_files_from_tfgen_data_dir(tmp_path, monkeypatch):
    """IDX files (gzipped or not) in $TFGEN_DATA_DIR/mnist are found and parsed."""
    import gzip

    images = np.arange(3 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(3, 28, 28)
    labels = np.array([4, 1, 9], np.uint8)
    folder = tmp_path / "mnist"
    folder.mkdir()
    header = np.array([0x803, 3, 28, 28], ">u4").tobytes()
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(header + images.tobytes())
    (folder / "t10k-labels-idx1-ubyte").write_bytes(
        np.array([0x801, 3], ">u4").tobytes() + labels.tobytes()
    )
    monkeypatch.setenv("TFGEN_DATA_DIR", str(tmp_path))
    data._load_arrays_cached.cache_clear()
    x, y = data.load_arrays("mnist", "test")
    data._load_arrays_cached.cache_clear()
    np.testing.assert_array_equal(x[..., 0], images)
    np.testing.assert_array_equal(y, labels)
