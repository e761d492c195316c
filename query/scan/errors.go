package scan

import "errors"

// ErrUnknownTable reports a scan of a table the source does not know
// (sources wrap it). Readers that treat an absent table as empty, as the
// Prometheus API does on a fresh server, test for it with errors.Is.
var ErrUnknownTable = errors.New("unknown table")
