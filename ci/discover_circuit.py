"""Discovery feeds preregistration: find the induction circuit with EAP on induction-2l's
exploratory seeds, by the rule below (committed before it ran), and write the circuit it finds
into the registry (``claims/registered.toml``, entry D1), where ``claims/test_circuits.py``'s D1
reads it and judges it on seeds that did not exist when it was registered.

    python ci/discover_circuit.py                 # print what the rule finds on seeds 0-9
    python ci/discover_circuit.py --register      # and append entry D1 to the registry

**The rule**, per exploratory seed: score every edge by EAP (``fixtures.analysis.induction``:
noising convention at the clean run, resample from the paired counterfactual, minus the loss on
the repeated copies, 64 examples) and every head by its EAP node score (the sum of |EAP| over its
outgoing edges); keep EMBED and POS, and add heads in the order of their node scores until the
node circuit's faithfulness (every other node resample-ablated, ``circuits.Ablator``) is >= 0.8.
The registered circuit is EMBED, POS and the k heads of largest EAP node score, k the median over
seeds of the number each seed needed (a median halfway between two counts rounds up). Heads are
not the same heads across seeds (training permutes them), so the circuit is registered as this
rule, with its k, not as head names.

(An edge-level version, the smallest top-|EAP| edge set with path-patched faithfulness >= 0.8,
was tried first on these exploratory seeds: its edges touched every head on 8 of 10 seeds, so the
circuit it gives is the whole model but POS, which resampling cannot remove: a hypothesis that
cannot fail. The node-level rule above replaced it before any confirmatory seed existed.)
"""

from __future__ import annotations

import argparse
import math
import statistics

from fixtures.analysis.circuits import Ablator, faithfulness
from fixtures.analysis.edges import eap
from fixtures.analysis.induction import TOLERANCE, circuit_task, eap_node_scores, patcher
from fixtures.claims import TRAINED, Subject
from fixtures.registry import Registration, append
from fixtures.store import Store
from fixtures.train import get_or_train
from fixtures.zoo import get_spec

MODEL = "induction-2l"
EXPLORATORY = tuple(range(10))
CONFIRMATORY = tuple(range(20, 30))
FAITHFUL = 0.8  # the edge set must recover most of the behaviour, G1's bar


def discover(subject) -> dict:
    """The rule on one seed: the fewest top heads by EAP node score whose node circuit (with EMBED
    and POS) has faithfulness >= FAITHFUL."""
    scores = eap_node_scores(eap(patcher(subject)))
    heads = sorted((n for n in scores if n.startswith("L")), key=lambda n: -scores[n])
    ab = Ablator(subject.model, circuit_task(subject))
    full, empty = ab.metric(ab.nodes), ab.metric(())
    for k in range(len(heads) + 1):
        f = faithfulness(full, empty, ab.metric(["EMBED", "POS", *heads[:k]]), TOLERANCE)["faithfulness"]
        if f >= FAITHFUL:
            break
    return {"heads": k, "faithfulness": f, "nodes": heads[:k], "node_scores": {n: round(scores[n], 5) for n in heads}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--register", action="store_true", help="append entry D1 to claims/registered.toml")
    args = parser.parse_args()
    spec, store = get_spec(MODEL), Store()
    found = {}
    for seed in EXPLORATORY:
        ckpt = get_or_train(store, spec, seed, allow_train=False)
        subject = Subject(ckpt.model, spec, seed, TRAINED, f"{MODEL} seed {seed}")
        found[seed] = d = discover(subject)
        print(f"seed {seed}: {d['heads']} heads, faithfulness {d['faithfulness']:.3f}: {' '.join(d['nodes'])}")
    k = math.ceil(statistics.median(d["heads"] for d in found.values()))
    print(f"registered circuit: EMBED, POS and the top {k} heads by EAP node score")
    evidence = "; ".join(f"seed {s}: {d['heads']} heads (f {d['faithfulness']:.3f})" for s, d in found.items())
    reg = Registration(
        name="D1", claim="test_circuits::test_d1_discovered_circuit_is_faithful", models=(MODEL,),
        seeds=CONFIRMATORY, formed_on=f"{MODEL} seeds {EXPLORATORY[0]}-{EXPLORATORY[-1]} (ci/discover_circuit.py)",
        rule=(f"the circuit EAP discovers on the exploratory seeds (ci/discover_circuit.py's rule): EMBED, POS and the "
              f"{k} heads of largest EAP node score on the judged seed; with every other node resample-ablated, "
              f"per-example faithfulness >= {FAITHFUL}. Discovery: {evidence}"),
        parameters={"fixed_nodes": ["EMBED", "POS"], "heads": k, "faithful": FAITHFUL})
    if args.register:
        append(reg)
        print("appended D1 to claims/registered.toml: commit it before training seeds "
              f"{CONFIRMATORY[0]}-{CONFIRMATORY[-1]}")


if __name__ == "__main__":
    main()
