# Sourced by every script: no model ever comes from a hub; no telemetry.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export ANONYMIZED_TELEMETRY=False GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false
export OMP_WAIT_POLICY=PASSIVE
# The installer: uv, pinned, kept outside the repo beside the models.
RNA_TOOLS_DIR=${RNA_TOOLS_DIR:-$HOME/.cache/research-notes/tools}
UV_VERSION=0.13.8
UV="$RNA_TOOLS_DIR/uv-$UV_VERSION/bin/uv"
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
