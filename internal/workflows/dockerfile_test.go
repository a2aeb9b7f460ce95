package workflows

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/stretchr/testify/require"
)

// testVersion is the VERSION build argument the test builds with.
const testVersion = "v0.0.0-workflows-test"

func parseRepoDockerfile(t *testing.T) *Dockerfile {
	t.Helper()
	df, err := ParseDockerfile(readRepoFile(t, "Dockerfile"))
	require.NoError(t, err)
	return df
}

// imageStage is the Dockerfile's last stage: the image itself.
func imageStage(t *testing.T, df *Dockerfile) Stage {
	t.Helper()
	require.GreaterOrEqual(t, len(df.Stages), 2, "a multi-stage build")
	return df.Stages[len(df.Stages)-1]
}

// goBuild is the Dockerfile's `go build` command: its environment, its
// arguments after "go", and the package and output it names.
type goBuild struct {
	env    map[string]string
	args   []string
	output string
	line   int
}

// dockerGoBuild finds the RUN of the build stage that runs `go build` and
// expands it as /bin/sh would, with the build arguments set as for a
// build on this machine's platform with VERSION=testVersion.
func dockerGoBuild(df *Dockerfile) (goBuild, error) {
	build, ok := df.Stage("build")
	if !ok {
		return goBuild{}, fmt.Errorf("no stage named build")
	}
	vars, err := df.Args(build)
	if err != nil {
		return goBuild{}, err
	}
	vars["TARGETOS"], vars["TARGETARCH"], vars["VERSION"] = runtime.GOOS, runtime.GOARCH, testVersion
	for _, run := range All[*instructions.RunCommand](build) {
		src := strings.Join(run.CmdLine, " ")
		if !strings.Contains(src, "go build") {
			continue
		}
		if !run.PrependShell {
			return goBuild{}, fmt.Errorf("line %d: want the shell form, got exec form %q", Line(run), run.CmdLine)
		}
		cmd, err := ParseSimpleCommand(src, vars)
		if err != nil {
			return goBuild{}, fmt.Errorf("line %d: %w", Line(run), err)
		}
		if len(cmd.Args) < 2 || cmd.Args[0] != "go" || cmd.Args[1] != "build" {
			return goBuild{}, fmt.Errorf("line %d: want [ENV=VALUE...] go build ..., got %q", Line(run), cmd.Args)
		}
		gb := goBuild{env: cmd.Env, args: cmd.Args[1:], line: Line(run)}
		o := slices.Index(gb.args, "-o")
		if o < 0 || o+1 >= len(gb.args) {
			return goBuild{}, fmt.Errorf("line %d: go build has no -o", gb.line)
		}
		gb.output = gb.args[o+1]
		return gb, nil
	}
	return goBuild{}, fmt.Errorf("the build stage runs no go build")
}

var dockerBin once[string]

// dockerBinary builds cmd/mmllm exactly as the Dockerfile does (its env,
// flags and package; only the output path differs), once per test binary.
func dockerBinary(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	bin, err := dockerBin.get(func() (string, error) {
		df, err := ParseDockerfile(readRepoFile(t, "Dockerfile"))
		if err != nil {
			return "", err
		}
		gb, err := dockerGoBuild(df)
		if err != nil {
			return "", err
		}
		out := filepath.Join(binDir, "mmllm")
		args := slices.Clone(gb.args)
		args[slices.Index(args, "-o")+1] = out
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = os.Environ()
		for k, v := range gb.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go %s (Dockerfile line %d): %w\n%s", strings.Join(args, " "), gb.line, err, b)
		}
		return out, nil
	})
	require.NoError(t, err)
	return bin
}

