"""Calibration: panel estimators, their results, and the bridge to the allocation model."""
