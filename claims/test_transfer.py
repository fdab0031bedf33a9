"""L. Do the seed findings transfer to a language model trained on real text? (CLAIMS.md I)

stories260K (zoo ``stories260k``; Karpathy's llama2.c, MIT): a 5-layer Llama (RMSNorm, rotary
positions, SwiGLU, 8 query heads sharing 4 key/value heads, d_model 64) trained on TinyStories,
converted from llama2.c's format (``fixtures/llama2c.py``) and measured as a TransformerLens
bridge (``fixtures/causal_lm.py``). Each claim asks one seed finding of it, measured by
``fixtures/analysis/lm.py`` and ``fixtures/analysis/heads.py`` through the TransformerLens
interface alone, and the same function runs on a model of ours where the answer is known, so
the generic path is checked where it must say yes: prevtoken-pos has a previous-token head
(D-family; 0.998-0.999 by this measurement), induction-2l has induction heads (E2, E3), and
bigram-0l's direct path is its whole model (A1). ``user-lm`` is a causal LM of your own
(``pytest --hf-model=DIR``): without it its claims are not run. (The discovery claims of
``claims/test_discovery.py`` took the letter I, so these are L1-L3.)

Inputs. Repeated random sequences [BOS, r, r]: 64 of them, r of 24 distinct tokens drawn from
every id but the tokenizer's special ones (24: it fits prevtoken's 50 positions, and copies 24
apart lie inside induction-2l's training spacing of 16-40). Real text: the book of Ruth from the
World English Bible (``fixtures/texts.py``, public domain, pinned by sha256), in rows of BOS and
127 tokens; never a model's own samples. A model of ours reads no English: bigram-0l is read on
the text it was trained on (seed 003's excerpt), induction-2l on its task's held-out batch.

Scores. E1b's previous-token score (mean A[q, q-1]) is taken over every query and every layer's
heads: a deep model's previous-token heads need not sit in layer 0 (E1b's interval restriction
is about induction-2l's task). E2's induction score as in claims/test_induction.py. The best head
is noted as ``best_head``.

Controls: the untrained initialisation of the same architecture and seed (for stories260K the
Llama of its config initialised by ``transformers`` with seed 0); the same measurement must fail
on it.
"""

import math

import torch

from fixtures.analysis.heads import attention_patterns, induction_score, previous_token_score, repeated_tokens
from fixtures.analysis.lm import copy_losses, readout_losses, text_tokens, token_space
from fixtures.claims import analysis, claim
from fixtures.tasks import Corpus
from fixtures.texts import WEB_RUTH, read_slice

SOURCE = "CLAIMS.md I"
BLOCK = 24  # r's length in [BOS, r, r]
SEQS = 64
ROW = 128  # tokens per row of real text, BOS included
READOUT_SEQS = 64  # of induction-2l's held-out batch: 1,920 repeated positions (30 a sequence)
PREV_TOKEN_MIN = 0.7  # E1b's threshold (claims/test_induction.py)
INDUCTION_MIN = 0.5  # E2's
COPY_RATIO_MAX = 0.5
LENS_STEP_MIN = 0.01


def best(scores: torch.Tensor) -> tuple[float, str]:
    """(the largest score of a [layer, head] table, its head as "L<layer>H<head>")."""
    layer, head = divmod(int(scores.argmax()), scores.shape[1])
    return scores.max().item(), f"L{layer}H{head}"


@analysis
def repeat_figures(subject, n: int = BLOCK, n_seqs: int = SEQS) -> dict:
    """On [BOS, r, r]: every head's previous-token and induction scores ([layer, head]) and the
    losses on the first and second copies."""
    model = subject.model
    bos, special = token_space(model)
    tokens = repeated_tokens(n_seqs, n, model.cfg.d_vocab, seed=0, bos=bos, special=special)
    patterns = attention_patterns(model, tokens)  # [layer, batch, head, q, k]
    first, second = copy_losses(model, tokens)
    return {"previous_token": torch.stack([previous_token_score(p) for p in patterns]),
            "induction": torch.stack([induction_score(p) for p in patterns]),
            "first_copy_loss": first, "second_copy_loss": second}


def real_text(subject) -> torch.Tensor:
    """[rows, pos]: the pinned public-domain slice through the model's tokenizer, or, for a model of
    ours trained on a text (bigram-0l), that text."""
    if getattr(subject.model, "tokenizer", None) is not None:
        return text_tokens(subject.model, read_slice(WEB_RUTH), ROW)
    if isinstance(subject.task, Corpus):
        return subject.task.tokens()
    raise ValueError(f"{subject.description} reads no text: real-text claims need a causal LM with a tokenizer, "
                     "or a model of ours trained on a text")


