#!/usr/bin/env bash
# Regenerates openapi.json from the Applications Server and the TypeScript types from it.
set -euo pipefail
cd "$(dirname "$0")/.."
../.venv/bin/python -c '
import json
from producers.api.app import create_app
from producers.api.settings import ApiSettings
print(json.dumps(create_app(ApiSettings(env="dev")).openapi(), indent=2, sort_keys=True))
' > openapi.json
npx openapi-typescript openapi.json -o src/lib/api-schema.d.ts
