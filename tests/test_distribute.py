"""tfgen.distribute (strategy by name, the chief, precision and XLA choices) and one train step
under MirroredStrategy over two logical CPUs against one device."""

import json
import textwrap

import numpy as np
import pytest

from tfgen import distribute
from tfgen.testing.isolated import run_isolated
from zoo import cli

CLUSTER = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}


@pytest.mark.parametrize(
    ("config", "chief", "name"),
    [
        ({}, True, "chief"),
        ({"cluster": CLUSTER, "task": {"type": "worker", "index": 0}}, True, "worker_0"),
        ({"cluster": CLUSTER, "task": {"type": "worker", "index": 1}}, False, "worker_1"),
        (
            {"cluster": {"chief": ["a:1"], **CLUSTER}, "task": {"type": "worker", "index": 0}},
            False,
            "worker_0",
        ),
        ({"cluster": {"chief": ["a:1"]}, "task": {"type": "chief", "index": 0}}, True, "chief_0"),
    ],
)
def test_the_chief_is_task_chief_else_worker_0(config, chief, name):
    assert distribute.is_chief(config) is chief
    assert distribute.worker_name(config) == name


def test_tf_config_is_read_from_the_environment_and_must_be_a_json_object():
    config = {"cluster": CLUSTER, "task": {"type": "worker", "index": 1}}
    assert distribute.tf_config({"TF_CONFIG": json.dumps(config)}) == config
    assert distribute.tf_config({}) == {}
    with pytest.raises(ValueError, match="^TF_CONFIG must be a JSON object"):
        distribute.tf_config({"TF_CONFIG": "[1, 2]"})


def test_bad_choices_name_the_argument_and_the_allowed_values(monkeypatch):
    with pytest.raises(ValueError, match=r"^strategy must be one of \['default', 'mirrored'"):
        distribute.make_strategy("tpu")
    with pytest.raises(ValueError, match=r"^precision must be one of \['float32'"):
        distribute.check_precision("float16")
    with pytest.raises(ValueError, match=r"^jit must be one of \['auto', 'on', 'off'\]"):
        distribute.jit_compile(True)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="multi_worker' needs TF_CONFIG"):
        distribute.make_strategy("multi_worker")
    assert [distribute.jit_compile(m) for m in ("auto", "on", "off")] == ["auto", True, False]
    assert distribute.make_strategy("default").num_replicas_in_sync == 1


def test_one_device_has_the_whole_share_and_is_not_multi_worker():
    assert float(distribute.replica_share(7)) == 1.0
    assert not distribute.in_multi_worker_mode()
    strategy = distribute.make_strategy("default")
    assert distribute.min_over_workers(strategy, 3) == 3
    assert distribute.any_worker(strategy, True) and not distribute.any_worker(strategy, False)


def test_cli_train_flags_accept_only_their_choices(capsys):
    args = cli._parser().parse_args(
        ["train", "x", "--strategy", "multi_worker", "--precision", "mixed_float16", "--jit", "on"]
    )
    assert (args.strategy, args.precision, args.jit) == ("multi_worker", "mixed_float16", "on")
    defaults = cli._parser().parse_args(["train", "x"])
    assert (defaults.strategy, defaults.precision, defaults.jit) == ("default", None, None)
    for flag, value in (("--strategy", "tpu"), ("--precision", "float16"), ("--jit", "yes")):
        with pytest.raises(SystemExit):
            cli._parser().parse_args(["train", "x", flag, value])
        assert "invalid choice" in capsys.readouterr().err