def unigram_entropy(targets: torch.Tensor) -> float:
    """Entropy (nats) of the tokens' own frequencies: the loss of the best predictor that ignores
    what came before, fitted to this very text."""
    p = torch.bincount(targets.reshape(-1)).double()
    p = p[p > 0] / p.sum()
    return -(p * p.log()).sum().item()


@analysis
def text_figures(subject, text: str = WEB_RUTH.sha256, row: int = ROW) -> dict:
    """On real text (``real_text``; ``text`` pins the slice): every head's previous-token score
    ([layer, head]), the loss of every readout (0: the direct path; n_layers: the model), the
    text's unigram entropy and the uniform guess's loss (ln d_vocab)."""
    tokens = real_text(subject)
    out = {"readouts": readout_losses(subject.model, tokens), "unigram_entropy": unigram_entropy(tokens[:, 1:]),
           "tokens": int(tokens[:, 1:].numel()), "uniform": math.log(subject.model.cfg.d_vocab)}
    if subject.model.cfg.n_layers:
        patterns = attention_patterns(subject.model, tokens)
        out["previous_token"] = torch.stack([previous_token_score(p) for p in patterns])
    return out


@analysis
def task_readouts(subject) -> list[float]:
    """induction-2l's readout losses on the first 64 sequences of its task's held-out batch, at the
    positions its loss reads (the later copies' 2nd..last tokens)."""
    state = subject.setup()
    return readout_losses(subject.model, state["held_out"][:READOUT_SEQS], state["repeats"][:READOUT_SEQS].cpu())


# --- L1 previous-token heads (E1b) ------------------------------------------------------

L1A = ("a head is a previous-token head: on repeated random sequences some head puts most of its attention "
       "on the previous token (E1b's score, every layer)")
L1A_WHY = "E1b's threshold: most of the head's attention on the previous token"


def record_previous_token_head(subject, record):
    figure, head = best(repeat_figures(subject)["previous_token"])
    record.note(best_head=head)
    record(figure, ">=", PREV_TOKEN_MIN, why=L1A_WHY)


@claim(L1A, source=f"{SOURCE}; E1b", model="stories260k")
def test_l1a_previous_token_head_stories260k(subject, record):
    record_previous_token_head(subject, record)


@claim(L1A, source=f"{SOURCE}; E1b; a known positive", model="prevtoken-pos")
def test_l1a_previous_token_head_prevtoken_pos(subject, record):
    record_previous_token_head(subject, record)


@claim(L1A, source=f"{SOURCE}; E1b", model="user-lm")
def test_l1a_previous_token_head_user_lm(subject, record):
    record_previous_token_head(subject, record)


L1B = "a head is a previous-token head on real text: E1b's score on the book of Ruth"


def record_previous_token_head_on_text(subject, record):
    figure, head = best(text_figures(subject)["previous_token"])
    record.note(best_head=head)
    record(figure, ">=", PREV_TOKEN_MIN, why=L1A_WHY)


@claim(L1B, source=f"{SOURCE}; E1b", model="stories260k",
       refuted="the strongest head ({note.best_head}) puts {figures} of its attention on the previous token of "
               "real text, short of E1b's 0.7 (on random repeated tokens the same head is above it: L1a)")
def test_l1b_previous_token_head_on_text_stories260k(subject, record):
    record_previous_token_head_on_text(subject, record)


@claim(L1B, source=f"{SOURCE}; E1b", model="user-lm")
def test_l1b_previous_token_head_on_text_user_lm(subject, record):
    record_previous_token_head_on_text(subject, record)


# --- L2 induction heads and in-context learning (E2, E3) ----------------------------------

L2A = ("a head is an induction head: on [BOS, r, r] the second copy's tokens attend to the token after "
       "their earlier occurrence (E2's score, every layer)")


def record_induction_head(subject, record):
    figure, head = best(repeat_figures(subject)["induction"])
    record.note(best_head=head)
    record(figure, ">=", INDUCTION_MIN, why="E2's threshold: most of the head's attention on the induction target")


@claim(L2A, source=f"{SOURCE}; E2; Olsson et al. 2022", model="stories260k",
       refuted="no head reaches it: the best ({note.best_head}) scores {figures}; an untrained model's heads "
               "score {control_figures} (about 1/(query position) by chance)")
def test_l2a_induction_head_stories260k(subject, record):
    record_induction_head(subject, record)


@claim(L2A, source=f"{SOURCE}; E2; a known positive", model="induction-2l")
def test_l2a_induction_head_induction_2l(subject, record):
    record_induction_head(subject, record)


@claim(L2A, source=f"{SOURCE}; E2", model="user-lm")
def test_l2a_induction_head_user_lm(subject, record):
    record_induction_head(subject, record)


