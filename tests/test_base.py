"""The core every family builds on: LossModel's step, DensityModel's default objective, metric
tracking, GenerativeModel's argument errors, tfgen.models.inputs and tfgen.checks (fuzzed)."""

import math
import numbers

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from tfgen import checks
from tfgen.models.base import DensityModel, GenerativeModel, LossModel
from tfgen.models.inputs import check_labels, seed_pair, validate_event_shape

X = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0]], np.float32)


class ToyLoss(LossModel):
    """Squared distance of ``x`` (two values) to a learned centre, with an L2 penalty on it."""

    metric_names = ("loss", "abs_error")

    def __init__(self, **kwargs):
        super().__init__(event_shape=(1, 1, 2), **kwargs)
        self.center = self.add_weight(
            shape=(2,),
            initializer="ones",
            regularizer=keras.regularizers.L2(0.25),
            name="center",
        )
        self.built = True

    def compute_terms(self, x, labels=None, training=False):
        d = tf.reshape(x, [-1, 2]) - self.center
        return {"loss": tf.reduce_sum(d**2, -1), "abs_error": tf.reduce_sum(tf.abs(d), -1)}


class ToyDensity(DensityModel):
    """Independent Bernoulli pixels ``(1, 1, 2)`` with learned logits."""

    def __init__(self, **kwargs):
        super().__init__(event_shape=(1, 1, 2), **kwargs)
        self.logits = self.add_weight(
            shape=(2,), initializer=keras.initializers.Constant([0.5, -1.0]), name="logits"
        )
        self.built = True

    def log_prob(self, x, labels=None):
        x = tf.reshape(tf.convert_to_tensor(x, tf.float32), [-1, 2])
        log_p = x * tf.math.log_sigmoid(self.logits) + (1 - x) * tf.math.log_sigmoid(-self.logits)
        return tf.reduce_sum(log_p, -1)


def images(x):
    return tf.reshape(tf.constant(x), [-1, 1, 1, 2])


def toy_log_prob(x, logits=(0.5, -1.0)):
    p = 1 / (1 + np.exp(-np.asarray(logits)))
    return np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)


# ------------------------------------------------------------------------------------ LossModel
def test_loss_model_step_is_the_closed_form_sgd_step_with_named_metrics():
    model = ToyLoss()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    assert model.optimizer_names == ("optimizer",)
    assert [m.name for m in model.metrics] == ["loss", "abs_error"]
    history = model.fit(images(X), batch_size=5, epochs=1, verbose=0, shuffle=False).history
    assert set(history) == {"loss", "abs_error"}
    c = np.ones(2)
    # loss = mean_i |x_i - c|^2 + 0.25 |c|^2, reported before the update
    expected_loss = np.mean(np.sum((X - c) ** 2, -1)) + 0.25 * np.sum(c**2)
    np.testing.assert_allclose(history["loss"][0], expected_loss, rtol=1e-6)
    np.testing.assert_allclose(history["abs_error"][0], np.mean(np.abs(X - c).sum(-1)), rtol=1e-6)
    grad = -2 * np.mean(X - c, axis=0) + 0.5 * c
    np.testing.assert_allclose(model.center.numpy(), c - 0.1 * grad, rtol=1e-6)


