"""Box arithmetic in torch on any device, as MTCNN's NumPy code does it: exact division, the box corrections,
and non-maximum suppression for many frames at once."""

from __future__ import annotations

import contextlib

import torch

__all__ = ["batched_nms", "ieee_float32", "div", "refine", "square"]

# Up to this many overlap tests at a time in batched_nms (each takes ~50
# bytes of temporaries).
_NMS_ELEMENTS = 2**22


@contextlib.contextmanager
def ieee_float32(device: torch.device):
    """Convolve in full float32 on CUDA while the block runs.

    cuDNN's default on recent GPUs is TF32 (10-bit mantissa), whose errors
    (~1e-3) are enough to move a probability across a threshold. The flag is
    process-wide; it is restored on leaving.
    """
    if device.type != "cuda":
        yield
        return
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):  # torch >= 2.9
        before = conv.fp32_precision
        conv.fp32_precision = "ieee"
        try:
            yield
        finally:
            conv.fp32_precision = before
    else:
        before = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32 = before


def div(a: torch.Tensor, b) -> torch.Tensor:
    """a / b rounded as IEEE division (see the module docstring)."""
    return a / torch.as_tensor(b, dtype=a.dtype, device=a.device)


def _suppresses(a: torch.Tensor, b: torch.Tensor, threshold: float, by_min: bool) -> torch.Tensor:
    """(G, P, Q): box p of a overlaps box q of b by more than ``threshold``
    (a (G, P, 5) and b (G, Q, 5): x1, y1, x2, y2, inclusive area), computed
    exactly as faces._nms computes it."""
    a, b = a[:, :, None, :], b[:, None, :, :]
    w = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0]) + 1).clamp(min=0)
    h = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1]) + 1).clamp(min=0)
    inter = w * h
    denom = torch.minimum(a[..., 4], b[..., 4]) if by_min else a[..., 4] + b[..., 4] - inter
    return inter / denom > threshold


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, threshold: float,
                by_min: bool = False, max_elements: int = _NMS_ELEMENTS) -> torch.Tensor:
    """Greedy non-maximum suppression within each group, all groups at once.

    Args:
        boxes: (n, 4) x1, y1, x2, y2, pixels inclusive (areas count
            (x2 - x1 + 1) * (y2 - y1 + 1), as in the original MTCNN).
        scores: (n,).
        groups: (n,) integers; boxes of different groups never suppress
            each other.
        threshold: a box is dropped when a better kept box of its group
            overlaps it by more than this: intersection over union, or over
            the smaller box's area with ``by_min``.
        max_elements: at most this many overlaps are held at a time.

    Returns:
        Indices of the kept boxes, ordered by group and, within a group, by
        score from best (ties: the later box first, as faces._nms orders
        them).

    >>> b = torch.tensor([[0., 0, 9, 9], [1, 1, 10, 10], [20, 20, 29, 29]])
    >>> batched_nms(b, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 0]), 0.5)
    tensor([0, 2])
    """
    device = scores.device
    if scores.numel() == 0:
        return torch.zeros(0, dtype=torch.long, device=device)
    order = torch.sort(scores, stable=True).indices.flip(0)
    order = order[torch.sort(groups[order], stable=True).indices]
    _, counts = torch.unique_consecutive(groups[order], return_counts=True)
    n_groups, most = len(counts), int(counts.max())
    row = torch.repeat_interleave(torch.arange(n_groups, device=device), counts)
    slot = torch.arange(len(order), device=device) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    ranked = boxes[order]
    table = torch.zeros(n_groups, most, 5, dtype=boxes.dtype, device=device)
    table[row, slot, :4] = ranked
    table[row, slot, 4] = (ranked[:, 2] - ranked[:, 0] + 1) * (ranked[:, 3] - ranked[:, 1] + 1)
    valid = torch.zeros(n_groups, most, dtype=torch.bool, device=device)
    valid[row, slot] = True
    keep = torch.zeros_like(valid)
    # Boxes are taken in blocks of ranks: a block is first cleared of boxes
    # that kept boxes of earlier blocks overlap, then settled within itself.
    block = max(1, min(most, max_elements // (n_groups * most)))
    later = torch.ones(block, block, dtype=torch.bool, device=device).triu(1)
    for first in range(0, most, block):
        last = min(most, first + block)
        part = table[:, first:last]
        alive = valid[:, first:last].clone()
        if first:
            hit = _suppresses(table[:, :first], part, threshold, by_min) & keep[:, :first, None]
            alive &= ~hit.any(1)
        overlaps = _suppresses(part, part, threshold, by_min) & later[: last - first, : last - first]
        # Greedy NMS keeps exactly the boxes that no kept better box
        # overlaps; iterating that rule from "all kept" settles on it in at
        # most one round per box (round k fixes the k-th best box for good).
        kept = alive
        for _ in range(last - first + 1):
            settled = alive & ~(overlaps & kept[:, :, None]).any(1)
            if torch.equal(settled, kept):
                break
            kept = settled
        keep[:, first:last] = kept
    return order[keep[row, slot]]


def refine(boxes: torch.Tensor, offsets: torch.Tensor, inclusive: bool) -> torch.Tensor:
    """faces._refine: corrections as shares of the box's width (inclusive or not)."""
    extra = 1.0 if inclusive else 0.0
    w = boxes[:, 2] - boxes[:, 0] + extra
    h = boxes[:, 3] - boxes[:, 1] + extra
    return boxes[:, :4] + offsets * torch.stack([w, h, w, h], 1)


def square(boxes: torch.Tensor) -> torch.Tensor:
    """faces._square: grown to squares about the same centre."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(w, h)
    x1 = boxes[:, 0] + (w - side) * 0.5
    y1 = boxes[:, 1] + (h - side) * 0.5
    return torch.stack([x1, y1, x1 + side, y1 + side], 1)
