// Package recordvault holds the domain of the vault: its types, service interfaces and the one
// application error type. It does no I/O; the packages around it (vault, storage, crypto,
// handlers) implement or consume what is declared here.
package recordvault
