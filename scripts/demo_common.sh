# Sourced by the demo scripts: run from the repository root with its Python, on the cores that are free now.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
# PyTorch's compute threads wait on each other when other work holds some of the cores (a run then takes several
# times longer): use the cores that are free now, unless OMP_NUM_THREADS is set.
if [ -z "${OMP_NUM_THREADS:-}" ]; then
    OMP_NUM_THREADS=$("$PY" -c 'from util.threads import free_cores; print(free_cores())' 2>/dev/null || echo 1)
    export OMP_NUM_THREADS
fi
echo "compute threads: $OMP_NUM_THREADS (set OMP_NUM_THREADS to choose)"
