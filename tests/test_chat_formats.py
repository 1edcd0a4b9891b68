"""Chat formats of the model families the README names, as local fixtures: Llama 3, Mistral (v0.3) and Qwen 2.5 (ChatML).

Each fixture is a tokenizer trained here on the repository's GSM8K rows, with its family's special tokens and a chat
template written to render conversations in that family's format (Mistral's puts the system prompt into the last user
message; Qwen's adds a default system prompt when there is none). On each, with and without a system prompt:
`encode_chat` labels exactly the final assistant message and its end-of-turn token; a long 5-turn GSM8K state is
shortened by dropping its oldest attempts, never BOS, the system prompt, the worked example or the question; and
`HFEngine` renders the same prompt that training masks against, and keeps generated states within the model's context.
"""
import json
from pathlib import Path
import pytest

DATA = Path(__file__).parent/'data'/'gsm8k'

LLAMA3 = ("{% for m in messages %}{% if loop.first %}{{ bos_token }}{% endif %}"
          "<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
          "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")
MISTRAL = ("{% if messages[0]['role'] == 'system' %}{% set sys = messages[0]['content'] %}{% set msgs = messages[1:] %}"
           "{% else %}{% set msgs = messages %}{% endif %}{{ bos_token }}"
           "{% for m in msgs %}{% if m['role'] == 'user' %}"
           "{% if loop.last and sys is defined %}[INST] {{ sys }}\n\n{{ m['content'] }}[/INST]{% else %}[INST] {{ m['content'] }}[/INST]{% endif %}"
           "{% else %} {{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}")
QWEN_DEFAULT_SYSTEM = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.'
CHATML = ("{% if messages[0]['role'] != 'system' %}<|im_start|>system\n" + QWEN_DEFAULT_SYSTEM + "<|im_end|>\n{% endif %}"
          "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

FAMILIES = {  # template, special tokens, bos, eos, pad, pre-tokenizer
    'llama3': dict(template=LLAMA3, special=['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>',
                                             '<|finetune_right_pad_id|>'],
                   bos='<|begin_of_text|>', eos='<|eot_id|>', pad='<|finetune_right_pad_id|>', bytelevel=True),
    'mistral': dict(template=MISTRAL, special=['<unk>', '<s>', '</s>', '[INST]', '[/INST]'], bos='<s>', eos='</s>', pad=None, bytelevel=False),
    'qwen2.5': dict(template=CHATML, special=['<|endoftext|>', '<|im_start|>', '<|im_end|>'], bos=None, eos='<|im_end|>', pad='<|endoftext|>',
                    bytelevel=True),
}
SYSTEM = 'Solve the math word problem step by step and box the final answer.'

def _rows(): return [json.loads(l) for f in ('train.jsonl', 'test.jsonl') for l in (DATA/f).read_text().splitlines() if l.strip()]

@pytest.fixture(scope='module')
def texts():
    from rise_nb.tasks import REFERENCE_PROMPT
    return [r['question'] + '\n' + r['answer'] for r in _rows()] + [json.dumps(REFERENCE_PROMPT)]

@pytest.fixture(scope='module', params=sorted(FAMILIES))
def family(request, texts, tmp_path_factory):
    "A tokenizer of the family saved to disk and loaded back with `load_tokenizer`, and a tiny random Llama model on it."
    from tokenizers import Tokenizer, models, trainers, pre_tokenizers, decoders
    from transformers import PreTrainedTokenizerFast, LlamaConfig, LlamaForCausalLM
    from rise_nb.models import load_tokenizer
    name, f = request.param, FAMILIES[request.param]
    if f['bytelevel']:
        tk = Tokenizer(models.BPE())
        tk.pre_tokenizer, tk.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:  # SentencePiece-style: spaces become "▁", unknown characters fall back to <unk>
        tk = Tokenizer(models.BPE(unk_token='<unk>'))
        tk.pre_tokenizer, tk.decoder = pre_tokenizers.Metaspace(prepend_scheme='first'), decoders.Metaspace(prepend_scheme='first')
        alphabet = sorted({c for t in texts for c in t})
    tk.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=1200, special_tokens=f['special'], show_progress=False, initial_alphabet=alphabet))
    kw = {k: f[k] for k in ('bos', 'eos', 'pad') if f[k]}
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, chat_template=f['template'], model_max_length=4096,
                                   **{f'{k}_token': v for k, v in kw.items()}, **({'unk_token': '<unk>'} if not f['bytelevel'] else {}))
    d = tmp_path_factory.mktemp(name.replace('.', '_'))
    fast.save_pretrained(d)
    tok = load_tokenizer(d)
    return name, d, tok

def _model(d, tok, positions):
    "A tiny random Llama model on `tok`, saved next to it, with `positions` positions."
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                      max_position_embeddings=positions, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id)
    return LlamaForCausalLM(cfg).eval()

def _mdp(system:bool):
    "The official RISE prompt (instruction and worked exchange in the first messages), with or without a system prompt."
    from rise_nb.tasks import GSM8KTask
    task = GSM8KTask(source=str(DATA), prompt='reference')
    mdp = task.mdp(window=None)
    if system: mdp.system = SYSTEM
    return task, mdp

