"""tfgen.anomaly: scorers against closed forms, the detector's calibration and files, mutation."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfgen import anomaly
from tfgen.models import VAE, IndependentBernoulli

SHAPE = (4, 4, 1)


def bernoulli_model(seed: int = 0, shape=SHAPE) -> IndependentBernoulli:
    model = IndependentBernoulli(event_shape=shape)
    logits = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    model.logits.assign(logits)
    return model


def closed_form_log_prob(model, x) -> np.ndarray:
    l = model.logits.numpy()[None].astype(np.float64)  # noqa: E741
    log_on, log_off = -np.logaddexp(0, -l), -np.logaddexp(0, l)
    return np.sum(x * log_on + (1 - x) * log_off, axis=(1, 2, 3))


def binary_images(n: int, seed: int = 1, shape=SHAPE) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, *shape)) < 0.4).astype(np.float32)


@pytest.mark.slow
def test_nll_and_bits_per_dim_match_closed_form_for_every_batch_size():
    model, x = bernoulli_model(), binary_images(7)
    expected = -closed_form_log_prob(model, x)
    for batch_size in (3, 500):  # padding of the last batch must not leak
        got = anomaly.NegativeLogLikelihood(model, batch_size=batch_size).score(x)
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    bpd = anomaly.NegativeLogLikelihood(model, bits_per_dim=True).score(x)
    np.testing.assert_allclose(bpd, expected / (16 * math.log(2)), rtol=1e-5)


def test_likelihood_ratio_is_background_minus_model_log_prob():
    model, background, x = bernoulli_model(0), bernoulli_model(1), binary_images(5)
    got = anomaly.LikelihoodRatio(model, background, batch_size=2).score(x)
    expected = closed_form_log_prob(background, x) - closed_form_log_prob(model, x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_png_bits_are_the_encoded_sizes():
    rng = np.random.default_rng(0)
    x = rng.random((3, 6, 5, 1)).astype(np.float32)
    sizes = [len(tf.io.encode_png(np.round(i * 255).astype(np.uint8), compression=9).numpy())
             for i in x]  # fmt: skip
    np.testing.assert_array_equal(anomaly.png_bits(x).numpy(), 8 * np.array(sizes))
    binary = (x > 0.5).astype(np.float32)
    packed = anomaly.png_bits(binary, bit_depth=1).numpy()
    assert np.all(packed < anomaly.png_bits(binary).numpy())
    # packing keeps the information: different images, different 1-bit scanlines
    flipped = binary.copy()
    flipped[0, 0, 0, 0] = 1 - flipped[0, 0, 0, 0]
    assert anomaly.png_bits(binary[:1], 1).shape == (1,) and flipped.sum() != binary.sum()


def test_input_complexity_is_model_bits_minus_code_bits():
    model, x = bernoulli_model(shape=(8, 8, 1)), binary_images(4, shape=(8, 8, 1))
    model_bits = -closed_form_log_prob(model, x) / math.log(2)
    codes = {
        (8, None): anomaly.png_bits(x, 8),
        (1, "png"): anomaly.png_bits(x, 1),
        (1, None): anomaly.context_bits(x),  # binary images: JBIG's context model by default
    }
    for (depth, compressor), code in codes.items():
        scorer = anomaly.InputComplexity(model, bit_depth=depth, compressor=compressor)
        np.testing.assert_allclose(scorer.score(x), model_bits - code, rtol=1e-5)
    with pytest.raises(ValueError, match="^compressor must be 'png' for bit_depth=8"):
        anomaly.InputComplexity(model, bit_depth=8, compressor="context")
    with pytest.raises(ValueError, match="^compressor must be one of"):
        anomaly.InputComplexity(model, bit_depth=1, compressor="zip")


def test_typicality_statistic_fit_and_bootstrap():
    model, x = bernoulli_model(), binary_images(12)
    nll = -closed_form_log_prob(model, x)
    test = anomaly.Typicality(model, group_size=3).fit(x)
    assert test.entropy == pytest.approx(nll.mean(), rel=1e-5)
    expected = np.abs(nll.reshape(4, 3).mean(1) - nll.mean())
    np.testing.assert_allclose(test.score(x), expected, rtol=1e-4, atol=1e-4)
    boot = test.calibration_scores(x, num_batches=50, seed=0)
    assert boot.shape == (50,) and np.all(boot >= 0)
    np.testing.assert_array_equal(boot, test.calibration_scores(x, num_batches=50, seed=0))


@pytest.mark.slow
def test_latent_model_scores_use_importance_samples_and_seed():
    vae = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    x = binary_images(4, shape=(8, 8, 1))
    # the draws depend on the seed and the batch shape: score in one batch of 4 to compare
    scorer = anomaly.NegativeLogLikelihood(vae, importance_samples=3, seed=5, batch_size=4)
    np.testing.assert_allclose(scorer.score(x), scorer.score(x))  # same seed, same estimate
    expected = -vae.log_prob(x, importance_samples=3, seed=5).numpy()
    np.testing.assert_allclose(scorer.score(x), expected, rtol=1e-5)


def test_detector_calibrates_predicts_and_round_trips(tmp_path):
    model = bernoulli_model(shape=(8, 8, 1))
    x_val = binary_images(400, seed=2, shape=(8, 8, 1))
    detector = anomaly.AnomalyDetector(anomaly.InputComplexity(model, bit_depth=1))
    detector.fit(x_val, target_fpr=0.1)
    scores = detector.score(x_val)
    assert np.mean(scores > detector.threshold) <= 0.1
    assert np.mean(scores >= detector.threshold) > 0.1 - 1e-9 or np.all(scores == scores[0])
    x_new = binary_images(30, seed=3, shape=(8, 8, 1))
    flags = detector.predict(x_new)
    assert flags.dtype == bool and flags.shape == (30,)
    loaded = anomaly.AnomalyDetector.load(detector.save(str(tmp_path / "detector")))
    assert loaded.threshold == detector.threshold and loaded.target_fpr == 0.1
    assert loaded.scorer.bit_depth == 1 and loaded.scorer.compressor == "context"
    np.testing.assert_allclose(loaded.score(x_new), detector.score(x_new), rtol=1e-6)
    np.testing.assert_array_equal(loaded.predict(x_new), flags)


def test_detector_with_likelihood_ratio_and_typicality_round_trip(tmp_path):
    model, background = bernoulli_model(0), bernoulli_model(1)
    x = binary_images(200, seed=4)
    lr = anomaly.AnomalyDetector(anomaly.LikelihoodRatio(model, background)).fit(x)
    loaded = anomaly.AnomalyDetector.load(lr.save(str(tmp_path / "lr")))
    np.testing.assert_allclose(loaded.score(x[:5]), lr.score(x[:5]), rtol=1e-6)
    typical = anomaly.Typicality(model, group_size=4).fit(x)
    det = anomaly.AnomalyDetector(typical).fit(x, target_fpr=0.05)
    assert det.predict(x[:8]).shape == (2,)  # one decision per batch of 4
    again = anomaly.AnomalyDetector.load(det.save(str(tmp_path / "typ")))
    assert again.scorer.entropy == typical.entropy and again.threshold == det.threshold


def test_bad_inputs_raise_one_line_errors_naming_the_argument():
    model, x = bernoulli_model(), binary_images(4)
    scorer = anomaly.NegativeLogLikelihood(model)
    with pytest.raises(ValueError, match=r"^x must be images of shape \[N, 4, 4, 1\]"):
        scorer.score(np.zeros([4, 5, 4, 1]))
    with pytest.raises(ValueError, match=r"^x must be finite values in \[0, 1\]"):
        scorer.score(x * 255)
    with pytest.raises(ValueError, match="^background must be a model with event_shape"):
        anomaly.LikelihoodRatio(model, bernoulli_model(shape=(8, 8, 1)))
    with pytest.raises(ValueError, match="^group_size must be an int >= 2"):
        anomaly.Typicality(model, group_size=1)
    with pytest.raises(ValueError, match="^entropy must be estimated first"):
        anomaly.Typicality(model, group_size=2).score(x)
    with pytest.raises(ValueError, match="^x must be a multiple of group_size=3"):
        anomaly.Typicality(model, group_size=3, entropy=1.0).score(x)
    detector = anomaly.AnomalyDetector(scorer)
    with pytest.raises(ValueError, match="^threshold must be calibrated first"):
        detector.predict(x)
    with pytest.raises(ValueError, match="^in_distribution_validation must be at least 100"):
        detector.fit(binary_images(99))
    with pytest.raises(ValueError, match=r"^target_fpr must be a number in \(0.0, 1.0\)"):
        detector.fit(binary_images(200), target_fpr=1.0)
    with pytest.raises(ValueError, match="^method must be one of"):
        anomaly.make_scorer("energy", model)
    with pytest.raises(ValueError, match="^background must be a model for"):
        anomaly.make_scorer("likelihood_ratio", model)
    with pytest.raises(ValueError, match="^scorer must be a tfgen.anomaly.Scorer"):
        anomaly.AnomalyDetector(model)
    for message in ("x must", "background must"):
        assert "\n" not in message


def test_mutate_rates_and_alphabets():
    x = tf.zeros([4, 28, 28, 1])
    np.testing.assert_array_equal(anomaly.mutate(x, 0.0, seed=0), x)
    full = anomaly.mutate(x, 1.0, seed=0).numpy()
    assert set(np.unique(full)) == {0.0, 1.0} and abs(full.mean() - 0.5) < 0.03
    part = anomaly.mutate(x, 0.3, seed=1).numpy()
    assert abs(part.mean() - 0.15) < 0.02  # 30% replaced, half of those by 1
    np.testing.assert_array_equal(part, anomaly.mutate(x, 0.3, seed=1))
    levels = anomaly.mutate(x, 1.0, alphabet="levels", seed=2).numpy() * 255
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-3)
    assert len(np.unique(np.round(levels))) > 200
    with pytest.raises(ValueError, match=r"^rate must be a number in \[0.0, 1.0\]"):
        anomaly.mutate(x, 1.5)


def test_mutated_dataset_differs_between_epochs_and_keeps_labels():
    images = np.zeros([16, 8, 8, 1], np.float32)
    ds = tf.data.Dataset.from_tensor_slices((images, np.arange(16))).batch(8)
    mutated = anomaly.mutated_dataset(ds, 0.5, seed=3)
    first = [(x.numpy(), y.numpy()) for x, y in mutated]
    second = [x.numpy() for x, _ in mutated]
    np.testing.assert_array_equal(first[1][1], np.arange(8, 16))
    assert 0.1 < first[0][0].mean() < 0.4
    assert not np.array_equal(first[0][0], second[0])


def test_l2_penalty_is_the_sum_of_squared_kernels():
    vae = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    anomaly.add_l2_penalty(vae, 1e-3)
    kernels = [v.numpy() for v in vae.trainable_variables if len(v.shape) >= 2]
    expected = 1e-3 * sum(float(np.sum(k**2)) for k in kernels)
    assert float(sum(vae.losses)) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="^l2 must be a positive number"):
        anomaly.add_l2_penalty(vae, 0.0)
