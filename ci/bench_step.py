"""Time one full-batch training step of the modular-addition model (modadd-p113's spec)
against a TransformerLens 4 ``TransformerBridge.boot_native`` model of the same
architecture, in one run:

    python ci/bench_step.py [--steps 30] [--rounds 5]

A step is what ``fixtures.training.train`` does: forward on the 3830 training pairs,
cross-entropy at the final position, backward, AdamW (lr 1e-3, wd 1, betas 0.9/0.98),
under the same ``deterministic()`` settings (one torch thread, as all training). Three variants:

- ``ours``: ``Transformer`` computing every position (``last_position_only=False``);
- ``ours-last``: ``last_position_only=True``, the way training runs it;
- ``bridge``: ``TransformerBridge.boot_native`` with 1 layer, d_model 128, 4 heads of 32,
  d_mlp 512, ReLU, no LayerNorm, n_ctx 3, d_vocab 114, d_vocab_out 113. Its native
  module always has biases; they are zeroed and frozen (our model has none), so the
  optimiser updates the same weights.

Variants run interleaved in ``--rounds`` rounds of ``--steps`` steps after a warm-up;
the median round gives ms/step (the machine is shared, medians resist interference).
Prints ms/step and ratios. Not a test: timings never gate anything.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from fixtures.model import build_model  # noqa: E402  (after the path insert)
from fixtures.training import TRAINING_THREADS, deterministic  # noqa: E402
from fixtures.zoo import get_spec  # noqa: E402


def bridge_model(cfg, seed: int) -> torch.nn.Module:
    from transformer_lens.config import TransformerBridgeConfig
    from transformer_lens.model_bridge import TransformerBridge
    import transformer_lens.model_bridge.sources.native  # noqa: F401  (attaches boot_native)

    bridge = TransformerBridge.boot_native(TransformerBridgeConfig(
        d_model=cfg.d_model, d_head=cfg.d_head, n_layers=cfg.n_layers, n_ctx=cfg.n_ctx, n_heads=cfg.n_heads,
        d_vocab=cfg.d_vocab, d_vocab_out=cfg.d_vocab_out, d_mlp=cfg.d_mlp, act_fn=cfg.act_fn,
        normalization_type=None, positional_embedding_type="standard", seed=seed))
    for name, param in bridge.named_parameters():
        if name.endswith(".bias"):
            param.requires_grad_(False)
            param.data.zero_()
    return bridge


def stepper(model, logits_of, tokens, labels, train_cfg):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=train_cfg.lr, weight_decay=train_cfg.weight_decay, betas=train_cfg.betas)

    def step() -> float:
        loss = F.cross_entropy(logits_of(tokens), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()  # a sync point, as the training loop's divergence check

    return step, sum(p.numel() for p in params)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)

    spec = get_spec("modadd-p113")
    state = spec.task.setup(torch.device("cpu"))
    tokens, labels = state["train"], spec.task.labels(state["train"])  # [3830, 3], [3830]
    ours = build_model(spec.model, seed=0).train()
    ours_last = build_model(spec.model, seed=0).train()
    bridge = bridge_model(spec.model, seed=0).train()
    variants = {
        "ours": stepper(ours, lambda t: ours(t)[:, -1], tokens, labels, spec.train),
        "ours-last": stepper(ours_last, lambda t: ours_last(t, last_position_only=True)[:, -1], tokens, labels,
                             spec.train),
        "bridge": stepper(bridge, lambda t: bridge(t)[:, -1], tokens, labels, spec.train),
    }
    counts = {name: n for name, (_, n) in variants.items()}
    if len(set(counts.values())) != 1:
        raise SystemExit(f"the variants train different numbers of weights: {counts}")

    times: dict[str, list[float]] = {name: [] for name in variants}
    with deterministic():
        for name, (step, _) in variants.items():
            for _ in range(args.warmup):
                step()
        for _ in range(args.rounds):
            for name, (step, _) in variants.items():
                start = time.perf_counter()
                for _ in range(args.steps):
                    step()
                times[name].append((time.perf_counter() - start) / args.steps * 1000)

    ms = {name: statistics.median(t) for name, t in times.items()}
    print(f"full-batch step on {tokens.shape[0]} pairs, {counts['ours']} trained weights, "
          f"{TRAINING_THREADS} thread(s), median of {args.rounds} rounds x {args.steps} steps "
          f"(torch {torch.__version__})")
    for name, value in ms.items():
        spread = ", ".join(f"{t:.1f}" for t in times[name])
        print(f"  {name:10s} {value:8.1f} ms/step   (rounds: {spread})")
    print(f"  bridge / ours      = {ms['bridge'] / ms['ours']:.2f}")
    print(f"  bridge / ours-last = {ms['bridge'] / ms['ours-last']:.2f}")
    print(f"  ours / ours-last   = {ms['ours'] / ms['ours-last']:.2f}")


if __name__ == "__main__":
    main()
