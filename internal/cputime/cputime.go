// Package cputime reads the CPU time this process (or OS thread) has used,
// for benchmarks: on a machine shared with other work, wall-clock time per
// operation includes waiting for a core and CPU time does not.
package cputime