MIRRORED = textwrap.dedent("""
    import os, json
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np, tfgen
    from tfgen.models import DCGAN, GAN, PixelCNN

    class BatchNoiseGAN(GAN):  # noise made from the batch: the same draws on one or two devices
        def _fakes(self, x, labels, training):
            return self._generate(tf.tile(x, [1, self.latent_dim // 2]), labels, training=training)

    # batches of 64 and 63 examples: in the second, replica 0 gets 32 and replica 1 gets 31
    images = next(iter(tfgen.data.load("digits", "train", batch_size=127, binarize="static")))
    points = tf.random.stateless_normal([127, 2], seed=[1, 2])
    sgd = keras.optimizers.SGD
    cases = {
        "pixelcnn": (lambda: PixelCNN(event_shape=(8, 8, 1), num_layers=2, filters=8, seed=0),
                     images, lambda: {"optimizer": sgd(0.5)}),
        "gan": (lambda: BatchNoiseGAN(event_shape=(2,), latent_dim=4, hidden_units=(16,), seed=0),
                points, lambda: {"d_optimizer": sgd(0.5), "g_optimizer": sgd(0.5)}),
    }

    def one_step(name, strategy, weights=None):
        make, x, optimizers = cases[name]
        with strategy.scope():
            model = make()
            model.compile(**optimizers())
        if weights is not None:
            model.set_weights(weights)
        start = model.get_weights()
        data = tf.data.Dataset.from_tensor_slices(x).batch(64)
        logs = model.fit(data, epochs=1, verbose=0).history
        return start, model.get_weights(), {k: v[-1] for k, v in logs.items()}

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {}
    for name in cases:
        start, single, logs1 = one_step(name, tf.distribute.get_strategy())
        _, multi, logs2 = one_step(name, mirrored, start)
        update = max(float(np.max(np.abs(s - w))) for s, w in zip(single, start))
        error = max(float(np.max(np.abs(s - m))) for s, m in zip(single, multi))
        out[name] = {"update": update, "error": error, "logs1": logs1, "logs2": logs2}
    # DCGAN (BatchNormalization statistics per replica): trains with finite losses
    images_gan = images * 2 - 1
    with mirrored.scope():
        dcgan = DCGAN(event_shape=(8, 8, 1), latent_dim=8, generator_filters=(16, 8),
                      discriminator_filters=(8, 16), seed=0)
        dcgan.compile()
    batches = tf.data.Dataset.from_tensor_slices(images_gan).batch(64)
    out["dcgan"] = dcgan.fit(batches, verbose=0).history
    from tfgen.distribute import replica_seed, replica_share

    @tf.function
    def per_replica():
        ctx = lambda: tf.distribute.get_replica_context().replica_id_in_sync_group
        share = lambda: replica_share(tf.cast(ctx(), tf.int32) + 1)  # batches of 1 and 2
        return mirrored.run(lambda: (replica_seed(tf.constant([1, 2])), share()))

    seeds, shares = per_replica()
    out["seeds"] = [v.numpy().tolist() for v in mirrored.experimental_local_results(seeds)]
    out["shares"] = [float(v) for v in mirrored.experimental_local_results(shares)]
    from tfgen.layers import ReplicaDropout

    with mirrored.scope():
        dropout = ReplicaDropout(0.5, seed=0)
    masks = tf.function(lambda: mirrored.run(lambda: dropout(tf.ones([64]), training=True)))()
    out["masks"] = [v.numpy().tolist() for v in mirrored.experimental_local_results(masks)]
    print(json.dumps(out))
""")


@pytest.mark.slow
def test_mirrored_steps_over_two_cpus_equal_one_device_at_the_same_global_batch():
    """A density model (PixelCNN) and an adversarial model (GAN, both phases) take SGD steps on
    global batches of 64 and 63 (32 + 31 per replica): the updated weights agree to 1e-4 of the
    update's size (float32 sums in another order), and so do the reported epoch metrics."""
    result = run_isolated(MIRRORED)
    for name in ("pixelcnn", "gan"):
        case = result[name]
        assert case["update"] > 1e-3, case  # the step moved the weights
        assert case["error"] < 1e-4 * case["update"] + 1e-7, (name, case)
        assert case["logs1"].keys() == case["logs2"].keys()
        for key, value in case["logs1"].items():
            np.testing.assert_allclose(case["logs2"][key], value, rtol=1e-5, err_msg=key)
    assert all(np.isfinite(v).all() for v in result["dcgan"].values()), result["dcgan"]
    seeds = result["seeds"]  # distribute.replica_seed: each replica its own stateless seed
    assert len(seeds) == 2 and seeds[0] != seeds[1], seeds
    np.testing.assert_allclose(result["shares"], [1 / 3, 2 / 3], rtol=1e-6)
    masks = result["masks"]  # dropout (the DCGAN discriminator's): its own mask per replica
    assert len(masks) == 2 and masks[0] != masks[1] and {0.0, 2.0} == set(masks[0])


@pytest.mark.slow
def test_gpu_check_prints_images_per_second_per_preset_and_precision(capsys):
    from zoo import gpu_check

    preset = "independent_bernoulli_binarized_fashion_mnist"
    argv = ["--presets", preset, "--precisions", "float32", "--steps", "2", "--warmup", "1"]
    assert gpu_check.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("devices: ")
    row = [c.strip() for c in lines[-1].split("|")]
    assert row[:4] == [preset, "float32", "500", "2"] and float(row[4]) > 0, lines
