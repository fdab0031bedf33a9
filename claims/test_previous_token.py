"""D. A transformer without positional embeddings predicts the previous token (seed 000).

Without W_pos the only source of position is the causal mask: a query at position n
sees n + 1 keys, so layer-0 attention to BOS falls like w / (w + n) and later layers
can read position off it (Kazemnejad et al. 2023, Theorem 1). The ablation claims read
mean-ablation losses (``fixtures.analysis.ablation``: a hook point replaced by its batch
mean, per position, taken on a second held-out batch), one hook point at a time, for the
hook points of seed 000's table that the claims below read: what it says matters and
what does not. Each (model, seed, hook point) is computed once per run (``@analysis``).

Thresholds: "the task is solved" is loss < 0.05 nats (CLAIMS.md D1; the seed reaches
0.0056), so "ablating X leaves the task solved" uses the same 0.05, and "X matters"
asks for a loss increase the solved criterion cannot absorb.

Controls. The ablation claims are controlled inside the trained model: an "X does not
matter" claim must fail when the same ablation hits a component that does matter (a
positive control), and an "X matters" claim must fail on a component that does not. An
untrained model cannot do the task at all (loss ln 299), so it would fail "leaves the task
solved" for the wrong reason. The other claims use the untrained initialisation, or
``prevtoken-pos`` (the same model with positional embeddings) where the question is how a
model without them finds position.
"""

import math

import torch

from fixtures.analysis.ablation import activation_means, hook_names, mean_ablation_loss
from fixtures.analysis.heads import attention_patterns
from fixtures.analysis.metrics import task_metrics  # test_loss, test_acc on the held-out batch
from fixtures.analysis.position import attention_at_offset, attention_to_key, fit_bos_decay
from fixtures.claims import analysis, claim

SOURCE = "000_438ef08236a464c5.txt"
MODEL = "prevtoken-nopos"
POSITIONAL = "zoo:prevtoken-pos"  # the same spec with learned positional embeddings
SOLVED = 0.05  # nats: CLAIMS.md D1
MATTERS = 1.0  # nats of loss increase: 20x the solved criterion; the seed's "matters" entries are 4-19 nats
REPORT_POSITIONS = (1, 2, 3, 5, 10, 20, 30, 49)  # where CLAIMS.md D3 quotes attention to BOS
SCALES = ("blocks.0.ln1.hook_scale", "blocks.0.ln2.hook_scale", "blocks.1.ln1.hook_scale", "blocks.1.ln2.hook_scale",
          "ln_final.hook_scale")
# The hook points the claims below read, noted together by D4 (one forward pass each).
READ_HOOKS = ("hook_embed", "blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_v",
              "blocks.0.hook_mlp_out", "blocks.1.attn.hook_pattern", "blocks.1.attn.hook_v", *SCALES)


def _held_out(subject) -> torch.Tensor:
    return subject.setup()["held_out"]  # [1024, n_ctx]; never trained on


def _reference(subject) -> torch.Tensor:
    # A second held-out batch for the ablation means (seed 000 also took them from another batch).
    task = subject.task
    return task.sample(task.eval_batch_size, torch.Generator().manual_seed(task.eval_seed + 1), subject.device)


@analysis
def mean_patterns(subject) -> torch.Tensor:
    """Attention patterns of every layer on the held-out batch, averaged over the batch:
    [layer, 1, head, q, k] (a batch of one, the shape fixtures.analysis.position reads)."""
    return attention_patterns(subject.model, _held_out(subject)).mean(1, keepdim=True)


@analysis
def ablation_means(subject) -> dict[str, torch.Tensor]:
    """Per-position batch means of every hook point on the reference batch (one forward)."""
    names = hook_names(subject.model, exclude=["hook_pos_embed"])  # zero and frozen: ablating it is a no-op
    return activation_means(subject.model, _reference(subject), names)


@analysis(disk=False)
def block_input(subject, layer: int) -> torch.Tensor:
    """The residual stream entering block ``layer`` on the held-out batch, unablated."""
    with torch.no_grad():
        return subject.model(_held_out(subject), stop_at_layer=layer)


