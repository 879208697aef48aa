#!/usr/bin/env bash
# What `npm test` runs: unit tests, then the end-to-end suite; any failure fails.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run test:unit
npm run test:e2e
