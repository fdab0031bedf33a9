"""A. A zero-layer transformer is a bigram table (seed 003; Elhage et al. 2021,
"A Mathematical Framework for Transformer Circuits", zero-layer transformers).

CLAIMS.md A1, A2 and A3 are one number: with P(b|a) counted over the pairs the loss reads,
loss = H(next | current) + sum_a p(a) KL(P(.|a) || Q(.|a)), so "the table reproduces the
bigram statistics" (A1), "the loss sits at the floor H(next | current)" (A2) and "the
bigram log-table substituted for W_E W_U loses nothing" (A3) all measure that excess. A1
records it once, with the loss and the floor in its notes; a 0-layer model offers no
intervention whose figure could differ from it. The second claim here reads a different
figure: whether the model's most likely next character is the text's most frequent one.

Negative control of every claim here: the untrained initialisation of the same spec and
seed (``@claim``'s default ``control="init"``); the same measurement must fail on it."""

import torch

from fixtures.analysis.bigram import bigram_counts, conditional_entropy, next_token_table, weighted_kl, weighted_tv
from fixtures.claims import claim

SOURCE = "003_02487b91646d5dfc.txt; Elhage et al. 2021, zero-layer transformers"
# 0.02 nats: 1.2% of the floor H = 1.61 nats, well under the 1.79 nats an untrained table loses.
EXCESS_NATS = 0.02


def counts_of(task) -> torch.Tensor:
    return bigram_counts(task.tokens(), len(task.vocab))


@claim("softmax(W_E W_U) reproduces the empirical bigram table: the data-weighted KL from the "
       "bigram table to the model's table, which equals the loss above the floor H(next | current) "
       "that any 0-layer model has, is small", source=SOURCE, model="bigram-0l")
def test_a1_table_is_bigram_statistics(subject, record):
    counts, table = counts_of(subject.task), next_token_table(subject.model, subject.spec.model.d_vocab)
    with torch.no_grad():
        loss = subject.task.train_loss(subject.model, subject.setup(), None).item()
    record.note(weighted_tv=weighted_tv(counts, table), loss=loss, floor=conditional_entropy(counts))
    record(weighted_kl(counts, table), "<=", EXCESS_NATS, why="KL = excess loss over H(next|current); 0.02 nats")


@claim("after every character the model's most likely next character is one the text most often "
       "has there: share of the text's positions where the top guess is a most frequent successor",
       source=SOURCE, model="bigram-0l")
def test_a2_top_guess_is_a_most_frequent_successor(subject, record):
    counts = counts_of(subject.task)  # [current, next]: pairs in the text
    guess = next_token_table(subject.model, subject.spec.model.d_vocab).argmax(1)  # [current]
    d_vocab = counts.shape[0]
    hit = counts[torch.arange(d_vocab), guess] == counts.max(1).values  # ties: any most frequent successor
    record.note(characters_missed=int(((counts.sum(1) > 0) & ~hit).sum()))
    record(float((counts.sum(1) * hit).sum() / counts.sum()), ">=", 0.99,
           why="the bigram table itself scores 1; 1% slack for near-ties")
