package boot

import "errors"

// Run builds the kernel, starts the guest's first process and returns its
// exit status (0-255; 128+N for a guest killed by signal N). confine is
// called once every host resource that needs host paths or privileges
// (memory file, platform stubs) exists, and before any guest code runs: it
// chroots the sentry into an empty directory, drops capabilities and
// installs the sentry's seccomp filter.
func Run(cfg *Config, io IO, confine func() error) (int, error) {
	return 0, errors.New("boot: kernel not built yet")
}