def _attempts(task, n):
    "`n` wrong attempts at test problem 0: other problems' solutions, each followed by the retry feedback."
    from rise_nb.mdp import Turn
    probs = task.load('test')
    p, others = probs[0], probs[1:]
    return p, [Turn(o.solution, None, 0, feedback=None) for o in others[:n]]

def _labelled(e): return [i for i, l in zip(e['input_ids'], e['labels']) if l != -100]

@pytest.mark.parametrize('system', [False, True])
def test_labels_are_the_final_message_and_its_end_token(family, system):
    from rise_nb.train import encode_chat
    name, d, tok = family
    task, mdp = _mdp(system)
    p, turns = _attempts(task, 2)
    e = encode_chat(tok, mdp.state(p, turns) + [{'role': 'assistant', 'content': p.solution}])
    lab = _labelled(e)
    first = next(i for i, l in enumerate(e['labels']) if l != -100)
    assert e['labels'][first:first+len(lab)] == lab, "the labels are one contiguous span"
    assert all(l == -100 for l in e['labels'][first+len(lab):]), "nothing after the end-of-turn token is trained"
    assert lab[-1] == tok.eos_token_id, f"{name}: the end-of-turn token {tok.eos_token!r} is trained"
    assert tok.decode(lab[:-1]).strip() == p.solution.strip()
    assert sum(l != -100 for l in e['labels']) == len(lab)
    if name == 'qwen2.5': assert tok.decode(e['input_ids'][first+len(lab):]) == '\n', "ChatML's newline after <|im_end|> is input only"

@pytest.mark.parametrize('system', [False, True])
def test_engine_renders_the_prompt_training_masks_against(family, system):
    from rise_nb.train import encode_chat
    from rise_nb.engines import HFEngine
    name, d, tok = family
    task, mdp = _mdp(system)
    p, turns = _attempts(task, 2)
    state = mdp.state(p, turns)
    e = encode_chat(tok, state + [{'role': 'assistant', 'content': p.solution}])
    first = next(i for i, l in enumerate(e['labels']) if l != -100)
    eng = HFEngine(_model(d, tok, 4096), tok, progress=False)
    assert eng.encode([state])[0] == e['input_ids'][:first]
    prompt = tok.decode(e['input_ids'][:first])
    if system: assert SYSTEM in prompt, f"{name}: the system prompt is in what training conditions on"
    if name == 'qwen2.5' and not system: assert QWEN_DEFAULT_SYSTEM in prompt

@pytest.mark.parametrize('system', [False, True])
def test_long_state_loses_its_oldest_attempts_first(family, system):
    from rise_nb.train import encode_chat, encode_state
    name, d, tok = family
    task, mdp = _mdp(system)
    p, turns = _attempts(task, 4)  # the state of turn 5
    act = p.solution
    whole, k = encode_state(tok, mdp, p, turns, act)
    assert k == 0
    two = encode_chat(tok, mdp.state(p, turns[2:]) + [{'role': 'assistant', 'content': act}])
    e, k = encode_state(tok, mdp, p, turns, act, max_len=len(two['input_ids']))
    assert (k, e) == (2, two)
    text = tok.decode(e['input_ids'])
    if tok.bos_token: assert e['input_ids'][0] == tok.bos_token_id, "BOS stays first"
    if system: assert SYSTEM in text
    ex_q, ex_a = mdp.example
    for keep in (ex_q.strip()[:60], ex_a.strip()[:60], p.question[:60], turns[2].action[:40], turns[3].action[:40]):
        assert keep.replace(' ', '') in text.replace(' ', '').replace('▁', ''), f"{name}: {keep!r} was dropped"
    for gone in (turns[0].action[:40], turns[1].action[:40]):
        assert gone.replace(' ', '') not in text.replace(' ', '').replace('▁', ''), f"{name}: the oldest attempts go first"
    first_turn = encode_chat(tok, mdp.state(p) + [{'role': 'assistant', 'content': act}])
    assert encode_state(tok, mdp, p, turns, act, max_len=len(first_turn['input_ids']) - 1) == (None, 4), "too long even so: dropped"

def test_generation_keeps_states_within_the_context(family):
    from rise_nb.engines import HFEngine, SamplingParams
    from rise_nb.collect import rollout_batch
    name, d, tok = family
    task, mdp = _mdp(True)
    p = task.load('test', 1)[0]
    n0 = len(HFEngine(_model(d, tok, 4096), tok, progress=False).encode([mdp.state(p)])[0])
    eng = HFEngine(_model(d, tok, n0 + 8 + 4), tok, progress=False)  # room for the first-turn state and 8 new tokens only
    assert eng.prompt_limit(8) == n0 + 4 and eng.prompt_len(mdp.state(p)) == n0
    tr = rollout_batch(eng, task, [p], mdp, turns=3, oracle=False, params=SamplingParams(temperature=0, max_new_tokens=8))[0]
    assert [t.meta.get('dropped_attempts', 0) for t in tr.turns] == [0, 1, 2]
    small = HFEngine(_model(d, tok, n0 + 7), tok, progress=False)
    with pytest.raises(ValueError, match=f"{p.id}: its first-turn state is longer than the {n0 - 1} prompt tokens"):
        rollout_batch(small, task, [p], mdp, turns=1, params=SamplingParams(max_new_tokens=8))
