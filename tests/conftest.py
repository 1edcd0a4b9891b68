"""Shared fixtures: the embedded checkpoint (built once per session, and briefly boosted, only when a test asks for it)."""
import pytest

@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory):
    "A small embedded checkpoint (hidden 64, 2 layers) as `build_tiny_model` writes it, not trained; tests only read it."
    from rise_nb.arithmetic import ArithmeticTask
    from rise_nb.models import build_tiny_model, TinyConfig
    tmp = tmp_path_factory.mktemp('ckpt')
    build_tiny_model(tmp/'tiny', ArithmeticTask(), TinyConfig(vocab_size=400, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                                              intermediate_size=128, corpus_size=300))
    return tmp/'tiny'

@pytest.fixture(scope='session')
def boosted_checkpoint(tiny_checkpoint, tmp_path_factory):
    "`tiny_checkpoint` boosted for a few seconds so its answers are well formed and often wrong."
    from rise_nb.arithmetic import ArithmeticTask
    from rise_nb.models import boost, BoostConfig
    out = tmp_path_factory.mktemp('boosted')/'boosted'
    boost(tiny_checkpoint, out, ArithmeticTask(), BoostConfig(steps=60, batch_size=16, n_train=960, lr=5e-3, warmup=5), device='cpu', progress=False)
    return out