@analysis
def ablated_loss(subject, hook: str | None) -> float:
    """Held-out loss with ``hook`` mean-ablated; ``hook=None``: the clean loss. A hook point of a
    later block runs from that block's (unablated) input on: the same bits as the whole pass."""
    if hook is None:  # the same loss (PreviousToken.loss_on) on the same batch, already computed
        return task_metrics(subject)["test_loss"]
    layer = int(hook.split(".")[1]) if hook.startswith("blocks.") else 0
    if not layer:
        return mean_ablation_loss(subject.model, subject.task.loss_on, _held_out(subject), ablation_means(subject),
                                  hook)
    resid = block_input(subject, layer)
    return mean_ablation_loss(subject.model, lambda model, tokens: subject.task.loss_of(
        model(resid, start_at_layer=layer), tokens), _held_out(subject), ablation_means(subject), hook)


def increase(subject, hook: str) -> float:
    return ablated_loss(subject, hook) - ablated_loss(subject, None)


# Components the control runs ablate instead (see the module docstring).
MATTERS_CONTROL = "component:mean-ablating the layer-0 queries instead, which do matter (D3)"
MATTERS_HOOK = "blocks.0.attn.hook_q"
INERT_CONTROL = "component:mean-ablating the layer-0 keys instead, which do not matter (D3)"
INERT_HOOK = "blocks.0.attn.hook_k"


def rounded(table: dict[str, float]) -> dict[str, float]:
    return {k: float(f"{v:.4g}") for k, v in table.items()}


def w_pos_max_abs(model) -> float:
    return model.W_pos.detach().abs().max().item()


# --- D1 the task is solved with no positional embeddings ------------------------------


@claim("the model predicts the previous token: held-out loss < 0.05 nats, with W_pos identically zero",
       source=f"{SOURCE}; CLAIMS.md D1", model=MODEL)
def test_d1_previous_token_loss(subject, record):
    assert w_pos_max_abs(subject.model) == 0.0, "prevtoken-nopos must have W_pos identically zero"
    loss = task_metrics(subject)["test_loss"]
    record.note(w_pos_max_abs=0.0, final_curve_loss=subject.curves.get("test_loss", [math.nan])[-1])
    record(loss, "<", SOLVED, why="CLAIMS.md D1: the seed reaches 0.0056; ln 299 = 5.70 is a uniform guess")


@claim("the model predicts the previous token: held-out accuracy > 99%, with W_pos identically zero",
       source=f"{SOURCE}; CLAIMS.md D1", model=MODEL)
def test_d1_previous_token_accuracy(subject, record):
    assert w_pos_max_abs(subject.model) == 0.0, "prevtoken-nopos must have W_pos identically zero"
    record(task_metrics(subject)["test_acc"], ">", 0.99, why="CLAIMS.md D1; chance is 1/299")


@claim("W_pos stays identically zero through training (the model never had positional embeddings)",
       source=f"{SOURCE} (deactivate_position); CLAIMS.md D1", model=MODEL, control=POSITIONAL)
def test_d1_w_pos_identically_zero(subject, record):
    record(w_pos_max_abs(subject.model), "<=", 0.0, why="frozen at zero: any update would make it nonzero")


# --- D2 how the previous token reaches its successor -----------------------------------


@claim("hypothesis: layer-1 attention carries the answer by attending from i to i-1 "
       "(mean A[i, i-1] over i = 1..49 >= 0.5)",
       source=f"{SOURCE}; CLAIMS.md D2", model=MODEL,
       refuted="layer 1 attends {figures} to the previous token (threshold 0.5) and {note.layer1_to_self} to "
               "itself, as the CPU replication in CLAIMS.md D2 found; mean-ablating its pattern leaves the task "
               "solved while ablating its values does not (test_d4_layer1_*)")
def test_d2_layer1_attends_to_previous_token(subject, record):
    pattern = mean_patterns(subject)[1]  # [batch, head, q, k]
    previous, itself = attention_at_offset(pattern, 1)[0], attention_at_offset(pattern, 0)[0]  # [q]
    record.note(layer1_to_previous=float(previous.mean()), layer1_to_self=float(itself[1:].mean()),
                layer1_to_bos=float(attention_to_key(pattern, 0)[0, 1:].mean()),
                layer1_to_previous_at={n: round(float(previous[n - 1]), 3) for n in REPORT_POSITIONS})
    record(previous.mean(), ">=", 0.5, why="a head that moves the previous token attends there with most of its weight")



