"""Layers shared by two or more model families."""

from tfgen.layers.conv import conv_decoder, conv_encoder
from tfgen.layers.gan import ExperienceReplay, MinibatchDiscrimination
from tfgen.layers.masked import MaskedConv2D, causal_mask
from tfgen.layers.priors import LatentPrior
from tfgen.layers.tied import DenseTranspose

__all__ = [
    "DenseTranspose",
    "ExperienceReplay",
    "LatentPrior",
    "MinibatchDiscrimination",
    "MaskedConv2D",
    "causal_mask",
    "conv_decoder",
    "conv_encoder",
]
