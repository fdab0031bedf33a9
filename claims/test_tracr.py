"""T. The circuit instruments on ground truth: RASP programs compiled by tracr (Lindner et al.
2023) into this model family (``fixtures/tracr_models.py``), whose circuits are known by
construction. A tracr model computes its program with a few components and leaves the rest
exactly zero, so the circuit of each is read off the weights, not found by search:

    the hypothesis is every node whose nonzero output weights write residual directions that
    the unembedding, or a later node of the hypothesis, reads with nonzero weights

(``compiled_circuit``: traced back from W_U; a head writes through its OV circuit W_V W_O and
reads through W_Q, W_K and W_V, an MLP writes through W_out and reads through W_in). The
models, and the circuits that rule gives (written before any was measured):

- T1, tracr-prev-token: MLP0 maps indices to index - 1, L1H0 attends from index i to i - 1
  and copies the token: EMBED, POS, MLP0, L1H0 (L0H0 and MLP1 are all zeros).
- T2, tracr-hist: L0H0 attends to BOS and every earlier equal token, MLP0 decodes the
  1 / (count + 1) it leaves into the count: EMBED, L0H0, MLP0 (tracr's W_pos writes the
  index directions, but nothing reads them: POS is outside).
- T3, tracr-frac-prevs: MLP0 computes "token == x" as a number, L1H0 averages it over the
  positions so far: EMBED, POS, MLP0, L1H0.

Inputs: BOS and 6 uniform tokens, 256 clean and 256 counterfactual sequences (another sample
of the same task, so example i's ablated nodes are resampled from sequence i of the other
batch). Metric: minus the loss on the positions where the program defines an output, against
the program's output (the cross-entropy of the one-hot readout for T1 and T2, the squared
error of the number for T3). The claims read resample ablation, the field's default; the
figures under zero ablation are noted beside them and claimed in T*d, because positional
information is where the ground truth depends on the method: a counterfactual of the same
length has the same positional embedding, so resampling POS, or a node computed from
positions alone (T1's MLP0, index - 1), replaces it by itself and removes nothing, while zero
ablation removes it (Miller et al. 2024; G1c in test_circuits.py is the same effect).

Controls, on the same compiled model: for faithfulness (T*a) and the random-circuit baseline
(T*c), a wrong hypothesis of the same size that shares none of the circuit's chosen nodes
(``WRONG_HYPOTHESIS``: the circuit's nodes other than its embeddings replaced by the nodes
outside it that the model needs least; where the circuit holds more than half of the candidates
there is none, and the claim is uncontrolled), which must score low; for minimality (T*b, T*d), the circuit padded with the node outside it
that the model needs least (``UNNEEDED_NODE``), whose drop must be below the threshold. The
untrained initialisation is no control here: it has no behaviour to recover, so its figures
are undefined (inconclusive), and under zero ablation its "behaviour" (its loss against the
all-zero model's uniform guess) is defined and arbitrary (as T2d's control it passed with a
smallest drop of 0.236). What these models cannot test: every node outside their circuits
outputs exactly zero (tracr-hist's POS is written but never read), so a padded zero node
cannot be ablated at all (its control is inconclusive), and faithfulness 1.0 holds whatever
the ablation does to those nodes. A pool of 3 or 14 random circuits cannot reach p < 0.05,
so T*c decide nothing (inconclusive).

Nothing outside a compiled circuit is read, so these claims test the hook plumbing and a
method's recall, nothing more (``fixtures.tracr_padding`` pads the models with active heads and
MLPs that write where nothing reads: ``fixtures/tests/test_tracr_padding.py`` shows that the
instruments see the padding as unread, and no claim is made on it). Ground truth whose
non-circuit nodes are active and read is the SIIT models' (``claims/test_discovery.py``).

The random-circuit baseline (T*c) decides by the binomial p-value (``fixtures.stats``) of a pool
that varies only what the rule chose from; the nodes resampling cannot remove or nothing reads
stay as they are in the circuit.
"""

