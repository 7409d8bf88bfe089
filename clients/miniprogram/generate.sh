#!/usr/bin/env bash
# Generates TypeScript types for the mini-program client from the server's OpenAPI document,
# then type-checks the hand-written wrapper (api.ts) against them.
#
#   OPENAPI_JSON=/path/to/openapi.json bash clients/miniprogram/generate.sh   # a saved spec
#   bash clients/miniprogram/generate.sh                                      # `qiaomen openapi`
#
# Writes generated/openapi.json and generated/schema.d.ts (both git-ignored).
set -euo pipefail

# Resolve $OPENAPI_JSON against the caller's directory before leaving it.
spec_in=""
if [[ -n "${OPENAPI_JSON:-}" ]]; then
  if [[ ! -f "$OPENAPI_JSON" ]]; then
    echo "generate.sh: OPENAPI_JSON=$OPENAPI_JSON is not a file" >&2
    exit 1
  fi
  spec_in="$(cd "$(dirname "$OPENAPI_JSON")" && pwd)/$(basename "$OPENAPI_JSON")"
fi

cd "$(dirname "$0")"
mkdir -p generated

# 1. The spec: a given file, else printed by the server binary (no database needed).
if [[ -n "$spec_in" ]]; then
  cp "$spec_in" generated/openapi.json.tmp
else
  (cd ../.. && cargo run -q -p qiaomen-api --bin qiaomen -- openapi) > generated/openapi.json.tmp
fi
if ! node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' generated/openapi.json.tmp 2>/dev/null; then
  rm -f generated/openapi.json.tmp
  echo "generate.sh: the OpenAPI document is not JSON" >&2
  exit 1
fi
mv generated/openapi.json.tmp generated/openapi.json

# 2. Tools pinned in package-lock.json; reinstalled when missing or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

# 3. Types, then the type check (`--no`: never download a tool that is not installed).
npx --no -- openapi-typescript generated/openapi.json -o generated/schema.d.ts
npx --no -- tsc --noEmit -p .
echo "generate.sh: generated/schema.d.ts written; api.ts type-checks"
