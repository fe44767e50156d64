"""AdversarialModel: phase order, compile defaults/state, trackers, replica scaling, resume."""

import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgen.testing.isolated import run_isolated

# A deterministic two-player logistic toy: D(x) = w x + c, the "generator" is a learned point b.
# Shared verbatim with the MirroredStrategy subprocess below.
TOY = textwrap.dedent("""
    import keras, numpy as np, tensorflow as tf
    from tfgen.models.adversarial import AdversarialModel, AdversarialPhase

    @keras.saving.register_keras_serializable(package="tfgen_tests")
    class ToyGAN(AdversarialModel):
        event_ranks = (1,)
        metric_names = ("d_loss", "g_loss", "ae_loss")

        def __init__(self, third_phase=False, **kwargs):
            super().__init__(event_shape=(1,), **kwargs)
            self.third_phase = third_phase
            self.w = self.add_weight(shape=(), initializer="ones", name="w")
            self.c = self.add_weight(shape=(), initializer="zeros", name="c")
            self.b = self.add_weight(shape=(), initializer=keras.initializers.Constant(-1.0),
                                     name="b")
            self.built = True

        discriminator_variables = property(lambda self: [self.w, self.c])
        generator_variables = property(lambda self: [self.b])

        def call(self, x):
            logits = self.w * tf.cast(x[:, 0], self.compute_dtype) + self.c
            return tf.cast(logits, tf.float32)

        def discriminator_loss(self, x, labels=None, training=False):
            real = tf.nn.softplus(-self(x))
            fake = tf.nn.softplus(self.w * self.b + self.c)
            loss = tf.reduce_mean(real) + fake
            return loss, {"d_loss": loss}

        def generator_loss(self, x, labels=None, training=False):
            loss = tf.nn.softplus(-(self.w * self.b + self.c))
            return loss, {"g_loss": loss}

        def ae_loss(self, x, labels=None, training=False):  # a third phase, own optimizer
            loss = tf.reduce_mean((x[:, 0] - self.b) ** 2)
            return loss, {"ae_loss": loss}

        def phases(self):
            extra = [AdversarialPhase("reconstruction", "ae_optimizer", [self.b], self.ae_loss)]
            return (extra if self.third_phase else []) + super().phases()

        def get_config(self):
            return {**super().get_config(), "third_phase": self.third_phase}

        @classmethod
        def from_config(cls, config):
            config = dict(config)
            config.pop("event_shape", None)
            return cls(**config)

    def expected_sgd_step(x, lr):
        # one D step then one G step (with the updated D), from w=1, c=0, b=-1
        sig = lambda t: 1 / (1 + np.exp(-t))
        w, c, b = 1.0, 0.0, -1.0
        d_real, d_fake = w * x + c, w * b + c
        gw = np.mean(-sig(-d_real) * x) + sig(d_fake) * b
        gc = np.mean(-sig(-d_real)) + sig(d_fake)
        w, c = w - lr * gw, c - lr * gc
        gb = -sig(-(w * b + c)) * w
        return np.array([w, c, b - lr * gb])
""")
_namespace: dict = {}
exec(TOY, _namespace)
ToyGAN, expected_sgd_step = _namespace["ToyGAN"], _namespace["expected_sgd_step"]

X = np.array([[0.5], [1.0], [1.5], [3.0]], np.float32)


def data(repeat=1):
    return tf.data.Dataset.from_tensor_slices(X).batch(4).repeat(repeat)


def params(model):
    return np.array([float(model.w.numpy()), float(model.c.numpy()), float(model.b.numpy())])


def test_one_step_runs_discriminator_then_generator_with_their_optimizers():
    model = ToyGAN()
    model.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
    logs = model.fit(data(), epochs=1, verbose=0).history
    np.testing.assert_allclose(params(model), expected_sgd_step(X[:, 0], 0.5), rtol=1e-5)
    assert set(logs) == {"d_loss", "g_loss"}  # only the trackers that received values report
    assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 1
    assert model.optimizer is model.d_optimizer  # Keras callbacks read the first phase's optimizer


def test_compile_defaults_are_dcgan_adam_built_on_each_phases_variables():
    model = ToyGAN()
    model.compile()
    for name, variables in (("d_optimizer", 2), ("g_optimizer", 1)):
        opt = getattr(model, name)
        assert isinstance(opt, keras.optimizers.Adam) and opt.built
        assert float(opt.learning_rate) == pytest.approx(2e-4) and opt.beta_1 == 0.5
        # Adam: iterations + learning rate + 2 moments per variable of its phase only
        assert len(opt._trainable_variables) == variables
    assert model.d_optimizer is not model.g_optimizer


def test_compile_rejects_a_single_optimizer_losses_and_unknown_phases():
    model = ToyGAN()
    with pytest.raises(ValueError, match="optimizer"):
        model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="loss"):
        model.compile(loss="mse")
    with pytest.raises(ValueError, match="ae_optimizer"):
        model.compile(ae_optimizer="adam")  # no reconstruction phase unless third_phase=True
    with pytest.raises(ValueError, match="reconstruction"):
        model._phase("reconstruction")


