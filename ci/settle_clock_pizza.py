"""When do the Clock-and-Pizza metrics settle under the zoo's recipe? The measurement behind
the ``pizza-settled-*`` entries' stop rule (fixtures/zoo.py), taken on seeds that no claim reads.

    python ci/settle_clock_pizza.py --rate 1 --seed 100 --steps 20000 --every 250 --snapshots DIR

Trains the zoo's recipe at one attention rate with the training loop itself (the learning rate is
constant after a 10-step warm-up, so the weights at step N are those of a zoo run with
``steps=N``) and prints, every ``--every`` steps, test accuracy, distance irrelevance (correct
logit and largest incorrect logit) and gradient symmetricity (fixtures/analysis/pizza.py).
``--snapshots DIR`` also saves the weights at every row (``step<N>.safetensors``), so any other
measurement can be taken on the trajectory afterwards without training again.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from safetensors.torch import save_file

from fixtures.analysis.pizza import pizza_figures
from fixtures.tasks import ModularAddition
from fixtures.training import train
from fixtures.zoo import get_spec, pizza_settled_name


@dataclasses.dataclass(frozen=True)
class _Measured(ModularAddition):
    """The same task; its curves also record the metrics (they read the model only), and the
    weights of every row are saved when a snapshot directory is given."""

    snapshots: str = ""

    def metrics(self, model, state):
        out = super().metrics(model, state)
        out.update({k: v for k, v in pizza_figures(model, self).items() if isinstance(v, float)})  # curves hold numbers
        if self.snapshots:
            step = len(getattr(self, "_rows", []))
            object.__setattr__(self, "_rows", [*getattr(self, "_rows", []), step])
            save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()},
                      str(Path(self.snapshots) / f"row{step:05d}.safetensors"))
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--out", default=None, help="write the curves as JSON here")
    parser.add_argument("--snapshots", default="", help="save the weights of every curve row in this directory")
    args = parser.parse_args()
    spec = get_spec(pizza_settled_name(0.0))  # the family's recipe; its stop rule is what these runs settle
    model = dataclasses.replace(spec.model, attention_rate=args.rate)
    if args.snapshots:
        Path(args.snapshots).mkdir(parents=True, exist_ok=True)
    task = _Measured(**{**dataclasses.asdict(spec.task), "clock_pizza_curves": False}, snapshots=args.snapshots)
    cfg = dataclasses.replace(spec.train, steps=args.steps, eval_every=args.every, stop_metric="", settle_on=())
    result = train(task, model, cfg, args.seed, progress=False,
                   report=lambda step, total, m: print(
                       f"step {step:5d}  test_acc {m['test_acc']:.4f}  DI {m['distance_irrelevance']:.4f}  "
                       f"DI(top wrong) {m['distance_irrelevance_top_wrong']:.4f}  "
                       f"GS {m['gradient_symmetricity']:.4f}", flush=True))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"rate": args.rate, "seed": args.seed, "curves": result.curves}, f)


if __name__ == "__main__":
    main()
