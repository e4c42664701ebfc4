#!/bin/sh
# Prepares Vault for the recordvault service with an administrator's token (VAULT_TOKEN) that
# the service never sees: Transit enabled, the service's least-privilege policy written for
# each clinic (recordvault-policy.hcl beside this script, CLINIC replaced), and a login whose
# tokens carry that policy and nothing more. One script for every deployment shape:
#
#   AUTH_METHOD=approle (compose, a single host): an AppRole, and the role id and a
#     response-wrapped secret id written to SECRETS_DIR for the service (VAULT_ROLE_ID_FILE,
#     VAULT_SECRET_ID_FILE with VAULT_SECRET_ID_WRAPPED=true). The wrapping token works once
#     and for WRAP_TTL: run this before each start of the service.
#   AUTH_METHOD=kubernetes (the Helm chart's setup job): the Kubernetes auth method, checking
#     tokens with the Kubernetes API Vault runs beside, and a role for the service account
#     SERVICE_ACCOUNT in NAMESPACE whose tokens are meant for Vault (audience "vault").
#
# Needs the vault CLI; safe to run again.
set -eu
: "${VAULT_ADDR:?}" "${VAULT_TOKEN:?}" "${RECORDVAULT_CLINICS:?}"
policy_file=${POLICY_FILE:-$(dirname "$0")/recordvault-policy.hcl}
auth_method=${AUTH_METHOD:-approle}
mount=${AUTH_MOUNT:-$auth_method}
policy_name=${POLICY_NAME:-recordvault}

vault secrets list | grep -q '^transit/' || vault secrets enable transit >/dev/null
policy=$(mktemp)
trap 'rm -f "$policy"' EXIT
for clinic in $(printf '%s' "$RECORDVAULT_CLINICS" | tr ',' ' '); do
	sed "s/CLINIC/$clinic/g" "$policy_file" >>"$policy"
done
vault policy write "$policy_name" "$policy" >/dev/null
vault auth list | grep -q "^$mount/" || vault auth enable -path="$mount" "$auth_method" >/dev/null

case $auth_method in
approle)
	: "${SECRETS_DIR:?}"
	vault write "auth/$mount/role/recordvault" token_policies="$policy_name" token_ttl=1h token_max_ttl=24h >/dev/null
	umask 077
	vault read -field=role_id "auth/$mount/role/recordvault/role-id" >"$SECRETS_DIR/vault-role-id"
	vault write -f -wrap-ttl="${WRAP_TTL:-1h}" -field=wrapping_token "auth/$mount/role/recordvault/secret-id" >"$SECRETS_DIR/vault-secret-id"
	if [ -n "${OWNER:-}" ]; then # the service's user reads them (uid:gid)
		chown "$OWNER" "$SECRETS_DIR/vault-role-id" "$SECRETS_DIR/vault-secret-id"
	fi
	echo "vault-setup: AppRole ready; role id and wrapped secret id in $SECRETS_DIR" >&2
	;;
kubernetes)
	: "${SERVICE_ACCOUNT:?}" "${NAMESPACE:?}"
	vault write "auth/$mount/config" kubernetes_host="${KUBERNETES_HOST:-https://kubernetes.default.svc}" >/dev/null
	vault write "auth/$mount/role/${ROLE:-recordvault}" bound_service_account_names="$SERVICE_ACCOUNT" \
		bound_service_account_namespaces="$NAMESPACE" audience=vault \
		token_policies="$policy_name" token_ttl=1h token_max_ttl=24h >/dev/null
	echo "vault-setup: Kubernetes auth ready for $NAMESPACE/$SERVICE_ACCOUNT" >&2
	;;
*)
	echo "vault-setup: AUTH_METHOD is approle or kubernetes" >&2
	exit 2
	;;
esac
