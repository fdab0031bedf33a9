"""When do the Clock-and-Pizza metrics settle under the zoo's recipe? The measurement behind
the ``pizza-rate*`` entries' step budget (fixtures/zoo.py).

    python ci/settle_clock_pizza.py --rate 0 --seed 0 --steps 8000 --every 250

Trains the zoo's recipe at one attention rate with the training loop itself (the weights at
step N are those of a zoo run with ``steps=N``) and prints, every ``--every`` steps, test
accuracy, distance irrelevance and gradient symmetricity (fixtures/analysis/pizza.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from fixtures.analysis.pizza import correct_logit_table, distance_irrelevance, gradient_symmetricity
from fixtures.tasks import ModularAddition
from fixtures.training import train
from fixtures.zoo import get_spec


@dataclasses.dataclass(frozen=True)
class _Measured(ModularAddition):
    """The same task; its curves also record the two metrics (they read the model only)."""

    def metrics(self, model, state):
        out = super().metrics(model, state)
        out["distance_irrelevance"] = distance_irrelevance(correct_logit_table(model, self.p))
        out["gradient_symmetricity"] = gradient_symmetricity(model, self.p)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", default="0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--out", default=None, help="write the curves as JSON here")
    args = parser.parse_args()
    spec = get_spec(f"pizza-rate{float(args.rate):g}")
    task = _Measured(**dataclasses.asdict(spec.task))
    cfg = dataclasses.replace(spec.train, steps=args.steps, eval_every=args.every)
    result = train(task, spec.model, cfg, args.seed, progress=False,
                   report=lambda step, total, m: print(f"step {step:5d}  test_acc {m['test_acc']:.4f}  "
                                                       f"DI {m['distance_irrelevance']:.4f}  "
                                                       f"GS {m['gradient_symmetricity']:.4f}", flush=True))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result.curves, f)


if __name__ == "__main__":
    main()
