"""Puts python/ on sys.path so `import clim_torch` works without PYTHONPATH
(run from the repository root: /usr/bin/python3 -m pytest python/tests -q)."""
import os
import sys

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(PYTHON_DIR)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)
