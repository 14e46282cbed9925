package main

import (
	"fmt"
	"os"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// version is the runsc-lite version; `make build` may override it with
// -ldflags "-X main.version=...".
var version = "0.1.0-dev"

var versionCommand = &command{
	name:     "version",
	synopsis: "print the version",
	usage:    "",
	run: func(g *globalFlags, args []string) int {
		fs := newFlagSet("version")
		if done, status := parseCommandFlags("version", fs, args); done {
			return status
		}
		if fs.NArg() != 0 {
			return fatalf(exitUsage, "version: unexpected arguments")
		}
		fmt.Fprintf(os.Stdout, "runsc-lite version %s\nspec: %s\ngo: %s\n", version, specs.Version, runtime.Version())
		return 0
	},
}
