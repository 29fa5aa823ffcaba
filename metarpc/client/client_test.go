package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/client"
	"github.com/fsmeta/fsmeta/metarpc/server"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

var ctx = context.Background()

const root = inode.RootIno

// The client returns the very errors the store returns: same type, op,
// paths and errno.
func TestClient_ErrorsEqualTheStores(t *testing.T) {
	s := newStore(t)
	c := dial(t, serve(t, s, server.Config{}).addr, client.Options{})
	_, err := s.Create(ctx, meta.RootCred(), root, "f", 0o644, true)
	require.NoError(t, err)
	for _, fs := range []meta.FS{s, c} {
		_, err := fs.Mkdir(ctx, meta.RootCred(), root, "d", 0o755)
		if err != nil {
			require.ErrorIs(t, err, syscall.EEXIST)
		}
	}
	cases := map[string]func(f meta.FS) error{
		"lookup": func(f meta.FS) error { _, err := f.Lookup(ctx, meta.RootCred(), root, "missing"); return err },
		"create": func(f meta.FS) error { _, err := f.Create(ctx, meta.RootCred(), root, "f", 0o644, true); return err },
		"rename": func(f meta.FS) error { return f.Rename(ctx, meta.RootCred(), root, "f", root, "d", 0) },
		"link":   func(f meta.FS) error { _, err := f.Link(ctx, meta.RootCred(), 424242, root, "x"); return err },
		"stat":   func(f meta.FS) error { _, err := f.Stat(ctx, meta.RootCred(), "/f/x"); return err },
		"rmdir":  func(f meta.FS) error { return f.Rmdir(ctx, meta.RootCred(), root, ".") },
		"mkdirall": func(f meta.FS) error {
			_, err := f.MkdirAll(ctx, meta.Cred{Uid: 5, Gid: 5}, "/d/x", 0o755)
			return err
		},
		"getxattr": func(f meta.FS) error { _, err := f.GetXattr(ctx, meta.RootCred(), root, "user.none"); return err },
		"flock":    func(f meta.FS) error { return f.Flock(ctx, meta.Handle{Ino: root, ID: 1}, 1, meta.LockType(9), false) },
	}
	for name, op := range cases {
		want, got := op(s), op(c)
		require.Error(t, want, name)
		require.Equal(t, want.Error(), got.Error(), name)
		require.Equal(t, meta.Errno(want), meta.Errno(got), name)
		require.IsType(t, want, got, name)
	}
}

func TestClient_ServerStopped_Unavailable(t *testing.T) {
	r := serve(t, newStore(t), server.Config{})
	c := dial(t, r.addr, client.Options{})
	_, err := c.MkdirAll(ctx, meta.RootCred(), "/a", 0o755)
	require.NoError(t, err)
	require.NoError(t, r.stop())

	_, err = c.Stat(ctx, meta.RootCred(), "/a")
	require.Error(t, err)
	require.ErrorIs(t, err, client.ErrUnavailable)
	require.Equal(t, codes.Unavailable, status.Code(err))
	require.Equal(t, syscall.EIO, meta.Errno(err), "no errno: EIO, as for engine failures")
	var re *client.RPCError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "Stat", re.Method)
	require.Contains(t, err.Error(), r.addr, "the message names the server")
	t.Log(err)

	_, err = client.Dial(ctx, r.addr, client.Options{DialTimeout: 300 * time.Millisecond, Logger: quiet})
	require.Error(t, err)
	require.Contains(t, err.Error(), r.addr)

	require.ErrorIs(t, c.Shutdown(ctx), client.ErrUnavailable, "the session cannot be ended without the server")
	_, err = c.Stat(ctx, meta.RootCred(), "/a")
	require.ErrorIs(t, err, client.ErrClosed)
}