import torch

from fixtures.analysis.circuits import UNNEEDED_NODE, WRONG_HYPOTHESIS, CircuitTask, Hypothesis, all_nodes, \
    circuit_score, faithfulness_under, record_circuit
from fixtures.claims import analysis, claim

SOURCE_T = "Lindner et al. 2023 (tracr); Conmy et al. 2023 (ACDC on tracr models); Chan et al. 2022; Shi et al. 2024"
EXAMPLES = 256
TOLERANCE = {True: 0.1,  # nats: as test_circuits.py; the one-hot readout's gap is ~0.6-0.9 nats
             False: 0.01}  # squared error: under a tenth of the ~0.15 of answering with another sequence's fractions
FAITHFUL = 0.99  # the figure: a compiled circuit recovers everything, up to float rounding
MINIMAL_DROP = 0.05  # as test_circuits.py: each node carries at least 5% of the behaviour
SIGNIFICANCE = 0.05  # Shi et al. 2024's sufficiency test: the binomial p-value against 0.9, at 5%
# --- the hypothesis, read off the weights --------------------------------------------------


def _rows(*mats: torch.Tensor) -> set[int]:
    """Residual directions a node reads: rows of its input matrices with a nonzero entry."""
    return {int(i) for m in mats for i in torch.nonzero(m.abs().sum(-1)).flatten()}


def _cols(*mats: torch.Tensor) -> set[int]:
    """Residual directions a node writes: columns of its output matrices with a nonzero entry."""
    return {int(i) for m in mats for i in torch.nonzero(m.abs().reshape(-1, m.shape[-1]).sum(0)).flatten()}


def compiled_circuit(model) -> list[str]:
    """Every node whose nonzero output weights write residual directions that the unembedding
    or a later node of the circuit reads with nonzero weights, traced back from W_U. Heads of
    one layer read the residual before any of them writes, so a layer's heads are judged
    together, after its MLP."""
    W = model.effective_state()
    read = _rows(W["W_U"])
    keep = []
    for layer in reversed(range(model.cfg.n_layers)):
        pre = f"blocks.{layer}"
        if model.cfg.d_mlp and (_cols(W[f"{pre}.mlp.W_out"], W[f"{pre}.mlp.b_out"][None]) & read):
            keep.append(f"MLP{layer}")
            read |= _rows(W[f"{pre}.mlp.W_in"])
        reads = set()
        for h in range(model.cfg.n_heads):
            ov = W[f"{pre}.attn.W_V"][h] @ W[f"{pre}.attn.W_O"][h]  # [d_model, d_model]
            if _cols(ov, W[f"{pre}.attn.b_V"][h][None] @ W[f"{pre}.attn.W_O"][h]) & read:
                keep.append(f"L{layer}H{h}")
                reads |= _rows(W[f"{pre}.attn.W_Q"][h], W[f"{pre}.attn.W_K"][h], ov)
        read |= reads
    if "POS" in all_nodes(model) and _cols(W["W_pos"]) & read:
        keep.append("POS")
    if _cols(W["W_E"]) & read:
        keep.append("EMBED")
    return list(Hypothesis(tuple(keep)).nodes)


# --- the circuit task and the scores ---------------------------------------------------------


def program_task(subject) -> CircuitTask:
    task = subject.task
    clean = task.sample(EXAMPLES, torch.Generator().manual_seed(30_000))
    counterfactual = task.sample(EXAMPLES, torch.Generator().manual_seed(30_001))

    targets = task.targets(clean)  # every ablated run is scored on the clean inputs

    def metric(logits, tokens):
        same = tokens.shape == clean.shape and torch.equal(tokens.cpu(), clean)
        return -task.losses(logits, tokens, tuple(t.to(tokens.device) for t in targets) if same else None)

    what = "cross-entropy of the program's output" if task.categorical else "squared error of the program's output"
    return CircuitTask(clean, counterfactual, metric, TOLERANCE[task.categorical],
                       f"minus the {what} where the program defines one; counterfactual: another sample of the task")


