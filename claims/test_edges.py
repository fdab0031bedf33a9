"""H. Edges: which component reads which, through which input (``fixtures/analysis/edges.py``:
path patching, EAP, ACDC, MIB's faithfulness curve, edge AUROC).

Each claim, its threshold and its control were written before it was measured on any seed,
except where ``formed_on`` says otherwise:

- H1, induction-2l, K-composition (Elhage et al. 2021): the previous-token heads' edges into
  the induction heads' *keys* are needed (H1a); their edges into the *queries* are not (H1b).
  Heads by the rules E1b and E2 use (``claims/test_induction.py``): every layer-0 head whose
  attention to the previous token over the first copy's interval is >= 0.7, every layer-1 head
  whose induction score is >= 0.5.
- H2, prevtoken-nopos, the edge the D4 table implies: the layer-0 MLP feeds the layer-1 head's
  *values* (H2a: needed; D4: ablating MLP0 or the layer-1 values costs 4-17 nats), not its
  queries and keys (H2b; D4: the layer-1 pattern is positional, ablating it costs nothing).
- H3, the methods on the trained families: EAP's edge ranking against random edge sets of the
  same sizes on MIB's faithfulness curve (CPR, with CMD noted: H3a), and EAP against exact
  activation patching, edge by edge (H3b).
- H4, the methods on the tracr models, whose circuits are known: edge AUROC of EAP (H4a) and
  ACDC (H4b) against the circuit read off the weights (``edges.weight_circuit``). Every
  component outside a tracr circuit is exactly zero, so no method can rank a non-circuit edge
  above zero: on these models the AUROC measures recall only (``claims/test_discovery.py``
  scores the same methods on SIIT models, whose non-circuit nodes are active). The notes count the non-circuit edges
  that are zero by construction and the circuit edges resampling cannot move (they read only
  directions every input shares: BOS and tracr's constant "one"), with the AUROC under zero
  ablation beside it.
- H5, the library: TransformerLens 4.3's ``attribution_patch`` against ours.

Inputs: clean and counterfactual examples are fresh samples of the model's own task (as
``test_circuits.py``); ablation is resample (path patching from the paired counterfactual).
Figures in nats are the loss on the task's positions (minus the metric), per example, averaged.

Controls (issue 24's rules): the same trained model with a wrong hypothesis of the same size,
chosen by the hypothesis' own selection rule ranked lowest (H1a: the layer-0 heads the
previous-token rule ranks lowest; H3a/b: the EAP ranking reversed); for "X is not needed", the
same size with an edge that is (H1b, H2b); for agreement figures, scores with no information
(random scores: H3b, H4) or the other sign convention (H5). Edges whose sender the ablation
cannot move (``EdgePatcher.unmovable``: POS under same-length resampling, a node computed from
positions alone, a direction every input shares such as tracr's BOS and "one" directions) are
left out of every ranking figure and counted in the notes: no method can be judged on them.
"""

import math

import torch
from scipy.stats import spearmanr

from fixtures.analysis.circuits import minus_loss
from fixtures.analysis.edges import (EdgePatcher, acdc, area_under, auroc, eap, faithfulness_curve, patching_effects,
                                     permutation_p, program_patcher, random_orderings, roc_points, score_roc,
                                     split_edge, top_edges, weight_circuit)
from fixtures.analysis.heads import attention_patterns, head_scores, random_tokens
from fixtures.claims import analysis, claim

SOURCE = "Conmy et al. 2023 (ACDC); Syed et al. 2023 (EAP); MIB 2025; Wang et al. 2022 (path patching)"
EXAMPLES = 64
PREV_TOKEN_MIN = 0.7  # E1b's threshold (claims/test_induction.py)
INDUCTION_MIN = 0.5  # E2's threshold
RANDOM_ORDERINGS = 19  # the permutation p-value (1 + beaten-by) / 20 reaches 0.05 only when it beats all 19
CURVE_EXAMPLES = 8  # MIB curves: 4-6 forward passes per ordering, 21 orderings per subject (cost is linear in it)
SEEDS = (0, 1, 2)  # the claims that run many forward passes per seed (H3, H5): three seeds, for the run's time
ALPHA = 0.05  # one-sided 5% level for "beats random"


# --- tasks ----------------------------------------------------------------------------------


