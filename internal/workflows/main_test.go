package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// binDir holds the binary built once from the Dockerfile's build command
// (dockerBinary), shared by the Dockerfile and smoke test checks.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mmllm-workflows-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "workflows tests:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot returns the repository root (where go.mod is).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// readRepoFile returns a file of the repository as a string.
func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// once guards a value computed once for the whole test binary, keeping the
// first error for every caller.
type once[T any] struct {
	sync.Once
	v   T
	err error
}

func (o *once[T]) get(f func() (T, error)) (T, error) {
	o.Do(func() { o.v, o.err = f() })
	return o.v, o.err
}
