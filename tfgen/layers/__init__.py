"""Layers shared by two or more model families."""

from tfgen.layers.conv import conv_decoder, conv_encoder
from tfgen.layers.dropout import ReplicaDropout
from tfgen.layers.gan import ExperienceReplay, MinibatchDiscrimination
from tfgen.layers.masked import MaskedConv2D, causal_mask
from tfgen.layers.pixel_lstm import DiagonalBiLSTM, RowLSTM
from tfgen.layers.priors import LatentPrior
from tfgen.layers.tied import DenseTranspose

__all__ = [
    "DenseTranspose",
    "DiagonalBiLSTM",
    "ExperienceReplay",
    "LatentPrior",
    "MinibatchDiscrimination",
    "MaskedConv2D",
    "ReplicaDropout",
    "RowLSTM",
    "causal_mask",
    "conv_decoder",
    "conv_encoder",
]
