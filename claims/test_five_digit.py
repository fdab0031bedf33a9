"""F3. 5-digit addition in a 1-layer transformer: each answer digit is learned in its own
phase change (seed 002, "#5 Digit Addition"; Nanda et al. 2023, the Grokking repository's
per-token loss curves).

Negative controls: the untrained initialisation of the same spec and seed (``@claim``'s
default), except for F3's per-digit phase changes: an untrained model has one curve row and
no drop to time, so the control is ``skip-trigram-1l``, whose per-class curves (the same
stagger measure, the same settings) drop together (F2 is refuted). Not on every seed: where the
control also reaches the threshold, F3 is VACUOUS, and it is marked so (``vacuous=``).

F3b was written after seeing seeds 0-2 (``formed_on``): the other seeds judge it."""

import re

import torch

from fixtures.analysis.phase import phase_change, stagger
from fixtures.claims import analysis, claim

SOURCE = "002_9c4e30cf51a31395.txt #5 Digit Addition; Nanda et al. 2023 (Grokking repository runs)"
MODEL = "addition-5digit"
# Skip the first steps, in which every digit learns its marginal (the carry-out digit
# falls from ln 10 to ~ln 2 at once); the phase changes come after.
AFTER_MARGINALS = 100
PROBLEMS = 20_000  # fresh problems for accuracy: ~900 of them have a 2-column cascade into a given digit
CHUNK = 1000  # problems per forward pass


SUBTASK_CURVE = re.compile(r"loss_(digit|class)(\d+)")  # per answer digit (here), per class (skip trigrams)


def subtask_phase_changes(subject) -> dict[int, object]:
    """The phase change of each sub-task's loss curve: each answer digit, or each class of
    the skip-trigram control."""
    steps = subject.curves["step"]
    return {int(m[2]): phase_change(steps, values, window=3, start=AFTER_MARGINALS)
            for key, values in subject.curves.items() if (m := SUBTASK_CURVE.fullmatch(key))}


@claim("per-digit loss curves have phase changes at different steps: the spread of the "
       "per-digit steps of steepest descent exceeds the typical width (t90 - t10) of one drop",
       source=SOURCE, model=MODEL, control="zoo:skip-trigram-1l",
       vacuous="the control, skip-trigram-1l's per-class curves, scores {control_figures}: on the seeds where it "
               "reaches 1 its classes' steepest drops are spread over more than one typical width too, so "
               "this threshold does not separate the digits' staggered phase changes ({figures}) from sub-tasks "
               "that drop together")
def test_f3_per_digit_phase_changes(subject, record):
    ratio, notes = stagger(subtask_phase_changes(subject))
    record.note(**notes, published_t50=[218, 465, 1564, 1530, 1011, 1626])
    record(ratio, ">=", 1.0, why="different times: t* spread over more than one typical transition")


@analysis
def fresh_problems(subject) -> tuple[torch.Tensor, torch.Tensor]:
    """(correct [n, digits], carry chains [n, digits]) on fresh problems, not the eval batch;
    F3 and F3b read the same problems."""
    task = subject.task
    tokens = task.sample(PROBLEMS, torch.Generator().manual_seed(20_000))
    correct = []
    with torch.no_grad():
        for chunk in tokens.split(CHUNK):  # one batch of 20,000 is twice as slow: its activations spill the caches
            chunk = chunk.to(subject.device)
            # The answer digits are predicted at the n_digits + 1 positions before the last token
            # (task.digit_logits), which causal attention never lets read the last token: it is left
            # out, and only those query rows are computed, a third of the positions. (The logits
            # differ from the whole sequence's by float rounding, 3e-5 at most; no prediction of the
            # 20 subjects' 120,000 digits changes.)
            logits = subject.model(chunk[:, :-1], last_positions=task.n_digits + 1)
            correct.append((logits.argmax(-1) == chunk[:, -(task.n_digits + 1):]).cpu())
    return torch.cat(correct), task.carry_chains(tokens)


@claim("final per-digit accuracy >= 99% on every answer digit", source=SOURCE, model=MODEL,
       mixed="the worst digit's accuracy is {figures}: on the seeds that fall short the middle digits "
             "plateau from step ~3000 on, and F3b finds the errors in cascading carries")
def test_f3_every_digit_learned(subject, record):
    correct, _ = fresh_problems(subject)
    per_digit = correct.float().mean(0)  # [n_digits + 1]
    record.note(per_digit_acc=[round(x, 4) for x in per_digit.tolist()])
    record(per_digit.min().item(), ">=", 0.99, why="CLAIMS.md F3: final per-digit accuracy >= 99%")


@claim("the remaining errors are cascading carries: answer digits whose carry was passed on by a "
       "column summing to 9 (a chain of 2 or more) are wrong at least 10x as often as the others",
       source=f"{SOURCE}; Quirke & Barez 2023 (a 1-layer model does not finish cascading carries)",
       model=MODEL, formed_on=(0, 1, 2))
def test_f3b_errors_are_cascading_carries(subject, record):
    correct, chains = fresh_problems(subject)
    cascade = chains >= 2
    error_cascade = 1 - correct[cascade].float().mean().item()
    error_rest = 1 - correct[~cascade].float().mean().item()
    by_chain = {int(c): round(correct[chains == c].float().mean().item(), 4) for c in chains.unique()}
    record.note(error_cascade=round(error_cascade, 4), error_rest=round(error_rest, 5),
                cascade_share=round(cascade.float().mean().item(), 4), accuracy_by_chain_length=by_chain)
    # Floored at one error in the sample so a model that makes no error elsewhere gives a finite ratio.
    record(error_cascade / max(error_rest, 1 / correct.numel()), ">=", 10.0,
           why="an order of magnitude: the cascade is the failure mode, not noise spread over digits; "
               "an untrained model errs alike everywhere (ratio ~1)")
