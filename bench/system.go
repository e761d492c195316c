package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotReady is wrapped when a started server does not become ready.
var ErrNotReady = errors.New("bench: server not ready")

// Timeouts of server processes.
const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
)

// system is one database under test: a process the harness started (or,
// for --target, an external URL), its data directory and how to reach it.
type system struct {
	name    string // display name: TidalDB, VictoriaMetrics, ...
	kind    string // "tidal" or a peer name
	url     string
	dataDir string
	// stream is the broker of a stream driver feeding this server.
	stream *streamDriver

	cmd    *exec.Cmd
	logs   *tailBuffer
	exited chan struct{}
	err    error // Wait's result, valid after exited is closed
}

// tailBuffer keeps the last bytes a process wrote, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailBytes = 4096

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailBytes:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > tailBytes {
		b = b[len(b)-tailBytes:]
	}
	return string(bytes.TrimSpace(b))
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	return addr, nil
}

// startProcess starts bin with args and waits until GET url+readyPath
// answers 2xx.
func startProcess(ctx context.Context, s *system, bin string, args []string, readyPath string) error {
	s.logs = &tailBuffer{}
	s.exited = make(chan struct{})
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+readyPath, nil)
		if resp, err := hc.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%w: %s exited during start: %w: %s", ErrNotReady, s.name, s.err, s.logs.String())
		case <-ctx.Done():
			return errors.Join(ctx.Err(), s.stop())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("%w: %s not ready after %v: %s", ErrNotReady, s.name, readyTimeout, s.logs.String()), s.stop())
		}
	}
}

// stop ends the process with SIGTERM (SIGKILL after stopTimeout) and waits.
func (s *system) stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", s.name, err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := s.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill %s: %w", s.name, err)
	}
	<-s.exited
	return nil
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes, or 0
// when there is no local process.
// userHZ is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100 on
// every mainstream Linux configuration).
const userHZ = 100

// cpuTime returns the user plus system CPU time the server process has
// used so far; 0 without a process (external target) or off Linux.
func (s *system) cpuTime() time.Duration {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime + stime from the text of /proc/PID/stat: the
// fields after the command name (which may hold spaces and parentheses,
// so the parse starts after its last ')') are state, ppid, ... with utime
// and stime the 12th and 13th.
func parseStatCPU(stat string) time.Duration {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || ut < 0 || st < 0 {
		return 0
	}
	return time.Duration(ut+st) * time.Second / userHZ
}

func (s *system) peakRSS() (int64, error) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, nil
	}
	return readVmHWM(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
}

// readVmHWM parses the VmHWM line of a /proc/PID/status file.
func readVmHWM(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read peak rss: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) != 2 || fields[1] != "kB" {
				return 0, fmt.Errorf("read peak rss: odd line %q", line)
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read peak rss: %w", err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read peak rss: %w", err)
	}
	return 0, fmt.Errorf("read peak rss: no VmHWM in %s", path)
}

// diskUsage is the size of a directory tree two ways: the blocks the files
// occupy (what du reports; sparse preallocated files count only their
// written blocks) and the sum of their lengths.
type diskUsage struct {
	Allocated, Apparent int64
}

// dirUsage measures the regular files under dir.
func dirUsage(dir string) (diskUsage, error) {
	var u diskUsage
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking (compaction)
			}
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			u.Apparent += info.Size()
			u.Allocated += allocatedBytes(info)
		}
		return nil
	})
	if err != nil {
		return diskUsage{}, fmt.Errorf("measure data dir: %w", err)
	}
	return u, nil
}

// allocatedBytes is the space a file occupies on disk, or its length where
// the platform does not say.
func allocatedBytes(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}
