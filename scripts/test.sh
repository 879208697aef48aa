#!/usr/bin/env bash
# What `npm test` runs: type check (every tsconfig project, tests included)
# and lint, unit tests, the Python trainer's tests, then the end-to-end
# suite; any failure fails.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run typecheck
npm run lint
npm run test:unit
npm run test:python
npm run test:e2e