@claim("layer-1 attention is a local blend: most of its weight sits on the query itself and the "
       "previous token (mean A[i, i] + A[i, i-1] over i = 1..49 >= 0.5)",
       source=f"{SOURCE}; CLAIMS.md D2 (a replication: ~0.67 to itself, ~0.25 to the previous token)",
       model=MODEL, formed_on=(0, 1, 2))
def test_d2_layer1_attends_to_itself_and_previous_token(subject, record):
    pattern = mean_patterns(subject)[1]  # [batch, head, q, k]
    previous, itself = attention_at_offset(pattern, 1)[0], attention_at_offset(pattern, 0)[0][1:]  # [q - 1]
    record.note(layer1_to_previous=float(previous.mean()), layer1_to_self=float(itself.mean()))
    record((previous + itself).mean(), ">=", 0.5, why="a majority of the weight; uniform attention gives ~0.15")

# --- D3 layer-0 attention derives position from the causal mask ------------------------


@claim("layer-0 attention to BOS falls with position n like w / (w + n): R^2 of the fit over "
       "n = 1..49 >= 0.95", source=f"{SOURCE}; CLAIMS.md D3; Kazemnejad et al. 2023, Theorem 1",
       model=MODEL, control=POSITIONAL)
def test_d3_layer0_attention_to_bos_follows_w_over_w_plus_n(subject, record):
    to_bos = attention_to_key(mean_patterns(subject)[0], 0)[0]  # [q]
    n = torch.arange(1, to_bos.shape[0])
    w, r2 = fit_bos_decay(to_bos[1:], n)
    record.note(w=round(w, 3), r2=round(r2, 5),
                attention_to_bos_at={k: round(float(to_bos[k]), 3) for k in REPORT_POSITIONS})
    # An untrained model fits this shape too (near-uniform attention: w ~ 1), so the
    # control is the same model trained with positional embeddings.
    record(r2, ">=", 0.95, why="a replication's profile fits with R^2 0.9995 (w 4.2); room for query-dependent w")


@claim("layer-0 attention singles out BOS: in the fit of attention to BOS by w / (w + n), BOS weighs "
       "as much as w >= 2 ordinary keys", source=f"{SOURCE}; CLAIMS.md D3 (a replication: w 4.2)",
       model=MODEL)
def test_d3_layer0_bos_outweighs_other_keys(subject, record):
    to_bos = attention_to_key(mean_patterns(subject)[0], 0)[0]  # [q]
    w, r2 = fit_bos_decay(to_bos[1:], torch.arange(1, to_bos.shape[0]))
    record.note(w=round(w, 3), r2=round(r2, 5))
    record(w, ">=", 2.0, why="uniform attention, as at init, gives w = 1; twice that marks BOS as a reference")

@claim("mean-ablating layer-0 keys leaves the task solved (loss < 0.05 nats): position does not come "
       "from what the keys say", source=f"{SOURCE} (ablation table: k 0.0069); CLAIMS.md D3", model=MODEL,
       control=MATTERS_CONTROL)
def test_d3_layer0_keys_do_not_matter(subject, record):
    hook = MATTERS_HOOK if subject.is_control else "blocks.0.attn.hook_k"
    record.note(clean=ablated_loss(subject, None), hook=hook)
    record(ablated_loss(subject, hook), "<", SOLVED, why="the D1 criterion for a solved task")


@claim("mean-ablating layer-0 queries raises the loss by >= 0.1 nats: the query decides how much "
       "weight BOS gets", source=f"{SOURCE} (ablation table: q 0.52 vs 0.0056); CLAIMS.md D3", model=MODEL,
       control=INERT_CONTROL)
def test_d3_layer0_queries_matter(subject, record):
    hook = INERT_HOOK if subject.is_control else "blocks.0.attn.hook_q"
    record.note(clean=ablated_loss(subject, None), ablated=ablated_loss(subject, hook), hook=hook)
    record(increase(subject, hook), ">=", 0.1,
           why="twice the solved criterion: the task is no longer solved; the seed's increase is 0.52")


@claim("mean-ablating the token embedding raises the loss by >= 1 nat", model=MODEL,
       source=f"{SOURCE} (ablation table: embed 15.9 vs 0.0056); CLAIMS.md D3", control=INERT_CONTROL)
