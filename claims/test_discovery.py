"""I. Circuit discovery on ground truth whose weights look trained (InterpBench, Gupta et al. 2024).

The models are tracr programs re-learned by strict interchange-intervention training
(``fixtures/siit.py``; zoo ``siit-*``): each variable of the program lives in the node it is
aligned to, every other head and MLP is trained to be causally irrelevant yet is never pushed to
zero, and the circuit, the program's edges through the aligned nodes, is written in the spec
(``SIITProgram.circuit``). Unlike a compiled tracr model (claims H4), a non-circuit edge here
carries real activations, so a discovery method can rank it above a circuit edge: the AUROC
measures precision as well as recall.

- I1, the ground truth holds: the model computes the program (I1a), and resampling every
  non-aligned node at once leaves that intact (I1b: the aligned nodes suffice; the same as
  path-patching every edge that touches a non-aligned node). I1a and I1b check that the ground
  truth was built: they measure again, on fresh inputs, what the SIIT stop rule trained to
  (``fixtures/siit.py``), so they are checks of the construction, not findings about it. The notes report how active the
  non-aligned nodes are (output RMS against the aligned nodes') and each interchange's accuracy.
  I1c asks more: that the edges the program's graph names (``SIITProgram.circuit``) suffice,
  every other edge among the aligned nodes and the inputs path-patched too. Node-level
  training does not promise that, and the claim tests whether it happens.
- I2, the methods: edge AUROC of EAP (I2a) and of ACDC over a sweep of thresholds (I2b),
  InterpBench's figure. The control scores the same method's output on the same model against
  a wrong truth of the same size (as many edges, drawn from the measurable non-circuit edges):
  a method that ranks the real circuit first must not also "find" an arbitrary one, and a
  method that ranks everything alike fails both. Scores drawn at random are a reference in the
  notes (their AUROC is 0.5 in expectation whatever the model: a null, not a control). The truth is what SIIT guarantees
  (``SIITProgram.guaranteed_edges``): the edges among the inputs, the aligned nodes and the
  logits; every edge touching a non-aligned node is irrelevant by training (I1b). The AUROC
  against the program's own edges is in the notes.

Inputs are fresh samples of the program (base and source, or clean and counterfactual, from
separate generator seeds); ablation is resample. Edges the ablation cannot move (POS under
same-length inputs; a node computed from positions alone, as prev_token's ``prev_index``) are
left out of every AUROC and counted in the notes, as in ``test_edges.py``.
"""

import torch

from fixtures.analysis.edges import (EdgePatcher, acdc, area_under, auroc, eap, program_patcher, roc_points,
                                     score_roc, wrong_truth)
from fixtures.claims import analysis, claim
from fixtures.siit import agreement, model_nodes, node_outputs, patched_logits

SOURCE = "Gupta et al. 2024 (InterpBench: SIIT, edge AUROC); Geiger et al. 2022 (interchange intervention training)"
SIIT_MODELS = ("siit-prev-token", "siit-hist")
EXAMPLES = 1024  # I1: agreement on 1024 x 6 positions resolves 0.1%
AGREEMENT_MIN = 0.99  # the bar for a re-learned program (InterpBench trains to ~100% IIA)
AGREEMENT_WHY = "the bar a re-learned program must reach to stand in for it (InterpBench's models reach ~100%)"
ACDC_SWEEP = tuple(10.0 ** -x for x in range(7)) + (1e-9,)  # thresholds, in units of |m(M) - m(empty)|, as H4
AUROC_MIN = 0.8
AUROC_WHY = ("0.8: the conventional floor of 'good' discrimination; InterpBench ranks methods by AUROC without a "
             "pass mark, and its SIIT models' non-circuit nodes are active, so 1.0 is not expected")
WRONG_TRUTH = ("component:the same method's scores on the same model against a wrong truth of the same size (as many "
               "edges, drawn from the measurable non-circuit edges, seeded by the model's seed): it must not find it")


