#!/bin/sh
# Prepares Vault for the recordvault service with an administrator's token (VAULT_TOKEN) that
# the service never sees: Transit enabled, the service's least-privilege policy written for
# each clinic (deploy/vault/recordvault-policy.hcl with CLINIC replaced), an AppRole whose
# tokens carry that policy, and the role id and a response-wrapped secret id written to
# SECRETS_DIR for the service (VAULT_ROLE_ID_FILE, VAULT_SECRET_ID_FILE with
# VAULT_SECRET_ID_WRAPPED=true). The wrapping token works once and for WRAP_TTL: run this
# before each start of the service. Needs the vault CLI; safe to run again.
set -eu
: "${VAULT_ADDR:?}" "${VAULT_TOKEN:?}" "${RECORDVAULT_CLINICS:?}" "${SECRETS_DIR:?}"
policy_file=${POLICY_FILE:-$(dirname "$0")/../vault/recordvault-policy.hcl}
wrap_ttl=${WRAP_TTL:-1h}
mount=${APPROLE_MOUNT:-approle}
policy_name=${POLICY_NAME:-recordvault}

vault secrets list | grep -q '^transit/' || vault secrets enable transit >/dev/null
policy=$(mktemp)
trap 'rm -f "$policy"' EXIT
for clinic in $(printf '%s' "$RECORDVAULT_CLINICS" | tr ',' ' '); do
	sed "s/CLINIC/$clinic/g" "$policy_file" >>"$policy"
done
vault policy write "$policy_name" "$policy" >/dev/null
vault auth list | grep -q "^$mount/" || vault auth enable -path="$mount" approle >/dev/null
vault write "auth/$mount/role/recordvault" token_policies="$policy_name" token_ttl=1h token_max_ttl=24h >/dev/null
umask 077
vault read -field=role_id "auth/$mount/role/recordvault/role-id" >"$SECRETS_DIR/vault-role-id"
vault write -f -wrap-ttl="$wrap_ttl" -field=wrapping_token "auth/$mount/role/recordvault/secret-id" >"$SECRETS_DIR/vault-secret-id"
if [ -n "${OWNER:-}" ]; then # the service's user reads them (uid:gid)
	chown "$OWNER" "$SECRETS_DIR/vault-role-id" "$SECRETS_DIR/vault-secret-id"
fi
echo "vault-setup: AppRole ready; role id and wrapped secret id in $SECRETS_DIR" >&2
