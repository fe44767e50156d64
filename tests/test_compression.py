"""Code lengths of the input-complexity score: JBIG's context model in closed form equals the
sequential adaptive coder it stands for; PNG sizes are tested in test_anomaly.py."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tfgen.anomaly import JBIG_TEMPLATE, context_bits


def sequential_bits(image: np.ndarray, template) -> float:
    """Codes the pixels one by one in raster order: -log2 of each adaptive KT prediction."""
    on = image[..., 0] > 0.5
    h, w = on.shape
    counts, bits = {}, 0.0
    for i in range(h):
        for j in range(w):
            context = tuple(
                bool(on[i + r, j + c]) if 0 <= i + r < h and 0 <= j + c < w else False
                for r, c in template
            )
            n = counts.setdefault(context, [0, 0])
            v = int(on[i, j])
            bits -= math.log2((n[v] + 0.5) / (n[0] + n[1] + 1.0))
            n[v] += 1
    return bits


@settings(max_examples=25, deadline=None)
@given(arrays(np.float32, (2, 7, 9, 1), elements=st.sampled_from([0.0, 1.0])))
def test_closed_form_equals_the_sequential_coder(x):
    got = context_bits(x).numpy()
    expected = [sequential_bits(image, JBIG_TEMPLATE) for image in x]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_small_template_and_known_lengths():
    rng = np.random.default_rng(1)
    x = (rng.random((3, 6, 5, 1)) < 0.3).astype(np.float32)
    template = ((0, -1), (-1, 0))
    got = context_bits(x, template).numpy()
    np.testing.assert_allclose(got, [sequential_bits(i, template) for i in x], rtol=1e-5)
    blank = context_bits(np.zeros([1, 28, 28, 1]))[0]  # 784 zeros in one context
    assert float(blank) == pytest.approx(math.log2(math.gamma(0.5)) + math.log2(784) / 2, abs=1e-3)


def test_structured_images_are_shorter_than_noise():
    stripes = np.zeros([1, 28, 28, 1], np.float32)
    stripes[:, ::4] = 1.0
    noise = (np.random.default_rng(0).random([1, 28, 28, 1]) < 0.25).astype(np.float32)
    # entropy of the noise: 784 H(0.25) = 636 bits, plus the cost of learning 1024 contexts
    assert context_bits(stripes)[0] < 100 < 636 < context_bits(noise)[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.zeros([2, 4, 4, 3])}, "^x must be binary images of shape"),
        ({"x": np.zeros([4, 4])}, "^x must be binary images of shape"),
        ({"template": ((0, 1),)}, "^template must be 1 to 16 causal"),
        ({"template": ((1, 0),)}, "^template must be 1 to 16 causal"),
        ({"template": ()}, "^template must be 1 to 16 causal"),
        ({"template": tuple((-1, c) for c in range(17))}, "^template must be 1 to 16 causal"),
    ],
)
def test_bad_arguments_fail_in_one_line(kwargs, message):
    args = {"x": np.zeros([1, 4, 4, 1]), **kwargs}
    with pytest.raises(ValueError, match=message) as err:
        context_bits(args.pop("x"), **args)
    assert "\n" not in str(err.value)
