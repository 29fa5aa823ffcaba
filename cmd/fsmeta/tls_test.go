package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fsmeta test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

func TestServe_TLS(t *testing.T) {
	cert, key := selfSigned(t)
	addr, _, _, _ := serveInProcess(t, "--tls-cert", cert, "--tls-key", key)

	must(t, "--server", addr, "--tls-ca", cert, "mkdir", "/secure")
	require.Equal(t, "secure\n", must(t, "--server", addr, "--insecure", "ls"))
	code, _, errs := cli(t, "--server", addr, "--timeout", "500ms", "ls") // plaintext to a TLS server
	require.Equal(t, 1, code)
	require.Contains(t, errs, "fsmeta: ls: ")

	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o644))
	code, _, errs = cli(t, "--server", addr, "--tls-ca", notPEM, "ls")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "no PEM certificates")
}

func TestBarProgress_Draws(t *testing.T) {
	var buf bytes.Buffer
	p := &barProgress{w: &buf}
	p.Start("memkv", "unique", "mkdir", 100)
	p.Add(60)
	p.Add(40)
	p.Done()
	require.Contains(t, buf.String(), "memkv")
	require.Contains(t, buf.String(), "mkdir")
}
