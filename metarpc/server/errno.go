package server

import "syscall"

func syscallErrno(e uint32) syscall.Errno { return syscall.Errno(e) }
