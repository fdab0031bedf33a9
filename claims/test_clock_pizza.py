"""The Clock and the Pizza (Zhong, Liu, Tegmark, Andreas; NeurIPS 2023): modular addition mod 59
is learned by two different algorithms depending on the attention rate. Measured on the
authors' own released checkpoints (Model A: rate 0; Model B: rate 1; fixtures/external.py,
read from the external directory, never copied here) and on a family trained here across the
rate with the authors' recipe (fixtures/zoo.py, ``pizza-rate*``).

The metrics and their sources are in fixtures/analysis/pizza.py:

- distance irrelevance DI: how little a logit table over (sum, difference) depends on the
  difference; on the correct logit (the notebook's, Model A 0.1717) and on the largest incorrect
  logit (the published table's ``distance_irrelevance``): small for a pizza;
- gradient symmetricity GS: the cosine between the gradients of a logit with respect to the two
  input embeddings; over the notebook's 100 triples (the table's ``gradient_sim``, Model A
  0.9937) and over p^2 triples (the sweep's): near 1 for a pizza;
- the symmetricity swing: how much that cosine moves with a - b. The clock's product form makes
  it cos(w (a - b)); a pizza's is 1 everywhere and an untrained network's does not depend on
  a - b, so both swing by less than 1 / sqrt(p) (0.130).

"Not a pizza" (GS < 0.9, DI > 0.5) is not "a clock": an untrained network has GS 0.42-0.69 and
DI 0.99. So P2a-b say Model B is not a pizza, with a pizza (Model A) as control, and P2c-d that
it is a clock by the swing, against an untrained network and against the pizza.

Thresholds, applied to the quantities they were calibrated on (GS_PIZZA to the 100-triple GS,
DI_PIZZA to the largest incorrect logit's DI), from the published table's 1-layer runs with
circular embeddings (fixtures/analysis/pizza.py lists the filter; fixtures/tests/test_pizza.py
recomputes the figures): at rate < 0.1 (126 runs) DI median 0.253 (10th-90th percentile
0.164-0.651), GS median 0.9935 (0.9914-0.9949); at rate >= 0.9 (120 runs) DI median 0.830
(0.736-0.905), GS median 0.466 (0.310-0.595). They were set before any model here was measured:

- GS 0.9: above the rate >= 0.9 runs' 90th percentile (0.595), below the rate < 0.1 runs' 10th
  (0.9914);
- DI 0.5: about halfway between the two medians (0.54); the pizzas' spread reaches 0.65 at the
  90th percentile, so DI alone separates the two less sharply than GS.

The swing's floor, 1/sqrt(p), is a bound from first principles (fixtures/analysis/pizza.py), set
after the swing was measured on Models A and B and on untrained networks (B 0.368; A 0.001;
untrained 0.006-0.011), far from each. A first candidate, the share of the logits' variance
that is a function of a + b - c, was dropped before any claim read it: both algorithms' outputs
have that form (A 0.995, B 0.983).
"""

from __future__ import annotations

from fixtures import registry
from fixtures.analysis.pizza import DI_PIZZA, GS_PIZZA, pizza_figures, swing_floor
from fixtures.claims import analysis, claim
from fixtures.sweep import Sweep, sweep_claim, trend
from fixtures.zoo import PIZZA_RATES, pizza_settled_name

SOURCE = "Zhong et al. 2023, The Clock and the Pizza (NeurIPS), Sec. 4-5; code/eval-main.ipynb"
GS_WHY = "published rate >= 0.9 runs' 90th pct 0.595, rate < 0.1 runs' 10th pct 0.9914 (100-triple GS)"
DI_WHY = "about halfway between the published medians 0.253 (rate < 0.1) and 0.830 (>= 0.9), largest incorrect logit"
SWING_WHY = ("cosines that do not depend on a - b (a pizza's, an untrained network's) swing about sigma/sqrt(p) "
             "< 1/sqrt(p); the clock form gives cos(w(a - b)): 1/sqrt(2K) for K frequencies")
RATE = Sweep("attention rate", tuple((rate, pizza_settled_name(rate)) for rate in PIZZA_RATES))


@analysis
def pizza_metrics(subject) -> dict:
    """Every figure of ``fixtures.analysis.pizza.pizza_figures`` on the subject's model."""
    return pizza_figures(subject.model, subject.task)


