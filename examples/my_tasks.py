"""What is a + b? A task of one's own, outside rise_nb."""
import random
from rise_nb.mdp import Problem
from rise_nb.tasks import Task, Check, register_task, extract_answer, numbers_equal

@register_task('sums')
class SumsTask(Task):
    "What is a + b? One sum per problem, in the GSM8K format."
    name = 'sums'
    def load(self, split='test', n=None):
        pairs = [(a, b) for a in range(1, 100) for b in range(1, 100) if ((7 * a + b) % 5 == 0) == (split == 'test')]  # a fifth are test
        random.Random(0).shuffle(pairs)
        return [Problem(f'sums/{split}/{i}', f'What is {a} + {b}?', str(a + b), f'{a}+{b}=<<{a}+{b}={a + b}>>{a + b}\n#### {a + b}')
                for i, (a, b) in enumerate(pairs[:n])]
    def check(self, response, problem):
        a = extract_answer(response)
        return Check(-1, None) if a is None else Check(int(numbers_equal(a, problem.answer)), a)
