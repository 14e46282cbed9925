package main

import (
	"os"
	"os/signal"

	"github.com/runsc-lite/runsc-lite/runsc-lite/sandbox"
)

// notifySignals catches the signals a foreground runtime passes on to
// the container.
func notifySignals(c chan os.Signal) { signal.Notify(c, sandbox.ForwardedSignals...) }

func stopSignals(c chan os.Signal) { signal.Stop(c) }
