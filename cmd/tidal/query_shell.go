package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"golang.org/x/term"
)

// The interactive shell of tidal query: line editing, history, statements.

// queryShell reads statements from stdin until EOF or \q. Statements end
// with ';' outside quotes and comments and may span lines; errors are
// printed and the shell goes on. On a terminal, lines are edited with
// history (up/down, seeded from the history file); otherwise input is read
// plainly without prompts and the exit status is 1 when any statement
// failed.
func queryShell(ctx context.Context, client *timestreamquery.Client, o queryOptions, stdin io.Reader, stdout, stderr io.Writer) int {
	var lines lineSource
	interactive := false
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if tl, err := newTermLines(f, stdout, o.history); err == nil {
			interactive = true
			lines = tl
			defer tl.close()
			// The terminal is raw now; its writer turns \n into \r\n.
			fmt.Fprintf(tl.t, "tidal %s: connected to %s. End statements with ';', \\q quits.\n", version, o.endpoint)
		}
	}
	if lines == nil {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		lines = &scanLines{sc: sc}
	}
	hist := openHistory(o.history, stderr)
	if hist != nil {
		defer hist.Close()
	}
	var pending strings.Builder
	failed := false
	run := func(stmt string) {
		if hist != nil {
			fmt.Fprintln(hist, strings.Join(strings.Fields(stmt), " "))
		}
		lines.pause()
		defer lines.resume()
		if err := runInterruptible(ctx, client, stmt, o, stdout, stderr); err != nil {
			failed = true
			fmt.Fprintf(stderr, "error: %s\n", describeError(err))
		}
	}
	for {
		prompt := "tidal> "
		if pending.Len() > 0 {
			prompt = "    -> "
		}
		line, err := lines.next(prompt)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(stderr, "tidal query: read input: %v\n", err)
			return 1
		}
		if pending.Len() == 0 {
			switch strings.TrimSpace(line) {
			case `\q`, "quit", "exit":
				return exitStatus(failed, interactive)
			case "":
				continue
			}
		}
		pending.WriteString(line)
		pending.WriteByte('\n')
		stmts, rest := splitStatements(pending.String())
		for _, s := range stmts {
			run(s)
		}
		pending.Reset()
		pending.WriteString(rest)
	}
	if s := strings.TrimSpace(pending.String()); s != "" {
		run(s)
	}
	if interactive {
		fmt.Fprint(stdout, "\r\n") // still in raw mode
	}
	return exitStatus(failed, interactive)
}

// lineSource yields input lines to the shell. pause and resume bracket the
// execution of a statement.
type lineSource interface {
	next(prompt string) (string, error)
	pause()
	resume()
}

// scanLines reads piped input without prompts.
type scanLines struct{ sc *bufio.Scanner }

func (s *scanLines) next(string) (string, error) {
	if s.sc.Scan() {
		return s.sc.Text(), nil
	}
	if err := s.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (*scanLines) pause()  {}
func (*scanLines) resume() {}

// termLines edits lines on a terminal in raw mode with an in-memory history
// (up/down arrows) seeded from the history file. The terminal is back in
// its normal mode while a statement runs, so output and Ctrl-C behave as
// usual. Ctrl-D or Ctrl-C at the prompt ends the shell.
type termLines struct {
	fd    int
	state *term.State
	t     *term.Terminal
}

func newTermLines(in *os.File, out io.Writer, historyPath string) (*termLines, error) {
	fd := int(in.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("enter raw mode: %w", err)
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, "tidal> ")
	t.History = loadHistory(historyPath, 1000)
	return &termLines{fd: fd, state: state, t: t}, nil
}

func (l *termLines) next(prompt string) (string, error) {
	l.t.SetPrompt(prompt)
	line, err := l.t.ReadLine()
	if errors.Is(err, term.ErrPasteIndicator) {
		err = nil // pasted text is ordinary input here
	}
	return line, err
}

func (l *termLines) pause() { _ = term.Restore(l.fd, l.state) }

func (l *termLines) resume() {
	if st, err := term.MakeRaw(l.fd); err == nil {
		l.state = st
	}
}

func (l *termLines) close() { _ = term.Restore(l.fd, l.state) }

// lineHistory is a bounded in-memory history for term.Terminal.
type lineHistory struct {
	max   int
	lines []string // oldest first
}

// Add records entry as the most recent line.
func (h *lineHistory) Add(entry string) {
	if n := len(h.lines); n > 0 && h.lines[n-1] == entry {
		return
	}
	h.lines = append(h.lines, entry)
	if len(h.lines) > h.max {
		h.lines = h.lines[len(h.lines)-h.max:]
	}
}

// Len returns the number of lines kept.
func (h *lineHistory) Len() int { return len(h.lines) }

// At returns the idx-th most recent line.
func (h *lineHistory) At(idx int) string { return h.lines[len(h.lines)-1-idx] }

// loadHistory returns a history holding the last max lines of the file at
// path; a missing or unreadable file gives an empty history.
func loadHistory(path string, max int) *lineHistory {
	h := &lineHistory{max: max}
	if path == "" {
		return h
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return h
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			h.Add(line)
		}
	}
	return h
}

func exitStatus(failed, interactive bool) int {
	if failed && !interactive {
		return 1
	}
	return 0
}

// openHistory opens the history file for appending; failures are reported
// once and disable history.
func openHistory(path string, stderr io.Writer) *os.File {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "tidal query: history disabled: %v\n", err)
		return nil
	}
	return f
}

// splitStatements returns the complete statements of text (each ended by a
// ';' outside string literals, quoted identifiers and comments, trimmed,
// without the ';', empty ones dropped) and the unfinished rest.
func splitStatements(text string) (stmts []string, rest string) {
	start := 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\'', '"':
			j := i + 1
			for j < len(text) {
				if text[j] == c {
					if j+1 < len(text) && text[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(text) {
				return stmts, text[start:]
			}
			i = j
		case '-':
			if i+1 < len(text) && text[i+1] == '-' {
				nl := strings.IndexByte(text[i:], '\n')
				if nl < 0 {
					return stmts, text[start:]
				}
				i += nl
			}
		case '/':
			if i+1 < len(text) && text[i+1] == '*' {
				end := strings.Index(text[i+2:], "*/")
				if end < 0 {
					return stmts, text[start:]
				}
				i += end + 3
			}
		case ';':
			if s := strings.TrimSpace(text[start:i]); s != "" {
				stmts = append(stmts, s)
			}
			start = i + 1
		}
	}
	rest = text[start:]
	if strings.TrimSpace(rest) == "" {
		rest = ""
	}
	return stmts, rest
}
