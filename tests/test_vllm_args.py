"""`VLLMEngine` hands the parallelism settings (from a run config's `engine_args`) to `vllm.LLM`; a stand-in `LLM` records them, so vLLM need not be installed."""
import types
import pytest
import rise_nb.engines as E

@pytest.fixture
def seen(monkeypatch):
    got = {}
    class LLM:
        def __init__(self, **kw): got.update(kw)
    monkeypatch.setattr(E, '_require_vllm', lambda: types.SimpleNamespace(LLM=LLM))
    monkeypatch.setattr(E, '_vllm_on_cpu', lambda: False)
    return got

def test_tensor_and_pipeline_parallel_reach_llm(seen):
    E.VLLMEngine('/some/model', tensor_parallel_size=4, pipeline_parallel_size=2)
    assert (seen['tensor_parallel_size'], seen['pipeline_parallel_size']) == (4, 2)
    assert 'data_parallel_size' not in seen  # 1: left to vLLM's default, as before

def test_data_parallel_reaches_llm_with_external_launcher(seen):
    E.VLLMEngine('/some/model', data_parallel_size=2, distributed_executor_backend='external_launcher')
    assert (seen['data_parallel_size'], seen['distributed_executor_backend']) == (2, 'external_launcher')

def test_data_parallel_alone_says_to_serve(seen):
    with pytest.raises(ValueError, match='vllm serve'): E.VLLMEngine('/some/model', data_parallel_size=2)
    assert seen == {}

def test_engine_args_of_a_run_config_reach_llm(seen, tmp_path):
    from rise_nb.config import RunConfig
    from rise_nb.rundir import Run
    from rise_nb.pipeline import engine_of as _engine
    run = Run(tmp_path/'r', RunConfig(engine='vllm', engine_args={'tensor_parallel_size': 2, 'data_parallel_size': 2,
                                                                  'distributed_executor_backend': 'external_launcher'}))
    _engine(run, '/some/model')
    assert (seen['tensor_parallel_size'], seen['data_parallel_size']) == (2, 2)

@pytest.mark.parametrize('gpus,want', [(0, 1), (1, 1), (4, 4), (6, 4), (8, 8)])
def test_tensor_parallel_defaults_to_the_visible_gpus(seen, monkeypatch, tmp_path, gpus, want):
    "Unset, `tensor_parallel_size` spans every visible GPU (a power of two of them), through a run config as directly."
    from rise_nb.config import RunConfig
    from rise_nb.rundir import Run
    from rise_nb.pipeline import engine_of as _engine
    monkeypatch.setattr(E.torch.cuda, 'device_count', lambda: gpus)
    monkeypatch.setattr(E.torch.cuda, 'is_available', lambda: gpus > 0)
    monkeypatch.setattr(E, 'gpu_free_gib', lambda n=1: [])  # no driver to ask here
    _engine(Run(tmp_path/'r', RunConfig(engine='vllm')), '/some/model')
    assert seen['tensor_parallel_size'] == want
    E.VLLMEngine('/some/model', tensor_parallel_size=2)
    assert seen['tensor_parallel_size'] == 2  # set: kept

def test_close_shuts_vllm_down(seen, monkeypatch):
    "`close` stops the engine core and runs vLLM's clean-up once; a second close does nothing."
    calls = []
    monkeypatch.setattr(E, 'vllm_cleanup', lambda: calls.append('cleanup'))
    with E.VLLMEngine('/some/model') as e:
        e.llm.llm_engine = types.SimpleNamespace(engine_core=types.SimpleNamespace(shutdown=lambda: calls.append('shutdown')))
    e.close()
    assert calls == ['shutdown', 'cleanup'] and e.llm is None
