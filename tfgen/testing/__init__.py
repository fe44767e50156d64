"""Testing utilities: the shared model battery (``GenerativeModelBattery``) and its pieces
(:mod:`tfgen.testing.causality`, :mod:`tfgen.testing.persistence`)."""

from tfgen.testing.battery import GenerativeModelBattery

__all__ = ["GenerativeModelBattery"]