func TestClient_Token(t *testing.T) {
	r := serve(t, newStore(t), server.Config{Token: "s3cret"})
	for _, tok := range []string{"", "wrong", "s3cret "} {
		_, err := client.Dial(ctx, r.addr, client.Options{Token: tok, Logger: quiet})
		require.Error(t, err, "token %q", tok)
		require.Equal(t, codes.Unauthenticated, status.Code(err), "token %q: %v", tok, err)
	}
	c := dial(t, r.addr, client.Options{Token: "s3cret"})
	_, err := c.MkdirAll(ctx, meta.RootCred(), "/a", 0o755)
	require.NoError(t, err)

	// Health checks need no token.
	conn, err := grpc.NewClient(r.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "fsmeta.meta.v1.Meta"})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, h.Status)
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fsmeta test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestClient_TLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	r := serve(t, newStore(t), server.Config{TLSCert: certFile, TLSKey: keyFile, Token: "tok"})
	c := dial(t, r.addr, client.Options{TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Token: "tok"})
	a, err := c.MkdirAll(ctx, meta.RootCred(), "/secure", 0o700)
	require.NoError(t, err)
	require.True(t, a.IsDir())

	_, err = client.Dial(ctx, r.addr, client.Options{Token: "tok", DialTimeout: 500 * time.Millisecond, Logger: quiet})
	require.Error(t, err, "plaintext to a TLS server fails")
	_, err = client.Dial(ctx, r.addr, client.Options{TLS: &tls.Config{MinVersion: tls.VersionTLS12}, Token: "tok",
		DialTimeout: 500 * time.Millisecond, Logger: quiet})
	require.Error(t, err, "an unknown certificate authority fails")

	_, err = server.New(newStore(t), server.Config{TLSCert: certFile})
	require.ErrorContains(t, err, "TLSKey")
}

func TestServer_Metrics(t *testing.T) {
	r := serve(t, newStore(t), server.Config{MetricsAddr: "127.0.0.1:0"})
	c := dial(t, r.addr, client.Options{})
	_, err := c.Mkdir(ctx, meta.RootCred(), root, "d", 0o755)
	require.NoError(t, err)
	for range 3 {
		_, err = c.Lookup(ctx, meta.RootCred(), root, "missing")
		requireErrno(t, err, syscall.ENOENT)
	}
	resp, err := http.Get("http://" + r.srv.MetricsAddr() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(b)
	for _, want := range []string{
		`fsmeta_meta_requests_total{op="Mkdir",result="OK"} 1`,
		`fsmeta_meta_requests_total{op="Lookup",result="ENOENT"} 3`,
		`fsmeta_meta_requests_total{op="NewSession",result="OK"} 1`,
		`fsmeta_meta_request_seconds_count{op="Lookup"} 3`,
		`fsmeta_meta_sessions 1`,
		`fsmeta_meta_retries_total 0`,
	} {
		require.Contains(t, text, want)
	}
}

func requireErrno(tb testing.TB, err error, want syscall.Errno) {
	tb.Helper()
	require.ErrorIs(tb, err, want)
	require.Equal(tb, want, meta.Errno(err))
}

// A client whose keepalives stop loses its session: its handles' lock
// calls fail with ErrSessionExpired (fencing); namespace calls keep
// working, and so do new opens, in a fresh session.
func TestClient_SessionExpiresWithoutKeepalive(t *testing.T) {
	s := newStore(t)
	r := serve(t, s, server.Config{SessionLease: 300 * time.Millisecond})
	c := dial(t, r.addr, client.Options{KeepaliveInterval: time.Hour})
	f, err := c.Create(ctx, meta.RootCred(), root, "f", 0o644, true)
	require.NoError(t, err)
	h, err := c.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.Equal(t, c.Session(), h.Session)
	require.NoError(t, c.Flock(ctx, h, 1, meta.LockWrite, false))

	// Poll: the server sweeps every third of the lease.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = c.Flock(ctx, h, 1, meta.LockWrite, false)
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.ErrorIs(t, err, meta.ErrSessionExpired, "fencing: a lock call of an expired session fails")
	require.Equal(t, syscall.ESTALE, meta.Errno(err))
	_, err = c.Stat(ctx, meta.RootCred(), "/f")
	require.NoError(t, err, "namespace calls keep working")

	// Another client takes the lock once the expiry released it.
	other := dial(t, r.addr, client.Options{})
	h2, err := other.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return other.Flock(ctx, h2, 2, meta.LockWrite, false) == nil },
		10*time.Second, 50*time.Millisecond)
	require.NoError(t, other.Close(ctx, h2))
	rep, err := other.Check(ctx)
	require.NoError(t, err)
	require.Empty(t, rep.Problems)
}

// Keepalives keep a short-leased session alive well past its lease.
func TestClient_KeepaliveRenews(t *testing.T) {
	r := serve(t, newStore(t), server.Config{SessionLease: 300 * time.Millisecond})
	c := dial(t, r.addr, client.Options{})
	f, err := c.Create(ctx, meta.RootCred(), root, "f", 0o644, true)
	require.NoError(t, err)
	time.Sleep(time.Second)
	h, err := c.Open(ctx, meta.RootCred(), f.Ino, meta.ORdOnly)
	require.NoError(t, err, "the session outlived three leases")
	require.NoError(t, c.Close(ctx, h))
}

