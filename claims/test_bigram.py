"""A. A zero-layer transformer is a bigram table (seed 003; Elhage et al. 2021,
"A Mathematical Framework for Transformer Circuits", zero-layer transformers).

Negative control of every claim here: the untrained initialisation of the same spec and
seed (``@claim``'s default ``control="init"``); the same measurement must fail on it."""

import torch

from fixtures.analysis.bigram import (bigram_counts, conditional, conditional_entropy, next_token_table,
                                      table_loss, weighted_kl, weighted_tv)
from fixtures.claims import claim

SOURCE = "003_02487b91646d5dfc.txt; Elhage et al. 2021, zero-layer transformers"
# 0.02 nats: 1.2% of the floor H = 1.61 nats, well under the 1.79 nats an untrained table loses.
EXCESS_NATS = 0.02


def counts_of(task) -> torch.Tensor:
    return bigram_counts(task.tokens(), len(task.vocab))


@claim("softmax(W_E W_U) reproduces the empirical bigram table: the data-weighted KL from the "
       "bigram table to the model's table is small", source=SOURCE, model="bigram-0l")
def test_a1_table_is_bigram_statistics(subject, record):
    counts, table = counts_of(subject.task), next_token_table(subject.model, subject.spec.model.d_vocab)
    record.note(weighted_tv=weighted_tv(counts, table))
    record(weighted_kl(counts, table), "<=", EXCESS_NATS, why="KL = excess loss over H(next|current); 0.02 nats")


@claim("the trained loss sits at the floor any 0-layer model has, H(next | current) computed "
       "exactly from the corpus counts", source=SOURCE, model="bigram-0l")
def test_a2_loss_at_conditional_entropy_floor(subject, record):
    counts = counts_of(subject.task)
    floor = conditional_entropy(counts)
    with torch.no_grad():
        loss = subject.task.train_loss(subject.model, subject.setup(), None).item()
    W_EU = subject.model.W_E @ subject.model.W_U
    sv = torch.linalg.svdvals(W_EU - W_EU.mean(1, keepdim=True)).detach()
    record.note(loss=loss, floor=floor, rank_1pct=int((sv > 0.01 * sv[0]).sum()), d_model=subject.spec.model.d_model)
    record(loss - floor, "<=", EXCESS_NATS, why="loss within 0.02 nats of H(next|current)")


@claim("(causal) replacing the model's logit table by log of the bigram table loses at most "
       "0.02 nats against the trained model: the model already is that table",
       source=SOURCE, model="bigram-0l")
def test_a3_bigram_table_substitutes_for_weights(subject, record):
    counts = counts_of(subject.task)
    trained = table_loss(counts, next_token_table(subject.model, subject.spec.model.d_vocab))
    patched = table_loss(counts, conditional(counts).clamp_min(1e-300).log())
    # Any 0-layer table loses at least H, so patched <= trained always holds; the
    # informative figure is how much the trained model leaves on the table.
    record.note(trained_loss=trained, patched_loss=patched)
    record(trained - patched, "<=", EXCESS_NATS, why="the gap the substitution closes; 0.02 nats")
