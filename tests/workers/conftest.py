"""Fixtures for the tests of worker code."""

from tests.workers.fakes import ctx  # noqa: F401 - the fake worker context, as a fixture
