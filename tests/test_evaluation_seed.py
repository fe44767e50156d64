"""Test figures depend on the weights and the evaluation seed only: ``evaluate_model`` reseeds
the model's random stream (a VAE's ELBO draws codes), so a shipped model reloaded elsewhere gives
its record's figures whatever its stream did before."""

import numpy as np
import pytest

import zoo
from tfgen.models import VAE
from zoo import evaluation

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def test_reseed_restarts_the_stream_where_a_model_with_that_seed_starts_it():
    a, b = (
        VAE(event_shape=(8, 8, 1), latent_dim=2, seed=3),
        VAE(event_shape=(8, 8, 1), latent_dim=2),
    )
    b.set_weights(a.get_weights())
    first = a.sample(4).numpy()
    b.sample(9)  # b's stream has moved on
    b.reseed(3)
    np.testing.assert_array_equal(b.sample(4).numpy(), first)
    assert not np.array_equal(b.sample(4).numpy(), first)  # and moves on from there


@pytest.mark.parametrize("seed", [1.5, "0", None])
def test_reseed_refuses_a_seed_that_is_not_an_int(seed):
    with pytest.raises(ValueError, match="seed"):
        VAE(event_shape=(8, 8, 1), latent_dim=2).reseed(seed)


def test_evaluate_model_gives_the_same_elbo_whatever_the_stream_did_before():
    preset = zoo.get("vae_fast_fashion_mnist").with_train(dataset="digits", mixed_precision=None)
    model = zoo.build(preset, event_shape=(8, 8, 1))
    first = evaluation.evaluate_model(model, preset.train, max_examples=64)
    model.sample(100)  # moves the model's stream on
    again = evaluation.evaluate_model(model, preset.train, max_examples=64)
    assert again["elbo"] == first["elbo"] and again["kl"] == first["kl"]
    other = evaluation.evaluate_model(model, preset.train, max_examples=64, seed=1)
    assert other["elbo"] != first["elbo"]  # the ELBO is a one-draw estimate: the seed matters
