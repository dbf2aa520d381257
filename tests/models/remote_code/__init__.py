"""Stand-ins for the remote code of jina-clip-v2 and EVA-CLIP-8B-448, written for our tests.

Each sub-package is what a model folder's ``auto_map`` points at: a configuration
module and a modeling module, copied into the folder by :mod:`remote_code.build`
and loaded by transformers with ``trust_remote_code=True``, the path the real
models take. They copy the *interface* of the real code (class layout, method
names and signatures, what the folder ships), never its text.
"""
