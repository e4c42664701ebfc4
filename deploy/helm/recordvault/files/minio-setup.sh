#!/bin/sh
# Prepares MinIO for the recordvault service with its root user (MINIO_ROOT_USER,
# MINIO_ROOT_PASSWORD), which the service never sees: the bucket, with Object Lock (the audit
# trail's blocks are kept under retention) and versioning, and an S3 user of the service's own
# whose policy (recordvault-s3-policy.json beside this script) reaches that bucket and nothing
# else. The service's keys are SECRETS_DIR's
# s3-access-key and s3-secret-key: used as found (the Helm chart mounts the Secret the operator
# made), or made here when missing (compose). Needs the mc CLI; safe to run again.
set -eu
: "${S3_URL:?}" "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${SECRETS_DIR:?}"
bucket=${BUCKET:-recordvault}
export MC_CONFIG_DIR=${MC_CONFIG_DIR:-$(mktemp -d)}

mc alias set local "$S3_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing --with-lock "local/$bucket"
policy=$(mktemp)
trap 'rm -f "$policy"' EXIT
sed "s/BUCKET/$bucket/g" "${S3_POLICY_FILE:-$(dirname "$0")/recordvault-s3-policy.json}" >"$policy"
mc admin policy create local recordvault "$policy"
if [ ! -s "$SECRETS_DIR/s3-secret-key" ]; then
	umask 077
	head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRETS_DIR/s3-secret-key"
	printf recordvault >"$SECRETS_DIR/s3-access-key"
	if [ -n "${OWNER:-}" ]; then # the service's user reads them (uid:gid)
		chown "$OWNER" "$SECRETS_DIR/s3-access-key" "$SECRETS_DIR/s3-secret-key"
	fi
fi
mc admin user add local "$(cat "$SECRETS_DIR/s3-access-key")" "$(cat "$SECRETS_DIR/s3-secret-key")"
mc admin policy attach local recordvault --user "$(cat "$SECRETS_DIR/s3-access-key")" 2>/dev/null || true # attached already
echo "minio-setup: bucket $bucket and the service's user ready" >&2
