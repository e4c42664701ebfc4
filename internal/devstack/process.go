package devstack

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is one child of the stack.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited; err is then set
	err  error
}

// start runs bin with args and env (added to the stack's own environment), its output to out.
func start(logger *slog.Logger, name, bin string, args, env []string, out io.Writer) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	// A process group of its own: Ctrl-C reaches only the stack, which then stops its children
	// in order (service first). childAttrs adds what the platform offers against orphans.
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devstack: start %s: %w", name, err)
	}
	logger.Info("started", "name", name, "pid", cmd.Process.Pid)
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logger.Info("exited", "name", name, "pid", cmd.Process.Pid, "status", cmd.ProcessState.String())
		close(p.done)
	}()
	return p, nil
}

// stop asks the process to end and kills it when it has not within stopTimeout.
func (p *process) stop(logger *slog.Logger) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		logger.Warn("killing", "name", p.name, "pid", p.cmd.Process.Pid)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
