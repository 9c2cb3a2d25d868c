package motoserver

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the server killed when the test process dies (a test
// timeout's panic skips Stop).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
