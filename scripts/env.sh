# Sourced by every script: no model ever comes from a hub; no telemetry.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export ANONYMIZED_TELEMETRY=False GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false