@analysis
def tracr_circuit(subject, method: str = "resample") -> dict:
    """Every circuit figure of the compiled circuit under ``method``, with its controls on the
    same model, the faithfulness under the other ablation values and of the circuit without
    POS beside it (notes)."""
    model, task = subject.model, program_task(subject)
    nodes = compiled_circuit(model)
    hypothesis = Hypothesis(tuple(nodes))
    score = circuit_score(model, task, hypothesis, method=method)
    score["per_example_faithfulness_under"] = {
        m: faithfulness_under(model, task, hypothesis, m)["per_example_faithfulness"]
        for m in ("resample", "mean", "zero") if m != method}
    if "POS" in nodes:
        without = Hypothesis(tuple(n for n in nodes if n != "POS"))
        score["without_pos_per_example_faithfulness"] = {
            m: faithfulness_under(model, task, without, m)["per_example_faithfulness"] for m in ("resample", "zero")}
    return score


def record_faithful(subject, record):
    score = tracr_circuit(subject)
    record.note(under_other_ablations=score["per_example_faithfulness_under"],
                **({"without_pos": score["without_pos_per_example_faithfulness"]}
                   if "without_pos_per_example_faithfulness" in score else {}))
    record_circuit(record, score, "per_example_faithfulness", ">=", FAITHFUL,
                   why="a compiled circuit recovers every example's behaviour, up to float rounding",
                   control=subject.is_control)


def record_minimal(subject, record, method: str):
    """The smallest minimality drop under ``method``; on the control (``UNNEEDED_NODE``) the
    drop of the node padded in, which must be below the threshold."""
    score = tracr_circuit(subject, method)
    other = "zero" if method == "resample" else "resample"
    record.note(**{f"minimality_drops_under_{other}": tracr_circuit(subject, other)["minimality_drops"]})
    record_circuit(record, score, "smallest_drop", ">=", MINIMAL_DROP,
                   why="every node carries at least 5% of the behaviour", control=subject.is_control)


def record_beats_random(subject, record):
    score = tracr_circuit(subject)
    record.note(random_as_faithful=sum(f >= FAITHFUL for f in score["random_faithfulness"]))
    record_circuit(record, score, "random_binomial_p", "<=", SIGNIFICANCE,
                   why="Shi et al. 2024's sufficiency test: one-sided binomial against 'H beats a random circuit with "
                       "probability 0.9', ties one half, at 5%", control=subject.is_control)


# --- T1: the previous token ------------------------------------------------------------------

SOURCE_T1 = f"{SOURCE_T}; fixtures/tracr_models.py prev_token"
PREV = "tracr-prev-token"


@claim("the compiled previous-token circuit (EMBED, POS, MLP0, L1H0, read off the weights) is faithful: "
       "with every other node resample-ablated, per-example faithfulness >= 0.99", source=SOURCE_T1,
       model=PREV, control=WRONG_HYPOTHESIS)
def test_t1a_prev_token_circuit_is_faithful(subject, record):
    record_faithful(subject, record)


@claim("the compiled previous-token circuit is minimal under resample ablation: removing any one of its "
       "nodes lowers faithfulness by >= 0.05", source=SOURCE_T1, model=PREV, control=UNNEEDED_NODE)
def test_t1b_prev_token_circuit_is_minimal_under_resampling(subject, record):
    record_minimal(subject, record, "resample")


@claim("the compiled previous-token circuit beats random circuits of its size: Shi et al.'s binomial test "
       "against 0.9 at p <= 0.05, over the circuits that vary what it chose", source=SOURCE_T1,
       model=PREV, control=WRONG_HYPOTHESIS)
