package overlay

// The bounds of a lower directory's rename, for the external tests.
const (
	MaxTreeEntries = maxTreeEntries
	MaxTreeBytes   = maxTreeBytes
)