def induction_patcher(subject, n: int = EXAMPLES) -> EdgePatcher:
    task = subject.task
    clean, starts = task.sample(n, torch.Generator().manual_seed(30_000))
    counterfactual, _ = task.sample(n, torch.Generator().manual_seed(30_001))
    repeats = task.masks(starts)[1]  # [n, pos - 1]: queries whose next token an earlier copy predicts

    def metric(logits, tokens):
        return minus_loss(logits[:, :-1], tokens[:, 1:], repeats)

    return EdgePatcher(subject.model, clean, counterfactual, metric)


def previous_token_patcher(subject, n: int = EXAMPLES) -> EdgePatcher:
    task = subject.task
    clean = task.sample(n, torch.Generator().manual_seed(30_000), "cpu")
    counterfactual = task.sample(n, torch.Generator().manual_seed(30_001), "cpu")
    def metric(logits, tokens):  # position i predicts token i - 1
        return minus_loss(logits[:, 1:], tokens[:, :-1], torch.ones(tokens.shape[0], task.n_ctx - 1, dtype=torch.bool))

    return EdgePatcher(subject.model, clean, counterfactual, metric)


def tracr_patcher(subject, method: str = "resample", n: int = 64) -> EdgePatcher:
    return program_patcher(subject.model, subject.task, method, n)


PATCHERS = {"induction-2l": induction_patcher, "prevtoken-nopos": previous_token_patcher}


# --- H1: K-composition on induction-2l ---------------------------------------------------------


@analysis
def composition_heads(subject) -> dict:
    """E1b's previous-token score over the first copy's interval per layer-0 head, E2's
    induction score per layer-1 head, and the heads each rule selects (best first)."""
    task = subject.task
    interval = (task.seq_len - 1) // task.n_repeats
    pattern = attention_patterns(subject.model, random_tokens(64, task.seq_len, task.d_vocab, seed=0))[0]
    prev = pattern.diagonal(offset=-1, dim1=-2, dim2=-1).mean(0)[:, :interval].mean(-1)  # [head]
    ind = head_scores(subject.model, n_seqs=64, n=28, seed=0)["induction"][1]  # [head]
    prev_order = [int(h) for h in prev.argsort(descending=True)]
    return {"previous_token": [round(float(x), 4) for x in prev], "induction": [round(float(x), 4) for x in ind],
            "previous_token_heads": [h for h in prev_order if prev[h] >= PREV_TOKEN_MIN],
            "induction_heads": [int(h) for h in ind.argsort(descending=True) if ind[h] >= INDUCTION_MIN],
            "previous_token_order": prev_order}


@analysis
def k_composition(subject) -> dict:
    """Loss on the repeated copies with the previous-token heads' edges into the induction
    heads' keys, or queries, path-patched; and with the lowest-ranked layer-0 heads' key edges."""
    heads = composition_heads(subject)
    prev, ind = heads["previous_token_heads"], heads["induction_heads"]
    lowest = heads["previous_token_order"][::-1][: len(prev)]
    patcher = induction_patcher(subject)

    def loss(senders, receiver_input):
        edges = [f"L0H{s}->L1H{r}.{receiver_input}" for s in senders for r in ind]
        return -patcher.mean_metric(ablated=edges)

    out = {"clean": -patcher.mean_metric(), "previous_token_heads": prev, "induction_heads": ind,
           "lowest_ranked_heads": lowest, "lowest_overlaps": bool(set(lowest) & set(prev))}
    if prev and ind:
        out |= {"keys": loss(prev, "k"), "queries": loss(prev, "q"), "lowest_keys": loss(lowest, "k")}
    return out


def takes_back(subject, loss: float, clean: float) -> float:
    """The share of ln(d_vocab - 1) (a perfect copier's gain) an ablation takes back, capped as E4."""
    ceiling = math.log(subject.task.d_vocab - 1)
    return (min(loss, ceiling) - clean) / ceiling


H1A_WHY = "E4's bar: half of what a perfect copier gains; E3 puts the model's own gain at 3/4 or more of it"
SOURCE_H1 = f"{SOURCE}; Elhage et al. 2021 (K-composition); Olsson et al. 2022; CLAIMS.md E"


