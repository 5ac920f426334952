package verify

import (
	"path"
	"strings"
)

// shells are the interpreters whose scripts and -c strings are followed
// to the program they exec.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "ksh": true, "mksh": true, "zsh": true}

// isShell reports whether argv0 names a POSIX shell.
func isShell(argv0 string) bool { return shells[path.Base(argv0)] }

// shellC returns the command a `sh -c STRING [ARG0 ARGS...]` runs, when
// STRING is statically plain (see shellExec).
func shellC(argv []string) ([]string, bool) {
	if len(argv) < 3 || !isShell(argv[0]) || argv[1] != "-c" {
		return nil, false
	}
	var args []string
	if len(argv) > 4 {
		args = argv[4:]
	}
	if next, ok := shellExec(argv[2], args); ok {
		return next, true
	}
	// A single simple command: the shell runs (and execs) it.
	if words, ok := shellWords(strings.TrimSpace(argv[2]), args); ok && len(words) > 0 {
		return words, true
	}
	return nil, false
}

// shellExec finds the last `exec PROGRAM ARGS` of a shell script (or -c
// string) whose words are literal, "$@" standing for args; ok is false
// when there is none, or its words expand variables or commands.
func shellExec(script string, args []string) ([]string, bool) {
	var last string
	for _, line := range strings.Split(script, "\n") {
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			for _, sep := range []string{"&&", "||", "then", "else", "do"} {
				if i := strings.LastIndex(part, sep+" "); i >= 0 && (i == 0 || part[i-1] == ' ') {
					part = strings.TrimSpace(part[i+len(sep):])
				}
			}
			if strings.HasPrefix(part, "#") {
				break
			}
			if rest, ok := strings.CutPrefix(part, "exec "); ok {
				last = strings.TrimSpace(rest)
			}
		}
	}
	if last == "" {
		return nil, false
	}
	words, ok := shellWords(last, args)
	if !ok || len(words) == 0 {
		return nil, false
	}
	return words, true
}

// shellWords splits one simple command into its words: plain words and
// quoted strings without expansions, "$@" (or $@) standing for args.
// Redirections are dropped; anything else a shell would expand or treat
// as syntax makes ok false.
func shellWords(cmd string, args []string) ([]string, bool) {
	var out []string
	for _, f := range splitQuoted(cmd) {
		switch {
		case f.text == "$@" || f.text == "$*":
			out = append(out, args...)
			continue
		case !f.quoted && (strings.HasPrefix(f.text, ">") || strings.HasPrefix(f.text, "<") || strings.HasPrefix(f.text, "2>") || strings.HasPrefix(f.text, "1>")):
			continue
		case !f.quoted && strings.ContainsAny(f.text, "|&;()<>`*?[]{}~=\\"):
			return nil, false
		case strings.Contains(f.text, "$") && !f.single:
			return nil, false
		}
		out = append(out, f.text)
	}
	return out, true
}

// word is one word of a command line.
type word struct {
	text           string
	quoted, single bool
}

// splitQuoted splits on blanks outside quotes; quotes are removed.
func splitQuoted(s string) []word {
	var out []word
	var cur strings.Builder
	in := byte(0)
	w := word{}
	started := false
	flush := func() {
		if started {
			w.text = cur.String()
			out = append(out, w)
		}
		cur.Reset()
		w, started = word{}, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in != 0 && c == in:
			in = 0
		case in != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			in, started, w.quoted = c, true, true
			w.single = c == '\''
		case c == ' ' || c == '\t':
			flush()
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	flush()
	return out
}