def test_loss_model_evaluate_does_not_update():
    model = ToyLoss()
    model.compile()
    logs = model.evaluate(images(X), batch_size=5, verbose=0, return_dict=True)
    np.testing.assert_array_equal(model.center.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(logs["loss"], np.mean(np.sum((X - 1) ** 2, -1)) + 0.5, rtol=1e-6)


# ------------------------------------------------------------------------------------ DensityModel
def test_density_model_default_objective_is_minus_log_prob():
    model = ToyDensity()
    assert model.metric_names == ("loss", "bits_per_dim")
    terms = model.compute_terms(images(X))
    np.testing.assert_allclose(terms["loss"], -toy_log_prob(X), rtol=1e-6)
    np.testing.assert_allclose(terms["bits_per_dim"], -toy_log_prob(X) / (2 * math.log(2)))
    np.testing.assert_allclose(model.bits_per_dim(images(X)), terms["bits_per_dim"], rtol=1e-6)


def test_density_model_fit_maximises_log_prob():
    model = ToyDensity()
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    before = float(np.mean(model.log_prob(images(X))))
    history = model.fit(images(X), batch_size=5, epochs=3, verbose=0, shuffle=False).history
    assert set(history) == {"loss", "bits_per_dim"}
    np.testing.assert_allclose(history["loss"][0], -before, rtol=1e-6)
    assert float(np.mean(model.log_prob(images(X)))) > before
    assert history["loss"][-1] < history["loss"][0]


# ------------------------------------------------------------------------------------ tracking
def test_track_weights_batch_means_by_batch_size_like_per_example_values():
    values = np.arange(7, dtype=np.float32) ** 2
    batches = [values[:4], values[4:6], values[6:]]  # uneven: 4, 2, 1
    by_mean, by_example = ToyLoss(), ToyLoss()
    for b in batches:
        mean_logs = by_mean._track({"loss": tf.reduce_mean(b)}, len(b))
        example_logs = by_example._track({"loss": tf.constant(b)}, len(b))
    assert set(mean_logs) == set(example_logs) == {"loss"}  # only the names given
    np.testing.assert_allclose(mean_logs["loss"], values.mean(), rtol=1e-6)
    np.testing.assert_allclose(example_logs["loss"], values.mean(), rtol=1e-6)
    assert not np.isclose(np.mean([b.mean() for b in batches]), values.mean())  # not trivial
    with pytest.raises(ValueError, match="metric 'kl' is not in metric_names"):
        by_mean._track({"kl": tf.constant(1.0)}, 1)


def test_evaluate_on_uneven_batches_is_the_per_example_mean():
    model = ToyDensity()
    model.compile()
    logs = model.evaluate(images(X), batch_size=2, verbose=0, return_dict=True)  # 2, 2, 1
    np.testing.assert_allclose(logs["loss"], -toy_log_prob(X).mean(), rtol=1e-6)


# ------------------------------------------------------------------------------------ arguments
@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 2.0}, "num_classes"),
        ({"num_classes": True}, "num_classes"),
        ({"seed": "0"}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"event_shape": (8, 8)}, "event_shape"),
        ({"event_shape": (8, 0, 1)}, "event_shape"),
        ({"event_shape": "abc"}, "event_shape"),
        ({"event_shape": None}, "event_shape"),
    ],
)
def test_generative_model_argument_errors(kwargs, name):
    with pytest.raises(ValueError) as error:
        GenerativeModel(**{"event_shape": (2, 2, 1), **kwargs})
    message = str(error.value)
    assert message.startswith(f"{name} must be ") and "; got " in message, message


def test_generative_model_arguments_are_attributes():
    model = GenerativeModel(event_shape=[4, 3, 2], num_classes=np.int64(3), seed=7)
    assert model.event_shape == (4, 3, 2) and model.num_dims == 24
    assert model.num_classes == 3 and model.conditional and model.seed == 7
    assert not GenerativeModel(event_shape=(1, 1, 1)).conditional


def test_sample_labels_are_uniform_draws_from_the_seed():
    model = GenerativeModel(event_shape=(1, 1, 1), num_classes=4)
    seed = model._seed(3)
    drawn = model._sample_labels(None, 400, seed).numpy()
    np.testing.assert_array_equal(drawn, model._sample_labels(None, 400, model._seed(3)))
    counts = np.bincount(drawn, minlength=4)
    assert counts.sum() == 400 and counts.min() > 60, counts  # each ~100
    np.testing.assert_array_equal(model._sample_labels([3, 0], 2, seed), [3, 0])
    assert GenerativeModel(event_shape=(1, 1, 1))._sample_labels(None, 4, seed) is None
    with pytest.raises(ValueError, match="^seed must be"):
        model._seed("3")
    with pytest.raises(ValueError, match="^num_samples must be"):
        model._check_num_samples(0)