@claim("K-composition: path-patching the previous-token heads' edges into the induction heads' keys from "
       "another sequence takes back at least half of ln(d_vocab - 1) of the loss on the repeated copies",
       source=SOURCE_H1, model="induction-2l",
       control="component:the same number of layer-0 heads that the previous-token rule ranks lowest, into the "
               "same keys: their edges must take back less")
def test_h1a_previous_token_edges_into_keys_are_needed(subject, record):
    k = k_composition(subject)
    record.note(**{key: k[key] for key in ("clean", "previous_token_heads", "induction_heads", "lowest_ranked_heads")},
                **{f"loss_{key}": k[key] for key in ("keys", "queries", "lowest_keys") if key in k})
    if "keys" not in k:
        record(float("nan"), ">=", 0.5, why=H1A_WHY, inconclusive="no head passes the selection rules")
        return
    if subject.is_control:
        overlap = "fewer unselected layer-0 heads than selected ones: no wrong hypothesis of the same size"
        record(takes_back(subject, k["lowest_keys"], k["clean"]), ">=", 0.5, why=H1A_WHY,
               inconclusive=overlap if k["lowest_overlaps"] else None)
        return
    record(takes_back(subject, k["keys"], k["clean"]), ">=", 0.5, why=H1A_WHY)


H1B_WHY = "a fifth of H1a's 'needed' bar: what a query edge may carry without the copying depending on it"


@claim("K-composition, not Q-composition: path-patching the previous-token heads' edges into the induction "
       "heads' queries takes back at most a tenth of ln(d_vocab - 1) of the loss on the repeated copies",
       source=SOURCE_H1, model="induction-2l",
       control="component:the same heads' edges into the keys instead (H1a), which are needed: they must take "
               "back more")
def test_h1b_previous_token_edges_into_queries_are_not_needed(subject, record):
    k = k_composition(subject)
    record.note(clean=k["clean"], previous_token_heads=k["previous_token_heads"], induction_heads=k["induction_heads"],
                **{f"loss_{key}": k[key] for key in ("keys", "queries") if key in k})
    if "keys" not in k:
        record(float("nan"), "<=", 0.1, why=H1B_WHY, inconclusive="no head passes the selection rules")
        return
    loss = k["keys"] if subject.is_control else k["queries"]
    record(takes_back(subject, loss, k["clean"]), "<=", 0.1, why=H1B_WHY)


# --- H2: the layer-0 MLP feeds the layer-1 head's values (prevtoken-nopos) ---------------------

MLP_TO_HEAD = {i: f"MLP0->L1H0.{i}" for i in "qkv"}
SOLVED = 0.05  # nats: CLAIMS.md D1, as test_previous_token.py
MATTERS = 1.0  # nats of loss increase: 20x the solved criterion, as test_previous_token.py


@analysis
def mlp_to_head(subject) -> dict[str, float]:
    """Loss of predicting the previous token with chosen edges from MLP0 into L1H0 path-patched."""
    patcher = previous_token_patcher(subject)
    sets = {"v": "v", "k": "k", "qk": "qk", "vk": "vk"}
    return {"clean": -patcher.mean_metric(),
            **{name: -patcher.mean_metric(ablated=[MLP_TO_HEAD[i] for i in inputs]) for name, inputs in sets.items()}}


SOURCE_H2 = f"{SOURCE}; 000_438ef08236a464c5.txt; CLAIMS.md D4"


@claim("the layer-0 MLP feeds the layer-1 head's values: path-patching the edge MLP0 -> L1H0.v from another "
       "sequence raises the loss by >= 1 nat", source=SOURCE_H2, model="prevtoken-nopos",
       control="component:the edge MLP0 -> L1H0.k instead (D4: the layer-1 pattern does not matter)",
       vacuous="the value edge costs {figures} nats, but the key edge, the control, costs {control_figures}: under "
               "resampling the key edge matters too (D4's mean ablation of the pattern leaves it positional; an "
               "MLP0 output from another sequence in the keys does not), so this control cannot fail for the "
               "right reason on this model")
def test_h2a_layer0_mlp_feeds_layer1_values(subject, record):
    m = mlp_to_head(subject)
    record.note(**{f"loss_{k}": v for k, v in m.items()})
    ablated = m["k"] if subject.is_control else m["v"]
    record(ablated - m["clean"], ">=", MATTERS, why="D4's bar: 20x the solved criterion")