func TestDockerfileStages(t *testing.T) {
	df := parseRepoDockerfile(t)
	build, ok := df.Stage("build")
	require.True(t, ok, "the builder stage is named build")
	require.Regexp(t, `^golang:1\.26(\.\d+)?(-[a-z0-9]+)?$`, build.Base, "the builder runs the go.mod toolchain line")
	gomod := readRepoFile(t, "go.mod")
	require.Regexp(t, `(?m)^go 1\.26(\.\d+)?$`, gomod, "the builder image and go.mod agree on Go 1.26")

	img := imageStage(t, df)
	// Not distroless/static or scratch: the binary's CUDA loader needs the
	// system's dynamic loader and libc (TestDockerfileBinary checks which).
	require.Equal(t, "gcr.io/distroless/base-nossl-debian12", img.Base,
		"distroless with glibc, CA certificates and tzdata; no shell, no OpenSSL")
	require.Empty(t, All[*instructions.RunCommand](img), "the image stage runs nothing: it has no shell")
}

// TestDockerfileShipsNVRTC: GPU nodes mount the driver into the container
// but not NVRTC, which the CUDA path compiles its kernels with; the image
// takes libnvrtc and its builtins from NVIDIA's CUDA runtime image and
// names the library in the variable engine/cuda reads.
func TestDockerfileShipsNVRTC(t *testing.T) {
	df := parseRepoDockerfile(t)
	nvrtc, ok := df.Stage("nvrtc")
	require.True(t, ok, "a stage named nvrtc")
	require.Regexp(t, `^nvidia/cuda:12\.\d+\.\d+-runtime-ubuntu\d+\.\d+$`, nvrtc.Base, "a pinned CUDA 12 runtime image")

	img := imageStage(t, df)
	var dest string
	for _, c := range All[*instructions.CopyCommand](img) {
		if c.From != "nvrtc" {
			continue
		}
		require.Equal(t, []string{"/usr/local/cuda/lib64/libnvrtc.so.12*", "/usr/local/cuda/lib64/libnvrtc-builtins.so.12*"}, c.SourcePaths,
			"the library and its builtins, with their version links")
		dest = c.DestPath
	}
	require.Equal(t, "/usr/local/nvrtc/", dest, "NVRTC is copied into the image")
	args, err := df.Args(img)
	require.NoError(t, err)
	env, err := df.Env(img, args)
	require.NoError(t, err)
	require.Equal(t, dest+"libnvrtc.so.12", env[cuda.EnvNVRTC], "the server loads the copied NVRTC")
}

func TestDockerfileRunsAsUID1000(t *testing.T) {
	img := imageStage(t, parseRepoDockerfile(t))
	user, ok := Last[*instructions.UserCommand](img)
	require.True(t, ok, "the image sets USER")
	require.Equal(t, "1000:1000", user.User, "numeric UID and GID 1000, as the pods' securityContext (runAsUser/runAsGroup 1000)")
	// The USER must come after every COPY, or later files would be owned by whoever copied.
	copies := All[*instructions.CopyCommand](img)
	require.NotEmpty(t, copies)
	require.Greater(t, Line(user), Line(copies[len(copies)-1]))
}

func TestDockerfileBuildFlags(t *testing.T) {
	df := parseRepoDockerfile(t)
	gb, err := dockerGoBuild(df)
	require.NoError(t, err)
	require.Equal(t, "0", gb.env["CGO_ENABLED"], "CGO_ENABLED=0: no C toolchain, no libc symbol versions to match")
	require.Equal(t, runtime.GOOS, gb.env["GOOS"], "GOOS comes from TARGETOS")
	require.Equal(t, runtime.GOARCH, gb.env["GOARCH"], "GOARCH comes from TARGETARCH")
	require.NotContains(t, gb.args, "-trimpath", "make test builds without it, so this build reuses the test build cache")
	ld := gb.args[slices.Index(gb.args, "-ldflags")+1]
	require.Contains(t, strings.Fields(ld), "-X")
	require.Contains(t, strings.Fields(ld), "main.version="+testVersion, "the version is set at link time from VERSION")
	require.Equal(t, "./cmd/mmllm", gb.args[len(gb.args)-1])

	// The image copies that very output to the path ENTRYPOINT runs.
	img := imageStage(t, df)
	entry, ok := Last[*instructions.EntrypointCommand](img)
	require.True(t, ok)
	argv, err := df.ExecForm(entry)
	require.NoError(t, err)
	require.Len(t, argv, 1)
	var copied bool
	for _, c := range All[*instructions.CopyCommand](img) {
		if c.From == "build" {
			require.Equal(t, []string{gb.output, argv[0]}, append(slices.Clone(c.SourcePaths), c.DestPath))
			copied = true
		}
	}
	require.True(t, copied, "the image copies the binary from the build stage")
}