// Shutdown ends the session: its locks go at once, and a file it held open
// after its last unlink is deleted.
func TestClient_ShutdownReleasesHandlesAndLocks(t *testing.T) {
	s := newStore(t)
	r := serve(t, s, server.Config{})
	a := dial(t, r.addr, client.Options{})
	b := dial(t, r.addr, client.Options{})
	f, err := a.Create(ctx, meta.RootCred(), root, "f", 0o644, true)
	require.NoError(t, err)
	ha, err := a.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.NoError(t, a.SetLk(ctx, ha, meta.Lock{Type: meta.LockWrite, End: meta.LockEOF, Owner: 1}, false))
	hb, err := b.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	require.NoError(t, err)
	err = b.SetLk(ctx, hb, meta.Lock{Type: meta.LockWrite, End: meta.LockEOF, Owner: 1}, false)
	requireErrno(t, err, syscall.EAGAIN)
	got, err := b.GetLk(ctx, hb, meta.Lock{Type: meta.LockWrite, End: meta.LockEOF, Owner: 1})
	require.NoError(t, err)
	require.Equal(t, a.Session(), got.Session, "GetLk names the holder's session")
	require.NoError(t, b.Close(ctx, hb))
	require.NoError(t, a.Unlink(ctx, meta.RootCred(), root, "f"))

	waited := make(chan error, 1)
	hb, err = b.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	require.Error(t, err, "unlinked: no new opens")
	_ = hb
	c := dial(t, r.addr, client.Options{})
	g, err := c.Create(ctx, meta.RootCred(), root, "g", 0o644, true)
	require.NoError(t, err)
	hc, err := c.Open(ctx, meta.RootCred(), g.Ino, meta.ORdWr)
	require.NoError(t, err)
	hag, err := a.Open(ctx, meta.RootCred(), g.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.NoError(t, a.Flock(ctx, hag, 1, meta.LockWrite, false))
	go func() { waited <- c.Flock(ctx, hc, 1, meta.LockWrite, true) }()

	require.NoError(t, a.Shutdown(ctx))
	select {
	case err := <-waited:
		require.NoError(t, err, "the waiter got the lock when the holder's session ended")
	case <-time.After(20 * time.Second):
		t.Fatal("the lock of a shut down session was not released")
	}
	_, err = s.GetAttr(ctx, meta.RootCred(), f.Ino)
	require.ErrorIs(t, err, syscall.ENOENT, "the unlinked file open only in the ended session is gone")
	require.NoError(t, c.Close(ctx, hc))
	rep, err := s.Check(ctx)
	require.NoError(t, err)
	require.Empty(t, rep.Problems)
	_, err = a.Stat(ctx, meta.RootCred(), "/")
	require.ErrorIs(t, err, client.ErrClosed)
}

func TestServer_ServeEndsWithContextAndClosesOpenedStore(t *testing.T) {
	srv, err := server.Open(ctx, server.Config{Addr: "127.0.0.1:0", Root: "other", Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, srv.Listen())
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	c := dial(t, srv.Addr(), client.Options{})
	_, err = c.MkdirAll(ctx, meta.RootCred(), "/x/y", 0o755)
	require.NoError(t, err)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	_, err = c.Stat(ctx, meta.RootCred(), "/x")
	require.ErrorIs(t, err, client.ErrUnavailable)
	_, err = srv.Store().Stat(ctx, meta.RootCred(), "/x")
	require.Error(t, err, "the engine Open opened is closed")
	require.ErrorContains(t, srv.Serve(ctx), "twice")
}

func TestServer_OpenBadConfig(t *testing.T) {
	_, err := server.Open(ctx, server.Config{EngineConfig: filepath.Join(t.TempDir(), "missing.toml")})
	require.ErrorContains(t, err, "missing.toml")
	bad := filepath.Join(t.TempDir(), "bad.toml")
	require.NoError(t, os.WriteFile(bad, []byte("[kv_engine]\nkv_engine_type = \"nope\"\n"), 0o600))
	_, err = server.Open(ctx, server.Config{EngineConfig: bad})
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "kv_engine_type"), err.Error())
}