@claim("the layer-0 MLP does not feed the layer-1 head's queries and keys: path-patching MLP0 -> L1H0.q and "
       "MLP0 -> L1H0.k from another sequence leaves the task solved (loss < 0.05 nats)",
       source=SOURCE_H2, model="prevtoken-nopos",
       control="component:MLP0 -> L1H0.v and MLP0 -> L1H0.k instead (two edges, one of them the values)",
       refuted="path-patching the query and key edges gives loss {figures} nats, almost all of it through the "
               "key edge alone ({note.loss_k}): the layer-1 pattern is positional on average (D4's mean ablation) "
               "but its keys read MLP0's token-dependent output, and another sequence's there moves the pattern")
def test_h2b_layer0_mlp_does_not_feed_layer1_pattern(subject, record):
    m = mlp_to_head(subject)
    record.note(**{f"loss_{k}": v for k, v in m.items()})
    record(m["vk"] if subject.is_control else m["qk"], "<", SOLVED, why="the D1 criterion for a solved task")


# --- H3: EAP on the trained families -------------------------------------------------------


@analysis
def mib_curves(subject) -> dict:
    """MIB's faithfulness curve of the EAP ranking, of the reversed ranking and of
    ``RANDOM_ORDERINGS`` random orderings (distinct, seeded by the model's seed; their CPR, CMD
    and faithfulness at each size)."""
    patcher = PATCHERS[subject.spec.name](subject, CURVE_EXAMPLES)
    dead = set(patcher.unmovable())
    scores = eap(patcher)
    live = [e for e in top_edges(scores, len(scores)) if e not in dead]
    order = live + [e for e in patcher.graph.edges if e in dead]  # what no ablation moves, last
    full, empty = patcher.mean_metric(), patcher.mean_metric(kept=())
    curve = faithfulness_curve(patcher, order, full=full, empty=empty)
    reverse = faithfulness_curve(patcher, live[::-1] + order[len(live):], full=full, empty=empty)
    pool = [faithfulness_curve(patcher, o, full=full, empty=empty)
            for o in random_orderings(patcher.graph.edges, RANDOM_ORDERINGS, seed=subject.seed)]
    return {"eap": curve, "reversed": reverse, "random_cpr": [c["cpr"] for c in pool],
            "random_cmd": [c["cmd"] for c in pool], "random_faithfulness": [c["faithfulness"] for c in pool],
            "edges": len(patcher.graph.edges), "unmovable": len(dead), "m_full": full, "m_empty": empty}


