"""Layers shared by two or more model families."""

from tfgen.layers.conv import conv_decoder, conv_encoder
from tfgen.layers.priors import LatentPrior

__all__ = ["LatentPrior", "conv_decoder", "conv_encoder"]
