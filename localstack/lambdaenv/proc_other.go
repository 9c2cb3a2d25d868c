//go:build !linux

package lambdaenv

import "syscall"

// childAttr: elsewhere than Linux the runtime has no parent-death signal;
// Close stops it.
func childAttr() *syscall.SysProcAttr { return nil }