# --- the released Models A and B ---------------------------------------------------------------


@claim("the authors' Model A (attention rate 0) is a pizza: its gradients with respect to the two "
       "input embeddings point the same way (gradient symmetricity near 1, the notebook's 100 triples)",
       source=SOURCE + " (Model A: GS 0.9937 in the notebook)", model="pizza-model-a", control="zoo:pizza-model-b")
def test_p1a_model_a_gradient_symmetric(subject, record):
    figures = pizza_metrics(subject)
    record.note(paper_figure=0.9937, gradient_symmetricity_p2_triples=round(figures["gradient_symmetricity"], 4))
    record(figures["gradient_symmetricity_sampled"], ">=", GS_PIZZA, why=GS_WHY)


@claim("the authors' Model A is a pizza: its logits are nearly a function of (a - b) mod p (distance "
       "irrelevance of the largest incorrect logit, the published table's quantity, low)",
       source=SOURCE + " (Model A: DI 0.1717 on the correct logit in the notebook)", model="pizza-model-a",
       control="zoo:pizza-model-b")
def test_p1b_model_a_distance_dependent(subject, record):
    figures = pizza_metrics(subject)
    record.note(paper_figure_correct_logit=0.1717,
                distance_irrelevance_correct_logit=round(figures["distance_irrelevance"], 4))
    record(figures["distance_irrelevance_top_wrong"], "<=", DI_PIZZA, why=DI_WHY)


@claim("the authors' Model B (attention rate 1) is not a pizza: its gradients with respect to the two "
       "input embeddings differ (gradient symmetricity well below 1, the notebook's 100 triples)",
       source=SOURCE + " (Model B; the repository prints no figure for it)", model="pizza-model-b",
       control="zoo:pizza-model-a")
def test_p2a_model_b_gradient_asymmetric(subject, record):
    record(pizza_metrics(subject)["gradient_symmetricity_sampled"], "<", GS_PIZZA, why=GS_WHY)


@claim("the authors' Model B is not a pizza: its logits do not depend on (a - b) mod p (distance "
       "irrelevance of the largest incorrect logit, the published table's quantity, high)",
       source=SOURCE + " (Model B; the repository prints no figure for it)", model="pizza-model-b",
       control="zoo:pizza-model-a")
def test_p2b_model_b_distance_irrelevant(subject, record):
    figures = pizza_metrics(subject)
    record.note(distance_irrelevance_correct_logit=round(figures["distance_irrelevance"], 4))
    record(figures["distance_irrelevance_top_wrong"], ">", DI_PIZZA, why=DI_WHY)


def _clock_signature(subject, record) -> None:
    figures = pizza_metrics(subject)
    # The swing's frequencies are the clock's: the logits' clock-form part peaks at the same k.
    record.note(swing_frequencies=figures["swing_frequencies"], clock_frequencies=figures["clock_frequencies"],
                gradient_symmetricity_sampled=round(figures["gradient_symmetricity_sampled"], 4),
                distance_irrelevance_top_wrong=round(figures["distance_irrelevance_top_wrong"], 4))
    record(figures["symmetricity_swing"], ">", swing_floor(subject.task.p), why=SWING_WHY)


@claim("the authors' Model B is a clock: the cosine between its two input-embedding gradients swings "
       "with (a - b) mod p as the clock's cos(w (a - b)), which an untrained network's does not",
       source=SOURCE + "; the swing is derived in fixtures/analysis/pizza.py", model="pizza-model-b")
def test_p2c_model_b_clock_signature(subject, record):
    _clock_signature(subject, record)


@claim("the authors' Model B is a clock, not a pizza: the cosine between its two input-embedding gradients "
       "swings with (a - b) mod p, where a pizza's stays at 1",
       source=SOURCE + "; the swing is derived in fixtures/analysis/pizza.py", model="pizza-model-b",
       control="zoo:pizza-model-a")
def test_p2d_model_b_clock_signature_against_a_pizza(subject, record):
    _clock_signature(subject, record)


# --- across the attention rate, on the family trained here --------------------------------------
#
# P3-P5 were registered (claims/registered.toml) before any model of the settled family existed; they
# read their parameters from the entries. P3 and P4 take "trained minus initialisation, paired by
# seed": the untrained networks already order themselves by rate (at rate 0 attention sums both
# tokens' values whatever the weights), which made the 1,500-step family's P3 VACUOUS; their control
# is the same statistic on two untrained networks (seed + 1000 against seed), no training at all.