# ------------------------------------------------------------------------------------ inputs
def test_inputs_helpers():
    assert validate_event_shape([2, np.int32(3)], ranks=(2,)) == (2, 3)
    with pytest.raises(ValueError, match=r"^event_shape must be 1 or 3 positive ints"):
        validate_event_shape((2, 2), ranks=(1, 3))
    np.testing.assert_array_equal(seed_pair(3), seed_pair(tf.constant(3)))
    assert not np.array_equal(seed_pair(3), seed_pair(4))
    assert check_labels(None, None) is None
    with pytest.raises(ValueError, match="unconditional"):
        check_labels([0], None)
    with pytest.raises(ValueError, match="labels are required"):
        check_labels(None, 3)
    with pytest.raises(ValueError, match="^labels must have 2 entries"):
        check_labels([0, 1, 2], 3, num=2)
    with pytest.raises(ValueError, match=r"^labels must lie in \[0, 3\); got \[-1, 5\]"):
        check_labels([5, -1, 0], 3)
    traced = tf.function(lambda labels: check_labels(labels, 3))
    np.testing.assert_array_equal(traced(tf.constant([0, 2])), [0, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels must be < num_classes"):
        traced(tf.constant([0, 3]))


# ------------------------------------------------------------------------------------ checks
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-5, 5).map(np.int64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.integers(-3, 3), max_size=3),
)
SEQUENCES = st.one_of(
    st.lists(st.one_of(st.integers(-3, 5), st.booleans(), st.floats(-2, 5)), max_size=4),
    st.tuples(st.integers(-3, 5), st.integers(-3, 5)),
    ANYTHING,
)
BOUND = st.one_of(st.none(), st.floats(-10, 10))


def assert_error_shape(error: ValueError, name: str, value) -> None:
    message = str(error)
    assert message.startswith(f"{name} must be "), message
    assert message.endswith(f"; got {value!r}"), message


def is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@settings(max_examples=150, deadline=None)
@given(value=ANYTHING)
def test_positive_int_normalises_or_names_the_argument(value):
    try:
        result = checks.positive_int("width", value)
    except ValueError as error:
        assert not (is_integer(value) and value >= 1), value
        assert_error_shape(error, "width", value)
    else:
        assert is_integer(value) and value >= 1
        assert type(result) is int and result == value


@settings(max_examples=150, deadline=None)
@given(value=ANYTHING, low=BOUND, high=BOUND, low_open=st.booleans(), high_open=st.booleans())
def test_number_in_normalises_or_names_the_argument(value, low, high, low_open, high_open):
    real = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value
    inside = real and (low is None or (value > low if low_open else value >= low))
    inside = inside and (high is None or (value < high if high_open else value <= high))
    try:
        result = checks.number_in("rate", value, low, high, low_open=low_open, high_open=high_open)
    except ValueError as error:
        assert not inside, (value, low, high)
        assert_error_shape(error, "rate", value)
    else:
        assert inside and type(result) is float and result == float(value)


@settings(max_examples=150, deadline=None)
@given(values=SEQUENCES, allow_empty=st.booleans())
def test_positive_ints_normalises_or_names_the_argument(values, allow_empty):
    valid = isinstance(values, (list, tuple)) and (allow_empty or len(values) > 0)
    valid = valid and all(is_integer(v) and v >= 1 for v in values)
    try:
        result = checks.positive_ints("units", values, allow_empty=allow_empty)
    except ValueError as error:
        assert not valid, values
        assert_error_shape(error, "units", values)
    else:
        assert valid and result == tuple(values) and all(type(v) is int for v in result)


def test_other_checks():
    assert checks.int_at_least("size", 0, 0) == 0
    assert checks.optional_positive_int("n", None) is None
    assert checks.odd_int("kernel_size", np.int64(5), 3) == 5
    assert checks.one_of("kind", "a", ("a", "b")) == "a"
    assert checks.positive_number("scale", 2) == 2.0
    for call, name in [
        (lambda: checks.int_at_least("size", -1, 0), "size"),
        (lambda: checks.optional_positive_int("n", 0), "n"),
        (lambda: checks.odd_int("kernel_size", 4, 3), "kernel_size"),
        (lambda: checks.odd_int("kernel_size", 1, 3), "kernel_size"),
        (lambda: checks.one_of("kind", "c", ("a", "b")), "kind"),
        (lambda: checks.positive_number("scale", 0.0), "scale"),
    ]:
        with pytest.raises(ValueError, match=f"^{name} must be .*; got "):
            call()
