# Two commands do all set-up: `make lab` and `make test`. Both create or reuse .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Offline set-up: `make wheelhouse` fills wheelhouse/ with a wheel of every pinned dependency (plus
# pip, setuptools and wheel for the editable install). When wheelhouse/ holds wheels, `make lab` and
# `make test` install from it alone (--no-index: no network at all); otherwise from the package index.
WHEELHOUSE := wheelhouse
PIP_SOURCE := $(if $(wildcard $(WHEELHOUSE)/*.whl),--no-index --find-links $(WHEELHOUSE),)
# Optional faster installer: `make lab INSTALLER=uv` (needs uv on PATH: `pip install uv`). Same sources.
INSTALLER ?= pip
# Extra flags for `pip download` in `make wheelhouse`, e.g. another platform:
# WHEELHOUSE_FLAGS="--platform macosx_11_0_arm64 --python-version 3.11"
WHEELHOUSE_FLAGS ?=
# The course's JupyterLab settings (no news prompt), where JupyterLab reads overrides for this environment.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.d/cognito-labkit.json

.PHONY: lab test bench bench-workshop student clean lab-settings wheelhouse

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
ifeq ($(INSTALLER),uv)
	uv pip install --quiet --python $(PY) $(PIP_SOURCE) -e .
else
	$(PY) -m pip install --quiet $(PIP_SOURCE) --upgrade pip
	$(PY) -m pip install --quiet $(PIP_SOURCE) -e .
endif
	@touch $(STAMP)

# Every pinned dependency as a wheel (all of them publish wheels: nothing to build), for a room without a
# network. Run it again with other platform flags to add the wheels for other attendees' machines.
wheelhouse: pyproject.toml  ## download every pinned dependency into wheelhouse/ (hand it out on a USB stick)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@mkdir -p $(WHEELHOUSE)
	$(PY) -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
	print(*p['dependencies'], *sum(p['optional-dependencies'].values(), []), sep='\n')" > $(WHEELHOUSE)/requirements.txt
	$(PY) -m pip download --quiet --only-binary=:all: --dest $(WHEELHOUSE) $(WHEELHOUSE_FLAGS) \
	    pip wheel "setuptools>=77" -r $(WHEELHOUSE)/requirements.txt

$(LAB_SETTINGS): jupyter/overrides.d/cognito-labkit.json
	@mkdir -p $(dir $@)
	cp $< $@

lab-settings: $(LAB_SETTINGS)  ## install the course's JupyterLab settings into .venv

# Jupyter refuses to run as root (containers, some workshop VMs) unless told it may.
JUPYTER_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP) $(LAB_SETTINGS)  ## start JupyterLab on the course
	$(VENV)/bin/jupyter lab $(JUPYTER_FLAGS) notebooks/

test: $(STAMP)  ## unit tests, notebooks (nbval, strict) and the student copies
	$(PY) -m pytest tests notebooks --nbval --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider

bench: $(STAMP)  ## benchmarks: medians beside raw moto / bare PyJWT
	$(PY) -m benchmarks

bench-workshop: $(STAMP)  ## JupyterHub load test: N simulated attendees (installs the [workshop] extra)
	$(PY) -m pip install --quiet $(PIP_SOURCE) -e ".[workshop]"
	$(PY) -m benchmarks.bench_workshop $(BENCH_ARGS)

student: $(STAMP)  ## write student copies of the notebooks to student/
	$(PY) -m labkit.course.student notebooks student

clean:
	rm -rf student build *.egg-info   # wheelhouse/ is kept: delete it by hand
