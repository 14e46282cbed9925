package main

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/runsc-lite/pty"
)

// sendConsole sends the pty master over the unix socket at path as runc
// does: one message, payload "/dev/ptmx", one SCM_RIGHTS FD.
func sendConsole(path string, master *os.File) error {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return fmt.Errorf("console socket: %w", err)
	}
	defer conn.Close()
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("console socket %s is not a unix socket", path)
	}
	if _, _, err := uc.WriteMsgUnix([]byte("/dev/ptmx"), unix.UnixRights(int(master.Fd())), nil); err != nil {
		return fmt.Errorf("console socket: sending the terminal: %w", err)
	}
	return nil
}

// consoleStdio opens a pty for a process with a terminal: the master goes
// to socketPath, the slave is returned to become the process's stdio.
func consoleStdio(socketPath string) (*os.File, error) {
	if socketPath == "" {
		return nil, fmt.Errorf("process.terminal is set: --console-socket is required")
	}
	master, slave, err := pty.Open()
	if err != nil {
		return nil, err
	}
	defer master.Close()
	if err := sendConsole(socketPath, master); err != nil {
		slave.Close()
		return nil, err
	}
	return slave, nil
}
