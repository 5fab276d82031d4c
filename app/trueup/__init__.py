"""trueup: month-end billing workbench for MSPs (Pax8 against HaloPSA)."""

__version__ = "0.1.0"
