"""B. Modular addition: grokking and the Fourier algorithm (seed 002's setup; Nanda et al.
2023, "Progress measures for grokking via mechanistic interpretability").

The model computes (a + b) mod p by embedding each number as cos/sin(w_k x) for a few
key frequencies k, multiplying them in the MLP into cos/sin(w_k (a + b)), and reading
out logits sum_k alpha_k cos(w_k (a + b - c)). Key frequencies differ between seeds
(Nanda et al. App. C.2.1): each seed's are detected from its own W_E
(``key_frequencies``: norm >= 1/4 of the strongest) and shown in the report. That rule
can also pick up a second harmonic 2k of a key frequency k that W_E carries but the
logits do not use (seed 0: 2 beside 1; seed 2: 28 beside 14): B4 gives it alpha ~ 0,
and in B5 keeping or removing its terms changes nothing.

How far past grokking: modadd-p113 stops 4000 steps after test accuracy first holds
99.5% on the test split, long before the published 40k epochs. The stop rule reads the
same test split the claims measure, so it guarantees test accuracy >= 99.5% 4000 steps
before the end: B1b asks what it does not guarantee, that the final weights still
generalise after those 4000 steps of weight decay, measured with the weights. CLAIMS.md B measured this setup at
2000-10000 steps past grokking: top-8 frequencies 81-99% of W_E's energy, 62-71% of
neurons clustered, cos fit ~95%. Every figure notes how many steps past 99% test
accuracy its model was trained.

Negative control: the untrained initialisation of the same spec and seed (``@claim``'s
default ``control="init"``), except for B1a's grokking delay, which an untrained model (one
curve row) cannot have at all: its control is ``modadd-p113-nowd``, the same recipe without
weight decay, which memorises and does not generalise (CLAIMS.md, measured facts for
controls).
"""

import torch

from fixtures.analysis.fourier import CLUSTER_FRACTION, frequency_norms, key_frequencies, top_frequencies_fraction
from fixtures.analysis.modular import cos_fit_of, key_freqs, neuron_fractions, restricted_excluded, split_accuracy
from fixtures.analysis.phase import event_delay
from fixtures.claims import claim

SOURCE = "002_9c4e30cf51a31395.txt; Nanda et al. 2023, Progress measures for grokking, §4-5"
MODEL = "modadd-p113"
MEMORISED = 1e-2  # train loss: CLAIMS.md B1
GENERALISED = 0.99  # test accuracy: CLAIMS.md B1


def _p(subject) -> int:
    return subject.task.p


def _first_step(curves: dict, metric: str, op, level: float) -> float | None:
    return next((s for s, v in zip(curves["step"], curves[metric]) if op(v, level)), None)


def _grokking(curves: dict) -> dict:
    """Steps at which train loss first fell below 1e-2 and test accuracy first reached 99%
    (None if never), and how far training went past the latter."""
    memorised = _first_step(curves, "train_loss", lambda v, t: v < t, MEMORISED)
    generalised = _first_step(curves, "test_acc", lambda v, t: v >= t, GENERALISED)
    last = curves["step"][-1]
    return {"memorised_step": memorised, "generalised_step": generalised, "final_step": last,
            "steps_past_generalisation": None if generalised is None else last - generalised}


@claim("grokking: test accuracy reaches 99%, and only several thousand steps after train loss fell "
       "below 1e-2 (figure: the steps between; a run that memorises and never generalises scores minus "
       "the steps it waited)", source=SOURCE, model=MODEL, control="zoo:modadd-p113-nowd")
def test_b1a_generalisation_long_after_memorisation(subject, record):
    curves = subject.curves
    delay, undefined = event_delay(curves["step"], [v < MEMORISED for v in curves["train_loss"]],
                                   [v >= GENERALISED for v in curves["test_acc"]])
    record.note(**_grokking(curves))
    record(delay, ">=", 3000, why="'several thousand steps' (CLAIMS.md B1); published: 1.4k vs ~10k epochs",
           inconclusive=undefined)


@claim("the model still generalises at the end of training, 4000 steps of weight decay after the stop "
       "rule saw 99.5%: test accuracy of the final weights >= 99% on the 70% of pairs never trained on",
       source=SOURCE, model=MODEL)
