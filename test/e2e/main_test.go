package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

var (
	// tailor is the binary under test.
	tailor string
	// host is the distribution registry's host:port.
	host string
	// app is what resolvetest.Push wrote to host/app:1.
	app *resolvetest.Pushed
	// dockerAnnotated and dockerPlain are Docker manifest lists at
	// host/dockerlist:annotated (resolvetest.Variants) and
	// host/dockerlist:plain (resolvetest.PlainVariants).
	dockerAnnotated, dockerPlain *resolvetest.Pushed
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		code = 1
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "tailor-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	tailor = filepath.Join(dir, "tailor")
	build := exec.Command("go", "build", "-o", tailor, "github.com/tailor-dev/tailor/cmd/tailor")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build: %v\n%s", err, out)
	}
	h, stop, err := registrytest.Start(context.Background(), filepath.Join(dir, "registry"))
	if err != nil {
		return 0, err
	}
	defer stop()
	host = h
	if app, err = resolvetest.Push(host+"/app:1", resolvetest.Variants); err != nil {
		return 0, err
	}
	if _, err = resolvetest.Push(host+"/gpuonly:1", resolvetest.Variants[5:]); err != nil {
		return 0, err
	}
	if dockerAnnotated, err = resolvetest.PushList(host+"/dockerlist:annotated", resolvetest.Variants); err != nil {
		return 0, err
	}
	if dockerPlain, err = resolvetest.PushList(host+"/dockerlist:plain", resolvetest.PlainVariants); err != nil {
		return 0, err
	}
	for tag, ann := range map[string]map[string]string{
		"unknown-target": {requirement.AnnotationCPUTarget: "pentium9000"},
		"bad-cuda":       {requirement.AnnotationCUDAArch: "sm_9x"},
	} {
		bad := []resolvetest.Variant{resolvetest.Variants[0], {Name: "bad", Arch: "amd64", Annotations: ann}}
		if _, err := resolvetest.Push(host+"/bad:"+tag, bad); err != nil {
			return 0, err
		}
	}
	return m.Run(), nil
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(tailor, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run tailor %v: %v", args, err)
	}
	return r
}
