#!/bin/sh
# A client of `govern serve` in another language: the shell, with curl.
#
#   export GOVERN_JWT_SECRET=$(python -c 'import secrets; print(secrets.token_hex(32))')  # local trials only
#   export GOVERN_HASH_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')
#   python -m govern.demo.dataset data/demo.duckdb
#   govern serve --policies policies --db data/demo.duckdb &        # http://127.0.0.1:8181
#   sh examples/serve_curl.sh
#
# The token is the end user's: minted here by `govern token --dev` with the bundle's HMAC secret
# (policies/identity.yaml), for local trials only; in production it comes from your identity provider.
set -eu
URL=${GOVERN_URL:-http://127.0.0.1:8181}
GOVERN=${GOVERN:-govern}
POLICIES=${GOVERN_POLICIES:-policies}

TOKEN=$($GOVERN token --dev --policies "$POLICIES" --as eve --expires-in 600)
AUTH="Authorization: Bearer $TOKEN"
JSON="Content-Type: application/json"

echo "== check: the governed SQL for eve"
curl -sS -X POST "$URL/v1/sql/check" -H "$AUTH" -H "$JSON" -d '{"sql": "SELECT name, email FROM customers"}'
echo
echo "== execute: masked rows"
curl -sS -X POST "$URL/v1/sql/execute" -H "$AUTH" -H "$JSON" -d '{"sql": "SELECT name, email FROM customers ORDER BY id LIMIT 3"}'
echo
echo "== execute a denied column: 403 with the reason"
curl -sS -X POST "$URL/v1/sql/execute" -H "$AUTH" -H "$JSON" -d '{"sql": "SELECT name, national_id FROM customers"}'
echo
echo "== mask a passage"
curl -sS -X POST "$URL/v1/text/mask" -H "$AUTH" -H "$JSON" -d '{"texts": ["Write to ann.lee@example.com about the refund."]}'
echo
echo "== a forged token: 401"
curl -sS -X POST "$URL/v1/sql/check" -H "Authorization: Bearer ${TOKEN}x" -H "$JSON" -d '{"sql": "SELECT 1"}'
echo
