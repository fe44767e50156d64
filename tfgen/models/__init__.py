"""tfgen models: one family per module, all Keras 3 models with TFP likelihoods."""

from tfgen.models.base import DensityModel, GenerativeModel
from tfgen.models.latent import LatentVariableMixin
from tfgen.models.vae import VAE

__all__ = ["VAE", "DensityModel", "GenerativeModel", "LatentVariableMixin"]