def test_t1c_prev_token_circuit_beats_random_circuits(subject, record):
    record_beats_random(subject, record)


@claim("the compiled previous-token circuit is minimal under zero ablation: removing any one of its "
       "nodes lowers faithfulness by >= 0.05", source=SOURCE_T1, model=PREV, control=UNNEEDED_NODE)
def test_t1d_prev_token_circuit_is_minimal_under_zero_ablation(subject, record):
    record_minimal(subject, record, "zero")





# --- T2: the histogram -----------------------------------------------------------------------

SOURCE_T2 = f"{SOURCE_T}; tracr lib.make_hist; fixtures/tracr_models.py hist"
HIST = "tracr-hist"


@claim("the compiled histogram circuit (EMBED, L0H0, MLP0, read off the weights) is faithful: with POS "
       "resample-ablated, per-example faithfulness >= 0.99", source=SOURCE_T2,
       model=HIST, control=WRONG_HYPOTHESIS)
def test_t2a_hist_circuit_is_faithful(subject, record):
    record_faithful(subject, record)


@claim("the compiled histogram circuit is minimal under resample ablation: removing any one of its nodes "
       "lowers faithfulness by >= 0.05", source=SOURCE_T2, model=HIST, control=UNNEEDED_NODE)
def test_t2b_hist_circuit_is_minimal_under_resampling(subject, record):
    record_minimal(subject, record, "resample")


@claim("the compiled histogram circuit beats random circuits of its size: Shi et al.'s binomial test "
       "against 0.9 at p <= 0.05, over the circuits that vary what it chose", source=SOURCE_T2,
       model=HIST, control=WRONG_HYPOTHESIS)
def test_t2c_hist_circuit_beats_random_circuits(subject, record):
    record_beats_random(subject, record)


@claim("the compiled histogram circuit is minimal under zero ablation: removing any one of its nodes "
       "lowers faithfulness by >= 0.05", source=SOURCE_T2, model=HIST, control=UNNEEDED_NODE)
def test_t2d_hist_circuit_is_minimal_under_zero_ablation(subject, record):
    record_minimal(subject, record, "zero")





# --- T3: the fraction of x so far (a numerical output) -------------------------------------

SOURCE_T3 = f"{SOURCE_T}; tracr lib.make_frac_prevs; fixtures/tracr_models.py frac_prevs"
FRAC = "tracr-frac-prevs"


@claim("the compiled frac_prevs circuit (EMBED, POS, MLP0, L1H0, read off the weights) is faithful: with "
       "every other node resample-ablated, per-example faithfulness >= 0.99", source=SOURCE_T3,
       model=FRAC, control=WRONG_HYPOTHESIS)
def test_t3a_frac_prevs_circuit_is_faithful(subject, record):
    record_faithful(subject, record)


@claim("the compiled frac_prevs circuit is minimal under resample ablation: removing any one of its nodes "
       "lowers faithfulness by >= 0.05", source=SOURCE_T3, model=FRAC, control=UNNEEDED_NODE)
def test_t3b_frac_prevs_circuit_is_minimal_under_resampling(subject, record):
    record_minimal(subject, record, "resample")


@claim("the compiled frac_prevs circuit beats random circuits of its size: Shi et al.'s binomial test "
       "against 0.9 at p <= 0.05, over the circuits that vary what it chose", source=SOURCE_T3,
       model=FRAC, control=WRONG_HYPOTHESIS)
def test_t3c_frac_prevs_circuit_beats_random_circuits(subject, record):
    record_beats_random(subject, record)


@claim("the compiled frac_prevs circuit is minimal under zero ablation: removing any one of its nodes "
       "lowers faithfulness by >= 0.05", source=SOURCE_T3, model=FRAC, control=UNNEEDED_NODE)
def test_t3d_frac_prevs_circuit_is_minimal_under_zero_ablation(subject, record):
    record_minimal(subject, record, "zero")



