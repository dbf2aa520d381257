"""Configuration of the EVA-CLIP-8B-448 stand-in.

As in BAAI/EVA-CLIP-8B-448, the folder's config.json says ``model_type: "clip"``
and names these classes in ``auto_map``; only ``trust_remote_code`` makes
transformers use them instead of its own CLIPConfig.
"""

from transformers import PretrainedConfig


def _as_dict(config):
    return config.to_dict() if isinstance(config, PretrainedConfig) else dict(config or {})


class EvaCLIPTextConfig(PretrainedConfig):
    model_type = "clip_text_model"

    def __init__(self, vocab_size=514, hidden_size=24, max_position_embeddings=77, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.max_position_embeddings = max_position_embeddings


class EvaCLIPVisionConfig(PretrainedConfig):
    model_type = "clip_vision_model"

    def __init__(self, hidden_size=24, image_size=448, patch_size=64, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.image_size = image_size
        self.patch_size = patch_size


class EvaCLIPConfig(PretrainedConfig):
    model_type = "clip"

    def __init__(self, text_config=None, vision_config=None, projection_dim=16, logit_scale_init_value=4.6052,
                 **kwargs):
        super().__init__(**kwargs)
        self.text_config = EvaCLIPTextConfig(**_as_dict(text_config))
        self.vision_config = EvaCLIPVisionConfig(**_as_dict(vision_config))
        self.projection_dim = projection_dim
        self.logit_scale_init_value = logit_scale_init_value

    def to_dict(self):
        out = super().to_dict()
        out["text_config"] = self.text_config.to_dict()
        out["vision_config"] = self.vision_config.to_dict()
        return out