def test_test_step_reports_losses_without_updating():
    model = ToyGAN()
    model.compile()
    before = params(model)
    logs = model.evaluate(data(), verbose=0, return_dict=True)
    np.testing.assert_array_equal(params(model), before)
    d_loss, _ = model.discriminator_loss(X)
    g_loss, _ = model.generator_loss(X)
    np.testing.assert_allclose([logs["d_loss"], logs["g_loss"]], [d_loss, g_loss], rtol=1e-6)


def test_a_subclass_adds_a_phase_with_its_own_optimizer_and_resumes_after_load(tmp_path):
    model = ToyGAN(third_phase=True)
    model.compile(ae_optimizer=keras.optimizers.Adam(0.1), d_optimizer=keras.optimizers.SGD(0.1))
    assert model.optimizer_names == ("ae_optimizer", "d_optimizer", "g_optimizer")
    logs = model.fit(data(2), epochs=1, verbose=0).history
    assert {"ae_loss", "d_loss", "g_loss"} <= set(logs)
    path = str(tmp_path / "toy.keras")
    model.save(path)
    loaded = keras.models.load_model(path)  # no compile(): the compile state is restored
    assert type(loaded) is ToyGAN and loaded.third_phase
    np.testing.assert_array_equal(params(loaded), params(model))
    for name in model.optimizer_names:
        a, b = getattr(model, name), getattr(loaded, name)
        assert type(a) is type(b) and int(b.iterations) == 2, name
        assert float(a.learning_rate) == pytest.approx(float(b.learning_rate))
        for va, vb in zip(a.variables, b.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=name)
    # resuming continues exactly as the original would
    model.fit(data(), epochs=1, verbose=0)
    loaded.fit(data(), epochs=1, verbose=0)
    np.testing.assert_allclose(params(loaded), params(model), rtol=1e-6)
    assert all(int(getattr(loaded, n).iterations) == 3 for n in loaded.optimizer_names)


def test_mixed_float16_wraps_every_optimizer_for_loss_scaling():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = ToyGAN()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    model.compile()
    for name in model.optimizer_names:
        assert isinstance(getattr(model, name), keras.optimizers.LossScaleOptimizer), name
    logs = model.fit(data(), epochs=1, verbose=0).history
    assert np.isfinite(logs["d_loss"][-1]) and np.isfinite(logs["g_loss"][-1])


MIRRORED = TOY + textwrap.dedent("""
    import os, json
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    x = np.array([[0.5], [1.0], [1.5], [3.0]], np.float32)

    def one_step(strategy):
        with strategy.scope():
            model = ToyGAN()
            model.compile(d_optimizer=keras.optimizers.SGD(0.5),
                          g_optimizer=keras.optimizers.SGD(0.5))
        ds = tf.data.Dataset.from_tensor_slices(x).batch(4)
        logs = model.fit(ds, epochs=1, verbose=0).history
        w = [float(v.numpy()) for v in (model.w, model.c, model.b)]
        return w, logs["d_loss"][-1], logs["g_loss"][-1]

    single = one_step(tf.distribute.get_strategy())
    mirrored = one_step(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print(json.dumps({"single": single, "mirrored": mirrored,
                      "expected": expected_sgd_step(x[:, 0], 0.5).tolist()}))
""")


@pytest.mark.slow
def test_mirrored_strategy_step_matches_single_device():
    """Each phase divides its per-replica loss by the replica count (gradients are summed)."""
    result = run_isolated(MIRRORED)
    np.testing.assert_allclose(result["single"][0], result["expected"], rtol=1e-5)
    np.testing.assert_allclose(result["mirrored"][0], result["expected"], rtol=1e-5)
    np.testing.assert_allclose(result["mirrored"][1:], result["single"][1:], rtol=1e-5)


def test_trackers_weight_batch_means_by_batch_size_and_reject_unknown_names():
    model = ToyGAN()
    model.compile()
    assert [m.name for m in model.metrics] == list(ToyGAN.metric_names)
    # batches of 3 and 1: the epoch figure is the per-example mean, not the mean of batch means
    logs = model.evaluate(X, batch_size=3, verbose=0, return_dict=True)
    per_batch = [float(model.discriminator_loss(X[s])[0]) for s in (slice(0, 3), slice(3, 4))]
    np.testing.assert_allclose(logs["d_loss"], (3 * per_batch[0] + per_batch[1]) / 4, rtol=1e-6)
    assert not np.isclose(logs["d_loss"], np.mean(per_batch))

    class Unknown(ToyGAN):
        def generator_loss(self, x, labels=None, training=False):
            loss, _ = super().generator_loss(x, labels, training)
            return loss, {"kl": loss}

    unknown = Unknown()
    unknown.compile()
    with pytest.raises(ValueError, match="metric 'kl' is not in metric_names"):
        unknown.fit(data(), epochs=1, verbose=0)
