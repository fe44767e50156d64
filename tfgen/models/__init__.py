"""tfgen models: one family per module, all Keras 3 models with TFP likelihoods."""

from tfgen.models.aae import AAE, AdversarialAutoencoder
from tfgen.models.base import AdversarialModel, AdversarialPhase, DensityModel, GenerativeModel
from tfgen.models.cvae import CVAE, ConditionalVAE
from tfgen.models.dcgan import DCGAN, GAN, GANBase
from tfgen.models.independent import IndependentBernoulli
from tfgen.models.latent import LatentSpaceMixin, LatentVariableMixin
from tfgen.models.nade import NADE
from tfgen.models.pixelcnn import GatedPixelCNN, PixelCNN
from tfgen.models.rnade import RNADE
from tfgen.models.vae import VAE

__all__ = [
    "AAE",
    "AdversarialAutoencoder",
    "AdversarialModel",
    "AdversarialPhase",
    "CVAE",
    "DCGAN",
    "GAN",
    "GANBase",
    "ConditionalVAE",
    "LatentSpaceMixin",
    "VAE",
    "IndependentBernoulli",
    "NADE",
    "RNADE",
    "PixelCNN",
    "GatedPixelCNN",
    "DensityModel",
    "GenerativeModel",
    "LatentVariableMixin",
]
