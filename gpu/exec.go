package gpu

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// maxOutput caps what is kept of a probe's standard output and error.
const maxOutput = 1 << 20

// waitDelay bounds how long a killed probe may keep its output pipes open
// (through a child of its own) before they are closed.
const waitDelay = 200 * time.Millisecond

// runCommand runs path with args and returns its standard output, also when
// it fails; the error then carries the first line the program printed,
// which is where nvidia-smi explains a driver failure.
func runCommand(ctx context.Context, path string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr cappedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if err == nil {
		return stdout.b, nil
	}
	if ctx.Err() != nil {
		return stdout.b, context.Cause(ctx)
	}
	msg := firstLine(stderr.b)
	if msg == "" {
		msg = firstLine(stdout.b)
	}
	if msg == "" {
		return stdout.b, err
	}
	return stdout.b, fmt.Errorf("%w: %s", err, msg)
}

// cappedBuffer keeps the first maxOutput bytes written to it and discards
// the rest without failing the writer.
type cappedBuffer struct{ b []byte }

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
