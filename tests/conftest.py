"""Shared fixtures: the embedded checkpoint (built and briefly boosted once per session, only when a test asks for it)."""
import pytest

@pytest.fixture(scope='session')
def boosted_checkpoint(tmp_path_factory):
    "A small embedded checkpoint, boosted for a few seconds so its answers are well formed and often wrong."
    from rise_nb.arithmetic import ArithmeticTask
    from rise_nb.models import build_tiny_model, TinyConfig, boost, BoostConfig
    tmp, task = tmp_path_factory.mktemp('ckpt'), ArithmeticTask()
    build_tiny_model(tmp/'tiny', task, TinyConfig(vocab_size=400, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                                  intermediate_size=128, corpus_size=300))
    boost(tmp/'tiny', tmp/'boosted', task, BoostConfig(steps=60, batch_size=16, n_train=960, lr=5e-3, warmup=5), device='cpu', progress=False)
    return tmp/'boosted'
