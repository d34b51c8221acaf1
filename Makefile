.PHONY: run test ingest eval bench lint readme-config
run:            ## set up, ingest corpus/, serve API + UI on 127.0.0.1:8000
	bash scripts/run.sh
test:           ## set up (dev) and run the whole test suite
	bash scripts/test.sh
ingest:
	.venv/bin/python -m ingest
eval:
	.venv/bin/python -m eval
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy
readme-config:  ## print the configuration table for the README
	.venv/bin/python -m rag.config
