"""Configuration of the jina-clip-v2 stand-in (model_type "jina_clip", nested text and vision configs).

As in jina-clip-v2, the text tower's own settings (vocabulary, width, position
table) travel in ``hf_model_config_kwargs``, the keyword arguments jina gives
the XLM-RoBERTa configuration it builds; the CLIP-level text config itself has
no ``max_position_embeddings``.
"""

from transformers import PretrainedConfig


def _as_dict(config):
    return config.to_dict() if isinstance(config, PretrainedConfig) else dict(config or {})


class JinaLikeTextConfig(PretrainedConfig):
    model_type = "jina_clip_text"

    def __init__(self, embed_dim=16, hf_model_config_kwargs=None, pooler_type="mean_pooler", **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = embed_dim
        self.hf_model_config_kwargs = dict(hf_model_config_kwargs or {})
        self.pooler_type = pooler_type


class JinaLikeVisionConfig(PretrainedConfig):
    model_type = "jina_clip_vision"

    def __init__(self, embed_dim=16, width=24, image_size=512, patch_size=64, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = embed_dim
        self.width = width
        self.image_size = image_size
        self.patch_size = patch_size


class JinaLikeConfig(PretrainedConfig):
    model_type = "jina_clip"

    def __init__(self, text_config=None, vision_config=None, logit_scale_init_value=4.6052, **kwargs):
        super().__init__(**kwargs)
        self.text_config = JinaLikeTextConfig(**_as_dict(text_config))
        self.vision_config = JinaLikeVisionConfig(**_as_dict(vision_config))
        self.logit_scale_init_value = logit_scale_init_value

    def to_dict(self):
        out = super().to_dict()
        out["text_config"] = self.text_config.to_dict()
        out["vision_config"] = self.vision_config.to_dict()
        return out
