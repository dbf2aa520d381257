"""A tiny model with jina-clip-v2's interface, for tests.

What it shares with the real remote code, on purpose:
- it imports ``clip_loss`` from transformers' CLIP module and
  ``create_position_ids_from_input_ids`` from its XLM-RoBERTa module at module
  level, as jina's code does; transformers 5 has neither, so under 5.x this
  file fails to import exactly as the real one does;
- ``get_text_features(input_ids, *_, **__)`` ignores any attention mask and
  builds its own from the pad id, and pools the tokens by their mean;
- text positions are XLM-RoBERTa's: counted from ``pad_token_id + 1``, so the
  position table holds ``pad_token_id + 1`` more rows than the longest text;
- ``get_image_features(pixel_values, *_, **__)`` accepts only square inputs of
  the configured size (512 px) and raises otherwise;
- it uses einops, as jina's vision tower does; it does not use timm or
  torchvision (the real one does: see the requirement checks in models.py).
"""

import math

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.models.clip.modeling_clip import clip_loss
from transformers.models.xlm_roberta.modeling_xlm_roberta import create_position_ids_from_input_ids

# After transformers, so that a plain import of this file fails on 5.x whether or not einops is installed.
from einops import rearrange

from .configuration_jina_like import JinaLikeConfig


class Block(nn.Module):
    """One pre-norm transformer block: single-head attention over unmasked tokens, then an MLP."""

    def __init__(self, width):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def forward(self, x, keep=None):
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if keep is not None:
            scores = scores.masked_fill(~keep[:, None, :], float("-inf"))
        x = x + self.out(scores.softmax(dim=-1) @ v)
        return x + self.mlp(self.norm2(x))


class TextTower(nn.Module):
    def __init__(self, config):
        super().__init__()
        settings = config.hf_model_config_kwargs
        width = settings["hidden_size"]
        self.pad_token_id = settings["pad_token_id"]
        self.tokens = nn.Embedding(settings["vocab_size"], width, padding_idx=self.pad_token_id)
        self.positions = nn.Embedding(settings["max_position_embeddings"], width, padding_idx=self.pad_token_id)
        self.block = Block(width)
        self.norm = nn.LayerNorm(width)
        self.projection = nn.Linear(width, config.embed_dim, bias=False)

    def forward(self, input_ids):
        keep = input_ids != self.pad_token_id
        positions = create_position_ids_from_input_ids(input_ids, self.pad_token_id)
        x = self.tokens(input_ids) + self.positions(positions)
        x = self.norm(self.block(x, keep))
        weights = keep.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(dim=1) / weights.sum(dim=1)
        return self.projection(pooled)


class VisionTower(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.image_size = config.image_size
        grid = config.image_size // config.patch_size
        self.patches = nn.Conv2d(3, config.width, kernel_size=config.patch_size, stride=config.patch_size)
        self.position = nn.Parameter(torch.randn(grid * grid, config.width) * 0.02)
        self.block = Block(config.width)
        self.norm = nn.LayerNorm(config.width)
        self.projection = nn.Linear(config.width, config.embed_dim, bias=False)

    def forward(self, pixel_values):
        if tuple(pixel_values.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(f"Input image size {tuple(pixel_values.shape[-2:])} does not match the model's "
                             f"{self.image_size}x{self.image_size}.")
        x = self.patches(pixel_values.to(self.patches.weight.dtype))
        x = rearrange(x, "b c h w -> b (h w) c") + self.position
        x = self.norm(self.block(x))
        return self.projection(x.mean(dim=1))


class JinaLikeModel(PreTrainedModel):
    config_class = JinaLikeConfig
    base_model_prefix = "jina_like"

    def __init__(self, config):
        super().__init__(config)
        self.text_model = TextTower(config.text_config)
        self.vision_model = VisionTower(config.vision_config)
        self.logit_scale = nn.Parameter(torch.tensor(float(config.logit_scale_init_value)))
        self.post_init()

    def _init_weights(self, module):
        """torch's default initialisation (seeded by the builder) is all a stand-in needs."""

    def get_text_features(self, input_ids, *_, **__):
        return self.text_model(input_ids)

    def get_image_features(self, pixel_values, *_, **__):
        return self.vision_model(pixel_values)

    def forward(self, input_ids=None, pixel_values=None, return_loss=False, *_, **__):
        text = nn.functional.normalize(self.get_text_features(input_ids), dim=-1)
        image = nn.functional.normalize(self.get_image_features(pixel_values), dim=-1)
        logits_per_text = self.logit_scale.exp() * text @ image.T
        loss = clip_loss(logits_per_text) if return_loss else None
        return {"loss": loss, "logits_per_text": logits_per_text, "logits_per_image": logits_per_text.T,
                "text_embeds": text, "image_embeds": image}
