"""Every released Clock-and-Pizza checkpoint read as a clock, a pizza or neither, with its figures
(fixtures/analysis/pizza.py; the README's table under "Models trained elsewhere" is its output).

    python ci/pizza_released.py [--dir DIR] [--all-triples]

For each of the authors' released transformers (fixtures/zoo.py, ``RELEASED_PIZZAS``): its shape
and attention rate, the share of all p^2 pairs it answers correctly, distance irrelevance on the
largest incorrect logit (the published table's) and on the correct logit (the notebook's),
gradient symmetricity over the notebook's 100 triples (the table's) and over p^2 triples, the
symmetricity swing (the clock signature; its floor 1/sqrt(p) = 0.130) with its strongest
frequency, circularity, the verdict (``fixtures.analysis.pizza.algorithm``), and what the paper
says: its label for Models A and B, else the end of the published phase diagram the rate lies in
(pizzas below rate 0.1, clocks from 0.9; "-" between). ``--all-triples`` adds the symmetricity
over all p^3 triples (p backward passes a model: about a minute for all fourteen).
"""

from __future__ import annotations

import argparse

import torch

from fixtures.analysis.pizza import algorithm, gradient_symmetricity_all, pizza_figures
from fixtures.external import external_dir, load_converted
from fixtures.zoo import RELEASED_PIZZAS, get_spec


def paper_expectation(run) -> str:
    """The paper's label, else the published phase diagram's end at this rate ("-" between)."""
    if run.paper_label:
        return f"{run.paper_label} (paper)"
    return "pizza (rate < 0.1)" if run.attn_coeff < 0.1 else "clock (rate >= 0.9)" if run.attn_coeff >= 0.9 else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=None, help="external directory (default $MECH_CLAIMS_EXTERNAL or the cache)")
    parser.add_argument("--all-triples", action="store_true", help="also the symmetricity over all p^3 triples")
    args = parser.parse_args()
    directory = external_dir(args.dir)
    columns = ["run", "layers", "d_model", "act", "rate", "accuracy", "DI top wrong", "DI correct", "GS 100",
               "GS p^2"] + (["GS p^3"] if args.all_triples else []) + [
        "swing", "swing k", "circularity", "verdict", "paper / phase diagram"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for run in RELEASED_PIZZAS:
        spec = get_spec(run.zoo_name)
        model, _ = load_converted(spec.name, spec.source, spec.model, directory)
        task = spec.task
        with torch.no_grad():
            tokens = task.all_pairs()
            accuracy = (model(tokens, last_position_only=True)[:, -1].argmax(-1) == task.labels(tokens)).double().mean()
        f = pizza_figures(model, task)
        cells = [run.run_id + (" (diff_vocab)" if run.diff_vocab else ""), run.n_layers, run.d_model, run.act_fn,
                 f"{run.attn_coeff:.4g}", f"{accuracy:.4f}", f"{f['distance_irrelevance_top_wrong']:.4f}",
                 f"{f['distance_irrelevance']:.4f}", f"{f['gradient_symmetricity_sampled']:.4f}",
                 f"{f['gradient_symmetricity']:.4f}"] + (
            [f"{gradient_symmetricity_all(model, task):.4f}"] if args.all_triples else []) + [
            f"{f['symmetricity_swing']:.3f}", f["swing_frequencies"][0][0], f"{f['circularity']:.4f}",
            algorithm(f, task.p), paper_expectation(run)]
        print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


if __name__ == "__main__":
    main()