def record_curve(subject, record):
    c = mib_curves(subject)
    curve = c["reversed"] if subject.is_control else c["eap"]
    pool = c["random_cpr"]
    record.note(curve_faithfulness=[round(f, 4) for f in curve["faithfulness"]], curve_sizes=curve["sizes"],
                curve_counts=curve["counts"],
                cpr=curve["cpr"], cmd=curve["cmd"], cmd_p=permutation_p(curve["cmd"], c["random_cmd"], False),
                random_cpr_median=sorted(pool)[len(pool) // 2],
                random_cmd_median=sorted(c["random_cmd"])[len(pool) // 2],
                random_faithfulness_median=[round(sorted(f)[len(f) // 2], 4) for f in zip(*c["random_faithfulness"])],
                random_orderings=len(pool), smallest_p=1 / (len(pool) + 1), edges=c["edges"],
                unmovable_edges=c["unmovable"])
    record(permutation_p(curve["cpr"], pool), "<=", ALPHA,
           why=f"one-sided 5% level against {len(pool)} random orderings "
               f"(smallest attainable p {1 / (len(pool) + 1):.3f})")


REVERSED = "component:the EAP ranking reversed (the edges it ranks lowest first): it must not beat random orderings"
CURVE_CLAIM = ("EAP's edge ranking recovers the behaviour faster than random edge sets of the same sizes: its CPR "
               "(MIB's area under faithfulness over 0.1-100% of the edges) beats random orderings' at p <= 0.05; "
               "CMD (the area under |1 - f|) is noted, and equals 0.999 - CPR wherever 0 <= f <= 1")


@claim(CURVE_CLAIM, source=SOURCE, model="induction-2l", control=REVERSED, seeds=SEEDS)
def test_h3a_eap_curve_beats_random_induction(subject, record):
    record_curve(subject, record)


@claim(CURVE_CLAIM, source=SOURCE, model="prevtoken-nopos", control=REVERSED, seeds=SEEDS,
       refuted="EAP's CPR {note.cpr} against random orderings' median {note.random_cpr_median} (p {figures}): "
               "EAP's ranking is no better than chance here, because the model's loss is near zero (0.006-0.014 "
               "nats) and the softmax is saturated, so the gradient EAP multiplies by is nearly zero on the edges "
               "that matter (H3b: Spearman with exact patching {note.spearman})")
def test_h3a_eap_curve_beats_random_previous_token(subject, record):
    record.note(spearman=spearman_with_patching(subject))
    record_curve(subject, record)


@analysis
def eap_against_patching(subject) -> dict:
    """Per measurable edge: EAP's estimate and the exact effect of path-patching that edge alone."""
    patcher = PATCHERS[subject.spec.name](subject)  # 64 examples: with 16 the many small effects' order is noise
    dead = set(patcher.unmovable())
    edges = [e for e in patcher.graph.edges if e not in dead]
    scores, exact = eap(patcher), patching_effects(patcher, edges)
    g = torch.Generator().manual_seed(subject.seed)
    return {"edges": edges, "eap": [scores[e] for e in edges], "exact": [exact[e] for e in edges],
            "random": torch.rand(len(edges), generator=g).tolist(), "unmovable": len(dead)}


def spearman_with_patching(subject, scores: str = "eap") -> float:
    a = eap_against_patching(subject)
    return float(spearmanr(a[scores], a["exact"]).statistic)


def record_spearman(subject, record):
    a = eap_against_patching(subject)
    rho = spearman_with_patching(subject, "random" if subject.is_control else "eap")
    worst = sorted(range(len(a["edges"])), key=lambda i: a["exact"][i])[:3]
    record.note(edges=len(a["edges"]), unmovable_edges=a["unmovable"],
                largest_effects={a["edges"][i]: [round(a["exact"][i], 4), round(a["eap"][i], 4)] for i in worst})
    record(rho, ">=", 0.8, why="a strong monotone agreement (Spearman's 'very strong' band starts at 0.8); EAP is "
                                "a first-order estimate (Syed et al. 2023), exact where the model is linear")


RANDOM_SCORES = "component:edge scores drawn at random (no information): they must not agree"


@claim("EAP ranks edges as exact activation patching does: Spearman >= 0.8 between EAP's estimate and the "
       "exact effect of path-patching each edge alone", source=SOURCE, model="induction-2l",
       control=RANDOM_SCORES, seeds=SEEDS, formed_on=(0,),
       refuted="Spearman {figures}: EAP misorders the edges whose effect is largest (effect, EAP: "
               "{note.largest_effects}); the loss on the repeats is ~0.2 nats, where the softmax is saturated and "
               "the first-order estimate is far below the exact effect (Kramar et al. 2024's saturation failure)")
def test_h3b_eap_agrees_with_patching_induction(subject, record):
    record_spearman(subject, record)


@claim("EAP ranks edges as exact activation patching does: Spearman >= 0.8 between EAP's estimate and the "
       "exact effect of path-patching each edge alone", source=SOURCE, model="prevtoken-nopos",
       control=RANDOM_SCORES, seeds=SEEDS,
       refuted="Spearman {figures}: the loss is near zero, the softmax saturated, and EAP's gradient nearly zero "
               "on the edges that matter (exact effect, EAP: {note.largest_effects}; the largest, MLP0 -> MLP1, "
               "even gets the wrong sign)")
def test_h3b_eap_agrees_with_patching_previous_token(subject, record):
    record_spearman(subject, record)


# --- H4: EAP and ACDC on the tracr models ---------------------------------------------------

ACDC_SWEEP = tuple(10.0 ** -x for x in range(7)) + (1e-9,)  # thresholds, in units of |m(M) - m(empty)|
AUROC_MIN = 0.9  # see record_auroc


@analysis
def tracr_discovery(subject, method: str = "resample") -> dict:
    """EAP scores, ACDC's circuits over the threshold sweep, and the circuit read off the weights."""
    patcher = tracr_patcher(subject, method)
    dead = set(patcher.unmovable())
    gap = abs(patcher.mean_metric() - patcher.mean_metric(kept=()))
    circuits = [acdc(patcher, t * gap)["kept"] for t in ACDC_SWEEP]
    g = torch.Generator().manual_seed(subject.seed)
    return {"truth": weight_circuit(subject.model), "edges": [e for e in patcher.graph.edges if e not in dead],
            "unmovable": sorted(dead), "unread": sorted(set(patcher.unmovable(read=True)) - dead),
            "eap": eap(patcher), "acdc": circuits, "gap": gap,
            "random": dict(zip(patcher.graph.edges, torch.rand(len(patcher.graph.edges), generator=g).tolist()))}


def tracr_auroc(d: dict, method: str) -> float:
    if method == "eap":
        return auroc({e: abs(v) for e, v in d["eap"].items()}, d["truth"], d["edges"])
    if method == "acdc":
        return area_under(roc_points(d["acdc"], d["truth"], d["edges"]))
    return auroc(d["random"], d["truth"], d["edges"])


def record_auroc(subject, record, method: str):
    d = tracr_discovery(subject)
    edges, truth = d["edges"], d["truth"]
    figure = tracr_auroc(d, "random" if subject.is_control else method)
    if not subject.is_control:  # the ROC points, for a drawing
        points = roc_points(d["acdc"], truth, edges) if method == "acdc" else \
            score_roc({e: abs(v) for e, v in d["eap"].items()}, truth, edges)
        record.note(roc=[[round(x, 4), round(y, 4)] for x, y in points])
    if method == "acdc":
        record.note(acdc_circuit_sizes=[len(c) for c in d["acdc"]], acdc_thresholds=list(ACDC_SWEEP))
    negatives = [e for e in edges if e not in truth]
    record.note(truth=truth, circuit_edges=len(set(truth) & set(edges)), edges=len(edges),
                unmovable=d["unmovable"], circuit_edges_resampling_cannot_move=[e for e in d["unread"] if e in truth],
                non_circuit_edges_zero_by_construction=sum(e in d["unread"] for e in negatives),
                non_circuit_edges=len(negatives),
                eap_on_circuit_edges={e: float(f"{d['eap'][e]:.3g}") for e in truth if e in edges},
                auroc_under_zero_ablation=tracr_auroc(tracr_discovery(subject, "zero"), method))
    record(figure, ">=", AUROC_MIN,
           why="outside the compiled circuit every component is exactly zero, so a method that reads causal "
               "effects should rank nearly every circuit edge above the dead ones; 0.9 leaves room for circuit "
               "edges the resampling moves too little")


SOURCE_H4 = f"{SOURCE}; Lindner et al. 2023 (tracr); Gupta et al. 2024 (InterpBench: edge AUROC)"
H4_REFUTED = ("AUROC {figures}: the circuit edges that only carry what every input shares "
              "({note.circuit_edges_resampling_cannot_move}: BOS and tracr's constant 'one' direction) are exactly "
              "zero under resampling and tie with the non-circuit edges, all "
              "{note.non_circuit_edges_zero_by_construction} "
              "of which are zero by construction; every other circuit edge ranks first. Under zero ablation "
              "{note.auroc_under_zero_ablation}. Resample ablation cannot see constants, and on tracr weights this "
              "AUROC measures recall only")


@claim("EAP finds the compiled circuit of tracr-prev-token: edge AUROC >= 0.9", source=SOURCE_H4,
       model="tracr-prev-token", control=RANDOM_SCORES,
       refuted=H4_REFUTED)
def test_h4a_eap_auroc_prev_token(subject, record):
    record_auroc(subject, record, "eap")


@claim("EAP finds the compiled circuit of tracr-hist: edge AUROC >= 0.9", source=SOURCE_H4,
       model="tracr-hist", control=RANDOM_SCORES,
       refuted=H4_REFUTED)
def test_h4a_eap_auroc_hist(subject, record):
    record_auroc(subject, record, "eap")


@claim("EAP finds the compiled circuit of tracr-frac-prevs: edge AUROC >= 0.9", source=SOURCE_H4,
       model="tracr-frac-prevs", control=RANDOM_SCORES,
       refuted=H4_REFUTED)
def test_h4a_eap_auroc_frac_prevs(subject, record):
    record_auroc(subject, record, "eap")


@claim("ACDC finds the compiled circuit of tracr-prev-token: edge AUROC over its threshold sweep >= 0.9",
       source=SOURCE_H4, model="tracr-prev-token", control=RANDOM_SCORES,
       refuted=H4_REFUTED)
def test_h4b_acdc_auroc_prev_token(subject, record):
    record_auroc(subject, record, "acdc")


@claim("ACDC finds the compiled circuit of tracr-hist: edge AUROC over its threshold sweep >= 0.9",
       source=SOURCE_H4, model="tracr-hist", control=RANDOM_SCORES,
       refuted=H4_REFUTED)
def test_h4b_acdc_auroc_hist(subject, record):
    record_auroc(subject, record, "acdc")


@claim("ACDC finds the compiled circuit of tracr-frac-prevs: edge AUROC over its threshold sweep >= 0.9",
       source=SOURCE_H4, model="tracr-frac-prevs", control=RANDOM_SCORES,
       refuted=H4_REFUTED)
def test_h4b_acdc_auroc_frac_prevs(subject, record):
    record_auroc(subject, record, "acdc")


# --- H5: TransformerLens 4.3's attribution patching against ours ----------------------------

TL_EXAMPLES = 4


@analysis
def library_attribution(subject) -> dict:
    """TransformerLens's ``attribution_patch`` node scores (denoising: gradient at the
    counterfactual run), summed over positions and averaged over examples, beside our EAP's
    per-sender sums under both conventions. Edge granularity does not run on a native bridge
    (NotImplementedError: its AttentionBridge has no per-head result hook), so the comparison
    is per sender: a sender's node score equals the sum of its outgoing edges' scores."""
    from transformer_lens.tools.analysis.attribution_patching import EdgeAttributionConfig, attribution_patch

    from fixtures.interop import to_bridge

    patcher = previous_token_patcher(subject, TL_EXAMPLES)
    bridge = to_bridge(subject.model, device=patcher.clean.device)
    theirs: dict[str, float] = {}
    for i in range(TL_EXAMPLES):
        def metric(logits, i=i):
            return patcher.metric_fn(logits, patcher.clean[i:i + 1])[0]

        result = attribution_patch(bridge, patcher.clean[i:i + 1], patcher.counterfactual[i:i + 1], metric,
                                   EdgeAttributionConfig(granularity="node"))
        for node, score in result.node_scores.items():
            name = {"embed": "EMBED", "mlp_out": f"MLP{node.layer}"}.get(node.kind, f"L{node.layer}H{node.head}")
            theirs[name] = theirs.get(name, 0.0) + score / TL_EXAMPLES

    def per_sender(scores):
        return {s: sum(v for e, v in scores.items() if split_edge(e)[0] == s) for s in patcher.graph.senders}

    return {"library": theirs, "denoising": per_sender(eap(patcher, at="counterfactual")),
            "noising": per_sender(eap(patcher, at="clean"))}


@claim("TransformerLens 4.3's attribution_patch agrees with our EAP in its own (denoising) convention: per "
       "sender, max |theirs - ours| <= 1e-4 of the largest score", source=f"{SOURCE}; TransformerLens 4.3 "
       "attribution_patching (issue 1742: an exact check and a pinned sign convention)", model="prevtoken-nopos",
       seeds=SEEDS,
       control="component:our EAP in the noising convention (gradient at the clean run, Syed et al.): it must "
               "differ, or the check cannot tell the conventions apart")
def test_h5_library_attribution_agrees(subject, record):
    a = library_attribution(subject)
    ours = a["noising"] if subject.is_control else a["denoising"]
    scale = max(abs(v) for v in ours.values())
    gap = max(abs(a["library"][s] - ours[s]) for s in a["library"])
    record.note(library={k: round(v, 6) for k, v in a["library"].items()},
                ours={k: round(v, 6) for k, v in ours.items()}, examples=TL_EXAMPLES,
                edge_granularity="NotImplementedError on a native TransformerBridge (no per-head result hook)")
    record(gap / scale, "<=", 1e-4, why="float32 carries ~6e-8 per operation; 1e-4 allows the thousands of "
                                        "roundings a sum over positions and d_model accumulates")