P3 = registry.entry("P3").parameters
P4 = registry.entry("P4").parameters


def _trained_minus_initial(subject, record, key: str, params: dict) -> None:
    members = subject.members
    points = [(m.value, pizza_metrics(m.subject)[key] - pizza_metrics(m.initial)[key]) for m in members]
    result = trend(points, params["direction"], groups=[m.seed for m in members])
    by_rate = {f"{v:g}": round(sum(f for u, f in points if u == v) / sum(1 for u, _ in points if u == v), 3)
               for v in dict.fromkeys(v for v, _ in points)}
    record.note(hyperparameter=RATE.hyperparameter, figure_name=f"{key} (trained minus initialisation)",
                mean_by_rate=by_rate, **result.notes(members, points))
    alpha = params["alpha"]
    record(result.p, "<=", alpha, why=f"one-sided permutation test at {alpha:g}, the rates reassigned within each seed",
           inconclusive=None if result.min_p <= alpha else
           f"this family cannot reach p <= {alpha:g} (smallest p {result.min_p:.3g})")


@sweep_claim("training lowers gradient symmetricity more the higher the attention rate: GS(trained) - GS(its "
             "initialisation), paired by seed, falls with the rate (within-seed permutation p <= 0.01)",
             source=SOURCE + ", Fig. 5 (the phase diagram over the attention rate)", sweep=RATE, registered="P3",
             refuted="within-seed p {figures} (Spearman's rho {note.spearman_rho}): training raises GS at every rate "
                     "and the rise is not monotone in it (mean by rate {note.mean_by_rate}); the trained models "
                     "still order by rate (P5), because their initialisations already do",
             control_seed_offset=P3["control_seed_offset"])
def test_p3_training_lowers_symmetricity_more_at_higher_rates(subject, record):
    _trained_minus_initial(subject, record, "gradient_symmetricity", P3)


@sweep_claim("training raises distance irrelevance (the table's: largest incorrect logit) more the higher the "
             "attention rate: DI(trained) - DI(its initialisation), paired by seed, rises with the rate "
             "(within-seed permutation p <= 0.01)",
             source=SOURCE + ", Fig. 5; result/1l_fixedwidth.csv", sweep=RATE, registered="P4",
             refuted="within-seed p {figures} (Spearman's rho {note.spearman_rho}), above the registered 0.01: "
                     "training lowers DI at every rate, less at the higher ones (mean by rate {note.mean_by_rate}), "
                     "with seeds spread as widely as the rates",
             control_seed_offset=P4["control_seed_offset"])
def test_p4_training_raises_distance_irrelevance_more_at_higher_rates(subject, record):
    _trained_minus_initial(subject, record, "distance_irrelevance_top_wrong", P4)


P5 = registry.entry("P5").parameters


@sweep_claim("the settled family reproduces the table's phase boundary: at rates 0 and 0.25 the models are "
             "pizzas by the table's symmetricity (100-triple GS > 0.98) and at rates 0.75 and 1 they are not, on "
             ">= 90% of those models (the table: 100% and 0% of runs)",
             source=SOURCE + "; result/1l_fixedwidth.csv (share of runs with gradient_sim > 0.98 by rate)", sweep=RATE,
             registered="P5")
def test_p5_the_tables_phase_boundary(subject, record):
    low, high, threshold = P5["low_rates"], P5["high_rates"], P5["threshold"]
    judged = [m for m in subject.members if m.value in low or m.value in high]
    gs = {(m.value, m.seed): pizza_metrics(m.subject)["gradient_symmetricity_sampled"] for m in judged}
    as_predicted = [(gs[(m.value, m.seed)] > threshold) == (m.value in low) for m in judged]
    record.note(hyperparameter=RATE.hyperparameter, figure_name="100-triple gradient symmetricity",
                sweep_points=[[m.value, m.seed, gs[(m.value, m.seed)]] for m in judged],
                on_the_predicted_side=f"{sum(as_predicted)}/{len(as_predicted)}", threshold=threshold)
    record(sum(as_predicted) / len(as_predicted), ">=", P5["share"],
           why="the table's bins below 0.4 are 100% pizzas and above 0.6 0%: one model in ten may fall off")
