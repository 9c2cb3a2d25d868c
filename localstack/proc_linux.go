package localstack

import "syscall"

// procAttr puts the process in a group of its own (so that Stop reaches its
// children); a detached process gets a session of its own, the others die
// with their parent.
func procAttr(detached bool) *syscall.SysProcAttr {
	if detached {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