func TestDockerfileRuntimeContract(t *testing.T) {
	df := parseRepoDockerfile(t)
	img := imageStage(t, df)

	expose, ok := Last[*instructions.ExposeCommand](img)
	require.True(t, ok)
	require.Subset(t, expose.Ports, []string{"8080", "8000"}, "API and metrics ports")

	cmd, ok := Last[*instructions.CmdCommand](img)
	require.True(t, ok)
	argv, err := df.ExecForm(cmd)
	require.NoError(t, err)
	require.Equal(t, []string{"serve"}, argv, "the default command serves the embedded model")

	vol, ok := Last[*instructions.VolumeCommand](img)
	require.True(t, ok)
	vols, err := df.ExecForm(vol)
	require.NoError(t, err)
	require.Equal(t, []string{"/tmp"}, vols, "/tmp is the only writable path under a read-only root")
	args, err := df.Args(img)
	require.NoError(t, err)
	env, err := df.Env(img, args)
	require.NoError(t, err)
	require.Equal(t, "/tmp", env["TMPDIR"])
	require.Equal(t, "/tmp", env["HOME"])

	labels := All[*instructions.LabelCommand](img)
	require.NotEmpty(t, labels)
	for _, l := range labels {
		for _, kv := range l.Labels {
			for _, word := range []string{kv.Key, kv.Value} {
				_, err := df.Expand(word, args)
				require.NoError(t, err, "LABEL line %d uses only declared build arguments", Line(l))
			}
		}
	}
}

// healthcheck returns the image's HEALTHCHECK and its exec-form command.
func healthcheck(t *testing.T, df *Dockerfile) (*instructions.HealthCheckCommand, []string) {
	t.Helper()
	hc, ok := Last[*instructions.HealthCheckCommand](imageStage(t, df))
	require.True(t, ok, "the image has a HEALTHCHECK")
	argv, err := df.ExecForm(hc)
	require.NoError(t, err, "HEALTHCHECK CMD in exec form: the image has no shell")
	return hc, argv
}

func flagValue(argv []string, name string) string {
	i := slices.Index(argv, name)
	if i < 0 || i+1 >= len(argv) {
		return ""
	}
	return argv[i+1]
}

func TestDockerfileHealthcheck(t *testing.T) {
	df := parseRepoDockerfile(t)
	hc, argv := healthcheck(t, df)
	entry, ok := Last[*instructions.EntrypointCommand](imageStage(t, df))
	require.True(t, ok)
	entryArgv, err := df.ExecForm(entry)
	require.NoError(t, err)
	require.Equal(t, entryArgv[0], argv[0], "the healthcheck runs the image's own binary")
	require.Equal(t, "health", argv[1])
	u, err := url.Parse(flagValue(argv, "--url"))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", u.Host, "the API port serve listens on by default")
	require.Equal(t, "/health", u.Path, "liveness, not readiness: a loading model is not unhealthy")

	// BuildKit parses the options; one not given is zero.
	h := hc.Health
	for name, d := range map[string]time.Duration{"interval": h.Interval, "timeout": h.Timeout, "start-period": h.StartPeriod} {
		require.Positive(t, d, "HEALTHCHECK --%s", name)
	}
	require.Positive(t, h.Retries, "HEALTHCHECK --retries")
	probe, err := time.ParseDuration(flagValue(argv, "--timeout"))
	require.NoError(t, err)
	require.Less(t, probe, h.Timeout, "the probe gives up before Docker kills it")
	require.LessOrEqual(t, h.Timeout, h.Interval)
}

// glibcLibraries are the shared libraries distroless/base-nossl provides
// (glibc's); the binary may ask for these and no other.
var glibcLibraries = []string{"libc.so.6", "libdl.so.2", "libpthread.so.0"}

