"""F1-F2. Skip trigrams "marker ... query -> class" in a 1-layer, 1-head attention-only
transformer (seed 002, "#Skip Trigram"; Elhage et al. 2021, skip-trigrams).

Negative control of every claim here: the untrained initialisation of the same spec and
seed (``@claim``'s default ``control="init"``); the same measurement must fail on it."""

import torch

from fixtures.analysis.phase import phase_change, stagger
from fixtures.claims import claim

SOURCE = "002_9c4e30cf51a31395.txt #Skip Trigram; Elhage et al. 2021, one-layer skip-trigrams"
MODEL = "skip-trigram-1l"
# Skip the first steps, in which the untrained output bias relaxes to the uniform ln 10
# (a class that starts above it would otherwise date its plateau from step 0).
AFTER_INIT = 50


@torch.no_grad()
def marker_attention(subject) -> float:
    """Mean attention from the final (query) position to the marker, on the held-out batch."""
    state = subject.setup()
    tokens, where = state["held_out"], state["marker_pos"]
    _, cache = subject.model.run_with_cache(tokens, names_filter="blocks.0.attn.hook_pattern")
    pattern = cache["blocks.0.attn.hook_pattern"][:, 0, -1]  # [batch, key_pos], the single head
    return pattern[torch.arange(len(where), device=where.device), where].mean().item()


def class_phase_changes(subject) -> dict[int, object]:
    steps = subject.curves["step"]
    n = subject.task.n_classes
    return {c: phase_change(steps, subject.curves[f"loss_class{c}"], window=3, start=AFTER_INIT) for c in range(n)}


@claim("the final position attends to the marker token", source=SOURCE, model=MODEL)
def test_f1_query_attends_to_marker(subject, record):
    record(marker_attention(subject), ">=", 0.9, why="CLAIMS.md F1: attention >= 0.9 (40 filler tokens compete)")


@claim("the loss goes to ~0: the class is read off the marker", source=SOURCE, model=MODEL)
def test_f1_loss_goes_to_zero(subject, record):
    state = subject.setup()
    metrics = subject.task.metrics(subject.model, state)
    record.note(test_acc=metrics["test_acc"])
    record(metrics["test_loss"], "<=", 0.01,
           why="ln 10 = 2.30 is chance; 0.01 nats is >= 99% on the right class (the seed reached 1e-9)")


@claim("each trigram class has its own phase change: the spread of the per-class steps of "
       "steepest loss descent exceeds the typical width (t90 - t10) of one class's drop",
       source=SOURCE, model=MODEL,
       refuted="the ten classes drop together: the spread of the per-class t* over the median width "
               "(median widths {note.median_width}) is {figures}; the classes differ in timing, but by less "
               "than one transition")
def test_f2_per_class_phase_changes(subject, record):
    ratio, notes = stagger(class_phase_changes(subject))
    record.note(**notes)
    # An untrained model has one curve row, so no drop to compare: inconclusive, never a "failure".
    record(ratio, ">=", 1.0, why="distinct times: t* spread over more than one typical transition")
