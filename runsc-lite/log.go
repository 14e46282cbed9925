package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// The CLI's log: --log FILE in --log-format text or json (json lines
// {"level","msg","time"} as runc writes them; containerd's shim reads the
// last "error" line to report a failure). Debug messages are logged only
// with --debug, to the --log file or else stderr.
var logState struct {
	mu     sync.Mutex
	f      *os.File
	json   bool
	debug  bool
	prefix string
}

func openLog(g *globalFlags) error {
	logState.json = g.logFormat == "json"
	logState.debug = g.debug
	logState.prefix = fmt.Sprintf("[%d] ", os.Getpid())
	if g.log == "" {
		return nil
	}
	f, err := os.OpenFile(g.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening log: %w", err)
	}
	logState.f = f
	return nil
}

func closeLog() {
	logState.mu.Lock()
	defer logState.mu.Unlock()
	if logState.f != nil {
		logState.f.Close()
		logState.f = nil
	}
}

func writeLog(level, msg string, alsoStderr bool) {
	logState.mu.Lock()
	defer logState.mu.Unlock()
	now := time.Now()
	if logState.f != nil {
		if logState.json {
			b, _ := json.Marshal(struct {
				Level string `json:"level"`
				Msg   string `json:"msg"`
				Time  string `json:"time"`
			}{level, msg, now.Format(time.RFC3339Nano)})
			logState.f.Write(append(b, '\n'))
		} else {
			fmt.Fprintf(logState.f, "%s %s%s: %s\n", now.Format(time.RFC3339Nano), logState.prefix, level, msg)
		}
	} else if alsoStderr {
		fmt.Fprintf(os.Stderr, "%s %s%s: %s\n", now.Format("15:04:05.000000"), logState.prefix, level, msg)
	}
}

// debugf logs a debug message if --debug is set.
func debugf(format string, args ...any) {
	if logState.debug {
		writeLog("debug", fmt.Sprintf(format, args...), true)
	}
}

// logError records an error in the --log file (it is printed on stderr by
// fatalf).
func logError(msg string) {
	writeLog("error", msg, false)
}

// logWarning records a warning in the --log file.
func logWarning(msg string) {
	writeLog("warning", msg, false)
}
