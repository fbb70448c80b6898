"""The languages people are told things in."""

from typing import Literal

Language = Literal["en", "es", "sv"]
DEFAULT_LANGUAGE: Language = "en"
