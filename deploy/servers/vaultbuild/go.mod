// A wrapper module that builds the Vault server from the Go module proxy.
//
// Vault's own go.mod replaces its api and sdk modules with in-tree folders that are not in
// the module zip, so `go install github.com/hashicorp/vault@v1.21.0` cannot work. Here the
// two are pinned to the published versions that v1.21.0's go.mod requires, and Vault's own
// two replace lines are repeated (replace directives of dependencies are ignored).
module recordvault.local/vaultbuild

go 1.25.1

require github.com/hashicorp/vault v1.21.0

replace (
	github.com/99designs/keyring => github.com/Jeffail/keyring v1.2.3
	github.com/hashicorp/vault/api => github.com/hashicorp/vault/api v1.22.0
	github.com/hashicorp/vault/sdk => github.com/hashicorp/vault/sdk v0.20.0
	github.com/ma314smith/signedxml v1.1.1 => github.com/moov-io/signedxml v1.1.1
)
