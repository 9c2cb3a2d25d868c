package lambdaenv

import "syscall"

// childAttr makes the runtime die with the environment, even killed.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
