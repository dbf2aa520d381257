"""A tiny model with EVA-CLIP-8B-448's interface, for tests.

What it shares with the real remote code, on purpose:
- ``encode_text(input_ids)`` and ``encode_image(pixel_values)``, and no
  ``get_text_features`` / ``get_image_features``;
- the text tower is causal and pools at the end-of-text token, found as the
  largest id in each row (CLIP's tokenizer gives end-of-text the largest id),
  so padding after it changes nothing and no attention mask is taken;
- images must be 448 x 448 (the size is the caller's job: the model ships no
  preprocessor_config.json).
"""

import math

import torch
from torch import nn
from transformers import PreTrainedModel

from .configuration_evaclip import EvaCLIPConfig


class Block(nn.Module):
    """One pre-norm transformer block, single-head, optionally causal."""

    def __init__(self, width, causal):
        super().__init__()
        self.causal = causal
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def forward(self, x):
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if self.causal:
            n = x.shape[1]
            later = torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(later, float("-inf"))
        x = x + self.out(scores.softmax(dim=-1) @ v)
        return x + self.mlp(self.norm2(x))


class EvaCLIPModel(PreTrainedModel):
    config_class = EvaCLIPConfig
    base_model_prefix = "evaclip"

    def __init__(self, config):
        super().__init__(config)
        text, vision = config.text_config, config.vision_config
        self.token_embedding = nn.Embedding(text.vocab_size, text.hidden_size)
        self.text_positions = nn.Embedding(text.max_position_embeddings, text.hidden_size)
        self.text_block = Block(text.hidden_size, causal=True)
        self.text_norm = nn.LayerNorm(text.hidden_size)
        self.text_projection = nn.Linear(text.hidden_size, config.projection_dim, bias=False)

        self.image_size = vision.image_size
        grid = vision.image_size // vision.patch_size
        self.patch_embedding = nn.Conv2d(3, vision.hidden_size, kernel_size=vision.patch_size,
                                         stride=vision.patch_size)
        self.class_embedding = nn.Parameter(torch.randn(vision.hidden_size) * 0.02)
        self.image_positions = nn.Parameter(torch.randn(grid * grid + 1, vision.hidden_size) * 0.02)
        self.vision_block = Block(vision.hidden_size, causal=False)
        self.vision_norm = nn.LayerNorm(vision.hidden_size)
        self.visual_projection = nn.Linear(vision.hidden_size, config.projection_dim)

        self.logit_scale = nn.Parameter(torch.tensor(float(config.logit_scale_init_value)))
        self.post_init()

    def _init_weights(self, module):
        """torch's default initialisation (seeded by the builder) is all a stand-in needs."""

    def encode_text(self, input_ids):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.token_embedding(input_ids) + self.text_positions(positions)
        x = self.text_norm(self.text_block(x))
        end = input_ids.argmax(dim=-1)
        return self.text_projection(x[torch.arange(x.shape[0], device=x.device), end])

    def encode_image(self, pixel_values):
        if tuple(pixel_values.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(f"Input pixel_values should be {self.image_size}x{self.image_size}, got "
                             f"{tuple(pixel_values.shape[-2:])}.")
        x = self.patch_embedding(pixel_values.to(self.patch_embedding.weight.dtype)).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.image_positions
        x = self.vision_norm(self.vision_block(x))
        return self.visual_projection(x[:, 0])

    def forward(self, input_ids=None, pixel_values=None):
        text = nn.functional.normalize(self.encode_text(input_ids), dim=-1)
        image = nn.functional.normalize(self.encode_image(pixel_values), dim=-1)
        logits_per_image = self.logit_scale.exp() * image @ text.T
        return {"logits_per_image": logits_per_image, "logits_per_text": logits_per_image.T,
                "text_embeds": text, "image_embeds": image}
