"""A loss defined in a file outside the package, named in the config (`rise.train.loss`), trains in every data-parallel
process of `rise_nb train --processes 2`; a name nobody registered stops the command before any work."""
import json, subprocess, textwrap

PLUGIN = textwrap.dedent('''
    import os
    from pathlib import Path
    from rise_nb.train import register_loss
    from rise_nb.rwr import rwr_loss

    @register_loss('rwr_logged')
    def rwr_logged(logits, labels, weights, reduction='mean'):
        "The RWR loss, leaving a file named after the process that computed it."
        Path(f'called-{os.getpid()}').touch()
        return rwr_loss(logits, labels, weights, reduction)
''')

def rise(*args, cwd): return subprocess.run(['rise_nb', *args], capture_output=True, text=True, cwd=cwd)

def test_user_loss_in_two_processes(tmp_path):
    (tmp_path/'my_loss.py').write_text(PLUGIN)
    sets = ['--set', 'rise.train.loss=rwr_logged', '--set', 'rise.iterations=1']
    r = rise('train', '--preset', 'smoke', '--out', str(tmp_path/'run'), *sets, cwd=tmp_path)  # not imported: unknown
    assert r.returncode == 2 and "RunConfig.rise.train.loss: expected a registered loss" in r.stderr, r.stderr[-2000:]
    r = rise('train', '--preset', 'smoke', '--out', str(tmp_path/'run'), '--import', 'my_loss', *sets, '--processes', '2', cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    log = json.loads((tmp_path/'run'/'train_1_log.json').read_text())
    assert (log['rwr']['loss'], log['processes']) == ('rwr_logged', 2)
    assert len(list(tmp_path.glob('called-*'))) == 2  # the loss ran in both training processes
