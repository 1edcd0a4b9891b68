"""Shared fixtures: the toy checkpoint of notebook 02 (`rise_nb.models.toy_checkpoint`), as built and briefly boosted.
Both come from one cache that the notebooks share too, keyed by the package's source, so one version of the code builds them once."""
import pytest

@pytest.fixture(scope='session')
def tiny_checkpoint():
    "The toy checkpoint (hidden 64, 2 layers) as `build_tiny_model` writes it, not trained; tests only read it."
    from rise_nb.models import toy_checkpoint
    return toy_checkpoint(None)

@pytest.fixture(scope='session')
def boosted_checkpoint():
    "The toy checkpoint boosted for a few seconds (`TOY_BOOST`), so its answers are well formed and often wrong; tests only read it."
    from rise_nb.models import toy_checkpoint
    return toy_checkpoint()