def test_d3_embedding_matters(subject, record):
    hook = INERT_HOOK if subject.is_control else "hook_embed"
    record.note(clean=ablated_loss(subject, None), ablated=ablated_loss(subject, hook), hook=hook)
    # Without token identity no model beats ln 299 = 5.70; the figure says how much a
    # solved model loses.
    record(increase(subject, hook), ">=", MATTERS, why="20x the solved criterion")


# --- D4 the mean-ablation table --------------------------------------------------------


@claim("mean-ablating layer-0 values leaves the task solved (loss < 0.05 nats): layer-0 attention "
       "moves position (its weight on BOS), not token identity",
       source=f"{SOURCE} (ablation table: blocks.0.attn.hook_v 0.0073); CLAIMS.md D4", model=MODEL,
       control=MATTERS_CONTROL,
       refuted="mean-ablating layer-0 values gives loss {figures} nats (threshold 0.05): in our models "
               "layer-0 values carry information the seed's did not need")
def test_d4_layer0_values_do_not_matter(subject, record):
    hook = MATTERS_HOOK if subject.is_control else "blocks.0.attn.hook_v"
    if not subject.is_control:  # the table of every hook point the D claims read, once per seed
        record.note(ablation=rounded({"clean": ablated_loss(subject, None),
                                      **{h: ablated_loss(subject, h) for h in READ_HOOKS}}))
    record(ablated_loss(subject, hook), "<", SOLVED, why="the D1 criterion for a solved task")


@claim("mean-ablating any LayerNorm scale leaves the task solved (max loss over the five "
       "hook_scale ablations < 0.05 nats)",
       source=f"{SOURCE} (ablation table: ln scales 0.0056-0.0088); CLAIMS.md D4", model=MODEL,
       control=MATTERS_CONTROL,
       refuted="the largest loss over the five scale ablations is {figures} nats (threshold 0.05); per scale: "
               "{note.ablated}")
def test_d4_layernorm_scales_do_not_matter(subject, record):
    scales = {hook: ablated_loss(subject, hook) for hook in ((MATTERS_HOOK,) if subject.is_control else SCALES)}
    record.note(ablated=rounded(scales))
    record(max(scales.values()), "<", SOLVED, why="the D1 criterion for a solved task")


@claim("mean-ablating the layer-0 MLP output raises the loss by >= 1 nat",
       source=f"{SOURCE} (ablation table: blocks.0.hook_mlp_out 4.29); CLAIMS.md D4", model=MODEL,
       control=INERT_CONTROL)
def test_d4_layer0_mlp_matters(subject, record):
    hook = INERT_HOOK if subject.is_control else "blocks.0.hook_mlp_out"
    record.note(clean=ablated_loss(subject, None), ablated=ablated_loss(subject, hook), hook=hook)
    record(increase(subject, hook), ">=", MATTERS, why="20x the solved criterion")


@claim("mean-ablating the layer-1 attention pattern leaves the task solved (loss < 0.05 nats): "
       "layer-1 attention depends on position, not on the tokens",
       source=f"{SOURCE}; CLAIMS.md D2 (pattern ablation 0.00078)", model=MODEL,
       control="component:mean-ablating the layer-1 attention values instead, which do matter (D4)")
def test_d4_layer1_pattern_does_not_matter(subject, record):
    hook = "blocks.1.attn.hook_v" if subject.is_control else "blocks.1.attn.hook_pattern"
    record.note(clean=ablated_loss(subject, None), hook=hook)
    record(ablated_loss(subject, hook), "<", SOLVED, why="the D1 criterion for a solved task")


@claim("mean-ablating the layer-1 attention values raises the loss by >= 1 nat: the previous token's "
       "identity travels through layer-1 attention",
       source=f"{SOURCE}; CLAIMS.md D2 (values 16.9)", model=MODEL,
       control="component:mean-ablating the layer-1 attention pattern instead, which does not matter (D4)")
def test_d4_layer1_values_matter(subject, record):
    hook = "blocks.1.attn.hook_pattern" if subject.is_control else "blocks.1.attn.hook_v"
    record.note(clean=ablated_loss(subject, None), ablated=ablated_loss(subject, hook), hook=hook)
    record(increase(subject, hook), ">=", MATTERS, why="20x the solved criterion")
