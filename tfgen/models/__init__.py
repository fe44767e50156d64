"""tfgen models: one family per module, all Keras 3 models with TFP likelihoods.

Bases (for your own families): :class:`GenerativeModel`, :class:`LossModel` (per-example
objectives: autoencoders), :class:`DensityModel` (``log_prob``), :class:`AdversarialModel`
(alternating updates), and the mixins :class:`LatentVariableMixin`, :class:`LatentSpaceMixin`,
:class:`AutoregressiveMixin`.
"""

from tfgen.models.aae import AAE, AdversarialAutoencoder
from tfgen.models.adversarial import AdversarialModel, AdversarialPhase
from tfgen.models.autoencoder import Autoencoder, greedy_layerwise
from tfgen.models.autoencoder_base import AutoencoderBase
from tfgen.models.autoregressive import AutoregressiveMixin
from tfgen.models.base import DensityModel, GenerativeModel, LossModel
from tfgen.models.conv_autoencoder import ConvAutoencoder
from tfgen.models.cvae import CVAE, ConditionalVAE
from tfgen.models.dcgan import DCGAN
from tfgen.models.gan import GAN, GANBase
from tfgen.models.gated_pixelcnn import GatedPixelCNN
from tfgen.models.independent import IndependentBernoulli
from tfgen.models.latent import LatentSpaceMixin, LatentVariableMixin
from tfgen.models.nade import NADE
from tfgen.models.nade_base import NADEBase
from tfgen.models.pixelcnn import PixelCNN, PixelCNNBase
from tfgen.models.pixelrnn import PixelRNN
from tfgen.models.raster import RasterAutoregressiveModel
from tfgen.models.recurrent_autoencoder import RecurrentAutoencoder
from tfgen.models.rnade import RNADE
from tfgen.models.vae import VAE

__all__ = [
    "AAE",
    "AdversarialAutoencoder",
    "AdversarialModel",
    "AdversarialPhase",
    "Autoencoder",
    "AutoencoderBase",
    "AutoregressiveMixin",
    "CVAE",
    "ConditionalVAE",
    "ConvAutoencoder",
    "DCGAN",
    "DensityModel",
    "GAN",
    "GANBase",
    "GatedPixelCNN",
    "GenerativeModel",
    "IndependentBernoulli",
    "LatentSpaceMixin",
    "LatentVariableMixin",
    "LossModel",
    "NADE",
    "NADEBase",
    "PixelCNN",
    "PixelCNNBase",
    "PixelRNN",
    "RNADE",
    "RasterAutoregressiveModel",
    "RecurrentAutoencoder",
    "VAE",
    "greedy_layerwise",
]
