// Package awsfuzz holds the end-to-end fuzz tests of the Timestream AWS
// JSON APIs: fuzzed request bytes go through awsjson.Dispatcher into the
// real Write and Query API handlers, over a catalog, memory tier and
// magnetic tier in a temporary directory. It has no code of its own
// outside its tests.
package awsfuzz
