#!/usr/bin/env bash
# Memory per idle connection: our Node upgrade helper (adapters/node-ws.ts) vs @hono/node-ws.
# Installs @hono/node-ws into .bench-tmp/hono-ws/ (not a dependency of the project), bundles
# bench/variants/node-hono-ws.ts, and runs the idle scenario (10,000 connections) on both.
# Usage: bash bench/variants/hono-ws.sh [reps]   → .bench-tmp/HONO-WS.md
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .bench-tmp/hono-ws
[ -d .bench-tmp/hono-ws/node_modules/@hono/node-ws ] || (cd .bench-tmp/hono-ws && npm init -y >/dev/null && npm install --no-audit --no-fund --silent @hono/node-ws@1.3.1)
NODE_PATH="$PWD/.bench-tmp/hono-ws/node_modules" ./node_modules/.bin/esbuild bench/variants/node-hono-ws.ts --bundle --platform=node \
  --format=esm --target=node20 --outfile=.bench-tmp/node-hono-ws.mjs --log-level=warning \
  --banner:js="import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);"
exec bun bench/run.ts --only=idle --targets=gw-node,gw-node-hono-ws,raw-node-preframed --reps="${1:-2}" --out=.bench-tmp/HONO-WS.md