L2B = ("in-context learning: on [BOS, r, r] the loss on the second copy is at most half the loss on the "
       "first (the same tokens, predictable only from the first copy)")


def record_second_copy(subject, record):
    f = repeat_figures(subject)
    first, second = f["first_copy_loss"], f["second_copy_loss"]
    record.note(first_copy_loss=round(first, 3), second_copy_loss=round(second, 3))
    record(second / first, "<=", COPY_RATIO_MAX,
           why="an induction mechanism removes most of the first copy's loss (E3 asks a quarter of ln(V-1) of "
               "the toy model); without one the copies cost the same, a ratio of 1")


@claim(L2B, source=f"{SOURCE}; E3; Olsson et al. 2022", model="stories260k",
       refuted="the second copy costs {figures} of the first ({note.second_copy_loss} against "
               "{note.first_copy_loss} nats a token): hardly any in-context learning of random sequences")
def test_l2b_second_copy_is_predicted_stories260k(subject, record):
    record_second_copy(subject, record)


@claim(L2B, source=f"{SOURCE}; E3; a known positive", model="induction-2l")
def test_l2b_second_copy_is_predicted_induction_2l(subject, record):
    record_second_copy(subject, record)


@claim(L2B, source=f"{SOURCE}; E3", model="user-lm")
def test_l2b_second_copy_is_predicted_user_lm(subject, record):
    record_second_copy(subject, record)


# --- L3 the direct path and the logit lens --------------------------------------------------

L3A = ("the direct path (embeddings, then the final norm and the unembedding) predicts the next token of "
       "real text better than the text's own token frequencies: its loss minus their entropy is below 0")


def record_direct_path(subject, record):
    f = text_figures(subject)
    direct, unigram = f["readouts"][0], f["unigram_entropy"]
    record.note(direct_path_loss=round(direct, 3), unigram_entropy=round(unigram, 3),
                uniform=round(f["uniform"], 3), model_loss=round(f["readouts"][-1], 3),
                tokens=f["tokens"])
    record(direct - unigram, "<", 0.0,
           why="the frequencies are the best any predictor that ignores the current token does on this text "
               "(fitted to it); the 0-layer finding (A1) is that the direct path knows the current token")


@claim(L3A, source=f"{SOURCE}; Elhage et al. 2021, zero-layer transformers and the direct path",
       model="stories260k",
       refuted="the direct path costs {note.direct_path_loss} nats a token against the frequencies' "
               "{note.unigram_entropy} (uniform {note.uniform}): with the classifier tied to the embedding it "
               "predicts the current token again")
def test_l3a_direct_path_predicts_stories260k(subject, record):
    record_direct_path(subject, record)


@claim(L3A, source=f"{SOURCE}; A1; a known positive: the 0-layer model is its direct path", model="bigram-0l")
def test_l3a_direct_path_predicts_bigram_0l(subject, record):
    record_direct_path(subject, record)


@claim(L3A, source=f"{SOURCE}; Elhage et al. 2021", model="user-lm")
def test_l3a_direct_path_predicts_user_lm(subject, record):
    record_direct_path(subject, record)


L3B = ("logit lens: read through the final norm and the unembedding, the residual stream's loss on real text "
       "falls at every layer: each layer removes at least 1% of the loss of the readout before it")
L3B_WHY = ("a layer that removes less changes nothing a reader of the lens would see; nostalgebraist's GPT-2 "
           "readouts improve layer by layer")


def record_lens(subject, record, readouts: list[float]):
    steps = [(a - b) / a for a, b in zip(readouts, readouts[1:])]  # share of the loss each layer removes
    record.note(readouts=[round(x, 3) for x in readouts], weakest_layer=int(torch.tensor(steps).argmin()))
    record(min(steps), ">=", LENS_STEP_MIN, why=L3B_WHY)


@claim(L3B, source=f"{SOURCE}; nostalgebraist 2020, the logit lens", model="stories260k")
def test_l3b_logit_lens_falls_stories260k(subject, record):
    record_lens(subject, record, text_figures(subject)["readouts"])


@claim(L3B.replace("on real text", "on its task's repeated copies"), model="induction-2l",
       source=f"{SOURCE}; the logit lens where the answer is known: no",
       refuted="layer 0 writes the previous token (E1b), which says nothing about a random next token, so its "
               "readout cannot improve: readouts {note.readouts}; the generic lens says no where it must")
def test_l3b_logit_lens_falls_induction_2l(subject, record):
    record_lens(subject, record, task_readouts(subject))


@claim(L3B, source=f"{SOURCE}; nostalgebraist 2020", model="user-lm")
def test_l3b_logit_lens_falls_user_lm(subject, record):
    record_lens(subject, record, text_figures(subject)["readouts"])
