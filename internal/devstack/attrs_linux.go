package devstack

import "syscall"

// childAttrs: a process group of its own, and SIGKILL should the stack itself die unannounced,
// so that no Vault or MinIO is left holding the ports.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