// TestDockerfileBinary builds the binary with the Dockerfile's exact
// command and checks what the image relies on: it needs nothing beyond
// glibc, carries the version, and its health subcommand (the HEALTHCHECK,
// run verbatim but for the address) tells a healthy server from an
// unhealthy one.
func TestDockerfileBinary(t *testing.T) {
	bin := dockerBinary(t)

	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		require.NoError(t, err)
		defer f.Close()
		libs, err := f.ImportedLibraries()
		require.NoError(t, err)
		require.Subset(t, glibcLibraries, libs, "only glibc: no libstdc++, no OpenSSL, nothing distroless/base-nossl lacks")
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				interp := make([]byte, p.Filesz)
				_, err := p.ReadAt(interp, 0)
				require.NoError(t, err)
				require.Regexp(t, `^/lib(64)?/ld-linux-[a-z0-9_-]+\.so\.\d\x00?$`, string(interp), "glibc's dynamic loader")
			}
		}
	}

	out, err := exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "mmllm "+testVersion+" ")

	_, argv := healthcheck(t, parseRepoDockerfile(t))
	run := func(base string) (string, error) {
		args := slices.Clone(argv[1:])
		args[slices.Index(args, "--url")+1] = base + "/health"
		b, err := exec.Command(bin, args...).CombinedOutput()
		return string(b), err
	}
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		healthy bool
		says    string
	}{
		{"ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) }, true, "200 OK"},
		{"no content", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, true, "204"},
		{"unavailable", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, false, "503"},
		{"server error", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }, false, "500"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, false, "302"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			out, err := run(srv.URL)
			if tc.healthy {
				require.NoError(t, err, out)
			} else {
				var exit *exec.ExitError
				require.ErrorAs(t, err, &exit, out)
				require.NotZero(t, exit.ExitCode())
			}
			require.Contains(t, out, tc.says)
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.URL
		srv.Close()
		out, err := run(addr)
		require.Error(t, err, out)
		require.Contains(t, out, "health:")
	})
	t.Run("hangs past the timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		start := time.Now()
		b, err := exec.Command(bin, "health", "--url", srv.URL+"/health", "--timeout", "300ms").CombinedOutput()
		require.Error(t, err, "%s", b)
		require.Contains(t, string(b), "no answer within 300ms")
		require.Less(t, time.Since(start), 5*time.Second)
	})
}

func TestDockerignore(t *testing.T) {
	// Docker's own reader and matcher (github.com/moby/patternmatcher).
	patterns, err := ignorefile.ReadAll(strings.NewReader(readRepoFile(t, ".dockerignore")))
	require.NoError(t, err)
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	ignored := func(rel string) bool {
		t.Helper()
		out, err := pm.MatchesOrParentMatches(rel)
		require.NoError(t, err, rel)
		return out
	}
	require.True(t, ignored("a/b/c_test.go"), "test files at any depth stay out")
	require.False(t, ignored("a/b/c.go"), "sources at any depth are in")

	// Every file the build reads (go.mod, go.sum, the main module's Go
	// sources and embedded files of cmd/mmllm's dependencies) is in the context.
	root := repoRoot(t)
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}{{end}}{{end}}`, "./cmd/mmllm")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	needed := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		require.Len(t, parts, 3)
		rel, err := filepath.Rel(root, parts[0])
		require.NoError(t, err)
		for _, list := range parts[1:] {
			for _, f := range strings.Split(list, ",") {
				if f != "" {
					needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
				}
			}
		}
	}
	require.Contains(t, needed, "models/tiny-smolvlm-text-f32.gguf", "the embedded model is among the files checked")
	for _, f := range needed {
		require.False(t, ignored(f), ".dockerignore excludes %s, which the build needs", f)
	}
	for _, f := range []string{".git/HEAD", "docs/container.md", "testdata/x.gguf", "server/server_test.go", ".github/workflows/ci.yml"} {
		require.True(t, ignored(f), "%s stays out of the build context", f)
	}
}
