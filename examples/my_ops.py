"My improvement operators."
from rise_nb.operators import BestOfN, register_operator

@register_operator('shortest_best')
class ShortestBest(BestOfN):
    "Best-of-N that keeps the shortest of the best candidates."
    def choose(self, t, cands):
        return min(range(len(cands)), key=lambda i: (cands[i]['degenerate'], -cands[i]['reward'], len(cands[i]['text']), i))
