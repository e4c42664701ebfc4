# The least-privilege Vault policy of the recordvault service, for one clinic: replace CLINIC
# with the clinic's id (letters and digits only, so "rv-CLINIC-" is a prefix no other clinic's
# keys share) and repeat the block set for each clinic the deployment serves. Transit is
# mounted at "transit". integration/policy_test.go checks that this policy lets the service do
# its work and refuses key export, key deletion or trimming, weakening a key, and any other
# clinic's keys.

# Create the clinic's category keys (only as aes256-gcm96, derived, not exportable), read
# them back to check their settings, and rotate them. No delete: that capability is not given.
path "transit/keys/rv-CLINIC-*" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "type"       = ["aes256-gcm96"]
    "derived"    = [true]
    "exportable" = [false]
  }
}

# Retire old key versions after a rewrap; no other setting (exportable, deletion_allowed,
# allow_plaintext_backup) may be changed. Vault allows a glob only at the end of a path, so
# each category key is named; trimming (which destroys old versions, and with them every
# record still wrapped by one) is denied outright.
path "transit/keys/rv-CLINIC-psychotherapy-note/config" {
  capabilities       = ["update"]
  allowed_parameters = { "min_decryption_version" = [] }
}
path "transit/keys/rv-CLINIC-psychotherapy-note/trim" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-progress-note/config" {
  capabilities       = ["update"]
  allowed_parameters = { "min_decryption_version" = [] }
}
path "transit/keys/rv-CLINIC-progress-note/trim" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-evaluation/config" {
  capabilities       = ["update"]
  allowed_parameters = { "min_decryption_version" = [] }
}
path "transit/keys/rv-CLINIC-evaluation/trim" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-sud-record/config" {
  capabilities       = ["update"]
  allowed_parameters = { "min_decryption_version" = [] }
}
path "transit/keys/rv-CLINIC-sud-record/trim" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-client-identity/config" {
  capabilities       = ["update"]
  allowed_parameters = { "min_decryption_version" = [] }
}
path "transit/keys/rv-CLINIC-client-identity/trim" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-disclosure/config" {
  capabilities       = ["update"]
  allowed_parameters = { "min_decryption_version" = [] }
}
path "transit/keys/rv-CLINIC-disclosure/trim" {
  capabilities = ["deny"]
}
# The blind index pins version 1 of the index key: never retired, never trimmed.
path "transit/keys/rv-CLINIC-client-index/config" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-client-index/trim" {
  capabilities = ["deny"]
}
# The state tags of profiles and the roster pin version 1 of the state key too.
path "transit/keys/rv-CLINIC-state/config" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-state/trim" {
  capabilities = ["deny"]
}

# The release-manifest signing key: ECDSA P-256, never exportable; signing and verifying
# with it and nothing else.
path "transit/keys/rv-CLINIC-manifest-signing" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "type"       = ["ecdsa-p256"]
    "exportable" = [false]
  }
}
path "transit/keys/rv-CLINIC-manifest-signing/config" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-manifest-signing/trim" {
  capabilities = ["deny"]
}
path "transit/sign/rv-CLINIC-manifest-signing/sha2-256" {
  capabilities = ["update"]
}
path "transit/verify/rv-CLINIC-manifest-signing/sha2-256" {
  capabilities = ["update"]
}

# The audit-chain signing key: ECDSA P-256, never exportable; signing blocks, and reading
# the public keys that verify them, and nothing else.
path "transit/keys/rv-CLINIC-audit-signing" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "type"       = ["ecdsa-p256"]
    "exportable" = [false]
  }
}
path "transit/keys/rv-CLINIC-audit-signing/config" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-audit-signing/trim" {
  capabilities = ["deny"]
}
path "transit/sign/rv-CLINIC-audit-signing/sha2-256" {
  capabilities = ["update"]
}

# The download-token signing key: ECDSA P-256, never exportable; read (for its public keys),
# sign (JWS) and nothing else.
path "transit/keys/rv-CLINIC-download-signing" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "type"       = ["ecdsa-p256"]
    "exportable" = [false]
  }
}
path "transit/keys/rv-CLINIC-download-signing/config" {
  capabilities = ["deny"]
}
path "transit/keys/rv-CLINIC-download-signing/trim" {
  capabilities = ["deny"]
}
path "transit/sign/rv-CLINIC-download-signing/sha2-256" {
  capabilities = ["update"]
}

# A fresh data key per record; unwrap; rewrap after rotation.
path "transit/datakey/plaintext/rv-CLINIC-*" {
  capabilities = ["update"]
}
path "transit/decrypt/rv-CLINIC-*" {
  capabilities = ["update"]
}
path "transit/rewrap/rv-CLINIC-*" {
  capabilities = ["update"]
}

# The blind index of client name and date of birth: HMAC-SHA-256 by the index key only.
path "transit/hmac/rv-CLINIC-client-index/sha2-256" {
  capabilities = ["update"]
}

# Tags on client profiles (care team, account) and the roster, which access decisions read:
# HMAC-SHA-256 by the state key only.
path "transit/hmac/rv-CLINIC-state/sha2-256" {
  capabilities = ["update"]
}

# Readiness: the cheapest authenticated Transit call, exposing no key.
path "transit/random/8" {
  capabilities = ["update"]
}
