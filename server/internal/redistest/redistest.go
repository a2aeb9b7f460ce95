// Package redistest starts a real redis-server for tests. It skips the test
// when redis-server is not installed (Debian package "redis-server"; the
// Makefile's test target installs it).
package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server on 127.0.0.1.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr    string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // the process's exit status, once exited is closed
	stop    sync.Once
}

// Start runs redis-server on a free loopback port with its files in a
// temporary directory and no persistence, waits until it answers PING, and
// stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (Debian package redis-server): " + err.Error())
	}
	port, err := FreePort()
	if err != nil {
		t.Fatalf("redistest: finding a free port: %v", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{})}
	s.cmd = exec.Command(bin,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--dir", t.TempDir(), "--save", "", "--appendonly", "no",
		"--protected-mode", "yes", "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("redistest: starting %s: %v", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(s.Stop)
	if err := s.waitReady(5 * time.Second); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return s
}

// Stop kills the server and waits for it to exit; calling it again does
// nothing.
func (s *Server) Stop() {
	s.stop.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
}

// waitReady polls PING until the server answers or the time is up.
func (s *Server) waitReady(limit time.Duration) error {
	return WaitPing(&redis.Options{Addr: s.Addr}, s.exited, limit)
}

// WaitPing polls PING with the client options opts (TLS, password) until
// the server answers, the server's process exits (exited closes; nil: not
// watched) or limit has passed.
func WaitPing(opts *redis.Options, exited <-chan struct{}, limit time.Duration) error {
	o := *opts
	o.MaxRetries, o.DisableIdentity = -1, true
	rdb := redis.NewClient(&o)
	defer rdb.Close()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("the Redis server on %s exited early", o.Addr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer to PING on %s within %v: %w", o.Addr, limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listening on 127.0.0.1:0: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
