.PHONY: run test lock smoke ingest eval bench lint readme-config report
run:            ## set up, ingest corpus/, serve API + UI on 127.0.0.1:8000
	bash scripts/run.sh
test:           ## set up (dev) and run the whole test suite
	bash scripts/test.sh
lock:           ## re-resolve uv.lock after editing pyproject.toml's dependencies
	bash -c 'source scripts/env.sh && "$$UV" lock'
smoke:          ## `make run` with the runtime install only: /readyz, one cited answer, stop
	bash scripts/smoke_run.sh
ingest:
	.venv/bin/python -m ingest
eval:
	.venv/bin/python -m eval
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy
readme-config:  ## print the configuration table for the README
	.venv/bin/python -m rag.config
report:         ## regenerate eval/REPORT.md (every suite, deterministic mode, real embedder)
	RNA_DATA_DIR=data/report RNA_LLM=none .venv/bin/python -m eval --quiet \
	  --suite seed --suite ood-dev --suite ood-test --out data/report/results
bench:          ## print embedder, LLM and answer-latency figures
	.venv/bin/python benchmarks/embed_bench.py
	.venv/bin/python benchmarks/llm_bench.py
	.venv/bin/python benchmarks/answer_bench.py
