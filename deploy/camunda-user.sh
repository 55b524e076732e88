#!/usr/bin/env bash
# Adds a login to Operate and Tasklist, or sets a new password, in the compose stack (Camunda 8.6.0 single
# application, basic login). It writes the user into Operate's user store in OpenSearch, the store /api/login reads.
# This is not a Camunda feature; docs/operations.md ("Adding or changing a staff user") says why and what it gives.
#
#   deploy/camunda-user.sh <user-id> "<display name>" USER|OPERATOR|OWNER     # asks for the password
#
# Run it from the checkout on the server, next to docker-compose.yml and .env.
set -euo pipefail

if [[ $# -ne 3 || ! $1 =~ ^[a-z0-9][a-z0-9._-]{2,63}$ || ! $3 =~ ^(USER|OPERATOR|OWNER)$ ]]; then
  echo "usage: $0 <user-id: a-z 0-9 . _ -> \"<display name>\" USER|OPERATOR|OWNER" >&2
  exit 2
fi
case $1 in view | act | demo)
  echo "$1 is one of Camunda's built-in users (disabled by disable-demo-users); pick another id" >&2
  exit 2 ;;
esac
read -rs -p "Password for $1: " password && echo
if [[ ${#password} -lt 12 ]]; then
  echo "use at least 12 characters" >&2
  exit 2
fi

# Spring Security's "{pbkdf2@SpringSecurity_v5_8}" format (PBKDF2-HMAC-SHA256, 310000 rounds, hex of salt + key),
# which Operate's DelegatingPasswordEncoder accepts; computed in the LAPOR! image, which has Python.
document=$(printf '%s' "$password" | docker compose run --rm --no-deps -T migrate python -c '
import hashlib, json, os, sys
user_id, display_name, role = sys.argv[1:]
salt = os.urandom(16)
key = hashlib.pbkdf2_hmac("sha256", sys.stdin.read().encode(), salt, 310000, 32)
password = "{pbkdf2@SpringSecurity_v5_8}" + (salt + key).hex()
print(json.dumps({"id": user_id, "userId": user_id, "displayName": display_name, "password": password, "roles": [role]}))
' "$1" "$2" "$3")

printf '%s' "$document" | docker compose exec -T opensearch curl -fsS -X PUT -H 'Content-Type: application/json' \
  "http://127.0.0.1:9200/operate-user-1.2.0_/_doc/$1?refresh=true" --data-binary @- >/dev/null
echo "$1 can log in to Operate and Tasklist now ($3)."
