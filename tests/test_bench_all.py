"""bench/all.py --update: a benchmark that fails leaves its section as last measured, and the run exits non-zero."""
import importlib.util, sys
from pathlib import Path
import pytest

def load_all():
    spec = importlib.util.spec_from_file_location('bench_all', Path(__file__).resolve().parents[1]/'bench'/'all.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m

def test_a_failed_benchmark_keeps_the_section_it_would_replace(tmp_path, monkeypatch):
    m = load_all()
    monkeypatch.setattr(m, 'BENCHES', {'old': ('9. A benchmark', ['no_such_script.py']), 'new': ('10. Another', ['no_such_script.py'])})
    out = tmp_path/'B.md'
    out.write_text('# Benchmarks\n\nhead\n\n## 9. A benchmark\n\nold numbers 1.23\n\n## Other\n\nkept\n')
    monkeypatch.setattr(sys, 'argv', ['all.py', '--only', 'old', 'new', '--update', '--out', str(out)])
    with pytest.raises(SystemExit) as e: m.main()
    assert '9. A benchmark' in str(e.value.code) and '10. Another' in str(e.value.code)
    text = out.read_text()
    assert 'old numbers 1.23' in text and '## Other\n\nkept' in text
    assert text.count('FAILED (exit code') == 1 and text.index('## 10. Another') < text.index('FAILED (exit code')  # nothing to keep: the failure is recorded
