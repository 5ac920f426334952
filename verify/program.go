package verify

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// defaultPath is the PATH an image without one in its config gets (as
// docker and containerd set it).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// command is what the entry runs: the override, or the config's
// Entrypoint followed by its Cmd.
func command(cf *v1.ConfigFile, override []string) []string {
	if len(override) > 0 {
		return override
	}
	if cf == nil {
		return nil
	}
	return append(append([]string(nil), cf.Config.Entrypoint...), cf.Config.Cmd...)
}

// envPath is the PATH of the config's environment.
func envPath(cf *v1.ConfigFile) string {
	if cf != nil {
		for _, e := range cf.Config.Env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				return v
			}
		}
	}
	return defaultPath
}

// candidates are the image paths argv0 may name: itself when it has a
// slash, else each PATH directory joined with it.
func candidates(argv0, pathEnv, workdir string) []string {
	if strings.Contains(argv0, "/") {
		if !strings.HasPrefix(argv0, "/") {
			argv0 = path.Join("/", workdir, argv0)
		}
		return []string{clean(argv0)}
	}
	var out []string
	for _, d := range strings.Split(pathEnv, ":") {
		if d != "" {
			out = append(out, clean(path.Join(d, argv0)))
		}
	}
	return out
}

// program is the ELF program a command runs in the image.
type program struct {
	path string
	file *file
	// argv is the command as the kernel runs it (a script's interpreter
	// first).
	argv []string
	// via are the scripts and shells passed on the way, each followed to
	// the program it execs.
	via []string
}

// maxScripts bounds the #! chain followed (env, then the interpreter).
const maxScripts = 4

// findProgram finds the ELF program argv runs in t: argv[0] looked up on
// pathEnv, links followed, #! scripts replaced by their interpreter, and
// shell scripts and `sh -c` strings followed to the program they exec
// where that is statically plain (a literal exec line).
func (t *tree) findProgram(argv []string, pathEnv, workdir string) (*program, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("the image has no entrypoint or command (give one to run)")
	}
	var via []string
	for hop := 0; hop <= 2*maxScripts; hop++ {
		var (
			p  string
			f  *file
			ok bool
		)
		for _, c := range candidates(argv[0], pathEnv, workdir) {
			if p, f, ok = t.resolve(c); ok {
				break
			}
		}
		if !ok {
			return nil, fmt.Errorf("%q is not in the image (looked on PATH %s)", argv[0], pathEnv)
		}
		if f.elf != nil {
			if next, ok := shellC(argv); ok && (isShell(p) || isShell(argv[0])) {
				via = append(via, p+" -c")
				argv = next
				continue
			}
			return &program{path: p, file: f, argv: argv, via: via}, nil
		}
		interp, args, ok := shebang(f.head)
		if !ok {
			return nil, fmt.Errorf("%s is neither an ELF program nor a #! script", p)
		}
		if path.Base(interp) == "env" && len(args) > 0 {
			interp, args = args[0], args[1:]
		}
		via = append(via, p)
		if isShell(interp) {
			if next, ok := shellExec(string(f.head), argv[1:]); ok {
				argv = next
				continue
			}
		}
		argv = append(append(append([]string{interp}, args...), p), argv[1:]...)
	}
	return nil, fmt.Errorf("more than %d #! scripts in a row from %q", maxScripts, argv[0])
}

// shebang reads a "#!interp [arg]" first line.
func shebang(head []byte) (string, []string, bool) {
	rest, ok := bytes.CutPrefix(head, []byte("#!"))
	if !ok {
		return "", nil, false
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return "", nil, false
	}
	return fields[0], fields[1:], true
}
