package build

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// BuildError is a build whose command failed, with the end of its log.
type BuildError struct {
	// Label is the build's key (num[x86_64_v3]).
	Label string
	Log   string
	// Tail is the end of the log, indented, for people.
	Tail string
	Err  error
}

// Error is one line: the build, the failure, the log, and the log's last
// line (usually the compiler's error).
func (e *BuildError) Error() string {
	msg := fmt.Sprintf("building %s failed: %v (log %s)", e.Label, e.Err, e.Log)
	if last := lastLine(e.Tail); last != "" {
		msg += ": " + last
	}
	return msg
}

func (e *BuildError) Unwrap() error { return e.Err }

// lastLine is the last line of tail that is not empty.
func lastLine(tail string) string {
	lines := strings.Split(tail, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// step is one command run: where, with what, logging where.
type step struct {
	label   string
	command string
	// context is copied to dir, where the command runs; out is the
	// directory it must fill.
	context, dir, out string
	env               []string
	log               string
	emptyOK           bool // an empty output is an empty layer (a cuda value of none)
}

// run copies the context and runs the command, its output in the log.
func (s step) run(ctx context.Context) error {
	if err := copyTree(s.context, s.dir); err != nil {
		return fmt.Errorf("copying the context of %s: %w", s.label, err)
	}
	if err := os.MkdirAll(s.out, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(s.log)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "# tailor build %s\n# %s\n", s.label, strings.Join(s.env, "\n# "))
	cmd := exec.CommandContext(ctx, "sh", "-c", s.command)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("building %s: cancelled: %w", s.label, ctx.Err())
		}
		return &BuildError{Label: s.label, Log: s.log, Tail: tail(s.log, 20), Err: err}
	}
	left, err := os.ReadDir(s.out)
	if err == nil && len(left) == 0 && !s.emptyOK {
		rel, _ := filepath.Rel(s.dir, s.out)
		return &BuildError{Label: s.label, Log: s.log, Tail: tail(s.log, 20), Err: fmt.Errorf("the command left %s empty (write the files to pack into $TAILOR_OUT)", rel)}
	}
	return err
}

// tail is the last n lines of the command's output in the log at path
// (not the "# " header run writes first), indented.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for len(lines) > 0 && strings.HasPrefix(lines[0], "# ") {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// copyTree copies regular files, directories and symlinks of src to dst,
// leaving out .git.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if d.Name() == ".git" && path != src {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(path, target)
		}
		return nil
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fileName makes a build key a file name: num[x86_64_v3+ucx] ->
// num-x86_64_v3+ucx.
func fileName(key string) string {
	return strings.NewReplacer("[", "-", "]", "", "/", "_").Replace(key)
}