@analysis
def ground_truth(subject) -> dict:
    """Agreement with the program, plain, with every non-aligned node (or every aligned node)
    resampled from another input, and with every edge outside the stated circuit (or a random
    edge set of its size) path-patched; per-node output RMS; the interchange accuracies."""
    task, model = subject.task, subject.model
    base = task.sample(EXAMPLES, torch.Generator().manual_seed(40_000))
    source = task.sample(EXAMPLES, torch.Generator().manual_seed(40_001))
    state = task.evaluation_state(base, source)
    targets = state["held_out_targets"]
    nodes = model_nodes(model.cfg)
    aligned, others = task.aligned_nodes, task.non_aligned_nodes(model.cfg)
    with torch.no_grad():
        _, acts = node_outputs(model, source, nodes)
        _, own = node_outputs(model, base, nodes)
        rms = {}
        for n in nodes:
            act = own[n]
            if n.startswith("L"):  # hook_z [b, pos, head, d_head] -> the head's output z W_O
                layer, head = (int(x) for x in n[1:].split("H"))
                act = act[:, :, head] @ model.blocks[layer].attn.W_O[head]
            rms[n] = float(act[:, 1:].pow(2).mean().sqrt())  # BOS's row is the same in every input
        acc = task.accuracies(model, state)
        out = {"behaviour": acc["behaviour"], "interchange": acc["interchange"], "strict": acc["strict"],
               "others_resampled": agreement(patched_logits(model, base, others, acts), targets),
               "aligned_resampled": agreement(patched_logits(model, base, aligned, acts), targets), "rms": rms}
    patcher = EdgePatcher(model, base[:256], source[:256], lambda logits, tokens: logits[..., 0])
    circuit = list(task.circuit)
    g = torch.Generator().manual_seed(subject.seed)
    pool = [e for e in patcher.graph.edges if e not in circuit]
    wrong = [pool[int(i)] for i in torch.randperm(len(pool), generator=g)[: len(circuit)]]
    edge_targets = tuple(t[:256] for t in targets)
    guaranteed = task.guaranteed_edges(patcher.graph.edges)
    out |= {"circuit_kept": agreement(patcher.logits(kept=circuit), edge_targets),
            "random_kept": agreement(patcher.logits(kept=wrong), edge_targets), "random_edges": wrong,
            "unmovable": patcher.unmovable(),
            # each edge among the aligned nodes and the inputs path-patched alone, the others kept
            "agreement_without": {e: round(agreement(patcher.logits(kept=[x for x in guaranteed if x != e]),
                                                     edge_targets), 4) for e in guaranteed}}
    active = [rms[n] / (sum(rms[a] for a in aligned) / len(aligned)) for n in others]
    return out | {"others_rms_ratio_min": min(active), "others_rms_ratio_median": sorted(active)[len(active) // 2]}


def note_ground_truth(record, g: dict) -> None:
    record.note(behaviour=g["behaviour"], interchange=g["interchange"],
                strict_min=min(g["strict"].values()), node_rms={k: round(v, 4) for k, v in g["rms"].items()},
                non_aligned_rms_ratio_min=round(g["others_rms_ratio_min"], 4),
                non_aligned_rms_ratio_median=round(g["others_rms_ratio_median"], 4))


def record_agreement(subject, record):
    g = ground_truth(subject)
    note_ground_truth(record, g)
    record(g["behaviour"], ">=", AGREEMENT_MIN, why=AGREEMENT_WHY)


I1A = ("the ground truth was built: the SIIT model computes its tracr program, agreement >= 0.99 on fresh inputs "
       "(the stop rule's figure, measured again)")


@claim(I1A, source=SOURCE, model="siit-prev-token")
def test_i1a_siit_agrees_with_program_prev_token(subject, record):
    record_agreement(subject, record)


@claim(I1A, source=SOURCE, model="siit-hist")
def test_i1a_siit_agrees_with_program_hist(subject, record):
    record_agreement(subject, record)


ALIGNED_INSTEAD = ("component:resampling the aligned nodes instead, which carry the program: agreement must fall "
                   "below the bar")
I1B = ("the ground truth was built: the aligned nodes suffice, resampling every non-aligned head and MLP at once "
       "from another input keeps agreement with the program >= 0.99 (the stop rule's joint strict figure, measured "
       "again); they stay active (output RMS against the aligned nodes' in the notes)")


def record_nodes_suffice(subject, record):
    g = ground_truth(subject)
    note_ground_truth(record, g)
    record.note(aligned_resampled=g["aligned_resampled"], others_resampled=g["others_resampled"])
    record(g["aligned_resampled"] if subject.is_control else g["others_resampled"], ">=", AGREEMENT_MIN,
           why=AGREEMENT_WHY)


@claim(I1B, source=SOURCE, model="siit-prev-token", control=ALIGNED_INSTEAD)
def test_i1b_aligned_nodes_suffice_prev_token(subject, record):
    record_nodes_suffice(subject, record)


@claim(I1B, source=SOURCE, model="siit-hist", control=ALIGNED_INSTEAD)
def test_i1b_aligned_nodes_suffice_hist(subject, record):
    record_nodes_suffice(subject, record)


RANDOM_EDGES = ("component:as many edges as the circuit has, drawn at random from the rest (seeded by the model's "
                "seed): keeping only them must lose the program")
I1C = ("the program's edges suffice: path-patching every edge outside the spec's circuit (the program's graph "
       "through the aligned nodes) from another input keeps agreement with the program >= 0.99")


def record_edges_suffice(subject, record):
    g = ground_truth(subject)
    record.note(circuit=list(subject.task.circuit), random_edges=g["random_edges"],
                circuit_kept=g["circuit_kept"], random_kept=g["random_kept"],
                agreement_without=g["agreement_without"],
                **{f"without_{e.replace('->', '_to_').replace('.', '_')}": g["agreement_without"][e]
                   for e in I1C_EDGES.get(subject.spec.name, ()) if e in g["agreement_without"]},
                circuit_edges_resampling_cannot_move=[e for e in subject.task.circuit if e in g["unmovable"]])
    record(g["random_kept"] if subject.is_control else g["circuit_kept"], ">=", AGREEMENT_MIN, why=AGREEMENT_WHY)


I1C_EDGES = {"siit-prev-token": ("EMBED->MLP0", "MLP0->L1H0.v", "EMBED->L1H0.v"),
             "siit-hist": ("EMBED->MLP0", "L0H0->LOGITS")}  # the edges the reasons below name


@claim(I1C, source=SOURCE, model="siit-prev-token", control=RANDOM_EDGES,
       refuted="keeping only the program's edges gives agreement {figures}, chance: the model carries the tokens "
               "through MLP0 (path-patching EMBED -> MLP0 alone, with every other edge among the aligned nodes "
               "kept, gives {note.without_EMBED_to_MLP0}; MLP0 -> L1H0.v alone {note.without_MLP0_to_L1H0_v}), not "
               "through the program's value edge EMBED -> L1H0.v ({note.without_EMBED_to_L1H0_v} without it). The "
               "interchange on MLP0's variable cannot forbid it: prev_index depends on positions alone, so any source "
               "gives the same value")
def test_i1c_stated_edges_suffice_prev_token(subject, record):
    record_edges_suffice(subject, record)


@claim(I1C, source=SOURCE, model="siit-hist", control=RANDOM_EDGES,
       mixed="keeping only the program's edges gives agreement {figures}: the model also reads the token in MLP0 "
             "and the head's output in the logits directly, outside the program's graph (every edge among the "
             "aligned nodes but EMBED -> MLP0: {note.without_EMBED_to_MLP0}; but L0H0 -> LOGITS: "
             "{note.without_L0H0_to_LOGITS})")
def test_i1c_stated_edges_suffice_hist(subject, record):
    record_edges_suffice(subject, record)


# --- I2: EAP and ACDC against the stated circuit ---------------------------------------------


@analysis
def discovery(subject) -> dict:
    """EAP's scores, ACDC's circuits over the threshold sweep, and random scores, on 64 fresh
    clean/counterfactual pairs."""
    patcher = program_patcher(subject.model, subject.task)
    dead = set(patcher.unmovable())
    gap = abs(patcher.mean_metric() - patcher.mean_metric(kept=()))
    g = torch.Generator().manual_seed(subject.seed)
    return {"edges": [e for e in patcher.graph.edges if e not in dead], "unmovable": sorted(dead),
            "eap": eap(patcher), "acdc": [acdc(patcher, t * gap)["kept"] for t in ACDC_SWEEP], "gap": gap,
            "random": dict(zip(patcher.graph.edges, torch.rand(len(patcher.graph.edges), generator=g).tolist()))}


def record_auroc(subject, record, method: str):
    d = discovery(subject)
    edges = d["edges"]
    truth = subject.task.guaranteed_edges(edges)
    stated = [e for e in subject.task.circuit if e in edges]
    magnitude = {e: abs(v) for e, v in d["eap"].items()}

    def roc(truth):
        return score_roc(magnitude, truth, edges) if method == "eap" else roc_points(d["acdc"], truth, edges)

    points = roc(truth)
    wrong = wrong_truth(edges, truth, subject.seed)
    figure = area_under(roc(wrong)) if subject.is_control else area_under(points)
    record.note(auroc_against_program_edges=area_under(roc(stated)), program_edges=stated, wrong_truth=wrong,
                auroc_against_wrong_truth=area_under(roc(wrong)),
                random_scores_auroc=auroc(d["random"], truth, edges))  # a null reference, not a control
    if not subject.is_control:  # the ROC, for the report's drawing
        record.note(roc=[[round(x, 4), round(y, 4)] for x, y in points])
    if method == "acdc":
        record.note(acdc_circuit_sizes=[len(c) for c in d["acdc"]], acdc_thresholds=list(ACDC_SWEEP),
                    acdc_circuit_at_1e_3=sorted(d["acdc"][3]))
    top = sorted(edges, key=lambda e: -magnitude[e])[: 2 * len(truth)]
    record.note(truth=truth, edges=len(edges), unmovable=len(d["unmovable"]),
                stated_edges_resampling_cannot_move=[e for e in subject.task.circuit if e not in edges],
                eap_top={e: float(f"{d['eap'][e]:.3g}") for e in top})
    record(figure, ">=", AUROC_MIN, why=AUROC_WHY)


I2A = ("EAP finds the SIIT model's circuit (the edges among the inputs, the aligned nodes and the logits): edge "
       "AUROC of |EAP score| >= 0.8")
I2B = ("ACDC finds the SIIT model's circuit (the edges among the inputs, the aligned nodes and the logits): edge "
       "AUROC over its threshold sweep >= 0.8")


@claim(I2A, source=SOURCE, model="siit-prev-token", control=WRONG_TRUTH,
       mixed="EAP's AUROC {figures}: the model's loss is ~0, the softmax saturated, and EAP's scores are ~1e-4 "
             "(largest |score| {note.eap_top}), so the first-order estimate orders the edges that matter little "
             "better than their neighbours (as H3 on the trained families)")
def test_i2a_eap_auroc_siit_prev_token(subject, record):
    record_auroc(subject, record, "eap")


@claim(I2A, source=SOURCE, model="siit-hist", control=WRONG_TRUTH)
def test_i2a_eap_auroc_siit_hist(subject, record):
    record_auroc(subject, record, "eap")


@claim(I2B, source=SOURCE, model="siit-prev-token", control=WRONG_TRUTH)
def test_i2b_acdc_auroc_siit_prev_token(subject, record):
    record_auroc(subject, record, "acdc")


@claim(I2B, source=SOURCE, model="siit-hist", control=WRONG_TRUTH)
def test_i2b_acdc_auroc_siit_hist(subject, record):
    record_auroc(subject, record, "acdc")
