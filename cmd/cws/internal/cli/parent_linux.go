package cli

import (
	"os"
	"syscall"
)

// dieWithParent has the process signalled (SIGTERM) when its parent dies,
// even killed: a LocalStack execution environment ends with LocalStack.
func dieWithParent() {
	const prSetPdeathsig = 1
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetPdeathsig, uintptr(syscall.SIGTERM), 0)
	if os.Getppid() == 1 { // the parent died before the call
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}
