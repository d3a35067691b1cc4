# Two commands do all set-up: `make lab` and `make test`. Both create or reuse .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The course's JupyterLab settings (no news prompt), where JupyterLab reads overrides for this environment.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.d/cognito-labkit.json

.PHONY: lab test bench student clean lab-settings

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $(STAMP)

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

student: $(STAMP)  ## write student copies of the notebooks to student/
	$(PY) -m labkit.course.student notebooks student

clean:
	rm -rf student build *.egg-info
