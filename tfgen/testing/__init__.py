"""Testing utilities: the shared model battery (``GenerativeModelBattery``)."""

from tfgen.testing.battery import GenerativeModelBattery

__all__ = ["GenerativeModelBattery"]
