#!/usr/bin/env bash
# Create or update every Secret listed in a filled copy of secrets.example.env.
#   usage: infra/k8s/create-secrets.sh <secrets.env> <namespace>
# Idempotent (client-side dry run piped to apply); values never touch the command line.
set -euo pipefail

env_file=${1:?usage: create-secrets.sh <secrets.env> <namespace>}
namespace=${2:?usage: create-secrets.sh <secrets.env> <namespace>}

if grep -v '^[[:space:]]*#' "$env_file" | grep -q 'CHANGE_ME'; then
  echo "refusing: $env_file still contains CHANGE_ME placeholders" >&2
  exit 1
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# Split the file into one env file per `# secret: <name>` section.
awk -v dir="$workdir" '
  /^# secret: / { name = $3; next }
  /^[[:space:]]*(#|$)/ { next }
  name != "" { print > (dir "/" name ".env") }
' "$env_file"

for section in "$workdir"/*.env; do
  name=$(basename "$section" .env)
  kubectl create secret generic "$name" --namespace "$namespace" \
    --from-env-file="$section" --dry-run=client --output=yaml \
    | kubectl apply --namespace "$namespace" -f -
done