def test_b1b_final_test_accuracy(subject, record):
    record.note(**_grokking(subject.curves), curve_final_test_acc=subject.curves["test_acc"][-1])
    record(split_accuracy(subject, "test"), ">=", GENERALISED, why="CLAIMS.md B1")


@claim("the embedding is sparse in the Fourier basis: its 8 strongest frequencies carry >= 80% "
       "of the squared norm of W_E (number tokens)", source=SOURCE, model=MODEL)
def test_b2_embedding_fourier_sparse(subject, record):
    W_E = subject.model.W_E[:_p(subject)].detach()
    keys = key_frequencies(W_E)
    norms = frequency_norms(W_E)
    energy = norms.pow(2)
    record.note(key_freqs=keys, n_key_freqs=len(keys), key_energy=float(energy[keys].sum() / energy.sum()),
                key_norms_rel={str(k): round(float(norms[k] / norms[1:].max()), 3) for k in keys},
                top5=top_frequencies_fraction(W_E, 5), constant=float(energy[0] / energy.sum()),
                steps_past_generalisation=_grokking(subject.curves)["steps_past_generalisation"])
    record(top_frequencies_fraction(W_E, 8), ">=", 0.80,
           why="CLAIMS.md B2: <= 8 of 56 frequencies, >= 80%; an untrained W_E gives ~16%")


@claim("MLP neurons cluster by frequency: a majority of neurons have >= 85% of their variance "
       "(all p^2 inputs, final position, centred) in the 2D Fourier terms of one frequency",
       source=SOURCE, model=MODEL)
def test_b3_neurons_cluster_by_frequency(subject, record):
    neurons = neuron_fractions(subject)
    best, which = neurons["fractions"].max(1)  # over frequencies, per neuron
    clustered = best >= CLUSTER_FRACTION
    keys = key_freqs(subject)
    record.note(key_freqs=keys, dead_neurons=neurons["dead"],
                clustered_on_key_freqs=float(torch.isin(which[clustered], torch.tensor(keys)).double().mean())
                if clustered.any() else 0.0,
                steps_past_generalisation=_grokking(subject.curves)["steps_past_generalisation"])
    # Published 84.6% is after 40k epochs; this setup measured 62-71% 2000-10000 steps past
    # grokking (CLAIMS.md B3), so the claim asks for the structure, not the clean-up's end.
    record(clustered.double().mean(), ">=", 0.5,
           why="majority of neurons; CLAIMS.md measured 62-71% at our clean-up stage (84.6% at 40k epochs)")


@claim("the logits are a sum of cos(w_k (a + b - c)) over the key frequencies: a least-squares "
       "fit explains >= 90% of their variance", source=SOURCE, model=MODEL)
def test_b4_logits_fit_cos_a_plus_b_minus_c(subject, record):
    keys = key_freqs(subject)
    fve, alphas = cos_fit_of(subject, keys)
    record.note(key_freqs=keys, alphas={str(k): round(a, 4) for k, a in alphas.items()},
                steps_past_generalisation=_grokking(subject.curves)["steps_past_generalisation"])
    record(fve, ">=", 0.90, why="CLAIMS.md B4; published 95%")


def _restricted_excluded(subject) -> dict:
    keys = key_freqs(subject)
    return {"key_freqs": keys, **restricted_excluded(subject, keys)}


@claim("the key frequencies suffice: keeping only the constant and the cos/sin(w_k (a + b)) terms "
       "of the logits still fits the training data, like the full logits (restricted loss <= 0.1 nats)",
       source=SOURCE, model=MODEL)
def test_b5a_restricted_loss_stays_low(subject, record):
    losses = _restricted_excluded(subject)
    record.note(**losses)
    # Not "restricted - full": the untrained init has nothing to lose (both ~ ln 113), so a
    # gap alone would pass there. The full loss is ~0 after grokking.
    record(losses["restricted"], "<=", 0.1,
           why="2% of the uniform guess ln 113 = 4.73 nats: the answer keeps >= 90% probability")


@claim("the key frequencies are necessary: removing exactly their cos/sin(w_k (a + b)) terms from "
       "the logits raises the training loss far above the full loss (by >= 1 nat)",
       source=SOURCE, model=MODEL)
def test_b5b_excluded_loss_rises(subject, record):
    losses = _restricted_excluded(subject)
    record.note(**losses)
    record(losses["excluded"] - losses["full"], ">=", 1.0,
           why="the answer loses a factor e of probability; on the untrained init the change is ~0")
